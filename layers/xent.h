// SPDX-License-Identifier: Apache-2.0
/* The classification losses' indexing and per-position formula (aic_xent_dims, layers/layers.h),
 * shared by the CPU kernels (layers/softmax_xent.c, layers/nll.c) and the CUDA ones
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

#endif
