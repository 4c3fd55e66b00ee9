// SPDX-License-Identifier: Apache-2.0
/* reshape and flatten: a new shape over the same memory; nothing to run. */

#include "core/op_build.h"

aic_status aic_reshape(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                       aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_RESHAPE, name, &x, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    if (v->scalar || ndim < 1 || ndim > AIC_MAX_DIMS - 1 || !shape)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape '%s' to rank %d", op->name, v->name, ndim + 1);
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
    if (infer >= 0)
        s[infer] = v->numel / known;
    if ((infer >= 0 && v->numel % known) || (infer < 0 && known != v->numel) || (infer >= 0 && s[infer] <= 0))
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape %lld elements per sample of '%s' to the shape given",
                        op->name, (long long)v->numel, v->name);
    aic_dtype dtype = v->dtype;
    int src = v->alias_of >= 0 ? v->alias_of : x;
    AIC_TRY(aic_graph_add_value(m, op, dtype, ndim, s, out));
    m->values[*out].alias_of = src; /* shares the input's memory and gradient: nothing to run */
    return AIC_OK;
}

aic_status aic_flatten(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    int64_t flat = -1;
    return aic_reshape(m, name, x, 1, &flat, out);
}

const aic_op_desc aic_op_reshape = {.name = "reshape"};
