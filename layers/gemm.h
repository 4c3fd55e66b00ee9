// SPDX-License-Identifier: Apache-2.0
/* Row-major single-precision GEMM for the CPU kernels: C (M x N) = A' B' + beta C, where A' is A
 * (M x K) or, transposed, A^T (A: K x M), and B' likewise. oneDNN's JIT GEMM (dnnl_sgemm): on the
 * AVX-512 machines this runs on, 5-25 % faster than OpenBLAS's at attention's shapes (K or N of 64,
 * benchmarks/attention.sh). It runs on OpenMP threads, as many as aicon's thread count (OpenBLAS's);
 * for a given count its partition of the work, so its result, is the same every call. */
#ifndef AICON_LAYERS_GEMM_H
#define AICON_LAYERS_GEMM_H

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdbool.h>

static inline void aic_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc) {
    omp_set_num_threads(openblas_get_num_threads());
    /* The arguments are the caller's checked sizes and leading dims: dnnl_sgemm cannot refuse them. */
    (void)dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

#endif
