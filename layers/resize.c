// SPDX-License-Identifier: Apache-2.0
/* Resize (layers/resize.h): forward reads each output pixel's taps; backward adds each output
 * pixel's gradient into the pixels it read, visiting the outputs in index order. */
#include "layers/resize.h"

#include "layers/kernel_check.h"

static aic_status check_dims(const char *kernel, const aic_resize2d_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->N < 0 || d->C <= 0 || d->H <= 0 || d->W <= 0 || d->OH <= 0 || d->OW <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, C %d, input %dx%d and output %dx%d positive", d->N, d->C,
                               d->H, d->W, d->OH, d->OW);
    if (!aic_resize_mode_name(d->mode) || !aic_resize_coord_name(d->coord) || !aic_resize_nearest_name(d->nearest))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "mode %d, coordinate mode %d or nearest mode %d is unknown",
                               d->mode, d->coord, d->nearest);
    if (!(d->scale_h > 0.0f) || !(d->scale_w > 0.0f) || !isfinite(d->scale_h) || !isfinite(d->scale_w))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "scales %gx%g must be positive and finite",
                               (double)d->scale_h, (double)d->scale_w);
    return AIC_OK;
}

aic_status aic_resize2d_forward(float *out, const float *inp, const aic_resize2d_dims *d) {
    AIC_TRY(check_dims(__func__, d));
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W;
    for (size_t p = 0; p < planes; p++) {
        const float *plane = inp + p * HW;
        float *o = out + p * d->OH * d->OW;
        for (int oy = 0; oy < d->OH; oy++)
            for (int ox = 0; ox < d->OW; ox++)
                o[(size_t)oy * d->OW + ox] = aic_resize_pixel(d, plane, oy, ox);
    }
    return AIC_OK;
}

aic_status aic_resize2d_backward(float *dinp, const float *dout, const aic_resize2d_dims *d) {
    AIC_TRY(check_dims(__func__, d));
    AIC_KERNEL_ARG(dinp && dout, "dinp or dout is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W;
    const int taps = d->mode == AIC_RESIZE_NEAREST ? 1 : 4;
    for (size_t p = 0; p < planes; p++) {
        float *plane = dinp + p * HW;
        const float *g = dout + p * d->OH * d->OW;
        for (int oy = 0; oy < d->OH; oy++)
            for (int ox = 0; ox < d->OW; ox++) {
                int64_t at[4];
                float w[4];
                aic_resize_taps(d, oy, ox, at, w);
                const float go = g[(size_t)oy * d->OW + ox];
                for (int t = 0; t < taps; t++)
                    plane[at[t]] += w[t] * go;
            }
    }
    return AIC_OK;
}
