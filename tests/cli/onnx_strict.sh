#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aicon train --model FILE.onnx` on 2 ranks refuses what it would otherwise read differently from the
# file: an op type holding a NUL byte ("Gemm\0x", once run as Gemm), Gemm's alpha given as an INT,
# opset 999, an operator set of another domain, and an output declared [N, 7] that the graph makes
# [N, 10]; each run fails on every rank with a message naming the node, attribute, opset or value.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Flatten then Gemm 784 -> 10 over the fixture's 1 x 28 x 28 images, with one thing wrong each.
"${PY[@]}" - "$WORK" <<'PYEOF'
import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(3)
w = numpy_helper.from_array((rng.standard_normal((784, 10)) * 0.01).astype(np.float32), "w")
b = numpy_helper.from_array(np.zeros(10, np.float32), "b")


def model(name, gemm_op="Gemm", alpha=1.0, opsets=(("", 13),), logits=("N", 10)):
    nodes = [helper.make_node("Flatten", ["image"], ["flat"], name="flatten"),
             helper.make_node(gemm_op, ["flat", "w", "b"], ["logits"], name="fc", alpha=alpha)]
    graph = helper.make_graph(nodes, "strict", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                               ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, list(logits))], [w, b])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    with open(f"{out}/{name}.onnx", "wb") as f:
        f.write(m.SerializeToString())


model("good")
model("nul_op", gemm_op="Gemm\0x")
model("int_alpha", alpha=1)
model("opset_999", opsets=(("", 999),))
model("ms_domain", opsets=(("", 13), ("com.microsoft", 1)))
model("shape_7", logits=("N", 7))
PYEOF

train=(train --data "$DATA/train200.h5" --batch 16 --max-steps 2)
aicon_np 2 good "${train[@]}" --model "$WORK/good.onnx"

# must_refuse NAME PATTERN: the run fails, and both ranks' stderr lines match PATTERN.
must_refuse() {
    aicon_fails 2 "$1" "${train[@]}" --model "$WORK/$1.onnx"
    [ "$RC" = 1 ] || fail "$1.onnx: exit status $RC, not 1"
    [ "$(grep -cE -- "$2" "$WORK/$1.err")" -ge 1 ] || fail "$1.onnx: no line matches: $2"
    grep -q -- "$1.onnx" "$WORK/$1.err" || fail "$1.onnx: the message does not name the file"
}
must_refuse nul_op "node 'fc' \(Gemm\): graph\.node\[1\]\.op_type holds a NUL byte \(\"Gemm\\\\x00x\"\)"
must_refuse int_alpha "node 'fc' \(Gemm\): attribute 'alpha' is INT where Gemm takes FLOAT"
must_refuse opset_999 "opset 999 of the default domain is outside 1\.\.17"
must_refuse ms_domain "operator set domain 'com\.microsoft' \(version 1\)"
must_refuse shape_7 "graph output 'logits' is declared \[N, 7\] but node 'fc' \(Gemm\) makes it \[N, 10\]"
assert_no_leftover_processes
echo "PASS"
