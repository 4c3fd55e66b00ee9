#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage records in the file ledger: a 2-rank job signed with one key per rank (--key with %r) leaves
# an opening and one record per rank whose facts match the run (steps, parameters hash, data set
# hash, miners); `aicon ledger verify` passes it and rejects, naming the line, a field altered after
# signing, a replayed record, a record signed by a key that is not its rank's, a record of a job
# never opened and a cut hash chain. Without --proof the job writes a proof log all the same
# (proof-JOB-TIME here), whose root both records sign (proofRoot) and which aicon verify replays
# against it; --no-proof writes none, and its records' proofRoot is zero. Keys: mode 0600, never overwritten, a group-readable one refused.
# An empty spool flushes cleanly.
set -euo pipefail
. "$(dirname "$0")/common.sh"

export HOME=$WORK/home AICON_SPOOL=$WORK/spool # nothing of the machine's own ~/.aicon
unset AICON_KEY
mkdir -p "$HOME" "$WORK/keys"
cd "$WORK"

# ---- keys ----------------------------------------------------------------------------------------
addr0=$("$AICON" keygen --key "$WORK/keys/rank0.key" 2>/dev/null)
addr1=$("$AICON" keygen --key "$WORK/keys/rank1.key" 2>/dev/null)
[[ $addr0 =~ ^0x[0-9a-f]{40}$ ]] || fail "keygen printed '$addr0', not an address"
[ "$addr0" != "$addr1" ] || fail "two keygen runs made the same key"
[ "$(stat -c %a "$WORK/keys/rank0.key")" = 600 ] || fail "key file mode is $(stat -c %a "$WORK/keys/rank0.key"), not 600"
before=$(cat "$WORK/keys/rank0.key")
if "$AICON" keygen --key "$WORK/keys/rank0.key" 2>"$WORK/keygen.err"; then fail "keygen overwrote a key"; fi
grep -q "never overwritten" "$WORK/keygen.err" || fail "keygen over a key: $(cat "$WORK/keygen.err")"
[ "$(cat "$WORK/keys/rank0.key")" = "$before" ] || fail "keygen changed an existing key file"

cp "$WORK/keys/rank0.key" "$WORK/keys/open.key"
chmod 644 "$WORK/keys/open.key"
if timeout 60 "${MPIRUN[@]}" -np 1 "$AICON" train --model mlp --data "$DATA/train200.h5" --epochs 1 \
    --usage "file:$WORK/never.jsonl" --key "$WORK/keys/open.key" >"$WORK/open.out" 2>"$WORK/open.err"; then
    fail "training signed with a group-readable key"
fi
grep -q "$WORK/keys/open.key has mode 0644" "$WORK/open.err" || fail "group-readable key: $(cat "$WORK/open.err")"

# ---- a 2-rank job with one key per rank ----------------------------------------------------------
common=(train --model mlp --data "$DATA/train200.h5" --batch 32 --seed 5)
SLURM_JOB_ID=job-a aicon_np 2 run "${common[@]}" --epochs 1 --usage "file:$WORK/ledger.jsonl" \
    --key "$WORK/keys/rank%r.key" --summary "$WORK/run.json"
"$AICON" ledger verify "$WORK/ledger.jsonl" >"$WORK/verify.out" || fail "verify of a clean ledger failed"
grep -q "3 entries" "$WORK/verify.out" || fail "verify: $(cat "$WORK/verify.out")"
"$AICON" ledger show "$WORK/ledger.jsonl" >"$WORK/show.out"
grep -q "slurm:job-a" "$WORK/show.out" && grep -q "$addr0" "$WORK/show.out" && grep -q "$addr1" "$WORK/show.out" ||
    fail "ledger show: $(cat "$WORK/show.out")"
[ -z "$(ls -A "$WORK/spool" 2>/dev/null)" ] || fail "delivered records were left in the spool: $(ls "$WORK/spool")"

"${PY[@]}" - "$WORK/ledger.jsonl" "$WORK/run.json" "$DATA/train200.h5" "$addr0" "$addr1" <<'PYEOF'
import hashlib, json, sys
ledger, summary, data, a0, a1 = sys.argv[1:]
lines = [json.loads(l) for l in open(ledger)]
s = json.load(open(summary))
problems = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        problems.append(what)
check(len(lines) == 3 and "open" in lines[0], "an opening and two records")
check(lines[0]["open"]["ranks"] == [a0, a1], "the opening names each rank's key")
recs = [l["record"] for l in lines[1:]]
check(sorted(r["rank"] for r in recs) == [0, 1], "one record per rank")
with open(data, "rb") as f:
    want_data = "0x" + hashlib.sha256(b"train200.h5\0" + f.read()).hexdigest()
for r in recs:
    d = json.loads(r["details"])
    check(r["miner"] == (a0, a1)[r["rank"]], f"rank {r['rank']}: miner is its key's address")
    check(r["steps"] == s["steps"] and r["seq"] == s["steps"], f"rank {r['rank']}: steps and seq are the run's {s['steps']}")
    check(r["paramsHash"] == "0x" + s["params_sha256"], f"rank {r['rank']}: paramsHash is the summary's params_sha256")
    check(r["datasetHash"] == want_data, f"rank {r['rank']}: datasetHash is SHA-256 of the file read")
    check(r["samples"] > 0 and r["mflops"] > 0 and r["bytesSent"] > 0 and r["bytesRecv"] > 0,
          f"rank {r['rank']}: samples, MFLOP and bytes counted")
    check(0 < r["deviceMs"] <= r["wallMs"], f"rank {r['rank']}: device time within wall time")
    check(d["job"] == "slurm:job-a" and d["hyperparameters"]["batch"] == 32 and d["device"].startswith("cpu")
          and "proof" not in d,
          f"rank {r['rank']}: details name the job, device and hyperparameters")
    check(r["proofRoot"] == "0x" + s["proof_root"] and r["proofSegments"] == s["proof_segments"] > 0,
          f"rank {r['rank']}: proofRoot and proofSegments are the proof log's {s['proof_root'][:16]}... "
          f"and {s['proof_segments']}")
# 200 samples, a global batch of 64: every sample once in the epoch.
check(sum(r["samples"] for r in recs) == 200, "samples over the ranks add up to the epoch's 200")
sys.exit(1 if problems else 0)
PYEOF

proof=$(json_field "$WORK/run.json" proof_dir)
[[ $proof == ./proof-[0-9a-f]*-20*Z ]] && [ -f "$proof/proof.log" ] ||
    fail "a job with --usage and no --proof wrote no proof log ('$proof')"
grep -q "^proof log: $proof " "$WORK/run.out" || fail "the job did not say where its proof log went"
verify_ok() { # VERIFY-ARGS...: a 2-rank aicon verify that must pass
    echo "+ mpirun -np 2 aicon verify $*"
    run_np 2 verify_ok verify "$@"
    [ "$RC" = 0 ] || fail "aicon verify $* exited $RC: $(cat "$WORK/verify_ok.err")"
}
verify_ok "$proof" --segment 1 --root "$(json_field "$WORK/run.json" proof_root)"

# ---- more jobs, to take records from ------------------------------------------------------------
# The same job id, both ranks signing with rank 0's key: rank 1's record is by the wrong key.
SLURM_JOB_ID=job-a aicon_np 2 run2 "${common[@]}" --epochs 1 --max-steps 2 --usage "file:$WORK/other.jsonl" \
    --key "$WORK/keys/rank0.key" --no-proof
[ "$(ls -d "$WORK"/proof-* | wc -l)" = 1 ] || fail "--no-proof wrote a proof log"
"${PY[@]}" -c 'import json, sys
recs = [json.loads(l)["record"] for l in open(sys.argv[1]) if "\"record\"" in l]
assert len(recs) == 2 and all(r["proofRoot"] == "0x" + "0" * 64 and r["proofSegments"] == 0 for r in recs), recs' \
    "$WORK/other.jsonl" || fail "--no-proof: the records do not sign a zero proofRoot and 0 segments"
# A job never opened in the first ledger; the default destination (aicon-ledger.jsonl here) with
# the key in $AICON_KEY.
SLURM_JOB_ID=job-b AICON_KEY=$WORK/keys/rank0.key aicon_np 1 run3 "${common[@]}" --epochs 1 --max-steps 2
[ -f "$WORK/aicon-ledger.jsonl" ] || fail "no --usage and a key: the default ledger aicon-ledger.jsonl was not written"
"$AICON" ledger verify "$WORK/aicon-ledger.jsonl" >/dev/null || fail "verify of the default ledger failed"

# entry FILE LINE: that ledger line's entry without its "prev", as `aicon ledger append` takes it.
entry() {
    "${PY[@]}" -c 'import json, sys
e = json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2]) - 1]); e.pop("prev"); print(json.dumps(e))' "$1" "$2"
}
# rejected NAME PATTERN: verify of $WORK/NAME.jsonl fails naming line 4 and PATTERN.
rejected() {
    if "$AICON" ledger verify "$WORK/$1.jsonl" >"$WORK/$1.out" 2>"$WORK/$1.err"; then
        fail "$1: verify accepted it"
    fi
    grep -q "line 4: .*$2" "$WORK/$1.err" || fail "$1: verify said: $(cat "$WORK/$1.err")"
    echo "ok   $1 rejected: $(cat "$WORK/$1.err")"
}

# A field altered after signing (samples doubled), appended with a correct hash chain.
cp "$WORK/ledger.jsonl" "$WORK/altered.jsonl"
entry "$WORK/ledger.jsonl" 2 | "${PY[@]}" -c 'import json, sys
e = json.load(sys.stdin); e["record"]["samples"] *= 2; e["record"]["seq"] += 100; print(json.dumps(e))' >"$WORK/altered.json"
"$AICON" ledger append "$WORK/altered.jsonl" "$WORK/altered.json"
rejected altered "signature is by 0x[0-9a-f]*, not by the miner"

# The same record again.
cp "$WORK/ledger.jsonl" "$WORK/replay.jsonl"
entry "$WORK/ledger.jsonl" 3 >"$WORK/replay.json"
"$AICON" ledger append "$WORK/replay.jsonl" "$WORK/replay.json"
rejected replay "replay of line 3"

# Rank 1's record signed with rank 0's key (same job, another run).
cp "$WORK/ledger.jsonl" "$WORK/wrongkey.jsonl"
line=$(grep -n '"rank":1,' "$WORK/other.jsonl" | cut -d: -f1)
entry "$WORK/other.jsonl" "$line" >"$WORK/wrongkey.json"
"$AICON" ledger append "$WORK/wrongkey.jsonl" "$WORK/wrongkey.json"
rejected wrongkey "signed by $addr0, not by rank 1's key $addr1"

# A record of job-b, opened only in another ledger.
cp "$WORK/ledger.jsonl" "$WORK/unopened.jsonl"
entry "$WORK/aicon-ledger.jsonl" 2 >"$WORK/unopened.json"
"$AICON" ledger append "$WORK/unopened.jsonl" "$WORK/unopened.json"
rejected unopened "never opened"

# A line taken out of the chain.
sed 2d "$WORK/ledger.jsonl" >"$WORK/cut.jsonl"
if "$AICON" ledger verify "$WORK/cut.jsonl" 2>"$WORK/cut.err"; then fail "verify accepted a ledger with a line removed"; fi
grep -q "line 2: 'prev' is not the hash of line 1" "$WORK/cut.err" || fail "cut chain: $(cat "$WORK/cut.err")"

# Delivering the same job again adds nothing (idempotent on job, rank, seq).
cp "$WORK/ledger.jsonl" "$WORK/before.jsonl"
SLURM_JOB_ID=job-a aicon_np 2 run4 "${common[@]}" --epochs 1 --usage "file:$WORK/ledger.jsonl" \
    --key "$WORK/keys/rank%r.key"
cmp -s "$WORK/before.jsonl" "$WORK/ledger.jsonl" || fail "a second delivery of the same records changed the ledger"

# Flushing an empty spool sends nothing, without undefined behaviour on the way (in an
# -DAICON_SANITIZE=ON build, UBSan reported qsort given a null list of no names).
mkdir -p "$WORK/empty-spool"
"$AICON" ledger flush --spool "$WORK/empty-spool" >"$WORK/flush.out" 2>"$WORK/flush.err" ||
    fail "flush of an empty spool failed: $(cat "$WORK/flush.err")"
grep -q "0 records delivered, 0 left" "$WORK/flush.out" || fail "flush of an empty spool: $(cat "$WORK/flush.out")"
! grep -q "runtime error" "$WORK/flush.err" || fail "flush of an empty spool: $(cat "$WORK/flush.err")"
echo "PASS"
