// SPDX-License-Identifier: Apache-2.0
/* gather_elements, scatter_elements (ONNX GatherElements, ScatterElements and Scatter; torch.gather,
 * Tensor.scatter_): elements of a float activation picked or replaced at int32 indices along one axis
 * behind the batch; one_hot (ONNX OneHot): int or float indices to float one-hot vectors. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

const char *const aic_scatter_names[AIC_SCATTER_KIND_COUNT] = {"none", "add", "mul"};

/* The indices (input 1) against x (input 0): an int32 value of x's rank, no larger but on the axis
 * (counted with the batch; negative from the end), which must be behind the batch. */
static aic_status elements_check(aic_model_t *m, aic_op *op, int axis) {
    const aic_value_info *x = aic_val(m, op->in[0]), *idx = aic_val(m, op->in[1]);
    const char *kind = aic_op_name(op->kind);
    char xs[128], is[128];
    aic_value_shape_text(xs, sizeof xs, x);
    aic_value_shape_text(is, sizeof is, idx);
    if (x->dtype != AIC_F32 || x->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' must be a float tensor", op->name, kind, x->name);
    if (idx->dtype != AIC_I32 || idx->scalar || idx->ndim != x->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): indices '%s' (%s) must be an int32 value (aic_int_input) of "
                        "the rank of '%s' (%s)", op->name, kind, idx->name, is, x->name, xs);
    const int a = axis < 0 ? axis + x->ndim + 1 : axis;
    if (a < 1 || a > x->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): axis %d is outside 1..%d for input '%s' of shape %s (axis 0 "
                        "is the batch)", op->name, kind, axis, x->ndim, x->name, xs);
    for (int i = 0; i < x->ndim; i++)
        if (i != a - 1 && idx->shape[i] > x->shape[i])
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): indices '%s' (%s) are larger than input '%s' (%s) on axis "
                            "%d, which is not the axis %d", op->name, kind, idx->name, is, x->name, xs, i + 1, a);
    op->attr.elements.axis = a;
    return AIC_OK;
}

aic_status aic_gather_elements(aic_model_t *m, const char *name, aic_value x, aic_value indices, int axis,
                               aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_GATHER_ELEMENTS, name, (const int[]){x, indices}, 2, &op));
    AIC_TRY(elements_check(m, op, axis));
    const aic_value_info *idx = aic_val(m, indices);
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, idx->shape, sizeof shape);
    return aic_graph_add_value(m, op, AIC_F32, idx->ndim, shape, out);
}

aic_status aic_scatter_elements(aic_model_t *m, const char *name, aic_value x, aic_value indices, aic_value updates,
                                int axis, const char *reduction, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_SCATTER_ELEMENTS, name, (const int[]){x, indices, updates}, 3, &op));
    AIC_TRY(elements_check(m, op, axis));
    const char *r = reduction ? reduction : "none";
    int k = 0;
    while (k < AIC_SCATTER_KIND_COUNT && strcmp(r, aic_scatter_names[k]) != 0)
        k++;
    if (k == AIC_SCATTER_KIND_COUNT)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (scatter_elements): reduction '%s' is not none, add or mul",
                        op->name, r);
    op->attr.elements.reduction = k;
    const aic_value_info *idx = aic_val(m, indices), *u = aic_val(m, updates);
    bool same = u->dtype == AIC_F32 && !u->scalar && u->ndim == idx->ndim;
    for (int i = 0; same && i < u->ndim; i++)
        same = u->shape[i] == idx->shape[i];
    if (!same) {
        char us[128], is[128];
        aic_value_shape_text(us, sizeof us, u);
        aic_value_shape_text(is, sizeof is, idx);
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (scatter_elements): updates '%s' (%s) must be floats of the shape of "
                        "indices '%s' (%s)", op->name, u->name, us, idx->name, is);
    }
    return aic_op_same_shape(m, op, x, out);
}

/* Every index of n samples of an op's indices within the axis; a failure names the op, the value and
 * the position. The CPU glue checks in its forward; for a device model aic_model_set_input does. */
aic_status aic_elements_check_indices(const aic_model_t *m, const aic_op *op, const int32_t *idx, int n) {
    const aic_value_info *x = aic_val(m, op->in[0]), *v = aic_val(m, op->in[1]);
    const int64_t size = x->shape[op->attr.elements.axis - 1], per = v->numel * v->outer * v->fold;
    for (int64_t p = 0; p < (int64_t)n * per; p++)
        if (idx[p] < -size || idx[p] >= size)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (%s): index %d of '%s' in batch row %lld at position %lld "
                            "is outside -%lld..%lld, axis %d of '%s'", op->name, aic_op_name(op->kind), idx[p],
                            v->name, (long long)(p / per), (long long)(p % per), (long long)size,
                            (long long)size - 1, op->attr.elements.axis, x->name);
    return AIC_OK;
}

/* x and the indices as the kernels see them: the rows, then the per-sample axes. */
static aic_elements_dims elements_dims(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *x = aic_val(m, op->in[0]), *idx = aic_val(m, op->in[1]);
    aic_elements_dims d = {.ndim = x->ndim + 1, .axis = op->attr.elements.axis,
                           .reduction = op->attr.elements.reduction};
    d.data[0] = d.idx[0] = (int64_t)n * x->outer * x->fold;
    for (int i = 0; i < x->ndim; i++) {
        d.data[i + 1] = x->shape[i];
        d.idx[i + 1] = idx->shape[i];
    }
    return d;
}

static aic_status check_on_cpu(aic_model_t *m, const aic_op *op, int n) {
    if (m->backend->kind != AIC_BACKEND_CPU) /* a device's indices were checked as they came in */
        return AIC_OK;
    return aic_elements_check_indices(m, op, (const int32_t *)aic_act(m, op->in[1]), n);
}

static aic_status gather_elements_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    AIC_TRY(check_on_cpu(m, op, b->n));
    const aic_elements_dims d = elements_dims(m, op, b->n);
    return AIC_KERNEL(m, gather_elements_forward)(aic_act(m, op->out), aic_act(m, op->in[0]),
                                                  (const int32_t *)aic_act(m, op->in[1]), &d);
}

static aic_status gather_elements_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_elements_dims d = elements_dims(m, op, n);
    return AIC_KERNEL(m, gather_elements_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out),
                                                   (const int32_t *)aic_act(m, op->in[1]), &d);
}

static aic_status scatter_elements_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    AIC_TRY(check_on_cpu(m, op, b->n));
    const aic_elements_dims d = elements_dims(m, op, b->n);
    return AIC_KERNEL(m, scatter_elements_forward)(aic_act(m, op->out), aic_act(m, op->in[0]),
                                                   (const int32_t *)aic_act(m, op->in[1]), aic_act(m, op->in[2]), &d);
}

static aic_status scatter_elements_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_elements_dims d = elements_dims(m, op, n);
    return AIC_KERNEL(m, scatter_elements_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->in[2]),
                                                    aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                                    (const int32_t *)aic_act(m, op->in[1]), aic_act(m, op->in[2]), &d);
}

/* "axis=2", scatter_elements "axis=2 reduction=add" */
static void elements_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "axis=%d", op->attr.elements.axis);
    if (op->kind == AIC_OP_SCATTER_ELEMENTS && len >= 0 && (size_t)len < size)
        snprintf(buf + len, size - (size_t)len, " reduction=%s", aic_scatter_names[op->attr.elements.reduction]);
}

aic_status aic_one_hot(aic_model_t *m, const char *name, aic_value indices, int axis, int64_t depth, float off,
                       float on, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_ONE_HOT, name, &indices, 1, &op));
    const aic_value_info *v = aic_val(m, indices);
    char s[128];
    aic_value_shape_text(s, sizeof s, v);
    if (v->scalar || v->ndim + 1 > AIC_MAX_DIMS - 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (one_hot): indices '%s' (%s) must be a tensor of per-sample rank at "
                        "most %d", op->name, v->name, s, AIC_MAX_DIMS - 2);
    const int a = axis < 0 ? axis + v->ndim + 2 : axis;
    if (a < 1 || a > v->ndim + 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (one_hot): axis %d is outside 1..%d for indices '%s' of shape %s "
                        "(axis 0 is the batch)", op->name, axis, v->ndim + 1, v->name, s);
    if (depth < 1 || depth > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (one_hot): depth %lld is outside 1..2^31-1", op->name,
                        (long long)depth);
    op->attr.one_hot.axis = a;
    op->attr.one_hot.depth = depth;
    op->attr.one_hot.off = off;
    op->attr.one_hot.on = on;
    int64_t shape[AIC_MAX_DIMS];
    for (int i = 0, k = 0; i <= v->ndim; i++)
        shape[i] = i == a - 1 ? depth : v->shape[k++];
    return aic_graph_add_value(m, op, AIC_F32, v->ndim + 1, shape, out);
}

static aic_status one_hot_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    aic_one_hot_dims d = {.outer = (size_t)b->n * (size_t)(v->outer * v->fold), .inner = 1,
                          .depth = op->attr.one_hot.depth, .off = op->attr.one_hot.off, .on = op->attr.one_hot.on};
    for (int i = 0; i < v->ndim; i++) {
        if (i < op->attr.one_hot.axis - 1)
            d.outer *= (size_t)v->shape[i];
        else
            d.inner *= (size_t)v->shape[i];
    }
    const bool ints = v->dtype == AIC_I32;
    float *idx = aic_act(m, op->in[0]);
    return AIC_KERNEL(m, one_hot_forward)(aic_act(m, op->out), ints ? (const int32_t *)idx : NULL, ints ? NULL : idx,
                                          &d);
}

/* "axis=2 depth=10 off=0 on=1" */
static void one_hot_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "axis=%d depth=%lld off=%.9g on=%.9g", op->attr.one_hot.axis,
             (long long)op->attr.one_hot.depth, op->attr.one_hot.off, op->attr.one_hot.on);
}

const aic_op_desc aic_op_gather_elements = {"gather_elements", {gather_elements_fwd, gather_elements_bwd},
                                            AIC_CUDA_KERNELS(gather_elements_fwd, gather_elements_bwd),
                                            elements_attrs, NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_scatter_elements = {"scatter_elements", {scatter_elements_fwd, scatter_elements_bwd},
                                             AIC_CUDA_KERNELS(scatter_elements_fwd, scatter_elements_bwd),
                                             elements_attrs, NULL, AIC_BATCH_FIRST};
/* No backward: the output is constant wherever it is differentiable, and int indices get no gradient. */
const aic_op_desc aic_op_one_hot = {"one_hot", {one_hot_fwd, NULL}, AIC_CUDA_KERNELS(one_hot_fwd, NULL),
                                    one_hot_attrs, NULL, AIC_BATCH_FIRST};
