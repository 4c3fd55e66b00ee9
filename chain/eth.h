/* Ethereum pieces the eth:// adapter needs (chain/eth.c, chain/rlp.c, chain/abi.c): RLP, ABI
 * encoding of UsageLedger's calls, EIP-155 signed legacy transactions, and a JSON-RPC client over
 * libcurl with json-c. Every call returns aic_status with a message naming the endpoint and the
 * node's own error text. */
#ifndef AICON_CHAIN_ETH_H
#define AICON_CHAIN_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "aicon/status.h"
#include "chain/crypto.h"
#include "chain/usage.h"

/* A growable byte buffer (RLP and ABI output). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} aic_bytes;
void aic_bytes_free(aic_bytes *b);

/* ABI calldata of UsageLedger.openJob(bytes32 jobId, address[] ranks) and
 * UsageLedger.submit(UsageRecord r, bytes sig) (r as the static tuple of usage.h's fields, in order). */
aic_status aic_abi_open_job(const uint8_t job_id[32], const uint8_t (*ranks)[20], int n, aic_bytes *out);
aic_status aic_abi_submit(const aic_usage_core *r, const uint8_t sig[65], aic_bytes *out);

/* A legacy transaction signed as EIP-155 (v = chainId * 2 + 35 + recovery id), RLP-encoded. */
typedef struct {
    uint64_t nonce, gas_price, gas_limit, chain_id;
    uint8_t to[20];
    const uint8_t *data;
    size_t data_len;
} aic_eth_tx;
aic_status aic_eth_sign_tx(const aic_eth_tx *tx, const aic_key *k, aic_bytes *raw);

/* JSON-RPC endpoint, "http://HOST:PORT". timeout_ms bounds every request. */
typedef struct aic_eth_rpc aic_eth_rpc;
aic_status aic_eth_rpc_open(const char *url, int timeout_ms, aic_eth_rpc **out);
void aic_eth_rpc_close(aic_eth_rpc *r);
aic_status aic_eth_chain_id(aic_eth_rpc *r, uint64_t *chain_id);
aic_status aic_eth_nonce(aic_eth_rpc *r, const uint8_t address[20], uint64_t *nonce); /* "pending" */
aic_status aic_eth_gas_price(aic_eth_rpc *r, uint64_t *wei);
/* eth_sendRawTransaction, then eth_getTransactionReceipt polled until mined or timeout_ms; status
 * receives the receipt's status (1 success, 0 reverted). */
aic_status aic_eth_send_and_wait(aic_eth_rpc *r, const aic_bytes *raw, int timeout_ms, uint8_t tx_hash[32],
                                 int *status);
/* eth_call of data on contract `to` (for view functions and revert reasons); result bytes in out. */
aic_status aic_eth_call(aic_eth_rpc *r, const uint8_t to[20], const uint8_t *data, size_t len, aic_bytes *out);

#endif
