#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Four hosts on one machine: the allreduce benchmark over TCP between network namespaces, each
# host's link limited with tc, against the bandwidth bound; or, with --train, a training job on the
# four hosts. Needs root (ip netns, tc) and iproute2 (scripts/install-deps.sh --bench).
#
# usage: benchmarks/netns_hosts.sh [--rate RATE] [--delay DELAY] [--min BYTES] [--max BYTES]
#                                  [--iters N] [--reps R] [--json FILE] [BUILD_DIR]
#        benchmarks/netns_hosts.sh [--rate RATE] [--delay DELAY] --train "ARGS" [BUILD_DIR]
#   RATE   tc rate of every host's link, default 1gbit (tc's units: kbit, mbit, gbit)
#   DELAY  one-way delay added on every host's link, default 0.5ms
#   ARGS   aicon train's arguments (e.g. "--model lenet --epochs 1 --threads 1"); the job runs with
#          one rank a host and --summary, and the script prints from rank 0's summary the samples
#          (tokens) per second, the share of training time spent computing, the bytes sent per
#          sample and the final accuracy or validation loss (--json FILE keeps the summary)
#   BUILD_DIR  an aicon build with benchmarks/allreduce (or aicon for --train), default build/
#
# Layout: namespaces aicon-h6a-h1 .. -h4 (the hosts, eth0 = 10.77.0.1 .. .4/24) and aicon-h6a-sw (a
# bridge, no address); a veth pair joins each host's eth0 to the bridge. netem on each host's eth0
# egress adds the delay and limits the rate, so every host sends at most RATE and receives at most
# RATE (what its peers may send it); a kernel without sch_netem gets tbf (rate only) and the
# table says so. Nothing in the machine's own namespace is touched, and
# everything made here is removed on exit, also on failure or Ctrl-C.
#
# Open MPI starts its daemons with a launch agent (plm_rsh_agent) that runs the daemon inside the
# namespace of the host it names, instead of ssh; mpirun itself runs in host 1. btl tcp,self over
# eth0 only: no shared memory between the "hosts".
#
# The bound: a bandwidth-optimal allreduce of N bytes moves 2(p-1)/p x N bytes over each host's
# link, so at link rate B it takes at least 2(p-1)/p x N / B, i.e. its bus bandwidth is at most B.
# The table gives the ring's and MPI_Allreduce's bus bandwidth as shares of B.
set -euo pipefail

rate=1gbit delay=0.5ms min=16M max=64M iters=3 reps=3 json="" train=""
build=""
while (($#)); do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --min) min=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --train) train=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    -*) echo "netns_hosts: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${build:-$here/../build}" && pwd)
bench=$build/benchmarks/allreduce
[[ -n $train ]] && bench=$build/aicon
[[ -x $bench ]] || { echo "netns_hosts: no $bench (build aicon and the bench_allreduce target)" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "netns_hosts: needs root for ip netns and tc" >&2; exit 2; }
command -v tc >/dev/null || { echo "netns_hosts: no tc (Debian: iproute2)" >&2; exit 2; }

hosts=4 pre=aicon-h6a
sw=$pre-sw
work=""

cleanup() {
  for i in $(seq 1 $hosts); do ip netns del "$pre-h$i" 2>/dev/null || true; done
  ip netns del "$sw" 2>/dev/null || true
  if [[ -n $work ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM
cleanup # a run killed with SIGKILL may have left its namespaces (only ours: the aicon-h6a- names)
work=$(mktemp -d /tmp/aicon-netns.XXXXXX)

shaping="netem delay $delay rate $rate"
ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for i in $(seq 1 $hosts); do
  ns=$pre-h$i
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # Made inside the host's namespace, then one end moved to the switch: no name in the machine's.
  ip -n "$ns" link add eth0 type veth peer name p$i
  ip -n "$ns" link set p$i netns "$sw"
  ip -n "$sw" link set p$i master br0 up
  ip -n "$ns" addr add 10.77.0.$i/24 dev eth0
  ip -n "$ns" link set eth0 up
  # netem queues up to `limit` packets: enough for a delay-bandwidth product with room for bursts.
  # Without sch_netem in the kernel, tbf limits the rate alone (its burst holds a few 64 KiB GSO
  # packets, which veth passes whole).
  if ! tc -n "$ns" qdisc add dev eth0 root netem delay "$delay" rate "$rate" limit 10000 2>/dev/null; then
    tc -n "$ns" qdisc add dev eth0 root tbf rate "$rate" burst 256kb latency 50ms
    shaping="tbf rate $rate, no added delay (this kernel has no sch_netem)"
  fi
  echo "10.77.0.$i slots=1" >> "$work/hostfile"
done

# The launch agent: "agent HOST COMMAND..." runs COMMAND in HOST's namespace, as ssh would on HOST.
cat > "$work/agent" <<AGENT
#!/bin/sh
host=\$1; shift
exec ip netns exec $pre-h\${host##*.} sh -c "\$*"
AGENT
chmod +x "$work/agent"

echo "# 4 hosts (network namespaces), each host's link: $shaping; MPI over TCP"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
on_hosts() { # COMMAND...: one process a host, mpirun in host 1
  ip netns exec $pre-h1 mpirun --allow-run-as-root -np $hosts --hostfile "$work/hostfile" \
    --mca plm_rsh_agent "$work/agent" --mca btl tcp,self --mca btl_tcp_if_include eth0 \
    --mca oob_tcp_if_include eth0 --mca pml ob1 --mca mpi_yield_when_idle 1 "$@"
}
link_stats() { # drops mean the shaper's queue overflowed and TCP backed off
  for i in $(seq 1 $hosts); do
    echo "# host $i eth0: $(tc -s -n "$pre-h$i" qdisc show dev eth0 | grep -o 'Sent.*dropped [0-9]*')"
  done
}

if [[ -n $train ]]; then
  # shellcheck disable=SC2086 # ARGS are words
  on_hosts "$bench" train $train --summary "$work/summary.json"
  link_stats
  [[ -n $json ]] && cp "$work/summary.json" "$json"
  /usr/bin/python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
samples = s["steps"] * s["batch_per_rank"] * s["accumulate"] * s["world_size"]  # the last batch of an epoch may be short
lm = "val_loss" in s
print("# %s on %d hosts: %d steps, %d samples" % ("language model" if lm else "classifier", s["world_size"],
      s["steps"], samples))
print("  %-24s %.1f" % ("tokens/s" if lm else "samples/s",
      s["train_tokens_per_sec"] if lm else s["train_samples_per_sec"]))
print("  %-24s %.3f (%.1f s computing, %.1f s waiting)" % ("compute_share", s["compute_share"],
      s["compute_seconds"], s["comm_wait_seconds"]))
print("  %-24s %.0f (rank 0: %d sent, %d received)" % ("bytes sent per sample", s["bytes_sent"] / samples,
      s["bytes_sent"], s["bytes_received"]))
if lm:
    print("  %-24s %.4f" % ("validation loss", s["val_loss"]))
else:
    print("  %-24s %.4f" % ("test accuracy", s["test_accuracy"]))
PY
  exit 0
fi

on_hosts "$bench" --min "$min" --max "$max" --factor 2 --iters "$iters" --warmup 1 --reps "$reps" \
  --algos ring,aicon,mpi --json "$work/result.json" | tee "$work/table.txt"
[[ -n $json ]] && cp "$work/result.json" "$json"
link_stats

/usr/bin/python3 - "$work/result.json" "$rate" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", sys.argv[2].lower())
bits = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]
B = bits / 8 / 1e9  # GB/s
p = d["ranks"]
rows = {}
for r in d["results"]:
    rows.setdefault(r["bytes"], {})[r["algo"]] = r
print("# bound: busbw <= link rate B = %.4f GB/s (2(p-1)/p x N / B seconds, p = %d)" % (B, p))
print("# %12s %12s %10s %10s %10s %10s" % ("bytes", "bound_ms", "ring_GBps", "ring/B", "mpi_GBps", "mpi/B"))
for n in sorted(rows):
    ring, mpi = rows[n].get("ring"), rows[n].get("mpi")
    bound_ms = 2 * (p - 1) / p * n / (B * 1e9) * 1e3
    print("  %12d %12.2f %10.4f %10.3f %10.4f %10.3f" % (n, bound_ms, ring["busbw_GBps"],
          ring["busbw_GBps"] / B, mpi["busbw_GBps"], mpi["busbw_GBps"] / B))
PY
