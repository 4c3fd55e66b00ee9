// SPDX-License-Identifier: Apache-2.0
/* aicon train --checkpoint-dir: a directory of checkpoints named by step, the newest K kept, and
 * --resume auto's choice among them.
 *
 * Names: DIR/ckpt-step-00001234.h5 (the step zero-padded to 8 digits, so they also sort by name);
 * a file is written as NAME.tmp.PID.N and renamed (aic_checkpoint_save), and only names of exactly the
 * first form count as checkpoints. A directory belongs to one run at a time. */
#ifndef AICON_TOOLS_CHECKPOINTS_H
#define AICON_TOOLS_CHECKPOINTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "aicon/aicon.h"

/* DIR/ckpt-step-<step>.h5 into out (fails when it does not fit). */
aic_status aicon_ckpt_path(const char *dir, int64_t step, char *out, size_t size);

/* Before the run: makes dir (one level) if it is missing, fails naming it and the OS reason when it is
 * not a writable directory, and removes temporary files a crashed writer left (*removed: how many). */
aic_status aicon_ckpt_dir_prepare(const char *dir, int *removed);

/* After a save: removes all but the newest `keep` checkpoints (keep 0: none removed). A file that
 * cannot be removed is a warning on `warn`, not a failure. */
void aicon_ckpt_prune(const char *dir, int keep, FILE *warn);

/* --resume auto: loads the newest checkpoint in dir that loads into m and o (aic_checkpoint_load),
 * trying older ones after a warning on `warn` naming each one skipped and why. AIC_OK with path_out
 * "" when dir holds no checkpoint at all (a fresh start); AIC_ERR_FORMAT naming dir when it holds
 * some and none loads. m and o may hold parts of a damaged file after a failure. */
aic_status aicon_ckpt_resume_auto(const char *dir, aic_model_t *m, aic_optim_t *o, aic_train_state *st,
                                  char *path_out, size_t size, FILE *warn);

#endif
