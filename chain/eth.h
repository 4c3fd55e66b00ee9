// SPDX-License-Identifier: Apache-2.0
/* Ethereum pieces the eth:// adapter needs (chain/eth.c, chain/rlp.c, chain/abi.c): RLP, ABI
 * encoding of UsageLedger's calls, EIP-155 signed legacy transactions, and a JSON-RPC client over
 * libcurl with json-c. Every call returns aic_status with a message naming the endpoint and the
 * node's own error text.
 *
 * The contract (chain/contracts/UsageLedger.sol) accepts a record only when its signature recovers
 * ranks[r.rank] of an open job, r.miner is that same address, and (jobId, rank, seq) was never
 * accepted; it then mints the miner samples * rewardPerSample reward tokens. Its revert reasons start
 * with "UsageLedger: "; a replay's is "UsageLedger: record already accepted (replay)". A client that
 * wants the reason before paying gas runs the same calldata with aic_eth_call first. */
#ifndef AICON_CHAIN_ETH_H
#define AICON_CHAIN_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "aicon/status.h"
#include "chain/crypto.h"
#include "chain/usage.h"

struct json_object; /* json-c */

/* A growable byte buffer (RLP and ABI output). Zero-initialize; free with aic_bytes_free. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} aic_bytes;
void aic_bytes_free(aic_bytes *b);
aic_status aic_bytes_append(aic_bytes *b, const void *data, size_t n);

/* ---- RLP (Ethereum yellow paper, appendix B); each call appends one encoding to out ------------- */
aic_status aic_rlp_string(aic_bytes *out, const uint8_t *s, size_t n);
/* An integer: big-endian without leading zeros (0 is the empty string). */
aic_status aic_rlp_uint(aic_bytes *out, uint64_t v);
/* A list whose payload is `items`, the concatenated encodings of its elements. */
aic_status aic_rlp_list(aic_bytes *out, const aic_bytes *items);

/* ---- ABI encoding (Solidity ABI spec): head words, then the tails of dynamic arguments ----------
 * Declare the head's size in words (a static argument takes one word per field, a dynamic one takes
 * one word for its offset), add the arguments in order, then aic_abi_end. The first failure sticks
 * and aic_abi_end returns it, so calls need no checks in between. */
typedef struct {
    aic_bytes head, tail;
    size_t head_words;
    aic_status st;
} aic_abi;
void aic_abi_begin(aic_abi *a, size_t head_words);
void aic_abi_word(aic_abi *a, const uint8_t word[32]); /* bytes32 */
void aic_abi_uint(aic_abi *a, uint64_t v);             /* uint<M>, bool */
void aic_abi_address(aic_abi *a, const uint8_t address[20]);
void aic_abi_fixed_bytes(aic_abi *a, const void *s, size_t n);  /* bytes<n>, n <= 32, left-aligned */
void aic_abi_bytes(aic_abi *a, const void *s, size_t n);        /* bytes or string */
void aic_abi_uint_array(aic_abi *a, const uint64_t *v, size_t n); /* uint<M>[] */
void aic_abi_address_array(aic_abi *a, const uint8_t (*v)[20], size_t n);
/* out = the 4-byte selector of `signature` (e.g. "baz(uint32,bool)"; NULL: none) || head || tail.
 * Frees the encoder's buffers either way. */
aic_status aic_abi_end(aic_abi *a, const char *signature, aic_bytes *out);

/* ABI calldata of UsageLedger.openJob(bytes32 jobId, address[] ranks) and
 * UsageLedger.submit(UsageRecord r, bytes sig) (r as the static tuple of usage.h's fields, in order). */
aic_status aic_abi_open_job(const uint8_t job_id[32], const uint8_t (*ranks)[20], int n, aic_bytes *out);
aic_status aic_abi_submit(const aic_usage_core *r, const uint8_t sig[65], aic_bytes *out);
/* Views: accepted(jobId, rank, seq) -> bool (a delivery already paid), recordDigest(r) -> bytes32
 * (the contract's EIP-712 digest, to compare with aic_usage_digest), jobOwner(jobId) -> address
 * (zero while the job is not open). */
aic_status aic_abi_accepted(const uint8_t job_id[32], uint32_t rank, uint64_t seq, aic_bytes *out);
aic_status aic_abi_record_digest(const aic_usage_core *r, aic_bytes *out);
aic_status aic_abi_job_owner(const uint8_t job_id[32], aic_bytes *out);

/* A legacy transaction signed as EIP-155 (v = chainId * 2 + 35 + recovery id), RLP-encoded. `to` is
 * always a contract (no contract creation); value in wei. */
typedef struct {
    uint64_t nonce, gas_price, gas_limit, chain_id;
    uint8_t to[20];
    uint64_t value;
    const uint8_t *data;
    size_t data_len;
} aic_eth_tx;
/* keccak256(rlp([nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0])): what the key signs. */
aic_status aic_eth_tx_signing_hash(const aic_eth_tx *tx, uint8_t hash[32]);
aic_status aic_eth_sign_tx(const aic_eth_tx *tx, const aic_key *k, aic_bytes *raw);

/* JSON-RPC endpoint, "http://HOST:PORT". timeout_ms bounds every request. One handle per thread. */
typedef struct aic_eth_rpc aic_eth_rpc;
aic_status aic_eth_rpc_open(const char *url, int timeout_ms, aic_eth_rpc **out);
void aic_eth_rpc_close(aic_eth_rpc *r); /* NULL: no-op */
/* Any method: params (NULL: none) is consumed; *result is the reply's "result", which the caller
 * puts. A node error becomes AIC_ERR_COMM naming the endpoint, method, code and message, or
 * AIC_ERR_MISMATCH when the node says the call reverted (the reason in the message). An endpoint
 * down or silent past the timeout is AIC_ERR_COMM. */
aic_status aic_eth_rpc_call(aic_eth_rpc *r, const char *method, struct json_object *params,
                            struct json_object **result);
aic_status aic_eth_chain_id(aic_eth_rpc *r, uint64_t *chain_id);
aic_status aic_eth_nonce(aic_eth_rpc *r, const uint8_t address[20], uint64_t *nonce); /* "pending" */
aic_status aic_eth_gas_price(aic_eth_rpc *r, uint64_t *wei);
/* eth_sendRawTransaction, then eth_getTransactionReceipt polled until mined or timeout_ms; status
 * receives the receipt's status (1 success, 0 reverted). */
aic_status aic_eth_send_and_wait(aic_eth_rpc *r, const aic_bytes *raw, int timeout_ms, uint8_t tx_hash[32],
                                 int *status);
/* eth_call of data on contract `to` (for view functions and revert reasons); result bytes in out. A
 * revert is AIC_ERR_MISMATCH whose message holds the revert reason. */
aic_status aic_eth_call(aic_eth_rpc *r, const uint8_t to[20], const uint8_t *data, size_t len, aic_bytes *out);
/* The same call as sent from `from` (NULL: no sender). */
aic_status aic_eth_call_from(aic_eth_rpc *r, const uint8_t from[20], const uint8_t to[20], const uint8_t *data,
                             size_t len, aic_bytes *out);

#endif
