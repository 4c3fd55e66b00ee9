// SPDX-License-Identifier: Apache-2.0
/* Pooling: maxpool2d and avgpool2d over windows (maxpool3d and avgpool3d over 3-D ones), global_avgpool
 * over all of H x W. */
#include <stdio.h>

#include "core/op_build.h"

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
    int chw[3];
    AIC_TRY(aic_op_begin_image(m, kind, name, x, o, "pooling needs N x C x H x W", &op, chw));
    aic_pool2d_dims d = {.C = chw[0], .H = chw[1], .W = chw[2]};
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

/* maxpool3d and avgpool3d: the 2-D rules on each of depth, height and width. */
static aic_status pool3d_build(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x,
                               const aic_pool3d_opts *o, aic_value *out) {
    aic_op *op;
    int cdhw[4];
    AIC_TRY(aic_op_begin_volume(m, kind, name, x, o, "3-D pooling needs N x C x D x H x W", &op, cdhw));
    aic_pool3d_dims d = {.C = cdhw[0], .count_include_pad = o->count_include_pad};
    for (int a = 0; a < 3; a++) {
        d.in[a] = cdhw[1 + a];
        d.k[a] = o->kernel[a];
        d.s[a] = o->stride[a] ? o->stride[a] : d.k[a];
        d.p[a] = o->pad[a];
        if (d.k[a] <= 0 || d.s[a] <= 0 || d.p[a] < 0)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': kernel and stride must be positive, padding not negative",
                            op->name);
        if (d.p[a] > d.k[a] / 2)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': padding %d exceeds half the kernel %d on axis %d", op->name,
                            d.p[a], d.k[a], a + 2);
        if (d.in[a] + 2 * d.p[a] < d.k[a])
            return aic_fail(AIC_ERR_SHAPE, "op '%s': kernel %d is larger than the padded input %d on axis %d",
                            op->name, d.k[a], d.in[a] + 2 * d.p[a], a + 2);
        d.out[a] = pool_out(d.in[a], d.k[a], d.s[a], d.p[a], o->ceil_mode);
    }
    op->attr.pool3d = d;
    if (kind == AIC_OP_MAXPOOL3D)
        op->saved_per_sample = (size_t)d.C * (size_t)d.out[0] * (size_t)d.out[1] * (size_t)d.out[2]; /* argmax */
    const int64_t oshape[4] = {d.C, d.out[0], d.out[1], d.out[2]};
    return aic_graph_add_value(m, op, AIC_F32, 4, oshape, out);
}

aic_status aic_maxpool3d(aic_model_t *m, const char *name, aic_value x, const aic_pool3d_opts *o, aic_value *out) {
    return pool3d_build(m, AIC_OP_MAXPOOL3D, name, x, o, out);
}

aic_status aic_avgpool3d(aic_model_t *m, const char *name, aic_value x, const aic_pool3d_opts *o, aic_value *out) {
    return pool3d_build(m, AIC_OP_AVGPOOL3D, name, x, o, out);
}

static int32_t *argmax_of(aic_model_t *m, aic_op *op) { return (int32_t *)(m->saved_arena + op->saved); }

static aic_status maxpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return AIC_KERNEL(m, maxpool2d_forward)(aic_act(m, op->out), argmax_of(m, op), aic_act(m, op->in[0]), &d);
}

static aic_status maxpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return AIC_KERNEL(m, maxpool2d_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), argmax_of(m, op),
                                             &d);
}

static aic_status avgpool_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = b->n;
    return AIC_KERNEL(m, avgpool2d_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status avgpool_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool2d_dims d = op->attr.pool;
    d.N = n;
    return AIC_KERNEL(m, avgpool2d_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

aic_status aic_global_avgpool(aic_model_t *m, const char *name, aic_value x, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_GLOBAL_AVGPOOL, name, &x, 1, &op));
    AIC_TRY(aic_op_need_rank(m, op, x, 3, "global average pooling needs N x C x H x W"));
    int64_t oshape[3] = {aic_val(m, x)->shape[0], 1, 1};
    return aic_graph_add_value(m, op, AIC_F32, 3, oshape, out);
}

static aic_status gap_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return AIC_KERNEL(m, global_avgpool_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), b->n, C, S);
}

static aic_status gap_bwd(aic_model_t *m, aic_op *op, int n) {
    int C, S;
    aic_gap_dims(m, op, &C, &S);
    return AIC_KERNEL(m, global_avgpool_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), n, C, S);
}

static aic_status maxpool3d_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool3d_dims d = op->attr.pool3d;
    d.N = b->n;
    return AIC_KERNEL(m, maxpool3d_forward)(aic_act(m, op->out), argmax_of(m, op), aic_act(m, op->in[0]), &d);
}

static aic_status maxpool3d_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool3d_dims d = op->attr.pool3d;
    d.N = n;
    return AIC_KERNEL(m, maxpool3d_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), argmax_of(m, op),
                                             &d);
}

static aic_status avgpool3d_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_pool3d_dims d = op->attr.pool3d;
    d.N = b->n;
    return AIC_KERNEL(m, avgpool3d_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status avgpool3d_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_pool3d_dims d = op->attr.pool3d;
    d.N = n;
    return AIC_KERNEL(m, avgpool3d_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &d);
}

static void pool3d_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_pool3d_dims *d = &op->attr.pool3d;
    snprintf(buf, size, "kernel=%dx%dx%d stride=%dx%dx%d pad=%dx%dx%d out=%dx%dx%d count_include_pad=%d", d->k[0],
             d->k[1], d->k[2], d->s[0], d->s[1], d->s[2], d->p[0], d->p[1], d->p[2], d->out[0], d->out[1], d->out[2],
             d->count_include_pad);
}

static double pool3d_flops(const aic_model_t *m, const aic_op *op) {
    const aic_pool3d_dims *d = &op->attr.pool3d;
    return (double)m->values[op->out].numel * d->k[0] * d->k[1] * d->k[2];
}

static void pool_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_pool2d_dims *d = &op->attr.pool;
    snprintf(buf, size, "kernel=%dx%d stride=%dx%d pad=%dx%d out=%dx%d count_include_pad=%d", d->KH, d->KW, d->SH,
             d->SW, d->PH, d->PW, d->OH, d->OW, d->count_include_pad);
}

/* One compare or add per window element. */
static double pool_flops(const aic_model_t *m, const aic_op *op) {
    return (double)m->values[op->out].numel * op->attr.pool.KH * op->attr.pool.KW;
}

const aic_op_desc aic_op_maxpool2d = {"maxpool2d", {maxpool_fwd, maxpool_bwd},
                                      AIC_CUDA_KERNELS(maxpool_fwd, maxpool_bwd), pool_attrs, pool_flops, AIC_BATCH_FIRST};
const aic_op_desc aic_op_avgpool2d = {"avgpool2d", {avgpool_fwd, avgpool_bwd},
                                      AIC_CUDA_KERNELS(avgpool_fwd, avgpool_bwd), pool_attrs, pool_flops, AIC_BATCH_FIRST};
const aic_op_desc aic_op_global_avgpool = {"global_avgpool", {gap_fwd, gap_bwd},
                                           AIC_CUDA_KERNELS(gap_fwd, gap_bwd), NULL, NULL, AIC_BATCH_FIRST};
const aic_op_desc aic_op_maxpool3d = {"maxpool3d", {maxpool3d_fwd, maxpool3d_bwd},
                                      AIC_CUDA_KERNELS(maxpool3d_fwd, maxpool3d_bwd), pool3d_attrs, pool3d_flops,
                                      AIC_BATCH_FIRST};
const aic_op_desc aic_op_avgpool3d = {"avgpool3d", {avgpool3d_fwd, avgpool3d_bwd},
                                      AIC_CUDA_KERNELS(avgpool3d_fwd, avgpool3d_bwd), pool3d_attrs, pool3d_flops,
                                      AIC_BATCH_FIRST};
