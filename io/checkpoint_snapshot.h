// SPDX-License-Identifier: Apache-2.0
/* A checkpoint's contents taken at one moment, so that it can be digested and written later, on
 * another thread, while the model trains on (the proof log's boundaries, train/proof.c).
 * aic_checkpoint_save_with takes one that borrows the model's arenas and writes it at once. */
#ifndef AICON_IO_CHECKPOINT_SNAPSHOT_H
#define AICON_IO_CHECKPOINT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "aicon/checkpoint.h"

typedef struct aic_checkpoint_snapshot aic_checkpoint_snapshot;

/* What aic_checkpoint_save_with(m, o, st, extra, n_extra) would write, into *snap (made when NULL,
 * reused otherwise). With copy the values are copied into the snapshot's own memory (kept from the
 * last take when the sizes agree); without, they are borrowed and must not change until it is written.
 * st may be NULL, as for aic_checkpoint_save. */
aic_status aic_checkpoint_snapshot_take(aic_checkpoint_snapshot **snap, aic_model_t *m, aic_optim_t *o,
                                        const aic_train_state *st, const aic_checkpoint_extra *extra,
                                        int n_extra, bool copy);
/* The digest of the whole state: SHA-256 of "aicon-state-2", each tensor's SHA-256 (the checksum the
 * file records, as 32 bytes) in the order of its dataset's path ("buffers/...", "extra/...",
 * "optimizer/SLOT/...", "params/...", compared bytewise), and the optimizer's step count, step,
 * epoch, seed and global batch as int64 little-endian: what anyone can compute from the written file
 * alone. The tensors' SHA-256s are kept for the write. */
aic_status aic_checkpoint_snapshot_digest(aic_checkpoint_snapshot *snap, uint8_t out[32]);
/* Writes the snapshot as aic_checkpoint_save does (temporary file, rename, fsync). */
aic_status aic_checkpoint_snapshot_save(const char *path, aic_checkpoint_snapshot *snap);
void aic_checkpoint_snapshot_free(aic_checkpoint_snapshot *snap);
/* Whether the libhdf5 loaded takes calls from several threads at once (built thread-safe, as Debian's
 * is): only then may a snapshot be saved beside other HDF5 work. */
bool aic_checkpoint_threads_ok(void);

#endif
