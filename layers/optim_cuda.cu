// SPDX-License-Identifier: Apache-2.0
// The optimizer updates of core/optim.c (torch.optim's single-tensor rules) over the flat arenas,
// one thread per parameter. bc1, bc2_sqrt: Adam's bias corrections, computed on the host in double
// as the CPU does. Gradient clipping's norm and scaling are here too.
#include "layers/cuda_common.cuh"
#include "layers/optim_rules.h"

// p, g, buf: n
__global__ static void sgd_k(float *p, const float *g, float *buf, size_t n, float lr, float wd, float mu,
                             int nesterov) {
    AIC_GRID_STRIDE(i, n) aic_sgd_update(&p[i], g[i], &buf[i], lr, wd, mu, nesterov);
}

// p, g, m1, m2: n
__global__ static void adam_k(float *p, const float *g, float *m1, float *m2, size_t n, float lr, float beta1,
                              float beta2, float eps, float wd, int decoupled, float bc1, float bc2_sqrt) {
    const float step_size = lr / bc1;
    AIC_GRID_STRIDE(i, n) {
        aic_adam_update(&p[i], g[i], &m1[i], &m2[i], lr, beta1, beta2, eps, wd, decoupled, step_size, bc2_sqrt);
    }
}

extern "C" aic_status aic_cuda_sgd_step(float *p, const float *g, float *buf, size_t n, float lr, float wd, float mu,
                                        int nesterov) {
    return AIC_LAUNCH_N(n, sgd_k, p, g, buf, n, lr, wd, mu, nesterov);
}

extern "C" aic_status aic_cuda_adam_step(float *p, const float *g, float *m1, float *m2, size_t n, float lr,
                                         float beta1, float beta2, float eps, float wd, int decoupled, float bc1,
                                         float bc2_sqrt) {
    return AIC_LAUNCH_N(n, adam_k, p, g, m1, m2, n, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2_sqrt);
}

// partial[block] = the squares of g over the block's grid-stride elements, each thread's in order and
// the block's threads summed in a fixed tree: the same bits every run (no atomics). blockDim.x is
// AIC_CUDA_THREADS, a power of two.
// s[0] = the sum of s[0..blockDim.x) (a power of two) in a fixed tree; every thread must call it.
__device__ static void tree_sum(double *s) {
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w)
            s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
}

__global__ static void sum_squares_k(double *partial, const float *g, size_t n) {
    __shared__ double s[AIC_CUDA_THREADS];
    double acc = 0.0;
    AIC_GRID_STRIDE(i, n) acc += (double)g[i] * (double)g[i];
    s[threadIdx.x] = acc;
    tree_sum(s);
    if (threadIdx.x == 0)
        partial[blockIdx.x] = s[0];
}

// partial[0] = the sum of partial[0..AIC_CUDA_NORM_BLOCKS), one block in the same tree
__global__ static void sum_partials_k(double *partial) {
    __shared__ double s[AIC_CUDA_NORM_BLOCKS];
    s[threadIdx.x] = partial[threadIdx.x];
    tree_sum(s);
    if (threadIdx.x == 0)
        partial[0] = s[0];
}

// x: n
__global__ static void scale_k(float *x, size_t n, float c) {
    AIC_GRID_STRIDE(i, n) x[i] *= c;
}

extern "C" aic_status aic_cuda_sum_squares(double *partial, const float *g, size_t n, double *sum) {
    static_assert((AIC_CUDA_NORM_BLOCKS & (AIC_CUDA_NORM_BLOCKS - 1)) == 0, "the tree halves the blocks");
    sum_squares_k<<<AIC_CUDA_NORM_BLOCKS, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(partial, g, n);
    AIC_TRY(AIC_CUDA_LAUNCHED());
    sum_partials_k<<<1, AIC_CUDA_NORM_BLOCKS, 0, aic_cuda.stream>>>(partial);
    AIC_TRY(AIC_CUDA_LAUNCHED());
    AIC_TRY(AIC_CUDA(cudaMemcpyAsync(sum, partial, sizeof *sum, cudaMemcpyDeviceToHost, aic_cuda.stream)));
    return AIC_CUDA(cudaStreamSynchronize(aic_cuda.stream));
}

extern "C" aic_status aic_cuda_scale(float *x, size_t n, float c) { return AIC_LAUNCH_N(n, scale_k, x, n, c); }
