// SPDX-License-Identifier: Apache-2.0
/* conv3d: 3-D convolution with groups, on plain loops (layers/conv3d.c) or one GPU thread per element. */
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_conv3d(aic_model_t *m, const char *name, aic_value x, const aic_conv3d_opts *o, aic_value *out) {
    aic_op *op;
    int cdhw[4];
    AIC_TRY(aic_op_begin_volume(m, AIC_OP_CONV3D, name, x, o, "conv3d needs N x C x D x H x W", &op, cdhw));
    aic_conv3d_dims d = {.C = cdhw[0], .OC = (int)o->out_channels, .G = o->groups ? o->groups : 1};
    bool ok = o->out_channels > 0 && o->out_channels <= INT32_MAX && d.G > 0;
    for (int a = 0; a < 3; a++) {
        d.in[a] = cdhw[1 + a];
        d.k[a] = o->kernel[a];
        d.s[a] = o->stride[a] ? o->stride[a] : 1;
        d.p[a] = o->pad[a];
        d.dil[a] = o->dilation[a] ? o->dilation[a] : 1;
        ok = ok && d.k[a] > 0 && d.s[a] > 0 && d.p[a] >= 0 && d.dil[a] > 0;
    }
    if (!ok)
        return aic_fail(AIC_ERR_INVALID_ARG,
                        "op '%s': out_channels and kernel must be positive, stride/pad/dilation/groups not negative",
                        op->name);
    if (d.C % d.G || d.OC % d.G)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': groups %d must divide input channels %d and output channels %d",
                        op->name, d.G, d.C, d.OC);
    for (int a = 0; a < 3; a++) {
        const int span = d.dil[a] * (d.k[a] - 1) + 1;
        if (d.in[a] + 2 * d.p[a] < span)
            return aic_fail(AIC_ERR_SHAPE,
                            "op '%s': kernel %dx%dx%d (dilation %d,%d,%d) is larger than the padded input %dx%dx%d",
                            op->name, d.k[0], d.k[1], d.k[2], d.dil[0], d.dil[1], d.dil[2], d.in[0] + 2 * d.p[0],
                            d.in[1] + 2 * d.p[1], d.in[2] + 2 * d.p[2]);
        d.out[a] = (d.in[a] + 2 * d.p[a] - span) / d.s[a] + 1;
    }
    op->attr.conv3d = d;
    const int64_t wshape[5] = {d.OC, d.C / d.G, d.k[0], d.k[1], d.k[2]};
    const float bound = 1.0f / sqrtf((float)(d.C / d.G * d.k[0] * d.k[1] * d.k[2]));
    const int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 5, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    if (!o->no_bias)
        AIC_TRY(aic_graph_add_param(m, op, "bias", 1, wshape, AIC_INIT_UNIFORM, bound, &op->param[1]));
    const int64_t oshape[4] = {d.OC, d.out[0], d.out[1], d.out[2]};
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 4, oshape, out);
}

static aic_status conv3d_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_conv3d_dims d = op->attr.conv3d;
    d.N = b->n;
    return AIC_KERNEL(m, conv3d_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                         aic_param_data(m, op->param[1]), &d);
}

static aic_status conv3d_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_conv3d_dims d = op->attr.conv3d;
    d.N = n;
    return AIC_KERNEL(m, conv3d_backward)(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                          aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out),
                                          aic_act(m, op->in[0]), aic_param_data(m, op->param[0]), &d);
}

static void conv3d_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_conv3d_dims *d = &op->attr.conv3d;
    snprintf(buf, size, "out_channels=%d kernel=%dx%dx%d stride=%dx%dx%d pad=%dx%dx%d dilation=%dx%dx%d groups=%d",
             d->OC, d->k[0], d->k[1], d->k[2], d->s[0], d->s[1], d->s[2], d->p[0], d->p[1], d->p[2], d->dil[0],
             d->dil[1], d->dil[2], d->G);
}

static double conv3d_flops(const aic_model_t *m, const aic_op *op) {
    const aic_conv3d_dims *d = &op->attr.conv3d;
    return 2.0 * d->OC * (double)d->out[0] * d->out[1] * d->out[2] * (d->C / d->G) * d->k[0] * d->k[1] * d->k[2];
}

const aic_op_desc aic_op_conv3d = {"conv3d", {conv3d_fwd, conv3d_bwd}, AIC_CUDA_KERNELS(conv3d_fwd, conv3d_bwd),
                                   conv3d_attrs, conv3d_flops, AIC_BATCH_FIRST};
