#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gradient buckets (--bucket-kb): their allreduce, overlapped with backward on a thread of its own,
# must sum exactly what the single allreduce sums.
# - 2 ranks: a sum of two floats is the same whatever the cut, so buckets of 4 KiB (several per
#   layer's neighbourhood) must leave the parameters bitwise as --bucket-kb 0 does; a bucket that
#   missed part of the arena, or ran before backward had finished it, would change them.
# - 3 ranks: the cut changes the order of the sums, but not from run to run: two runs with the same
#   buckets must agree bitwise (timing never enters), and stay close to the unbucketed run.
# - A bad --bucket-kb is refused naming the flag.
set -euo pipefail
. "$(dirname "$0")/common.sh"

common=(train --model mlp --data "$DATA/train512.h5" --max-steps 12 --batch 16 --threads 1 --quiet)
aicon_np 2 whole "${common[@]}" --bucket-kb 0 --summary "$WORK/whole.json"
aicon_np 2 small "${common[@]}" --bucket-kb 4 --summary "$WORK/small.json"
aicon_np 2 default "${common[@]}" --summary "$WORK/default.json"
whole=$(json_field "$WORK/whole.json" params_sha256)
[ "$(json_field "$WORK/small.json" params_sha256)" = "$whole" ] ||
    fail "2 ranks: --bucket-kb 4 trained other parameters than --bucket-kb 0"
[ "$(json_field "$WORK/default.json" params_sha256)" = "$whole" ] ||
    fail "2 ranks: the default buckets trained other parameters than --bucket-kb 0"

aicon_np 3 b3a "${common[@]}" --bucket-kb 4 --summary "$WORK/b3a.json"
aicon_np 3 b3b "${common[@]}" --bucket-kb 4 --summary "$WORK/b3b.json"
aicon_np 3 w3 "${common[@]}" --bucket-kb 0 --summary "$WORK/w3.json"
[ "$(json_field "$WORK/b3a.json" params_sha256)" = "$(json_field "$WORK/b3b.json" params_sha256)" ] ||
    fail "3 ranks: two runs with the same buckets trained different parameters"
"${PY[@]}" - "$WORK/b3a.json" "$WORK/w3.json" <<'PYEOF' || fail "3 ranks: bucketed and unbucketed losses differ"
import json, sys
a, b = (json.load(open(p))["train_loss"] for p in sys.argv[1:])
print("train loss bucketed %.9g, unbucketed %.9g" % (a, b))
sys.exit(0 if abs(a - b) <= 1e-5 * abs(b) else 1)
PYEOF

rc=0
timeout 30 "$AICON" train --bucket-kb -3 >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
[ $rc -eq 2 ] || fail "--bucket-kb -3 exited with $rc, expected 2"
grep -q -- "--bucket-kb" "$WORK/bad.err" || fail "--bucket-kb -3: the error does not name the flag: $(cat "$WORK/bad.err")"
assert_no_leftover_processes
echo "PASS"
