#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# UsageLedger on a real local chain: tests/chain/ganache.sh starts ganache 7 with the contract
# deployed, test_chain_eth --chain runs the contract tests through aicon's C client, and the node is
# stopped whatever happens. Exits 77 (ctest: skipped) only when npm cannot install ganache or solc.
# Then the escrow (payment after a challenge window): its rules through ganache's accounts
# (chain.js escrow), and aicon ledger claim, dispute and settle as the payer, a miner and the arbiter.
# Usage: contract.sh TEST_CHAIN_ETH NPM_DIR [AICON]
set -euo pipefail
TEST=$1 NPM_DIR=$2 AICON=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/aicon-chain-contract-XXXXXX")
finish() {
    local rc=$?
    bash "$HERE/ganache.sh" stop "$DIR" || true
    if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then
        rm -rf "$DIR"
    else
        echo "(chain files of the failed test kept in $DIR; ganache's log: $DIR/ganache.log)" >&2
    fi
    return $rc
}
trap finish EXIT
rc=0
bash "$HERE/ganache.sh" start "$DIR" "$NPM_DIR" >"$DIR/started" || rc=$?
[ $rc -eq 0 ] || exit $rc # 77: npm could not install ganache or solc (the reason is on stderr)
read -r port contract <"$DIR/started"
echo "ganache on 127.0.0.1:$port, UsageLedger at $contract"
timeout 240 "$TEST" --chain "$DIR"
# The node's own view, through another client: two accepted records, each miner credited.
bash "$HERE/ganache.sh" records "$DIR" | tee "$DIR/records.jsonl"
[ "$(wc -l <"$DIR/records.jsonl")" = 2 ] || { echo "FAIL: expected 2 RecordAccepted events" >&2; exit 1; }

bash "$HERE/ganache.sh" escrow "$DIR"
[ -n "$AICON" ] || exit 0
job=$(bash "$HERE/ganache.sh" escrow-job "$DIR")
uri="eth://127.0.0.1:$port?contract=$contract"
(umask 077 && for i in 1 2 4; do sed -n "${i}p" "$DIR/keys" >"$DIR/account$i.key"; done) # payer, miner, arbiter
ledger() { # WANT_RC PATTERN ARGS...: aicon ledger ARGS, its exit status and output checked
    local want=$1 pattern=$2 rc=0
    shift 2
    "$AICON" ledger "$@" >"$DIR/ledger.out" 2>&1 || rc=$?
    cat "$DIR/ledger.out"
    [ "$rc" = "$want" ] && grep -q -- "$pattern" "$DIR/ledger.out" ||
        { echo "FAIL: aicon ledger $* exited $rc (want $want, '$pattern')" >&2; exit 1; }
}
rec=(--job "$job" --rank 0)
ledger 1 "challenge window still open" claim "$uri" "${rec[@]}" --seq 1 --key "$DIR/account1.key"
ledger 1 "only the job's owner disputes" dispute "$uri" "${rec[@]}" --seq 2 --segment 3 --key "$DIR/account2.key"
ledger 0 "done" dispute "$uri" "${rec[@]}" --seq 2 --segment 3 --key "$DIR/account1.key"
bash "$HERE/ganache.sh" mine "$DIR" 5
ledger 0 "done" claim "$uri" "${rec[@]}" --seq 1 --key "$DIR/account1.key"
ledger 1 "disputed, waiting for the arbiter" claim "$uri" "${rec[@]}" --seq 2 --key "$DIR/account1.key"
ledger 1 "only the job's arbiter settles" settle "$uri" "${rec[@]}" --seq 2 --reject --key "$DIR/account1.key"
ledger 0 "done" settle "$uri" "${rec[@]}" --seq 2 --reject --key "$DIR/account4.key"
ledger 1 "already settled" claim "$uri" "${rec[@]}" --seq 2 --key "$DIR/account1.key"
ledger 2 "needs --segment N" dispute "$uri" "${rec[@]}" --seq 2 --key "$DIR/account1.key"
echo "PASS"
