// SPDX-License-Identifier: Apache-2.0
/* The event recorder behind aicon train --timeline (train/timeline.h starts it on every rank at once
 * and writes the trace): complete events of each op's forward and backward, the gradient allreduce
 * and the optimizer step, for the first steps of a run.
 *
 * One recorder per process (a rank is a process). Off by default: the hot paths test
 * aic_trace_recording, one load and a branch, and record nothing. Memory is bounded by the number
 * of steps traced: recording stops by itself after them. On a GPU the times are those of the host,
 * which only queues the work: the trace then shows launches, not kernels. */
#ifndef AICON_CORE_TRACE_H
#define AICON_CORE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The trace's threads (tid): the compute of the step, and the gradient allreduce. */
enum { AIC_TRACE_COMPUTE = 0, AIC_TRACE_ALLREDUCE = 1 };

typedef struct {
    char cat[12];
    char name[64];
    int tid;
    uint64_t step;
    double t0, t1; /* microseconds since the origin */
} aic_trace_event;

/* True while events are being kept (between aic_trace_start and the end of the traced steps). */
extern bool aic_trace_recording;

/* Starts afresh: the next `steps` steps are traced, and times count from now. */
void aic_trace_start(int steps);
/* Called by the trainer before each step: events that follow belong to it; after the traced steps
 * recording stops. */
void aic_trace_step(uint64_t step);
/* Microseconds since the origin. */
double aic_trace_now(void);
/* Keeps one event from t0 to t1 (aic_trace_now values) on thread tid; cat is "forward", "backward",
 * "allreduce" or "optimizer"; name is copied (truncated to 63 bytes). */
void aic_trace_add(const char *cat, const char *name, int tid, double t0, double t1);
/* Stops recording; the events kept, *n of them, stay valid until aic_trace_clear or aic_trace_start. */
const aic_trace_event *aic_trace_finish(size_t *n);
/* Frees the events: the recorder is as it was before any aic_trace_start. */
void aic_trace_clear(void);

#endif
