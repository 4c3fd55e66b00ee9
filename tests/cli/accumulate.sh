#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gradient accumulation: 2 ranks x --batch 16 x --accumulate 4 take the global batches 2 ranks x
# --batch 64 take, and sum the gradients over ranks once per step, so after the same optimizer steps
# every parameter agrees up to rounding (the sums run in another order). Measured (worst relative
# difference over the tensors, seeds 3, 5, 7, 9): mlp 3.4e-7 to 4.1e-7 after 20 steps; lenet 1e-7 to
# 3e-7 after 5 steps, but 8.7e-7 to 6.1e-3 after 20: on this fixture a max-pool or ReLU decision that
# rounding flips makes the difference jump, exactly as much as between 1 rank x 128 and 2 ranks x 64
# (6.8e-4 for seed 5, 5.7e-3 for seed 9). So 1e-5 at step 5 for both and at step 20 for mlp, 2e-2 at
# step 20 for lenet. A run with another seed must fail the step-20 comparison (it differs by about
# 1.8), or the comparison proves nothing. --accumulate 0 is a usage error naming the flag.
set -euo pipefail
. "$(dirname "$0")/common.sh"
TOL=1e-5
STEPS=20

for model in mlp lenet; do
    tol20=$TOL
    [ "$model" = lenet ] && tol20=2e-2
    common=(train --model "$model" --data "$DATA/train.h5" --max-steps "$STEPS" --threads 1 --checkpoint-every 5
            --keep 0)
    aicon_np 2 "$model-big" "${common[@]}" --seed 5 --batch 64 --checkpoint-dir "$WORK/$model-big" \
        --summary "$WORK/$model-big.json"
    aicon_np 2 "$model-acc" "${common[@]}" --seed 5 --batch 16 --accumulate 4 --checkpoint-dir "$WORK/$model-acc" \
        --summary "$WORK/$model-acc.json"
    aicon_np 2 "$model-seed" "${common[@]}" --seed 6 --batch 64 --checkpoint-dir "$WORK/$model-seed"
    [ "$(json_field "$WORK/$model-acc.json" steps)" = "$STEPS" ] || fail "$model: the accumulating run did not take $STEPS steps"
    [ "$(json_field "$WORK/$model-acc.json" accumulate)" = 4 ] || fail "$model: the summary does not record accumulate 4"
    [ "$(json_field "$WORK/$model-big.json" accumulate)" = 1 ] || fail "$model: the summary does not record accumulate 1"
    grep -q "2 ranks x batch 16 x 4 micro-batches" "$WORK/$model-acc.out" ||
        fail "$model: the first line does not name the micro-batches: $(head -1 "$WORK/$model-acc.out")"
    for step in 5 "$STEPS"; do
        tol=$TOL
        [ "$step" = "$STEPS" ] && tol=$tol20
        ckpt=$(printf 'ckpt-step-%08d.h5' "$step")
        echo "$model: 2 ranks x 64 vs 2 ranks x 16 x --accumulate 4 after $step steps (per tensor max|a-b| / max|a|):"
        "${PY[@]}" "$(dirname "$0")/dpcompare.py" "$WORK/$model-big/$ckpt" "$WORK/$model-acc/$ckpt" "$tol"
    done
    echo "$model: the same against a run with another seed (must differ):"
    if "${PY[@]}" "$(dirname "$0")/dpcompare.py" "$WORK/$model-seed/$ckpt" "$WORK/$model-acc/$ckpt" "$tol20" 2>/dev/null | tail -n 1; then
        fail "$model: a run with another seed agrees with the accumulating run: the comparison cannot fail"
    fi
done

aicon_fails 2 zero train --model mlp --data "$DATA/train.h5" --accumulate 0
grep -q "aicon train: --accumulate expects a whole number" "$WORK/zero.err" || fail "--accumulate 0 did not name the flag"
[ "$RC" = 2 ] || fail "--accumulate 0 exited with $RC, not the usage error status 2"
echo "PASS"
