#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Plots bus bandwidth against message size from benchmarks/allreduce --json output.

usage: benchmarks/plot_allreduce.py RESULT.json OUT.png [--title TEXT] [--bound GBPS]

One line per algorithm; --bound draws a horizontal line (e.g. the link rate of
benchmarks/netns_hosts.sh, which bounds the bus bandwidth). Needs Debian's python3-matplotlib
(scripts/install-deps.sh --bench)."""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "ring": "aicon ring",
    "rd": "aicon recursive doubling",
    "rabenseifner": "aicon Rabenseifner",
    "aicon": "aicon (choice by size)",
    "mpi": "MPI_Allreduce (Open MPI)",
    "nccl": "NCCL",
}


def size_label(b):
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if b >= div:
            return "%g%s" % (b / div, unit)
    return "%d" % b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("result")
    ap.add_argument("png")
    ap.add_argument("--title", default=None)
    ap.add_argument("--bound", type=float, default=None, help="GB/s")
    a = ap.parse_args()
    try:
        d = json.load(open(a.result))
    except (OSError, ValueError) as e:
        sys.exit("plot_allreduce: cannot read %s: %s" % (a.result, e))
    series = {}
    for r in d["results"]:
        if r["time_us"] > 0:
            series.setdefault(r["algo"], []).append((r["bytes"], r["busbw_GBps"]))
    if not series:
        sys.exit("plot_allreduce: %s holds no results" % a.result)
    fig, ax = plt.subplots(figsize=(8, 5))
    for algo, pts in series.items():
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3,
                label=LABELS.get(algo, algo))
    if a.bound:
        ax.axhline(a.bound, color="grey", linestyle="--", label="link rate (bound)")
    sizes = sorted({b for pts in series.values() for b, _ in pts})
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ticks = sizes[:: max(1, len(sizes) // 12)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([size_label(b) for b in ticks], rotation=45)
    ax.set_xlabel("message size (bytes)")
    ax.set_ylabel("bus bandwidth (GB/s), algbw x 2(p-1)/p")
    ax.set_title(a.title or "allreduce, %d ranks (median of %s)" % (d["ranks"], d.get("reps", 1)))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.png, dpi=90)


if __name__ == "__main__":
    main()
