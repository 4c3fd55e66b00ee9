// SPDX-License-Identifier: Apache-2.0
/* The classification losses' indexing, per-position formula, weights and reductions (aic_xent_dims,
 * layers/layers.h), shared by the CPU kernels (layers/softmax_xent.c, layers/nll.c) and the CUDA ones
 * (layers/softmax_cuda.cu), so both backends compute every position one way. */
#ifndef AICON_LAYERS_XENT_H
#define AICON_LAYERS_XENT_H

#include <stdbool.h>

#include "layers/layers.h"
#include "layers/softmax_row.h"

/* Whether the label at a position counts (it is not the ignored one). */
AIC_HD bool aic_xent_counts(const aic_xent_dims *d, int32_t label) {
    return !d->has_ignore || label != d->ignore_index;
}

/* A counted label's class weight: 1 without weights. */
AIC_HD float aic_xent_weight(const aic_xent_dims *d, int32_t label) { return d->weight ? d->weight[label] : 1.0f; }

/* Where class c of position p (= o * inner + i) lies in the scores: o * C * inner + c * inner + i. */
AIC_HD size_t aic_xent_at(const aic_xent_dims *d, size_t p, int c) {
    return (p / d->inner * (size_t)d->C + (size_t)c) * d->inner + p % d->inner;
}

/* -log softmax(logits)[label] at position p, as log(sum exp(x - max)) - (x[label] - max): finite even
 * where the probability underflows to 0. The position's softmax goes to probs (laid out as logits). */
AIC_HD double aic_xent_position(float *probs, const float *logits, const aic_xent_dims *d, size_t p, int32_t label) {
    const size_t at = aic_xent_at(d, p, 0);
    float max;
    const double sum = aic_softmax_row(probs + at, logits + at, d->C, d->inner, &max);
    return log(sum) - (double)(logits[at + (size_t)label * d->inner] - max);
}

/* The counted positions' class weights (their count without weights) summed in double in position
 * order: the mean's denominator. */
AIC_HD double aic_xent_weights(const aic_xent_dims *d, const int32_t *labels) {
    double sum = 0.0;
    for (size_t p = 0; p < d->outer * d->inner; p++)
        if (aic_xent_counts(d, labels[p]))
            sum += aic_xent_weight(d, labels[p]);
    return sum;
}

/* The reduced loss from the sum of the weighted position losses and of the counted weights. */
AIC_HD float aic_xent_reduced(const aic_xent_dims *d, double sum, double weights) {
    if (d->reduction == AIC_XENT_SUM)
        return (float)sum;
    return weights != 0.0 ? (float)(sum / weights) : 0.0f;
}

/* The factor of a counted position's gradient: its weight times dloss, the position's own element of
 * it for 'none', over the counted weights for 'mean' (0 when they sum to 0, as the loss is). */
AIC_HD float aic_xent_grad_scale(const aic_xent_dims *d, const float *dloss, double weights, size_t p,
                                 int32_t label) {
    const float w = aic_xent_weight(d, label);
    if (d->reduction == AIC_XENT_NONE)
        return w * dloss[p];
    if (d->reduction == AIC_XENT_SUM)
        return w * dloss[0];
    return weights != 0.0 ? w * dloss[0] / (float)weights : 0.0f; /* in float: unweighted, as it always was */
}

#endif
