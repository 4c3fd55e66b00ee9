// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/xent.h"

aic_status aic_nll_forward(float *loss, const float *logprobs, const int32_t *labels, const aic_xent_dims *d) {
    // loss: 1, or outer x inner ('none'); logprobs: outer x C x inner; labels: outer x inner
    AIC_TRY(aic_xent_check(__func__, labels, d));
    const size_t n = d->outer * d->inner;
    AIC_KERNEL_ARG(loss && (n == 0 || logprobs), "loss or logprobs is NULL");
    double sum = 0.0;
    for (size_t p = 0; p < n; p++) {
        const double l = aic_xent_counts(d, labels[p])
                             ? -(double)aic_xent_weight(d, labels[p]) * logprobs[aic_xent_at(d, p, labels[p])]
                             : 0.0;
        if (d->reduction == AIC_XENT_NONE)
            loss[p] = (float)l;
        sum += l;
    }
    if (d->reduction != AIC_XENT_NONE)
        *loss = aic_xent_reduced(d, sum, aic_xent_weights(d, labels));
    return AIC_OK;
}

aic_status aic_nll_backward(float *dlogprobs, const int32_t *labels, const aic_xent_dims *d, const float *dloss) {
    // dlogprobs: outer x C x inner; labels: outer x inner; dloss: as the forward's loss
    AIC_TRY(aic_xent_check(__func__, labels, d));
    if (!dlogprobs)
        return AIC_OK;
    AIC_KERNEL_ARG(dloss, "dloss is NULL");
    const double weights = d->reduction == AIC_XENT_MEAN ? aic_xent_weights(d, labels) : 0.0;
    for (size_t p = 0; p < d->outer * d->inner; p++)
        if (aic_xent_counts(d, labels[p]))
            dlogprobs[aic_xent_at(d, p, labels[p])] -= aic_xent_grad_scale(d, dloss, weights, p, labels[p]);
    return AIC_OK;
}
