#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An exported model carries its input standardization (issue 12, item 6). LeNet trains one epoch on
# 2 ranks from an IDX directory cut from the cli_data fixture (pixels stored as bytes 0..255, which
# aicon reads as byte / 255) with --normalize auto, and is exported; then
#  (a) the checkpoint's /preprocess and the --summary hold the training set's mean and std in the
#      file's units (bytes), as numpy computes them from the IDX file;
#  (b) the ONNX file passes the full checker, its input and output are `input` and `logits`, its first
#      nodes are Sub and Div by scalar initializers holding those numbers, and its metadata_props
#      say aicon.preprocess standardize, aicon.mean, aicon.std (the checkpoint's doubles exactly) and
#      aicon.version; `aicon export --checkpoint` writes the same file, byte for byte;
#  (c) fed the RAW test pixels (0..255), aicon's importer and onnxruntime (npm onnxruntime-node, as in
#      onnx_export.sh; the test fails when it cannot be installed) predict labels whose
#      accuracy is the run's test_accuracy within 0.001;
#  (d) a checkpoint without /preprocess (an older aicon's; removed with h5py) still resumes on 2
#      ranks, and `aicon export` of it warns, adds no nodes and says aicon.preprocess unknown; one
#      whose std is -1 is refused;
#  (e) --normalize none: nothing added for HDF5 data, x/255 for IDX bytes (as the reader does);
#  (f) a PyTorch CNN whose ONNX graph names its input `pixels` and its output `scores` trains from
#      an HDF5 file (values as stored) and exports under those names, standardized, with
#      onnxruntime's accuracy on the stored test values equal to the run's.
# Usage: onnx_preprocess.sh AICON DATA_DIR TEST_ONNX_EXPORT ORT_DIR [MPIRUN...]
set -euo pipefail
HELPER=$3 ORT_DIR=$4
set -- "$1" "$2" "${@:5}"
. "$(dirname "$0")/common.sh"
RUN_TIMEOUT=${AICON_PREPROCESS_TIMEOUT:-120} # one lenet epoch of 2048 samples on a loaded machine

# The IDX directory (plain, not gzipped), the raw test pixels as float32 and labels as int32, the
# stored test values of test.h5, and the CNN.
"${PY[@]}" - "$DATA" "$WORK" <<'PYEOF'
import os
import sys
import warnings

import h5py
import numpy as np
import torch

data, work = sys.argv[1:3]
os.makedirs(f"{work}/idx")


def idx(path, a):
    """An IDX file of unsigned bytes: magic 0x08, rank, big-endian dims, data."""
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape))
        f.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())


for split, name in (("train", "train"), ("test", "t10k")):
    with h5py.File(f"{data}/{split}.h5", "r") as f:
        x, y = f["x"][:], f["y"][:]
    pixels = np.rint(x[:, 0] * np.float32(255)).astype(np.uint8)  # make_data.py stored byte / 255
    assert np.array_equal(pixels.astype(np.float32) / np.float32(255), x[:, 0]), "fixture is not byte / 255"
    idx(f"{work}/idx/{name}-images-idx3-ubyte", pixels)
    idx(f"{work}/idx/{name}-labels-idx1-ubyte", y.astype(np.uint8))
    if split == "train":
        np.save(f"{work}/train_pixels.npy", pixels)
    else:
        pixels.astype(np.float32).tofile(f"{work}/raw.f32")
        np.ascontiguousarray(x, dtype=np.float32).tofile(f"{work}/stored.f32")
        y.astype(np.int32).tofile(f"{work}/y.i32")

warnings.filterwarnings("ignore")
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 10))
cnn.eval()
torch.onnx.export(cnn, torch.zeros(1, 1, 28, 28), f"{work}/cnn.onnx", opset_version=13, do_constant_folding=True,
                  input_names=["pixels"], output_names=["scores"],
                  dynamic_axes={"pixels": {0: "batch"}, "scores": {0: "batch"}})
PYEOF
N=$(( $(stat -c %s "$WORK/y.i32") / 4 ))
ort_prepare "$ORT_DIR"

# check_export ONNX CKPT SUMMARY INPUT OUTPUT: (b)'s checks of one export against its checkpoint and
# summary.
check_export() {
    "${PY[@]}" - "$@" <<'PYEOF'
import json
import sys

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

path, ckpt, summary, want_in, want_out = sys.argv[1:6]
m = onnx.load(path)
onnx.checker.check_model(m, full_check=True)
names = [i.name for i in m.graph.input], [o.name for o in m.graph.output]
assert names == ([want_in], [want_out]), f"{path}: graph input and output {names}, want {want_in}, {want_out}"
with h5py.File(ckpt, "r") as f:
    pre = dict(f["preprocess"].attrs)
kind = pre["kind"].decode() if isinstance(pre["kind"], bytes) else pre["kind"]
assert kind == "standardize", pre
mean, std = float(pre["mean"]), float(pre["std"])
s = json.load(open(summary))
assert s["preprocess"] == {"kind": "standardize", "mean": mean, "std": std}, (s["preprocess"], mean, std)
meta = {p.key: p.value for p in m.metadata_props}
assert meta["aicon.preprocess"] == "standardize", meta
assert float(meta["aicon.mean"]) == mean and float(meta["aicon.std"]) == std, (meta, mean, std)
assert meta["aicon.version"] == s["aicon_version"], meta
inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
sub, div = m.graph.node[0], m.graph.node[1]
assert sub.op_type == "Sub" and sub.input[0] == want_in, sub
assert div.op_type == "Div" and div.input[0] == sub.output[0], div
assert any(div.output[0] in n.input for n in m.graph.node[2:]), "nothing reads the standardized input"
assert not any(want_in in n.input for n in m.graph.node[1:]), "a node past Sub reads the raw input"
c_mean, c_std = inits[sub.input[1]], inits[div.input[1]]
assert c_mean.shape == () and c_std.shape == (), (c_mean.shape, c_std.shape)
assert c_mean == np.float32(mean) and c_std == np.float32(std), (c_mean, c_std, mean, std)
print(f"{path}: {want_in} -> Sub {mean:.6g} -> Div {std:.6g} -> ... -> {want_out}; metadata {meta}")
PYEOF
}

# check_accuracy NAME ONNX X.f32 ACC: (c) aicon's importer and onnxruntime, fed X.
check_accuracy() {
    timeout -k 5 "$RUN_TIMEOUT" "$HELPER" --logits "$2" "$3" "$N" 1 28 28 "$WORK/$1.aicon.f32" ||
        fail "$1: test_onnx_export --logits failed on $2"
    ort_run "$2" "$3" "$N,1,28,28" "$WORK/$1.ort.f32"
    "${PY[@]}" - "$WORK" "$1" "$4" <<'PYEOF'
import sys

import numpy as np

w, name, acc = sys.argv[1], sys.argv[2], float(sys.argv[3])
y = np.fromfile(f"{w}/y.i32", dtype=np.int32)
for who in ("aicon", "ort"):
    out = np.fromfile(f"{w}/{name}.{who}.f32", dtype=np.float32).reshape(len(y), -1)
    got = float((out.argmax(1) == y).mean())
    print(f"{name}: {who} on the raw test values: accuracy {got:.4f}, the run's test_accuracy {acc:.4f}")
    assert abs(got - acc) <= 0.001, f"{who}: accuracy {got} is not the run's {acc} within 0.001"
PYEOF
}

# (a)-(c): lenet, one epoch on 2 ranks from the IDX directory.
aicon_np 2 lenet train --model lenet --data "$WORK/idx" --epochs 1 --batch 32 --seed 11 \
    --checkpoint "$WORK/lenet.h5" --summary "$WORK/lenet.json" --export "$WORK/lenet.onnx" --quiet
"${PY[@]}" - "$WORK/lenet.h5" "$WORK/train_pixels.npy" <<'PYEOF'
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1], "r") as f:
    mean, std = float(f["preprocess"].attrs["mean"]), float(f["preprocess"].attrs["std"])
p = np.load(sys.argv[2]).astype(np.float64)
print(f"checkpoint: mean {mean:.9g} std {std:.9g}; numpy on the IDX bytes: {p.mean():.9g} {p.std():.9g}")
assert abs(mean - p.mean()) <= 1e-5 * p.mean() and abs(std - p.std()) <= 1e-5 * p.std(), "not in byte units"
PYEOF
check_export "$WORK/lenet.onnx" "$WORK/lenet.h5" "$WORK/lenet.json" input logits
aicon_np 1 export_lenet export --model lenet --checkpoint "$WORK/lenet.h5" --data "$WORK/idx" --out "$WORK/again.onnx"
cmp "$WORK/lenet.onnx" "$WORK/again.onnx" || fail "aicon export --checkpoint differs from train --export"
check_accuracy lenet "$WORK/lenet.onnx" "$WORK/raw.f32" "$(json_field "$WORK/lenet.json" test_accuracy)"

# (d) a checkpoint as an older aicon wrote it: no /preprocess.
cp "$WORK/lenet.h5" "$WORK/old.h5"
"${PY[@]}" -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); del f["preprocess"]; f.close()' "$WORK/old.h5"
aicon_np 2 resume_old train --model lenet --data "$WORK/idx" --epochs 2 --max-steps 36 --batch 32 --seed 11 \
    --resume "$WORK/old.h5" --checkpoint "$WORK/resumed.h5" --quiet
grep -q "after 36 steps" "$WORK/resume_old.out" || fail "the run resumed from old.h5 did not reach step 36"
aicon_np 1 export_old export --model lenet --checkpoint "$WORK/old.h5" --data "$WORK/idx" --out "$WORK/old.onnx"
grep -q "warning: .*old.h5 does not record how inputs were prepared" "$WORK/export_old.err" ||
    fail "aicon export of a checkpoint without /preprocess does not warn"
"${PY[@]}" - "$WORK/old.onnx" "$WORK/resumed.h5" <<'PYEOF'
import sys

import h5py
import onnx

m = onnx.load(sys.argv[1])
meta = {p.key: p.value for p in m.metadata_props}
assert meta.get("aicon.preprocess") == "unknown" and "aicon.mean" not in meta, meta
assert m.graph.node[0].op_type == "Conv", m.graph.node[0]
with h5py.File(sys.argv[2], "r") as f:
    assert f["preprocess"].attrs["kind"] in (b"standardize", "standardize"), dict(f["preprocess"].attrs)
print("a checkpoint without /preprocess resumes; its export says unknown and adds nothing")
PYEOF

# ... and one whose /preprocess is damaged is refused, naming the file and the problem.
cp "$WORK/lenet.h5" "$WORK/bad.h5"
"${PY[@]}" -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f["preprocess"].attrs["std"] = -1.0; f.close()' \
    "$WORK/bad.h5"
aicon_fails 2 resume_bad train --model lenet --data "$WORK/idx" --epochs 2 --batch 32 --resume "$WORK/bad.h5" --quiet
grep -q "bad.h5: /preprocess standardizes with mean .* and std -1 (std must be > 0)" "$WORK/resume_bad.err" ||
    fail "a checkpoint with std -1 in /preprocess is not refused with a message naming it"

# (e) --normalize none: HDF5 values are taken as stored, so nothing is added; IDX bytes are still read
# as byte/255, which the export does itself (mean 0, std 255).
aicon_np 1 none train --model lenet --data "$DATA/train200.h5" --normalize none --max-steps 2 --batch 32 \
    --checkpoint "$WORK/none.h5" --export "$WORK/none.onnx" --quiet
aicon_np 1 none_idx train --model lenet --data "$WORK/idx" --normalize none --max-steps 2 --batch 32 \
    --checkpoint "$WORK/none_idx.h5" --export "$WORK/none_idx.onnx" --quiet
"${PY[@]}" - "$WORK/none.onnx" "$WORK/none.h5" "$WORK/none_idx.onnx" "$WORK/none_idx.h5" <<'PYEOF'
import sys

import h5py
import onnx


def meta_attrs(onnx_path, h5_path):
    m = onnx.load(onnx_path)
    with h5py.File(h5_path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f["preprocess"].attrs.items()}
    return m, {p.key: p.value for p in m.metadata_props}, attrs


m, meta, attrs = meta_attrs(sys.argv[1], sys.argv[2])
assert meta.get("aicon.preprocess") == "none" and "aicon.mean" not in meta, meta
assert [n.op_type for n in m.graph.node][:1] == ["Conv"], [n.op_type for n in m.graph.node]
assert attrs["kind"] == "none" and "mean" not in attrs, attrs
print("--normalize none, HDF5: no preprocessing nodes, aicon.preprocess none")
m, meta, attrs = meta_attrs(sys.argv[3], sys.argv[4])
assert meta.get("aicon.preprocess") == "standardize", meta
assert float(meta["aicon.mean"]) == 0 and float(meta["aicon.std"]) == 255, meta
assert [n.op_type for n in m.graph.node][:2] == ["Sub", "Div"], [n.op_type for n in m.graph.node]
assert attrs["kind"] == "standardize" and attrs["mean"] == 0 and attrs["std"] == 255, attrs
print("--normalize none, IDX: the export divides the raw bytes by 255 as the reader did")
PYEOF

# (f) an ONNX-imported model keeps its file's names.
aicon_np 2 cnn train --model "$WORK/cnn.onnx" --data "$DATA/train512.h5" --test-data "$DATA/test.h5" --batch 32 \
    --max-steps 8 --seed 2 --checkpoint "$WORK/cnn.h5" --summary "$WORK/cnn.json" --export "$WORK/cnn_out.onnx" --quiet
check_export "$WORK/cnn_out.onnx" "$WORK/cnn.h5" "$WORK/cnn.json" pixels scores
check_accuracy cnn "$WORK/cnn_out.onnx" "$WORK/stored.f32" "$(json_field "$WORK/cnn.json" test_accuracy)"
assert_no_leftover_processes
echo "PASS"
