// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/softmax_row.h"

#include <math.h>

float aic_softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int N, int K) {
    // probs, logits: N x K; labels: N
    if (N == 0)
        return 0.0f;
    double loss = 0.0;
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * K; // K
        float max;
        const double sum = aic_softmax_row(probs + (size_t)i * K, x, K, 1, &max);
        // -log softmax = log(sum) - (x - max): finite even where the probability underflows to 0
        loss += log(sum) - (double)(x[labels[i]] - max);
    }
    return (float)(loss / N);
}

void aic_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N, int K, float dloss) {
    // dlogits, probs: N x K; labels: N
    const float g = dloss / (float)N;
    for (int i = 0; i < N; i++) {
        const float *pr = probs + (size_t)i * K;
        float *dx = dlogits + (size_t)i * K;
        for (int j = 0; j < K; j++)
            dx[j] += g * (pr[j] - (j == labels[i] ? 1.0f : 0.0f));
    }
}
