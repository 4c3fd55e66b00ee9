// SPDX-License-Identifier: Apache-2.0
/* Solidity ABI encoding of the calls aicon makes: a head of 32-byte words, dynamic arguments' data in
 * the tail with their offsets (from the head's start) in the head. */
#include <string.h>

#include "chain/eth.h"
#include "core/error.h"

void aic_abi_begin(aic_abi *a, size_t head_words) {
    memset(a, 0, sizeof *a);
    a->head_words = head_words;
}

static void put_word(aic_bytes *b, aic_status *st, const uint8_t w[32]) {
    if (*st == AIC_OK)
        *st = aic_bytes_append(b, w, 32);
}

static void uint_word(uint8_t w[32], uint64_t v) {
    memset(w, 0, 32);
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
}

void aic_abi_word(aic_abi *a, const uint8_t word[32]) { put_word(&a->head, &a->st, word); }

void aic_abi_uint(aic_abi *a, uint64_t v) {
    uint8_t w[32];
    uint_word(w, v);
    put_word(&a->head, &a->st, w);
}

void aic_abi_address(aic_abi *a, const uint8_t address[20]) {
    uint8_t w[32] = {0};
    memcpy(w + 12, address, 20);
    put_word(&a->head, &a->st, w);
}

void aic_abi_fixed_bytes(aic_abi *a, const void *s, size_t n) {
    if (n > 32) {
        if (a->st == AIC_OK)
            a->st = aic_fail(AIC_ERR_INVALID_ARG, "ABI: bytes%zu does not exist (at most bytes32)", n);
        return;
    }
    uint8_t w[32] = {0};
    memcpy(w, s, n);
    put_word(&a->head, &a->st, w);
}

/* The head word of a dynamic argument: where its tail starts, counted from the head's start. */
static void tail_offset(aic_abi *a) { aic_abi_uint(a, (uint64_t)(32 * a->head_words + a->tail.len)); }

void aic_abi_bytes(aic_abi *a, const void *s, size_t n) {
    tail_offset(a);
    uint8_t w[32];
    uint_word(w, n);
    put_word(&a->tail, &a->st, w);
    for (size_t i = 0; i < n; i += 32) { /* right-padded with zeros to whole words */
        size_t k = n - i < 32 ? n - i : 32;
        memset(w, 0, 32);
        memcpy(w, (const uint8_t *)s + i, k);
        put_word(&a->tail, &a->st, w);
    }
}

void aic_abi_uint_array(aic_abi *a, const uint64_t *v, size_t n) {
    tail_offset(a);
    uint8_t w[32];
    uint_word(w, n);
    put_word(&a->tail, &a->st, w);
    for (size_t i = 0; i < n; i++) {
        uint_word(w, v[i]);
        put_word(&a->tail, &a->st, w);
    }
}

void aic_abi_address_array(aic_abi *a, const uint8_t (*v)[20], size_t n) {
    tail_offset(a);
    uint8_t w[32];
    uint_word(w, n);
    put_word(&a->tail, &a->st, w);
    for (size_t i = 0; i < n; i++) {
        memset(w, 0, 12);
        memcpy(w + 12, v[i], 20);
        put_word(&a->tail, &a->st, w);
    }
}

aic_status aic_abi_end(aic_abi *a, const char *signature, aic_bytes *out) {
    aic_status st = a->st;
    if (st == AIC_OK && a->head.len != 32 * a->head_words)
        st = aic_fail(AIC_ERR_INTERNAL, "ABI encoding of %s: %zu head words written, %zu declared",
                      signature ? signature : "arguments", a->head.len / 32, a->head_words);
    if (st == AIC_OK && signature) {
        uint8_t h[32];
        aic_keccak256(signature, strlen(signature), h);
        st = aic_bytes_append(out, h, 4);
    }
    if (st == AIC_OK)
        st = aic_bytes_append(out, a->head.data, a->head.len);
    if (st == AIC_OK)
        st = aic_bytes_append(out, a->tail.data, a->tail.len);
    aic_bytes_free(&a->head);
    aic_bytes_free(&a->tail);
    return st;
}

/* ---- UsageLedger ---------------------------------------------------------------------------- */

#define RECORD_TUPLE \
    "(bytes32,uint32,uint64,uint64,address,uint64,uint64,uint64,uint64,uint64,uint64,uint64," \
    "bytes32,bytes32,bytes32,bytes32,bytes32,uint64)"
#define RECORD_WORDS 18

/* The record as the static tuple of its fields: inline in the head, in usage.h's order. */
static void abi_record(aic_abi *a, const aic_usage_core *r) {
    aic_abi_word(a, r->job_id);
    aic_abi_uint(a, r->rank);
    aic_abi_uint(a, r->seq);
    aic_abi_uint(a, r->prev_seq);
    aic_abi_address(a, r->miner);
    aic_abi_uint(a, r->steps);
    aic_abi_uint(a, r->samples);
    aic_abi_uint(a, r->wall_ms);
    aic_abi_uint(a, r->device_ms);
    aic_abi_uint(a, r->mflops);
    aic_abi_uint(a, r->bytes_sent);
    aic_abi_uint(a, r->bytes_recv);
    aic_abi_word(a, r->model_hash);
    aic_abi_word(a, r->dataset_hash);
    aic_abi_word(a, r->params_hash);
    aic_abi_word(a, r->details_hash);
    aic_abi_word(a, r->proof_root);
    aic_abi_uint(a, r->proof_segments);
}

aic_status aic_abi_open_job(const uint8_t job_id[32], const uint8_t (*ranks)[20], int n, aic_bytes *out) {
    if (n < 1)
        return aic_fail(AIC_ERR_INVALID_ARG, "openJob: a job needs at least one rank address, got %d", n);
    aic_abi a;
    aic_abi_begin(&a, 2);
    aic_abi_word(&a, job_id);
    aic_abi_address_array(&a, ranks, (size_t)n);
    return aic_abi_end(&a, "openJob(bytes32,address[])", out);
}

aic_status aic_abi_submit(const aic_usage_core *r, const uint8_t sig[65], aic_bytes *out) {
    aic_abi a;
    aic_abi_begin(&a, RECORD_WORDS + 1);
    abi_record(&a, r);
    aic_abi_bytes(&a, sig, 65);
    return aic_abi_end(&a, "submit(" RECORD_TUPLE ",bytes)", out);
}

aic_status aic_abi_accepted(const uint8_t job_id[32], uint32_t rank, uint64_t seq, aic_bytes *out) {
    aic_abi a;
    aic_abi_begin(&a, 3);
    aic_abi_word(&a, job_id);
    aic_abi_uint(&a, rank);
    aic_abi_uint(&a, seq);
    return aic_abi_end(&a, "accepted(bytes32,uint32,uint64)", out);
}

aic_status aic_abi_record_digest(const aic_usage_core *r, aic_bytes *out) {
    aic_abi a;
    aic_abi_begin(&a, RECORD_WORDS);
    abi_record(&a, r);
    return aic_abi_end(&a, "recordDigest(" RECORD_TUPLE ")", out);
}

aic_status aic_abi_job_owner(const uint8_t job_id[32], aic_bytes *out) {
    aic_abi a;
    aic_abi_begin(&a, 1);
    aic_abi_word(&a, job_id);
    return aic_abi_end(&a, "jobOwner(bytes32)", out);
}
