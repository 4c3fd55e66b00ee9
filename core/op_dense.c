// SPDX-License-Identifier: Apache-2.0
/* dense: y = x W^T + b, over features. */
#include <math.h>

#include "core/op_build.h"

aic_status aic_dense(aic_model_t *m, const char *name, aic_value x, int64_t out_features, bool bias, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_DENSE, name, &x, 1, &op));
    AIC_TRY(aic_op_need_rank(m, op, x, 1, "dense needs N x features (use aic_flatten first)"));
    if (out_features <= 0 || out_features > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': out_features %lld must be in 1..2^31-1", op->name,
                        (long long)out_features);
    int64_t in = aic_val(m, x)->shape[0];
    float bound = 1.0f / sqrtf((float)in);
    int64_t wshape[2] = {out_features, in};
    int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 2, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    if (bias)
        AIC_TRY(aic_graph_add_param(m, op, "bias", 1, &out_features, AIC_INIT_UNIFORM, bound, &op->param[1]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 1, &out_features, out);
}

static aic_status dense_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C = (int)aic_val(m, op->in[0])->shape[0], OC = (int)aic_val(m, op->out)->shape[0];
    return AIC_KERNEL(m, dense_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                             aic_param_data(m, op->param[1]), b->n, C, OC);
}

static aic_status dense_bwd(aic_model_t *m, aic_op *op, int n) {
    int C = (int)aic_val(m, op->in[0])->shape[0], OC = (int)aic_val(m, op->out)->shape[0];
    return AIC_KERNEL(m, dense_backward)(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                              aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                              aic_param_data(m, op->param[0]), n, C, OC);
}

/* A multiply and an add per weight. */
static double dense_flops(const aic_model_t *m, const aic_op *op) {
    return 2.0 * (double)m->values[op->in[0]].numel * (double)m->values[op->out].numel;
}

const aic_op_desc aic_op_dense = {"dense", {dense_fwd, dense_bwd},
                                  AIC_CUDA_KERNELS(dense_fwd, dense_bwd), NULL, dense_flops, AIC_BATCH_FIRST};
