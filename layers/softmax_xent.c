// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/xent.h"

#include <math.h>

aic_status aic_softmax_xent_forward(float *loss, float *probs, const float *logits, const int32_t *labels,
                                    const aic_xent_dims *d) {
    // loss: 1, or outer x inner ('none'); probs, logits: outer x C x inner; labels: outer x inner
    AIC_TRY(aic_xent_check(__func__, labels, d));
    const size_t n = d->outer * d->inner;
    AIC_KERNEL_ARG(loss && (n == 0 || (probs && logits)), "loss, probs or logits is NULL");
    double sum = 0.0;
    for (size_t p = 0; p < n; p++) {
        const double l = aic_xent_counts(d, labels[p])
                             ? aic_xent_weight(d, labels[p]) * aic_xent_position(probs, logits, d, p, labels[p])
                             : 0.0;
        if (d->reduction == AIC_XENT_NONE)
            loss[p] = (float)l;
        sum += l;
    }
    if (d->reduction != AIC_XENT_NONE)
        *loss = aic_xent_reduced(d, sum, aic_xent_weights(d, labels));
    return AIC_OK;
}

aic_status aic_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                                     const aic_xent_dims *d, const float *dloss) {
    // dlogits, probs: outer x C x inner; labels: outer x inner; dloss: as the forward's loss
    AIC_TRY(aic_xent_check(__func__, labels, d));
    if (!dlogits)
        return AIC_OK;
    AIC_KERNEL_ARG(dloss && (d->outer == 0 || probs), "dloss or probs is NULL");
    const double weights = d->reduction == AIC_XENT_MEAN ? aic_xent_weights(d, labels) : 0.0;
    for (size_t p = 0; p < d->outer * d->inner; p++) {
        if (!aic_xent_counts(d, labels[p]))
            continue;
        const float g = aic_xent_grad_scale(d, dloss, weights, p, labels[p]);
        for (int c = 0; c < d->C; c++) {
            const size_t e = aic_xent_at(d, p, c);
            dlogits[e] += g * (probs[e] - (c == labels[p] ? 1.0f : 0.0f));
        }
    }
    return AIC_OK;
}
