// SPDX-License-Identifier: Apache-2.0
// Dense on cuBLAS. Row-major N x C is column-major C x N with leading dimension C, so each product
// below is the CPU's (dense.c) written for column-major storage. TF32 only when the context's math
// mode allows it (core/backend_cuda.c: CUBLAS_DEFAULT_MATH unless --tf32).
#include "layers/cuda_common.cuh"

// out: N x OC, every row = bias (OC)
__global__ static void rows_from_bias_k(float *out, const float *bias, size_t n, int OC) {
    AIC_GRID_STRIDE(i, n) out[i] = bias[i % (size_t)OC];
}

// dbias: OC += column sums of dout (N x OC); one thread per column, rows in order
__global__ static void column_sums_k(float *dbias, const float *dout, int N, int OC) {
    AIC_GRID_STRIDE(j, (size_t)OC) {
        float s = 0.0f;
        for (int i = 0; i < N; i++)
            s += dout[(size_t)i * OC + j];
        dbias[j] += s;
    }
}

extern "C" aic_status aic_cuda_dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                                             int N, int C, int OC) {
    // out: N x OC, inp: N x C, weight: OC x C, bias: OC or NULL
    if (N == 0)
        return AIC_OK;
    const float one = 1.0f, zero = 0.0f;
    if (bias)
        AIC_TRY(AIC_LAUNCH_N((size_t)N * OC, rows_from_bias_k, out, bias, (size_t)N * OC, OC));
    // out^T (OC x N) = W (OC x C) * inp^T (C x N) [+ out^T]
    return AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, &one, weight, C, inp, C,
                                  bias ? &one : &zero, out, OC));
}

extern "C" aic_status aic_cuda_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                              const float *inp, const float *weight, int N, int C, int OC,
                                              unsigned write) {
    // dinp: N x C, dweight: OC x C, dbias: OC, dout: N x OC
    if (N == 0)
        return AIC_OK;
    const float one = 1.0f, zero = 0.0f;
    if (dinp) // dinp^T (C x N) += (or =, written) W^T (C x OC) * dout^T (OC x N)
        AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, &one, weight, C, dout, OC,
                                       write & AIC_GRAD_WRITE_A ? &zero : &one, dinp, C)));
    if (dweight) // dW^T (C x OC) += inp^T (C x N) * dout (N x OC)
        AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, &one, inp, C, dout, OC, &one,
                                       dweight, C)));
    if (dbias)
        AIC_TRY(AIC_LAUNCH_N((size_t)OC, column_sums_k, dbias, dout, N, OC));
    return AIC_OK;
}
