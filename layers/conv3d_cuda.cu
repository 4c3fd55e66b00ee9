// SPDX-License-Identifier: Apache-2.0
// 3-D convolution on the GPU: one thread per output, input-gradient, weight-gradient or bias-gradient
// element, each summing the formula of layers/window3d.h that the CPU kernels (conv3d.c) run, so the
// two agree and backward needs no atomics.
#include "layers/cuda_common.cuh"
#include "layers/window3d.h"

__global__ static void conv3d_fwd_k(float *out, const float *inp, const float *w, const float *bias,
                                    aic_conv3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) out[i] = aic_conv3d_out(&d, inp, w, bias, i);
}

__global__ static void conv3d_dinp_k(float *dinp, const float *dout, const float *w, aic_conv3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) dinp[i] += aic_conv3d_dinp(&d, dout, w, i);
}

__global__ static void conv3d_dweight_k(float *dw, const float *dout, const float *inp, aic_conv3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) dw[i] += aic_conv3d_dweight(&d, dout, inp, i);
}

__global__ static void conv3d_dbias_k(float *db, const float *dout, aic_conv3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) db[i] += aic_conv3d_dbias(&d, dout, (int)i);
}

extern "C" aic_status aic_cuda_conv3d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                              const aic_conv3d_dims *d) {
    const size_t n = (size_t)d->N * d->OC * aic_w3_volume(d->out);
    return AIC_LAUNCH_N(n, conv3d_fwd_k, out, inp, weight, bias, *d, n);
}

extern "C" aic_status aic_cuda_conv3d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                               const float *inp, const float *weight, const aic_conv3d_dims *d) {
    const size_t ni = (size_t)d->N * d->C * aic_w3_volume(d->in);
    const size_t nw = (size_t)d->OC * (d->C / d->G) * aic_w3_volume(d->k), nb = (size_t)d->OC;
    if (dinp)
        AIC_TRY(AIC_LAUNCH_N(ni, conv3d_dinp_k, dinp, dout, weight, *d, ni));
    if (dweight)
        AIC_TRY(AIC_LAUNCH_N(nw, conv3d_dweight_k, dweight, dout, inp, *d, nw));
    return dbias ? AIC_LAUNCH_N(nb, conv3d_dbias_k, dbias, dout, *d, nb) : AIC_OK;
}
