// SPDX-License-Identifier: Apache-2.0
/* Usage records and job openings as JSON, and their signature checks. */
#include <json-c/json.h>
#include <stdio.h>
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
    put_u64(o, "prevSeq", c->prev_seq);
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
    put_hex(o, "proofRoot", c->proof_root, 32);
    put_u64(o, "proofSegments", c->proof_segments);
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

/* Hex in one form only: "0x" and exactly 2n lowercase digits, so that two texts never name the
 * same bytes (and no NUL can hide after the digits: the length is json-c's, not strlen's). */
aic_status aic_usage_hex_field(json_object *v, const char *name, uint8_t *bytes, size_t n) {
    const char *s = json_object_get_string(v);
    const size_t len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : 0;
    bool canonical = len == 2 + 2 * n && s[0] == '0' && s[1] == 'x';
    for (size_t i = 2; i < len && canonical; i++)
        canonical = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!canonical || aic_hex_decode(s, bytes, n) != AIC_OK)
        return aic_fail(AIC_ERR_FORMAT, "field '%s' is not a string of 0x and %zu lowercase hex digits", name, 2 * n);
    return AIC_OK;
}

static aic_status get_hex(json_object *o, const char *key, uint8_t *bytes, size_t n) {
    json_object *v;
    AIC_TRY(get_field(o, key, json_type_string, &v));
    return aic_usage_hex_field(v, key, bytes, n);
}

/* Refuses any key of o not in names: an entry holds exactly its fields, so nothing unsigned rides
 * along (json-c already keeps one value per key; the ledger refuses repeated keys in the text). */
static aic_status only_fields(json_object *o, const char *what, const char *const *names, size_t n) {
    json_object_object_foreach(o, key, val) {
        (void)val;
        size_t i = 0;
        while (i < n && strcmp(key, names[i]) != 0)
            i++;
        if (i == n)
            return aic_fail(AIC_ERR_FORMAT, "field '%.64s' is not one of %s's", key, what);
    }
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
    static const char *const fields[] = {"jobId", "rank", "seq", "prevSeq", "miner", "steps", "samples",
                                         "wallMs", "deviceMs", "mflops", "bytesSent", "bytesRecv",
                                         "modelHash", "datasetHash", "paramsHash", "detailsHash",
                                         "proofRoot", "proofSegments", "details", "sig"};
    AIC_TRY(only_fields(o, "a record", fields, sizeof fields / sizeof fields[0]));
    uint64_t rank;
    AIC_TRY(get_hex(o, "jobId", c->job_id, 32));
    AIC_TRY(get_u64(o, "rank", UINT32_MAX, &rank));
    c->rank = (uint32_t)rank;
    AIC_TRY(get_u64(o, "seq", UINT64_MAX, &c->seq));
    AIC_TRY(get_u64(o, "prevSeq", UINT64_MAX, &c->prev_seq));
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
    /* Required like every signed field: a record of version 1 (before these two) is refused as
     * missing 'proofRoot'; its signature could not verify under version 2's typed data anyway. */
    AIC_TRY(get_hex(o, "proofRoot", c->proof_root, 32));
    AIC_TRY(get_u64(o, "proofSegments", UINT64_MAX, &c->proof_segments));
    json_object *d;
    AIC_TRY(get_field(o, "details", json_type_string, &d));
    const size_t dlen = (size_t)json_object_get_string_len(d);
    if (dlen >= sizeof r->details)
        return aic_fail(AIC_ERR_FORMAT, "field 'details' is %zu bytes, more than %zu", dlen, sizeof r->details - 1);
    /* detailsHash covers strlen(details) bytes: a NUL would leave what follows it unsigned. */
    if (strlen(json_object_get_string(d)) != dlen)
        return aic_fail(AIC_ERR_FORMAT, "field 'details' holds a NUL byte");
    memcpy(r->details, json_object_get_string(d), dlen + 1);
    return get_hex(o, "sig", r->sig, 65);
}

aic_status aic_usage_job_parse(json_object *o, aic_usage_job *j) {
    memset(j, 0, sizeof *j);
    if (!json_object_is_type(o, json_type_object))
        return aic_fail(AIC_ERR_FORMAT, "a job opening is not a JSON object");
    static const char *const fields[] = {"jobId", "ranks", "owner", "sig"};
    AIC_TRY(only_fields(o, "a job opening", fields, sizeof fields / sizeof fields[0]));
    json_object *ranks;
    AIC_TRY(get_hex(o, "jobId", j->job_id, 32));
    AIC_TRY(get_field(o, "ranks", json_type_array, &ranks));
    size_t n = json_object_array_length(ranks);
    if (n == 0 || n > AIC_USAGE_MAX_RANKS)
        return aic_fail(AIC_ERR_FORMAT, "field 'ranks' holds %zu addresses, not 1 to %d", n, AIC_USAGE_MAX_RANKS);
    j->ranks = calloc(n, sizeof *j->ranks);
    if (!j->ranks)
        return aic_fail(AIC_ERR_NOMEM, "%zu rank addresses", n);
    j->n_ranks = (int)n;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "ranks[%zu]", i);
        aic_status st = aic_usage_hex_field(json_object_array_get_idx(ranks, i), name, j->ranks[i], 20);
        if (st != AIC_OK) {
            aic_usage_job_free(j);
            return st;
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
