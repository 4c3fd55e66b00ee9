// SPDX-License-Identifier: Apache-2.0
// Resize on the GPU with layers/resize.h's formulas: a thread per output pixel; backward adds into
// the input gradient with atomics (outputs share input pixels), so its sums' order varies by run.
#include "layers/cuda_common.cuh"
extern "C" {
#include "layers/resize.h"
}

__global__ static void resize_forward_k(float *out, const float *inp, aic_resize2d_dims d, size_t n) {
    const size_t HW = (size_t)d.H * d.W;
    AIC_GRID_STRIDE(i, n) {
        const int ox = (int)(i % d.OW), oy = (int)(i / d.OW % d.OH);
        out[i] = aic_resize_pixel(&d, inp + i / ((size_t)d.OW * d.OH) * HW, oy, ox);
    }
}

__global__ static void resize_backward_k(float *dinp, const float *dout, aic_resize2d_dims d, size_t n) {
    const size_t HW = (size_t)d.H * d.W;
    const int taps = d.mode == AIC_RESIZE_NEAREST ? 1 : 4;
    AIC_GRID_STRIDE(i, n) {
        const int ox = (int)(i % d.OW), oy = (int)(i / d.OW % d.OH);
        float *plane = dinp + i / ((size_t)d.OW * d.OH) * HW;
        int64_t at[4];
        float w[4];
        aic_resize_taps(&d, oy, ox, at, w);
        for (int t = 0; t < taps; t++)
            atomicAdd(plane + at[t], w[t] * dout[i]);
    }
}

extern "C" aic_status aic_cuda_resize2d_forward(float *out, const float *inp, const aic_resize2d_dims *d) {
    const size_t n = (size_t)d->N * d->C * d->OH * d->OW;
    return AIC_LAUNCH_N(n, resize_forward_k, out, inp, *d, n);
}

extern "C" aic_status aic_cuda_resize2d_backward(float *dinp, const float *dout, const aic_resize2d_dims *d) {
    const size_t n = (size_t)d->N * d->C * d->OH * d->OW;
    return AIC_LAUNCH_N(n, resize_backward_k, dinp, dout, *d, n);
}
