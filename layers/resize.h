// SPDX-License-Identifier: Apache-2.0
/* Resize of N x C x H x W images (ONNX Resize on the last two axes, torch's F.interpolate): nearest
 * or bilinear, ONNX's coordinate transformation and nearest-rounding modes. Where an output position
 * samples the input is written once here for the C kernels (layers/resize.c) and the CUDA ones
 * (layers/resize_cuda.cu), in float arithmetic in onnxruntime's order, so that ties of the nearest
 * modes fall the same way in all three. */
#ifndef AICON_LAYERS_RESIZE_H
#define AICON_LAYERS_RESIZE_H

#include <math.h>
#include <stdint.h>

#include "aicon/model.h" /* aic_resize_mode, aic_resize_coord, aic_resize_nearest */
#include "aicon/status.h"
#include "layers/host_device.h"

typedef struct {
    int N, C, H, W;     /* input N x C x H x W */
    int OH, OW;         /* output N x C x OH x OW */
    int mode;           /* aic_resize_mode */
    int coord;          /* aic_resize_coord */
    int nearest;        /* aic_resize_nearest (mode nearest) */
    float scale_h, scale_w; /* output over input size as the coordinates use it: given, or OH / H */
} aic_resize2d_dims;

/* The modes by ONNX's names (the attribute values), NULL past the last: the architecture text, the
 * ONNX import and export. */
static inline const char *aic_resize_mode_name(int mode) {
    static const char *const names[] = {"nearest", "linear"};
    return mode >= 0 && mode < 2 ? names[mode] : NULL;
}
static inline const char *aic_resize_coord_name(int coord) {
    static const char *const names[] = {"half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners",
                                        "tf_half_pixel_for_nn"};
    return coord >= 0 && coord < 5 ? names[coord] : NULL;
}
static inline const char *aic_resize_nearest_name(int nearest) {
    static const char *const names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    return nearest >= 0 && nearest < 4 ? names[nearest] : NULL;
}

/* The input coordinate output position o of `out` samples on an axis of `in` positions. */
AIC_HD float aic_resize_source(int coord, int o, float scale, int in, int out) {
    const float x = (float)o;
    switch (coord) {
    case AIC_RESIZE_ASYMMETRIC: return x / scale;
    case AIC_RESIZE_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case AIC_RESIZE_ALIGN_CORNERS: return out == 1 ? 0.0f : x * (float)(in - 1) / (float)(out - 1);
    case AIC_RESIZE_TF_HALF_PIXEL_FOR_NN: return (x + 0.5f) / scale;
    default: return (x + 0.5f) / scale - 0.5f; /* half_pixel */
    }
}

/* Mode nearest: the input position nearest to coordinate s, by the rounding mode, inside the axis. */
AIC_HD int aic_resize_nearest_index(int nearest, float s, int in) {
    float r;
    switch (nearest) {
    case AIC_RESIZE_FLOOR: r = floorf(s); break;
    case AIC_RESIZE_CEIL: r = ceilf(s); break;
    case AIC_RESIZE_ROUND_PREFER_CEIL: r = roundf(s); break; /* halves away from 0: up, for s >= 0 */
    default: r = s == (float)(int64_t)s + 0.5f ? floorf(s) : roundf(s); break;
    }
    return r < 0.0f ? 0 : r > (float)(in - 1) ? in - 1 : (int)r;
}

/* Mode linear: coordinate s (clamped to the axis) lies between positions *i0 and *i1 (equal at the
 * last one), *l of the way to *i1. */
AIC_HD void aic_resize_linear_taps(float s, int in, int *i0, int *i1, float *l) {
    s = s < 0.0f ? 0.0f : s > (float)(in - 1) ? (float)(in - 1) : s;
    *i0 = (int)s;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    *l = s - (float)*i0;
}

/* The up to four input pixels (a plane's offsets) and weights of output pixel (oy, ox); nearest has
 * one, weight 1, the others 0. */
AIC_HD void aic_resize_taps(const aic_resize2d_dims *d, int oy, int ox, int64_t at[4], float w[4]) {
    const float sy = aic_resize_source(d->coord, oy, d->scale_h, d->H, d->OH);
    const float sx = aic_resize_source(d->coord, ox, d->scale_w, d->W, d->OW);
    if (d->mode == AIC_RESIZE_NEAREST) {
        at[0] = (int64_t)aic_resize_nearest_index(d->nearest, sy, d->H) * d->W +
                aic_resize_nearest_index(d->nearest, sx, d->W);
        at[1] = at[2] = at[3] = at[0];
        w[0] = 1.0f;
        w[1] = w[2] = w[3] = 0.0f;
        return;
    }
    int y0, y1, x0, x1;
    float ly, lx;
    aic_resize_linear_taps(sy, d->H, &y0, &y1, &ly);
    aic_resize_linear_taps(sx, d->W, &x0, &x1, &lx);
    at[0] = (int64_t)y0 * d->W + x0;
    at[1] = (int64_t)y0 * d->W + x1;
    at[2] = (int64_t)y1 * d->W + x0;
    at[3] = (int64_t)y1 * d->W + x1;
    w[0] = (1.0f - ly) * (1.0f - lx);
    w[1] = (1.0f - ly) * lx;
    w[2] = ly * (1.0f - lx);
    w[3] = ly * lx;
}

/* Output pixel (oy, ox) of one plane (H x W). */
AIC_HD float aic_resize_pixel(const aic_resize2d_dims *d, const float *plane, int oy, int ox) {
    int64_t at[4];
    float w[4];
    aic_resize_taps(d, oy, ox, at, w);
    if (d->mode == AIC_RESIZE_NEAREST)
        return plane[at[0]];
    return (w[0] * plane[at[0]] + w[1] * plane[at[1]]) + (w[2] * plane[at[2]] + w[3] * plane[at[3]]);
}

/* out: N x C x OH x OW from inp: N x C x H x W. */
aic_status aic_resize2d_forward(float *out, const float *inp, const aic_resize2d_dims *d);
/* dinp: N x C x H x W += every output pixel's gradient (dout) times its weight at each pixel it read,
 * the output pixels visited in index order. */
aic_status aic_resize2d_backward(float *dinp, const float *dout, const aic_resize2d_dims *d);
/* The same on the GPU, a thread per output pixel; backward adds with atomics (layers/resize_cuda.cu). */
aic_status aic_cuda_resize2d_forward(float *out, const float *inp, const aic_resize2d_dims *d);
aic_status aic_cuda_resize2d_backward(float *dinp, const float *dout, const aic_resize2d_dims *d);

#endif
