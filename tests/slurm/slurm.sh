#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Slurm on this machine: munged, slurmctld and slurmd (one node, 2 CPUs) with their own
# configuration, keys, sockets, ports and state under a temporary directory, so that a system
# Slurm or munge is never touched. Both scripts of examples/slurm/ are submitted with sbatch (2
# tasks each: one starts its ranks with srun, the other with mpirun), and the test checks that each
# job completed, printed its test accuracy and wrote a checkpoint that reopens with the steps it
# trained. Then a requeue, with each launcher: a lenet job gets SIGUSR1 from
# `scancel --signal=USR1 --batch` (what --signal=B:USR1@120 sends before the time limit) a few steps
# in; aicon stops with a checkpoint, the script requeues the job, which resumes and must end with
# parameters bitwise equal to those of the same job left alone. Everything it started is stopped on
# exit, and its directory removed when it passes.
#
# usage: slurm.sh AICON DATA_DIR
#   AICON     the aicon binary; DATA_DIR the cli_data fixture's directory (train.h5, test.h5)
# Installs Debian's slurm-wlm and munge when they are missing (as root, CI on Debian 12).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 AICON DATA_DIR" >&2
    exit 2
fi
AICON=$(realpath "$1")
DATA=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
EXAMPLES=$(realpath "$HERE/../../examples/slurm")
PY=(/usr/bin/python3 -E -s)
# 2 ranks x batch 32 over the 2048 samples of train.h5: 32 steps an epoch. The mlp reaches a test
# accuracy of 0.75 after 3 epochs (seed 7); 10 classes: chance is 0.1.
EPOCHS=3
STEPS=96
MIN_ACCURACY=0.65

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -x "$AICON" ] || fail "$AICON is not an executable"
for f in train.h5 test.h5; do
    [ -f "$DATA/$f" ] || fail "$DATA/$f is missing (the cli_data fixture makes it)"
done
for f in train_one_node.sbatch train_multi_node.sbatch; do
    [ -f "$EXAMPLES/$f" ] || fail "$EXAMPLES/$f is missing"
done

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
    ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "SKIP: slurm-wlm and munge are not installed and this is not root"; exit 77; }
    echo "+ apt-get install slurm-wlm munge"
    mungeds=$(pgrep -x munged || true)
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null ||
        fail "apt-get install slurm-wlm munge failed"
    # Where services may start, the package started the system's munged: this test does not use it.
    for pid in $(pgrep -x munged || true); do
        grep -qx "$pid" <<<"$mungeds" || kill -TERM "$pid"
    done
fi
# The daemons run as root here (SlurmUser=root) so that the test needs no user of its own.
[ "$(id -u)" = 0 ] || { echo "SKIP: the Slurm daemons of this test run as root"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/aicon-slurm-XXXXXX")
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/tmp" "$T/log" "$T/job"
chmod 700 "$T/munge"
MUNGED_PID="" SLURMCTLD_PID="" SLURMD_PID=""
STEPD_BEFORE=$(pgrep -x slurmstepd || true)

logs_tail() {
    local f
    for f in "$T"/log/*.log "$T"/munge/munged.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f:" >&2
        tail -n 25 "$f" >&2
    done
}

stop_pid() { # stop_pid NAME PID: TERM, up to 10 s, then KILL
    local name=$1 pid=$2
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "$name ($pid) did not stop on TERM: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid left
    trap - EXIT
    if [ -n "$SLURMCTLD_PID" ] && kill -0 "$SLURMCTLD_PID" 2>/dev/null; then
        scancel --quiet --full --user=root 2>/dev/null || true
        for _ in $(seq 1 50); do # give the job steps a moment to end before slurmd goes
            [ -z "$(squeue --noheader --user=root 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pid slurmd "$SLURMD_PID"
    stop_pid slurmctld "$SLURMCTLD_PID"
    stop_pid munged "$MUNGED_PID"
    # slurmstepd processes of this test's jobs (those not running before it started)
    for pid in $(pgrep -x slurmstepd || true); do
        grep -qx "$pid" <<<"$STEPD_BEFORE" && continue
        kill -KILL "$pid" 2>/dev/null || true
    done
    # The daemons and the jobs' ranks all name $T on their command lines.
    mapfile -t left < <(pgrep -f -- "$T" || true)
    if [ ${#left[@]} -gt 0 ]; then
        echo "FAIL: processes still running after the test: ${left[*]}: killing them" >&2
        kill -KILL "${left[@]}" 2>/dev/null || true
        rc=1
    fi
    if [ $rc -eq 0 ]; then
        rm -rf "$T"
    else
        logs_tail
        echo "(files of the failed test kept in $T)" >&2
    fi
    exit $rc
}
trap cleanup EXIT

# munge with its own key, socket, pid, seed and log files.
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$T/munge/munge.key" >/dev/null
else
    dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$T/munge/munge.key"
MUNGE_SOCKET=$T/munge/munge.socket
munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$T/munge/munge.key" \
    --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" \
    --log-file="$T/munge/munged.log" >"$T/munge/munged.out" 2>&1 &
MUNGED_PID=$!
for _ in $(seq 1 50); do
    [ -S "$MUNGE_SOCKET" ] && break
    kill -0 "$MUNGED_PID" 2>/dev/null || fail "munged exited at start"
    sleep 0.1
done
[ -S "$MUNGE_SOCKET" ] || fail "munged made no socket $MUNGE_SOCKET within 5 s"

# Two free TCP ports for slurmctld and slurmd (not Slurm's 6817/6818, which a system one may hold).
read -r CTLD_PORT SLURMD_PORT < <("${PY[@]}" - <<'PYEOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PYEOF
)
NODE=$(hostname -s)
export SLURM_CONF=$T/slurm.conf
# Job ids start at a random number, not at 1: under srun --mpi=pmix Open MPI takes its job id from
# the PMIx namespace, slurm.pmix.<job id>.<step>, and names its shared-memory files after it
# (/dev/shm/vader_segment.<host>.<its job id>.<local rank>, taken over if it exists) and its session
# directory too. Two copies of this test at once on one machine (ctest in two build directories)
# would both run jobs 1, 2, ...: the ranks of one job then map the other's live segments, and a rank
# crashes in mca_btl_vader_poll_handle_frag.
FIRST_JOB_ID=$(((RANDOM * 32768 + RANDOM) % 60000000 + 1000))
# No cgroups (this may be a container or a VM without a delegated cgroup tree): processes are
# tracked through /proc and tasks are not bound by Slurm, so no cgroup.conf is read.
cat >"$SLURM_CONF" <<EOF
ClusterName=aicontest
FirstJobId=$FIRST_JOB_ID
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: also how long a requeued job waits before it may start again (default 120 s)
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=10
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
TmpFS=$T/tmp
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=10 State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
SLURMCTLD_PID=$!
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
SLURMD_PID=$!

# The node is up when sinfo shows it idle (at most 30 s).
state=""
for _ in $(seq 1 60); do
    kill -0 "$SLURMCTLD_PID" 2>/dev/null || fail "slurmctld exited at start"
    kill -0 "$SLURMD_PID" 2>/dev/null || fail "slurmd exited at start"
    state=$(sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "node $NODE is not idle after 30 s (sinfo: '${state}')"
echo "slurm up: node $NODE idle, slurmctld port $CTLD_PORT, slurmd port $SLURMD_PORT"

# The example scripts as a user would submit them: the binary and data through the environment,
# aicon's own flags after the script. The one-node script starts its ranks with srun (PMIx); the
# several-node one, on this single node, with mpirun inside the allocation.
export AICON AICON_DATA=$DATA/train.h5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
train_args=(--model mlp --test-data "$DATA/test.h5" --epochs "$EPOCHS" --batch 32 --seed 7)
submit() { # submit LAUNCHER SCRIPT SBATCH_ARGS...: prints the job id (train_args: aicon's flags)
    local launcher=$1 script=$2 id
    shift 2
    id=$(cd "$T/job" && AICON_LAUNCHER=$launcher sbatch --parsable --time=5 "$@" \
        "$EXAMPLES/$script" "${train_args[@]}") || fail "sbatch $script failed"
    echo "${id%%;*}"
}
job_srun=$(submit srun train_one_node.sbatch)
job_mpirun=$(submit mpirun train_multi_node.sbatch --nodes=1 --ntasks-per-node=2 --cpus-per-task=1)
echo "submitted job $job_srun (train_one_node.sbatch, srun) and $job_mpirun (train_multi_node.sbatch, mpirun)"

job_state() {
    scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'
}
# Both jobs must leave the queue within 120 s (they run one after the other on 2 CPUs).
for _ in $(seq 1 240); do
    busy=0
    for job in $job_srun $job_mpirun; do
        case "$(job_state "$job")" in
        PENDING | CONFIGURING | RUNNING | COMPLETING | "") busy=1 ;;
        esac
    done
    [ $busy = 0 ] && break
    sleep 0.5
done

check_job() { # check_job JOB LAUNCHER: the job completed, trained, and left a sound checkpoint
    local job=$1 launcher=$2 out=$T/job/aicon-$1.out jstate line acc steps ckpt
    ckpt=$(printf '%s/job/aicon-%s.ckpt/ckpt-step-%08d.h5' "$T" "$1" "$STEPS")
    jstate=$(job_state "$job")
    echo "--- job $job output ($out):"
    cat "$out" 2>/dev/null || true
    echo "---"
    case "$jstate" in
    COMPLETED) ;;
    PENDING | CONFIGURING | RUNNING | COMPLETING) fail "job $job still $jstate after 120 s" ;;
    *) scontrol show job "$job" >&2 || true
       fail "job $job ended ${jstate:-in an unknown state}, not COMPLETED" ;;
    esac
    [ -f "$out" ] || fail "job $job wrote no output file $out"
    grep -q "^job $job: 2 ranks on $NODE via $launcher:" "$out" || fail "job $job did not start its ranks with $launcher"
    line=$(grep -E '^test accuracy [0-9.]+ .* after [0-9]+ steps on 2 ranks' "$out" | tail -n 1) ||
        fail "job $job printed no 'test accuracy ... on 2 ranks' line"
    acc=$(sed -E 's/^test accuracy ([0-9.]+) .*/\1/' <<<"$line")
    steps=$(sed -E 's/.* after ([0-9]+) steps .*/\1/' <<<"$line")
    [ "$steps" = "$STEPS" ] || fail "job $job trained $steps steps, expected $STEPS"
    awk -v a="$acc" -v m="$MIN_ACCURACY" 'BEGIN { exit !(a > m) }' ||
        fail "job $job: test accuracy $acc is not above $MIN_ACCURACY"
    [ -f "$ckpt" ] || fail "job $job wrote no checkpoint $ckpt"
    "${PY[@]}" - "$ckpt" "$STEPS" <<'PYEOF' || fail "job $job: the checkpoint $ckpt does not hold the trained model"
import sys

import h5py

path, steps = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    assert "params" in f and len(f["params"]) > 0, "no /params group with parameters"
    step = int(f["state/step"][()])
    assert step == steps, f"/state/step is {step}, expected {steps}"
    print(f"checkpoint {path}: {len(f['params'])} parameter tensors, step {step}")
PYEOF
    echo "job $job: COMPLETED, test accuracy $acc after $steps steps"
}
check_job "$job_srun" srun
check_job "$job_mpirun" mpirun

# Requeue. lenet, 2 epochs of 2048 samples at 2 x 32: 64 steps, about 5 s on 2 CPUs; a metrics
# record every step tells when it is under way.
train_args=(--model lenet --test-data "$DATA/test.h5" --epochs 2 --batch 32 --seed 7 --log-every 1)
job_ref=$(submit mpirun train_one_node.sbatch)
job_rq_mpirun=$(submit mpirun train_one_node.sbatch)
echo "submitted job $job_ref (left alone) and $job_rq_mpirun (mpirun, to be requeued)"
summary_field() { # summary_field JOB KEY
    "${PY[@]}" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/job/aicon-$1.json" "$2"
}
wait_done() { # wait_done JOB: until it left the queue (at most 120 s)
    for _ in $(seq 1 240); do
        case "$(job_state "$1")" in
        PENDING | CONFIGURING | RUNNING | COMPLETING | REQUEUED | "") sleep 0.5 ;;
        *) return 0 ;;
        esac
    done
    fail "job $1 still $(job_state "$1") after 120 s"
}
requeue_once() { # requeue_once JOB LAUNCHER: signal it 5 steps in, then it must requeue and finish
    local job=$1 launcher=$2 out=$T/job/aicon-$1.out records=0 n jstate
    for _ in $(seq 1 240); do # it starts once the jobs before it are done
        [ -f "$T/job/aicon-$job.jsonl" ] && records=$(wc -l <"$T/job/aicon-$job.jsonl")
        [ "$records" -ge 5 ] && break
        sleep 0.25
    done
    [ "$records" -ge 5 ] || fail "job $job wrote no 5 metrics records within 60 s ($(job_state "$job"))"
    echo "+ scancel --signal=USR1 --batch $job   ($records steps done)"
    scancel --signal=USR1 --batch "$job"
    wait_done "$job"
    wait_done "$job_ref"
    [ "$(job_state "$job_ref")" = COMPLETED ] || fail "job $job_ref, left alone, ended $(job_state "$job_ref")"
    jstate=$(job_state "$job")
    echo "--- job $job output ($out):"
    cat "$out"
    echo "---"
    [ "$jstate" = COMPLETED ] || fail "job $job ended $jstate after its requeue, not COMPLETED"
    scontrol show job "$job" | grep -q "Restarts=1" || fail "job $job was not requeued once: $(scontrol show job "$job")"
    n=$(sed -nE 's/^stopped by SIGUSR1 at step ([0-9]+) of 64; checkpoint .*/\1/p' "$out")
    [ -n "$n" ] || fail "job $job: no 'stopped by SIGUSR1 at step N of 64' line"
    [ "$n" -lt 64 ] || fail "job $job stopped only at its last step: the test proves nothing"
    grep -q "^job $job: aicon stopped with a checkpoint in .*: requeueing" "$out" || fail "job $job did not requeue itself"
    grep -q "^resuming from $T/job/aicon-$job.ckpt/$(printf 'ckpt-step-%08d.h5' "$n") at step $n" "$out" ||
        fail "job $job did not resume from its step-$n checkpoint"
    grep -q "^job $job: 2 ranks on $NODE via $launcher:" "$out" || fail "job $job did not start its ranks with $launcher"
    [ "$(summary_field "$job" steps)" = 64 ] || fail "job $job ended after $(summary_field "$job" steps) steps, not 64"
    [ "$(summary_field "$job" params_sha256)" = "$(summary_field "$job_ref" params_sha256)" ] ||
        fail "job $job, stopped at step $n and requeued, ended with other parameters than job $job_ref"
    echo "job $job ($launcher): SIGUSR1 at step $n, requeued, resumed, 64 steps: parameters bitwise equal to job $job_ref"
}
requeue_once "$job_rq_mpirun" mpirun
# Submitted only now: it would otherwise run while the first one waits to start again.
job_rq_srun=$(submit srun train_one_node.sbatch)
echo "submitted job $job_rq_srun (srun, to be requeued)"
requeue_once "$job_rq_srun" srun
echo "PASS"
