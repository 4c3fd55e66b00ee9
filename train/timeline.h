// SPDX-License-Identifier: Apache-2.0
/* A Chrome trace of training (aicon train --timeline) over every rank: the recorder of core/trace.h
 * started on all ranks with one time origin, and its events gathered into one file. */
#ifndef AICON_TRAIN_TIMELINE_H
#define AICON_TRAIN_TIMELINE_H

#include "aicon/comm.h"
#include "aicon/status.h"

/* Collective over c: starts a trace of the next `steps` training steps (1..1000000), with one time
 * origin for all ranks (taken after a barrier). Calling it again starts afresh. */
aic_status aic_timeline_start(aic_comm_t *c, int steps);
/* Collective over c: rank 0 gathers every rank's events (pid = rank) and writes them to path as
 * {"traceEvents": [...]} (chrome://tracing, Perfetto). Ends the trace and frees the events. */
aic_status aic_timeline_write(aic_comm_t *c, const char *path);

#endif
