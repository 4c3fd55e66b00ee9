// SPDX-License-Identifier: Apache-2.0
/* The unary elementwise ops of layers/unary_ops.def: one builder, one descriptor per kind. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

/* Each unary op's attribute names and defaults (layers/unary_ops.def). */
static const struct {
    const char *attr[AIC_UNARY_MAX_ATTRS];
    float def[AIC_UNARY_MAX_ATTRS];
} unary_info[AIC_UNARY_COUNT] = {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_UNARY_##E] = {{a0, a1}, {d0, d1}},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};

static aic_status unary_kind_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const float *attrs,
                                   aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, kind, name, x, &op));
    const aic_unary_kind u = aic_op_unary(kind);
    for (int i = 0; i < AIC_UNARY_MAX_ATTRS && unary_info[u].attr[i]; i++) {
        const float v = attrs ? attrs[i] : unary_info[u].def[i];
        if (!isfinite(v))
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': %s %g must be finite", op->name, unary_info[u].attr[i], v);
        op->attr.unary[i] = v;
    }
    return aic_op_same_shape(m, op, x, out);
}

aic_status aic_unary(aic_model_t *m, const char *op, const char *name, aic_value x, const float *attrs,
                     aic_value *out) {
    for (int k = AIC_OP_UNARY_FIRST; op && k < AIC_OP_UNARY_FIRST + AIC_UNARY_COUNT; k++)
        if (strcmp(aic_op_name((aic_op_kind)k), op) == 0)
            return unary_kind_build(m, (aic_op_kind)k, name, x, attrs, out);
    return aic_fail(AIC_ERR_INVALID_ARG, "aic_unary: '%s' is not a unary op (layers/unary_ops.def)",
                    op ? op : "(null)");
}

aic_status aic_relu(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    return unary_kind_build(m, AIC_OP_RELU, name, x, NULL, out);
}
aic_status aic_sigmoid(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    return unary_kind_build(m, AIC_OP_SIGMOID, name, x, NULL, out);
}
aic_status aic_tanh(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    return unary_kind_build(m, AIC_OP_TANH, name, x, NULL, out);
}
aic_status aic_leaky_relu(aic_model_t *m, const char *name, aic_value x, float alpha, aic_value *out) {
    return unary_kind_build(m, AIC_OP_LEAKY_RELU, name, x, &alpha, out);
}

static aic_status unary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return AIC_KERNEL(m, unary_forward)(aic_op_unary(op->kind), aic_act(m, op->out), aic_act(m, op->in[0]),
                             aic_rows_numel(m, op->out, b->n), op->attr.unary);
}

static aic_status unary_bwd(aic_model_t *m, aic_op *op, int n) {
    return AIC_KERNEL(m, unary_backward)(aic_op_unary(op->kind), aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out),
                                         aic_act(m, op->in[0]), aic_act(m, op->out), aic_rows_numel(m, op->out, n),
                                         op->attr.unary);
}

/* name=value for each attribute the op has: "alpha=0.01"; nothing when it has none. */
static void unary_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_unary_kind u = aic_op_unary(op->kind);
    int len = 0;
    buf[0] = '\0';
    for (int i = 0; i < AIC_UNARY_MAX_ATTRS && unary_info[u].attr[i] && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, i ? " %s=%.9g" : "%s=%.9g", unary_info[u].attr[i],
                        (double)op->attr.unary[i]);
}

const aic_op_desc aic_op_unary_descs[AIC_UNARY_COUNT] = {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) \
    [AIC_UNARY_##E] = {#name, {unary_fwd, unary_bwd}, AIC_CUDA_KERNELS(unary_fwd, unary_bwd), unary_attrs, NULL, \
                       AIC_BATCH_ROWS},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};
