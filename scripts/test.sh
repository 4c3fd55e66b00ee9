#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing (with the test dependencies), build, and run the whole test suite. A test
# that ctest reports Skipped fails the run (a missing tool or network is a failure, not a pass), except
# the GPU tests (label gpu) on a machine where no GPU is visible.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/cuda-build.sh
# The whole suite runs on the CPU-only build.
bash scripts/build.sh -DAICON_CUDA=OFF
[[ $EUID -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd build
rc=0
ctest --output-on-failure --timeout 900 "$@" 2>&1 | tee ctest.log || rc=$?
gpu_tests=$(ctest -N -L gpu | sed -n 's/^ *Test *#[0-9]*: //p')
gpu_visible=0
nvidia-smi -L >/dev/null 2>&1 && gpu_visible=1
bad=()
for t in $(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (Skipped)$/\1/p' ctest.log); do
    if [[ $gpu_visible == 1 ]] || ! grep -qx -- "$t" <<<"$gpu_tests"; then
        bad+=("$t")
    fi
done
if ((${#bad[@]})); then
    echo "scripts/test.sh: skipped tests count as failures: ${bad[*]} (their output above says why)" >&2
    [[ $rc -ne 0 ]] || rc=1
fi
exit $rc
