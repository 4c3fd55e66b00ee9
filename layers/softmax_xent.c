// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/xent.h"

#include <math.h>

aic_status aic_softmax_xent_forward(float *loss, float *probs, const float *logits, const int32_t *labels,
                                    const aic_xent_dims *d) {
    // loss: 1; probs, logits: outer x C x inner; labels: outer x inner
    size_t count = 0;
    AIC_TRY(aic_xent_check(__func__, labels, d, &count));
    AIC_KERNEL_ARG(loss && (count == 0 || (probs && logits)), "loss, probs or logits is NULL");
    double sum = 0.0;
    for (size_t p = 0; p < d->outer * d->inner; p++)
        if (aic_xent_counts(d, labels[p]))
            sum += aic_xent_position(probs, logits, d, p, labels[p]);
    *loss = count ? (float)(sum / (double)count) : 0.0f;
    return AIC_OK;
}

aic_status aic_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                                     const aic_xent_dims *d, float dloss) {
    // dlogits, probs: outer x C x inner; labels: outer x inner
    size_t count = 0;
    AIC_TRY(aic_xent_check(__func__, labels, d, &count));
    if (!dlogits || count == 0)
        return AIC_OK;
    AIC_KERNEL_ARG(probs, "probs is NULL");
    const float g = dloss / (float)count;
    for (size_t p = 0; p < d->outer * d->inner; p++) {
        if (!aic_xent_counts(d, labels[p]))
            continue;
        for (int c = 0; c < d->C; c++) {
            const size_t e = aic_xent_at(d, p, c);
            dlogits[e] += g * (probs[e] - (c == labels[p] ? 1.0f : 0.0f));
        }
    }
    return AIC_OK;
}
