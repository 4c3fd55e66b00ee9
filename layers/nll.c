// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

float aic_nll_forward(const float *logprobs, const int32_t *labels, int N, int K) {
    // logprobs: N x K; labels: N
    if (N == 0)
        return 0.0f;
    double loss = 0.0;
    for (int i = 0; i < N; i++)
        loss -= logprobs[(size_t)i * K + labels[i]];
    return (float)(loss / N);
}

void aic_nll_backward(float *dlogprobs, const int32_t *labels, int N, int K, float dloss) {
    // dlogprobs: N x K; labels: N
    const float g = dloss / (float)N;
    for (int i = 0; i < N; i++)
        dlogprobs[(size_t)i * K + labels[i]] -= g;
}
