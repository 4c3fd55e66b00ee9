#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU acceptance check of aicon's CUDA backend, in one run on a machine with a GPU:
#   1. every op's forward and backward on CUDA against the CPU path (fp32, TF32 off, 1e-5),
#   2. NCCL allreduce correctness (and the ring on device buffers, 1 and 2 ranks), and gradient
#      buckets on the GPU (each bucket's NCCL sum queued while backward is queued): a small MLP
#      trains to the same parameters with 1 KiB buckets as with one sum after backward,
#   3. LeNet on Fashion-MNIST, 3 epochs on the GPU (the default 256 KiB gradient buckets), to at
#      least 90% test accuracy,
#   4. the training throughput (img/s) of a ResNet-50-shaped model on synthetic data at batch 64,
#      beside PyTorch's (eager, fp32, TF32 off on both sides) on the same GPU; target >= 0.9x,
#   5. README's small GPT (4 layers, width 128) on Debian's fortunes: 150 steps on the GPU end within
#      2% of the same 150 steps on the CPU in validation loss, and one epoch on the GPU gives its
#      validation loss and tokens/s.
# Each step checks its own outcome and prints PASS or FAIL; the exit status is 0 only if all pass.
#
# The machine lent for this (an H100/H200 with CUDA, PyTorch and no MPI or HDF5) cannot install
# anything, so the check comes in two halves:
#
#   bash scripts/gpu-check.sh pack
#     here (Debian 12, the CUDA toolkit, cuDNN and NCCL under /usr/local/cuda, no GPU): builds
#     build-cuda (-DAICON_CUDA=ON) and fills .gpucheck/ (git-ignored via .git/info/exclude) with
#       payload.tar.xz  (xz, to fit in the 64 MiB the device tool carries):
#              bin/   aicon, test_ops, test_cuda_ops, test_cuda_allreduce, test_cuda_resnet50,
#              data/fashion-mnist  the four IDX files of Debian's dataset-fashion-mnist package,
#              data/fortunes.bin, fortunes_val.bin  Debian's fortunes as byte tokens (aicon tokenize);
#       debs/  the Debian packages of every runtime library they need that is not CUDA's: those ldd
#              names for the binaries, for Open MPI's orterun/orted and for its plugins, mapped to
#              packages with dpkg -S (Open MPI, PMIx, libevent, hwloc, HDF5, OpenBLAS, libcurl, ...),
#              plus openmpi-bin and openmpi-common; taken from apt's cache or fetched with
#              apt-get download. libc, libgcc and libstdc++ are the machine's own.
#   then run it there with the folder carried, e.g. with the device tool:
#     run(command="bash scripts/gpu-check.sh", carry=[".gpucheck"])
#
#   bash scripts/gpu-check.sh            (on the GPU machine)
#     unpacks the payload, and the debs with dpkg -x, into /tmp/aicon-root (outside /: the system
#     is not touched), points PATH, LD_LIBRARY_PATH and OPAL_PREFIX (Open MPI's relocation) there,
#     adds CUDA's libraries (the toolkit's lib64 and the nvidia-* packages PyTorch brings: cuBLAS,
#     cuDNN, NCCL), and runs the five checks, each under a time limit. The logs are in
#     /tmp/gpu-check, and where $OUT is set (the device tool) packed into $OUT/gpu-check-logs.tar.gz.
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=.gpucheck

pack() {
    set -e
    cmake -S . -B build-cuda -DAICON_CUDA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build-cuda -j"$(nproc)" --target aicon_cli test_ops test_cuda_ops test_cuda_allreduce test_cuda_resnet50
    local stage
    stage=$(mktemp -d)
    rm -rf "$PACK"
    mkdir -p "$PACK/debs" "$stage/bin" "$stage/data/fashion-mnist"
    local exclude
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qx "/$PACK/" "$exclude" 2>/dev/null || echo "/$PACK/" >>"$exclude"
    cp build-cuda/aicon build-cuda/tests/test_ops build-cuda/tests/test_cuda_ops build-cuda/tests/test_cuda_allreduce \
        build-cuda/tests/test_cuda_resnet50 "$stage/bin/"
    ls /usr/share/datasets/fashion-mnist/*-ubyte.gz >/dev/null 2>&1 || {
        echo "pack: /usr/share/datasets/fashion-mnist is missing: apt-get install dataset-fashion-mnist" >&2
        exit 1
    }
    for f in /usr/share/datasets/fashion-mnist/*-ubyte.gz; do
        zcat "$f" >"$stage/data/fashion-mnist/$(basename "$f" .gz)"
    done
    ls /usr/share/games/fortunes/*.u8 >/dev/null 2>&1 || {
        echo "pack: /usr/share/games/fortunes is missing: apt-get install fortunes" >&2
        exit 1
    }
    build-cuda/aicon tokenize --bytes /usr/share/games/fortunes/*.u8 -o "$stage/data/fortunes.bin" >/dev/null
    local libs pkgs
    libs=$({ ldd "$stage"/bin/*; ldd /usr/bin/orterun /usr/bin/orted
             for f in /usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3/*.so; do ldd "$f"; done; } 2>/dev/null |
           awk '/=> \// {print $3}' | sort -u | grep -v -e '/usr/local/cuda' -e '/libc\.so' -e '/libm\.so' \
               -e '/libgcc_s' -e '/libstdc++' -e '/ld-linux' -e '/libpthread' -e '/libdl\.' -e '/librt\.')
    pkgs=$(for l in $libs; do
               dpkg -S "$l" 2>/dev/null || dpkg -S "$(readlink -f "$l")" 2>/dev/null ||
                   dpkg -S "/usr${l#/usr}" 2>/dev/null || dpkg -S "${l#/usr}" 2>/dev/null
           done | grep -v '^diversion' | cut -d: -f1 | tr ',' '\n' | sed 's/ //g' | sort -u |
           grep -vx -e libc6 -e libgcc-s1 -e 'libstdc++6' || true)
    pkgs="$pkgs openmpi-bin openmpi-common libopenmpi3"
    (cd "$PACK/debs"
     for p in $(echo "$pkgs" | tr ' ' '\n' | sort -u); do
         v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null | sed 's/^[0-9]*://')
         cached=$(ls /var/cache/apt/archives/"${p}"_"${v}"_*.deb 2>/dev/null | head -1 || true)
         if [[ -n "$cached" ]]; then cp "$cached" .; else apt-get download -q "$p" >/dev/null 2>&1 || { echo "pack: apt-get download $p failed" >&2; exit 1; }; fi
     done)
    (cd "$stage" && tar cf - bin data) | xz -9 -T"$(nproc)" >"$PACK/payload.tar.xz"
    rm -rf "$stage"
    echo "pack: $(ls "$PACK/debs" | wc -l) packages, $(du -sh "$PACK" | cut -f1) in $PACK; carry it to the GPU machine"
}

if [[ "${1:-}" == "pack" ]]; then
    pack
    exit
fi

LOG=/tmp/gpu-check
rm -rf "$LOG" && mkdir -p "$LOG"
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# Every check runs under a limit, so that one hang leaves the others their time.
limit() { local s=$1; shift; timeout -k 10 "$s" "$@"; }

# ---- set-up: the carried libraries and CUDA's --------------------------------------------------
if [[ ! -f $PACK/payload.tar.xz ]]; then
    echo "FAIL set-up: $PACK/payload.tar.xz is missing: run 'bash scripts/gpu-check.sh pack' where the build works and carry $PACK"
    exit 1
fi
ROOT=/tmp/aicon-root
rm -rf "$ROOT" && mkdir -p "$ROOT"
# Python's tarfile reads xz where no xz program is installed.
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$PACK/payload.tar.xz" "$ROOT" ||
    { echo "FAIL set-up: cannot unpack $PACK/payload.tar.xz"; exit 1; }
BIN=$ROOT/bin DATA=$ROOT/data
for d in "$PACK"/debs/*.deb; do dpkg -x "$d" "$ROOT" || fail "set-up: dpkg -x $d"; done
A=$ROOT/usr/lib/x86_64-linux-gnu
# PyTorch's CUDA libraries (cuBLAS, cuDNN, NCCL), wherever its nvidia-* wheels keep them
nv=$(for p in $(python3 -c 'import nvidia; print(*nvidia.__path__)' 2>/dev/null); do
         find "$p" -name 'lib*.so*' -printf '%h\n'
     done | sort -u | tr '\n' ':')
# PyTorch and the python3 helpers below keep the machine's own library path: the packed libraries
# (an older libstdc++, Debian's Open MPI) are for aicon's binaries only.
host_ld=${LD_LIBRARY_PATH-}
host_python() {
    if [[ -n $host_ld ]]; then LD_LIBRARY_PATH=$host_ld python3 "$@"; else env -u LD_LIBRARY_PATH python3 "$@"; fi
}
export LD_LIBRARY_PATH="$A:$ROOT/lib/x86_64-linux-gnu:$A/openmpi/lib:$A/openblas-pthread:$A/hdf5/serial:${nv}/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
export PATH="$ROOT/usr/bin:$PATH" OPAL_PREFIX="$ROOT/usr"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# PMIx looks for its plugins at Debian's path, where that machine has another PMIx: each start warns.
export PMIX_MCA_pcompress_base_silence_warning=1
MPIRUN=(orterun --allow-run-as-root --oversubscribe --mca btl self,vader,tcp)
missing=$(ldd "$BIN"/* 2>/dev/null | grep 'not found' | sort -u)
if [[ -n "$missing" ]]; then
    fail "set-up: libraries not found: $(echo "$missing" | awk '{print $1}' | tr '\n' ' ')"
    exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || fail "set-up: nvidia-smi"
"$BIN/aicon" --version | tee "$LOG/version.txt"
"${MPIRUN[@]}" -np 1 true >/dev/null 2>"$LOG/mpirun.txt" || { fail "set-up: orterun does not start (see $LOG/mpirun.txt)"; cat "$LOG/mpirun.txt"; }

# ---- 1. op agreement --------------------------------------------------------------------------
# tests/test_ops.c: every case of every op on CUDA against the CPU (here the CUDA column must run);
# tests/test_cuda_ops.c: TF32 per model and the optimizer steps.
OMP_NUM_THREADS=1 limit 300 "${MPIRUN[@]}" -np 1 "$BIN/test_ops" "$LOG/ops-models" >"$LOG/ops.txt" 2>&1
rc=$?
grep -E -i 'fail|error' "$LOG/ops.txt" | head -40
awk '{for (i = 1; i < NF; i++) if ($i == "cuda" && $(i + 1) ~ /^[0-9]/) {n++; if ($(i + 1) + 0 > m) {m = $(i + 1) + 0; w = $1 " " $2}}}
     END {printf "ops: %d cases ran on CUDA, the largest difference from the CPU %.1e (%s)\n", n, m, w}' "$LOG/ops.txt"
tail -3 "$LOG/ops.txt"
if [[ $rc -eq 0 ]] && ! grep -q 'cuda skipped\|cuda: skipped' "$LOG/ops.txt"; then
    pass "ops: every harness case forward and backward on CUDA agrees with the CPU"
else fail "ops (exit $rc, $LOG/ops.txt)"; fi
limit 120 "${MPIRUN[@]}" -np 1 "$BIN/test_cuda_ops" >"$LOG/cuda-ops.txt" 2>&1
rc=$?
grep -E -i '^(FAIL|PASS|SKIP)|error|fail' "$LOG/cuda-ops.txt" | head -30
if [[ $rc -eq 0 ]] && grep -q '^PASS' "$LOG/cuda-ops.txt"; then pass "cuda ops: TF32 per model, optimizer steps"
else fail "cuda ops (exit $rc, $LOG/cuda-ops.txt)"; fi

# ---- 2. allreduce -----------------------------------------------------------------------------
for np in 1 2; do
    limit 120 "${MPIRUN[@]}" -np $np "$BIN/test_cuda_allreduce" >"$LOG/allreduce$np.txt" 2>&1
    rc=$?
    grep -E -i '^(FAIL|PASS|SKIP)|error|fail' "$LOG/allreduce$np.txt" | head -20
    if [[ $rc -eq 0 ]]; then pass "allreduce and GPU buckets on $np rank(s)"; else fail "allreduce and GPU buckets on $np rank(s) (exit $rc)"; fi
done
grep -q '^SKIP nccl' "$LOG/allreduce1.txt" && fail "allreduce: NCCL (and the GPU buckets) did not run on 1 rank"

# ---- 3. LeNet on Fashion-MNIST ------------------------------------------------------------------
limit 180 "${MPIRUN[@]}" -np 1 "$BIN/aicon" train --model lenet --device cuda --epochs 3 \
    --data "$DATA/fashion-mnist" --summary "$LOG/lenet.json" --quiet >"$LOG/lenet.txt" 2>&1
rc=$?
acc=$(host_python -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_accuracy"])' "$LOG/lenet.json" 2>/dev/null)
echo "lenet: test accuracy ${acc:-none} (exit $rc)"
if [[ $rc -eq 0 ]] && host_python -c "import sys; sys.exit(0 if float('${acc:-0}') >= 0.90 else 1)"; then
    pass "lenet: test accuracy $acc >= 0.90 on the GPU"
else fail "lenet (see $LOG/lenet.txt)"; tail -30 "$LOG/lenet.txt"; fi

# ---- 4. ResNet-50 throughput beside PyTorch ------------------------------------------------------
limit 180 "${MPIRUN[@]}" -np 1 "$BIN/test_cuda_resnet50" >"$LOG/resnet_aicon.txt" 2>&1
rc=$?
tail -20 "$LOG/resnet_aicon.txt"
ours=$(awk '/^resnet50 img\/s/ {print $3}' "$LOG/resnet_aicon.txt")
[[ $rc -eq 0 && -n "$ours" ]] || fail "resnet50 on aicon (exit $rc)"
PYTHONUNBUFFERED=1 limit 180 env LD_LIBRARY_PATH="$host_ld" python3 - >"$LOG/resnet_torch.txt" 2>&1 <<'PY'
# The same model and loop in PyTorch eager: fp32, TF32 off, batch 64, SGD momentum, data on the GPU.
import time, torch, torch.nn as nn
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
def conv_bn(i, o, k, s, relu=True):
    layers = [nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)
class Bottleneck(nn.Module):
    def __init__(self, i, mid, s):
        super().__init__()
        self.body = nn.Sequential(conv_bn(i, mid, 1, 1), conv_bn(mid, mid, 3, s), conv_bn(mid, mid * 4, 1, 1, False))
        self.short = conv_bn(i, mid * 4, 1, s, False) if s != 1 or i != mid * 4 else nn.Identity()
    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))
layers, i = [conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)], 64
for s, n in enumerate([3, 4, 6, 3]):
    for b in range(n):
        layers.append(Bottleneck(i, 64 << s, 2 if b == 0 and s > 0 else 1)); i = (64 << s) * 4
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)).cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.rand(64, 3, 224, 224, device="cuda") * 2 - 1
y = torch.randint(0, 1000, (64,), device="cuda")
loss_fn = nn.CrossEntropyLoss()
for step in range(25):
    if step == 5:
        torch.cuda.synchronize(); t0 = time.perf_counter()
    opt.zero_grad(set_to_none=False)
    loss_fn(model(x), y).backward()
    opt.step()
torch.cuda.synchronize()
print(f"torch {torch.__version__} resnet50 img/s {64 * 20 / (time.perf_counter() - t0):.1f}")
PY
cat "$LOG/resnet_torch.txt"
theirs=$(awk '/resnet50 img\/s/ {print $NF}' "$LOG/resnet_torch.txt")
if [[ -n "$ours" && -n "$theirs" ]]; then
    ratio=$(host_python -c "print(f'{$ours / $theirs:.2f}')")
    echo "resnet50 batch 64 fp32 (TF32 off): aicon $ours img/s, PyTorch $theirs img/s, ratio ${ratio}x"
    if host_python -c "import sys; sys.exit(0 if $ours >= 0.9 * $theirs else 1)"; then
        pass "resnet50: ${ratio}x PyTorch eager (target >= 0.9x)"
    else fail "resnet50: ${ratio}x PyTorch eager (target >= 0.9x)"; fi
else
    fail "resnet50: no figure from aicon ('${ours}') or PyTorch ('${theirs}')"
fi

# ---- 5. the small GPT, GPU beside CPU ------------------------------------------------------------
gpt() { # DEVICE STEPS NAME: README's small GPT on one rank
    limit 240 "${MPIRUN[@]}" -np 1 "$BIN/aicon" train --task lm --data "$DATA/fortunes.bin" \
        --layers 4 --heads 4 --dim 128 --seq-len 128 --batch 16 --optimizer adamw --lr 2e-3 \
        --warmup-steps 100 --lr-schedule cosine --weight-decay 0.1 --decay-matrices-only --clip-grad-norm 1 \
        --epochs 1 --max-steps "$2" --device "$1" --log-every 100 --summary "$LOG/$3.json" >"$LOG/$3.txt" 2>&1
}
field() { host_python -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$LOG/$1.json" "$2" 2>/dev/null; }
gpt cuda 150 gpt_cuda150; rc_cuda=$?
gpt cpu 150 gpt_cpu150; rc_cpu=$?
vc=$(field gpt_cuda150 val_loss); vp=$(field gpt_cpu150 val_loss)
echo "gpt 150 steps: validation loss GPU ${vc:-none} (exit $rc_cuda), CPU ${vp:-none} (exit $rc_cpu)"
if [[ -n "$vc" && -n "$vp" ]] && host_python -c "import sys; sys.exit(0 if abs($vc - $vp) <= 0.02 * $vp else 1)"; then
    pass "gpt: 150 steps on the GPU within 2% of the CPU's validation loss ($vc against $vp)"
else fail "gpt: GPU against CPU after 150 steps"; tail -20 "$LOG/gpt_cuda150.txt"; fi
gpt cuda 100000 gpt_cuda_epoch; rc=$?
ve=$(field gpt_cuda_epoch val_loss); te=$(field gpt_cuda_epoch train_tokens_per_sec); se=$(field gpt_cuda_epoch steps)
echo "gpt one epoch on the GPU: ${se:-?} steps, validation loss ${ve:-none}, ${te:-?} tokens/s (exit $rc)"
if [[ $rc -eq 0 && -n "$ve" ]] && host_python -c "import sys; sys.exit(0 if $ve < 2.5 else 1)"; then
    pass "gpt: one epoch on the GPU, validation loss $ve"
else fail "gpt: one epoch on the GPU"; tail -20 "$LOG/gpt_cuda_epoch.txt"; fi

echo
[[ -n "${OUT:-}" ]] && tar czf "$OUT/gpu-check-logs.tar.gz" --exclude=ops-models -C "$(dirname "$LOG")" "$(basename "$LOG")"
if [[ $fails -eq 0 ]]; then echo "gpu-check: PASS (logs in $LOG)"; else echo "gpu-check: FAIL, $fails failure(s) (logs in $LOG)"; fi
[[ $fails -eq 0 ]]
