#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch peer for aicon's throughput benchmarks: trains aicon's built-in models (mlp, lenet) on
Fashion-MNIST-shaped synthetic data (1 x 28 x 28 floats in [0, 1), 10 classes), or torchvision's
ResNet-18/ResNet-50 (10 classes) on 3 x 32 x 32 ones, with SGD momentum 0.9 and cross-entropy, or
aicon's GPT (benchmarks/pytorch_gpt.py; --layers --heads --dim --seq-len --vocab) on random token
windows with AdamW (weight decay on matrices only) and gradient clipping at norm 1, as
`aicon train --task lm` trains it, and times it the way Horovod's synthetic benchmark does: `--warmup` batches, then
`--iters` timed iterations of `--batches-per-iter` batches each; throughput is the mean over
iterations, and the 95% interval is 1.96 x the standard deviation over iterations.

`--world N` (N > 1) trains data-parallel as aicon does: N processes (torch.multiprocessing spawn)
with DistributedDataParallel over gloo on 127.0.0.1, each with `--threads` threads, `--batch`
samples per rank and its own synthetic data. Each timed iteration starts and ends with a barrier
and is timed on rank 0; throughput is global (samples over all ranks per second). With N = 1 the
model trains in this process without DDP, as a single-process Horovod run would.

`--export-onnx FILE` writes the model as the seed initializes it (ONNX, training mode, so
BatchNormalization keeps its batch statistics) and exits: aicon train --model FILE then trains the
same network (benchmarks/train.sh).

Run with Debian's PyTorch: /usr/bin/python3 benchmarks/pytorch_train.py --model lenet --batch 64
Prints one JSON line (rank 0): global samples/s (all ranks) and per rank, each a mean and a 95%
half-width.
"""
import argparse
import json
import os
import socket
import sys
import time


def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# torch.set_num_threads does not reach Debian's OpenBLAS, which otherwise starts a worker per core
# at import: pin it before torch loads so "one thread" means one core, as it does for aicon.
os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads_from_argv(sys.argv))

# glibc's malloc gives each large block (PyTorch's activations and gradients) a fresh mmap and returns
# it on free, so every step faults its pages in again: 1.3-1.5x slower on the GPT here. Told to keep
# what it frees, PyTorch runs at its best, the peer a benchmark should have. glibc reads these once,
# at start-up: set them and start again (mp.spawn's children inherit them).
if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
    os.environ.update(MALLOC_MMAP_THRESHOLD_="4294967296", MALLOC_TRIM_THRESHOLD_="4294967296")
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP


def make_model(name, args=None):
    """args: --model gpt's sizes."""
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
    if name == "gpt":
        from pytorch_gpt import GPT
        return GPT(args.vocab, args.seq_len, args.layers, args.heads, args.dim)
    if name in ("resnet18", "resnet50"):
        import torchvision
        return getattr(torchvision.models, name)(num_classes=10)
    raise ValueError("unknown model %r (mlp, lenet, resnet18, resnet50)" % name)


def sample_shape(name):
    return (3, 32, 32) if name.startswith("resnet") else (1, 28, 28)


def free_port():
    """A TCP port on loopback that nothing listens on now (the usual bind-to-0 race is harmless
    here: the port is taken again within a second)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(rank, args):
    """Trains and times on one rank; rank 0 prints the JSON line. world 1: no process group."""
    world = args.world
    torch.set_num_threads(args.threads)
    if world > 1:
        dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)
    torch.manual_seed(args.seed)  # the same initial model everywhere (DDP broadcasts it anyway)
    model = make_model(args.model, args).float()
    model.train()
    if world > 1:
        model = DDP(model)
    if args.model == "gpt":
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                                lr=args.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    # Synthetic Fashion-MNIST-shaped data, held in memory as aicon holds its data set; each rank
    # has its own share.
    torch.manual_seed(args.seed + 1000 * rank)
    if args.model == "gpt":  # windows of T + 1 tokens: the input and its next tokens
        w = torch.randint(0, args.vocab, (args.data_batches, args.batch, args.seq_len + 1))
        xs, ys = w[:, :, :-1], w[:, :, 1:]
    else:
        xs = torch.rand((args.data_batches, args.batch) + sample_shape(args.model))
        ys = torch.randint(0, 10, (args.data_batches, args.batch))
    state = {"k": 0}

    def train_batch():
        k = state["k"] % args.data_batches
        state["k"] += 1
        opt.zero_grad()
        out = model(xs[k])
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), ys[k].reshape(-1))
        loss.backward()  # DDP: the gradient allreduce runs here
        if args.model == "gpt":
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    def barrier():
        if world > 1:
            dist.barrier()

    for _ in range(args.warmup):
        train_batch()

    rates = []
    for _ in range(args.iters):
        barrier()
        t0 = time.perf_counter()
        for _ in range(args.batches_per_iter):
            loss = train_batch()
        loss.item()  # the work is synchronous on CPU; this keeps the same shape as a GPU timing
        barrier()
        dt = time.perf_counter() - t0
        rates.append(world * args.batch * args.batches_per_iter / dt)

    if rank == 0:
        rates = np.array(rates)
        print(json.dumps({
            "framework": "pytorch",
            "version": str(torch.__version__),
            "model": args.model,
            "batch": args.batch,
            "threads": args.threads,
            "world": world,
            "samples_per_sec_mean": round(float(rates.mean()), 2),
            "samples_per_sec_ci95": round(float(1.96 * rates.std()), 2),
            "samples_per_sec_per_rank_mean": round(float(rates.mean()) / world, 2),
            "samples_per_sec_per_rank_ci95": round(float(1.96 * rates.std()) / world, 2),
            "tokens_per_sec_mean": round(float(rates.mean()) * args.seq_len, 2) if args.model == "gpt" else None,
        }), flush=True)
    if world > 1:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["mlp", "lenet", "resnet18", "resnet50", "gpt"], required=True)
    ap.add_argument("--layers", type=int, default=4, help="gpt: blocks")
    ap.add_argument("--heads", type=int, default=4, help="gpt: attention heads")
    ap.add_argument("--dim", type=int, default=256, help="gpt: width")
    ap.add_argument("--seq-len", type=int, default=128, help="gpt: tokens a window")
    ap.add_argument("--vocab", type=int, default=256, help="gpt: vocabulary (256: bytes)")
    ap.add_argument("--batch", type=int, default=64, help="samples per rank per step")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads, per rank")
    ap.add_argument("--world", type=int, default=1,
                    help="processes, data-parallel with DDP over gloo on 127.0.0.1 (default 1)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=5, help="untimed batches first")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations")
    ap.add_argument("--batches-per-iter", type=int, default=10)
    ap.add_argument("--data-batches", type=int, default=32,
                    help="distinct synthetic batches per rank, cycled (a small stand-in for an epoch)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--export-onnx", metavar="FILE", help="write the seed's model as ONNX and exit")
    args = ap.parse_args()
    if args.export_onnx:
        torch.manual_seed(args.seed)
        model = make_model(args.model, args).float().train()
        torch.onnx.export(model, torch.zeros((2,) + sample_shape(args.model)), args.export_onnx,
                          opset_version=13, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                          training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
        return 0
    if args.world < 1:
        ap.error("--world must be at least 1")

    if args.world == 1:
        run(0, args)
        return 0
    if not dist.is_available() or not dist.is_gloo_available():
        print("pytorch_train.py: this PyTorch has no gloo backend; --world %d needs it" % args.world,
              file=sys.stderr)
        return 1
    # Children inherit the environment: rendezvous and gloo's traffic both stay on loopback.
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(free_port())
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(run, args=(args,), nprocs=args.world, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
