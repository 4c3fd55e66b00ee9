// SPDX-License-Identifier: Apache-2.0
/* Internal: how many of a batch's labels the model's scores get right, for a classifier (a label and
 * K scores a sample) and a language model (T labels and T x K scores a sample: every position). */
#ifndef AICON_TRAIN_ACCURACY_H
#define AICON_TRAIN_ACCURACY_H

#include <stdint.h>

#include "aicon/tensor.h"

/* The positions of n samples' labels (labels_per_sample each) whose largest score, along the last axis
 * of scores, is at the label; -1 when the scores do not hold labels_per_sample rows of classes on
 * their last axis (a segmentation's classes on axis 1): no accuracy. */
static inline int64_t aic_count_correct(const aic_tensor *scores, const int32_t *labels, int n,
                                        int64_t labels_per_sample) {
    if (scores->dtype != AIC_F32 || scores->ndim < 2)
        return -1;
    int64_t per_sample = 1;
    for (int a = 1; a < scores->ndim; a++)
        per_sample *= scores->shape[a];
    const int64_t K = scores->shape[scores->ndim - 1];
    if (per_sample != labels_per_sample * K)
        return -1;
    const float *s = scores->data;
    int64_t correct = 0;
    for (int64_t r = 0; r < (int64_t)n * labels_per_sample; r++) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; k++)
            if (s[r * K + k] > s[r * K + best])
                best = k;
        correct += best == labels[r];
    }
    return correct;
}

#endif
