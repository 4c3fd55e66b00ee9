#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# examples/train_gpt on llm.c shards of a stream it can learn (0 1 ... 49 repeated): the program must
# build, train with 2 ranks and bring the validation loss from ln 50 = 3.9 below 2 in 30 steps.
# Usage: train_gpt.sh TRAIN_GPT MPIRUN...
set -euo pipefail
BIN=$1
shift
DIR=$(mktemp -d "${TMPDIR:-/tmp}/aicon-train-gpt-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
/usr/bin/python3 - "$DIR" <<'PYEOF'
import sys

import numpy as np

stream = np.tile(np.arange(50, dtype=np.uint16), 400)
for name, toks in (("train.bin", stream), ("val.bin", stream[:3000])):
    header = np.zeros(256, dtype=np.int32)
    header[:3] = (20240520, 1, len(toks))  # llm.c's magic, version, token count
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        f.write(header.tobytes() + toks.tobytes())
PYEOF
"$@" -np 2 "$BIN" "$DIR/train.bin" 30 "$DIR/val.bin"
