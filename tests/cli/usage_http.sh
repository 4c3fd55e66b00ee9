#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The http:// destination and the spool: with the endpoint down a job still finishes and its two
# records wait in the spool; a flush while it is down keeps them; once a server listens, a flush
# POSTs each record once (its JSON verifies against the file ledger's copy) and empties the spool;
# an endpoint answering 500 keeps the records spooled.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$WORK" # the proof logs a job with --usage writes by default go here

export HOME=$WORK/home AICON_SPOOL=$WORK/spool
unset AICON_KEY
mkdir -p "$HOME"
"$AICON" keygen --key "$WORK/key" >/dev/null 2>&1

# A port nothing listens on: bound and closed again.
PORT=$("${PY[@]}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SLURM_JOB_ID=http-1 aicon_np 2 run train --model mlp --data "$DATA/train200.h5" --batch 32 --epochs 1 --key "$WORK/key" \
    --usage "http://127.0.0.1:$PORT/usage" --usage "file:$WORK/ledger.jsonl"
grep -q "usage records for http://127.0.0.1:$PORT/usage are spooled" "$WORK/run.err" || fail "no spool warning: $(cat "$WORK/run.err")"
[ "$(ls "$WORK/spool" | grep -c '\.json$')" = 2 ] || fail "expected 2 spooled records: $(ls "$WORK/spool")"
if "$AICON" ledger flush --timeout-ms 2000 >"$WORK/flush0.out" 2>&1; then fail "flush to a closed port succeeded"; fi
grep -q "0 records delivered, 2 left" "$WORK/flush0.out" || fail "flush while down: $(cat "$WORK/flush0.out")"

# serve STATUS: an HTTP server on $PORT answering every POST with STATUS, one body per line in
# $WORK/posts.jsonl.
serve() {
    "${PY[@]}" - "$PORT" "$1" "$WORK/posts.jsonl" <<'PYEOF' &
import http.server, sys
port, status, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if status == 200:
            with open(out, "ab") as f:
                f.write(body + b"\n")
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"server says no" if status != 200 else b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PYEOF
    server=$!
    for _ in $(seq 100); do
        "${PY[@]}" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PORT" 2>/dev/null && return
        sleep 0.1
    done
    fail "the test HTTP server did not start"
}

serve 500
if "$AICON" ledger flush >"$WORK/flush1.out" 2>&1; then fail "flush to an endpoint answering 500 succeeded"; fi
grep -q "HTTP 500 server says no" "$WORK/flush1.out" || fail "flush to a failing endpoint: $(cat "$WORK/flush1.out")"
grep -q "0 records delivered, 2 left" "$WORK/flush1.out" || fail "flush to a failing endpoint: $(cat "$WORK/flush1.out")"
kill "$server"; wait "$server" 2>/dev/null || true

serve 200
"$AICON" ledger flush >"$WORK/flush2.out" 2>&1 || fail "flush: $(cat "$WORK/flush2.out")"
grep -q "2 records delivered, 0 left" "$WORK/flush2.out" || fail "flush: $(cat "$WORK/flush2.out")"
"$AICON" ledger flush >"$WORK/flush3.out" 2>&1 || fail "second flush: $(cat "$WORK/flush3.out")"
grep -q "0 records delivered, 0 left" "$WORK/flush3.out" || fail "second flush: $(cat "$WORK/flush3.out")"
kill "$server"; wait "$server" 2>/dev/null || true

"${PY[@]}" - "$WORK/posts.jsonl" "$WORK/ledger.jsonl" <<'PYEOF'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
ledger = [json.loads(l) for l in open(sys.argv[2])]
recs = {l["record"]["rank"]: l["record"] for l in ledger if "record" in l}
assert len(posts) == 2, f"{len(posts)} POSTs, expected 2"
assert sorted(p["record"]["rank"] for p in posts) == [0, 1], "one POST per rank"
for p in posts:
    r = p["record"]
    # The file ledger and the endpoint get the same record, signed over the same (chain 0) domain.
    assert r == recs[r["rank"]], f"rank {r['rank']}: the POSTed record differs from the ledger's"
    assert p["open"]["ranks"] == ledger[0]["open"]["ranks"], "the POST carries the job's opening"
print("ok   2 POSTs, each the ledger's record")
PYEOF
echo "PASS"
