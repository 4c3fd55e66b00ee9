// SPDX-License-Identifier: Apache-2.0
/* 3-D max and average pooling on the CPU: every output and input-gradient element its own sum
 * (layers/window3d.h). */
#include "layers/kernel_check.h"
#include "layers/window3d.h"

static aic_status pool3d_check(const char *kernel, const aic_pool3d_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    bool ok = d->N >= 0 && d->C > 0;
    for (int a = 0; a < 3; a++)
        ok = ok && d->in[a] > 0 && d->k[a] > 0 && d->s[a] > 0 && d->p[a] >= 0 && d->out[a] > 0;
    if (!ok)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, C %d, input %dx%dx%d, kernel %dx%dx%d, stride and output "
                               "%dx%dx%d positive, padding %dx%dx%d not negative",
                               d->N, d->C, d->in[0], d->in[1], d->in[2], d->k[0], d->k[1], d->k[2], d->out[0],
                               d->out[1], d->out[2], d->p[0], d->p[1], d->p[2]);
    return AIC_OK;
}

static size_t outputs(const aic_pool3d_dims *d) { return (size_t)d->N * d->C * aic_w3_volume(d->out); }
static size_t inputs(const aic_pool3d_dims *d) { return (size_t)d->N * d->C * aic_w3_volume(d->in); }

aic_status aic_maxpool3d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool3d_dims *d) {
    AIC_TRY(pool3d_check(__func__, d));
    AIC_KERNEL_ARG(out && argmax && inp, "out, argmax or inp is NULL");
    for (size_t i = 0, n = outputs(d); i < n; i++)
        out[i] = aic_maxpool3d_out(d, inp, i, &argmax[i]);
    return AIC_OK;
}

aic_status aic_maxpool3d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool3d_dims *d) {
    AIC_TRY(pool3d_check(__func__, d));
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout && argmax, "dout or argmax is NULL");
    for (size_t i = 0, n = inputs(d); i < n; i++)
        dinp[i] += aic_pool3d_dinp(d, dout, argmax, i);
    return AIC_OK;
}

aic_status aic_avgpool3d_forward(float *out, const float *inp, const aic_pool3d_dims *d) {
    AIC_TRY(pool3d_check(__func__, d));
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    for (size_t i = 0, n = outputs(d); i < n; i++)
        out[i] = aic_avgpool3d_out(d, inp, i);
    return AIC_OK;
}

aic_status aic_avgpool3d_backward(float *dinp, const float *dout, const aic_pool3d_dims *d) {
    AIC_TRY(pool3d_check(__func__, d));
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout, "dout is NULL");
    for (size_t i = 0, n = inputs(d); i < n; i++)
        dinp[i] += aic_pool3d_dinp(d, dout, NULL, i);
    return AIC_OK;
}
