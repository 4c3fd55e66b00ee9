// SPDX-License-Identifier: Apache-2.0
/* HDF5 checkpoints.
 *
 * Layout: attributes format_version, model_name, model_hash (hex SHA-256 of the architecture),
 * optimizer; groups /params, /buffers, /optimizer/<slot> with one dataset per tensor named as the
 * parameter ("conv1.weight"); scalars /state/step, /state/epoch, /state/seed, /state/global_batch; a
 * group /preprocess whose attributes say how the data input was prepared: kind ("none" or
 * "standardize") and, for standardize, mean and std (float64, in the units of the values the data
 * file holds; older checkpoints lack the group and load as AIC_PREPROCESS_UNKNOWN). Format 2: every
 * tensor's dataset carries attribute sha256, the hex SHA-256 of its values as little-endian float32
 * (hashlib.sha256(a.astype("<f4").tobytes()) in Python); format 1 files have none and load unverified.
 * Format 3: model_hash digests each op's canonical attribute text (aic_model_arch_hash); formats 1
 * and 2 hold the older hash over the attributes' bytes, which loading still checks them against.
 * Loading checks each dataset's and attribute's type class and shape before reading it, the
 * checksums, that every value is finite, and that step, epoch, global_batch and optimizer_steps lie
 * in 0..2^48 and the seed is not negative; any failure names the file and the dataset. The file is
 * written under a temporary name in the same directory (PATH AIC_CHECKPOINT_TEMP_INFIX PID.N), flushed,
 * renamed and the directory flushed, so a crash never leaves a broken file under the final name and a
 * save that returned survives a power loss. HDF5 builds the file in
 * memory and aicon writes it out, so saving briefly needs up to twice the file's size in memory.
 * HDF5's own error stack stays quiet during both calls; a failure's message names the file and the
 * OS reason ("No space left on device"). */
#ifndef AICON_CHECKPOINT_H
#define AICON_CHECKPOINT_H

#include <stdint.h>
#include "aicon/data.h"
#include "aicon/model.h"
#include "aicon/optim.h"
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIC_CHECKPOINT_FORMAT_VERSION 3
/* Between the final name and the writer's pid and count in a temporary file's name: "x.h5.tmp.1234.0". */
#define AIC_CHECKPOINT_TEMP_INFIX ".tmp."

typedef struct {
    int64_t step;  /* global optimizer steps done */
    int64_t epoch; /* epochs completed */
    uint64_t seed; /* the run's seed: with step and epoch it is the whole RNG state */
    int64_t global_batch; /* world size x batch per rank: the sample order depends on it */
    aic_preprocess preprocess; /* how the data input was prepared (kind unknown: not written) */
    /* The usage record signed at the end of the latest run this state continues: its job id and seq
     * (0: none, and nothing written). A later run of that job names the seq as its record's prevSeq. */
    uint8_t usage_job[32];
    uint64_t usage_seq;
} aic_train_state;

/* Write model parameters, buffers, optimizer state (o may be NULL) and st (its seed at most 2^63 - 1).
 * On failure (AIC_ERR_IO) the temporary file is removed and whatever was at path before is untouched. */
AIC_API aic_status aic_checkpoint_save(const char *path, aic_model_t *m, aic_optim_t *o, const aic_train_state *st);
/* A float array a caller keeps in the checkpoint beside the model's state (the training loop's own,
 * DiLoCo's outer state): dataset /extra/<name> of rows x cols, checksummed like every tensor. */
typedef struct {
    const char *name;
    const float *data;
    int64_t rows, cols;
} aic_checkpoint_extra;

/* aic_checkpoint_save, with n_extra arrays more. */
AIC_API aic_status aic_checkpoint_save_with(const char *path, aic_model_t *m, aic_optim_t *o,
                                            const aic_train_state *st, const aic_checkpoint_extra *extra,
                                            int n_extra);
/* Array `name` of the checkpoint at path, checked (2-D float32, its checksum, finite values) and read
 * into a new buffer *data (free() it) of *rows x *cols; *data NULL when the file has no such array. */
AIC_API aic_status aic_checkpoint_read_extra(const char *path, const char *name, float **data, int64_t *rows,
                                             int64_t *cols);
/* Read a checkpoint into a compiled model of the same architecture: fails with AIC_ERR_MISMATCH
 * naming the file and the difference (model hash, a missing tensor, a shape) otherwise, and with
 * AIC_ERR_FORMAT for a file that is not an aicon checkpoint or a damaged one (see above). o and st
 * may be NULL. On failure the model may hold some of the file's tensors. */
AIC_API aic_status aic_checkpoint_load(const char *path, aic_model_t *m, aic_optim_t *o, aic_train_state *st);

#ifdef __cplusplus
}
#endif
#endif
