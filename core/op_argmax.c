// SPDX-License-Identifier: Apache-2.0
/* argmax (ONNX ArgMax, ArgMin) and hardmax (ONNX Hardmax): the position of the extreme along one axis
 * behind the batch axis, as an int32 index or as a float one-hot. Neither has a backward: an index is
 * an integer (it gets no gradient), and a one-hot is constant wherever it is differentiable. */
#include <stdio.h>

#include "core/op_build.h"

static aic_status argmax_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, int axis, bool min,
                               bool last, bool keepdims, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, kind, name, x, &op));
    const aic_value_info *v = aic_val(m, x);
    const int rank = v->ndim + 1, a = axis < 0 ? axis + rank : axis;
    char s[128];
    aic_value_shape_text(s, sizeof s, v);
    if (a < 0 || a >= rank)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): axis %d is outside -%d..%d for input '%s' of shape %s", op->name,
                        aic_op_name(kind), axis, rank, rank - 1, v->name, s);
    if (a == v->batch_axis)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): axis %d is the batch axis of input '%s' (shape %s); aicon's %s "
                        "works within each sample", op->name, aic_op_name(kind), axis, v->name, s, aic_op_name(kind));
    AIC_TRY(aic_op_row_axis(m, op, x, a, &op->attr.argmax.axis));
    op->attr.argmax.min = min;
    op->attr.argmax.last = last;
    op->attr.argmax.keepdims = keepdims;
    if (kind == AIC_OP_HARDMAX)
        return aic_op_same_shape(m, op, x, out);
    int64_t shape[AIC_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < v->ndim; i++) /* per-sample axis i is axis i + 1 of the full shape */
        if (i != a - 1 || keepdims)
            shape[nd++] = i == a - 1 ? 1 : v->shape[i];
    return aic_graph_add_value(m, op, AIC_I32, nd, shape, out);
}

aic_status aic_argmax(aic_model_t *m, const char *name, aic_value x, int axis, bool min, bool select_last,
                      bool keepdims, aic_value *out) {
    return argmax_build(m, AIC_OP_ARGMAX, name, x, axis, min, select_last, keepdims, out);
}

aic_status aic_hardmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out) {
    return argmax_build(m, AIC_OP_HARDMAX, name, x, axis, false, false, true, out);
}

static aic_status argmax_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_argmax_dims d = {.min = op->attr.argmax.min, .last = op->attr.argmax.last};
    d.outer = aic_axis_layout(m, op->in[0], op->attr.argmax.axis, b->n, &d.K, &d.inner);
    const bool onehot = op->kind == AIC_OP_HARDMAX;
    return AIC_KERNEL(m, argmax_forward)(onehot ? NULL : (int32_t *)aic_act(m, op->out),
                                         onehot ? aic_act(m, op->out) : NULL, aic_act(m, op->in[0]), &d);
}

/* "axis=1 min=0 last=0 keepdims=1", the axis on the rows */
static void argmax_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "axis=%d min=%d last=%d keepdims=%d", op->attr.argmax.axis, op->attr.argmax.min,
             op->attr.argmax.last, op->attr.argmax.keepdims);
}

/* One compare per input element. */
static double argmax_flops(const aic_model_t *m, const aic_op *op) {
    return (double)m->values[op->in[0]].numel;
}

const aic_op_desc aic_op_argmax = {"argmax", {argmax_fwd, NULL}, AIC_CUDA_KERNELS(argmax_fwd, NULL), argmax_attrs,
                                   argmax_flops, AIC_BATCH_ROWS};
const aic_op_desc aic_op_hardmax = {"hardmax", {argmax_fwd, NULL}, AIC_CUDA_KERNELS(argmax_fwd, NULL),
                                    argmax_attrs, argmax_flops, AIC_BATCH_ROWS};
