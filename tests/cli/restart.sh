#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restart after a crash: a run writing --checkpoint-every checkpoints into --checkpoint-dir is killed
# (SIGKILL to its ranks) once two checkpoints exist; `--resume auto` continues from the newest and
# ends bitwise where an uninterrupted run ends. A second copy of the killed run's directory has its
# newest checkpoint truncated and a stale temporary file added: --resume auto warns naming the
# truncated file, resumes from the next older one, removes the temporary file, and still ends bitwise
# equal. A directory of damaged checkpoints only is an error; an empty one a fresh start (run A).
set -euo pipefail
. "$(dirname "$0")/common.sh"

# train.h5 (2048 samples), 2 ranks x 16: 64 steps an epoch, 192 in all; a checkpoint every 4 steps
# (5.4 MB each) keeps the run long enough (about 1.5 s) to be killed well before its end.
total=192
common=(train --model mlp --data "$DATA/train.h5" --batch 16 --epochs 3 --seed 7 --threads 1
        --checkpoint-every 4 --keep 3)
ckpts() { # the checkpoints of directory $1, oldest first
    find "$1" -maxdepth 1 -name 'ckpt-step-*.h5' -printf '%f\n' | sort
}
step_of() { # ckpt-step-00000012.h5 -> 12
    local s=${1#ckpt-step-}
    echo $((10#${s%.h5}))
}

aicon_np 2 a "${common[@]}" --checkpoint-dir "$WORK/a" --resume auto --summary "$WORK/a.json"
grep -q "no checkpoint in $WORK/a: starting from step 0" "$WORK/a.out" ||
    fail "run A (--resume auto, empty directory) did not say it starts from step 0"
kept=$(ckpts "$WORK/a" | tr '\n' ' ')
[ "$kept" = "ckpt-step-00000184.h5 ckpt-step-00000188.h5 ckpt-step-00000192.h5 " ] ||
    fail "--keep 3 left '$kept' in $WORK/a, not the newest three (184, 188, 192)"

# Run B: killed once its second checkpoint is in place.
echo "+ mpirun -np 2 aicon ${common[*]} --checkpoint-dir $WORK/b   (killed after its second checkpoint)"
timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" "${common[@]}" --checkpoint-dir "$WORK/b" \
    >"$WORK/b1.out" 2>"$WORK/b1.err" &
tpid=$!
for _ in $(seq 1 1200); do
    [ "$(ckpts "$WORK/b" 2>/dev/null | wc -l)" -ge 2 ] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.02
done
mpid=$(pgrep -P "$tpid" || true)
ranks=$(for p in $mpid; do pgrep -P "$p" || true; done)
[ -n "$ranks" ] || fail "run B ended before it could be killed (no ranks left to kill): see $WORK/b1.out"
kill -KILL $ranks
rc=0
wait "$tpid" || rc=$?
[ $rc -ne 0 ] || fail "run B exited 0 although its ranks were killed"
assert_no_leftover_processes
newest=$(ckpts "$WORK/b" | tail -n 1)
older=$(ckpts "$WORK/b" | tail -n 2 | head -n 1)
n_newest=$(step_of "$newest")
n_older=$(step_of "$older")
echo "run B killed (mpirun exit $rc); checkpoints left: $(ckpts "$WORK/b" | tr '\n' ' ')"
[ "$n_newest" -lt "$total" ] || fail "run B got to its last step ($n_newest) before the kill: the test proves nothing"
cp -a "$WORK/b" "$WORK/c"

aicon_np 2 b2 "${common[@]}" --checkpoint-dir "$WORK/b" --resume auto --summary "$WORK/b.json"
grep -q "resuming from $WORK/b/$newest at step $n_newest" "$WORK/b2.out" ||
    fail "run B did not resume from its newest checkpoint $newest (step $n_newest)"

# Run C: the same killed state, its newest checkpoint truncated, a stale temporary file beside it.
size=$(stat -c %s "$WORK/c/$newest")
truncate -s $((size / 2)) "$WORK/c/$newest"
stale="$WORK/c/ckpt-step-00009999.h5.tmp.4242"
head -c 1000 /dev/urandom >"$stale"
aicon_np 2 c "${common[@]}" --checkpoint-dir "$WORK/c" --resume auto --summary "$WORK/c.json"
grep -q "aicon train: warning: skipping $WORK/c/$newest: " "$WORK/c.err" ||
    fail "run C did not warn that it skips the truncated $newest: $(cat "$WORK/c.err")"
grep -q "resuming from $WORK/c/$older at step $n_older" "$WORK/c.out" ||
    fail "run C did not resume from the next older checkpoint $older (step $n_older)"
[ ! -e "$stale" ] || fail "the stale temporary file $stale was not removed"
grep "warning: skipping" "$WORK/c.err"

ha=$(json_field "$WORK/a.json" params_sha256)
hb=$(json_field "$WORK/b.json" params_sha256)
hc=$(json_field "$WORK/c.json" params_sha256)
echo "A (uninterrupted):                   $(json_field "$WORK/a.json" steps) steps, $ha"
echo "B (killed, resumed at $n_newest):            $(json_field "$WORK/b.json" steps) steps, $hb"
echo "C (newest truncated, resumed at $n_older):   $(json_field "$WORK/c.json" steps) steps, $hc"
[ "$(json_field "$WORK/b.json" steps)" = "$total" ] || fail "run B ended at step $(json_field "$WORK/b.json" steps)"
[ "$hb" = "$ha" ] || fail "run B, killed and resumed, ended with other parameters than uninterrupted run A"
[ "$hc" = "$ha" ] || fail "run C, resumed past a truncated checkpoint, ended with other parameters than run A"
last=$(printf 'ckpt-step-%08d.h5' "$total")
"${PY[@]}" "$(dirname "$0")/h5compare.py" "$WORK/a/$last" "$WORK/b/$last" "$WORK/c/$last"

# Only damaged checkpoints: an error naming the directory, not a silent fresh start.
mkdir "$WORK/d"
printf 'not an HDF5 file' >"$WORK/d/ckpt-step-00000004.h5"
rc=0
timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" "${common[@]}" --checkpoint-dir "$WORK/d" --resume auto \
    >"$WORK/d.out" 2>"$WORK/d.err" || rc=$?
cat "$WORK/d.err"
[ $rc -ne 0 ] || fail "--resume auto with only a damaged checkpoint exited 0"
grep -q "aicon train: --resume auto: $WORK/d holds 1 checkpoint and none can be loaded" "$WORK/d.err" ||
    fail "--resume auto with only a damaged checkpoint did not say so"
echo "PASS"
