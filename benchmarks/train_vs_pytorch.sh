#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Training throughput, aicon against PyTorch, on this machine's CPU.
#
# usage: benchmarks/train_vs_pytorch.sh [BUILD_DIR]     (BUILD_DIR: an aicon build, default build/)
#
# For model in mlp lenet gpt and world in 1 2, runs
#   mpirun --oversubscribe -np W BUILD_DIR/aicon train --model M --batch 64 --threads 1
#          --max-steps S --quiet --summary F
# on Fashion-MNIST (train_samples_per_sec from the summary: global samples per second of the
# training loop, evaluation excluded) and the PyTorch peer, benchmarks/pytorch_train.py, with the
# same model, batch per rank, threads per rank and world (DDP over gloo), timed over the same S
# steps (10 iterations of S/10 batches). gpt is the small GPT of the language-model example (4
# layers, 4 heads, width 256, windows of 128 bytes, batch 8 per rank, AdamW with weight decay on
# matrices and clipping at norm 1: aicon train --task lm on the fortunes corpus, which aicon
# tokenize makes a byte shard of) and counts tokens/s, train_tokens_per_sec. Each pair runs REPS times, interleaved; the table gives
# medians (min-max), the ratio aicon/PyTorch of the medians, and each framework's 2-rank scaling
# efficiency, samples/s at 2 ranks / (2 x samples/s at 1 rank). The peer sets glibc's malloc to keep
# what it frees (see pytorch_train.py; aicon allocates its buffers once).
#
# Environment:
#   REPS=3                      repetitions of each run
#   MODELS="mlp lenet gpt"      the models measured
#   STEPS_MLP=3000 STEPS_LENET=120 STEPS_GPT=60
#                               S per model: about 10 s of training per aicon run on an idle
#                               2-core machine (each run takes 10-20 s with start-up and evaluation)
#   AICON_BENCH_MAX_LOAD=0.6    before each (model, world) block, wait until the 1-minute load
#                               average is below this (polled every 20 s, for at most
#                               AICON_BENCH_MAX_WAIT=1200 s; then runs anyway). Unset: no wait.
#                               The load at the start of each block is in the table either way.
# Needs Open MPI, the Fashion-MNIST IDX files aicon train reads by default, and Debian's
# /usr/bin/python3 with torch (gloo backend) and numpy. A benchmark, not a test: nothing fails
# on a slow number.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
if ! BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || [ ! -x "$BUILD/aicon" ]; then
    echo "train_vs_pytorch.sh: no aicon executable in ${1:-$ROOT/build}" \
         "(build with: cmake -S . -B build && cmake --build build -j)" >&2
    exit 2
fi
AICON=$BUILD/aicon
PY=/usr/bin/python3
PEER=$ROOT/benchmarks/pytorch_train.py
REPS=${REPS:-3}
STEPS_MLP=${STEPS_MLP:-3000}
STEPS_LENET=${STEPS_LENET:-120}
STEPS_GPT=${STEPS_GPT:-60}
MODELS=${MODELS:-mlp lenet gpt}
GPT_SIZES=(--layers 4 --heads 4 --dim 256 --seq-len 128)
MAX_LOAD=${AICON_BENCH_MAX_LOAD:-}
MAX_WAIT=${AICON_BENCH_MAX_WAIT:-1200}
BATCH=64
THREADS=1

if ! "$PY" -c 'import numpy, torch.distributed as d; assert d.is_available() and d.is_gloo_available()' 2>/dev/null; then
    echo "train_vs_pytorch.sh: $PY needs numpy and torch with the gloo backend (Debian: python3-torch)" >&2
    exit 2
fi
command -v mpirun >/dev/null || { echo "train_vs_pytorch.sh: no mpirun on PATH" >&2; exit 2; }
if [ "$EUID" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
RESULTS=$TMP/results.tsv   # model world steps load1 framework rep samples_per_sec
: >"$RESULTS"

load1() { cut -d' ' -f1 /proc/loadavg; }

# Waits (if AICON_BENCH_MAX_LOAD is set) until the 1-minute load average is below it.
wait_for_quiet() {
    [ -n "$MAX_LOAD" ] || return 0
    local waited=0
    while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l >= m) }'; do
        if [ "$waited" -ge "$MAX_WAIT" ]; then
            echo "  load $(load1) still >= $MAX_LOAD after ${waited} s; measuring anyway" >&2
            return 0
        fi
        [ "$waited" -eq 0 ] && echo "  waiting for the 1-minute load ($(load1)) to drop below $MAX_LOAD" >&2
        sleep 20
        waited=$((waited + 20))
    done
}

# The language model's flags (aicon train) and its rate's key in the summary and in the peer's line.
model_args() { # model -> aicon train flags
    if [ "$1" = gpt ]; then
        # --bucket-kb 25600: DDP's bucket_cap_mb of 25, the setting PyTorch runs with (one bucket for
        # this 13 MB of gradients; aicon's 256 KB default suits LeNet, and on 2 shared cores its
        # overlap thread costs this model more than it hides)
        echo --task lm --data "$TMP/fortunes.bin" "${GPT_SIZES[@]}" --batch 8 --optimizer adamw --lr 3e-4 \
            --weight-decay 0.1 --decay-matrices-only --clip-grad-norm 1 --bucket-kb 25600
    else
        echo --model "$1" --batch $BATCH
    fi
}

run_aicon() { # model world steps -> samples/s (gpt: tokens/s)
    local summary=$TMP/summary.json key=train_samples_per_sec
    [ "$1" = gpt ] && key=train_tokens_per_sec
    rm -f "$summary"
    # shellcheck disable=SC2046 # model_args gives words
    mpirun --oversubscribe -np "$2" "$AICON" train $(model_args "$1") --threads $THREADS \
        --epochs 1000 --max-steps "$3" --quiet --summary "$summary" >"$TMP/aicon.log" 2>&1 ||
        { cat "$TMP/aicon.log" >&2; return 1; }
    "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$summary" "$key"
}

run_pytorch() { # model world steps -> samples/s (gpt: tokens/s)
    local batch=$BATCH key=samples_per_sec_mean
    [ "$1" = gpt ] && batch=8 key=tokens_per_sec_mean
    "$PY" "$PEER" --model "$1" --world "$2" --batch $batch --threads $THREADS "${GPT_SIZES[@]}" \
        --lr 3e-4 --iters 10 --batches-per-iter $(( ($3 + 9) / 10 )) >"$TMP/pytorch.log" 2>"$TMP/pytorch.err" ||
        { cat "$TMP/pytorch.err" >&2; return 1; }
    "$PY" -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])[sys.argv[2]])' \
        "$TMP/pytorch.log" "$key"
}

echo "aicon: $AICON ($("$AICON" --version 2>/dev/null | head -1 || echo '?'))" >&2
echo "PyTorch: $("$PY" -c 'import torch; print(torch.__version__)'), $(nproc) cores" >&2
if [[ " $MODELS " == *" gpt "* ]]; then
    ls /usr/share/games/fortunes/*.u8 >/dev/null || { echo "train_vs_pytorch.sh: gpt needs Debian's fortunes" >&2; exit 2; }
    "$AICON" tokenize --bytes /usr/share/games/fortunes/*.u8 -o "$TMP/fortunes.bin" >/dev/null
fi
for model in $MODELS; do
    case $model in mlp) steps=$STEPS_MLP ;; lenet) steps=$STEPS_LENET ;; *) steps=$STEPS_GPT ;; esac
    for world in 1 2; do
        wait_for_quiet
        load=$(load1)
        echo "$model x $world rank(s), $steps steps, load $load" >&2
        for rep in $(seq 1 "$REPS"); do
            a=$(run_aicon "$model" "$world" "$steps")
            p=$(run_pytorch "$model" "$world" "$steps")
            printf '%s\t%s\t%s\t%s\taicon\t%s\t%s\n' "$model" "$world" "$steps" "$load" "$rep" "$a" >>"$RESULTS"
            printf '%s\t%s\t%s\t%s\tpytorch\t%s\t%s\n' "$model" "$world" "$steps" "$load" "$rep" "$p" >>"$RESULTS"
            printf '  rep %s: aicon %.0f  pytorch %.0f %s\n' "$rep" "$a" "$p" "$([ "$model" = gpt ] && echo tokens/s || echo samples/s)" >&2
        done
    done
done

"$PY" - "$RESULTS" "$BATCH" "$THREADS" <<'EOF'
import statistics, sys
from collections import defaultdict

path, batch, threads = sys.argv[1], sys.argv[2], sys.argv[3]
runs, meta = defaultdict(list), {}
for line in open(path):
    model, world, steps, load, fw, rep, sps = line.split("\t")
    runs[(model, int(world), fw)].append(float(sps))
    meta[(model, int(world))] = (steps, load)

def med(k):
    return statistics.median(runs[k])

def cell(k):
    v = runs[k]
    return "%.0f (%.0f-%.0f)" % (med(k), min(v), max(v))

print("samples/s (gpt: tokens/s), global (all ranks); batch %s per rank (gpt: 8 x 128 tokens), %s thread per "
      "rank; median (min-max) of %d runs" % (batch, threads, max(len(v) for v in runs.values())))
print("%-6s %5s %6s %6s  %-24s %-24s %13s" % ("model", "world", "steps", "load1",
      "aicon", "pytorch", "aicon/pytorch"))
for (model, world), (steps, load) in meta.items():
    a, p = (model, world, "aicon"), (model, world, "pytorch")
    print("%-6s %5d %6s %6s  %-24s %-24s %13.2f" % (model, world, steps, load, cell(a), cell(p),
                                                     med(a) / med(p)))
print()
print("2-rank scaling efficiency, samples/s at 2 ranks / (2 x 1 rank), of the medians")
print("%-6s %8s %8s" % ("model", "aicon", "pytorch"))
for model in dict.fromkeys(m for m, _ in meta):
    eff = [med((model, 2, fw)) / (2 * med((model, 1, fw))) for fw in ("aicon", "pytorch")]
    print("%-6s %8.2f %8.2f" % (model, eff[0], eff[1]))
EOF
