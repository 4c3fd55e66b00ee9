// SPDX-License-Identifier: Apache-2.0
/* DiLoCo-style training across groups of ranks (--sync diloco): inside a group (the ranks of one node,
 * or --sync-group of them) the gradients are summed every step as usual; across groups only every H
 * inner steps, by an outer step on the parameters. Each group trains its own copy from the last
 * synchronised parameters (the anchor); the outer step takes the mean over groups of the change,
 * anchor - params, sent compressed (aic_allreduce_mean_compressed, with error feedback), as an outer
 * gradient: momentum = mu momentum + delta, anchor -= lr (delta + mu momentum) (Nesterov; lr 1 and
 * mu 0 give plain averaging), and every rank's parameters become the new anchor. Rank j of every
 * group sums with rank j of the others: all of a group hold the same parameters and send the same
 * change, so they all get the same bits. The inner optimizer's state stays each group's own. */
#ifndef AICON_TRAIN_DILOCO_H
#define AICON_TRAIN_DILOCO_H

#include "aicon/comm.h"
#include "aicon/model.h"
#include "aicon/optim.h"
#include "aicon/status.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct aic_diloco aic_diloco;

/* Splits world into groups of group_size consecutive ranks (which must divide the world size) and
 * the matching cross-group communicators; fragments > 1 streams (see aic_diloco_sync), which needs
 * MPI_THREAD_MULTIPLE. Collective over world. */
aic_status aic_diloco_create(aic_diloco **out, aic_comm_t *world, int group_size, int fragments, aic_model_t *m,
                             float outer_lr, float outer_momentum, aic_compress how);
void aic_diloco_destroy(aic_diloco *d);
/* The communicator of this rank's group: the inner steps' gradient sums go over it. */
aic_comm_t *aic_diloco_group(aic_diloco *d);
/* The model's parameters, the same on every rank, become the anchor: before the first inner step. */
void aic_diloco_set_anchor(aic_diloco *d);
/* After step (collective over world; every rank calls both after every step). Without fragments:
 * the outer step every inner_steps steps, after which every rank holds the same parameters. With F
 * fragments, streaming: after each step s with s % inner_steps == f inner_steps / F, fragment f's
 * change goes out on the stream thread, and aic_diloco_land after the next step waits for its mean
 * and applies the outer step to the fragment, keeping what the group's step in between added. The
 * caller's vote of every step (small whole numbers) is summed over world the same way, and
 * aic_diloco_land hands back the last step's (*voted false: none was sent). At the last step all
 * fragments at once, blocking, and no vote: every rank ends with the same parameters. A checkpoint
 * written after aic_diloco_sync(s) is resumed with aic_diloco_resume(s), which sends again the
 * fragment that was on its way; aic_diloco_drain waits for it before a stopped run ends. */
enum { AIC_DILOCO_VOTE = 3 };
bool aic_diloco_streams(const aic_diloco *d);
aic_status aic_diloco_land(aic_diloco *d, double vote[AIC_DILOCO_VOTE], bool *voted);
aic_status aic_diloco_sync(aic_diloco *d, int64_t step, int64_t inner_steps, bool last,
                           const double vote[AIC_DILOCO_VOTE]);
void aic_diloco_resume(aic_diloco *d, int64_t step, int64_t inner_steps);
aic_status aic_diloco_drain(aic_diloco *d);
/* Checkpoints: a group's row holds its parameters, buffers, inner optimizer slots and coding residual;
 * the outer state is the anchor and the outer momentum (2 x the parameters). */
int aic_diloco_groups(const aic_diloco *d);
size_t aic_diloco_row_floats(const aic_diloco *d, aic_optim_t *o);
/* On world rank 0, *rows gets every group's row in group order and *outer the outer state (free
 * both); NULL on the others. Collective over world. */
aic_status aic_diloco_gather(aic_diloco *d, aic_optim_t *o, float **rows, float **outer);
/* After a resume (the model and o as rank 0 loaded them, spread to every rank): rows (n_rows of cols
 * floats) and outer as rank 0 read them from the checkpoint, NULL on the others or where the
 * checkpoint has none. As many groups as saved: each gets its row back, the run goes on bitwise as if
 * never stopped. Another number: every group continues from the anchor with the loaded inner optimizer
 * state (group 0's) and no residual. None saved: the parameters become the anchor. *saved_groups
 * (every rank): the checkpoint's number of groups, 0 for none. Collective over world. */
aic_status aic_diloco_restore(aic_diloco *d, aic_optim_t *o, const float *rows, int64_t n_rows, int64_t cols,
                              const float *outer, int *saved_groups);
/* Bytes the group and cross-group communicators moved, and the seconds waited in outer steps. */
void aic_diloco_traffic(aic_diloco *d, uint64_t *sent, uint64_t *received);
double aic_diloco_wait_seconds(const aic_diloco *d);

#endif
