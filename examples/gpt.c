// SPDX-License-Identifier: Apache-2.0
/* GPT-2 (Radford et al. 2019; nanoGPT's layout) as a graph of aicon ops. Shapes are per sample: the
 * batch N is in front of every one. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpt.h"

#define TRY(call)                                                                                     \
    do {                                                                                              \
        aic_status s_ = (call);                                                                       \
        if (s_ != AIC_OK)                                                                             \
            return s_;                                                                                \
    } while (0)

/* "h.<i>.<what>": block i's op names, hence its parameters' ("h.0.attn.c_attn.weight"). */
static const char *block_name(char *buf, size_t size, int i, const char *what) {
    snprintf(buf, size, "h.%d.%s", i, what);
    return buf;
}

/* q, k and v from qkv [T, 3C], each as heads [H, T, D]: one transpose of qkv seen as [T, 3, H, D] to
 * [3, H, T, D], then each part a contiguous block of it. */
static aic_status heads_of(aic_model_t *m, const aic_gpt_config *c, int i, aic_value qkv, aic_value *qkv_heads) {
    static const char *const names[3] = {"q", "k", "v"};
    const int64_t T = c->seq_len, C = c->dim, H = c->heads;
    char what[32], n[64];
    aic_value x;
    TRY(aic_reshape(m, block_name(n, sizeof n, i, "attn.qkv_split"), qkv, 4, (int64_t[]){T, 3, H, C / H}, &x));
    TRY(aic_transpose(m, block_name(n, sizeof n, i, "attn.qkv_heads"), x, (int[]){0, 2, 3, 1, 4}, &x));
    for (int part = 0; part < 3; part++) {
        snprintf(what, sizeof what, "attn.%s", names[part]);
        TRY(aic_slice(m, block_name(n, sizeof n, i, what), x, 1, (int[]){1}, (int64_t[]){part},
                      (int64_t[]){part + 1}, NULL, &qkv_heads[part]));
        snprintf(what, sizeof what, "attn.%s_heads", names[part]);
        TRY(aic_reshape(m, block_name(n, sizeof n, i, what), qkv_heads[part], 3, (int64_t[]){H, T, C / H},
                        &qkv_heads[part]));
    }
    return AIC_OK;
}

/* x [T, C] += attn(ln_1(x)); x += mlp(ln_2(x)). */
static aic_status block(aic_model_t *m, const aic_gpt_config *c, int i, aic_value *x) {
    const int64_t T = c->seq_len, C = c->dim;
    char n[64];
    aic_value h, qkv, heads[3];
    TRY(aic_layernorm(m, block_name(n, sizeof n, i, "ln_1"), *x, 2, 1e-5f, true, &h));
    TRY(aic_dense(m, block_name(n, sizeof n, i, "attn.c_attn"), h, 3 * C, true, &qkv));
    TRY(heads_of(m, c, i, qkv, heads));
    TRY(aic_attention(m, block_name(n, sizeof n, i, "attn.sdpa"), heads[0], heads[1], heads[2], true, 0.0f,
                      &h)); /* [H, T, D] */
    TRY(aic_transpose(m, block_name(n, sizeof n, i, "attn.merge"), h, (int[]){0, 2, 1, 3}, &h));
    TRY(aic_reshape(m, block_name(n, sizeof n, i, "attn.merged"), h, 2, (int64_t[]){T, C}, &h));
    TRY(aic_dense(m, block_name(n, sizeof n, i, "attn.c_proj"), h, C, true, &h));
    TRY(aic_add(m, block_name(n, sizeof n, i, "attn.residual"), *x, h, x));
    TRY(aic_layernorm(m, block_name(n, sizeof n, i, "ln_2"), *x, 2, 1e-5f, true, &h));
    TRY(aic_dense(m, block_name(n, sizeof n, i, "mlp.c_fc"), h, 4 * C, true, &h));
    TRY(aic_unary(m, "gelu_tanh", block_name(n, sizeof n, i, "mlp.gelu"), h, NULL, &h));
    TRY(aic_dense(m, block_name(n, sizeof n, i, "mlp.c_proj"), h, C, true, &h));
    return aic_add(m, block_name(n, sizeof n, i, "mlp.residual"), *x, h, x);
}

aic_status gpt_build(aic_model_t *m, const aic_gpt_config *c, aic_value *tokens, aic_value *targets,
                     aic_value *logits, aic_value *loss) {
    const int64_t T = c->seq_len, C = c->dim;
    aic_value x, pos;
    TRY(aic_int_input(m, "tokens", 1, (int64_t[]){T}, tokens));
    TRY(aic_int_input(m, "targets", 1, (int64_t[]){T}, targets));
    TRY(aic_embedding(m, "wte", *tokens, c->vocab, C, &x));
    TRY(aic_expand_param(m, "wpe", 2, (int64_t[]){T, C}, &pos));
    TRY(aic_add(m, "embed", x, pos, &x));
    for (int i = 0; i < c->layers; i++)
        TRY(block(m, c, i, &x));
    TRY(aic_layernorm(m, "ln_f", x, 2, 1e-5f, true, &x));
    TRY(aic_dense_tied(m, "lm_head", x, "wte.weight", false, logits));
    return aic_cross_entropy(m, "loss", *logits, *targets, &(aic_xent_opts){.class_axis = -1}, loss);
}

static bool ends_with(const char *s, const char *end) {
    const size_t n = strlen(s), e = strlen(end);
    return n >= e && strcmp(s + n - e, end) == 0;
}

aic_status gpt_init(aic_model_t *m, const aic_gpt_config *c, uint64_t seed) {
    const float std = 0.02f, proj_std = (float)(0.02 / sqrt(2.0 * c->layers));
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p;
        TRY(aic_model_param(m, i, &p, NULL));
        if (p.ndim >= 2) /* dense weights and embeddings */
            TRY(aic_model_init_normal(m, p.name, ends_with(p.name, "c_proj.weight") ? proj_std : std, seed));
        else if (ends_with(p.name, ".bias")) /* LayerNorm gains keep their 1 */
            memset(p.data, 0, sizeof(float) * (size_t)aic_tensor_numel(&p));
    }
    return AIC_OK;
}
