#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (-DAICON_FUZZ=ON with clang, CUDA off, in build-fuzz/; the packages
# come from scripts/install-deps.sh --fuzz) and runs each over its seed corpus and then for SECONDS
# (default 600) on inputs of its own, one target after the other. Prints per target libFuzzer's
# coverage (cov: edges, ft: features) at the start and at the end (#N DONE: N executions), and a
# summary table. New inputs are kept in build-fuzz/fuzz-corpus/<target> (the next run starts from
# them), crashes of libhdf5 itself in build-fuzz/fuzz-tolerated/<target>. Exits non-zero when any
# target crashed, leaked or hit undefined behaviour in aicon.
#
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. bash scripts/fuzz.sh 120 idx_fuzz ledger_fuzz
#   bash scripts/fuzz.sh --ctest                    builds them and runs `ctest -L fuzz` (CI: each
#                                                   target over its seeds, then a few seconds more)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
[[ $seconds =~ ^([0-9]+|--ctest)$ ]] || { echo "usage: $0 [SECONDS] [TARGET...] | --ctest" >&2; exit 2; }
build=${AICON_FUZZ_BUILD:-build-fuzz}
jobs=${AICON_BUILD_JOBS:-$(nproc)}

cmake -S . -B "$build" -DAICON_FUZZ=ON -DCMAKE_C_COMPILER=clang -DAICON_CUDA=OFF >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; exit 1; }
mv "$build.configure.log" "$build/configure.log"
cmake --build "$build" -j"$jobs" --target fuzz_targets >"$build/fuzz-build.log" 2>&1 ||
    { tail -40 "$build/fuzz-build.log" >&2; exit 1; }

if [[ $seconds == --ctest ]]; then
    exec ctest --test-dir "$build" -L fuzz --output-on-failure
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(onnx_load_fuzz onnx_import_fuzz checkpoint_fuzz idx_fuzz h5data_fuzz ledger_fuzz record_fuzz)
    # ledger_fuzz and record_fuzz exist only where usage records are built
    [ -x "$build/ledger_fuzz" ] || targets=("${targets[@]:0:5}")
fi
summary=() failed=0
for t in "${targets[@]}"; do
    base=${t%_fuzz}
    seeds=tests/fuzz/corpus/$base
    [[ $t == onnx_* ]] && seeds=tests/fuzz/corpus/onnx
    tolerate=()
    [[ $t == checkpoint_fuzz || $t == h5data_fuzz ]] && tolerate=(--tolerate libhdf5)
    mkdir -p "$build/fuzz-corpus/$t"
    echo "=== $t: ${seconds}s over $seeds and $build/fuzz-corpus/$t"
    log=$build/fuzz-$t.log
    AICON_FUZZ_CORPUS_OUT=$PWD/$build/fuzz-corpus/$t AICON_FUZZ_KEEP=$PWD/$build/fuzz-tolerated/$t \
        bash tests/fuzz/run_fuzz.sh "${tolerate[@]}" "$build/$t" "$seeds" "$seconds" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    inited=$(grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+')
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(INITED|NEW|REDUCE|pulse|DONE)' "$log" | tail -1) # a run ended by a libhdf5 crash has no DONE
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
    tol=$(grep -c 'KNOWN THIRD-PARTY CRASH' "$log")
    verdict=ok
    ((rc == 0)) || { verdict=FAILED; failed=1; }
    summary+=("$(printf '%-17s %-7s %10s execs  start %-18s end %-18s  libhdf5 crashes %s' "$t" "$verdict" "$execs" \
        "$inited" "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$done_line")" "$tol")")
done
echo
echo "=== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $failed
