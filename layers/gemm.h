// SPDX-License-Identifier: Apache-2.0
/* Row-major single-precision GEMM for the CPU kernels: C (M x N) = A' B' + beta C (beta 0 or 1), where
 * A' is A (M x K) or, transposed, A^T (A: K x M), and B' likewise. oneDNN's JIT GEMM (dnnl_sgemm): on
 * the AVX-512 machines this runs on, 5-25 % faster than OpenBLAS's at attention's shapes (K or N of 64,
 * benchmarks/attention.sh). It runs on OpenMP threads, as many as aicon's thread count (OpenBLAS's);
 * for a given count its partition of the work, so its result, is the same every call. Dense layers
 * stay on OpenBLAS: PyTorch's CPU linear calls the same sgemm, so a model trains bit for bit as there
 * (tests/onnx: MobileNetV3's 20 steps drift past 1e-4 of PyTorch's losses with oneDNN's rounding). */
#ifndef AICON_LAYERS_GEMM_H
#define AICON_LAYERS_GEMM_H

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdbool.h>
#include <stddef.h>

static inline void aic_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc) {
    if (K == 0 && beta == 0.0f) { /* an empty sum: dnnl_sgemm would leave C as it was */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = 0.0f;
        return;
    }
    omp_set_num_threads(openblas_get_num_threads());
    /* The arguments are the caller's checked sizes and leading dims: dnnl_sgemm cannot refuse them. */
    (void)dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

#endif
