// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

void aic_relu_forward(float *out, const float *inp, size_t n) {
    // out, inp: n
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] < 0.0f ? 0.0f : inp[i]; // a NaN passes through, as in PyTorch
}

void aic_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    // dinp, dout, out: n
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i]; // read unconditionally, so the compiler may use a select, not a branch
        dinp[i] += out[i] > 0.0f ? g : -0.0f; // x + -0 is x for every x, -0 included
    }
}
