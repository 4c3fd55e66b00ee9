// SPDX-License-Identifier: Apache-2.0
// GatherElements, ScatterElements and OneHot (layers/elements.c): a thread per position over
// layers/elements.h's formulas, the CPU kernels' own, so repeated indices add up in the same order and
// give the same bits without atomics. An index outside its axis reads and writes nothing here.
#include "layers/cuda_common.cuh"
#include "layers/elements.h"

__global__ static void gather_elements_fwd_k(float *out, const float *x, const int32_t *idx, aic_elements_dims d,
                                             size_t n) {
    AIC_GRID_STRIDE(p, n) {
        const int64_t t = aic_elements_target(&d, idx, p);
        out[p] = t < 0 ? 0.0f : x[t];
    }
}

__global__ static void gather_elements_bwd_k(float *dx, const float *dout, const int32_t *idx, aic_elements_dims d,
                                             size_t n) {
    AIC_GRID_STRIDE(q, n) dx[q] += aic_gather_elements_grad(&d, idx, dout, q);
}

__global__ static void scatter_elements_fwd_k(float *out, const float *x, const int32_t *idx, const float *upd,
                                              aic_elements_dims d, size_t n) {
    AIC_GRID_STRIDE(q, n) out[q] = aic_scatter_elements_value(&d, x, idx, upd, q);
}

__global__ static void scatter_elements_dx_k(float *dx, const float *dout, const int32_t *idx, const float *upd,
                                             aic_elements_dims d, size_t n) {
    AIC_GRID_STRIDE(q, n) dx[q] += dout[q] * aic_scatter_elements_dx(&d, idx, upd, q);
}

__global__ static void scatter_elements_dupd_k(float *dupd, const float *dout, const float *x, const int32_t *idx,
                                               const float *upd, aic_elements_dims d, size_t n) {
    AIC_GRID_STRIDE(p, n) {
        int64_t t;
        const float f = aic_scatter_elements_dupd(&d, x, idx, upd, p, &t);
        if (t >= 0)
            dupd[p] += dout[t] * f;
    }
}

__global__ static void one_hot_k(float *out, const int32_t *idx, const float *fidx, aic_one_hot_dims d) {
    AIC_GRID_STRIDE(e, d.outer * (size_t)d.depth * d.inner) {
        const size_t o = e / ((size_t)d.depth * d.inner), i = e % d.inner;
        const int64_t k = (int64_t)(e / d.inner % (size_t)d.depth);
        out[e] = aic_one_hot_class(idx, fidx, o * d.inner + i, d.depth) == k ? d.on : d.off;
    }
}

extern "C" aic_status aic_cuda_gather_elements_forward(float *out, const float *x, const int32_t *idx,
                                                       const aic_elements_dims *d) {
    const size_t n = aic_elements_count(d->idx, d->ndim);
    return AIC_LAUNCH_N(n, gather_elements_fwd_k, out, x, idx, *d, n);
}
extern "C" aic_status aic_cuda_gather_elements_backward(float *dx, const float *dout, const int32_t *idx,
                                                        const aic_elements_dims *d) {
    const size_t n = aic_elements_count(d->data, d->ndim);
    return dx ? AIC_LAUNCH_N(n, gather_elements_bwd_k, dx, dout, idx, *d, n) : AIC_OK;
}
extern "C" aic_status aic_cuda_scatter_elements_forward(float *out, const float *x, const int32_t *idx,
                                                        const float *upd, const aic_elements_dims *d) {
    const size_t n = aic_elements_count(d->data, d->ndim);
    return AIC_LAUNCH_N(n, scatter_elements_fwd_k, out, x, idx, upd, *d, n);
}
extern "C" aic_status aic_cuda_scatter_elements_backward(float *dx, float *dupd, const float *dout, const float *x,
                                                         const int32_t *idx, const float *upd,
                                                         const aic_elements_dims *d) {
    const size_t nd = aic_elements_count(d->data, d->ndim), ni = aic_elements_count(d->idx, d->ndim);
    if (dx)
        AIC_TRY(AIC_LAUNCH_N(nd, scatter_elements_dx_k, dx, dout, idx, upd, *d, nd));
    return dupd ? AIC_LAUNCH_N(ni, scatter_elements_dupd_k, dupd, dout, x, idx, upd, *d, ni) : AIC_OK;
}
extern "C" aic_status aic_cuda_one_hot_forward(float *out, const int32_t *idx, const float *fidx,
                                               const aic_one_hot_dims *d) {
    return AIC_LAUNCH_N(d->outer * (size_t)d->depth * d->inner, one_hot_k, out, idx, fidx, *d);
}
