#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage records on a real local chain (npm ganache, tests/chain/ganache.sh, the UsageLedger contract):
#   1. a 2-rank job with --usage eth://127.0.0.1:PORT?contract=... leaves one accepted record per
#      rank (RecordAccepted logs, read with eth_getLogs) and credits each miner samples x reward;
#      the contract keeps each record's proof log root and segments (proofOf, ProofCommitted), the
#      run's own (--summary);
#   2. the chain stopped while a job trains: the job finishes (exit 0), its records are spooled;
#      a flush while the chain is down keeps them; the chain restarted, `aicon ledger flush`
#      delivers each record exactly once, and a second flush sends nothing.
# Called as usage_eth.sh AICON DATA_DIR NPM_DIR MPIRUN...; exits 77 (skipped) only when npm cannot
# install ganache.
set -euo pipefail
NPM_DIR=$3
set -- "$1" "$2" "${@:4}"
. "$(dirname "$0")/common.sh"
cd "$WORK" # the proof logs a job with --usage writes by default go here
GANACHE=$(cd "$(dirname "$0")/../chain" && pwd)/ganache.sh
CHAIN=$WORK/chain

export HOME=$WORK/home AICON_SPOOL=$WORK/spool
unset AICON_KEY
mkdir -p "$HOME" "$WORK/keys"
rc=0
bash "$GANACHE" start "$CHAIN" "$NPM_DIR" >"$WORK/ganache.out" 2>"$WORK/ganache.err" || rc=$?
[ $rc -eq 77 ] && { cat "$WORK/ganache.err"; exit 77; }
[ $rc -eq 0 ] || fail "ganache.sh start: $(cat "$WORK/ganache.err")"
trap 'rc=$?; bash "$GANACHE" stop "$CHAIN"; (exit $rc); cleanup_work' EXIT
PORT=$(cat "$CHAIN/port")
CONTRACT=$(cat "$CHAIN/contract")
URI="eth://127.0.0.1:$PORT?contract=$CONTRACT"

# Ganache's funded accounts 2 and 3 are the miners (account 1 deployed the contract); rank 0's key
# also pays for the transactions.
(umask 077 && sed -n 2p "$CHAIN/keys" >"$WORK/keys/rank0.key" && sed -n 3p "$CHAIN/keys" >"$WORK/keys/rank1.key")
addr() { "${PY[@]}" -c 'import json, sys
a = json.load(open(sys.argv[1]))["addresses"]; print(list(a.keys())[int(sys.argv[2])].lower())' "$CHAIN/accounts.json" "$1"; }
addr0=$(addr 1)
addr1=$(addr 2)

# records_of SEQ: "rank:miner:samples:reward" of each RecordAccepted log of the job that has a record with SEQ.
records_of() {
    bash "$GANACHE" records "$CHAIN" >"$WORK/records.jsonl"
    "${PY[@]}" - "$WORK/records.jsonl" "$1" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = {}
for r in recs:
    ids.setdefault(r["jobId"], []).append(r)
# The job whose records carry seq of this test's run: print "rank:miner:samples" per record.
for job, rs in ids.items():
    if any(r["seq"] == sys.argv[2] for r in rs):
        for r in sorted(rs, key=lambda r: r["rank"]):
            print(f'{r["rank"]}:{r["miner"]}:{r["samples"]}:{r["reward"]}')
PYEOF
}

# ---- 1. delivered on the chain ------------------------------------------------------------------
common=(train --model mlp --data "$DATA/train200.h5" --batch 32 --seed 5 --key "$WORK/keys/rank%r.key")
SLURM_JOB_ID=eth-1 aicon_np 2 run1 "${common[@]}" --epochs 1 --usage "$URI" --usage "file:$WORK/ledger1.jsonl" \
    --summary "$WORK/run1.json"
[ -z "$(ls -A "$WORK/spool" 2>/dev/null)" ] || fail "delivered records left in the spool: $(ls "$WORK/spool")"
bash "$GANACHE" records "$CHAIN" >"$WORK/records1.jsonl"
"${PY[@]}" - "$WORK/records1.jsonl" "$WORK/ledger1.jsonl" "$addr0" "$addr1" <<'PYEOF'
import json, sys
chain = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ledger = [json.loads(l)["record"] for l in open(sys.argv[2]) if '"record"' in l]
a = sys.argv[3:5]
problems = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        problems.append(what)
check(len(chain) == 2, f"two RecordAccepted events on the chain (got {len(chain)})")
check(sorted(r["rank"] for r in chain) == [0, 1], "one per rank")
for r in chain:
    mine = [l for l in ledger if l["rank"] == r["rank"]][0]
    check(r["miner"].lower() == a[r["rank"]], f"rank {r['rank']}: the miner is its key's address")
    check(r["jobId"] == mine["jobId"] and int(r["seq"]) == mine["seq"] and int(r["samples"]) == mine["samples"],
          f"rank {r['rank']}: job, seq and samples are the file ledger's")
    check(int(r["reward"]) == mine["samples"] * 10**12, f"rank {r['rank']}: reward is samples x 1e12")
sys.exit(1 if problems else 0)
PYEOF
for i in 0 1; do
    a=$([ $i = 0 ] && echo "$addr0" || echo "$addr1")
    want=$("${PY[@]}" -c 'import json, sys
print(sum(int(json.loads(l)["samples"]) for l in open(sys.argv[1]) if json.loads(l)["rank"] == int(sys.argv[2])) * 10**12)' \
        "$WORK/records1.jsonl" "$i")
    got=$(bash "$GANACHE" balance "$CHAIN" "$a")
    [ "$got" = "$want" ] || fail "rank $i's miner $a holds $got reward units, expected $want"
    echo "ok   rank $i credited $got"
done
# What the chain keeps of each record's proof log is the root and segment count of the run's own log.
want_root=0x$(json_field "$WORK/run1.json" proof_root)
want_segments=$(json_field "$WORK/run1.json" proof_segments)
[ "$want_root" != 0x ] && [ "$want_segments" -gt 0 ] || fail "the job wrote no proof log: $(cat "$WORK/run1.json")"
for i in 0 1; do
    read -r job seq < <("${PY[@]}" -c 'import json, sys
r = [json.loads(l)["record"] for l in open(sys.argv[1]) if "\"record\"" in l and json.loads(l)["record"]["rank"] == int(sys.argv[2])][0]
print(r["jobId"], r["seq"])' "$WORK/ledger1.jsonl" "$i")
    got=$(bash "$GANACHE" proof "$CHAIN" "$job" "$i" "$seq")
    echo "rank $i: proofOf $got; the summary's root $want_root, $want_segments segments"
    [ "$got" = "{\"root\":\"$want_root\",\"segments\":$want_segments,\"events\":1}" ] ||
        fail "rank $i: the contract keeps $got, not the run's proof root $want_root and $want_segments segments"
    echo "ok   rank $i: proofOf is the run's proof root and segments, in one ProofCommitted event"
done

# ---- 2. the chain stops while the job trains -----------------------------------------------------
# Long enough (2048 samples, lenet, 3 epochs) that the chain is down well before training ends.
# The header line comes after the chain id was read at start-up.
SLURM_JOB_ID=eth-2 timeout -k 10 "$RUN_TIMEOUT" "${MPIRUN[@]}" -np 2 "$AICON" train --model lenet --data "$DATA/train.h5" \
    --batch 32 --epochs 3 --seed 6 --key "$WORK/keys/rank%r.key" --usage "$URI" >"$WORK/run2.out" 2>"$WORK/run2.err" &
train_pid=$!
for _ in $(seq 600); do
    grep -q "^aicon .*: model lenet" "$WORK/run2.out" 2>/dev/null && break
    sleep 0.1
done
grep -q "^aicon .*: model lenet" "$WORK/run2.out" || fail "the training did not start: $(cat "$WORK/run2.err")"
grep -q "^epoch 3/3" "$WORK/run2.out" && fail "training ended before the chain could be stopped; make it longer"
bash "$GANACHE" stop "$CHAIN"
rc=0
wait $train_pid || rc=$?
[ $rc -eq 0 ] || fail "training with the chain down exited $rc: $(cat "$WORK/run2.err")"
grep -q "^epoch 3/3" "$WORK/run2.out" || fail "training did not run all epochs: $(cat "$WORK/run2.out")"
grep -q "spooled in $WORK/spool" "$WORK/run2.err" || fail "no spool warning: $(cat "$WORK/run2.err")"
n=$(ls "$WORK/spool" | grep -c '\.json$' || true)
[ "$n" = 2 ] || fail "expected 2 spooled records, found $n: $(ls "$WORK/spool")"
echo "ok   chain down: training finished, 2 records spooled"

if "$AICON" ledger flush --key "$WORK/keys/rank0.key" --timeout-ms 3000 >"$WORK/flush0.out" 2>"$WORK/flush0.err"; then
    fail "flush with the chain down reported success"
fi
grep -q "0 records delivered, 2 left" "$WORK/flush0.out" || fail "flush while down: $(cat "$WORK/flush0.out" "$WORK/flush0.err")"

bash "$GANACHE" restart "$CHAIN"
steps=$(grep -o "trained [0-9]* steps\|after [0-9]* steps" "$WORK/run2.out" | grep -o "[0-9]*" | head -1)
[ -z "$(records_of "$steps")" ] || fail "records of the stopped-chain job reached the chain before the flush"
"$AICON" ledger flush --key "$WORK/keys/rank0.key" >"$WORK/flush1.out" 2>"$WORK/flush1.err" ||
    fail "flush after restart: $(cat "$WORK/flush1.out" "$WORK/flush1.err")"
grep -q "2 records delivered, 0 left" "$WORK/flush1.out" || fail "flush: $(cat "$WORK/flush1.out")"
[ -z "$(ls -A "$WORK/spool")" ] || fail "flushed records left in the spool: $(ls "$WORK/spool")"
"$AICON" ledger flush --key "$WORK/keys/rank0.key" >"$WORK/flush2.out" 2>&1 || fail "second flush: $(cat "$WORK/flush2.out")"
grep -q "0 records delivered, 0 left" "$WORK/flush2.out" || fail "second flush: $(cat "$WORK/flush2.out")"

# Exactly once: the job's records on the chain, one per rank, and the first job's still two.
got=$(records_of "$steps")
[ "$(echo "$got" | wc -l)" = 2 ] && [ "$(echo "$got" | cut -d: -f1 | tr '\n' ' ')" = "0 1 " ] ||
    fail "after flush the chain holds for the job: $got"
total=$(bash "$GANACHE" records "$CHAIN" | wc -l)
[ "$total" = 4 ] || fail "the chain holds $total records, expected 4 (2 jobs x 2 ranks)"
echo "ok   flush delivered each spooled record once: $(echo $got)"
echo "PASS"
