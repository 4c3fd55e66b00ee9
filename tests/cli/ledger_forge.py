# SPDX-License-Identifier: Apache-2.0
"""Forgeries of a real usage ledger, for tests/cli/usage_forgery.sh.

    ledger_forge.py LEDGER OUTDIR

LEDGER is a clean ledger of one 2-rank job run twice (lines: the opening, then rank 0's and rank 1's
record of the first run, then of the second). Each forgery goes to OUTDIR/NAME.jsonl with its hash
chain recomputed after the changed line, so that only the forgery itself is wrong; OUTDIR/list holds
a line "NAME<TAB>LINE<TAB>PATTERN" per forgery: `aicon ledger verify` must refuse it, naming that
line number and matching PATTERN (an extended regex).
"""
import json
import os
import re
import sys

# ---- Keccak-256 (the original padding, as Ethereum and the ledger's chain use; not SHA3-256) -------

MASK = (1 << 64) - 1


def _round_constants():
    out, r = [], 1
    for _ in range(24):
        c = 0
        for j in range(7):
            r = ((r << 1) ^ (0x71 if r & 0x80 else 0)) & 0xFF
            if r & 2:
                c |= 1 << ((1 << j) - 1)
        out.append(c)
    return out


def _rotations():
    rot, x, y = [0] * 25, 1, 0
    for t in range(24):
        rot[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return rot


RC, ROT = _round_constants(), _rotations()


def _rol(v, n):
    return ((v << n) | (v >> (64 - n))) & MASK if n else v


def _permute(a):
    for rc in RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rol(a[x + 5 * y], ROT[x + 5 * y])
        a = [b[i] ^ (~b[(i % 5 + 1) % 5 + 5 * (i // 5)] & b[(i % 5 + 2) % 5 + 5 * (i // 5)]) & MASK
             for i in range(25)]
        a[0] ^= rc
    return a


def keccak256(data):
    rate = 136
    msg = bytearray(data) + b"\x01" + b"\x00" * ((-len(data) - 1) % rate)
    msg[-1] |= 0x80
    a = [0] * 25
    for off in range(0, len(msg), rate):
        for i in range(rate // 8):
            a[i] ^= int.from_bytes(msg[off + 8 * i:off + 8 * i + 8], "little")
        a = _permute(a)
    return b"".join(a[i].to_bytes(8, "little") for i in range(4))


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"

# ---- the ledger ------------------------------------------------------------------------------------

PREV = re.compile(r'^\{"prev":"0x[0-9a-f]{64}"')


def dump(entry):
    """An entry as json-c writes a ledger line (checked against the clean ledger below)."""
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def rechain(lines):
    """Each line's prev set to keccak256 of the line before, where prev has its usual place and form
    (a forgery of prev itself is left as it is)."""
    out = [lines[0]]
    for line in lines[1:]:
        h = '{"prev":"0x' + keccak256(out[-1].encode()).hex() + '"'
        out.append(PREV.sub(lambda m: h, line, count=1))
    return out


def field(line, key, value):
    """The raw text of line with "key":old replaced by text `value` (a number or a quoted string)."""
    new, n = re.subn(r'"%s":("(?:[^"\\]|\\.)*"|[0-9]+)' % key, lambda m: '"%s":%s' % (key, value), line, count=1)
    assert n == 1, key
    return new


def raw(line, key):
    m = re.search(r'"%s":("(?:[^"\\]|\\.)*"|[0-9]+)' % key, line)
    return m.group(1)


def main():
    ledger, outdir = sys.argv[1:]
    with open(ledger, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", "the ledger ends with a newline"
    lines = lines[:-1]
    entries = [json.loads(line) for line in lines]
    assert len(lines) == 5 and "open" in entries[0], "an opening and two runs' records of 2 ranks"
    assert all(dump(e) == line for e, line in zip(entries, lines)), "json.dumps writes lines as json-c does"
    assert rechain(lines) == lines, "the Python Keccak-256 chain is the ledger's"
    rec = [None] + [e["record"] for e in entries[1:]]
    assert [r["rank"] for r in rec[1:]] == [0, 1, 0, 1] and rec[1]["seq"] == rec[2]["seq"] != rec[3]["seq"]
    assert rec[1]["prevSeq"] == 0 and rec[3]["prevSeq"] == rec[1]["seq"], "the second run resumed the first"


    def with_entry(i, e):
        out = list(lines)
        out[i - 1] = dump(e)
        return out

    def with_line(i, text):
        out = list(lines)
        out[i - 1] = text
        return out

    def entry(i, **extra):
        e = json.loads(lines[i - 1])
        e.update(extra)
        return e

    def record(i, **changes):
        e = json.loads(lines[i - 1])
        e["record"].update(changes)
        return e

    forged = dict(rec[2], samples=10 ** 9)
    payee = "0x" + "ee" * 20
    samples2 = raw(lines[1], "samples")
    details2 = rec[1]["details"]
    s2 = rec[1]["seq"]
    assert rec[2]["proofRoot"] != "0x" + "00" * 32 and rec[2]["proofSegments"] > 0, "the job wrote a proof log"
    other_root = "0x" + ("1" if rec[2]["proofRoot"][2] == "0" else "0") + rec[2]["proofRoot"][3:]
    version1 = {k: v for k, v in rec[4].items() if k not in ("proofRoot", "proofSegments")}
    forgeries = [
        # (name, ledger lines, the line verify must name, what it must say)
        ("open_with_record", with_entry(1, entry(1, record=forged)), 1, "holds both 'open' and 'record'"),
        ("record_with_open", with_entry(5, entry(5, open=entries[0]["open"])), 5, "holds both 'record' and 'open'"),
        ("deleted_rank1_rechained", lines[:2] + lines[3:], 2, "rank 1 has no record of seq %d" % s2),
        ("deleted_rank0_rechained", lines[:3] + lines[4:], 4, "rank 0 has no record of seq"),
        ("cut_last_line", lines[:4], 4, "rank 1 has no record of seq"),
        ("cut_after_opening", lines[:1], 1, "opened but has no records"),
        ("deleted_first_run_rechained", lines[:1] + lines[3:], 2,
         "rank 0's record of seq %d .* resumed from its record of seq %d, which the ledger lacks" % (rec[3]["seq"], s2)),
        ("nul_after_details", with_entry(2, record(2, details=details2 + '\u0000,"samples":1000000000')), 2,
         "field 'details' holds a NUL byte"),
        ("nul_after_hex", with_entry(3, record(3, jobId=rec[2]["jobId"] + "\u0000")), 3, "field 'jobId' is not"),
        ("nul_in_key", with_line(2, lines[1].replace('"samples":', '"samples\\u0000x":1000000000,"samples":', 1)), 2,
         "key at byte [0-9]+ holds a NUL"),
        ("duplicate_samples", with_line(2, lines[1].replace('"samples":', '"samples":1000000000,"samples":', 1)), 2,
         "field 'samples' appears twice"),
        ("duplicate_prev", with_line(3, lines[2].replace('{"prev":', '{"prev":"0x' + "00" * 32 + '","prev":', 1)), 3,
         "field 'prev' appears twice"),
        ("duplicate_escaped_key", with_line(4, lines[3].replace('"samples":', '"s\\u0061mples":1000000000,"samples":', 1)),
         4, "field 'samples' appears twice"),
        ("duplicate_record", with_line(5, lines[4].replace('"record":', '"record":%s,"record":' % dump(forged), 1)), 5,
         "field 'record' appears twice"),
        ("duplicate_ranks", with_line(1, lines[0].replace('"ranks":', '"ranks":["%s","%s"],"ranks":' % (payee, payee), 1)),
         1, "field 'ranks' appears twice"),
        ("second_object", with_line(5, lines[4] + dump({"prev": "0x" + "00" * 32, "record": forged})), 5,
         "text after the JSON object"),
        ("crlf_line_end", with_line(2, lines[1] + "\r"), 2, "whitespace at byte"),
        ("unknown_payTo_in_record", with_entry(2, record(2, payTo=payee)), 2, "field 'payTo' is not one of a record's"),
        ("unknown_payTo_in_entry", with_entry(4, entry(4, payTo=payee)), 4, "field 'payTo' is not one of a ledger entry's"),
        ("unknown_payTo_in_open", with_entry(1, dict(entries[0], open=dict(entries[0]["open"], payTo=payee))), 1,
         "field 'payTo' is not one of a job opening's"),
        ("field_of_10MB", with_entry(5, entry(5, note="x" * (10 << 20))), 5, "more than the [0-9]+ a ledger line may hold"),
        ("hex_uppercase", with_line(2, field(lines[1], "jobId", raw(lines[1], "jobId").upper().replace("0X", "0x"))), 2,
         "field 'jobId' is not a string of 0x and 64 lowercase"),
        ("hex_without_0x", with_line(3, field(lines[2], "miner", '"' + rec[2]["miner"][2:] + '"')), 3,
         "field 'miner' is not"),
        ("hex_0X_prefix", with_line(4, field(lines[3], "sig", '"0X' + rec[3]["sig"][2:] + '"')), 4, "field 'sig' is not"),
        ("prev_uppercase", with_line(5, lines[4].replace(raw(lines[4], "prev"), raw(lines[4], "prev").upper().replace("0X", "0x"), 1)),
         5, "field 'prev' is not"),
        ("number_leading_zero", with_line(2, field(lines[1], "samples", "0" + samples2)), 2, "field 'samples' is 0"),
        ("number_minus_zero", with_line(2, field(lines[1], "rank", "-0")), 2, "field 'rank' is -0"),
        ("number_float", with_line(3, field(lines[2], "steps", raw(lines[2], "steps") + ".0")), 3, "field 'steps' is"),
        # The proof log's root is a signed field: another root breaks the signature, and a record of
        # the format before it (no proofRoot, EIP-712 version 1) is refused as incomplete.
        ("proof_root_altered", with_entry(3, record(3, proofRoot=other_root)), 3, "signature is by 0x[0-9a-f]+, not by the miner"),
        ("proof_fields_removed", with_entry(5, entry(5, record=version1)), 5, "field 'proofRoot' is missing"),
    ]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "list"), "w") as manifest:
        for name, out, line, pattern in forgeries:
            assert out != lines, name
            with open(os.path.join(outdir, name + ".jsonl"), "w", encoding="utf-8", newline="") as f:
                f.write("\n".join(rechain(out)) + "\n")
            manifest.write("%s\t%d\t%s\n" % (name, line, pattern))
    print("%d forgeries in %s" % (len(forgeries), outdir))


if __name__ == "__main__":
    main()
