// SPDX-License-Identifier: Apache-2.0
/* Row-major single-precision GEMM for the CPU kernels: C (M x N) = alpha A' B' + beta C (beta 0 or 1), where
 * A' is A (M x K) or, transposed, A^T (A: K x M), and B' likewise. oneDNN's JIT GEMM (dnnl_sgemm): it
 * picks its kernel by the instruction set it finds, where Debian's OpenBLAS 0.3.21 runs its AVX2
 * (Haswell) kernel on AVX-512 AMD EPYCs it does not know; on this project's machines oneDNN's is 5-25 %
 * faster at attention's shapes and up to twice as fast at a transformer's dense layers (200 against 100
 * GFLOPS on one core). It runs on OpenMP threads, as many as aicon's thread count (OpenBLAS's); for a
 * given count its partition of the work, so its result, is the same every call. It rounds otherwise
 * than the OpenBLAS sgemm PyTorch's CPU linear calls: models agree with PyTorch within float rounding,
 * not bit for bit (tests/test_onnx_parity.c gives the figures). */
#ifndef AICON_LAYERS_GEMM_H
#define AICON_LAYERS_GEMM_H

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdbool.h>
#include <stddef.h>

static inline void aic_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc) {
    if (K == 0 && beta == 0.0f) { /* an empty sum: dnnl_sgemm would leave C as it was */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = 0.0f;
        return;
    }
    omp_set_num_threads(openblas_get_num_threads());
    /* The arguments are the caller's checked sizes and leading dims: dnnl_sgemm cannot refuse them. */
    (void)dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif
