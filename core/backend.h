/* The backend table: where a model's arenas live and how bytes move there. Ops dispatch per backend
 * through the op class table (core/graph.h); the CPU backend is the reference every other backend is
 * tested against. A CUDA backend will fill the same slots. */
#ifndef AICON_CORE_BACKEND_H
#define AICON_CORE_BACKEND_H

#include <stddef.h>

#define AIC_BACKEND_API_VERSION 1

typedef enum { AIC_BACKEND_CPU = 0, AIC_BACKEND_COUNT } aic_backend_kind;

typedef struct {
    const char *name;
    int api_version;
    aic_backend_kind kind;
    void *(*alloc)(size_t bytes); /* zero-filled, aligned for vector loads; NULL on failure */
    void (*free)(void *p);
    void (*zero)(void *p, size_t bytes);
    void (*copy_from_host)(void *dst, const void *src, size_t bytes);
    void (*copy_to_host)(void *dst, const void *src, size_t bytes);
} aic_backend;

extern const aic_backend aic_backend_cpu;

#endif
