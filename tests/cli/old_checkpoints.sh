#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checkpoints written by an earlier aicon still resume (tests/fixtures/checkpoints, made by
# tests/fixtures/make_old_checkpoints.sh): the built-in lenet and an ONNX-imported ResNet-18 at 1/16
# width. Each resumes with no step left, and the summary's parameter hash must be the one the file
# was made with; then one more step must train. An architecture hash that changed its digest of a
# model would refuse them ("holds model ... not this model").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
FIX=$HERE/../fixtures/checkpoints
export HOME=$WORK/home # no usage records: ~/.aicon/key of the machine stays out
mkdir -p "$HOME"
"${PY[@]}" "$HERE/../fixtures/make_data32.py" "$WORK/data32.h5"

# check NAME MODEL DATA STEP PARAMS_SHA256 ARGS...
check() {
    local name=$1 model=$2 data=$3 step=$4 want=$5
    shift 5
    zcat "$FIX/$name.h5.gz" >"$WORK/$name.h5"
    aicon_np 1 "$name-same" train --model "$model" --data "$data" --threads 1 --resume "$WORK/$name.h5" \
        --max-steps "$step" --summary "$WORK/$name-same.json" "$@"
    grep -q "resuming from $WORK/$name.h5 at step $step" "$WORK/$name-same.out" || fail "$name: $(cat "$WORK/$name-same.out")"
    local got
    got=$(json_field "$WORK/$name-same.json" params_sha256)
    [ "$got" = "$want" ] || fail "$name: parameters after resuming hash to $got, not $want"
    aicon_np 1 "$name-more" train --model "$model" --data "$data" --threads 1 --resume "$WORK/$name.h5" \
        --max-steps $((step + 1)) --summary "$WORK/$name-more.json" "$@"
    [ "$(json_field "$WORK/$name-more.json" steps)" = $((step + 1)) ] || fail "$name: $(cat "$WORK/$name-more.json")"
    echo "ok   $name resumes at step $step with its parameters ($want) and trains on"
}
check lenet lenet "$DATA/train200.h5" 3 bdc8a6e1cd9f9a352bd7e9c6fe79f8ca7e11fe5793e4aff1d20d16287e3b7a80 --batch 16
check resnet18_narrow "$FIX/resnet18_narrow.onnx" "$WORK/data32.h5" 2 \
    4f1c917e782d24effff76e7944549a34323a5351c8037c8c0ea1d1e407d8bfac --batch 8 --normalize none
echo "PASS"
