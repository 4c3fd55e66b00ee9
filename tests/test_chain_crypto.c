// SPDX-License-Identifier: Apache-2.0
/* Keccak-256, secp256k1 keys and signatures, and EIP-712 hashing against published vectors. */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "chain/usage.h"
#include "tests/test_util.h"

static void expect_hex(const char *what, const uint8_t *got, size_t n, const char *want) {
    char hex[2 + 2 * 65 + 1];
    aic_hex_encode(got, n, hex);
    CHECK_MSG(strcmp(hex + 2, want) == 0, "%s:\n  got  %s\n  want 0x%s", what, hex, want);
}

static void keccak_vectors(void) {
    uint8_t h[32];
    aic_keccak256("", 0, h);
    expect_hex("keccak256('')", h, 32, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    aic_keccak256("abc", 3, h);
    expect_hex("keccak256('abc')", h, 32, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    aic_keccak256(fox, strlen(fox), h);
    expect_hex("keccak256(fox)", h, 32, "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
    /* 200 bytes: one full 136-byte block, then a padded one. */
    uint8_t a3[200];
    memset(a3, 0xa3, sizeof a3);
    aic_keccak256(a3, sizeof a3, h);
    expect_hex("keccak256(200 x 0xa3)", h, 32, "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a");
    /* Solidity's event signature hash, as every ERC-20 log carries it. */
    const char *transfer = "Transfer(address,address,uint256)";
    aic_keccak256(transfer, strlen(transfer), h);
    expect_hex("keccak256(Transfer sig)", h, 32, "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

static void key_vectors(void) {
    aic_key k;
    CHECK_OK(aic_key_from_hex("0x0000000000000000000000000000000000000000000000000000000000000001", &k));
    expect_hex("address of key 1", k.address, 20, "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    CHECK_MSG(aic_key_from_hex("0000000000000000000000000000000000000000000000000000000000000000", &k) != AIC_OK,
              "key 0 refused");
    CHECK_MSG(aic_key_from_hex("01", &k) != AIC_OK, "short key refused");
    CHECK_MSG(aic_key_from_hex("zz00000000000000000000000000000000000000000000000000000000000001", &k) != AIC_OK,
              "non-hex key refused");

    /* Round trip with a fresh key, and a tampered digest or signature recovers someone else. */
    aic_key g;
    CHECK_OK(aic_key_generate(&g));
    uint8_t digest[32], sig[65], who[20];
    aic_keccak256("record", 6, digest);
    CHECK_OK(aic_sign_digest(&g, digest, sig));
    CHECK_OK(aic_recover_address(digest, sig, who));
    CHECK_MSG(memcmp(who, g.address, 20) == 0, "recovered address is the signer's");
    digest[0] ^= 1;
    CHECK_MSG(aic_recover_address(digest, sig, who) != AIC_OK || memcmp(who, g.address, 20) != 0,
              "altered digest recovers another address");
    digest[0] ^= 1;
    sig[64] = 29;
    CHECK_MSG(aic_recover_address(digest, sig, who) != AIC_OK, "v 29 refused");
}

static void key_files(void) {
    char dir[] = "/tmp/aicon-keytest-XXXXXX";
    if (!CHECK_MSG(mkdtemp(dir), "mkdtemp: %s", strerror(errno)))
        return;
    char path[256];
    snprintf(path, sizeof path, "%s/key", dir);
    aic_key k, back;
    CHECK_OK(aic_key_generate(&k));
    CHECK_OK(aic_key_save(path, &k));
    struct stat sb;
    CHECK_MSG(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "saved with mode 0600");
    CHECK_OK(aic_key_load(path, &back));
    CHECK_MSG(memcmp(back.secret, k.secret, 32) == 0 && memcmp(back.address, k.address, 20) == 0,
              "loaded key is the saved one");
    CHECK_MSG(aic_key_save(path, &k) == AIC_ERR_IO && strstr(aic_last_error(), "never overwritten"),
              "never overwrites");
    chmod(path, 0644);
    CHECK_MSG(aic_key_load(path, &back) == AIC_ERR_INVALID_ARG && strstr(aic_last_error(), path) &&
                  strstr(aic_last_error(), "0644"),
              "group-readable key refused");
    char p2[300];
    snprintf(p2, sizeof p2, "%s/missing", dir);
    CHECK_MSG(aic_key_load(p2, &back) == AIC_ERR_IO && strstr(aic_last_error(), "keygen"), "missing key names keygen");
    char out[512];
    CHECK_MSG(aic_key_path("/x/k", out, sizeof out) == AIC_OK && strcmp(out, "/x/k") == 0, "flag wins");
    setenv(AIC_KEY_ENV, "/y/k", 1);
    CHECK_MSG(aic_key_path(NULL, out, sizeof out) == AIC_OK && strcmp(out, "/y/k") == 0, "env next");
    unsetenv(AIC_KEY_ENV);
    setenv("HOME", "/home/m", 1);
    CHECK_MSG(aic_key_path(NULL, out, sizeof out) == AIC_OK && strcmp(out, "/home/m/.aicon/key") == 0, "home last");
    unlink(path);
    rmdir(dir);
}

/* The EIP-712 specification's own example (Mail from Cow to Bob), built with usage.c's helpers. */
static void person_hash(const char *name, const char *wallet_hex, uint8_t out[32]) {
    uint8_t enc[3 * 32], wallet[20];
    aic_eip712_put_string(enc, "Person(string name,address wallet)");
    aic_eip712_put_string(enc + 32, name);
    aic_hex_decode(wallet_hex, wallet, 20);
    aic_eip712_put_address(enc + 64, wallet);
    aic_keccak256(enc, sizeof enc, out);
}

static void eip712_mail(void) {
    aic_eip712_domain d = {.chain_id = 1};
    aic_hex_decode("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC", d.contract, 20);
    uint8_t sep[32];
    aic_eip712_domain_separator_named("Ether Mail", "1", &d, sep); /* 160 bytes: crosses the rate */
    expect_hex("Mail domain separator", sep, 32, "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
    uint8_t enc[4 * 32];
    aic_eip712_put_string(enc, "Mail(Person from,Person to,string contents)Person(string name,address wallet)");
    person_hash("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", enc + 32);
    person_hash("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", enc + 64);
    aic_eip712_put_string(enc + 96, "Hello, Bob!");
    uint8_t sh[32], digest[32];
    aic_keccak256(enc, sizeof enc, sh);
    expect_hex("Mail struct hash", sh, 32, "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
    aic_eip712_digest(sep, sh, digest);
    expect_hex("Mail digest", digest, 32, "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");
    /* The spec signs it with keccak256("cow"); RFC 6979 nonces make the signature reproducible. */
    aic_key cow;
    aic_keccak256("cow", 3, cow.secret);
    char hex[67];
    aic_hex_encode(cow.secret, 32, hex);
    CHECK_OK(aic_key_from_hex(hex, &cow));
    expect_hex("cow address", cow.address, 20, "cd2a3d9f938e13cd947ec05abc7fe734df8dd826");
    uint8_t sig[65];
    CHECK_OK(aic_sign_digest(&cow, digest, sig));
    expect_hex("Mail signature r", sig, 32, "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d");
    expect_hex("Mail signature s", sig + 32, 32, "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562");
    CHECK_MSG(sig[64] == 28, "Mail signature v is 28");
}

/* A usage record: every field is covered by the digest, and the domain separates chains. */
static void usage_digest(void) {
    aic_usage_core r = {.rank = 1, .seq = 1, .steps = 10, .samples = 640, .wall_ms = 1234, .device_ms = 1000,
                        .mflops = 99, .bytes_sent = 4096, .bytes_recv = 4096};
    memset(r.job_id, 0x11, 32);
    aic_eip712_domain file_domain = {0}, chain = {.chain_id = 1337};
    uint8_t d0[32], d1[32], d2[32];
    aic_usage_digest(&file_domain, &r, d0);
    aic_usage_digest(&chain, &r, d1);
    CHECK_MSG(memcmp(d0, d1, 32) != 0, "chain id changes the digest");
    uint8_t *bytes = (uint8_t *)&r;
    static const size_t offsets[] = {offsetof(aic_usage_core, samples), offsetof(aic_usage_core, miner),
                                     offsetof(aic_usage_core, details_hash), offsetof(aic_usage_core, proof_root),
                                     offsetof(aic_usage_core, proof_segments)};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        bytes[offsets[i]] ^= 4;
        aic_usage_digest(&file_domain, &r, d2);
        CHECK_MSG(memcmp(d0, d2, 32) != 0, "a changed field changes the digest");
        bytes[offsets[i]] ^= 4;
    }
    aic_usage_digest(&file_domain, &r, d2);
    CHECK_MSG(memcmp(d0, d2, 32) == 0, "digest is a function of the record");
}

/* A record in the file ledger's domain, hashed and signed elsewhere: the digest by a Python encoder over
 * tests/cli/ledger_forge.py's Keccak-256, the signature by ganache 7's eth_signTypedData_v4 with its
 * first deterministic account. */
static void usage_vector(void) {
    aic_key k;
    CHECK_OK(aic_key_from_hex("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d", &k));
    aic_usage_core r = {.rank = 1, .seq = 300, .prev_seq = 200, .steps = 100, .samples = 6400, .wall_ms = 12345,
                        .device_ms = 10000, .mflops = 987654, .bytes_sent = 4096, .bytes_recv = 8192,
                        .proof_segments = 30};
    memset(r.job_id, 0x11, 32);
    memcpy(r.miner, k.address, 20);
    memset(r.model_hash, 0x22, 32);
    memset(r.dataset_hash, 0x33, 32);
    memset(r.params_hash, 0x44, 32);
    memset(r.details_hash, 0x55, 32);
    memset(r.proof_root, 0x66, 32);
    const aic_eip712_domain file_domain = {0};
    uint8_t sep[32], sh[32], digest[32], sig[65];
    aic_eip712_domain_separator(&file_domain, sep);
    expect_hex("record domain separator", sep, 32, "352468027bf18557fce9b41db871b8b99a5b45039ada03bfe9cf4af29ffc02d0");
    aic_usage_struct_hash(&r, sh);
    expect_hex("record struct hash", sh, 32, "7431a084fff7ad746ac50b7d1ba203bb1ac22cb353ffb5d245a8118689bd4929");
    aic_usage_digest(&file_domain, &r, digest);
    expect_hex("record digest", digest, 32, "bd8aa7a195dcd414df7f9c7bc66b16854d62b12fd65835d0eca62187cb393e4f");
    CHECK_OK(aic_sign_digest(&k, digest, sig));
    expect_hex("record signature", sig, 65,
               "83077b66e1d17367c0c2a68a0c47f7aaee6090dcb9ea499f9d65d59d5d5822c3"
               "1dbf6095f41cd2225141392ce23d7664b407e1464805c964d2b8a4ce1a102af11c");
}

int main(void) {
    keccak_vectors();
    key_vectors();
    key_files();
    eip712_mail();
    usage_digest();
    usage_vector();
    return test_report("chain_crypto");
}
