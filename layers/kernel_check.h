// SPDX-License-Identifier: Apache-2.0
/* The argument checks at the top of a CPU kernel (layers/ *.c): what a caller can get wrong cheaply
 * (a NULL buffer, a negative or zero dimension, an out-of-range kind) fails with a status and a last
 * error naming the kernel, never a crash. The checks cost a few compares per call, not per element. */
#ifndef AICON_LAYERS_KERNEL_CHECK_H
#define AICON_LAYERS_KERNEL_CHECK_H

#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "layers/layers.h"

/* aic_fail(s, "kernel: message"). */
static inline AIC_PRINTF(3, 4) aic_status aic_kernel_fail(aic_status s, const char *kernel, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return aic_fail(s, "%s: %s", kernel, msg);
}

/* Return from the calling kernel with status s unless cond holds; the message (printf format and
 * arguments) follows the kernel's name. */
#define AIC_KERNEL_CHECK(cond, s, ...)                                                                    \
    do {                                                                                                  \
        if (!(cond))                                                                                      \
            return aic_kernel_fail((s), __func__, __VA_ARGS__);                                           \
    } while (0)

/* The common case: a bad argument. */
#define AIC_KERNEL_ARG(cond, ...) AIC_KERNEL_CHECK(cond, AIC_ERR_INVALID_ARG, __VA_ARGS__)

/* The pooling kernels' dims (maxpool.c, avgpool.c): positive sizes, padding not negative. A window
 * past the input (too large an OH or OW) reads nothing: its output is -inf or 0. */
static inline aic_status aic_pool2d_check(const char *kernel, const aic_pool2d_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->N < 0 || d->C <= 0 || d->H <= 0 || d->W <= 0 || d->KH <= 0 || d->KW <= 0 || d->SH <= 0 || d->SW <= 0 ||
        d->PH < 0 || d->PW < 0 || d->OH <= 0 || d->OW <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, C %d, input %dx%d, kernel %dx%d, stride %dx%d and output "
                               "%dx%d positive, padding %dx%d not negative",
                               d->N, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW, d->OH, d->OW, d->PH, d->PW);
    return AIC_OK;
}

/* The classification losses' labels and the embedding's ids (softmax_xent.c, nll.c, gather.c): n
 * values, K > 0 classes, every value in [0, K) unless it is *ignore (ignore NULL: none is skipped).
 * One pass over n ints; `what` names a value in messages ("label", "id"). */
static inline aic_status aic_labels_check(const char *kernel, const char *what, const int32_t *labels, size_t n,
                                          int K, const int32_t *ignore) {
    if (K <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "K %d must be positive", K);
    if (n > 0 && !labels)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "the %s array is NULL", what);
    for (size_t i = 0; i < n; i++)
        if ((labels[i] < 0 || labels[i] >= K) && !(ignore && labels[i] == *ignore))
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "%s %d at %zu is outside 0..%d", what, labels[i], i,
                                   K - 1);
    return AIC_OK;
}

/* The classification losses' dims and labels (aic_xent_dims). */
static inline aic_status aic_xent_check(const char *kernel, const int32_t *labels, const aic_xent_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->inner == 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "inner must be positive");
    if (!aic_xent_reduction_name((int)d->reduction))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "reduction %d is not mean, sum or none",
                               (int)d->reduction);
    return aic_labels_check(kernel, "label", labels, d->outer * d->inner, d->C,
                            d->has_ignore ? &d->ignore_index : NULL);
}

#endif
