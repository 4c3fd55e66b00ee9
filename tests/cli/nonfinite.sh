#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Non-finite numbers on 2 ranks: a test set holding a NaN is refused at load naming the file and the
# sample; a sample of 3e38s (finite, but the mlp's sums overflow) makes its step's loss NaN, which stops
# the run naming the step and the rank, and --skip-nonfinite skips that step on every rank, finishes
# and counts it (and leaves the other steps as they were: the final test loss is finite). Under
# --sync diloco the NaN stops its group, naming step and rank, and the run ends; streamed too.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"${PY[@]}" - "$DATA" "$WORK" <<'PYEOF'
import shutil, sys, h5py
src, out = sys.argv[1], sys.argv[2]
shutil.copy(f"{src}/test.h5", f"{out}/nan_test.h5")
with h5py.File(f"{out}/nan_test.h5", "r+") as f:
    x = f["x"][...]
    x[37, 0, 3, 5] = float("nan")
    f["x"][...] = x
shutil.copy(f"{src}/train.h5", f"{out}/huge.h5")
with h5py.File(f"{out}/huge.h5", "r+") as f:
    x = f["x"][...]
    x[300] = 3e38
    f["x"][...] = x
PYEOF

base=(train --model mlp --batch 32 --epochs 1 --normalize none --seed 7)

# A NaN in the test set: refused before training, naming the file, the sample and the value.
aicon_fails 2 nan train --model mlp --data "$DATA/train.h5" --test-data "$WORK/nan_test.h5" --max-steps 2
grep -q "nan_test.h5: value 89 of sample 37 .* is nan" "$WORK/nan.err" ||
    fail "the NaN in nan_test.h5 (sample 37, value 89) is not named"
! grep -q "test loss" "$WORK/nan.out" || fail "a run on a NaN test set printed a test loss"

# The huge sample: the run stops at its step, naming the step and the rank, with status 1.
aicon_fails 2 stop "${base[@]}" --data "$WORK/huge.h5" --test-data "$DATA/test.h5"
[ "$RC" = 1 ] || fail "a non-finite loss exited with $RC, not 1"
grep -Eq "^aicon train: step [0-9]+: the loss is (NaN|[+-]Inf) on rank [01]; stopping" "$WORK/stop.err" ||
    fail "the stop names no step and rank"
! grep -q "test accuracy" "$WORK/stop.out" || fail "the stopped run reported a result"

# Under --sync diloco (groups of one) only the group of the rank with the huge sample sees the NaN:
# it stops naming the step and the rank, and the other is ended too, not left waiting.
aicon_fails 2 dstop "${base[@]}" --data "$WORK/huge.h5" --test-data "$DATA/test.h5" --sync diloco --sync-group 1 \
    --inner-steps 4
grep -Eq "^aicon train: step [0-9]+: the loss is (NaN|[+-]Inf|not finite) on rank [01]; stopping" "$WORK/dstop.err" ||
    fail "under --sync diloco the stop names no step and rank: $(cat "$WORK/dstop.err")"

step=$(sed -nE 's/^aicon train: step ([0-9]+): .*stopping.*/\1/p' "$WORK/stop.err")

# Streamed (--outer-fragments 2), the vote goes with the fragments and is read a step later: the run
# still stops on both ranks naming the step of the NaN and the rank.
aicon_fails 2 dstream "${base[@]}" --data "$WORK/huge.h5" --test-data "$DATA/test.h5" --sync diloco \
    --sync-group 1 --inner-steps 4 --outer-fragments 2
grep -Eq "^aicon train: step $step: the loss is (NaN|[+-]Inf|not finite) on rank [01]; stopping" "$WORK/dstream.err" ||
    fail "streamed, the stop does not name step $step and a rank: $(cat "$WORK/dstream.err")"

# --skip-nonfinite: the same step is skipped on both ranks, the run ends and counts it.
aicon_np 2 skip "${base[@]}" --data "$WORK/huge.h5" --test-data "$DATA/test.h5" --skip-nonfinite \
    --summary "$WORK/skip.json"
grep -Eq "^aicon train: warning: step $step: the loss is (NaN|[+-]Inf) on rank [01]; the update is skipped" \
    "$WORK/skip.err" || fail "--skip-nonfinite did not warn about step $step"
grep -Eq "test accuracy 0\.[0-9]+ \(loss [0-9.]+\) .*; 1 step skipped \(non-finite loss\)" "$WORK/skip.out" ||
    fail "the result line has no finite test loss or no skip count: $(tail -n 1 "$WORK/skip.out")"
[ "$(json_field "$WORK/skip.json" skipped_steps)" = 1 ] || fail "the summary does not count the skipped step"
assert_no_leftover_processes
echo "PASS"
