// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/binary_formula.h"

/* Advance the multi-index idx over d->shape (row-major) and the two operand offsets with it. */
static inline void step(int64_t *idx, int64_t *ai, int64_t *bi, const aic_binary_dims *d) {
    for (int k = d->ndim - 1; k >= 0; k--) {
        *ai += d->astride[k];
        *bi += d->bstride[k];
        if (++idx[k] < d->shape[k])
            return;
        *ai -= d->astride[k] * d->shape[k];
        *bi -= d->bstride[k] * d->shape[k];
        idx[k] = 0;
    }
}

static int64_t total(const aic_binary_dims *d) {
    int64_t n = 1;
    for (int k = 0; k < d->ndim; k++)
        n *= d->shape[k];
    return n;
}

// The index space: at most AIC_BINARY_MAX_DIMS dims, none negative; a known kind.
static aic_status check_dims(const char *kernel, aic_binary_kind kind, const aic_binary_dims *d) {
    if ((unsigned)kind >= AIC_BINARY_KIND_COUNT)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "kind %d is not a binary op (layers/binary_formula.h)", (int)kind);
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->ndim < 0 || d->ndim > AIC_BINARY_MAX_DIMS)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "%d dims, at most %d", d->ndim, AIC_BINARY_MAX_DIMS);
    for (int k = 0; k < d->ndim; k++)
        if (d->shape[k] < 0)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dim %d is %lld", k, (long long)d->shape[k]);
    return AIC_OK;
}

aic_status aic_binary_forward(float *out, const float *a, const float *b, aic_binary_kind kind,
                              const aic_binary_dims *d) {
    // out: prod(shape); a, b: addressed through astride/bstride
    AIC_TRY(check_dims(__func__, kind, d));
    AIC_KERNEL_ARG(out && a && b, "out, a or b is NULL");
    int64_t idx[AIC_BINARY_MAX_DIMS] = {0}, ai = 0, bi = 0, n = total(d);
    for (int64_t o = 0; o < n; o++, step(idx, &ai, &bi, d))
        out[o] = aic_binary_f(kind, a[ai], b[bi]);
    return AIC_OK;
}

aic_status aic_binary_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                               aic_binary_kind kind, const aic_binary_dims *d) {
    // dout: prod(shape); da like a, db like b (NULL: skipped)
    AIC_TRY(check_dims(__func__, kind, d));
    if (!da && !db)
        return AIC_OK;
    // all but add and sub read both operands
    AIC_KERNEL_ARG(dout && ((kind == AIC_BINARY_ADD || kind == AIC_BINARY_SUB) || (a && b)), "dout, a or b is NULL");
    int64_t idx[AIC_BINARY_MAX_DIMS] = {0}, ai = 0, bi = 0, n = total(d);
    for (int64_t o = 0; o < n; o++, step(idx, &ai, &bi, d)) {
        float ga, gb;
        aic_binary_grads(kind, dout[o], a ? a[ai] : 0.0f, b ? b[bi] : 0.0f, &ga, &gb);
        if (da)
            da[ai] += ga;
        if (db)
            db[bi] += gb;
    }
    return AIC_OK;
}
