#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a checkpoint holds: attributes, one dataset per parameter named by layer, the train state;
# it is written atomically (no temporary file left) and resuming from it restores the parameters.
set -euo pipefail
. "$(dirname "$0")/common.sh"

mkdir "$WORK/ck"
# 200 samples at a global batch of 64: 4 steps an epoch, so the file is written at step 4 (end of
# epoch 1) and rewritten at step 7 (--max-steps).
common=(train --model mlp --data "$DATA/train200.h5" --seed 3 --batch 32)
aicon_np 2 run "${common[@]}" --epochs 5 --max-steps 7 --checkpoint "$WORK/ck/model.h5" --summary "$WORK/run.json"

left=$(find "$WORK/ck" -mindepth 1 ! -name model.h5)
[ -z "$left" ] || fail "the checkpoint directory holds more than model.h5: $left"

"${PY[@]}" - "$WORK/ck/model.h5" <<'PYEOF'
import hashlib
import re
import sys

import h5py
import numpy as np

path = sys.argv[1]
problems = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        problems.append(what)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


with h5py.File(path, "r") as f:
    attrs = dict(f.attrs)
    for key in ("format_version", "model_name", "model_hash"):
        check(key in attrs, f"attribute {key} present")
    if "format_version" in attrs:
        check(int(attrs["format_version"]) == 3, f"format_version {attrs['format_version']} == 3")
    if "model_name" in attrs:
        check(text(attrs["model_name"]) == "mlp", f"model_name '{text(attrs['model_name'])}' == 'mlp'")
    if "model_hash" in attrs:
        h = text(attrs["model_hash"])
        check(re.fullmatch(r"[0-9a-f]{64}", h) is not None, f"model_hash '{h}' is a hex SHA-256")
    expected = {  # the mlp 784-512-512-10, weights out x in
        "fc1.weight": (512, 784), "fc1.bias": (512,),
        "fc2.weight": (512, 512), "fc2.bias": (512,),
        "fc3.weight": (10, 512), "fc3.bias": (10,),
    }
    check("params" in f and isinstance(f["params"], h5py.Group), "group /params")
    names = sorted(f["params"].keys()) if "params" in f else []
    check(names == sorted(expected), f"/params holds {names}")
    for name, shape in expected.items():
        if name in names:
            d = f["params"][name]
            check(d.shape == shape and d.dtype == np.float32, f"/params/{name}: {d.dtype} {d.shape}, expected float32 {shape}")
            check(bool(np.all(np.isfinite(d[()]))), f"/params/{name} is finite")
            check(float(np.max(np.abs(d[()]))) > 0, f"/params/{name} is not all zero")
            # format 2: the SHA-256 of the values as little-endian float32, in hex
            want = hashlib.sha256(d[()].astype("<f4").tobytes()).hexdigest()
            got = text(d.attrs.get("sha256", b""))
            check(got == want, f"/params/{name} attribute sha256 '{got[:16]}...' is the SHA-256 of its values")
    # SGD with momentum: one momentum tensor per parameter.
    slots = list(f["optimizer"].keys()) if "optimizer" in f else []
    check(len(slots) >= 1, f"/optimizer slots {slots}")
    for slot in slots:
        got = sorted(f["optimizer"][slot].keys())
        check(got == sorted(expected), f"/optimizer/{slot} holds {got}")
    for key, want in (("step", 7), ("epoch", 1), ("seed", 3)):
        full = f"state/{key}"
        check(full in f, f"/{full} present")
        if full in f:
            v = int(f[full][()])
            check(v == want, f"/{full} = {v}, expected {want}")
if problems:
    sys.exit(f"FAIL: {len(problems)} problems in {path}")
PYEOF

# The file holds the run's final parameters: resuming it with nothing left to do ends with the same
# parameter hash the run reported.
aicon_np 2 reload "${common[@]}" --epochs 5 --max-steps 7 --resume "$WORK/ck/model.h5" --summary "$WORK/reload.json"
h_run=$(json_field "$WORK/run.json" params_sha256)
h_reload=$(json_field "$WORK/reload.json" params_sha256)
echo "run:      $h_run"
echo "reloaded: $h_reload"
[ "$h_run" = "$h_reload" ] || fail "the checkpoint does not hold the parameters the run ended with"
grep -q "resuming from $WORK/ck/model.h5 at step 7" "$WORK/reload.out" || fail "the reload did not resume at step 7"
echo "PASS"
