// SPDX-License-Identifier: Apache-2.0
/* One data-parallel training step and evaluation, the loop body every trainer shares. */
#ifndef AICON_TRAIN_H
#define AICON_TRAIN_H

#include "aicon/comm.h"
#include "aicon/data.h"
#include "aicon/model.h"
#include "aicon/optim.h"
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a model reads its batch: the input value and the labels value. */
typedef struct {
    aic_value input;
    aic_value labels;
} aic_io_values;

/* Forward and backward of this rank's rows, gradient sum over ranks (the loss is scaled by
 * n_local / n_global, so the sum is the gradient of the global-batch mean), optimizer step.
 * x: slice.n_local x sample floats, y: slice.n_local labels. *loss gets the global-batch mean loss;
 * on the CPU a non-finite one (NaN or Inf on any rank) skips the optimizer step on every rank, and the
 * caller decides whether to go on. Collective: every rank calls it for every step, also with n_local == 0. */
AIC_API aic_status aic_train_step(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_io_values io, const float *x,
                                  const int32_t *y, const aic_batch_slice *slice, uint64_t step, float lr, float *loss);

/* Gradient accumulation: an optimizer step over several micro-batches per rank, summed over ranks
 * once. Every micro-batch but the last goes through aic_train_accumulate (forward and backward, the
 * gradient added to the earlier ones', nothing communicated); the last through
 * aic_train_step_accumulated, which adds its own and then does what aic_train_step does (with
 * gradient buckets, only its backward hands them over). Each slice's n_global is the whole step's
 * global batch (all micro-batches of all ranks), so that the sum is the gradient of the step's mean
 * and *loss its mean loss. Start every step with a zeroed aic_accumulation. CPU only. */
typedef struct {
    int micro_batches; /* done so far in this step */
    float loss;        /* their mean losses, each times its share */
    aic_status status; /* the first local failure, agreed on at the step's end */
} aic_accumulation;

/* Local; a failure is also kept in acc (later micro-batches are then skipped) for the step's end. */
AIC_API aic_status aic_train_accumulate(aic_model_t *m, aic_io_values io, const float *x, const int32_t *y,
                                        const aic_batch_slice *slice, uint64_t step, aic_accumulation *acc);
/* aic_train_step after the micro-batches in acc (NULL: none). Collective. */
AIC_API aic_status aic_train_step_accumulated(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_io_values io,
                                              const float *x, const int32_t *y, const aic_batch_slice *slice,
                                              uint64_t step, float lr, const aic_accumulation *acc, float *loss);

/* The first bucket of a bucketed step: small, so that summing starts early in backward. */
#define AIC_FIRST_BUCKET_BYTES ((size_t)64 << 10)

/* Sum the gradients of a compiled model in buckets of about bucket_bytes (the first one at most
 * AIC_FIRST_BUCKET_BYTES), each as soon as backward has finished it, while backward goes on with the
 * layers below (train/overlap.h has the plan). On the CPU a thread of its own sums them; MPI must then
 * have been initialized with MPI_THREAD_SERIALIZED or more, and c must not be used by another thread
 * during a step. On a GPU with the NCCL algorithm each bucket's NCCL sum is queued on the
 * collectives' stream as backward is queued (the other GPU algorithms sum once after backward).
 * 0: one allreduce after backward. The result depends on the bucket size (the sums are cut
 * differently) but never on timing: CPU training stays bitwise reproducible for a given size. The
 * plan lives with the model (aic_model_destroy stops its thread); a second call replaces it. Local. */
AIC_API aic_status aic_train_set_buckets(aic_model_t *m, aic_comm_t *c, size_t bucket_bytes);

/* Proof of work: with on, every step of a CPU model takes the SHA-256 of this rank's gradient (the
 * loss slot after it included) as it goes into the sum over ranks, bucket by bucket: the digest of
 * the buckets' digests in the order they are summed (one bucket without buckets). It depends on the
 * bucket size, as the sums do. aic_train_grad_digest copies the last step's. Local. */
AIC_API aic_status aic_train_digest_grads(aic_model_t *m, bool on);
AIC_API aic_status aic_train_grad_digest(const aic_model_t *m, uint8_t out[32]);

typedef struct {
    double loss;     /* mean cross-entropy over the set (a language model's: over every token) */
    double accuracy; /* fraction of labels (a language model's: of tokens) where argmax(logits) == label;
                      * NaN when the scores' classes are not on their last axis */
    int64_t samples;
} aic_eval_result;

/* Evaluate on a data set sharded over ranks (rank r takes samples r, r+p, ...), batch of at most
 * the compiled batch size. Collective. */
AIC_API aic_status aic_evaluate(aic_model_t *m, aic_comm_t *c, aic_io_values io, const aic_dataset_t *d,
                                aic_eval_result *out);

#ifdef __cplusplus
}
#endif
#endif
