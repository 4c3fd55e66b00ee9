// SPDX-License-Identifier: Apache-2.0
/* conv_transpose2d: the transposed 2-D convolution (a U-Net's upsampling), with groups, dilation,
 * padding cut from both ends or the end alone, and output padding. */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

static int or_one(int v) { return v ? v : 1; }

aic_status aic_conv_transpose2d(aic_model_t *m, const char *name, aic_value x, const aic_conv_transpose2d_opts *o,
                                aic_value *out) {
    aic_op *op;
    int chw[3];
    AIC_TRY(aic_op_begin_image(m, AIC_OP_CONV_TRANSPOSE2D, name, x, o,
                               "conv_transpose2d needs N x C x H x W", &op, chw));
    aic_conv_transpose2d_dims d = {.C = chw[0], .H = chw[1], .W = chw[2]};
    d.KH = o->kernel[0];
    d.KW = o->kernel[1];
    d.SH = or_one(o->stride[0]);
    d.SW = or_one(o->stride[1]);
    d.PH = o->pad[0];
    d.PW = o->pad[1];
    d.DH = or_one(o->dilation[0]);
    d.DW = or_one(o->dilation[1]);
    d.G = or_one(o->groups);
    if (o->out_channels <= 0 || o->out_channels > INT_MAX || d.KH <= 0 || d.KW <= 0 || d.SH < 0 || d.SW < 0 ||
        d.PH < 0 || d.PW < 0 || o->pad_end[0] < 0 || o->pad_end[1] < 0 || o->output_padding[0] < 0 ||
        o->output_padding[1] < 0 || d.DH < 0 || d.DW < 0 || d.G < 0)
        return aic_fail(AIC_ERR_INVALID_ARG,
                        "op '%s': out_channels and kernel must be positive, stride/pad/pad_end/output_padding/"
                        "dilation/groups not negative",
                        op->name);
    d.OC = (int)o->out_channels;
    if (d.C % d.G || d.OC % d.G)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': groups %d must divide input channels %d and output channels %d",
                        op->name, d.G, d.C, d.OC);
    /* in int64: a kernel, stride or dilation near INT_MAX must not wrap */
    const int64_t oh = (int64_t)(d.H - 1) * d.SH + (int64_t)d.DH * (d.KH - 1) + 1 - 2 * (int64_t)d.PH -
                       o->pad_end[0] + o->output_padding[0];
    const int64_t ow = (int64_t)(d.W - 1) * d.SW + (int64_t)d.DW * (d.KW - 1) + 1 - 2 * (int64_t)d.PW -
                       o->pad_end[1] + o->output_padding[1];
    if (oh <= 0 || ow <= 0 || oh > INT_MAX || ow > INT_MAX)
        return aic_fail(AIC_ERR_SHAPE,
                        "op '%s': input %dx%d, kernel %dx%d, stride %dx%d, dilation %dx%d, pad %dx%d, pad_end %dx%d "
                        "and output_padding %dx%d give an output of %lldx%lld",
                        op->name, d.H, d.W, d.KH, d.KW, d.SH, d.SW, d.DH, d.DW, d.PH, d.PW, o->pad_end[0],
                        o->pad_end[1], o->output_padding[0], o->output_padding[1], (long long)oh, (long long)ow);
    d.OH = (int)oh;
    d.OW = (int)ow;
    op->attr.convt.d = d;
    op->attr.convt.pad_end[0] = o->pad_end[0];
    op->attr.convt.pad_end[1] = o->pad_end[1];
    op->attr.convt.out_pad[0] = o->output_padding[0];
    op->attr.convt.out_pad[1] = o->output_padding[1];
    op->scratch = aic_conv_transpose2d_scratch(&d);
    /* torch's fan_in of a ConvTranspose weight: its dim 1 times the kernel */
    const int64_t wshape[4] = {d.C, d.OC / d.G, d.KH, d.KW}, bshape[1] = {d.OC};
    const float bound = 1.0f / sqrtf((float)(d.OC / d.G) * (float)d.KH * (float)d.KW);
    const int op_index = (int)(op - m->ops);
    AIC_TRY(aic_graph_add_param(m, op, "weight", 4, wshape, AIC_INIT_UNIFORM, bound, &op->param[0]));
    if (!o->no_bias)
        AIC_TRY(aic_graph_add_param(m, &m->ops[op_index], "bias", 1, bshape, AIC_INIT_UNIFORM, bound,
                                    &m->ops[op_index].param[1]));
    const int64_t oshape[3] = {d.OC, d.OH, d.OW};
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, 3, oshape, out);
}

static aic_status convt_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_conv_transpose2d_dims d = op->attr.convt.d;
    d.N = b->n;
    return AIC_KERNEL(m, conv_transpose2d_forward)(aic_act(m, op->out), aic_act(m, op->in[0]),
                                                   aic_param_data(m, op->param[0]), aic_param_data(m, op->param[1]),
                                                   m->scratch_arena, &d);
}

static aic_status convt_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_conv_transpose2d_dims d = op->attr.convt.d;
    d.N = n;
    return AIC_KERNEL(m, conv_transpose2d_backward)(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                                    aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out),
                                                    aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                                    m->scratch_arena, &d);
}

static void convt_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_conv_transpose2d_dims *d = &op->attr.convt.d;
    const int *pe = op->attr.convt.pad_end, *opad = op->attr.convt.out_pad;
    snprintf(buf, size,
             "out_channels=%d kernel=%dx%d stride=%dx%d pad=%dx%d pad_end=%dx%d output_padding=%dx%d dilation=%dx%d "
             "groups=%d",
             d->OC, d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, pe[0], pe[1], opad[0], opad[1], d->DH, d->DW, d->G);
}

/* A multiply-add per input pixel, weight tap and output channel of its group. */
static double convt_flops(const aic_model_t *m, const aic_op *op) {
    const aic_conv_transpose2d_dims *d = &op->attr.convt.d;
    return 2.0 * d->C * d->H * d->W * (double)(d->OC / d->G) * d->KH * d->KW;
}

const aic_op_desc aic_op_conv_transpose2d = {"conv_transpose2d", {convt_fwd, convt_bwd},
                                             AIC_CUDA_KERNELS(convt_fwd, convt_bwd), convt_attrs, convt_flops,
                                             AIC_BATCH_FIRST};
