#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon generate and aicon export --model gpt: a small GPT (2 layers, 2 heads, width 64, 32-token windows)
# trained 150 steps on two fortune files with --checkpoint, then
#  - generate: the prompt echoed first, prompt + N bytes out; the same seed twice the same text, another
#    seed another; --temperature 0 the same whatever the seed, and equal to --top-k 1; a prompt longer
#    than the window; a missing checkpoint, other --layers, a bad --top-k, --vocab 300 and misplaced
#    flags refused naming the file or the flag;
#  - export: the checkpoint holds GPT-2's names and loads into benchmarks/pytorch_gpt.py's GPT, whose
#    logits onnxruntime (npm onnxruntime-node, installed into ORT_DIR when missing) matches on the file
#    aicon export writes within 1e-4; onnxruntime's greedy continuation equals aicon generate
#    --temperature 0's, and aicon generate on the exported file samples the checkpoint's text.
# Usage: generate.sh AICON DATA_DIR ORT_DIR [MPIRUN...] (about 15 s once onnxruntime is installed).
set -euo pipefail
ORT_DIR=$3
set -- "$1" "$2" "${@:4}"
CLI_NEEDS_DATA=0
. "$(dirname "$0")/common.sh"
REF=("${PY[@]}" "$(dirname "$0")/generate_ref.py")

FORTUNES=/usr/share/games/fortunes
for f in science computers; do
    [ -f "$FORTUNES/$f" ] || fail "$FORTUNES/$f is missing (Debian's fortunes package; scripts/install-deps.sh installs it)"
done
echo "+ aicon tokenize --bytes science computers"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" tokenize --bytes "$FORTUNES/science" "$FORTUNES/computers" -o "$WORK/tok.bin" \
    >/dev/null || fail "aicon tokenize failed"
SIZES=(--layers 2 --heads 2 --dim 64 --seq-len 32)
aicon_np 1 train train --task lm --data "$WORK/tok.bin" "${SIZES[@]}" --max-steps 150 --batch 16 --optimizer adamw \
    --lr 0.003 --threads 1 --checkpoint "$WORK/ck.h5" --quiet
tail -n 1 "$WORK/train.out"

# gen NAME ARGS...: aicon generate ARGS... (no MPI), stdout in $WORK/NAME.out, stderr in $WORK/NAME.err,
# the exit status in RC.
gen() {
    local name=$1
    shift
    RC=0
    timeout -k 5 "$RUN_TIMEOUT" "$AICON" generate "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
}
# gen_ok NAME ARGS...: gen with the GPT's checkpoint and sizes; it must succeed.
gen_ok() {
    local name=$1
    shift
    echo "+ aicon generate $*"
    gen "$name" --model gpt --checkpoint "$WORK/ck.h5" "${SIZES[@]}" "$@"
    [ $RC -eq 0 ] || { cat "$WORK/$name.err"; fail "aicon generate $* exited with $RC"; }
}
# gen_fails NAME STATUS TEXT ARGS...: gen must exit with STATUS, its stderr holding TEXT.
gen_fails() {
    local name=$1 status=$2 text=$3
    shift 3
    echo "+ aicon generate $*   (must fail with $status)"
    gen "$name" "$@"
    cat "$WORK/$name.err"
    [ $RC -eq "$status" ] || fail "aicon generate $* exited with $RC, not $status"
    grep -qF -- "$text" "$WORK/$name.err" || fail "aicon generate $*: the error does not say '$text'"
}
same() { cmp -s "$WORK/$1.out" "$WORK/$2.out" || fail "$1 and $2 differ"; }
differ() { ! cmp -s "$WORK/$1.out" "$WORK/$2.out" || fail "$1 and $2 are the same text"; }

PROMPT="The "
gen_ok seed42 --prompt "$PROMPT"
gen_ok seed42b --prompt "$PROMPT" --seed 42
gen_ok seed7 --prompt "$PROMPT" --seed 7
gen_ok greedy --prompt "$PROMPT" --temperature 0 --tokens 60
gen_ok greedy_b --prompt "$PROMPT" --temperature 0 --tokens 60 --seed 9
gen_ok top1 --prompt "$PROMPT" --top-k 1 --tokens 60
gen_ok top5 --prompt "$PROMPT" --top-k 5 --temperature 0.7 --tokens 60
LONG="Computers are like air conditioners: they stop working properly if you open Windows."
gen_ok long --prompt "$LONG" --tokens 40 --temperature 0
for out in seed42 seed42b seed7 greedy top5 long; do
    printf '%s: ' "$out"
    head -c 120 "$WORK/$out.out" | od -An -c | tr -s ' ' | head -n 2 | tr '\n' ' '
    echo
done
"${PY[@]}" - "$WORK" "$PROMPT" "$LONG" <<'PYEOF'
import sys

w, prompt, long = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
for name, p, n in [("seed42", prompt, 200), ("seed7", prompt, 200), ("greedy", prompt, 60), ("top5", prompt, 60),
                   ("long", long, 40)]:
    out = open(f"{w}/{name}.out", "rb").read()
    assert out.startswith(p), f"{name}: the output does not start with the prompt: {out[:40]!r}"
    assert len(out) == len(p) + n, f"{name}: {len(out)} bytes, not the prompt's {len(p)} + {n}"
print("outputs: the prompt first, then the asked-for number of bytes")
PYEOF
same seed42 seed42b
differ seed42 seed7
same greedy greedy_b
same greedy top1
echo "the same seed gives the same text and another seed another; --temperature 0 and --top-k 1 agree"

gen_fails no_ckpt 1 "$WORK/missing.h5" --model gpt --checkpoint "$WORK/missing.h5" "${SIZES[@]}" --prompt x
gen_fails layers 1 "--layers 3" --model gpt --checkpoint "$WORK/ck.h5" --layers 3 --heads 2 --dim 64 --seq-len 32 \
    --prompt x
gen_fails top_k 2 "--top-k -1" --model gpt --checkpoint "$WORK/ck.h5" "${SIZES[@]}" --prompt x --top-k -1
gen_fails top_k_big 2 "--top-k 300" --model gpt --checkpoint "$WORK/ck.h5" "${SIZES[@]}" --prompt x --top-k 300
gen_fails vocab 2 "--vocab 300" --model gpt --checkpoint "$WORK/ck.h5" "${SIZES[@]}" --vocab 300 --prompt x
gen_fails temp 2 "--temperature" --model gpt --checkpoint "$WORK/ck.h5" --prompt x --temperature -1
gen_fails no_prompt 2 "--prompt" --model gpt --checkpoint "$WORK/ck.h5"
gen_fails gpt_only_ckpt 2 "--checkpoint" --model gpt --prompt x
gen_fails no_model 1 "--model nope" --model nope --prompt x
timeout -k 5 20 "$AICON" generate --help >"$WORK/help.out" || fail "aicon generate --help failed"
timeout -k 5 20 "$AICON" --help | grep -q "^  generate " || fail "aicon --help does not list generate"
for flag in --checkpoint --prompt --tokens --temperature --top-k --seed --seq-len; do
    grep -qF -- "$flag" "$WORK/help.out" || fail "aicon generate --help lacks $flag"
done

# Export: onnxruntime against PyTorch, and its greedy text against aicon generate's.
echo "+ aicon export --model gpt --checkpoint ck.h5 ${SIZES[*]} --out gpt.onnx"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" export --model gpt --checkpoint "$WORK/ck.h5" "${SIZES[@]}" --out "$WORK/gpt.onnx" ||
    fail "aicon export --model gpt failed"
timeout -k 5 20 "$AICON" export --model gpt --checkpoint "$WORK/ck.h5" --out "$WORK/x.onnx" --data "$WORK/tok.bin" \
    2>"$WORK/export_data.err" && fail "aicon export --model gpt --data exited 0"
grep -qF -- "--data" "$WORK/export_data.err" || fail "aicon export --model gpt --data: the error does not name --data"
ort_install "$ORT_DIR"
cat >"$WORK/ort_lm.js" <<'JSEOF'
// node ort_lm.js MODEL.onnx PROMPT N T OUT.bin WINDOW.i32 LOGITS.f32: onnxruntime's greedy continuation of PROMPT
// by N tokens as aicon generate makes it (the last T tokens, padded after with 0, the logits of the last real
// one), written after the prompt to OUT.bin; the first window and its logits [T, V] to WINDOW.i32, LOGITS.f32.
const fs = require("fs");
const ort = require("onnxruntime-node");
(async () => {
    const [model, prompt, n, t, out, wpath, lpath] = process.argv.slice(2);
    const T = Number(t), ctx = [...Buffer.from(prompt)];
    const s = await ort.InferenceSession.create(model);
    for (let i = 0; i < Number(n); i++) {
        const k = Math.min(ctx.length, T), w = new Int32Array(T);
        w.set(ctx.slice(ctx.length - k));
        const r = await s.run({ [s.inputNames[0]]: new ort.Tensor("int32", w, [1, T]) });
        const y = r[s.outputNames[0]].data, V = y.length / T, row = (k - 1) * V;
        if (i === 0) {
            fs.writeFileSync(wpath, Buffer.from(w.buffer));
            fs.writeFileSync(lpath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
        }
        let best = 0;
        for (let v = 1; v < V; v++) if (y[row + v] > y[row + best]) best = v;
        ctx.push(best);
    }
    fs.writeFileSync(out, Buffer.from(ctx));
})().catch((e) => { console.error(e); process.exit(1); });
JSEOF
echo "+ onnxruntime: greedy continuation of the long prompt on gpt.onnx"
NODE_PATH="$ORT_MODULES" timeout -k 5 "$RUN_TIMEOUT" node "$WORK/ort_lm.js" "$WORK/gpt.onnx" "$LONG" 40 32 \
    "$WORK/ort_long.out" "$WORK/window.i32" "$WORK/ort_logits.f32" || fail "onnxruntime failed on gpt.onnx"
timeout -k 5 "$RUN_TIMEOUT" "${REF[@]}" check-export "$WORK/ck.h5" "$WORK/window.i32" "$WORK/ort_logits.f32" 2 2 64 32 ||
    fail "the exported GPT does not compute the checkpoint's logits"
same long ort_long
echo "onnxruntime's greedy continuation on the export equals aicon generate --temperature 0's"
echo "+ aicon generate --model gpt.onnx --prompt '$PROMPT' --top-k 5 --temperature 0.7 --tokens 60"
gen onnx_top5 --model "$WORK/gpt.onnx" --prompt "$PROMPT" --top-k 5 --temperature 0.7 --tokens 60
[ $RC -eq 0 ] || { cat "$WORK/onnx_top5.err"; fail "aicon generate --model gpt.onnx exited with $RC"; }
same top5 onnx_top5
gen_fails onnx_layers 2 "--layers" --model "$WORK/gpt.onnx" --layers 2 --prompt x
echo "aicon generate samples the same text from the export as from the checkpoint"
echo "PASS"
