// SPDX-License-Identifier: Apache-2.0
/* Internal to the CUDA backend: the process's GPU context and the status checks every CUDA, cuBLAS,
 * cuDNN and NCCL call goes through. One process drives one GPU (one rank per GPU), so the context is
 * a single global, made by aic_cuda_init and used by the backend table, the op glue
 * (core/op_*.c), the kernels in layers/ *_cuda.cu and the collectives. */
#ifndef AICON_CORE_CUDA_H
#define AICON_CORE_CUDA_H

#include <stdbool.h>
#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    bool ready;
    int device;
    bool tf32;             /* cuBLAS and cuDNN may use TF32 tensor cores for fp32 */
    cudaStream_t stream;   /* every kernel, copy and library call of the model */
    cublasHandle_t blas;   /* bound to stream */
    cudnnHandle_t dnn;     /* bound to stream */
    void *workspace;       /* cuDNN workspace and dummy gradients, grown on demand */
    size_t workspace_bytes;
    size_t workspace_limit; /* most bytes a convolution algorithm may ask for */
    double wait_limit;     /* seconds a host wait on the GPU may take before it fails (0: no limit) */
    aic_status (*watch)(void *ctx, bool give_up); /* asked while the host waits; see aic_cuda_set_watch */
    void *watch_ctx;
} aic_cuda_ctx;

extern aic_cuda_ctx aic_cuda;

/* Make the context for GPU `device` (idempotent for the same device; another device fails: one GPU
 * per process). */
aic_status aic_cuda_init(int device, bool tf32);
/* A workspace of at least `bytes` (grows the shared one; the old one is freed after a stream sync). */
aic_status aic_cuda_workspace(size_t bytes, void **out);
/* Waits until the work queued on `stream` has run. The wait polls: the watch, when set, is asked
 * every few microseconds and its failure ends the wait (a peer's NCCL failure surfaces here instead
 * of hanging in cudaStreamSynchronize); past wait_limit (AICON_GPU_WAIT_SECONDS, default 600) the
 * watch is asked once more with give_up set, to abort what it owns, and the wait fails with
 * AIC_ERR_COMM naming `what`. */
aic_status aic_cuda_stream_wait(cudaStream_t stream, const char *what);
/* The collectives' check of their asynchronous state (NCCL's ncclCommGetAsyncError) for the host's
 * waits; NULL removes it. Core knows nothing of what it checks. */
void aic_cuda_set_watch(aic_status (*watch)(void *ctx, bool give_up), void *ctx);
/* True when p is device memory (cudaPointerGetAttributes). */
bool aic_cuda_is_device_ptr(const void *p);

/* Report a failed call as "CALL failed at FILE:LINE: message" through aic_fail and return
 * AIC_ERR_INTERNAL (AIC_ERR_NOMEM for out-of-memory, AIC_ERR_COMM for NCCL). AIC_OK on success. */
aic_status aic_cuda_check_rt(int err, const char *call, const char *file, int line);
aic_status aic_cuda_check_blas(int err, const char *call, const char *file, int line);
aic_status aic_cuda_check_dnn(int err, const char *call, const char *file, int line);
aic_status aic_cuda_check_nccl(int err, const char *call, const char *file, int line);

#define AIC_CUDA(call) aic_cuda_check_rt((int)(call), #call, __FILE__, __LINE__)
#define AIC_CUBLAS(call) aic_cuda_check_blas((int)(call), #call, __FILE__, __LINE__)
#define AIC_CUDNN(call) aic_cuda_check_dnn((int)(call), #call, __FILE__, __LINE__)
#define AIC_NCCL(call) aic_cuda_check_nccl((int)(call), #call, __FILE__, __LINE__)
/* After a kernel launch: a bad configuration shows up here, a fault at the next sync. */
#define AIC_CUDA_LAUNCHED() aic_cuda_check_rt((int)cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif
#endif
