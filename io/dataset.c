// SPDX-License-Identifier: Apache-2.0
/* The in-memory data set: construction, queries and gather. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <math.h>

#include "io/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* The header of a data set read from source (labels from label_source): names and scale, no data. */
static aic_dataset_t *dataset_new(const char *source, const char *label_source) {
    aic_dataset_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->value_scale = 1.0;
    d->source = strdup(source);
    d->label_source = strdup(label_source);
    if (!d->source || !d->label_source) {
        aic_dataset_destroy(d);
        return NULL;
    }
    return d;
}

aic_status aic_io_dataset_alloc(aic_dataset_t **out, const char *source, const char *label_source, int64_t n,
                                int rank, const int64_t *shape) {
    *out = NULL;
    if (n <= 0 || rank < 1 || rank > AIC_DATASET_MAX_RANK)
        return aic_fail(AIC_ERR_INTERNAL, "%s: data set of %lld samples of rank %d", source, (long long)n, rank);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] <= 0 || numel > AIC_DATASET_MAX_FLOATS / shape[i])
            return aic_fail(AIC_ERR_INTERNAL, "%s: bad sample shape", source);
        numel *= shape[i];
    }
    if (numel > AIC_DATASET_MAX_FLOATS / n)
        return aic_fail(AIC_ERR_INTERNAL, "%s: data set too large", source);

    aic_dataset_t *d = dataset_new(source, label_source);
    if (!d)
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for the data set header", source);
    d->n = n;
    d->rank = rank;
    memcpy(d->shape, shape, (size_t)rank * sizeof *shape);
    d->numel = numel;
    d->dtype = AIC_F32;
    d->x = malloc((size_t)(n * numel) * sizeof(float));
    d->y = malloc((size_t)n * sizeof(int32_t));
    if (!d->x || !d->y) {
        aic_dataset_destroy(d);
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for %lld samples of %lld floats (%.1f MiB)", source,
                        (long long)n, (long long)numel, (double)(n * numel) * sizeof(float) / (1024.0 * 1024.0));
    }
    *out = d;
    return AIC_OK;
}

aic_status aic_io_dataset_from_tokens(aic_dataset_t **out, const char *source, int32_t *tokens, int64_t ntokens,
                                      int seq_len) {
    *out = NULL;
    aic_status st = AIC_OK;
    if (ntokens < (int64_t)seq_len + 1) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: holds %lld tokens; a window of sequence length %d needs %lld (its "
                      "tokens and the next one)", source, (long long)ntokens, seq_len, (long long)seq_len + 1);
        goto fail;
    }
    int32_t max = 0;
    for (int64_t i = 0; i < ntokens; i++) {
        if (tokens[i] < 0 || tokens[i] == INT32_MAX) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: token %lld is %d; tokens must lie in 0..%d%s", source, (long long)i,
                          (int)tokens[i], (int)INT32_MAX - 1,
                          tokens[i] < 0 ? "" : " (a larger value in an HDF5 file reads as INT32_MAX)");
            goto fail;
        }
        if (tokens[i] > max)
            max = tokens[i];
    }
    aic_dataset_t *d = dataset_new(source, source);
    if (!d) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory for the data set header", source);
        goto fail;
    }
    d->n = (ntokens - 1) / seq_len;
    d->rank = 1;
    d->shape[0] = d->numel = seq_len;
    d->dtype = AIC_I32;
    d->tokens = tokens;
    d->ntokens = ntokens;
    d->num_classes = (int)max + 1;
    *out = d;
    return AIC_OK;
fail:
    free(tokens);
    return st;
}

aic_status aic_io_dataset_finish_labels(aic_dataset_t *d) {
    /* A NaN or Inf value would turn every loss and statistic it reaches into one (IDX bytes cannot
     * hold one; HDF5 floats can). */
    const size_t total = (size_t)d->n * (size_t)d->numel;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(d->x[i]))
            return aic_fail(AIC_ERR_FORMAT, "%s: value %zu of sample %lld (flat index %zu) is %g; the data must be finite",
                            d->source, i % (size_t)d->numel, (long long)(i / (size_t)d->numel), i, (double)d->x[i]);
    int32_t max = 0;
    for (int64_t i = 0; i < d->n; i++) {
        int32_t v = d->y[i];
        if (v < 0)
            return aic_fail(AIC_ERR_FORMAT, "%s: label of sample %lld is %d; labels must be >= 0", d->label_source,
                            (long long)i, (int)v);
        if (v == INT32_MAX)
            return aic_fail(AIC_ERR_FORMAT, "%s: label of sample %lld is too large (>= %d)", d->label_source,
                            (long long)i, (int)INT32_MAX);
        if (v > max)
            max = v;
    }
    d->num_classes = (int)max + 1;
    return AIC_OK;
}

void aic_dataset_destroy(aic_dataset_t *d) {
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->tokens);
    free(d->source);
    free(d->label_source);
    free(d);
}

int64_t aic_dataset_size(const aic_dataset_t *d) { return d ? d->n : 0; }

int aic_dataset_sample_shape(const aic_dataset_t *d, int64_t shape[6]) {
    if (!d)
        return 0;
    if (shape)
        for (int i = 0; i < AIC_DATASET_MAX_RANK; i++)
            shape[i] = i < d->rank ? d->shape[i] : 1;
    return d->rank;
}

int64_t aic_dataset_sample_numel(const aic_dataset_t *d) { return d ? d->numel : 0; }

aic_dtype aic_dataset_sample_dtype(const aic_dataset_t *d) { return d ? d->dtype : AIC_F32; }

int64_t aic_dataset_label_numel(const aic_dataset_t *d) { return !d ? 0 : d->tokens ? d->numel : 1; }

int64_t aic_dataset_token_count(const aic_dataset_t *d) { return d ? d->ntokens : 0; }

int aic_dataset_num_classes(const aic_dataset_t *d) { return d ? d->num_classes : 0; }

const char *aic_dataset_source(const aic_dataset_t *d) { return d ? d->source : ""; }

aic_status aic_dataset_check_labels(const aic_dataset_t *d, int classes) {
    if (!d)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_check_labels: data set is NULL");
    for (int64_t i = 0; d->tokens && d->num_classes > classes && i < d->ntokens; i++)
        if (d->tokens[i] >= classes)
            return aic_fail(AIC_ERR_FORMAT, "%s: token %lld is %d, outside the vocabulary of %d (0..%d)", d->source,
                            (long long)i, (int)d->tokens[i], classes, classes - 1);
    for (int64_t i = 0; !d->tokens && d->num_classes > classes && i < d->n; i++)
        if (d->y[i] >= classes)
            return aic_fail(AIC_ERR_FORMAT, "%s: label of sample %lld is %d, outside the %d classes 0..%d",
                            d->label_source, (long long)i, (int)d->y[i], classes, classes - 1);
    return AIC_OK;
}

aic_status aic_dataset_gather(const aic_dataset_t *d, const int64_t *idx, int n, void *x, int32_t *y) {
    if (!d)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_gather: data set is NULL");
    if (n < 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_gather (%s): negative count %d", d->source, n);
    if (n > 0 && (!idx || !x))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_gather (%s): %s is NULL", d->source,
                        !idx ? "idx" : "x");
    /* Check every index before writing anything, so a failure leaves x and y untouched. */
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= d->n)
            return aic_fail(AIC_ERR_INVALID_ARG,
                            "aic_dataset_gather (%s): index %lld at position %d is outside [0, %lld)", d->source,
                            (long long)idx[i], i, (long long)d->n);
    const size_t row = (size_t)d->numel;
    for (int i = 0; i < n; i++) {
        const size_t at = (size_t)idx[i] * row;
        if (d->tokens) { /* the window and the same window one token on: each position's next token */
            memcpy((int32_t *)x + (size_t)i * row, d->tokens + at, row * sizeof(int32_t));
            if (y)
                memcpy(y + (size_t)i * row, d->tokens + at + 1, row * sizeof(int32_t));
        } else {
            memcpy((float *)x + (size_t)i * row, d->x + at, row * sizeof(float));
            if (y)
                y[i] = d->y[idx[i]];
        }
    }
    return AIC_OK;
}

/* Statistics and standardization are for values; tokens are ids into an embedding. */
static aic_status not_values(const aic_dataset_t *d) {
    return aic_fail(AIC_ERR_INVALID_ARG, "%s: token data is not normalized: its tokens are ids, not values",
                    d->source);
}

aic_status aic_dataset_stats(const aic_dataset_t *d, double *mean, double *std) {
    if (!d || !mean || !std)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_stats: NULL argument");
    if (d->tokens)
        return not_values(d);
    const size_t total = (size_t)d->n * (size_t)d->numel;
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < total; i++)
        sum += d->x[i];
    *mean = total ? sum / (double)total : 0.0;
    /* Two passes: the variance is not a small difference of two large sums. */
    for (size_t i = 0; i < total; i++)
        sq += ((double)d->x[i] - *mean) * ((double)d->x[i] - *mean);
    *std = total ? sqrt(sq / (double)total) : 0.0;
    return AIC_OK;
}

double aic_dataset_value_scale(const aic_dataset_t *d) { return d ? d->value_scale : 1.0; }

const char *aic_preprocess_name(aic_preprocess_kind kind) {
    switch (kind) {
    case AIC_PREPROCESS_NONE: return "none";
    case AIC_PREPROCESS_STANDARDIZE: return "standardize";
    case AIC_PREPROCESS_UNKNOWN: break;
    }
    return "unknown";
}

aic_status aic_dataset_normalize(aic_dataset_t *d, double mean, double std) {
    if (!d)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_normalize: data set is NULL");
    if (d->tokens)
        return not_values(d);
    if (!(std > 0.0) || !isfinite(mean) || !isfinite(std))
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: cannot standardize with mean %g and standard deviation %g",
                        d->source, mean, std);
    const size_t total = (size_t)d->n * (size_t)d->numel;
    const float m = (float)mean, inv = (float)(1.0 / std);
    for (size_t i = 0; i < total; i++)
        d->x[i] = (d->x[i] - m) * inv;
    return AIC_OK;
}

