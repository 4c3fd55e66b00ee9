// SPDX-License-Identifier: Apache-2.0
/* Keccak-256 on nettle's Keccak-f[1600], secp256k1 keys and recoverable signatures, hex. */
#include "chain/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha3.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/graph.h"

#define KECCAK256_RATE 136

/* Lanes are little-endian 64-bit words: byte i of the block is byte (i % 8) of lane i / 8. */
static void keccak_absorb(struct sha3_state *s, const uint8_t *block) {
    for (int i = 0; i < KECCAK256_RATE / 8; i++) {
        uint64_t lane = 0;
        for (int b = 7; b >= 0; b--)
            lane = (lane << 8) | block[i * 8 + b];
        s->a[i] ^= lane;
    }
    nettle_sha3_permute(s);
}

void aic_keccak256(const void *data, size_t len, uint8_t out[32]) {
    struct sha3_state s;
    memset(&s, 0, sizeof s);
    const uint8_t *p = data;
    for (; len >= KECCAK256_RATE; p += KECCAK256_RATE, len -= KECCAK256_RATE)
        keccak_absorb(&s, p);
    uint8_t last[KECCAK256_RATE] = {0};
    if (len)
        memcpy(last, p, len);
    /* Keccak's own padding (the 0x01 domain bit), not SHA3's 0x06: what Ethereum hashes with. */
    last[len] ^= 0x01;
    last[KECCAK256_RATE - 1] ^= 0x80;
    keccak_absorb(&s, last);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(s.a[i / 8] >> (8 * (i % 8)));
}

/* ---- hex ---------------------------------------------------------------------------------------- */

void aic_hex_encode(const uint8_t *bytes, size_t n, char *out) {
    out[0] = '0';
    out[1] = 'x';
    aic_hex(bytes, n, out + 2);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

aic_status aic_hex_decode(const char *hex, uint8_t *bytes, size_t n) {
    if (!hex)
        return aic_fail(AIC_ERR_FORMAT, "expected %zu bytes of hex, got nothing", n);
    const char *p = hex;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (strlen(p) != 2 * n)
        return aic_fail(AIC_ERR_FORMAT, "expected %zu hex digits, got %zu in '%.80s'", 2 * n, strlen(p), hex);
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return aic_fail(AIC_ERR_FORMAT, "'%.80s' is not hex (at digit %zu)", hex, 2 * i + (hi < 0 ? 0 : 1));
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return AIC_OK;
}

/* ---- keys --------------------------------------------------------------------------------------- */

static void address_of_pubkey(const secp256k1_pubkey *pub, uint8_t address[20]) {
    uint8_t ser[65];
    size_t len = sizeof ser;
    secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &len, pub, SECP256K1_EC_UNCOMPRESSED);
    uint8_t h[32];
    aic_keccak256(ser + 1, 64, h);
    memcpy(address, h + 12, 20);
}

/* The library's static context verifies and recovers; whatever multiplies by the generator (public
 * keys, signing) takes a context of its own, created per call: a key signs a few records per job. */
static aic_status address_of(const uint8_t secret[32], uint8_t address[20]) {
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx)
        return aic_fail(AIC_ERR_NOMEM, "secp256k1 context");
    secp256k1_pubkey pub;
    int ok = secp256k1_ec_pubkey_create(ctx, &pub, secret);
    secp256k1_context_destroy(ctx);
    if (!ok)
        return aic_fail(AIC_ERR_INVALID_ARG, "secret key is zero or not below the secp256k1 group order");
    address_of_pubkey(&pub, address);
    return AIC_OK;
}

aic_status aic_key_generate(aic_key *k) {
    for (int tries = 0; tries < 16; tries++) {
        size_t got = 0;
        while (got < sizeof k->secret) {
            ssize_t n = getrandom(k->secret + got, sizeof k->secret - got, 0);
            if (n < 0 && errno != EINTR)
                return aic_fail(AIC_ERR_IO, "getrandom: %s", strerror(errno));
            if (n > 0)
                got += (size_t)n;
        }
        if (secp256k1_ec_seckey_verify(secp256k1_context_static, k->secret))
            return address_of(k->secret, k->address);
    }
    return aic_fail(AIC_ERR_INTERNAL, "getrandom gave 16 invalid secp256k1 keys in a row");
}

aic_status aic_key_from_hex(const char *hex, aic_key *k) {
    AIC_TRY(aic_hex_decode(hex, k->secret, 32));
    return address_of(k->secret, k->address);
}

aic_status aic_key_load(const char *path, aic_key *k) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "key file %s: %s%s", path, strerror(errno),
                        errno == ENOENT ? " (create one with aicon keygen)" : "");
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return aic_fail(AIC_ERR_IO, "key file %s: %s", path, strerror(errno));
    }
    aic_status st = AIC_OK;
    if (!S_ISREG(sb.st_mode))
        st = aic_fail(AIC_ERR_INVALID_ARG, "key file %s is not a regular file", path);
    else if (sb.st_uid != geteuid())
        st = aic_fail(AIC_ERR_INVALID_ARG, "key file %s is owned by uid %u, not by this user (uid %u)", path,
                      (unsigned)sb.st_uid, (unsigned)geteuid());
    else if (sb.st_mode & 077)
        st = aic_fail(AIC_ERR_INVALID_ARG,
                      "key file %s has mode %04o: others can read it; chmod 600 %s (or make a new key)", path,
                      (unsigned)(sb.st_mode & 07777), path);
    char buf[130];
    ssize_t got = 0;
    if (st == AIC_OK) {
        got = read(fd, buf, sizeof buf - 1);
        if (got < 0)
            st = aic_fail(AIC_ERR_IO, "key file %s: %s", path, strerror(errno));
    }
    close(fd);
    if (st != AIC_OK)
        return st;
    size_t n = (size_t)got < sizeof buf - 1 ? (size_t)got : sizeof buf - 1;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    st = aic_key_from_hex(buf, k);
    memset(buf, 0, sizeof buf);
    if (st != AIC_OK)
        return aic_fail_context(st, "key file %s: ", path);
    return AIC_OK;
}

aic_status aic_key_save(const char *path, const aic_key *k) {
    /* O_EXCL: an existing key is a miner's identity, never replaced by accident. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "key file %s: %s%s", path, strerror(errno),
                        errno == EEXIST ? " (a key is never overwritten; remove it yourself or pick another path)"
                                        : "");
    char line[2 + 64 + 2];
    aic_hex_encode(k->secret, 32, line);
    /* The file holds the 64 digits alone, without the 0x. */
    memmove(line, line + 2, 64);
    line[64] = '\n';
    aic_status st = AIC_OK;
    if (write(fd, line, 65) != 65 || fsync(fd) != 0)
        st = aic_fail(AIC_ERR_IO, "key file %s: %s", path, strerror(errno));
    memset(line, 0, sizeof line);
    if (close(fd) != 0 && st == AIC_OK)
        st = aic_fail(AIC_ERR_IO, "key file %s: %s", path, strerror(errno));
    if (st != AIC_OK)
        unlink(path);
    return st;
}

aic_status aic_key_path(const char *flag, char *out, size_t size) {
    int n;
    if (flag && *flag)
        n = snprintf(out, size, "%s", flag);
    else if (getenv(AIC_KEY_ENV) && *getenv(AIC_KEY_ENV))
        n = snprintf(out, size, "%s", getenv(AIC_KEY_ENV));
    else if (getenv("HOME") && *getenv("HOME"))
        n = snprintf(out, size, "%s/.aicon/key", getenv("HOME"));
    else
        return aic_fail(AIC_ERR_INVALID_ARG, "no key file: pass --key PATH, or set $" AIC_KEY_ENV " or $HOME");
    if (n < 0 || (size_t)n >= size)
        return aic_fail(AIC_ERR_INVALID_ARG, "key path is longer than %zu bytes", size - 1);
    return AIC_OK;
}

/* ---- signatures --------------------------------------------------------------------------------- */

aic_status aic_sign_digest(const aic_key *k, const uint8_t digest[32], uint8_t sig[65]) {
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx)
        return aic_fail(AIC_ERR_NOMEM, "secp256k1 context");
    uint8_t seed[32];
    aic_status st = AIC_OK;
    if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed && !secp256k1_context_randomize(ctx, seed))
        st = aic_fail(AIC_ERR_INTERNAL, "secp256k1 context randomization failed");
    secp256k1_ecdsa_recoverable_signature rs;
    int recid = 0;
    if (st == AIC_OK && !secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, k->secret, NULL, NULL))
        st = aic_fail(AIC_ERR_INVALID_ARG, "secp256k1 refused to sign: the secret key is invalid");
    if (st == AIC_OK) {
        /* RFC 6979 nonces and libsecp256k1's signer give low-s signatures, which ecrecover accepts. */
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, &recid, &rs);
        sig[64] = (uint8_t)(27 + recid);
    }
    secp256k1_context_destroy(ctx);
    return st;
}

aic_status aic_recover_address(const uint8_t digest[32], const uint8_t sig[65], uint8_t address[20]) {
    const secp256k1_context *ctx = secp256k1_context_static;
    int v = sig[64];
    if (v != 27 && v != 28)
        return aic_fail(AIC_ERR_MISMATCH, "signature v is %d, expected 27 or 28", v);
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, v - 27))
        return aic_fail(AIC_ERR_MISMATCH, "signature r or s is out of range");
    /* Refuse high s as Ethereum does: otherwise (r, n - s) is a second valid signature of one record. */
    secp256k1_ecdsa_signature plain, normal;
    secp256k1_ecdsa_recoverable_signature_convert(ctx, &plain, &rs);
    if (secp256k1_ecdsa_signature_normalize(ctx, &normal, &plain))
        return aic_fail(AIC_ERR_MISMATCH, "signature has a high s (a malleated copy)");
    secp256k1_pubkey pub;
    if (!secp256k1_ecdsa_recover(ctx, &pub, &rs, digest))
        return aic_fail(AIC_ERR_MISMATCH, "signature recovers no public key");
    address_of_pubkey(&pub, address);
    return AIC_OK;
}
