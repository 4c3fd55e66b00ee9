// SPDX-License-Identifier: Apache-2.0
/* transpose: a permutation of the per-sample axes (the batch stays first). */
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_transpose(aic_model_t *m, const char *name, aic_value x, const int *perm, aic_value *out) {
    aic_op *op;
    int in[1] = {x};
    AIC_TRY(aic_op_begin(m, AIC_OP_TRANSPOSE, name, in, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    if (!perm || v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (transpose): needs a float activation and a perm", op->name);
    if (perm[0] != 0)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (transpose): perm[0] is %d; the batch must stay axis 0", op->name,
                        perm[0]);
    int64_t shape[AIC_MAX_DIMS];
    bool seen[AIC_MAX_DIMS] = {false};
    op->attr.perm[0] = 0;
    for (int k = 1; k <= v->ndim; k++) {
        int p = perm[k];
        if (p < 1 || p > v->ndim || seen[p])
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (transpose): perm is not a permutation of 0..%d", op->name,
                            v->ndim);
        seen[p] = true;
        op->attr.perm[k] = p;
        shape[k - 1] = v->shape[p - 1];
    }
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, shape, out);
}

static aic_status transpose_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return AIC_KERNEL(m, transpose_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), v->shape, p, v->ndim, b->n);
}

static aic_status transpose_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    float *dx = aic_act_grad(m, op->in[0]);
    if (!dx)
        return AIC_OK;
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return AIC_KERNEL(m, transpose_backward)(dx, aic_act_grad(m, op->out), v->shape, p, v->ndim, n);
}

static void transpose_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "perm=");
    for (int i = 0; i < AIC_MAX_DIMS && len < (int)size; i++) /* unused entries are zero */
        len += snprintf(buf + len, size - (size_t)len, i ? ",%d" : "%d", op->attr.perm[i]);
}

const aic_op_desc aic_op_transpose = {"transpose", {transpose_fwd, transpose_bwd},
                                      AIC_CUDA_KERNELS(transpose_fwd, transpose_bwd), transpose_attrs, NULL};
