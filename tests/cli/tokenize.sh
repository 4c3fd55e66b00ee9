#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon tokenize --bytes on three of Debian's fortune files: two llm.c shards whose header is llm.c's,
# whose tokens are the input bytes in order, split after a newline near the last 10% (or 25%); a
# bad --val-fraction, an unknown flag and a missing input fail naming them; --help describes the flags.
# No MPI.
set -euo pipefail
CLI_NEEDS_DATA=0
. "$(dirname "$0")/common.sh"

FORTUNES=/usr/share/games/fortunes
INPUTS=("$FORTUNES/science" "$FORTUNES/computers" "$FORTUNES/linux")
for f in "${INPUTS[@]}"; do
    [ -f "$f" ] || fail "$f is missing (Debian's fortunes package; scripts/install-deps.sh installs it)"
done

# tok NAME ARGS...: aicon tokenize ARGS..., output in $WORK/NAME.out and .err, exit status in RC.
tok() {
    local name=$1
    shift
    echo "+ aicon tokenize $*"
    RC=0
    timeout -k 5 "$RUN_TIMEOUT" "$AICON" tokenize "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
    cat "$WORK/$name.out" "$WORK/$name.err"
}

# check TRAIN VAL FRACTION STDOUT: the shards against the inputs, with numpy.
check() {
    "${PY[@]}" - "$@" "${INPUTS[@]}" <<'PYEOF'
import sys
import numpy as np
train, val, fraction, stdout = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
text = b"".join(open(p, "rb").read() for p in sys.argv[5:])

def shard(path):
    raw = open(path, "rb").read()
    head = np.frombuffer(raw[:1024], dtype="<i4")
    assert len(raw) >= 1024, f"{path}: {len(raw)} bytes, shorter than the header"
    assert head[0] == 20240520, f"{path}: magic {head[0]}"
    assert head[1] == 1, f"{path}: version {head[1]}"
    assert not head[3:].any(), f"{path}: header words 3..255 are not zero"
    assert len(raw) == 1024 + 2 * head[2], f"{path}: {len(raw)} bytes for {head[2]} tokens"
    return np.frombuffer(raw[1024:], dtype="<u2")

t, v = shard(train), shard(val)
data = np.frombuffer(text, dtype=np.uint8)
assert len(t) + len(v) == len(data), f"{len(t)} + {len(v)} tokens for {len(data)} bytes"
assert (np.concatenate([t, v]) == data).all(), "the tokens are not the input bytes"
nominal = len(data) - round(fraction * len(data))
assert nominal - nominal // 10 < len(t) <= nominal, f"train ends at {len(t)}, nominal cut {nominal}"
assert t[-1] == ord("\n"), "the training shard does not end with a newline"
out = open(stdout).read()
for path, n in ((train, len(t)), (val, len(v))):
    assert f"{path}: {n} tokens" in out, f"stdout does not say '{path}: {n} tokens'"
print(f"ok: {len(t)} train + {len(v)} validation tokens = {len(data)} bytes, cut after a newline "
      f"{nominal - len(t)} bytes before {nominal}")
PYEOF
}

tok help --help
[ $RC -eq 0 ] || fail "aicon tokenize --help exited with $RC"
for flag in --bytes --out --val-fraction --val-out; do
    grep -qF -- "$flag" "$WORK/help.out" || fail "aicon tokenize --help does not describe $flag"
done
"$AICON" --help | grep -q "^  tokenize " || fail "aicon --help does not list tokenize"

tok default --bytes "${INPUTS[@]}" -o "$WORK/fortunes.bin"
[ $RC -eq 0 ] || fail "aicon tokenize exited with $RC"
check "$WORK/fortunes.bin" "$WORK/fortunes_val.bin" 0.1 "$WORK/default.out" || fail "the default split is wrong"

tok quarter --bytes --val-fraction 0.25 "${INPUTS[@]}" -o "$WORK/q.bin" --val-out "$WORK/held_out.bin"
[ $RC -eq 0 ] || fail "aicon tokenize --val-fraction 0.25 exited with $RC"
check "$WORK/q.bin" "$WORK/held_out.bin" 0.25 "$WORK/quarter.out" || fail "the --val-fraction 0.25 split is wrong"

# must_fail NAME STATUS TEXT ARGS...: aicon tokenize ARGS... exits STATUS, names TEXT on stderr, and
# writes no shard.
must_fail() {
    local name=$1 status=$2 text=$3
    shift 3
    tok "$name" "$@"
    [ $RC -eq "$status" ] || fail "aicon tokenize $* exited with $RC, not $status"
    grep -qF -- "$text" "$WORK/$name.err" || fail "aicon tokenize $*: stderr does not name '$text'"
    [ ! -e "$WORK/$name.bin" ] && [ ! -e "$WORK/${name}_val.bin" ] || fail "aicon tokenize $* wrote a shard"
}
must_fail fraction 2 "--val-fraction 1.5" --bytes --val-fraction 1.5 "${INPUTS[0]}" -o "$WORK/fraction.bin"
must_fail flag 2 "--frobnicate" --bytes --frobnicate "${INPUTS[0]}" -o "$WORK/flag.bin"
must_fail missing 1 "$WORK/no_such.txt: cannot open: No such file" --bytes "${INPUTS[0]}" "$WORK/no_such.txt" \
    -o "$WORK/missing.bin"
echo "PASS"
