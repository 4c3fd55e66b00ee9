#!/usr/bin/python3
"""PyTorch peer for aicon's throughput benchmarks: trains aicon's built-in models (mlp, lenet) on
Fashion-MNIST-shaped synthetic data (1 x 28 x 28 floats in [0, 1), 10 classes) with SGD momentum 0.9
and cross-entropy, and times it the way Horovod's synthetic benchmark does: `--warmup` batches, then
`--iters` timed iterations of `--batches-per-iter` batches each; throughput is the mean over
iterations, and the 95% interval is 1.96 x the standard deviation over iterations.

Run with Debian's PyTorch: /usr/bin/python3 benchmarks/pytorch_train.py --model lenet --batch 64
Prints one JSON line.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_model(name):
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512), nn.ReLU(),
            nn.Linear(512, 512), nn.ReLU(),
            nn.Linear(512, 10))
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 14 x 14
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 64 x 7 x 7
            nn.Flatten(),
            nn.Linear(3136, 1024), nn.ReLU(),
            nn.Linear(1024, 10))
    raise ValueError("unknown model %r (mlp, lenet)" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["mlp", "lenet"], required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=5, help="untimed batches first")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations")
    ap.add_argument("--batches-per-iter", type=int, default=10)
    ap.add_argument("--data-batches", type=int, default=32,
                    help="distinct synthetic batches, cycled (a small stand-in for an epoch)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model(args.model).float()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    # Synthetic Fashion-MNIST-shaped data, held in memory as aicon holds its data set.
    xs = torch.rand(args.data_batches, args.batch, 1, 28, 28)
    ys = torch.randint(0, 10, (args.data_batches, args.batch))
    state = {"k": 0}

    def train_batch():
        k = state["k"] % args.data_batches
        state["k"] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[k]), ys[k])
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        train_batch()

    rates = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        for _ in range(args.batches_per_iter):
            loss = train_batch()
        loss.item()  # the work is synchronous on CPU; this keeps the same shape as a GPU timing
        dt = time.perf_counter() - t0
        rates.append(args.batch * args.batches_per_iter / dt)

    rates = np.array(rates)
    print(json.dumps({
        "framework": "pytorch",
        "version": str(torch.__version__),
        "model": args.model,
        "batch": args.batch,
        "threads": args.threads,
        "samples_per_sec_mean": round(float(rates.mean()), 2),
        "samples_per_sec_ci95": round(float(1.96 * rates.std()), 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
