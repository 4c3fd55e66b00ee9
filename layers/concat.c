// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

#include <string.h>

void aic_concat_forward(float *out, const float *const *inps, const size_t *inner, int k, size_t outer) {
    // out: outer x sum(inner); inps[i]: outer x inner[i]
    for (size_t o = 0; o < outer; o++) {
        for (int i = 0; i < k; i++) {
            memcpy(out, inps[i] + o * inner[i], inner[i] * sizeof(float));
            out += inner[i];
        }
    }
}

void aic_concat_backward(float *const *dinps, const float *dout, const size_t *inner, int k, size_t outer) {
    // dinps[i]: outer x inner[i] (NULL: skipped); dout: outer x sum(inner)
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
}
