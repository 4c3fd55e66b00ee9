# SPDX-License-Identifier: Apache-2.0
"""Writes the ONNX models test_onnx_load reads: one valid model and one broken copy per rule the
loader enforces. Run with Debian's /usr/bin/python3 (python3-onnx): make_bad_models.py OUTDIR."""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(out, name), "wb") as f:
        f.write(model.SerializeToString())


def model_of(nodes, inputs, outputs, inits=(), name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="aicon-tests")


f32 = TensorProto.FLOAT
x = helper.make_tensor_value_info("x", f32, [2, 4])
y = helper.make_tensor_value_info("y", f32, [2, 3])
rng = np.random.default_rng(7)
w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w")
b = numpy_helper.from_array(rng.standard_normal((3,)).astype(np.float32), "b")

# Valid: y = relu(x @ w + b), 2 nodes, opset 13.
valid = model_of([helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="gemm"),
                  helper.make_node("Relu", ["h"], ["y"], name="relu")], [x], [y], [w, b], name="gemm_relu")
save(valid, "valid.onnx")
data = valid.SerializeToString()

# Truncated inside the graph; random bytes (the first byte is tag 0, which no protobuf holds).
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
r = random.Random(1234)
with open(os.path.join(out, "random.onnx"), "wb") as f:
    f.write(bytes([0x07]) + bytes(r.randrange(256) for _ in range(4095)))

# A cycle: a = Add(x, bb), bb = Add(a, x).
xy = helper.make_tensor_value_info("x", f32, [2, 3])
cyc = model_of([helper.make_node("Add", ["x", "bb"], ["aa"], name="a"),
                helper.make_node("Add", ["aa", "x"], ["bb"], name="b2"),
                helper.make_node("Relu", ["bb"], ["y"], name="r")], [xy], [y])
save(cyc, "cycle.onnx", check=False)

# raw_data of 10 floats under dims [3, 4].
bad = numpy_helper.from_array(np.zeros((3, 4), np.float32), "w")
bad.raw_data = np.zeros(10, np.float32).tobytes()
m = model_of([helper.make_node("Relu", ["w"], ["y"], name="r")], [], [y], [bad])
save(m, "raw_size.onnx", check=False)

# The same through the typed field: float_data of 10 under dims [3, 4].
bad = TensorProto(name="w", data_type=f32, dims=[3, 4], float_data=[0.0] * 10)
m = model_of([helper.make_node("Relu", ["w"], ["y"], name="r")], [], [y], [bad])
save(m, "typed_size.onnx", check=False)

# A Constant node whose value tensor lies.
bad = TensorProto(name="cval", data_type=f32, dims=[5], float_data=[1.0, 2.0])
m = model_of([helper.make_node("Constant", [], ["c"], name="const", value=bad),
              helper.make_node("Relu", ["c"], ["y"], name="r")], [], [y])
save(m, "constant_size.onnx", check=False)

# 2^40 elements with 16 bytes of data.
huge = TensorProto(name="w", data_type=f32, dims=[1 << 20, 1 << 20], raw_data=b"\0" * 16)
m = model_of([helper.make_node("Relu", ["w"], ["y"], name="r")], [], [y], [huge])
save(m, "huge.onnx", check=False)

# A negative dimension.
neg = TensorProto(name="w", data_type=f32, dims=[-1, 4], raw_data=b"")
m = model_of([helper.make_node("Relu", ["w"], ["y"], name="r")], [], [y], [neg])
save(m, "negative_dim.onnx", check=False)

# Data in an external file.
ext = TensorProto(name="w", data_type=f32, dims=[4], data_location=TensorProto.EXTERNAL)
e = ext.external_data.add()
e.key, e.value = "location", "w.bin"
m = model_of([helper.make_node("Relu", ["w"], ["y"], name="r")], [], [y], [ext])
save(m, "external.onnx", check=False)

# An input no one makes.
m = model_of([helper.make_node("Relu", ["x"], ["h"], name="n1"),
              helper.make_node("Relu", ["foo"], ["y"], name="n3")], [xy], [y])
save(m, "dangling.onnx", check=False)

# Two nodes make "h".
m = model_of([helper.make_node("Relu", ["x"], ["h"], name="first"),
              helper.make_node("Sigmoid", ["x"], ["h"], name="second"),
              helper.make_node("Relu", ["h"], ["y"], name="r")], [xy], [y])
save(m, "duplicate_output.onnx", check=False)

# No graph at all.
save(onnx.ModelProto(ir_version=8), "no_graph.onnx", check=False)

# Valid, with the nodes listed out of order (the loader must not require topological order).
m = model_of([helper.make_node("Relu", ["h"], ["y"], name="relu"),
              helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="gemm")], [x], [y], [w, b])
save(m, "unordered.onnx", check=False)
# Strings holding a NUL byte, which protobuf-c would hand over cut short: an op type "Relu\0x" (read
# as Relu) and an initializer name "w\0evil" (read as w).
m = model_of([helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="gemm"),
              helper.make_node("Relu\0x", ["h"], ["y"], name="relu")], [x], [y], [w, b])
save(m, "nul_op_type.onnx", check=False)
wn = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w\0evil")
m = model_of([helper.make_node("Gemm", ["x", "w\0evil", "b"], ["h"], name="gemm"),
              helper.make_node("Relu", ["h"], ["y"], name="relu")], [x], [y], [wn, b])
save(m, "nul_name.onnx", check=False)

# Models that load but that the importer must refuse (test_onnx_load imports them): Gemm's alpha as
# an INT, Conv's kernel_shape as FLOATS, opset 999, an operator set of another domain, and declared
# shapes ([N, 7] for an output and [N, 5] for a value the graph makes [N, 10]). x is [N, 4].
xn = helper.make_tensor_value_info("x", f32, ["N", 4])
w10 = numpy_helper.from_array(rng.standard_normal((4, 10)).astype(np.float32), "w")
b10 = numpy_helper.from_array(rng.standard_normal((10,)).astype(np.float32), "b")


def gemm_relu(y_shape, gemm_attrs=None, opsets=(("", 13),), value_info=()):
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="gemm", **(gemm_attrs or {})),
                               helper.make_node("Relu", ["h"], ["y"], name="relu")], "strict", [xn],
                              [helper.make_tensor_value_info("y", f32, y_shape)], initializer=[w10, b10],
                              value_info=list(value_info))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                             producer_name="aicon-tests")


save(gemm_relu(["N", 10]), "strict_valid.onnx")
save(gemm_relu(["batch", "features"]), "strict_symbolic.onnx")
save(gemm_relu(["N", 10], {"alpha": 2}), "int_alpha.onnx", check=False)
save(gemm_relu(["N", 10], opsets=(("", 999),)), "opset_999.onnx", check=False)
save(gemm_relu(["N", 10], opsets=(("", 13), ("ai.onnx.ml", 3))), "ml_domain.onnx", check=False)
save(gemm_relu(["N", 7]), "output_shape.onnx", check=False)
save(gemm_relu(["N", 10], value_info=[helper.make_tensor_value_info("h", f32, ["N", 5])]), "value_shape.onnx",
     check=False)
xc = helper.make_tensor_value_info("x", f32, ["N", 1, 4, 4])
wc = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "w")
graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3.0, 3.0])],
                          "strict", [xc], [helper.make_tensor_value_info("y", f32, ["N", 2, 2, 2])], initializer=[wc])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "floats_kernel.onnx", check=False)
print("wrote ONNX test models to", out)
