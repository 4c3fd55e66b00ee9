// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/gemm.h"
#include "layers/kernel_check.h"

/* Advance the multi-index idx over d->shape (row-major) and the two operands' matrix indices with it. */
static inline void step(int64_t *idx, int64_t *ai, int64_t *bi, const aic_matmul_dims *d) {
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

// Positive matrix sizes, 0..AIC_MATMUL_MAX_DIMS leading dims none negative; the number of matrices in *count.
static aic_status check_dims(const char *kernel, const aic_matmul_dims *d, int64_t *count) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->M <= 0 || d->K <= 0 || d->N <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "M %d, K %d and N %d must be positive", d->M, d->K, d->N);
    if (d->ndim < 0 || d->ndim > AIC_MATMUL_MAX_DIMS)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "%d leading dims, at most %d", d->ndim,
                               AIC_MATMUL_MAX_DIMS);
    *count = 1;
    for (int k = 0; k < d->ndim; k++) {
        if (d->shape[k] < 0 || d->astride[k] < 0 || d->bstride[k] < 0)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "leading dim %d is %lld with strides %lld, %lld", k,
                                   (long long)d->shape[k], (long long)d->astride[k], (long long)d->bstride[k]);
        *count *= d->shape[k];
    }
    return AIC_OK;
}

aic_status aic_matmul_forward(float *out, const float *a, const float *b, const aic_matmul_dims *d) {
    // out: count x M x N; a: (matrices) x M x K; b: (matrices) x K x N
    int64_t count;
    AIC_TRY(check_dims(__func__, d, &count));
    AIC_KERNEL_ARG(count == 0 || (out && a && b), "out, a or b is NULL");
    const int M = d->M, K = d->K, N = d->N;
    int64_t idx[AIC_MATMUL_MAX_DIMS] = {0}, ai = 0, bi = 0;
    for (int64_t o = 0; o < count; o++, step(idx, &ai, &bi, d))
        aic_sgemm(false, false, M, N, K, 1.0f, a + (size_t)ai * M * K, K, b + (size_t)bi * K * N, N, 0.0f,
                  out + (size_t)o * M * N, N);
    return AIC_OK;
}

aic_status aic_matmul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                               const aic_matmul_dims *d, unsigned write) {
    // dout: count x M x N; da like a, db like b (NULL: skipped)
    int64_t count;
    AIC_TRY(check_dims(__func__, d, &count));
    AIC_KERNEL_ARG(count == 0 || (dout && (!da || b) && (!db || a)), "dout, or the operand a gradient needs, is NULL");
    const int M = d->M, K = d->K, N = d->N;
    int64_t idx[AIC_MATMUL_MAX_DIMS] = {0}, ai = 0, bi = 0;
    // One output matrix at a time, in order: a matrix of a or b that several outputs read (broadcast)
    // sums their contributions in that order, GEMM after GEMM with beta = 1; a written one has beta 0.
    const float beta_a = write & AIC_GRAD_WRITE_A ? 0.0f : 1.0f, beta_b = write & AIC_GRAD_WRITE_B ? 0.0f : 1.0f;
    for (int64_t o = 0; o < count; o++, step(idx, &ai, &bi, d)) {
        const float *dy = dout + (size_t)o * M * N; // M x N
        if (da) // da[ai] (M x K) += dy (M x N) * b[bi]^T (N x K)
            aic_sgemm(false, true, M, K, N, 1.0f, dy, N, b + (size_t)bi * K * N, N, beta_a, da + (size_t)ai * M * K, K);
        if (db) // db[bi] (K x N) += a[ai]^T (K x M) * dy (M x N)
            aic_sgemm(true, false, K, N, M, 1.0f, a + (size_t)ai * M * K, K, dy, N, beta_b, db + (size_t)bi * K * N, N);
    }
    return AIC_OK;
}
