// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_mse_forward(float *loss, const float *pred, const float *target, size_t n) {
    // loss: 1; pred, target: n
    AIC_KERNEL_ARG(loss && (n == 0 || (pred && target)), "loss, pred or target is NULL");
    if (n == 0) {
        *loss = 0.0f;
        return AIC_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)pred[i] - target[i];
        sum += e * e;
    }
    *loss = (float)(sum / (double)n);
    return AIC_OK;
}

aic_status aic_mse_backward(float *dpred, const float *pred, const float *target, size_t n, float dloss) {
    // dpred, pred, target: n
    if (!dpred)
        return AIC_OK;
    AIC_KERNEL_ARG(n == 0 || (pred && target), "pred or target is NULL");
    const float g = 2.0f * dloss / (float)n;
    for (size_t i = 0; i < n; i++)
        dpred[i] += g * (pred[i] - target[i]);
    return AIC_OK;
}
