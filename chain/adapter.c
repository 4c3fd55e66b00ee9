// SPDX-License-Identifier: Apache-2.0
/* --usage destinations: parsing the URI and delivering to a file ledger, an HTTP endpoint or the chain. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "chain/eth.h"
#include "core/error.h"

static aic_status copy_str(const char *uri, const char *what, char *dst, size_t size, const char *src, size_t len) {
    if (len >= size)
        return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: the %s is longer than %zu bytes", uri, what, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
    return AIC_OK;
}

/* eth://HOST:PORT?contract=0x...[&chainId=N] */
static aic_status parse_eth(const char *uri, aic_usage_dest *d) {
    const char *host = uri + strlen("eth://");
    const char *q = strchr(host, '?');
    if (!q || q == host)
        return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: expected eth://HOST:PORT?contract=0x...", uri);
    char hostport[512];
    AIC_TRY(copy_str(uri, "host", hostport, sizeof hostport, host, (size_t)(q - host)));
    if (!strchr(hostport, ':'))
        return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: '%s' has no :PORT", uri, hostport);
    snprintf(d->target, sizeof d->target, "http://%s", hostport);
    bool have_contract = false;
    for (const char *p = q + 1; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        char param[256];
        AIC_TRY(copy_str(uri, "query parameter", param, sizeof param, p, len));
        char *eq = strchr(param, '=');
        if (!eq)
            return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: '%s' is not NAME=VALUE", uri, param);
        *eq = '\0';
        const char *val = eq + 1;
        if (strcmp(param, "contract") == 0) {
            if (aic_hex_decode(val, d->domain.contract, 20) != AIC_OK)
                return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: contract '%s' is not a 20-byte 0x address", uri, val);
            have_contract = true;
        } else if (strcmp(param, "chainId") == 0) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(val, &end, 10);
            if (errno || end == val || *end || v == 0)
                return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: chainId '%s' is not a positive whole number", uri, val);
            d->domain.chain_id = v;
            d->chain_id_known = true;
        } else {
            return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: unknown parameter '%s' (contract, chainId)", uri, param);
        }
        p += len + (amp ? 1 : 0);
    }
    if (!have_contract)
        return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: needs ?contract=0x... (the UsageLedger address)", uri);
    return AIC_OK;
}

aic_status aic_usage_dest_parse(const char *uri, aic_usage_dest *d) {
    memset(d, 0, sizeof *d);
    AIC_TRY(copy_str(uri, "URI", d->uri, sizeof d->uri, uri, strlen(uri)));
    if (strncmp(uri, "file:", 5) == 0) {
        d->kind = AIC_DEST_FILE;
        if (!uri[5])
            return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: file: needs a path (file:aicon-ledger.jsonl)", uri);
        return copy_str(uri, "path", d->target, sizeof d->target, uri + 5, strlen(uri + 5));
    }
    if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) {
        d->kind = AIC_DEST_HTTP;
        return copy_str(uri, "URL", d->target, sizeof d->target, uri, strlen(uri));
    }
    if (strncmp(uri, "eth://", 6) == 0) {
        d->kind = AIC_DEST_ETH;
        return parse_eth(uri, d);
    }
    return aic_fail(AIC_ERR_INVALID_ARG, "--usage %s: unknown scheme (use file:PATH, http(s)://URL or "
                                         "eth://HOST:PORT?contract=0x...)", uri);
}

aic_status aic_usage_dest_resolve(aic_usage_dest *d, int timeout_ms) {
    if (d->kind != AIC_DEST_ETH || d->chain_id_known)
        return AIC_OK;
    aic_eth_rpc *rpc;
    aic_status st = aic_eth_rpc_open(d->target, timeout_ms, &rpc);
    if (st == AIC_OK) {
        st = aic_eth_chain_id(rpc, &d->domain.chain_id);
        aic_eth_rpc_close(rpc);
    }
    if (st != AIC_OK)
        return aic_fail_context(st, "--usage %s: asking the node for its chain id (add &chainId=N to sign without it): ",
                                d->uri);
    d->chain_id_known = true;
    return AIC_OK;
}

/* ---- http -------------------------------------------------------------------------------------- */

static size_t keep_reply(char *ptr, size_t size, size_t n, void *ctx) {
    char *reply = ctx;
    size_t have = strlen(reply), add = size * n;
    if (have < 255) {
        size_t take = add < 255 - have ? add : 255 - have;
        memcpy(reply + have, ptr, take);
        reply[have + take] = '\0';
    }
    return size * n;
}

static aic_status post_record(CURL *curl, const aic_usage_dest *d, const aic_usage_job *job,
                              const aic_usage_record *r, int timeout_ms) {
    json_object *body = json_object_new_object();
    json_object_object_add(body, "open", aic_usage_job_json(job));
    json_object_object_add(body, "record", aic_usage_record_json(r));
    char key[128], jobhex[67];
    aic_hex_encode(r->core.job_id, 32, jobhex);
    /* The endpoint can drop a retry by this key; the record's own (jobId, rank, seq) say the same. */
    snprintf(key, sizeof key, "Idempotency-Key: %s-%" PRIu32 "-%" PRIu64, jobhex, r->core.rank, r->core.seq);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, key);
    char reply[256] = "";
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, d->target);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_reply);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    json_object_put(body);
    if (rc != CURLE_OK)
        return aic_fail(AIC_ERR_IO, "POST %s: %s", d->target, curl_easy_strerror(rc));
    /* 409 Conflict: the endpoint holds this record already, which is what a retry wants. */
    if ((code < 200 || code >= 300) && code != 409)
        return aic_fail(AIC_ERR_IO, "POST %s: HTTP %ld %s", d->target, code, reply);
    return AIC_OK;
}

static aic_status deliver_http(const aic_usage_dest *d, const aic_usage_job *job, const aic_usage_record *recs, int n,
                               int timeout_ms) {
    CURL *curl = curl_easy_init();
    if (!curl)
        return aic_fail(AIC_ERR_NOMEM, "libcurl handle for %s", d->target);
    aic_status st = AIC_OK;
    for (int i = 0; i < n && st == AIC_OK; i++)
        st = post_record(curl, d, job, &recs[i], timeout_ms);
    curl_easy_cleanup(curl);
    return st;
}

aic_status aic_usage_deliver(const aic_usage_dest *d, const aic_usage_job *job, const aic_usage_record *recs, int n,
                             const aic_key *key, int timeout_ms) {
    switch (d->kind) {
    case AIC_DEST_FILE:
        return aic_ledger_append(d->target, job, recs, n);
    case AIC_DEST_HTTP:
        return deliver_http(d, job, recs, n, timeout_ms);
    case AIC_DEST_ETH:
        return aic_usage_deliver_eth(d, job, recs, n, key, timeout_ms);
    }
    return aic_fail(AIC_ERR_INTERNAL, "destination kind %d", (int)d->kind);
}
