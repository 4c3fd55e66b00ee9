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
