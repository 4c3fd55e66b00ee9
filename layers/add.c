// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_add_forward(float *out, const float *a, const float *b, size_t n) {
    // out, a, b: n
    AIC_KERNEL_ARG(out && a && b, "out, a or b is NULL");
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
    return AIC_OK;
}

aic_status aic_add_backward(float *da, float *db, const float *dout, size_t n) {
    // da, db, dout: n
    AIC_KERNEL_ARG(dout || (!da && !db), "dout is NULL");
    if (da)
        for (size_t i = 0; i < n; i++)
            da[i] += dout[i];
    if (db)
        for (size_t i = 0; i < n; i++)
            db[i] += dout[i];
    return AIC_OK;
}
