// SPDX-License-Identifier: Apache-2.0
/* GPU collectives: NCCL allreduce on its own stream ordered by events, the ring allreduce on device
 * buffers (CUDA-aware MPI or pinned host staging), and the hierarchical combination. */
#include <stdlib.h>

#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#include <nccl.h>

#include "collectives/comm_internal.h"
#include "collectives/gpu_internal.h"
#include "core/cuda.h"
#include "core/error.h"

struct aic_comm_gpu {
    ncclComm_t world;      /* all ranks (NCCL) */
    ncclComm_t node;       /* the ranks of this node (hierarchical) */
    aic_comm_t *leaders;   /* local rank 0 of every node (hierarchical), NULL elsewhere */
    bool have_world, have_node, leaders_made;
    cudaStream_t stream;   /* the collectives' stream */
    cudaEvent_t ready, done;
    float *staging;        /* pinned host copy for the ring */
    size_t staging_cap;    /* floats */
};

static aic_status gpu_state(aic_comm_t *c, struct aic_comm_gpu **out) {
    if (!aic_cuda.ready)
        return aic_fail(AIC_ERR_STATE, "rank %d: GPU allreduce before any model was put on a GPU "
                        "(aic_model_set_device)", c->rank);
    if (!c->gpu) {
        struct aic_comm_gpu *g = calloc(1, sizeof *g);
        if (!g)
            return aic_fail(AIC_ERR_NOMEM, "rank %d: out of memory for GPU collective state", c->rank);
        c->gpu = g;
        AIC_TRY(AIC_CUDA(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking)));
        AIC_TRY(AIC_CUDA(cudaEventCreateWithFlags(&g->ready, cudaEventDisableTiming)));
        AIC_TRY(AIC_CUDA(cudaEventCreateWithFlags(&g->done, cudaEventDisableTiming)));
    }
    *out = c->gpu;
    return AIC_OK;
}

/* Ends every NCCL communicator of g at once: kernels waiting on a peer that will never come return. */
static void abort_nccl(struct aic_comm_gpu *g) {
    if (g->have_world)
        ncclCommAbort(g->world);
    if (g->have_node)
        ncclCommAbort(g->node);
    g->have_world = g->have_node = false;
}

/* Asked by the host's waits on the GPU (aic_cuda_stream_wait): NCCL's asynchronous error (a peer that
 * failed mid-collective, a broken connection) aborts the communicators and becomes AIC_ERR_COMM
 * naming this rank, which stops the job; so does the wait's deadline (give_up). */
static aic_status nccl_watch(void *ctx, bool give_up) {
    aic_comm_t *c = ctx;
    struct aic_comm_gpu *g = c->gpu;
    if (!g)
        return AIC_OK;
    const ncclComm_t comms[2] = {g->world, g->node};
    const bool have[2] = {g->have_world, g->have_node};
    for (int i = 0; i < 2; i++) {
        ncclResult_t async = ncclSuccess;
        if (!have[i] || (ncclCommGetAsyncError(comms[i], &async) == ncclSuccess && async == ncclSuccess))
            continue;
        const char *detail = ncclGetLastError(comms[i]);
        abort_nccl(g);
        return aic_fail(AIC_ERR_COMM, "rank %d: NCCL reports an asynchronous error: %s%s%s; its communicators are "
                        "aborted", c->rank, ncclGetErrorString(async), detail && *detail ? ": " : "",
                        detail ? detail : "");
    }
    if (give_up) {
        abort_nccl(g);
        return aic_fail(AIC_ERR_COMM, "rank %d: the GPU collectives did not finish in time; NCCL communicators aborted",
                        c->rank);
    }
    return AIC_OK;
}

/* One NCCL communicator over the ranks of `mpi` (rank 0 of it makes the id, MPI broadcasts it). */
static aic_status nccl_over(aic_comm_t *c, MPI_Comm mpi, ncclComm_t *out) {
    int rank, size;
    AIC_MPI_TRY(c, MPI_Comm_rank(mpi, &rank), "MPI_Comm_rank", -1);
    AIC_MPI_TRY(c, MPI_Comm_size(mpi, &size), "MPI_Comm_size", -1);
    ncclUniqueId id;
    aic_status st = rank == 0 ? AIC_NCCL(ncclGetUniqueId(&id)) : AIC_OK;
    int ok = st == AIC_OK, all_ok = 0;
    AIC_MPI_TRY(c, MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, mpi), "MPI_Allreduce(NCCL id made)", -1);
    if (!all_ok)
        return st != AIC_OK ? st : aic_fail(AIC_ERR_COMM, "rank %d: rank 0 could not make an NCCL id", c->rank);
    AIC_MPI_TRY(c, MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, mpi), "MPI_Bcast(NCCL id)", 0);
    AIC_TRY(AIC_NCCL(ncclCommInitRank(out, size, id, rank)));
    aic_cuda_set_watch(nccl_watch, c);
    return AIC_OK;
}

void aic_comm_gpu_destroy(aic_comm_t *c) {
    struct aic_comm_gpu *g = c->gpu;
    if (!g)
        return;
    if (aic_cuda.watch_ctx == c)
        aic_cuda_set_watch(NULL, NULL);
    if (g->have_world)
        ncclCommDestroy(g->world);
    if (g->have_node)
        ncclCommDestroy(g->node);
    aic_comm_destroy(g->leaders);
    if (g->stream)
        cudaStreamDestroy(g->stream);
    if (g->ready)
        cudaEventDestroy(g->ready);
    if (g->done)
        cudaEventDestroy(g->done);
    cudaFreeHost(g->staging);
    free(g);
    c->gpu = NULL;
}

aic_status aic_comm_set_gpu_allreduce(aic_comm_t *c, aic_gpu_allreduce algo) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_set_gpu_allreduce: communicator is NULL");
    if (algo != AIC_GPU_ALLREDUCE_NCCL && algo != AIC_GPU_ALLREDUCE_RING && algo != AIC_GPU_ALLREDUCE_HIERARCHICAL)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_set_gpu_allreduce: unknown algorithm %d", (int)algo);
    c->gpu_algo = (int)algo;
    return AIC_OK;
}

static bool mpi_cuda_aware(void) {
#if defined(MPIX_CUDA_AWARE_SUPPORT)
    return MPIX_Query_cuda_support() == 1;
#else
    return false;
#endif
}

/* The ring on a device buffer; whatever is queued on the model's stream has finished first. */
static aic_status ring_on_device(aic_comm_t *c, float *buf, size_t n) {
    AIC_TRY(aic_cuda_stream_wait(aic_cuda.stream, "the gradients before the ring allreduce"));
    if (mpi_cuda_aware()) {
        if (n > (size_t)INT32_MAX)
            return aic_fail(AIC_ERR_INVALID_ARG, "rank %d: device allreduce of %zu floats exceeds MPI's int count",
                            c->rank, n);
        AIC_MPI_TRY(c, MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, c->comm),
                    "MPI_Allreduce (CUDA-aware, device buffer)", -1);
        return AIC_OK;
    }
    struct aic_comm_gpu *g = NULL;
    AIC_TRY(gpu_state(c, &g));
    if (n > g->staging_cap) {
        cudaFreeHost(g->staging);
        g->staging = NULL;
        g->staging_cap = 0;
        AIC_TRY(AIC_CUDA(cudaMallocHost((void **)&g->staging, n * sizeof(float))));
        g->staging_cap = n;
    }
    AIC_TRY(AIC_CUDA(cudaMemcpy(g->staging, buf, n * sizeof(float), cudaMemcpyDeviceToHost)));
    AIC_TRY(aic_allreduce_sum_f32(c, g->staging, n));
    AIC_TRY(AIC_CUDA(cudaMemcpyAsync(buf, g->staging, n * sizeof(float), cudaMemcpyHostToDevice, aic_cuda.stream)));
    /* The pinned copy may be reused by the next call only once this copy has run. */
    return aic_cuda_stream_wait(aic_cuda.stream, "the copy back after the ring allreduce");
}

aic_status aic_allreduce_sum_f32_device(aic_comm_t *c, float *buf, size_t n) {
    if (!aic_cuda.ready)
        AIC_TRY(aic_cuda_init(0, false)); /* a device pointer exists, so some GPU is current: use 0 */
    return ring_on_device(c, buf, n);
}

/* NCCL's allreduce queued on the collectives' stream after the model stream's work so far. One
 * event serves every call: a wait takes the event's latest record at the time it is queued. */
static aic_status nccl_enqueue(struct aic_comm_gpu *g, ncclComm_t comm, float *buf, size_t n) {
    AIC_TRY(AIC_CUDA(cudaEventRecord(g->ready, aic_cuda.stream)));
    AIC_TRY(AIC_CUDA(cudaStreamWaitEvent(g->stream, g->ready, 0)));
    return AIC_NCCL(ncclAllReduce(buf, buf, n, ncclFloat, ncclSum, comm, g->stream));
}

/* The model's stream waits for everything queued on the collectives' stream. */
static aic_status join(struct aic_comm_gpu *g) {
    AIC_TRY(AIC_CUDA(cudaEventRecord(g->done, g->stream)));
    return AIC_CUDA(cudaStreamWaitEvent(aic_cuda.stream, g->done, 0));
}

/* NCCL's allreduce on the collectives' stream, between two events on the model's stream. */
static aic_status nccl_sum(struct aic_comm_gpu *g, ncclComm_t comm, float *buf, size_t n) {
    AIC_TRY(nccl_enqueue(g, comm, buf, n));
    return join(g);
}

static aic_status hierarchical(aic_comm_t *c, struct aic_comm_gpu *g, float *buf, size_t n) {
    if (!g->have_node) {
        MPI_Comm node;
        AIC_MPI_TRY(c, MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node),
                    "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)", -1);
        aic_status st = nccl_over(c, node, &g->node);
        MPI_Comm_free(&node);
        AIC_TRY(st);
        g->have_node = true;
    }
    if (!g->leaders_made) {
        MPI_Comm lead;
        AIC_MPI_TRY(c, MPI_Comm_split(c->comm, c->local_rank == 0 ? 0 : MPI_UNDEFINED, c->rank, &lead),
                    "MPI_Comm_split(node leaders)", -1);
        if (lead != MPI_COMM_NULL) {
            aic_status st = aic_comm_create(&g->leaders, lead);
            MPI_Comm_free(&lead);
            AIC_TRY(st);
        }
        g->leaders_made = true;
    }
    AIC_TRY(nccl_sum(g, g->node, buf, n)); /* every rank of the node holds the node's sum */
    if (g->leaders && aic_comm_size(g->leaders) > 1)
        AIC_TRY(ring_on_device(g->leaders, buf, n)); /* one rank per node: the sum over nodes */
    AIC_TRY(AIC_CUDA(cudaEventRecord(g->ready, aic_cuda.stream)));
    AIC_TRY(AIC_CUDA(cudaStreamWaitEvent(g->stream, g->ready, 0)));
    AIC_TRY(AIC_NCCL(ncclBroadcast(buf, buf, n, ncclFloat, 0, g->node, g->stream)));
    return join(g);
}

/* The NCCL communicator over all ranks, made at first use (collective). */
static aic_status world_nccl(aic_comm_t *c, struct aic_comm_gpu *g) {
    if (!g->have_world) {
        AIC_TRY(nccl_over(c, c->comm, &g->world));
        g->have_world = true;
    }
    return AIC_OK;
}

aic_status aic_allreduce_sum_f32_gpu(aic_comm_t *c, float *dev_buf, size_t n) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_allreduce_sum_f32_gpu: communicator is NULL");
    /* One rank still goes through NCCL (a copy in place): a one-GPU machine then tests the path. */
    if (n == 0)
        return AIC_OK;
    if (c->gpu_algo == AIC_GPU_ALLREDUCE_RING)
        return ring_on_device(c, dev_buf, n);
    struct aic_comm_gpu *g = NULL;
    AIC_TRY(gpu_state(c, &g));
    if (c->gpu_algo == AIC_GPU_ALLREDUCE_HIERARCHICAL)
        return hierarchical(c, g, dev_buf, n);
    AIC_TRY(world_nccl(c, g));
    return nccl_sum(g, g->world, dev_buf, n);
}

bool aic_gpu_stream_sums(const aic_comm_t *c) { return c && c->gpu_algo == AIC_GPU_ALLREDUCE_NCCL; }

aic_status aic_gpu_sum_enqueue(aic_comm_t *c, float *dev, size_t n) {
    if (!aic_gpu_stream_sums(c))
        return aic_fail(AIC_ERR_STATE, "aic_gpu_sum_enqueue: the communicator's GPU allreduce is not NCCL");
    if (n == 0)
        return AIC_OK;
    struct aic_comm_gpu *g = NULL;
    AIC_TRY(gpu_state(c, &g));
    AIC_TRY(world_nccl(c, g));
    return nccl_enqueue(g, g->world, dev, n);
}

aic_status aic_gpu_sums_join(aic_comm_t *c) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gpu_sums_join: communicator is NULL");
    struct aic_comm_gpu *g = NULL;
    AIC_TRY(gpu_state(c, &g));
    return join(g);
}
