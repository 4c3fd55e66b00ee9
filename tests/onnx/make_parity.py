#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference runs for tests/test_onnx_parity.c: export nineteen PyTorch models with torch.onnx.export
and train each in PyTorch for twenty SGD-with-momentum steps, recording what the C test needs to repeat
the run in aicon from the exported file and compare the losses.

Usage: /usr/bin/python3 make_parity.py OUTDIR

Writes, for each model M of MODELS:
  OUTDIR/M.onnx      at the opset MODELS gives, 13 or 17; the transformer-ish models, MobileNetV3 and
                     the RNNs at both (the opset-13 one named with a 13 suffix). At 13 each LayerNorm
                     is exported as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add, which
                     aicon fuses back into one LayerNorm with its weight and bias trained, and HardSwish
                     as HardSigmoid times x (mlp_layernorm14: opset 14, PyTorch's default, its LayerNorms
                     decomposed likewise); torch 1.13 writes the RNNs node for node alike at both.
                     Input "x" (N x sample shape, N dynamic), output "logits" (N x classes, or N x
                     classes x H x W for the U-Net), exported in training mode (TrainingMode.TRAINING,
                     no constant folding), so every BatchNormalization keeps its four parameters and
                     computes batch statistics; its initializers are the model's initial weights.
  The models: mlp, lenet, resnet18, mobilenet_v2, mlp_layernorm (two LayerNorms), transformer (a
  nn.TransformerEncoderLayer whose attention moves, merges and splits the batch axis), gpt_block
  (nanoGPT's causal block), and the families of model_families.py (their classes imported from it):
  audio (1-D conv), vit (a class token expanded to the batch and a position embedding added: both
  nn.Parameters that torch.onnx writes as initializers, which aicon must train), mobilenet_v3
  (torchvision's small, HardSwish and squeeze-excitation), unet (per-pixel classes: logits N x 2 x 8 x 8,
  labels N x 8 x 8), lstm and gru (bidirectional; 3 classes).
and OUTDIR/parity.h5 with, per model, the group /M:
  x        STEPS x B x <sample shape> float32, the batch of each step
  y        STEPS x B x <label shape> int32 labels in [0, classes) (label shape: none, or H x W)
  loss     STEPS float64: mean cross-entropy of step k's batch BEFORE step k's update
  loss64   STEPS float64: the same run in float64 (same initial weights, same batches): how far
           PyTorch's own float32 run is from exact arithmetic at each step, the noise floor that
           bounds how closely any other float32 implementation can be expected to agree
  bn_mean  float64: the sum of every BatchNorm's running mean after step 0 (absent without
           BatchNorm); it checks that PyTorch's momentum 0.1 (ONNX's 0.9) reaches aicon as 0.1
  bn_var   float64: likewise for the running variances
  attribute params: the elements of the model's nn.Parameters, which aicon must all train
Attributes on /: steps, batch, lr, momentum, torch_version, torchvision_version.

Training: model.train(), torch.optim.SGD(lr=0.01, momentum=0.9), nn.CrossEntropyLoss (mean, over the
pixels too for the U-Net), one batch per step, float32, one thread, deterministic algorithms.

The MobileNets' classifier Dropout(0.2) is set to p=0 before export: dropout masks come from each
framework's own random generator, so no two implementations can agree on them; with p=0 both sides are
the identity (PyTorch exports Dropout(ratio=0), which aicon imports as a dropout of p=0, an exact
identity in training and in evaluation). Every other op of the models is deterministic.
"""
import copy
import os
import sys
import warnings

import h5py
import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_families  # noqa: E402 (the families' model classes, shared with onnx_model_families)

STEPS = 20
BATCH = 8
LR = 0.01
MOMENTUM = 0.9
CLASSES = 10


class MLP(nn.Module):
    """1x28x28 -> flatten (784) -> fc1 (64) -> relu -> fc2 (10)"""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, CLASSES)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class LeNet(nn.Module):
    """aicon's lenet, narrower: 1x28x28 -> conv1 5x5 4ch pad 2 -> relu -> maxpool 2 (4x14x14)
    -> conv2 5x5 8ch (8x10x10) -> relu -> maxpool 2 (8x5x5) -> flatten (200) -> fc1 (32) -> relu
    -> fc2 (10)"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 5, padding=2)
        self.conv2 = nn.Conv2d(4, 8, 5)
        self.fc1 = nn.Linear(200, 32)
        self.fc2 = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


class MLPLayerNorm(nn.Module):
    """1x28x28 -> ln0 LayerNorm([28, 28]) (ONNX axis -2) -> flatten (784) -> fc1 (64) -> ln1 LayerNorm(64)
    (axis -1) -> relu -> fc2 (10). The LayerNorm weights start away from PyTorch's ones and zeros so
    that step 0 already checks the affine part."""

    def __init__(self):
        super().__init__()
        self.ln0 = nn.LayerNorm([28, 28])
        self.fc1 = nn.Linear(784, 64)
        self.ln1 = nn.LayerNorm(64)
        self.fc2 = nn.Linear(64, CLASSES)
        with torch.no_grad():
            for ln in (self.ln0, self.ln1):
                ln.weight.uniform_(0.5, 1.5)
                ln.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        x = torch.flatten(self.ln0(x), 1)
        return self.fc2(torch.relu(self.ln1(self.fc1(x))))


class Transformer(nn.Module):
    """8 tokens x 16 -> nn.TransformerEncoderLayer(16, 2 heads, feed-forward 32, no dropout, batch first)
    -> mean over the tokens -> fc (10). Inside, PyTorch's multi-head attention runs sequence-first (a
    Transpose moves the batch to axis 1), merges the heads into the batch axis (Reshape to T x (N H) x
    D, then Transpose to (N H) x T x D for the two batched MatMuls) and the tokens in front of it
    (Reshape to (T N) x E for the output projection's Gemm), with every target computed from Shape
    nodes: the reshapes aicon's batch-linear shapes follow."""

    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        return self.fc(self.enc(x).mean(dim=1))


class GPTBlock(nn.Module):
    """8 tokens x 16 -> a pre-LayerNorm GPT-2 block written out as nanoGPT does (one Linear for Q, K and V
    split three ways, heads by view and transpose, causal attention masked with masked_fill(-inf) from
    a tril buffer, a GELU MLP) -> final LayerNorm -> mean over the tokens -> fc (10). The mask is
    sliced to the sequence length from Shape nodes and compared with 0 in the graph: constants aicon
    computes at import."""

    def __init__(self, T=8, E=16, H=2):
        super().__init__()
        self.H = H
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(E), nn.LayerNorm(E), nn.LayerNorm(E)
        self.qkv = nn.Linear(E, 3 * E)
        self.proj = nn.Linear(E, E)
        self.fc1, self.fc2 = nn.Linear(E, 4 * E), nn.Linear(4 * E, E)
        self.head = nn.Linear(E, CLASSES)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def attention(self, x):
        B, T, E = x.size()
        q, k, v = self.qkv(x).split(E, dim=2)
        q, k, v = (t.view(B, T, self.H, E // self.H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (E // self.H) ** 0.5)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = torch.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, E))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        x = x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))
        return self.head(self.ln_f(x).mean(dim=1))


def no_dropout(m):
    for mod in m.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = 0.0  # see the module docstring
    return m


MF = model_families
MODELS = [  # name, constructor, sample shape, label shape per sample, classes, seed, opset
    ("mlp", MLP, (1, 28, 28), (), CLASSES, 11, 13),
    ("lenet", LeNet, (1, 28, 28), (), CLASSES, 12, 13),
    ("resnet18", lambda: torchvision.models.resnet18(num_classes=CLASSES), (3, 32, 32), (), CLASSES, 13, 13),
    ("mobilenet_v2", lambda: no_dropout(torchvision.models.mobilenet_v2(num_classes=CLASSES)), (3, 32, 32), (),
     CLASSES, 14, 13),
    ("mlp_layernorm", MLPLayerNorm, (1, 28, 28), (), CLASSES, 15, 17),
    ("mlp_layernorm14", MLPLayerNorm, (1, 28, 28), (), CLASSES, 16, 14),
    ("transformer", Transformer, (8, 16), (), CLASSES, 17, 17),
    ("transformer13", Transformer, (8, 16), (), CLASSES, 18, 13),
    ("gpt_block", GPTBlock, (8, 16), (), CLASSES, 19, 17),
    ("audio", MF.Audio, (1, 64), (), CLASSES, 20, 13),
    ("vit", MF.ViT, (3, 16, 16), (), CLASSES, 21, 17),
    ("vit13", MF.ViT, (3, 16, 16), (), CLASSES, 22, 13),
    ("mobilenet_v3", lambda: no_dropout(torchvision.models.mobilenet_v3_small(num_classes=CLASSES)), (3, 32, 32),
     (), CLASSES, 23, 17),
    ("mobilenet_v3_13", lambda: no_dropout(torchvision.models.mobilenet_v3_small(num_classes=CLASSES)),
     (3, 32, 32), (), CLASSES, 24, 13),
    ("unet", MF.UNet, (3, 8, 8), (8, 8), 2, 25, 17),
    ("lstm", lambda: MF.RNNHead(nn.LSTM, False), (5, 4), (), 3, 26, 17),
    ("lstm13", lambda: MF.RNNHead(nn.LSTM, False), (5, 4), (), 3, 27, 13),
    ("gru", lambda: MF.RNNHead(nn.GRU, True), (5, 4), (), 3, 28, 17),
    ("gru13", lambda: MF.RNNHead(nn.GRU, True), (5, 4), (), 3, 29, 13),
]


def bn_sums(model):
    mean = var = 0.0
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mean += float(mod.running_mean.double().sum())
            var += float(mod.running_var.double().sum())
    return mean, var


def run(f, outdir, name, make, shape, label_shape, classes, seed, opset):
    torch.manual_seed(seed)
    model = make().float()
    model.train()
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn((STEPS, BATCH) + shape, generator=g, dtype=torch.float32)
    y = torch.randint(0, classes, (STEPS, BATCH) + label_shape, generator=g, dtype=torch.int64)

    # Exporting traces forward passes, which in training mode move the BatchNorm running statistics
    # before the file's initializers are taken: export a copy, then start the model trained below from
    # exactly what the file holds (every initializer carries its state_dict name).
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(copy.deepcopy(model), x[0], path, opset_version=opset,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    state = model.state_dict()
    loaded = 0
    for t in onnx.load(path).graph.initializer:
        if t.name in state:
            state[t.name].copy_(torch.from_numpy(onnx.numpy_helper.to_array(t).copy()))
            loaded += 1
    n_float = sum(1 for k, v in state.items() if v.is_floating_point())
    assert loaded == n_float, "%s: %d of %d float tensors found in the ONNX file" % (name, loaded, n_float)

    grp = f.create_group(name)
    grp.attrs["params"] = sum(p.numel() for p in model.parameters())
    grp.create_dataset("x", data=x.numpy().astype(np.float32))
    grp.create_dataset("y", data=y.numpy().astype(np.int32))

    model64 = copy.deepcopy(model).double()
    losses, bn = train(model, x, y, torch.float32)
    losses64, _ = train(model64, x, y, torch.float64)
    grp.create_dataset("loss", data=np.array(losses, dtype=np.float64))
    grp.create_dataset("loss64", data=np.array(losses64, dtype=np.float64))
    if bn is not None:
        grp.create_dataset("bn_mean", data=np.float64(bn[0]))
        grp.create_dataset("bn_var", data=np.float64(bn[1]))
    print(name, "float32", " ".join("%.6f" % v for v in losses))
    print(name, "float32 vs float64",
          " ".join("%.1e" % (abs(a - b) / abs(b)) for a, b in zip(losses, losses64)))


def train(model, x, y, dtype):
    """STEPS steps; returns the losses and the BatchNorm sums after step 0 (None without BatchNorm)."""
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    lossf = nn.CrossEntropyLoss()
    losses, bn = [], None
    for k in range(STEPS):
        opt.zero_grad(set_to_none=False)
        loss = lossf(model(x[k].to(dtype)), y[k])
        losses.append(float(loss.item()))
        loss.backward()
        opt.step()
        if k == 0 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
            bn = bn_sums(model)
    return losses, bn


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s OUTDIR\n" % sys.argv[0])
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    warnings.filterwarnings("ignore")  # the exporter notes in-place ops it removes
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with h5py.File(os.path.join(outdir, "parity.h5"), "w") as f:
        f.attrs["steps"] = STEPS
        f.attrs["batch"] = BATCH
        f.attrs["lr"] = LR
        f.attrs["momentum"] = MOMENTUM
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["torchvision_version"] = str(torchvision.__version__)
        for m in MODELS:
            run(f, outdir, *m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
