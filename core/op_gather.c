// SPDX-License-Identifier: Apache-2.0
/* embedding: rows of a trained table picked by int32 ids (torch.nn.Embedding, ONNX Gather of an
 * initializer); gather: slices of an activation at constant indices along one axis (ONNX Gather, x[:, 0]). */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

aic_status aic_embedding(aic_model_t *m, const char *name, aic_value ids, int64_t vocab, int64_t dim,
                         aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_EMBEDDING, name, &ids, 1, &op));
    const aic_value_info *v = aic_val(m, ids);
    char s[128];
    aic_value_shape_text(s, sizeof s, v);
    if (v->dtype != AIC_I32 || v->scalar)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (embedding): '%s' (%s) is not an int32 value of ids (make it "
                        "with aic_int_input)", op->name, v->name, s);
    if (vocab < 1 || vocab > INT32_MAX || dim < 1 || dim > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (embedding): vocab %lld and dim %lld must be in 1..2^31-1",
                        op->name, (long long)vocab, (long long)dim);
    if (v->ndim + 1 > AIC_MAX_DIMS - 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (embedding): ids '%s' of shape %s leave no room for the embedding "
                        "axis (per-sample rank at most %d)", op->name, v->name, s, AIC_MAX_DIMS - 2);
    int64_t shape[AIC_MAX_DIMS], wshape[2] = {vocab, dim};
    memcpy(shape, v->shape, sizeof shape);
    shape[v->ndim] = dim;
    const int ndim = v->ndim + 1, op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 2, wshape, AIC_INIT_NORMAL, 1.0f, &op->param[0]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, ndim, shape, out);
}

aic_status aic_embedding_check_ids(const aic_model_t *m, const aic_op *op, const int32_t *ids, int n) {
    const int64_t per = aic_val(m, op->in[0])->numel, vocab = m->params[op->param[0]].shape[0];
    for (int64_t p = 0; p < (int64_t)n * per; p++)
        if (ids[p] < 0 || ids[p] >= vocab)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': id %d of batch row %lld at position %lld is outside "
                            "0..%lld", op->name, ids[p], (long long)(p / per), (long long)(p % per),
                            (long long)vocab - 1);
    return AIC_OK;
}

static aic_status embedding_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const int32_t *ids = (const int32_t *)aic_act(m, op->in[0]);
    if (m->backend->kind == AIC_BACKEND_CPU) /* a device's ids were checked as they came in */
        AIC_TRY(aic_embedding_check_ids(m, op, ids, b->n));
    const aic_param_info *w = &m->params[op->param[0]];
    return AIC_KERNEL(m, embedding_forward)(aic_act(m, op->out), aic_param_data(m, op->param[0]), ids,
                                            aic_rows_numel(m, op->in[0], b->n), (int)w->shape[0],
                                            (int)w->shape[1]);
}

static aic_status embedding_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_param_info *w = &m->params[op->param[0]];
    return AIC_KERNEL(m, embedding_backward)(aic_param_grad(m, op->param[0]), aic_act_grad(m, op->out),
                                             (const int32_t *)aic_act(m, op->in[0]), aic_rows_numel(m, op->in[0], n),
                                             (int)w->shape[0], (int)w->shape[1]);
}

aic_status aic_gather(aic_model_t *m, const char *name, aic_value x, int axis, int n_idx, const int64_t *idx,
                      bool scalar_index, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_GATHER, name, x, &op));
    const aic_value_info *v = aic_val(m, x);
    char s[128];
    aic_value_shape_text(s, sizeof s, v);
    const int a = axis < 0 ? axis + v->ndim + 1 : axis;
    if (a < 1 || a > v->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (gather): axis %d is outside 1..%d for input '%s' of shape %s (axis "
                        "0 is the batch)", op->name, axis, v->ndim, v->name, s);
    if (n_idx < 1 || n_idx > AIC_GATHER_MAX_INDICES || !idx || (scalar_index && n_idx != 1))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (gather): %d indices%s; it takes 1..%d (one with "
                        "scalar_index)", op->name, n_idx, idx ? "" : " (NULL)", AIC_GATHER_MAX_INDICES);
    const int64_t size = v->shape[a - 1];
    for (int k = 0; k < n_idx; k++) {
        const int64_t i = idx[k] < 0 ? idx[k] + size : idx[k];
        if (i < 0 || i >= size)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (gather): index %lld is outside -%lld..%lld, axis %d of "
                            "input '%s' (shape %s)", op->name, (long long)idx[k], (long long)size,
                            (long long)size - 1, a, v->name, s);
        op->attr.gather.idx[k] = (int32_t)i;
    }
    op->attr.gather.axis = a;
    op->attr.gather.n = n_idx;
    op->attr.gather.scalar = scalar_index;
    int64_t shape[AIC_MAX_DIMS];
    int ndim = 0;
    for (int i = 0; i < v->ndim; i++)
        if (i != a - 1 || !scalar_index)
            shape[ndim++] = i == a - 1 ? n_idx : v->shape[i];
    return aic_graph_add_value(m, op, AIC_F32, ndim, shape, out);
}

/* x over n rows as outer x D x inner around the axis. */
static aic_gather_dims gather_dims(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    aic_gather_dims d = {.outer = (size_t)n, .inner = 1, .D = (int)v->shape[op->attr.gather.axis - 1],
                         .n = op->attr.gather.n};
    for (int i = 0; i < v->ndim; i++) {
        if (i < op->attr.gather.axis - 1)
            d.outer *= (size_t)v->shape[i];
        else if (i > op->attr.gather.axis - 1)
            d.inner *= (size_t)v->shape[i];
    }
    memcpy(d.idx, op->attr.gather.idx, sizeof d.idx);
    return d;
}

static aic_status gather_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_gather_dims d = gather_dims(m, op, b->n);
    return AIC_KERNEL(m, gather_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status gather_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_gather_dims d = gather_dims(m, op, n);
    return AIC_KERNEL(m, gather_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

static void gather_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "axis=%d indices=", op->attr.gather.axis);
    for (int k = 0; k < op->attr.gather.n && len >= 0 && (size_t)len < size; k++)
        len += snprintf(buf + len, size - (size_t)len, "%s%d", k ? "," : "", op->attr.gather.idx[k]);
    if (op->attr.gather.scalar && len >= 0 && (size_t)len < size)
        snprintf(buf + len, size - (size_t)len, " scalar");
}

const aic_op_desc aic_op_embedding = {"embedding", {embedding_fwd, embedding_bwd},
                                      AIC_CUDA_KERNELS(embedding_fwd, embedding_bwd), NULL, NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_gather = {"gather", {gather_fwd, gather_bwd}, AIC_CUDA_KERNELS(gather_fwd, gather_bwd),
                                   gather_attrs, NULL, AIC_BATCH_FIRST};
