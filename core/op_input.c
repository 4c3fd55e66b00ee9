// SPDX-License-Identifier: Apache-2.0
/* The graph's inputs: float data, and int32 labels or ids, filled by the caller; nothing to run. */

#include "core/op_build.h"

aic_status aic_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_INPUT, name, NULL, 0, &op));
    return aic_graph_add_value(m, op, AIC_F32, ndim, shape, out);
}

/* Every int32 input is a labels op: one per-sample label (ndim 0) is what aic_labels always made, so
 * its models keep their architecture hash. */
aic_status aic_int_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_LABELS, name, NULL, 0, &op));
    if (ndim > 0 && !shape)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': the shape of a rank-%d int input is NULL", op->name, ndim);
    return aic_graph_add_value(m, op, AIC_I32, ndim, shape, out);
}

aic_status aic_labels(aic_model_t *m, const char *name, aic_value *out) {
    return aic_int_input(m, name, 0, NULL, out);
}

const aic_op_desc aic_op_input = {.name = "input"};
const aic_op_desc aic_op_labels = {.name = "labels"};
