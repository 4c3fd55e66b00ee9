// SPDX-License-Identifier: Apache-2.0
/* The optimizer updates of one parameter, torch.optim's single-tensor rules (1.13), shared by the
 * CPU loops (core/optim.c) and the CUDA kernels (layers/optim_cuda.cu), so both backends step alike. */
#ifndef AICON_LAYERS_OPTIM_RULES_H
#define AICON_LAYERS_OPTIM_RULES_H

#include <math.h>
#include <stdbool.h>

#include "layers/host_device.h"

/* SGD with weight decay wd and, when mu != 0, momentum buffer *buf (Nesterov's when nesterov). */
AIC_HD void aic_sgd_update(float *p, float g, float *buf, float lr, float wd, float mu, bool nesterov) {
    float d = g;
    if (wd != 0.0f)
        d += wd * *p;
    if (mu != 0.0f) {
        /* torch starts the buffer at the first gradient; mu * 0 + d is that, bit for bit */
        *buf = mu * *buf + d;
        d = nesterov ? d + mu * *buf : *buf;
    }
    *p -= lr * d;
}

/* Adam (weight decay added to the gradient) or AdamW (decoupled: the parameter shrinks) with moments
 * *m1, *m2. step_size: lr / bc1; bc1, bc2_sqrt: the bias corrections 1 - beta1^t and
 * sqrt(1 - beta2^t), computed once a step in double. */
AIC_HD void aic_adam_update(float *p, float g, float *m1, float *m2, float lr, float beta1, float beta2, float eps,
                            float wd, bool decoupled, float step_size, float bc2_sqrt) {
    if (wd != 0.0f) {
        if (decoupled)
            *p *= 1.0f - lr * wd;
        else
            g += wd * *p;
    }
    *m1 = *m1 * beta1 + g * (1.0f - beta1);
    *m2 = *m2 * beta2 + g * g * (1.0f - beta2);
    float denom = sqrtf(*m2) / bc2_sqrt + eps;
    *p -= step_size * (*m1 / denom);
}

#endif
