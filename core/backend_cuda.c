// SPDX-License-Identifier: Apache-2.0
/* The CUDA backend table and the process's GPU context: plain cudaMalloc arenas (no managed memory),
 * one stream for the model's work, cuBLAS and cuDNN handles bound to it, and the status checks. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nccl.h>

#include "core/backend.h"
#include "core/cuda.h"
#include "core/error.h"
#include "layers/cuda_layers.h"

aic_cuda_ctx aic_cuda;

/* Convolution workspace bound unless AICON_CUDNN_WORKSPACE_MB says otherwise. */
#define DEFAULT_WORKSPACE_MB 1024
#define DEFAULT_WAIT_SECONDS 600.0 /* as --stall-timeout: a slow step is not a hang */

aic_status aic_cuda_check_rt(int err, const char *call, const char *file, int line) {
    if (err == cudaSuccess)
        return AIC_OK;
    cudaError_t e = (cudaError_t)err;
    return aic_fail(e == cudaErrorMemoryAllocation ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                    "%s failed at %s:%d: CUDA error %d (%s): %s", call, file, line, err, cudaGetErrorName(e),
                    cudaGetErrorString(e));
}

aic_status aic_cuda_check_blas(int err, const char *call, const char *file, int line) {
    if (err == CUBLAS_STATUS_SUCCESS)
        return AIC_OK;
    cublasStatus_t e = (cublasStatus_t)err;
    return aic_fail(e == CUBLAS_STATUS_ALLOC_FAILED ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                    "%s failed at %s:%d: cuBLAS status %d (%s): %s", call, file, line, err,
                    cublasGetStatusName(e), cublasGetStatusString(e));
}

aic_status aic_cuda_check_dnn(int err, const char *call, const char *file, int line) {
    if (err == CUDNN_STATUS_SUCCESS)
        return AIC_OK;
    char detail[256] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    return aic_fail(err == CUDNN_STATUS_ALLOC_FAILED ? AIC_ERR_NOMEM : AIC_ERR_INTERNAL,
                    "%s failed at %s:%d: cuDNN status %d (%s)%s%s", call, file, line, err,
                    cudnnGetErrorString((cudnnStatus_t)err), detail[0] ? ": " : "", detail);
}

aic_status aic_cuda_check_nccl(int err, const char *call, const char *file, int line) {
    if (err == ncclSuccess)
        return AIC_OK;
    const char *detail = ncclGetLastError(NULL);
    return aic_fail(AIC_ERR_COMM, "%s failed at %s:%d: NCCL error %d (%s)%s%s", call, file, line, err,
                    ncclGetErrorString((ncclResult_t)err), detail && *detail ? ": " : "",
                    detail ? detail : "");
}

aic_status aic_cuda_init(int device, bool tf32) {
    if (aic_cuda.ready) {
        if (device != aic_cuda.device)
            return aic_fail(AIC_ERR_INVALID_ARG,
                            "GPU %d: this process already drives GPU %d (aicon runs one GPU per process)", device,
                            aic_cuda.device);
        return AIC_OK; /* each model applies its own TF32 setting per pass (backend use_tf32) */
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
    const char *wait = getenv("AICON_GPU_WAIT_SECONDS");
    aic_cuda.wait_limit = wait && *wait ? strtod(wait, NULL) : DEFAULT_WAIT_SECONDS;
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

void aic_cuda_set_watch(aic_status (*watch)(void *ctx, bool give_up), void *ctx) {
    aic_cuda.watch = watch;
    aic_cuda.watch_ctx = ctx;
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

aic_status aic_cuda_stream_wait(cudaStream_t stream, const char *what) {
    const double start = seconds_now();
    for (unsigned polls = 0;; polls++) {
        cudaError_t e = cudaStreamQuery(stream);
        if (e == cudaSuccess)
            return AIC_OK;
        if (e != cudaErrorNotReady)
            return AIC_CUDA(e);
        if (aic_cuda.watch)
            AIC_TRY(aic_cuda.watch(aic_cuda.watch_ctx, false));
        const double waited = seconds_now() - start;
        if (aic_cuda.wait_limit > 0 && waited > aic_cuda.wait_limit) {
            if (aic_cuda.watch)
                AIC_TRY(aic_cuda.watch(aic_cuda.watch_ctx, true));
            return aic_fail(AIC_ERR_COMM,
                            "GPU %d: %s has not finished after %.0f s (a peer rank stopped in a collective?); "
                            "giving up (AICON_GPU_WAIT_SECONDS)",
                            aic_cuda.device, what, waited);
        }
        /* Spin briefly (most waits are short), then sleep between polls to leave the core to others. */
        if (polls > 1000)
            nanosleep(&(struct timespec){.tv_nsec = 50000}, NULL);
    }
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
    return aic_cuda_stream_wait(aic_cuda.stream, "a copy to the host");
}



static aic_status cuda_set_f32(float *dst, float value) { return aic_cuda_fill(dst, value, 1); }

static aic_status cuda_sync(void) { return aic_cuda_stream_wait(aic_cuda.stream, "the model's queued work"); }

static aic_status cuda_use_tf32(bool allowed) {
    if (allowed == aic_cuda.tf32)
        return AIC_OK;
    aic_cuda.tf32 = allowed; /* convolution plans are cached per setting (layers/conv2d_cuda.cu) */
    return AIC_CUBLAS(cublasSetMathMode(aic_cuda.blas, allowed ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
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
    .use_tf32 = cuda_use_tf32,
};
