#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon onnx-test on what is not a test case, on a case whose expected output is wrong, on a
# PyTorch export in training mode (BatchNormalization with batch statistics, as onnxruntime runs it)
# and on a fixed-batch graph whose batch cannot be followed:
#   onnx_test_cli.sh AICON PYTHON TESTDATA
# A directory holding no model.onnx (nor any subdirectory with one) and a missing path are usage
# errors (exit 2) with a message naming the path; a wrong expected output is a FAIL line naming the
# output and the element, and exit 1; --help exits 0.
set -euo pipefail
AICON=$1 PY=$2 DATA=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect() { # WANT_RC TEXT ARGS...: aicon onnx-test ARGS exits WANT_RC and says TEXT (stdout or stderr)
    local want=$1 text=$2 rc=0
    shift 2
    echo "+ aicon onnx-test $*"
    timeout -k 5 60 "$AICON" onnx-test "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    cat "$WORK/out" "$WORK/err"
    [ "$rc" -eq "$want" ] || fail "aicon onnx-test $* exited $rc, want $want"
    grep -qF -- "$text" "$WORK/out" "$WORK/err" || fail "aicon onnx-test $* does not say '$text'"
}

mkdir -p "$WORK/empty/sub" && touch "$WORK/empty/file.txt"
expect 2 "$WORK/empty is not an ONNX test case" "$WORK/empty"
expect 2 "$WORK/missing: No such file or directory" "$WORK/missing"
expect 2 "no test directory given"
expect 2 "unknown option '--bogus'" --bogus "$WORK/empty"
expect 0 "usage: aicon onnx-test" --help

# A copy of Relu's test case whose expected output is off by 0.5 at element 7.
cp -r "$DATA/node/test_relu" "$WORK/relu_wrong"
"$PY" - "$WORK/relu_wrong/test_data_set_0/output_0.pb" <<'PYEOF'
import sys
import onnx
from onnx import numpy_helper
t = onnx.TensorProto()
with open(sys.argv[1], "rb") as f:
    t.ParseFromString(f.read())
a = numpy_helper.to_array(t).copy()
a.flat[7] += 0.5
with open(sys.argv[1], "wb") as f:
    f.write(numpy_helper.from_array(a, t.name).SerializeToString())
PYEOF
expect 1 "at index 7" "$WORK/relu_wrong"
grep -qx "0 passed, 1 failed, 0 skipped" "$WORK/out" || fail "no '0 passed, 1 failed, 0 skipped' line"
grep -q "^FAIL .*relu_wrong: output 'y' max abs err" "$WORK/out" || fail "the FAIL line does not name output 'y'"

# The untouched case passes.
expect 0 "PASS" "$DATA/node/test_relu"
grep -qx "1 passed, 0 failed, 0 skipped" "$WORK/out" || fail "no '1 passed, 0 failed, 0 skipped' line"

# A case whose weight comes as a graph input runs with that input bound as a constant, and says so;
# with the weight's data off by 0.25 the output is wrong, and the case fails.
expect 0 "test_gemm_default_no_bias (inputs run as constants: 'b')" "$DATA/node/test_gemm_default_no_bias"
cp -r "$DATA/node/test_gemm_default_no_bias" "$WORK/gemm_wrong_b"
"$PY" - "$WORK/gemm_wrong_b/test_data_set_0/input_1.pb" <<'PYEOF'
import sys
import onnx
from onnx import numpy_helper
t = onnx.TensorProto()
with open(sys.argv[1], "rb") as f:
    t.ParseFromString(f.read())
a = numpy_helper.to_array(t).copy()
a.flat[0] += 0.25
with open(sys.argv[1], "wb") as f:
    f.write(numpy_helper.from_array(a, t.name).SerializeToString())
PYEOF
expect 1 "FAIL" "$WORK/gemm_wrong_b"

# A Conv + BatchNorm exported by PyTorch in training mode, its expected output PyTorch's in training
# mode: the batch's statistics, not the running ones (which would be off by far more than 1e-4).
"$PY" - "$WORK/bn_training" <<'PYEOF'
import os, sys
import torch
from onnx import numpy_helper
d = sys.argv[1]
os.makedirs(os.path.join(d, "test_data_set_0"))
torch.manual_seed(3)
m = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)).train()
with torch.no_grad():
    m[1].running_mean.fill_(5.0)  # far from the batch's statistics
x = torch.randn(4, 2, 6, 6)
torch.onnx.export(m, x, os.path.join(d, "model.onnx"), opset_version=14, input_names=["x"], output_names=["y"],
                  training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
m[1].running_mean.fill_(5.0)
with torch.no_grad():
    y = m(x)
for name, a in (("input_0", x), ("output_0", y)):
    with open(os.path.join(d, "test_data_set_0", name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(a.numpy(), name[:1] if name != "output_0" else "y").SerializeToString())
PYEOF
expect 0 "PASS" "$WORK/bn_training"
grep -qx "1 passed, 0 failed, 0 skipped" "$WORK/out" || fail "the training-mode export does not pass"

# A graph written with a fixed batch of 2 whose Reshape spreads the samples over the target's axes
# ([2, 3] to [3, 2]): no other batch size can be derived, and the skip says how to export instead.
"$PY" - "$WORK/batch_folded" <<'PYEOF'
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
os.makedirs(os.path.join(d, "test_data_set_0"))
shape = numpy_helper.from_array(np.array([3, 2], dtype=np.int64), "shape")
g = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"])], "folded",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])], [shape])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(d, "model.onnx"))
x = np.arange(6, dtype=np.float32).reshape(2, 3)
for name, a, t in (("input_0", x, "x"), ("output_0", x.reshape(3, 2), "y")):
    with open(os.path.join(d, "test_data_set_0", name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(a, t).SerializeToString())
PYEOF
expect 0 "export with a dynamic batch axis" "$WORK/batch_folded"
grep -qx "0 passed, 0 failed, 1 skipped" "$WORK/out" || fail "the folded batch is not refused"
echo "PASS"
