// SPDX-License-Identifier: Apache-2.0
// Embedding lookup and gather at constant indices (layers/gather.c). The backward passes give each
// thread one column of the gradient and walk the ids or indices in order, so repeated ones sum as the
// CPU kernels sum them: no atomics, the same bits.
#include "layers/cuda_common.cuh"

// out (n x dim): row i = table[ids[i]]
__global__ static void embedding_fwd_k(float *out, const float *table, const int32_t *ids, size_t n, int dim) {
    AIC_GRID_STRIDE(e, n * (size_t)dim) out[e] = table[(size_t)ids[e / dim] * dim + e % dim];
}

// dtable column j += dout column j, row i into row ids[i], i in order
__global__ static void embedding_bwd_k(float *dtable, const float *dout, const int32_t *ids, size_t n, int dim) {
    AIC_GRID_STRIDE(j, (size_t)dim)
    for (size_t i = 0; i < n; i++)
        dtable[(size_t)ids[i] * dim + j] += dout[i * dim + j];
}

// out[o][k][i] = x[o][idx[k]][i]
__global__ static void gather_fwd_k(float *out, const float *x, aic_gather_dims d) {
    AIC_GRID_STRIDE(e, d.outer * (size_t)d.n * d.inner) {
        const size_t o = e / ((size_t)d.n * d.inner), i = e % d.inner;
        const int k = (int)(e / d.inner % (size_t)d.n);
        out[e] = x[(o * d.D + (size_t)d.idx[k]) * d.inner + i];
    }
}

// dx[o][idx[k]][i] += dout[o][k][i]: a thread per (o, i), k in order
__global__ static void gather_bwd_k(float *dx, const float *dout, aic_gather_dims d) {
    AIC_GRID_STRIDE(e, d.outer * d.inner) {
        const size_t o = e / d.inner, i = e % d.inner;
        for (int k = 0; k < d.n; k++)
            dx[(o * d.D + (size_t)d.idx[k]) * d.inner + i] += dout[(o * d.n + (size_t)k) * d.inner + i];
    }
}

extern "C" aic_status aic_cuda_embedding_forward(float *out, const float *table, const int32_t *ids, size_t n,
                                                 int vocab, int dim) {
    (void)vocab; // the host checked the ids against it (aic_model_set_input)
    return AIC_LAUNCH_N(n * (size_t)dim, embedding_fwd_k, out, table, ids, n, dim);
}
extern "C" aic_status aic_cuda_embedding_backward(float *dtable, const float *dout, const int32_t *ids, size_t n,
                                                  int vocab, int dim) {
    (void)vocab;
    return dtable && n ? AIC_LAUNCH_N((size_t)dim, embedding_bwd_k, dtable, dout, ids, n, dim) : AIC_OK;
}
extern "C" aic_status aic_cuda_gather_forward(float *out, const float *x, const aic_gather_dims *d) {
    return AIC_LAUNCH_N(d->outer * (size_t)d->n * d->inner, gather_fwd_k, out, x, *d);
}
extern "C" aic_status aic_cuda_gather_backward(float *dx, const float *dout, const aic_gather_dims *d) {
    return dx ? AIC_LAUNCH_N(d->outer * d->inner, gather_bwd_k, dx, dout, *d) : AIC_OK;
}
