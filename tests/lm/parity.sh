#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Language-model parity with PyTorch 1.13: parity.py builds the GPT of benchmarks/pytorch_gpt.py (2
# layers, 4 heads, width 64, 32-token windows, vocabulary 256), exports it to ONNX and trains it 50
# AdamW steps (decay 0.1 on matrices, clipping at 1) on the windows of a fortunes shard in file order;
# `aicon train --task lm --model gpt.onnx --no-shuffle` trains the same file's weights on the same
# windows, 1 rank x batch 8. Every step's loss must equal PyTorch's within 1e-4 relative, and 2 ranks x
# batch 4 must give 1 rank x batch 8's losses within 1e-5 (only the order of the gradient sums differs).
# Usage: parity.sh AICON FORTUNES_DIR [MPIRUN ARGS...] (about 8 s).
set -euo pipefail
CLI_NEEDS_DATA=0
. "$(dirname "$0")/../cli/common.sh"
LM_PY=("${PY[@]}" "$(dirname "$0")/parity.py")

for f in science computers; do
    [ -f "$DATA/$f" ] || fail "$DATA/$f is missing (Debian's fortunes package; scripts/install-deps.sh installs it)"
done
echo "+ aicon tokenize --bytes $DATA/science $DATA/computers -o $WORK/shard.bin"
timeout -k 5 "$RUN_TIMEOUT" "$AICON" tokenize --bytes "$DATA/science" "$DATA/computers" -o "$WORK/shard.bin" ||
    fail "aicon tokenize failed"
echo "+ parity.py reference $WORK $WORK/shard.bin"
timeout -k 5 "$RUN_TIMEOUT" "${LM_PY[@]}" reference "$WORK" "$WORK/shard.bin" || fail "the PyTorch reference failed"

lm=(train --task lm --model "$WORK/gpt.onnx" --data "$WORK/shard.bin" --seq-len 32 --no-shuffle --optimizer adamw
    --lr 1e-3 --weight-decay 0.1 --decay-matrices-only --clip-grad-norm 1 --max-steps 50 --threads 1 --log-every 1)
aicon_np 1 np1 "${lm[@]}" --batch 8 --metrics "$WORK/np1.jsonl"
aicon_np 2 np2 "${lm[@]}" --batch 4 --metrics "$WORK/np2.jsonl"
echo "aicon, 1 rank x batch 8, against PyTorch:"
"${LM_PY[@]}" compare 1e-4 "$WORK/torch_losses.txt" "$WORK/np1.jsonl"
echo "aicon, 2 ranks x batch 4, against 1 rank x batch 8:"
"${LM_PY[@]}" compare 1e-5 "$WORK/np1.jsonl" "$WORK/np2.jsonl"
echo "PASS"
