// SPDX-License-Identifier: Apache-2.0
/* One line of a cumulative sum, shared by the CPU kernels (layers/cumsum.c) and the CUDA ones
 * (layers/cumsum_cuda.cu), so both backends give the same floats: the running sum is kept in double,
 * in the line's order, and each output is that sum rounded to float. */
#ifndef AICON_LAYERS_CUMSUM_LINE_H
#define AICON_LAYERS_CUMSUM_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "layers/host_device.h"

/* out[k * stride] = (or +=, with accumulate) the sum of in[j * stride] over j <= k (j < k: exclusive),
 * or over j >= k (j > k) with reverse, for k in 0..len-1. */
AIC_HD void aic_cumsum_line(float *out, const float *in, size_t len, size_t stride, bool exclusive, bool reverse,
                            bool accumulate) {
    double s = 0.0;
    for (size_t k = 0; k < len; k++) {
        const size_t i = (reverse ? len - 1 - k : k) * stride;
        const double v = in[i];
        if (!exclusive)
            s += v;
        out[i] = accumulate ? out[i] + (float)s : (float)s;
        if (exclusive)
            s += v;
    }
}

#endif
