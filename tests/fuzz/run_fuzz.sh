#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer target over its seed corpus and then on inputs of its own for SECONDS; fails on
# any crash, leak, UBSan report, timeout or out-of-memory. New inputs go to a temporary directory
# (or $AICON_FUZZ_CORPUS_OUT, kept), never into the tree; on failure the log and crashing input are
# kept and named.
#
# --tolerate LIB: a crash whose faulting frame lies in the system library LIB (a bug of that library
# on a damaged file, e.g. libhdf5 1.10's heap overflows decoding object headers) is reported, its
# input kept under $AICON_FUZZ_KEEP (default: the work directory, then kept), and fuzzing goes on
# for the time left. A crash anywhere else, and every leak and UBSan report, still fails.
#
#   run_fuzz.sh [--tolerate LIB] TARGET_BINARY SEED_CORPUS SECONDS [MORE LIBFUZZER FLAGS...]
set -uo pipefail
tolerate=
if [ "${1:-}" = --tolerate ]; then
    tolerate=$2
    shift 2
fi
[ $# -ge 3 ] || { echo "usage: $0 [--tolerate LIB] TARGET_BINARY SEED_CORPUS SECONDS [FLAGS...]" >&2; exit 2; }
bin=$1 seeds=$2 seconds=$3
shift 3
name=$(basename "$bin")
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable" >&2; exit 1; }
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "FAIL: no seeds in $seeds" >&2; exit 1; }
# Reports must name their functions: the tolerance below, and whoever reads a failure, go by them.
symbolizer=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || command -v llvm-symbolizer-14)}
[ -x "$symbolizer" ] || { echo "FAIL: llvm-symbolizer not found (Debian package llvm): sanitizer reports would name no functions" >&2; exit 1; }
export ASAN_SYMBOLIZER_PATH=$symbolizer
# Third-party leaks (tests/lsan.supp: libhdf5's on damaged files, Open MPI's) are suppressed, never aicon's.
export LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")/.." && pwd)/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}
work=$(mktemp -d "${TMPDIR:-/tmp}/aicon-fuzz-$name-XXXXXX")
out=${AICON_FUZZ_CORPUS_OUT:-$work/new}
keep=${AICON_FUZZ_KEEP:-$work/tolerated}
mkdir -p "$out"

# The frame a sanitizer report faults in: the first frame of its first stack that is neither the
# sanitizer's interceptor or allocator nor libc's memcpy and the like.
faulting_frame() {
    sed -n '/ERROR: AddressSanitizer\|ERROR: libFuzzer\|runtime error/,$p' "$1" |
        grep -E '^ +#[0-9]+ 0x' | grep -vE '__interceptor_|sanitizer_common|compiler-rt|/asan/|in __asan|__sanitizer|fuzzer::|libc\.so|sysdeps/| in (malloc|calloc|realloc) ' | head -1
}

start=$(date +%s) runs=0 tolerated=0 rc=0
while :; do
    left=$((seconds - ($(date +%s) - start)))
    ((runs == 0 || left > 0)) || break
    ((left > 0)) || left=1
    runs=$((runs + 1))
    rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
    # 2 GiB in all and 1 GiB in one allocation: a few KB of input must not ask for more. 30 s per input.
    "$bin" -max_total_time="$left" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$work/" "$@" "$out" "$seeds" >"$work/log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$work/log"
    ((rc == 0)) && break
    frame=$(faulting_frame "$work/log")
    artifact=$(ls "$work"/crash-* "$work"/oom-* 2>/dev/null | head -1)
    if [ -n "$tolerate" ] && [ -n "$artifact" ] && [[ $frame == *"$tolerate"* ]] &&
        ! grep -q 'LeakSanitizer\|runtime error' "$work/log"; then
        tolerated=$((tolerated + 1))
        mkdir -p "$keep"
        cp "$artifact" "$keep/"
        echo "KNOWN THIRD-PARTY CRASH ($tolerate, not aicon): $(grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer): [a-zA-Z -]*' "$work/log")" \
            "at$frame; input kept as $keep/$(basename "$artifact")"
        ((tolerated < 1000)) && continue
        echo "FAIL: $name: 1000 crashes in $tolerate, giving up" >&2
    fi
    echo "FAIL: $name exited with $rc; log, inputs and crashing input kept in $work" >&2
    grep -E 'ERROR|SUMMARY|runtime error|^ +#[0-9]+ |Test unit written|left open' "$work/log" | grep -v 'fuzzer::' | head -60 >&2
    exit 1
done
echo "$name: passed ($runs libFuzzer runs, $tolerated crashes in ${tolerate:-third-party libraries} tolerated)"
if ((tolerated)) && [ -z "${AICON_FUZZ_KEEP:-}" ]; then
    echo "(their inputs are kept in $keep)"
    rm -rf "$work/new" "$work/log"
else
    rm -rf "$work"
fi
