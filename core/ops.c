// SPDX-License-Identifier: Apache-2.0
/* The ops a model is built from: one builder each (shape checks, parameters, memory needs) and the
 * forward/backward glue from graph values to the kernels in layers/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/graph.h"
#include "core/op_layout.h"
#include "core/rng.h"

/* Begin a builder: check the model, the inputs, and append the op. */
static aic_status begin(aic_model_t *m, aic_op_kind kind, const char *name, const int *in, int n_in, aic_op **op) {
    AIC_TRY(aic_graph_check_building(m, aic_op_classes[kind].name));
    return aic_graph_add_op(m, kind, name, in, n_in, op);
}

static const aic_value_info *val(const aic_model_t *m, int v) { return &m->values[v]; }

static void shape_text(char *buf, size_t size, const aic_value_info *v) {
    int len = snprintf(buf, size, "N");
    for (int i = 0; i < v->ndim && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, "x%lld", (long long)v->shape[i]);
}

static aic_status need_rank(const aic_model_t *m, const aic_op *op, int v, int ndim, const char *what) {
    if (val(m, v)->ndim == ndim && val(m, v)->dtype == AIC_F32 && !val(m, v)->scalar)
        return AIC_OK;
    char s[128];
    shape_text(s, sizeof s, val(m, v));
    return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' has shape %s; %s", op->name,
                    aic_op_classes[op->kind].name, val(m, v)->name, s, what);
}

static aic_status same_shape_output(aic_model_t *m, aic_op *op, int x, aic_value *out) {
    const aic_value_info *v = val(m, x);
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, v->shape, sizeof shape);
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, shape, out);
}

/* ---- inputs ----------------------------------------------------------------------------------- */

aic_status aic_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_INPUT, name, NULL, 0, &op));
    return aic_graph_add_value(m, op, AIC_F32, ndim, shape, out);
}

aic_status aic_labels(aic_model_t *m, const char *name, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_LABELS, name, NULL, 0, &op));
    return aic_graph_add_value(m, op, AIC_I32, 0, NULL, out);
}

/* ---- dense ------------------------------------------------------------------------------------ */

aic_status aic_dense(aic_model_t *m, const char *name, aic_value x, int64_t out_features, bool bias, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_DENSE, name, &x, 1, &op));
    AIC_TRY(need_rank(m, op, x, 1, "dense needs N x features (use aic_flatten first)"));
    if (out_features <= 0 || out_features > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': out_features %lld must be in 1..2^31-1", op->name,
                        (long long)out_features);
    int64_t in = val(m, x)->shape[0];
    float bound = 1.0f / sqrtf((float)in);
    int64_t wshape[2] = {out_features, in};
    int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 2, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    if (bias)
        AIC_TRY(aic_graph_add_param(m, op, "bias", 1, &out_features, AIC_INIT_UNIFORM, bound, &op->param[1]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 1, &out_features, out);
}

static aic_status dense_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C = (int)val(m, op->in[0])->shape[0], OC = (int)val(m, op->out)->shape[0];
    return aic_dense_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                             aic_param_data(m, op->param[1]), b->n, C, OC);
}

static aic_status dense_bwd(aic_model_t *m, aic_op *op, int n) {
    int C = (int)val(m, op->in[0])->shape[0], OC = (int)val(m, op->out)->shape[0];
    return aic_dense_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                              aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                              aic_param_data(m, op->param[0]), n, C, OC);
}

/* ---- conv2d ----------------------------------------------------------------------------------- */

static int or_one(int v) { return v ? v : 1; }

aic_status aic_conv2d(aic_model_t *m, const char *name, aic_value x, const aic_conv2d_opts *o, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_CONV2D, name, &x, 1, &op));
    if (!o)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': options are NULL", op->name);
    AIC_TRY(need_rank(m, op, x, 3, "conv2d needs N x C x H x W"));
    const aic_value_info *v = val(m, x);
    aic_conv2d_dims d = {0};
    d.C = (int)v->shape[0];
    d.H = (int)v->shape[1];
    d.W = (int)v->shape[2];
    d.OC = (int)o->out_channels;
    d.KH = o->kernel[0];
    d.KW = o->kernel[1];
    d.SH = or_one(o->stride[0]);
    d.SW = or_one(o->stride[1]);
    d.PH = o->pad[0];
    d.PW = o->pad[1];
    d.DH = or_one(o->dilation[0]);
    d.DW = or_one(o->dilation[1]);
    d.G = or_one(o->groups);
    if (o->out_channels <= 0 || d.KH <= 0 || d.KW <= 0 || d.SH < 0 || d.SW < 0 || d.PH < 0 || d.PW < 0 || d.DH < 0 ||
        d.DW < 0 || d.G < 0)
        return aic_fail(AIC_ERR_INVALID_ARG,
                        "op '%s': out_channels and kernel must be positive, stride/pad/dilation/groups not negative",
                        op->name);
    if (d.C % d.G || d.OC % d.G)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': groups %d must divide input channels %d and output channels %d",
                        op->name, d.G, d.C, d.OC);
    d.OH = (d.H + 2 * d.PH - d.DH * (d.KH - 1) - 1) / d.SH + 1;
    d.OW = (d.W + 2 * d.PW - d.DW * (d.KW - 1) - 1) / d.SW + 1;
    if (d.H + 2 * d.PH < d.DH * (d.KH - 1) + 1 || d.W + 2 * d.PW < d.DW * (d.KW - 1) + 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': kernel %dx%d (dilation %d,%d) is larger than the padded input %dx%d",
                        op->name, d.KH, d.KW, d.DH, d.DW, d.H + 2 * d.PH, d.W + 2 * d.PW);
    op->attr.conv = d;
    op->scratch = aic_conv2d_scratch(&d);
    int64_t wshape[4] = {d.OC, d.C / d.G, d.KH, d.KW};
    float bound = 1.0f / sqrtf((float)(d.C / d.G * d.KH * d.KW));
    int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 4, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    if (!o->no_bias)
        AIC_TRY(aic_graph_add_param(m, op, "bias", 1, wshape, AIC_INIT_UNIFORM, bound, &op->param[1]));
    int64_t oshape[3] = {d.OC, d.OH, d.OW};
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 3, oshape, out);
}

/* oneDNN's primitives unless AICON_CPU_CONV=reference asks for the im2col reference (to compare the
 * two); a shape oneDNN cannot do also runs the reference. */
static bool conv_use_dnnl(void) {
    static int use = -1;
    if (use < 0) {
        const char *e = getenv("AICON_CPU_CONV");
        use = !(e && strcmp(e, "reference") == 0);
    }
    return use;
}

static aic_status conv_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = b->n;
    float *out = aic_act(m, op->out), *weight = aic_param_data(m, op->param[0]), *bias = aic_param_data(m, op->param[1]);
    const float *inp = aic_act(m, op->in[0]);
    if (conv_use_dnnl()) {
        aic_status st = aic_conv2d_dnnl_forward(out, inp, weight, bias, &d);
        if (st != AIC_ERR_UNSUPPORTED)
            return st;
    }
    return aic_conv2d_forward(out, inp, weight, bias, m->scratch_arena, &d);
}

/* A half oneDNN has no primitive for runs on the reference; any other oneDNN failure is returned. */
static aic_status conv_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = n;
    float *dinp = aic_act_grad(m, op->in[0]), *dweight = aic_param_grad(m, op->param[0]);
    float *dbias = aic_param_grad(m, op->param[1]);
    const float *dout = aic_act_grad(m, op->out), *inp = aic_act(m, op->in[0]);
    const float *weight = aic_param_data(m, op->param[0]);
    if (conv_use_dnnl()) {
        const bool has_bias = op->param[1] >= 0;
        aic_status st;
        if (dinp && (st = aic_conv2d_dnnl_backward_data(dinp, dout, weight, &d, has_bias)) != AIC_ERR_UNSUPPORTED) {
            AIC_TRY(st);
            dinp = NULL;
        }
        if (dweight && (st = aic_conv2d_dnnl_backward_weights(dweight, dbias, dout, inp, &d)) != AIC_ERR_UNSUPPORTED) {
            AIC_TRY(st);
            dweight = dbias = NULL;
        }
    }
    if (dinp || dweight || dbias)
        return aic_conv2d_backward(dinp, dweight, dbias, dout, inp, weight, m->scratch_arena, &d);
    return AIC_OK;
}

/* ---- pooling ---------------------------------------------------------------------------------- */

/* Output size as PyTorch computes it: floor or ceil, and a ceil window must start inside the input
 * or left padding. */
static int pool_out(int in, int k, int s, int p, bool ceil_mode) {
    int span = in + 2 * p - k;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

static aic_status pool_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x,
                             const aic_pool2d_opts *o, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, kind, name, &x, 1, &op));
    if (!o)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': options are NULL", op->name);
    AIC_TRY(need_rank(m, op, x, 3, "pooling needs N x C x H x W"));
    const aic_value_info *v = val(m, x);
    aic_pool2d_dims d = {0};
    d.C = (int)v->shape[0];
    d.H = (int)v->shape[1];
    d.W = (int)v->shape[2];
    d.KH = o->kernel[0];
    d.KW = o->kernel[1];
    d.SH = o->stride[0] ? o->stride[0] : d.KH;
    d.SW = o->stride[1] ? o->stride[1] : d.KW;
    d.PH = o->pad[0];
    d.PW = o->pad[1];
    d.count_include_pad = o->count_include_pad;
    if (d.KH <= 0 || d.KW <= 0 || d.SH <= 0 || d.SW <= 0 || d.PH < 0 || d.PW < 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': kernel and stride must be positive, padding not negative",
                        op->name);
    if (d.PH > d.KH / 2 || d.PW > d.KW / 2)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': padding %dx%d exceeds half the kernel %dx%d", op->name, d.PH,
                        d.PW, d.KH, d.KW);
    if (d.H + 2 * d.PH < d.KH || d.W + 2 * d.PW < d.KW)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': kernel %dx%d is larger than the padded input %dx%d", op->name, d.KH,
                        d.KW, d.H + 2 * d.PH, d.W + 2 * d.PW);
    d.OH = pool_out(d.H, d.KH, d.SH, d.PH, o->ceil_mode);
    d.OW = pool_out(d.W, d.KW, d.SW, d.PW, o->ceil_mode);
    op->attr.pool = d;
    if (kind == AIC_OP_MAXPOOL2D)
        op->saved_per_sample = (size_t)d.C * (size_t)d.OH * (size_t)d.OW; /* argmax, int32 */
    int64_t oshape[3] = {d.C, d.OH, d.OW};
    return aic_graph_add_value(m, op, AIC_F32, 3, oshape, out);
}

aic_status aic_maxpool2d(aic_model_t *m, const char *name, aic_value x, const aic_pool2d_opts *o, aic_value *out) {
    return pool_build(m, AIC_OP_MAXPOOL2D, name, x, o, out);
}

aic_status aic_avgpool2d(aic_model_t *m, const char *name, aic_value x, const aic_pool2d_opts *o, aic_value *out) {
    return pool_build(m, AIC_OP_AVGPOOL2D, name, x, o, out);
}

static int32_t *argmax_of(aic_model_t *m, aic_op *op) { return (int32_t *)(m->saved_arena + op->saved); }

static aic_status maxpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return aic_maxpool2d_forward(aic_act(m, op->out), argmax_of(m, op), aic_act(m, op->in[0]), &d);
}

static aic_status maxpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return aic_maxpool2d_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), argmax_of(m, op), &d);
}

static aic_status avgpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return aic_avgpool2d_forward(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status avgpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return aic_avgpool2d_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

aic_status aic_global_avgpool(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_GLOBAL_AVGPOOL, name, &x, 1, &op));
    AIC_TRY(need_rank(m, op, x, 3, "global average pooling needs N x C x H x W"));
    int64_t oshape[3] = {val(m, x)->shape[0], 1, 1};
    return aic_graph_add_value(m, op, AIC_F32, 3, oshape, out);
}

static aic_status gap_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return aic_global_avgpool_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, C, S);
}

static aic_status gap_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return aic_global_avgpool_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n, C, S);
}

/* ---- elementwise activations ------------------------------------------------------------------ */

static aic_status unary_begin(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, aic_op **op) {
    AIC_TRY(begin(m, kind, name, &x, 1, op));
    if (val(m, x)->dtype != AIC_F32 || val(m, x)->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' must be a float tensor", (*op)->name, val(m, x)->name);
    return AIC_OK;
}

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
    AIC_TRY(unary_begin(m, kind, name, x, &op));
    const aic_unary_kind u = aic_op_unary(kind);
    for (int i = 0; i < AIC_UNARY_MAX_ATTRS && unary_info[u].attr[i]; i++) {
        const float v = attrs ? attrs[i] : unary_info[u].def[i];
        if (!isfinite(v))
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': %s %g must be finite", op->name, unary_info[u].attr[i], v);
        op->attr.unary[i] = v;
    }
    return same_shape_output(m, op, x, out);
}

aic_status aic_unary(aic_model_t *m, const char *op, const char *name, aic_value x, const float *attrs,
                     aic_value *out) {
    for (int k = AIC_OP_UNARY_FIRST; op && k < AIC_OP_UNARY_FIRST + AIC_UNARY_COUNT; k++)
        if (strcmp(aic_op_classes[k].name, op) == 0)
            return unary_kind_build(m, (aic_op_kind)k, name, x, attrs, out);
    return aic_fail(AIC_ERR_INVALID_ARG, "aic_unary: '%s' is not a unary op (layers/unary_ops.def)", op ? op : "(null)");
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

static size_t rows_numel(aic_model_t *m, int v, int n) { return (size_t)n * (size_t)val(m, v)->numel; }

static aic_status unary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_unary_forward(aic_op_unary(op->kind), aic_act(m, op->out), aic_act(m, op->in[0]),
                             rows_numel(m, op->out, b->n), op->attr.unary);
}

static aic_status unary_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_unary_backward(aic_op_unary(op->kind), aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out),
                              aic_act(m, op->in[0]), aic_act(m, op->out), rows_numel(m, op->out, n), op->attr.unary);
}

/* ---- clip: elementwise with bounds; backward reads the forward input ------------------------------ */

aic_status aic_clip(aic_model_t *m, const char *name, aic_value x, float lo, float hi, aic_value *out) {
    aic_op *op;
    AIC_TRY(unary_begin(m, AIC_OP_CLIP, name, x, &op));
    if (isnan(lo) || isnan(hi) || lo > hi || lo == INFINITY || hi == -INFINITY)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': clip bounds [%g, %g] must satisfy lo <= hi", op->name, lo, hi);
    op->attr.clip.lo = lo;
    op->attr.clip.hi = hi;
    return same_shape_output(m, op, x, out);
}

static aic_status clip_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_clip_forward(aic_act(m, op->out), aic_act(m, op->in[0]), rows_numel(m, op->out, b->n),
                            op->attr.clip.lo, op->attr.clip.hi);
}

static aic_status clip_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_clip_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                             rows_numel(m, op->out, n), op->attr.clip.lo, op->attr.clip.hi);
}

/* ---- softmax, log_softmax over one axis ---------------------------------------------------------- */

static aic_status softmax_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, int axis,
                                aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, kind, name, &x, 1, &op));
    const aic_value_info *v = val(m, x);
    if (v->dtype != AIC_F32 || v->scalar || v->ndim < 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' must be a float tensor N x ...", op->name, v->name);
    if (axis < 1 || axis > v->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': axis %d outside 1..%d (axis 0 is the batch)", op->name, axis,
                        v->ndim);
    op->attr.axis = axis;
    return same_shape_output(m, op, x, out);
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
        size_t inner, outer = aic_softmax_layout(m, op, b->n, &K, &inner);                                      \
        return aic_##fn##_forward(aic_act(m, op->out), aic_act(m, op->in[0]), outer, K, inner);             \
    }                                                                                                       \
    static aic_status fn##_bwd(aic_model_t *m, aic_op *op, int n) {                                         \
        int K;                                                                                              \
        size_t inner, outer = aic_softmax_layout(m, op, n, &K, &inner);                                     \
        return aic_##fn##_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), aic_act(m, op->out), \
                                   outer, K, inner);                                                        \
    }
SOFTMAX_GLUE(softmax)
SOFTMAX_GLUE(log_softmax)

/* ---- batchnorm -------------------------------------------------------------------------------- */

aic_status aic_batchnorm(aic_model_t *m, const char *name, aic_value x, float momentum, float eps, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_BATCHNORM, name, &x, 1, &op));
    const aic_value_info *v = val(m, x);
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
    return same_shape_output(m, &m->ops[op_index], x, out);
}

static aic_status bn_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    float *saved = m->saved_arena + op->saved;
    if (b->training)
        return aic_batchnorm_forward_train(aic_act(m, op->out), saved, saved + C, aic_buffer_data(m, op->buffer[0]),
                                           aic_buffer_data(m, op->buffer[1]), aic_act(m, op->in[0]),
                                           aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]), b->n, C,
                                           S, op->attr.bn.momentum, op->attr.bn.eps);
    return aic_batchnorm_forward_eval(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                      aic_param_data(m, op->param[1]), aic_buffer_data(m, op->buffer[0]),
                                      aic_buffer_data(m, op->buffer[1]), b->n, C, S, op->attr.bn.eps);
}

static aic_status bn_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_bn_dims(m, op, &C, &S);
    float *saved = m->saved_arena + op->saved;
    return aic_batchnorm_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                  aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                  aic_param_data(m, op->param[0]), saved, saved + C, n, C, S);
}

/* ---- dropout ---------------------------------------------------------------------------------- */

aic_status aic_dropout(aic_model_t *m, const char *name, aic_value x, float p, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_DROPOUT, name, &x, 1, &op));
    if (!(p >= 0.0f && p < 1.0f))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': drop probability %g must be in [0, 1)", op->name, p);
    op->attr.drop_p = p;
    return same_shape_output(m, op, x, out);
}

static aic_status dropout_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t F = (size_t)val(m, op->out)->numel;
    if (b->training)
        return aic_dropout_forward(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, F, op->attr.drop_p,
                                   aic_dropout_key(m, op), b->row_offset);
    memcpy(aic_act(m, op->out), aic_act(m, op->in[0]), sizeof(float) * F * (size_t)b->n);
    return AIC_OK;
}

static aic_status dropout_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_dropout_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n,
                                (size_t)val(m, op->out)->numel, op->attr.drop_p, aic_dropout_key(m, op),
                                m->last.row_offset);
}

/* ---- reshape (flatten) ------------------------------------------------------------------------ */

aic_status aic_reshape(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                       aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_RESHAPE, name, &x, 1, &op));
    const aic_value_info *v = val(m, x);
    if (v->scalar || ndim < 1 || ndim > AIC_MAX_DIMS - 1 || !shape)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape '%s' to rank %d", op->name, v->name, ndim + 1);
    int64_t s[AIC_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1 && infer < 0)
            infer = i;
        else if (s[i] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': target dimension %d is %lld", op->name, i + 1,
                            (long long)s[i]);
        else
            known *= s[i];
    }
    if (infer >= 0)
        s[infer] = v->numel / known;
    if ((infer >= 0 && v->numel % known) || (infer < 0 && known != v->numel) || (infer >= 0 && s[infer] <= 0))
        return aic_fail(AIC_ERR_SHAPE, "op '%s': cannot reshape %lld elements per sample of '%s' to the shape given",
                        op->name, (long long)v->numel, v->name);
    aic_dtype dtype = v->dtype;
    int src = v->alias_of >= 0 ? v->alias_of : x;
    AIC_TRY(aic_graph_add_value(m, op, dtype, ndim, s, out));
    m->values[*out].alias_of = src; /* shares the input's memory and gradient: nothing to run */
    return AIC_OK;
}

aic_status aic_flatten(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    int64_t flat = -1;
    return aic_reshape(m, name, x, 1, &flat, out);
}

/* ---- add, concat ------------------------------------------------------------------------------ */

aic_status aic_add(aic_model_t *m, const char *name, aic_value a, aic_value b, aic_value *out) {
    int in[2] = {a, b};
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_ADD, name, in, 2, &op));
    const aic_value_info *va = val(m, a), *vb = val(m, b);
    bool same = va->ndim == vb->ndim && va->dtype == AIC_F32 && vb->dtype == AIC_F32;
    for (int i = 0; same && i < va->ndim; i++)
        same = va->shape[i] == vb->shape[i];
    if (!same) {
        char sa[128], sb[128];
        shape_text(sa, sizeof sa, va);
        shape_text(sb, sizeof sb, vb);
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (add): shapes differ: '%s' is %s, '%s' is %s", op->name, va->name, sa,
                        vb->name, sb);
    }
    return same_shape_output(m, op, a, out);
}

static aic_status add_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_add_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                           rows_numel(m, op->out, b->n));
}

static aic_status add_bwd(aic_model_t *m, aic_op *op, int n) {
    /* For x + x both pointers name one buffer, which then receives both contributions. */
    return aic_add_backward(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->in[1]), aic_act_grad(m, op->out),
                            rows_numel(m, op->out, n));
}

/* ---- binary arithmetic with broadcasting ------------------------------------------------------- */

static const char *const BINOP_NAMES[] = {"add", "sub", "mul", "div"};

/* Right-aligned numpy broadcast of two per-sample shapes into (*on, os). */
static aic_status broadcast(const aic_op *op, int an, const int64_t *as, int bn, const int64_t *bs, int *on,
                            int64_t *os) {
    *on = an > bn ? an : bn;
    for (int k = 0; k < *on; k++) {
        int ja = k - (*on - an), jb = k - (*on - bn);
        int64_t da = ja < 0 ? 1 : as[ja], db = jb < 0 ? 1 : bs[jb];
        if (da != db && da != 1 && db != 1)
            return aic_fail(AIC_ERR_SHAPE,
                            "op '%s' (%s): shapes do not broadcast: per-sample dim %d is %lld on one side and %lld "
                            "on the other",
                            op->name, BINOP_NAMES[op->attr.binary.kind], k + 1, (long long)da, (long long)db);
        os[k] = da == 1 ? db : da;
    }
    return AIC_OK;
}

static aic_status binop_check(aic_model_t *m, const aic_op *op, aic_binary_op kind, int x) {
    if ((int)kind < 0 || kind > AIC_BINOP_DIV)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': binary op kind %d is not add, sub, mul or div", op->name,
                        (int)kind);
    const aic_value_info *v = val(m, x);
    if (v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' must be a float tensor N x ...", op->name,
                        BINOP_NAMES[kind], v->name);
    return AIC_OK;
}

aic_status aic_binary(aic_model_t *m, const char *name, aic_binary_op kind, aic_value a, aic_value b,
                      aic_value *out) {
    int in[2] = {a, b};
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_BINARY, name, in, 2, &op));
    AIC_TRY(binop_check(m, op, kind, a));
    AIC_TRY(binop_check(m, op, kind, b));
    op->attr.binary.kind = (int)kind;
    const aic_value_info *va = val(m, a), *vb = val(m, b);
    int on;
    int64_t os[AIC_MAX_DIMS];
    AIC_TRY(broadcast(op, va->ndim, va->shape, vb->ndim, vb->shape, &on, os));
    return aic_graph_add_value(m, op, AIC_F32, on, os, out);
}

aic_status aic_binary_const(aic_model_t *m, const char *name, aic_binary_op kind, aic_value x, int const_ndim,
                            const int64_t *const_shape, bool const_on_left, aic_value *out) {
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_BINARY, name, &x, 1, &op));
    AIC_TRY(binop_check(m, op, kind, x));
    const aic_value_info *vx = val(m, x);
    if (const_ndim < 0 || const_ndim > AIC_MAX_DIMS || (const_ndim > 0 && !const_shape))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': constant rank %d outside 0..%d", op->name, const_ndim,
                        AIC_MAX_DIMS);
    if (const_ndim == vx->ndim + 1 && const_shape[0] == 1) { /* lines up with the batch: drop it */
        const_shape++;
        const_ndim--;
    }
    if (const_ndim > vx->ndim)
        return aic_fail(AIC_ERR_SHAPE,
                        "op '%s' (%s): constant of rank %d against input '%s' of per-sample rank %d (the constant "
                        "may not reach the batch dimension)",
                        op->name, BINOP_NAMES[kind], const_ndim, vx->name, vx->ndim);
    int64_t numel = 1;
    for (int k = 0; k < const_ndim; k++) {
        if (const_shape[k] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': constant dimension %d is %lld (must be positive)", op->name, k,
                            (long long)const_shape[k]);
        numel *= const_shape[k];
    }
    op->attr.binary.kind = (int)kind;
    op->attr.binary.const_left = const_on_left;
    op->attr.binary.cndim = const_ndim;
    for (int k = 0; k < const_ndim; k++)
        op->attr.binary.cshape[k] = const_shape[k];
    int on;
    int64_t os[AIC_MAX_DIMS];
    AIC_TRY(broadcast(op, vx->ndim, vx->shape, const_ndim, const_shape, &on, os));
    int op_index = (int)(op - m->ops);
    aic_init_kind init = kind == AIC_BINOP_MUL || kind == AIC_BINOP_DIV ? AIC_INIT_ONES : AIC_INIT_ZEROS;
    AIC_TRY(aic_graph_add_buffer(m, op, "constant", numel, init, &m->ops[op_index].buffer[0]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, on, os, out);
}

static aic_status binary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, b->n, &d, &av, &bv, &ca, &cb);
    return aic_binary_forward(aic_act(m, op->out), av >= 0 ? aic_act(m, av) : ca, bv >= 0 ? aic_act(m, bv) : cb,
                              (aic_binary_kind)op->attr.binary.kind, &d);
}

static aic_status binary_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, n, &d, &av, &bv, &ca, &cb);
    /* For x * x both gradient pointers name one buffer, which then receives both contributions. */
    return aic_binary_backward(av >= 0 ? aic_act_grad(m, av) : NULL, bv >= 0 ? aic_act_grad(m, bv) : NULL,
                               aic_act_grad(m, op->out), av >= 0 ? aic_act(m, av) : ca, bv >= 0 ? aic_act(m, bv) : cb,
                               (aic_binary_kind)op->attr.binary.kind, &d);
}

aic_status aic_concat(aic_model_t *m, const char *name, int n, const aic_value *xs, int axis, aic_value *out) {
    aic_op *op;
    if (n < 1 || !xs)
        return aic_fail(AIC_ERR_INVALID_ARG, "concat '%s': needs at least one input", name ? name : "");
    AIC_TRY(begin(m, AIC_OP_CONCAT, name, xs, n, &op));
    const aic_value_info *v0 = val(m, xs[0]);
    if (axis < 1 || axis > v0->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': axis %d outside 1..%d (axis 0 is the batch)", op->name, axis,
                        v0->ndim);
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, v0->shape, sizeof shape);
    for (int k = 1; k < n; k++) {
        const aic_value_info *vk = val(m, xs[k]);
        bool ok = vk->ndim == v0->ndim && vk->dtype == AIC_F32;
        for (int i = 0; ok && i < v0->ndim; i++)
            ok = i == axis - 1 || vk->shape[i] == v0->shape[i];
        if (!ok) {
            char s0[128], sk[128];
            shape_text(s0, sizeof s0, v0);
            shape_text(sk, sizeof sk, vk);
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (concat on axis %d): '%s' is %s but '%s' is %s", op->name, axis,
                            v0->name, s0, vk->name, sk);
        }
        shape[axis - 1] += vk->shape[axis - 1];
    }
    op->attr.axis = axis;
    return aic_graph_add_value(m, op, AIC_F32, v0->ndim, shape, out);
}

static aic_status concat_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, b->n, false, inner, parts);
    return aic_concat_forward(aic_act(m, op->out), (const float *const *)parts, inner, op->n_in, outer);
}

static aic_status concat_bwd(aic_model_t *m, aic_op *op, int n) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, n, true, inner, parts);
    return aic_concat_backward(parts, aic_act_grad(m, op->out), inner, op->n_in, outer);
}

aic_status aic_transpose(aic_model_t *m, const char *name, aic_value x, const int *perm, aic_value *out) {
    aic_op *op;
    int in[1] = {x};
    AIC_TRY(begin(m, AIC_OP_TRANSPOSE, name, in, 1, &op));
    const aic_value_info *v = val(m, x);
    if (!perm || v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (transpose): needs a float activation and a perm", op->name);
    if (perm[0] != 0)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (transpose): perm[0] is %d; the batch must stay axis 0", op->name,
                        perm[0]);
    int64_t shape[AIC_MAX_DIMS];
    bool seen[AIC_MAX_DIMS] = {false};
    op->attr.perm[0] = 0;
    for (int k = 1; k <= v->ndim; k++) {
        int p = perm[k];
        if (p < 1 || p > v->ndim || seen[p])
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (transpose): perm is not a permutation of 0..%d", op->name,
                            v->ndim);
        seen[p] = true;
        op->attr.perm[k] = p;
        shape[k - 1] = v->shape[p - 1];
    }
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, shape, out);
}

static aic_status transpose_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_value_info *v = val(m, op->in[0]);
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return aic_transpose_forward(aic_act(m, op->out), aic_act(m, op->in[0]), v->shape, p, v->ndim, b->n);
}

static aic_status transpose_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_value_info *v = val(m, op->in[0]);
    float *dx = aic_act_grad(m, op->in[0]);
    if (!dx)
        return AIC_OK;
    int p[AIC_MAX_DIMS];
    aic_transpose_perm(op, v->ndim, p);
    return aic_transpose_backward(dx, aic_act_grad(m, op->out), v->shape, p, v->ndim, n);
}

/* ---- losses ----------------------------------------------------------------------------------- */

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
    AIC_TRY(begin(m, kind, name, in, 2, &op));
    AIC_TRY(need_rank(m, op, scores, 1, what));
    if (m->ops[val(m, labels)->producer].kind != AIC_OP_LABELS)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': '%s' is not a labels value (make it with aic_labels)",
                        op->name, val(m, labels)->name);
    if (save_probs)
        op->saved_per_sample = (size_t)val(m, scores)->shape[0]; /* softmax probabilities */
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
    int K = (int)val(m, op->in[0])->shape[0];
    const int32_t *labels = NULL;
    AIC_TRY(checked_labels(m, op, b->n, K, &labels));
    return aic_nll_forward(aic_act(m, op->out), aic_act(m, op->in[0]), labels, b->n, K);
}

static aic_status nll_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_nll_backward(aic_act_grad(m, op->in[0]), (const int32_t *)aic_act(m, op->in[1]), n,
                            (int)val(m, op->in[0])->shape[0], aic_act_grad(m, op->out)[0]);
}

static aic_status xent_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int K = (int)val(m, op->in[0])->shape[0];
    const int32_t *labels = NULL;
    AIC_TRY(checked_labels(m, op, b->n, K, &labels));
    return aic_softmax_xent_forward(aic_act(m, op->out), m->saved_arena + op->saved, aic_act(m, op->in[0]), labels,
                                    b->n, K);
}

static aic_status xent_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_softmax_xent_backward(aic_act_grad(m, op->in[0]), m->saved_arena + op->saved,
                                     (const int32_t *)aic_act(m, op->in[1]), n, (int)val(m, op->in[0])->shape[0],
                                     aic_act_grad(m, op->out)[0]);
}

aic_status aic_mse(aic_model_t *m, const char *name, aic_value pred, aic_value target, aic_value *loss) {
    int in[2] = {pred, target};
    aic_op *op;
    AIC_TRY(begin(m, AIC_OP_MSE, name, in, 2, &op));
    const aic_value_info *vp = val(m, pred), *vt = val(m, target);
    if (vp->numel != vt->numel || vp->dtype != AIC_F32 || vt->dtype != AIC_F32 || vp->scalar || vt->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (mse): '%s' has %lld elements per sample, '%s' has %lld", op->name,
                        vp->name, (long long)vp->numel, vt->name, (long long)vt->numel);
    return loss_output(m, op, loss);
}

static aic_status mse_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return aic_mse_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                           rows_numel(m, op->in[0], b->n));
}

static aic_status mse_bwd(aic_model_t *m, aic_op *op, int n) {
    return aic_mse_backward(aic_act_grad(m, op->in[0]), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                            rows_numel(m, op->in[0], n), aic_act_grad(m, op->out)[0]);
}

/* ---- the op class table ----------------------------------------------------------------------- */

/* ---- canonical attribute text (the architecture hash's digest of each op) -------------------- */

/* Floats as %.9g: enough digits that the text tells every float apart. */
static void conv_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_conv2d_dims *d = &op->attr.conv;
    snprintf(buf, size, "out_channels=%d kernel=%dx%d stride=%dx%d pad=%dx%d dilation=%dx%d groups=%d", d->OC, d->KH,
             d->KW, d->SH, d->SW, d->PH, d->PW, d->DH, d->DW, d->G);
}

static void pool_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_pool2d_dims *d = &op->attr.pool;
    snprintf(buf, size, "kernel=%dx%d stride=%dx%d pad=%dx%d out=%dx%d count_include_pad=%d", d->KH, d->KW, d->SH,
             d->SW, d->PH, d->PW, d->OH, d->OW, d->count_include_pad);
}

static void bn_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "momentum=%.9g eps=%.9g", (double)op->attr.bn.momentum, (double)op->attr.bn.eps);
}

static void dropout_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "p=%.9g", (double)op->attr.drop_p);
}

static void axis_attrs(const aic_op *op, char *buf, size_t size) { snprintf(buf, size, "axis=%d", op->attr.axis); }

/* name=value for each attribute the op has: "alpha=0.01"; nothing when it has none. */
static void unary_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_unary_kind u = aic_op_unary(op->kind);
    int len = 0;
    buf[0] = '\0';
    for (int i = 0; i < AIC_UNARY_MAX_ATTRS && unary_info[u].attr[i] && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, i ? " %s=%.9g" : "%s=%.9g", unary_info[u].attr[i],
                        (double)op->attr.unary[i]);
}

static void clip_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "lo=%.9g hi=%.9g", (double)op->attr.clip.lo, (double)op->attr.clip.hi);
}

static void transpose_attrs(const aic_op *op, char *buf, size_t size) {
    int len = snprintf(buf, size, "perm=");
    for (int i = 0; i < AIC_MAX_DIMS && len < (int)size; i++) /* unused entries are zero */
        len += snprintf(buf + len, size - (size_t)len, i ? ",%d" : "%d", op->attr.perm[i]);
}

static void binary_attrs(const aic_op *op, char *buf, size_t size) {
    const int c = op->attr.binary.cndim;
    int len = snprintf(buf, size, "op=%s constant=%s shape=", BINOP_NAMES[op->attr.binary.kind],
                       c == 0 ? "none" : op->attr.binary.const_left ? "left" : "right");
    for (int i = 0; i < c && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, i ? "x%lld" : "%lld", (long long)op->attr.binary.cshape[i]);
}

const aic_op_class aic_op_classes[AIC_OP_KIND_COUNT] = {
    [AIC_OP_INPUT] = {"input", NULL, NULL, NULL},
    [AIC_OP_LABELS] = {"labels", NULL, NULL, NULL},
    [AIC_OP_DENSE] = {"dense", dense_fwd, dense_bwd, NULL},
    [AIC_OP_CONV2D] = {"conv2d", conv_fwd, conv_bwd, conv_attrs},
    [AIC_OP_MAXPOOL2D] = {"maxpool2d", maxpool_fwd, maxpool_bwd, pool_attrs},
    [AIC_OP_AVGPOOL2D] = {"avgpool2d", avgpool_fwd, avgpool_bwd, pool_attrs},
    [AIC_OP_GLOBAL_AVGPOOL] = {"global_avgpool", gap_fwd, gap_bwd, NULL},
    [AIC_OP_BATCHNORM] = {"batchnorm", bn_fwd, bn_bwd, bn_attrs},
    [AIC_OP_DROPOUT] = {"dropout", dropout_fwd, dropout_bwd, dropout_attrs},
    [AIC_OP_RESHAPE] = {"reshape", NULL, NULL, NULL},
    [AIC_OP_ADD] = {"add", add_fwd, add_bwd, NULL},
    [AIC_OP_CONCAT] = {"concat", concat_fwd, concat_bwd, axis_attrs},
    [AIC_OP_SOFTMAX_XENT] = {"softmax_xent", xent_fwd, xent_bwd, NULL},
    [AIC_OP_MSE] = {"mse", mse_fwd, mse_bwd, NULL},
    [AIC_OP_SOFTMAX] = {"softmax", softmax_fwd, softmax_bwd, axis_attrs},
    [AIC_OP_LOG_SOFTMAX] = {"log_softmax", log_softmax_fwd, log_softmax_bwd, axis_attrs},
    [AIC_OP_CLIP] = {"clip", clip_fwd, clip_bwd, clip_attrs},
    [AIC_OP_NLL] = {"nll", nll_fwd, nll_bwd, NULL},
    [AIC_OP_BINARY] = {"binary", binary_fwd, binary_bwd, binary_attrs},
    [AIC_OP_TRANSPOSE] = {"transpose", transpose_fwd, transpose_bwd, transpose_attrs},
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_OP_##E] = {#name, unary_fwd, unary_bwd, unary_attrs},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};

double aic_model_flops_per_sample(const aic_model_t *m) {
    double flops = 0;
    for (int i = 0; m && i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        if (op->kind == AIC_OP_DENSE)
            flops += 2.0 * (double)m->values[op->in[0]].numel * (double)m->values[op->out].numel;
        else if (op->kind == AIC_OP_CONV2D) {
            const aic_conv2d_dims *d = &op->attr.conv;
            flops += 2.0 * d->OC * d->OH * d->OW * (double)(d->C / d->G) * d->KH * d->KW;
        } else if (op->kind == AIC_OP_MAXPOOL2D || op->kind == AIC_OP_AVGPOOL2D) {
            const aic_pool2d_dims *d = &op->attr.pool; /* one compare or add per window element */
            flops += (double)m->values[op->out].numel * d->KH * d->KW;
        } else if (op->out >= 0)
            flops += (double)m->values[op->out].numel; /* elementwise: one per output */
    }
    return flops;
}
