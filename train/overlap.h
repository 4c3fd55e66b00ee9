// SPDX-License-Identifier: Apache-2.0
/* The gradient allreduce overlapped with the backward pass: CPU models (MPI, on a thread) and GPU
 * models (NCCL, on the collectives' stream).
 *
 * The gradient arena (plus the loss slot after it) is cut at start-up into buckets of whole
 * parameters, from the top of the arena down: parameters are laid out in layer order and backward
 * runs in reverse, so the top bucket is complete first. The first bucket is small, so that summing
 * starts early; the others are about bucket_bytes. A communication thread sums bucket k as soon as
 * the backward pass has gone past every op that writes into it, while backward goes on with the
 * layers below.
 *
 * Buckets are summed in the plan's order on every rank, each with aic_allreduce_sum_f32, so the
 * result depends on the plan and never on timing: training stays bitwise reproducible for a given
 * bucket size. Every rank sums every bucket of every step, also a rank whose forward failed (it
 * then contributes whatever its arena holds and the agreement after the step stops everyone), so no
 * rank is ever left waiting in a bucket.
 *
 * On a GPU (the mode is the model's backend at aic_overlap_create) there is no thread: backward only
 * queues kernels, so when it has queued every op writing into bucket k, that bucket's NCCL sum is
 * queued on the collectives' stream behind them (collectives/gpu_internal.h), and aic_overlap_end
 * makes the model's stream wait for all of them. The host never waits; the communicator's GPU
 * allreduce must be NCCL (aic_gpu_stream_sums). */
#ifndef AICON_TRAIN_OVERLAP_H
#define AICON_TRAIN_OVERLAP_H

#include <stddef.h>

#include "aicon/comm.h"
#include "aicon/status.h"

typedef struct aic_overlap aic_overlap;
struct aic_model;

/* Plans the buckets of a compiled model and, on the CPU, starts the thread. c must outlive the plan.
 * On the CPU c may not be used by the caller's thread while a step's buckets are in flight (between
 * aic_overlap_begin and aic_overlap_end): MPI must provide MPI_THREAD_SERIALIZED. */
aic_status aic_overlap_create(aic_overlap **out, struct aic_model *m, aic_comm_t *c, size_t bucket_bytes,
                              size_t first_bucket_bytes);
/* Stops and joins the thread (CPU). NULL is a no-op. */
void aic_overlap_destroy(aic_overlap *ov);
/* Arms the thread for one step (GPU: queues the buckets no op writes into) and sets the model's
 * backward hook, which hands each bucket to the thread (GPU: queues it) once backward has passed
 * every op writing into it: the loss slot must already hold this rank's scaled loss (GPU: be queued
 * on the model's stream). */
void aic_overlap_begin(aic_overlap *ov);
/* Removes the hook, hands over what is left and waits until every bucket is summed (GPU: queues what
 * is left and makes the model's stream wait for the sums). AIC_ERR_COMM when a bucket's allreduce
 * failed (GPU: the status of the failed CUDA or NCCL call), the communicator's state then undefined,
 * with its message. */
aic_status aic_overlap_end(aic_overlap *ov);
/* Buckets in the plan, and bucket k's range in floats of the gradient arena: [*lo, *hi). */
int aic_overlap_buckets(const aic_overlap *ov);
void aic_overlap_bucket_range(const aic_overlap *ov, int k, size_t *lo, size_t *hi);

#endif
