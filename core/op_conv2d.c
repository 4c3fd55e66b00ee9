// SPDX-License-Identifier: Apache-2.0
/* conv2d: 2-D convolution with groups, on oneDNN or the reference im2col path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/op_build.h"

static int or_one(int v) { return v ? v : 1; }

aic_status aic_conv2d(aic_model_t *m, const char *name, aic_value x, const aic_conv2d_opts *o, aic_value *out) {
    aic_op *op;
    int chw[3];
    AIC_TRY(aic_op_begin_image(m, AIC_OP_CONV2D, name, x, o, "conv2d needs N x C x H x W", &op, chw));
    aic_conv2d_dims d = {.C = chw[0], .H = chw[1], .W = chw[2]};
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
    float *out = aic_act(m, op->out), *weight = aic_param_data(m, op->param[0]),
          *bias = aic_param_data(m, op->param[1]);
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

static void conv_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_conv2d_dims *d = &op->attr.conv;
    snprintf(buf, size, "out_channels=%d kernel=%dx%d stride=%dx%d pad=%dx%d dilation=%dx%d groups=%d", d->OC, d->KH,
             d->KW, d->SH, d->SW, d->PH, d->PW, d->DH, d->DW, d->G);
}

static double conv_flops(const aic_model_t *m, const aic_op *op) {
    const aic_conv2d_dims *d = &op->attr.conv;
    return 2.0 * d->OC * d->OH * d->OW * (double)(d->C / d->G) * d->KH * d->KW;
}

#ifdef AICON_HAVE_CUDA
/* On the GPU: cuDNN. */
static aic_status conv_fwd_cuda(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = b->n;
    return aic_cuda_conv2d_forward(aic_act(m, op->out), aic_act(m, op->in[0]), aic_param_data(m, op->param[0]),
                                   aic_param_data(m, op->param[1]), &d);
}

static aic_status conv_bwd_cuda(aic_model_t *m, aic_op *op, int n) {
    aic_conv2d_dims d = op->attr.conv;
    d.N = n;
    return aic_cuda_conv2d_backward(aic_act_grad(m, op->in[0]), aic_param_grad(m, op->param[0]),
                                    aic_param_grad(m, op->param[1]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                                    aic_param_data(m, op->param[0]), &d);
}
#endif

const aic_op_desc aic_op_conv2d = {"conv2d", {conv_fwd, conv_bwd},
                                   AIC_CUDA_KERNELS(conv_fwd_cuda, conv_bwd_cuda), conv_attrs, conv_flops, AIC_BATCH_FIRST};
