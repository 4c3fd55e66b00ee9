// SPDX-License-Identifier: Apache-2.0
/* attention: fused scaled-dot-product attention, softmax(q k^T * scale + causal mask) v over the last
 * two axes, the leading per-sample axes (heads) and the batch as more stacked problems. */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

static aic_status attention_fail(const aic_model_t *m, const aic_op *op, const char *why) {
    char s[3][128];
    for (int i = 0; i < 3; i++)
        aic_value_shape_text(s[i], sizeof s[i], aic_val(m, op->in[i]));
    return aic_fail(AIC_ERR_SHAPE, "op '%s' (attention): q '%s' is %s, k '%s' is %s, v '%s' is %s: %s", op->name,
                    aic_val(m, op->in[0])->name, s[0], aic_val(m, op->in[1])->name, s[1], aic_val(m, op->in[2])->name,
                    s[2], why);
}

/* Problems per row the kernels see: the leading per-sample axes. The rows are already the batch
 * times its axis's outer x fold (AIC_BATCH_FIRST), so heads folded into the batch are not counted
 * again here. */
static int64_t problems_per_row(const aic_value_info *q) {
    int64_t p = 1;
    for (int i = 0; i < q->ndim - 2; i++)
        p *= q->shape[i];
    return p;
}

aic_status aic_attention(aic_model_t *m, const char *name, aic_value q, aic_value k, aic_value v, bool causal,
                         float scale, aic_value *out) {
    const int in[3] = {q, k, v};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_ATTENTION, name, in, 3, &op));
    const aic_value_info *vq = aic_val(m, q), *vk = aic_val(m, k), *vv = aic_val(m, v);
    for (int i = 0; i < 3; i++) {
        const aic_value_info *x = aic_val(m, in[i]);
        if (x->dtype != AIC_F32 || x->scalar || x->ndim < 2)
            return attention_fail(m, op, "each must be a float activation of per-sample rank 2 or more ([..., T, D])");
    }
    if (vk->ndim != vq->ndim || vv->ndim != vq->ndim)
        return attention_fail(m, op, "q, k and v need the same per-sample rank");
    for (int i = 0; i < vq->ndim - 2; i++)
        if (vk->shape[i] != vq->shape[i] || vv->shape[i] != vq->shape[i])
            return attention_fail(m, op, "q, k and v need the same leading per-sample dims (heads)");
    const int nd = vq->ndim;
    const int64_t T = vq->shape[nd - 2], D = vq->shape[nd - 1], S = vk->shape[nd - 2];
    if (vk->shape[nd - 1] != D || vv->shape[nd - 2] != S || vv->shape[nd - 1] != D)
        return attention_fail(m, op, "k and v must both be S x D with q's D");
    if (T > INT_MAX || S > INT_MAX || D > INT_MAX)
        return attention_fail(m, op, "T, S and D must stay below 2^31");
    if (causal && S < T)
        return attention_fail(m, op, "a causal mask needs S >= T (it is bottom-right aligned: query i sees keys j <= "
                                     "i + S - T, so with S < T the first queries would see none)");
    if (!(scale >= 0.0f) || !isfinite(scale))
        return attention_fail(m, op, "scale must be finite and not negative (0: 1/sqrt(D))");
    op->attr.attn.causal = causal;
    op->attr.attn.scale = scale != 0.0f ? scale : (float)(1.0 / sqrt((double)D));
    /* per query row: the log-sum-exp (forward to backward), and backward's row term */
    op->saved_per_sample = 2 * (size_t)problems_per_row(vq) * (size_t)T; /* per row */
    op->scratch = aic_attention_scratch();
    return aic_op_same_shape(m, op, q, out);
}

static void attention_dims(const aic_model_t *m, const aic_op *op, int n, aic_attention_dims *d) {
    const aic_value_info *vq = aic_val(m, op->in[0]);
    d->B = (int64_t)n * problems_per_row(vq);
    d->T = (int)vq->shape[vq->ndim - 2];
    d->S = (int)aic_val(m, op->in[1])->shape[vq->ndim - 2];
    d->D = (int)vq->shape[vq->ndim - 1];
    d->causal = op->attr.attn.causal;
    d->scale = op->attr.attn.scale;
}

static aic_status attention_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_attention_dims d;
    attention_dims(m, op, b->n, &d);
    return AIC_KERNEL(m, attention_forward)(aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]),
                                            aic_act(m, op->in[1]), aic_act(m, op->in[2]), m->scratch_arena, &d);
}

static aic_status attention_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_attention_dims d;
    attention_dims(m, op, n, &d);
    float *lse = m->saved_arena + op->saved;
    return AIC_KERNEL(m, attention_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->in[1]),
                                             aic_act_grad(m, op->in[2]), lse + (size_t)d.B * (size_t)d.T,
                                             aic_act_grad(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                             aic_act(m, op->in[2]), aic_act(m, op->out), lse, m->scratch_arena, &d);
}

static void attention_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "causal=%d scale=%.9g", op->attr.attn.causal ? 1 : 0, (double)op->attr.attn.scale);
}

/* The two products (2 D each per score) and the softmax's few per score, over every score (causal
 * blocks skip about half of them, but the count is the op's, not the kernels'). */
static double attention_flops(const aic_model_t *m, const aic_op *op) {
    const aic_value_info *vq = aic_val(m, op->in[0]);
    const double T = (double)vq->shape[vq->ndim - 2], D = (double)vq->shape[vq->ndim - 1];
    const double S = (double)aic_val(m, op->in[1])->shape[vq->ndim - 2];
    return (double)(vq->outer * vq->fold * problems_per_row(vq)) * T * S * (4.0 * D + 5.0);
}

const aic_op_desc aic_op_attention = {"attention", {attention_fwd, attention_bwd},
                                      AIC_CUDA_KERNELS(attention_fwd, attention_bwd), attention_attrs,
                                      attention_flops, AIC_BATCH_FIRST};
