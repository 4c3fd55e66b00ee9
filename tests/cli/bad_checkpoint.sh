#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Damaged checkpoints given to `mpirun -np 2 aicon train --resume`, each made from a good one with
# h5py: a state scalar of the wrong shape or type, a flipped byte in one tensor, a NaN parameter, a
# negative epoch, 2^62 steps, a tensor without its checksum, an array for format_version. Every run
# must fail (not crash, not hang) with a line naming the file, the dataset or tensor and the
# problem, and write no summary. A good checkpoint resumes; a format-2 checkpoint of an earlier aicon
# (tests/fixtures/checkpoints/lenet.h5.gz) and the same one rewritten as format 1 (no checksums)
# both resume and end bitwise equal.
set -euo pipefail
. "$(dirname "$0")/common.sh"

common=(train --model mlp --data "$DATA/train200.h5" --seed 5 --batch 16 --quiet)
aicon_np 2 good "${common[@]}" --max-steps 2 --checkpoint "$WORK/good.h5"

# damage CASE OUT.h5 [FROM.h5]: a copy of FROM.h5 (good.h5) with one thing wrong.
damage() {
    "${PY[@]}" - "${3:-$WORK/good.h5}" "$2" "$1" <<'PYEOF'
import hashlib, shutil, sys
import h5py, numpy as np
good, out, case = sys.argv[1:]
shutil.copyfile(good, out)
if case == "flip":  # one byte of fc2.weight's values, in the file's bytes
    with h5py.File(out, "r") as f:
        offset = f["params/fc2.weight"].id.get_offset()
    with open(out, "r+b") as f:
        f.seek(offset + 1001)
        b = f.read(1)
        f.seek(offset + 1001)
        f.write(bytes([b[0] ^ 0x10]))
    sys.exit(0)
with h5py.File(out, "r+") as f:
    if case == "step_array":
        del f["state/step"]
        f["state/step"] = np.array([2, 2], np.int64)
    elif case == "step_float":
        del f["state/step"]
        f["state/step"] = np.float64(2.0)
    elif case == "nan":  # with its checksum made to match: a diverged run's file
        d = f["params/fc1.bias"]
        v = d[()]
        v[3] = np.nan
        d[...] = v
        d.attrs["sha256"] = np.bytes_(hashlib.sha256(v.astype("<f4").tobytes()).hexdigest())
    elif case == "negative_epoch":
        f["state/epoch"][()] = -1
    elif case == "huge_step":
        f["state/step"][()] = 2**62
    elif case == "no_checksum":
        del f["params/fc3.bias"].attrs["sha256"]
    elif case == "version_array":
        f.attrs["format_version"] = np.array([2, 2], np.int64)
    elif case == "format1":  # as aicon wrote checkpoints before checksums
        f.attrs["format_version"] = np.int64(1)
        f.visititems(lambda name, obj: obj.attrs.__delitem__("sha256") if "sha256" in obj.attrs else None)
    else:
        sys.exit(f"unknown case {case}")
PYEOF
}

# case | what the message must name | the problem (extended regex)
cases=(
    "step_array|/state/step|int64 array of shape 2"
    "step_float|/state/step|float64 scalar.*expected integer"
    "flip|fc2.weight|checksum"
    "nan|fc1.bias|nan.*finite"
    "negative_epoch|/state/epoch|-1"
    "huge_step|/state/step|4611686018427387904"
    "no_checksum|fc3.bias|checksum"
    "version_array|format_version|array of shape 2"
)
for c in "${cases[@]}"; do
    IFS='|' read -r name culprit problem <<<"$c"
    damage "$name" "$WORK/$name.h5"
    aicon_fails 2 "$name" "${common[@]}" --max-steps 4 --resume "$WORK/$name.h5" --summary "$WORK/$name.json"
    [ $RC -lt 128 ] || fail "$name: the run died of a signal (status $RC)"
    grep -F -- "$WORK/$name.h5" "$WORK/$name.err" | grep -F -- "$culprit" | grep -qiE -- "$problem" ||
        fail "$name: no line of stderr names $WORK/$name.h5, '$culprit' and /$problem/"
    [ ! -e "$WORK/$name.json" ] || fail "$name: the failed run wrote its --summary"
done

aicon_np 2 resume_good "${common[@]}" --max-steps 4 --resume "$WORK/good.h5"
# Format 1 files came before checksums and before the architecture hash of format 3: one made from
# an earlier aicon's format-2 file resumes as that file does, to the same end.
zcat "$(dirname "$0")/../fixtures/checkpoints/lenet.h5.gz" >"$WORK/format2.h5"
damage format1 "$WORK/format1.h5" "$WORK/format2.h5"
old=(train --model lenet --data "$DATA/train200.h5" --batch 8 --quiet --max-steps 5)
aicon_np 2 resume_format2 "${old[@]}" --resume "$WORK/format2.h5" --checkpoint "$WORK/end_format2.h5"
aicon_np 2 resume_format1 "${old[@]}" --resume "$WORK/format1.h5" --checkpoint "$WORK/end_format1.h5"
"${PY[@]}" "$(dirname "$0")/h5compare.py" "$WORK/end_format2.h5" "$WORK/end_format1.h5"
assert_no_leftover_processes
echo "PASS"
