#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Training throughput the way Horovod's synthetic benchmark measures it, aicon beside PyTorch in the
# same run, on this machine's CPU.
#
# usage: benchmarks/train.sh [BUILD_DIR] [MODEL...]   (BUILD_DIR: an aicon build, default build/;
#                                                       MODELs: mlp lenet resnet18 resnet50, default all)
#
# For each model and world size 1 and 2: synthetic data (benchmarks/synthetic_data.py: uniform
# inputs of the model's shape and labels, from a seed; 1x28x28 for mlp and lenet, 3x32x32 for the
# ResNets, which are torchvision's, exported to ONNX by benchmarks/pytorch_train.py --export-onnx so
# that aicon trains the same network from the same initial weights), WARMUP untimed steps, then 10
# iterations of 10 timed steps. aicon is timed from its --timeline trace
# (benchmarks/train_timeline.py), PyTorch 1.13 by benchmarks/pytorch_train.py (DDP over gloo at 2
# ranks), with the same model, batch per rank, threads per rank and world. Reported: samples/s per
# rank, mean +- 1.96 sigma over the iterations; the ratio aicon/PyTorch of the means; each
# framework's 2-rank scaling efficiency (per-rank samples/s at 2 ranks over 1 rank's); and the share
# of aicon's gradient allreduce time hidden behind its backward pass (from the trace).
#
# Environment: THREADS=1 (BLAS/torch threads per rank), WARMUP=5, OUT=DIR (keep the traces, the
# JSON lines and the table there; default: a temporary directory, removed). A benchmark, not a
# test: nothing fails on a slow number. Measure on a quiet machine (see `uptime`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
[ $# -gt 0 ] && shift
if ! BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || [ ! -x "$BUILD/aicon" ]; then
    echo "train.sh: no aicon executable in ${BUILD} (build with: cmake -S . -B build && cmake --build build -j)" >&2
    exit 2
fi
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(mlp lenet resnet18 resnet50)
AICON=$BUILD/aicon
PY=/usr/bin/python3
B=$ROOT/benchmarks
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-5}
ITERS=10
PER_ITER=10
STEPS=$((WARMUP + ITERS * PER_ITER + 1)) # the last step's start closes the last iteration

command -v mpirun >/dev/null || { echo "train.sh: no mpirun on PATH" >&2; exit 2; }
"$PY" -c 'import h5py, numpy, torch, torchvision' 2>/dev/null ||
    { echo "train.sh: $PY needs h5py, numpy, torch and torchvision (Debian: python3-h5py python3-torch python3-torchvision)" >&2; exit 2; }
if [ "$EUID" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    TMP=$(cd "$OUT" && pwd)
else
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
fi
RESULTS=$TMP/results.jsonl
: >"$RESULTS"

batch_of() { case $1 in resnet18) echo 32 ;; resnet50) echo 16 ;; *) echo 64 ;; esac; }
shape_of() { case $1 in resnet*) echo 3,32,32 ;; *) echo 1,28,28 ;; esac; }

echo "aicon: $AICON; PyTorch $("$PY" -c 'import torch; print(torch.__version__)'); $(nproc) cores;" \
     "load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for model in "${MODELS[@]}"; do
    batch=$(batch_of "$model")
    shape=$(shape_of "$model")
    data=$TMP/data-${shape//,/x}.h5
    [ -f "$data" ] || "$PY" "$B/synthetic_data.py" "$data" --shape "$shape"
    spec=$model
    if [[ $model == resnet* ]]; then
        spec=$TMP/$model.onnx
        [ -f "$spec" ] || "$PY" "$B/pytorch_train.py" --model "$model" --export-onnx "$spec" 2>/dev/null
    fi
    for world in 1 2; do
        trace=$TMP/$model-$world.trace.json
        echo "$model x $world rank(s), batch $batch, load $(cut -d' ' -f1 /proc/loadavg)" >&2
        mpirun --oversubscribe -np "$world" "$AICON" train --model "$spec" --data "$data" --normalize none \
            --batch "$batch" --threads "$THREADS" --epochs 1000000 --max-steps "$STEPS" --quiet \
            --timeline "$trace" --timeline-steps "$STEPS" >"$TMP/aicon.log" 2>&1 ||
            { cat "$TMP/aicon.log" >&2; exit 1; }
        a=$("$PY" "$B/train_timeline.py" "$trace" --batch "$batch" --warmup "$WARMUP" --iters $ITERS \
            --batches-per-iter $PER_ITER)
        p=$("$PY" "$B/pytorch_train.py" --model "$model" --world "$world" --batch "$batch" --threads "$THREADS" \
            --warmup "$WARMUP" --iters $ITERS --batches-per-iter $PER_ITER 2>"$TMP/pytorch.err" | tail -1) ||
            { cat "$TMP/pytorch.err" >&2; exit 1; }
        printf '{"model":"%s","world":%d,"batch":%d,"aicon":%s,"pytorch":%s}\n' "$model" "$world" "$batch" "$a" "$p" \
            >>"$RESULTS"
    done
done

"$PY" - "$RESULTS" "$THREADS" <<'PYEOF' | tee "$TMP/table.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("samples/s per rank, mean +- 1.96 sigma over 10 iterations of 10 batches; %s thread(s) per rank" % sys.argv[2])
print("%-9s %5s %5s  %-18s %-18s %7s %9s" % ("model", "world", "batch", "aicon", "pytorch", "ratio", "hidden"))
by = {}
for r in rows:
    a, p = r["aicon"], r["pytorch"]
    by[(r["model"], r["world"])] = (a["samples_per_sec_per_rank_mean"], p["samples_per_sec_per_rank_mean"])
    hid = a["allreduce_hidden_share"]
    print("%-9s %5d %5d  %8.1f +- %-6.1f %8.1f +- %-6.1f %6.2fx %9s" % (
        r["model"], r["world"], r["batch"], a["samples_per_sec_per_rank_mean"], a["samples_per_sec_per_rank_ci95"],
        p["samples_per_sec_per_rank_mean"], p["samples_per_sec_per_rank_ci95"],
        a["samples_per_sec_per_rank_mean"] / p["samples_per_sec_per_rank_mean"],
        "-" if hid is None or r["world"] == 1 else "%.0f%%" % (100 * hid)))
print()
print("2-rank scaling efficiency (per-rank samples/s at 2 ranks / at 1 rank)")
print("%-9s %7s %8s" % ("model", "aicon", "pytorch"))
for m in dict.fromkeys(r["model"] for r in rows):
    if (m, 1) in by and (m, 2) in by:
        print("%-9s %7.2f %8.2f" % (m, by[(m, 2)][0] / by[(m, 1)][0], by[(m, 2)][1] / by[(m, 1)][1]))
PYEOF
