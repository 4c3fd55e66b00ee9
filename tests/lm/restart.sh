#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The built-in GPT (--task lm --model gpt) on 2 ranks, shuffled windows of a fortunes shard: two runs of
# the same seed end with the same params_sha256 and a third seed with another; a run writing a
# checkpoint every 10 steps into --checkpoint-dir is killed (SIGKILL to its ranks) once its first
# checkpoint is in place, and `--resume auto` ends it with the parameters of the uninterrupted run.
# Usage: restart.sh AICON FORTUNES_DIR [MPIRUN ARGS...] (about 15 s).
set -euo pipefail
CLI_NEEDS_DATA=0
. "$(dirname "$0")/../cli/common.sh"

[ -f "$DATA/science" ] || fail "$DATA/science is missing (Debian's fortunes package; scripts/install-deps.sh installs it)"
echo "+ aicon tokenize --bytes $DATA/science -o $WORK/shard.bin"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" tokenize --bytes "$DATA/science" -o "$WORK/shard.bin" || fail "aicon tokenize failed"

total=40
common=(train --task lm --data "$WORK/shard.bin" --layers 2 --heads 4 --dim 128 --seq-len 64 --batch 8
        --optimizer adamw --weight-decay 0.1 --decay-matrices-only --clip-grad-norm 1 --warmup-steps 5
        --lr-schedule cosine --max-steps "$total" --threads 1 --checkpoint-every 10)
ckpts() { # the checkpoints of directory $1, oldest first
    find "$1" -maxdepth 1 -name 'ckpt-step-*.h5' -printf '%f\n' | sort
}

aicon_np 2 a "${common[@]}" --seed 5 --checkpoint-dir "$WORK/a" --summary "$WORK/a.json"
aicon_np 2 b "${common[@]}" --seed 5 --checkpoint-dir "$WORK/b" --summary "$WORK/b.json"
aicon_np 2 c "${common[@]}" --seed 6 --checkpoint-dir "$WORK/c" --summary "$WORK/c.json"
ha=$(json_field "$WORK/a.json" params_sha256)
hb=$(json_field "$WORK/b.json" params_sha256)
hc=$(json_field "$WORK/c.json" params_sha256)
echo "seed 5: $ha, validation loss $(json_field "$WORK/a.json" val_loss)"
echo "seed 5: $hb, validation loss $(json_field "$WORK/b.json" val_loss)"
echo "seed 6: $hc, validation loss $(json_field "$WORK/c.json" val_loss)"
[ "$hb" = "$ha" ] || fail "two runs of seed 5 ended with different parameters"
[ "$hc" != "$ha" ] || fail "seeds 5 and 6 ended with the same parameters: the hash does not follow the model"

echo "+ mpirun -np 2 aicon ${common[*]} --seed 5 --checkpoint-dir $WORK/k   (killed after its first checkpoint)"
timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" "${common[@]}" --seed 5 --checkpoint-dir "$WORK/k" \
    >"$WORK/k1.out" 2>"$WORK/k1.err" &
tpid=$!
for _ in $(seq 1 1500); do
    [ -n "$(ckpts "$WORK/k" 2>/dev/null)" ] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.02
done
mpid=$(pgrep -P "$tpid" || true)
ranks=$(for p in $mpid; do pgrep -P "$p" || true; done)
[ -n "$ranks" ] || fail "the run ended before it could be killed (no ranks left to kill): see $WORK/k1.out"
kill -KILL $ranks
rc=0
wait "$tpid" || rc=$?
[ $rc -ne 0 ] || fail "the killed run exited 0 although its ranks were killed"
assert_no_leftover_processes
newest=$(ckpts "$WORK/k" | tail -n 1)
step=${newest#ckpt-step-}
step=$((10#${step%.h5}))
echo "killed (mpirun exit $rc) with $(ckpts "$WORK/k" | tr '\n' ' ')"
[ "$step" -lt "$total" ] || fail "the run got to its last step ($step) before the kill: the test proves nothing"

aicon_np 2 k2 "${common[@]}" --seed 5 --checkpoint-dir "$WORK/k" --resume auto --summary "$WORK/k.json"
grep -q "resuming from $WORK/k/$newest at step $step" "$WORK/k2.out" ||
    fail "the run did not resume from its newest checkpoint $newest (step $step)"
hk=$(json_field "$WORK/k.json" params_sha256)
echo "killed, resumed at step $step: $(json_field "$WORK/k.json" steps) steps, $hk"
[ "$(json_field "$WORK/k.json" steps)" = "$total" ] || fail "the resumed run ended at step $(json_field "$WORK/k.json" steps)"
[ "$hk" = "$ha" ] || fail "the run killed and resumed ended with other parameters than the uninterrupted one"
[ "$(json_field "$WORK/k.json" val_loss)" = "$(json_field "$WORK/a.json" val_loss)" ] ||
    fail "the resumed run's validation loss differs from the uninterrupted run's"
echo "PASS"
