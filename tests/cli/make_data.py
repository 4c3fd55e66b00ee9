# SPDX-License-Identifier: Apache-2.0
"""Write small HDF5 data sets for the aicon train CLI tests from Debian's Fashion-MNIST.

usage: make_data.py OUTDIR [SRC_DIR]

OUTDIR gets
  train.h5       the first 2048 training samples
  test.h5        the first 512 test samples
  train512.h5    the first 512 training samples (for the slower lenet tests)
  train200.h5    the first 200 training samples (200 is not a multiple of 64: a short last batch)
each with x (N x 1 x 28 x 28 float32 in [0, 1]) and y (N int64 labels), as h5py writes them.
"""
import gzip
import os
import sys

import h5py
import numpy as np


def read_idx(path, count):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return data[:count]


def write(path, x, y):
    tmp = path + ".part"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("x", data=x)
        f.create_dataset("y", data=y)
    os.replace(tmp, path)


def main():
    out = sys.argv[1]
    src = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    xtr = read_idx(os.path.join(src, "train-images-idx3-ubyte.gz"), 2048)
    ytr = read_idx(os.path.join(src, "train-labels-idx1-ubyte.gz"), 2048)
    xte = read_idx(os.path.join(src, "t10k-images-idx3-ubyte.gz"), 512)
    yte = read_idx(os.path.join(src, "t10k-labels-idx1-ubyte.gz"), 512)
    assert xtr.shape == (2048, 28, 28) and ytr.shape == (2048,), (xtr.shape, ytr.shape)
    assert xte.shape == (512, 28, 28) and yte.shape == (512,), (xte.shape, yte.shape)

    def images(a):
        return (a.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)

    def labels(a):
        return a.astype(np.int64)

    write(os.path.join(out, "train.h5"), images(xtr), labels(ytr))
    write(os.path.join(out, "test.h5"), images(xte), labels(yte))
    write(os.path.join(out, "train512.h5"), images(xtr[:512]), labels(ytr[:512]))
    write(os.path.join(out, "train200.h5"), images(xtr[:200]), labels(ytr[:200]))
    for name in ("train.h5", "test.h5", "train512.h5", "train200.h5"):
        with h5py.File(os.path.join(out, name), "r") as f:
            print(f"{name}: x {f['x'].shape} {f['x'].dtype}, y {f['y'].shape} {f['y'].dtype}, "
                  f"classes {len(np.unique(f['y'][:]))}")


if __name__ == "__main__":
    main()
