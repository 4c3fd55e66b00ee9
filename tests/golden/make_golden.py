#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Golden values for tests/test_golden.c: train two small models in PyTorch and record everything the
C test needs to repeat the run in aicon and compare.

Usage: /usr/bin/python3 make_golden.py OUT.h5

Layout of OUT.h5, for each model M in {mlp, cnn}:
  /M/params/<name>  initial parameters, aicon's names, PyTorch's layouts (float32):
                    dense "<layer>.weight" out x in, "<layer>.bias" out;
                    conv  "<layer>.weight" OC x C x KH x KW, "<layer>.bias" OC
  /M/x              STEPS x B x <sample shape> float32, the batch of each step
  /M/y              STEPS x B int32 labels in [0, 10) (argmax of a fixed random linear teacher)
  /M/loss           STEPS float64: mean cross-entropy of step k's batch BEFORE step k's update
  /M/logits0        B x 10 float32: logits of step 0's batch with the initial parameters
  /M/grads0/<name>  gradients of step 0's mean loss with the initial parameters (float32); with
                    logits0 they tell a forward bug from a backward bug, and which layer has it
  /M/final/<name>   parameters after the last update (float32)
Attributes on /: steps, batch, lr, momentum, torch_version.

Training: torch.optim.SGD(lr=0.05, momentum=0.9), one batch per step, float32, one thread,
deterministic algorithms.
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 10
BATCH = 16
LR = 0.05
MOMENTUM = 0.9
CLASSES = 10


class MLP(nn.Module):
    """1x8x8 -> flatten (64) -> fc1 (32) -> relu -> fc2 (10)"""
    sample_shape = (1, 8, 8)

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = torch.flatten(x, 1)          # B x 64
        x = F.relu(self.fc1(x))          # B x 32
        return self.fc2(x)               # B x 10


class CNN(nn.Module):
    """1x12x12 -> conv1 3x3 8ch pad 1 (8x12x12) -> relu -> maxpool 2 (8x6x6)
    -> conv2 3x3 16ch pad 0 (16x4x4) -> tanh -> avgpool 2 (16x2x2) -> flatten (64) -> fc1 (10)"""
    sample_shape = (1, 12, 12)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=1, padding=0)
        self.fc1 = nn.Linear(64, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        assert x.shape[1:] == (8, 6, 6), x.shape
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        assert x.shape[1:] == (16, 2, 2), x.shape
        x = torch.flatten(x, 1)
        assert x.shape[1:] == (64,), x.shape
        return self.fc1(x)


def params_of(model):
    return {name: p.detach().cpu().numpy().astype(np.float32).copy()
            for name, p in model.named_parameters()}


def run(f, name, cls, seed):
    torch.manual_seed(seed)
    model = cls().float()
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn((STEPS, BATCH) + cls.sample_shape, generator=g, dtype=torch.float32)
    # Labels from a fixed random linear teacher, so the task is learnable and the loss moves a lot
    # in ten steps: a wrong gradient then shows in the losses, not only in the final parameters.
    teacher = torch.randn(int(np.prod(cls.sample_shape)), CLASSES, generator=g, dtype=torch.float32)
    y = torch.argmax(x.reshape(STEPS, BATCH, -1) @ teacher, dim=2)

    grp = f.create_group(name)
    pg = grp.create_group("params")
    for pname, arr in params_of(model).items():
        pg.create_dataset(pname, data=arr)
    grp.create_dataset("x", data=x.numpy().astype(np.float32))
    grp.create_dataset("y", data=y.numpy().astype(np.int32))

    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for k in range(STEPS):
        opt.zero_grad(set_to_none=False)
        logits = model(x[k])
        loss = F.cross_entropy(logits, y[k], reduction="mean")
        losses.append(float(loss.item()))
        loss.backward()
        if k == 0:
            grp.create_dataset("logits0", data=logits.detach().numpy().astype(np.float32))
            gg = grp.create_group("grads0")
            for pname, p in model.named_parameters():
                gg.create_dataset(pname, data=p.grad.detach().numpy().astype(np.float32))
        opt.step()
    grp.create_dataset("loss", data=np.array(losses, dtype=np.float64))
    fg = grp.create_group("final")
    for pname, arr in params_of(model).items():
        fg.create_dataset(pname, data=arr)
    print(name, " ".join("%.6f" % v for v in losses))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s OUT.h5\n" % sys.argv[0])
        return 2
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with h5py.File(sys.argv[1], "w") as f:
        f.attrs["steps"] = STEPS
        f.attrs["batch"] = BATCH
        f.attrs["lr"] = LR
        f.attrs["momentum"] = MOMENTUM
        f.attrs["torch_version"] = str(torch.__version__)
        run(f, "mlp", MLP, 1234)
        run(f, "cnn", CNN, 4321)
    return 0


if __name__ == "__main__":
    sys.exit(main())
