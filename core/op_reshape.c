// SPDX-License-Identifier: Apache-2.0
/* reshape and flatten: a new shape over the same memory; nothing to run. */

#include <string.h>

#include "core/op_build.h"

/* The output of reshape op `op` of x: an alias of x's memory (and gradient) with the batch at
 * batch_axis holding outer x N x fold and the per-sample shape given. */
static aic_status add_alias(aic_model_t *m, aic_op *op, aic_value x, int batch_axis, int64_t outer, int64_t fold,
                            int ndim, const int64_t *shape, aic_value *out) {
    const aic_value_info *v = aic_val(m, x);
    int src = v->alias_of >= 0 ? v->alias_of : x;
    AIC_TRY(aic_graph_add_value(m, op, v->dtype, ndim, shape, out));
    m->values[*out].alias_of = src; /* nothing to run */
    m->values[*out].batch_axis = batch_axis;
    m->values[*out].outer = outer;
    m->values[*out].fold = fold;
    return AIC_OK;
}

static aic_status reshape_begin(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                                aic_op **op) {
    AIC_TRY(aic_op_begin(m, AIC_OP_RESHAPE, name, &x, 1, op));
    const aic_value_info *v = aic_val(m, x);
    if (v->scalar || ndim < 0 || ndim > AIC_MAX_DIMS - 1 || (ndim > 0 && !shape))
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape '%s' to rank %d", (*op)->name, v->name, ndim + 1);
    return AIC_OK;
}

aic_status aic_reshape(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                       aic_value *out) {
    aic_op *op;
    AIC_TRY(reshape_begin(m, name, x, ndim, shape, &op));
    const aic_value_info *v = aic_val(m, x);
    int64_t s[AIC_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1 && infer < 0)
            infer = i;
        else if (s[i] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': target dimension %d is %lld", op->name, i + 1,
                            (long long)s[i]);
        else
            known *= s[i];
    }
    /* The rows (the batch axis and what is in front of it) stay; the per-row shape changes. */
    const int64_t per_row = aic_value_behind(v);
    if (infer >= 0)
        s[infer] = per_row / known;
    if ((infer >= 0 && per_row % known) || (infer < 0 && known != per_row) || (infer >= 0 && s[infer] <= 0))
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape %lld elements per row of '%s' to the shape given",
                        op->name, (long long)per_row, v->name);
    int64_t full[AIC_MAX_DIMS];
    memcpy(full, v->shape, sizeof(int64_t) * (size_t)v->batch_axis);
    if (v->batch_axis + ndim > AIC_MAX_DIMS - 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': rank %d is more than %d", op->name, v->batch_axis + ndim + 1,
                        AIC_MAX_DIMS);
    memcpy(full + v->batch_axis, s, sizeof(int64_t) * (size_t)ndim);
    return add_alias(m, op, x, v->batch_axis, v->outer, v->fold, v->batch_axis + ndim, full, out);
}

aic_status aic_reshape_full(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                            aic_value *out) {
    aic_op *op;
    AIC_TRY(reshape_begin(m, name, x, ndim - 1, shape, &op));
    const aic_value_info *v = aic_val(m, x);
    int b = -1;
    int64_t before = 1, after = 1, s[AIC_MAX_DIMS];
    for (int i = 0, j = 0; i < ndim; i++) {
        if (shape[i] == AIC_DIM_BATCH && b < 0) {
            b = i;
            continue;
        }
        if (shape[i] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': target dimension %d is %lld (one must be AIC_DIM_BATCH, the "
                            "others positive)", op->name, i, (long long)shape[i]);
        *(b < 0 ? &before : &after) *= shape[i];
        s[j++] = shape[i];
    }
    /* In memory x is (elements in front of its batch) x N x (elements behind it), and so must the
     * result be: the entries in front of the batch axis must divide the first, those behind the second;
     * what they leave over is merged into the batch axis. */
    const int64_t in_front = aic_value_lead(v) / v->fold, in_behind = v->fold * aic_value_behind(v);
    char sx[128];
    aic_value_shape_text(sx, sizeof sx, v);
    if (b < 0 || in_front % before || in_behind % after)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape '%s' (%s) to the shape given: %s", op->name, v->name,
                        sx, b < 0 ? "no dimension is AIC_DIM_BATCH" : "the batch would not stay one axis");
    return add_alias(m, op, x, b, in_front / before, in_behind / after, ndim - 1, s, out);
}

aic_status aic_flatten(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    int64_t flat = -1;
    return aic_reshape(m, name, x, 1, &flat, out);
}

const aic_op_desc aic_op_reshape = {.name = "reshape", .batch = AIC_BATCH_WHOLE}; /* takes the batch anywhere */
