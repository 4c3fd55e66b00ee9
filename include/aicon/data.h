// SPDX-License-Identifier: Apache-2.0
/* Data sets held in memory and the distributed sampler.
 *
 * A data set is N samples of one float shape and N int32 labels. IDX images are scaled to [0, 1];
 * HDF5 data is taken as stored (converted to float), so scale it when you write it. A token data set
 * (aic_dataset_load_tokens) is a stream of int32 tokens cut into windows: each sample is seq_len
 * tokens and its labels are the seq_len tokens that follow each of them. */
#ifndef AICON_DATA_H
#define AICON_DATA_H

#include <stdbool.h>
#include <stdint.h>
#include "aicon/export.h"
#include "aicon/status.h"
#include "aicon/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aic_dataset aic_dataset_t;

/* IDX files (the MNIST layout), plain or gzip-compressed (detected from the content, not the name).
 * Images must be unsigned bytes of rank 3 (N x H x W), labels unsigned bytes of rank 1 with the same
 * N. Headers are validated against the file's real size before anything large is allocated. */
AIC_API aic_status aic_dataset_load_idx(aic_dataset_t **out, const char *images_path, const char *labels_path);
/* The four Fashion-MNIST / MNIST files in `dir` (train-images-idx3-ubyte[.gz], train-labels-...,
 * t10k-images-..., t10k-labels-...). *test may be NULL to skip the test split. */
AIC_API aic_status aic_dataset_load_idx_dir(const char *dir, aic_dataset_t **train, aic_dataset_t **test);
/* An HDF5 file with dataset `x` (N x ..., any numeric type, converted to float as stored) and
 * dataset `y` (N integer labels), as h5py writes them. */
AIC_API aic_status aic_dataset_load_h5(aic_dataset_t **out, const char *path);
/* A token stream, cut into n = (ntokens - 1) / seq_len non-overlapping windows: sample i is tokens
 * [i*T, i*T+T) and its labels tokens [i*T+1, i*T+T+1), the next token at every position (T =
 * seq_len; the tail that fills no window is left out). path is, told apart by its content, either an
 * llm.c shard (a header of 256 little-endian int32: magic 20240520, version 1, the token count; then
 * that many little-endian uint16 tokens, and nothing after them) or an HDF5 file with a 1-D integer
 * dataset `tokens` (values 0..INT32_MAX-1). The tokens are held once, as int32. A malformed header
 * or size is AIC_ERR_FORMAT naming the file and what is wrong; fewer than seq_len + 1 tokens fails
 * naming the file, the count and seq_len. */
AIC_API aic_status aic_dataset_load_tokens(aic_dataset_t **out, const char *path, int seq_len);
AIC_API void aic_dataset_destroy(aic_dataset_t *d);

AIC_API int64_t aic_dataset_size(const aic_dataset_t *d);
/* Per-sample shape; returns its rank. For IDX images: 1 x H x W. */
AIC_API int aic_dataset_sample_shape(const aic_dataset_t *d, int64_t shape[6]);
AIC_API int64_t aic_dataset_sample_numel(const aic_dataset_t *d);
/* The element type of a sample: AIC_F32 for IDX and HDF5 data, AIC_I32 for token data. */
AIC_API aic_dtype aic_dataset_sample_dtype(const aic_dataset_t *d);
/* Labels per sample: 1 for classification data, seq_len for token data. */
AIC_API int64_t aic_dataset_label_numel(const aic_dataset_t *d);
/* Tokens in the stream of token data (windows cover n * seq_len + 1 of them); 0 for other data. */
AIC_API int64_t aic_dataset_token_count(const aic_dataset_t *d);
/* 1 + the largest label: the labels lie in 0..aic_dataset_num_classes(d) - 1. Token data: 1 + the
 * largest token, the smallest vocabulary that holds the stream. */
AIC_API int aic_dataset_num_classes(const aic_dataset_t *d);
/* AIC_OK when every label is below classes (a model's outputs); else AIC_ERR_FORMAT naming the labels'
 * file, the first sample whose label is not, and that label. Token data: every token of the stream
 * (inputs as well as labels), naming the first one that is not. */
AIC_API aic_status aic_dataset_check_labels(const aic_dataset_t *d, int classes);
/* The file the samples were read from (IDX: the images file), for messages. */
AIC_API const char *aic_dataset_source(const aic_dataset_t *d);
/* Mean and (population) standard deviation over every value of every sample, summed in double in a
 * fixed order. Token data is ids, not values: it and aic_dataset_normalize fail with
 * AIC_ERR_INVALID_ARG. */
AIC_API aic_status aic_dataset_stats(const aic_dataset_t *d, double *mean, double *std);
/* x <- (x - mean) / std for every value, in place (std > 0): standardize the test set with the
 * training set's statistics. */
AIC_API aic_status aic_dataset_normalize(aic_dataset_t *d, double mean, double std);
/* What one stored value becomes when read: 1/255 for IDX bytes (scaled to [0, 1]), 1 for HDF5 and
 * token data (taken as stored). Stats of the data set divided by it are in the file's own units. */
AIC_API double aic_dataset_value_scale(const aic_dataset_t *d);

/* How a model's data input is prepared before the first op: recorded in checkpoints, and put into
 * exported ONNX graphs so that they take the values the data file holds. */
typedef enum {
    AIC_PREPROCESS_UNKNOWN,     /* not recorded (a checkpoint older than the record) */
    AIC_PREPROCESS_NONE,        /* the values as aicon reads them (--normalize none) */
    AIC_PREPROCESS_STANDARDIZE, /* (x - mean) / std, x a value as the data file holds it */
} aic_preprocess_kind;

typedef struct {
    aic_preprocess_kind kind;
    double mean, std; /* standardize only: in the units of the stored values (IDX: bytes 0..255) */
} aic_preprocess;

/* "unknown", "none" or "standardize". */
AIC_API const char *aic_preprocess_name(aic_preprocess_kind kind);
/* Copy samples idx[0..n) into x (n x sample_numel values of aic_dataset_sample_dtype: floats, or
 * int32 tokens) and their labels into y (n x aic_dataset_label_numel int32); y may be NULL. */
AIC_API aic_status aic_dataset_gather(const aic_dataset_t *d, const int64_t *idx, int n, void *x, int32_t *y);

/* The distributed sampler. Each epoch the N sample indices are shuffled from (seed, epoch) alone;
 * global batch g holds permutation positions [g*G, (g+1)*G) with G = world * local_batch, and rank r
 * takes the r-th slice of local_batch of it. So the global order is the same for any world size
 * with the same G, shards are disjoint, and the last, short global batch gives some ranks fewer (or
 * zero) rows instead of making them wait. */
typedef struct aic_sampler aic_sampler_t;

AIC_API aic_status aic_sampler_create(aic_sampler_t **out, int64_t n_samples, int local_batch, int rank, int world,
                                      uint64_t seed, bool shuffle);
AIC_API void aic_sampler_destroy(aic_sampler_t *s);
/* Batches per epoch (the last may be short). */
AIC_API int64_t aic_sampler_steps_per_epoch(const aic_sampler_t *s);
/* Reshuffle for `epoch`. */
AIC_API aic_status aic_sampler_set_epoch(aic_sampler_t *s, int64_t epoch);

typedef struct {
    int n_local;        /* rows for this rank, 0..local_batch */
    int n_global;       /* rows in the whole global batch */
    int64_t row_offset; /* position of this rank's first row inside the global batch */
} aic_batch_slice;

/* This rank's sample indices for batch `step` of the current epoch, into idx (local_batch entries). */
AIC_API aic_status aic_sampler_batch(const aic_sampler_t *s, int64_t step, int64_t *idx, aic_batch_slice *slice);

#ifdef __cplusplus
}
#endif
#endif
