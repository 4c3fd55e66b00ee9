#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ONNX backend test cases of libonnx-testdata through `aicon onnx-test`:
#   conformance.sh AICON TESTDATA EXPECTED
# No case may fail, and every case named in EXPECTED (one per line, as onnx-test prints it) must
# pass: a case that aicon once ran must not quietly turn into a skip.
set -euo pipefail
AICON=$1 DATA=$2 EXPECTED=$3
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
rc=0
"$AICON" onnx-test "$DATA/node" "$DATA/pytorch-converted" "$DATA/pytorch-operator" "$DATA/simple" >"$OUT" || rc=$?
cat "$OUT"
[ "$rc" -eq 0 ] || { echo "FAIL: aicon onnx-test exited $rc"; exit 1; }
missing=0
while read -r name; do
    [ -n "$name" ] || continue
    grep -q "^PASS $name\( \|$\)" "$OUT" || { echo "FAIL: $name no longer passes: $(grep " $name[: ]" "$OUT" || echo 'not run')"; missing=$((missing + 1)); }
done <"$EXPECTED"
[ "$missing" -eq 0 ] || exit 1
echo "all $(grep -c . "$EXPECTED") expected cases pass; $(tail -n 1 "$OUT")"
