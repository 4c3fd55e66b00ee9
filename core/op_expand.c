// SPDX-License-Identifier: Apache-2.0
/* expand: a trained parameter repeated for every sample (a ViT's class token), the gradient the sum
 * over the batch. */
#include "core/op_build.h"

aic_status aic_expand_param(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_EXPAND, name, NULL, 0, &op));
    if (ndim < 1 || ndim > 4 || !shape)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (expand): a parameter of rank %d; 1..4 per sample", op->name, ndim);
    const int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", ndim, shape, AIC_INIT_ZEROS, 0.0f, &op->param[0]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, ndim, shape, out);
}

static aic_status expand_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return AIC_KERNEL(m, expand_forward)(aic_act(m, op->out), aic_param_data(m, op->param[0]), b->n,
                                         (size_t)aic_val(m, op->out)->numel);
}

static aic_status expand_bwd(aic_model_t *m, aic_op *op, int n) {
    return AIC_KERNEL(m, expand_backward)(aic_param_grad(m, op->param[0]), aic_act_grad(m, op->out), n,
                                          (size_t)aic_val(m, op->out)->numel);
}

/* A copy: no arithmetic. */
static double expand_flops(const aic_model_t *m, const aic_op *op) { return 0.0; }

const aic_op_desc aic_op_expand = {"expand", {expand_fwd, expand_bwd}, AIC_CUDA_KERNELS(expand_fwd, expand_bwd), NULL,
                                   expand_flops, AIC_BATCH_FIRST};
