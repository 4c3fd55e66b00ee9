#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Synthetic training data for benchmarks/train.sh: an HDF5 file aicon train --data reads, with x
(N x C x H x W float32, uniform in [0, 1)) and y (N int32 labels in 0..9), both from --seed.

usage: /usr/bin/python3 benchmarks/synthetic_data.py OUT.h5 --shape 3,32,32 [--samples 4096] [--seed 0]
"""
import argparse

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--shape", required=True, help="per-sample shape, e.g. 1,28,28")
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    shape = tuple(int(d) for d in args.shape.split(","))
    rng = np.random.default_rng(args.seed)
    with h5py.File(args.out, "w") as f:
        f["x"] = rng.random((args.samples,) + shape, dtype=np.float32)
        # Every class present, so the classifier has 10 outputs whatever the seed draws.
        f["y"] = (rng.permutation(args.samples) % 10).astype(np.int32)


if __name__ == "__main__":
    main()
