// SPDX-License-Identifier: Apache-2.0
/* Metering a training run (chain/meter.c): what each rank contributed, signed by its key, gathered
 * on rank 0 and delivered to the --usage destinations after training, never inside the step loop.
 *
 * Each rank signs with its own key: --key PATH (a "%r" in PATH becomes the rank, so the ranks of one
 * machine can hold different keys), else $AICON_KEY, else ~/.aicon/key; ranks without %r share the
 * file. The job id is keccak256 of "slurm:$SLURM_JOB_ID", else of the MPI launcher's job
 * ("ompi:$OMPI_MCA_orte_ess_jobid", "pmix:$PMIX_NAMESPACE"), else of a random one rank 0 makes;
 * rank 0's choice goes to every rank. A record's seq is the run's final step, so a resumed job adds
 * a record per segment and a re-delivered one is recognized. */
#ifndef AICON_CHAIN_METER_H
#define AICON_CHAIN_METER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aicon/comm.h"
#include "aicon/model.h"
#include "aicon/status.h"

#define AIC_METER_MAX_DESTS 8

typedef struct {
    const char *key;                          /* --key, or NULL */
    const char *spool;                        /* --spool, or NULL for the default */
    const char *uris[AIC_METER_MAX_DESTS];    /* --usage; none: the default ledger when a key exists */
    int n_uris;
    int timeout_ms;                           /* each network request, and each receipt wait */
} aic_meter_config;

typedef struct aic_meter aic_meter;

/* Collective, before training. Parses the destinations, loads this rank's key, agrees on the job
 * id, has rank 0 learn eth:// chain ids (bounded by timeout_ms) and hash the data files
 * (data_files: NULL-terminated paths; a directory stands for its files). *out is NULL, with AIC_OK,
 * when no --usage was given and no key exists: usage reporting is then off. */
aic_status aic_meter_start(aic_comm_t *c, const aic_meter_config *cfg, const char *const *data_files, aic_meter **out);

/* This rank's share of one step: seconds inside the step (forward, backward, gradient sum, optimizer)
 * and the samples it processed. Not collective; cheap. */
void aic_meter_step(aic_meter *m, double busy_seconds, int64_t samples);

typedef struct {
    const aic_model_t *model;   /* compiled: its architecture, FLOPs and final parameters are hashed */
    uint64_t final_step;        /* the record's seq */
    uint64_t prev_seq;          /* its prevSeq: the seq of this job's record the resumed state follows, 0: none */
    const char *device;         /* "cpu:0-7" or "cuda:0 0000:65:00.0 NVIDIA H100" */
    const char *hyperparameters; /* a JSON object */
    const char *proof_root;     /* the proof log's Merkle root (64 hex digits), the proofRoot; NULL, "": none */
    int64_t proof_segments;
} aic_meter_end;

/* Collective, after training: every rank builds and signs its record; rank 0 gathers them, writes
 * them to the spool, delivers them with bounded timeouts, removes what was delivered and then sends
 * what earlier runs left spooled. Delivery failures are warnings on `log` (rank 0), not errors: the
 * records wait in the spool. Fails only when a record cannot be made or spooled. */
aic_status aic_meter_finish(aic_meter *m, aic_comm_t *c, const aic_meter_end *end, FILE *log);

/* The job id the ranks agreed on: a checkpoint keeps it beside the seq of the job's last record, so a
 * run resuming it in the same job names that record as its prevSeq. */
void aic_meter_job_id(const aic_meter *m, uint8_t out[32]);

/* This rank's signature (its usage key) over digest, and the key's address: a proof log's signatures. */
aic_status aic_meter_sign(const aic_meter *m, const uint8_t digest[32], uint8_t sig[65], uint8_t address[20]);
/* The address that signed digest (AIC_ERR_MISMATCH: none; an aicon without usage records: AIC_ERR_STATE). */
aic_status aic_meter_signer(const uint8_t digest[32], const uint8_t sig[65], uint8_t address[20]);

void aic_meter_destroy(aic_meter *m);

#endif
