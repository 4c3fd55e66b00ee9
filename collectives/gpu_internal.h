// SPDX-License-Identifier: Apache-2.0
/* Internal to aicon: the GPU gradient buckets' sums (train/overlap.c, train/train.c), queued with NCCL
 * on the collectives' own stream and ordered against the model's stream (aic_cuda.stream) by events,
 * so that the host never waits. Without CUDA every call fails with AIC_ERR_UNSUPPORTED. */
#ifndef AICON_COLLECTIVES_GPU_INTERNAL_H
#define AICON_COLLECTIVES_GPU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "aicon/comm.h"
#include "aicon/status.h"

/* Whether c's GPU allreduce can sum a step's gradients bucket by bucket on a stream: true for NCCL;
 * false for the ring and the hierarchical algorithms (they wait on the host), and without CUDA. */
bool aic_gpu_stream_sums(const aic_comm_t *c);
/* Queues the in-place sum over c's ranks of the device floats [dev, dev + n) on the collectives'
 * stream, after everything queued on the model's stream so far. Collective in NCCL's sense: every
 * rank queues the same sums in the same order. The first call makes the NCCL communicator (MPI
 * collectives inside). When queueing fails the error names the CUDA or NCCL call (NCCL's:
 * AIC_ERR_COMM), and c's GPU state is undefined. */
aic_status aic_gpu_sum_enqueue(aic_comm_t *c, float *dev, size_t n);
/* Makes the model's stream wait for every sum queued so far (queued work, no host wait). */
aic_status aic_gpu_sums_join(aic_comm_t *c);

#endif
