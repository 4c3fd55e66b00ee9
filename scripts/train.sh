#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install what is missing, build, and train LeNet on Fashion-MNIST with 2 MPI ranks.
# Extra arguments go to `aicon train` (e.g. --model mlp --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# Open MPI refuses to start as root unless told that this is intended.
[[ $EUID -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np 2 build/aicon train --model lenet --epochs 3 --lr-schedule cosine --summary build/summary.json "$@"
