// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

#include <math.h>

void aic_sigmoid_forward(float *out, const float *inp, size_t n) {
    // out, inp: n
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        // exp of a non-positive argument only: no overflow for large |x|
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void aic_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
    // dinp, dout, out: n
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}
