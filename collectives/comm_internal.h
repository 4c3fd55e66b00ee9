// SPDX-License-Identifier: Apache-2.0
/* Internal to collectives/: the communicator's fields, shared by comm.c and the allreduces. */
#ifndef AICON_COLLECTIVES_COMM_INTERNAL_H
#define AICON_COLLECTIVES_COMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <mpi.h>
#include "aicon/comm.h"

/* Floats per pipelined ring message (256 KiB). Large enough that each message runs at the link's
 * full bandwidth and the per-message overhead is noise, small enough that the reduction of one
 * segment overlaps the transfer of the next and a chunk is split into several messages in flight.
 * Tests include this header to build lengths around segment boundaries; a stress build may set it
 * tiny (-DAIC_RING_SEGMENT=7) to push many segments through every path. */
#ifndef AIC_RING_SEGMENT
#define AIC_RING_SEGMENT 65536
#endif

/* Most segments one chunk is cut into; chunks longer than this many segments get longer segments.
 * Bounds the messages in flight between two neighbours (about three steps' worth): Open MPI's ob1
 * numbers the messages between two ranks with 16 bits and mismatches same-tag messages once some
 * 65536 are outstanding (seen with Open MPI 4.1.4 at 65000 segments per chunk). Also bounds the
 * request arrays. */
#define AIC_RING_MAX_SEGMENTS 1024

struct aic_comm {
    MPI_Comm comm;              /* private duplicate of the parent, errors returned, not fatal */
    int rank, size;             /* in comm */
    int local_rank, local_size; /* among the ranks that share this node's memory */
    uint64_t sent, received;    /* payload bytes, see aic_comm_traffic */
    double wait_seconds;        /* see aic_comm_wait_seconds */

    /* Ring allreduce state, grown to the largest n seen, never shrunk. */
    float *ring_tmp;          /* [2][ring_tmp_cap] reduce-scatter receive buffers, double-buffered */
    size_t ring_tmp_cap;      /* floats per half */
    MPI_Request *ring_req;    /* [4][ring_req_cap]: receives of two steps, then sends of two steps */
    size_t ring_req_cap;      /* requests per quarter = most segments in one chunk */

    /* Single-copy allreduce (collectives/cma_allreduce.c), set up by comm creation. cma_ok is the
     * same on every rank: all ranks share one node, none disabled it, and each one read and wrote
     * every peer's memory (process_vm_readv/writev). The arrays exist only where cma_ok. */
    int cma_ok;
    int *cma_pid;         /* [size] every rank's process id */
    uint64_t *cma_addr;   /* [size] every rank's buf in the current call */
    float *cma_scratch;   /* [size-1][cma_block] peers' blocks of one reduce-scatter step */
    size_t cma_block;     /* floats per peer block */

    /* Gather buffer of the small f64/i64 sums and check_same, grown on demand. */
    void *scratch;
    size_t scratch_cap; /* bytes */

    /* GPU collectives (collectives/gpu_allreduce_cuda.c; unused without CUDA): made at first use. */
    int gpu_algo;             /* aic_gpu_allreduce */
    struct aic_comm_gpu *gpu; /* NCCL communicators, stream, events, pinned staging buffer */
};

/* Collective, at creation: sets c->cma_ok and the single-copy allreduce's arrays (see struct
 * aic_comm). CMA being unusable is no error; only MPI failures and out-of-memory are. */
aic_status aic_comm_cma_init(aic_comm_t *c);
/* Frees what aic_comm_cma_init made. */
void aic_comm_cma_destroy(aic_comm_t *c);

/* Frees the GPU state of c (a no-op without CUDA or when none was made). */
void aic_comm_gpu_destroy(aic_comm_t *c);
/* In-place sum of n floats in device memory with aicon's ring through pinned host memory, or with
 * MPI_Allreduce on the device buffer where MPI is CUDA-aware (MPIX_Query_cuda_support). */
aic_status aic_allreduce_sum_f32_device(aic_comm_t *c, float *buf, size_t n);

/* The arguments every in-place sum over buf[0..n) checks, fn naming the call in messages: a
 * communicator, and a buf unless n is 0. */
aic_status aic_sum_args(const aic_comm_t *c, const void *buf, size_t n, const char *fn);

/* Reports a failed MPI call: sets the last error to "rank R: CALL [with rank PEER] failed: <MPI's
 * message>" and returns AIC_ERR_COMM. peer < 0 when the call has no single peer. */
aic_status aic_comm_mpi_fail(const aic_comm_t *c, int err, const char *call, int peer);

/* Evaluates an MPI call; on failure reports it (naming `peer` if >= 0) and returns from the
 * enclosing function. */
#define AIC_MPI_TRY(c, call, name, peer)                                  \
    do {                                                                  \
        int aic_mpi_e_ = (call);                                          \
        if (aic_mpi_e_ != MPI_SUCCESS)                                    \
            return aic_comm_mpi_fail((c), aic_mpi_e_, (name), (peer));    \
    } while (0)

#endif
