// SPDX-License-Identifier: Apache-2.0
/* Communicators over MPI: ranks, the ring allreduce, broadcast and agreement between ranks.
 *
 * The caller initializes MPI (MPI_Init_thread) before creating a communicator and finalizes it
 * after destroying the last one. All calls here are collective unless said otherwise: every rank of
 * the communicator must make them, in the same order. */
#ifndef AICON_COMM_H
#define AICON_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <mpi.h>
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aic_comm aic_comm_t;

/* Duplicates `parent` (so aicon's traffic never matches the caller's) and finds the node-local rank
 * with MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). */
AIC_API aic_status aic_comm_create(aic_comm_t **out, MPI_Comm parent);
AIC_API void aic_comm_destroy(aic_comm_t *c);

/* Local queries, not collective. */
AIC_API int aic_comm_rank(const aic_comm_t *c);
AIC_API int aic_comm_size(const aic_comm_t *c);
AIC_API int aic_comm_local_rank(const aic_comm_t *c);
AIC_API int aic_comm_local_size(const aic_comm_t *c);
AIC_API MPI_Comm aic_comm_mpi(const aic_comm_t *c);
/* Bytes this rank sent and received through aicon's collectives since creation. */
AIC_API void aic_comm_traffic(const aic_comm_t *c, uint64_t *sent, uint64_t *received);
/* Seconds a training thread spent blocked on this communicator's work, as its callers note them with
 * aic_comm_add_wait (aicon's trainer: the gradient sums it waits for, its per-step agreements), since
 * creation. Not collective; a negative or non-finite `seconds` is ignored. */
AIC_API double aic_comm_wait_seconds(const aic_comm_t *c);
AIC_API void aic_comm_add_wait(aic_comm_t *c, double seconds);

/* In-place sum over ranks. Short vectors (up to 4 KiB) take recursive doubling or, from 2 to 4 KiB,
 * Rabenseifner, which need log2 p rather than 2(p-1) message latencies. Above 16 KiB, when every
 * rank is on one node, the single copy: each rank sums its chunk reading the peers' buffers with
 * Linux Cross-Memory Attach (process_vm_readv) and writes the sum into theirs (checked once at
 * creation; AICON_ALLREDUCE_CMA=0 turns it off). Otherwise recursive doubling up to 64 KiB and
 * beyond it the bandwidth-optimal ring (reduce-scatter, then all-gather, over p chunks, pipelined
 * in segments), or with 2 ranks Rabenseifner above 16 MiB. The choice depends on n, p and that
 * once-agreed check only; the single copy sums in the ring's order, and every algorithm sums each
 * element in a fixed order, so results are bitwise reproducible for a given world size and
 * identical on every rank. Any n, including 0 and n < p. */
AIC_API aic_status aic_allreduce_sum_f32(aic_comm_t *c, float *buf, size_t n);
/* Small in-place sums for statistics, reduced in rank order (bitwise reproducible). */
AIC_API aic_status aic_allreduce_sum_f64(aic_comm_t *c, double *buf, size_t n);
AIC_API aic_status aic_allreduce_sum_i64(aic_comm_t *c, int64_t *buf, size_t n);

AIC_API aic_status aic_broadcast(aic_comm_t *c, void *buf, size_t bytes, int root);
/* Every rank's `bytes` bytes of send, in rank order, into root's recv (size x bytes; elsewhere unused). */
AIC_API aic_status aic_gather_bytes(aic_comm_t *c, const void *send, size_t bytes, void *recv, int root);

/* ---- Compressed mean, for rare syncs over slow links (DiLoCo's outer step) ------------------------
 * In-place mean over ranks of n floats, sent coded in blocks of AIC_COMPRESS_BLOCK: AIC_COMPRESS_INT8
 * (a float scale and a byte a value, about 1/4 of the bytes), AIC_COMPRESS_BF16 (1/2) or
 * AIC_COMPRESS_NONE (floats: the exact mean of the inputs, summed in double, rounded once). Each rank
 * codes its vector once; the owner of each block decodes the p codes, sums them in double in rank
 * order and codes the mean, which every rank then decodes from the same bytes: the result is bitwise
 * the same on every rank and from run to run for a given world size. The values on the wire are the
 * coded ones (a reduce-scatter and an all-gather of the codes), and aic_comm_traffic counts those.
 * residual (n floats, or NULL) gets this rank's own coding error, input minus its decoded code, for
 * error feedback: add it to the next vector sent. A block holding a NaN or Inf decodes to NaN (int8)
 * or keeps it (bf16, none). */
typedef enum { AIC_COMPRESS_NONE = 0, AIC_COMPRESS_BF16 = 1, AIC_COMPRESS_INT8 = 2 } aic_compress;
#define AIC_COMPRESS_BLOCK 256
AIC_API aic_status aic_allreduce_mean_compressed(aic_comm_t *c, float *buf, size_t n, aic_compress how,
                                                 float *residual);
/* "none", "bf16", "int8". */
AIC_API const char *aic_compress_name(aic_compress how);

/* ---- GPU collectives (a CUDA build; each rank drives one GPU, see aic_model_set_device) ----------
 * aic_allreduce_sum_f32 also takes a buffer in device memory (once this process has put a model on a
 * GPU, which makes its CUDA context): with CUDA-aware MPI
 * (MPIX_Query_cuda_support) it is MPI_Allreduce on the device buffer, otherwise the ring above on a
 * pinned host copy (bitwise reproducible as on the CPU). Either waits for the GPU first.
 *
 * aic_allreduce_sum_f32_gpu sums a device buffer with the communicator's GPU algorithm, in order
 * after the work already queued for the GPU and before any queued later, without waiting on the
 * host (NCCL: its own stream, ordered by events). Algorithms:
 *   AIC_GPU_ALLREDUCE_NCCL          NCCL over all ranks (the default). Rank 0 makes the unique id
 *                                   and MPI broadcasts it at first use (collective).
 *   AIC_GPU_ALLREDUCE_RING          aic_allreduce_sum_f32 on the device buffer, as above.
 *   AIC_GPU_ALLREDUCE_HIERARCHICAL  NCCL inside each node, the ring between one rank per node, then
 *                                   an NCCL broadcast inside each node.
 * Without CUDA both calls fail with AIC_ERR_UNSUPPORTED. */
typedef enum {
    AIC_GPU_ALLREDUCE_NCCL = 0,
    AIC_GPU_ALLREDUCE_RING = 1,
    AIC_GPU_ALLREDUCE_HIERARCHICAL = 2
} aic_gpu_allreduce;
/* Local: every rank must choose the same algorithm before its first GPU allreduce. */
AIC_API aic_status aic_comm_set_gpu_allreduce(aic_comm_t *c, aic_gpu_allreduce algo);
AIC_API aic_status aic_allreduce_sum_f32_gpu(aic_comm_t *c, float *dev_buf, size_t n);

/* Every rank passes a 32-byte digest of the same thing (e.g. its parameters); fails with
 * AIC_ERR_MISMATCH naming the first rank whose digest differs from rank 0's. `what` names the thing
 * in that message. */
AIC_API aic_status aic_comm_check_same(aic_comm_t *c, const uint8_t digest[32], const char *what);

/* Every rank passes its local status; returns AIC_OK on all ranks when every rank passed AIC_OK,
 * else the failure of the lowest failing rank. A rank that did not fail gets an error message
 * naming the failing rank; the failing rank keeps its own message. Use it after any step that can
 * fail on some ranks only, so that no rank waits forever in the next collective. */
AIC_API aic_status aic_comm_agree(aic_comm_t *c, aic_status local);

#ifdef __cplusplus
}
#endif
#endif
