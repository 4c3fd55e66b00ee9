#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aicon generate --model FILE.onnx on PyTorch's export of benchmarks/pytorch_gpt.py's GPT (random weights from a
# fixed seed, 16-token windows; torch.onnx at opset 17, int64 tokens [N, T] with N dynamic): 20 greedy bytes
# after a 12-byte prompt (the window slides past T) equal PyTorch's own greedy continuation. Then 5 steps of
# aicon train --task lm on that file with --checkpoint and --export: generate from the file with the
# checkpoint samples what generate from the exported file does, and no longer PyTorch's text.
# Usage: generate_onnx.sh AICON DATA_DIR [MPIRUN...] (about 10 s).
set -euo pipefail
CLI_NEEDS_DATA=0
. "$(dirname "$0")/common.sh"

PROMPT="Hello, world"
echo "+ generate_ref.py torch-onnx gpt.onnx '$PROMPT' 20"
timeout -k 5 "$RUN_TIMEOUT" "${PY[@]}" "$(dirname "$0")/generate_ref.py" torch-onnx "$WORK/gpt.onnx" "$PROMPT" 20 \
    "$WORK/torch.out" || fail "the PyTorch reference failed"

# gen NAME ARGS...: aicon generate ARGS... (no MPI); it must succeed; stdout in $WORK/NAME.out.
gen() {
    local name=$1
    shift
    echo "+ aicon generate $*"
    timeout -k 5 "$RUN_TIMEOUT" "$AICON" generate "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err"; fail "aicon generate $* failed"; }
}
gen greedy --model "$WORK/gpt.onnx" --prompt "$PROMPT" --tokens 20 --temperature 0
cmp "$WORK/greedy.out" "$WORK/torch.out" || fail "aicon generate's greedy continuation differs from PyTorch's"
echo "aicon generate --temperature 0 on PyTorch's ONNX file equals PyTorch's greedy continuation"

FORTUNES=/usr/share/games/fortunes
[ -f "$FORTUNES/science" ] || fail "$FORTUNES/science is missing (Debian's fortunes package)"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" tokenize --bytes "$FORTUNES/science" -o "$WORK/tok.bin" >/dev/null ||
    fail "aicon tokenize failed"
aicon_np 1 train train --task lm --model "$WORK/gpt.onnx" --data "$WORK/tok.bin" --seq-len 16 --max-steps 5 --batch 8 \
    --optimizer adamw --lr 0.01 --threads 1 --checkpoint "$WORK/ck.h5" --export "$WORK/trained.onnx" --quiet
gen ckpt --model "$WORK/gpt.onnx" --checkpoint "$WORK/ck.h5" --prompt "$PROMPT" --tokens 40 --seed 5
gen exported --model "$WORK/trained.onnx" --prompt "$PROMPT" --tokens 40 --seed 5
gen ckpt_greedy --model "$WORK/gpt.onnx" --checkpoint "$WORK/ck.h5" --prompt "$PROMPT" --tokens 20 --temperature 0
cmp "$WORK/ckpt.out" "$WORK/exported.out" || fail "the checkpoint's text differs from its export's"
! cmp -s "$WORK/ckpt_greedy.out" "$WORK/torch.out" || fail "with the checkpoint, generate still gives the file's text"
echo "an ONNX model's checkpoint generates its export's text, not the file's"
echo "PASS"
