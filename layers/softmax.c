// SPDX-License-Identifier: Apache-2.0
/* Softmax and log-softmax over one axis of a tensor viewed as outer x K x inner: element (o, k, i)
 * lies at (o * K + k) * inner + i, so the K values of one softmax are `inner` floats apart. Both
 * subtract the maximum before exp (no overflow) and sum in double in a fixed order (reproducible). */
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/softmax_row.h"
#include "layers/cpu_clones.h"

#include <math.h>
#include <stdbool.h>

// K > 0: every softmax has a maximum; outer or inner 0 is an empty tensor.
#define CHECK_K(K) AIC_KERNEL_ARG((K) > 0, "K %d must be positive", (K))

/* y = (x - max) - log(sum exp(x - max)), the exps held in y for a moment. */
static inline void log_softmax_row(float *y, const float *x, int K, size_t stride) {
    const float max = aic_row_max(x, K, stride);
    for (int k = 0; k < K; k++)
        y[(size_t)k * stride] = aic_expf(x[(size_t)k * stride] - max);
    const double lse = log(aic_row_dot(y, NULL, K, stride)); // the sum >= 1: finite
    for (int k = 0; k < K; k++)
        y[(size_t)k * stride] = (float)((double)(x[(size_t)k * stride] - max) - lse);
}

/* Each pass calls its row function twice, with a constant stride 1 where rows are contiguous
 * (inner 1): inlined there, the row's loops vectorize, which a variable stride prevents. */
AIC_CPU_CLONES
static void forward_rows(float *out, const float *inp, size_t outer, int K, size_t inner, bool log_softmax) {
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const size_t base = o * (size_t)K * inner + i;
            if (log_softmax && inner == 1)
                log_softmax_row(out + base, inp + base, K, 1);
            else if (log_softmax)
                log_softmax_row(out + base, inp + base, K, inner);
            else if (inner == 1)
                aic_softmax_row(out + base, inp + base, K, 1, NULL);
            else
                aic_softmax_row(out + base, inp + base, K, inner, NULL);
        }
}

aic_status aic_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    // out, inp: outer x K x inner
    CHECK_K(K);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    forward_rows(out, inp, outer, K, inner, false);
    return AIC_OK;
}

/* One K-vector of both backward passes: dy reduces (weighted by y for softmax) to one sum first. */
static inline void backward_row(float *dx, const float *dy, const float *y, int K, size_t stride, bool log_softmax,
                                bool write) {
    /* (write ? 0 : dx) + g, a select rather than a branch: the loop vectorizes (and whatever dx held,
     * a NaN of a diverged step included, is not read into the result) */
    if (log_softmax) {
        const double sum = aic_row_dot(dy, NULL, K, stride);
        for (int k = 0; k < K; k++) {
            const size_t e = (size_t)k * stride;
            dx[e] = (write ? 0.0f : dx[e]) + (float)(dy[e] - aic_expf(y[e]) * sum);
        }
    } else {
        const double sum = aic_row_dot(dy, y, K, stride);
        for (int k = 0; k < K; k++) {
            const size_t e = (size_t)k * stride;
            dx[e] = (write ? 0.0f : dx[e]) + (float)(y[e] * (dy[e] - sum));
        }
    }
}

AIC_CPU_CLONES
static aic_status backward(const char *kernel, float *dinp, const float *dout, const float *out, size_t outer, int K,
                           size_t inner, bool log_softmax, bool write) {
    if (K <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "K %d must be positive", K);
    if (!dinp)
        return AIC_OK;
    if (!dout || !out)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dout or out is NULL");
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const size_t base = o * (size_t)K * inner + i;
            if (inner == 1)
                backward_row(dinp + base, dout + base, out + base, K, 1, log_softmax, write);
            else
                backward_row(dinp + base, dout + base, out + base, K, inner, log_softmax, write);
        }
    return AIC_OK;
}

aic_status aic_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K, size_t inner,
                                bool write) {
    // dinp, dout, out: outer x K x inner; dinp += y * (dy - sum_k dy * y)
    return backward(__func__, dinp, dout, out, outer, K, inner, false, write);
}

aic_status aic_log_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    // out, inp: outer x K x inner
    CHECK_K(K);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    forward_rows(out, inp, outer, K, inner, true);
    return AIC_OK;
}

aic_status aic_log_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                    size_t inner, bool write) {
    // dinp, dout, out: outer x K x inner; dinp += dy - exp(y) * sum_k dy
    return backward(__func__, dinp, dout, out, outer, K, inner, true, write);
}
