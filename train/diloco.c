// SPDX-License-Identifier: Apache-2.0
#include "train/diloco.h"

#include <limits.h>
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

aic_status aic_diloco_create(aic_diloco **out, aic_comm_t *world, int group_size, aic_model_t *m, float outer_lr,
                             float outer_momentum, aic_compress how) {
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

aic_status aic_diloco_outer_step(aic_diloco *d) {
    float *p = aic_model_params(d->model);
    /* The change since the anchor, plus what the last coding left out (error feedback). */
    for (size_t i = 0; i < d->n; i++)
        d->delta[i] = d->anchor[i] - p[i] + d->residual[i];
    const double t0 = now_seconds(), trace0 = aic_trace_recording ? aic_trace_now() : 0;
    const aic_status st = aic_allreduce_mean_compressed(d->across, d->delta, d->n, d->how, d->residual);
    aic_comm_add_wait(d->across, now_seconds() - t0);
    if (aic_trace_recording) { /* on the timeline's communication row, though the training thread waits on it */
        char name[64];
        snprintf(name, sizeof name, "outer step: %s mean over %d groups", compress_name[d->how],
                 aic_comm_size(d->across));
        aic_trace_add("outer", name, AIC_TRACE_ALLREDUCE, trace0, aic_trace_now());
    }
    if (st != AIC_OK)
        return st;
    for (size_t i = 0; i < d->n; i++) {
        d->momentum[i] = d->mu * d->momentum[i] + d->delta[i];
        d->anchor[i] -= d->lr * (d->delta[i] + d->mu * d->momentum[i]);
        p[i] = d->anchor[i];
    }
    return AIC_OK;
}

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

void aic_diloco_traffic(const aic_diloco *d, uint64_t *sent, uint64_t *received) {
    uint64_t s[2], r[2];
    aic_comm_traffic(d->group, &s[0], &r[0]);
    aic_comm_traffic(d->across, &s[1], &r[1]);
    *sent = s[0] + s[1];
    *received = r[0] + r[1];
}

double aic_diloco_wait_seconds(const aic_diloco *d) {
    return aic_comm_wait_seconds(d->group) + aic_comm_wait_seconds(d->across);
}
