# SPDX-License-Identifier: Apache-2.0
"""What a dishonest miner could do to a proof log (tests/cli/proof.sh).

  proof_tamper.py reroot LOG               recompute LOG's Merkle root over its lines as they are
  proof_tamper.py perturb CHECKPOINT.h5 [DATASET]
                                           add 1e-3 to the first value of DATASET (default: the first
                                           parameter), its checksum kept valid
"""
import hashlib
import sys


def merkle(hashes):
    # RFC 6962's tree, as train/proof.c builds it
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while 2 * k < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle(hashes[:k]) + merkle(hashes[k:])).digest()


def reroot(path):
    chunks, cur, sigs = [], "", []
    for line in open(path).read().splitlines(keepends=True):
        if line.startswith("sig "):
            sigs.append(line)  # kept: they sign digests, not the root
        elif not line.startswith("root "):
            cur += line
            if line.startswith(("start ", "segment ")):
                chunks.append(cur)
                cur = ""
    root = merkle([hashlib.sha256(b"\x00" + c.encode()).digest() for c in chunks])
    with open(path, "w") as f:
        f.write("".join(chunks) + f"root {root.hex()} {len(chunks) - 1}\n" + "".join(sigs))


def perturb(path, dataset=None):
    import h5py
    with h5py.File(path, "r+") as f:
        d = f[dataset] if dataset else f["params"][sorted(f["params"].keys())[0]]
        a = d[...]
        a.flat[0] += 1e-3
        d[...] = a
        digest = hashlib.sha256(a.astype("<f4").tobytes()).hexdigest().encode()
        d.attrs.create("sha256", digest, dtype="S65")  # fixed-length, as aicon writes it


{"reroot": reroot, "perturb": perturb}[sys.argv[1]](*sys.argv[2:])
