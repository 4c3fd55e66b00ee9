// SPDX-License-Identifier: Apache-2.0
/* dropout: a mask drawn from the seed, the step and the row, so every rank and every rerun draws the same. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

aic_status aic_dropout(aic_model_t *m, const char *name, aic_value x, float p, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_DROPOUT, name, &x, 1, &op));
    if (!(p >= 0.0f && p < 1.0f))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': drop probability %g must be in [0, 1)", op->name, p);
    if (aic_val(m, x)->outer != 1) /* the mask is drawn per row, and rows must be samples' */
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' has axes merged in front of the batch; dropout needs "
                        "the batch outermost", op->name, aic_val(m, x)->name);
    op->attr.drop_p = p;
    return aic_op_same_shape(m, op, x, out);
}

static aic_status dropout_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t F = (size_t)aic_val(m, op->out)->numel;
    if (b->training)
        return aic_dropout_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, F, op->attr.drop_p,
                                   aic_dropout_key(m, op), b->row_offset);
    memcpy(aic_act(m, op->out), aic_act(m, op->in[0]), sizeof(float) * F * (size_t)b->n);
    return AIC_OK;
}

static aic_status dropout_bwd(aic_model_t *m, aic_op *op, int n) {
    return AIC_KERNEL(m, dropout_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n,
                                (size_t)aic_val(m, op->out)->numel, op->attr.drop_p, aic_dropout_key(m, op),
                                m->last.row_offset * aic_val(m, op->in[0])->fold);
}

static void dropout_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "p=%.9g", (double)op->attr.drop_p);
}

#ifdef AICON_HAVE_CUDA
/* On the GPU: evaluation copies on the device. */
static aic_status dropout_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t F = (size_t)aic_val(m, op->out)->numel;
    if (b->training)
        return aic_cuda_dropout_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, F, op->attr.drop_p,
                                        aic_dropout_key(m, op), b->row_offset);
    return aic_cuda_copy(aic_act(m, op->out), aic_act(m, op->in[0]), F * (size_t)b->n);
}
#endif

const aic_op_desc aic_op_dropout = {"dropout", {dropout_fwd, dropout_bwd},
                                    AIC_CUDA_KERNELS(dropout_fwd_cuda, dropout_bwd), dropout_attrs, NULL, AIC_BATCH_FIRST};
