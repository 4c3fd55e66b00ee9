// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

void aic_add_forward(float *out, const float *a, const float *b, size_t n) {
    // out, a, b: n
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void aic_add_backward(float *da, float *db, const float *dout, size_t n) {
    // da, db, dout: n
    if (da)
        for (size_t i = 0; i < n; i++)
            da[i] += dout[i];
    if (db)
        for (size_t i = 0; i < n; i++)
            db[i] += dout[i];
}
