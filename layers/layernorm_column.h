// SPDX-License-Identifier: Apache-2.0
/* Layer normalization's parameter gradients for one column, written once for the C kernel
 * (layers/layernorm.c) and the CUDA one (layers/layernorm_cuda.cu): the same sums in the same order. */
#ifndef AICON_LAYERS_LAYERNORM_COLUMN_H
#define AICON_LAYERS_LAYERNORM_COLUMN_H

#include <stddef.h>

#include "layers/host_device.h"

/* dweight[c] += sum over rows of dout * xhat, dbias[c] += sum of dout (each NULL: not wanted); summed
 * in double over the rows in row order. dout, inp: rows x cols; mean, rstd: rows. */
AIC_HD void aic_layernorm_param_grads_column(float *dweight, float *dbias, const float *dout, const float *inp,
                                             const float *mean, const float *rstd, int rows, int cols, int c) {
    double sw = 0.0, sb = 0.0;
    for (int r = 0; r < rows; r++) {
        const size_t i = (size_t)r * cols + c;
        const float xhat = (inp[i] - mean[r]) * rstd[r];
        sw += (double)dout[i] * xhat;
        sb += dout[i];
    }
    if (dweight)
        dweight[c] += (float)sw;
    if (dbias)
        dbias[c] += (float)sb;
}

#endif
