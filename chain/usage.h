// SPDX-License-Identifier: Apache-2.0
/* Usage records: what one rank contributed to one job, and the EIP-712 hash its key signs
 * (chain/usage.c). The same typed data is checked by `aicon ledger verify` and by
 * chain/contracts/UsageLedger.sol, so both must hash exactly this:
 *
 *   EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
 *     name "aicon UsageLedger", version "2"; a file ledger signs with chainId 0 and the zero address.
 *   UsageRecord(bytes32 jobId,uint32 rank,uint64 seq,uint64 prevSeq,address miner,uint64 steps,
 *               uint64 samples,uint64 wallMs,uint64 deviceMs,uint64 flops,uint64 bytesSent,uint64 bytesRecv,
 *               bytes32 modelHash,bytes32 datasetHash,bytes32 paramsHash,bytes32 detailsHash,
 *               bytes32 proofRoot,uint64 proofSegments)
 *
 * digest = keccak256(0x19 0x01 || domainSeparator || hashStruct(record)). detailsHash is keccak256
 * of the record's canonical JSON details (host, device, hyperparameters, times), which travel beside
 * the signed fields; flops is in units of 1e6 (MFLOP) so a long job does not overflow. proofRoot and
 * proofSegments are the Merkle root and segment count of the job's proof log (docs/verify.md), what
 * `aicon verify --root` checks a log against; both 0 for a job without one. Version "2" since they
 * were added: a version-1 signature never verifies as a version-2 record. (jobId, rank,
 * seq) identifies a record: delivering it twice must never pay twice. prevSeq is the seq of the same
 * rank's record of the run this one resumed from (0: the rank's first of the job), so a ledger that
 * lost a record in the middle of a job shows a record whose prevSeq names nothing. */
#ifndef AICON_CHAIN_USAGE_H
#define AICON_CHAIN_USAGE_H

#include <stdint.h>

#include "aicon/status.h"

#define AIC_EIP712_NAME "aicon UsageLedger"
#define AIC_EIP712_VERSION "2"

typedef struct {
    uint64_t chain_id;
    uint8_t contract[20];
} aic_eip712_domain;

typedef struct {
    uint8_t job_id[32];
    uint32_t rank;
    uint64_t seq;
    uint64_t prev_seq;
    uint8_t miner[20];
    uint64_t steps, samples, wall_ms, device_ms, mflops, bytes_sent, bytes_recv;
    uint8_t model_hash[32], dataset_hash[32], params_hash[32], details_hash[32];
    uint8_t proof_root[32];
    uint64_t proof_segments;
} aic_usage_core;

void aic_eip712_domain_separator(const aic_eip712_domain *d, uint8_t out[32]);
void aic_usage_struct_hash(const aic_usage_core *r, uint8_t out[32]);
void aic_usage_digest(const aic_eip712_domain *d, const aic_usage_core *r, uint8_t out[32]);

/* The encoding machinery beneath, for other typed data (and the EIP-712 spec's own example in the
 * tests): 32-byte words of a uint, an address and a string (its keccak256); a domain separator of
 * any name and version; keccak256(0x19 0x01 || domainSeparator || structHash). */
void aic_eip712_put_u64(uint8_t word[32], uint64_t v);
void aic_eip712_put_address(uint8_t word[32], const uint8_t address[20]);
void aic_eip712_put_string(uint8_t word[32], const char *s);
void aic_eip712_domain_separator_named(const char *name, const char *version, const aic_eip712_domain *d,
                                       uint8_t out[32]);
void aic_eip712_digest(const uint8_t domain_separator[32], const uint8_t struct_hash[32], uint8_t out[32]);

#endif
