#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ONNX export: `aicon train --export` on 2 ranks for the built-in lenet and mlp, then
#  (a) Debian's python3-onnx full checker accepts each file (IR 8, opset 17);
#  (b) test_onnx_export imports the file back and matches the checkpoint model's logits on the
#      first 256 test samples, and onnxruntime (npm onnxruntime-node, installed into ORT_DIR when
#      missing; the test fails when it cannot be installed) matches them within 1e-5 of the largest
#      logit, with the same test accuracy;
#  (c) `aicon export --checkpoint` writes the same initializers, bit for bit, as train --export.
# Every op kind alone, through the checker and onnxruntime: tests/test_ops.c and tests/ops/.
# Usage: onnx_export.sh AICON DATA_DIR TEST_ONNX_EXPORT ORT_DIR [MPIRUN...]
set -euo pipefail
CHECKER=$3 ORT_DIR=$4
set -- "$1" "$2" "${@:5}"
. "$(dirname "$0")/common.sh"
N=256

# The first N test samples, raw float32, and their labels (int32).
"${PY[@]}" - "$DATA/test.h5" "$WORK" "$N" <<'PYEOF'
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1], "r") as f:
    n = int(sys.argv[3])
    np.ascontiguousarray(f["x"][:n], dtype=np.float32).tofile(f"{sys.argv[2]}/x.f32")
    np.asarray(f["y"][:n], dtype=np.int32).tofile(f"{sys.argv[2]}/y.i32")
PYEOF

ort_prepare "$ORT_DIR"

for model in lenet mlp; do
    aicon_np 2 "train_$model" train --model "$model" --data "$DATA/train512.h5" --test-data "$DATA/test.h5" \
        --normalize none --batch 32 --max-steps 6 --seed 3 --export "$WORK/$model.onnx" \
        --checkpoint "$WORK/$model.h5" --quiet
    # (a)
    "${PY[@]}" - "$WORK/$model.onnx" <<'PYEOF'
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = {o.domain: o.version for o in m.opset_import}
assert m.ir_version == 8 and ops.get("", ops.get("ai.onnx")) == 17, (m.ir_version, ops)
names = [i.name for i in m.graph.input], [o.name for o in m.graph.output]
assert names == (["input"], ["logits"]), names
meta = {p.key: p.value for p in m.metadata_props}
assert meta.get("aicon.preprocess") == "none" and m.graph.node[0].op_type != "Sub", (meta, m.graph.node[0])
print(f"{sys.argv[1]}: checker passes; IR {m.ir_version}, opset 17, nodes",
      " ".join(n.op_type for n in m.graph.node))
PYEOF
    # (b) aicon: the file imported back against the checkpoint model
    timeout -k 5 "$RUN_TIMEOUT" "$CHECKER" "$WORK/$model.onnx" "$model" "$WORK/$model.h5" 10 "$WORK/x.f32" "$N" 1 28 28 \
        "$WORK/$model.aicon.f32" || fail "$model: the re-imported export differs from the checkpoint model"
    ort_run "$WORK/$model.onnx" "$WORK/x.f32" "$N,1,28,28" "$WORK/$model.ort.f32"
    "${PY[@]}" - "$WORK" "$model" <<'PYEOF'
import sys

import numpy as np

w, model = sys.argv[1], sys.argv[2]
a = np.fromfile(f"{w}/{model}.aicon.f32", dtype=np.float32).reshape(-1, 10)
o = np.fromfile(f"{w}/{model}.ort.f32", dtype=np.float32).reshape(-1, 10)
y = np.fromfile(f"{w}/y.i32", dtype=np.int32)
diff = float(np.abs(a - o).max())
scale = float(np.abs(a).max())
acc_a, acc_o = float((a.argmax(1) == y).mean()), float((o.argmax(1) == y).mean())
print(f"{model}: onnxruntime vs aicon on {len(y)} test samples: max |diff| {diff:.3g} "
      f"(max |logit| {scale:.3g}, relative {diff / scale:.3g}); accuracy aicon {acc_a:.4f} onnxruntime {acc_o:.4f}")
assert diff <= 1e-5 * scale, "logits differ by more than 1e-5 of the largest"
assert acc_a == acc_o, "accuracies differ"
PYEOF
done

# (c) aicon export from the checkpoint: the same initializers, bit for bit.
timeout -k 5 20 "$AICON" export --help >"$WORK/export_help.out" || fail "aicon export --help failed"
grep -qF -- "--checkpoint" "$WORK/export_help.out" || fail "aicon export --help lacks --checkpoint"
grep -qF -- "standardize" "$WORK/export_help.out" || fail "aicon export --help does not mention standardized inputs"
aicon_np 1 export_mlp export --model mlp --checkpoint "$WORK/mlp.h5" --out "$WORK/y.onnx" --data "$DATA/train512.h5"
"${PY[@]}" - "$WORK/mlp.onnx" "$WORK/y.onnx" <<'PYEOF'
import sys

import onnx
from onnx import numpy_helper

a, b = ({t.name: numpy_helper.to_array(t) for t in onnx.load(p).graph.initializer} for p in sys.argv[1:3])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
for k in a:
    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes(), k
print(f"aicon export: {len(a)} initializers equal to train --export's, bit for bit")
PYEOF

echo "PASS"
