#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# How often a random audit catches tampering: a 2-rank mlp job of 100 steps in 50 segments of 2
# (aicon train --proof DIR --proof-every 2) has 20% of its segments tampered with (10 chosen with a
# fixed seed: rank 1's first digest in each replaced, as a rank that skipped or faked its work
# would report, the Merkle root made to match); `aicon verify --fraction 0.1` (5 segments) runs
# with verifier seeds 1..N and the share of runs that fail is printed beside the exact chance,
# 1 - C(40, 5) / C(50, 5) = 0.689.
#
# usage: benchmarks/proof_catch_rate.sh [BUILD_DIR]    N=100 (verifier seeds)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
AICON=$BUILD/aicon
DATA=$BUILD/tests/cli-data
[ -f "$DATA/train.h5" ] || { echo "proof_catch_rate.sh: $DATA/train.h5 is missing (ctest -R cli_data makes it)" >&2; exit 2; }
N=${N:-100}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicon-catch-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun --oversubscribe --bind-to none -np 2)

"${MPI[@]}" "$AICON" train --model mlp --batch 32 --max-steps 100 --seed 7 --threads 1 --data "$DATA/train.h5" \
    --proof "$WORK/p" --proof-every 2 --quiet >/dev/null
/usr/bin/python3 - "$WORK/p/proof.log" <<'PY'
import random, sys
path = sys.argv[1]
lines = open(path).read().splitlines(keepends=True)
bad = set(random.Random(2026).sample(range(50), 10))  # segments 0..49: steps 2k+1, 2k+2
out = []
for line in lines:
    f = line.split()
    if f[0] == "grad" and f[2] == "1" and (int(f[1]) - 1) % 2 == 0 and (int(f[1]) - 1) // 2 in bad:
        line = f"grad {f[1]} 1 {'f' * 8}{f[3][8:]}\n"
    out.append(line)
open(path, "w").writelines(out)
print("tampered segments:", " ".join(str(s + 1) for s in sorted(bad)))
PY
/usr/bin/python3 "$ROOT/tests/cli/proof_tamper.py" reroot "$WORK/p/proof.log"
caught=0
for seed in $(seq 1 "$N"); do
    rc=0
    "${MPI[@]}" "$AICON" verify "$WORK/p" --fraction 0.1 --seed "$seed" >"$WORK/v.out" 2>&1 || rc=$?
    case $rc in
        0) ;;
        1) grep -q "FAILED in segment" "$WORK/v.out" && caught=$((caught + 1)) ||
               { cat "$WORK/v.out"; exit 1; } ;;
        *) cat "$WORK/v.out"; exit 1 ;;
    esac
done
/usr/bin/python3 -c "
from math import comb
import sys
c, n = int(sys.argv[1]), int(sys.argv[2])
print(f'caught {c} of {n} audits ({c / n:.2f}); exact chance {1 - comb(40, 5) / comb(50, 5):.3f}')" "$caught" "$N"
