#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One kind of bad input to `mpirun -np 2 aicon train`: every rank must exit, non-zero, and stderr must
# name the culprit (file or flag) and the problem. The time it took is printed; only a run still going
# after RUN_TIMEOUT (60 s, a bound that mpirun's start-up on a loaded machine cannot reach) is a hang.
#
# usage: bad_input.sh AICON DATA_DIR CASE [MPIRUN ARGS...]
# CASE: missing_data truncated_idx idx_header_lies wrong_model corrupt_resume truncated_resume
#       corrupt_data truncated_data huge_label unknown_flag bad_epochs bad_lr
set -euo pipefail
case_name=$3
set -- "$1" "$2" "${@:4}"
. "$(dirname "$0")/common.sh"
FMNIST=${AICON_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

# random_bytes FILE N: N bytes that are no HDF5 file (fixed seed: the same bytes every run).
random_bytes() {
    "${PY[@]}" -c 'import sys, numpy as np
open(sys.argv[1], "wb").write(np.random.default_rng(1234).integers(0, 256, int(sys.argv[2]), dtype=np.uint8).tobytes())' "$1" "$2"
}

base=(train --model mlp --batch 32 --max-steps 2 --summary "$WORK/summary.json")
case $case_name in
missing_data)
    args=("${base[@]}" --data /nonexistent/dir)
    culprit=/nonexistent/dir problem='no such file|not found|does not exist' ;;
truncated_idx)
    mkdir "$WORK/idx"
    cp "$FMNIST"/*-ubyte.gz "$WORK/idx/"
    f=$WORK/idx/train-images-idx3-ubyte.gz
    truncate -s $(($(stat -c %s "$f") / 2)) "$f"
    args=("${base[@]}" --data "$WORK/idx")
    culprit=$f problem='truncated|end of file|corrupt' ;;
idx_header_lies)
    # Plain IDX files of 64 train and 16 test images; the train images header claims 65.
    mkdir "$WORK/idx"
    "${PY[@]}" - "$FMNIST" "$WORK/idx" <<'PYEOF'
import gzip, os, sys
src, out = sys.argv[1], sys.argv[2]
def head(name, n, claim):
    raw = gzip.open(os.path.join(src, name + ".gz")).read()
    ndim = raw[3]
    item = 1
    for i in range(1, ndim):
        item *= int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big")
    hdr = bytearray(raw[:4 + 4 * ndim])
    hdr[4:8] = claim.to_bytes(4, "big")
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(hdr) + raw[len(hdr):len(hdr) + n * item])
head("train-images-idx3-ubyte", 64, 65)   # the lie
head("train-labels-idx1-ubyte", 65, 65)
head("t10k-images-idx3-ubyte", 16, 16)
head("t10k-labels-idx1-ubyte", 16, 16)
PYEOF
    args=("${base[@]}" --data "$WORK/idx")
    culprit=$WORK/idx/train-images-idx3-ubyte problem='header|truncated|holds only|claims' ;;
wrong_model)
    aicon_np 1 lenet train --model lenet --data "$DATA/train200.h5" --batch 4 --max-steps 1 --quiet \
        --checkpoint "$WORK/lenet.h5"
    [ -f "$WORK/lenet.h5" ] || fail "the lenet run wrote no checkpoint"
    args=("${base[@]}" --data "$DATA/train200.h5" --resume "$WORK/lenet.h5")
    culprit=$WORK/lenet.h5 problem='lenet.*mlp|mlp.*lenet' ;;
corrupt_resume)
    random_bytes "$WORK/junk.h5" 65536
    args=("${base[@]}" --data "$DATA/train200.h5" --resume "$WORK/junk.h5")
    culprit=$WORK/junk.h5 problem='hdf5|corrupt|damaged|checkpoint' ;;
truncated_resume)
    # A real checkpoint cut to half its size: the HDF5 signature is there, the rest is not.
    aicon_np 1 mlp train --model mlp --data "$DATA/train200.h5" --batch 4 --max-steps 1 --quiet \
        --checkpoint "$WORK/whole.h5"
    head -c $(($(stat -c %s "$WORK/whole.h5") / 2)) "$WORK/whole.h5" >"$WORK/half.h5"
    args=("${base[@]}" --data "$DATA/train200.h5" --resume "$WORK/half.h5")
    culprit=$WORK/half.h5 problem='hdf5|corrupt|damaged|truncated' ;;
truncated_data)
    head -c $(($(stat -c %s "$DATA/train200.h5") / 2)) "$DATA/train200.h5" >"$WORK/half.h5"
    args=("${base[@]}" --data "$WORK/half.h5")
    culprit=$WORK/half.h5 problem='hdf5|corrupt|damaged|truncated' ;;
corrupt_data)
    random_bytes "$WORK/junk.h5" 65536
    args=("${base[@]}" --data "$WORK/junk.h5")
    culprit=$WORK/junk.h5 problem='hdf5|corrupt|damaged' ;;
huge_label) # one corrupt label must not make a classifier of millions of outputs
    "${PY[@]}" -c 'import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = np.zeros((10, 1, 28, 28), np.float32)
    f["y"] = np.full(10, 5000000, np.int64)' "$WORK/huge.h5"
    args=("${base[@]}" --data "$WORK/huge.h5")
    culprit=$WORK/huge.h5 problem='label' ;;
unknown_flag)
    args=("${base[@]}" --data "$DATA/train200.h5" --no-such-flag 3)
    culprit=--no-such-flag problem='unknown' ;;
bad_epochs)
    args=("${base[@]}" --data "$DATA/train200.h5" --epochs 3x)
    culprit=--epochs problem="3x" ;;
bad_lr)
    args=("${base[@]}" --data "$DATA/train200.h5" --lr abc)
    culprit=--lr problem="abc" ;;
*)
    fail "unknown case '$case_name'" ;;
esac

echo "+ mpirun -np 2 aicon ${args[*]}"
t0=$(date +%s.%N)
rc=0
timeout -k 5 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" "${args[@]}" >"$WORK/out" 2>"$WORK/err" || rc=$?
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "--- stderr:"
cat "$WORK/err"
echo "---"
echo "$case_name: exit status $rc after $elapsed s"

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    pids=$(leftover_pids)
    [ -z "$pids" ] || ps -o pid,ppid,etime,args -p "$(echo $pids | tr ' ' ',')" >&2 || true
    fail "still running after $RUN_TIMEOUT s (hang)"
fi
[ $rc -ne 0 ] || fail "exited with status 0 on bad input"
grep -F -- "$culprit" "$WORK/err" | grep -qiE -- "$problem" ||
    fail "no line of stderr names '$culprit' together with the problem (/$problem/)"
grep -q '^aicon' "$WORK/err" || fail "stderr has no message from aicon itself"
[ ! -e "$WORK/summary.json" ] || fail "a failed run wrote its --summary"
assert_no_leftover_processes
echo "PASS"
