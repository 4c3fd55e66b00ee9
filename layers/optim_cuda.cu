// SPDX-License-Identifier: Apache-2.0
// The optimizer updates of core/optim.c (torch.optim's single-tensor rules) over the flat arenas,
// one thread per parameter. bc1, bc2_sqrt: Adam's bias corrections, computed on the host in double
// as the CPU does.
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
