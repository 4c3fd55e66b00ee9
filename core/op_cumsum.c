// SPDX-License-Identifier: Apache-2.0
/* cumsum: running sums along one per-sample axis (ONNX CumSum). */
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_cumsum(aic_model_t *m, const char *name, aic_value x, int axis, bool exclusive, bool reverse,
                      aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_CUMSUM, name, x, &op));
    const aic_value_info *v = aic_val(m, x);
    const int rank = v->ndim + 1, a = axis < 0 ? axis + rank : axis;
    if (a < 1 || a >= rank)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (cumsum): axis %d of a rank-%d input is %s", op->name, axis, rank,
                        a == 0 ? "the batch, which aicon does not sum across" : "out of range");
    op->attr.cumsum.axis = a;
    op->attr.cumsum.exclusive = exclusive;
    op->attr.cumsum.reverse = reverse;
    return aic_op_same_shape(m, op, x, out);
}

/* x over n rows as outer x len x inner around the axis. */
static aic_cumsum_dims cumsum_dims(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    const int a = op->attr.cumsum.axis - 1;
    aic_cumsum_dims d = {.outer = (size_t)n, .len = (size_t)v->shape[a], .inner = 1,
                         .exclusive = op->attr.cumsum.exclusive, .reverse = op->attr.cumsum.reverse};
    for (int i = 0; i < v->ndim; i++) {
        if (i < a)
            d.outer *= (size_t)v->shape[i];
        else if (i > a)
            d.inner *= (size_t)v->shape[i];
    }
    return d;
}

static aic_status cumsum_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_cumsum_dims d = cumsum_dims(m, op, b->n);
    return AIC_KERNEL(m, cumsum_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status cumsum_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_cumsum_dims d = cumsum_dims(m, op, n);
    return AIC_KERNEL(m, cumsum_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

static void cumsum_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "axis=%d exclusive=%d reverse=%d", op->attr.cumsum.axis, op->attr.cumsum.exclusive,
             op->attr.cumsum.reverse);
}

const aic_op_desc aic_op_cumsum = {"cumsum", {cumsum_fwd, cumsum_bwd}, AIC_CUDA_KERNELS(cumsum_fwd, cumsum_bwd),
                                   cumsum_attrs, NULL, AIC_BATCH_FIRST};
