#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --timeline on 2 ranks: the file parses as a Chrome trace, holds for each rank and traced step every
# op's forward (in graph order) and backward (in reverse), the gradient buckets' allreduce (the
# default plan for lenet: fc2 with the loss slot, fc1 alone, conv2 with conv1), none begun before
# backward had finished the layers it sums, and one optimizer step, with non-negative durations, and
# nothing after the traced steps; tracing leaves the trained parameters bitwise as they are without
# it.
set -euo pipefail
. "$(dirname "$0")/common.sh"

common=(train --model lenet --data "$DATA/train200.h5" --max-steps 5 --batch 16 --threads 1 --quiet)
aicon_np 2 traced "${common[@]}" --timeline "$WORK/trace.json" --timeline-steps 3 --summary "$WORK/traced.json"
aicon_np 2 plain "${common[@]}" --summary "$WORK/plain.json"
[ "$(json_field "$WORK/traced.json" params_sha256)" = "$(json_field "$WORK/plain.json" params_sha256)" ] ||
    fail "--timeline changed the trained parameters"

"${PY[@]}" - "$WORK/trace.json" <<'PYEOF' || fail "the trace does not hold what it should (above)"
import json, sys
from collections import defaultdict

events = json.load(open(sys.argv[1]))["traceEvents"]
ops = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "relu3", "fc2", "loss"]
by = defaultdict(list)  # (rank, step, cat) -> names in time order
span = {}  # (rank, step, name) -> (start, end)
bad = []
for e in sorted((e for e in events if e["ph"] == "X"), key=lambda e: e["ts"]):
    if e["dur"] < 0 or e["ts"] < 0:
        bad.append("negative time: %r" % e)
    by[(e["pid"], e["args"]["step"], e["cat"])].append(e["name"])
    span[(e["pid"], e["args"]["step"], e["name"])] = (e["ts"], e["ts"] + e["dur"])
names = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
if names != {0: "rank 0", 1: "rank 1"}:
    bad.append("process names %r, expected ranks 0 and 1" % names)
steps = sorted({s for _, s, _ in by})
if steps != [0, 1, 2]:
    bad.append("traced steps %r, expected [0, 1, 2] (--timeline-steps 3)" % steps)
for rank in (0, 1):
    for step in (0, 1, 2):
        buckets = {"allreduce bucket 0 (44 KiB)": "fc2", "allreduce bucket 1 (12544 KiB)": "fc1",
                   "allreduce bucket 2 (203 KiB)": "conv1"}
        want = {"forward": ops, "backward": ops[::-1], "allreduce": list(buckets),
                "optimizer": ["optimizer step"]}
        for bucket, last_op in buckets.items():
            b, o = span.get((rank, step, bucket)), span.get((rank, step, last_op))
            if b and o and b[0] < o[1]:
                bad.append("rank %d step %d: %s began at %.1f us, before %s's backward ended at %.1f us"
                           % (rank, step, bucket, b[0], last_op, o[1]))
        for cat, names_ in want.items():
            got = by.get((rank, step, cat), [])
            if got != names_:
                bad.append("rank %d step %d %s: %r, expected %r" % (rank, step, cat, got, names_))
for line in bad:
    print("trace:", line)
n = sum(1 for e in events if e["ph"] == "X")
print("trace: %d complete events, ranks 0-1, steps 0-2" % n)
sys.exit(1 if bad else 0)
PYEOF
assert_no_leftover_processes
echo "PASS"
