// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

void aic_leaky_relu_forward(float *out, const float *inp, size_t n, float alpha) {
    // out, inp: n
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] >= 0.0f ? inp[i] : alpha * inp[i]; // NaN: alpha * NaN = NaN passes through
}

void aic_leaky_relu_backward(float *dinp, const float *dout, const float *inp, size_t n, float alpha) {
    // dinp, dout, inp: n. Slope from the forward INPUT's sign; at x == 0 the slope is alpha, as
    // PyTorch's leaky_relu_backward (self > 0 ? grad : grad * negval).
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i];
        dinp[i] += inp[i] > 0.0f ? g : alpha * g;
    }
}
