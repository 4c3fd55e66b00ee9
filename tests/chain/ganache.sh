#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A local Ethereum chain for the usage-ledger tests: npm ganache@7 on 127.0.0.1 with UsageLedger
# (chain/contracts/UsageLedger.sol, compiled by npm solc@0.8) deployed on it.
#
#   ganache.sh start DIR NPM_DIR   installs ganache@7, solc@0.8 and js-sha3 into NPM_DIR when missing
#                                  (exit 77, the reason on stderr, when npm cannot), compiles the
#                                  contract into DIR/build, starts ganache on a free port with its
#                                  database in DIR/db, deploys UsageLedger, and writes
#                                    DIR/port DIR/url ("http://127.0.0.1:PORT") DIR/chain_id
#                                    DIR/contract (0x address) DIR/pid DIR/ganache.log
#                                    DIR/keys: the 10 funded accounts' private keys, 64 hex digits
#                                    a line; the first deploys the contract
#                                  and prints "PORT CONTRACT". ganache keeps running: the caller
#                                  stops it, e.g. trap 'bash ganache.sh stop DIR' EXIT.
#   ganache.sh stop DIR            stops the node (SIGTERM, then SIGKILL after 10 s); no-op when it
#                                  is not running.
#   ganache.sh restart DIR         starts the stopped node again on the same port and database: the
#                                  contract, its jobs and records are still there.
#   ganache.sh records DIR         one JSON line per RecordAccepted event of the contract
#                                  ({jobId, rank, seq, miner, samples, deviceMs, reward, tx}).
#   ganache.sh balance DIR ADDRESS the contract's reward-token balance of ADDRESS (token units).
#   ganache.sh proof DIR JOB RANK SEQ  the proof log the contract keeps for that record
#                                  ({root, segments, events}: proofOf and its ProofCommitted logs).
#   ganache.sh escrow DIR          the escrow's payment rules through ganache's accounts (chain.js).
#   ganache.sh escrow-job DIR      a job in escrow with two accepted records; prints its id.
#   ganache.sh mine DIR N          mines N blocks.
#
# The chain id is 1337; each account holds 1000 ETH; transactions are mined as they arrive. The
# contract pays REWARD_PER_SAMPLE (default 1000000000000, i.e. 1e-6 token) per verified sample.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 start DIR NPM_DIR | stop DIR | restart DIR | records DIR | balance DIR ADDRESS" >&2; exit 2; }

node_in() { NODE_PATH="$(cat "$DIR/npm")/node_modules" node "$@"; }

running() {
    [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null
}

# launch PORT: ganache in the background on 127.0.0.1:PORT with DIR's database; waits until it answers.
launch() {
    local port=$1 npm
    npm=$(cat "$DIR/npm")
    node "$npm/node_modules/ganache/dist/node/cli.js" --server.host 127.0.0.1 --server.port "$port" \
        --wallet.deterministic --wallet.totalAccounts 10 --wallet.accountKeysPath "$DIR/accounts.json" \
        --chain.chainId 1337 --database.dbPath "$DIR/db" --logging.quiet >>"$DIR/ganache.log" 2>&1 &
    echo $! >"$DIR/pid"
    echo "$port" >"$DIR/port"
    echo "http://127.0.0.1:$port" >"$DIR/url"
    if ! node_in "$HERE/chain.js" wait "http://127.0.0.1:$port" 60 >"$DIR/chain_id" 2>>"$DIR/ganache.log"; then
        stop_node
        return 1
    fi
}

stop_node() {
    running || return 0
    local pid i
    pid=$(cat "$DIR/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$DIR/pid"
}

case $cmd in
start)
    NPM_DIR=${3:?usage: $0 start DIR NPM_DIR}
    mkdir -p "$DIR" "$NPM_DIR"
    NPM_DIR=$(cd "$NPM_DIR" && pwd)
    DIR=$(cd "$DIR" && pwd)
    echo "$NPM_DIR" >"$DIR/npm"
    command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node or npm is not installed" >&2; exit 77; }
    # One install at a time into a shared NPM_DIR (tests run in parallel); the stamp marks a complete one.
    exec 9>"$NPM_DIR/.install.lock"
    flock 9
    if [ ! -f "$NPM_DIR/.aicon-chain-installed" ]; then
        if ! timeout 300 npm install --no-audit --no-fund --prefix "$NPM_DIR" ganache@7 solc@0.8 js-sha3@0.8 \
            >"$DIR/npm.log" 2>&1; then
            echo "SKIP: npm install ganache@7 solc@0.8 js-sha3@0.8 failed: $(tail -n 3 "$DIR/npm.log" | tr '\n' ' ')" >&2
            exit 77
        fi
        touch "$NPM_DIR/.aicon-chain-installed"
    fi
    exec 9>&-
    node "$SRC/chain/contracts/build.js" "$NPM_DIR/node_modules" "$DIR/build" >/dev/null
    trap 'stop_node' EXIT # a start that fails leaves no node behind
    rm -rf "$DIR/db"
    started=0
    for attempt in 1 2 3; do # a free port can be taken before ganache binds it: try another
        port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
        if launch "$port"; then started=1; break; fi
    done
    [ $started = 1 ] || { echo "ganache.sh: ganache did not start; $DIR/ganache.log:" >&2; tail -n 20 "$DIR/ganache.log" >&2; exit 1; }
    node_in -e '
        const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        for (const addr of Object.keys(a.addresses)) console.log(a.private_keys[addr].replace(/^0x/, ""));
    ' "$DIR/accounts.json" >"$DIR/keys"
    node_in "$HERE/chain.js" deploy "$(cat "$DIR/url")" "$DIR/build" "${REWARD_PER_SAMPLE:-1000000000000}" >"$DIR/contract"
    trap - EXIT
    echo "$(cat "$DIR/port") $(cat "$DIR/contract")"
    ;;
stop)
    stop_node
    ;;
restart)
    running && { echo "ganache.sh: the node of $DIR is still running (pid $(cat "$DIR/pid"))" >&2; exit 1; }
    launch "$(cat "$DIR/port")" || { echo "ganache.sh: ganache did not restart; $DIR/ganache.log:" >&2; tail -n 20 "$DIR/ganache.log" >&2; exit 1; }
    ;;
records)
    node_in "$HERE/chain.js" records "$(cat "$DIR/url")" "$(cat "$DIR/contract")"
    ;;
escrow | escrow-job)
    node_in "$HERE/chain.js" "$cmd" "$(cat "$DIR/url")" "$(cat "$DIR/contract")"
    ;;
mine)
    node_in "$HERE/chain.js" mine "$(cat "$DIR/url")" "${3:?usage: $0 mine DIR N}"
    ;;
proof)
    [ $# -eq 5 ] || { echo "usage: $0 proof DIR JOB RANK SEQ" >&2; exit 2; }
    node_in "$HERE/chain.js" proof "$(cat "$DIR/url")" "$(cat "$DIR/contract")" "$3" "$4" "$5"
    ;;
balance)
    node_in "$HERE/chain.js" balance "$(cat "$DIR/url")" "$(cat "$DIR/contract")" "${3:?usage: $0 balance DIR ADDRESS}"
    ;;
*)
    echo "ganache.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
