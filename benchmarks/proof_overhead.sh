#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What a proof log costs (aicon train --proof, docs/verify.md), and what checking it costs.
#
# usage: benchmarks/proof_overhead.sh [BUILD_DIR]     (BUILD_DIR: an aicon build, default build/)
#
# For lenet (Fashion-MNIST, batch 64) and the small GPT (README's: 4 layers, width 128, windows of
# 128 bytes of Debian's fortunes, batch 16, AdamW) on RANKS ranks of one thread, runs the same job
# with and without --proof DIR --proof-every EVERY, interleaved REPS times, and prints the median
# samples/s of each (train_samples_per_sec from --summary), their ratio and the overhead. Then
# `aicon verify` of each model's last log at --fraction 0.05 and 1: what it replayed, and the seconds.
#
# Environment: REPS=3, STEPS_LENET=300, STEPS_GPT=200, EVERY=100 (--proof-every's default; 10
# gives the verify lines more segments to choose from), RANKS=2 (1: a rank's gradient buckets and
# their digests have the second core to themselves, as on a machine with cores to spare).
# A benchmark, not a test: nothing fails on a slow number.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
AICON=$BUILD/aicon
[ -x "$AICON" ] || { echo "proof_overhead.sh: no aicon in $BUILD" >&2; exit 2; }
REPS=${REPS:-3} EVERY=${EVERY:-100}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicon-proof-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun --oversubscribe --bind-to none -np "${RANKS:-2}")

"$AICON" tokenize --bytes /usr/share/games/fortunes/*.u8 -o "$WORK/fortunes.bin" >/dev/null
lenet=(train --model lenet --batch 64 --max-steps "${STEPS_LENET:-300}" --threads 1 --seed 3 --epochs 1)
gpt=(train --task lm --data "$WORK/fortunes.bin" --layers 4 --heads 4 --dim 128 --seq-len 128 --batch 16
     --optimizer adamw --lr 2e-3 --max-steps "${STEPS_GPT:-200}" --threads 1 --seed 3 --epochs 1)

rate() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["train_samples_per_sec"])' "$1"; }
median() { tr ' ' '\n' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-6s %14s %14s %7s %9s\n' model "plain (s/s)" "--proof (s/s)" ratio overhead
for model in lenet gpt; do
    declare -n args=$model
    plain="" proof=""
    for rep in $(seq 1 "$REPS"); do
        "${MPI[@]}" "$AICON" "${args[@]}" --quiet --summary "$WORK/plain.json" >/dev/null
        plain="$plain $(rate "$WORK/plain.json")"
        rm -rf "$WORK/$model-proof"
        "${MPI[@]}" "$AICON" "${args[@]}" --quiet --summary "$WORK/proof.json" --proof "$WORK/$model-proof" \
            --proof-every "$EVERY" >/dev/null
        proof="$proof $(rate "$WORK/proof.json")"
    done
    p=$(echo $plain | median) q=$(echo $proof | median)
    /usr/bin/python3 -c "import sys; p, q = float(sys.argv[1]), float(sys.argv[2]); \
print(f'{sys.argv[3]:<6} {p:14.1f} {q:14.1f} {q / p:7.3f} {100 * (1 - q / p):8.1f}%')" "$p" "$q" "$model"
done
echo
for model in lenet gpt; do
    for f in 0.05 1; do
        start=$(date +%s.%N)
        line=$("${MPI[@]}" "$AICON" verify "$WORK/$model-proof" --fraction "$f" --seed 1 2>&1 |
               grep -E '^(verified|aicon verify)' || true)
        /usr/bin/python3 -c "import sys; print(f'{sys.argv[1]} verify --fraction {sys.argv[2]}: {sys.argv[3]} \
({float(sys.argv[5]) - float(sys.argv[4]):.1f} s with start-up)')" "$model" "$f" "$line" "$start" "$(date +%s.%N)"
    done
done
