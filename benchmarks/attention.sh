#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Attention on one CPU thread: aicon's fused aic_attention and its batched aic_matmul path (transpose,
# matmul, scale, causal mask, softmax, matmul) against PyTorch 1.13's matmul-softmax-matmul, and the
# batched MatMul alone (bmm: attention's two products at its shapes) against torch.matmul, forward and
# backward, at GPT-small's shape by default (batch 8, T 256, 12 heads of 64, causal).
#
# usage: benchmarks/attention.sh [BUILD_DIR]     (BUILD_DIR: an aicon build, default build/)
#
# Runs BUILD_DIR/benchmarks/attention (benchmarks/attention.c) and its PyTorch peer,
# benchmarks/pytorch_attention.py, REPS times each, interleaved, with OMP_NUM_THREADS=1,
# OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1). Every run reports each pass's best time over
# ITERS iterations; the table gives the best over the runs and the ratio aicon/PyTorch (below 1:
# aicon faster). Both sides time the process's CPU time, not the wall clock, so that other work on
# the machine does not count against whichever run it meets; it still shares the caches and memory
# bandwidth, so the 1-minute load average before each run is printed: prefer figures at a low load.
#
# Environment: BATCH=8 SEQ=256 HEADS=12 DIM=64 CAUSAL=1 ITERS=5 REPS=3
# A benchmark, not a test: nothing fails on a slow number.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
BENCH=$BUILD/benchmarks/attention
if [ ! -x "$BENCH" ]; then
    echo "attention.sh: no $BENCH (build with: cmake -S . -B build && cmake --build build -j)" >&2
    exit 2
fi
PY=/usr/bin/python3
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "attention.sh: $PY needs torch (Debian: python3-torch)" >&2
    exit 2
fi
ARGS=(--batch "${BATCH:-8}" --seq "${SEQ:-256}" --heads "${HEADS:-12}" --dim "${DIM:-64}"
      --causal "${CAUSAL:-1}" --iters "${ITERS:-5}")
REPS=${REPS:-3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for ((r = 1; r <= REPS; r++)); do
    echo "run $r/$REPS, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    "$BENCH" "${ARGS[@]}" >>"$OUT"
    "$PY" "$ROOT/benchmarks/pytorch_attention.py" "${ARGS[@]}" --threads 1 >>"$OUT"
done

echo "attention ${ARGS[*]}, one thread, best of $REPS runs x ${ITERS:-5} iterations (ms)"
awk '
    { key = $1 " " $2; if (!(key in best) || $3 < best[key]) best[key] = $3 }
    END {
        printf "%-8s  %8s %8s %8s  %8s %12s  %s\n", "pass", "fused", "matmul", "pytorch", "bmm", "pytorch bmm",
               "aicon/pytorch: fused, matmul; bmm"
        split("forward backward", passes, " ")
        for (i = 1; i <= 3; i++) {
            p = i < 3 ? passes[i] : "both"
            f = i < 3 ? best["fused " p] : best["fused forward"] + best["fused backward"]
            m = i < 3 ? best["matmul " p] : best["matmul forward"] + best["matmul backward"]
            t = i < 3 ? best["pytorch " p] : best["pytorch forward"] + best["pytorch backward"]
            b = i < 3 ? best["bmm " p] : best["bmm forward"] + best["bmm backward"]
            u = i < 3 ? best["pytorch_bmm " p] : best["pytorch_bmm forward"] + best["pytorch_bmm backward"]
            printf "%-8s  %8.2f %8.2f %8.2f  %8.2f %12.2f  %.2f, %.2f; %.2f\n", p, f, m, t, b, u, f / t, m / t, b / u
        }
    }' "$OUT"
