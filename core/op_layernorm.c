// SPDX-License-Identifier: Apache-2.0
/* layernorm: normalization over the axes from `axis` to the last (ONNX
 * LayerNormalization, torch.nn.LayerNorm), with a weight and bias of the normalized shape. */
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

/* The input's n rows (aic_op_desc.batch) viewed as *rows x *cols: cols the normalized values. */
static aic_status ln_dims(const aic_model_t *m, const aic_op *op, int n, int *rows, int *cols) {
    const int64_t *s = aic_row_shape(m, op->in[0]);
    int64_t r = n, c = 1;
    for (int i = 0; i < aic_row_ndim(m, op->in[0]); i++)
        *(i < op->attr.ln.axis - 1 ? &r : &c) *= s[i];
    if (r > INT32_MAX)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': %d rows of '%s' hold %lld normalized rows, more than the kernels "
                        "take", op->name, n, aic_val(m, op->in[0])->name, (long long)r);
    *rows = (int)r;
    *cols = (int)c;
    return AIC_OK;
}

aic_status aic_layernorm(aic_model_t *m, const char *name, aic_value x, int axis, float eps, bool affine,
                         aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_LAYERNORM, name, &x, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    char shape[96];
    aic_value_shape_text(shape, sizeof shape, v);
    if (v->dtype != AIC_F32 || v->scalar || v->ndim < 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': layer normalization needs a float tensor N x ..., input '%s' is %s",
                        op->name, v->name, shape);
    int row_axis;
    AIC_TRY(aic_op_row_axis(m, op, x, axis, &row_axis));
    if (!(eps >= 0.0f) || !isfinite(eps))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': eps %g must be finite and not negative", op->name, (double)eps);
    const int nd = v->ndim - (axis - 1); /* normalized axes */
    const int64_t *rs = aic_row_shape(m, x);
    if (affine && nd > 4)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': a weight over %d axes (input '%s' of shape %s from axis %d) exceeds "
                        "the 4 a parameter may have",
                        op->name, nd, v->name, shape, axis);
    int64_t pshape[AIC_MAX_DIMS], cols = 1, rows = 1;
    for (int i = 0; i < aic_row_ndim(m, x); i++) {
        if (i < row_axis - 1)
            rows *= rs[i];
        else
            cols *= (pshape[i - (row_axis - 1)] = rs[i]);
    }
    if (cols > INT32_MAX || rows > INT32_MAX)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' of shape %s is too large for the kernels' int sizes",
                        op->name, v->name, shape);
    op->attr.ln.axis = row_axis;
    op->attr.ln.eps = eps;
    op->attr.ln.affine = affine;
    op->saved_per_sample = 2 * (size_t)rows; /* mean and 1/std of each row */
    const int op_index = (int)(op - m->ops);
    if (affine) {
        AIC_TRY(aic_graph_add_param(m, op, "weight", nd, pshape, AIC_INIT_ONES, 0, &op->param[0]));
        AIC_TRY(aic_graph_add_param(m, &m->ops[op_index], "bias", nd, pshape, AIC_INIT_ZEROS, 0,
                                    &m->ops[op_index].param[1]));
    }
    return aic_op_same_shape(m, &m->ops[op_index], x, out);
}

static aic_status ln_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int rows = 0, cols = 1;
    AIC_TRY(ln_dims(m, op, b->n, &rows, &cols));
    float *saved = m->saved_arena + op->saved; /* mean: rows, then rstd: rows */
    return AIC_KERNEL(m, layernorm_forward)(aic_act(m, op->out), saved, saved + rows, aic_act(m, op->in[0]),
                                            aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]), rows,
                                            cols, op->attr.ln.eps);
}

static aic_status ln_bwd(aic_model_t *m, aic_op *op, int n) {
    int rows = 0, cols = 1;
    AIC_TRY(ln_dims(m, op, n, &rows, &cols));
    const float *saved = m->saved_arena + op->saved;
    return AIC_KERNEL(m, layernorm_backward)(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                             aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out),
                                             aic_act(m, op->in[0]), aic_param_data(m, op->param[0]), saved,
                                             saved + rows, rows, cols);
}

static void ln_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "axis=%d eps=%.9g affine=%d", op->attr.ln.axis, (double)op->attr.ln.eps,
             op->attr.ln.affine ? 1 : 0);
}

/* Per value: the two row sums, the squared deviations, normalizing and the affine map. */
static double ln_flops(const aic_model_t *m, const aic_op *op) {
    return (op->attr.ln.affine ? 7.0 : 5.0) * (double)m->values[op->out].numel;
}

const aic_op_desc aic_op_layernorm = {"layernorm", {ln_fwd, ln_bwd}, AIC_CUDA_KERNELS(ln_fwd, ln_bwd), ln_attrs,
                                      ln_flops, AIC_BATCH_ROWS};
