// SPDX-License-Identifier: Apache-2.0
/* The trace recorder: a growing array of events, kept only for the traced steps. */
#include "core/trace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool aic_trace_recording = false;

static struct {
    aic_trace_event *ev;
    size_t n, cap;
    int steps;           /* steps to trace */
    int seen;            /* steps begun since the start */
    uint64_t step;       /* the step events now belong to */
    struct timespec origin;
} tl;

double aic_trace_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - tl.origin.tv_sec) * 1e6 + (double)(t.tv_nsec - tl.origin.tv_nsec) * 1e-3;
}

void aic_trace_start(int steps) {
    aic_trace_clear();
    tl.steps = steps;
    clock_gettime(CLOCK_MONOTONIC, &tl.origin);
}

void aic_trace_step(uint64_t step) {
    if (tl.steps == 0)
        return;
    tl.step = step;
    aic_trace_recording = tl.seen++ < tl.steps;
}

/* The gradient buckets' allreduce records from its own thread while backward records from the
 * training thread. */
static pthread_mutex_t tl_lock = PTHREAD_MUTEX_INITIALIZER;

void aic_trace_add(const char *cat, const char *name, int tid, double t0, double t1) {
    if (!aic_trace_recording)
        return;
    pthread_mutex_lock(&tl_lock);
    if (tl.n == tl.cap) {
        size_t cap = tl.cap ? 2 * tl.cap : 256;
        aic_trace_event *ev = realloc(tl.ev, cap * sizeof *ev);
        if (!ev) { /* a trace with a gap beats a failed run: stop recording, keep what there is */
            aic_trace_recording = false;
            pthread_mutex_unlock(&tl_lock);
            return;
        }
        tl.ev = ev;
        tl.cap = cap;
    }
    aic_trace_event *e = &tl.ev[tl.n++];
    snprintf(e->cat, sizeof e->cat, "%s", cat);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->tid = tid;
    e->step = tl.step;
    e->t0 = t0;
    e->t1 = t1 < t0 ? t0 : t1;
    pthread_mutex_unlock(&tl_lock);
}

const aic_trace_event *aic_trace_finish(size_t *n) {
    aic_trace_recording = false;
    *n = tl.n;
    return tl.ev;
}

void aic_trace_clear(void) {
    free(tl.ev);
    memset(&tl, 0, sizeof tl);
}
