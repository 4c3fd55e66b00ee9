// SPDX-License-Identifier: Apache-2.0
/* Usage records and job openings as JSON, and their signature checks. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "core/error.h"

void aic_usage_job_free(aic_usage_job *j) {
    if (!j)
        return;
    free(j->ranks);
    j->ranks = NULL;
    j->n_ranks = 0;
}

void aic_usage_open_digest(const aic_usage_job *j, uint8_t out[32]) {
    static const char tag[] = "aicon openJob";
    size_t len = sizeof tag - 1 + 32 + 20 * (size_t)j->n_ranks;
    uint8_t *buf = malloc(len);
    if (!buf) { /* a digest nobody signed: the check that follows fails loudly */
        memset(out, 0, 32);
        return;
    }
    memcpy(buf, tag, sizeof tag - 1);
    memcpy(buf + sizeof tag - 1, j->job_id, 32);
    memcpy(buf + sizeof tag - 1 + 32, j->ranks, 20 * (size_t)j->n_ranks);
    aic_keccak256(buf, len, out);
    free(buf);
}

/* ---- to JSON ------------------------------------------------------------------------------------ */

static void put_hex(json_object *o, const char *key, const uint8_t *bytes, size_t n) {
    char hex[2 + 2 * 65 + 1];
    aic_hex_encode(bytes, n, hex);
    json_object_object_add(o, key, json_object_new_string(hex));
}

static void put_u64(json_object *o, const char *key, uint64_t v) {
    json_object_object_add(o, key, json_object_new_uint64(v));
}

json_object *aic_usage_record_json(const aic_usage_record *r) {
    const aic_usage_core *c = &r->core;
    json_object *o = json_object_new_object();
    put_hex(o, "jobId", c->job_id, 32);
    put_u64(o, "rank", c->rank);
    put_u64(o, "seq", c->seq);
    put_hex(o, "miner", c->miner, 20);
    put_u64(o, "steps", c->steps);
    put_u64(o, "samples", c->samples);
    put_u64(o, "wallMs", c->wall_ms);
    put_u64(o, "deviceMs", c->device_ms);
    put_u64(o, "mflops", c->mflops);
    put_u64(o, "bytesSent", c->bytes_sent);
    put_u64(o, "bytesRecv", c->bytes_recv);
    put_hex(o, "modelHash", c->model_hash, 32);
    put_hex(o, "datasetHash", c->dataset_hash, 32);
    put_hex(o, "paramsHash", c->params_hash, 32);
    put_hex(o, "detailsHash", c->details_hash, 32);
    /* The details travel as the exact string that was hashed: re-serializing an object could
     * change a byte and with it the hash. */
    json_object_object_add(o, "details", json_object_new_string(r->details));
    put_hex(o, "sig", r->sig, 65);
    return o;
}

json_object *aic_usage_job_json(const aic_usage_job *j) {
    json_object *o = json_object_new_object();
    put_hex(o, "jobId", j->job_id, 32);
    json_object *ranks = json_object_new_array();
    for (int i = 0; i < j->n_ranks; i++) {
        char hex[43];
        aic_hex_encode(j->ranks[i], 20, hex);
        json_object_array_add(ranks, json_object_new_string(hex));
    }
    json_object_object_add(o, "ranks", ranks);
    put_hex(o, "owner", j->owner, 20);
    put_hex(o, "sig", j->sig, 65);
    return o;
}

/* ---- from JSON ---------------------------------------------------------------------------------- */

static aic_status get_field(json_object *o, const char *key, json_type type, json_object **out) {
    if (!json_object_object_get_ex(o, key, out))
        return aic_fail(AIC_ERR_FORMAT, "field '%s' is missing", key);
    if (!json_object_is_type(*out, type))
        return aic_fail(AIC_ERR_FORMAT, "field '%s' is a %s, expected a %s", key,
                        json_type_to_name(json_object_get_type(*out)), json_type_to_name(type));
    return AIC_OK;
}

static aic_status get_hex(json_object *o, const char *key, uint8_t *bytes, size_t n) {
    json_object *v;
    AIC_TRY(get_field(o, key, json_type_string, &v));
    if (aic_hex_decode(json_object_get_string(v), bytes, n) != AIC_OK)
        return aic_fail(AIC_ERR_FORMAT, "field '%s' is not %zu bytes of hex", key, n);
    return AIC_OK;
}

static aic_status get_u64(json_object *o, const char *key, uint64_t max, uint64_t *out) {
    json_object *v;
    AIC_TRY(get_field(o, key, json_type_int, &v));
    uint64_t u = json_object_get_uint64(v);
    if (json_object_get_int64(v) < 0 || u > max)
        return aic_fail(AIC_ERR_FORMAT, "field '%s' is out of range", key);
    *out = u;
    return AIC_OK;
}

aic_status aic_usage_record_parse(json_object *o, aic_usage_record *r) {
    memset(r, 0, sizeof *r);
    aic_usage_core *c = &r->core;
    if (!json_object_is_type(o, json_type_object))
        return aic_fail(AIC_ERR_FORMAT, "a record is not a JSON object");
    uint64_t rank;
    AIC_TRY(get_hex(o, "jobId", c->job_id, 32));
    AIC_TRY(get_u64(o, "rank", UINT32_MAX, &rank));
    c->rank = (uint32_t)rank;
    AIC_TRY(get_u64(o, "seq", UINT64_MAX, &c->seq));
    AIC_TRY(get_hex(o, "miner", c->miner, 20));
    AIC_TRY(get_u64(o, "steps", UINT64_MAX, &c->steps));
    AIC_TRY(get_u64(o, "samples", UINT64_MAX, &c->samples));
    AIC_TRY(get_u64(o, "wallMs", UINT64_MAX, &c->wall_ms));
    AIC_TRY(get_u64(o, "deviceMs", UINT64_MAX, &c->device_ms));
    AIC_TRY(get_u64(o, "mflops", UINT64_MAX, &c->mflops));
    AIC_TRY(get_u64(o, "bytesSent", UINT64_MAX, &c->bytes_sent));
    AIC_TRY(get_u64(o, "bytesRecv", UINT64_MAX, &c->bytes_recv));
    AIC_TRY(get_hex(o, "modelHash", c->model_hash, 32));
    AIC_TRY(get_hex(o, "datasetHash", c->dataset_hash, 32));
    AIC_TRY(get_hex(o, "paramsHash", c->params_hash, 32));
    AIC_TRY(get_hex(o, "detailsHash", c->details_hash, 32));
    json_object *d;
    AIC_TRY(get_field(o, "details", json_type_string, &d));
    if ((size_t)json_object_get_string_len(d) >= sizeof r->details)
        return aic_fail(AIC_ERR_FORMAT, "field 'details' is longer than %zu bytes", sizeof r->details - 1);
    memcpy(r->details, json_object_get_string(d), (size_t)json_object_get_string_len(d) + 1);
    return get_hex(o, "sig", r->sig, 65);
}

aic_status aic_usage_job_parse(json_object *o, aic_usage_job *j) {
    memset(j, 0, sizeof *j);
    if (!json_object_is_type(o, json_type_object))
        return aic_fail(AIC_ERR_FORMAT, "a job opening is not a JSON object");
    json_object *ranks;
    AIC_TRY(get_hex(o, "jobId", j->job_id, 32));
    AIC_TRY(get_field(o, "ranks", json_type_array, &ranks));
    size_t n = json_object_array_length(ranks);
    if (n == 0 || n > 1 << 20)
        return aic_fail(AIC_ERR_FORMAT, "field 'ranks' holds %zu addresses", n);
    j->ranks = calloc(n, sizeof *j->ranks);
    if (!j->ranks)
        return aic_fail(AIC_ERR_NOMEM, "%zu rank addresses", n);
    j->n_ranks = (int)n;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(ranks, i);
        if (!json_object_is_type(a, json_type_string) ||
            aic_hex_decode(json_object_get_string(a), j->ranks[i], 20) != AIC_OK) {
            aic_usage_job_free(j);
            return aic_fail(AIC_ERR_FORMAT, "ranks[%zu] is not an address", i);
        }
    }
    aic_status st = get_hex(o, "owner", j->owner, 20);
    if (st == AIC_OK)
        st = get_hex(o, "sig", j->sig, 65);
    if (st != AIC_OK)
        aic_usage_job_free(j);
    return st;
}

aic_status aic_usage_record_check(const aic_eip712_domain *d, const aic_usage_record *r, uint8_t signer[20]) {
    memset(signer, 0, 20);
    uint8_t h[32];
    aic_keccak256(r->details, strlen(r->details), h);
    if (memcmp(h, r->core.details_hash, 32) != 0)
        return aic_fail(AIC_ERR_MISMATCH, "details do not match detailsHash (altered after signing)");
    uint8_t digest[32];
    aic_usage_digest(d, &r->core, digest);
    if (aic_recover_address(digest, r->sig, signer) != AIC_OK)
        return aic_fail_context(AIC_ERR_MISMATCH, "bad signature: ");
    if (memcmp(signer, r->core.miner, 20) != 0) {
        char who[43], miner[43];
        aic_hex_encode(signer, 20, who);
        aic_hex_encode(r->core.miner, 20, miner);
        return aic_fail(AIC_ERR_MISMATCH,
                        "signature is by %s, not by the miner %s (a field altered after signing, or the wrong key)",
                        who, miner);
    }
    return AIC_OK;
}
