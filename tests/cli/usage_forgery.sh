#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forged usage ledgers (issue 13): a 2-rank job run twice under one job id, the second run resuming
# the first, writes a real ledger (an opening and two sets of one record per rank);
# tests/cli/ledger_forge.py makes 30 forgeries of it, each with its hash chain recomputed (an opening
# carrying an unsigned record, records deleted or cut, the first run's whole set deleted, NUL bytes, repeated keys, a second object on a line, unknown fields, a 10 MB field, hex and
# numbers in other forms, another proof root, a record without one), and `aicon ledger verify` must refuse every one naming the line, while
# the untouched ledger verifies and `aicon ledger show` lists no forged record.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd) # before the cd to $WORK below
. "$HERE/common.sh"

export HOME=$WORK/home AICON_SPOOL=$WORK/spool # nothing of the machine's own ~/.aicon
unset AICON_KEY
mkdir -p "$HOME" "$WORK/keys"
cd "$WORK"
"$AICON" keygen --key "$WORK/keys/rank0.key" >/dev/null 2>&1
"$AICON" keygen --key "$WORK/keys/rank1.key" >/dev/null 2>&1

# Two runs of one job (a job resumed): each leaves a record per rank, the seq its final step, the
# second's prevSeq the first's seq.
common=(train --model mlp --data "$DATA/train200.h5" --batch 32 --seed 5 --usage "file:$WORK/ledger.jsonl"
        --key "$WORK/keys/rank%r.key" --checkpoint-dir "$WORK/ckpt" --resume auto)
SLURM_JOB_ID=job-f aicon_np 2 run1 "${common[@]}" --epochs 1 --max-steps 2
SLURM_JOB_ID=job-f aicon_np 2 run2 "${common[@]}" --epochs 1
"$AICON" ledger verify "$WORK/ledger.jsonl" >"$WORK/verify.out" || fail "verify of the clean ledger failed"
grep -q "5 entries" "$WORK/verify.out" || fail "verify: $(cat "$WORK/verify.out")"

"${PY[@]}" "$HERE/ledger_forge.py" "$WORK/ledger.jsonl" "$WORK/forged"
n=0
while IFS=$'\t' read -r name line pattern; do
    if "$AICON" ledger verify "$WORK/forged/$name.jsonl" >"$WORK/forged/$name.out" 2>"$WORK/forged/$name.err"; then
        fail "$name: verify accepted it: $(cat "$WORK/forged/$name.out")"
    fi
    err=$(head -c 400 "$WORK/forged/$name.err")
    grep -Eq "line $line([^0-9]|$)" "$WORK/forged/$name.err" || fail "$name: verify did not name line $line: $err"
    grep -Eq "$pattern" "$WORK/forged/$name.err" || fail "$name: verify did not say '$pattern': $err"
    echo "ok   $name rejected: $err"
    n=$((n + 1))
done <"$WORK/forged/list"
[ "$n" = 30 ] || fail "$n forgeries checked, not 30"

# show lists what verify passes, and refuses a ledger verify refuses (the forged record is not listed).
"$AICON" ledger show "$WORK/ledger.jsonl" >"$WORK/show.out" || fail "show of the clean ledger failed"
[ "$(grep -c '^  [01] ' "$WORK/show.out")" = 4 ] || fail "show: $(cat "$WORK/show.out")"
if "$AICON" ledger show "$WORK/forged/open_with_record.jsonl" >"$WORK/show-forged.out" 2>"$WORK/show-forged.err"; then
    fail "show listed a forged ledger: $(cat "$WORK/show-forged.out")"
fi
grep -q "line 1: holds both 'open' and 'record'" "$WORK/show-forged.err" || fail "show: $(cat "$WORK/show-forged.err")"
! grep -q 1000000000 "$WORK/show-forged.out" || fail "show listed the forged record"
echo "PASS"
