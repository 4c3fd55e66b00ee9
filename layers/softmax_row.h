// SPDX-License-Identifier: Apache-2.0
/* One softmax over K values x[k * stride], shared by the CPU softmax (layers/softmax.c) and the
 * softmax cross-entropy of both backends (layers/softmax_xent.c, layers/softmax_cuda.cu), so all
 * three compute it one way: the maximum is subtracted before exp (every exp in (0, 1], no overflow)
 * and the sum is taken in double in index order (reproducible). */
#ifndef AICON_LAYERS_SOFTMAX_ROW_H
#define AICON_LAYERS_SOFTMAX_ROW_H

#include <math.h>
#include <stddef.h>

#include "layers/host_device.h"

AIC_HD float aic_row_max(const float *x, int K, size_t stride) {
    float max = x[0];
    for (int k = 1; k < K; k++)
        if (x[(size_t)k * stride] > max)
            max = x[(size_t)k * stride];
    return max;
}

/* y[k * stride] = softmax(x)[k]. Returns the sum of exp(x - max) and, where max is not NULL, *max:
 * the parts of a log-sum-exp. */
AIC_HD double aic_softmax_row(float *y, const float *x, int K, size_t stride, float *max) {
    const float m = aic_row_max(x, K, stride);
    double sum = 0.0;
    for (int k = 0; k < K; k++) {
        y[(size_t)k * stride] = expf(x[(size_t)k * stride] - m); // in (0, 1]
        sum += y[(size_t)k * stride];
    }
    for (int k = 0; k < K; k++)
        y[(size_t)k * stride] = (float)(y[(size_t)k * stride] / sum);
    if (max)
        *max = m;
    return sum;
}

#endif
