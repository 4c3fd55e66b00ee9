// SPDX-License-Identifier: Apache-2.0
#include "train/progress.h"

#include <stdatomic.h>

static _Atomic int cur_phase = AIC_PHASE_START;
static _Atomic int64_t cur_step = -1;
static _Atomic uint64_t cur_changes;

void aic_progress_set(aic_phase phase, int64_t step) {
    atomic_store_explicit(&cur_step, step, memory_order_relaxed);
    atomic_store_explicit(&cur_phase, (int)phase, memory_order_relaxed);
    atomic_fetch_add_explicit(&cur_changes, 1, memory_order_release);
}

void aic_progress_phase(aic_phase phase) {
    atomic_store_explicit(&cur_phase, (int)phase, memory_order_relaxed);
    atomic_fetch_add_explicit(&cur_changes, 1, memory_order_release);
}

aic_progress aic_progress_get(void) {
    aic_progress p;
    p.changes = atomic_load_explicit(&cur_changes, memory_order_acquire);
    p.phase = (aic_phase)atomic_load_explicit(&cur_phase, memory_order_relaxed);
    p.step = atomic_load_explicit(&cur_step, memory_order_relaxed);
    return p;
}

const char *aic_phase_name(aic_phase phase) {
    static const char *const names[AIC_PHASE_COUNT] = {
        [AIC_PHASE_START] = "start-up (data, model)", [AIC_PHASE_DATA] = "batch loading",
        [AIC_PHASE_FORWARD] = "forward", [AIC_PHASE_BACKWARD] = "backward",
        [AIC_PHASE_ALLREDUCE] = "gradient allreduce", [AIC_PHASE_OPTIMIZER] = "optimizer step",
        [AIC_PHASE_EVALUATE] = "evaluation", [AIC_PHASE_CHECKPOINT] = "checkpoint writing",
        [AIC_PHASE_COLLECTIVE] = "a collective (agreement, broadcast or statistics)",
        [AIC_PHASE_DONE] = "finishing"};
    return (unsigned)phase < AIC_PHASE_COUNT ? names[phase] : "?";
}
