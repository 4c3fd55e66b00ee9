# SPDX-License-Identifier: Apache-2.0
"""Bitwise comparison of aicon checkpoints: every dataset under /params, /buffers, /optimizer and
/state of the first file must be in every other file with the same dtype, shape and bytes, and the
other files may hold no dataset the first lacks.

usage: h5compare.py REFERENCE.h5 OTHER.h5...
"""
import sys

import h5py
import numpy as np

GROUPS = ("params", "buffers", "optimizer", "state")


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        for g in GROUPS:
            if g not in f:
                continue

            def visit(name, obj, g=g):
                if isinstance(obj, h5py.Dataset):
                    out[f"/{g}/{name}"] = obj[()]

            f[g].visititems(visit)
    return out


def main():
    ref_path, others = sys.argv[1], sys.argv[2:]
    ref = datasets(ref_path)
    if not any(k.startswith("/params/") for k in ref):
        sys.exit(f"FAIL: {ref_path} holds no datasets under /params")
    failures = 0
    for path in others:
        other = datasets(path)
        for name in sorted(set(ref) | set(other)):
            if name not in other or name not in ref:
                print(f"FAIL: {name} is only in {ref_path if name in ref else path}")
                failures += 1
                continue
            a, b = np.asarray(ref[name]), np.asarray(other[name])
            if a.dtype != b.dtype or a.shape != b.shape:
                print(f"FAIL: {name}: {a.dtype}{a.shape} in {ref_path}, {b.dtype}{b.shape} in {path}")
                failures += 1
            elif a.tobytes() != b.tobytes():
                diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
                print(f"FAIL: {name} differs between {ref_path} and {path}: "
                      f"{int(np.count_nonzero(diff))} of {a.size} elements, max |a-b| {diff.max():.3g}")
                failures += 1
        counts = {g: sum(k.startswith(f"/{g}/") for k in ref) for g in GROUPS}
        print(f"{path}: {len(ref)} datasets compared with {ref_path} "
              f"({', '.join(f'{n} under /{g}' for g, n in counts.items())})")
    if failures:
        sys.exit(f"FAIL: {failures} datasets differ")
    print("all datasets bitwise equal")


if __name__ == "__main__":
    main()
