// SPDX-License-Identifier: Apache-2.0
/* The CUDA op class table: the forward/backward glue of core/ops.c with the kernels of
 * layers/ *_cuda.cu. Values, parameters and saved memory sit in device arenas at the offsets
 * aic_model_compile laid out, so the glue reads the graph exactly as the CPU glue does. Every glue
 * function returns its kernel's status; a kernel that fails while running is reported by the next
 * wait on the stream. Label ranges are checked on the host in aic_model_set_input, before the labels
 * are copied over. */
#include <string.h>

#include "core/cuda.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/op_layout.h"
#include "core/rng.h"
#include "layers/cuda_layers.h"

static const aic_value_info *val(const aic_model_t *m, int v) { return &m->values[v]; }
static size_t rows_numel(aic_model_t *m, int v, int n) { return (size_t)n * (size_t)val(m, v)->numel; }

/* ---- dense, conv, pooling ---------------------------------------------------------------------- */

static aic_status dense_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C = (int)val(m, op->in[0])->shape[0], OC = (int)val(m, op->out)->shape[0];
    return aic_cuda_dense_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                  aic_param_data(m, op->param[1]), b->n, C, OC);
}

static aic_status dense_bwd(aic_model_t *m, aic_op *op, int n) {
    int C = (int)val(m, op->in[0])->shape[0], OC = (int)val(m, op->out)->shape[0];
    return aic_cuda_dense_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                   aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                   aic_param_data(m, op->param[0]), n, C, OC);
}

static aic_status conv_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = b->n;
    return aic_cuda_conv2d_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                   aic_param_data(m, op->param[1]), &d);
}

static aic_status conv_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = n;
    return aic_cuda_conv2d_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                    aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                    aic_param_data(m, op->param[0]), &d);
}

static int32_t *argmax_of(aic_model_t *m, aic_op *op) { return (int32_t *)(m->saved_arena + op->saved); }

static aic_status maxpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return aic_cuda_maxpool2d_forward(aic_act(m, op->out), argmax_of(m, op), aic_act(m, op->in[0]), &d);
}

static aic_status maxpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return aic_cuda_maxpool2d_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), argmax_of(m, op), &d);
}

static aic_status avgpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return aic_cuda_avgpool2d_forward(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status avgpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return aic_cuda_avgpool2d_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

static aic_status gap_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return aic_cuda_global_avgpool_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, C, S);
}

static aic_status gap_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return aic_cuda_global_avgpool_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n, C, S);
}

/* ---- elementwise ------------------------------------------------------------------------------- */

static aic_status unary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_unary_forward(aic_op_unary(op->kind), aic_act(m, op->out), aic_act(m, op->in[0]),
                                  rows_numel(m, op->out, b->n), op->attr.unary);
}

static aic_status unary_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_unary_backward(aic_op_unary(op->kind), aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out),
                                   aic_act(m, op->in[0]), aic_act(m, op->out), rows_numel(m, op->out, n),
                                   op->attr.unary);
}

static aic_status clip_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_clip_forward(aic_act(m, op->out), aic_act(m, op->in[0]), rows_numel(m, op->out, b->n),
                                 op->attr.clip.lo, op->attr.clip.hi);
}

static aic_status clip_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_clip_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                  rows_numel(m, op->out, n), op->attr.clip.lo, op->attr.clip.hi);
}

static aic_status add_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_add_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                rows_numel(m, op->out, b->n));
}

static aic_status add_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_add_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->in[1]), aic_act_grad(m, op->out),
                                 rows_numel(m, op->out, n));
}

/* ---- softmax over an axis ---------------------------------------------------------------------- */

#define SOFTMAX_GLUE(fn)                                                                                     \
    static aic_status fn##_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {                       \
        int K;                                                                                               \
        size_t inner, outer = aic_softmax_layout(m, op, b->n, &K, &inner);                                       \
        return aic_cuda_##fn##_forward(aic_act(m, op->out), aic_act(m, op->in[0]), outer, K, inner);         \
    }                                                                                                        \
    static aic_status fn##_bwd(aic_model_t *m, aic_op *op, int n) {                                          \
        int K;                                                                                               \
        size_t inner, outer = aic_softmax_layout(m, op, n, &K, &inner);                                      \
        return aic_cuda_##fn##_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out),                \
                                        aic_act(m, op->out), outer, K, inner);                               \
    }
SOFTMAX_GLUE(softmax)
SOFTMAX_GLUE(log_softmax)

/* ---- batchnorm, dropout ------------------------------------------------------------------------ */

static aic_status bn_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    float *saved = m->saved_arena + op->saved; /* batch mean, 1/std: C each, as on the CPU */
    if (b->training)
        return aic_cuda_batchnorm_forward_train(aic_act(m, op->out), saved, saved + C, aic_buffer_data(m, op->buffer[0]),
                                                aic_buffer_data(m, op->buffer[1]), aic_act(m, op->in[0]),
                                                aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]), b->n,
                                                C, S, op->attr.bn.momentum, op->attr.bn.eps);
    return aic_cuda_batchnorm_forward_eval(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                           aic_param_data(m, op->param[1]), aic_buffer_data(m, op->buffer[0]),
                                           aic_buffer_data(m, op->buffer[1]), b->n, C, S, op->attr.bn.eps);
}

static aic_status bn_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    float *saved = m->saved_arena + op->saved;
    return aic_cuda_batchnorm_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                       aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                       aic_param_data(m, op->param[0]), saved, saved + C, n, C, S, op->attr.bn.eps);
}

static aic_status dropout_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t F = (size_t)val(m, op->out)->numel;
    if (b->training)
        return aic_cuda_dropout_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, F, op->attr.drop_p,
                                        aic_dropout_key(m, op), b->row_offset);
    return aic_cuda_copy(aic_act(m, op->out), aic_act(m, op->in[0]), F * (size_t)b->n);
}

static aic_status dropout_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_dropout_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n,
                                     (size_t)val(m, op->out)->numel, op->attr.drop_p, aic_dropout_key(m, op),
                                     m->last.row_offset);
}

/* ---- binary with broadcasting, concat, transpose ----------------------------------------------- */

static aic_status binary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, b->n, &d, &av, &bv, &ca, &cb);
    return aic_cuda_binary_forward(aic_act(m, op->out), av >= 0 ? aic_act(m, av) : ca, bv >= 0 ? aic_act(m, bv) : cb,
                                   (aic_binary_kind)op->attr.binary.kind, &d);
}

static aic_status binary_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, n, &d, &av, &bv, &ca, &cb);
    return aic_cuda_binary_backward(av >= 0 ? aic_act_grad(m, av) : NULL, bv >= 0 ? aic_act_grad(m, bv) : NULL,
                                    aic_act_grad(m, op->out), av >= 0 ? aic_act(m, av) : ca,
                                    bv >= 0 ? aic_act(m, bv) : cb, (aic_binary_kind)op->attr.binary.kind, &d);
}

static aic_status concat_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, b->n, false, inner, parts);
    return aic_cuda_concat_forward(aic_act(m, op->out), (const float *const *)parts, inner, op->n_in, outer);
}

static aic_status concat_bwd(aic_model_t *m, aic_op *op, int n) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, n, true, inner, parts);
    return aic_cuda_concat_backward(parts, aic_act_grad(m, op->out), inner, op->n_in, outer);
}

static aic_status transpose_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_value_info *v = val(m, op->in[0]);
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return aic_cuda_transpose_forward(aic_act(m, op->out), aic_act(m, op->in[0]), v->shape, p, v->ndim, b->n);
}

static aic_status transpose_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_value_info *v = val(m, op->in[0]);
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return aic_cuda_transpose_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), v->shape, p, v->ndim, n);
}

/* ---- losses: the value and its gradient stay on the device ------------------------------------- */

static aic_status xent_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int K = (int)val(m, op->in[0])->shape[0];
    return aic_cuda_softmax_xent_forward(aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]),
                                         (const int32_t *)aic_act(m, op->in[1]), b->n, K);
}

static aic_status xent_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_softmax_xent_backward(aic_act_grad(m, op->in[0]), m->saved_arena + op->saved,
                                          (const int32_t *)aic_act(m, op->in[1]), n, (int)val(m, op->in[0])->shape[0],
                                          aic_act_grad(m, op->out));
}

static aic_status nll_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_nll_forward(aic_act(m, op->out), aic_act(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]),
                                b->n, (int)val(m, op->in[0])->shape[0]);
}

static aic_status nll_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_nll_backward(aic_act_grad(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]), n,
                                 (int)val(m, op->in[0])->shape[0], aic_act_grad(m, op->out));
}

static aic_status mse_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_cuda_mse_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                rows_numel(m, op->in[0], b->n));
}

static aic_status mse_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_cuda_mse_backward(aic_act_grad(m, op->in[0]), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                                 rows_numel(m, op->in[0], n), aic_act_grad(m, op->out));
}

/* Every kind the CPU table runs has an entry here; tests/test_ops.c checks the two tables row by
 * row, and aic_model_compile refuses a CUDA model with an op this table lacks. */
const aic_op_kernels aic_op_kernels_cuda[AIC_OP_KIND_COUNT] = {
    [AIC_OP_INPUT] = {NULL, NULL},
    [AIC_OP_LABELS] = {NULL, NULL},
    [AIC_OP_DENSE] = {dense_fwd, dense_bwd},
    [AIC_OP_CONV2D] = {conv_fwd, conv_bwd},
    [AIC_OP_MAXPOOL2D] = {maxpool_fwd, maxpool_bwd},
    [AIC_OP_AVGPOOL2D] = {avgpool_fwd, avgpool_bwd},
    [AIC_OP_GLOBAL_AVGPOOL] = {gap_fwd, gap_bwd},
    [AIC_OP_BATCHNORM] = {bn_fwd, bn_bwd},
    [AIC_OP_DROPOUT] = {dropout_fwd, dropout_bwd},
    [AIC_OP_RESHAPE] = {NULL, NULL},
    [AIC_OP_ADD] = {add_fwd, add_bwd},
    [AIC_OP_CONCAT] = {concat_fwd, concat_bwd},
    [AIC_OP_SOFTMAX_XENT] = {xent_fwd, xent_bwd},
    [AIC_OP_MSE] = {mse_fwd, mse_bwd},
    [AIC_OP_SOFTMAX] = {softmax_fwd, softmax_bwd},
    [AIC_OP_LOG_SOFTMAX] = {log_softmax_fwd, log_softmax_bwd},
    [AIC_OP_CLIP] = {clip_fwd, clip_bwd},
    [AIC_OP_NLL] = {nll_fwd, nll_bwd},
    [AIC_OP_BINARY] = {binary_fwd, binary_bwd},
    [AIC_OP_TRANSPOSE] = {transpose_fwd, transpose_bwd},
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_OP_##E] = {unary_fwd, unary_bwd},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};
