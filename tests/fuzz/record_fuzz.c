// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: usage records and job openings from JSON (aic_usage_record_parse,
 * aic_usage_job_parse: the ledger's and the spool's format). The input is parsed by json-c; the
 * object itself, and its "record" and "open" members (a ledger line or a spool file), go to both
 * parsers. A parsed record's signature is checked, and whatever parses must write back to JSON that
 * parses to the same bytes. A refusal must say why; nothing may crash, leak or hit undefined
 * behaviour.
 *
 *   build-fuzz/record_fuzz NEW_DIR tests/fuzz/corpus/record */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"

static aic_usage_record rec, back_rec;

/* o written as the ledger writes it and read back: the text round trip a delivered entry takes. */
static json_object *text_round_trip(json_object *o) {
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    json_object *back = text ? json_tokener_parse(text) : NULL;
    json_object_put(o);
    if (!back)
        abort();
    return back;
}

static void try_record(json_object *o) {
    if (aic_usage_record_parse(o, &rec) != AIC_OK) {
        if (aic_last_error()[0] == '\0')
            abort();
        return;
    }
    uint8_t signer[20];
    const aic_eip712_domain file_domain = {0};
    if (aic_usage_record_check(&file_domain, &rec, signer) != AIC_OK && aic_last_error()[0] == '\0')
        abort();
    json_object *back = text_round_trip(aic_usage_record_json(&rec));
    if (aic_usage_record_parse(back, &back_rec) != AIC_OK ||
        memcmp(&rec.core, &back_rec.core, sizeof rec.core) != 0 || memcmp(rec.sig, back_rec.sig, 65) != 0 ||
        strcmp(rec.details, back_rec.details) != 0)
        abort();
    json_object_put(back);
}

static void try_job(json_object *o) {
    aic_usage_job j, back_j;
    if (aic_usage_job_parse(o, &j) != AIC_OK) {
        if (aic_last_error()[0] == '\0' || j.ranks != NULL)
            abort();
        return;
    }
    uint8_t digest[32];
    aic_usage_open_digest(&j, digest);
    json_object *back = text_round_trip(aic_usage_job_json(&j));
    if (aic_usage_job_parse(back, &back_j) != AIC_OK || back_j.n_ranks != j.n_ranks ||
        memcmp(back_j.ranks, j.ranks, 20 * (size_t)j.n_ranks) != 0 || memcmp(back_j.job_id, j.job_id, 32) != 0 ||
        memcmp(back_j.owner, j.owner, 20) != 0 || memcmp(back_j.sig, j.sig, 65) != 0)
        abort();
    aic_usage_job_free(&back_j);
    json_object_put(back);
    aic_usage_job_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20))
        return 0;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!o)
        return 0;
    try_record(o);
    try_job(o);
    json_object *member;
    if (json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "record", &member))
            try_record(member);
        if (json_object_object_get_ex(o, "open", &member))
            try_job(member);
    }
    json_object_put(o);
    return 0;
}
