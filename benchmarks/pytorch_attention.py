# SPDX-License-Identifier: Apache-2.0
"""PyTorch's side of benchmarks/attention.sh: the model benchmarks/attention.c times, in PyTorch 1.13
(which has no fused attention): q, k and v three embeddings of the ids 0..H*T-1, softmax(q k^T / sqrt(D)
+ causal mask) v by matmul, softmax and matmul, mse against a target; and the two batched matmuls
alone (q times k reshaped to B x H x D x T, times v), as attention.c's "bmm" path. Prints the best
forward and backward CPU times (ms) over the iterations as "pytorch forward MS", "pytorch backward
MS", "pytorch_bmm forward MS" and "pytorch_bmm backward MS" lines."""
import argparse
import math
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--causal", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, T, H, D = a.batch, a.seq, a.heads, a.dim
    embs = [torch.nn.Embedding(H * T, D) for _ in range(3)]
    ids = torch.arange(H * T).view(1, H, T).expand(B, H, T).contiguous()
    target = torch.rand(B, H, T, D) - 0.5
    mask = torch.full((T, T), float("-inf")).triu(1) if a.causal else None
    scale = 1.0 / math.sqrt(D)

    def attention(q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * scale
        if mask is not None:
            s = s + mask
        return torch.matmul(torch.softmax(s, dim=-1), v)

    def bmm(q, k, v):
        return torch.matmul(torch.matmul(q, k.reshape(B, H, D, T)), v)

    for name, path in (("pytorch", attention), ("pytorch_bmm", bmm)):
        best_f = best_b = float("inf")
        for it in range(a.iters + 1):
            for e in embs:
                e.zero_grad(set_to_none=False)
            t0 = time.process_time()
            o = path(*(e(ids) for e in embs))
            loss = torch.nn.functional.mse_loss(o, target)
            t1 = time.process_time()
            loss.backward()
            t2 = time.process_time()
            if it > 0:
                best_f = min(best_f, (t1 - t0) * 1e3)
                best_b = min(best_b, (t2 - t1) * 1e3)
        print("%s forward %.3f" % (name, best_f))
        print("%s backward %.3f" % (name, best_b))

if __name__ == "__main__":
    main()
