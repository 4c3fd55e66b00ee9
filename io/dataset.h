// SPDX-License-Identifier: Apache-2.0
/* Internal: the in-memory data set shared by the IDX, HDF5 and token readers. */
#ifndef AICON_IO_DATASET_H
#define AICON_IO_DATASET_H

#include <stdint.h>
#include "aicon/data.h"

/* The most floats one data set may hold (16 GiB): a header declaring more is taken as corrupt, so a
 * lying header is caught before anything that large is allocated. */
#define AIC_DATASET_MAX_FLOATS ((int64_t)1 << 32)
/* Sample rank limit of aic_dataset_sample_shape. */
#define AIC_DATASET_MAX_RANK 6

/* Samples are either floats with one label each (x, y), or windows of a token stream (tokens). */
struct aic_dataset {
    int64_t n;                            /* samples */
    int rank;                             /* per-sample rank, 1..AIC_DATASET_MAX_RANK */
    int64_t shape[AIC_DATASET_MAX_RANK];  /* per-sample shape, shape[0..rank) */
    int64_t numel;                        /* values per sample: product of shape (token data: seq_len) */
    aic_dtype dtype;                      /* AIC_F32: x and y hold the data; AIC_I32: tokens does */
    float *x;                             /* n x numel */
    int32_t *y;                           /* n */
    int32_t *tokens;                      /* token data: the stream; sample i starts at i*numel */
    int64_t ntokens;                      /* token data: the stream's length, >= n * numel + 1 */
    int num_classes;                      /* 1 + max(y), or 1 + the largest token */
    char *source;                         /* what it was loaded from, for messages */
    char *label_source;                   /* the file of the labels (IDX: its own), for messages */
    double value_scale;                   /* a stored value v is read as v * value_scale */
};

/* A data set of n samples of `shape` with x and y allocated (uninitialised), its samples read from
 * source and its labels from label_source. Callers have already checked n * numel against
 * AIC_DATASET_MAX_FLOATS. */
aic_status aic_io_dataset_alloc(aic_dataset_t **out, const char *source, const char *label_source, int64_t n,
                                int rank, const int64_t *shape);
/* Check the values (finite) and the labels (0 <= y < INT32_MAX) and set num_classes; messages name
 * d->source or d->label_source. Both readers call it once the file is read. */
aic_status aic_io_dataset_finish_labels(aic_dataset_t *d);
/* A token data set of windows of seq_len (>= 1) over the ntokens of `tokens` (malloc'd, and taken over:
 * freed on failure), read from source: checks the tokens (0 <= t < INT32_MAX) and that at least one
 * window fits, and sets num_classes. */
aic_status aic_io_dataset_from_tokens(aic_dataset_t **out, const char *source, int32_t *tokens, int64_t ntokens,
                                      int seq_len);

#endif
