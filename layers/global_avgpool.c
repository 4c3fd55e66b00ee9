// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_global_avgpool_forward(float *out, const float *inp, int N, int C, int S) {
    // out: N x C; inp: N x C x S
    AIC_KERNEL_ARG(N >= 0 && C > 0 && S > 0, "N %d must not be negative, C %d and S %d must be positive", N, C, S);
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    const size_t planes = (size_t)N * C;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *x = inp + pl * S; // S
        double sum = 0.0;
        for (int s = 0; s < S; s++)
            sum += x[s];
        out[pl] = (float)(sum / S);
    }
    return AIC_OK;
}

aic_status aic_global_avgpool_backward(float *dinp, const float *dout, int N, int C, int S) {
    // dinp: N x C x S; dout: N x C
    AIC_KERNEL_ARG(N >= 0 && C > 0 && S > 0, "N %d must not be negative, C %d and S %d must be positive", N, C, S);
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout, "dout is NULL");
    const size_t planes = (size_t)N * C;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dx = dinp + pl * S; // S
        float g = dout[pl] / (float)S;
        for (int s = 0; s < S; s++)
            dx[s] += g;
    }
    return AIC_OK;
}
