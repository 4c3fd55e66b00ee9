#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reads an `aicon train --timeline` trace the way Horovod's synthetic benchmark times: skips
--warmup steps, then --iters iterations of --batches-per-iter steps each, timed on every rank from
the start of an iteration's first step to the start of the next iteration's (so the trace must hold
warmup + iters x batches + 1 steps). Per rank: samples/s mean and 1.96 x the standard deviation
over iterations. Also the share of the gradient allreduce time spent while the same rank's backward
pass was still running (hidden behind it), over the timed steps.

usage: /usr/bin/python3 benchmarks/train_timeline.py TRACE.json --batch B [--warmup 5]
Prints one JSON line.
"""
import argparse
import json
from collections import defaultdict

import numpy as np


def overlap(a0, a1, spans):
    """Length of [a0, a1] covered by the union of spans (sorted, possibly overlapping)."""
    covered, reach = 0.0, a0
    for s0, s1 in spans:
        lo, hi = max(s0, reach), min(s1, a1)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return covered


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--batch", type=int, required=True, help="samples per rank per step")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--batches-per-iter", type=int, default=10)
    args = ap.parse_args()

    events = [e for e in json.load(open(args.trace))["traceEvents"] if e["ph"] == "X"]
    start = defaultdict(dict)              # rank -> step -> first event's start (us)
    backward = defaultdict(list)           # (rank, step) -> [(t0, t1)]
    allreduce = defaultdict(list)
    for e in events:
        r, s, t0, t1 = e["pid"], e["args"]["step"], e["ts"], e["ts"] + e["dur"]
        start[r][s] = min(start[r].get(s, t0), t0)
        if e["cat"] == "backward":
            backward[(r, s)].append((t0, t1))
        elif e["cat"] == "allreduce":
            allreduce[(r, s)].append((t0, t1))
    first = min(min(steps) for steps in start.values()) + args.warmup
    need = first + args.iters * args.batches_per_iter
    ranks = sorted(start)
    per_rank = []
    hidden = total = 0.0
    for r in ranks:
        if need not in start[r]:
            raise SystemExit("train_timeline.py: rank %d's trace ends before step %d (trace %d steps)"
                             % (r, need, need + 1 - first + args.warmup))
        rates = []
        for i in range(args.iters):
            a = first + i * args.batches_per_iter
            dt = (start[r][a + args.batches_per_iter] - start[r][a]) * 1e-6
            rates.append(args.batch * args.batches_per_iter / dt)
        per_rank.append(rates)
        for s in range(first, need):
            spans = sorted(backward[(r, s)])
            for a0, a1 in allreduce[(r, s)]:
                total += a1 - a0
                hidden += overlap(a0, a1, spans)
    rates = np.array(per_rank)             # ranks x iters
    glob = rates.sum(axis=0)               # global samples/s per iteration
    print(json.dumps({
        "framework": "aicon",
        "world": len(ranks),
        "samples_per_sec_per_rank_mean": round(float(rates.mean()), 2),
        "samples_per_sec_per_rank_ci95": round(float(1.96 * rates.std()), 2),
        "samples_per_sec_mean": round(float(glob.mean()), 2),
        "samples_per_sec_ci95": round(float(1.96 * glob.std()), 2),
        "allreduce_ms_per_step": round(total / len(ranks) / (need - first) / 1e3, 3),
        "allreduce_hidden_share": round(hidden / total, 4) if total > 0 else None,
    }))


if __name__ == "__main__":
    main()
