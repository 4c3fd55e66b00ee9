// SPDX-License-Identifier: Apache-2.0
/* softmax and log_softmax over one axis behind the batch axis. */

#include "core/op_build.h"

static aic_status softmax_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, int axis,
                                aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, kind, name, &x, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    if (v->dtype != AIC_F32 || v->scalar || v->ndim < 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' must be a float tensor N x ...", op->name, v->name);
    AIC_TRY(aic_op_row_axis(m, op, x, axis, &op->attr.axis));
    op->grad_writable = 1;
    return aic_op_same_shape(m, op, x, out);
}

aic_status aic_softmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out) {
    return softmax_build(m, AIC_OP_SOFTMAX, name, x, axis, out);
}
aic_status aic_log_softmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out) {
    return softmax_build(m, AIC_OP_LOG_SOFTMAX, name, x, axis, out);
}

#define SOFTMAX_GLUE(fn)                                                                                    \
    static aic_status fn##_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {                      \
        int K;                                                                                              \
        size_t inner, outer = aic_axis_layout(m, op->in[0], op->attr.axis, b->n, &K, &inner);               \
        return AIC_KERNEL(m, fn##_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), outer, K, inner);             \
    }                                                                                                       \
    static aic_status fn##_bwd(aic_model_t *m, aic_op *op, int n) {                                         \
        int K;                                                                                              \
        size_t inner, outer = aic_axis_layout(m, op->in[0], op->attr.axis, n, &K, &inner);                  \
        return AIC_KERNEL(m, fn##_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), aic_act(m, op->out), \
                                   outer, K, inner, op->grad_write & 1);                                    \
    }
SOFTMAX_GLUE(softmax)
SOFTMAX_GLUE(log_softmax)

const aic_op_desc aic_op_softmax = {"softmax", {softmax_fwd, softmax_bwd},
                                    AIC_CUDA_KERNELS(softmax_fwd, softmax_bwd), aic_op_axis_text, NULL, AIC_BATCH_ROWS};
const aic_op_desc aic_op_log_softmax = {"log_softmax", {log_softmax_fwd, log_softmax_bwd},
                                        AIC_CUDA_KERNELS(log_softmax_fwd, log_softmax_bwd), aic_op_axis_text, NULL, AIC_BATCH_ROWS};
