// SPDX-License-Identifier: Apache-2.0
/* GPT-2 written against aicon's public API: the builder examples/train_gpt.c and `aicon train --model
 * gpt` share. Parameter names are GPT-2's (wte.weight, wpe.weight, h.0.ln_1.weight, ...); the head is
 * tied to wte. */
#ifndef AICON_EXAMPLES_GPT_H
#define AICON_EXAMPLES_GPT_H

#include <stdint.h>

#include "aicon/aicon.h"

typedef struct {
    int layers, heads, dim; /* dim a multiple of heads */
    int seq_len, vocab;     /* T tokens per sample; ids in 0..vocab-1 */
} aic_gpt_config;

/* Builds the GPT on m: *tokens and *targets are the int32 inputs "tokens" and "targets" [T], *logits
 * [T, vocab], *loss the mean cross-entropy of every position's next token. */
aic_status gpt_build(aic_model_t *m, const aic_gpt_config *c, aic_value *tokens, aic_value *targets,
                     aic_value *logits, aic_value *loss);
/* After aic_model_compile: GPT-2's initialization from seed: weights and embeddings N(0, 0.02), the
 * residual projections (c_proj) N(0, 0.02 / sqrt(2 layers)), biases 0, LayerNorm gains 1 and biases 0. */
aic_status gpt_init(aic_model_t *m, const aic_gpt_config *c, uint64_t seed);

#endif
