// SPDX-License-Identifier: Apache-2.0
/* argmax, argmin and hardmax over one axis of a tensor viewed as outer x K x inner (layers/argmax.h
 * picks the position). No backward: an index has no gradient, and a one-hot's is zero. */
#include "layers/argmax.h"
#include "layers/kernel_check.h"
#include "layers/layers.h"

aic_status aic_argmax_forward(int32_t *idx, float *onehot, const float *x, const aic_argmax_dims *d) {
    AIC_KERNEL_ARG(d && d->K > 0, "K must be positive");
    AIC_KERNEL_ARG(x && (idx || onehot), "x is NULL, or both idx and onehot are");
    for (size_t o = 0; o < d->outer; o++)
        for (size_t i = 0; i < d->inner; i++) {
            const size_t base = o * (size_t)d->K * d->inner + i;
            const int k = aic_argmax_pick(x + base, d->K, d->inner, d->min, d->last);
            if (idx)
                idx[o * d->inner + i] = k;
            for (int j = 0; onehot && j < d->K; j++)
                onehot[base + (size_t)j * d->inner] = j == k ? 1.0f : 0.0f;
        }
    return AIC_OK;
}
