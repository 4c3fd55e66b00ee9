// SPDX-License-Identifier: Apache-2.0
/* What this rank is doing now, for the stall watchdog (tools/watchdog.c): the training thread notes
 * each phase change (relaxed atomic stores, no lock, nothing when nobody reads), another thread reads
 * it. One per process, like the rank. */
#ifndef AICON_TRAIN_PROGRESS_H
#define AICON_TRAIN_PROGRESS_H

#include <stdint.h>

typedef enum {
    AIC_PHASE_START,      /* loading data, building the model */
    AIC_PHASE_DATA,       /* gathering a batch */
    AIC_PHASE_FORWARD,
    AIC_PHASE_BACKWARD,   /* the bucketed gradient allreduce may run beside it */
    AIC_PHASE_ALLREDUCE,  /* waiting for the gradient sum (collective) */
    AIC_PHASE_OPTIMIZER,
    AIC_PHASE_EVALUATE,   /* collective at its end */
    AIC_PHASE_CHECKPOINT,
    AIC_PHASE_COLLECTIVE, /* any other collective: agreement, broadcast, epoch statistics */
    AIC_PHASE_DONE,
    AIC_PHASE_COUNT
} aic_phase;

typedef struct {
    aic_phase phase;
    int64_t step;     /* the global optimizer step the phase belongs to, -1 before the first */
    uint64_t changes; /* counts every aic_progress_set: unchanged means no progress */
} aic_progress;

void aic_progress_set(aic_phase phase, int64_t step);
/* Notes a phase change within the current step. */
void aic_progress_phase(aic_phase phase);
aic_progress aic_progress_get(void);
/* "forward", "allreduce", ...: lower case, for messages. */
const char *aic_phase_name(aic_phase phase);

#endif
