#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The stall watchdog (tools/watchdog.c): one rank of three killed (kill -9) or frozen (kill -STOP)
# mid-training. The others must stop within 30 s with a line naming the failed rank and the phase it
# was in, the launcher must end non-zero, and no process of the run may be left behind.
set -u
source "$(dirname "$0")/common.sh"

# A run far longer than the test: only a failure ends it early. TRAIN: the data set read.
ARGS=(train --model mlp --epochs 100000 --batch 16 --threads 1)
TRAIN=train.h5
PHASES='start-up|batch loading|forward|backward|gradient allreduce|optimizer step|evaluation|checkpoint writing|a collective|finishing'

# pid of RANK among the aicon processes whose command line holds TAG (the launcher's own is not aicon).
rank_pid() {
    local tag=$1 rank=$2 p
    for p in $(pgrep -f -- "$tag"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = aicon ] || continue
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
            grep -qxE "(OMPI_COMM_WORLD_RANK|PMI_RANK|PMIX_RANK|SLURM_PROCID)=$rank"; then
            echo "$p"
            return
        fi
    done
}

# fail_run CASE WHAT: show the run's output, then fail.
fail_run() {
    echo "--- stdout:"; cat "$WORK/$1.out"
    echo "--- stderr:"; cat "$WORK/$1.err"
    fail "$1: $2"
}

# run_case CASE SIGNAL RANK ARGS...: start 3 ranks, send SIGNAL to RANK once the second epoch runs,
# wait for the launcher (at most 30 s: RUN_TIMEOUT's timeout never fires first); sets LAUNCHER_RC,
# SECONDS_TO_EXIT and VICTIM (the pid signalled).
run_case() {
    local name=$1 sig=$2 rank=$3
    shift 3
    local tag="$WORK/$name.json"
    echo "+ mpirun -np 3 aicon ${ARGS[*]} --data $DATA/$TRAIN --summary $tag $*; kill -$sig rank $rank"
    timeout -k 5 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 3 "$AICON" "${ARGS[@]}" --data "$DATA/$TRAIN" \
        --summary "$tag" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local launcher=$! victim="" i
    for i in $(seq 300); do # until rank 0 reports an epoch: training runs on every rank
        grep -q '^epoch 1/' "$WORK/$name.out" && victim=$(rank_pid "$tag" "$rank")
        [ -n "$victim" ] && break
        kill -0 $launcher 2>/dev/null || fail_run "$name" "the run ended before rank $rank could be stopped"
        sleep 0.1
    done
    [ -n "$victim" ] || fail_run "$name" "no epoch reported, or no aicon process of rank $rank, within 30 s"
    kill -"$sig" "$victim"
    local t0 now
    t0=$(date +%s.%N)
    while kill -0 $launcher 2>/dev/null; do
        now=$(date +%s.%N)
        if awk -v a="$t0" -v b="$now" 'BEGIN { exit !(b - a > 30) }'; then
            kill -KILL "$victim" 2>/dev/null
            fail_run "$name" "the other ranks still ran 30 s after kill -$sig of rank $rank"
        fi
        sleep 0.1
    done
    LAUNCHER_RC=0
    wait $launcher || LAUNCHER_RC=$?
    SECONDS_TO_EXIT=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    VICTIM=$victim
}

# (a) kill -9 of rank 1: its connection to rank 0 closes at once.
run_case kill9 KILL 1
echo "kill -9 rank 1: the launcher ended $SECONDS_TO_EXIT s later with status $LAUNCHER_RC"
grep 'aicon train: \[rank' "$WORK/kill9.err"
[ "$LAUNCHER_RC" -ne 0 ] || fail_run kill9 "the launcher exited 0 after a rank was killed"
grep -qE "^aicon train: \[rank [02]\] stopping: rank 1 \(on [^)]*\) is gone .*it was in ($PHASES)" "$WORK/kill9.err" ||
    fail_run kill9 "no surviving rank named rank 1 and its phase"
assert_no_leftover_processes

# (b) kill -STOP of rank 2: it holds its connection open but sends nothing.
run_case stop STOP 2 --heartbeat-timeout 5
echo "kill -STOP rank 2: the launcher ended $SECONDS_TO_EXIT s later with status $LAUNCHER_RC"
grep 'aicon train: \[rank' "$WORK/stop.err"
for i in $(seq 20); do # it may still be exiting (mpirun thaws it and sends SIGTERM)
    [ -e "/proc/$VICTIM" ] && [ "$(awk '{print $3}' "/proc/$VICTIM/stat" 2>/dev/null)" != Z ] || break
    sleep 0.1
done
if [ -e "/proc/$VICTIM" ] && [ "$(awk '{print $3}' "/proc/$VICTIM/stat" 2>/dev/null)" != Z ]; then
    echo "rank 2 (pid $VICTIM) outlived the launcher by 2 s: killing it" # a launcher that leaves it frozen
    kill -KILL "$VICTIM"
fi
[ "$LAUNCHER_RC" -ne 0 ] || fail_run stop "the launcher exited 0 after a rank froze"
grep -qE "^aicon train: \[rank [01]\] stopping: rank 2 \(on [^)]*\) is gone \(no heartbeat for [0-9.]+ s\); it was in ($PHASES)" \
    "$WORK/stop.err" || fail_run stop "no surviving rank named rank 2 and its phase"
assert_no_leftover_processes
# (c) kill -9 of rank 1 at batch 1: a step is then nearly all gradient allreduce (the single copy
# between the ranks), so a survivor's collective fails at the same moment the watchdog learns of the
# death. The watchdog's verdict must be what every survivor says, not the collective's error.
# 200 samples: the first epoch (66 steps) must end within run_case's 30 s, and 683 steps of
# train.h5 took 54 s in the sanitizer build with other tests running.
TRAIN=train200.h5
run_case kill9_batch1 KILL 1 --batch 1 --lr 0.005
echo "kill -9 rank 1 at batch 1: the launcher ended $SECONDS_TO_EXIT s later with status $LAUNCHER_RC"
grep 'aicon train:' "$WORK/kill9_batch1.err"
[ "$LAUNCHER_RC" -ne 0 ] || fail_run kill9_batch1 "the launcher exited 0 after a rank was killed"
grep -qE "^aicon train: \[rank [02]\] stopping: rank 1 \(on [^)]*\) is gone" "$WORK/kill9_batch1.err" ||
    fail_run kill9_batch1 "no surviving rank named rank 1"
if grep '^aicon train:' "$WORK/kill9_batch1.err" | grep -v 'stopping: rank 1 '; then
    fail_run kill9_batch1 "a survivor reported its collective's error instead of the watchdog's verdict"
fi
assert_no_leftover_processes
echo "PASS"
