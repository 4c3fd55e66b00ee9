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
#      beside PyTorch's (eager, fp32, TF32 off on both sides) on the same GPU; target >= 0.9x.
# Each step checks its own outcome and prints PASS or FAIL; the exit status is 0 only if all pass.
#
# The machine lent for this (an H100/H200 with CUDA, PyTorch and no MPI or HDF5) cannot install
# anything, so the check comes in two halves:
#
#   bash scripts/gpu-check.sh pack
#     here (Debian 12, the CUDA toolkit, cuDNN and NCCL under /usr/local/cuda, no GPU): builds
#     build-cuda (-DAICON_CUDA=ON) and fills .gpucheck/ (git-ignored via .git/info/exclude) with
#       bin/   aicon, test_ops, test_cuda_ops, test_cuda_allreduce, test_cuda_resnet50;
#       debs/  the Debian packages of every runtime library they need that is not CUDA's: those ldd
#              names for the binaries, for Open MPI's orterun/orted and for its plugins, mapped to
#              packages with dpkg -S (Open MPI, PMIx, libevent, hwloc, HDF5, OpenBLAS, libcurl, ...),
#              plus openmpi-bin and openmpi-common; taken from apt's cache or fetched with
#              apt-get download. libc, libgcc and libstdc++ are the machine's own;
#       data/fashion-mnist  the four IDX files of Debian's dataset-fashion-mnist package
#              (/usr/share/datasets/fashion-mnist).
#   then run it there with the folder carried, e.g. with the device tool:
#     run(command="bash scripts/gpu-check.sh", carry=[".gpucheck"])
#
#   bash scripts/gpu-check.sh            (on the GPU machine)
#     unpacks the debs with dpkg -x into /tmp/aicon-root (outside /: the system is not touched),
#     points PATH, LD_LIBRARY_PATH and OPAL_PREFIX (Open MPI's relocation) there, adds CUDA's
#     libraries (the toolkit's lib64 and the nvidia-* packages PyTorch brings: cuBLAS, cuDNN, NCCL),
#     and runs the four checks. Results also go to $OUT (or /tmp/gpu-check) as log files.
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=.gpucheck

pack() {
    set -e
    cmake -S . -B build-cuda -DAICON_CUDA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build-cuda -j"$(nproc)" --target aicon_cli test_ops test_cuda_ops test_cuda_allreduce test_cuda_resnet50
    rm -rf "$PACK"
    mkdir -p "$PACK/bin" "$PACK/debs" "$PACK/data"
    local exclude
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qx "/$PACK/" "$exclude" 2>/dev/null || echo "/$PACK/" >>"$exclude"
    cp build-cuda/aicon build-cuda/tests/test_ops build-cuda/tests/test_cuda_ops build-cuda/tests/test_cuda_allreduce \
        build-cuda/tests/test_cuda_resnet50 "$PACK/bin/"
    cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$PACK/data/" 2>/dev/null || {
        echo "pack: /usr/share/datasets/fashion-mnist is missing: apt-get install dataset-fashion-mnist" >&2
        exit 1
    }
    mkdir -p "$PACK/data/fashion-mnist" && mv "$PACK"/data/*.gz "$PACK/data/fashion-mnist/"
    local libs pkgs
    libs=$({ ldd "$PACK"/bin/*; ldd /usr/bin/orterun /usr/bin/orted
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
    echo "pack: $(ls "$PACK/debs" | wc -l) packages, $(du -sh "$PACK" | cut -f1) in $PACK; carry it to the GPU machine"
}

if [[ "${1:-}" == "pack" ]]; then
    pack
    exit
fi

LOG=${OUT:-/tmp/gpu-check}
mkdir -p "$LOG"
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---- set-up: the carried libraries and CUDA's --------------------------------------------------
if [[ ! -x $PACK/bin/aicon ]]; then
    echo "FAIL set-up: $PACK/bin/aicon is missing: run 'bash scripts/gpu-check.sh pack' where the build works and carry $PACK"
    exit 1
fi
ROOT=/tmp/aicon-root
rm -rf "$ROOT" && mkdir -p "$ROOT"
for d in "$PACK"/debs/*.deb; do dpkg -x "$d" "$ROOT" || fail "set-up: dpkg -x $d"; done
A=$ROOT/usr/lib/x86_64-linux-gnu
nv=$(python3 -c 'import nvidia, os; [print(os.path.join(p, d, "lib")) for p in nvidia.__path__ for d in sorted(os.listdir(p))]' 2>/dev/null | tr '\n' ':')
# PyTorch and the python3 helpers below keep the machine's own library path: the packed libraries
# (an older libstdc++, Debian's Open MPI) are for aicon's binaries only.
host_ld=${LD_LIBRARY_PATH-}
host_python() {
    if [[ -n $host_ld ]]; then LD_LIBRARY_PATH=$host_ld python3 "$@"; else env -u LD_LIBRARY_PATH python3 "$@"; fi
}
export LD_LIBRARY_PATH="$A:$ROOT/lib/x86_64-linux-gnu:$A/openmpi/lib:$A/openblas-pthread:$A/hdf5/serial:${nv}/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
export PATH="$ROOT/usr/bin:$PATH" OPAL_PREFIX="$ROOT/usr"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPIRUN=(orterun --allow-run-as-root --oversubscribe --mca btl self,vader,tcp)
missing=$(ldd "$PACK"/bin/* 2>/dev/null | grep 'not found' | sort -u)
if [[ -n "$missing" ]]; then
    fail "set-up: libraries not found: $(echo "$missing" | awk '{print $1}' | tr '\n' ' ')"
    exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || fail "set-up: nvidia-smi"
"$PACK/bin/aicon" --version | tee "$LOG/version.txt"
"${MPIRUN[@]}" -np 1 true >/dev/null 2>"$LOG/mpirun.txt" || { fail "set-up: orterun does not start (see $LOG/mpirun.txt)"; cat "$LOG/mpirun.txt"; }

# ---- 1. op agreement --------------------------------------------------------------------------
# tests/test_ops.c: every case of every op on CUDA against the CPU (here the CUDA column must run);
# tests/test_cuda_ops.c: TF32 per model and the optimizer steps.
OMP_NUM_THREADS=1 "${MPIRUN[@]}" -np 1 "$PACK/bin/test_ops" "$LOG/ops-models" >"$LOG/ops.txt" 2>&1
rc=$?
grep -E 'FAIL|cuda' "$LOG/ops.txt" | head -20
if [[ $rc -eq 0 ]] && ! grep -q 'cuda skipped\|cuda: skipped' "$LOG/ops.txt"; then
    pass "ops: every harness case forward and backward on CUDA agrees with the CPU"
else fail "ops (exit $rc, $LOG/ops.txt)"; fi
"${MPIRUN[@]}" -np 1 "$PACK/bin/test_cuda_ops" >"$LOG/cuda-ops.txt" 2>&1
rc=$?
grep -E '^(FAIL|PASS|SKIP)' "$LOG/cuda-ops.txt"
if [[ $rc -eq 0 ]] && grep -q '^PASS' "$LOG/cuda-ops.txt"; then pass "cuda ops: TF32 per model, optimizer steps"
else fail "cuda ops (exit $rc, $LOG/cuda-ops.txt)"; fi

# ---- 2. allreduce -----------------------------------------------------------------------------
for np in 1 2; do
    "${MPIRUN[@]}" -np $np "$PACK/bin/test_cuda_allreduce" >"$LOG/allreduce$np.txt" 2>&1
    rc=$?
    grep -E '^(FAIL|PASS|SKIP)' "$LOG/allreduce$np.txt"
    if [[ $rc -eq 0 ]]; then pass "allreduce and GPU buckets on $np rank(s)"; else fail "allreduce and GPU buckets on $np rank(s) (exit $rc)"; fi
done
grep -q '^SKIP nccl' "$LOG/allreduce1.txt" && fail "allreduce: NCCL (and the GPU buckets) did not run on 1 rank"

# ---- 3. LeNet on Fashion-MNIST ------------------------------------------------------------------
"${MPIRUN[@]}" -np 1 "$PACK/bin/aicon" train --model lenet --device cuda --epochs 3 \
    --data "$PACK/data/fashion-mnist" --summary "$LOG/lenet.json" --quiet >"$LOG/lenet.txt" 2>&1
rc=$?
acc=$(host_python -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_accuracy"])' "$LOG/lenet.json" 2>/dev/null)
echo "lenet: test accuracy ${acc:-none} (exit $rc)"
if [[ $rc -eq 0 ]] && host_python -c "import sys; sys.exit(0 if float('${acc:-0}') >= 0.90 else 1)"; then
    pass "lenet: test accuracy $acc >= 0.90 on the GPU"
else fail "lenet (see $LOG/lenet.txt)"; cat "$LOG/lenet.txt"; fi

# ---- 4. ResNet-50 throughput beside PyTorch ------------------------------------------------------
"${MPIRUN[@]}" -np 1 "$PACK/bin/test_cuda_resnet50" >"$LOG/resnet_aicon.txt" 2>&1
rc=$?
cat "$LOG/resnet_aicon.txt"
ours=$(awk '/^resnet50 img\/s/ {print $3}' "$LOG/resnet_aicon.txt")
[[ $rc -eq 0 && -n "$ours" ]] || fail "resnet50 on aicon (exit $rc)"
PYTHONUNBUFFERED=1 host_python - >"$LOG/resnet_torch.txt" 2>&1 <<'PY'
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

echo
if [[ $fails -eq 0 ]]; then echo "gpu-check: PASS (logs in $LOG)"; else echo "gpu-check: FAIL, $fails failure(s) (logs in $LOG)"; fi
[[ $fails -eq 0 ]]
