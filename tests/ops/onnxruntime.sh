#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one-op ONNX models test_ops wrote (DIR/manifest.tsv lists them): ONNX's full checker (Debian's
# python3-onnx) accepts each, and onnxruntime (npm onnxruntime-node, installed into ORT_DIR when
# missing; the test fails when it cannot be had) computes each output from the stored inputs as aicon
# did (tests/ops/onnxruntime.js).
# Usage: onnxruntime.sh DIR ORT_DIR
set -euo pipefail
DIR=$1 ORT_DIR=$2
HERE=$(dirname "$0")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicon-ops-ort-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
. "$HERE/../cli/ort.sh"

[ -s "$DIR/manifest.tsv" ] || fail "$DIR/manifest.tsv is missing or empty (the ops test writes it)"
/usr/bin/python3 -E -s - "$DIR" <<'PYEOF' || fail "the ONNX checker rejects a one-op model"
import sys

import onnx

d = sys.argv[1]
lines = [line.split("\t") for line in open(f"{d}/manifest.tsv") if line.strip()]
for f in lines:
    onnx.checker.check_model(onnx.load(f"{d}/{f[0]}.onnx"), full_check=True)
print(f"ONNX checker (full): {len(lines)} one-op models pass")
PYEOF
ort_install "$ORT_DIR"
NODE_PATH="$ORT_MODULES" timeout -k 5 120 node "$HERE/onnxruntime.js" "$DIR"
