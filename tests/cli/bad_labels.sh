#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Labels past the model's classes, made with h5py from train200.h5: 200 in the training set and 255 in
# the test set of a built-in model (10 classes unless --classes says more), and 10 for an ONNX model of
# 10 logits. Each `mpirun -np 2 aicon train` must fail naming the file, the first bad sample and its
# label; with --classes 201 the same file trains. An IDX directory whose test images differ in shape
# from the training images is refused naming both files (it said "--test-data (null)").
set -euo pipefail
. "$(dirname "$0")/common.sh"
FMNIST=${AICON_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

"${PY[@]}" - "$DATA/train200.h5" "$WORK" <<'PYEOF'
import sys
import h5py, numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
src, work = sys.argv[1:]
with h5py.File(src, "r") as f:
    x, y = f["x"][()], f["y"][()]
for name, sample, label in (("label200", 7, 200), ("label255", 3, 255), ("label10", 5, 10)):
    bad = y.copy()
    bad[sample] = label
    bad[sample + 1] = label  # only the first is named
    with h5py.File(f"{work}/{name}.h5", "w") as f:
        f["x"], f["y"] = x, bad
# An ONNX classifier of 10 logits: Flatten, Gemm 784 -> 10.
rng = np.random.default_rng(0)
w = numpy_helper.from_array(rng.normal(0, 0.01, (10, 784)).astype(np.float32), "w")
b = numpy_helper.from_array(np.zeros(10, np.float32), "b")
graph = helper.make_graph(
    [helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
     helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], name="fc", transB=1)],
    "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], [w, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, f"{work}/linear.onnx")
PYEOF

common=(train --batch 16 --max-steps 1 --quiet)
# name | args | what the message must name | the problem (extended regex)
check_fails() {
    local name=$1 culprit=$2 problem=$3
    shift 3
    aicon_fails 2 "$name" "${common[@]}" "$@" --summary "$WORK/$name.json"
    [ $RC -lt 128 ] || fail "$name: the run died of a signal (status $RC)"
    grep -F -- "$culprit" "$WORK/$name.err" | grep -qE -- "$problem" ||
        fail "$name: no line of stderr names '$culprit' and /$problem/"
    ! grep -q "(null)" "$WORK/$name.err" || fail "$name: a message says (null)"
    [ ! -e "$WORK/$name.json" ] || fail "$name: the failed run wrote its --summary"
}

check_fails train200 "$WORK/label200.h5" "label of sample 7 is 200, outside the 10 classes 0..9" \
    --model mlp --data "$WORK/label200.h5"
check_fails test255 "$WORK/label255.h5" "label of sample 3 is 255, outside the 10 classes 0..9" \
    --model lenet --data "$DATA/train200.h5" --test-data "$WORK/label255.h5"
check_fails onnx10 "$WORK/label10.h5" "label of sample 5 is 10, outside the 10 classes 0..9" \
    --model "$WORK/linear.onnx" --data "$WORK/label10.h5"
check_fails onnx_classes "--classes" "built-in" \
    --model "$WORK/linear.onnx" --data "$DATA/train200.h5" --classes 12

# --classes 201 makes room for label 200, and 10 classes stay the default for good data.
aicon_np 2 classes201 "${common[@]}" --model mlp --data "$WORK/label200.h5" --classes 201
aicon_np 2 default "${common[@]}" --model mlp --data "$DATA/train200.h5" --checkpoint "$WORK/default.h5"
"${PY[@]}" -c 'import sys, h5py
shape = h5py.File(sys.argv[1], "r")["params/fc3.weight"].shape
sys.exit(0 if shape == (10, 512) else f"fc3.weight has shape {shape}, expected (10, 512)")' "$WORK/default.h5"

# IDX: 64 training images of 28 x 28 and 16 test images cut to 14 x 14.
mkdir "$WORK/idx"
"${PY[@]}" - "$FMNIST" "$WORK/idx" <<'PYEOF'
import gzip, os, sys
import numpy as np
src, out = sys.argv[1:]
def idx(name):
    raw = gzip.open(os.path.join(src, name + ".gz")).read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)
def write(name, a):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([0, 0, 8, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape) + a.tobytes())
write("train-images-idx3-ubyte", idx("train-images-idx3-ubyte")[:64])
write("train-labels-idx1-ubyte", idx("train-labels-idx1-ubyte")[:64])
write("t10k-images-idx3-ubyte", np.ascontiguousarray(idx("t10k-images-idx3-ubyte")[:16, :14, :14]))
write("t10k-labels-idx1-ubyte", idx("t10k-labels-idx1-ubyte")[:16])
PYEOF
check_fails idx_shape "$WORK/idx/t10k-images-idx3-ubyte" "differ in shape.*$WORK/idx/train-images-idx3-ubyte" \
    --model mlp --data "$WORK/idx"
assert_no_leftover_processes
echo "PASS"
