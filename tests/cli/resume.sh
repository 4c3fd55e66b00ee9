#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Exact resume: stopping after epoch 1 and resuming from its checkpoint ends bitwise where an
# uninterrupted run ends, also for a resume from the middle of an epoch.
#
# usage: resume.sh AICON DATA_DIR NP MODEL DATA_FILE [MPIRUN ARGS...]
#   MODEL mlp: run A --epochs 2; run B --epochs 1, then --epochs 2 --resume; run C --max-steps 5,
#   then --epochs 2 --resume. MODEL lenet: the same in steps (--max-steps), tiny batches.
# Extra aicon flags come from $RESUME_FLAGS (split on spaces), e.g. "--optimizer adamw".
set -euo pipefail
np=$3 model=$4 file=$5
set -- "$1" "$2" "${@:6}"
. "$(dirname "$0")/common.sh"
read -r -a extra <<<"${RESUME_FLAGS:-}"

common=(train --model "$model" --data "$DATA/$file" --seed 11 "${extra[@]}")
if [ "$model" = lenet ]; then
    # train512.h5 with --batch 16 on 1 rank: 32 steps an epoch; 40 steps cross into epoch 2.
    common+=(--batch 16)
    end=(--epochs 2 --max-steps 40)
    first_leg=(--epochs 2 --max-steps 20)
    mid_leg=(--epochs 2 --max-steps 33)
else
    common+=(--batch 32 --test-data "$DATA/test.h5")
    end=(--epochs 2)
    first_leg=(--epochs 1)
    mid_leg=(--epochs 2 --max-steps 5)
fi

aicon_np "$np" a "${common[@]}" "${end[@]}" --checkpoint "$WORK/a.h5" --summary "$WORK/a.json"
aicon_np "$np" b1 "${common[@]}" "${first_leg[@]}" --checkpoint "$WORK/b.h5" --summary "$WORK/b1.json"
aicon_np "$np" b2 "${common[@]}" "${end[@]}" --resume "$WORK/b.h5" --checkpoint "$WORK/b.h5" --summary "$WORK/b.json"
aicon_np "$np" c1 "${common[@]}" "${mid_leg[@]}" --checkpoint "$WORK/c.h5"
aicon_np "$np" c2 "${common[@]}" "${end[@]}" --resume "$WORK/c.h5" --checkpoint "$WORK/c.h5" --summary "$WORK/c.json"

grep -q "resuming from $WORK/b.h5 at step $(json_field "$WORK/b1.json" steps)" "$WORK/b2.out" ||
    fail "run B's second leg did not say it resumed from b.h5 at the step the first leg ended"
ha=$(json_field "$WORK/a.json" params_sha256)
hb1=$(json_field "$WORK/b1.json" params_sha256)
hb=$(json_field "$WORK/b.json" params_sha256)
hc=$(json_field "$WORK/c.json" params_sha256)
sa=$(json_field "$WORK/a.json" steps)
sb1=$(json_field "$WORK/b1.json" steps)
sb=$(json_field "$WORK/b.json" steps)
sc=$(json_field "$WORK/c.json" steps)
echo "A (uninterrupted):        $sa steps, $ha"
echo "B leg 1:                  $sb1 steps, $hb1"
echo "B resumed after leg 1:    $sb steps, $hb"
echo "C resumed mid-epoch:      $sc steps, $hc"
[ "$sb1" -lt "$sa" ] || fail "the first leg ran $sb1 steps, not fewer than the whole run's $sa"
[ "$hb1" != "$ha" ] || fail "the first leg already ended with the final parameters: the test proves nothing"
[ "$sb" = "$sa" ] || fail "resumed run B ended at step $sb, uninterrupted run A at $sa"
[ "$sc" = "$sa" ] || fail "resumed run C ended at step $sc, uninterrupted run A at $sa"
[ "$hb" = "$ha" ] || fail "resumed run B ended with other parameters than uninterrupted run A"
[ "$hc" = "$ha" ] || fail "run C resumed mid-epoch ended with other parameters than uninterrupted run A"
for f in train_loss test_loss test_accuracy; do
    [ "$(json_field "$WORK/a.json" $f)" = "$(json_field "$WORK/b.json" $f)" ] ||
        fail "$f differs: A $(json_field "$WORK/a.json" $f), B $(json_field "$WORK/b.json" $f)"
done

"${PY[@]}" "$(dirname "$0")/h5compare.py" "$WORK/a.h5" "$WORK/b.h5" "$WORK/c.h5"
echo "PASS"
