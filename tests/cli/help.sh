#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon --help, aicon train --help and aicon --version: exit 0 and say what they should. Needs no
# MPI launcher: usage and versions work in a plain process.
set -euo pipefail
CLI_NEEDS_DATA=0
. "$(dirname "$0")/common.sh"

run() { # NAME ARGS...: aicon ARGS..., must exit 0
    local name=$1 rc=0
    shift
    echo "+ aicon $*"
    timeout -k 5 20 "$AICON" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    cat "$WORK/$name.out"
    [ $rc -eq 0 ] || { cat "$WORK/$name.err"; fail "aicon $* exited with $rc"; }
    [ -s "$WORK/$name.out" ] || fail "aicon $* printed nothing on stdout"
}
has() { # NAME TEXT: stdout of NAME contains TEXT
    grep -qF -- "$2" "$WORK/$1.out" || fail "'aicon ${1//_/ }' output lacks '$2'"
}

run help --help
has help "train"
has help "--version"
run train_help train --help
for flag in --model --data --test-data --epochs --batch --max-steps --seed --checkpoint --resume --summary; do
    has train_help "$flag"
done
has train_help "--proof"
has help "verify"
run verify_help verify --help
has verify_help "--fraction"
has train_help "mlp"
has train_help "lenet"

run version --version
version=$(sed -n 's/^aicon \([0-9][0-9.]*\).*/\1/p' "$WORK/version.out" | head -1)
[ -n "$version" ] || fail "aicon --version: no 'aicon X.Y.Z' line"
# The version the build was configured with is the one printed.
project_version=$(sed -n 's/^project(aicon VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
[ -z "$project_version" ] || [ "$version" = "$project_version" ] ||
    fail "aicon --version says $version, CMakeLists.txt says $project_version"
grep -qE '^ *MPI: .*[0-9]+\.[0-9]+' "$WORK/version.out" || fail "aicon --version names no MPI library version"
grep -qE '^ *HDF5: *[0-9]+\.[0-9]+\.[0-9]+' "$WORK/version.out" || fail "aicon --version names no HDF5 version"
# The library versions are the ones it runs on, not made up: compare with the installed ones.
if command -v ompi_info >/dev/null; then
    ompi=$(ompi_info --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -1)
    [ -z "$ompi" ] || has version "$ompi"
fi
h5=$("${PY[@]}" -c 'import h5py; print(h5py.version.hdf5_version)' 2>/dev/null || true)
echo "h5py's HDF5: ${h5:-unknown}"

# A wrong command line is an error, with usage on stderr.
rc=0
timeout -k 5 20 "$AICON" no-such-command >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
[ $rc -ne 0 ] || fail "aicon no-such-command exited 0"
grep -q "no-such-command" "$WORK/bad.err" || fail "aicon no-such-command: stderr does not name the command"
echo "PASS"
