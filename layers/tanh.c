// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

#include <math.h>

void aic_tanh_forward(float *out, const float *inp, size_t n) {
    // out, inp: n
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(inp[i]);
}

void aic_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
    // dinp, dout, out: n
    for (size_t i = 0; i < n; i++)
        dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}
