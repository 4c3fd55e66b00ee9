# SPDX-License-Identifier: Apache-2.0
"""Writes the ONNX models test_onnx_import reads, each with a data file of its inputs and the outputs
numpy computes for them. Run with Debian's /usr/bin/python3 (python3-onnx):
make_import_models.py OUTDIR.

NAME.data: int32 count of arrays, then per array an int32 element count and that many float32s
(little-endian): the graph inputs in graph order, then the graph outputs in graph order."""
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(2024)
f32 = TensorProto.FLOAT
N = 3  # samples in each data file


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def vi(name, shape):
    return helper.make_tensor_value_info(name, f32, shape)


def save(name, nodes, inputs, outputs, inits, arrays_in, arrays_out, check=True, opset=13):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="aicon-tests")
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())
    with open(os.path.join(out, name + ".data"), "wb") as f:
        arrays = list(arrays_in) + list(arrays_out)
        f.write(struct.pack("<i", len(arrays)))
        for a in arrays:
            a = np.ascontiguousarray(a, dtype="<f4")
            f.write(struct.pack("<i", a.size))
            f.write(a.tobytes())


# ---- numpy references (float64 inside, as the ONNX operator definitions read) ----

def conv2d(x, w, b, stride, pad, dil=(1, 1), group=1):
    n, c, h, wd = x.shape
    oc, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, oc, oh, ow))
    ocg = oc // group
    for o in range(oc):
        gi = o // ocg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, gi * cg:(gi + 1) * cg, i * stride[0]:i * stride[0] + dil[0] * (kh - 1) + 1:dil[0],
                           j * stride[1]:j * stride[1] + dil[1] * (kw - 1) + 1:dil[1]]
                y[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
        if b is not None:
            y[:, o] += b[o]
    return y


def pool2d(x, k, stride, pad, mode, count_include_pad=False):
    n, c, h, w = x.shape
    oh = (h + 2 * pad[0] - k[0]) // stride[0] + 1
    ow = (w + 2 * pad[1] - k[1]) // stride[1] + 1
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])), constant_values=fill)
    ones = np.pad(np.ones((h, w)), ((pad[0], pad[0]), (pad[1], pad[1])))
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            sl = (slice(i * stride[0], i * stride[0] + k[0]), slice(j * stride[1], j * stride[1] + k[1]))
            win = xp[:, :, sl[0], sl[1]]
            if mode == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                cnt = k[0] * k[1] if count_include_pad else ones[sl].sum()
                y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- mlp: Gemm(transB=1) + Relu + Gemm(transB=0, alpha, beta, C [1, M]), and MatMul + Sigmoid;
# the nodes are listed out of order, so the importer has to sort them ----
x = rand(N, 8)
w1, b1 = rand(16, 8), rand(16)
w2, c2 = rand(16, 5), rand(1, 5)
w3 = rand(16, 4)
h = np.maximum(x.astype(np.float64) @ w1.T.astype(np.float64) + b1, 0)
y1 = 0.5 * (h @ w2) + 2.0 * c2
y2 = sigmoid(h @ w3)
nodes = [
    helper.make_node("Sigmoid", ["m"], ["y2"], name="sig"),
    helper.make_node("Gemm", ["h", "w2", "c2"], ["y1"], name="fc2", alpha=0.5, beta=2.0),
    helper.make_node("MatMul", ["h", "w3"], ["m"], name="mm"),
    helper.make_node("Relu", ["h0"], ["h"], name="relu"),
    helper.make_node("Gemm", ["x", "w1", "b1"], ["h0"], name="fc1", transB=1),
]
save("mlp", nodes, [vi("x", ["batch", 8])], [vi("y1", ["batch", 5]), vi("y2", ["batch", 4])],
     [init("w1", w1), init("b1", b1), init("w2", w2), helper.make_tensor("c2", f32, [1, 5], c2.ravel().tolist()), init("w3", w3)], [x], [y1, y2],
     check=False)  # the checker wants sorted nodes

# ---- cnn: Conv(pads, stride 2, group 2, unnamed) + BatchNormalization + MaxPool (strides default 1)
# + Dropout (as a training-mode export writes it: training_mode true; the identity when evaluating)
# + Flatten + Gemm ----
x = rand(N, 4, 9, 9)
wc, bc = rand(6, 2, 3, 3), rand(6)
scale, bias, mean, var = rand(6, lo=0.5, hi=1.5), rand(6), rand(6), rand(6, lo=0.5, hi=2.0)
c = conv2d(x.astype(np.float64), wc, bc, (2, 2), (1, 1), group=2)  # N x 6 x 5 x 5
bn = (c - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3) * scale[None, :, None, None] \
    + bias[None, :, None, None]
p = pool2d(bn, (2, 2), (1, 1), (0, 0), "max")  # N x 6 x 4 x 4
wf, bf = rand(3, 96), rand(3)
y = p.reshape(N, -1) @ wf.T + bf
nodes = [
    helper.make_node("Conv", ["x", "wc", "bc"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2], group=2,
                     kernel_shape=[3, 3]),
    helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["bn"], name="bn", epsilon=1e-3),
    helper.make_node("MaxPool", ["bn"], ["p"], name="pool", kernel_shape=[2, 2]),
    helper.make_node("Dropout", ["p", "ratio", "training_mode"], ["d"], name="drop"),
    helper.make_node("Flatten", ["d"], ["f"], name="flat", axis=1),
    helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
]
save("cnn", nodes, [vi("x", [N, 4, 9, 9])], [vi("y", [N, 3])],
     [init("wc", wc), init("bc", bc), init("scale", scale), init("bias", bias), init("mean", mean),
      init("var", var), init("ratio", np.array(0.3, np.float32)),
      helper.make_tensor("training_mode", TensorProto.BOOL, [], [True]), init("wf", wf), init("bf", bf)], [x], [y])

# ---- branch: Relu/Sigmoid + Add, Concat (axis -3), AveragePool with and without count_include_pad,
# GlobalAveragePool + Reshape (Constant shape) + Identity, Conv with auto_pad SAME_UPPER ----
x = rand(N, 3, 6, 6)
x64 = x.astype(np.float64)
a = np.maximum(x64, 0) + sigmoid(x64)
d = np.concatenate([a, x64], axis=1)  # N x 6 x 6 x 6
e = pool2d(d, (3, 3), (1, 1), (1, 1), "avg", count_include_pad=True)
yg = e.mean(axis=(2, 3))  # N x 6
y2 = pool2d(d, (3, 3), (2, 2), (1, 1), "avg", count_include_pad=False)  # N x 6 x 3 x 3
ws = rand(2, 3, 3, 3)
y3 = conv2d(x64, ws, None, (1, 1), (1, 1))  # SAME_UPPER with stride 1, kernel 3: pads 1
shape = helper.make_tensor("shape", TensorProto.INT64, [2], [0, -1])
nodes = [
    helper.make_node("Relu", ["x"], ["r"], name="relu"),
    helper.make_node("Sigmoid", ["x"], ["s"], name="sig"),
    helper.make_node("Add", ["r", "s"], ["a"], name="add"),
    helper.make_node("Concat", ["a", "x"], ["d"], name="cat", axis=-3),
    helper.make_node("AveragePool", ["d"], ["e"], name="avg1", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                     count_include_pad=1),
    helper.make_node("GlobalAveragePool", ["e"], ["g"], name="gap"),
    helper.make_node("Constant", [], ["shp"], name="shape_const", value=shape),
    helper.make_node("Reshape", ["g", "shp"], ["gr"], name="reshape"),
    helper.make_node("Identity", ["gr"], ["y1"], name="ident"),
    helper.make_node("AveragePool", ["d"], ["y2"], name="avg2", kernel_shape=[3, 3], strides=[2, 2],
                     pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["x", "ws"], ["y3"], name="same", auto_pad="SAME_UPPER"),
]
save("branch", nodes, [vi("x", [N, 3, 6, 6])], [vi("y1", [N, 6]), vi("y2", [N, 6, 3, 3]), vi("y3", [N, 2, 6, 6])],
     [init("ws", ws)], [x], [yg, y2, y3])

# ---- acts: LeakyRelu, Clip with constant bounds (opset 13 inputs), Softmax on the last axis,
# LogSoftmax on a middle one ----
x = rand(N, 3, 4, lo=-2, hi=2)
lo_c, hi_c = np.float32(-0.5), np.float32(0.7)
leaky = np.where(x >= 0, x, np.float32(0.2) * x)
clipped = np.clip(leaky, lo_c, hi_c)
e = np.exp(clipped.astype(np.float64) - clipped.max(axis=2, keepdims=True))
soft = (e / e.sum(axis=2, keepdims=True)).astype(np.float32)
lse = np.log(np.exp(x.astype(np.float64)).sum(axis=1, keepdims=True))
logsoft = (x - lse).astype(np.float32)
nodes = [
    helper.make_node("LeakyRelu", ["x"], ["l"], name="leaky", alpha=0.2),
    helper.make_node("Clip", ["l", "lo", "hi"], ["c"], name="clip"),
    helper.make_node("Softmax", ["c"], ["s"], name="soft", axis=-1),
    helper.make_node("LogSoftmax", ["x"], ["ls"], name="logsoft", axis=1),
]
save("acts", nodes, [vi("x", [N, 3, 4])], [vi("s", [N, 3, 4]), vi("ls", [N, 3, 4])],
     [init("lo", lo_c), init("hi", hi_c)], [x], [soft, logsoft])

# ---- arith: Sub/Div/Mul/Add with broadcast per-channel constants (a [1,C,1,1] one too, its leading 1
# lining up with the batch), x * y of two activations broadcast over channels and width, x * x, and
# scalar constants on either side (1 + x*x, 2 / s, 0.5 - ...) ----
x = rand(N, 3, 4, 5, lo=-2, hi=2)
y = rand(N, 1, 4, 1)
mean_c = rand(3, 1, 1)
std_c = rand(3, 1, 1, lo=0.5, hi=1.5)
gamma_c = rand(1, 3, 1, 1)
beta_c = rand(3, 1, 1)
one_c, two_c, half_c = np.float32(1.0), np.float32(2.0), np.float32(0.5)
x64 = x.astype(np.float64)
norm = ((x64 - mean_c) / std_c * gamma_c + beta_c).astype(np.float32)
prod = (x64 * y).astype(np.float32)
recip = (half_c - two_c / (one_c + x64 * x64)).astype(np.float32)
nodes = [
    helper.make_node("Sub", ["x", "mean"], ["t1"], name="sub"),
    helper.make_node("Div", ["t1", "std"], ["t2"], name="div"),
    helper.make_node("Mul", ["t2", "gamma"], ["t3"], name="mul"),
    helper.make_node("Add", ["t3", "beta"], ["norm"], name="add"),
    helper.make_node("Mul", ["x", "y"], ["prod"], name="xy"),
    helper.make_node("Mul", ["x", "x"], ["sq"], name="sq"),
    helper.make_node("Add", ["one", "sq"], ["s"], name="one_plus"),
    helper.make_node("Div", ["two", "s"], ["r"], name="two_over"),
    helper.make_node("Sub", ["half", "r"], ["recip"], name="half_minus"),
]
save("arith", nodes, [vi("x", [N, 3, 4, 5]), vi("y", [N, 1, 4, 1])],
     [vi("norm", [N, 3, 4, 5]), vi("prod", [N, 3, 4, 5]), vi("recip", [N, 3, 4, 5])],
     [init("mean", mean_c), init("std", std_c), init("gamma", gamma_c), init("beta", beta_c), init("one", one_c),
      init("two", two_c), init("half", half_c)], [x, y], [norm, prod, recip])

# ---- viewflat: what torch.onnx.export writes for x.view(x.size(0), -1) after a Conv (dynamic batch):
# Shape -> Gather(0) -> Unsqueeze -> Concat with [-1] -> Reshape, plus a Cast to int64 on the way; the
# shape nodes are folded at import and become no ops ----
x = rand(N, 2, 5, 5)
wv, bv = rand(3, 2, 3, 3), rand(3)
c = conv2d(x.astype(np.float64), wv, bv, (1, 1), (0, 0))  # N x 3 x 3 x 3
y = np.maximum(c.reshape(c.shape[0], -1), 0).astype(np.float32)
i64 = TensorProto.INT64
nodes = [
    helper.make_node("Conv", ["x", "wv", "bv"], ["c"], name="conv", kernel_shape=[3, 3]),
    helper.make_node("Shape", ["c"], ["fold_s"], name="fold_shape"),
    helper.make_node("Constant", [], ["fold_i"], name="fold_const_i",
                     value=helper.make_tensor("fold_iv", i64, [], [0])),
    helper.make_node("Gather", ["fold_s", "fold_i"], ["fold_g"], name="fold_gather", axis=0),
    helper.make_node("Constant", [], ["fold_ax"], name="fold_const_ax",
                     value=helper.make_tensor("fold_axv", i64, [1], [0])),
    helper.make_node("Unsqueeze", ["fold_g", "fold_ax"], ["fold_u"], name="fold_unsq"),
    helper.make_node("Constant", [], ["fold_m1"], name="fold_const_m1",
                     value=helper.make_tensor("fold_m1v", i64, [1], [-1])),
    helper.make_node("Concat", ["fold_u", "fold_m1"], ["fold_t"], name="fold_cat", axis=0),
    helper.make_node("Cast", ["fold_t"], ["fold_t64"], name="fold_cast", to=i64),
    helper.make_node("Reshape", ["c", "fold_t64"], ["v"], name="view"),
    helper.make_node("Relu", ["v"], ["y"], name="relu"),
]
save("viewflat", nodes, [vi("x", ["batch", 2, 5, 5])], [vi("y", ["batch", 27])], [init("wv", wv), init("bv", bv)],
     [x], [y])

# ---- transpose: two Transposes that keep the batch first, a Relu between ----
x = rand(N, 2, 3, 4)
y = np.maximum(x.transpose(0, 3, 1, 2), 0).transpose(0, 2, 1, 3)  # N x 2 x 4 x 3
nodes = [
    helper.make_node("Transpose", ["x"], ["t"], name="tr1", perm=[0, 3, 1, 2]),
    helper.make_node("Relu", ["t"], ["r"], name="relu"),
    helper.make_node("Transpose", ["r"], ["y"], name="tr2", perm=[0, 2, 1, 3]),
]
save("transpose", nodes, [vi("x", ["batch", 2, 3, 4])], [vi("y", ["batch", 2, 4, 3])], [], [x], [y])

# ---- layernorm (opset 17): LayerNormalization on the last axis with Scale and B, then over both
# per-sample axes (axis 1) with Scale only, epsilon 1e-3, and its Mean output named but unused ----
def layernorm(x, axis, scale, bias, eps):
    axes = tuple(range(axis, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * scale + (0 if bias is None else bias)


x = rand(N, 3, 4, lo=-1.0, hi=2.0)
s1, b1, s2 = rand(4, lo=0.5, hi=1.5), rand(4), rand(3, 4, lo=0.5, hi=1.5)
y1 = layernorm(x.astype(np.float64), 2, s1, b1, 1e-5)
y2 = layernorm(y1, 1, s2, None, 1e-3)
nodes = [
    helper.make_node("LayerNormalization", ["x", "s1", "b1"], ["y1"], name="ln1", axis=-1),
    helper.make_node("LayerNormalization", ["y1", "s2"], ["y2", "ln2_mean"], name="ln2", axis=1, epsilon=1e-3),
]
save("layernorm", nodes, [vi("x", ["batch", 3, 4])], [vi("y1", ["batch", 3, 4]), vi("y2", ["batch", 3, 4])],
     [init("s1", s1), init("b1", b1), init("s2", s2)], [x], [y1, y2], opset=17)

# ---- attention: MatMul of two activations, Q K^T (K through a Transpose) and softmax(Q K^T) V with V
# broadcast over the heads (its head dim is 1) ----
q, k, v = rand(N, 2, 3, 4), rand(N, 2, 5, 4), rand(N, 1, 5, 4)
s = q.astype(np.float64) @ k.astype(np.float64).transpose(0, 1, 3, 2)  # N x 2 x 3 x 5
e = np.exp(s - s.max(axis=-1, keepdims=True))
y = (e / e.sum(axis=-1, keepdims=True)) @ v  # N x 2 x 3 x 4
nodes = [
    helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 1, 3, 2]),
    helper.make_node("MatMul", ["q", "kt"], ["s"], name="qk"),
    helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=-1),
    helper.make_node("MatMul", ["p", "v"], ["y"], name="pv"),
]
save("attention", nodes, [vi("q", ["batch", 2, 3, 4]), vi("k", ["batch", 2, 5, 4]), vi("v", ["batch", 1, 5, 4])],
     [vi("s", ["batch", 2, 3, 5]), vi("y", ["batch", 2, 3, 4])], [], [q, k, v], [s, y])

# ---- attention_mask: two attentions of one q, k and v that share k's Transpose, scaled by a constant
# (Mul) and masked before the Softmax: by Where(-inf) on the causal triangle for T 4 < S 6 (bottom-right
# aligned: key j hidden from query i when j > i + 2), which imports as one fused attention op, and by an
# Add of -inf where j > i, not that triangle, which imports op by op ----
q, k, v = rand(N, 2, 4, 8), rand(N, 2, 6, 8), rand(N, 2, 6, 8)
T, S = 4, 6
s = 0.3 * (q.astype(np.float64) @ k.astype(np.float64).transpose(0, 1, 3, 2))  # N x 2 x 4 x 6
hide = np.arange(S)[None, :] > np.arange(T)[:, None] + (S - T)
ys = []
for h in (hide, np.arange(S)[None, :] > np.arange(T)[:, None]):
    e = np.exp(np.where(h, -np.inf, s) - s.max(axis=-1, keepdims=True))
    ys.append((e / e.sum(axis=-1, keepdims=True)) @ v)
nodes = [
    helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 1, 3, 2]),
    helper.make_node("MatMul", ["q", "kt"], ["s1"], name="qk1"),
    helper.make_node("Mul", ["s1", "scale"], ["ss1"], name="scale1"),
    helper.make_node("Where", ["hide", "minf", "ss1"], ["m1"], name="mask1"),
    helper.make_node("Softmax", ["m1"], ["p1"], name="softmax1", axis=-1),
    helper.make_node("MatMul", ["p1", "v"], ["y1"], name="pv1"),
    helper.make_node("MatMul", ["q", "kt"], ["s2"], name="qk2"),
    helper.make_node("Mul", ["scale", "s2"], ["ss2"], name="scale2"),
    helper.make_node("Add", ["ss2", "upper"], ["m2"], name="mask2"),
    helper.make_node("Softmax", ["m2"], ["p2"], name="softmax2", axis=-1),
    helper.make_node("MatMul", ["p2", "v"], ["y2"], name="pv2"),
]
upper = np.where(np.arange(S)[None, :] > np.arange(T)[:, None], -np.inf, 0).astype(np.float32)
inits = [init("scale", np.array(0.3, dtype=np.float32)), init("hide", hide.reshape(1, 1, T, S)),
         init("minf", np.array(-np.inf, dtype=np.float32)), init("upper", upper)]
save("attention_mask", nodes, [vi("q", ["batch", 2, T, 8]), vi("k", ["batch", 2, S, 8]), vi("v", ["batch", 2, S, 8])],
     [vi("y1", ["batch", 2, T, 8]), vi("y2", ["batch", 2, T, 8])], inits, [q, k, v], ys)

# ---- reduce_pow: ReduceSum with its axes an input (opset 13), ReduceMax over two axes without keepdims,
# ReduceSum with no axes and noop_with_empty_axes (the identity), and Pow with an int64 and a float
# exponent, the int64 one on negative values ----
x = rand(N, 3, 4, lo=-2.0, hi=2.0)
xd = x.astype(np.float64)
s = xd.sum(axis=2, keepdims=True)
mx = xd.max(axis=(1, 2))
p2 = xd ** 2
shift = np.array([-x.min() + 0.5], dtype=np.float32)
p3 = (x + shift).astype(np.float64) ** 1.5
nodes = [
    helper.make_node("ReduceSum", ["x", "axes"], ["s"], name="sum"),
    helper.make_node("ReduceMax", ["x"], ["mx"], name="max", axes=[-1, 1], keepdims=0),
    helper.make_node("ReduceSum", ["x"], ["same"], name="noop", noop_with_empty_axes=1),
    helper.make_node("Pow", ["same", "two"], ["p2"], name="pow2"),
    helper.make_node("Add", ["x", "shift"], ["xs"], name="shift"),
    helper.make_node("Pow", ["xs", "e15"], ["p3"], name="pow15"),
]
save("reduce_pow", nodes, [vi("x", ["batch", 3, 4])],
     [vi("s", ["batch", 3, 1]), vi("mx", ["batch"]), vi("p2", ["batch", 3, 4]), vi("p3", ["batch", 3, 4])],
     [numpy_helper.from_array(np.array([-1], dtype=np.int64), "axes"),
      numpy_helper.from_array(np.array(2, dtype=np.int64), "two"),
      init("shift", shift),
      numpy_helper.from_array(np.array(1.5, dtype=np.float32), "e15")],
     [x], [s, mx, p2, p3])

# ---- slicing9: Slice, Pad, Split, Squeeze, Unsqueeze with their attributes (opset 9): a Slice entry
# on the batch axis that keeps it whole (dropped), reflect and edge pads, a constant pad that crops one
# side, unequal split sizes ----
x = rand(N, 4, 6)
s = x[:, 1:3, 1:6]
i64max = np.iinfo(np.int64).max
nodes = [
    helper.make_node("Slice", ["x"], ["s"], name="slice", starts=[0, 1, -5], ends=[i64max, 3, 100], axes=[0, 1, 2]),
    helper.make_node("Pad", ["s"], ["refl"], name="reflect", mode="reflect", pads=[0, 1, 2, 0, 1, 3]),
    helper.make_node("Split", ["x"], ["a", "b"], name="split", axis=2, split=[2, 4]),
    helper.make_node("Unsqueeze", ["a"], ["ua"], name="unsq", axes=[1]),
    helper.make_node("Squeeze", ["ua"], ["sq"], name="sq", axes=[1]),
    helper.make_node("Pad", ["b"], ["edge"], name="edge", mode="edge", pads=[0, 0, 1, 0, 0, 2]),
    helper.make_node("Pad", ["x"], ["crop"], name="crop", pads=[0, -1, 1, 0, 0, 1], value=0.5),
]
save("slicing9", nodes, [vi("x", ["batch", 4, 6])],
     [vi("refl", ["batch", 4, 10]), vi("sq", ["batch", 4, 2]), vi("edge", ["batch", 4, 7]),
      vi("crop", ["batch", 3, 8])], [], [x],
     [np.pad(s, ((0, 0), (1, 1), (2, 3)), mode="reflect"), x[:, :, :2],
      np.pad(x[:, :, 2:], ((0, 0), (0, 0), (1, 2)), mode="edge"),
      np.pad(x[:, 1:, :], ((0, 0), (0, 0), (1, 1)), constant_values=0.5)], opset=9)

# ---- slicing: the same ops with their inputs (opset 13): int32 bounds and a negative step on Slice,
# Pad's constant_value, Split's sizes, Squeeze's and Unsqueeze's axes (negative among them) ----
nodes = [
    helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["sl"], name="slice"),
    helper.make_node("Pad", ["x", "pads", "cv"], ["pd"], name="pad"),
    helper.make_node("Split", ["x", "sizes"], ["c", "d"], name="split", axis=1),
    helper.make_node("Squeeze", ["c", "ax1"], ["sq"], name="sq"),
    helper.make_node("Unsqueeze", ["d", "ax2"], ["un"], name="unsq"),
]
i32 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int32), name)
i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
save("slicing", nodes, [vi("x", ["batch", 4, 6])],
     [vi("sl", ["batch", 4, 2]), vi("pd", ["batch", 4, 8]), vi("sq", ["batch", 6]), vi("un", ["batch", 3, 1, 6, 1])],
     [i32("st", [3]), i32("en", [-100]), i32("ax", [2]), i32("sp", [-2]), i64("pads", [0, 0, 1, 0, 0, 1]),
      init("cv", np.array(1.5, dtype=np.float32)), i64("sizes", [1, 3]), i64("ax1", [1]), i64("ax2", [-1, 2])],
     [x], [x[:, :, 3::-2], np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=1.5), x[:, 0, :],
           x[:, 1:, None, :, None]])

# ---- huge: a few bytes declaring 16000 x 16000 activations per sample (1 GB a sample, just under the
# importer's per-sample cap; 64 GB for the batch of 64 the test asks for): compile must refuse it
# before allocating anything ----
save("huge", [helper.make_node("Relu", ["x"], ["y"], name="relu")], [vi("x", [N, 16000, 16000])],
     [vi("y", [N, 16000, 16000])], [], [], [])

# ---- unsupported: Det and LpNormalization side by side (ops aicon does not have), a Conv with
# asymmetric pads, a Gemm with transA, a Concat of mismatched shapes (refused by the builder), an Add
# with a constant operand, a MatMul of two activations of unequal ranks (their batch dims would not
# line up), and a Relu after the Det (skipped without a word: its input is already missing) ----
x = rand(N, 2, 5, 5)
wq = rand(2, 2, 3, 3)
nodes = [
    helper.make_node("Det", ["x"], ["s"], name="det"),
    helper.make_node("LpNormalization", ["x"], ["l"], name="lpnorm"),
    helper.make_node("Relu", ["s"], ["after"], name="after_sm"),
    helper.make_node("Conv", ["x", "wq"], ["q"], name="padsconv", pads=[0, 0, 1, 1]),
    helper.make_node("Relu", ["x"], ["fine"], name="fine"),
    helper.make_node("MaxPool", ["x"], ["mp"], name="mp", kernel_shape=[2, 2]),
    helper.make_node("Concat", ["x", "mp"], ["cat"], name="badcat", axis=1),
    helper.make_node("Flatten", ["x"], ["fl"], name="flat"),
    helper.make_node("Gemm", ["wg", "fl"], ["gm"], name="gemm_ta", transA=1),
    helper.make_node("Add", ["x", "wq"], ["ad"], name="addc"),
    helper.make_node("MatMul", ["x", "fl"], ["mm"], name="mm_ranks"),
]
save("unsupported", nodes, [vi("x", [N, 2, 5, 5])],
     [vi("after", [N, 2]), vi("l", [N, 2, 5, 5]), vi("q", [N, 2, 4, 4]), vi("fine", [N, 2, 5, 5]),
      vi("cat", None), vi("gm", None), vi("ad", None), vi("mm", None)],
     [init("wq", wq), init("wg", rand(50, 4))], [x], [], check=False)

# ---- floating: weights of the other floating types, read as float32: Gemm's B float16 (raw_data), its
# C double (double_data), and a Constant of bfloat16 (int32_data) added after; every value exact in its
# type, so the numpy reference is exact ----
x = rand(N, 4)
b16 = (np.round(rand(4, 3) * 64) / 64).astype(np.float16)
c64 = np.array([0.1, -0.25, 0.3])
bf = np.array([0.5, -1.25, 3.0], dtype=np.float32)  # exact in bfloat16: 8 bits of mantissa
nodes = [
    helper.make_node("Gemm", ["x", "b16", "c64"], ["g"], name="gemm_half"),
    helper.make_node("Constant", [], ["cbf"], name="const_bf16",
                     value=helper.make_tensor("cbf", TensorProto.BFLOAT16, [3], bf.tolist())),
    helper.make_node("Add", ["g", "cbf"], ["y"], name="add_bf16"),
]
y = x.astype(np.float64) @ b16.astype(np.float64) + c64.astype(np.float32) + bf
save("floating", nodes, [vi("x", ["batch", 4])], [vi("y", ["batch", 3])],
     [init("b16", b16), helper.make_tensor("c64", TensorProto.DOUBLE, [3], c64.tolist())], [x], [y], check=False)
