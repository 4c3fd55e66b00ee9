// SPDX-License-Identifier: Apache-2.0
/* The training loop (include/aicon/trainer.h): epochs, resume, checkpoint cadence, evaluation, trace
 * and export around aic_train_step. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aicon/onnx.h"
#include "aicon/trainer.h"
#include "core/error.h"
#include "core/graph.h"
#include "train/accuracy.h"
#include "train/checkpoint_dir.h"
#include "train/diloco.h"
#include "train/progress.h"
#include "train/proof.h"
#include "train/timeline.h"

struct aic_trainer {
    aic_model_t *model;
    aic_optim_t *optim;
    bool own_optim;
    aic_comm_t *comm;
    int rank, world;
    aic_io_values io;
    const aic_dataset_t *train, *test;
    aic_trainer_config cfg;
    aic_trainer_callbacks cb;
    aic_sampler_t *sampler;
    int64_t *idx; /* this rank's sample indices of a step: batch x accumulate */
    aic_train_state st;
    aic_lr_schedule sched;
    int64_t steps_per_epoch, last_step, epochs;
    bool ran;
    aic_diloco *diloco;   /* --sync diloco; NULL: every step over comm */
    float lagged_loss;    /* streaming DiLoCo: the summed loss of the step whose vote lands next */
    aic_comm_t *step_comm; /* the gradient sums': comm, or the DiLoCo group's */
    aic_checkpoint_extra extra[2]; /* what rank 0's checkpoints hold besides the model: DiLoCo's state */
    int n_extra;
    aic_proof *proof; /* --proof; NULL: none */
};

/* The checkpoint arrays of --sync diloco: a row per group (aic_diloco_gather), the outer state. */
#define DILOCO_GROUPS "diloco.groups"
#define DILOCO_OUTER "diloco.outer"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rank 0's notes and warnings, through on_message. */
static void say(const aic_trainer_t *t, aic_trainer_message_kind kind, const char *fmt, ...) AIC_PRINTF(3, 4);
static void say(const aic_trainer_t *t, aic_trainer_message_kind kind, const char *fmt, ...) {
    if (t->rank != 0)
        return;
    char text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (t->cb.on_message)
        t->cb.on_message(t->cb.ctx, kind, text);
    else if (kind == AIC_TRAINER_WARNING)
        fprintf(stderr, "aicon: warning: %s\n", text);
}

static void warn_text(void *ctx, const char *text) {
    say(ctx, AIC_TRAINER_WARNING, "%s", text);
}

aic_status aic_trainer_agree(aic_comm_t *c, aic_status local, bool *report) {
    char mine[2048];
    snprintf(mine, sizeof mine, "%s", aic_last_error());
    aic_progress_phase(AIC_PHASE_COLLECTIVE);
    const aic_status agreed = aic_comm_agree(c, local);
    const int rank = aic_comm_rank(c);
    if (report)
        *report = agreed != AIC_OK && (rank == 0 || local != AIC_OK);
    if (agreed == AIC_OK)
        return AIC_OK;
    if (local != AIC_OK && rank != 0)
        return aic_fail(agreed, "[rank %d] %s", rank, mine);
    if (!aic_last_error()[0])
        return aic_fail(agreed, "%s", aic_status_string(agreed));
    return agreed;
}

/* Agree on a step that may fail on some ranks only; on failure return it, with *out saying who tells. */
static aic_status agree(aic_trainer_t *t, aic_train_summary *out, aic_status local) {
    const aic_status agreed = aic_trainer_agree(t->comm, local, &out->report);
    if (agreed != AIC_OK)
        out->local_status = local;
    return agreed;
}

#define AGREE(t, out, expr)                                  \
    do {                                                     \
        const aic_status agreed_ = agree(t, out, (expr));    \
        if (agreed_ != AIC_OK)                               \
            return agreed_;                                  \
    } while (0)

aic_status aic_trainer_config_check(const aic_trainer_config *k) {
    const struct {
        const char *flag;
        int64_t value;
    } counts[] = {{"--epochs", k->epochs},
                  {"--batch", k->batch},
                  {"--accumulate", k->accumulate},
                  {"--max-steps", k->max_steps},
                  {"--checkpoint-every", k->checkpoint_every},
                  {"--keep", k->keep},
                  {"--timeline-steps", k->timeline_steps},
                  {"--eval-every", k->eval_every}};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        if (counts[i].value < 0)
            return aic_fail(AIC_ERR_INVALID_ARG, "%s %lld is negative", counts[i].flag, (long long)counts[i].value);
    if (k->optim.nesterov && k->optim.momentum <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "--nesterov needs --momentum greater than 0");
    const char *needs_dir = k->resume_auto ? "--resume auto" : k->checkpoint_every ? "--checkpoint-every" : NULL;
    if (needs_dir && !k->checkpoint_dir)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s needs --checkpoint-dir DIR", needs_dir);
    if (k->inner_steps < 0 || k->sync_group < 0 || !(k->outer_lr >= 0) ||
        !(k->outer_momentum >= 0 && k->outer_momentum < 1))
        return aic_fail(AIC_ERR_INVALID_ARG, "--inner-steps %d, --sync-group %d, --outer-lr %g or --outer-momentum %g "
                        "out of range", k->inner_steps, k->sync_group, k->outer_lr, k->outer_momentum);
    if (k->proof_every < 0 || k->stop_after < 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "--proof-every %lld or the replay's end %lld is negative",
                        (long long)k->proof_every, (long long)k->stop_after);
    if (k->outer_fragments < 0 || k->outer_fragments > (k->inner_steps ? k->inner_steps : 100))
        return aic_fail(AIC_ERR_INVALID_ARG, "--outer-fragments %d: between 1 and --inner-steps (%d)",
                        k->outer_fragments, k->inner_steps ? k->inner_steps : 100);
    /* The sampler hands out batch x accumulate rows per rank and step in one int. */
    if ((int64_t)k->batch * (k->accumulate ? k->accumulate : 1) > (1 << 24))
        return aic_fail(AIC_ERR_INVALID_ARG, "--batch %d x --accumulate %d is over %d samples per rank and step",
                        k->batch, k->accumulate ? k->accumulate : 1, 1 << 24);
    return AIC_OK;
}

/* The samples of d fit the model's input and labels: the rows are gathered straight into them. */
static aic_status check_data(const aic_model_t *m, aic_io_values io, const aic_dataset_t *d) {
    const aic_value_info *x = &m->values[io.input], *y = &m->values[io.labels];
    if (aic_dataset_sample_dtype(d) != x->dtype || aic_dataset_sample_numel(d) != x->numel)
        return aic_fail(AIC_ERR_SHAPE, "%s: %lld %s values a sample; model '%s' input '%s' takes %lld %s values",
                        aic_dataset_source(d), (long long)aic_dataset_sample_numel(d),
                        aic_dataset_sample_dtype(d) == AIC_I32 ? "int32" : "float", m->name, x->name,
                        (long long)x->numel, x->dtype == AIC_I32 ? "int32" : "float");
    if (aic_dataset_label_numel(d) != y->numel)
        return aic_fail(AIC_ERR_SHAPE, "%s: %lld labels a sample; model '%s' labels '%s' take %lld",
                        aic_dataset_source(d), (long long)aic_dataset_label_numel(d), m->name, y->name,
                        (long long)y->numel);
    return AIC_OK;
}

aic_status aic_trainer_create(aic_trainer_t **out, aic_model_t *m, aic_optim_t *o, aic_comm_t *c, aic_io_values io,
                              const aic_dataset_t *train, const aic_dataset_t *test, const aic_trainer_config *cfg,
                              const aic_trainer_callbacks *cb) {
    *out = NULL;
    if (!m || !c || !train || !cfg)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_trainer_create: model, communicator, training set and config are "
                                             "required");
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "aic_trainer_create: compile the model first");
    AIC_TRY(aic_trainer_config_check(cfg));
    AIC_TRY(check_data(m, io, train));
    if (test)
        AIC_TRY(check_data(m, io, test));
    aic_trainer_config k = *cfg;
    k.epochs = k.epochs ? k.epochs : 1;
    k.batch = k.batch ? k.batch : m->max_batch;
    k.accumulate = k.accumulate ? k.accumulate : 1;
    k.timeline_steps = k.timeline_steps ? k.timeline_steps : 10;
    if (k.batch > m->max_batch)
        return aic_fail(AIC_ERR_INVALID_ARG, "--batch %d is over the model's compiled batch %d", k.batch, m->max_batch);
    aic_trainer_t *t = calloc(1, sizeof *t);
    if (!t)
        return aic_fail(AIC_ERR_NOMEM, "aic_trainer_create: out of memory");
    *t = (aic_trainer_t){.model = m, .optim = o, .comm = c, .rank = aic_comm_rank(c), .world = aic_comm_size(c),
                         .io = io, .train = train, .test = test, .cfg = k};
    if (cb)
        t->cb = *cb;
    *out = t;
    return AIC_OK;
}

void aic_trainer_destroy(aic_trainer_t *t) {
    if (!t)
        return;
    aic_sampler_destroy(t->sampler);
    aic_diloco_destroy(t->diloco);
    aic_proof_destroy(t->proof);
    free(t->idx);
    if (t->own_optim)
        aic_optim_destroy(t->optim);
    free(t);
}

/* Fail before training, not an epoch later, when a file cannot be written where asked. */
static aic_status check_writable_dir(const char *flag, const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    if (access(d, W_OK) != 0)
        return aic_fail(AIC_ERR_IO, "%s %s: directory %s is not writable: %s", flag, path, d, strerror(errno));
    return AIC_OK;
}

/* Rank 0: checkpoint_dir's stale temporary files go, and the files asked for can be written. */
static aic_status prepare_paths(aic_trainer_t *t) {
    const aic_trainer_config *k = &t->cfg;
    if (k->checkpoint)
        AIC_TRY(check_writable_dir("--checkpoint", k->checkpoint));
    if (k->checkpoint_dir) {
        int stale = 0;
        AIC_TRY(aic_ckpt_dir_prepare(k->checkpoint_dir, &stale));
        if (stale)
            say(t, AIC_TRAINER_NOTE, "removed %d temporary file%s an interrupted save left in %s", stale,
                stale == 1 ? "" : "s", k->checkpoint_dir);
    }
    if (k->export_path)
        AIC_TRY(check_writable_dir("--export", k->export_path));
    return AIC_OK;
}

/* Make every rank hold rank 0's parameters, buffers, optimizer state and train state. */
static aic_status sync_from_root(aic_trainer_t *t) {
    aic_model_t *m = t->model;
    AIC_TRY(aic_broadcast(t->comm, aic_model_params(m), sizeof(float) * aic_model_num_params(m), 0));
    AIC_TRY(aic_broadcast(t->comm, aic_model_buffers(m), sizeof(float) * aic_model_num_buffers(m), 0));
    for (int i = 0; i < aic_optim_slot_count(t->optim); i++) {
        float *slot;
        AIC_TRY(aic_optim_slot(t->optim, i, NULL, &slot));
        AIC_TRY(aic_broadcast(t->comm, slot, sizeof(float) * aic_model_num_params(m), 0));
    }
    int64_t osteps = aic_optim_steps(t->optim);
    AIC_TRY(aic_broadcast(t->comm, &osteps, sizeof osteps, 0));
    aic_optim_set_steps(t->optim, osteps);
    AIC_TRY(aic_broadcast(t->comm, &t->st, sizeof t->st, 0));
    uint8_t digest[32];
    AIC_TRY(aic_model_params_hash(m, digest));
    return aic_comm_check_same(t->comm, digest, "the model parameters");
}

/* Rank 0 writes file, or with file NULL checkpoint_dir's checkpoint of this step and then drops the ones
 * past keep; the caller agrees on the outcome. With checkpoint_continue a failure is a warning and the
 * next save tries again. */
static aic_status save_checkpoint(aic_trainer_t *t, const char *file) {
    if (t->rank != 0)
        return AIC_OK;
    const aic_trainer_config *k = &t->cfg;
    char path[4096];
    aic_status s = file ? AIC_OK : aic_ckpt_path(k->checkpoint_dir, t->st.step, path, sizeof path);
    if (s == AIC_OK)
        s = aic_checkpoint_save_with(file ? file : path, t->model, t->optim, &t->st, t->extra, t->n_extra);
    if (s == AIC_OK && !file)
        aic_ckpt_prune(k->checkpoint_dir, k->keep, warn_text, t);
    if (s == AIC_OK) {
        if (t->cb.on_checkpoint)
            t->cb.on_checkpoint(t->cb.ctx, file ? file : path, t->st.step);
        return AIC_OK;
    }
    if (k->checkpoint_continue) {
        say(t, AIC_TRAINER_WARNING, "step %lld: %s; training goes on (--on-checkpoint-error continue)",
            (long long)t->st.step, aic_last_error());
        return AIC_OK;
    }
    char why[1024];
    snprintf(why, sizeof why, "%s", aic_last_error());
    return aic_fail(s, "step %lld: %s; stopping (--on-checkpoint-error continue would train on)",
                    (long long)t->st.step, why);
}

/* DiLoCo: the groups' own states and the outer state, gathered to rank 0 as the checkpoint's extra
 * arrays (t->extra; free rows and outer after the save). Collective. */
static aic_status gather_diloco_state(aic_trainer_t *t, float **rows, float **outer) {
    AIC_TRY(aic_diloco_gather(t->diloco, t->optim, rows, outer));
    t->extra[0] = (aic_checkpoint_extra){DILOCO_GROUPS, *rows, aic_diloco_groups(t->diloco),
                                         (int64_t)aic_diloco_row_floats(t->diloco, t->optim)};
    t->extra[1] = (aic_checkpoint_extra){DILOCO_OUTER, *outer, 2, (int64_t)aic_model_num_params(t->model)};
    t->n_extra = t->rank == 0 ? 2 : 0;
    return AIC_OK;
}

/* The checkpoints of this step: the file (at epoch ends and the run's end, every: true) and the
 * directory's. Collective. */
static aic_status save_step(aic_trainer_t *t, bool every, bool final, aic_train_summary *out) {
    if (t->cb.before_checkpoint)
        t->cb.before_checkpoint(t->cb.ctx, &t->st, final);
    aic_progress_phase(AIC_PHASE_CHECKPOINT); /* rank 0 writes, the others wait in the agreement */
    float *rows = NULL, *outer = NULL;
    if (t->diloco && ((every && t->cfg.checkpoint) || t->cfg.checkpoint_dir))
        AGREE(t, out, gather_diloco_state(t, &rows, &outer));
    aic_status s = AIC_OK;
    if (every && t->cfg.checkpoint)
        s = agree(t, out, save_checkpoint(t, t->cfg.checkpoint));
    if (s == AIC_OK && t->cfg.checkpoint_dir)
        s = agree(t, out, save_checkpoint(t, NULL));
    free(rows);
    free(outer);
    t->n_extra = 0;
    return s;
}

/* Count rows whose largest logit is the label (none where the output holds int32 values, not scores). */
/* Labels per sample: 1 for a classifier, T for a language model (a label a token). */
static int64_t labels_per_sample(const aic_trainer_t *t) {
    return t->model->values[t->io.labels].numel;
}

/* Whether the output holds a row of class scores on its last axis for every label (not a segmentation's
 * classes on axis 1), the rows aic_count_correct scores. */
static bool has_accuracy(const aic_trainer_t *t) {
    const aic_value_info *o = &t->model->values[t->model->output_value];
    return o->dtype == AIC_F32 && o->ndim >= 1 && o->numel == labels_per_sample(t) * o->shape[o->ndim - 1];
}

/* The labels of the last micro-batch's n rows the model got right (0 where its scores have no accuracy). */
static int64_t count_correct(aic_trainer_t *t, const int32_t *labels, int n) {
    aic_tensor out;
    if (n == 0 || aic_model_output(t->model, &out) != AIC_OK)
        return 0;
    const int64_t c = aic_count_correct(&out, labels, n, labels_per_sample(t));
    return c > 0 ? c : 0;
}

/* One optimizer step on global batch s of the epoch: accumulate micro-batches of at most batch of this
 * rank's rows, one sum over ranks. The sampler's local batch is batch x accumulate, so a step takes the
 * samples one batch that many times larger would. A failure to read a batch is carried into the step's
 * agreement. *slice: this rank's share of the whole step; *correct: rows classified right;
 * *local_nonfinite: whether this rank's own loss was NaN or Inf (*loss is the sum over ranks). */
static aic_status accumulated_step(aic_trainer_t *t, int64_t s, float lr, aic_batch_slice *slice, float *loss,
                                   int64_t *correct, bool *local_nonfinite) {
    const int batch = t->cfg.batch;
    const uint64_t step = (uint64_t)t->st.step;
    aic_tensor xin, yin;
    aic_model_value(t->model, t->io.input, &xin);
    aic_model_value(t->model, t->io.labels, &yin);
    aic_progress_set(AIC_PHASE_DATA, (int64_t)step);
    *slice = (aic_batch_slice){0};
    aic_accumulation acc = {.status = aic_sampler_batch(t->sampler, s, t->idx, slice)};
    /* The rows the gradient sum runs over: all ranks', or under DiLoCo the group's. */
    int64_t sum_rows = slice->n_global;
    if (t->diloco) {
        sum_rows = slice->n_local;
        AIC_TRY(aic_allreduce_sum_i64(t->step_comm, &sum_rows, 1));
        sum_rows = sum_rows > 0 ? sum_rows : 1; /* a group without rows steps on zero gradients */
    }
    *correct = 0;
    for (int k = 0;; k++) {
        const int first = k * batch, left = slice->n_local - first;
        const aic_batch_slice micro = {.n_local = left < 0 ? 0 : left < batch ? left : batch,
                                       .n_global = (int)sum_rows, .row_offset = slice->row_offset + first};
        if (acc.status == AIC_OK && micro.n_local > 0)
            acc.status = aic_dataset_gather(t->train, t->idx + first, micro.n_local, xin.data, yin.data);
        if (k + 1 == t->cfg.accumulate) {
            AIC_TRY(aic_train_step_accumulated(t->model, t->optim, t->step_comm, t->io, xin.data, yin.data, &micro,
                                               step, lr, &acc, loss));
            *correct += count_correct(t, yin.data, micro.n_local);
            /* The loss op's output still holds the last micro-batch's mean; acc the earlier ones'. */
            aic_tensor last;
            *local_nonfinite = !isfinite(acc.loss) ||
                               (micro.n_local > 0 && aic_model_value(t->model, t->model->loss_value, &last) == AIC_OK &&
                                !isfinite(*(const float *)last.data));
            return AIC_OK;
        }
        if (aic_train_accumulate(t->model, t->io, xin.data, yin.data, &micro, step, &acc) == AIC_OK)
            *correct += count_correct(t, yin.data, micro.n_local);
    }
}

/* What the ranks agree on after a step, in one small sum: whether any asked to stop (so that all stop
 * at the same step), and which saw a non-finite loss of their own (rides along for the message). */
typedef struct {
    bool stop;
    int nonfinite_ranks, nonfinite_rank; /* how many saw one; the rank, when it was one */
} step_agreement;

/* This rank's vote: whether it asks to stop, whether its own loss was not finite, its rank if so. */
static void vote_of(aic_trainer_t *t, bool local_nonfinite, double v[AIC_DILOCO_VOTE]) {
    v[0] = t->cb.should_stop && t->cb.should_stop(t->cb.ctx);
    v[1] = local_nonfinite;
    v[2] = local_nonfinite ? t->rank : 0;
}

static step_agreement agreement_of(const double v[AIC_DILOCO_VOTE]) {
    return (step_agreement){.stop = v[0] > 0, .nonfinite_ranks = (int)v[1], .nonfinite_rank = (int)v[2]};
}

static aic_status step_agreed(aic_trainer_t *t, bool local_nonfinite, step_agreement *a) {
    double v[AIC_DILOCO_VOTE];
    vote_of(t, local_nonfinite, v);
    AIC_TRY(aic_allreduce_sum_f64(t->comm, v, AIC_DILOCO_VOTE));
    *a = agreement_of(v);
    return AIC_OK;
}

/* After a step whose summed loss is not finite: a warning and on (skip_nonfinite), or the run's end. */
static aic_status nonfinite_step(aic_trainer_t *t, int64_t step, float loss, const step_agreement *ag) {
    const char *what = isnan(loss) ? "NaN" : isfinite(loss) ? "not finite" : loss > 0 ? "+Inf" : "-Inf";
    char where[64];
    if (ag->nonfinite_ranks == 1)
        snprintf(where, sizeof where, "on rank %d", ag->nonfinite_rank);
    else if (ag->nonfinite_ranks > 1)
        snprintf(where, sizeof where, "on %d ranks", ag->nonfinite_ranks);
    else
        snprintf(where, sizeof where, "summed over the ranks");
    if (!t->cfg.skip_nonfinite)
        return aic_fail(AIC_ERR_NONFINITE, "step %lld: the loss is %s %s; stopping (--skip-nonfinite would skip "
                        "such steps)", (long long)step, what, where);
    say(t, AIC_TRAINER_WARNING, "step %lld: the loss is %s %s; the update is skipped on every rank (--skip-nonfinite)",
        (long long)step, what, where);
    return AIC_OK;
}

/* Acts on what the ranks agreed about `step` (this rank's summed loss then: loss): a non-finite loss
 * ends the run or, with skip_nonfinite, counts as skipped; a stop ends it after the current step. */
static aic_status act_on(aic_trainer_t *t, const step_agreement *ag, int64_t step, float loss, bool *stopped,
                         aic_train_summary *out) {
    if (!isfinite(loss) || (ag->nonfinite_ranks > 0 && !t->cfg.skip_nonfinite)) {
        const aic_status ns = nonfinite_step(t, step, loss, ag);
        if (ns != AIC_OK) { /* every rank reached it: rank 0 tells */
            out->local_status = ns;
            out->report = t->rank == 0;
            return ns;
        }
        out->skipped_steps++;
    }
    if (ag->stop && t->st.step < t->last_step && !*stopped) {
        *stopped = true;
        if (t->cb.on_stop)
            t->cb.on_stop(t->cb.ctx, t->st.step);
    }
    return AIC_OK;
}

/* DiLoCo's state from the checkpoint rank 0 resumed from (resumed; "" for none), or a fresh anchor. */
static aic_status resume_diloco(aic_trainer_t *t, const char *resumed, aic_train_summary *out) {
    float *rows = NULL, *outer = NULL;
    int64_t n_rows = 0, cols = 0, two, n;
    aic_status s = AIC_OK;
    if (t->rank == 0 && resumed[0]) {
        s = aic_checkpoint_read_extra(resumed, DILOCO_GROUPS, &rows, &n_rows, &cols);
        if (s == AIC_OK)
            s = aic_checkpoint_read_extra(resumed, DILOCO_OUTER, &outer, &two, &n);
        if (s == AIC_OK && !rows != !outer)
            s = aic_fail(AIC_ERR_FORMAT, "%s: holds only one of /extra/" DILOCO_GROUPS " and /extra/" DILOCO_OUTER,
                         resumed);
        if (s == AIC_OK && outer && (two != 2 || n != (int64_t)aic_model_num_params(t->model)))
            s = aic_fail(AIC_ERR_MISMATCH, "%s: /extra/" DILOCO_OUTER " is %lld x %lld, not 2 x the model's %zu "
                         "parameters", resumed, (long long)two, (long long)n, aic_model_num_params(t->model));
    }
    int saved = 0;
    s = agree(t, out, s);
    if (s == AIC_OK)
        s = agree(t, out, aic_diloco_restore(t->diloco, t->optim, rows, n_rows, cols, outer, &saved));
    free(rows);
    free(outer);
    const int groups = aic_diloco_groups(t->diloco);
    if (s == AIC_OK && saved && saved != groups && t->rank == 0)
        say(t, AIC_TRAINER_WARNING, "%s was written by %d groups, this run has %d: every group goes on from the "
            "last outer step's parameters, with group 0's inner optimizer state", resumed, saved, groups);
    else if (s == AIC_OK && resumed[0] && !saved && t->rank == 0)
        say(t, AIC_TRAINER_NOTE, "%s holds no DiLoCo state: the outer steps start from its parameters", resumed);
    return s;
}

/* Optimizer, buckets, resume, the broadcast from rank 0, sampler and schedule. */
static aic_status prepare(aic_trainer_t *t, char *resumed, size_t size, aic_train_summary *out) {
    const aic_trainer_config *k = &t->cfg;
    AGREE(t, out, t->rank == 0 ? prepare_paths(t) : AIC_OK);
    if (!t->optim) {
        AGREE(t, out, aic_optim_create(&t->optim, t->model, &k->optim));
        t->own_optim = true;
    }
    t->step_comm = t->comm;
    if (k->sync == AIC_SYNC_DILOCO) {
        const int group = k->sync_group ? k->sync_group : aic_comm_local_size(t->comm);
        AGREE(t, out, aic_diloco_create(&t->diloco, t->comm, group, k->outer_fragments, t->model,
                                        k->outer_lr ? k->outer_lr : 1.0f, k->outer_momentum, k->outer_compress));
        t->step_comm = aic_diloco_group(t->diloco);
    }
    AGREE(t, out, aic_train_set_buckets(t->model, t->step_comm, k->bucket_bytes));
    /* rank 0 reads; the others receive it, so only rank 0 needs the file. */
    t->st = (aic_train_state){.seed = k->seed};
    resumed[0] = '\0';
    if (k->resume_auto)
        AGREE(t, out, t->rank == 0 ? aic_ckpt_resume_auto(k->checkpoint_dir, t->model, t->optim, &t->st, resumed,
                                                          size, warn_text, t)
                                   : AIC_OK);
    else if (k->resume) {
        AGREE(t, out, t->rank == 0 ? aic_checkpoint_load(k->resume, t->model, t->optim, &t->st) : AIC_OK);
        snprintf(resumed, size, "%s", k->resume);
    }
    aic_progress_phase(AIC_PHASE_COLLECTIVE);
    AGREE(t, out, sync_from_root(t));
    if (t->diloco)
        AIC_TRY(resume_diloco(t, resumed, out));
    /* Samples per optimizer step: the sample order depends on it alone, so a run resumed with another
     * accumulate x batch of the same product goes on as the original would have (up to rounding). */
    const int64_t global_batch = (int64_t)k->batch * k->accumulate * t->world;
    if (resumed[0] && t->st.global_batch != global_batch && t->rank == 0)
        say(t, AIC_TRAINER_WARNING,
            "%s was written with a global batch of %lld, this run has %lld (%d ranks x %d x --accumulate %d): "
            "training goes on from step %lld, but not as the original run would have",
            resumed, (long long)t->st.global_batch, (long long)global_batch, t->world, k->batch, k->accumulate,
            (long long)t->st.step);
    t->st.global_batch = global_batch;
    t->st.preprocess = k->preprocess; /* this run's data, whatever a resumed checkpoint had */
    AGREE(t, out, aic_sampler_create(&t->sampler, aic_dataset_size(t->train), k->batch * k->accumulate, t->rank,
                                     t->world, t->st.seed, !k->no_shuffle));
    t->idx = malloc(sizeof(int64_t) * (size_t)k->batch * (size_t)k->accumulate);
    AGREE(t, out, t->idx ? AIC_OK : aic_fail(AIC_ERR_NOMEM, "out of memory for the sample indices"));

    const int64_t spe = t->steps_per_epoch = aic_sampler_steps_per_epoch(t->sampler);
    t->sched = k->lr;
    if (k->scale_lr)
        t->sched.base_lr = aic_lr_scale_for_world(t->sched.base_lr, t->world);
    if (t->sched.kind == AIC_LR_STEP && t->sched.step_size == 0)
        t->sched.step_size = spe;
    t->last_step = spe * k->epochs;
    if (k->max_steps > 0 && k->max_steps < t->last_step)
        t->last_step = k->max_steps;
    if (t->sched.kind == AIC_LR_COSINE && t->sched.total_steps == 0) /* down to its floor at the run's end */
        t->sched.total_steps = t->last_step;
    /* The epochs this run reaches into: fewer than epochs when max_steps ends it first. */
    t->epochs = (t->last_step + spe - 1) / spe;
    if (t->cb.on_start) {
        const aic_trainer_start start = {
            .rank = t->rank, .world = t->world, .train_samples = aic_dataset_size(t->train), .steps_per_epoch = spe,
            .last_step = t->last_step, .epochs = t->epochs, .global_batch = global_batch, .state = &t->st,
            .resumed_from = t->rank == 0 && resumed[0] ? resumed : NULL};
        t->cb.on_start(t->cb.ctx, &start);
    }
    return AIC_OK;
}

/* --proof: a boundary of the proof log after this step (or at the start); rank 0 writes it on a thread
 * of its own while training goes on. Under DiLoCo the state is every group's and the outer state, as
 * in the checkpoints. */
static aic_status proof_boundary(aic_trainer_t *t, aic_train_summary *out) {
    float *rows = NULL, *outer = NULL;
    if (t->diloco)
        AGREE(t, out, gather_diloco_state(t, &rows, &outer));
    const aic_status s =
        agree(t, out, aic_proof_boundary(t->proof, t->st.step, t->model, t->optim, &t->st, t->extra, t->n_extra));
    free(rows);
    free(outer);
    t->n_extra = 0;
    return s;
}

static aic_status proof_start(aic_trainer_t *t, aic_train_summary *out) {
    const aic_trainer_config *k = &t->cfg;
    AGREE(t, out, aic_train_digest_grads(t->model, true));
    AGREE(t, out, aic_proof_open(&t->proof, k->proof_dir, k->proof_meta, t->comm));
    return proof_boundary(t, out);
}

/* A step that failed inside its collectives: only some ranks may know. */
static aic_status step_failed(aic_trainer_t *t, aic_status s, aic_train_summary *out) {
    char why[2048];
    snprintf(why, sizeof why, "%s", aic_last_error());
    out->local_status = s;
    out->unagreed = s == AIC_ERR_COMM;
    /* A failure the step agreed on names the rank that failed: that rank tells it, and rank 0. */
    out->report = t->rank == 0 || strncmp(why, "rank ", 5) != 0;
    return aic_fail(s, "[rank %d] step %lld: %s", t->rank, (long long)t->st.step, why);
}

static int64_t inner_steps(const aic_trainer_t *t) { return t->cfg.inner_steps ? t->cfg.inner_steps : 100; }

/* What this rank's collectives moved and the seconds it waited on them: comm's and, under DiLoCo,
 * its group's and the outer steps'. */
static void traffic(const aic_trainer_t *t, uint64_t *sent, uint64_t *received) {
    aic_comm_traffic(t->comm, sent, received);
    if (t->diloco) {
        uint64_t s, r;
        aic_diloco_traffic(t->diloco, &s, &r);
        *sent += s;
        *received += r;
    }
}

static double waited(const aic_trainer_t *t) {
    return aic_comm_wait_seconds(t->comm) + (t->diloco ? aic_diloco_wait_seconds(t->diloco) : 0.0);
}

static aic_status run(aic_trainer_t *t, aic_train_summary *out) {
    const aic_trainer_config *k = &t->cfg;
    char resumed[4096];
    AIC_TRY(prepare(t, resumed, sizeof resumed, out));
    aic_train_state *st = &t->st;
    const int64_t spe = t->steps_per_epoch, last_step = t->last_step;
    if (t->diloco && st->step < last_step)
        aic_diloco_resume(t->diloco, st->step, inner_steps(t));
    if (k->proof_dir)
        AIC_TRY(proof_start(t, out));
    /* A replay ends early; the schedule still runs to last_step. */
    const int64_t end = k->stop_after && k->stop_after < last_step ? k->stop_after : last_step;
    if (k->timeline)
        AGREE(t, out, aic_timeline_start(t->comm, k->timeline_steps));
    const double t_start = now_seconds();
    double train_seconds = 0;
    /* This run's share of the communicator's counters (a caller's communicator may have done more). */
    uint64_t sent0, received0;
    traffic(t, &sent0, &received0);
    const double wait0 = waited(t);
    int64_t samples_done = 0;
    bool stopped = false;
    while (st->step < end && !stopped) {
        const int64_t epoch = st->step / spe;
        AGREE(t, out, aic_sampler_set_epoch(t->sampler, epoch));
        const double t_epoch = now_seconds(), wait_epoch = waited(t);
        uint64_t sent_epoch, received_epoch;
        traffic(t, &sent_epoch, &received_epoch);
        double loss_sum = 0;
        double stats[2] = {0, 0}; /* correct, labels */
        int64_t epoch_samples = 0;
        double eval_seconds = 0;
        /* The steps of this epoch the run takes. */
        const int64_t epoch_steps = last_step - epoch * spe < spe ? last_step - epoch * spe : spe;
        for (int64_t s = st->step % spe; s < epoch_steps && st->step < end && !stopped; s++) {
            aic_batch_slice slice;
            float loss;
            int64_t correct;
            bool local_nonfinite = false;
            const float lr = aic_lr_at(&t->sched, st->step);
            const double t_step = now_seconds();
            aic_status ts = accumulated_step(t, s, lr, &slice, &loss, &correct, &local_nonfinite);
            if (ts != AIC_OK)
                return step_failed(t, ts, out);
            const double step_seconds = now_seconds() - t_step;
            if (t->proof) {
                uint8_t digest[32];
                AGREE(t, out, aic_train_grad_digest(t->model, digest));
                AGREE(t, out, aic_proof_step(t->proof, st->step + 1, digest));
            }
            /* The loss summed over ranks: every rank sees the same one, and a non-finite one has left the
             * model unchanged everywhere (aic_train_step); it is kept out of the means. */
            const bool nonfinite = !isfinite(loss);
            if (!nonfinite) {
                stats[0] += (double)correct;
                stats[1] += (double)slice.n_local * (double)labels_per_sample(t);
                loss_sum += (double)loss * slice.n_global;
                epoch_samples += slice.n_global;
            }
            st->step++;
            /* Streaming DiLoCo: the fragment and the vote sent after the last step land. */
            double lagged[AIC_DILOCO_VOTE];
            bool have_lagged = false;
            if (t->diloco)
                AGREE(t, out, aic_diloco_land(t->diloco, lagged, &have_lagged));
            if (t->cb.on_step) {
                const aic_trainer_step info = {
                    .step = st->step, .epoch = epoch, .epoch_step = s + 1, .epoch_steps = epoch_steps,
                    .steps_per_epoch = spe, .last_step = last_step, .loss = loss, .lr = lr,
                    .samples = slice.n_global, .local_samples = slice.n_local, .seconds = step_seconds,
                    .epoch_loss = loss_sum / (double)epoch_samples, .epoch_samples = epoch_samples,
                    .epoch_seconds = now_seconds() - t_epoch - eval_seconds};
                t->cb.on_step(t->cb.ctx, &info);
            }
            if (have_lagged) {
                const step_agreement ag = agreement_of(lagged);
                AIC_TRY(act_on(t, &ag, st->step - 1, t->lagged_loss, &stopped, out));
            }
            /* Under DiLoCo a group's loss is its own: a non-finite one elsewhere stops this rank too.
             * Streaming sends the vote with the fragments, read a step later, but for the last step's. */
            const bool streaming = t->diloco && aic_diloco_streams(t->diloco);
            if (streaming ? st->step == last_step : st->step < last_step || nonfinite || t->diloco) {
                step_agreement ag = {0};
                const double t_agree = now_seconds();
                AGREE(t, out, step_agreed(t, local_nonfinite, &ag));
                aic_comm_add_wait(t->comm, now_seconds() - t_agree);
                AIC_TRY(act_on(t, &ag, st->step, loss, &stopped, out));
            }
            t->lagged_loss = loss;
            /* DiLoCo: the groups meet every inner_steps steps (or a fragment at a time) and at the run's
             * end, so that every rank ends with the same parameters; a stopped run's checkpoint below
             * comes after this step's, as every checkpoint does. */
            if (t->diloco) {
                double vote[AIC_DILOCO_VOTE];
                vote_of(t, local_nonfinite, vote);
                aic_progress_phase(AIC_PHASE_ALLREDUCE);
                AGREE(t, out, aic_diloco_sync(t->diloco, st->step, inner_steps(t), st->step == last_step, vote));
            }
            if (t->proof && (st->step % (k->proof_every ? k->proof_every : 100) == 0 || st->step == end || stopped))
                AIC_TRY(proof_boundary(t, out));
            if (stopped)
                break; /* the checkpoint comes below */
            /* Mid-epoch only: the end of an epoch (or of the run) evaluates and saves below. */
            if (k->eval_every && t->test && st->step % k->eval_every == 0 && s + 1 < epoch_steps) {
                aic_eval_result ev;
                const double t_eval = now_seconds();
                aic_progress_phase(AIC_PHASE_EVALUATE);
                AGREE(t, out, aic_evaluate(t->model, t->comm, t->io, t->test, &ev));
                if (t->cb.on_eval)
                    t->cb.on_eval(t->cb.ctx, st->step, &ev);
                eval_seconds += now_seconds() - t_eval; /* not training: kept out of the rates */
            }
            if (k->checkpoint_every && st->step % k->checkpoint_every == 0 && s + 1 < spe && st->step < last_step)
                AIC_TRY(save_step(t, false, false, out));
        }
        const double epoch_seconds = now_seconds() - t_epoch - eval_seconds;
        /* The epoch's training traffic and waits: read before the evaluation below adds its own. */
        const double epoch_wait = waited(t) - wait_epoch;
        uint64_t sent_now, received_now;
        traffic(t, &sent_now, &received_now);
        train_seconds += epoch_seconds;
        samples_done += epoch_samples;
        if (stopped)
            break;
        aic_progress_phase(AIC_PHASE_COLLECTIVE);
        AGREE(t, out, aic_allreduce_sum_f64(t->comm, stats, 2));
        out->train_loss = loss_sum / (double)(epoch_samples ? epoch_samples : 1);
        aic_eval_result ev = {.loss = NAN, .accuracy = NAN};
        aic_progress_phase(AIC_PHASE_EVALUATE);
        if (t->test)
            AGREE(t, out, aic_evaluate(t->model, t->comm, t->io, t->test, &ev));
        if (st->step % spe == 0)
            st->epoch = st->step / spe;
        AIC_TRY(save_step(t, true, st->step >= last_step, out));
        if (t->cb.on_epoch) {
            const aic_trainer_epoch info = {
                .epoch = epoch + 1, .epochs = t->epochs, .step = st->step, .train_loss = out->train_loss,
                .train_accuracy = stats[1] > 0 && has_accuracy(t) ? stats[0] / stats[1] : NAN, .test_loss = ev.loss,
                .test_accuracy = ev.accuracy, .samples_per_sec = (double)epoch_samples / epoch_seconds,
                .elapsed = now_seconds() - t_start, .seconds = epoch_seconds, .comm_wait_seconds = epoch_wait,
                .bytes_sent = sent_now - sent_epoch, .bytes_received = received_now - received_epoch};
            t->cb.on_epoch(t->cb.ctx, &info);
        }
    }
    if (stopped) { /* the usual checkpoints of this step, then the run ends as a finished one */
        if (st->step % spe == 0)
            st->epoch = st->step / spe;
        AIC_TRY(save_step(t, true, true, out));
        if (t->diloco) /* the fragment on its way is sent again on resume */
            AGREE(t, out, aic_diloco_drain(t->diloco));
    }
    /* epochs: those trained in, the last one partly where max_steps or a stop ended it */
    out->steps = st->step;
    out->last_step = last_step;
    out->epochs = (st->step + spe - 1) / spe;
    out->epochs_exact = (double)st->step / (double)spe;
    out->seconds = train_seconds;
    out->comm_wait_seconds = waited(t) - wait0;
    traffic(t, &out->bytes_sent, &out->bytes_received);
    out->bytes_sent -= sent0;
    out->bytes_received -= received0;
    out->samples_per_sec = train_seconds > 0 ? (double)samples_done / train_seconds : NAN;
    out->stopped = stopped;
    if (k->checkpoint_dir)
        aic_ckpt_path(k->checkpoint_dir, st->step, out->checkpoint, sizeof out->checkpoint);
    else if (k->checkpoint)
        snprintf(out->checkpoint, sizeof out->checkpoint, "%s", k->checkpoint);
    if (t->test && !stopped) { /* a stopping job has little time left */
        aic_eval_result ev;
        aic_progress_phase(AIC_PHASE_EVALUATE);
        AGREE(t, out, aic_evaluate(t->model, t->comm, t->io, t->test, &ev));
        out->test_accuracy = ev.accuracy;
        out->test_loss = ev.loss;
    }
    aic_progress_phase(AIC_PHASE_COLLECTIVE); /* the trace and the files rank 0 writes */
    if (k->timeline)
        AGREE(t, out, aic_timeline_write(t->comm, k->timeline));
    if (k->export_path && !stopped) {
        aic_status es = AIC_OK;
        if (t->rank == 0 && t->cb.export_model)
            es = t->cb.export_model(t->cb.ctx, t->model, &k->preprocess, k->export_path);
        else if (t->rank == 0)
            es = aic_onnx_export_with(t->model, k->export_path,
                                      &(aic_onnx_export_options){.input = t->io.input, .preprocess = k->preprocess});
        AGREE(t, out, es);
    }
    if (t->proof) {
        AGREE(t, out, aic_proof_finish(t->proof, t->cb.sign, t->cb.ctx));
        aic_proof_root(t->proof, out->proof_root, &out->proof_segments);
    }
    uint8_t digest[32];
    AGREE(t, out, aic_model_params_hash(t->model, digest));
    aic_hex(digest, 32, out->params_sha256);
    return AIC_OK;
}

aic_status aic_trainer_run(aic_trainer_t *t, aic_train_summary *out) {
    *out = (aic_train_summary){.train_loss = NAN, .test_loss = NAN, .test_accuracy = NAN, .samples_per_sec = NAN};
    if (!t || t->ran) { /* every rank's own mistake: each tells it */
        out->report = true;
        return t ? aic_fail(AIC_ERR_STATE, "aic_trainer_run: a trainer runs once")
                 : aic_fail(AIC_ERR_INVALID_ARG, "aic_trainer_run: trainer is NULL");
    }
    t->ran = true;
    return run(t, out);
}
