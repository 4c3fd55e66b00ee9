# SPDX-License-Identifier: Apache-2.0
"""Compare the parameters of two aicon checkpoints to a relative tolerance.

For every dataset under /params: max |a - b| / max |a| (a from the first file). Prints each figure
and fails when one exceeds the tolerance, when the files hold different tensors or shapes, or when a
value is not finite. Bitwise equality is reported, not required.

usage: dpcompare.py A.h5 B.h5 TOLERANCE
"""
import sys

import h5py
import numpy as np


def params(path):
    out = {}
    with h5py.File(path, "r") as f:
        f["params"].visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset)
                               else None)
    return out


def main():
    path_a, path_b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a, b = params(path_a), params(path_b)
    if not a:
        sys.exit(f"FAIL: {path_a} holds no parameters")
    if sorted(a) != sorted(b):
        sys.exit(f"FAIL: different tensors: {sorted(a)} vs {sorted(b)}")
    worst, bad, identical = 0.0, [], True
    for name in sorted(a):
        x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        if x.shape != y.shape:
            sys.exit(f"FAIL: {name}: shape {x.shape} vs {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            sys.exit(f"FAIL: {name} has values that are not finite")
        scale = np.max(np.abs(x))
        diff = np.max(np.abs(x - y))
        rel = diff / scale if scale > 0 else diff
        identical = identical and a[name].tobytes() == b[name].tobytes()
        worst = max(worst, rel)
        flag = "" if rel <= tol else "  <-- above tolerance"
        print(f"  {name:14s} {str(x.shape):14s} max|a| {scale:.4g}  max|a-b| {diff:.3g}  relative {rel:.3g}{flag}")
        if rel > tol:
            bad.append(name)
    print(f"  worst relative difference {worst:.3g} (tolerance {tol:g}); "
          f"{'bitwise identical' if identical else 'not bitwise identical'}")
    if bad:
        sys.exit(f"FAIL: {', '.join(bad)} differ by more than {tol:g} relative")


if __name__ == "__main__":
    main()
