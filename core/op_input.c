// SPDX-License-Identifier: Apache-2.0
/* The graph's inputs: the batch and its labels, filled by the caller; nothing to run. */

#include "core/op_build.h"

aic_status aic_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_INPUT, name, NULL, 0, &op));
    return aic_graph_add_value(m, op, AIC_F32, ndim, shape, out);
}

aic_status aic_labels(aic_model_t *m, const char *name, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_LABELS, name, NULL, 0, &op));
    return aic_graph_add_value(m, op, AIC_I32, 0, NULL, out);
}

const aic_op_desc aic_op_input = {.name = "input"};
const aic_op_desc aic_op_labels = {.name = "labels"};
