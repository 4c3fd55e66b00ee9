// SPDX-License-Identifier: Apache-2.0
/* Softmax and log-softmax over one axis of a tensor viewed as outer x K x inner: element (o, k, i)
 * lies at (o * K + k) * inner + i, so the K values of one softmax are `inner` floats apart. Both
 * subtract the maximum before exp (no overflow) and sum in double in index order (reproducible). */
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/softmax_row.h"

#include <math.h>
#include <stdbool.h>

// K > 0: every softmax has a maximum; outer or inner 0 is an empty tensor.
#define CHECK_K(K) AIC_KERNEL_ARG((K) > 0, "K %d must be positive", (K))

aic_status aic_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    // out, inp: outer x K x inner
    CHECK_K(K);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++)
            aic_softmax_row(out + o * (size_t)K * inner + i, inp + o * (size_t)K * inner + i, K, inner, NULL);
    return AIC_OK;
}

/* Both backward passes: each K-vector reduces dy (weighted by y for softmax) to one sum first. */
static aic_status backward(const char *kernel, float *dinp, const float *dout, const float *out, size_t outer, int K,
                           size_t inner, bool log_softmax) {
    if (K <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "K %d must be positive", K);
    if (!dinp)
        return AIC_OK;
    if (!dout || !out)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dout or out is NULL");
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const size_t base = o * (size_t)K * inner + i;
            double sum = 0.0;
            for (int k = 0; k < K; k++) {
                const size_t e = base + (size_t)k * inner;
                sum += log_softmax ? (double)dout[e] : (double)dout[e] * out[e];
            }
            for (int k = 0; k < K; k++) {
                const size_t e = base + (size_t)k * inner;
                dinp[e] += log_softmax ? (float)((double)dout[e] - exp((double)out[e]) * sum)
                                       : (float)((double)out[e] * ((double)dout[e] - sum));
            }
        }
    return AIC_OK;
}

aic_status aic_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K, size_t inner) {
    // dinp, dout, out: outer x K x inner; dinp += y * (dy - sum_k dy * y)
    return backward(__func__, dinp, dout, out, outer, K, inner, false);
}

aic_status aic_log_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    // out, inp: outer x K x inner; out = (x - max) - log(sum exp(x - max))
    CHECK_K(K);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *x = inp + o * (size_t)K * inner + i; // K, stride inner
            float *y = out + o * (size_t)K * inner + i;       // K, stride inner
            const float max = aic_row_max(x, K, inner);
            double sum = 0.0;
            for (int k = 0; k < K; k++)
                sum += expf(x[(size_t)k * inner] - max);
            const double lse = log(sum); // sum >= 1: finite
            for (int k = 0; k < K; k++)
                y[(size_t)k * inner] = (float)((double)(x[(size_t)k * inner] - max) - lse);
        }
    return AIC_OK;
}

aic_status aic_log_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                    size_t inner) {
    // dinp, dout, out: outer x K x inner; dinp += dy - exp(y) * sum_k dy
    return backward(__func__, dinp, dout, out, outer, K, inner, true);
}
