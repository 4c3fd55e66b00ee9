// SPDX-License-Identifier: Apache-2.0
/* The distributed sampler.
 *
 * Epoch e's order is a Fisher-Yates permutation of 0..N-1 drawn from Philox under key
 * aic_mix64(seed, e): for position i = N-1 down to 1, j is uniform in [0, i] from the 64-bit words of
 * the Philox block at counter (attempt, i), rejecting the few values that would bias a modulo. The
 * order depends on (seed, epoch, N) only, so every rank computes the same one without communicating,
 * and the global order does not depend on the world size. */
#include <stdlib.h>

#include "aicon/data.h"
#include "core/error.h"
#include "core/rng.h"

struct aic_sampler {
    int64_t n;         /* samples */
    int local_batch;   /* B: rows per rank per step */
    int rank, world;
    int64_t global;    /* G = world * B */
    uint64_t seed;
    bool shuffle;
    int64_t epoch;
    int64_t *perm;     /* n: the current epoch's order, allocated once */
};

/* Uniform in [0, bound) for permutation position pos, without modulo bias. */
static uint64_t uniform_below(uint64_t key, uint64_t pos, uint64_t bound) {
    /* Values below 2^64 mod bound are rejected, leaving a multiple of bound equally likely values. */
    uint64_t threshold = (0 - bound) % bound;
    for (uint64_t attempt = 0;; attempt++) {
        aic_philox_block b = aic_philox(key, attempt, pos);
        uint64_t r0 = (uint64_t)b.v[1] << 32 | b.v[0];
        uint64_t r1 = (uint64_t)b.v[3] << 32 | b.v[2];
        if (r0 >= threshold)
            return r0 % bound;
        if (r1 >= threshold)
            return r1 % bound;
    }
}

static void fill_order(aic_sampler_t *s) {
    for (int64_t i = 0; i < s->n; i++)
        s->perm[i] = i;
    if (!s->shuffle)
        return;
    uint64_t key = aic_mix64(s->seed, (uint64_t)s->epoch);
    for (int64_t i = s->n - 1; i > 0; i--) {
        int64_t j = (int64_t)uniform_below(key, (uint64_t)i, (uint64_t)i + 1);
        int64_t t = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = t;
    }
}

aic_status aic_sampler_create(aic_sampler_t **out, int64_t n_samples, int local_batch, int rank, int world,
                              uint64_t seed, bool shuffle) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: out is NULL");
    *out = NULL;
    if (n_samples <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: the data set has %lld samples; need at least 1",
                        (long long)n_samples);
    if (local_batch <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: local batch size must be > 0 (got %d)",
                        local_batch);
    if (world <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: world size must be > 0 (got %d)", world);
    if (rank < 0 || rank >= world)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: rank %d is outside [0, world size %d)", rank,
                        world);
    if ((int64_t)world * local_batch > INT32_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: global batch %d x %d is too large", world,
                        local_batch);
    if ((uint64_t)n_samples > SIZE_MAX / sizeof(int64_t))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_create: %lld samples is too many", (long long)n_samples);

    aic_sampler_t *s = calloc(1, sizeof *s);
    if (!s)
        return aic_fail(AIC_ERR_NOMEM, "aic_sampler_create: out of memory");
    s->perm = malloc((size_t)n_samples * sizeof *s->perm);
    if (!s->perm) {
        free(s);
        return aic_fail(AIC_ERR_NOMEM, "aic_sampler_create: out of memory for a permutation of %lld samples",
                        (long long)n_samples);
    }
    s->n = n_samples;
    s->local_batch = local_batch;
    s->rank = rank;
    s->world = world;
    s->global = (int64_t)world * local_batch;
    s->seed = seed;
    s->shuffle = shuffle;
    s->epoch = 0;
    fill_order(s);
    *out = s;
    return AIC_OK;
}

void aic_sampler_destroy(aic_sampler_t *s) {
    if (!s)
        return;
    free(s->perm);
    free(s);
}

int64_t aic_sampler_steps_per_epoch(const aic_sampler_t *s) {
    if (!s)
        return 0;
    return (s->n + s->global - 1) / s->global;
}

aic_status aic_sampler_set_epoch(aic_sampler_t *s, int64_t epoch) {
    if (!s)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_set_epoch: sampler is NULL");
    if (epoch == s->epoch)
        return AIC_OK;
    s->epoch = epoch;
    if (s->shuffle)
        fill_order(s);
    return AIC_OK;
}

aic_status aic_sampler_batch(const aic_sampler_t *s, int64_t step, int64_t *idx, aic_batch_slice *slice) {
    if (!s || !idx || !slice)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_batch: %s is NULL",
                        !s ? "sampler" : !idx ? "idx" : "slice");
    int64_t steps = aic_sampler_steps_per_epoch(s);
    if (step < 0 || step >= steps)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_sampler_batch: step %lld is outside [0, %lld) steps per epoch",
                        (long long)step, (long long)steps);
    int64_t base = step * s->global;
    int64_t begin = base + (int64_t)s->rank * s->local_batch;
    int64_t end = begin + s->local_batch;
    if (end > s->n)
        end = s->n;
    int64_t n_local = end > begin ? end - begin : 0;
    for (int64_t i = 0; i < n_local; i++)
        idx[i] = s->perm[begin + i];
    int64_t n_global = s->n - base < s->global ? s->n - base : s->global;
    slice->n_local = (int)n_local;
    slice->n_global = (int)n_global;
    slice->row_offset = (int64_t)s->rank * s->local_batch;
    return AIC_OK;
}
