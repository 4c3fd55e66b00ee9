#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ONNX round trip: a PyTorch CNN (Debian's python3-torch) exported to ONNX is imported by
# `aicon train`, trained one full epoch on Debian's Fashion-MNIST with 2 ranks, and exported; then
#  (a) Debian's python3-onnx full checker accepts the exported file;
#  (b) test_onnx_export --logits imports it back and computes aicon's logits on the whole 10000-image
#      test set, fed its raw bytes (the export divides by 255 as aicon's IDX reader does): their
#      accuracy equals the test_accuracy of the run's --summary;
#  (c) onnxruntime (npm onnxruntime-node, installed into ORT_DIR when missing, as onnx_export.sh does;
#      the test fails when it cannot be installed) predicts the test set with the same accuracy, and
#      its logits match aicon's within 1e-5 of the largest |logit|.
# Usage: onnx_roundtrip.sh AICON DATA_DIR TEST_ONNX_EXPORT ORT_DIR [MPIRUN...]
set -euo pipefail
HELPER=$3 ORT_DIR=$4
set -- "$1" "$2" "${@:5}"
CLI_NEEDS_DATA=0
. "$(dirname "$0")/common.sh"
FMNIST=${AICON_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
[ -f "$FMNIST/t10k-images-idx3-ubyte.gz" ] || fail "$FMNIST has no Fashion-MNIST (Debian's data set)"
# One epoch of 60000 samples on 2 ranks: well above the short runs' default limit.
RUN_TIMEOUT=${AICON_ROUNDTRIP_TIMEOUT:-300}

# The CNN (Conv 1->8 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 8*14*14 -> 10), and the test set as
# raw float32 in [0, 1] (what --normalize none feeds: byte / 255) with its labels (int32).
"${PY[@]}" - "$WORK" "$FMNIST" <<'PYEOF'
import gzip
import sys
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
out, data = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 10))
cnn.eval()
torch.onnx.export(cnn, torch.zeros(1, 1, 28, 28), f"{out}/cnn.onnx", opset_version=13, do_constant_folding=True,
                  input_names=["image"], output_names=["logits"],
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

with gzip.open(f"{data}/t10k-images-idx3-ubyte.gz", "rb") as f:
    b = f.read()
assert int.from_bytes(b[:4], "big") == 0x803, "not an IDX image file"
n, h, w = (int.from_bytes(b[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
x = np.frombuffer(b, dtype=np.uint8, offset=16).reshape(n, 1, h, w)
x.astype(np.float32).tofile(f"{out}/x.f32")  # raw bytes: the export divides by 255 as the reader did
with gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz", "rb") as f:
    b = f.read()
assert int.from_bytes(b[:4], "big") == 0x801, "not an IDX label file"
np.frombuffer(b, dtype=np.uint8, offset=8).astype(np.int32).tofile(f"{out}/y.i32")
print(f"cnn.onnx exported; test set: {n} images {h}x{w}")
PYEOF
N=$(( $(stat -c %s "$WORK/y.i32") / 4 ))

# Import, train one epoch on 2 ranks, export.
t0=$(date +%s.%N)
aicon_np 2 train train --model "$WORK/cnn.onnx" --data "$FMNIST" --epochs 1 --normalize none \
    --export "$WORK/trained.onnx" --summary "$WORK/s.json" --quiet
t1=$(date +%s.%N)
acc=$(json_field "$WORK/s.json" test_accuracy)
steps=$(json_field "$WORK/s.json" steps)
printf 'aicon: 1 epoch (%s steps) on 2 ranks in %.1f s; test accuracy %s\n' "$steps" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$acc"

# (a)
"${PY[@]}" - "$WORK/trained.onnx" <<'PYEOF'
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
names = [i.name for i in m.graph.input], [o.name for o in m.graph.output]
assert names == (["image"], ["logits"]), f"graph input and output {names}, not cnn.onnx's image and logits"
print(f"{sys.argv[1]}: checker passes; IR {m.ir_version}, nodes", " ".join(n.op_type for n in m.graph.node))
PYEOF

# (b) aicon's logits from the exported file
timeout -k 5 120 "$HELPER" --logits "$WORK/trained.onnx" "$WORK/x.f32" "$N" 1 28 28 "$WORK/aicon.f32" ||
    fail "test_onnx_export --logits failed on the exported model"

ort_prepare "$ORT_DIR"
ort_run "$WORK/trained.onnx" "$WORK/x.f32" "$N,1,28,28" "$WORK/ort.f32"

# (b) and (c): the figures
"${PY[@]}" - "$WORK" "$acc" <<'PYEOF'
import sys

import numpy as np

w, acc = sys.argv[1], float(sys.argv[2])
y = np.fromfile(f"{w}/y.i32", dtype=np.int32)
a = np.fromfile(f"{w}/aicon.f32", dtype=np.float32).reshape(len(y), 10)
hits_a = int((a.argmax(1) == y).sum())
print(f"aicon, exported file re-imported: {hits_a}/{len(y)} correct ({hits_a / len(y):.4f}); "
      f"--summary test_accuracy {acc:.6f}")
assert hits_a == round(acc * len(y)), "the re-imported model's accuracy differs from the run's test_accuracy"
o = np.fromfile(f"{w}/ort.f32", dtype=np.float32).reshape(len(y), 10)
hits_o = int((o.argmax(1) == y).sum())
diff, scale = float(np.abs(a - o).max()), float(np.abs(a).max())
print(f"onnxruntime: {hits_o}/{len(y)} correct ({hits_o / len(y):.4f}); logits vs aicon: max |diff| "
      f"{diff:.3g}, max |logit| {scale:.3g}, relative {diff / scale:.3g}; argmax differs on "
      f"{int((a.argmax(1) != o.argmax(1)).sum())}")
assert hits_o == hits_a, "onnxruntime's accuracy differs from aicon's"
assert diff <= 1e-5 * scale, "logits differ by more than 1e-5 of the largest"
PYEOF
assert_no_leftover_processes
echo "PASS"
