// SPDX-License-Identifier: Apache-2.0
/* The CUDA backend table and the process's GPU context: plain cudaMalloc arenas (no managed memory),
 * one stream for the model's work, cuBLAS and cuDNN handles bound to it, and the status checks. */
#include <stdio.h>
#include <stdlib.h>

#include <nccl.h>

#include "core/backend.h"
#include "core/cuda.h"
#include "core/error.h"
#include "layers/cuda_layers.h"

aic_cuda_ctx aic_cuda;

/* Convolution workspace bound unless AICON_CUDNN_WORKSPACE_MB says otherwise. */
#define DEFAULT_WORKSPACE_MB 1024

static aic_status record(aic_status s) {
    if (aic_cuda.sticky == AIC_OK)
        aic_cuda.sticky = s;
    return s;
}

aic_status aic_cuda_check_rt(int err, const char *call, const char *file, int line) {
    if (err == cudaSuccess)
        return AIC_OK;
    cudaError_t e = (cudaError_t)err;
    return record(aic_fail(e == cudaErrorMemoryAllocation ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                           "%s failed at %s:%d: CUDA error %d (%s): %s", call, file, line, err, cudaGetErrorName(e),
                           cudaGetErrorString(e)));
}

aic_status aic_cuda_check_blas(int err, const char *call, const char *file, int line) {
    if (err == CUBLAS_STATUS_SUCCESS)
        return AIC_OK;
    cublasStatus_t e = (cublasStatus_t)err;
    return record(aic_fail(e == CUBLAS_STATUS_ALLOC_FAILED ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                           "%s failed at %s:%d: cuBLAS status %d (%s): %s", call, file, line, err,
                           cublasGetStatusName(e), cublasGetStatusString(e)));
}

aic_status aic_cuda_check_dnn(int err, const char *call, const char *file, int line) {
    if (err == CUDNN_STATUS_SUCCESS)
        return AIC_OK;
    char detail[256] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    return record(aic_fail(err == CUDNN_STATUS_ALLOC_FAILED ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                           "%s failed at %s:%d: cuDNN status %d (%s)%s%s", call, file, line, err,
                           cudnnGetErrorString((cudnnStatus_t)err), detail[0] ? ": " : "", detail));
}

aic_status aic_cuda_check_nccl(int err, const char *call, const char *file, int line) {
    if (err == ncclSuccess)
        return AIC_OK;
    const char *detail = ncclGetLastError(NULL);
    return record(aic_fail(AIC_ERR_COMM, "%s failed at %s:%d: NCCL error %d (%s)%s%s", call, file, line, err,
                           ncclGetErrorString((ncclResult_t)err), detail && *detail ? ": " : "",
                           detail ? detail : ""));
}

aic_status aic_cuda_take_error(void) {
    aic_status s = aic_cuda.sticky;
    aic_cuda.sticky = AIC_OK;
    return s;
}

aic_status aic_cuda_init(int device, bool tf32) {
    if (aic_cuda.ready) {
        if (device != aic_cuda.device)
            return aic_fail(AIC_ERR_INVALID_ARG,
                            "GPU %d: this process already drives GPU %d (aicon runs one GPU per process)", device,
                            aic_cuda.device);
        aic_cuda.tf32 = tf32;
        AIC_TRY(AIC_CUBLAS(cublasSetMathMode(aic_cuda.blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH)));
        return AIC_OK;
    }
    int count = 0;
    AIC_TRY(AIC_CUDA(cudaGetDeviceCount(&count)));
    if (device < 0 || device >= count)
        return aic_fail(AIC_ERR_INVALID_ARG, "GPU %d does not exist: this process sees %d GPU%s (CUDA_VISIBLE_DEVICES)",
                        device, count, count == 1 ? "" : "s");
    AIC_TRY(AIC_CUDA(cudaSetDevice(device)));
    AIC_TRY(AIC_CUDA(cudaStreamCreateWithFlags(&aic_cuda.stream, cudaStreamNonBlocking)));
    AIC_TRY(AIC_CUBLAS(cublasCreate(&aic_cuda.blas)));
    AIC_TRY(AIC_CUBLAS(cublasSetStream(aic_cuda.blas, aic_cuda.stream)));
    AIC_TRY(AIC_CUBLAS(cublasSetMathMode(aic_cuda.blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH)));
    AIC_TRY(AIC_CUDNN(cudnnCreate(&aic_cuda.dnn)));
    AIC_TRY(AIC_CUDNN(cudnnSetStream(aic_cuda.dnn, aic_cuda.stream)));
    const char *mb = getenv("AICON_CUDNN_WORKSPACE_MB");
    long limit = mb && *mb ? strtol(mb, NULL, 10) : DEFAULT_WORKSPACE_MB;
    aic_cuda.workspace_limit = (size_t)(limit > 0 ? limit : 0) << 20;
    aic_cuda.device = device;
    aic_cuda.tf32 = tf32;
    aic_cuda.ready = true;
    return AIC_OK;
}

aic_status aic_cuda_workspace(size_t bytes, void **out) {
    if (bytes > aic_cuda.workspace_bytes) {
        /* Work queued on the stream may still read the old one. */
        AIC_TRY(AIC_CUDA(cudaStreamSynchronize(aic_cuda.stream)));
        AIC_TRY(AIC_CUDA(cudaFree(aic_cuda.workspace)));
        aic_cuda.workspace = NULL;
        aic_cuda.workspace_bytes = 0;
        AIC_TRY(AIC_CUDA(cudaMalloc(&aic_cuda.workspace, bytes)));
        aic_cuda.workspace_bytes = bytes;
    }
    *out = aic_cuda.workspace;
    return AIC_OK;
}

bool aic_cuda_is_device_ptr(const void *p) {
    struct cudaPointerAttributes a;
    if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError(); /* a host pointer is not an error to keep */
        return false;
    }
    return a.type == cudaMemoryTypeDevice;
}

/* ---- the backend table ------------------------------------------------------------------------ */

static void *cuda_alloc(size_t bytes) {
    void *p = NULL;
    size_t rounded = (bytes + 255) / 256 * 256;
    if (AIC_CUDA(cudaMalloc(&p, rounded ? rounded : 256)) != AIC_OK)
        return NULL;
    /* Arenas start zeroed, as on the CPU; the memset is ordered before any later work on the stream. */
    if (AIC_CUDA(cudaMemsetAsync(p, 0, rounded ? rounded : 256, aic_cuda.stream)) != AIC_OK ||
        AIC_CUDA(cudaStreamSynchronize(aic_cuda.stream)) != AIC_OK) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

static void cuda_free(void *p) {
    if (p) {
        cudaStreamSynchronize(aic_cuda.stream);
        cudaFree(p);
    }
}

static aic_status cuda_zero(void *p, size_t bytes) {
    return bytes ? AIC_CUDA(cudaMemsetAsync(p, 0, bytes, aic_cuda.stream)) : AIC_OK;
}

static aic_status cuda_copy_from_host(void *dst, const void *src, size_t bytes) {
    if (!bytes)
        return AIC_OK;
    /* From pageable memory the runtime stages src before returning, so the caller may reuse it. */
    return AIC_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, aic_cuda.stream));
}

static aic_status cuda_copy_to_host(void *dst, const void *src, size_t bytes) {
    if (!bytes)
        return AIC_OK;
    AIC_TRY(AIC_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, aic_cuda.stream)));
    AIC_TRY(AIC_CUDA(cudaStreamSynchronize(aic_cuda.stream)));
    return aic_cuda_take_error();
}



static aic_status cuda_set_f32(float *dst, float value) { return aic_cuda_fill(dst, value, 1); }

static aic_status cuda_sync(void) {
    AIC_TRY(AIC_CUDA(cudaStreamSynchronize(aic_cuda.stream)));
    return aic_cuda_take_error();
}

const aic_backend aic_backend_cuda = {
    .name = "cuda",
    .api_version = AIC_BACKEND_API_VERSION,
    .kind = AIC_BACKEND_CUDA,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .zero = cuda_zero,
    .copy_from_host = cuda_copy_from_host,
    .copy_to_host = cuda_copy_to_host,
    .set_f32 = cuda_set_f32,
    .sync = cuda_sync,
    .check = aic_cuda_take_error,
};
