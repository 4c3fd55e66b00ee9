// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/xent.h"

aic_status aic_nll_forward(float *loss, const float *logprobs, const int32_t *labels, const aic_xent_dims *d) {
    // loss: 1; logprobs: outer x C x inner; labels: outer x inner
    size_t count = 0;
    AIC_TRY(aic_xent_check(__func__, labels, d, &count));
    AIC_KERNEL_ARG(loss && (count == 0 || logprobs), "loss or logprobs is NULL");
    double sum = 0.0;
    for (size_t p = 0; p < d->outer * d->inner; p++)
        if (aic_xent_counts(d, labels[p]))
            sum -= logprobs[aic_xent_at(d, p, labels[p])];
    *loss = count ? (float)(sum / (double)count) : 0.0f;
    return AIC_OK;
}

aic_status aic_nll_backward(float *dlogprobs, const int32_t *labels, const aic_xent_dims *d, float dloss) {
    // dlogprobs: outer x C x inner; labels: outer x inner
    size_t count = 0;
    AIC_TRY(aic_xent_check(__func__, labels, d, &count));
    if (!dlogprobs || count == 0)
        return AIC_OK;
    const float g = dloss / (float)count;
    for (size_t p = 0; p < d->outer * d->inner; p++)
        if (aic_xent_counts(d, labels[p]))
            dlogprobs[aic_xent_at(d, p, labels[p])] -= g;
    return AIC_OK;
}
