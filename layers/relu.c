#include "layers/layers.h"

void aic_relu_forward(float *out, const float *inp, size_t n) {
    // out, inp: n
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] < 0.0f ? 0.0f : inp[i]; // a NaN passes through, as in PyTorch
}

void aic_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    // dinp, dout, out: n
    for (size_t i = 0; i < n; i++)
        if (out[i] > 0.0f)
            dinp[i] += dout[i];
}
