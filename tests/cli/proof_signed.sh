#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signed proof logs: a 2-rank job whose ranks have usage keys (--key, --usage) ends its proof log
# with each rank's signature over its own gradient digests; aicon verify names the signers (the
# keys' addresses), a digest changed afterwards, its Merkle root made to match, is refused
# naming the rank whose signature no longer holds, and --signed refuses a log stripped of them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

export HOME=$WORK/home AICON_SPOOL=$WORK/spool
unset AICON_KEY
mkdir -p "$HOME" "$WORK/keys"
for r in 0 1; do "$AICON" keygen --key "$WORK/keys/rank$r.key" >"$WORK/key$r.out" 2>&1; done
addr1=$(grep -oE '0x[0-9a-fA-F]{40}' "$WORK/key1.out" | head -1 | tr 'A-F' 'a-f')
[ -n "$addr1" ] || fail "aicon keygen printed no address: $(cat "$WORK/key1.out")"

aicon_np 2 job train --model mlp --batch 32 --max-steps 20 --seed 7 --threads 1 --data "$DATA/train.h5" \
    --test-data "$DATA/test.h5" --usage "file:$WORK/ledger.jsonl" --key "$WORK/keys/rank%r.key" \
    --proof "$WORK/p" --proof-every 10
[ "$(grep -c '^sig ' "$WORK/p/proof.log")" = 2 ] || fail "the log does not end with 2 signatures"
# Each rank's signed usage record carries the log's root and segments as signed fields.
root=$(awk '$1 == "root" {print $2}' "$WORK/p/proof.log")
"${PY[@]}" - "$WORK/ledger.jsonl" "$root" <<'PYEOF' || fail "the usage records do not carry the proof root $root"
import json, sys
recs = [json.loads(l)["record"] for l in open(sys.argv[1]) if '"record"' in l]
proofs = [(r["proofRoot"], r["proofSegments"]) for r in recs]
assert proofs == [("0x" + sys.argv[2], 2)] * 2, proofs
PYEOF
grep -q "^sig 1 ${addr1#0x} " "$WORK/p/proof.log" || fail "rank 1's signature is not by its key $addr1"

run_np 2 v verify "$WORK/p" --fraction 0.5 --seed 1 --signed
[ "$RC" = 0 ] || { cat "$WORK/v.out" "$WORK/v.err"; fail "verify of a signed log exited $RC"; }
grep -q "rank 1's digests are signed by $addr1" "$WORK/v.out" || fail "verify did not name rank 1's signer"

# Rank 1's digest of step 4 changed, the root made to match: rank 1's signature no longer holds.
cp -r "$WORK/p" "$WORK/edited"
awk '$1 == "grad" && $2 == 4 && $3 == 1 {$4 = substr("0123456789", 1, 10) substr($4, 11)} {print}' "$WORK/p/proof.log" \
    >"$WORK/edited/proof.log"
"${PY[@]}" "$HERE/proof_tamper.py" reroot "$WORK/edited/proof.log"
grep -q '^sig 1 ' "$WORK/edited/proof.log" || fail "reroot dropped the signatures"
run_np 2 ve verify "$WORK/edited" --fraction 0.5 --seed 1
[ "$RC" = 1 ] && grep -q "rank 1's signature (by ${addr1#0x}) does not sign the digests the log gives for rank 1" \
    "$WORK/ve.err" || { cat "$WORK/ve.err"; fail "a digest changed after signing was not refused (exit $RC)"; }
# A log whose signatures were stripped is refused where the verifier wants them all.
cp -r "$WORK/p" "$WORK/stripped"
grep -v '^sig ' "$WORK/p/proof.log" >"$WORK/stripped/proof.log"
run_np 2 vs verify "$WORK/stripped" --fraction 0.5 --seed 1 --signed
[ "$RC" = 1 ] && grep -q "0 of its 2 ranks signed their digests (--signed wants all)" "$WORK/vs.err" ||
    fail "a log stripped of its signatures passed --signed (exit $RC)"
echo "PASS"
