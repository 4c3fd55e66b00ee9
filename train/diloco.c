// SPDX-License-Identifier: Apache-2.0
#include "train/diloco.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "core/error.h"

struct aic_diloco {
    aic_comm_t *group, *across; /* this rank's group; rank j of every group */
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
    const double t0 = now_seconds();
    const aic_status st = aic_allreduce_mean_compressed(d->across, d->delta, d->n, d->how, d->residual);
    aic_comm_add_wait(d->across, now_seconds() - t0);
    if (st != AIC_OK)
        return st;
    for (size_t i = 0; i < d->n; i++) {
        d->momentum[i] = d->mu * d->momentum[i] + d->delta[i];
        d->anchor[i] -= d->lr * (d->delta[i] + d->mu * d->momentum[i]);
        p[i] = d->anchor[i];
    }
    return AIC_OK;
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
