// SPDX-License-Identifier: Apache-2.0
/* The data-parallel step every trainer shares, and sharded evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "aicon/train.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/trace.h"
#include "train/accuracy.h"
#include "train/overlap.h"
#include "train/progress.h"
#ifdef AICON_HAVE_CUDA
#include "collectives/gpu_internal.h"
#include "layers/cuda_layers.h"
#endif

/* Backward with the gradient buckets summed beside it, then every bucket waited for and this rank's
 * status agreed on. A rank whose forward failed (st) skips backward but still sums every bucket, so
 * that no rank is left waiting in one. */
static aic_status bucketed_backward(aic_model_t *m, aic_comm_t *c, aic_status st, float share) {
    aic_overlap *ov = aic_model_attached(m);
    aic_overlap_begin(ov);
    if (st == AIC_OK) {
        aic_progress_phase(AIC_PHASE_BACKWARD);
        st = aic_model_backward(m, share);
    }
    aic_progress_phase(AIC_PHASE_ALLREDUCE);
    /* From here on the step waits for the sums backward did not hide, then for the other ranks. */
    const double t_wait = aic_trace_now();
    /* A bucket not summed here leaves the peers waiting in it: whatever the cause (an MPI failure, a
     * CUDA error queueing it), it is a communication failure, which stops every rank. */
    aic_status sums = aic_overlap_end(ov);
    if (sums == AIC_OK)
        sums = aic_comm_agree(c, st);
    else if (sums != AIC_ERR_COMM)
        sums = aic_fail_context(AIC_ERR_COMM, "gradient buckets: ");
    aic_comm_add_wait(c, (aic_trace_now() - t_wait) * 1e-6); /* aic_trace_now: microseconds */
    return sums;
}

#ifdef AICON_HAVE_CUDA
/* The end of a GPU step, all queued on the GPU: the scaled loss into the slot after the gradients
 * (zeroed with them; it stays 0 on a rank without rows), the GPU allreduce (NCCL by default), the
 * optimizer; then the summed loss is read back, which waits for the step. */
static aic_status device_step_end(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, int n, float share, float lr,
                                  float *loss) {
    float *slot = m->grad_arena + m->n_param_floats;
    if (n > 0 && m->loss_value >= 0)
        AIC_TRY(aic_cuda_scale_copy(slot, aic_act(m, m->loss_value), share));
    AIC_TRY(aic_allreduce_sum_f32_gpu(c, m->grad_arena, m->n_param_floats + 1));
    AIC_TRY(aic_optim_step(o, lr));
    if (loss)
        return m->backend->copy_to_host(loss, slot, sizeof(float));
    return AIC_OK;
}

/* The GPU step with gradient buckets (NCCL): each bucket's sum is queued on the collectives' stream
 * as soon as backward has queued every op writing into it, and the optimizer waits for them on the
 * model's stream; the host never waits. The scaled loss is queued into its slot before the first
 * bucket. As on the CPU, a rank whose forward failed still queues every bucket (the others would
 * hang in NCCL otherwise), and the agreement comes after them. */
static aic_status device_bucketed_step_end(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_status st, int n,
                                           float share, float lr, float *loss) {
    float *slot = m->grad_arena + m->n_param_floats;
    if (st == AIC_OK && n > 0 && m->loss_value >= 0)
        st = aic_cuda_scale_copy(slot, aic_act(m, m->loss_value), share);
    AIC_TRY(bucketed_backward(m, c, st, share));
    AIC_TRY(aic_optim_step(o, lr));
    if (loss)
        return m->backend->copy_to_host(loss, slot, sizeof(float));
    return AIC_OK;
}
#endif

/* The plan is the model's attached state (nothing else attaches any): aic_model_destroy stops its
 * thread before the gradient arena it reads goes. */
static void destroy_plan(void *ov) { aic_overlap_destroy(ov); }

aic_status aic_train_set_buckets(aic_model_t *m, aic_comm_t *c, size_t bucket_bytes) {
    if (!m || !c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_set_buckets: NULL argument");
    aic_model_attach(m, NULL, NULL);
    if (bucket_bytes == 0)
        return AIC_OK;
    int provided = MPI_THREAD_SINGLE;
    MPI_Query_thread(&provided);
    /* On a GPU the buckets go to NCCL from the training thread itself. */
    if (m->backend->kind == AIC_BACKEND_CPU && provided < MPI_THREAD_SERIALIZED)
        return aic_fail(AIC_ERR_STATE, "gradient buckets need MPI_THREAD_SERIALIZED from MPI_Init_thread "
                        "(this MPI gave level %d): their allreduce runs on a thread of its own", provided);
    const size_t first = bucket_bytes < AIC_FIRST_BUCKET_BYTES ? bucket_bytes : AIC_FIRST_BUCKET_BYTES;
    aic_overlap *ov;
    AIC_TRY(aic_overlap_create(&ov, m, c, bucket_bytes, first));
    aic_model_attach(m, ov, destroy_plan);
    return AIC_OK;
}

/* The CPU optimizer step, traced from t0 (an aic_trace_now value, when recording). loss is the
 * step's loss summed over ranks, the same on every rank: a non-finite one leaves the parameters and
 * the optimizer state as they were on all ranks at once, with no collective of its own. */
static aic_status cpu_optim_step(aic_optim_t *o, float lr, double t0, float loss) {
    if (!isfinite(loss))
        return AIC_OK;
    aic_progress_phase(AIC_PHASE_OPTIMIZER);
    AIC_TRY(aic_optim_step(o, lr));
    if (aic_trace_recording)
        aic_trace_add("optimizer", "optimizer step", AIC_TRACE_COMPUTE, t0, aic_trace_now());
    return AIC_OK;
}

/* The CPU step with gradient buckets: their allreduce runs beside backward; the agreement on this
 * rank's status comes after it, once no bucket is in flight. With accumulation only the last
 * micro-batch's backward hands buckets over (the earlier ones ran without its hook): a bucket
 * is complete once that backward has passed it, and then holds every micro-batch's sum. */
static aic_status bucketed_step_end(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_status st, float scaled_loss,
                                    float share, float lr, float *loss) {
    m->grad_arena[m->n_param_floats] = scaled_loss;
    AIC_TRY(bucketed_backward(m, c, st, share));
    if (loss)
        *loss = m->grad_arena[m->n_param_floats];
    return cpu_optim_step(o, lr, aic_trace_recording ? aic_trace_now() : 0, m->grad_arena[m->n_param_floats]);
}

/* Sets this micro-batch's rows, zeroes the gradients on the step's first one and runs forward.
 * *local_loss may be NULL (a GPU's loss stays there). */
static aic_status micro_forward(aic_model_t *m, aic_io_values io, const float *x, const int32_t *y,
                                const aic_batch_slice *slice, uint64_t step, bool first, float *local_loss) {
    if (slice->n_global <= 0 || slice->n_local < 0 || slice->n_local > slice->n_global)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_step: %d local rows of a global batch of %d", slice->n_local,
                        slice->n_global);
    if (first)
        aic_trace_step(step);
    aic_progress_set(AIC_PHASE_FORWARD, (int64_t)step);
    const int n = slice->n_local;
    aic_batch_info b = {.n = n, .training = true, .step = step, .row_offset = slice->row_offset};
    AIC_TRY(aic_model_set_input(m, io.input, x, n));
    AIC_TRY(aic_model_set_input(m, io.labels, y, n));
    if (first)
        AIC_TRY(aic_model_zero_grad(m));
    return aic_model_forward(m, &b, local_loss);
}

aic_status aic_train_accumulate(aic_model_t *m, aic_io_values io, const float *x, const int32_t *y,
                                const aic_batch_slice *slice, uint64_t step, aic_accumulation *acc) {
    if (!m || !slice || !acc)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_accumulate: NULL argument");
    if (m->backend->kind != AIC_BACKEND_CPU)
        return aic_fail(AIC_ERR_STATE, "gradient accumulation runs on the CPU only");
    /* After a failure the rank only counts micro-batches: the step's end agrees on the first error. */
    if (acc->status == AIC_OK) {
        float local_loss = 0.0f;
        aic_status st = micro_forward(m, io, x, y, slice, step, acc->micro_batches == 0, &local_loss);
        const float share = (float)slice->n_local / (float)slice->n_global;
        if (st == AIC_OK) {
            aic_progress_phase(AIC_PHASE_BACKWARD);
            st = aic_model_backward(m, share);
        }
        acc->loss += local_loss * share;
        acc->status = st;
    }
    acc->micro_batches++;
    return acc->status;
}

aic_status aic_train_step(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_io_values io, const float *x,
                          const int32_t *y, const aic_batch_slice *slice, uint64_t step, float lr, float *loss) {
    return aic_train_step_accumulated(m, o, c, io, x, y, slice, step, lr, NULL, loss);
}

aic_status aic_train_step_accumulated(aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_io_values io,
                                      const float *x, const int32_t *y, const aic_batch_slice *slice, uint64_t step,
                                      float lr, const aic_accumulation *acc, float *loss) {
    if (!m || !o || !c || !slice)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_step: NULL argument");
    const bool first = !acc || acc->micro_batches == 0;
    int n = slice->n_local;
    float local_loss = 0.0f;
    /* On a GPU the loss stays there until the step is done: reading it now would stall the queue. */
    const bool on_device = m->backend->kind != AIC_BACKEND_CPU;
    aic_status st = acc ? acc->status : AIC_OK;
    if (st == AIC_OK && !first && on_device)
        st = aic_fail(AIC_ERR_STATE, "gradient accumulation runs on the CPU only");
    if (st == AIC_OK)
        st = micro_forward(m, io, x, y, slice, step, first, on_device ? NULL : &local_loss);
    /* Scaling by this rank's share makes the sum over ranks the gradient of the global-batch mean,
     * also when the last batch leaves some ranks short or empty. */
    const float share = (float)n / (float)slice->n_global;
    /* The earlier micro-batches' share of the loss rides in the same slot (none without them). */
    const float scaled_loss = acc ? local_loss * share + acc->loss : local_loss * share;
    const bool bucketed = aic_model_attached(m) != NULL;
    if (bucketed && !on_device)
        return bucketed_step_end(m, o, c, st, scaled_loss, share, lr, loss);
#ifdef AICON_HAVE_CUDA
    /* The ring and hierarchical GPU algorithms wait on the host: one call after backward. */
    if (bucketed && aic_gpu_stream_sums(c))
        return device_bucketed_step_end(m, o, c, st, n, share, lr, loss);
#endif
    aic_progress_phase(AIC_PHASE_BACKWARD);
    if (st == AIC_OK)
        st = aic_model_backward(m, share);
    /* A rank that failed locally must not leave the others waiting in the allreduce. */
    aic_progress_phase(AIC_PHASE_ALLREDUCE);
    const double t_agree = aic_trace_now();
    AIC_TRY(aic_comm_agree(c, st));
#ifdef AICON_HAVE_CUDA
    if (on_device)
        return device_step_end(m, o, c, n, share, lr, loss);
#endif
    /* The slot after the gradients carries the loss through the same allreduce. */
    m->grad_arena[m->n_param_floats] = scaled_loss;
    if (m->digest_grads) { /* as of one bucket: the digest of its digest */
        uint8_t whole[32];
        AIC_TRY(aic_sha256(m->grad_arena, sizeof(float) * (m->n_param_floats + 1), whole));
        AIC_TRY(aic_sha256(whole, sizeof whole, m->grad_digest));
    }
    double t0 = aic_trace_now();
    AIC_TRY(aic_allreduce_sum_f32(c, m->grad_arena, m->n_param_floats + 1));
    const double t1 = aic_trace_now();
    aic_comm_add_wait(c, (t1 - t_agree) * 1e-6); /* unhidden, all of it is waiting (microseconds) */
    if (aic_trace_recording) {
        aic_trace_add("allreduce", "allreduce gradients", AIC_TRACE_ALLREDUCE, t0, t1);
        t0 = t1;
    }
    if (loss)
        *loss = m->grad_arena[m->n_param_floats];
    return cpu_optim_step(o, lr, t0, m->grad_arena[m->n_param_floats]);
}

aic_status aic_train_digest_grads(aic_model_t *m, bool on) {
    if (!m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_digest_grads: NULL model");
    if (on && m->backend->kind != AIC_BACKEND_CPU)
        return aic_fail(AIC_ERR_INVALID_ARG, "model '%s': gradient digests (proof of work) are taken on the CPU only",
                        m->name);
    m->digest_grads = on;
    return AIC_OK;
}

aic_status aic_train_grad_digest(const aic_model_t *m, uint8_t out[32]) {
    if (!m || !out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_train_grad_digest: NULL argument");
    if (!m->digest_grads)
        return aic_fail(AIC_ERR_STATE, "model '%s': gradient digests are off (aic_train_digest_grads)", m->name);
    memcpy(out, m->grad_digest, 32);
    return AIC_OK;
}

aic_status aic_evaluate(aic_model_t *m, aic_comm_t *c, aic_io_values io, const aic_dataset_t *d, aic_eval_result *out) {
    if (!m || !c || !d || !out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_evaluate: NULL argument");
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "aic_evaluate: model '%s' is not compiled", m->name);
    if (m->values[m->output_value].dtype != AIC_F32)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_evaluate: model '%s' outputs '%s', int32 values; accuracy takes "
                        "each row's largest of float scores", m->name, m->values[m->output_value].name);
    const int rank = aic_comm_rank(c), world = aic_comm_size(c);
    const int64_t total = aic_dataset_size(d);
    const int64_t L = m->values[io.labels].numel; /* labels per sample: 1, or a language model's T */
    aic_status st = AIC_OK;
    double stats[4] = {0, 0, 0, 0}; /* loss sum, correct, samples, whether some scores had no accuracy */
    int64_t idx[1024];
    const int cap = m->max_batch < 1024 ? m->max_batch : 1024;
    /* Rows are gathered into the host views of the inputs (the arenas themselves on the CPU) and
     * copied in by aic_model_set_input (nothing to copy on the CPU). */
    aic_tensor xin, yin;
    if (st == AIC_OK)
        st = aic_model_value(m, io.input, &xin);
    if (st == AIC_OK)
        st = aic_model_value(m, io.labels, &yin);
    if (aic_dataset_sample_numel(d) != m->values[io.input].numel)
        st = aic_fail(AIC_ERR_SHAPE, "evaluation data has %lld values per sample, model '%s' input takes %lld",
                      (long long)aic_dataset_sample_numel(d), m->name, (long long)m->values[io.input].numel);
    else if (aic_dataset_label_numel(d) != L)
        st = aic_fail(AIC_ERR_SHAPE, "evaluation data has %lld labels per sample, model '%s' takes %lld",
                      (long long)aic_dataset_label_numel(d), m->name, (long long)L);
    /* Rank r takes samples r, r + p, ...: no collective inside, so uneven counts cannot hang. */
    for (int64_t first = rank; st == AIC_OK && first < total; first += (int64_t)cap * world) {
        int n = 0;
        for (int64_t s = first; s < total && n < cap; s += world)
            idx[n++] = s;
        st = aic_dataset_gather(d, idx, n, xin.data, yin.data);
        if (st == AIC_OK)
            st = aic_model_set_input(m, io.input, xin.data, n);
        if (st == AIC_OK)
            st = aic_model_set_input(m, io.labels, yin.data, n);
        float loss = 0.0f;
        aic_batch_info b = {.n = n, .training = false};
        if (st == AIC_OK)
            st = aic_model_forward(m, &b, &loss);
        aic_tensor logit_view;
        if (st == AIC_OK)
            st = aic_model_output(m, &logit_view);
        if (st != AIC_OK)
            break;
        const int64_t correct = aic_count_correct(&logit_view, yin.data, n, L);
        stats[1] += (double)correct;
        stats[3] += correct < 0;
        stats[0] += (double)loss * n;
        stats[2] += n;
    }
    AIC_TRY(aic_comm_agree(c, st));
    AIC_TRY(aic_allreduce_sum_f64(c, stats, 4));
    out->samples = (int64_t)stats[2];
    out->loss = stats[2] > 0 ? stats[0] / stats[2] : 0.0;
    out->accuracy = stats[3] > 0 ? NAN : stats[2] > 0 ? stats[1] / (stats[2] * (double)L) : 0.0;
    return AIC_OK;
}
