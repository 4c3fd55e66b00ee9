// SPDX-License-Identifier: Apache-2.0
// The optimizer updates of core/optim.c (torch.optim's single-tensor rules) over the flat arenas,
// one thread per parameter. bc1, bc2_sqrt: Adam's bias corrections, computed on the host in double
// as the CPU does.
#include "layers/cuda_common.cuh"

// p, g, buf: n
__global__ static void sgd_k(float *p, const float *g, float *buf, size_t n, float lr, float wd, float mu,
                             int nesterov) {
    AIC_GRID_STRIDE(i, n) {
        float d = g[i];
        if (wd != 0.0f)
            d += wd * p[i];
        if (mu != 0.0f) {
            buf[i] = mu * buf[i] + d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

// p, g, m1, m2: n
__global__ static void adam_k(float *p, const float *g, float *m1, float *m2, size_t n, float lr, float beta1,
                              float beta2, float eps, float wd, int decoupled, float bc1, float bc2_sqrt) {
    const float step_size = lr / bc1;
    AIC_GRID_STRIDE(i, n) {
        float gi = g[i];
        if (wd != 0.0f) {
            if (decoupled)
                p[i] *= 1.0f - lr * wd;
            else
                gi += wd * p[i];
        }
        m1[i] = m1[i] * beta1 + gi * (1.0f - beta1);
        m2[i] = m2[i] * beta2 + gi * gi * (1.0f - beta2);
        float denom = sqrtf(m2[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m1[i] / denom);
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
