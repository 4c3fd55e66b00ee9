#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rewrites the seed corpora of the reader fuzz targets (tests/fuzz/corpus/<target>; the ONNX ones in
# corpus/onnx are kept as they are) from real aicon outputs: checkpoints that checkpoint_fuzz's own
# model saves, IDX files and h5py data sets of a few samples, and the ledger of a 2-rank training
# run signed with one key per rank. Each seed set holds valid inputs and near-valid ones (one thing
# wrong). Needs Debian's python3 with h5py and numpy, mpirun and a data set file for the run.
#
#   bash tests/fuzz/make_corpus.sh BUILD_FUZZ_DIR AICON_BINARY TRAIN_H5
#     e.g. build-fuzz build-asan/aicon build/tests/cli-data/train200.h5
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BUILD_FUZZ_DIR AICON_BINARY TRAIN_H5" >&2; exit 2; }
FUZZ_BUILD=$(realpath "$1") AICON=$(realpath "$2") TRAIN=$(realpath "$3")
CORPUS=$(cd "$(dirname "$0")" && pwd)/corpus
PY=(/usr/bin/python3 -E -s)
# For an AICON_SANITIZE build of aicon: the test suite's leak settings (tests/CMakeLists.txt).
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
export LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")/.." && pwd)/lsan.supp:print_suppressions=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicon-corpus-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- checkpoints of checkpoint_fuzz's model, then damaged copies --------------------------------
rm -rf "$CORPUS/checkpoint" && mkdir -p "$CORPUS/checkpoint"
AICON_FUZZ_WRITE_SEEDS="$CORPUS/checkpoint" "$FUZZ_BUILD/checkpoint_fuzz"
"${PY[@]}" - "$CORPUS/checkpoint" <<'PYEOF'
import h5py, numpy as np, shutil, sys, os
d = sys.argv[1]
def damaged(name, fn):
    p = os.path.join(d, name)
    shutil.copy(os.path.join(d, "sgd.h5"), p)
    with h5py.File(p, "r+") as f:
        fn(f)
def format1(f):  # format 1: no checksums, loads unverified
    f.attrs["format_version"] = np.int64(1)
    def strip(name, obj):
        if isinstance(obj, h5py.Dataset) and "sha256" in obj.attrs:
            del obj.attrs["sha256"]
    f.visititems(strip)
def flipped(f):
    f["params/fc1.weight"][0, 0] += 1.0
def nan(f):
    f["params/fc2.bias"][0] = np.nan
def negative_epoch(f):
    del f["state/epoch"]; f["state/epoch"] = np.int64(-1)
def step_pair(f):
    del f["state/step"]; f["state/step"] = np.array([1, 2], dtype=np.int64)
def bad_preprocess(f):
    f["preprocess"].attrs["std"] = np.float64(0)
damaged("format1.h5", format1)
damaged("flipped.h5", flipped)
damaged("nan.h5", nan)
damaged("negative_epoch.h5", negative_epoch)
damaged("step_pair.h5", step_pair)
damaged("bad_preprocess.h5", bad_preprocess)
PYEOF

# ---- IDX: [2-byte little-endian length of the images file][images file][labels file] -------------
rm -rf "$CORPUS/idx" && mkdir -p "$CORPUS/idx"
"${PY[@]}" - "$CORPUS/idx" <<'PYEOF'
import gzip, struct, sys, os
d = sys.argv[1]
def images(n, h, w, rank=3, typ=8):
    return struct.pack(">I", typ << 8 | rank) + struct.pack(">3I", n, h, w) + bytes((i * 37) % 256 for i in range(n * h * w))
def labels(ys, typ=8):
    return struct.pack(">I", typ << 8 | 1) + struct.pack(">I", len(ys)) + bytes(ys)
def seed(name, im, lb):
    with open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack("<H", len(im)) + im + lb)
im, lb = images(3, 4, 4), labels([0, 2, 1])
seed("plain", im, lb)
seed("gzip", gzip.compress(im, mtime=0), gzip.compress(lb, mtime=0))
seed("gzip_labels", im, gzip.compress(lb, mtime=0))
seed("one_image", images(1, 2, 3), labels([9]))
seed("count_mismatch", im, labels([0, 1]))
seed("truncated_images", im[:-5], lb)
seed("truncated_gzip", gzip.compress(im, mtime=0)[:-6], lb)
seed("swapped", lb, im)
seed("zero_dim", images(0, 4, 4), labels([]))
seed("float_type", images(3, 4, 4, typ=0x0D), lb)
seed("label_255", im, labels([255, 0, 7]))
# idx_fuzz's first find: dimensions 0xffffffff overflowed int64 before the size cap was checked.
seed("regress_dims_overflow", struct.pack(">4I", 8 << 8 | 3, 0xffffffff, 0xffffffff, 0xffffffff), lb)
PYEOF

# ---- HDF5 data sets as h5py writes them ----------------------------------------------------------
rm -rf "$CORPUS/h5data" && mkdir -p "$CORPUS/h5data"
"${PY[@]}" - "$CORPUS/h5data" <<'PYEOF'
import h5py, numpy as np, sys, os
d = sys.argv[1]
def seed(name, **datasets):
    with h5py.File(os.path.join(d, name), "w") as f:
        for k, v in datasets.items():
            if isinstance(v, tuple):
                f.create_dataset(k, data=v[0], chunks=True, compression="gzip")
            else:
                f[k] = v
x = np.arange(16, dtype=np.float32).reshape(4, 1, 2, 2) / 16
seed("float_images.h5", x=x, y=np.array([0, 1, 2, 1], dtype=np.int64))
seed("uint8_column_labels.h5", x=np.arange(12, dtype=np.uint8).reshape(3, 4), y=np.array([[1], [0], [1]], dtype=np.int32))
seed("chunked_gzip.h5", x=(np.linspace(0, 1, 12).reshape(4, 3),), y=(np.array([3, 0, 1, 2], dtype=np.uint8),))
seed("float_labels.h5", x=x, y=np.array([0, 1, 2, 1], dtype=np.float32))
seed("nan.h5", x=np.array([[0.0, np.nan]], dtype=np.float32), y=np.array([0], dtype=np.int64))
seed("count_mismatch.h5", x=x, y=np.array([0, 1], dtype=np.int64))
seed("negative_label.h5", x=x, y=np.array([0, -1, 2, 1], dtype=np.int64))
seed("scalar_x.h5", x=np.float32(1), y=np.array([0], dtype=np.int64))
seed("no_y.h5", x=x)
with h5py.File(os.path.join(d, "regress_unwritten_chunks.h5"), "w") as f:  # 5 GB declared, nothing stored
    f.create_dataset("x", shape=(1 << 28, 4), dtype="f4", chunks=(1024, 4))
    f.create_dataset("y", shape=(1 << 28,), dtype="i1", chunks=(4096,))
PYEOF

# ---- the ledger of a real 2-rank run, and its lines as records --------------------------------------
rm -rf "$CORPUS/ledger" "$CORPUS/record" && mkdir -p "$CORPUS/ledger" "$CORPUS/record"
export HOME=$WORK/home AICON_SPOOL=$WORK/spool OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset AICON_KEY
mkdir -p "$HOME"
cd "$WORK" # the proof logs the runs write (proof-JOB-TIME, whose roots the records sign) go here
"$AICON" keygen --key "$WORK/rank0.key" >/dev/null
"$AICON" keygen --key "$WORK/rank1.key" >/dev/null
for run in 1 2; do
  timeout 300 mpirun --oversubscribe --allow-run-as-root --mca btl self,vader,tcp -np 2 "$AICON" train --model mlp \
    --data "$TRAIN" --batch 32 --seed $run --max-steps 2 --usage "file:$WORK/ledger.jsonl" \
    --key "$WORK/rank%r.key" --quiet >"$WORK/run$run.out" 2>&1 || { cat "$WORK/run$run.out"; exit 1; }
  [ $run = 1 ] && cp "$WORK/ledger.jsonl" "$CORPUS/ledger/one_run.jsonl"
done
"$AICON" ledger verify "$WORK/ledger.jsonl" >/dev/null
"${PY[@]}" - "$WORK/ledger.jsonl" "$CORPUS/ledger" "$CORPUS/record" <<'PYEOF'
import json, sys, os
src, ld, rd = sys.argv[1:]
lines = open(src, "rb").read().splitlines(keepends=True)
def seed(name, parts):
    open(os.path.join(ld, name), "wb").write(b"".join(parts))
seed("two_runs.jsonl", lines)
seed("cut.jsonl", [lines[0], lines[1], lines[2][:-40]])
seed("record_deleted.jsonl", [lines[0], lines[1]])
seed("reordered.jsonl", [lines[0], lines[2], lines[1]])
seed("replayed.jsonl", lines[:3] + [lines[1]])
seed("altered_steps.jsonl", [lines[0], lines[1].replace(b'"steps":', b'"steps":1', 1), lines[2]])
for i, l in enumerate(lines[:3]):
    open(os.path.join(rd, f"line{i}.json"), "wb").write(l)
e0, e1 = json.loads(lines[0]), json.loads(lines[1])
dump = lambda o: json.dumps(o, separators=(",", ":")).encode()
open(os.path.join(rd, "open.json"), "wb").write(dump(e0["open"]))
open(os.path.join(rd, "record.json"), "wb").write(dump(e1["record"]))
spool = {"uri": "file:ledger.jsonl", "chainId": 0, "open": e0["open"], "record": e1["record"]}
open(os.path.join(rd, "spool.json"), "wb").write(dump(spool))
bad = dict(e1["record"]); bad["rank"] = -1
open(os.path.join(rd, "negative_rank.json"), "wb").write(dump(bad))
bad = dict(e0["open"]); bad["ranks"] = []
open(os.path.join(rd, "no_ranks.json"), "wb").write(dump(bad))
bad = dict(e1["record"]); bad["miner"] = bad["miner"].upper().replace("0X", "0x")
open(os.path.join(rd, "uppercase_hex.json"), "wb").write(dump(bad))
PYEOF
du -sh "$CORPUS"/*/ | sed "s|$CORPUS/||"
