// SPDX-License-Identifier: Apache-2.0
/* matmul: batched matrix products of two activations, numpy's matmul: a [..., M, K] x b [..., K, N]
 * -> [..., M, N], the leading per-sample dims broadcast (right-aligned), the batch dims paired. */
#include <limits.h>
#include <stdio.h>

#include "core/op_build.h"

static aic_status matmul_fail(const aic_model_t *m, const aic_op *op, int a, int b, const char *why) {
    char sa[128], sb[128];
    aic_value_shape_text(sa, sizeof sa, aic_val(m, a));
    aic_value_shape_text(sb, sizeof sb, aic_val(m, b));
    return aic_fail(AIC_ERR_SHAPE, "op '%s' (matmul): a '%s' is %s and b '%s' is %s: %s", op->name, aic_val(m, a)->name,
                    sa, aic_val(m, b)->name, sb, why);
}

aic_status aic_matmul(aic_model_t *m, const char *name, aic_value a, aic_value b, aic_value *out) {
    int in[2] = {a, b};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_MATMUL, name, in, 2, &op));
    const aic_value_info *va = aic_val(m, a), *vb = aic_val(m, b);
    if (va->dtype != AIC_F32 || va->scalar || vb->dtype != AIC_F32 || vb->scalar)
        return matmul_fail(m, op, a, b, "both must be float activations");
    if (va->ndim < 2 || vb->ndim < 2)
        return matmul_fail(m, op, a, b,
                           "each needs a per-sample rank of at least 2 (a matrix per sample; reshape a vector to 1 x K "
                           "or K x 1)");
    const int64_t M = va->shape[va->ndim - 2], K = va->shape[va->ndim - 1];
    const int64_t Kb = vb->shape[vb->ndim - 2], N = vb->shape[vb->ndim - 1];
    if (K != Kb)
        return matmul_fail(m, op, a, b, "a's last dim (K) must equal b's second-to-last");
    if (M > INT_MAX || K > INT_MAX || N > INT_MAX)
        return matmul_fail(m, op, a, b, "matrix dims must stay below 2^31");
    const int la = va->ndim - 2, lb = vb->ndim - 2, lo = la > lb ? la : lb;
    int64_t shape[AIC_MAX_DIMS];
    for (int k = 0; k < lo; k++) {
        const int ja = k - (lo - la), jb = k - (lo - lb);
        const int64_t da = ja < 0 ? 1 : va->shape[ja], db = jb < 0 ? 1 : vb->shape[jb];
        if (da != db && da != 1 && db != 1) {
            char why[160];
            snprintf(why, sizeof why,
                     "the leading dims do not broadcast (right-aligned, per sample: %lld against %lld)",
                     (long long)da, (long long)db);
            return matmul_fail(m, op, a, b, why);
        }
        shape[k] = da == 1 ? db : da;
    }
    shape[lo] = M;
    shape[lo + 1] = N;
    /* an operand with the output's leading dims is not broadcast: backward may write its gradient */
    for (int j = 0; j < 2; j++) {
        const aic_value_info *v = j ? vb : va;
        bool whole = v->ndim == lo + 2;
        for (int k = 0; whole && k < lo; k++)
            whole = v->shape[k] == shape[k];
        op->grad_writable |= whole ? 1u << j : 0u;
    }
    return aic_graph_add_value(m, op, AIC_F32, lo + 2, shape, out);
}

/* An operand's stride in whole matrices along each of the op's lo leading per-sample dims (0 where it
 * is broadcast) and along the batch (stride[0]). */
static void operand_strides(int64_t *stride, int lo, const aic_value_info *v) {
    const int l = v->ndim - 2;
    int64_t st = 1;
    for (int k = lo - 1; k >= 0; k--) {
        const int j = k - (lo - l);
        stride[k + 1] = j < 0 || v->shape[j] == 1 ? 0 : st;
        if (j >= 0)
            st *= v->shape[j];
    }
    stride[0] = st;
}

/* The kernels' index space for a batch of n: the batch and the leading per-sample dims, with dims of
 * size 1 dropped and neighbours merged where both operands (and the contiguous output) step through
 * them as through one dim, so that a plain stack of products is one dim (one strided-batched call on
 * CUDA). */
static void matmul_dims(const aic_model_t *m, const aic_op *op, int n, aic_matmul_dims *d) {
    const aic_value_info *va = aic_val(m, op->in[0]), *vb = aic_val(m, op->in[1]), *vo = aic_val(m, op->out);
    const int lo = vo->ndim - 2;
    int64_t shape[AIC_MATMUL_MAX_DIMS], as[AIC_MATMUL_MAX_DIMS], bs[AIC_MATMUL_MAX_DIMS];
    shape[0] = n;
    for (int k = 0; k < lo; k++)
        shape[k + 1] = vo->shape[k];
    operand_strides(as, lo, va);
    operand_strides(bs, lo, vb);
    d->M = (int)va->shape[va->ndim - 2];
    d->K = (int)va->shape[va->ndim - 1];
    d->N = (int)vb->shape[vb->ndim - 1];
    d->ndim = 0;
    for (int k = 0; k <= lo; k++) {
        if (shape[k] == 1 && d->ndim > 0)
            continue;
        const int p = d->ndim - 1;
        if (p >= 0 && (d->shape[p] == 1 ||
                       (d->astride[p] == as[k] * shape[k] && d->bstride[p] == bs[k] * shape[k]))) {
            d->shape[p] *= shape[k]; /* the merged dim steps as the inner one */
            d->astride[p] = as[k];
            d->bstride[p] = bs[k];
            continue;
        }
        d->shape[d->ndim] = shape[k];
        d->astride[d->ndim] = as[k];
        d->bstride[d->ndim] = bs[k];
        d->ndim++;
    }
}

static aic_status matmul_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_matmul_dims d;
    matmul_dims(m, op, b->n, &d);
    return AIC_KERNEL(m, matmul_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]), &d);
}

static aic_status matmul_bwd(aic_model_t *m, aic_op *op, int n) {
    float *da = aic_act_grad(m, op->in[0]), *db = aic_act_grad(m, op->in[1]);
    if (!da && !db)
        return AIC_OK;
    aic_matmul_dims d;
    matmul_dims(m, op, n, &d);
    /* For x @ x both gradient pointers name one buffer, which then receives both contributions. */
    return AIC_KERNEL(m, matmul_backward)(da, db, aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                          aic_act(m, op->in[1]), &d, op->grad_write);
}

/* A multiply and an add per term: 2 K per output element. */
static double matmul_flops(const aic_model_t *m, const aic_op *op) {
    const aic_value_info *va = aic_val(m, op->in[0]);
    return 2.0 * (double)va->shape[va->ndim - 1] * (double)aic_val(m, op->out)->numel;
}

/* No attributes: what the op computes follows from its inputs' shapes, which the architecture hash
 * already holds (the ops that made them). */
const aic_op_desc aic_op_matmul = {"matmul", {matmul_fwd, matmul_bwd},
                                   AIC_CUDA_KERNELS(matmul_fwd, matmul_bwd), NULL, matmul_flops, AIC_BATCH_FIRST};
