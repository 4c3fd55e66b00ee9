// SPDX-License-Identifier: Apache-2.0
/* A Chrome trace of training (aicon train --timeline): complete ("ph":"X") events of each op's
 * forward and backward, the gradient allreduce and the optimizer step, for the first steps of a run.
 *
 * One recorder per process (a rank is a process). Off by default: the hot paths test
 * aic_timeline_recording, one load and a branch, and record nothing. Memory is bounded by the
 * number of steps traced: recording stops by itself after them. On a GPU the times are those of the
 * host, which only queues the work: the trace then shows launches, not kernels. */
#ifndef AICON_CORE_TIMELINE_H
#define AICON_CORE_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "aicon/comm.h"

/* The trace's threads (tid): the compute of the step, and the gradient allreduce. */
enum { AIC_TIMELINE_COMPUTE = 0, AIC_TIMELINE_ALLREDUCE = 1 };

/* True while events are being kept (between aic_timeline_start and the end of the traced steps). */
extern bool aic_timeline_recording;

/* Collective over c: starts a trace of the next `steps` training steps (1..1000000), with one time
 * origin for all ranks (taken after a barrier). Calling it again starts afresh. */
aic_status aic_timeline_start(aic_comm_t *c, int steps);
/* Called by the trainer before each step: events that follow belong to it; after the traced steps
 * recording stops. */
void aic_timeline_step(uint64_t step);
/* Microseconds since the origin. */
double aic_timeline_now(void);
/* Keeps one event from t0 to t1 (aic_timeline_now values) on thread tid; cat is "forward",
 * "backward", "allreduce" or "optimizer"; name is copied (truncated to 63 bytes). */
void aic_timeline_add(const char *cat, const char *name, int tid, double t0, double t1);
/* Collective over c: rank 0 gathers every rank's events (pid = rank) and writes them to path as
 * {"traceEvents": [...]} (chrome://tracing, Perfetto). Ends the trace and frees the events. */
aic_status aic_timeline_write(aic_comm_t *c, const char *path);

#endif
