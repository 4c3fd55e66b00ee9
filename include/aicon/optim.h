// SPDX-License-Identifier: Apache-2.0
/* Optimizers over a compiled model's parameter arena, and learning-rate schedules. */
#ifndef AICON_OPTIM_H
#define AICON_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aicon/model.h"
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AIC_OPTIM_SGD = 0, AIC_OPTIM_ADAM = 1, AIC_OPTIM_ADAMW = 2 } aic_optim_kind;

typedef struct {
    aic_optim_kind kind;
    float momentum;     /* SGD */
    bool nesterov;      /* SGD, needs momentum > 0 */
    float weight_decay; /* SGD and Adam: added to the gradient; AdamW: decoupled */
    float beta1, beta2, eps; /* Adam/AdamW; 0 picks 0.9, 0.999, 1e-8 */
    /* Weight decay only for parameters of rank >= 2 (weights, embeddings), not for biases and
     * LayerNorm gains, as GPT-2 and nanoGPT train. */
    bool decay_matrices_only;
    /* 0: off. Else, before each update, every gradient is scaled by min(1, clip / (norm + 1e-6)), norm
     * the L2 norm over all parameters' gradients: torch.nn.utils.clip_grad_norm_. The gradients are
     * summed over ranks before the step, so every rank computes the same norm. */
    float clip_grad_norm;
} aic_optim_config;

typedef struct aic_optim aic_optim_t;

/* Semantics follow torch.optim.SGD / Adam / AdamW. State is allocated here, once. */
AIC_API aic_status aic_optim_create(aic_optim_t **out, aic_model_t *m, const aic_optim_config *cfg);
AIC_API void aic_optim_destroy(aic_optim_t *o);
/* p -= update(grad) with learning rate lr, over the whole parameter arena. */
AIC_API aic_status aic_optim_step(aic_optim_t *o, float lr);
AIC_API const aic_optim_config *aic_optim_config_of(const aic_optim_t *o);
/* State slots (SGD: "momentum"; Adam: "exp_avg", "exp_avg_sq"), each laid out like the parameter
 * arena. Returns the number of slots; *name and *data of slot i. */
AIC_API int aic_optim_slot_count(const aic_optim_t *o);
AIC_API aic_status aic_optim_slot(aic_optim_t *o, int i, const char **name, float **data);
/* The gradients' L2 norm before clipping at the last aic_optim_step with clip_grad_norm set (summed in
 * double, in arena order on the CPU, in a fixed tree on a GPU); 0 before, or without clipping. */
AIC_API float aic_optim_last_grad_norm(const aic_optim_t *o);
/* Steps taken (Adam's bias correction uses it). */
AIC_API int64_t aic_optim_steps(const aic_optim_t *o);
AIC_API void aic_optim_set_steps(aic_optim_t *o, int64_t steps);

typedef enum { AIC_LR_CONSTANT = 0, AIC_LR_STEP = 1, AIC_LR_COSINE = 2 } aic_lr_kind;

typedef struct {
    aic_lr_kind kind;
    float base_lr;
    int64_t warmup_steps; /* linear warm-up from base_lr / warmup_steps to base_lr */
    int64_t step_size;    /* AIC_LR_STEP: multiply by gamma every step_size steps */
    float gamma;
    int64_t total_steps;  /* AIC_LR_COSINE: reaches min_lr here */
    float min_lr;
} aic_lr_schedule;

/* Learning rate for 0-based `step`. */
AIC_API float aic_lr_at(const aic_lr_schedule *s, int64_t step);
/* The large-batch rule (Goyal et al.): the rate grows linearly with the world size. */
AIC_API float aic_lr_scale_for_world(float lr, int world_size);

#ifdef __cplusplus
}
#endif
#endif
