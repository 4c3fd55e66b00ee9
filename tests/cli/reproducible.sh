#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Same seed, same world size and batch: bitwise the same parameters; another seed: others.
set -euo pipefail
. "$(dirname "$0")/common.sh"

common=(train --model mlp --data "$DATA/train.h5" --test-data "$DATA/test.h5" --max-steps 30 --batch 32 --quiet)
aicon_np 2 run1 "${common[@]}" --seed 7 --summary "$WORK/run1.json"
aicon_np 2 run2 "${common[@]}" --seed 7 --summary "$WORK/run2.json"
aicon_np 2 run3 "${common[@]}" --seed 8 --summary "$WORK/run3.json"

h1=$(json_field "$WORK/run1.json" params_sha256)
h2=$(json_field "$WORK/run2.json" params_sha256)
h3=$(json_field "$WORK/run3.json" params_sha256)
for f in run1 run2 run3; do
    steps=$(json_field "$WORK/$f.json" steps)
    world=$(json_field "$WORK/$f.json" world_size)
    [ "$steps" = 30 ] || fail "$f: summary says $steps steps, expected 30"
    [ "$world" = 2 ] || fail "$f: summary says world_size $world, expected 2"
done
echo "seed 7, run 1: $h1"
echo "seed 7, run 2: $h2"
echo "seed 8:        $h3"
[[ $h1 =~ ^[0-9a-f]{64}$ ]] || fail "params_sha256 '$h1' is not a SHA-256"
[ "$h1" = "$h2" ] || fail "two runs with the same seed ended with different parameters"
[ "$h1" != "$h3" ] || fail "--seed 8 ended with the same parameters as --seed 7"
l1=$(json_field "$WORK/run1.json" train_loss)
l2=$(json_field "$WORK/run2.json" train_loss)
[ "$l1" = "$l2" ] || fail "same seed, different train loss: $l1 vs $l2"
echo "PASS"
