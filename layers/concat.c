// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include <string.h>

aic_status aic_concat_forward(float *out, const float *const *inps, const size_t *inner, int k, size_t outer) {
    // out: outer x sum(inner); inps[i]: outer x inner[i]
    AIC_KERNEL_ARG(k > 0, "%d inputs; at least one is needed", k);
    AIC_KERNEL_ARG(out && inps && inner, "out, inps or inner is NULL");
    for (int i = 0; i < k; i++)
        AIC_KERNEL_ARG(inps[i], "input %d of %d is NULL", i, k);
    for (size_t o = 0; o < outer; o++) {
        for (int i = 0; i < k; i++) {
            memcpy(out, inps[i] + o * inner[i], inner[i] * sizeof(float));
            out += inner[i];
        }
    }
    return AIC_OK;
}

aic_status aic_concat_backward(float *const *dinps, const float *dout, const size_t *inner, int k, size_t outer) {
    // dinps[i]: outer x inner[i] (NULL: skipped); dout: outer x sum(inner)
    AIC_KERNEL_ARG(k > 0, "%d inputs; at least one is needed", k);
    AIC_KERNEL_ARG(dinps && dout && inner, "dinps, dout or inner is NULL");
    for (size_t o = 0; o < outer; o++) {
        for (int i = 0; i < k; i++) {
            if (dinps[i]) {
                float *dx = dinps[i] + o * inner[i]; // inner[i]
                for (size_t j = 0; j < inner[i]; j++)
                    dx[j] += dout[j];
            }
            dout += inner[i];
        }
    }
    return AIC_OK;
}
