// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

float aic_mse_forward(const float *pred, const float *target, size_t n) {
    // pred, target: n
    if (n == 0)
        return 0.0f;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)pred[i] - target[i];
        sum += e * e;
    }
    return (float)(sum / (double)n);
}

void aic_mse_backward(float *dpred, const float *pred, const float *target, size_t n, float dloss) {
    // dpred, pred, target: n
    const float g = 2.0f * dloss / (float)n;
    for (size_t i = 0; i < n; i++)
        dpred[i] += g * (pred[i] - target[i]);
}
