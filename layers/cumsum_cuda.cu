// SPDX-License-Identifier: Apache-2.0
// cumsum: one thread per line, summing it in order in double as the CPU kernels do (layers/cumsum_line.h).
#include "layers/cuda_common.cuh"
#include "layers/cumsum_line.h"

__global__ static void cumsum_k(float *out, const float *in, aic_cumsum_dims d, bool reverse, bool accumulate,
                                size_t lines) {
    AIC_GRID_STRIDE(t, lines) {
        const size_t o = t / d.inner, i = t % d.inner, at = o * d.len * d.inner + i;
        aic_cumsum_line(out + at, in + at, d.len, d.inner, d.exclusive, reverse, accumulate);
    }
}

extern "C" aic_status aic_cuda_cumsum_forward(float *y, const float *x, const aic_cumsum_dims *d) {
    const size_t lines = d->outer * d->inner;
    return AIC_LAUNCH_N(lines, cumsum_k, y, x, *d, d->reverse, false, lines);
}

extern "C" aic_status aic_cuda_cumsum_backward(float *dx, const float *dy, const aic_cumsum_dims *d) {
    const size_t lines = d->outer * d->inner;
    return dx ? AIC_LAUNCH_N(lines, cumsum_k, dx, dy, *d, !d->reverse, true, lines) : AIC_OK;
}
