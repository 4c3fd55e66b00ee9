// SPDX-License-Identifier: Apache-2.0
/* The backend table: where a model's arenas live and how bytes move there. Ops dispatch per backend
 * through their kernel tables (core/graph.h: each aic_op_desc's cpu and cuda kernels); the
 * CPU backend is the reference every other backend is tested against. */
#ifndef AICON_CORE_BACKEND_H
#define AICON_CORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "aicon/status.h"

#define AIC_BACKEND_API_VERSION 4

typedef enum { AIC_BACKEND_CPU = 0, AIC_BACKEND_CUDA, AIC_BACKEND_COUNT } aic_backend_kind;

typedef struct {
    const char *name;
    int api_version;
    aic_backend_kind kind;
    void *(*alloc)(size_t bytes); /* zero-filled, aligned for vector loads; NULL on failure */
    void (*free)(void *p);
    /* The rest return AIC_OK or a failure described through aic_fail. A device backend queues them
     * on its stream: copy_to_host returns once the bytes are on the host, the others may return
     * before the device has done them (the source of copy_from_host may be reused at once). */
    aic_status (*zero)(void *p, size_t bytes);
    aic_status (*copy_from_host)(void *dst, const void *src, size_t bytes);
    aic_status (*copy_to_host)(void *dst, const void *src, size_t bytes);
    aic_status (*set_f32)(float *dst, float value); /* one float, e.g. the loss gradient seed */
    /* Wait for queued work; report a failure of a kernel that ran since the last wait. */
    aic_status (*sync)(void);
    /* Optional (NULL: nothing to set): the model's math settings, applied before each of its passes,
     * since one process may drive models that differ in them. */
    aic_status (*use_tf32)(bool allowed);
} aic_backend;

extern const aic_backend aic_backend_cpu;
#ifdef AICON_HAVE_CUDA
extern const aic_backend aic_backend_cuda;
#endif

#endif
