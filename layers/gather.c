// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "layers/layers.h"
#include "layers/kernel_check.h"

static aic_status embedding_check(const char *kernel, const int32_t *ids, size_t n, int vocab, int dim) {
    if (dim <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dim %d must be positive", dim);
    return aic_labels_check(kernel, "id", ids, n, vocab, NULL);
}

aic_status aic_embedding_forward(float *out, const float *table, const int32_t *ids, size_t n, int vocab, int dim) {
    // out: n x dim; table: vocab x dim; ids: n
    AIC_TRY(embedding_check(__func__, ids, n, vocab, dim));
    AIC_KERNEL_ARG(n == 0 || (out && table), "out or table is NULL");
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * (size_t)dim, table + (size_t)ids[i] * (size_t)dim, sizeof(float) * (size_t)dim);
    return AIC_OK;
}

aic_status aic_embedding_backward(float *dtable, const float *dout, const int32_t *ids, size_t n, int vocab,
                                  int dim) {
    // dtable: vocab x dim; dout: n x dim; ids: n
    AIC_TRY(embedding_check(__func__, ids, n, vocab, dim));
    if (!dtable)
        return AIC_OK;
    AIC_KERNEL_ARG(n == 0 || dout, "dout is NULL");
    for (size_t i = 0; i < n; i++) {
        float *row = dtable + (size_t)ids[i] * (size_t)dim;
        const float *g = dout + i * (size_t)dim;
        for (int j = 0; j < dim; j++)
            row[j] += g[j];
    }
    return AIC_OK;
}

static aic_status gather_check(const char *kernel, const aic_gather_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->D <= 0 || d->inner == 0 || d->n < 1 || d->n > AIC_GATHER_MAX_INDICES)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "D %d and inner %zu must be positive, n %d in 1..%d",
                               d->D, d->inner, d->n, AIC_GATHER_MAX_INDICES);
    return aic_labels_check(kernel, "index", d->idx, (size_t)d->n, d->D, NULL);
}

aic_status aic_gather_forward(float *out, const float *x, const aic_gather_dims *d) {
    // out: outer x n x inner; x: outer x D x inner
    AIC_TRY(gather_check(__func__, d));
    AIC_KERNEL_ARG(d->outer == 0 || (out && x), "out or x is NULL");
    for (size_t o = 0; o < d->outer; o++)
        for (int k = 0; k < d->n; k++)
            memcpy(out + (o * (size_t)d->n + (size_t)k) * d->inner,
                   x + (o * (size_t)d->D + (size_t)d->idx[k]) * d->inner, sizeof(float) * d->inner);
    return AIC_OK;
}

aic_status aic_gather_backward(float *dx, const float *dout, const aic_gather_dims *d) {
    // dx: outer x D x inner; dout: outer x n x inner
    AIC_TRY(gather_check(__func__, d));
    if (!dx)
        return AIC_OK;
    AIC_KERNEL_ARG(d->outer == 0 || dout, "dout is NULL");
    for (size_t o = 0; o < d->outer; o++)
        for (int k = 0; k < d->n; k++) {
            float *dst = dx + (o * (size_t)d->D + (size_t)d->idx[k]) * d->inner;
            const float *g = dout + (o * (size_t)d->n + (size_t)k) * d->inner;
            for (size_t i = 0; i < d->inner; i++)
                dst[i] += g[i];
        }
    return AIC_OK;
}
