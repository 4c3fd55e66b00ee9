#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aicon train --model FILE.onnx`: a PyTorch MLP exported to ONNX (Debian's python3-torch) trains
# data-parallel to a useful accuracy, starts from the file's weights (not from aicon's own init),
# trains graphs ending in Softmax or LogSoftmax without a second softmax, and bad files fail with a
# message naming the file and the problem on every rank.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The MLP (Flatten, Linear 784-64, ReLU, Linear 64-10) and a few broken variants.
"${PY[@]}" - "$WORK" <<'PYEOF'
import sys
import warnings

import torch

warnings.filterwarnings("ignore")
out = sys.argv[1]
torch.manual_seed(0)


def export(model, path, shape=(1, 1, 28, 28)):
    model.eval()
    torch.onnx.export(model, torch.zeros(*shape), path, opset_version=13, do_constant_folding=True,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})


mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
export(mlp, f"{out}/mlp.onnx")
export(torch.nn.Sequential(*mlp, torch.nn.LogSoftmax(dim=1)), f"{out}/logsoftmax.onnx")
export(torch.nn.Sequential(*mlp, torch.nn.Softmax(dim=1)), f"{out}/softmax.onnx")
class Det(torch.nn.Module):  # an op aicon does not have
    def forward(self, x):
        return x * torch.det(x.view(-1, 8, 8)).unsqueeze(1)


export(torch.nn.Sequential(mlp[0], mlp[1], Det(), mlp[3]), f"{out}/det.onnx")
export(torch.nn.Sequential(mlp[1], mlp[2], mlp[3]), f"{out}/flat.onnx", shape=(1, 784))
PYEOF
head -c 1000 "$WORK/mlp.onnx" >"$WORK/truncated.onnx"

# 1. Two ranks, two epochs of the 2048-sample fixture: far better than chance (0.1).
aicon_np 2 train train --model "$WORK/mlp.onnx" --data "$DATA/train.h5" --test-data "$DATA/test.h5" --epochs 2 \
    --batch 32 --seed 5 --summary "$WORK/train.json"
acc=$(json_field "$WORK/train.json" test_accuracy)
echo "ONNX MLP, 2 ranks, 2 epochs: test accuracy $acc"
"${PY[@]}" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.6 else 1)' "$acc" ||
    fail "test accuracy $acc after 2 epochs is not above 0.6"

# 2. Training starts from the file's weights: one step at --lr 0 leaves every parameter equal,
# bit for bit, to its ONNX initializer.
aicon_np 1 lr0 train --model "$WORK/mlp.onnx" --data "$DATA/train200.h5" --batch 32 --max-steps 1 --lr 0 \
    --checkpoint "$WORK/lr0.h5"
"${PY[@]}" - "$WORK/mlp.onnx" "$WORK/lr0.h5" <<'PYEOF'
import sys

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(sys.argv[1]).graph.initializer}
params = {}
with h5py.File(sys.argv[2], "r") as f:
    f["params"].visititems(lambda name, d: params.__setitem__(name, d[()]) if isinstance(d, h5py.Dataset) else None)
print("ONNX initializers:", {k: v.shape for k, v in inits.items()})
print("checkpoint params:", {k: v.shape for k, v in params.items()})
assert len(inits) == 4 and len(params) == 4, "expected 4 initializers and 4 parameters"
left = dict(params)
for name, want in inits.items():
    match = [k for k, v in left.items() if v.shape == want.shape and v.dtype == want.dtype
             and v.tobytes() == want.tobytes()]
    assert match, f"no checkpoint parameter equals ONNX initializer {name} {want.shape} bitwise"
    print(f"ok   {name} == checkpoint {match[0]}")
    del left[match[0]]
PYEOF

# 3. A graph ending in LogSoftmax trains with the negative log-likelihood, and one ending in Softmax
# with the cross-entropy of the Softmax's input (no second softmax): the same losses, step for step,
# as the logits graph with softmax cross-entropy. The Softmax graph's loss is computed from the very
# same logits, so it must agree bit for bit. --loss nll on the LogSoftmax graph is the same loss.
for m in mlp logsoftmax softmax; do
    aicon_np 1 "three_$m" train --model "$WORK/$m.onnx" --data "$DATA/train200.h5" --batch 32 --max-steps 3 --seed 9 \
        --summary "$WORK/three_$m.json" --export "$WORK/three_$m.out.onnx"
done
aicon_np 1 three_nll train --model "$WORK/logsoftmax.onnx" --loss nll --data "$DATA/train200.h5" --batch 32 \
    --max-steps 3 --seed 9 --summary "$WORK/three_nll.json"
"${PY[@]}" - "$WORK" <<'PYEOF'
import json
import sys

import onnx

w = sys.argv[1]
loss = {m: json.load(open(f"{w}/three_{m}.json"))["train_loss"] for m in ("mlp", "logsoftmax", "softmax", "nll")}
print("train loss after 3 steps:", loss)
a = loss["mlp"]
assert abs(loss["logsoftmax"] - a) <= 1e-5 * max(1.0, abs(a)), "LogSoftmax + NLL differs from logits + cross-entropy"
assert loss["nll"] == loss["logsoftmax"], "--loss nll differs from the LogSoftmax graph's default loss"
assert loss["softmax"] == a, "Softmax graph + cross-entropy of its input differs from the logits graph"
# The trained Softmax graph is exported whole: it still ends in Softmax (probabilities out).
last = [n.op_type for n in onnx.load(f"{w}/three_softmax.out.onnx").graph.node][-1]
print("exported Softmax graph ends in", last)
assert last == "Softmax", f"the exported Softmax graph ends in {last}"
PYEOF

# 4. Bad models: every rank exits non-zero (a run past RUN_TIMEOUT is a hang; the time is printed), and
# stderr names the file and the problem.
# refused NAME MODEL PATTERN [ARGS...]
refused() {
    local name=$1 model=$2 pattern=$3 rc=0 t0 t1
    shift 3
    echo "+ mpirun -np 2 aicon train --model $model $*"
    t0=$(date +%s)
    timeout -k 5 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" train --model "$model" --data "$DATA/train200.h5" \
        --batch 32 --max-steps 2 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    t1=$(date +%s)
    cat "$WORK/$name.err"
    echo "$name: exit status $rc after $((t1 - t0)) s"
    [ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "$name: still running after $RUN_TIMEOUT s (hang)"
    [ $rc -ne 0 ] || fail "$name: aicon exited 0"
    grep -q -- "$model" "$WORK/$name.err" || fail "$name: stderr does not name $model"
    grep -Eqi -- "$pattern" "$WORK/$name.err" || fail "$name: stderr does not match '$pattern'"
}
refused truncated "$WORK/truncated.onnx" 'truncat|pars|not an ONNX|malformed|invalid'
grep -q "\[rank 1\].*truncated.onnx" "$WORK/truncated.err" || fail "truncated: rank 1 does not name the file"
refused det "$WORK/det.onnx" '\(Det, opset [0-9]+\): aicon has no such op'
refused shape "$WORK/flat.onnx" '784.*1 x 28 x 28'
refused input "$WORK/mlp.onnx" "no such graph input.*'image'" --input pixels
# An unknown --loss is a usage error naming the flag and the choices.
rc=0
"$AICON" train --model "$WORK/mlp.onnx" --loss mse >"$WORK/loss.out" 2>"$WORK/loss.err" || rc=$?
cat "$WORK/loss.err"
[ $rc -eq 2 ] || fail "--loss mse exited $rc, want 2"
grep -q -- "--loss.*mse.*cross-entropy.*nll" "$WORK/loss.err" || fail "--loss mse: stderr does not name the flag and the choices"
assert_no_leftover_processes
echo "PASS"
