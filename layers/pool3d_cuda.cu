// SPDX-License-Identifier: Apache-2.0
// 3-D max and average pooling on the GPU: one thread per output or input-gradient element, each
// summing the formula of layers/window3d.h that the CPU kernels (pool3d.c) run; backward gathers
// over the windows holding an input, so it needs no atomics.
#include "layers/cuda_common.cuh"
#include "layers/window3d.h"

__global__ static void maxpool3d_fwd_k(float *out, int32_t *argmax, const float *inp, aic_pool3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) out[i] = aic_maxpool3d_out(&d, inp, i, &argmax[i]);
}

__global__ static void avgpool3d_fwd_k(float *out, const float *inp, aic_pool3d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) out[i] = aic_avgpool3d_out(&d, inp, i);
}

// argmax NULL: average pooling's gradient
__global__ static void pool3d_bwd_k(float *dinp, const float *dout, const int32_t *argmax, aic_pool3d_dims d,
                                    size_t n) {
    AIC_GRID_STRIDE(i, n) dinp[i] += aic_pool3d_dinp(&d, dout, argmax, i);
}

static size_t outputs(const aic_pool3d_dims *d) { return (size_t)d->N * d->C * aic_w3_volume(d->out); }
static size_t inputs(const aic_pool3d_dims *d) { return (size_t)d->N * d->C * aic_w3_volume(d->in); }

extern "C" aic_status aic_cuda_maxpool3d_forward(float *out, int32_t *argmax, const float *inp,
                                                 const aic_pool3d_dims *d) {
    return AIC_LAUNCH_N(outputs(d), maxpool3d_fwd_k, out, argmax, inp, *d, outputs(d));
}
extern "C" aic_status aic_cuda_maxpool3d_backward(float *dinp, const float *dout, const int32_t *argmax,
                                                  const aic_pool3d_dims *d) {
    return dinp ? AIC_LAUNCH_N(inputs(d), pool3d_bwd_k, dinp, dout, argmax, *d, inputs(d)) : AIC_OK;
}
extern "C" aic_status aic_cuda_avgpool3d_forward(float *out, const float *inp, const aic_pool3d_dims *d) {
    return AIC_LAUNCH_N(outputs(d), avgpool3d_fwd_k, out, inp, *d, outputs(d));
}
extern "C" aic_status aic_cuda_avgpool3d_backward(float *dinp, const float *dout, const aic_pool3d_dims *d) {
    return dinp ? AIC_LAUNCH_N(inputs(d), pool3d_bwd_k, dinp, dout, (const int32_t *)NULL, *d, inputs(d)) : AIC_OK;
}
