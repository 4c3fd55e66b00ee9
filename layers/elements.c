// SPDX-License-Identifier: Apache-2.0
/* GatherElements, ScatterElements and OneHot on the CPU: a loop over positions of layers/elements.h's
 * formulas, which the CUDA kernels share. */
#include "layers/elements.h"
#include "layers/kernel_check.h"

/* The dims, and every index within its axis. */
static aic_status elements_check(const char *kernel, const int32_t *idx, const aic_elements_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->ndim < 2 || d->ndim > AIC_ELEMENTS_MAX_DIMS || d->axis < 1 || d->axis >= d->ndim ||
        d->reduction < 0 || d->reduction >= AIC_SCATTER_KIND_COUNT)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "ndim %d must be in 2..%d, axis %d in 1..ndim-1, "
                               "reduction %d an aic_scatter_kind", d->ndim, AIC_ELEMENTS_MAX_DIMS, d->axis,
                               d->reduction);
    for (int a = 0; a < d->ndim; a++)
        if (a == 0 ? d->idx[0] != d->data[0] || d->data[0] < 0
                   : d->data[a] < 1 || d->idx[a] < 1 || (a != d->axis && d->idx[a] > d->data[a]))
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "axis %d: indices of size %lld for data of size "
                                   "%lld", a, (long long)d->idx[a], (long long)d->data[a]);
    const size_t n = aic_elements_count(d->idx, d->ndim);
    if (n > 0 && !idx)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "the indices are NULL");
    for (size_t p = 0; p < n; p++)
        if (aic_elements_pos(idx[p], d->data[d->axis]) < 0)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "index %d at %zu is outside -%lld..%lld", idx[p], p,
                                   (long long)d->data[d->axis], (long long)d->data[d->axis] - 1);
    return AIC_OK;
}

aic_status aic_gather_elements_forward(float *out, const float *x, const int32_t *idx, const aic_elements_dims *d) {
    AIC_TRY(elements_check(__func__, idx, d));
    const size_t n = aic_elements_count(d->idx, d->ndim);
    AIC_KERNEL_ARG(n == 0 || (out && x), "out or x is NULL");
    for (size_t p = 0; p < n; p++)
        out[p] = x[aic_elements_target(d, idx, p)];
    return AIC_OK;
}

aic_status aic_gather_elements_backward(float *dx, const float *dout, const int32_t *idx, const aic_elements_dims *d) {
    AIC_TRY(elements_check(__func__, idx, d));
    if (!dx)
        return AIC_OK;
    const size_t n = aic_elements_count(d->data, d->ndim);
    AIC_KERNEL_ARG(n == 0 || dout, "dout is NULL");
    for (size_t q = 0; q < n; q++)
        dx[q] += aic_gather_elements_grad(d, idx, dout, q);
    return AIC_OK;
}

aic_status aic_scatter_elements_forward(float *out, const float *x, const int32_t *idx, const float *upd,
                                        const aic_elements_dims *d) {
    AIC_TRY(elements_check(__func__, idx, d));
    const size_t n = aic_elements_count(d->data, d->ndim);
    AIC_KERNEL_ARG(n == 0 || (out && x && upd), "out, x or upd is NULL");
    for (size_t q = 0; q < n; q++)
        out[q] = aic_scatter_elements_value(d, x, idx, upd, q);
    return AIC_OK;
}

aic_status aic_scatter_elements_backward(float *dx, float *dupd, const float *dout, const float *x, const int32_t *idx,
                                         const float *upd, const aic_elements_dims *d) {
    AIC_TRY(elements_check(__func__, idx, d));
    const size_t nd = aic_elements_count(d->data, d->ndim), ni = aic_elements_count(d->idx, d->ndim);
    AIC_KERNEL_ARG(nd == 0 || (dout && x && upd), "dout, x or upd is NULL");
    for (size_t q = 0; dx && q < nd; q++)
        dx[q] += dout[q] * aic_scatter_elements_dx(d, idx, upd, q);
    for (size_t p = 0; dupd && p < ni; p++) {
        int64_t t;
        const float f = aic_scatter_elements_dupd(d, x, idx, upd, p, &t);
        dupd[p] += dout[t] * f;
    }
    return AIC_OK;
}

aic_status aic_one_hot_forward(float *out, const int32_t *idx, const float *fidx, const aic_one_hot_dims *d) {
    AIC_KERNEL_ARG(d, "dims are NULL");
    AIC_KERNEL_ARG(d->depth >= 1 && d->inner >= 1, "depth %lld and inner %zu must be positive", (long long)d->depth,
                   d->inner);
    AIC_KERNEL_ARG(d->outer == 0 || (out && (idx || fidx)), "out or the indices are NULL");
    const size_t D = (size_t)d->depth;
    for (size_t o = 0; o < d->outer; o++)
        for (size_t i = 0; i < d->inner; i++) {
            const int64_t c = aic_one_hot_class(idx, fidx, o * d->inner + i, d->depth);
            for (size_t k = 0; k < D; k++)
                out[(o * D + k) * d->inner + i] = (int64_t)k == c ? d->on : d->off;
        }
    return AIC_OK;
}
