// SPDX-License-Identifier: Apache-2.0
/* Layer normalization over the last `cols` values of each row. The row statistics are summed in
 * double in index order, with a two-pass variance (no cancellation when |mean| >> std); the saved
 * float mean and 1/std are what both the output and backward use, so backward differentiates exactly
 * the function forward computed. Parameter gradients are reduced column by column over the rows in
 * row order, in double: the same order layers/layernorm_cuda.cu uses. */
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/layernorm_column.h"

#include <math.h>

// rows may be 0 (an empty batch); a row holds at least one value.
#define CHECK_DIMS(rows, cols)                                                                              \
    AIC_KERNEL_ARG((rows) >= 0 && (cols) > 0, "rows %d must not be negative and cols %d must be positive",   \
                   (rows), (cols))

aic_status aic_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                 const float *bias, int rows, int cols, float eps) {
    // out, inp: rows x cols; mean, rstd: rows; weight, bias: cols (NULL: 1 and 0)
    CHECK_DIMS(rows, cols);
    AIC_KERNEL_ARG(out && mean && rstd && inp, "a buffer (out, mean, rstd, inp) is NULL");
    AIC_KERNEL_ARG(eps >= 0.0f, "eps %g must not be negative", (double)eps);
    for (int r = 0; r < rows; r++) {
        const float *x = inp + (size_t)r * cols; // cols
        float *y = out + (size_t)r * cols;       // cols
        double sum = 0.0;
        for (int c = 0; c < cols; c++)
            sum += x[c];
        const double mu = sum / cols;
        double sq = 0.0;
        for (int c = 0; c < cols; c++) {
            const double d = x[c] - mu;
            sq += d * d;
        }
        const float m = (float)mu, s = (float)(1.0 / sqrt(sq / cols + (double)eps));
        mean[r] = m;
        rstd[r] = s;
        for (int c = 0; c < cols; c++) {
            const float xhat = (x[c] - m) * s;
            y[c] = xhat * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
    }
    return AIC_OK;
}

aic_status aic_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                  const float *weight, const float *mean, const float *rstd, int rows, int cols) {
    // dinp, dout, inp: rows x cols; dweight, dbias, weight: cols (weight NULL: 1); mean, rstd: rows
    CHECK_DIMS(rows, cols);
    AIC_KERNEL_ARG(dout && inp && mean && rstd, "a buffer (dout, inp, mean, rstd) is NULL");
    if (dinp) {
        for (int r = 0; r < rows; r++) {
            const float *x = inp + (size_t)r * cols, *dy = dout + (size_t)r * cols; // cols
            float *dx = dinp + (size_t)r * cols;                                     // cols
            const float m = mean[r], s = rstd[r];
            // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight: the mean and the
            // variance depend on every x of the row, which removes these two projections
            double sg = 0.0, sgx = 0.0;
            for (int c = 0; c < cols; c++) {
                const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
                sg += g;
                sgx += (double)g * xhat;
            }
            const float mg = (float)(sg / cols), mgx = (float)(sgx / cols);
            for (int c = 0; c < cols; c++) {
                const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
                dx[c] += s * (g - mg - xhat * mgx);
            }
        }
    }
    if (dweight || dbias) {
        for (int c = 0; c < cols; c++)
            aic_layernorm_param_grads_column(dweight, dbias, dout, inp, mean, rstd, rows, cols, c);
    }
    return AIC_OK;
}
