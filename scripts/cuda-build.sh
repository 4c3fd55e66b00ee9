#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the CUDA toolkit is complete (nvcc, cuDNN and NCCL), the CUDA backend must compile and link
# without warnings, in build-cuda/; its GPU tests run on a GPU machine (scripts/gpu-check.sh). A
# machine without nvcc, or with nvcc but without cuDNN or NCCL, skips it and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
    echo "scripts/cuda-build.sh: CUDA build skipped: no nvcc on PATH or in /usr/local/cuda/bin"
    exit 0
fi
mkdir -p build-cuda
PATH=$PATH:/usr/local/cuda/bin cmake -S . -B build-cuda -DAICON_CUDA=AUTO \
    -DCMAKE_BUILD_TYPE=Release >build-cuda/configure.log
if ! grep -q 'aicon: CUDA backend ON' build-cuda/configure.log; then
    echo "scripts/cuda-build.sh: CUDA build skipped: $(grep -m1 'no CUDA backend' build-cuda/configure.log)"
    exit 0
fi
cmake --build build-cuda -j"$(nproc)" 2>&1 | tee build-cuda/build.log
if grep -q 'warning:' build-cuda/build.log; then
    echo "scripts/cuda-build.sh: the CUDA build has warnings (build-cuda/build.log)" >&2
    exit 1
fi
