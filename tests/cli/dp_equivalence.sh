#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data parallelism changes nothing but rounding: 1 rank x batch 64 and 2 ranks x batch 32 take the
# same global batches, so after the same steps every parameter agrees to 1e-5 relative (the two
# runs sum gradients in another order, so they need not be bitwise equal). Then the same with 200
# samples, where every epoch ends in a global batch of 8 that rank 1 gets no rows of.
# Both sides run one BLAS thread per rank, whatever the machine or the launcher's binding: OpenBLAS
# picks other kernels for other thread counts. And the full run stops at 5 steps: on this fixture
# the rounding difference itself grows with training (measured: 2e-7 after 5 steps, 3e-4 after 10,
# 2e-2 after 20), which says nothing about data parallelism.
set -euo pipefail
. "$(dirname "$0")/common.sh"
TOL=1e-5

compare() { # NAME STEPS ARGS...: train on 1 and 2 ranks, compare the checkpoints
    local name=$1 steps=$2
    shift 2
    aicon_np 1 "$name-np1" train --model mlp --seed 5 --batch 64 --threads 1 "$@" --checkpoint "$WORK/$name-np1.h5" \
        --summary "$WORK/$name-np1.json"
    aicon_np 2 "$name-np2" train --model mlp --seed 5 --batch 32 --threads 1 "$@" --checkpoint "$WORK/$name-np2.h5" \
        --summary "$WORK/$name-np2.json"
    for n in np1 np2; do
        local s
        s=$(json_field "$WORK/$name-$n.json" steps)
        [ "$s" = "$steps" ] || fail "$name-$n: summary says $s steps, expected $steps"
    done
    echo "$name: 1 rank x 64 vs 2 ranks x 32 after $steps steps (per tensor max|a-b| / max|a|):"
    "${PY[@]}" "$(dirname "$0")/dpcompare.py" "$WORK/$name-np1.h5" "$WORK/$name-np2.h5" "$TOL"
    echo "$name: train loss $(json_field "$WORK/$name-np1.json" train_loss) (1 rank)," \
        "$(json_field "$WORK/$name-np2.json" train_loss) (2 ranks)"
}

# 2048 samples, 5 steps inside the first epoch.
compare full 5 --data "$DATA/train.h5" --test-data "$DATA/test.h5" --max-steps 5
# 200 samples: global batches of 64, 64, 64 and 8 each epoch; 3 epochs, 12 steps, the last one short.
compare short 12 --data "$DATA/train200.h5" --epochs 3
grep -q "200 samples (4 steps/epoch)" "$WORK/short-np2.out" ||
    fail "the 200-sample run did not report 4 steps an epoch: $(head -1 "$WORK/short-np2.out")"
echo "PASS"
