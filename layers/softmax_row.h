// SPDX-License-Identifier: Apache-2.0
/* One softmax over K values x[k * stride], shared by the CPU softmax (layers/softmax.c) and the
 * softmax cross-entropy of both backends (layers/softmax_xent.c, layers/softmax_cuda.cu), so all
 * three compute it one way: the maximum is subtracted before exp (every exp in (0, 1], no overflow)
 * and the sum is taken in double in a fixed order (reproducible). */
#ifndef AICON_LAYERS_SOFTMAX_ROW_H
#define AICON_LAYERS_SOFTMAX_ROW_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/host_device.h"
#include "layers/vexp.h"

/* A float's bits as an int that orders as the float does (a negative float's magnitude bits flipped;
 * the map is its own inverse): an integer max reduction vectorizes where a float one (NaN, -0) does
 * not, and its result is the same in any order. */
AIC_HD int32_t aic_float_order_key(float x) {
    union {
        float f;
        int32_t i;
    } v = {x};
    return v.i ^ ((v.i >> 31) & 0x7fffffff);
}

AIC_HD float aic_row_max(const float *x, int K, size_t stride) {
    int32_t max = aic_float_order_key(x[0]);
    for (int k = 1; k < K; k++) {
        const int32_t key = aic_float_order_key(x[(size_t)k * stride]);
        max = key > max ? key : max;
    }
    union {
        int32_t i;
        float f;
    } v = {max ^ ((max >> 31) & 0x7fffffff)};
    return v.f;
}

/* The sum of x[k * stride] * w[k * stride] (w NULL: of x[k * stride]) in double, in 8 interleaved
 * partial sums added in a fixed order: the same result on every run and backend, and a loop the
 * compiler vectorizes (one running sum cannot). */
AIC_HD double aic_row_dot(const float *x, const float *w, int K, size_t stride) {
    double part[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    int k = 0;
    for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; l++) {
            const size_t e = (size_t)(k + l) * stride;
            part[l] += w ? (double)x[e] * w[e] : (double)x[e];
        }
    for (; k < K; k++) {
        const size_t e = (size_t)k * stride;
        part[k % 8] += w ? (double)x[e] * w[e] : (double)x[e];
    }
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

/* y[k * stride] = softmax(x)[k]. Returns the sum of exp(x - max) and, where max is not NULL, *max:
 * the parts of a log-sum-exp. */
AIC_HD double aic_softmax_row(float *y, const float *x, int K, size_t stride, float *max) {
    const float m = aic_row_max(x, K, stride);
    for (int k = 0; k < K; k++)
        y[(size_t)k * stride] = aic_expf(x[(size_t)k * stride] - m); // in (0, 1]
    const double sum = aic_row_dot(y, NULL, K, stride), inv = 1.0 / sum;
    for (int k = 0; k < K; k++)
        y[(size_t)k * stride] = (float)(y[(size_t)k * stride] * inv);
    if (max)
        *max = m;
    return sum;
}

#endif
