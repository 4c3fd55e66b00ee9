// SPDX-License-Identifier: Apache-2.0
/* reduce: sum, mean, max, min, l2, sum_square, log_sum_exp (layers/reduce_ops.def) over a set of
 * per-sample axes (ONNX Reduce*), the reduced axes dropped or kept as 1s. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

static const char *const reduce_names[AIC_REDUCE_COUNT] = {
#define AIC_REDUCE(E, name, onnx) [AIC_REDUCE_##E] = #name,
#include "layers/reduce_ops.def"
#undef AIC_REDUCE
};

aic_status aic_reduce(aic_model_t *m, const char *opname, const char *name, aic_value x, int n_axes, const int *axes,
                      bool keepdims, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_REDUCE, name, x, &op));
    int k = 0;
    while (k < AIC_REDUCE_COUNT && !(opname && strcmp(opname, reduce_names[k]) == 0))
        k++;
    if (k == AIC_REDUCE_COUNT)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': '%s' is not a reduction (sum, mean, max, min, l2, sum_square, "
                        "log_sum_exp)", op->name, opname ? opname : "(null)");
    const aic_value_info *v = aic_val(m, x);
    const int rank = v->ndim + 1;
    char shape[96];
    aic_value_shape_text(shape, sizeof shape, v);
    if (n_axes < 0 || (n_axes > 0 && !axes))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': %d axes%s", op->name, n_axes, n_axes < 0 ? "" : " but axes NULL");
    unsigned mask = 0;
    for (int i = 0; i < n_axes; i++) {
        const int a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 0 || a >= rank)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': axis %d is outside -%d..%d for input '%s' of shape %s", op->name,
                            axes[i], rank, rank - 1, v->name, shape);
        if (a == 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (reduce %s): axis 0 is the batch; aicon reduces within each sample "
                            "(axes 1..%d of input '%s' of shape %s)", op->name, opname, rank - 1, v->name, shape);
        if (mask & 1u << a)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': axis %d is listed twice", op->name, a);
        mask |= 1u << a;
    }
    if (n_axes == 0) /* every per-sample axis */
        mask = ((1u << rank) - 1) & ~1u;
    if (rank < 2)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' of shape %s has no per-sample axis to reduce", op->name,
                        v->name, shape);
    int64_t oshape[AIC_MAX_DIMS];
    int ond = 0;
    for (int a = 1; a < rank; a++)
        if (!(mask & 1u << a))
            oshape[ond++] = v->shape[a - 1];
        else if (keepdims)
            oshape[ond++] = 1;
    op->attr.reduce.kind = k;
    op->attr.reduce.mask = mask;
    op->attr.reduce.keepdims = keepdims;
    return aic_graph_add_value(m, op, AIC_F32, ond, oshape, out);
}

/* The plan over n samples: the batch and the kept axes, the reduced axes, with the input's strides. */
static aic_reduce_plan reduce_plan(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    aic_reduce_plan p = {.n_keep = 1, .keep_dim = {n}, .keep_stride = {v->numel}, .n_out = n, .count = 1};
    int64_t stride = 1;
    int red[AIC_MAX_DIMS], keep[AIC_MAX_DIMS], nr = 0, nk = 0;
    int64_t st[AIC_MAX_DIMS];
    for (int a = v->ndim; a >= 1; a--) { /* strides from the last axis */
        st[a] = stride;
        stride *= v->shape[a - 1];
    }
    for (int a = 1; a <= v->ndim; a++)
        if (op->attr.reduce.mask & 1u << a)
            red[nr++] = a;
        else
            keep[nk++] = a;
    for (int i = 0; i < nk; i++) {
        p.keep_dim[p.n_keep] = v->shape[keep[i] - 1];
        p.keep_stride[p.n_keep++] = st[keep[i]];
        p.n_out *= v->shape[keep[i] - 1];
    }
    for (int i = 0; i < nr; i++) {
        p.red_dim[p.n_red] = v->shape[red[i] - 1];
        p.red_stride[p.n_red++] = st[red[i]];
        p.count *= v->shape[red[i] - 1];
    }
    return p;
}

static aic_status reduce_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_reduce_plan p = reduce_plan(m, op, b->n);
    return AIC_KERNEL(m, reduce_forward)((aic_reduce_kind)op->attr.reduce.kind, aic_act(m, op->out),
                                         aic_act(m, op->in[0]), &p);
}

static aic_status reduce_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_reduce_plan p = reduce_plan(m, op, n);
    return AIC_KERNEL(m, reduce_backward)((aic_reduce_kind)op->attr.reduce.kind, aic_act_grad(m, op->in[0]),
                                          aic_act_grad(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->out), &p);
}

/* "op=mean axes=2,3 keepdims=1": axes counted with the batch. */
static void reduce_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "op=%s axes=", reduce_names[op->attr.reduce.kind]);
    for (int a = 1, first = 1; a < AIC_MAX_DIMS + 1 && len < (int)size; a++)
        if (op->attr.reduce.mask & 1u << a) {
            len += snprintf(buf + len, size - (size_t)len, first ? "%d" : ",%d", a);
            first = 0;
        }
    if (len < (int)size)
        snprintf(buf + len, size - (size_t)len, " keepdims=%d", op->attr.reduce.keepdims ? 1 : 0);
}

/* Per input value: one add; a square or an exp and a subtraction besides for l2, sum_square, log_sum_exp. */
static double reduce_flops(const aic_model_t *m, const aic_op *op) {
    const int k = op->attr.reduce.kind;
    const double per = k == AIC_REDUCE_L2 || k == AIC_REDUCE_SUM_SQUARE || k == AIC_REDUCE_L1 ? 2.0
                       : k == AIC_REDUCE_LOG_SUM_EXP                                     ? 3.0
                                                                                         : 1.0;
    return per * (double)m->values[op->in[0]].numel;
}

const aic_op_desc aic_op_reduce = {"reduce", {reduce_fwd, reduce_bwd}, AIC_CUDA_KERNELS(reduce_fwd, reduce_bwd),
                                   reduce_attrs, reduce_flops, AIC_BATCH_FIRST};
