// SPDX-License-Identifier: Apache-2.0
/* GPU enumeration and versions in a CUDA build (core/device.c is the CPU-only stand-in). */
#include <stdio.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <nccl.h>

#include "aicon/device.h"
#include "core/cuda.h"
#include "core/error.h"

bool aic_cuda_built(void) { return true; }

aic_status aic_gpu_count(int *count) {
    if (!count)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gpu_count: count is NULL");
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        *count = 0;
        /* No driver or no device is an answer (0 GPUs), not a failure. */
        aic_fail(AIC_ERR_UNSUPPORTED, "no GPU: cudaGetDeviceCount: %s (%s)", cudaGetErrorString(e),
                 cudaGetErrorName(e));
    }
    return AIC_OK;
}

aic_status aic_gpu_info_get(int index, aic_gpu_info *out) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gpu_info_get: out is NULL");
    struct cudaDeviceProp p;
    AIC_TRY(AIC_CUDA(cudaGetDeviceProperties(&p, index)));
    memset(out, 0, sizeof *out);
    out->index = index;
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    snprintf(out->pci_bus_id, sizeof out->pci_bus_id, "%04x:%02x:%02x.0", p.pciDomainID, p.pciBusID, p.pciDeviceID);
    out->memory_bytes = p.totalGlobalMem;
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    return AIC_OK;
}

static void cuda_version_text(char *buf, size_t size, int v) {
    if (v > 0)
        snprintf(buf, size, "%d.%d", v / 1000, v % 1000 / 10);
}

void aic_gpu_versions_get(aic_gpu_versions *out) {
    memset(out, 0, sizeof *out);
    int v = 0;
    if (cudaRuntimeGetVersion(&v) == cudaSuccess)
        cuda_version_text(out->cuda_runtime, sizeof out->cuda_runtime, v);
    v = 0;
    if (cudaDriverGetVersion(&v) == cudaSuccess)
        cuda_version_text(out->cuda_driver, sizeof out->cuda_driver, v);
    cudaGetLastError();
    size_t dnn = cudnnGetVersion(); /* 90100 = 9.1.0 since cuDNN 9 */
    snprintf(out->cudnn, sizeof out->cudnn, "%zu.%zu.%zu", dnn / 10000, dnn % 10000 / 100, dnn % 100);
    int blas = 0;
    if (cublasGetProperty(MAJOR_VERSION, &blas) == CUBLAS_STATUS_SUCCESS) {
        int minor = 0, patch = 0;
        cublasGetProperty(MINOR_VERSION, &minor);
        cublasGetProperty(PATCH_LEVEL, &patch);
        snprintf(out->cublas, sizeof out->cublas, "%d.%d.%d", blas, minor, patch);
    }
    int nccl = 0;
    if (ncclGetVersion(&nccl) == ncclSuccess) /* 22805 = 2.28.5 since NCCL 2.9 */
        snprintf(out->nccl, sizeof out->nccl, "%d.%d.%d", nccl / 10000, nccl % 10000 / 100, nccl % 100);
}
