#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing (with the test dependencies), build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
# Where the CUDA toolkit is complete (nvcc, cuDNN and NCCL), the CUDA build must compile and link
# without warnings in its own directory; its GPU tests run on a GPU machine (scripts/gpu-check.sh).
# A machine with nvcc but without cuDNN or NCCL gets the CPU build only, and says so.
if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then
    mkdir -p build-cuda
    PATH=$PATH:/usr/local/cuda/bin cmake -S . -B build-cuda -DAICON_CUDA=AUTO \
        -DCMAKE_BUILD_TYPE=Release >build-cuda/configure.log
    if grep -q 'aicon: CUDA backend ON' build-cuda/configure.log; then
        cmake --build build-cuda -j"$(nproc)" 2>&1 | tee build-cuda/build.log
        if grep -q 'warning:' build-cuda/build.log; then
            echo "scripts/test.sh: the CUDA build has warnings (build-cuda/build.log)" >&2
            exit 1
        fi
    else
        echo "scripts/test.sh: CUDA build skipped: $(grep -m1 'no CUDA backend' build-cuda/configure.log)"
    fi
fi
# The whole suite runs on the CPU-only build.
bash scripts/build.sh -DAICON_CUDA=OFF
[[ $EUID -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd build
ctest --output-on-failure --timeout 900
