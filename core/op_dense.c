// SPDX-License-Identifier: Apache-2.0
/* dense: y = x W^T + b over the last axis, every other index a row. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

/* Begins a dense op over x: checks x and returns its features in *in. */
static aic_status dense_begin(aic_model_t *m, const char *name, aic_value x, aic_op **op, int64_t *in) {
    AIC_TRY(aic_op_begin(m, AIC_OP_DENSE, name, &x, 1, op));
    const aic_value_info *v = aic_val(m, x);
    if (v->dtype != AIC_F32 || v->scalar || aic_row_ndim(m, x) < 1) {
        char s[128];
        aic_value_shape_text(s, sizeof s, v);
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (dense): input '%s' has shape %s; dense needs float features on an "
                        "axis behind the batch axis", (*op)->name, v->name, s);
    }
    *in = v->shape[v->ndim - 1];
    return AIC_OK;
}

/* Ends it: the bias (if any) and the output, x's shape with out_features last. */
static aic_status dense_end(aic_model_t *m, aic_op *op, int64_t out_features, bool bias, aic_value *out) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    int64_t oshape[AIC_MAX_DIMS];
    memcpy(oshape, v->shape, sizeof oshape);
    oshape[v->ndim - 1] = out_features;
    const int ndim = v->ndim, op_index = (int)(op - m->ops);
    const float bound = 1.0f / sqrtf((float)v->shape[v->ndim - 1]);
    op->grad_writable = 1; /* x's gradient: a GEMM with beta 0 writes it outright */
    if (bias)
        AIC_TRY(aic_graph_add_param(m, op, "bias", 1, &out_features, AIC_INIT_UNIFORM, bound, &op->param[1]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, ndim, oshape, out);
}

aic_status aic_dense(aic_model_t *m, const char *name, aic_value x, int64_t out_features, bool bias, aic_value *out) {
    aic_op *op;
    int64_t in = 0;
    AIC_TRY(dense_begin(m, name, x, &op, &in));
    if (out_features <= 0 || out_features > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': out_features %lld must be in 1..2^31-1", op->name,
                        (long long)out_features);
    int64_t wshape[2] = {out_features, in};
    int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 2, wshape, AIC_INIT_UNIFORM, 1.0f / sqrtf((float)in),
                                &op->param[0]));
    return dense_end(m, &m->ops[op_index], out_features, bias, out);
}

aic_status aic_dense_tied(aic_model_t *m, const char *name, aic_value x, const char *param, bool bias,
                          aic_value *out) {
    aic_op *op;
    int64_t in = 0;
    AIC_TRY(dense_begin(m, name, x, &op, &in));
    int p = -1;
    for (int i = 0; param && i < m->n_params && p < 0; i++)
        if (strcmp(m->params[i].name, param) == 0)
            p = i;
    if (p < 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (dense_tied): model '%s' has no parameter named '%s' to take "
                        "as its weight", op->name, m->name, param ? param : "(NULL)");
    const aic_param_info *w = &m->params[p];
    if (w->ndim != 2 || w->shape[1] != in)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (dense_tied): parameter '%s' has %d dims (%lld x %lld); its weight "
                        "must be [out, %lld], %lld being the last dim of input '%s'", op->name, param, w->ndim,
                        (long long)w->shape[0], (long long)(w->ndim > 1 ? w->shape[1] : 0), (long long)in,
                        (long long)in, aic_val(m, x)->name);
    op->param[0] = p;
    op->attr.dense.tied = p + 1;
    return dense_end(m, op, w->shape[0], bias, out);
}

/* The kernels' rows: every index of x but the features. */
static int dense_rows(const aic_model_t *m, const aic_op *op, int rows, int *C, int *OC) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    *C = (int)v->shape[v->ndim - 1];
    *OC = (int)aic_val(m, op->out)->shape[v->ndim - 1];
    return (int)(aic_rows_numel(m, op->in[0], rows) / (size_t)*C);
}

static aic_status dense_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, OC, rows = dense_rows(m, op, b->n, &C, &OC);
    return AIC_KERNEL(m, dense_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                             aic_param_data(m, op->param[1]), rows, C, OC);
}

static aic_status dense_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, OC, rows = dense_rows(m, op, n, &C, &OC);
    return AIC_KERNEL(m, dense_backward)(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                              aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                              aic_param_data(m, op->param[0]), rows, C, OC, op->grad_write);
}

/* A multiply and an add per weight and row. */
static double dense_flops(const aic_model_t *m, const aic_op *op) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    return 2.0 * (double)v->shape[v->ndim - 1] * (double)aic_value_elems(aic_val(m, op->out), 1);
}

/* A tied weight's parameter; an untied dense has no text, as before tying existed (its hash stays). */
static void dense_attrs(const aic_op *op, char *buf, size_t size) {
    if (op->attr.dense.tied)
        snprintf(buf, size, "tied=%d", op->attr.dense.tied - 1);
    else
        buf[0] = '\0';
}

const aic_op_desc aic_op_dense = {"dense", {dense_fwd, dense_bwd},
                                  AIC_CUDA_KERNELS(dense_fwd, dense_bwd), dense_attrs, dense_flops, AIC_BATCH_ROWS};
