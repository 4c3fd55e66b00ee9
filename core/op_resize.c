// SPDX-License-Identifier: Apache-2.0
/* resize2d: nearest or bilinear resize of N x C x H x W to a size or by scales (layers/resize.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_resize2d(aic_model_t *m, const char *name, aic_value x, const aic_resize2d_opts *o, aic_value *out) {
    aic_op *op;
    int chw[3];
    AIC_TRY(aic_op_begin_image(m, AIC_OP_RESIZE2D, name, x, o, "resize2d needs N x C x H x W", &op, chw));
    aic_resize2d_dims d = {.C = chw[0], .H = chw[1], .W = chw[2], .mode = (int)o->mode, .coord = (int)o->coord,
                           .nearest = (int)o->nearest};
    if (!aic_resize_mode_name(d.mode) || !aic_resize_coord_name(d.coord) || !aic_resize_nearest_name(d.nearest))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': mode %d, coordinate mode %d or nearest mode %d is not one of "
                        "aic_resize_mode, aic_resize_coord, aic_resize_nearest", op->name, (int)o->mode,
                        (int)o->coord, (int)o->nearest);
    const bool sized = o->size[0] != 0 || o->size[1] != 0;
    if (sized) {
        if (o->size[0] <= 0 || o->size[1] <= 0 || o->scale[0] != 0.0f || o->scale[1] != 0.0f)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': size %dx%d must be positive, and scale 0x0 with it",
                            op->name, o->size[0], o->size[1]);
        d.OH = o->size[0];
        d.OW = o->size[1];
        d.scale_h = (float)d.OH / (float)d.H;
        d.scale_w = (float)d.OW / (float)d.W;
    } else {
        if (!(o->scale[0] > 0.0f) || !(o->scale[1] > 0.0f) || !isfinite(o->scale[0]) || !isfinite(o->scale[1]))
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': scale %gx%g must be positive and finite (or give a size)",
                            op->name, (double)o->scale[0], (double)o->scale[1]);
        /* onnxruntime's output size: the float product, truncated */
        const float oh = o->scale[0] * (float)d.H, ow = o->scale[1] * (float)d.W;
        if (!(oh >= 1.0f) || !(ow >= 1.0f) || oh > (float)INT_MAX / 2 || ow > (float)INT_MAX / 2)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': scale %gx%g of input %dx%d gives an output of %gx%g", op->name,
                            (double)o->scale[0], (double)o->scale[1], d.H, d.W, (double)oh, (double)ow);
        d.OH = (int)oh;
        d.OW = (int)ow;
        d.scale_h = o->scale[0];
        d.scale_w = o->scale[1];
    }
    op->attr.resize = d;
    const int64_t oshape[3] = {d.C, d.OH, d.OW};
    return aic_graph_add_value(m, op, AIC_F32, 3, oshape, out);
}

static aic_status resize_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_resize2d_dims d = op->attr.resize;
    d.N = b->n;
    return AIC_KERNEL(m, resize2d_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &d);
}

static aic_status resize_bwd(aic_model_t *m, aic_op *op, int n) {
    float *dinp = aic_act_grad(m, op->in[0]);
    if (!dinp)
        return AIC_OK;
    aic_resize2d_dims d = op->attr.resize;
    d.N = n;
    return AIC_KERNEL(m, resize2d_backward)(dinp, aic_act_grad(m, op->out), &d);
}

static void resize_attrs(const aic_op *op, char *buf, size_t size) {
    const aic_resize2d_dims *d = &op->attr.resize;
    snprintf(buf, size, "mode=%s coordinate_transformation_mode=%s nearest_mode=%s out=%dx%d scale=%.9gx%.9g",
             aic_resize_mode_name(d->mode), aic_resize_coord_name(d->coord), aic_resize_nearest_name(d->nearest),
             d->OH, d->OW, (double)d->scale_h, (double)d->scale_w);
}

/* Nearest copies; linear weighs four pixels (four multiplies, three adds) and computes their weights. */
static double resize_flops(const aic_model_t *m, const aic_op *op) {
    const aic_resize2d_dims *d = &op->attr.resize;
    return d->mode == AIC_RESIZE_LINEAR ? 11.0 * d->C * d->OH * d->OW : 0.0;
}

const aic_op_desc aic_op_resize2d = {"resize2d", {resize_fwd, resize_bwd}, AIC_CUDA_KERNELS(resize_fwd, resize_bwd),
                                     resize_attrs, resize_flops, AIC_BATCH_FIRST};
