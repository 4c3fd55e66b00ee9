// SPDX-License-Identifier: Apache-2.0
/* Delivering signed usage records (chain/record.c, chain/ledger.c, chain/adapter.c, chain/spool.c).
 *
 * A job is delivered as its opening (the ranks' addresses, signed by rank 0's key) and one signed
 * record per rank. Destinations are URIs:
 *   file:PATH                      an append-only JSON-lines ledger (the default, file:aicon-ledger.jsonl)
 *   http://... or https://...      a POST of each record's JSON
 *   eth://HOST:PORT?contract=0x..  the UsageLedger contract over JSON-RPC (optional &chainId=N)
 * Every delivery is idempotent on (job, rank, seq): delivering a record twice never records or pays
 * it twice. What cannot be delivered waits in a spool directory, one file per (job, rank, seq,
 * destination), until a later run or `aicon ledger flush` sends it. */
#ifndef AICON_CHAIN_ADAPTER_H
#define AICON_CHAIN_ADAPTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aicon/status.h"
#include "chain/crypto.h"
#include "chain/usage.h"

#define AIC_USAGE_MAX_DETAILS 4096
#define AIC_USAGE_MAX_RANKS 65536
#define AIC_USAGE_DEFAULT_LEDGER "file:aicon-ledger.jsonl"

/* One rank's record: the signed fields, the signature over them (for one destination's EIP-712
 * domain) and the canonical JSON details whose keccak256 is core.details_hash. */
typedef struct {
    aic_usage_core core;
    uint8_t sig[65];
    char details[AIC_USAGE_MAX_DETAILS];
} aic_usage_record;

/* A job's opening: which address signs for each rank. owner (rank 0's address) signs
 * aic_usage_open_digest. */
typedef struct {
    uint8_t job_id[32];
    int n_ranks;
    uint8_t (*ranks)[20]; /* n_ranks addresses, owned */
    uint8_t owner[20];
    uint8_t sig[65];
} aic_usage_job;

void aic_usage_job_free(aic_usage_job *j);
/* keccak256("aicon openJob" || jobId || ranks...): what the owner signs for a file ledger. */
void aic_usage_open_digest(const aic_usage_job *j, uint8_t out[32]);

/* JSON objects (json-c) of records and openings, the ledger's and the spool's format. The *_parse
 * functions check every field's presence, type, size and form (hex: 0x and lowercase digits of the
 * field's length; details without NUL bytes) and refuse fields of any other name; errors name the
 * field. */
struct json_object;
struct json_object *aic_usage_record_json(const aic_usage_record *r);
aic_status aic_usage_record_parse(struct json_object *o, aic_usage_record *r);
struct json_object *aic_usage_job_json(const aic_usage_job *j);
aic_status aic_usage_job_parse(struct json_object *o, aic_usage_job *j);
/* v as n bytes in the one hex form the parsers take; errors name the field `name`. */
aic_status aic_usage_hex_field(struct json_object *v, const char *name, uint8_t *bytes, size_t n);

/* Checks a record's signature (for domain d) and details hash; names the problem. *signer gets the
 * recovered address (all zero when none). */
aic_status aic_usage_record_check(const aic_eip712_domain *d, const aic_usage_record *r, uint8_t signer[20]);

/* ---- destinations ------------------------------------------------------------------------------ */

typedef enum { AIC_DEST_FILE, AIC_DEST_HTTP, AIC_DEST_ETH } aic_dest_kind;

typedef struct {
    aic_dest_kind kind;
    char uri[1024];
    char target[1024];     /* file: the path; http: the URL; eth: "http://HOST:PORT" */
    aic_eip712_domain domain; /* what records for it are signed over (file and http: chain 0, zero address) */
    bool chain_id_known;   /* eth: from &chainId=N or the node */
} aic_usage_dest;

/* Parse a --usage URI; errors name it and say what is wrong. Does not contact anything. */
aic_status aic_usage_dest_parse(const char *uri, aic_usage_dest *d);
/* eth:// without &chainId=: ask the node (bounded by timeout_ms). */
aic_status aic_usage_dest_resolve(aic_usage_dest *d, int timeout_ms);

/* Deliver a job's opening and records to one destination, idempotently. key pays for eth
 * transactions (rank 0's key, the job's owner); NULL elsewhere is fine. timeout_ms bounds each
 * network request. */
aic_status aic_usage_deliver(const aic_usage_dest *d, const aic_usage_job *job, const aic_usage_record *recs, int n,
                             const aic_key *key, int timeout_ms);

/* The eth:// destination's delivery (chain/adapter_eth.c), through chain/eth.h. */
aic_status aic_usage_deliver_eth(const aic_usage_dest *d, const aic_usage_job *job, const aic_usage_record *recs,
                                 int n, const aic_key *key, int timeout_ms);

/* The escrow's calls on an eth:// destination (UsageLedger.claim, dispute, settle) for the record
 * (job_id, rank, seq), sent and paid for by key: claim pays a miner after the challenge window,
 * dispute (the job's owner, arg: the segment that failed verification) stops that, settle (the
 * job's arbiter, arg: 1 pay, 0 reject) ends a dispute. A refusal fails with the contract's reason. */
typedef enum { AIC_ESCROW_CLAIM, AIC_ESCROW_DISPUTE, AIC_ESCROW_SETTLE } aic_escrow_call;
aic_status aic_usage_escrow_eth(const aic_usage_dest *d, aic_escrow_call what, const uint8_t job_id[32],
                                uint32_t rank, uint64_t seq, uint64_t arg, const aic_key *key, int timeout_ms);

/* ---- the file ledger -------------------------------------------------------------------------- */

/* Append the job's opening (unless the ledger holds it) and each record not already in it (by job,
 * rank, seq), under an exclusive flock, each line chained to the one before and fsync'd. */
aic_status aic_ledger_append(const char *path, const aic_usage_job *job, const aic_usage_record *recs, int n);
/* Append one raw ledger entry ({"open":...} or {"record":...}) without any check: the ledger is
 * append-only and verify judges it (used to import entries from elsewhere). */
aic_status aic_ledger_append_entry(const char *path, struct json_object *entry);
/* Check the hash chain, every opening's and record's signature, that every record's job was opened
 * and its miner is that rank's address, and that no (job, rank, seq) appears twice. Stops at the
 * first bad entry, named by line number, with the reason; *entries gets the number checked. */
aic_status aic_ledger_verify(const char *path, long *entries);
/* A table per job and miner: ranks, steps, samples, seconds, MFLOP, bytes. */
aic_status aic_ledger_show(const char *path, FILE *out);

/* ---- the spool ---------------------------------------------------------------------------------- */

/* The spool directory: flag if non-NULL, else $AICON_SPOOL, else $HOME/.aicon/spool. */
aic_status aic_spool_dir(const char *flag, char *out, size_t size);
/* Write one file per record for destination d (atomically: a temporary name, fsync, rename). */
aic_status aic_spool_put(const char *dir, const aic_usage_dest *d, const aic_usage_job *job,
                         const aic_usage_record *recs, int n);
/* Remove the spool files of these records for d (after delivery). */
void aic_spool_remove(const char *dir, const aic_usage_dest *d, const aic_usage_record *recs, int n);
/* Send every spooled record; a delivered one's file is removed. *sent and *left count records;
 * a failure to deliver is reported on `log` (may be NULL) and leaves the file for next time. */
aic_status aic_spool_flush(const char *dir, const aic_key *key, int timeout_ms, FILE *log, int *sent, int *left);

#endif
