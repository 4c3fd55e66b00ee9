// SPDX-License-Identifier: Apache-2.0
/* Rows are contiguous, so element k of the N x F buffer has Philox counter row_offset * F + k. One
 * Philox call gives four words, used by four consecutive counters: element e reads word e % 4 of
 * block e / 4. A sample's mask depends only on its global row, not on how the batch is split. */
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include "core/rng.h"

// dst (=, or += when accumulate) src * mask / (1-p); the forward and the backward mask are one loop.
static void dropout_apply(float *dst, const float *src, int accumulate, int N, size_t F, float p, uint64_t key,
                          int64_t row_offset) {
    // dst, src: N x F
    const size_t n = (size_t)N * F;
    const uint64_t e0 = (uint64_t)row_offset * F;
    const float scale = 1.0f / (1.0f - p);
    aic_philox_block blk = aic_philox(key, 0, e0 / 4);
    for (size_t k = 0; k < n; k++) {
        uint64_t e = e0 + k;
        if (e % 4 == 0 && k > 0)
            blk = aic_philox(key, 0, e / 4);
        // kept iff u >= p: p = 0 keeps all, p = 1 drops all (the infinite scale is never used)
        float v = aic_u32_to_unit(blk.v[e % 4]) >= p ? src[k] * scale : 0.0f;
        if (accumulate)
            dst[k] += v;
        else
            dst[k] = v;
    }
}

// p = 1 is allowed (everything dropped); a NaN p is not.
#define CHECK_ARGS(N, p)                                                                                    \
    AIC_KERNEL_ARG((N) >= 0 && (p) >= 0.0f && (p) <= 1.0f, "N %d must not be negative, p %g must be in [0, 1]", \
                   (N), (p))

aic_status aic_dropout_forward(float *out, const float *inp, int N, size_t F, float p, uint64_t key,
                               int64_t row_offset) {
    // out, inp: N x F
    CHECK_ARGS(N, p);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    dropout_apply(out, inp, 0, N, F, p, key, row_offset);
    return AIC_OK;
}

aic_status aic_dropout_backward(float *dinp, const float *dout, int N, size_t F, float p, uint64_t key,
                                int64_t row_offset) {
    // dinp, dout: N x F
    CHECK_ARGS(N, p);
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout, "dout is NULL");
    dropout_apply(dinp, dout, 1, N, F, p, key, row_offset);
    return AIC_OK;
}
