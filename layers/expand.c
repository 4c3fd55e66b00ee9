// SPDX-License-Identifier: Apache-2.0
/* expand: one sample's values repeated for every row of the batch, and back the rows' gradients
 * summed (in double, rows in order). */
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_expand_forward(float *out, const float *p, int rows, size_t numel) {
    AIC_KERNEL_ARG(out && p && rows >= 0, "out or p is NULL, or rows %d negative", rows);
    for (int r = 0; r < rows; r++)
        for (size_t i = 0; i < numel; i++)
            out[(size_t)r * numel + i] = p[i];
    return AIC_OK;
}

aic_status aic_expand_backward(float *dp, const float *dout, int rows, size_t numel) {
    AIC_KERNEL_ARG(dp && dout && rows >= 0, "dp or dout is NULL, or rows %d negative", rows);
    for (size_t i = 0; i < numel; i++) {
        double s = 0.0;
        for (int r = 0; r < rows; r++)
            s += dout[(size_t)r * numel + i];
        dp[i] += (float)s;
    }
    return AIC_OK;
}
