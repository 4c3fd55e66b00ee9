// SPDX-License-Identifier: Apache-2.0
/* Which of K values x[k * stride] is the extreme, written once for the CPU and CUDA kernels
 * (layers/argmax.c, layers/argmax_cuda.cu) so that both pick the same position. */
#ifndef AICON_LAYERS_ARGMAX_H
#define AICON_LAYERS_ARGMAX_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "layers/host_device.h"

/* The position of the largest value (min: the smallest), the first of equal ones or with last the
 * last. A NaN is the extreme, as in numpy's argmax and argmin (and PyTorch's): the first NaN, or the
 * last with last. */
AIC_HD int aic_argmax_pick(const float *x, int K, size_t stride, bool min, bool last) {
    int best = 0;
    float b = x[0];
    for (int k = 1; k < K; k++) {
        const float v = x[(size_t)k * stride];
        if (isnan(b)) { /* only a later NaN displaces a NaN */
            if (last && isnan(v))
                best = k;
            continue;
        }
        if (isnan(v) || (min ? v < b : v > b) || (last && v == b)) {
            best = k;
            b = v;
        }
    }
    return best;
}

#endif
