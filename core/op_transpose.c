// SPDX-License-Identifier: Apache-2.0
/* transpose: a permutation of the axes, the batch's among them. */
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_transpose(aic_model_t *m, const char *name, aic_value x, const int *perm, aic_value *out) {
    aic_op *op;
    int in[1] = {x};
    AIC_TRY(aic_op_begin(m, AIC_OP_TRANSPOSE, name, in, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    if (!perm || v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (transpose): needs a float activation and a perm", op->name);
    const int rank = v->ndim + 1;
    int64_t full[AIC_MAX_DIMS], shape[AIC_MAX_DIMS];
    aic_value_full_shape(v, 1, full);
    bool seen[AIC_MAX_DIMS] = {false};
    int batch_axis = -1;
    for (int k = 0, j = 0; k < rank; k++) {
        int p = perm[k];
        if (p < 0 || p >= rank || seen[p])
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (transpose): perm is not a permutation of 0..%d", op->name,
                            rank - 1);
        seen[p] = true;
        op->attr.perm[k] = p;
        if (p == v->batch_axis)
            batch_axis = k;
        else
            shape[j++] = full[p];
    }
    AIC_TRY(aic_graph_add_value(m, op, AIC_F32, v->ndim, shape, out));
    m->values[*out].batch_axis = batch_axis;
    return AIC_OK;
}

/* The kernels see the whole tensor as one sample of the full shape for the batch of this pass. */
static aic_status transpose_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    int64_t full[AIC_MAX_DIMS];
    aic_value_full_shape(v, b->n, full);
    return AIC_KERNEL(m, transpose_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), full, op->attr.perm,
                                            v->ndim + 1, 1);
}

static aic_status transpose_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    float *dx = aic_act_grad(m, op->in[0]);
    if (!dx)
        return AIC_OK;
    int64_t full[AIC_MAX_DIMS];
    aic_value_full_shape(v, n, full);
    return AIC_KERNEL(m, transpose_backward)(dx, aic_act_grad(m, op->out), full, op->attr.perm, v->ndim + 1, 1);
}

static void transpose_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "perm=");
    for (int i = 0; i < AIC_MAX_DIMS && len < (int)size; i++) /* unused entries are zero */
        len += snprintf(buf + len, size - (size_t)len, i ? ",%d" : "%d", op->attr.perm[i]);
}

const aic_op_desc aic_op_transpose = {"transpose", {transpose_fwd, transpose_bwd},
                                      AIC_CUDA_KERNELS(transpose_fwd, transpose_bwd), transpose_attrs, NULL, AIC_BATCH_WHOLE};
