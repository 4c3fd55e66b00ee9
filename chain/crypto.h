// SPDX-License-Identifier: Apache-2.0
/* Keccak-256 and secp256k1 keys and signatures, as Ethereum uses them (chain/crypto.c).
 *
 * Keccak-256 is the original Keccak padding (0x01 ... 0x80), not SHA3-256's (0x06), built on
 * nettle's Keccak-f[1600] permutation. Signatures are libsecp256k1's recoverable ECDSA, low-s, as
 * 65 bytes r || s || v with v = 27 + recovery id (what Solidity's ecrecover takes). An address is the
 * last 20 bytes of keccak256 of the uncompressed public key without its 0x04 prefix. */
#ifndef AICON_CHAIN_CRYPTO_H
#define AICON_CHAIN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "aicon/status.h"

void aic_keccak256(const void *data, size_t len, uint8_t out[32]);

/* A miner's key. The key file holds the secret key as 64 hex digits and a newline; it must be a
 * regular file of mode 0600 (or stricter) owned by the caller. */
typedef struct {
    uint8_t secret[32];
    uint8_t address[20];
} aic_key;

/* Environment variable naming the key file when no --key flag is given, and the default path
 * ($HOME/.aicon/key) when neither is. */
#define AIC_KEY_ENV "AICON_KEY"

aic_status aic_key_generate(aic_key *k);                    /* from getrandom(2) */
aic_status aic_key_from_hex(const char *hex, aic_key *k);   /* 64 hex digits, optional 0x */
aic_status aic_key_load(const char *path, aic_key *k);      /* checks type, owner and mode */
aic_status aic_key_save(const char *path, const aic_key *k); /* creates with mode 0600; never overwrites */
/* The key path: flag if non-NULL, else $AICON_KEY, else $HOME/.aicon/key. */
aic_status aic_key_path(const char *flag, char *out, size_t size);

aic_status aic_sign_digest(const aic_key *k, const uint8_t digest[32], uint8_t sig[65]);
/* The address whose key made sig over digest; AIC_ERR_MISMATCH for a signature that recovers no key
 * (bad r, s or v, or high s). */
aic_status aic_recover_address(const uint8_t digest[32], const uint8_t sig[65], uint8_t address[20]);

/* Lower-case hex with 0x prefix: out holds 2 + 2 * n + 1 chars. */
void aic_hex_encode(const uint8_t *bytes, size_t n, char *out);
/* Exactly n bytes from hex (optional 0x); AIC_ERR_FORMAT otherwise. */
aic_status aic_hex_decode(const char *hex, uint8_t *bytes, size_t n);

#endif
