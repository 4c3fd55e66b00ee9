// SPDX-License-Identifier: Apache-2.0
/* The proof log: see train/proof.h. */
#include "train/proof.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aicon/model.h"
#include "core/error.h"
#include "core/graph.h"
#include "io/checkpoint_snapshot.h"

/* Rank 0 writes a boundary on a thread of its own while training goes on: the state's copy, its
 * digest and checkpoint, the steps' digests and the boundary's line, in that order, so that a line in
 * the log always has its checkpoint on disk. */
typedef struct {
    pthread_t thread;
    bool running;
    aic_checkpoint_snapshot *state; /* the boundary's state, copied */
    int64_t step, first, n;         /* the boundary's step and the steps before it */
    bool start;                     /* the first boundary: a "start" line */
    uint8_t (*digests)[32];         /* every rank's digests of those steps, rank by rank */
    size_t cap;
    aic_status status;              /* what the last write came to, and its message */
    char error[1024];
} boundary_writer;

struct aic_proof {
    aic_comm_t *comm;
    int rank, world;
    char dir[4096];
    FILE *log;              /* rank 0 */
    char path[4096];        /* rank 0: DIR/proof.log */
    bool started;           /* a boundary was taken */
    uint8_t (*digests)[32]; /* this rank's since the last boundary */
    int64_t first, n, cap;  /* their first step and count */
    boundary_writer writer; /* rank 0 */
    uint8_t (*leaves)[32];  /* rank 0: one a chunk */
    size_t n_leaves, cap_leaves;
    char *chunk;            /* rank 0: the current chunk's text */
    size_t chunk_len, chunk_cap;
    EVP_MD_CTX *chain;      /* this rank's digests, in step order */
    char root[65];          /* after finish, every rank */
};

static aic_status sha256_parts(const void *const *parts, const size_t *sizes, int n, uint8_t out[32]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], sizes[i]);
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    return ok ? AIC_OK : aic_fail(AIC_ERR_INTERNAL, "proof: SHA-256 failed in libcrypto");
}

aic_status aic_proof_leaf(const char *chunk, size_t len, uint8_t out[32]) {
    static const uint8_t leaf = 0;
    return sha256_parts((const void *[]){&leaf, chunk}, (size_t[]){1, len}, 2, out);
}

aic_status aic_proof_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32]) {
    if (n == 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "proof: a Merkle tree of no leaves");
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return AIC_OK;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    static const uint8_t node = 1;
    uint8_t left[32], right[32];
    AIC_TRY(aic_proof_merkle_root(leaves, k, left));
    AIC_TRY(aic_proof_merkle_root(leaves + k, n - k, right));
    return sha256_parts((const void *[]){&node, left, right}, (size_t[]){1, 32, 32}, 3, out);
}

void aic_proof_checkpoint_path(const char *dir, int64_t step, char *out, size_t size) {
    snprintf(out, size, "%s/seg-%08lld.h5", dir, (long long)step);
}

/* Rank 0: text into the current chunk and the file. */
static aic_status emit(aic_proof *p, const char *fmt, ...) AIC_PRINTF(2, 3);
static aic_status emit(aic_proof *p, const char *fmt, ...) {
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    const int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0 || len >= (int)sizeof line)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: a line longer than %zu bytes", p->path, sizeof line);
    if (p->chunk_len + (size_t)len + 1 > p->chunk_cap) {
        const size_t cap = 2 * (p->chunk_len + (size_t)len + 1);
        char *c = realloc(p->chunk, cap);
        if (!c)
            return aic_fail(AIC_ERR_NOMEM, "%s: out of memory", p->path);
        p->chunk = c, p->chunk_cap = cap;
    }
    memcpy(p->chunk + p->chunk_len, line, (size_t)len + 1);
    p->chunk_len += (size_t)len;
    if (fputs(line, p->log) == EOF)
        return aic_fail(AIC_ERR_IO, "%s: cannot write: %s", p->path, strerror(errno));
    return AIC_OK;
}

/* Rank 0: the chunk so far becomes a leaf. */
static aic_status close_chunk(aic_proof *p) {
    if (p->n_leaves == p->cap_leaves) {
        const size_t cap = p->cap_leaves ? 2 * p->cap_leaves : 64;
        uint8_t(*l)[32] = realloc(p->leaves, 32 * cap);
        if (!l)
            return aic_fail(AIC_ERR_NOMEM, "%s: out of memory", p->path);
        p->leaves = l, p->cap_leaves = cap;
    }
    AIC_TRY(aic_proof_leaf(p->chunk, p->chunk_len, p->leaves[p->n_leaves++]));
    p->chunk_len = 0;
    if (fflush(p->log) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot write: %s", p->path, strerror(errno));
    return AIC_OK;
}

static aic_status open_log(aic_proof *p, const char *dir, const char *meta) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return aic_fail(AIC_ERR_IO, "--proof %s: cannot make the directory: %s", dir, strerror(errno));
    snprintf(p->path, sizeof p->path, "%s/%s", dir, AIC_PROOF_LOG);
    if (access(p->path, F_OK) == 0)
        return aic_fail(AIC_ERR_IO, "--proof %s: it already holds a proof log (%s); each run needs its own directory",
                        dir, p->path);
    if (!(p->log = fopen(p->path, "w")))
        return aic_fail(AIC_ERR_IO, "--proof %s: cannot write %s: %s", dir, p->path, strerror(errno));
    AIC_TRY(emit(p, AIC_PROOF_HEADER "\n"));
    for (const char *s = meta ? meta : ""; *s;) {
        const char *end = strchr(s, '\n');
        const int len = end ? (int)(end - s) : (int)strlen(s);
        AIC_TRY(emit(p, "meta %.*s\n", len, s));
        s += len + (end ? 1 : 0);
    }
    return AIC_OK;
}

aic_status aic_proof_open(aic_proof **out, const char *dir, const char *meta, aic_comm_t *c) {
    aic_proof *p = calloc(1, sizeof *p);
    aic_status st = p ? AIC_OK : aic_fail(AIC_ERR_NOMEM, "--proof: out of memory");
    if (p) {
        p->comm = c;
        snprintf(p->dir, sizeof p->dir, "%s", dir);
        p->rank = aic_comm_rank(c);
        p->world = aic_comm_size(c);
        p->chain = EVP_MD_CTX_new();
        if (!p->chain || !EVP_DigestInit_ex(p->chain, EVP_sha256(), NULL))
            st = aic_fail(AIC_ERR_NOMEM, "--proof: cannot start SHA-256");
        if (st == AIC_OK && p->rank == 0)
            st = open_log(p, dir, meta);
    }
    st = aic_comm_agree(c, st);
    if (st != AIC_OK) {
        aic_proof_destroy(p);
        return st;
    }
    *out = p;
    return AIC_OK;
}

aic_status aic_proof_step(aic_proof *p, int64_t step, const uint8_t digest[32]) {
    if (p->n == 0)
        p->first = step;
    else if (step != p->first + p->n)
        return aic_fail(AIC_ERR_STATE, "proof: step %lld after step %lld", (long long)step,
                        (long long)(p->first + p->n - 1));
    if (p->n == p->cap) {
        const int64_t cap = p->cap ? 2 * p->cap : 64;
        uint8_t(*d)[32] = realloc(p->digests, 32 * (size_t)cap);
        if (!d)
            return aic_fail(AIC_ERR_NOMEM, "proof: out of memory for %lld digests", (long long)cap);
        p->digests = d, p->cap = cap;
    }
    memcpy(p->digests[p->n++], digest, 32);
    return EVP_DigestUpdate(p->chain, digest, 32) ? AIC_OK : aic_fail(AIC_ERR_INTERNAL, "proof: SHA-256 failed");
}

static void *write_boundary(void *arg) {
    aic_proof *p = arg;
    boundary_writer *w = &p->writer;
    uint8_t state[32];
    char path[sizeof p->dir + 32], hex[65];
    aic_proof_checkpoint_path(p->dir, w->step, path, sizeof path);
    aic_status st = aic_checkpoint_snapshot_digest(w->state, state);
    if (st == AIC_OK)
        st = aic_checkpoint_snapshot_save(path, w->state);
    for (int64_t i = 0; st == AIC_OK && i < w->n; i++)
        for (int r = 0; st == AIC_OK && r < p->world; r++) {
            aic_hex(w->digests[(size_t)r * (size_t)w->n + (size_t)i], 32, hex);
            st = emit(p, "grad %lld %d %s\n", (long long)(w->first + i), r, hex);
        }
    aic_hex(state, 32, hex);
    if (st == AIC_OK)
        st = emit(p, "%s %lld %s\n", w->start ? "start" : "segment", (long long)w->step, hex);
    if (st == AIC_OK)
        st = close_chunk(p);
    if (st != AIC_OK)
        snprintf(w->error, sizeof w->error, "%s", aic_last_error());
    w->status = st;
    return NULL;
}

/* Rank 0: waits for the boundary being written; its failure is this call's. */
static aic_status wait_writer(aic_proof *p) {
    boundary_writer *w = &p->writer;
    if (!w->running)
        return AIC_OK;
    pthread_join(w->thread, NULL);
    w->running = false;
    return w->status == AIC_OK ? AIC_OK : aic_fail(w->status, "%s", w->error);
}

aic_status aic_proof_boundary(aic_proof *p, int64_t step, aic_model_t *m, aic_optim_t *o, const aic_train_state *ts,
                              const aic_checkpoint_extra *extra, int n_extra) {
    boundary_writer *w = &p->writer;
    /* Every rank holds as many digests (the steps are the same everywhere): one gather. */
    const size_t digests = (size_t)p->n * (size_t)p->world;
    aic_status st = AIC_OK;
    if (p->rank == 0) {
        st = wait_writer(p);
        if (st == AIC_OK)
            st = aic_checkpoint_snapshot_take(&w->state, m, o, ts, extra, n_extra, true);
        if (st == AIC_OK && digests > w->cap) {
            uint8_t(*d)[32] = realloc(w->digests, 32 * digests);
            if (d)
                w->digests = d, w->cap = digests;
            else
                st = aic_fail(AIC_ERR_NOMEM, "proof: out of memory for %lld steps' digests", (long long)p->n);
        }
    }
    st = aic_comm_agree(p->comm, st);
    if (st == AIC_OK && p->n > 0)
        st = aic_gather_bytes(p->comm, p->digests, 32 * (size_t)p->n, w->digests, 0);
    if (st == AIC_OK && p->rank == 0) {
        w->step = step, w->first = p->first, w->n = p->n, w->start = !p->started;
        if (!aic_checkpoint_threads_ok()) { /* the data or another checkpoint may be using HDF5 meanwhile */
            write_boundary(p);
            st = w->status == AIC_OK ? AIC_OK : aic_fail(w->status, "%s", w->error);
        } else if (!(w->running = pthread_create(&w->thread, NULL, write_boundary, p) == 0)) {
            st = aic_fail(AIC_ERR_INTERNAL, "proof: cannot start the thread that writes the boundary at step %lld",
                          (long long)step);
        }
    }
    p->started = true;
    p->n = 0;
    return aic_comm_agree(p->comm, st);
}

aic_status aic_proof_rank_message(int rank, const uint8_t chain[32], uint8_t out[32]) {
    static const char tag[] = "aicon-proof-rank-1";
    const uint8_t r[4] = {(uint8_t)rank, (uint8_t)(rank >> 8), (uint8_t)(rank >> 16), (uint8_t)(rank >> 24)};
    return sha256_parts((const void *[]){tag, r, chain}, (size_t[]){sizeof tag - 1, 4, 32}, 3, out);
}

/* A rank's signature as it travels to rank 0: whether it signed, the signature, the address. */
typedef struct {
    uint8_t signed_, sig[65], address[20];
} rank_sig;

aic_status aic_proof_finish(aic_proof *p, aic_proof_signer sign, void *ctx) {
    rank_sig mine = {0}, *all = NULL;
    uint8_t chain[32], message[32];
    unsigned int len = 0;
    aic_status st = p->rank == 0 ? wait_writer(p) : AIC_OK;
    if (st == AIC_OK && !(EVP_DigestFinal_ex(p->chain, chain, &len) && len == 32))
        st = aic_fail(AIC_ERR_INTERNAL, "proof: SHA-256 failed in libcrypto");
    if (st == AIC_OK && sign && (st = aic_proof_rank_message(p->rank, chain, message)) == AIC_OK)
        st = sign(ctx, message, mine.sig, mine.address);
    mine.signed_ = sign != NULL;
    if (st == AIC_OK && p->rank == 0 && !(all = malloc(sizeof *all * (size_t)p->world)))
        st = aic_fail(AIC_ERR_NOMEM, "proof: out of memory");
    AIC_TRY(aic_comm_agree(p->comm, st));
    st = aic_gather_bytes(p->comm, &mine, sizeof mine, all, 0);
    if (st == AIC_OK && p->rank == 0) {
        uint8_t root[32];
        char hex[2 * 65 + 1];
        st = aic_proof_merkle_root((const uint8_t(*)[32])p->leaves, p->n_leaves, root);
        aic_hex(root, 32, hex);
        memcpy(p->root, hex, 65);
        /* The root and signature lines are no chunks: they are what the chunks hash to, and sign. */
        bool ok = st == AIC_OK && fprintf(p->log, "root %s %zu\n", hex, p->n_leaves - 1) > 0;
        for (int r = 0; ok && r < p->world; r++) {
            if (!all[r].signed_)
                continue;
            char address[41];
            aic_hex(all[r].address, 20, address);
            aic_hex(all[r].sig, 65, hex);
            ok = fprintf(p->log, "sig %d %s %s\n", r, address, hex) > 0;
        }
        if (st == AIC_OK && (!ok || fflush(p->log) != 0 || fsync(fileno(p->log)) != 0))
            st = aic_fail(AIC_ERR_IO, "%s: cannot write: %s", p->path, strerror(errno));
    }
    free(all);
    st = aic_comm_agree(p->comm, st);
    int64_t segments = (int64_t)p->n_leaves - 1;
    if (st == AIC_OK)
        st = aic_broadcast(p->comm, p->root, sizeof p->root, 0);
    if (st == AIC_OK)
        st = aic_broadcast(p->comm, &segments, sizeof segments, 0);
    p->n_leaves = (size_t)segments + 1;
    return st;
}

void aic_proof_root(const aic_proof *p, char hex[65], int64_t *segments) {
    memcpy(hex, p->root, 65);
    *segments = (int64_t)p->n_leaves - 1;
}

void aic_proof_destroy(aic_proof *p) {
    if (!p)
        return;
    if (p->writer.running)
        pthread_join(p->writer.thread, NULL);
    aic_checkpoint_snapshot_free(p->writer.state);
    free(p->writer.digests);
    if (p->log)
        fclose(p->log);
    free(p->digests);
    free(p->leaves);
    free(p->chunk);
    EVP_MD_CTX_free(p->chain);
    free(p);
}
