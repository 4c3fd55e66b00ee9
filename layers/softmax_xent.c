// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/softmax_row.h"

#include <math.h>

aic_status aic_softmax_xent_forward(float *loss, float *probs, const float *logits, const int32_t *labels, int N,
                                    int K) {
    // loss: 1; probs, logits: N x K; labels: N
    AIC_TRY(aic_labels_check(__func__, labels, N, K));
    AIC_KERNEL_ARG(loss && (N == 0 || (probs && logits)), "loss, probs or logits is NULL");
    if (N == 0) {
        *loss = 0.0f;
        return AIC_OK;
    }
    double sum_loss = 0.0;
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * K; // K
        float max;
        const double sum = aic_softmax_row(probs + (size_t)i * K, x, K, 1, &max);
        // -log softmax = log(sum) - (x - max): finite even where the probability underflows to 0
        sum_loss += log(sum) - (double)(x[labels[i]] - max);
    }
    *loss = (float)(sum_loss / N);
    return AIC_OK;
}

aic_status aic_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N, int K,
                                     float dloss) {
    // dlogits, probs: N x K; labels: N
    AIC_TRY(aic_labels_check(__func__, labels, N, K));
    if (!dlogits)
        return AIC_OK;
    AIC_KERNEL_ARG(N == 0 || probs, "probs is NULL");
    const float g = dloss / (float)N;
    for (int i = 0; i < N; i++) {
        const float *pr = probs + (size_t)i * K;
        float *dx = dlogits + (size_t)i * K;
        for (int j = 0; j < K; j++)
            dx[j] += g * (pr[j] - (j == labels[i] ? 1.0f : 0.0f));
    }
    return AIC_OK;
}
