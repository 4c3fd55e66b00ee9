#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# aicon as a library, the commands of docs/library.md: cmake --install into a fresh prefix; the
# installed libaicon.so.0 has that SONAME and exports exactly the AIC_API calls of include/aicon;
# examples/ built out of tree with find_package(aicon) (shared and static) and
# examples/train_classifier.c with cc and pkg-config; each program trains 60 steps on 2 ranks.
# usage: install.sh BUILD_DIR SOURCE_DIR LIBDIR WORK_DIR DATA_DIR MPIRUN...
# CC: the compiler aicon was built with (tests/install.cmake): a sanitizer build's library needs that
# compiler's sanitizer runtime in the programs, and CMake's examples build takes CC too.
set -euo pipefail
build=$1 src=$2 libdir=$3 work=$4 data=$5
shift 5
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
PREFIX=$work/prefix
cmake --install "$build" --prefix "$PREFIX"

lib=$PREFIX/$libdir/libaicon.so.0
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ "$soname" = libaicon.so.0 ] || fail "$lib has SONAME '$soname', not libaicon.so.0"
nm -D --defined-only "$lib" | awk '{print $3}' | sort > "$work/exported"
others=$(grep -v '^aic_' "$work/exported" || true)
[ -z "$others" ] || fail "$lib exports symbols besides aic_*: $others"
# A public call declared without AIC_API would be hidden: every declaration carries it, and what the
# headers declare is what the library exports.
bare=$(grep -HnE '^[a-z][A-Za-z0-9_ ]*[ *]aic_[a-z0-9_]+\(' "$PREFIX"/include/aicon/*.h || true)
[ -z "$bare" ] || fail "declared without AIC_API: $bare"
sed -nE 's/^AIC_API [^(]*[ *](aic_[a-z0-9_]+)\(.*/\1/p' "$PREFIX"/include/aicon/*.h | sort > "$work/declared"
diff=$(comm -3 "$work/declared" "$work/exported")
[ -z "$diff" ] || fail "declared (left) and exported (right) differ: $diff"
echo "ok: $lib: SONAME $soname, exports the $(wc -l < "$work/declared") AIC_API calls and nothing else"

cd "$work"
cmake -S "$src/examples" -B build-examples -DCMAKE_PREFIX_PATH="$PREFIX"
cmake --build build-examples

export PKG_CONFIG_PATH=$PREFIX/$libdir/pkgconfig
"${CC:-cc}" -o train_classifier "$src/examples/train_classifier.c" $(pkg-config --cflags --libs aicon) \
  -Wl,-rpath,"$(pkg-config --variable=libdir aicon)"

for exe in build-examples/train_classifier build-examples/train_classifier_static ./train_classifier; do
  out=$("$@" -np 2 "$exe" "$data" 60) || fail "$exe: exit status $?: $out"
  echo "$exe: $out"
  line=$(grep -E '^test accuracy 0\.[3-9][0-9]* \(loss [0-9.]+\) after 60 steps on 2 ranks$' <<< "$out") ||
    fail "$exe did not train (want test accuracy >= 0.3 after 60 steps on 2 ranks)"
  echo "ok: $exe: $line"
done
# ldd's output taken whole: grep -q quitting early would break ldd's pipe, failing the pipeline.
! grep -q libaicon <<< "$(ldd build-examples/train_classifier_static)" ||
  fail "train_classifier_static loads libaicon.so"
grep -q "libaicon.so.0 => $PREFIX/" <<< "$(ldd ./train_classifier)" ||
  fail "./train_classifier does not load $PREFIX's libaicon.so.0"
echo "ok: aicon as a library"
