// SPDX-License-Identifier: Apache-2.0
/* aicon train's callbacks of the trainer: the lines rank 0 prints (a live progress line on a terminal,
 * --log-every lines in a batch job's log, a line per epoch, the last line), the --metrics records,
 * the usage metering of every step, and the --summary file. */
#include <errno.h>
#if AICON_HAVE_JSONC
#include <json-c/json.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tools/train_cmd.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A live progress line only for a person watching: stdout is a terminal, and under mpirun (which
 * gives each rank a pseudo-terminal whatever its own output is) the launcher's stdout is one too. */
static bool stdout_is_terminal(void) {
    if (!isatty(STDOUT_FILENO))
        return false;
    if (!getenv("OMPI_COMM_WORLD_SIZE"))
        return true;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%ld/fd/1", (long)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

/* What the rates count: samples, or a language model's tokens (T a sample). */
static const char *rate_unit(const train_report *rep) {
    return rep->o->task == AICON_TASK_LM ? "tokens/s" : "samples/s";
}

/* Samples a second in the unit rate_unit names. */
static double unit_rate(const train_report *rep, double samples_per_sec) {
    return rep->o->task == AICON_TASK_LM ? samples_per_sec * rep->o->gpt.seq_len : samples_per_sec;
}

static void progress_line(const train_report *rep, int64_t epoch, int64_t epochs, int64_t step, int64_t steps,
                          double loss, double rate) {
    const int width = 24;
    int filled = (int)(width * (double)step / (double)steps);
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    printf("\repoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f %s ", (long long)epoch + 1, (long long)epochs, bar,
           (long long)step, (long long)steps, loss, unit_rate(rep, rate), rate_unit(rep));
    fflush(stdout);
}

#if AICON_HAVE_JSONC
/* The JSON aicon train writes (--summary, --metrics), with json-c. */

/* A number, or null where it is not finite (JSON has no NaN). */
static json_object *json_finite(double v) {
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

/* Where this rank's training time went and what its collectives moved (rank 0's figures: the
 * summary and the metrics are rank 0's), for a summary or an epoch record. */
static void add_comm_accounting(json_object *j, double seconds, double wait, uint64_t sent, uint64_t received) {
    json_object_object_add(j, "bytes_sent", json_object_new_uint64(sent));
    json_object_object_add(j, "bytes_received", json_object_new_uint64(received));
    json_object_object_add(j, "compute_seconds", json_finite(seconds - wait));
    json_object_object_add(j, "comm_wait_seconds", json_finite(wait));
    json_object_object_add(j, "compute_share", json_finite(seconds > 0 ? (seconds - wait) / seconds : NAN));
}

static aic_status write_summary(const train_report *rep, const aic_train_summary *s, const char *stopped_by) {
    const train_opts *o = rep->o;
    const aic_preprocess *pre = &o->train.preprocess;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "aicon_version", json_object_new_string(aic_version_string()));
    json_object_object_add(j, "model", json_object_new_string(o->model));
    json_object_object_add(j, "world_size", json_object_new_int(rep->r->world));
    json_object_object_add(j, "batch_per_rank", json_object_new_int(o->train.batch));
    json_object_object_add(j, "accumulate", json_object_new_int(o->train.accumulate));
    json_object_object_add(j, "epochs", json_object_new_int64(s->epochs));
    json_object_object_add(j, "epochs_exact", json_object_new_double(s->epochs_exact));
    json_object_object_add(j, "steps", json_object_new_int64(s->steps));
    json_object_object_add(j, "max_steps", o->train.max_steps ? json_object_new_int64(o->train.max_steps) : NULL);
    json_object_object_add(j, "stopped_by", stopped_by ? json_object_new_string(stopped_by) : NULL);
    json_object_object_add(j, "skipped_steps", json_object_new_int64(s->skipped_steps));
    json_object_object_add(j, "seed", json_object_new_uint64(o->train.seed));
    json_object_object_add(j, "blas_threads", json_object_new_int(o->threads));
    json_object_object_add(j, "train_loss", json_finite(s->train_loss));
    json_object_object_add(j, "test_accuracy", json_finite(s->test_accuracy));
    json_object_object_add(j, "test_loss", json_finite(s->test_loss));
    json_object_object_add(j, "train_samples_per_sec", json_finite(s->samples_per_sec));
    if (o->task == AICON_TASK_LM) { /* the test set is the validation split; a token a label */
        json_object_object_add(j, "seq_len", json_object_new_int(o->gpt.seq_len));
        json_object_object_add(j, "val_loss", json_finite(s->test_loss));
        json_object_object_add(j, "val_perplexity", json_finite(exp(s->test_loss)));
        json_object_object_add(j, "train_tokens_per_sec", json_finite(s->samples_per_sec * o->gpt.seq_len));
    }
    json_object_object_add(j, "train_seconds", json_finite(s->seconds));
    add_comm_accounting(j, s->seconds, s->comm_wait_seconds, s->bytes_sent, s->bytes_received);
    json_object_object_add(j, "parameters", json_object_new_uint64(aic_model_num_params(rep->r->src.model)));
    json_object_object_add(j, "params_sha256", json_object_new_string(s->params_sha256));
    if (s->proof_root[0]) {
        json_object_object_add(j, "proof_dir", json_object_new_string(o->train.proof_dir));
        json_object_object_add(j, "proof_root", json_object_new_string(s->proof_root));
        json_object_object_add(j, "proof_segments", json_object_new_int64(s->proof_segments));
    }
    json_object *pj = json_object_new_object();
    json_object_object_add(pj, "kind", json_object_new_string(aic_preprocess_name(pre->kind)));
    if (pre->kind == AIC_PREPROCESS_STANDARDIZE) {
        json_object_object_add(pj, "mean", json_object_new_double(pre->mean));
        json_object_object_add(pj, "std", json_object_new_double(pre->std));
    }
    json_object_object_add(j, "preprocess", pj);
    const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    aic_status st = aic_atomic_write(o->summary, text, strlen(text), 0644, "the run summary");
    json_object_put(j);
    return st == AIC_OK ? AIC_OK : aic_fail_context(st, "--summary ");
}

/* One --metrics record a line, flushed, so that a job killed at any time leaves whole lines. A
 * failure to write is a warning, and the records stop. */
static void metrics_append(train_report *rep, json_object *j) {
    if (rep->metrics &&
        (fprintf(rep->metrics, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN)) < 0 ||
         fflush(rep->metrics) != 0)) {
        fprintf(stderr, "aicon train: warning: --metrics %s: %s; no more records\n", rep->o->metrics,
                strerror(errno));
        fclose(rep->metrics);
        rep->metrics = NULL;
    }
    json_object_put(j);
}

static void metrics_step(train_report *rep, int64_t step, int64_t epoch, double loss, double lr, double rate,
                         double elapsed, double eta) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("step"));
    json_object_object_add(j, "step", json_object_new_int64(step));
    json_object_object_add(j, "epoch", json_object_new_int64(epoch));
    json_object_object_add(j, "loss", json_finite(loss));
    json_object_object_add(j, "lr", json_finite(lr));
    json_object_object_add(j, rep->o->task == AICON_TASK_LM ? "tokens_per_sec" : "samples_per_sec", json_finite(rate));
    json_object_object_add(j, "elapsed", json_finite(elapsed));
    json_object_object_add(j, "eta", json_finite(eta));
    metrics_append(rep, j);
}

static void metrics_epoch(train_report *rep, const aic_trainer_epoch *e) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("epoch"));
    json_object_object_add(j, "epoch", json_object_new_int64(e->epoch));
    json_object_object_add(j, "step", json_object_new_int64(e->step));
    json_object_object_add(j, "train_loss", json_finite(e->train_loss));
    json_object_object_add(j, "train_accuracy", json_finite(e->train_accuracy));
    json_object_object_add(j, "test_loss", json_finite(e->test_loss));
    json_object_object_add(j, "test_accuracy", json_finite(e->test_accuracy));
    json_object_object_add(j, "samples_per_sec", json_finite(e->samples_per_sec));
    if (rep->o->task == AICON_TASK_LM) {
        json_object_object_add(j, "val_loss", json_finite(e->test_loss));
        json_object_object_add(j, "val_perplexity", json_finite(exp(e->test_loss)));
        json_object_object_add(j, "tokens_per_sec", json_finite(unit_rate(rep, e->samples_per_sec)));
    }
    json_object_object_add(j, "elapsed", json_finite(e->elapsed));
    add_comm_accounting(j, e->seconds, e->comm_wait_seconds, e->bytes_sent, e->bytes_received);
    metrics_append(rep, j);
}

static void metrics_eval(train_report *rep, int64_t step, const aic_eval_result *ev) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("eval"));
    json_object_object_add(j, "step", json_object_new_int64(step));
    json_object_object_add(j, rep->o->task == AICON_TASK_LM ? "val_loss" : "test_loss", json_finite(ev->loss));
    if (rep->o->task == AICON_TASK_LM)
        json_object_object_add(j, "val_perplexity", json_finite(exp(ev->loss)));
    json_object_object_add(j, "accuracy", json_finite(ev->accuracy));
    metrics_append(rep, j);
}
#else
/* Built without json-c (-DAICON_USAGE=OFF on a machine without it): the options refuse --summary and
 * --metrics, so none of these is reached. */
static aic_status write_summary(const train_report *rep, const aic_train_summary *s, const char *stopped_by) {
    return aic_fail(AIC_ERR_UNSUPPORTED, "--summary %s: this aicon was built without json-c", rep->o->summary);
}
static void metrics_step(train_report *rep, int64_t step, int64_t epoch, double loss, double lr, double rate,
                         double elapsed, double eta) {}
static void metrics_epoch(train_report *rep, const aic_trainer_epoch *e) {}
static void metrics_eval(train_report *rep, int64_t step, const aic_eval_result *ev) {}
#endif

static void on_start(void *ctx, const aic_trainer_start *s) {
    train_report *rep = ctx;
    const train_opts *o = rep->o;
    if (rep->r->meter) {
        uint8_t job[32];
        aic_meter_job_id(rep->r->meter, job);
        rep->usage_prev_seq = memcmp(job, s->state->usage_job, 32) == 0 ? s->state->usage_seq : 0;
    }
    rep->last_step = s->last_step;
    rep->first_step = s->state->step;
    rep->t_start = rep->t_last = now_seconds();
    if (!rep->talk)
        return;
    char accumulate[48] = "";
    if (o->train.accumulate > 1)
        snprintf(accumulate, sizeof accumulate, " x %d micro-batches", o->train.accumulate);
    if (o->task == AICON_TASK_LM) {
        const aic_gpt_config *g = &rep->r->src.gpt;
        char sizes[96] = ""; /* an ONNX model's are its own */
        if (g->layers)
            snprintf(sizes, sizeof sizes, "%d layers, %d heads, dim %d, ", g->layers, g->heads, g->dim);
        printf("aicon %s: model %s (%svocabulary %d; %zu parameters), %d rank%s x batch %d%s x %d tokens, %lld "
               "windows (%lld steps/epoch), threads %d\n",
               aic_version_string(), o->model, sizes, rep->r->src.classes, aic_model_num_params(rep->r->src.model),
               s->world, s->world > 1 ? "s" : "", o->train.batch, accumulate, o->gpt.seq_len,
               (long long)s->train_samples, (long long)s->steps_per_epoch, o->threads);
    } else {
        printf("aicon %s: model %s, %d rank%s x batch %d%s, %lld samples (%lld steps/epoch), threads %d\n",
               aic_version_string(), o->model, s->world, s->world > 1 ? "s" : "", o->train.batch, accumulate,
               (long long)s->train_samples, (long long)s->steps_per_epoch, o->threads);
    }
    if (s->state->step > 0)
        printf("resuming from %s at step %lld (epoch %lld)\n", s->resumed_from, (long long)s->state->step,
               (long long)(s->state->step / s->steps_per_epoch));
    else if (o->train.resume_auto && !s->resumed_from)
        printf("no checkpoint in %s: starting from step 0\n", o->train.checkpoint_dir);
    fflush(stdout);
}

/* The --log-every line (on no terminal) and record of the step just done, over the steps since the last. */
static void log_step(train_report *rep, const aic_trainer_step *s) {
    const double now = now_seconds(), elapsed = now - rep->t_start;
    const double loss = rep->samples ? rep->loss_sum / (double)rep->samples : NAN;
    const double trained = now - rep->t_last - rep->eval_seconds; /* --eval-every's evaluations left out */
    const double rate = trained > 0 ? (double)rep->samples / trained : NAN;
    const double eta = elapsed / (double)(s->step - rep->first_step) * (double)(s->last_step - s->step);
    const int64_t epoch = (s->step - 1) / s->steps_per_epoch + 1;
    if (rep->talk && !rep->live) {
        printf("step %lld/%lld  epoch %lld  loss %.4f  lr %.4g  %.0f %s  elapsed %.1f s  ETA %.1f s\n",
               (long long)s->step, (long long)s->last_step, (long long)epoch, loss, (double)s->lr,
               unit_rate(rep, rate), rate_unit(rep), elapsed, eta);
        fflush(stdout);
    }
    if (rep->metrics)
        metrics_step(rep, s->step, epoch, loss, s->lr, unit_rate(rep, rate), elapsed, eta);
    rep->t_last = now;
    rep->eval_seconds = 0;
    rep->loss_sum = 0;
    rep->samples = 0;
}

static void on_step(void *ctx, const aic_trainer_step *s) {
    train_report *rep = ctx;
    rep->t_step = now_seconds();
    aic_meter_step(rep->r->meter, s->seconds, s->local_samples);
    if (isfinite(s->loss)) {
        rep->loss_sum += (double)s->loss * (double)s->samples;
        rep->samples += s->samples;
    }
    if (s->epoch != rep->live_epoch) { /* each epoch's first step shows */
        rep->live_epoch = s->epoch;
        rep->t_print = 0;
    }
    if (rep->live && (now_seconds() - rep->t_print > 0.25 || s->epoch_step == s->epoch_steps)) {
        rep->t_print = now_seconds();
        progress_line(rep, s->epoch, (s->last_step + s->steps_per_epoch - 1) / s->steps_per_epoch, s->epoch_step,
                      s->epoch_steps, s->epoch_loss, (double)s->epoch_samples / s->epoch_seconds);
    }
    if (rep->r->rank == 0 && rep->o->log_every && s->step % rep->o->log_every == 0)
        log_step(rep, s);
    if (rep->o->ops_out && s->step == rep->o->ops_step && rep->r->rank == rep->o->ops_rank &&
        aicon_write_op_digests(rep->r->src.model, s->step, rep->r->rank, rep->o->ops_out) != AIC_OK)
        fprintf(stderr, "aicon: [rank %d] %s\n", rep->r->rank, aic_last_error()); /* the caller finds no file */
}

static void on_epoch(void *ctx, const aic_trainer_epoch *e) {
    train_report *rep = ctx;
    if (rep->talk) {
        if (rep->live)
            printf("\r\033[K");
        printf("epoch %lld/%lld  train loss %.4f acc %.4f", (long long)e->epoch, (long long)e->epochs, e->train_loss,
               isnan(e->train_accuracy) ? 0.0 : e->train_accuracy);
        if (rep->r->test && rep->o->task == AICON_TASK_LM)
            printf("  val loss %.4f ppl %.2f", e->test_loss, exp(e->test_loss));
        else if (rep->r->test)
            printf("  test loss %.4f acc %.4f", e->test_loss, e->test_accuracy);
        printf("  %.0f %s  %.1f s\n", unit_rate(rep, e->samples_per_sec), rate_unit(rep), e->elapsed);
        fflush(stdout);
    }
    if (rep->metrics)
        metrics_epoch(rep, e);
}

/* An --eval-every evaluation: a line and a record (rank 0). */
static void on_eval(void *ctx, int64_t step, const aic_eval_result *ev) {
    train_report *rep = ctx;
    rep->eval_seconds += now_seconds() - rep->t_step;
    if (rep->talk) {
        if (rep->live)
            printf("\r\033[K");
        if (rep->o->task == AICON_TASK_LM)
            printf("step %lld  val loss %.4f ppl %.2f  token accuracy %.4f\n", (long long)step, ev->loss, exp(ev->loss),
                   ev->accuracy);
        else
            printf("step %lld  test loss %.4f acc %.4f\n", (long long)step, ev->loss, ev->accuracy);
        fflush(stdout);
    }
    if (rep->metrics)
        metrics_eval(rep, step, ev);
}

/* A checkpoint that ends a run carries the usage record the run is about to sign: the next run of the
 * job names it as its record's prevSeq (chain/usage.h), so a record taken out of the ledger shows. */
static void before_checkpoint(void *ctx, aic_train_state *st, bool final) {
    train_report *rep = ctx;
    if (!final || !rep->r->meter)
        return;
    aic_meter_job_id(rep->r->meter, st->usage_job);
    st->usage_seq = (uint64_t)st->step;
}

static void on_message(void *ctx, aic_trainer_message_kind kind, const char *text) {
    train_report *rep = ctx;
    if (kind == AIC_TRAINER_WARNING) {
        fprintf(stderr, "aicon train: warning: %s\n", text);
    } else if (rep->talk) {
        printf("%s\n", text);
        fflush(stdout);
    }
}

static aic_status export_model(void *ctx, aic_model_t *m, const aic_preprocess *pre, const char *path) {
    const train_report *rep = ctx;
    return aicon_model_export(&rep->r->src, pre, path);
}

aic_status aicon_train_report_start(train_report *rep, const train_opts *o, train_run *r, aic_trainer_callbacks *cb) {
    *rep = (train_report){.o = o, .r = r, .talk = r->rank == 0 && !o->quiet, .live_epoch = -1};
    rep->live = rep->talk && stdout_is_terminal();
    *cb = (aic_trainer_callbacks){.ctx = rep, .on_start = on_start, .on_step = on_step, .on_epoch = on_epoch, .on_eval = on_eval,
                                  .before_checkpoint = before_checkpoint, .on_message = on_message,
                                  .export_model = export_model};
    /* Rank 0 appends: the records of a resumed run follow those of its first part. */
    if (r->rank == 0 && o->metrics && !(rep->metrics = fopen(o->metrics, "a")))
        return aic_fail(AIC_ERR_IO, "--metrics %s: %s", o->metrics, strerror(errno));
    return AIC_OK;
}

aic_status aicon_train_report_summary(train_report *rep, const aic_train_summary *s, const char *stopped_by) {
    return rep->o->summary && rep->r->rank == 0 ? write_summary(rep, s, stopped_by) : AIC_OK;
}

/* After training: delivery never slows a step. */
aic_status aicon_train_report_usage(train_report *rep, const aic_train_summary *s) {
    const train_opts *o = rep->o;
    const train_run *r = rep->r;
    if (!r->meter)
        return AIC_OK;
    static const char *const optimizers[] = {"sgd", "adam", "adamw"};
    char hyper[512];
    snprintf(hyper, sizeof hyper,
             "{\"model\":\"%s\",\"ranks\":%d,\"batch\":%d,\"epochs\":%d,\"maxSteps\":%lld,\"optimizer\":\"%s\","
             "\"lr\":%g,\"momentum\":%g,\"weightDecay\":%g,\"seed\":%llu}",
             aic_model_name(r->src.model), r->world, o->train.batch, o->train.epochs, (long long)o->train.max_steps,
             optimizers[o->train.optim.kind], (double)o->train.lr.base_lr, (double)o->train.optim.momentum,
             (double)o->train.optim.weight_decay, (unsigned long long)o->train.seed);
    aic_meter_end end = {.model = r->src.model, .final_step = (uint64_t)s->steps, .prev_seq = rep->usage_prev_seq,
                         .device = r->device, .hyperparameters = hyper, .proof_root = s->proof_root,
                         .proof_segments = s->proof_segments};
    return aic_meter_finish(r->meter, r->comm, &end, stderr);
}

void aicon_train_report_final(const train_report *rep, const aic_train_summary *s, const char *stopped_by) {
    const train_opts *o = rep->o;
    const train_run *r = rep->r;
    if (r->rank != 0)
        return;
    if (s->stopped) {
        printf("stopped by %s at step %lld of %lld; ", stopped_by, (long long)s->steps, (long long)s->last_step);
        if (o->train.checkpoint_dir)
            printf("checkpoint %s; resume with --checkpoint-dir %s --resume auto\n", s->checkpoint,
                   o->train.checkpoint_dir);
        else if (o->train.checkpoint)
            printf("checkpoint %s; resume with --resume %s\n", o->train.checkpoint, o->train.checkpoint);
        else
            printf("no checkpoint (no --checkpoint-dir): the run cannot be resumed\n");
        fflush(stdout);
        return;
    }
    char speed[48] = ", no step left to train"; /* resumed at its last step */
    if (!isnan(s->samples_per_sec))
        snprintf(speed, sizeof speed, ", %.0f %s", unit_rate(rep, s->samples_per_sec), rate_unit(rep));
    const char *ranks = r->world > 1 ? "s" : "";
    if (r->test && o->task == AICON_TASK_LM)
        printf("validation loss %.4f (perplexity %.2f) after %lld steps on %d rank%s%s", s->test_loss,
               exp(s->test_loss), (long long)s->steps, r->world, ranks, speed);
    else if (r->test)
        printf("test accuracy %.4f (loss %.4f) after %lld steps on %d rank%s%s", s->test_accuracy, s->test_loss,
               (long long)s->steps, r->world, ranks, speed);
    else
        printf("trained %lld steps on %d rank%s%s", (long long)s->steps, r->world, ranks, speed);
    if (s->skipped_steps)
        printf("; %lld step%s skipped (non-finite loss)", (long long)s->skipped_steps,
               s->skipped_steps == 1 ? "" : "s");
    printf("\n");
}

void aicon_train_report_close(train_report *rep) {
    if (rep->metrics)
        fclose(rep->metrics);
    rep->metrics = NULL;
}
