#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Files on which Debian's libhdf5 itself crashes (tests/fixtures/hdf5-crash: a checkpoint and a data
# set that checkpoint_fuzz and h5data_fuzz found; libhdf5 1.10.8 dies of SIGSEGV reading them): aicon
# checks each HDF5 file in a child process first (io/h5probe.c), so `aicon train` exits 1 naming the
# file, where it used to die of the signal.
set -euo pipefail
. "$(dirname "$0")/common.sh"
FIX=$(cd "$(dirname "$0")/../fixtures/hdf5-crash" && pwd)
export HOME=$WORK/home # no usage records
mkdir -p "$HOME"
cp "$FIX/checkpoint-segv.h5" "$FIX/data-segv.h5" "$WORK/"

# refused LOG WHAT ARGS...: the run exits 1 (not a signal) with a line naming the file and the crash.
refused() {
    local log=$1 what=$2 file=$3
    shift 3
    aicon_fails 1 "$log" train --model mlp --max-steps 1 --quiet "$@"
    [ "$RC" = 1 ] || fail "$log: exit status $RC, not 1"
    grep -F "$WORK/$file: libhdf5 crashed reading $what" "$WORK/$log.err" | grep -q "signal" ||
        fail "$log: no line names $WORK/$file and the crash: $(cat "$WORK/$log.err")"
}
refused checkpoint "the checkpoint" checkpoint-segv.h5 --data "$DATA/train200.h5" --resume "$WORK/checkpoint-segv.h5"
refused data "the data set" data-segv.h5 --data "$WORK/data-segv.h5"
assert_no_leftover_processes
echo "PASS"
