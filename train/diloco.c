// SPDX-License-Identifier: Apache-2.0
#include "train/diloco.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "core/error.h"
#include "core/trace.h"

static const char *const compress_name[] = {[AIC_COMPRESS_NONE] = "float", [AIC_COMPRESS_BF16] = "bf16",
                                            [AIC_COMPRESS_INT8] = "int8"};

struct aic_diloco {
    aic_comm_t *world, *group, *across; /* all ranks; this rank's group; rank j of every group */
    aic_model_t *model;
    size_t n;                   /* parameters */
    float *anchor, *momentum, *delta, *residual;
    float lr, mu;
    aic_compress how;
    /* --outer-fragments F > 1 (streaming): fragment f, floats lo[f] to lo[f + 1], is sent after each
     * step s with s % H == f H / F, on the stream thread over a communicator of its own while the
     * next step runs, and applied after that step (aic_diloco_land). Every step's vote goes the same
     * way, over a twin of world. */
    int fragments;
    size_t *lo;
    aic_comm_t *stream, *votes;
    float *sent, *next_residual; /* a fragment's parameters when sent; its coding residual when it lands */
    pthread_t thread;
    bool thread_started, quit;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool busy, job_done; /* a job posted and not yet landed; the stream thread has finished it */
    int job_fragment;    /* -1: the vote alone */
    double job_vote[AIC_DILOCO_VOTE];
    aic_status job_status;
    char job_error[256];
    uint64_t stream_sent, stream_received; /* the stream thread's counters after its last job */
    double land_wait;                      /* seconds the training thread waited for jobs */
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A communicator over the ranks of world with this color, ordered as in world. */
static aic_status split(aic_comm_t *world, int color, aic_comm_t **out) {
    MPI_Comm sub;
    if (MPI_Comm_split(aic_comm_mpi(world), color, aic_comm_rank(world), &sub) != MPI_SUCCESS)
        return aic_fail(AIC_ERR_COMM, "--sync diloco: MPI_Comm_split failed");
    const aic_status st = aic_comm_create(out, sub); /* a duplicate of sub */
    MPI_Comm_free(&sub);
    return st;
}

static void *stream_main(void *arg);

/* The stream thread, its communicator and buffers, and the fragments' bounds: whole coding blocks. */
static aic_status stream_create(aic_diloco *d) {
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    if (level < MPI_THREAD_MULTIPLE)
        return aic_fail(AIC_ERR_UNSUPPORTED, "--outer-fragments %d sends fragments from a thread of their own, "
                        "which needs MPI_Init_thread with MPI_THREAD_MULTIPLE", d->fragments);
    const size_t bytes = (d->n ? d->n : 1) * sizeof(float);
    const size_t blocks = (d->n + AIC_COMPRESS_BLOCK - 1) / AIC_COMPRESS_BLOCK;
    d->lo = malloc((size_t)(d->fragments + 1) * sizeof *d->lo);
    d->sent = malloc(bytes);
    d->next_residual = calloc(1, bytes);
    if (!d->lo || !d->sent || !d->next_residual)
        return aic_fail(AIC_ERR_NOMEM, "--outer-fragments: out of memory for 2 copies of %zu parameters", d->n);
    for (int f = 0; f <= d->fragments; f++) {
        const size_t at = blocks * (size_t)f / (size_t)d->fragments * AIC_COMPRESS_BLOCK;
        d->lo[f] = at < d->n ? at : d->n;
    }
    AIC_TRY(split(d->world, aic_comm_rank(d->group), &d->stream)); /* the across communicator's twin */
    AIC_TRY(split(d->world, 0, &d->votes));
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, stream_main, d) != 0)
        return aic_fail(AIC_ERR_NOMEM, "--outer-fragments: cannot start the stream thread");
    d->thread_started = true;
    return AIC_OK;
}

aic_status aic_diloco_create(aic_diloco **out, aic_comm_t *world, int group_size, int fragments, aic_model_t *m,
                             float outer_lr, float outer_momentum, aic_compress how) {
    *out = NULL;
    const int w = aic_comm_size(world), r = aic_comm_rank(world);
    if (group_size < 1 || w % group_size != 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "--sync-group %d does not divide the %d ranks into groups", group_size,
                        w);
    if (aic_model_device(m) != AIC_DEVICE_CPU)
        return aic_fail(AIC_ERR_UNSUPPORTED, "--sync diloco runs on the CPU only, not yet on a GPU");
    aic_diloco *d = calloc(1, sizeof *d);
    if (!d)
        return aic_fail(AIC_ERR_NOMEM, "--sync diloco: out of memory");
    d->world = world;
    d->model = m;
    d->n = aic_model_num_params(m);
    d->lr = outer_lr;
    d->mu = outer_momentum;
    d->how = how;
    d->fragments = fragments > 1 ? fragments : 1;
    aic_status st = split(world, r / group_size, &d->group);
    if (st == AIC_OK)
        st = split(world, r % group_size, &d->across);
    if (st == AIC_OK) {
        const size_t bytes = (d->n ? d->n : 1) * sizeof(float);
        d->anchor = malloc(bytes);
        d->momentum = calloc(1, bytes);
        d->delta = malloc(bytes);
        d->residual = calloc(1, bytes);
        if (!d->anchor || !d->momentum || !d->delta || !d->residual)
            st = aic_fail(AIC_ERR_NOMEM, "--sync diloco: out of memory for 4 copies of %zu parameters", d->n);
    }
    if (st == AIC_OK && d->fragments > 1)
        st = stream_create(d);
    if (st != AIC_OK) {
        aic_diloco_destroy(d);
        return st;
    }
    *out = d;
    return AIC_OK;
}

void aic_diloco_destroy(aic_diloco *d) {
    if (!d)
        return;
    if (d->thread_started) {
        pthread_mutex_lock(&d->lock);
        const bool busy = d->busy && !d->job_done;
        d->quit = true;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->lock);
        if (busy) { /* a failed run's fragment may never finish: leave it its buffers, the process ends */
            pthread_detach(d->thread);
            return;
        }
        pthread_join(d->thread, NULL);
        pthread_mutex_destroy(&d->lock);
        pthread_cond_destroy(&d->cv);
    }
    aic_comm_destroy(d->stream);
    aic_comm_destroy(d->votes);
    free(d->lo);
    free(d->sent);
    free(d->next_residual);
    aic_comm_destroy(d->group);
    aic_comm_destroy(d->across);
    free(d->anchor);
    free(d->momentum);
    free(d->delta);
    free(d->residual);
    free(d);
}

aic_comm_t *aic_diloco_group(aic_diloco *d) { return d->group; }

void aic_diloco_set_anchor(aic_diloco *d) { memcpy(d->anchor, aic_model_params(d->model), d->n * sizeof(float)); }

/* The outer steps' trace event, on the communication row. */
static void trace_outer(const aic_diloco *d, int fragment, double t0) {
    char name[96];
    if (d->fragments > 1 && fragment >= 0)
        snprintf(name, sizeof name, "outer fragment %d/%d: %s mean over %d groups", fragment + 1, d->fragments,
                 compress_name[d->how], aic_comm_size(d->across));
    else
        snprintf(name, sizeof name, "outer step: %s mean over %d groups", compress_name[d->how],
                 aic_comm_size(d->across));
    aic_trace_add("outer", name, AIC_TRACE_ALLREDUCE, t0, aic_trace_now());
}

/* Every fragment at once, blocking: the outer step without --outer-fragments, and the run's last. */
static aic_status outer_step(aic_diloco *d) {
    float *p = aic_model_params(d->model);
    /* The change since the anchor, plus what the last coding left out (error feedback). */
    for (size_t i = 0; i < d->n; i++)
        d->delta[i] = d->anchor[i] - p[i] + d->residual[i];
    const double t0 = now_seconds(), trace0 = aic_trace_recording ? aic_trace_now() : 0;
    const aic_status st = aic_allreduce_mean_compressed(d->across, d->delta, d->n, d->how, d->residual);
    aic_comm_add_wait(d->across, now_seconds() - t0);
    if (aic_trace_recording) /* on the timeline's communication row, though the training thread waits on it */
        trace_outer(d, -1, trace0);
    if (st != AIC_OK)
        return st;
    for (size_t i = 0; i < d->n; i++) {
        d->momentum[i] = d->mu * d->momentum[i] + d->delta[i];
        d->anchor[i] -= d->lr * (d->delta[i] + d->mu * d->momentum[i]);
        p[i] = d->anchor[i];
    }
    return AIC_OK;
}

static void *stream_main(void *arg) {
    aic_diloco *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->quit && (!d->busy || d->job_done))
            pthread_cond_wait(&d->cv, &d->lock);
        if (d->quit)
            break;
        const int f = d->job_fragment;
        pthread_mutex_unlock(&d->lock);
        aic_status st = AIC_OK;
        if (f >= 0) {
            const size_t lo = d->lo[f], len = d->lo[f + 1] - lo;
            const double t0 = aic_trace_recording ? aic_trace_now() : 0;
            st = aic_allreduce_mean_compressed(d->stream, d->delta + lo, len, d->how, d->next_residual + lo);
            if (aic_trace_recording)
                trace_outer(d, f, t0);
        }
        if (st == AIC_OK)
            st = aic_allreduce_sum_f64(d->votes, d->job_vote, AIC_DILOCO_VOTE);
        uint64_t sent[2], received[2];
        aic_comm_traffic(d->stream, &sent[0], &received[0]);
        aic_comm_traffic(d->votes, &sent[1], &received[1]);
        pthread_mutex_lock(&d->lock);
        d->job_status = st;
        if (st != AIC_OK)
            snprintf(d->job_error, sizeof d->job_error, "%s", aic_last_error());
        d->stream_sent = sent[0] + sent[1];
        d->stream_received = received[0] + received[1];
        d->job_done = true;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* The fragment due after step, or -1. */
static int due(const aic_diloco *d, int64_t step, int64_t inner_steps) {
    for (int f = 0; f < d->fragments; f++)
        if (step % inner_steps == (int64_t)f * inner_steps / d->fragments)
            return f;
    return -1;
}

/* Hands the vote and fragment f's change (f >= 0) to the stream thread. */
static void post(aic_diloco *d, int f, const double vote[AIC_DILOCO_VOTE]) {
    const float *p = aic_model_params(d->model);
    for (size_t i = f >= 0 ? d->lo[f] : 0; f >= 0 && i < d->lo[f + 1]; i++) {
        d->delta[i] = d->anchor[i] - p[i] + d->residual[i];
        d->sent[i] = p[i];
    }
    pthread_mutex_lock(&d->lock);
    memcpy(d->job_vote, vote, sizeof d->job_vote);
    d->job_fragment = f;
    d->busy = true;
    d->job_done = false;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

/* Waits for the posted job; its status. */
static aic_status finish(aic_diloco *d) {
    const double t0 = now_seconds();
    pthread_mutex_lock(&d->lock);
    while (!d->job_done)
        pthread_cond_wait(&d->cv, &d->lock);
    d->busy = false;
    const aic_status st = d->job_status;
    pthread_mutex_unlock(&d->lock);
    d->land_wait += now_seconds() - t0;
    return st == AIC_OK ? AIC_OK : aic_fail(st, "%s", d->job_error);
}

bool aic_diloco_streams(const aic_diloco *d) { return d->fragments > 1; }

aic_status aic_diloco_land(aic_diloco *d, double vote[AIC_DILOCO_VOTE], bool *voted) {
    *voted = false;
    if (!d->busy)
        return AIC_OK;
    AIC_TRY(finish(d));
    memcpy(vote, d->job_vote, sizeof d->job_vote);
    *voted = true;
    const int f = d->job_fragment;
    if (f < 0)
        return AIC_OK;
    /* The outer step on the fragment; the group keeps what its step since the send added. */
    float *p = aic_model_params(d->model);
    for (size_t i = d->lo[f]; i < d->lo[f + 1]; i++) {
        d->momentum[i] = d->mu * d->momentum[i] + d->delta[i];
        d->anchor[i] -= d->lr * (d->delta[i] + d->mu * d->momentum[i]);
        p[i] = d->anchor[i] + (p[i] - d->sent[i]);
        d->residual[i] = d->next_residual[i];
    }
    return AIC_OK;
}

aic_status aic_diloco_sync(aic_diloco *d, int64_t step, int64_t inner_steps, bool last,
                           const double vote[AIC_DILOCO_VOTE]) {
    if (last || (d->fragments == 1 && step % inner_steps == 0))
        return outer_step(d);
    if (d->fragments > 1)
        post(d, due(d, step, inner_steps), vote);
    return AIC_OK;
}

void aic_diloco_resume(aic_diloco *d, int64_t step, int64_t inner_steps) {
    const double none[AIC_DILOCO_VOTE] = {0};
    if (d->fragments > 1 && step > 0)
        post(d, due(d, step, inner_steps), none);
}

aic_status aic_diloco_drain(aic_diloco *d) { return d->busy ? finish(d) : AIC_OK; }

int aic_diloco_groups(const aic_diloco *d) { return aic_comm_size(d->across); }

size_t aic_diloco_row_floats(const aic_diloco *d, aic_optim_t *o) {
    return d->n * (size_t)(2 + aic_optim_slot_count(o)) + aic_model_num_buffers(d->model);
}

/* Copies a group's state into row (pack) or back out of it. */
static void row_copy(aic_diloco *d, aic_optim_t *o, float *row, bool pack) {
    const size_t n = d->n, nb = aic_model_num_buffers(d->model);
    float *parts[3] = {aic_model_params(d->model), aic_model_buffers(d->model), d->residual};
    const size_t sizes[3] = {n, nb, n};
    for (int i = 0; i < 3; i++) {
        memcpy(pack ? row : parts[i], pack ? parts[i] : row, sizes[i] * sizeof(float));
        row += sizes[i];
    }
    for (int i = 0; i < aic_optim_slot_count(o); i++, row += n) {
        float *slot;
        aic_optim_slot(o, i, NULL, &slot);
        memcpy(pack ? row : slot, pack ? slot : row, n * sizeof(float));
    }
}

/* One row as an MPI type: a row may hold more floats than an int counts. */
static aic_status row_type(size_t floats, MPI_Datatype *type) {
    if (floats > INT_MAX || MPI_Type_contiguous((int)floats, MPI_FLOAT, type) != MPI_SUCCESS ||
        MPI_Type_commit(type) != MPI_SUCCESS)
        return aic_fail(AIC_ERR_COMM, "--sync diloco: a group's checkpoint row of %zu floats cannot be sent", floats);
    return AIC_OK;
}

aic_status aic_diloco_gather(aic_diloco *d, aic_optim_t *o, float **rows, float **outer) {
    *rows = *outer = NULL;
    if (aic_comm_rank(d->group) != 0) /* the groups' first ranks hold their group's state */
        return AIC_OK;
    const size_t cols = aic_diloco_row_floats(d, o);
    const bool root = aic_comm_rank(d->across) == 0;
    float *mine = malloc(cols * sizeof(float));
    float *all = root ? malloc(cols * sizeof(float) * (size_t)aic_diloco_groups(d)) : NULL;
    float *out = root ? malloc((2 * d->n + 1) * sizeof(float)) : NULL;
    MPI_Datatype type = MPI_DATATYPE_NULL;
    aic_status st = !mine || (root && (!all || !out)) ? aic_fail(AIC_ERR_NOMEM, "--sync diloco: out of memory for "
                                                                 "the groups' checkpoint rows") : row_type(cols, &type);
    if (st == AIC_OK) {
        row_copy(d, o, mine, true);
        if (MPI_Gather(mine, 1, type, all, 1, type, 0, aic_comm_mpi(d->across)) != MPI_SUCCESS)
            st = aic_fail(AIC_ERR_COMM, "--sync diloco: gathering the groups' state for the checkpoint failed");
    }
    if (type != MPI_DATATYPE_NULL)
        MPI_Type_free(&type);
    free(mine);
    if (st != AIC_OK || !root) {
        free(all);
        free(out);
        return st;
    }
    memcpy(out, d->anchor, d->n * sizeof(float));
    memcpy(out + d->n, d->momentum, d->n * sizeof(float));
    *rows = all;
    *outer = out;
    return AIC_OK;
}

aic_status aic_diloco_restore(aic_diloco *d, aic_optim_t *o, const float *rows, int64_t n_rows, int64_t cols,
                              const float *outer, int *saved_groups) {
    int64_t shape[2] = {rows && outer ? n_rows : 0, cols};
    AIC_TRY(aic_broadcast(d->world, shape, sizeof shape, 0));
    *saved_groups = (int)shape[0];
    memset(d->residual, 0, d->n * sizeof(float));
    memset(d->momentum, 0, d->n * sizeof(float));
    aic_diloco_set_anchor(d);
    if (shape[0] == 0)
        return AIC_OK;
    if (shape[1] != (int64_t)aic_diloco_row_floats(d, o))
        return aic_fail(AIC_ERR_MISMATCH, "--sync diloco: the checkpoint's group state holds %lld values a group, "
                        "this run's %zu (another optimizer?)", (long long)shape[1], aic_diloco_row_floats(d, o));
    if (aic_comm_rank(d->world) == 0) {
        memcpy(d->anchor, outer, d->n * sizeof(float));
        memcpy(d->momentum, outer + d->n, d->n * sizeof(float));
    }
    AIC_TRY(aic_broadcast(d->world, d->anchor, d->n * sizeof(float), 0));
    AIC_TRY(aic_broadcast(d->world, d->momentum, d->n * sizeof(float), 0));
    if (shape[0] != aic_diloco_groups(d)) { /* regrouped: from the anchor, with the loaded inner state */
        memcpy(aic_model_params(d->model), d->anchor, d->n * sizeof(float));
        return AIC_OK;
    }
    float *row = malloc((size_t)shape[1] * sizeof(float));
    if (!row)
        return aic_fail(AIC_ERR_NOMEM, "--sync diloco: out of memory for a group's checkpoint row");
    MPI_Datatype type = MPI_DATATYPE_NULL;
    aic_status st = row_type((size_t)shape[1], &type);
    if (st == AIC_OK && aic_comm_rank(d->group) == 0 &&
        MPI_Scatter(rows, 1, type, row, 1, type, 0, aic_comm_mpi(d->across)) != MPI_SUCCESS)
        st = aic_fail(AIC_ERR_COMM, "--sync diloco: sending the groups their checkpointed state failed");
    if (type != MPI_DATATYPE_NULL)
        MPI_Type_free(&type);
    if (st == AIC_OK)
        st = aic_broadcast(d->group, row, (size_t)shape[1] * sizeof(float), 0);
    if (st == AIC_OK)
        row_copy(d, o, row, false);
    free(row);
    return st;
}

void aic_diloco_traffic(aic_diloco *d, uint64_t *sent, uint64_t *received) {
    uint64_t s[2], r[2];
    aic_comm_traffic(d->group, &s[0], &r[0]);
    aic_comm_traffic(d->across, &s[1], &r[1]);
    *sent = s[0] + s[1];
    *received = r[0] + r[1];
    if (d->thread_started) {
        pthread_mutex_lock(&d->lock);
        *sent += d->stream_sent;
        *received += d->stream_received;
        pthread_mutex_unlock(&d->lock);
    }
}

double aic_diloco_wait_seconds(const aic_diloco *d) {
    return aic_comm_wait_seconds(d->group) + aic_comm_wait_seconds(d->across) + d->land_wait;
}
