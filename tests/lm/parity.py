#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The language-model parity of `aicon train --task lm` with PyTorch 1.13 (tests/lm/parity.sh).

parity.py reference DIR SHARD: builds the GPT of benchmarks/pytorch_gpt.py (torch.manual_seed(0)),
exports it to DIR/gpt.onnx (opset 17, int64 tokens [N, T] with a dynamic N, training mode, no
constant folding): the weights aicon starts from. Then trains that same model in PyTorch on SHARD's
windows in file order (step g takes windows g*B..g*B+B-1, window i being tokens i*T..i*T+T-1 and its
labels one token on, as aicon's --no-shuffle takes them) with the settings parity.sh gives aicon, one
thread, and writes each step's loss to DIR/torch_losses.txt.

parity.py compare TOL REF.txt|A.jsonl B.jsonl: every step's loss of B (an aicon --metrics file, --log-every
1) against REF (a loss a line) or A (another metrics file), within TOL relative; prints the largest
difference and exits 1 naming the first step outside TOL."""
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
from pytorch_gpt import GPT  # noqa: E402

VOCAB, T, LAYERS, HEADS, DIM = 256, 32, 2, 4, 64
BATCH, STEPS, LR, WD, CLIP = 8, 50, 1e-3, 0.1, 1.0
SHARD_MAGIC, SHARD_VERSION = 20240520, 1


class ExportGPT(GPT):
    """benchmarks/pytorch_gpt.py's GPT with its position embedding held as [1, T, dim] and added whole: the
    ONNX importer trains an initializer added to activations only in that form (a ViT's position
    embedding; trained_operand in onnx/import.c), while wpe.weight[:T] of [T, dim] exports as a Slice that
    aicon would import as a constant and never train. The forward pass computes the same values."""

    def __init__(self):
        super().__init__(VOCAB, T, LAYERS, HEADS, DIM)
        self.wpe.weight = torch.nn.Parameter(self.wpe.weight.detach().reshape(1, T, DIM).clone())

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe.weight
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()  # tied: the importer shares the one table (aic_dense_tied)


def read_shard(path):
    """The tokens of an llm.c shard: 256 int32 of header (magic, version, count), then uint16 tokens."""
    head = np.fromfile(path, dtype="<i4", count=256)
    if head[0] != SHARD_MAGIC or head[1] != SHARD_VERSION:
        sys.exit("%s: not an llm.c token shard (magic %d, version %d)" % (path, head[0], head[1]))
    return np.fromfile(path, dtype="<u2", offset=256 * 4).astype(np.int64)[: head[2]]


def reference(out, shard):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = ExportGPT().train()
    example = torch.zeros(BATCH, T, dtype=torch.int64)
    warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the attention scale traced as a constant: it is one
    torch.onnx.export(model, example, os.path.join(out, "gpt.onnx"), opset_version=17, input_names=["tokens"],
                      output_names=["logits"], dynamic_axes={"tokens": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)

    tokens = read_shard(shard)
    windows = (len(tokens) - 1) // T
    if windows < STEPS * BATCH:
        sys.exit("%s: %d windows of %d tokens, %d needed" % (shard, windows, T, STEPS * BATCH))
    # --decay-matrices-only: decay for the parameters of rank 2 (weights, embeddings), not biases and gains
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": rest, "weight_decay": 0.0}], lr=LR)
    losses = []
    for g in range(STEPS):
        first = g * BATCH * T
        x = torch.from_numpy(tokens[first:first + BATCH * T].reshape(BATCH, T))
        y = torch.from_numpy(tokens[first + 1:first + BATCH * T + 1].reshape(BATCH, T))
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        losses.append(loss.item())
    with open(os.path.join(out, "torch_losses.txt"), "w") as f:
        f.write("".join("%.9g\n" % v for v in losses))
    print("PyTorch: %d steps, loss %.4f -> %.4f" % (STEPS, losses[0], losses[-1]))


def step_losses(path):
    """The losses of an aicon --metrics file's step records, by step, or of a file of a loss a line."""
    if path.endswith(".txt"):
        return [float(v) for v in open(path)]
    recs = [json.loads(line) for line in open(path)]
    steps = [r for r in recs if r["type"] == "step"]
    if [r["step"] for r in steps] != list(range(1, len(steps) + 1)):
        sys.exit("%s: step records are not steps 1, 2, ... (--log-every 1?)" % path)
    return [r["loss"] for r in steps]


def compare(tol, ref_path, got_path):
    ref, got = step_losses(ref_path), step_losses(got_path)
    if len(got) != len(ref):
        sys.exit("%s has %d step losses, %s %d" % (got_path, len(got), ref_path, len(ref)))
    rel = [abs(a - b) / abs(b) for a, b in zip(got, ref)]
    worst = max(range(len(rel)), key=rel.__getitem__)
    print("%d steps, loss %.6f -> %.6f; largest relative difference %.3g at step %d (%.9g against %.9g)"
          % (len(ref), ref[0], ref[-1], rel[worst], worst + 1, got[worst], ref[worst]))
    bad = [i for i, r in enumerate(rel) if not r <= tol]
    if bad:
        i = bad[0]
        sys.exit("FAIL: %s against %s: step %d loss %.9g against %.9g, %.3g relative > %g (%d steps outside)"
                 % (got_path, ref_path, i + 1, got[i], ref[i], rel[i], tol, len(bad)))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "reference":
        reference(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        compare(float(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: parity.py reference DIR SHARD | compare TOL REF.txt|A.jsonl B.jsonl")


if __name__ == "__main__":
    main()
