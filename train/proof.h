// SPDX-License-Identifier: Apache-2.0
/* The proof log of a training run (aicon train --proof DIR): what a verifier needs to replay any
 * segment of the run bitwise and name the step and rank that differ.
 *
 * DIR/proof.log, a text file rank 0 writes as the run goes:
 *   aicon-proof 2
 *   meta <text>                     the caller's lines: the command, world size, threads, bucket size
 *   start <step> <state>            the state the run starts from (DIR/seg-<step>.h5)
 *   grad <step> <rank> <digest>     every rank's gradient digest of every step (aic_train_grad_digest)
 *   segment <step> <state>          a boundary: the state after that step (DIR/seg-<step>.h5)
 *   root <merkle root> <segments>   written at the run's end
 *   sig <rank> <address> <sig>      each rank's signature (secp256k1, 65 bytes r s v, and the key's
 *                                   address) over aic_proof_rank_message: the ranks that had keys
 * Digests and states are hex SHA-256. The Merkle root (RFC 6962's tree) has one leaf per chunk of
 * the file: the header through the start line, then each segment's lines through its segment line,
 * so it commits to every byte before it. */
#ifndef AICON_TRAIN_PROOF_H
#define AICON_TRAIN_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aicon/checkpoint.h"
#include "aicon/comm.h"
#include "aicon/optim.h"
#include "aicon/status.h"

#define AIC_PROOF_LOG "proof.log"
/* The log's first line. Format 1 (aicon before 2026-12) digested the state's arenas whole; format 2
 * digests the checkpoint's per-tensor SHA-256s (aic_checkpoint_snapshot_digest). */
#define AIC_PROOF_HEADER "aicon-proof 2"

typedef struct aic_proof aic_proof;

/* The checkpoint of the boundary after `step`: DIR/seg-<step, 8 digits>.h5. */
void aic_proof_checkpoint_path(const char *dir, int64_t step, char *out, size_t size);

/* Rank 0 makes DIR (if missing) and starts DIR/proof.log with meta (lines, each written after
 * "meta "); a DIR that already holds a proof log is refused. Collective (agreed). */
aic_status aic_proof_open(aic_proof **out, const char *dir, const char *meta, aic_comm_t *c);
/* This rank's gradient digest of `step` (steps come in order, one a call). Local. */
aic_status aic_proof_step(aic_proof *p, int64_t step, const uint8_t digest[32]);
/* A boundary after `step`: rank 0 copies the state (m, o, ts and the checkpoint's extra arrays, as
 * aic_checkpoint_save_with takes them; other ranks may pass NULL), the digests since the last
 * boundary are gathered to it, and a thread of rank 0's writes the state's digest
 * (aic_checkpoint_snapshot_digest), its checkpoint, and the log's lines ("start" the first time).
 * Training goes on meanwhile; the next boundary or aic_proof_finish waits for it and fails with its
 * failure. Rank 0 holds a second copy of the state for this. Where libhdf5 is not thread-safe the
 * call writes the boundary itself. Collective. */
aic_status aic_proof_boundary(aic_proof *p, int64_t step, aic_model_t *m, aic_optim_t *o,
                              const aic_train_state *ts, const aic_checkpoint_extra *extra, int n_extra);
/* Signs what a rank vouches for: digest into signature, the key's address into address. */
typedef aic_status (*aic_proof_signer)(void *ctx, const uint8_t digest[32], uint8_t signature[65],
                                       uint8_t address[20]);
/* The run's end: rank 0 writes the root line; with sign, every rank signs its message and rank 0
 * writes the signatures after the root. Collective. */
aic_status aic_proof_finish(aic_proof *p, aic_proof_signer sign, void *ctx);
/* After aic_proof_finish: the root as hex and the segments, on every rank. */
void aic_proof_root(const aic_proof *p, char hex[65], int64_t *segments);
/* What rank signs: SHA-256("aicon-proof-rank-1", rank as 4 bytes little-endian, chain), chain the
 * SHA-256 of the rank's gradient digests (32 bytes each) in step order. */
aic_status aic_proof_rank_message(int rank, const uint8_t chain[32], uint8_t out[32]);
void aic_proof_destroy(aic_proof *p);

/* The Merkle root of n leaf hashes (RFC 6962: leaves are SHA-256(0x00 || chunk), nodes SHA-256(0x01 ||
 * left || right), the split at the largest power of two below n). */
aic_status aic_proof_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32]);
/* A leaf: SHA-256(0x00 || chunk). */
aic_status aic_proof_leaf(const char *chunk, size_t len, uint8_t out[32]);

#endif
