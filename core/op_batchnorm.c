// SPDX-License-Identifier: Apache-2.0
/* batchnorm: batch statistics while training, running ones in evaluation. */
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_batchnorm(aic_model_t *m, const char *name, aic_value x, float momentum, float eps, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_BATCHNORM, name, &x, 1, &op));
    const aic_value_info *v = aic_val(m, x);
    if (v->ndim < 1 || v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': batch normalization needs N x C x ..., input '%s' has rank %d",
                        op->name, v->name, v->ndim + 1);
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': momentum %g must be in [0, 1] and eps %g positive", op->name,
                        momentum, eps);
    int64_t C = v->shape[0];
    op->attr.bn.momentum = momentum;
    op->attr.bn.eps = eps;
    op->saved_fixed = 2 * (size_t)C; /* batch mean and 1/std */
    int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 1, &C, AIC_INIT_ONES, 0, &op->param[0]));
    AIC_TRY(aic_graph_add_param(m, &m->ops[op_index], "bias", 1, &C, AIC_INIT_ZEROS, 0, &op->param[1]));
    AIC_TRY(aic_graph_add_buffer(m, &m->ops[op_index], "running_mean", C, AIC_INIT_ZEROS, &op->buffer[0]));
    AIC_TRY(aic_graph_add_buffer(m, &m->ops[op_index], "running_var", C, AIC_INIT_ONES, &op->buffer[1]));
    return aic_op_same_shape(m, &m->ops[op_index], x, out);
}

static aic_status bn_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    float *saved = m->saved_arena + op->saved;
    if (b->training)
        return AIC_KERNEL(m, batchnorm_forward_train)(
            aic_act(m, op->out), saved, saved + C, aic_buffer_data(m, op->buffer[0]), aic_buffer_data(m, op->buffer[1]),
            aic_act(m, op->in[0]), aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]), b->n, C, S,
            op->attr.bn.momentum, op->attr.bn.eps);
    return AIC_KERNEL(m, batchnorm_forward_eval)(
        aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]),
        aic_buffer_data(m, op->buffer[0]), aic_buffer_data(m, op->buffer[1]), b->n, C, S, op->attr.bn.eps);
}

static aic_status bn_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    const float *saved = m->saved_arena + op->saved, *inp = aic_act(m, op->in[0]), *dout = aic_act_grad(m, op->out);
    const float *gamma = aic_param_data(m, op->param[0]);
    float *dinp = aic_act_grad(m, op->in[0]), *dgamma = aic_param_grad(m, op->param[0]);
    float *dbeta = aic_param_grad(m, op->param[1]);
#ifdef AICON_HAVE_CUDA
    if (m->backend->kind == AIC_BACKEND_CUDA) /* cuDNN's backward takes eps */
        return aic_cuda_batchnorm_backward(dinp, dgamma, dbeta, dout, inp, gamma, saved, saved + C, n, C, S,
                                           op->attr.bn.eps);
#endif
    return aic_batchnorm_backward(dinp, dgamma, dbeta, dout, inp, gamma, saved, saved + C, n, C, S);
}

static void bn_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "momentum=%.9g eps=%.9g", (double)op->attr.bn.momentum, (double)op->attr.bn.eps);
}

const aic_op_desc aic_op_batchnorm = {"batchnorm", {bn_fwd, bn_bwd},
                                      AIC_CUDA_KERNELS(bn_fwd, bn_bwd), bn_attrs, NULL, AIC_BATCH_FIRST};
