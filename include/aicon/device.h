// SPDX-License-Identifier: Apache-2.0
/* GPUs this process can see, and the versions of the GPU libraries aicon was built with.
 *
 * In a build without CUDA (AICON_CUDA=OFF, or no CUDA toolkit found) there are no GPUs: the count
 * is 0 and every version is "". Local queries, not collective. */
#ifndef AICON_DEVICE_H
#define AICON_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AIC_DEVICE_CPU = 0, AIC_DEVICE_CUDA = 1 } aic_device_kind;

typedef struct {
    int index;              /* CUDA device ordinal */
    char name[128];         /* "NVIDIA H100 80GB HBM3" */
    char pci_bus_id[32];    /* "0000:65:00.0", as hwloc names PCI devices */
    uint64_t memory_bytes;  /* total device memory */
    int cc_major, cc_minor; /* compute capability */
} aic_gpu_info;

typedef struct {
    char cuda_runtime[32], cuda_driver[32], cudnn[32], cublas[32], nccl[32]; /* "12.4", or "" */
} aic_gpu_versions;

/* True when this build has the CUDA backend. */
AIC_API bool aic_cuda_built(void);
/* Number of visible GPUs into *count (0 without CUDA, without a driver or without a device; the
 * reason then goes to aic_last_error and the call still returns AIC_OK). */
AIC_API aic_status aic_gpu_count(int *count);
AIC_API aic_status aic_gpu_info_get(int index, aic_gpu_info *out);
/* Versions this build was compiled against and, where the library says, runs with. */
AIC_API void aic_gpu_versions_get(aic_gpu_versions *out);

#ifdef __cplusplus
}
#endif
#endif
