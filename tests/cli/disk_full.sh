#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A checkpoint directory that fills up or cannot be written. On a tmpfs sized for one checkpoint and a
# half, the first save fits and the second does not:
#  - --on-checkpoint-error stop (the default): every rank exits non-zero with one message naming the
#    file and "No space left on device", no HDF5 error stack, no temporary file left, and the first
#    checkpoint intact and loadable (h5py, and aicon --resume);
#  - continue: the run finishes (exit 0) with a warning per failed save, the first checkpoint intact.
# A --proof directory there: the boundary whose checkpoint does not fit stops the run, named.
# The same tmpfs remounted read-only, and a --checkpoint-dir under a regular file: an error naming
# the directory and the reason, before training. Needs root (mount); exits 77 (skipped) otherwise.
set -euo pipefail
. "$(dirname "$0")/common.sh"

FULL="$WORK/full"
mkdir "$FULL"
[ "$(id -u)" = 0 ] || { echo "SKIP: mounting a tmpfs needs root"; exit 77; }
unmount_full() {
    local rc=$?
    mountpoint -q "$FULL" && umount "$FULL"
    (exit $rc)
    cleanup_work
}
trap unmount_full EXIT

# 200 samples, 2 ranks x 32: 4 steps an epoch, 12 in all; a checkpoint every 2 steps, only the newest kept.
base=(train --model mlp --data "$DATA/train200.h5" --batch 32 --epochs 3 --seed 5 --threads 1)
common=("${base[@]}" --checkpoint-every 2 --keep 1)

no_hdf5_stack() {
    ! grep -q "HDF5-DIAG" "$WORK/$1.err" || fail "HDF5's error stack reached stderr of run $1"
}

# The size of one checkpoint of this model, on an ordinary disk.
aicon_np 1 measure "${common[@]}" --max-steps 2 --checkpoint-dir "$WORK/measure"
size=$(stat -c %s "$WORK/measure/ckpt-step-00000002.h5")
kib=$(((size * 3 / 2 + 1023) / 1024))
if ! mount -t tmpfs -o size=${kib}k tmpfs "$FULL" 2>"$WORK/mount.err"; then
    echo "SKIP: cannot mount a tmpfs: $(cat "$WORK/mount.err")"
    exit 77
fi
echo "checkpoint: $size bytes; tmpfs: ${kib} KiB"

aicon_fails 2 stop "${common[@]}" --checkpoint-dir "$FULL"
no_hdf5_stack stop
grep -q "aicon train: step 4: $FULL/ckpt-step-00000004.h5: writing the checkpoint failed: No space left on device" \
    "$WORK/stop.err" || fail "the stopped run did not name the file and 'No space left on device'"
! grep -q "^trained" "$WORK/stop.out" || fail "the run trained to its end although the save failed (stop mode)"
left=$(ls -A "$FULL" | tr '\n' ' ')
[ "$left" = "ckpt-step-00000002.h5 " ] || fail "the full directory holds '$left', not just the first checkpoint"
"${PY[@]}" - "$FULL/ckpt-step-00000002.h5" <<'PYEOF'
import sys

import h5py

with h5py.File(sys.argv[1], "r") as f:
    n = sum(d.size for d in f["params"].values())
    step = int(f["state/step"][()])
print(f"{sys.argv[1]}: {n} parameters, step {step}")
if step != 2 or n == 0:
    sys.exit("FAIL: the first checkpoint does not hold step 2's parameters")
PYEOF
aicon_np 1 reload "${base[@]}" --max-steps 2 --resume "$FULL/ckpt-step-00000002.h5"
grep -q "resuming from $FULL/ckpt-step-00000002.h5 at step 2" "$WORK/reload.out" ||
    fail "aicon did not resume from the checkpoint the full disk left"

# continue: the first save fits, the five after it fail with a warning each, and training ends.
rm -f "$FULL"/*
aicon_np 2 cont "${common[@]}" --checkpoint-dir "$FULL" --on-checkpoint-error continue --summary "$WORK/cont.json"
no_hdf5_stack cont
grep "warning" "$WORK/cont.err"
warnings=$(grep -c "aicon train: warning: step [0-9]*: $FULL/ckpt-step-[0-9]*.h5: writing the checkpoint failed: No space left on device.*training goes on" "$WORK/cont.err" || true)
[ "$warnings" = 5 ] || fail "continue mode gave $warnings warnings about full-disk saves, expected 5 (steps 4 to 12)"
[ "$(json_field "$WORK/cont.json" steps)" = 12 ] || fail "continue mode did not train all 12 steps"
left=$(ls -A "$FULL" | tr '\n' ' ')
[ "$left" = "ckpt-step-00000002.h5 " ] || fail "continue mode left '$left' in the full directory"

# A proof log's boundary checkpoints are written on a thread of rank 0's while training goes on: the
# start's fits, step 2's does not, and the next boundary (step 4) stops the run naming the file.
rm -f "$FULL"/*
aicon_fails 2 proof "${base[@]}" --proof "$FULL/proof" --proof-every 2
no_hdf5_stack proof
grep -q "aicon train: $FULL/proof/seg-00000002.h5: writing the checkpoint failed: No space left on device" \
    "$WORK/proof.err" || fail "a boundary checkpoint that did not fit did not stop the run naming it"
left=$(ls -A "$FULL/proof" | tr '\n' ' ')
[ "$left" = "proof.log seg-00000000.h5 " ] || fail "the full proof directory holds '$left'"
[ "$(tail -n 1 "$FULL/proof/proof.log" | cut -d' ' -f1-2)" = "start 0" ] ||
    fail "the proof log goes past the boundary whose checkpoint failed"
rm -rf "$FULL/proof"

# Not writable: read-only, and a path under a regular file.
mount -o remount,ro "$FULL"
aicon_fails 2 ro "${common[@]}" --checkpoint-dir "$FULL"
grep -q "aicon train: --checkpoint-dir $FULL: directory is not writable: Read-only file system" "$WORK/ro.err" ||
    fail "a read-only --checkpoint-dir did not give a clear error"
touch "$WORK/plain"
aicon_fails 2 notdir "${common[@]}" --checkpoint-dir "$WORK/plain/ck"
grep -q "aicon train: --checkpoint-dir $WORK/plain/ck: cannot create it: Not a directory" "$WORK/notdir.err" ||
    fail "a --checkpoint-dir under a regular file did not give a clear error"
assert_no_leftover_processes
echo "PASS"
