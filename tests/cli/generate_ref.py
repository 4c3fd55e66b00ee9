# SPDX-License-Identifier: Apache-2.0
"""PyTorch 1.13's side of tests/cli/generate*.sh, with benchmarks/pytorch_gpt.py's GPT (aicon's parameter names).

  generate_ref.py check-export CKPT.h5 WINDOW.i32 ORT_LOGITS.f32 LAYERS HEADS DIM T
      the checkpoint holds GPT-2's names and loads into the PyTorch GPT; its logits for the window must equal
      onnxruntime's (of aicon export's file) within 1e-4
  generate_ref.py torch-onnx OUT.onnx PROMPT N GREEDY.bin
      a GPT of random weights (seed fixed; T 16) exported by torch.onnx at opset 17 (int64 tokens [N, T], N
      dynamic), and its greedy continuation of PROMPT by N bytes, written after the prompt to GREEDY.bin
"""
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
from pytorch_gpt import GPT  # noqa: E402

VOCAB = 256


def window(context, t):
    """aicon generate's window: the last t tokens, padded after them with 0; and where the last real one is."""
    w = list(context[-t:])
    return w + [0] * (t - len(w)), len(w) - 1


def greedy(model, prompt, n, t):
    """The prompt continued by n argmax tokens, and the smallest gap between the two largest logits taken."""
    ctx, gap = list(prompt), float("inf")
    with torch.no_grad():
        for _ in range(n):
            w, last = window(ctx, t)
            logits = model(torch.tensor([w]))[0, last]
            top = torch.topk(logits, 2).values
            gap = min(gap, float(top[0] - top[1]))
            ctx.append(int(logits.argmax()))
    return bytes(ctx), gap


def check_export(ckpt, window_path, ort_path, layers, heads, dim, t):
    import h5py

    with h5py.File(ckpt, "r") as f:
        params = {k: torch.from_numpy(f["params"][k][()]) for k in f["params"]}
    gpt2 = ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.weight",
            "ln_f.weight"]
    missing = [k for k in gpt2 if k not in params]
    assert not missing, f"{ckpt}: no {missing} among {sorted(params)}"
    model = GPT(VOCAB, t, layers, heads, dim).eval()
    model.load_state_dict(params)  # strict: every name of the PyTorch GPT, and no other
    w = np.fromfile(window_path, dtype=np.int32).astype(np.int64)
    with torch.no_grad():
        ref = model(torch.from_numpy(w).reshape(1, t))[0].numpy()
    ort = np.fromfile(ort_path, dtype=np.float32).reshape(t, VOCAB)
    diff = float(np.abs(ort - ref).max())
    print(f"{ckpt}: {len(params)} tensors under GPT-2's names; onnxruntime's logits of the export against PyTorch's "
          f"from the checkpoint: max |diff| {diff:.3g} (max |logit| {float(np.abs(ref).max()):.3g})")
    assert diff <= 1e-4, "onnxruntime's logits differ from PyTorch's by more than 1e-4"


def torch_onnx(out, prompt, n, greedy_path):
    torch.manual_seed(3)
    t, model = 16, GPT(VOCAB, 16, 2, 4, 64).eval()
    with torch.no_grad():  # larger than GPT-2's 0.02: varied text, logits far apart, so no argmax is rounding's
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)
    warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the attention scale traced as a constant: it is one
    torch.onnx.export(model, torch.zeros(2, t, dtype=torch.int64), out, opset_version=17, input_names=["tokens"],
                      output_names=["logits"], dynamic_axes={"tokens": {0: "N"}, "logits": {0: "N"}})
    text, gap = greedy(model, prompt.encode(), n, t)
    open(greedy_path, "wb").write(text)
    print(f"PyTorch's greedy continuation: {text!r} (smallest top-2 logit gap {gap:.3g})")
    assert gap > 1e-3, "two logits nearly tie: the comparison would test rounding"


if __name__ == "__main__":
    torch.set_num_threads(1)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "check-export":
        check_export(args[0], args[1], args[2], *map(int, args[3:7]))
    elif cmd == "torch-onnx":
        torch_onnx(args[0], args[1], int(args[2]), args[3])
    else:
        sys.exit(f"unknown command {cmd}")
