#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The core library's sources (core/, layers/) include nothing from the layers above them.
# usage: core_includes.sh SOURCE_DIR
set -euo pipefail
cd "$1"
found=$(grep -rn '#include "\(collectives\|io\|onnx\|train\|chain\|tools\)/' core/ layers/ || true)
if [ -n "$found" ]; then
    echo "FAIL: core/ and layers/ include from the layers above them:" >&2
    echo "$found" >&2
    exit 1
fi
echo "core_includes: core/ and layers/ include nothing from collectives/, io/, onnx/, train/, chain/ or tools/"
