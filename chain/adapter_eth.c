// SPDX-License-Identifier: Apache-2.0
/* eth:// delivery: open the job on UsageLedger with its ranks' addresses unless it is open, then
 * submit each record the contract has not accepted yet, each transaction signed by the owner's key
 * (EIP-155) and its receipt awaited. Asking the contract first (jobRanks, accepted) is what makes a
 * retry deliver each record exactly once. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "chain/eth.h"
#include "core/error.h"

#define OPEN_GAS_BASE 120000
#define OPEN_GAS_PER_RANK 50000
#define SUBMIT_GAS 400000

static void selector(const char *signature, uint8_t out[4]) {
    uint8_t h[32];
    aic_keccak256(signature, strlen(signature), h);
    memcpy(out, h, 4);
}

/* The addresses UsageLedger.jobRanks(jobId) returns: none for a job never opened. */
static aic_status job_ranks(aic_eth_rpc *rpc, const aic_usage_dest *d, const uint8_t job_id[32], uint8_t (**ranks)[20],
                            int *n) {
    uint8_t call[4 + 32];
    selector("jobRanks(bytes32)", call);
    memcpy(call + 4, job_id, 32);
    aic_bytes out = {0};
    AIC_TRY(aic_eth_call(rpc, d->domain.contract, call, sizeof call, &out));
    aic_status st = AIC_OK;
    *ranks = NULL;
    *n = 0;
    /* An address[] return: offset word, length word, one word per address. */
    uint64_t count = 0;
    if (out.len >= 64)
        for (int i = 56; i < 64; i++)
            count = count << 8 | out.data[i];
    if (out.len < 64 || out.len < 64 + 32 * count || count > 1 << 20) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: jobRanks answered %zu bytes, not an address list (is %s a UsageLedger?)",
                      d->uri, out.len, d->uri);
    } else if (count) {
        *ranks = calloc(count, sizeof **ranks);
        if (!*ranks) {
            st = aic_fail(AIC_ERR_NOMEM, "%" PRIu64 " addresses", count);
        } else {
            for (uint64_t i = 0; i < count; i++)
                memcpy((*ranks)[i], out.data + 64 + 32 * i + 12, 20);
            *n = (int)count;
        }
    }
    aic_bytes_free(&out);
    return st;
}

static aic_status is_accepted(aic_eth_rpc *rpc, const aic_usage_dest *d, const aic_usage_core *c, bool *yes) {
    uint8_t call[4 + 3 * 32];
    selector("accepted(bytes32,uint32,uint64)", call);
    memcpy(call + 4, c->job_id, 32);
    aic_eip712_put_u64(call + 36, c->rank);
    aic_eip712_put_u64(call + 68, c->seq);
    aic_bytes out = {0};
    AIC_TRY(aic_eth_call(rpc, d->domain.contract, call, sizeof call, &out));
    aic_status st = AIC_OK;
    if (out.len != 32)
        st = aic_fail(AIC_ERR_FORMAT, "%s: accepted() answered %zu bytes, not a bool", d->uri, out.len);
    else
        *yes = out.data[31] != 0;
    aic_bytes_free(&out);
    return st;
}

/* Sign and send a transaction to the contract; *status gets the receipt's status. */
static aic_status transact(aic_eth_rpc *rpc, const aic_usage_dest *d, const aic_key *key, const aic_bytes *data,
                           uint64_t gas, int timeout_ms, int *status) {
    aic_eth_tx tx = {.gas_limit = gas, .chain_id = d->domain.chain_id, .data = data->data, .data_len = data->len};
    memcpy(tx.to, d->domain.contract, 20);
    AIC_TRY(aic_eth_nonce(rpc, key->address, &tx.nonce));
    AIC_TRY(aic_eth_gas_price(rpc, &tx.gas_price));
    aic_bytes raw = {0};
    AIC_TRY(aic_eth_sign_tx(&tx, key, &raw));
    uint8_t hash[32];
    aic_status st = aic_eth_send_and_wait(rpc, &raw, timeout_ms, hash, status);
    aic_bytes_free(&raw);
    return st;
}

static aic_status open_job(aic_eth_rpc *rpc, const aic_usage_dest *d, const aic_usage_job *job, const aic_key *key,
                           int timeout_ms) {
    char id[67];
    aic_hex_encode(job->job_id, 32, id);
    uint8_t (*ranks)[20];
    int n;
    AIC_TRY(job_ranks(rpc, d, job->job_id, &ranks, &n));
    if (n == 0) {
        aic_bytes data = {0};
        AIC_TRY(aic_abi_open_job(job->job_id, (const uint8_t (*)[20])job->ranks, job->n_ranks, &data));
        int status = 0;
        aic_status st = transact(rpc, d, key, &data, OPEN_GAS_BASE + OPEN_GAS_PER_RANK * (uint64_t)job->n_ranks,
                                 timeout_ms, &status);
        aic_bytes_free(&data);
        AIC_TRY(st);
        /* A revert may be another sender opening it first: what counts is what the contract holds. */
        AIC_TRY(job_ranks(rpc, d, job->job_id, &ranks, &n));
        if (n == 0)
            return aic_fail(AIC_ERR_IO, "%s: openJob(%s) reverted", d->uri, id);
    }
    aic_status st = AIC_OK;
    if (n != job->n_ranks || memcmp(ranks, job->ranks, 20 * (size_t)n) != 0)
        st = aic_fail(AIC_ERR_MISMATCH, "%s: job %s is open on the chain with other rank addresses (%d ranks there, "
                                        "%d here): its records would be refused", d->uri, id, n, job->n_ranks);
    free(ranks);
    return st;
}

static aic_status submit(aic_eth_rpc *rpc, const aic_usage_dest *d, const aic_usage_record *r, const aic_key *key,
                         int timeout_ms) {
    bool done = false;
    AIC_TRY(is_accepted(rpc, d, &r->core, &done));
    if (done) /* delivered by an earlier try */
        return AIC_OK;
    aic_bytes data = {0};
    AIC_TRY(aic_abi_submit(&r->core, r->sig, &data));
    int status = 0;
    aic_status st = transact(rpc, d, key, &data, SUBMIT_GAS, timeout_ms, &status);
    if (st == AIC_OK && status != 1) {
        AIC_TRY(is_accepted(rpc, d, &r->core, &done));
        if (!done) {
            /* Replaying the call shows the contract's reason in the node's error. */
            aic_bytes out = {0};
            aic_status why = aic_eth_call(rpc, d->domain.contract, data.data, data.len, &out);
            aic_bytes_free(&out);
            st = aic_fail(AIC_ERR_MISMATCH, "%s: submit of rank %" PRIu32 " seq %" PRIu64 " reverted%s%s", d->uri,
                          r->core.rank, r->core.seq, why != AIC_OK ? ": " : "", why != AIC_OK ? aic_last_error() : "");
        }
    }
    aic_bytes_free(&data);
    return st;
}

aic_status aic_usage_escrow_eth(const aic_usage_dest *d, aic_escrow_call what, const uint8_t job_id[32],
                                uint32_t rank, uint64_t seq, uint64_t arg, const aic_key *key, int timeout_ms) {
    static const char *const signatures[] = {"claim(bytes32,uint32,uint64)", "dispute(bytes32,uint32,uint64,uint64)",
                                             "settle(bytes32,uint32,uint64,bool)"};
    aic_abi a;
    aic_abi_begin(&a, what == AIC_ESCROW_CLAIM ? 3 : 4);
    aic_abi_word(&a, job_id);
    aic_abi_uint(&a, rank);
    aic_abi_uint(&a, seq);
    if (what != AIC_ESCROW_CLAIM)
        aic_abi_uint(&a, arg);
    aic_bytes data = {0};
    AIC_TRY(aic_abi_end(&a, signatures[what], &data));
    aic_eth_rpc *rpc;
    aic_status st = aic_eth_rpc_open(d->target, timeout_ms, &rpc);
    if (st != AIC_OK) {
        aic_bytes_free(&data);
        return st;
    }
    /* Called first: a refusal comes back with the contract's reason, and nothing is spent on it. */
    aic_bytes out = {0};
    st = aic_eth_call_from(rpc, key->address, d->domain.contract, data.data, data.len, &out);
    aic_bytes_free(&out);
    int status = 0;
    if (st == AIC_OK)
        st = transact(rpc, d, key, &data, SUBMIT_GAS, timeout_ms, &status);
    if (st == AIC_OK && status != 1)
        st = aic_fail(AIC_ERR_MISMATCH, "%s: %s reverted", d->uri, signatures[what]);
    aic_bytes_free(&data);
    aic_eth_rpc_close(rpc);
    return st;
}

aic_status aic_usage_deliver_eth(const aic_usage_dest *d, const aic_usage_job *job, const aic_usage_record *recs,
                                 int n, const aic_key *key, int timeout_ms) {
    if (!key)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: sending transactions needs a key to pay for them (--key)", d->uri);
    aic_eth_rpc *rpc;
    AIC_TRY(aic_eth_rpc_open(d->target, timeout_ms, &rpc));
    uint64_t chain_id = 0;
    aic_status st = aic_eth_chain_id(rpc, &chain_id);
    if (st == AIC_OK && chain_id != d->domain.chain_id)
        st = aic_fail(AIC_ERR_MISMATCH, "%s: the node is chain %" PRIu64 ", the records were signed for chain %" PRIu64,
                      d->uri, chain_id, d->domain.chain_id);
    if (st == AIC_OK)
        st = open_job(rpc, d, job, key, timeout_ms);
    for (int i = 0; i < n && st == AIC_OK; i++)
        st = submit(rpc, d, &recs[i], key, timeout_ms);
    aic_eth_rpc_close(rpc);
    return st;
}
