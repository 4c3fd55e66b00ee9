// SPDX-License-Identifier: Apache-2.0
/* The Ethereum client pieces (chain/rlp.c, chain/abi.c, chain/eth.c) against published vectors, and,
 * with --chain DIR (a node started by tests/chain/ganache.sh), the UsageLedger contract itself:
 *
 *   test_chain_eth              RLP (the RLP spec's examples), the EIP-155 example transaction
 *                               (signing hash and signed bytes as the EIP gives them), the Solidity
 *                               ABI spec's examples, an endpoint that is down and one that never
 *                               answers
 *   test_chain_eth --chain DIR  selectors as solc computes them; the contract's EIP-712 digest equals
 *                               aic_usage_digest; a job opened with two rank keys takes one record
 *                               per rank (two RecordAccepted logs, each miner credited
 *                               samples x rewardPerSample); then a record signed with the wrong key,
 *                               one altered after signing, a replay, one for a job never opened, a
 *                               high-s signature, a miner field naming another address and a second
 *                               openJob are each refused (eth_call names the revert reason, the sent
 *                               transaction reverts) and pay nothing. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chain/eth.h"
#include "tests/test_util.h"

static void unhex(const char *hex, aic_bytes *out) {
    size_t n = strlen(hex) - (strncmp(hex, "0x", 2) == 0 ? 2 : 0);
    uint8_t *b = malloc(n / 2 + 1);
    REQUIRE_OK(aic_hex_decode(hex, b, n / 2));
    out->len = 0;
    REQUIRE_OK(aic_bytes_append(out, b, n / 2));
    free(b);
}

/* got must equal the hex `want`; prints both when not. */
static void expect_hex(const char *what, const aic_bytes *got, const char *want) {
    aic_bytes w = {0};
    unhex(want, &w);
    char *h = malloc(2 * got->len + 3);
    aic_hex_encode(got->data, got->len, h);
    if (CHECK_MSG(got->len == w.len && memcmp(got->data, w.data, w.len) == 0, "%s:\n  got  %s\n  want %s", what, h,
                  want))
        printf("  ok   %s\n", what);
    free(h);
    aic_bytes_free(&w);
}

/* ---- RLP: the examples of the RLP spec (ethereum.org) ------------------------------------------- */

static void test_rlp(void) {
    aic_bytes b = {0}, items = {0}, inner = {0}, tmp = {0};
    REQUIRE_OK(aic_rlp_string(&b, (const uint8_t *)"dog", 3));
    expect_hex("rlp \"dog\"", &b, "83646f67");
    b.len = 0;
    REQUIRE_OK(aic_rlp_string(&items, (const uint8_t *)"cat", 3));
    REQUIRE_OK(aic_rlp_string(&items, (const uint8_t *)"dog", 3));
    REQUIRE_OK(aic_rlp_list(&b, &items));
    expect_hex("rlp [\"cat\", \"dog\"]", &b, "c88363617483646f67");
    b.len = items.len = 0;
    REQUIRE_OK(aic_rlp_string(&b, NULL, 0));
    expect_hex("rlp \"\"", &b, "80");
    b.len = 0;
    REQUIRE_OK(aic_rlp_list(&b, &items));
    expect_hex("rlp []", &b, "c0");
    b.len = 0;
    REQUIRE_OK(aic_rlp_uint(&b, 0));
    expect_hex("rlp 0", &b, "80");
    b.len = 0;
    REQUIRE_OK(aic_rlp_string(&b, (const uint8_t *)"\x00", 1));
    expect_hex("rlp \"\\x00\"", &b, "00");
    b.len = 0;
    REQUIRE_OK(aic_rlp_uint(&b, 15));
    expect_hex("rlp 15", &b, "0f");
    b.len = 0;
    REQUIRE_OK(aic_rlp_uint(&b, 1024));
    expect_hex("rlp 1024", &b, "820400");
    /* [ [], [[]], [ [], [[]] ] ]: e = [], ee = [[]] */
    aic_bytes e = {0}, ee = {0};
    REQUIRE_OK(aic_rlp_list(&e, &tmp));
    REQUIRE_OK(aic_rlp_list(&ee, &e));
    REQUIRE_OK(aic_bytes_append(&inner, e.data, e.len));
    REQUIRE_OK(aic_bytes_append(&inner, ee.data, ee.len));
    items.len = 0;
    REQUIRE_OK(aic_bytes_append(&items, e.data, e.len));
    REQUIRE_OK(aic_bytes_append(&items, ee.data, ee.len));
    REQUIRE_OK(aic_rlp_list(&items, &inner));
    b.len = 0;
    REQUIRE_OK(aic_rlp_list(&b, &items));
    expect_hex("rlp [ [], [[]], [ [], [[]] ] ]", &b, "c7c0c1c0c3c0c1c0");
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit"; /* 56 bytes: long form */
    b.len = 0;
    REQUIRE_OK(aic_rlp_string(&b, (const uint8_t *)lorem, strlen(lorem)));
    CHECK(b.len == 58 && b.data[0] == 0xb8 && b.data[1] == 0x38 && memcmp(b.data + 2, lorem, 56) == 0);
    aic_bytes_free(&b);
    aic_bytes_free(&items);
    aic_bytes_free(&inner);
    aic_bytes_free(&e);
    aic_bytes_free(&ee);
}

/* ---- EIP-155: the example transaction of the EIP ------------------------------------------------ */

static void test_eip155(void) {
    aic_key k;
    REQUIRE_OK(aic_key_from_hex("4646464646464646464646464646464646464646464646464646464646464646", &k));
    aic_eth_tx tx = {.nonce = 9, .gas_price = 20000000000ull, .gas_limit = 21000, .chain_id = 1,
                     .value = 1000000000000000000ull};
    memset(tx.to, 0x35, 20);
    uint8_t h[32];
    REQUIRE_OK(aic_eth_tx_signing_hash(&tx, h));
    aic_bytes got = {.data = h, .len = 32, .cap = 32};
    expect_hex("EIP-155 signing hash", &got, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    aic_bytes raw = {0};
    REQUIRE_OK(aic_eth_sign_tx(&tx, &k, &raw));
    expect_hex("EIP-155 signed transaction", &raw,
               "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc"
               "2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb19"
               "66a3b6d83");
    aic_bytes_free(&raw);
}

/* ---- ABI: the examples of the Solidity ABI specification ---------------------------------------- */

static void test_abi(void) {
    aic_bytes out = {0};
    aic_abi a;
    aic_abi_begin(&a, 2);
    aic_abi_uint(&a, 69);
    aic_abi_uint(&a, 1);
    REQUIRE_OK(aic_abi_end(&a, "baz(uint32,bool)", &out));
    expect_hex("abi baz(69, true)", &out,
               "cdcd77c0"
               "0000000000000000000000000000000000000000000000000000000000000045"
               "0000000000000000000000000000000000000000000000000000000000000001");
    out.len = 0;
    const uint64_t v123[] = {1, 2, 3};
    aic_abi_begin(&a, 3);
    aic_abi_bytes(&a, "dave", 4);
    aic_abi_uint(&a, 1);
    aic_abi_uint_array(&a, v123, 3);
    REQUIRE_OK(aic_abi_end(&a, "sam(bytes,bool,uint256[])", &out));
    expect_hex("abi sam(\"dave\", true, [1,2,3])", &out,
               "a5643bf2"
               "0000000000000000000000000000000000000000000000000000000000000060"
               "0000000000000000000000000000000000000000000000000000000000000001"
               "00000000000000000000000000000000000000000000000000000000000000a0"
               "0000000000000000000000000000000000000000000000000000000000000004"
               "6461766500000000000000000000000000000000000000000000000000000000"
               "0000000000000000000000000000000000000000000000000000000000000003"
               "0000000000000000000000000000000000000000000000000000000000000001"
               "0000000000000000000000000000000000000000000000000000000000000002"
               "0000000000000000000000000000000000000000000000000000000000000003");
    out.len = 0;
    const uint64_t v2[] = {0x456, 0x789};
    aic_abi_begin(&a, 4);
    aic_abi_uint(&a, 0x123);
    aic_abi_uint_array(&a, v2, 2);
    aic_abi_fixed_bytes(&a, "1234567890", 10);
    aic_abi_bytes(&a, "Hello, world!", 13);
    REQUIRE_OK(aic_abi_end(&a, "f(uint256,uint32[],bytes10,bytes)", &out));
    expect_hex("abi f(0x123, [0x456, 0x789], \"1234567890\", \"Hello, world!\")", &out,
               "8be65246"
               "0000000000000000000000000000000000000000000000000000000000000123"
               "0000000000000000000000000000000000000000000000000000000000000080"
               "3132333435363738393000000000000000000000000000000000000000000000"
               "00000000000000000000000000000000000000000000000000000000000000e0"
               "0000000000000000000000000000000000000000000000000000000000000002"
               "0000000000000000000000000000000000000000000000000000000000000456"
               "0000000000000000000000000000000000000000000000000000000000000789"
               "000000000000000000000000000000000000000000000000000000000000000d"
               "48656c6c6f2c20776f726c642100000000000000000000000000000000000000");
    /* A miscounted head is a bug, reported, not an encoding. */
    out.len = 0;
    aic_abi_begin(&a, 2);
    aic_abi_uint(&a, 1);
    CHECK(aic_abi_end(&a, "g(uint256,uint256)", &out) == AIC_ERR_INTERNAL && out.len == 0);
    aic_bytes_free(&out);
}

/* An endpoint that accepts connections and never answers: the request's timeout ends the call. */
static void test_silent(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("test_silent: a listening socket");
        exit(1);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    aic_eth_rpc *r;
    REQUIRE_OK(aic_eth_rpc_open(url, 300, &r));
    uint64_t id;
    aic_status st = aic_eth_chain_id(r, &id);
    CHECK(st == AIC_ERR_COMM && strstr(aic_last_error(), url) && strstr(aic_last_error(), "eth_chainId"));
    printf("  ok   endpoint silent -> %s\n", aic_last_error());
    aic_eth_rpc_close(r);
    close(fd);
}

/* An endpoint nobody listens on: a bounded failure naming the endpoint and the method. */
static void test_down(void) {
    aic_eth_rpc *r;
    REQUIRE_OK(aic_eth_rpc_open("http://127.0.0.1:9", 2000, &r));
    uint64_t id;
    aic_status st = aic_eth_chain_id(r, &id);
    CHECK(st == AIC_ERR_COMM && strstr(aic_last_error(), "http://127.0.0.1:9 eth_chainId"));
    printf("  ok   endpoint down -> %s\n", aic_last_error());
    aic_eth_rpc_close(r);
    CHECK(aic_eth_rpc_open("127.0.0.1:8545", 1000, &r) == AIC_ERR_INVALID_ARG && r == NULL);
}

/* ---- the contract on a local chain -------------------------------------------------------------- */

static char g_dir[512];

static char *read_text(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "r");
    REQUIRE_MSG(f, "cannot open %s (does ganache.sh start write it?)", path);
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    size_t n = fread(b, 1, sizeof bufs[0] - 1, f);
    fclose(f);
    b[n] = '\0';
    b[strcspn(b, "\n")] = '\0';
    return b;
}

typedef struct {
    aic_eth_rpc *rpc;
    uint8_t contract[20];
    uint64_t chain_id, gas_price;
} chain;

/* Sends data to the contract from k; the receipt's status (1 mined and succeeded, 0 reverted). */
static int send_tx(chain *c, const aic_key *k, const aic_bytes *data) {
    aic_eth_tx tx = {.gas_price = c->gas_price, .gas_limit = 1000000, .chain_id = c->chain_id,
                     .data = data->data, .data_len = data->len};
    memcpy(tx.to, c->contract, 20);
    REQUIRE_OK(aic_eth_nonce(c->rpc, k->address, &tx.nonce));
    aic_bytes raw = {0};
    REQUIRE_OK(aic_eth_sign_tx(&tx, k, &raw));
    uint8_t hash[32];
    int status = -1;
    REQUIRE_OK(aic_eth_send_and_wait(c->rpc, &raw, 20000, hash, &status));
    aic_bytes_free(&raw);
    return status;
}

static uint64_t word_u64(const uint8_t *w) {
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = (v << 8) | w[i];
    return v;
}

/* A view with no arguments other than `arg` (an address or NULL): its 32-byte result. */
static void call_view(chain *c, const uint8_t to[20], const char *sig, const uint8_t *arg, uint8_t word[32]) {
    aic_abi a;
    aic_bytes data = {0}, out = {0};
    aic_abi_begin(&a, arg ? 1 : 0);
    if (arg)
        aic_abi_address(&a, arg);
    REQUIRE_OK(aic_abi_end(&a, sig, &data));
    REQUIRE_OK(aic_eth_call(c->rpc, to, data.data, data.len, &out));
    REQUIRE_MSG(out.len == 32, "%s returned %zu bytes, not one word", sig, out.len);
    memcpy(word, out.data, 32);
    aic_bytes_free(&data);
    aic_bytes_free(&out);
}

static uint64_t balance(chain *c, const uint8_t token[20], const uint8_t who[20]) {
    uint8_t w[32];
    call_view(c, token, "balanceOf(address)", who, w);
    for (int i = 0; i < 24; i++)
        REQUIRE_MSG(!w[i], "a balance above 2^64 token units");
    return word_u64(w);
}

/* The RecordAccepted logs of the contract: their count, each checked against the records sent. */
static int accepted_logs(chain *c, const aic_usage_core *recs, int nrec, uint64_t rate) {
    static const char ev[] = "RecordAccepted(bytes32,uint32,uint64,address,uint64,uint64,uint256)";
    uint8_t topic[32];
    char topic_hex[67], addr_hex[43];
    aic_keccak256(ev, strlen(ev), topic);
    aic_hex_encode(topic, 32, topic_hex);
    aic_hex_encode(c->contract, 20, addr_hex);
    json_object *filter = json_object_new_object(), *topics = json_object_new_array(), *params = json_object_new_array();
    json_object_object_add(filter, "address", json_object_new_string(addr_hex));
    json_object_object_add(filter, "fromBlock", json_object_new_string("0x0"));
    json_object_object_add(filter, "toBlock", json_object_new_string("latest"));
    json_object_array_add(topics, json_object_new_string(topic_hex));
    json_object_object_add(filter, "topics", topics);
    json_object_array_add(params, filter);
    json_object *logs;
    REQUIRE_OK(aic_eth_rpc_call(c->rpc, "eth_getLogs", params, &logs));
    int n = (int)json_object_array_length(logs);
    for (int i = 0; i < n; i++) {
        json_object *l = json_object_array_get_idx(logs, i), *t, *d;
        json_object_object_get_ex(l, "topics", &t);
        json_object_object_get_ex(l, "data", &d);
        uint8_t tp[4][32], data[4 * 32];
        CHECK(json_object_array_length(t) == 4);
        for (int j = 0; j < 4 && j < (int)json_object_array_length(t); j++)
            REQUIRE_OK(aic_hex_decode(json_object_get_string(json_object_array_get_idx(t, j)), tp[j], 32));
        REQUIRE_OK(aic_hex_decode(json_object_get_string(d), data, sizeof data));
        const aic_usage_core *r = NULL;
        for (int k = 0; k < nrec; k++)
            if (memcmp(recs[k].job_id, tp[1], 32) == 0 && recs[k].rank == word_u64(tp[2]) && recs[k].seq == word_u64(data))
                r = &recs[k];
        CHECK(r != NULL);
        if (!r)
            continue;
        CHECK(memcmp(tp[3] + 12, r->miner, 20) == 0);
        CHECK(word_u64(data + 32) == r->samples && word_u64(data + 64) == r->device_ms);
        CHECK(word_u64(data + 96) == r->samples * rate);
        printf("  ok   RecordAccepted rank %u seq %llu samples %llu reward %llu\n", r->rank, (unsigned long long)r->seq,
               (unsigned long long)r->samples, (unsigned long long)word_u64(data + 96));
    }
    json_object_put(logs);
    return n;
}

static void sign_record(chain *c, const aic_key *k, const aic_usage_core *r, uint8_t sig[65]) {
    aic_eip712_domain d = {.chain_id = c->chain_id};
    memcpy(d.contract, c->contract, 20);
    uint8_t digest[32];
    aic_usage_digest(&d, r, digest);
    REQUIRE_OK(aic_sign_digest(k, digest, sig));
}

/* A refused submission: eth_call names `reason`, the transaction reverts. */
static void expect_refused(chain *c, const char *what, const aic_key *sender, const aic_bytes *data, const char *reason) {
    aic_bytes out = {0};
    aic_status st = aic_eth_call(c->rpc, c->contract, data->data, data->len, &out);
    bool named = st == AIC_ERR_MISMATCH && strstr(aic_last_error(), reason);
    if (CHECK_MSG(named, "%s: eth_call %s \"%s\", want the revert reason \"%s\"", what,
                  st == AIC_OK ? "succeeded" : "failed with", st == AIC_OK ? "" : aic_last_error(), reason))
        printf("  ok   %s refused: %s\n", what, aic_last_error());
    CHECK(send_tx(c, sender, data) == 0);
    aic_bytes_free(&out);
}

/* Selectors as solc computed them (DIR/build/UsageLedger.json's methodIdentifiers). */
static void test_selectors(const aic_usage_core *r, const uint8_t sig[65]) {
    char path[1024];
    snprintf(path, sizeof path, "%s/build/UsageLedger.json", g_dir);
    json_object *j = json_object_from_file(path), *ids = NULL;
    REQUIRE_MSG(j && json_object_object_get_ex(j, "methodIdentifiers", &ids), "%s has no methodIdentifiers", path);
    const char *tuple = "(bytes32,uint32,uint64,uint64,address,uint64,uint64,uint64,uint64,uint64,uint64,uint64,bytes32,bytes32,"
                        "bytes32,bytes32,bytes32,uint64)";
    char submit[256], digest[256];
    snprintf(submit, sizeof submit, "submit(%s,bytes)", tuple);
    snprintf(digest, sizeof digest, "recordDigest(%s)", tuple);
    uint8_t ranks[1][20] = {{1}};
    aic_bytes b[5] = {{0}};
    REQUIRE_OK(aic_abi_submit(r, sig, &b[0]));
    REQUIRE_OK(aic_abi_open_job(r->job_id, ranks, 1, &b[1]));
    REQUIRE_OK(aic_abi_accepted(r->job_id, 0, 0, &b[2]));
    REQUIRE_OK(aic_abi_record_digest(r, &b[3]));
    REQUIRE_OK(aic_abi_job_owner(r->job_id, &b[4]));
    const char *names[5] = {submit, "openJob(bytes32,address[])", "accepted(bytes32,uint32,uint64)", digest,
                            "jobOwner(bytes32)"};
    for (int i = 0; i < 5; i++) {
        json_object *v = NULL;
        char got[11];
        aic_hex_encode(b[i].data, 4, got);
        bool ok = json_object_object_get_ex(ids, names[i], &v) && strcmp(json_object_get_string(v), got + 2) == 0;
        CHECK(ok);
        if (ok)
            printf("  ok   selector %s %s\n", got, names[i]);
        aic_bytes_free(&b[i]);
    }
    /* submit: 4 + 18 record words + the offset word + length + 65 bytes padded to 96 */
    REQUIRE_OK(aic_abi_submit(r, sig, &b[0]));
    CHECK(b[0].len == 4 + 19 * 32 + 32 + 96 && word_u64(b[0].data + 4 + 18 * 32) == 19 * 32);
    aic_bytes_free(&b[0]);
    json_object_put(j);
}

static void test_contract(void) {
    chain c = {0};
    REQUIRE_OK(aic_eth_rpc_open(read_text("url"), 20000, &c.rpc));
    REQUIRE_OK(aic_hex_decode(read_text("contract"), c.contract, 20));
    REQUIRE_OK(aic_eth_chain_id(c.rpc, &c.chain_id));
    CHECK(c.chain_id == strtoull(read_text("chain_id"), NULL, 10));
    REQUIRE_OK(aic_eth_gas_price(c.rpc, &c.gas_price));
    /* keys: the deployer, then funded accounts: two ranks and an outsider */
    aic_key k[4];
    char path[1024];
    snprintf(path, sizeof path, "%s/keys", g_dir);
    FILE *f = fopen(path, "r");
    char line[256];
    for (int i = 0; i < 4; i++) {
        REQUIRE_MSG(f && fgets(line, sizeof line, f), "%s holds fewer than 4 keys", path);
        line[strcspn(line, "\n")] = '\0';
        REQUIRE_OK(aic_key_from_hex(line, &k[i]));
    }
    fclose(f);
    const aic_key *owner = &k[0], *rank_key[2] = {&k[1], &k[2]}, *outsider = &k[3];

    uint8_t w[32], token[20];
    call_view(&c, c.contract, "token()", NULL, w);
    memcpy(token, w + 12, 20);
    call_view(&c, c.contract, "rewardPerSample()", NULL, w);
    uint64_t rate = word_u64(w);
    CHECK(rate > 0);

    aic_usage_core rec[2];
    memset(rec, 0, sizeof rec);
    const char *job = "test_chain_eth job 1";
    for (int i = 0; i < 2; i++) {
        aic_keccak256(job, strlen(job), rec[i].job_id);
        rec[i].rank = (uint32_t)i;
        rec[i].seq = 0;
        memcpy(rec[i].miner, rank_key[i]->address, 20);
        rec[i].steps = 20;
        rec[i].samples = 640 + 32 * (uint64_t)i; /* the ranks' shares differ: so must their rewards */
        rec[i].wall_ms = 1500;
        rec[i].device_ms = 1200 + (uint64_t)i;
        rec[i].mflops = 123456;
        rec[i].bytes_sent = rec[i].bytes_recv = 1u << 20;
        memset(rec[i].model_hash, 0x11, 32);
        memset(rec[i].dataset_hash, 0x22, 32);
        memset(rec[i].params_hash, 0x33, 32);
        memset(rec[i].details_hash, 0x44 + i, 32);
        memset(rec[i].proof_root, 0x55, 32); /* one job, one proof log: the same root for both ranks */
        rec[i].proof_segments = 7;
    }
    uint8_t sig[2][65];
    for (int i = 0; i < 2; i++)
        sign_record(&c, rank_key[i], &rec[i], sig[i]);
    test_selectors(&rec[0], sig[0]);

    /* The contract decodes the record as the C encoder wrote it and hashes it as usage.c does. */
    aic_bytes data = {0}, out = {0};
    REQUIRE_OK(aic_abi_record_digest(&rec[1], &data));
    REQUIRE_OK(aic_eth_call(c.rpc, c.contract, data.data, data.len, &out));
    aic_eip712_domain dom = {.chain_id = c.chain_id};
    memcpy(dom.contract, c.contract, 20);
    uint8_t digest[32];
    aic_usage_digest(&dom, &rec[1], digest);
    CHECK(out.len == 32 && memcmp(out.data, digest, 32) == 0);
    printf("  ok   the contract's EIP-712 digest equals aic_usage_digest\n");

    /* Open the job with the two rank addresses; submit one record per rank. */
    uint8_t ranks[2][20];
    memcpy(ranks[0], rank_key[0]->address, 20);
    memcpy(ranks[1], rank_key[1]->address, 20);
    data.len = 0;
    REQUIRE_OK(aic_abi_open_job(rec[0].job_id, ranks, 2, &data));
    CHECK(send_tx(&c, owner, &data) == 1);
    data.len = out.len = 0;
    REQUIRE_OK(aic_abi_job_owner(rec[0].job_id, &data));
    REQUIRE_OK(aic_eth_call(c.rpc, c.contract, data.data, data.len, &out));
    CHECK(out.len == 32 && memcmp(out.data + 12, owner->address, 20) == 0);
    data.len = 0;
    REQUIRE_OK(aic_abi_open_job(rec[0].job_id, ranks, 2, &data));
    expect_refused(&c, "a second openJob of the same job", outsider, &data, "job already open");

    for (int i = 0; i < 2; i++) {
        data.len = 0;
        REQUIRE_OK(aic_abi_submit(&rec[i], sig[i], &data));
        CHECK(send_tx(&c, rank_key[i], &data) == 1);
        data.len = out.len = 0;
        REQUIRE_OK(aic_abi_accepted(rec[i].job_id, rec[i].rank, rec[i].seq, &data));
        REQUIRE_OK(aic_eth_call(c.rpc, c.contract, data.data, data.len, &out));
        CHECK(out.len == 32 && word_u64(out.data) == 1);
        /* The contract keeps what the record signed of its proof log. */
        aic_abi a;
        aic_abi_begin(&a, 3);
        aic_abi_word(&a, rec[i].job_id);
        aic_abi_uint(&a, rec[i].rank);
        aic_abi_uint(&a, rec[i].seq);
        data.len = out.len = 0;
        REQUIRE_OK(aic_abi_end(&a, "proofOf(bytes32,uint32,uint64)", &data));
        REQUIRE_OK(aic_eth_call(c.rpc, c.contract, data.data, data.len, &out));
        if (CHECK(out.len == 64 && memcmp(out.data, rec[i].proof_root, 32) == 0 &&
                  word_u64(out.data + 32) == rec[i].proof_segments))
            printf("  ok   proofOf rank %d: the signed proof root and %llu segments\n", i,
                   (unsigned long long)rec[i].proof_segments);
    }
    CHECK(accepted_logs(&c, rec, 2, rate) == 2);
    uint64_t bal[2];
    for (int i = 0; i < 2; i++) {
        bal[i] = balance(&c, token, rank_key[i]->address);
        CHECK(bal[i] == rec[i].samples * rate);
        printf("  ok   rank %d's miner holds %llu token units (%llu samples)\n", i, (unsigned long long)bal[i],
               (unsigned long long)rec[i].samples);
    }

    /* Each forgery, replay or stray record is refused and pays nothing. */
    aic_usage_core r = rec[0];
    uint8_t s[65];
    r.seq = 1;
    sign_record(&c, outsider, &r, s);
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a record signed with the wrong key", outsider, &data, "signature is not from this rank's key");

    r = rec[0];
    r.seq = 2;
    sign_record(&c, rank_key[0], &r, s);
    r.samples *= 10;
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a record altered after signing", rank_key[0], &data, "signature is not from this rank's key");

    r = rec[0];
    r.seq = 2;
    sign_record(&c, rank_key[0], &r, s);
    r.proof_root[0] ^= 1;
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a record whose proofRoot was altered after signing", rank_key[0], &data,
                   "signature is not from this rank's key");

    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&rec[0], sig[0], &data));
    expect_refused(&c, "a replayed record", rank_key[0], &data, "record already accepted (replay)");

    r = rec[0];
    const char *stray = "a job never opened";
    aic_keccak256(stray, strlen(stray), r.job_id);
    sign_record(&c, rank_key[0], &r, s);
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a record for a job never opened", rank_key[0], &data, "job not open");

    /* (r, n - s, v ^ 1) is the same signature's malleated twin: valid for ecrecover, refused here. */
    static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                      0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    r = rec[1];
    r.seq = 3;
    sign_record(&c, rank_key[1], &r, s);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = order[i] - s[32 + i] - borrow;
        borrow = d < 0;
        s[32 + i] = (uint8_t)(d + 256 * borrow);
    }
    s[64] ^= 1;
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a high-s signature", rank_key[1], &data, "high-s signature");

    r = rec[1];
    r.seq = 4;
    memcpy(r.miner, outsider->address, 20);
    sign_record(&c, rank_key[1], &r, s);
    data.len = 0;
    REQUIRE_OK(aic_abi_submit(&r, s, &data));
    expect_refused(&c, "a record paying another address", rank_key[1], &data, "miner is not the signing key's address");

    CHECK(accepted_logs(&c, rec, 2, rate) == 2);
    for (int i = 0; i < 2; i++)
        CHECK(balance(&c, token, rank_key[i]->address) == bal[i]);
    CHECK(balance(&c, token, outsider->address) == 0);
    aic_bytes_free(&data);
    aic_bytes_free(&out);
    aic_eth_rpc_close(c.rpc);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--chain") == 0) {
        snprintf(g_dir, sizeof g_dir, "%s", argv[2]);
        test_contract();
    } else if (argc == 1) {
        test_rlp();
        test_eip155();
        test_abi();
        test_down();
        test_silent();
    } else {
        fprintf(stderr, "usage: %s [--chain DIR]\n", argv[0]);
        return 2;
    }
    return test_report("chain_eth");
}
