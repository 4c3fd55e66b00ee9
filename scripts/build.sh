#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds aicon into build/ (extra arguments go to cmake's configure step).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
