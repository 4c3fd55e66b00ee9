// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_clip_forward(float *out, const float *inp, size_t n, float lo, float hi) {
    // out, inp: n. Written as comparisons, not fminf/fmaxf, so a NaN input passes through (as
    // torch.clamp and ONNX Clip); lo = -INFINITY or hi = +INFINITY leave that side open.
    AIC_KERNEL_ARG(lo <= hi, "bounds [%g, %g] must satisfy lo <= hi", lo, hi);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    for (size_t i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x < lo ? lo : x > hi ? hi : x;
    }
    return AIC_OK;
}

aic_status aic_clip_backward(float *dinp, const float *dout, const float *inp, size_t n, float lo, float hi) {
    // dinp, dout, inp: n. The gradient passes where lo <= x <= hi, boundaries INCLUDED, as
    // torch.clamp's backward (where((self >= min) & (self <= max), grad, 0)); note torch's hardtanh
    // excludes them. A NaN input gets no gradient.
    AIC_KERNEL_ARG(lo <= hi, "bounds [%g, %g] must satisfy lo <= hi", lo, hi);
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout && inp, "dout or inp is NULL");
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i];
        dinp[i] += inp[i] >= lo && inp[i] <= hi ? g : -0.0f; // x + -0 is x
    }
    return AIC_OK;
}
