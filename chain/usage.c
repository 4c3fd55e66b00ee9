// SPDX-License-Identifier: Apache-2.0
/* EIP-712 hashing of usage records: the domain separator, the record's struct hash, the digest. */
#include "chain/usage.h"

#include <string.h>

#include "chain/crypto.h"

static const char domain_type[] = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
static const char record_type[] =
    "UsageRecord(bytes32 jobId,uint32 rank,uint64 seq,uint64 prevSeq,address miner,uint64 steps,uint64 samples,"
    "uint64 wallMs,uint64 deviceMs,uint64 flops,uint64 bytesSent,uint64 bytesRecv,"
    "bytes32 modelHash,bytes32 datasetHash,bytes32 paramsHash,bytes32 detailsHash,"
    "bytes32 proofRoot,uint64 proofSegments)";

void aic_eip712_put_u64(uint8_t word[32], uint64_t v) {
    memset(word, 0, 32);
    for (int i = 0; i < 8; i++)
        word[31 - i] = (uint8_t)(v >> (8 * i));
}

void aic_eip712_put_address(uint8_t word[32], const uint8_t address[20]) {
    memset(word, 0, 12);
    memcpy(word + 12, address, 20);
}

void aic_eip712_put_string(uint8_t word[32], const char *s) { aic_keccak256(s, strlen(s), word); }

void aic_eip712_domain_separator_named(const char *name, const char *version, const aic_eip712_domain *d,
                                       uint8_t out[32]) {
    uint8_t enc[5 * 32];
    aic_eip712_put_string(enc, domain_type);
    aic_eip712_put_string(enc + 32, name);
    aic_eip712_put_string(enc + 64, version);
    aic_eip712_put_u64(enc + 96, d->chain_id);
    aic_eip712_put_address(enc + 128, d->contract);
    aic_keccak256(enc, sizeof enc, out);
}

void aic_eip712_domain_separator(const aic_eip712_domain *d, uint8_t out[32]) {
    aic_eip712_domain_separator_named(AIC_EIP712_NAME, AIC_EIP712_VERSION, d, out);
}

void aic_usage_struct_hash(const aic_usage_core *r, uint8_t out[32]) {
    uint8_t enc[19 * 32];
    uint8_t *w = enc;
    aic_eip712_put_string(w, record_type);
    memcpy(w += 32, r->job_id, 32);
    aic_eip712_put_u64(w += 32, r->rank);
    aic_eip712_put_u64(w += 32, r->seq);
    aic_eip712_put_u64(w += 32, r->prev_seq);
    aic_eip712_put_address(w += 32, r->miner);
    const uint64_t counts[] = {r->steps, r->samples, r->wall_ms, r->device_ms, r->mflops, r->bytes_sent,
                               r->bytes_recv};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        aic_eip712_put_u64(w += 32, counts[i]);
    memcpy(w += 32, r->model_hash, 32);
    memcpy(w += 32, r->dataset_hash, 32);
    memcpy(w += 32, r->params_hash, 32);
    memcpy(w += 32, r->details_hash, 32);
    memcpy(w += 32, r->proof_root, 32);
    aic_eip712_put_u64(w += 32, r->proof_segments);
    aic_keccak256(enc, sizeof enc, out);
}

void aic_eip712_digest(const uint8_t domain_separator[32], const uint8_t struct_hash[32], uint8_t out[32]) {
    uint8_t msg[2 + 64] = {0x19, 0x01};
    memcpy(msg + 2, domain_separator, 32);
    memcpy(msg + 34, struct_hash, 32);
    aic_keccak256(msg, sizeof msg, out);
}

void aic_usage_digest(const aic_eip712_domain *d, const aic_usage_core *r, uint8_t out[32]) {
    uint8_t sep[32], sh[32];
    aic_eip712_domain_separator(d, sep);
    aic_usage_struct_hash(r, sh);
    aic_eip712_digest(sep, sh, out);
}
