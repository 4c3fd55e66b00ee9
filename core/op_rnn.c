// SPDX-License-Identifier: Apache-2.0
/* lstm, gru: recurrent layers over N x T x I with ONNX's parameters (aic_rnn_opts), the batch first. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

static aic_status rnn_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const aic_rnn_opts *o,
                            aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, kind, name, &x, 1, &op));
    const bool lstm = kind == AIC_OP_LSTM;
    AIC_TRY(aic_op_need_rank(m, op, x, 2, "a recurrent layer needs N x T x I (batch first)"));
    if (!o)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (%s): options are NULL", op->name, aic_op_name(kind));
    const aic_value_info *v = aic_val(m, x);
    const int64_t T = v->shape[0], I = v->shape[1], H = o->hidden, G = lstm ? 4 : 3, dirs = o->bidirectional ? 2 : 1;
    if (H <= 0 || G * H > INT32_MAX / 2 || T * dirs * H > INT32_MAX || T * I > INT32_MAX || G * H * I > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (%s): hidden size %lld over input '%s' of T %lld x I %lld must "
                        "be positive and small enough for the kernels' int sizes", op->name, aic_op_name(kind),
                        (long long)H, v->name, (long long)T, (long long)I);
    if (lstm && o->linear_before_reset)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (lstm): linear_before_reset is a GRU option", op->name);
    op->attr.rnn.hidden = (int)H;
    op->attr.rnn.dirs = (int)dirs;
    op->attr.rnn.linear_before_reset = o->linear_before_reset;
    const aic_rnn_dims d = {0, (int)T, (int)I, (int)H, (int)dirs, (int)G, o->linear_before_reset};
    op->saved_per_sample = aic_rnn_work_per_sample(&d);
    const int op_index = (int)(op - m->ops);
    const float bound = 1.0f / sqrtf((float)H);
    const int64_t wshape[3] = {dirs, G * H, I}, rshape[3] = {dirs, G * H, H}, bshape[2] = {dirs, 2 * G * H};
    AIC_TRY(aic_graph_add_param(m, op, "W", 3, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    AIC_TRY(aic_graph_add_param(m, &m->ops[op_index], "R", 3, rshape, AIC_INIT_UNIFORM, bound,
                                &m->ops[op_index].param[1]));
    AIC_TRY(aic_graph_add_param(m, &m->ops[op_index], "B", 2, bshape, AIC_INIT_UNIFORM, bound,
                                &m->ops[op_index].param[2]));
    const int64_t oshape[2] = {T, dirs * H};
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 2, oshape, out);
}

aic_status aic_lstm(aic_model_t *m, const char *name, aic_value x, const aic_rnn_opts *o, aic_value *out) {
    return rnn_build(m, AIC_OP_LSTM, name, x, o, out);
}

aic_status aic_gru(aic_model_t *m, const char *name, aic_value x, const aic_rnn_opts *o, aic_value *out) {
    return rnn_build(m, AIC_OP_GRU, name, x, o, out);
}

static aic_rnn_dims rnn_dims(const aic_model_t *m, const aic_op *op, int n) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    return (aic_rnn_dims){n, (int)v->shape[0], (int)v->shape[1], op->attr.rnn.hidden, op->attr.rnn.dirs,
                          op->kind == AIC_OP_LSTM ? 4 : 3, op->attr.rnn.linear_before_reset};
}

static aic_status rnn_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_rnn_dims d = rnn_dims(m, op, b->n);
    return AIC_KERNEL(m, rnn_forward)(&d, aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]),
                                      aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]),
                                      aic_param_data(m, op->param[2]));
}

static aic_status rnn_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_rnn_dims d = rnn_dims(m, op, n);
    return AIC_KERNEL(m, rnn_backward)(&d, aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                       aic_param_grad(m, op->param[1]), aic_param_grad(m, op->param[2]),
                                       aic_act_grad(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->out),
                                       aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]),
                                       m->saved_arena + op->saved);
}

static void rnn_text(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "hidden=%d dirs=%d linear_before_reset=%d", op->attr.rnn.hidden, op->attr.rnn.dirs,
             op->attr.rnn.linear_before_reset ? 1 : 0);
}

/* Per step and direction: the input's and the recurrent GEMMs (a multiply and an add each), and
 * about ten operations per gate value for the cells. */
static double rnn_flops(const aic_model_t *m, const aic_op *op) {
    const aic_value_info *v = aic_val(m, op->in[0]);
    const double GH = (op->kind == AIC_OP_LSTM ? 4.0 : 3.0) * op->attr.rnn.hidden;
    return (double)op->attr.rnn.dirs * (double)v->shape[0] *
           (2.0 * GH * ((double)v->shape[1] + op->attr.rnn.hidden) + 10.0 * GH);
}

const aic_op_desc aic_op_lstm = {"lstm", {rnn_fwd, rnn_bwd}, AIC_CUDA_KERNELS(rnn_fwd, rnn_bwd), rnn_text,
                                 rnn_flops, AIC_BATCH_FIRST};
const aic_op_desc aic_op_gru = {"gru", {rnn_fwd, rnn_bwd}, AIC_CUDA_KERNELS(rnn_fwd, rnn_bwd), rnn_text,
                                rnn_flops, AIC_BATCH_FIRST};
