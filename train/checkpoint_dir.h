// SPDX-License-Identifier: Apache-2.0
/* The trainer's checkpoint directory (aic_trainer_config.checkpoint_dir, aicon train --checkpoint-dir):
 * checkpoints named by step, the newest K kept, and --resume auto's choice among them.
 *
 * Names: DIR/ckpt-step-00001234.h5 (the step zero-padded to 8 digits, so they also sort by name);
 * a file is written as NAME.tmp.PID.N and renamed (aic_checkpoint_save), and only names of exactly the
 * first form count as checkpoints. A directory belongs to one run at a time. */
#ifndef AICON_TRAIN_CHECKPOINT_DIR_H
#define AICON_TRAIN_CHECKPOINT_DIR_H

#include <stddef.h>
#include <stdint.h>
#include "aicon/checkpoint.h"
#include "aicon/model.h"
#include "aicon/optim.h"

/* Where the warnings go: one line of text, without its end. */
typedef void (*aic_ckpt_warn_fn)(void *ctx, const char *text);

/* DIR/ckpt-step-<step>.h5 into out (fails when it does not fit). */
aic_status aic_ckpt_path(const char *dir, int64_t step, char *out, size_t size);

/* Before the run: makes dir (one level) if it is missing, fails naming it and the OS reason when it is
 * not a writable directory, and removes temporary files a crashed writer left (*removed: how many). */
aic_status aic_ckpt_dir_prepare(const char *dir, int *removed);

/* After a save: removes all but the newest `keep` checkpoints (keep 0: none removed). A file that
 * cannot be removed is a warning to warn(ctx, ...), not a failure. */
void aic_ckpt_prune(const char *dir, int keep, aic_ckpt_warn_fn warn, void *ctx);

/* --resume auto: loads the newest checkpoint in dir that loads into m and o (aic_checkpoint_load),
 * trying older ones after a warning to warn(ctx, ...) naming each one skipped and why. AIC_OK with path_out
 * "" when dir holds no checkpoint at all (a fresh start); AIC_ERR_FORMAT naming dir when it holds
 * some and none loads. m and o may hold parts of a damaged file after a failure. */
aic_status aic_ckpt_resume_auto(const char *dir, aic_model_t *m, aic_optim_t *o, aic_train_state *st,
                                char *path_out, size_t size, aic_ckpt_warn_fn warn, void *ctx);

#endif
