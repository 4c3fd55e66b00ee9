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
#include "aicon/status.h"

typedef struct aic_diloco aic_diloco;

/* Splits world into groups of group_size consecutive ranks (which must divide the world size) and
 * the matching cross-group communicators. Collective over world. */
aic_status aic_diloco_create(aic_diloco **out, aic_comm_t *world, int group_size, aic_model_t *m, float outer_lr,
                             float outer_momentum, aic_compress how);
void aic_diloco_destroy(aic_diloco *d);
/* The communicator of this rank's group: the inner steps' gradient sums go over it. */
aic_comm_t *aic_diloco_group(aic_diloco *d);
/* The model's parameters, the same on every rank, become the anchor: before the first inner step. */
void aic_diloco_set_anchor(aic_diloco *d);
/* The outer step (collective over world): afterwards every rank holds the same parameters. */
aic_status aic_diloco_outer_step(aic_diloco *d);
/* Bytes the group and cross-group communicators moved, and the seconds waited in outer steps. */
void aic_diloco_traffic(const aic_diloco *d, uint64_t *sent, uint64_t *received);
double aic_diloco_wait_seconds(const aic_diloco *d);

#endif
