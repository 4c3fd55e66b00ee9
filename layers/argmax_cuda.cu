// SPDX-License-Identifier: Apache-2.0
// argmax, argmin and hardmax (layers/argmax.c): a thread per (outer, inner) position walks its K
// values in order with the CPU kernel's formula (layers/argmax.h), so both pick the same position.
#include "layers/argmax.h"
#include "layers/cuda_common.cuh"

__global__ static void argmax_k(int32_t *idx, float *onehot, const float *x, aic_argmax_dims d) {
    AIC_GRID_STRIDE(e, d.outer * d.inner) {
        const size_t o = e / d.inner, i = e % d.inner, base = o * (size_t)d.K * d.inner + i;
        const int k = aic_argmax_pick(x + base, d.K, d.inner, d.min, d.last);
        if (idx)
            idx[e] = k;
        for (int j = 0; onehot && j < d.K; j++)
            onehot[base + (size_t)j * d.inner] = j == k ? 1.0f : 0.0f;
    }
}

extern "C" aic_status aic_cuda_argmax_forward(int32_t *idx, float *onehot, const float *x, const aic_argmax_dims *d) {
    return AIC_LAUNCH_N(d->outer * d->inner, argmax_k, idx, onehot, x, *d);
}
