#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Logs for batch jobs: --log-every 5 --metrics FILE.jsonl --max-steps 23 on 2 ranks (16 steps an
# epoch, so the run ends 7 steps into epoch 2). stdout, a file, has a step line at steps 5, 10, 15
# and 20; the JSONL has one valid object a line: steps 5, 10, 15, 20 with their keys and a growing
# elapsed time, and epoch records 1 and 2; the summary says 23 steps in 2 epochs (1.4375 exactly),
# and the bytes its collectives moved and the split of its time into computing and waiting.
# A second run appends to the same file. On a terminal (`script`) the live line stays, its bar counts
# the 7 steps of epoch 2/2, and no step line is printed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

args=(train --model mlp --data "$DATA/train.h5" --test-data "$DATA/test.h5" --threads 1 --log-every 5
      --max-steps 23)
aicon_np 2 run "${args[@]}" --metrics "$WORK/m.jsonl" --summary "$WORK/summary.json"
cat "$WORK/run.out"
steps=$(grep -oE '^step [0-9]+/23  epoch [0-9]+  loss [0-9.]+  lr [0-9.e-]+  [0-9]+ samples/s  elapsed [0-9.]+ s  ETA [0-9.]+ s$' \
    "$WORK/run.out" | cut -d' ' -f2 | tr '\n' ' ')
[ "$steps" = "5/23 10/23 15/23 20/23 " ] || fail "stdout's step lines are for steps '$steps', not 5, 10, 15 and 20"
grep -q '^epoch 2/2 ' "$WORK/run.out" || fail "the last epoch line is not 'epoch 2/2' with --max-steps 23"

"${PY[@]}" - "$WORK/m.jsonl" "$WORK/summary.json" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = []
for i, line in enumerate(lines, 1):
    try:
        recs.append(json.loads(line))
    except ValueError as e:
        sys.exit(f"FAIL: line {i} of the metrics file is not JSON ({e}): {line!r}")
steps = [r for r in recs if r.get("type") == "step"]
epochs = [r for r in recs if r.get("type") == "epoch"]
if len(steps) + len(epochs) != len(recs):
    sys.exit(f"FAIL: records of an unknown type: {recs}")
if [r["step"] for r in steps] != [5, 10, 15, 20]:
    sys.exit(f"FAIL: step records for steps {[r['step'] for r in steps]}, not 5, 10, 15, 20")
for r in steps:
    missing = {"step", "epoch", "loss", "lr", "samples_per_sec", "elapsed", "eta"} - set(r)
    if missing:
        sys.exit(f"FAIL: step record {r} lacks {sorted(missing)}")
    if not (r["loss"] > 0 and r["samples_per_sec"] > 0 and r["eta"] >= 0 and abs(r["lr"] - 0.05) < 1e-6):
        sys.exit(f"FAIL: implausible step record {r}")
if [r["epoch"] for r in steps] != [1, 1, 1, 2]:
    sys.exit(f"FAIL: step records name epochs {[r['epoch'] for r in steps]}, not 1, 1, 1, 2")
if [(r["epoch"], r["step"]) for r in epochs] != [(1, 16), (2, 23)]:
    sys.exit(f"FAIL: epoch records {epochs}, expected epoch 1 at step 16 and epoch 2 at step 23")
for r in epochs:
    missing = {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "samples_per_sec", "elapsed",
               "bytes_sent", "bytes_received", "compute_seconds", "comm_wait_seconds", "compute_share"} - set(r)
    if missing:
        sys.exit(f"FAIL: epoch record {r} lacks {sorted(missing)}")
elapsed = [r["elapsed"] for r in recs]
if any(b < a for a, b in zip(elapsed, elapsed[1:])) or elapsed[0] <= 0:
    sys.exit(f"FAIL: elapsed times not increasing: {elapsed}")
s = json.load(open(sys.argv[2]))
if (s["steps"], s["epochs"], s["epochs_exact"], s["max_steps"]) != (23, 2, 23 / 16, 23):
    sys.exit(f"FAIL: summary steps {s['steps']}, epochs {s['epochs']} ({s['epochs_exact']}), max_steps "
             f"{s['max_steps']}: expected 23 steps, 2 epochs (1.4375), max_steps 23")
# Accounting: on 2 ranks every step sums the gradients and the loss slot (n + 1 floats), and rank 0
# sends and receives 4 (n + 1) bytes for each whatever the algorithm (ring, Rabenseifner and the
# single copy all move half of the vector each way, twice); the rest is the per-step agreements and
# the evaluations, a few KiB. The training time splits into computing and waiting.
n = s["parameters"]
grads = 23 * 4 * (n + 1)
for key in ("bytes_sent", "bytes_received"):
    if not grads <= s[key] <= grads + 64 * 1024:
        sys.exit(f"FAIL: summary {key} {s[key]}: expected the 23 gradient sums' {grads} bytes plus a few KiB")
if abs(s["compute_seconds"] + s["comm_wait_seconds"] - s["train_seconds"]) > 1e-9 * s["train_seconds"] + 1e-12:
    sys.exit(f"FAIL: compute {s['compute_seconds']} s + waiting {s['comm_wait_seconds']} s is not the "
             f"training time {s['train_seconds']} s")
if not (s["comm_wait_seconds"] > 0 and 0 < s["compute_share"] < 1
        and abs(s["compute_share"] - s["compute_seconds"] / s["train_seconds"]) < 1e-9):
    sys.exit(f"FAIL: implausible accounting: waiting {s['comm_wait_seconds']} s, share {s['compute_share']}")
if sum(r["bytes_sent"] for r in epochs) > s["bytes_sent"] or epochs[0]["bytes_sent"] < 16 * 4 * (n + 1):
    sys.exit(f"FAIL: the epochs' bytes {[r['bytes_sent'] for r in epochs]} do not fit the run's {s['bytes_sent']}")
print(f"accounting: {s['bytes_sent']} bytes sent, {s['bytes_received']} received ({grads} of gradients), "
      f"compute {s['compute_seconds']:.3f} s, waiting {s['comm_wait_seconds']:.3f} s, share {s['compute_share']:.3f}")
print(f"metrics: {len(recs)} records, steps {[r['step'] for r in steps]}, epochs at steps "
      f"{[r['step'] for r in epochs]}; summary: {s['steps']} steps, {s['epochs']} epochs ({s['epochs_exact']})")
PYEOF

aicon_np 2 again "${args[@]}" --metrics "$WORK/m.jsonl"
n=$(wc -l <"$WORK/m.jsonl")
[ "$n" = 12 ] || fail "a second run did not append its 6 records to the 6 of the first: $n lines"

echo "+ script: aicon ${args[*]}"
# one rank x 128: 16 steps an epoch as above
timeout -k 5 "$RUN_TIMEOUT" script -qefc "$(printf '%q ' "$AICON" "${args[@]}" --batch 128)" "$WORK/tty.log" >/dev/null \
    || fail "aicon under a pseudo-terminal exited non-zero: $(tail -c 2000 "$WORK/tty.log")"
grep -qE 'epoch 2/2 \[#+\] 7/7 ' "$WORK/tty.log" || fail "the live line of epoch 2 does not end at 7/7 of 2/2"
if grep -q 'step 5/23' "$WORK/tty.log"; then fail "step lines on a terminal, where the live line is"; fi
assert_no_leftover_processes
echo "PASS"
