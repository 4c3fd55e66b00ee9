#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gpt_parity.py TEST_GPT: runs TEST_GPT (tests/test_gpt.c) in a temporary directory, then repeats its
5 steps in PyTorch from the same initial parameters and tokens: a GPT-2 (nanoGPT's layout, the head
tied to wte, GELU's tanh form), AdamW with weight decay for the parameters of rank >= 2 only, betas
(0.9, 0.95), and torch.nn.utils.clip_grad_norm_ before each step. Checks every step's loss within 1e-4
relative and its gradient norm within 1e-5, the first step's gradients (wte's summing the embedding's
and the head's) within 1e-5 of each tensor's largest, and the final parameters within 1e-5. One thread."""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS, HEADS, DIM, T, VOCAB, BATCH, STEPS = 2, 2, 32, 16, 64, 4, 5
LR, WD, BETAS, CLIP = 3e-3, 0.1, (0.9, 0.95), 0.5


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(DIM)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(DIM, 3 * DIM)
        self.attn.c_proj = nn.Linear(DIM, DIM)
        self.ln_2 = nn.LayerNorm(DIM)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(DIM, 4 * DIM)
        self.mlp.c_proj = nn.Linear(4 * DIM, DIM)

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(DIM, dim=2)
        q, k, v = (z.view(n, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // HEADS))
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(n, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, DIM)
        self.wpe = nn.Module()
        self.wpe.weight = nn.Parameter(torch.zeros(T, DIM))
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(DIM)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe.weight
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))


def worst(a, b):
    """Largest |a - b| over the largest |b| (or 1 when that is smaller)."""
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max())))


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.argv[1], d], check=True)
        names = [line.split() for line in open(os.path.join(d, "params.txt"))]
        read = lambda f, t: np.fromfile(os.path.join(d, f), dtype=t)
        p0, p5, g0 = read("params0.f32", np.float32), read("params5.f32", np.float32), read("grads0.f32", np.float32)
        tok = read("tokens.i32", np.int32).reshape(STEPS, BATCH, T)
        tgt = read("targets.i32", np.int32).reshape(STEPS, BATCH, T)
        ref = [tuple(map(float, line.split())) for line in open(os.path.join(d, "steps.txt"))]

    model = GPT()
    params = dict(model.named_parameters())
    if sorted(params) != sorted(n[0] for n in names):
        sys.exit(f"FAIL: parameter names differ: aicon {[n[0] for n in names]}, torch {sorted(params)}")
    views, at = {}, 0
    for name, *shape in names:
        size = int(np.prod([int(s) for s in shape]))
        views[name] = (at, size, [int(s) for s in shape])
        with torch.no_grad():
            params[name].copy_(torch.from_numpy(p0[at:at + size].reshape(params[name].shape)))
        at += size
    decay = [p for n, p in params.items() if p.dim() >= 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=1e-8, foreach=False)
    failures, clipped = 0, 0
    for s in range(STEPS):
        opt.zero_grad()
        loss = model(torch.from_numpy(tok[s]).long(), torch.from_numpy(tgt[s]).long())
        loss.backward()
        if s == 0:
            for name, (at, size, _) in views.items():
                e = worst(g0[at:at + size], params[name].grad.numpy().ravel())
                if not e <= 1e-5:
                    print(f"FAIL step 1: gradient of {name} off by {e:.3g} of its largest")
                    failures += 1
        norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP))
        clipped += norm > CLIP
        opt.step()
        (l, n), el = ref[s], abs(ref[s][0] - loss.item()) / abs(loss.item())
        en = abs(n - norm) / norm
        ok = el <= 1e-4 and en <= 1e-5
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'} step {s + 1}: loss aicon {l:.7f} torch {loss.item():.7f} (rel {el:.2e}), "
              f"gradient norm {n:.6f} {norm:.6f} (rel {en:.2e})")
    for name, (at, size, _) in views.items():
        e = worst(p5[at:at + size], params[name].detach().numpy().ravel())
        if not e <= 1e-5:
            print(f"FAIL after {STEPS} steps: {name} off by {e:.3g}")
            failures += 1
    e = max(worst(p5[a:a + z], params[n].detach().numpy().ravel()) for n, (a, z, _) in views.items())
    print(f"parameters after {STEPS} steps: largest difference {e:.2e}; {clipped} of {STEPS} steps clipped")
    if clipped == 0:
        print("FAIL: no step's gradient norm passed the clip, so clipping went untested")
        failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
