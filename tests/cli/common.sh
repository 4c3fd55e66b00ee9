# SPDX-License-Identifier: Apache-2.0
# Shared by the end-to-end tests of `aicon train` (sourced, not run).
#
# Every test script is called as
#   SCRIPT AICON DATA_DIR [MPIRUN ARGS...]
# AICON is the aicon binary, DATA_DIR the directory the cli_data fixture wrote (train.h5, test.h5,
# train512.h5, train200.h5), and the remaining arguments the mpirun command line (without -np); when
# they are absent, $AICON_MPIRUN (split on spaces) or plain `mpirun` is used. A script that needs no
# data sets CLI_NEEDS_DATA=0 before sourcing this file.
#
# Each script works in its own fresh directory $WORK, removed when it passes and kept (its path
# printed) when it fails. Every command runs under `timeout`: a hang fails the test, never the CI.

if [ $# -lt 2 ]; then
    echo "usage: $0 AICON DATA_DIR [MPIRUN ARGS...]" >&2
    exit 2
fi
AICON=$1
DATA=$2
shift 2
if [ $# -gt 0 ]; then
    MPIRUN=("$@")
else
    read -r -a MPIRUN <<<"${AICON_MPIRUN:-mpirun}"
fi
# Debian's Python with its h5py and numpy, never a pyenv or virtualenv one found on PATH; -E -s keep
# PYTHONPATH and the user's site-packages out.
PY=(/usr/bin/python3 -E -s)
# Seconds one training run may take before it counts as hung (each takes 1 to 4 s; keep it well
# below the ctest TIMEOUT so that the script, not ctest, reports the hang and ends the run).
RUN_TIMEOUT=${AICON_CLI_RUN_TIMEOUT:-60}

[ -x "$AICON" ] || { echo "FAIL: $AICON is not an executable" >&2; exit 1; }
for f in train.h5 test.h5 train512.h5 train200.h5; do
    [ "${CLI_NEEDS_DATA:-1}" = 1 ] || break
    [ -f "$DATA/$f" ] || { echo "FAIL: $DATA/$f is missing (the cli_data fixture makes it)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicon-cli-$(basename "$0" .sh)-XXXXXX")
# pids of processes still running whose command line names $WORK: every command of a test does.
leftover_pids() {
    pgrep -f -- "$WORK" || true
}
cleanup_work() {
    local rc=$? pids
    pids=$(leftover_pids)
    if [ -n "$pids" ]; then # a hung run that timeout did not take down: end it, by pid
        echo "killing leftover processes of this test: $(echo $pids)" >&2
        kill -KILL $pids 2>/dev/null || true
    fi
    if [ $rc -eq 0 ]; then
        rm -rf "$WORK"
    else
        echo "(files of the failed test kept in $WORK)" >&2
    fi
    return $rc
}
trap cleanup_work EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run_np NP LOG ARGS...: mpirun -np NP aicon ARGS... under timeout, output in $WORK/LOG.out and
# $WORK/LOG.err; its exit status in RC (124 or 137: it ran past RUN_TIMEOUT).
run_np() {
    local np=$1 log=$2
    shift 2
    RC=0
    timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np "$np" "$AICON" "$@" >"$WORK/$log.out" 2>"$WORK/$log.err" || RC=$?
    if [ $RC -eq 124 ] || [ $RC -eq 137 ]; then
        echo "--- stdout:"; cat "$WORK/$log.out"
        echo "--- stderr:"; cat "$WORK/$log.err"
        fail "mpirun -np $np aicon $* did not finish within $RUN_TIMEOUT s (hang?)"
    fi
}

# aicon_np NP LOG ARGS...: run_np, and the test fails when the run exits non-zero.
aicon_np() {
    echo "+ mpirun -np $1 aicon ${*:3}"
    run_np "$@"
    if [ $RC -ne 0 ]; then
        echo "--- stdout:"; cat "$WORK/$2.out"
        echo "--- stderr:"; cat "$WORK/$2.err"
        fail "mpirun -np $1 aicon ${*:3} exited with $RC"
    fi
}

# aicon_fails NP LOG ARGS...: run_np, and the run must fail (not hang); prints its error lines.
aicon_fails() {
    echo "+ mpirun -np $1 aicon ${*:3}   (must fail)"
    run_np "$@"
    [ $RC -ne 0 ] || fail "mpirun -np $1 aicon ${*:3} exited 0"
    grep "aicon train" "$WORK/$2.err" || true
}

# verify_np NP LOG ARGS...: aicon verify (or another command that may fail) with its status in RC, and
# what it said of the verification shown.
verify_np() {
    echo "+ mpirun -np $1 aicon ${*:3}"
    run_np "$@"
    cat "$WORK/$2.out" "$WORK/$2.err" | grep -v '^test accuracy' | grep -E 'aicon verify|verified|replaying' || true
}

# start_np NP LOG ARGS...: mpirun -np NP aicon ARGS... in the background under timeout, output in
# $WORK/LOG.out and $WORK/LOG.err; BG_PID is the timeout's pid (wait on it for the run's status).
start_np() {
    local np=$1 log=$2
    shift 2
    timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np "$np" "$AICON" "$@" >"$WORK/$log.out" 2>"$WORK/$log.err" &
    BG_PID=$!
}

# ranks_once CMD...: waits until CMD succeeds (polled every 20 ms, 30 s at most) or the run start_np
# began ends, then prints that run's rank pids: none when it had already ended.
ranks_once() {
    for _ in $(seq 1 1500); do
        "$@" && break
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.02
    done
    local p
    for p in $(pgrep -P "$BG_PID" || true); do pgrep -P "$p" || true; done
}

# json_field FILE KEY: one value of a --summary file.
json_field() {
    "${PY[@]}" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# No process of this test may outlive it: every command line of a test names a path under $WORK.
assert_no_leftover_processes() {
    local pids
    sleep 0.5
    pids=$(leftover_pids)
    if [ -n "$pids" ]; then
        ps -o pid,ppid,etime,args -p "$(echo $pids | tr ' ' ',')" >&2 || true
        fail "processes of this test still running after mpirun returned: $(echo $pids)"
    fi
}

# ort_prepare ORT_DIR: onnxruntime-node (ort_install, tests/cli/ort.sh) and $WORK/ort.js for ort_run.
. "$(dirname "${BASH_SOURCE[0]}")/ort.sh"
ort_prepare() {
    ort_install "$1"
    cat >"$WORK/ort.js" <<'JSEOF'
// node ort.js MODEL.onnx X.f32 D0,D1,... OUT.f32: onnxruntime's output for the raw inputs
const fs = require("fs");
const ort = require("onnxruntime-node");
(async () => {
    const [model, xpath, shape, out] = process.argv.slice(2);
    const buf = fs.readFileSync(xpath);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const s = await ort.InferenceSession.create(model);
    const feeds = {};
    feeds[s.inputNames[0]] = new ort.Tensor("float32", x, shape.split(",").map(Number));
    const r = await s.run(feeds);
    const y = r[s.outputNames[0]].data;
    fs.writeFileSync(out, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
})().catch((e) => { console.error(e); process.exit(1); });
JSEOF
}

# ort_run MODEL.onnx X.f32 D0,D1,... OUT.f32: onnxruntime's first output for float32 inputs X (after
# ort_prepare); the test fails when onnxruntime does.
ort_run() {
    NODE_PATH="$ORT_MODULES" timeout -k 5 "$RUN_TIMEOUT" node "$WORK/ort.js" "$@" ||
        fail "onnxruntime failed on $1"
}
