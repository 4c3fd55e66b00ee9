// SPDX-License-Identifier: Apache-2.0
/* The losses: softmax cross-entropy and negative log-likelihood over scores of any shape with int32
 * labels (an ignored label counts for nothing, class weights optional), their mean or sum a scalar over
 * the batch or, reduction 'none', each position's loss as an activation; and mean squared error. */
#include <stdio.h>
#include <string.h>

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

_Static_assert((int)AIC_LOSS_MEAN == (int)AIC_XENT_MEAN && (int)AIC_LOSS_SUM == (int)AIC_XENT_SUM &&
                   (int)AIC_LOSS_NONE == (int)AIC_XENT_NONE,
               "aic_loss_reduction and aic_xent_reduction differ");

/* The op's scores over n samples as the kernels see them: outer x C x inner around the class axis. */
static aic_xent_dims loss_dims(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *s = aic_val(m, op->in[0]);
    aic_xent_dims d = {.outer = (size_t)n, .inner = 1, .C = (int)s->shape[op->attr.loss.axis - 1],
                       .has_ignore = op->attr.loss.has_ignore, .ignore_index = op->attr.loss.ignore_index,
                       .reduction = (aic_xent_reduction)op->attr.loss.reduction,
                       .weight = op->buffer[0] >= 0 ? m->buffer_arena + m->buffers[op->buffer[0]].offset : NULL};
    for (int i = 0; i < s->ndim; i++) {
        if (i < op->attr.loss.axis - 1)
            d.outer *= (size_t)s->shape[i];
        else if (i > op->attr.loss.axis - 1)
            d.inner *= (size_t)s->shape[i];
    }
    return d;
}

/* Saved from forward to backward: on CUDA each position's loss and the sum of the counted weights the
 * mean is over (doubles, first: the arena's alignment is theirs), and the softmax probabilities
 * (softmax_xent, both backends). */
typedef struct {
    double *part, *weights;
    float *probs;
} loss_saved;

static loss_saved saved_of(aic_model_t *m, const aic_op *op) {
    const size_t rows = (size_t)m->max_batch * (size_t)aic_value_lead(aic_val(m, op->in[0]));
    double *part = (double *)(m->saved_arena + op->saved);
    double *weights = part + (size_t)aic_val(m, op->in[1])->numel * rows;
    return (loss_saved){part, weights, (float *)(weights + 1)};
}

aic_status aic_loss_check_labels(const aic_model_t *m, const aic_op *op, const int32_t *labels, int n) {
    const aic_xent_dims d = loss_dims(m, op, n);
    const int64_t per = aic_val(m, op->in[1])->numel;
    for (int64_t p = 0; p < (int64_t)n * per; p++) {
        if ((labels[p] >= 0 && labels[p] < d.C) || (d.has_ignore && labels[p] == d.ignore_index))
            continue;
        char ignored[48] = "";
        if (d.has_ignore)
            snprintf(ignored, sizeof ignored, " and is not ignore_index %d", d.ignore_index);
        if (per == 1)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': label %d of batch row %lld is outside 0..%d%s", op->name,
                            labels[p], (long long)p, d.C - 1, ignored);
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': label %d of batch row %lld at position %lld is outside 0..%d%s",
                        op->name, labels[p], (long long)(p / per), (long long)(p % per), d.C - 1, ignored);
    }
    return AIC_OK;
}

/* A classification loss (softmax_xent, nll): scores with the classes on the class axis, labels of the
 * scores' shape without it. */
static aic_status label_loss_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value scores,
                                   aic_value labels, const aic_xent_opts *o, aic_value *loss) {
    int in[2] = {scores, labels};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, kind, name, in, 2, &op));
    const aic_value_info *s = aic_val(m, scores), *l = aic_val(m, labels);
    char ss[128], ls[128];
    aic_value_shape_text(ss, sizeof ss, s);
    aic_value_shape_text(ls, sizeof ls, l);
    if (s->dtype != AIC_F32 || s->scalar || s->ndim < 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): scores '%s' have shape %s; the loss needs float scores N x "
                        "classes (x ...)", op->name, aic_op_name(kind), s->name, ss);
    const int given = o ? o->class_axis : 0;
    const int axis = given == 0 ? 1 : given < 0 ? given + s->ndim + 1 : given;
    if (axis < 1 || axis > s->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): class axis %d is outside 1..%d for scores '%s' of shape %s "
                        "(axis 0 is the batch; -1 the last)", op->name, aic_op_name(kind), given, s->ndim, s->name,
                        ss);
    if (l->dtype != AIC_I32)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': '%s' is not a labels value (make it with aic_labels or "
                        "aic_int_input)", op->name, l->name);
    bool same = l->ndim == s->ndim - 1;
    for (int i = 0; same && i < l->ndim; i++)
        same = l->shape[i] == s->shape[i < axis - 1 ? i : i + 1];
    if (!same)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): labels '%s' have shape %s; scores '%s' of shape %s with the "
                        "classes on axis %d need labels of their shape without that axis", op->name,
                        aic_op_name(kind), l->name, ls, s->name, ss, axis);
    if (s->shape[axis - 1] > INT32_MAX)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': %lld classes, more than the kernels take", op->name,
                        (long long)s->shape[axis - 1]);
    const aic_loss_reduction reduction = o ? o->reduction : AIC_LOSS_MEAN;
    if (!aic_xent_reduction_name((int)reduction))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (%s): reduction %d is not AIC_LOSS_MEAN, AIC_LOSS_SUM or "
                        "AIC_LOSS_NONE", op->name, aic_op_name(kind), (int)reduction);
    op->attr.loss.axis = axis;
    op->attr.loss.has_ignore = o && o->has_ignore;
    op->attr.loss.ignore_index = o && o->has_ignore ? o->ignore_index : 0;
    op->attr.loss.reduction = reduction;
    op->saved_per_sample = 2 * (size_t)l->numel + (kind == AIC_OP_SOFTMAX_XENT ? (size_t)s->numel : 0); /* loss_saved */
    op->saved_fixed = 2;
    if (o && o->class_weights)
        AIC_TRY(aic_graph_add_buffer(m, op, "weight", s->shape[axis - 1], AIC_INIT_ONES, &op->buffer[0]));
    if (reduction != AIC_LOSS_NONE)
        return loss_output(m, op, loss);
    int64_t shape[AIC_MAX_DIMS]; /* copied: adding the value may move l */
    memcpy(shape, l->shape, sizeof shape);
    return aic_graph_add_value(m, op, AIC_F32, l->ndim, shape, loss);
}

aic_status aic_cross_entropy(aic_model_t *m, const char *name, aic_value logits, aic_value labels,
                             const aic_xent_opts *o, aic_value *loss) {
    return label_loss_build(m, AIC_OP_SOFTMAX_XENT, name, logits, labels, o, loss);
}

aic_status aic_nll(aic_model_t *m, const char *name, aic_value logprobs, aic_value labels, const aic_xent_opts *o,
                   aic_value *loss) {
    return label_loss_build(m, AIC_OP_NLL, name, logprobs, labels, o, loss);
}

aic_status aic_softmax_cross_entropy(aic_model_t *m, const char *name, aic_value logits, aic_value labels,
                                     aic_value *loss) {
    return aic_cross_entropy(m, name, logits, labels, NULL, loss);
}

aic_status aic_nll_loss(aic_model_t *m, const char *name, aic_value logprobs, aic_value labels, aic_value *loss) {
    return aic_nll(m, name, logprobs, labels, NULL, loss);
}

/* Empty for the defaults (the classes on axis 1, nothing ignored, the mean, no weights): what every
 * model had before the attributes existed, so their architecture hashes stay. */
static void loss_attrs(const aic_op *op, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    if (op->attr.loss.axis != 1)
        len += (size_t)snprintf(buf, size, "class_axis=%d", op->attr.loss.axis);
    if (op->attr.loss.has_ignore && len < size)
        len += (size_t)snprintf(buf + len, size - len, "%signore_index=%d", len ? " " : "",
                                op->attr.loss.ignore_index);
    if (op->attr.loss.reduction != AIC_LOSS_MEAN && len < size)
        len += (size_t)snprintf(buf + len, size - len, "%sreduction=%s", len ? " " : "",
                                aic_xent_reduction_name((int)op->attr.loss.reduction));
    if (op->buffer[0] >= 0 && len < size)
        snprintf(buf + len, size - len, "%sclass_weights", len ? " " : "");
}

static const int32_t *labels_of(aic_model_t *m, const aic_op *op) { return (const int32_t *)aic_act(m, op->in[1]); }

static aic_status nll_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    AIC_TRY(aic_loss_check_labels(m, op, labels_of(m, op), b->n));
    const aic_xent_dims d = loss_dims(m, op, b->n);
    return aic_nll_forward(aic_act(m, op->out), aic_act(m, op->in[0]), labels_of(m, op), &d);
}

static aic_status nll_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_xent_dims d = loss_dims(m, op, n);
    return aic_nll_backward(aic_act_grad(m, op->in[0]), labels_of(m, op), &d, aic_act_grad(m, op->out));
}

static aic_status xent_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    AIC_TRY(aic_loss_check_labels(m, op, labels_of(m, op), b->n));
    const aic_xent_dims d = loss_dims(m, op, b->n);
    return aic_softmax_xent_forward(aic_act(m, op->out), saved_of(m, op).probs, aic_act(m, op->in[0]),
                                    labels_of(m, op), &d);
}

static aic_status xent_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_xent_dims d = loss_dims(m, op, n);
    return aic_softmax_xent_backward(aic_act_grad(m, op->in[0]), saved_of(m, op).probs, labels_of(m, op), &d,
                                     aic_act_grad(m, op->out));
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
/* On the GPU: the loss and its gradient stay on the device (labels are checked on the host in
 * aic_model_set_input). */
static aic_status xent_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_xent_dims d = loss_dims(m, op, b->n);
    const loss_saved s = saved_of(m, op);
    return aic_cuda_softmax_xent_forward(aic_act(m, op->out), s.weights, s.part, s.probs, aic_act(m, op->in[0]),
                                         labels_of(m, op), &d);
}

static aic_status xent_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    const aic_xent_dims d = loss_dims(m, op, n);
    const loss_saved s = saved_of(m, op);
    return aic_cuda_softmax_xent_backward(aic_act_grad(m, op->in[0]), s.probs, labels_of(m, op), s.weights, &d,
                                          aic_act_grad(m, op->out));
}

static aic_status nll_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_xent_dims d = loss_dims(m, op, b->n);
    const loss_saved s = saved_of(m, op);
    return aic_cuda_nll_forward(aic_act(m, op->out), s.weights, s.part, aic_act(m, op->in[0]), labels_of(m, op), &d);
}

static aic_status nll_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    const aic_xent_dims d = loss_dims(m, op, n);
    return aic_cuda_nll_backward(aic_act_grad(m, op->in[0]), labels_of(m, op), saved_of(m, op).weights, &d,
                                 aic_act_grad(m, op->out));
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
                                         AIC_CUDA_KERNELS(xent_fwd_cuda, xent_bwd_cuda), loss_attrs, NULL,
                                         AIC_BATCH_FIRST};
const aic_op_desc aic_op_nll = {"nll", {nll_fwd, nll_bwd}, AIC_CUDA_KERNELS(nll_fwd_cuda, nll_bwd_cuda), loss_attrs,
                                NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_mse = {"mse", {mse_fwd, mse_bwd}, AIC_CUDA_KERNELS(mse_fwd_cuda, mse_bwd_cuda), NULL, NULL, AIC_BATCH_FIRST};
