// SPDX-License-Identifier: Apache-2.0
/* EIP-155 transaction signing and the JSON-RPC client (libcurl, json-c) of the eth:// adapter. */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/eth.h"
#include "core/error.h"

/* ---- transactions ---------------------------------------------------------------------------- */

/* The six fields every form of a legacy transaction starts with, RLP-encoded into items. */
static aic_status tx_fields(const aic_eth_tx *tx, aic_bytes *items) {
    AIC_TRY(aic_rlp_uint(items, tx->nonce));
    AIC_TRY(aic_rlp_uint(items, tx->gas_price));
    AIC_TRY(aic_rlp_uint(items, tx->gas_limit));
    AIC_TRY(aic_rlp_string(items, tx->to, 20));
    AIC_TRY(aic_rlp_uint(items, tx->value));
    return aic_rlp_string(items, tx->data, tx->data_len);
}

aic_status aic_eth_tx_signing_hash(const aic_eth_tx *tx, uint8_t hash[32]) {
    aic_bytes items = {0}, list = {0};
    aic_status st;
    AIC_TRY_GOTO(tx_fields(tx, &items));
    AIC_TRY_GOTO(aic_rlp_uint(&items, tx->chain_id));
    AIC_TRY_GOTO(aic_rlp_uint(&items, 0));
    AIC_TRY_GOTO(aic_rlp_uint(&items, 0));
    AIC_TRY_GOTO(aic_rlp_list(&list, &items));
    aic_keccak256(list.data, list.len, hash);
cleanup:
    aic_bytes_free(&items);
    aic_bytes_free(&list);
    return st;
}

/* r and s go out as integers: big-endian without leading zeros. */
static aic_status rlp_scalar(aic_bytes *out, const uint8_t be[32]) {
    size_t z = 0;
    while (z < 32 && be[z] == 0)
        z++;
    return aic_rlp_string(out, be + z, 32 - z);
}

aic_status aic_eth_sign_tx(const aic_eth_tx *tx, const aic_key *k, aic_bytes *raw) {
    if (tx->chain_id > (UINT64_MAX - 36) / 2)
        return aic_fail(AIC_ERR_INVALID_ARG, "EIP-155: chain id %llu is too large for v", (unsigned long long)tx->chain_id);
    uint8_t hash[32], sig[65];
    AIC_TRY(aic_eth_tx_signing_hash(tx, hash));
    AIC_TRY(aic_sign_digest(k, hash, sig));
    aic_bytes items = {0};
    aic_status st;
    AIC_TRY_GOTO(tx_fields(tx, &items));
    AIC_TRY_GOTO(aic_rlp_uint(&items, tx->chain_id * 2 + 35 + (uint64_t)(sig[64] - 27)));
    AIC_TRY_GOTO(rlp_scalar(&items, sig));
    AIC_TRY_GOTO(rlp_scalar(&items, sig + 32));
    AIC_TRY_GOTO(aic_rlp_list(raw, &items));
cleanup:
    aic_bytes_free(&items);
    return st;
}

/* ---- JSON-RPC -------------------------------------------------------------------------------- */

struct aic_eth_rpc {
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    int timeout_ms;
    long next_id;
    aic_bytes reply;
};

static size_t collect(char *p, size_t size, size_t n, void *user) {
    aic_eth_rpc *r = user;
    return aic_bytes_append(&r->reply, p, size * n) == AIC_OK ? size * n : 0;
}

aic_status aic_eth_rpc_open(const char *url, int timeout_ms, aic_eth_rpc **out) {
    *out = NULL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "Ethereum endpoint '%s': expected http://HOST:PORT", url);
    if (timeout_ms <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "Ethereum endpoint %s: timeout %d ms must be positive", url, timeout_ms);
    aic_eth_rpc *r = calloc(1, sizeof *r);
    if (!r || !(r->url = strdup(url))) {
        free(r);
        return aic_fail(AIC_ERR_NOMEM, "out of memory opening Ethereum endpoint %s", url);
    }
    r->timeout_ms = timeout_ms;
    r->curl = curl_easy_init();
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!r->curl || !r->headers) {
        aic_eth_rpc_close(r);
        return aic_fail(AIC_ERR_NOMEM, "Ethereum endpoint %s: libcurl could not start a handle", url);
    }
    curl_easy_setopt(r->curl, CURLOPT_URL, r->url);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L); /* the adapter calls from a background thread */
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
    *out = r;
    return AIC_OK;
}

void aic_eth_rpc_close(aic_eth_rpc *r) {
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    aic_bytes_free(&r->reply);
    free(r->url);
    free(r);
}

/* Error(string)'s ABI encoding (selector 0x08c379a0, offset, length, text) as text, or NULL. */
static char *revert_reason(const char *hex) {
    size_t n = strlen(hex);
    if (n < 2 + 8 + 3 * 64 || strncmp(hex, "0x08c379a0", 10) != 0 || (n - 2) % 2)
        return NULL;
    size_t len = (n - 2) / 2;
    uint8_t *b = malloc(len);
    char *text = NULL;
    if (b && aic_hex_decode(hex, b, len) == AIC_OK) {
        uint64_t sl = 0;
        for (int i = 0; i < 8; i++)
            sl = (sl << 8) | b[4 + 64 - 8 + i];
        if (sl <= len - 4 - 64 && (text = malloc(sl + 1))) {
            memcpy(text, b + 4 + 64, sl);
            text[sl] = '\0';
        }
    }
    free(b);
    return text;
}

/* A JSON-RPC error object as one line: code, message and, when the node sends one, the revert reason
 * it carries in "data" (a hex string, or an object holding one). */
static aic_status node_error(aic_eth_rpc *r, const char *method, json_object *err) {
    json_object *code = NULL, *msg = NULL, *data = NULL;
    json_object_object_get_ex(err, "code", &code);
    json_object_object_get_ex(err, "message", &msg);
    json_object_object_get_ex(err, "data", &data);
    if (data && json_object_is_type(data, json_type_object)) {
        json_object *inner = NULL;
        if (!json_object_object_get_ex(data, "result", &inner))
            json_object_object_get_ex(data, "data", &inner);
        data = inner;
    }
    const char *text = msg ? json_object_get_string(msg) : json_object_to_json_string(err);
    char *reason = data && json_object_is_type(data, json_type_string) ? revert_reason(json_object_get_string(data)) : NULL;
    const char *extra = reason && !strstr(text, reason) ? reason : NULL; /* ganache already quotes it */
    aic_status st = aic_fail(reason || strstr(text, "revert") ? AIC_ERR_MISMATCH : AIC_ERR_COMM,
                             "%s %s: node error %d: %s%s%s%s", r->url, method, code ? json_object_get_int(code) : 0, text,
                             extra ? " (reverted: " : "", extra ? extra : "", extra ? ")" : "");
    free(reason);
    return st;
}

aic_status aic_eth_rpc_call(aic_eth_rpc *r, const char *method, json_object *params, json_object **result) {
    *result = NULL;
    json_object *req = json_object_new_object(), *reply = NULL;
    aic_status st = AIC_OK;
    if (!req) {
        json_object_put(params);
        return aic_fail(AIC_ERR_NOMEM, "%s %s: out of memory", r->url, method);
    }
    json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(req, "id", json_object_new_int64(++r->next_id));
    json_object_object_add(req, "method", json_object_new_string(method));
    json_object_object_add(req, "params", params ? params : json_object_new_array());
    const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    r->reply.len = 0;
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode c = curl_easy_perform(r->curl);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, NULL);
    if (c != CURLE_OK) {
        st = aic_fail(AIC_ERR_COMM, "%s %s: %s", r->url, method, errbuf[0] ? errbuf : curl_easy_strerror(c));
        goto cleanup;
    }
    long http = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &http);
    enum json_tokener_error jerr = json_tokener_success;
    json_tokener *tok = r->reply.len ? json_tokener_new() : NULL;
    if (tok) {
        reply = json_tokener_parse_ex(tok, (const char *)r->reply.data, (int)r->reply.len);
        jerr = json_tokener_get_error(tok);
        json_tokener_free(tok);
    }
    if (!reply || jerr != json_tokener_success || !json_object_is_type(reply, json_type_object)) {
        int shown = r->reply.len < 200 ? (int)r->reply.len : 200;
        st = aic_fail(AIC_ERR_COMM, "%s %s: HTTP %ld, the reply is not a JSON-RPC object: %.*s", r->url, method, http,
                      shown ? shown : 7, shown ? (const char *)r->reply.data : "(empty)");
        goto cleanup;
    }
    json_object *err = NULL, *res = NULL;
    if (json_object_object_get_ex(reply, "error", &err) && err && !json_object_is_type(err, json_type_null)) {
        st = node_error(r, method, err);
        goto cleanup;
    }
    if (!json_object_object_get_ex(reply, "result", &res)) {
        st = aic_fail(AIC_ERR_COMM, "%s %s: HTTP %ld, the reply has neither result nor error", r->url, method, http);
        goto cleanup;
    }
    *result = json_object_get(res);
cleanup:
    json_object_put(reply);
    json_object_put(req);
    return st;
}

/* A JSON-RPC quantity ("0x1a") as a uint64. */
static aic_status quantity(aic_eth_rpc *r, const char *method, json_object *v, uint64_t *out) {
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    if (strncmp(s, "0x", 2) != 0 || !s[2] || strlen(s) > 18)
        return aic_fail(AIC_ERR_COMM, "%s %s: expected a quantity below 2^64, got %.80s", r->url, method,
                        json_object_to_json_string(v));
    uint64_t x = 0;
    for (const char *p = s + 2; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
        if (d < 0)
            return aic_fail(AIC_ERR_COMM, "%s %s: '%s' is not a hex quantity", r->url, method, s);
        x = (x << 4) | (uint64_t)d;
    }
    *out = x;
    return AIC_OK;
}

static aic_status call_quantity(aic_eth_rpc *r, const char *method, json_object *params, uint64_t *out) {
    json_object *res;
    AIC_TRY(aic_eth_rpc_call(r, method, params, &res));
    aic_status st = quantity(r, method, res, out);
    json_object_put(res);
    return st;
}

aic_status aic_eth_chain_id(aic_eth_rpc *r, uint64_t *chain_id) {
    return call_quantity(r, "eth_chainId", NULL, chain_id);
}

aic_status aic_eth_gas_price(aic_eth_rpc *r, uint64_t *wei) { return call_quantity(r, "eth_gasPrice", NULL, wei); }

/* bytes as a "0x..." JSON string. */
static json_object *hex_string(const uint8_t *b, size_t n) {
    char *s = malloc(2 * n + 3);
    if (!s)
        return NULL;
    aic_hex_encode(b, n, s);
    json_object *o = json_object_new_string(s);
    free(s);
    return o;
}

aic_status aic_eth_nonce(aic_eth_rpc *r, const uint8_t address[20], uint64_t *nonce) {
    json_object *params = json_object_new_array();
    json_object_array_add(params, hex_string(address, 20));
    json_object_array_add(params, json_object_new_string("pending"));
    return call_quantity(r, "eth_getTransactionCount", params, nonce);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

aic_status aic_eth_send_and_wait(aic_eth_rpc *r, const aic_bytes *raw, int timeout_ms, uint8_t tx_hash[32],
                                 int *status) {
    json_object *params = json_object_new_array(), *res = NULL;
    json_object_array_add(params, hex_string(raw->data, raw->len));
    AIC_TRY(aic_eth_rpc_call(r, "eth_sendRawTransaction", params, &res));
    aic_status st = json_object_is_type(res, json_type_string) ? aic_hex_decode(json_object_get_string(res), tx_hash, 32)
                                                               : AIC_ERR_FORMAT;
    json_object_put(res);
    if (st != AIC_OK)
        return aic_fail(AIC_ERR_COMM, "%s eth_sendRawTransaction: the reply is not a transaction hash", r->url);
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        params = json_object_new_array();
        json_object_array_add(params, hex_string(tx_hash, 32));
        AIC_TRY(aic_eth_rpc_call(r, "eth_getTransactionReceipt", params, &res));
        if (res && json_object_is_type(res, json_type_object)) {
            json_object *s = NULL;
            uint64_t v = 0;
            st = json_object_object_get_ex(res, "status", &s) ? quantity(r, "eth_getTransactionReceipt", s, &v)
                                                              : aic_fail(AIC_ERR_COMM, "%s eth_getTransactionReceipt: "
                                                                         "the receipt has no status", r->url);
            json_object_put(res);
            *status = v == 1;
            return st;
        }
        json_object_put(res);
        if (now_ms() > deadline) {
            char h[67];
            aic_hex_encode(tx_hash, 32, h);
            return aic_fail(AIC_ERR_COMM, "%s: transaction %s not mined within %d ms", r->url, h, timeout_ms);
        }
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
}

aic_status aic_eth_call(aic_eth_rpc *r, const uint8_t to[20], const uint8_t *data, size_t len, aic_bytes *out) {
    return aic_eth_call_from(r, NULL, to, data, len, out);
}

aic_status aic_eth_call_from(aic_eth_rpc *r, const uint8_t from[20], const uint8_t to[20], const uint8_t *data,
                             size_t len, aic_bytes *out) {
    json_object *call = json_object_new_object(), *params = json_object_new_array(), *res = NULL;
    if (from) /* msg.sender of the call: what a transaction from that account would see */
        json_object_object_add(call, "from", hex_string(from, 20));
    json_object_object_add(call, "to", hex_string(to, 20));
    json_object_object_add(call, "data", hex_string(data, len));
    json_object_array_add(params, call);
    json_object_array_add(params, json_object_new_string("latest"));
    AIC_TRY(aic_eth_rpc_call(r, "eth_call", params, &res));
    const char *s = json_object_is_type(res, json_type_string) ? json_object_get_string(res) : "";
    size_t n = strlen(s);
    aic_status st = AIC_OK;
    uint8_t *tmp = NULL;
    size_t k = n >= 2 ? (n - 2) / 2 : 0;
    if (strncmp(s, "0x", 2) != 0 || n % 2)
        st = aic_fail(AIC_ERR_COMM, "%s eth_call: the result is not hex data: %.80s", r->url, s);
    else if (!(tmp = malloc(k + 1)))
        st = aic_fail(AIC_ERR_NOMEM, "%s eth_call: out of memory for %zu result bytes", r->url, k);
    else if (aic_hex_decode(s, tmp, k) != AIC_OK)
        st = aic_fail(AIC_ERR_COMM, "%s eth_call: the result is not hex data: %.80s", r->url, s);
    else
        st = aic_bytes_append(out, tmp, k);
    free(tmp);
    json_object_put(res);
    return st;
}
