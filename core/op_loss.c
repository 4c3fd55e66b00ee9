// SPDX-License-Identifier: Apache-2.0
/* The losses: softmax cross-entropy, negative log-likelihood and mean squared error, each a scalar over the batch. */

#include "core/op_build.h"

static aic_status loss_output(aic_model_t *m, aic_op *op, aic_value *out) {
    if (m->loss_value >= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': model '%s' already has a loss ('%s')", op->name, m->name,
                        m->values[m->loss_value].name);
    AIC_TRY(aic_graph_add_value(m, op, AIC_F32, 0, NULL, out));
    m->values[*out].scalar = true;
    m->loss_value = *out;
    return AIC_OK;
}

/* A classification loss over N x K scores and an aic_labels value (softmax_xent, nll). */
static aic_status label_loss_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value scores,
                                   aic_value labels, bool save_probs, const char *what, aic_value *loss) {
    int in[2] = {scores, labels};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, kind, name, in, 2, &op));
    AIC_TRY(aic_op_need_rank(m, op, scores, 1, what));
    if (m->ops[aic_val(m, labels)->producer].kind != AIC_OP_LABELS)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': '%s' is not a labels value (make it with aic_labels)",
                        op->name, aic_val(m, labels)->name);
    if (save_probs)
        op->saved_per_sample = (size_t)aic_val(m, scores)->shape[0]; /* softmax probabilities */
    return loss_output(m, op, loss);
}

/* The batch's labels, each checked to lie in [0, K). */
static aic_status checked_labels(aic_model_t *m, aic_op *op, int n, int K, const int32_t **out) {
    const int32_t *labels = (const int32_t *)aic_act(m, op->in[1]);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= K)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': label %d of batch row %d is outside 0..%d", op->name,
                            labels[i], i, K - 1);
    *out = labels;
    return AIC_OK;
}

aic_status aic_softmax_cross_entropy(aic_model_t *m, const char *name, aic_value logits, aic_value labels,
                                     aic_value *loss) {
    return label_loss_build(m, AIC_OP_SOFTMAX_XENT, name, logits, labels, true,
                            "cross-entropy needs N x classes logits (use aic_flatten)", loss);
}

aic_status aic_nll_loss(aic_model_t *m, const char *name, aic_value logprobs, aic_value labels, aic_value *loss) {
    return label_loss_build(m, AIC_OP_NLL, name, logprobs, labels, false,
                            "NLL loss needs N x classes log-probabilities (use aic_log_softmax on axis 1)", loss);
}

static aic_status nll_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int K = (int)aic_val(m, op->in[0])->shape[0];
    const int32_t *labels = NULL;
    AIC_TRY(checked_labels(m, op, b->n, K, &labels));
    return aic_nll_forward(aic_act(m, op->out), aic_act(m, op->in[0]), labels, b->n, K);
}

static aic_status nll_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_nll_backward(aic_act_grad(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]), n,
                            (int)aic_val(m, op->in[0])->shape[0], aic_act_grad(m, op->out)[0]);
}

static aic_status xent_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int K = (int)aic_val(m, op->in[0])->shape[0];
    const int32_t *labels = NULL;
    AIC_TRY(checked_labels(m, op, b->n, K, &labels));
    return aic_softmax_xent_forward(aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]), labels,
                                    b->n, K);
}

static aic_status xent_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_softmax_xent_backward(aic_act_grad(m, op->in[0]), m->saved_arena + op->saved,
                                     (const int32_t *)aic_act(m, op->in[1]), n, (int)aic_val(m, op->in[0])->shape[0],
                                     aic_act_grad(m, op->out)[0]);
}

aic_status aic_mse(aic_model_t *m, const char *name, aic_value pred, aic_value target, aic_value *loss) {
    int in[2] = {pred, target};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_MSE, name, in, 2, &op));
    const aic_value_info *vp = aic_val(m, pred), *vt = aic_val(m, target);
    if (vp->numel != vt->numel || vp->dtype != AIC_F32 || vt->dtype != AIC_F32 || vp->scalar || vt->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (mse): '%s' has %lld elements per sample, '%s' has %lld", op->name,
                        vp->name, (long long)vp->numel, vt->name, (long long)vt->numel);
    return loss_output(m, op, loss);
}

static aic_status mse_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_mse_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                           aic_rows_numel(m, op->in[0], b->n));
}

static aic_status mse_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_mse_backward(aic_act_grad(m, op->in[0]), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                            aic_rows_numel(m, op->in[0], n), aic_act_grad(m, op->out)[0]);
}

#ifdef AICON_HAVE_CUDA
/* On the GPU: the loss and its gradient stay on the device (labels are checked on the host in aic_model_set_input). */
static aic_status xent_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int K = (int)aic_val(m, op->in[0])->shape[0];
    return aic_cuda_softmax_xent_forward(aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]),
                                         (const int32_t *)aic_act(m, op->in[1]), b->n, K);
}

static aic_status xent_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_softmax_xent_backward(aic_act_grad(m, op->in[0]), m->saved_arena + op->saved,
                                          (const int32_t *)aic_act(m, op->in[1]), n,
                                          (int)aic_val(m, op->in[0])->shape[0], aic_act_grad(m, op->out));
}

static aic_status nll_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_nll_forward(aic_act(m, op->out), aic_act(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]),
                                b->n, (int)aic_val(m, op->in[0])->shape[0]);
}

static aic_status nll_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_nll_backward(aic_act_grad(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]), n,
                                 (int)aic_val(m, op->in[0])->shape[0], aic_act_grad(m, op->out));
}

static aic_status mse_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_mse_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                aic_rows_numel(m, op->in[0], b->n));
}

static aic_status mse_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_mse_backward(aic_act_grad(m, op->in[0]), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                 aic_rows_numel(m, op->in[0], n), aic_act_grad(m, op->out));
}
#endif

const aic_op_desc aic_op_softmax_xent = {"softmax_xent", {xent_fwd, xent_bwd},
                                         AIC_CUDA_KERNELS(xent_fwd_cuda, xent_bwd_cuda), NULL, NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_nll = {"nll", {nll_fwd, nll_bwd}, AIC_CUDA_KERNELS(nll_fwd_cuda, nll_bwd_cuda), NULL, NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_mse = {"mse", {mse_fwd, mse_bwd}, AIC_CUDA_KERNELS(mse_fwd_cuda, mse_bwd_cuda), NULL, NULL, AIC_BATCH_FIRST};
