// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

aic_status aic_nll_forward(float *loss, const float *logprobs, const int32_t *labels, int N, int K) {
    // loss: 1; logprobs: N x K; labels: N
    AIC_TRY(aic_labels_check(__func__, labels, N, K));
    AIC_KERNEL_ARG(loss && (N == 0 || logprobs), "loss or logprobs is NULL");
    if (N == 0) {
        *loss = 0.0f;
        return AIC_OK;
    }
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        sum -= logprobs[(size_t)i * K + labels[i]];
    *loss = (float)(sum / N);
    return AIC_OK;
}

aic_status aic_nll_backward(float *dlogprobs, const int32_t *labels, int N, int K, float dloss) {
    // dlogprobs: N x K; labels: N
    AIC_TRY(aic_labels_check(__func__, labels, N, K));
    if (!dlogprobs)
        return AIC_OK;
    const float g = dloss / (float)N;
    for (int i = 0; i < N; i++)
        dlogprobs[(size_t)i * K + labels[i]] -= g;
    return AIC_OK;
}
