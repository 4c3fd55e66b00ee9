#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proof logs of --sync diloco on 2 ranks (groups of one, an outer step every 5 steps streamed in 2
# fragments, boundaries every 7 steps, so that some fall between outer steps with a fragment on its
# way): each boundary's checkpoint holds every group's state and the outer state, and so does the
# state digest; every segment replays bit for bit, and a boundary checkpoint whose outer state was
# perturbed (its checksum kept valid) is named by its file.
set -euo pipefail
. "$(dirname "$0")/common.sh"

job=(train --model mlp --batch 32 --max-steps 20 --seed 7 --threads 1 --data "$DATA/train.h5"
     --sync diloco --sync-group 1 --inner-steps 5 --outer-fragments 2)
aicon_np 2 job "${job[@]}" --proof "$WORK/p" --proof-every 7
[ "$(grep -c '^segment ' "$WORK/p/proof.log")" = 3 ] || fail "20 steps every 7 did not make 3 segments"
for s in 0 7 14 20; do [ -f "$WORK/p/seg-$(printf %08d $s).h5" ] || fail "no checkpoint of step $s"; done
"${PY[@]}" - "$WORK/p/seg-00000007.h5" <<'PYEOF'
import sys

import h5py

with h5py.File(sys.argv[1], "r") as f:
    shapes = {k: f["extra"][k].shape for k in f["extra"]}
print(f"{sys.argv[1]}: extra arrays {shapes}")
if shapes.get("diloco.groups", (0,))[0] != 2 or shapes.get("diloco.outer", (0,))[0] != 2:
    sys.exit("FAIL: the boundary checkpoint lacks the two groups' states or the outer state")
PYEOF

verify_np 2 all verify "$WORK/p" --fraction 1
[ "$RC" = 0 ] && grep -q "verified: 3 of 3 segments agree bit for bit; replayed 20 of the job's 20 steps" \
    "$WORK/all.out" || fail "verify --fraction 1 of an honest diloco job failed (exit $RC)"

cp -r "$WORK/p" "$WORK/perturbed"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" perturb "$WORK/perturbed/seg-00000007.h5" extra/diloco.outer
verify_np 2 perturbed verify "$WORK/perturbed" --segment 2
[ "$RC" = 1 ] && grep -q "seg-00000007.h5 is not the state the log gives after step 7" "$WORK/perturbed.err" ||
    fail "a perturbed outer state was not caught (exit $RC)"
echo "PASS"
