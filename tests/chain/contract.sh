#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# UsageLedger on a real local chain: tests/chain/ganache.sh starts ganache 7 with the contract
# deployed, test_chain_eth --chain runs the contract tests through aicon's C client, and the node is
# stopped whatever happens. Exits 77 (ctest: skipped) only when npm cannot install ganache or solc.
# Usage: contract.sh TEST_CHAIN_ETH NPM_DIR
set -euo pipefail
TEST=$1 NPM_DIR=$2
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
