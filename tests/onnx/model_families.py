#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The model families researchers bring, exported by Debian's PyTorch as ONNX backend test cases for
`aicon onnx-test` (model.onnx and test_data_set_0/ with PyTorch's own output, evaluation mode,
random weights, dynamic batch of 2), at opsets 13 and 17:

  audio         a 1-D conv net (Conv1d, BatchNorm1d, MaxPool1d, a mean over time, Linear)
  encoder       nn.TransformerEncoder of two nn.TransformerEncoderLayer (batch first): inside,
                sequence-first attention with the heads merged into the batch axis
  mobilenet_v3  torchvision's mobilenet_v3_small (HardSwish, HardSigmoid, squeeze-excitation)
  unet          a small U-Net (ConvTranspose2d and nearest Upsample concatenated with the skip)
  vit           a small ViT: patches by a strided Conv2d, a class token expanded to the batch and
                concatenated in front, position embeddings, nn.TransformerEncoder, the head on x[:, 0]
  lenet_batch1  a LeNet exported with a fixed batch of 1 (no dynamic_axes: its Reshape target holds the
                literal 1), run on a batch of 3: the importer traces the batch axis through it
  lstm          nn.LSTM(4, 8, batch_first=True) and a Linear on the last hidden state h[-1] (PyTorch's
                zero initial states: ConstantOfShape of the batch-sized shape)
  gru           the same with a bidirectional nn.GRU (linear_before_reset, h[-1] the reverse direction's)
  volume        a 3-D conv net (Conv3d, MaxPool3d, a strided Conv3d, AvgPool3d without the padding in
                its count, Linear)

Usage: /usr/bin/python3 model_families.py OUTDIR
"""
import os
import sys
import warnings

import torch
import torch.nn as nn
import torchvision
from onnx import numpy_helper


class Audio(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn, self.pool = nn.Conv1d(1, 8, 5, stride=2), nn.BatchNorm1d(8), nn.MaxPool1d(2)
        self.c2, self.fc = nn.Conv1d(8, 8, 3, padding=1), nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.c1(x))))
        return self.fc(torch.relu(self.c2(x)).mean(dim=2))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down, self.pool = nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2)
        self.up_conv, self.up = nn.ConvTranspose2d(8, 8, 2, 2), nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(24, 2, 1)

    def forward(self, x):
        a = torch.relu(self.down(x))
        b = self.pool(a)
        return self.out(torch.cat([a, self.up_conv(b), self.up(b)], 1))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2 = nn.Linear(16 * 4 * 4, 32), nn.Linear(32, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.view(1, -1))))  # the export batch, written as a number


class RNNHead(nn.Module):
    def __init__(self, cell, bidirectional):
        super().__init__()
        self.rnn, self.fc = cell(4, 8, batch_first=True, bidirectional=bidirectional), nn.Linear(8, 3)

    def forward(self, x):
        h = self.rnn(x)[1]
        return self.fc((h[0] if isinstance(h, tuple) else h)[-1])


class ViT(nn.Module):
    def __init__(self, E=16):
        super().__init__()
        self.patch = nn.Conv2d(3, E, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, E))
        self.pos = nn.Parameter(torch.randn(1, 17, E))
        layer = nn.TransformerEncoderLayer(E, 2, 32, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(E, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.enc(x)[:, 0])


class Volume(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.pool = nn.Conv3d(2, 4, 3, padding=1), nn.MaxPool3d(2)
        self.c2 = nn.Conv3d(4, 6, 3, stride=(2, 1, 1), padding=1)
        self.avg = nn.AvgPool3d((1, 3, 3), stride=2, padding=(0, 1, 1), count_include_pad=False)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.c1(x)))
        return self.fc(self.avg(torch.relu(self.c2(x))).flatten(1))


def encoder():
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


FAMILIES = [  # name, constructor, input shape (batch first)
    ("audio", Audio, (2, 1, 64)),
    ("encoder", encoder, (2, 6, 16)),
    ("mobilenet_v3", lambda: torchvision.models.mobilenet_v3_small(num_classes=10), (2, 3, 32, 32)),
    ("unet", UNet, (2, 3, 8, 8)),
    ("vit", ViT, (2, 3, 16, 16)),
    ("lstm", lambda: RNNHead(nn.LSTM, False), (2, 5, 4)),
    ("gru", lambda: RNNHead(nn.GRU, True), (2, 5, 4)),
    ("volume", Volume, (2, 2, 8, 8, 8)),
]


def write_case(outdir, name, model, x, opset, run_x=None):
    """run_x: the test data's input where it differs from the one exported (then without dynamic_axes)."""
    d = os.path.join(outdir, "%s_%d" % (name, opset))
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    dynamic = None if run_x is not None else {"x": {0: "N"}, "y": {0: "N"}}
    torch.onnx.export(model, x, os.path.join(d, "model.onnx"), opset_version=opset, input_names=["x"],
                      output_names=["y"], dynamic_axes=dynamic)
    if run_x is not None:
        x = run_x
    with torch.no_grad():
        y = torch.cat([model(x[i:i + 1]) for i in range(len(x))]) if run_x is not None else model(x)
    for file, tensor, tname in (("input_0", x, "x"), ("output_0", y, "y")):
        with open(os.path.join(d, "test_data_set_0", file + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(tensor.numpy(), tname).SerializeToString())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: model_families.py OUTDIR")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    for seed, (name, make, shape) in enumerate(FAMILIES):
        for opset in (13, 17):
            torch.manual_seed(seed)
            model = make().eval()
            write_case(sys.argv[1], name, model, torch.randn(shape), opset)
    torch.manual_seed(len(FAMILIES))
    model = LeNet().eval()
    write_case(sys.argv[1], "lenet_batch1", model, torch.randn(1, 1, 28, 28), 17, run_x=torch.randn(3, 1, 28, 28))


if __name__ == "__main__":
    main()
