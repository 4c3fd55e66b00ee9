# SPDX-License-Identifier: Apache-2.0
# onnxruntime-node for the tests that run exported models (sourced, not run; the sourcing script
# defines $WORK, its scratch directory, and fail).
#
# ort_install ORT_DIR: onnxruntime-node (npm), installed into ORT_DIR when missing (its CPU library
# ships in the npm package; --ignore-scripts skips the CUDA download), under a lock, as several tests
# share ORT_DIR; sets ORT_MODULES for NODE_PATH. Fails the test when onnxruntime cannot be had: a
# check skipped for a missing tool is no pass.
ort_install() {
    ORT_MODULES=$1/node_modules
    local why=
    mkdir -p "$1"
    exec 9>"$1.lock"
    flock 9
    if [ ! -d "$ORT_MODULES/onnxruntime-node" ]; then
        if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
            why="node or npm is not installed"
        elif ! timeout 240 npm install --ignore-scripts --no-audit --no-fund --prefix "$1" onnxruntime-node@1 \
            >"$WORK/npm.log" 2>&1; then
            why="npm install onnxruntime-node@1 failed: $(tail -n 3 "$WORK/npm.log" | tr '\n' ' ')"
            rm -rf "$ORT_MODULES/onnxruntime-node"
        fi
    fi
    exec 9>&-
    if [ -z "$why" ] && ! NODE_PATH="$ORT_MODULES" node -e 'require("onnxruntime-node")' 2>"$WORK/ort.err"; then
        why="onnxruntime-node does not load here: $(head -c 300 "$WORK/ort.err")"
    fi
    [ -z "$why" ] || fail "onnxruntime: $why"
}
