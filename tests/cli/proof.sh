#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proof logs and aicon verify on 2 ranks: a job's log replays bit for bit, all of it and a chosen
# share; tampering is caught and named: an edited digest (the Merkle root no longer matches), a
# rewritten log whose root is not the committed one, a perturbed parameter in a boundary checkpoint
# (named by its file), a job that trained with another learning rate than its log claims, a rank that
# trained on another data order, fabricated digests of skipped steps, a rank that sent zero gradients
# for a segment (each named by step and rank),
# a rank on other data named down to its input op (aicon proof ops, verify --ops), and a verifier
# with the wrong number of ranks. A second run's digests are the first's.
set -euo pipefail
. "$(dirname "$0")/common.sh"

job=(train --model mlp --batch 32 --max-steps 40 --seed 7 --threads 1 --data "$DATA/train.h5"
     --test-data "$DATA/test.h5")

aicon_np 2 job "${job[@]}" --proof "$WORK/p" --proof-every 10
[ "$(grep -c '^segment ' "$WORK/p/proof.log")" = 4 ] || fail "40 steps every 10 did not make 4 segments"
[ "$(grep -c '^grad ' "$WORK/p/proof.log")" = 80 ] || fail "the log does not hold 2 digests a step"
for s in 0 10 20 30 40; do [ -f "$WORK/p/seg-$(printf %08d $s).h5" ] || fail "no checkpoint of step $s"; done
# A rank's gradient is its own: the two ranks' digests of a step differ.
[ "$(awk '$1 == "grad" && $2 == 5 {print $4}' "$WORK/p/proof.log" | sort -u | wc -l)" = 2 ] ||
    fail "both ranks have the same gradient digest"
aicon_fails 2 again "${job[@]}" --proof "$WORK/p"
grep -q "already holds a proof log" "$WORK/again.err" || fail "a second run into the same directory was not refused"
aicon_np 2 job2 "${job[@]}" --proof "$WORK/p2" --proof-every 10
diff <(grep -E '^(grad|start|segment) ' "$WORK/p/proof.log") <(grep -E '^(grad|start|segment) ' "$WORK/p2/proof.log") \
    >/dev/null || fail "two runs of the same job wrote different digests"

# The state digest of a boundary, computed from its checkpoint file alone as docs/verify.md defines
# it, is the log's.
"${PY[@]}" - "$WORK/p/seg-00000020.h5" "$(awk '$1 == "segment" && $2 == 20 {print $3}' "$WORK/p/proof.log")" <<'PYEOF'
import hashlib
import struct
import sys

import h5py

h = hashlib.sha256(b"aicon-state-2")
with h5py.File(sys.argv[1], "r") as f:
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    tensors = sorted(n for n in names if not n.startswith("state/"))
    for name in tensors:
        h.update(bytes.fromhex(f[name].attrs["sha256"].decode()))
    counters = [int(f["state/" + k][()]) for k in ("optimizer_steps", "step", "epoch", "seed", "global_batch")]
h.update(struct.pack("<5q", *counters))
print(f"{sys.argv[1]}: {len(tensors)} tensors, state digest {h.hexdigest()[:16]}..., the log's {sys.argv[2][:16]}...")
if h.hexdigest() != sys.argv[2]:
    sys.exit("FAIL: the state digest of the checkpoint file is not the log's")
PYEOF

# Every segment, then one chosen by the verifier's seed.
verify_np 2 all verify "$WORK/p" --fraction 1
[ "$RC" = 0 ] || fail "verify --fraction 1 of an honest job exited $RC"
grep -q "verified: 4 of 4 segments agree bit for bit; replayed 40 of the job's 40 steps (100.0%)" "$WORK/all.out" ||
    fail "verify --fraction 1 did not report 4 of 4 segments"
root=$(awk '$1 == "root" {print $2}' "$WORK/p/proof.log")
verify_np 2 some verify "$WORK/p" --fraction 0.25 --seed 11 --root "$root"
[ "$RC" = 0 ] && grep -q "verified: 1 of 4 segments" "$WORK/some.out" || fail "verify --fraction 0.25 did not replay 1 segment"

# An edited digest: the root no longer matches the lines.
cp -r "$WORK/p" "$WORK/edited"
sed -i '0,/^grad 13 1 /s/^\(grad 13 1 \)./\10/; 0,/^grad 13 1 /s/^\(grad 13 1 \)0/\11/' "$WORK/edited/proof.log"
cmp -s "$WORK/p/proof.log" "$WORK/edited/proof.log" && fail "the test did not edit the digest"
verify_np 2 edited verify "$WORK/edited"
[ "$RC" = 1 ] && grep -q "the log was edited after it was written" "$WORK/edited.err" ||
    fail "an edited digest was not caught (exit $RC)"

# A log rewritten with its root made to match is still not the one the job committed to.
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" reroot "$WORK/edited/proof.log"
verify_np 2 rewritten verify "$WORK/edited" --root "$root"
[ "$RC" = 1 ] && grep -q "is not the committed root" "$WORK/rewritten.err" || fail "a rewritten log passed (exit $RC)"
# Without the committed root a replay of the segment (as an arbiter replays a disputed one) finds the
# edited step and rank.
verify_np 2 replayed verify "$WORK/edited" --segment 2
[ "$RC" = 1 ] && grep -q "FAILED in segment 2 (steps 11-20): step 13, rank 1: the gradient differs" "$WORK/replayed.err" ||
    fail "the replay did not name step 13, rank 1 (exit $RC)"

# A perturbed parameter in a boundary checkpoint, its checksum made to match: named by its file.
cp -r "$WORK/p" "$WORK/perturbed"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" perturb "$WORK/perturbed/seg-00000020.h5"
verify_np 2 perturbed verify "$WORK/perturbed" --segment 3
[ "$RC" = 1 ] && grep -q "seg-00000020.h5 is not the state the log gives after step 20" "$WORK/perturbed.err" ||
    fail "a perturbed checkpoint was not caught (exit $RC)"

# Trained with --lr 0.1 while the log claims the default 0.05, its root made to match: the first
# step's gradients agree (same start, same data), the second step's do not.
aicon_np 2 cheat "${job[@]}" --lr 0.1 --proof "$WORK/cheat" --proof-every 10
sed -i '/^meta arg --lr$/{N;d}' "$WORK/cheat/proof.log"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" reroot "$WORK/cheat/proof.log"
verify_np 2 cheat_v verify "$WORK/cheat" --fraction 0.25 --seed 5
[ "$RC" = 1 ] && grep -Eq "FAILED in segment [0-9] \(steps [0-9]+-[0-9]+\): step [0-9]+, rank [01]: the gradient differs" \
    "$WORK/cheat_v.err" || fail "a job trained with another learning rate passed (exit $RC)"

# Rank 1 trains on another order of the samples than the job's file (the same samples, permuted)
# while rank 0 writes the log with the job's flags: step 1's gradient of rank 1 is named.
"${PY[@]}" - "$DATA/train.h5" "$WORK/permuted.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g:
    order = np.random.default_rng(1).permutation(f["y"].shape[0])
    g["x"], g["y"] = f["x"][...][order], f["y"][...][order]
PYEOF
echo "+ mpirun -np 1 aicon ${job[*]} --proof order : -np 1 aicon ... --data permuted.h5"
timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 1 "$AICON" "${job[@]}" --proof "$WORK/order" --proof-every 10 : \
    -np 1 "$AICON" "${job[@]/$DATA\/train.h5/$WORK/permuted.h5}" --proof "$WORK/order" --proof-every 10 \
    >"$WORK/order.out" 2>&1 || fail "the job with rank 1 on permuted data did not run (see $WORK/order.out)"
verify_np 2 order_v verify "$WORK/order" --fraction 0.25 --seed 5
[ "$RC" = 1 ] && grep -Eq "FAILED in segment 3 \(steps 21-30\): step 21, rank 1: the gradient differs" "$WORK/order_v.err" ||
    fail "a rank training on another data order passed (exit $RC)"

# Down to the op: rank 1's digests of every op of step 21 as the cheating job computed them (its
# log with the permuted file named, the root made to match, replayed by aicon proof ops) against the
# job's log: the first op that differs is the input, named.
verify_np 2 ops_honest proof ops "$WORK/p" --step 15 --rank 1 --out "$WORK/ops15.txt"
[ "$RC" = 0 ] && [ "$(grep -c '^op ' "$WORK/ops15.txt")" -gt 3 ] || fail "aicon proof ops wrote no op digests (exit $RC)"
verify_np 2 ops_v verify "$WORK/p" --ops "$WORK/ops15.txt"
[ "$RC" = 0 ] && grep -q "every op's output and gradient of step 15 on rank 1 agrees" "$WORK/ops_v.out" ||
    fail "verify --ops of an honest step did not agree (exit $RC)"
cp -r "$WORK/order" "$WORK/order_ops"
sed -i "s|^meta arg $DATA/train.h5\$|meta arg $WORK/permuted.h5|" "$WORK/order_ops/proof.log"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" reroot "$WORK/order_ops/proof.log"
verify_np 2 ops_cheat proof ops "$WORK/order_ops" --step 21 --rank 1 --out "$WORK/ops21.txt"
[ "$RC" = 0 ] || fail "aicon proof ops of the cheating job exited $RC"
verify_np 2 ops_caught verify "$WORK/order" --ops "$WORK/ops21.txt"
[ "$RC" = 1 ] && grep -q "FAILED at step 21, rank 1: op 0, input '[a-z]*': its output differs" "$WORK/ops_caught.err" ||
    fail "verify --ops did not name the input of rank 1 (exit $RC)"

# Skipped steps: a log whose steps 31-40 carry digests not computed from them (here steps 21-30's),
# its root made to match, is caught at the first of them.
cp -r "$WORK/p" "$WORK/skipped"
awk '$1 == "grad" && $2 >= 21 && $2 <= 30 {d[$2 + 10, $3] = $4} $1 == "grad" && $2 >= 31 {$4 = d[$2, $3]} {print}' \
    "$WORK/p/proof.log" >"$WORK/skipped/proof.log"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" reroot "$WORK/skipped/proof.log"
verify_np 2 skipped_v verify "$WORK/skipped" --segment 4
[ "$RC" = 1 ] && grep -q "FAILED in segment 4 (steps 31-40): step 31, rank 0: the gradient differs" "$WORK/skipped_v.err" ||
    fail "a log of skipped steps passed (exit $RC)"

# A rank that sends zero gradients for a segment, its log saying so: without buckets a step's digest
# is SHA-256(SHA-256(the gradient and the loss slot)), here of zeros for rank 1 in steps 11-20.
aicon_np 2 zero "${job[@]}" --bucket-kb 0 --proof "$WORK/zero" --proof-every 10 --summary "$WORK/zero.json"
params=$(json_field "$WORK/zero.json" parameters)
zero=$("${PY[@]}" -c 'import hashlib, sys
print(hashlib.sha256(hashlib.sha256(bytes(4 * (int(sys.argv[1]) + 1))).digest()).hexdigest())' "$params")
awk -v z="$zero" '$1 == "grad" && $2 >= 11 && $2 <= 20 && $3 == 1 {$4 = z} {print}' "$WORK/zero/proof.log" >"$WORK/zero.log"
mv "$WORK/zero.log" "$WORK/zero/proof.log"
"${PY[@]}" "$(dirname "$0")/proof_tamper.py" reroot "$WORK/zero/proof.log"
verify_np 2 zero_v verify "$WORK/zero" --segment 2
[ "$RC" = 1 ] && grep -q "FAILED in segment 2 (steps 11-20): step 11, rank 1: the gradient differs" "$WORK/zero_v.err" ||
    fail "a rank that sent zero gradients passed (exit $RC)"

# A segment the log does not have, an older format, and the wrong world size are refused, named.
verify_np 2 nosuch verify "$WORK/p" --segment 5
[ "$RC" = 2 ] && grep -q "proof.log: --segment 5: the log has 4 segments" "$WORK/nosuch.err" ||
    fail "--segment 5 of 4 was not refused (exit $RC)"
cp -r "$WORK/p" "$WORK/format1"
sed -i '1s/.*/aicon-proof 1/' "$WORK/format1/proof.log"
verify_np 2 format1 verify "$WORK/format1"
[ "$RC" = 1 ] && grep -q "proof.log: a proof log of format 1, whose state digests this aicon does not compute" \
    "$WORK/format1.err" || fail "a log of the older format was not refused naming it (exit $RC)"
verify_np 1 world verify "$WORK/p"
[ "$RC" = 2 ] && grep -q "the job ran on 2 ranks; run mpirun -np 2 aicon verify" "$WORK/world.err" ||
    fail "a 1-rank verify of a 2-rank job was not refused (exit $RC)"
echo "PASS"
