#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The live progress line: drawn (carriage returns, a bar) when stdout is a terminal, absent when it
# is a file, so logs stay one line per epoch. `script` gives the run a pseudo-terminal.
set -euo pipefail
. "$(dirname "$0")/common.sh"

args=(train --model mlp --data "$DATA/train.h5" --test-data "$DATA/test.h5" --max-steps 20 --threads 1
      --summary "$WORK/summary.json")
echo "+ script: aicon ${args[*]}"
timeout -k 5 "$RUN_TIMEOUT" script -qefc "$(printf '%q ' "$AICON" "${args[@]}")" "$WORK/tty.log" >/dev/null \
    || fail "aicon under a pseudo-terminal exited non-zero: $(tail -c 2000 "$WORK/tty.log")"
grep -q $'\r' "$WORK/tty.log" || fail "no carriage return on a terminal: no live progress line"
grep -qE 'epoch 1/[0-9]+ \[[#.]+\] [0-9]+/[0-9]+ +loss' "$WORK/tty.log" || fail "no progress bar on a terminal"

echo "+ aicon ${args[*]} > file"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" "${args[@]}" >"$WORK/file.log" 2>&1 || fail "aicon exited non-zero"
if grep -q $'\r' "$WORK/file.log"; then fail "carriage returns in a log file: the progress line leaked"; fi
grep -q '^epoch 1/' "$WORK/file.log" || fail "no epoch line in the log file"
grep -q '^test accuracy' "$WORK/file.log" || fail "no final accuracy line in the log file"
assert_no_leftover_processes
echo "progress line: drawn on a terminal, absent from a file"
