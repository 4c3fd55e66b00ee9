#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A clean stop on a signal (batch systems: Slurm's --signal, a requeue, a time limit): SIGTERM to
# the ranks themselves, or SIGUSR1 to mpirun (which passes it on), mid-run. Every rank stops after
# the same step, rank 0 writes that step's checkpoint into --checkpoint-dir and says so, the run
# exits with status 6 and the watchdog does not take it for a failure; --resume auto then ends
# bitwise where an uninterrupted run ends.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# train.h5 (2048 samples), 2 ranks x 16: 64 steps an epoch. 20 epochs (about 3 s): with 3, the run
# (2 ms a step) could end in the time the loop below takes to see step 10 and signal on a loaded machine.
total=1280
common=(train --model mlp --data "$DATA/train.h5" --batch 16 --epochs 20 --seed 7 --threads 1)
aicon_np 2 a "${common[@]}" --checkpoint-dir "$WORK/a" --summary "$WORK/a.json"
ha=$(json_field "$WORK/a.json" params_sha256)

# wait_for_lines FILE N PID: until FILE has N lines (a run's metrics, a record a step) or PID ended.
wait_for_lines() {
    local i
    for i in $(seq 1 1500); do
        [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return
        kill -0 "$3" 2>/dev/null || return
        sleep 0.02
    done
}

# stopped NAME SIGNAL TARGET: run NAME, send SIGNAL to TARGET (ranks or mpirun) after its 10th step,
# check the stop, resume, compare.
stopped() {
    local name=$1 sig=$2 target=$3 tpid mpid ranks
    echo "+ mpirun -np 2 aicon ${common[*]} --checkpoint-dir $WORK/$name   (SIG$sig to $target after 10 steps)"
    timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" "${common[@]}" --checkpoint-dir "$WORK/$name" \
        --log-every 1 --metrics "$WORK/$name.jsonl" --summary "$WORK/$name.json" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    tpid=$!
    wait_for_lines "$WORK/$name.jsonl" 10 "$tpid"
    mpid=$(pgrep -P "$tpid" || true)
    ranks=$(for p in $mpid; do pgrep -P "$p" || true; done)
    [ -n "$ranks" ] || fail "$name ended before the signal (no ranks left): see $WORK/$name.out"
    if [ "$target" = ranks ]; then kill -"$sig" $ranks; else kill -"$sig" $mpid; fi
    RC=0
    wait "$tpid" || RC=$?
    cat "$WORK/$name.out"
    [ "$RC" = 6 ] || fail "$name: exit status $RC after SIG$sig, not 6: $(cat "$WORK/$name.err")"
    assert_no_leftover_processes
    local line n ckpt
    line=$(grep "^stopped by SIG$sig at step " "$WORK/$name.out") || fail "$name: no 'stopped by SIG$sig' line"
    n=$(echo "$line" | sed -E 's/^stopped by SIG[A-Z0-9]+ at step ([0-9]+) of .*/\1/')
    ckpt=$(printf '%s/ckpt-step-%08d.h5' "$WORK/$name" "$n")
    [ "$line" = "stopped by SIG$sig at step $n of $total; checkpoint $ckpt; resume with --checkpoint-dir $WORK/$name --resume auto" ] ||
        fail "$name: unexpected stop line: $line"
    [ -f "$ckpt" ] || fail "$name: $ckpt, the checkpoint the stop line names, is missing"
    [ "$n" -lt "$total" ] || fail "$name: stopped only at the last step: the test proves nothing"
    [ "$(json_field "$WORK/$name.json" stopped_by)" = "SIG$sig" ] || fail "$name: the summary lacks stopped_by SIG$sig"
    [ "$(json_field "$WORK/$name.json" steps)" = "$n" ] || fail "$name: the summary's steps are not $n"
    if grep -q "terminated (SIGTERM) by the launcher" "$WORK/$name.err"; then
        fail "$name: the watchdog took the clean stop for a failure: $(cat "$WORK/$name.err")"
    fi
    aicon_np 2 "$name-resumed" "${common[@]}" --checkpoint-dir "$WORK/$name" --resume auto --summary "$WORK/$name.json"
    grep -q "resuming from $ckpt at step $n" "$WORK/$name-resumed.out" || fail "$name: did not resume from $ckpt"
    local h
    h=$(json_field "$WORK/$name.json" params_sha256)
    echo "$name: stopped by SIG$sig at step $n, resumed: $h (uninterrupted: $ha)"
    [ "$h" = "$ha" ] || fail "$name: stopped and resumed, the run ended with other parameters than uninterrupted run a"
}

stopped term TERM ranks
stopped usr1 USR1 mpirun

# A storm of SIGUSR1 on one rank (no launcher) until it exits. oneDNN 2.7's JIT GEMM points rsp into
# the heap while it runs, so a handler run on a training thread wrote its signal frame over the
# heap: before aicon took its stop signals on a thread of their own, about one such run in six
# ended in "corrupted size vs. prev_size" or "free(): invalid pointer". So the main thread, which
# trains, must block them (SigBlk in /proc: SIGUSR1 is bit 9, SIGTERM bit 14), and every run must
# stop cleanly.
storm() {
    local name=storm$1 pid k blocked
    "$AICON" train --model lenet --data "$DATA/train.h5" --batch 64 --epochs 8 --seed 7 --threads 1 \
        --checkpoint-dir "$WORK/$name" --log-every 1 --metrics "$WORK/$name.jsonl" >"$WORK/$name.out" 2>&1 &
    pid=$!
    wait_for_lines "$WORK/$name.jsonl" 5 "$pid"
    blocked=$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null) ||
        fail "$name ended before the storm: $(cat "$WORK/$name.out")"
    [ $((0x$blocked & 0x4200)) = $((0x4200)) ] ||
        fail "$name: the training thread does not block SIGUSR1 and SIGTERM (SigBlk $blocked)"
    for k in $(seq 1 20000); do kill -USR1 "$pid" 2>/dev/null || break; done
    RC=0
    wait "$pid" || RC=$?
    [ "$RC" = 6 ] || fail "$name: exit status $RC after $k SIGUSR1s, not 6: $(tail -5 "$WORK/$name.out")"
    grep -q "^stopped by SIGUSR1 at step " "$WORK/$name.out" || fail "$name: no 'stopped by SIGUSR1' line"
    echo "$name: $k SIGUSR1s, $(grep "^stopped by" "$WORK/$name.out")"
}
for n in 1 2 3; do storm $n; done
echo "PASS"
