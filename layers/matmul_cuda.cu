// SPDX-License-Identifier: Apache-2.0
// Batched matmul on cuBLAS. Row-major M x K is column-major K x M with leading dimension K, so each
// product below is the CPU's (matmul.c) written for column-major storage. The last leading dim is
// one cublasSgemmStridedBatched call (its strides are constant there); the dims before it are a host
// loop, in row-major order. A gradient whose operand is broadcast along that last dim would have
// several matrices of one call write one matrix, so it is summed by single GEMMs in order instead.
// TF32 only when the context's math mode allows it (core/backend_cuda.c: CUBLAS_DEFAULT_MATH unless
// --tf32). Everything is queued on aic_cuda.stream: deterministic for a given GPU and cuBLAS.
#include <climits>

#include "layers/cuda_common.cuh"

namespace {

// The leading dims split as outer (a host loop) x inner (the last dim: one batched call).
struct matmul_plan {
    int64_t outer, inner;
    long long sa, sb; // floats between consecutive matrices of a and b along the last dim (0: broadcast)
    int64_t idx[AIC_MATMUL_MAX_DIMS];
};

static aic_status plan_start(const char *kernel, const aic_matmul_dims *d, matmul_plan *p) {
    if (!d || d->M <= 0 || d->K <= 0 || d->N <= 0 || d->ndim < 0 || d->ndim > AIC_MATMUL_MAX_DIMS)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: bad dims (M, K, N positive, 0..%d leading dims)", kernel,
                        AIC_MATMUL_MAX_DIMS);
    p->outer = 1;
    for (int k = 0; k + 1 < d->ndim; k++)
        p->outer *= d->shape[k];
    const int last = d->ndim - 1;
    p->inner = d->ndim ? d->shape[last] : 1;
    if (p->inner > INT_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: %lld matrices along the last leading dim, at most %d", kernel,
                        (long long)p->inner, INT_MAX);
    p->sa = d->ndim ? (long long)d->astride[last] * d->M * d->K : 0;
    p->sb = d->ndim ? (long long)d->bstride[last] * d->K * d->N : 0;
    for (int k = 0; k < AIC_MATMUL_MAX_DIMS; k++)
        p->idx[k] = 0;
    return AIC_OK;
}

// The first matrices of a and b (in matrices) for outer index o; advances the multi-index over the
// outer dims (row-major) for the next call.
static void plan_outer(const aic_matmul_dims *d, matmul_plan *p, int64_t *ai, int64_t *bi) {
    *ai = *bi = 0;
    for (int k = 0; k + 1 < d->ndim; k++) {
        *ai += p->idx[k] * d->astride[k];
        *bi += p->idx[k] * d->bstride[k];
    }
    for (int k = d->ndim - 2; k >= 0; k--) {
        if (++p->idx[k] < d->shape[k])
            break;
        p->idx[k] = 0;
    }
}

} // namespace

extern "C" aic_status aic_cuda_matmul_forward(float *out, const float *a, const float *b, const aic_matmul_dims *d) {
    // out: count x M x N; a: (matrices) x M x K; b: (matrices) x K x N
    matmul_plan p;
    AIC_TRY(plan_start(__func__, d, &p));
    const int M = d->M, K = d->K, N = d->N;
    const float one = 1.0f, zero = 0.0f;
    const long long so = (long long)M * N;
    for (int64_t o = 0; o < p.outer && p.inner > 0; o++) {
        int64_t ai, bi;
        plan_outer(d, &p, &ai, &bi);
        // out^T (N x M) = b^T (N x K) * a^T (K x M), column-major
        AIC_TRY(AIC_CUBLAS(cublasSgemmStridedBatched(aic_cuda.blas, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one,
                                                     b + (size_t)bi * K * N, N, p.sb, a + (size_t)ai * M * K, K, p.sa,
                                                     &zero, out + (size_t)(o * p.inner) * M * N, N, so,
                                                     (int)p.inner)));
    }
    return AIC_OK;
}

// A gradient, column-major: c[i*sc] (m x n) += op_x(x[i*sx]) (m x k) * op_y(y[i*sy]) (k x n), i over the
// inner dim. Where c is broadcast along it (sc == 0), the batched GEMM's matrices would write one c at
// once: one GEMM after another instead.
static aic_status grad_acc(cublasOperation_t opx, cublasOperation_t opy, int m, int n, int k, const float *x, int ldx,
                           long long sx, const float *y, int ldy, long long sy, float *c, int ldc, long long sc,
                           int64_t inner, bool write) {
    const float one = 1.0f, beta = write ? 0.0f : 1.0f; /* written: never broadcast, so sc != 0 or inner 1 */
    if (sc != 0 || inner == 1)
        return AIC_CUBLAS(cublasSgemmStridedBatched(aic_cuda.blas, opx, opy, m, n, k, &one, x, ldx, sx, y, ldy, sy,
                                                    &beta, c, ldc, sc, (int)inner));
    for (int64_t i = 0; i < inner; i++)
        AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, opx, opy, m, n, k, &one, x + (size_t)i * sx, ldx,
                                       y + (size_t)i * sy, ldy, &one, c, ldc)));
    return AIC_OK;
}

extern "C" aic_status aic_cuda_matmul_backward(float *da, float *db, const float *dout, const float *a,
                                               const float *b, const aic_matmul_dims *d, unsigned write) {
    // dout: count x M x N; da like a, db like b (NULL: skipped)
    matmul_plan p;
    AIC_TRY(plan_start(__func__, d, &p));
    const size_t MK = (size_t)d->M * d->K, KN = (size_t)d->K * d->N, MN = (size_t)d->M * d->N;
    for (int64_t o = 0; o < p.outer && p.inner > 0; o++) {
        int64_t ai, bi;
        plan_outer(d, &p, &ai, &bi);
        const float *dy = dout + (size_t)(o * p.inner) * MN;
        const int M = d->M, K = d->K, N = d->N;
        // da (M x K) += dy (M x N) b^T: da^T (K x M) += b (K x N, the column-major N x K transposed) dy^T (N x M)
        if (da)
            AIC_TRY(grad_acc(CUBLAS_OP_T, CUBLAS_OP_N, K, M, N, b + (size_t)bi * KN, N, p.sb, dy, N, (long long)MN,
                             da + (size_t)ai * MK, K, p.sa, p.inner, write & AIC_GRAD_WRITE_A));
        // db (K x N) += a^T dy: db^T (N x K) += dy^T (N x M) a (M x K, the column-major K x M transposed)
        if (db)
            AIC_TRY(grad_acc(CUBLAS_OP_N, CUBLAS_OP_T, N, K, M, dy, N, (long long)MN, a + (size_t)ai * MK, K, p.sa,
                             db + (size_t)bi * KN, N, p.sb, p.inner, write & AIC_GRAD_WRITE_B));
    }
    return AIC_OK;
}
