// SPDX-License-Identifier: Apache-2.0
/* 3-D convolution on the CPU: every output and gradient element its own sum (layers/window3d.h). */
#include "layers/kernel_check.h"
#include "layers/window3d.h"

static aic_status conv3d_check(const char *kernel, const aic_conv3d_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    bool ok = d->N >= 0 && d->C > 0 && d->OC > 0 && d->G > 0 && d->C % d->G == 0 && d->OC % d->G == 0;
    for (int a = 0; a < 3; a++)
        ok = ok && d->in[a] > 0 && d->k[a] > 0 && d->s[a] > 0 && d->p[a] >= 0 && d->dil[a] > 0 && d->out[a] > 0;
    if (!ok)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, groups %d must divide C %d and OC %d, input %dx%dx%d, "
                               "kernel %dx%dx%d, stride, dilation and output %dx%dx%d must be positive, padding "
                               "%dx%dx%d not negative",
                               d->N, d->G, d->C, d->OC, d->in[0], d->in[1], d->in[2], d->k[0], d->k[1], d->k[2],
                               d->out[0], d->out[1], d->out[2], d->p[0], d->p[1], d->p[2]);
    return AIC_OK;
}

aic_status aic_conv3d_forward(float *out, const float *inp, const float *weight, const float *bias,
                              const aic_conv3d_dims *d) {
    AIC_TRY(conv3d_check(__func__, d));
    AIC_KERNEL_ARG(out && inp && weight, "out, inp or weight is NULL");
    const size_t n = (size_t)d->N * d->OC * aic_w3_volume(d->out);
    for (size_t i = 0; i < n; i++)
        out[i] = aic_conv3d_out(d, inp, weight, bias, i);
    return AIC_OK;
}

aic_status aic_conv3d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const aic_conv3d_dims *d) {
    AIC_TRY(conv3d_check(__func__, d));
    AIC_KERNEL_ARG(dout && inp && weight, "dout, inp or weight is NULL");
    if (dinp)
        for (size_t i = 0, n = (size_t)d->N * d->C * aic_w3_volume(d->in); i < n; i++)
            dinp[i] += aic_conv3d_dinp(d, dout, weight, i);
    if (dweight)
        for (size_t i = 0, n = (size_t)d->OC * (d->C / d->G) * aic_w3_volume(d->k); i < n; i++)
            dweight[i] += aic_conv3d_dweight(d, dout, inp, i);
    if (dbias)
        for (int oc = 0; oc < d->OC; oc++)
            dbias[oc] += aic_conv3d_dbias(d, dout, oc);
    return AIC_OK;
}
