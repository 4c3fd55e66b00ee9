// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"

/* 64-byte alignment: a cache line, and enough for any AVX-512 load BLAS may issue. */
static void *cpu_alloc(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p)
        memset(p, 0, rounded ? rounded : 64);
    return p;
}

static aic_status cpu_zero(void *p, size_t bytes) {
    memset(p, 0, bytes);
    return AIC_OK;
}

static aic_status cpu_copy(void *dst, const void *src, size_t bytes) {
    if (dst != src)
        memmove(dst, src, bytes);
    return AIC_OK;
}

static aic_status cpu_set_f32(float *dst, float value) {
    *dst = value;
    return AIC_OK;
}

static aic_status cpu_sync(void) { return AIC_OK; }

const aic_backend aic_backend_cpu = {
    .name = "cpu",
    .api_version = AIC_BACKEND_API_VERSION,
    .kind = AIC_BACKEND_CPU,
    .alloc = cpu_alloc,
    .free = free,
    .zero = cpu_zero,
    .copy_from_host = cpu_copy,
    .copy_to_host = cpu_copy,
    .set_f32 = cpu_set_f32,
    .sync = cpu_sync,
};
