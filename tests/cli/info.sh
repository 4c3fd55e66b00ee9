#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon info and --bind: each rank's binding as the kernel sees it, from inside (sched_getaffinity,
# reported by aicon info) and from outside (/proc/PID/task/*/status of a running aicon train, every
# thread, BLAS pool included); --bind none keeps the launcher's binding; --json holds every rank;
# the versions are those linked; a bad --bind exits 2 naming the flag.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cores=$("${PY[@]}" -c 'import os; print(len(os.sched_getaffinity(0)))')
[ "$cores" -ge 2 ] || { echo "SKIP: this test needs 2 CPUs, the process may use $cores"; exit 77; }

BASE_MPIRUN=("${MPIRUN[@]}")
# check LOG PYTHON: run PYTHON with `j` the parsed JSON of LOG.out (asserts raise).
check() {
    "${PY[@]}" - "$WORK/$1.out" "$2" <<'EOF' || fail "$1: the checks above failed"
import json, sys
j = json.load(open(sys.argv[1]))
def cpus(text):
    out = set()
    for part in (text or "").split(","):
        if part:
            a, _, b = part.partition("-")
            out |= set(range(int(a), int(b or a) + 1))
    return out
ranks = j["ranks"]
assert j["world_size"] == len(ranks) == 2, f"world_size {j['world_size']}, {len(ranks)} rank entries"
assert sorted(r["rank"] for r in ranks) == [0, 1], ranks
for r in ranks:
    assert cpus(r["cpus"]), f"rank {r['rank']}: empty cpus"
exec(sys.argv[2])
print(f"{sys.argv[1]}: ok")
EOF
}

# --bind core, launcher not binding: two disjoint non-empty sets, the kernel's equal to aicon's plan.
MPIRUN=("${BASE_MPIRUN[@]}" --bind-to none)
aicon_np 2 core info --json --bind core
check core '
a, b = (cpus(r["cpus"]) for r in ranks)
assert not (a & b), f"core binding overlaps: {a} {b}"
for r in ranks:
    assert r["applied"] == "core", r
    assert r["cpus"] == r["planned_cpus"], ("kernel != planned", r)
'
# --bind none without a launcher binding: the whole allowed set, as this shell has it.
aicon_np 2 none_free info --json --bind none
check none_free '
import os
mine = set(os.sched_getaffinity(0))
for r in ranks:
    assert r["applied"] == "none" and cpus(r["cpus"]) == mine == cpus(r["launcher_cpus"]), (r, mine)
'
# auto, launcher not binding: auto splits like core.
aicon_np 2 auto_free info --json
check auto_free '
a, b = (cpus(r["cpus"]) for r in ranks)
assert not (a & b) and all(r["applied"] == "core" for r in ranks), ranks
'

# Open MPI bound to cores: --bind none and auto both keep that binding (one core each).
MPIRUN=("${BASE_MPIRUN[@]}" --bind-to core)
aicon_np 2 none_core info --json --bind none
check none_core '
for r in ranks:
    assert r["applied"] == "none" and r["cpus"] == r["launcher_cpus"], r
    assert r["cores"] == 1, ("mpirun --bind-to core gave more than one core", r)
assert not (cpus(ranks[0]["cpus"]) & cpus(ranks[1]["cpus"])), ranks
'
aicon_np 2 auto_core info --json
check auto_core '
for r in ranks:
    assert r["applied"] == "launcher" and r["cpus"] == r["launcher_cpus"], r
'
MPIRUN=("${BASE_MPIRUN[@]}")

# Versions: the MPI and HDF5 actually linked; GPU libraries null in a build without CUDA.
ompi=$(ompi_info --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -1 || true)
h5=$("${PY[@]}" -c 'import h5py; print(h5py.version.hdf5_version)')
check core "
v = j['versions']
assert '$ompi' in v['mpi'], f\"MPI {v['mpi']} does not name Open MPI $ompi\"
assert v['hdf5'] == '$h5', f\"HDF5 {v['hdf5']}, h5py links $h5\"
assert v['hwloc'] and v['openblas'].startswith('OpenBLAS'), v
if not j['cuda_built']:
    assert all(v[k] is None for k in ('cuda_runtime', 'cuda_driver', 'cudnn', 'cublas', 'nccl')), v
    assert j['gpus'] == [] and all(r['gpu'] is None for r in ranks), j
t = j['topology']
assert t['cores'] >= 2 and t['pus'] >= t['cores'] and t['numa_nodes'] >= 1 and t['packages'] >= 1, t
"

# The text report: one line per rank, the versions block.
aicon_np 2 text info --bind core
for want in "rank 0: host" "rank 1: host" "bound: core" "MPI:" "NCCL:" "topology of"; do
    grep -qF -- "$want" "$WORK/text.out" || { cat "$WORK/text.out"; fail "aicon info lacks '$want'"; }
done
grep -qE "^ *HDF5: +${h5//./\\.}\$" "$WORK/text.out" || fail "aicon info: no line 'HDF5: $h5'"

# One plain process (no mpirun) works too.
timeout -k 5 30 "$AICON" info --json >"$WORK/single.out" 2>"$WORK/single.err" || { cat "$WORK/single.err"; fail "aicon info alone"; }
"${PY[@]}" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["world_size"]==1 and len(j["ranks"])==1, j' \
    "$WORK/single.out" || fail "aicon info alone: JSON"

# A bad --bind: exit 2 naming the flag and the value, alone and under mpirun, for info and train.
for cmd in info train; do
    rc=0
    timeout -k 5 30 "$AICON" $cmd --bind socket >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
    [ $rc -eq 2 ] || fail "aicon $cmd --bind socket exited $rc, want 2"
    grep -q -- "--bind.*'socket'" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "aicon $cmd --bind socket: no message naming --bind"; }
done
rc=0
timeout -k 10 60 "${MPIRUN[@]}" -np 2 "$AICON" info --bind socket >"$WORK/badnp.out" 2>"$WORK/badnp.err" || rc=$?
[ $rc -ne 0 ] || fail "mpirun -np 2 aicon info --bind socket exited 0"
[ "$(grep -c -- "--bind" "$WORK/badnp.err")" -eq 1 ] || { cat "$WORK/badnp.err"; fail "want one message naming --bind"; }

# From outside: a running aicon train --bind core (launcher not binding, BLAS pool started before
# the binding) has every thread of each rank inside that rank's set, and the sets are disjoint.
unset OPENBLAS_NUM_THREADS
echo "+ mpirun --bind-to none -np 2 aicon train --bind core --verbose (watched from /proc)"
timeout -k 10 "$RUN_TIMEOUT" "${BASE_MPIRUN[@]}" --bind-to none -np 2 "$AICON" train --model mlp --data "$DATA/train.h5" \
    --test-data "$DATA/test.h5" --epochs 100000 --bind core --verbose --summary "$WORK/run.json" \
    >"$WORK/train.out" 2>"$WORK/train.err" &
launcher=$!
for _ in $(seq 200); do
    grep -q "^epoch 1/" "$WORK/train.out" 2>/dev/null && break
    sleep 0.1
done
grep -q "^epoch 1/" "$WORK/train.out" || { kill "$launcher" 2>/dev/null || true; cat "$WORK/train.out" "$WORK/train.err"; fail "train did not start an epoch"; }
aicon_exe=$(readlink -f "$AICON")
: >"$WORK/threads.txt"
ranks=()
for pid in $(pgrep -f -- "$WORK/run.json"); do
    [ "$(readlink -f /proc/$pid/exe 2>/dev/null)" = "$aicon_exe" ] || continue
    ranks+=("$pid")
    for st in /proc/$pid/task/*/status; do
        echo "$pid $(sed -n 's/^Cpus_allowed_list:\s*//p' "$st" 2>/dev/null)" >>"$WORK/threads.txt"
    done
done
# End the ranks themselves (mpirun then exits), then the launcher should it linger.
kill "${ranks[@]}" 2>/dev/null || true
for _ in $(seq 100); do
    kill -0 "$launcher" 2>/dev/null || break
    sleep 0.1
done
kill "$launcher" 2>/dev/null || true
wait "$launcher" 2>/dev/null || true
cat "$WORK/threads.txt"
grep "^rank" "$WORK/train.out" || true
"${PY[@]}" - "$WORK/threads.txt" "$WORK/train.out" <<'EOF' || fail "the kernel's view of the running ranks disagrees with --bind core"
import re, sys
per_pid = {}
for line in open(sys.argv[1]):
    pid, _, cpus = line.strip().partition(" ")
    if cpus:
        per_pid.setdefault(pid, set()).add(cpus)
assert len(per_pid) == 2, f"want 2 aicon processes, found {per_pid}"
for pid, sets in per_pid.items():
    assert len(sets) == 1, f"pid {pid}: threads on different CPU sets {sets}"
seen = sorted(next(iter(s)) for s in per_pid.values())
printed = sorted(re.findall(r"-> core, CPUs (\S+)", open(sys.argv[2]).read()))
assert len(set(seen)) == 2, f"both ranks on {seen}"
assert seen == printed, f"kernel {seen}, aicon printed {printed}"
print("running ranks bound as printed:", seen)
EOF
assert_no_leftover_processes
echo "PASS"
