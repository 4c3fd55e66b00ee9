#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A build without usage records (-DAICON_USAGE=OFF) on a machine that has none of their libraries:
# run it in a fresh root (.ci/run does: scripts/fresh-root.sh bash scripts/check-no-usage.sh). It
# installs the build's packages without the usage ones, checks that secp256k1, nettle and json-c are
# absent, builds into build-nousage/, and checks that neither libaicon nor the aicon command needs any of
# them (libcurl is there only because Debian's libhdf5-dev depends on it), that 2 ranks train, and
# that the usage and JSON flags say what this build lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --no-usage
for p in libsecp256k1-dev nettle-dev libjson-c-dev; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "check-no-usage: $p is installed; this check needs a machine without it" >&2
        exit 1
    fi
done
cmake -S . -B build-nousage -DAICON_USAGE=OFF -DAICON_CUDA=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=Release >build-nousage.configure.log
cmake --build build-nousage -j"$(nproc)" --target aicon_cli aicon >/dev/null

for f in build-nousage/aicon build-nousage/libaicon.so.0; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    if grep -Eq 'secp256k1|nettle|json-c|curl' <<<"$needed"; then
        echo "check-no-usage: $f needs a usage library: $needed" >&2
        exit 1
    fi
    echo "check-no-usage: $f needs: $needed"
done

[[ $EUID -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(timeout 300 mpirun --oversubscribe -np 2 build-nousage/aicon train --model mlp --max-steps 60 --batch 32 \
    --threads 1 2>&1) || { echo "$out" >&2; echo "check-no-usage: training failed" >&2; exit 1; }
line=$(grep '^test accuracy' <<<"$out") || { echo "$out" >&2; exit 1; }
echo "check-no-usage: $line"
awk '{ exit !($3 >= 0.5) }' <<<"$line" || { echo "check-no-usage: accuracy below 0.5" >&2; exit 1; }

# refused ARGS... PATTERN: aicon exits 2 naming what this build lacks.
refused() {
    local pattern=${*: -1} rc=0 err
    err=$(build-nousage/aicon "${@:1:$#-1}" 2>&1 >/dev/null) || rc=$?
    if [[ $rc -eq 0 ]] || ! grep -q -- "$pattern" <<<"$err"; then
        echo "check-no-usage: aicon ${*:1:$#-1} exited $rc with '$err', not naming '$pattern'" >&2
        exit 1
    fi
    echo "check-no-usage: aicon ${*:1:$#-1}: $err"
}
refused train --model mlp --usage file:ledger.jsonl "built without usage records"
refused train --model mlp --summary s.json "built without json-c"
refused ledger verify ledger.jsonl "built without usage records"
echo "check-no-usage: PASS"
