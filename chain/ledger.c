// SPDX-License-Identifier: Apache-2.0
/* The file ledger: append-only JSON lines, each {"prev": keccak256 of the line before, "open"|"record": ...},
 * appended under an exclusive flock and fsync'd; verify and show read it back. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/adapter.h"
#include "core/error.h"
#include "core/grow.h"

/* The whole file, NUL-terminated. */
static aic_status read_all(int fd, const char *path, char **out, size_t *len) {
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "ledger %s: %s", path, strerror(errno));
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf)
        return aic_fail(AIC_ERR_NOMEM, "ledger %s: %lld bytes", path, (long long)sb.st_size);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = pread(fd, buf + got, (size_t)sb.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return aic_fail(AIC_ERR_IO, "ledger %s: %s", path, n < 0 ? strerror(errno) : "shrank while reading");
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return AIC_OK;
}

/* The whole ledger under a shared lock: a consistent snapshot while a job appends. */
static aic_status read_snapshot(const char *path, char **out, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "ledger %s: %s", path, strerror(errno));
    flock(fd, LOCK_SH);
    aic_status st = read_all(fd, path, out, len);
    close(fd);
    return st;
}

/* Calls fn on each line (without its newline) with its 1-based number; stops at fn's first failure. */
typedef aic_status (*line_fn)(void *ctx, char *line, size_t len, long lineno);
static aic_status for_each_line(char *buf, size_t len, line_fn fn, void *ctx) {
    long lineno = 0;
    for (size_t at = 0; at < len;) {
        char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len;
        lineno++;
        buf[end] = '\0';
        AIC_TRY(fn(ctx, buf + at, end - at, lineno));
        at = end + 1;
    }
    return AIC_OK;
}

/* ---- what a ledger already holds ---------------------------------------------------------------- */

typedef struct {
    uint8_t job_id[32];
    uint32_t rank;
    uint64_t seq, prev_seq;
    long line;
} record_key;

typedef struct {
    uint8_t job_id[32];
    int n_ranks;
    uint8_t (*ranks)[20];
    long line;
} opened_job;

typedef struct {
    const char *path;
    bool check; /* verify: signatures and the rules; append: only the keys and the last hash */
    uint8_t prev[32];
    opened_job *jobs;
    size_t n_jobs, cap_jobs;
    record_key *keys;
    size_t n_keys, cap_keys;
    long entries;
} ledger_state;

static void state_free(ledger_state *s) {
    for (size_t i = 0; i < s->n_jobs; i++)
        free(s->jobs[i].ranks);
    free(s->jobs);
    free(s->keys);
    s->jobs = NULL;
    s->keys = NULL;
    s->n_jobs = s->cap_jobs = 0;
    s->n_keys = s->cap_keys = 0;
}

static const opened_job *find_job(const ledger_state *s, const uint8_t job_id[32]) {
    for (size_t i = 0; i < s->n_jobs; i++)
        if (memcmp(s->jobs[i].job_id, job_id, 32) == 0)
            return &s->jobs[i];
    return NULL;
}

static const record_key *find_key(const ledger_state *s, const aic_usage_core *c) {
    for (size_t i = 0; i < s->n_keys; i++)
        if (s->keys[i].rank == c->rank && s->keys[i].seq == c->seq && memcmp(s->keys[i].job_id, c->job_id, 32) == 0)
            return &s->keys[i];
    return NULL;
}

static aic_status add_job(ledger_state *s, aic_usage_job *j, long line) {
    if (!aic_grow((void **)&s->jobs, &s->cap_jobs, s->n_jobs + 1, sizeof *s->jobs, 8))
        return aic_fail(AIC_ERR_NOMEM, "ledger %s: job table", s->path);
    opened_job *o = &s->jobs[s->n_jobs++];
    memcpy(o->job_id, j->job_id, 32);
    o->n_ranks = j->n_ranks;
    o->ranks = j->ranks; /* taken over */
    j->ranks = NULL;
    o->line = line;
    return AIC_OK;
}

static aic_status add_key(ledger_state *s, const aic_usage_core *c, long line) {
    if (!aic_grow((void **)&s->keys, &s->cap_keys, s->n_keys + 1, sizeof *s->keys, 64))
        return aic_fail(AIC_ERR_NOMEM, "ledger %s: record table", s->path);
    record_key *k = &s->keys[s->n_keys++];
    memcpy(k->job_id, c->job_id, 32);
    k->rank = c->rank;
    k->seq = c->seq;
    k->prev_seq = c->prev_seq;
    k->line = line;
    return AIC_OK;
}

static aic_status check_open(ledger_state *s, aic_usage_job *j, long lineno) {
    char id[67];
    aic_hex_encode(j->job_id, 32, id);
    const opened_job *before = find_job(s, j->job_id);
    if (before)
        return aic_fail(AIC_ERR_MISMATCH, "job %s was already opened at line %ld", id, before->line);
    if (!s->check)
        return AIC_OK;
    uint8_t digest[32], signer[20];
    aic_usage_open_digest(j, digest);
    if (aic_recover_address(digest, j->sig, signer) != AIC_OK)
        return aic_fail_context(AIC_ERR_MISMATCH, "opening of job %s: bad signature: ", id);
    if (memcmp(signer, j->owner, 20) != 0 || memcmp(j->owner, j->ranks[0], 20) != 0)
        return aic_fail(AIC_ERR_MISMATCH, "opening of job %s is not signed by its owner, rank 0", id);
    return AIC_OK;
}

static aic_status check_record(ledger_state *s, const aic_usage_record *r) {
    const aic_usage_core *c = &r->core;
    char id[67];
    aic_hex_encode(c->job_id, 32, id);
    const record_key *dup = find_key(s, c);
    if (dup)
        return aic_fail(AIC_ERR_MISMATCH, "record (job %s, rank %u, seq %llu) is a replay of line %ld", id,
                        (unsigned)c->rank, (unsigned long long)c->seq, dup->line);
    if (!s->check)
        return AIC_OK;
    if (c->prev_seq > c->seq)
        return aic_fail(AIC_ERR_MISMATCH, "record (job %s, rank %u, seq %llu) follows seq %llu, a later one", id,
                        (unsigned)c->rank, (unsigned long long)c->seq, (unsigned long long)c->prev_seq);
    const opened_job *j = find_job(s, c->job_id);
    if (!j)
        return aic_fail(AIC_ERR_MISMATCH, "record for job %s, which was never opened", id);
    if (c->rank >= (uint32_t)j->n_ranks)
        return aic_fail(AIC_ERR_MISMATCH, "record for rank %u of job %s, which has %d ranks", (unsigned)c->rank, id,
                        j->n_ranks);
    const aic_eip712_domain file_domain = {0};
    uint8_t signer[20];
    if (aic_usage_record_check(&file_domain, r, signer) != AIC_OK)
        return aic_fail_context(AIC_ERR_MISMATCH, "record (job %s, rank %u, seq %llu): ", id, (unsigned)c->rank,
                                (unsigned long long)c->seq);
    if (memcmp(signer, j->ranks[c->rank], 20) != 0) {
        char who[43], want[43];
        aic_hex_encode(signer, 20, who);
        aic_hex_encode(j->ranks[c->rank], 20, want);
        return aic_fail(AIC_ERR_MISMATCH,
                        "record (job %s, rank %u) is signed by %s, not by rank %u's key %s (opened at line %ld)", id,
                        (unsigned)c->rank, who, (unsigned)c->rank, want, j->line);
    }
    return AIC_OK;
}

/* ---- one line, in one form only ----------------------------------------------------------------- */

/* A line holds at most this: an opening of AIC_USAGE_MAX_RANKS ranks, or a record whose details
 * are escaped six bytes to one. Longer ones are refused before json-c allocates for them. */
#define LEDGER_MAX_LINE (4u << 20)
/* Objects in a line: the entry and the opening or record inside it. */
#define LEDGER_MAX_DEPTH 2

/* The key whose text starts at line[at] (its opening quote) and ends at line[end] (its closing
 * quote), unescaped by json-c; NULL when it holds a NUL byte (json-c would cut it there). */
static json_object *decode_key(const char *line, size_t at, size_t end) {
    json_tokener *tok = json_tokener_new();
    json_object *k = tok ? json_tokener_parse_ex(tok, line + at, (int)(end + 1 - at)) : NULL;
    json_tokener_free(tok);
    if (k && (!json_object_is_type(k, json_type_string) ||
              strlen(json_object_get_string(k)) != (size_t)json_object_get_string_len(k))) {
        json_object_put(k);
        k = NULL;
    }
    return k;
}

/* What json-c's parse hides, checked on the raw text (bounded on any text; json-c must then accept
 * it as one object): a key given twice in one object (json-c keeps the last, another reader the
 * first), a key holding NUL, numbers other than plain non-negative integers without leading zeros
 * that fit 64 bits (json-c reads 1.0, 1e0, -0, 01 and 2^64 as the same or a clamped value), objects
 * nested deeper than an entry, whitespace outside strings (json-c writes none, and skips it, even
 * after the object, when it reads). */
static aic_status check_text(const char *line, size_t len) {
    json_object *seen[LEDGER_MAX_DEPTH] = {0}; /* the keys of each open object, as a set */
    int depth = 0;
    char field[72] = "";
    aic_status st = AIC_OK;
    for (size_t i = 0; i < len && st == AIC_OK; i++) {
        const char c = line[i];
        if (c == '"') {
            size_t end = i + 1;
            while (end < len && line[end] != '"')
                end += line[end] == '\\' ? 2 : 1;
            if (end + 1 < len && line[end + 1] == ':' && depth > 0) {
                json_object *k = decode_key(line, i, end);
                if (!k) {
                    st = aic_fail(AIC_ERR_FORMAT, "a key at byte %zu holds a NUL byte", i);
                } else {
                    snprintf(field, sizeof field, "%s", json_object_get_string(k));
                    if (json_object_object_get_ex(seen[depth - 1], json_object_get_string(k), NULL))
                        st = aic_fail(AIC_ERR_FORMAT, "field '%.64s' appears twice in one object", field);
                    else
                        json_object_object_add(seen[depth - 1], json_object_get_string(k), NULL);
                    json_object_put(k);
                }
            }
            i = end;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            st = aic_fail(AIC_ERR_FORMAT, "whitespace at byte %zu: a ledger line has none outside its strings", i);
        } else if (c == '{') {
            if (depth == LEDGER_MAX_DEPTH)
                st = aic_fail(AIC_ERR_FORMAT, "field '%.64s' holds an object; a ledger entry nests none there", field);
            else
                seen[depth++] = json_object_new_object();
        } else if (c == '}' && depth > 0) {
            json_object_put(seen[--depth]);
            seen[depth] = NULL;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t end = i;
            while (end < len && line[end] != '\0' && strchr("+-.0123456789eE", line[end]))
                end++;
            bool plain = c != '-' && end - i <= 20 && (c != '0' || end - i == 1);
            for (size_t k = i; k < end && plain; k++)
                plain = line[k] >= '0' && line[k] <= '9';
            /* 20 digits may still pass 2^64 - 1 */
            if (plain && end - i == 20 && strncmp(line + i, "18446744073709551615", 20) > 0)
                plain = false;
            if (!plain)
                st = aic_fail(AIC_ERR_FORMAT, "field '%.64s' is %.*s%s, not a plain integer of 0 to 2^64 - 1", field,
                              (int)(end - i > 40 ? 40 : end - i), line + i, end - i > 40 ? "..." : "");
            i = end - 1;
        }
    }
    for (int d = 0; d < depth; d++)
        json_object_put(seen[d]);
    return st;
}

/* The line as one JSON object holding exactly "prev" and one of "open" and "record", or an error
 * naming what is wrong; *kind is that entry's name and *body its value. */
static aic_status parse_line(const char *line, size_t len, json_object **out, const char **kind, json_object **body) {
    *out = NULL;
    if (len > LEDGER_MAX_LINE)
        return aic_fail(AIC_ERR_FORMAT, "%zu bytes, more than the %u a ledger line may hold", len, LEDGER_MAX_LINE);
    const char *nul = memchr(line, '\0', len);
    if (nul)
        return aic_fail(AIC_ERR_FORMAT, "a NUL byte at byte %zu", (size_t)(nul - line));
    /* Before json-c, which would refuse some numbers without naming their field. */
    AIC_TRY(check_text(line, len));
    json_tokener *tok = json_tokener_new_ex(LEDGER_MAX_DEPTH + 2);
    if (!tok)
        return aic_fail(AIC_ERR_NOMEM, "JSON parser");
    /* Trailing text is let through here only to be refused below with its own message. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    const enum json_tokener_error err = json_tokener_get_error(tok);
    const size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    aic_status st = AIC_OK;
    if (err != json_tokener_success || !o)
        st = aic_fail(AIC_ERR_FORMAT, "not one JSON object (%s at byte %zu)",
                      err == json_tokener_continue ? "it ends too soon" : json_tokener_error_desc(err), end);
    else if (!json_object_is_type(o, json_type_object))
        st = aic_fail(AIC_ERR_FORMAT, "a JSON %s, not an object", json_type_to_name(json_object_get_type(o)));
    else if (end != len)
        st = aic_fail(AIC_ERR_FORMAT, "text after the JSON object at byte %zu: a line holds one entry", end);
    *kind = NULL;
    if (st == AIC_OK) {
        json_object_object_foreach(o, key, val) {
            if (strcmp(key, "prev") == 0)
                continue;
            if (strcmp(key, "open") != 0 && strcmp(key, "record") != 0)
                st = aic_fail(AIC_ERR_FORMAT, "field '%.64s' is not one of a ledger entry's (prev, open or record)", key);
            else if (*kind)
                st = aic_fail(AIC_ERR_FORMAT, "holds both '%s' and '%s': a line is one entry", *kind, key);
            if (st != AIC_OK)
                break;
            *kind = key;
            *body = val;
        }
    }
    if (st == AIC_OK && !*kind)
        st = aic_fail(AIC_ERR_FORMAT, "neither an 'open' nor a 'record' entry");
    if (st != AIC_OK) {
        json_object_put(o);
        return st;
    }
    *out = o;
    return AIC_OK;
}

static aic_status scan_line(void *ctx, char *line, size_t len, long lineno) {
    ledger_state *s = ctx;
    json_object *o = NULL, *body = NULL, *prev = NULL;
    const char *kind = NULL;
    uint8_t prev_hash[32];
    aic_status st = parse_line(line, len, &o, &kind, &body);
    if (st == AIC_OK && !json_object_object_get_ex(o, "prev", &prev))
        st = aic_fail(AIC_ERR_FORMAT, "no 'prev' hash");
    if (st == AIC_OK)
        st = aic_usage_hex_field(prev, "prev", prev_hash, 32);
    if (st == AIC_OK && s->check && memcmp(prev_hash, s->prev, 32) != 0)
        st = aic_fail(AIC_ERR_MISMATCH, "'prev' is not the hash of line %ld: the ledger was edited, reordered or cut",
                      lineno - 1);
    if (st == AIC_OK && strcmp(kind, "open") == 0) {
        aic_usage_job j;
        st = aic_usage_job_parse(body, &j);
        if (st != AIC_OK)
            aic_fail_context(st, "open: ");
        else
            st = check_open(s, &j, lineno);
        if (st == AIC_OK)
            st = add_job(s, &j, lineno);
        aic_usage_job_free(&j);
    } else if (st == AIC_OK) {
        aic_usage_record *r = malloc(sizeof *r);
        st = r ? aic_usage_record_parse(body, r) : aic_fail(AIC_ERR_NOMEM, "record");
        if (st != AIC_OK)
            aic_fail_context(st, "record: ");
        else
            st = check_record(s, r);
        if (st == AIC_OK)
            st = add_key(s, &r->core, lineno);
        free(r);
    }
    json_object_put(o);
    if (st != AIC_OK)
        return aic_fail_context(st, "ledger %s line %ld: ", s->path, lineno);
    aic_keccak256(line, len, s->prev);
    s->entries++;
    return AIC_OK;
}

/* ---- append ------------------------------------------------------------------------------------- */

static aic_status write_entry(int fd, const char *path, ledger_state *s, const char *kind, json_object *body) {
    json_object *e = json_object_new_object();
    char prev[67];
    aic_hex_encode(s->prev, 32, prev);
    json_object_object_add(e, "prev", json_object_new_string(prev));
    json_object_object_add(e, kind, json_object_get(body));
    size_t len;
    const char *text = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    aic_status st = AIC_OK;
    char *line = malloc(len + 1);
    if (!line) {
        st = aic_fail(AIC_ERR_NOMEM, "ledger %s: entry", path);
    } else {
        memcpy(line, text, len);
        line[len] = '\n';
        size_t done = 0;
        while (done < len + 1 && st == AIC_OK) {
            ssize_t n = write(fd, line + done, len + 1 - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                st = aic_fail(AIC_ERR_IO, "ledger %s: %s", path, strerror(errno));
            else
                done += (size_t)n;
        }
        if (st == AIC_OK)
            aic_keccak256(line, len, s->prev);
        free(line);
    }
    json_object_put(e);
    return st;
}

/* Opens path for appending and locks it; reads what it holds into s. */
static aic_status open_locked(const char *path, ledger_state *s, int *fd_out) {
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "ledger %s: %s", path, strerror(errno));
    /* Concurrent jobs appending to one ledger take turns: each reads the tail hash under the lock. */
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return aic_fail(AIC_ERR_IO, "ledger %s: flock: %s", path, strerror(errno));
        }
    }
    char *buf;
    size_t len;
    aic_status st = read_all(fd, path, &buf, &len);
    if (st == AIC_OK) {
        if (len > 0 && buf[len - 1] != '\n')
            st = aic_fail(AIC_ERR_FORMAT, "ledger %s: the last line is cut short (a crash while writing?); "
                                          "move the ledger aside or repair it", path);
        else
            st = for_each_line(buf, len, scan_line, s);
        free(buf);
    }
    if (st != AIC_OK) {
        close(fd);
        state_free(s); /* the jobs and keys read before the bad line */
        return st;
    }
    *fd_out = fd;
    return AIC_OK;
}

static aic_status close_synced(int fd, const char *path, aic_status st) {
    if (st == AIC_OK && fsync(fd) != 0)
        st = aic_fail(AIC_ERR_IO, "ledger %s: fsync: %s", path, strerror(errno));
    close(fd); /* releases the lock */
    return st;
}

aic_status aic_ledger_append(const char *path, const aic_usage_job *job, const aic_usage_record *recs, int n) {
    ledger_state s = {.path = path};
    int fd;
    AIC_TRY(open_locked(path, &s, &fd));
    aic_status st = AIC_OK;
    if (!find_job(&s, job->job_id)) {
        json_object *o = aic_usage_job_json(job);
        st = write_entry(fd, path, &s, "open", o);
        json_object_put(o);
    }
    for (int i = 0; i < n && st == AIC_OK; i++) {
        if (find_key(&s, &recs[i].core)) /* delivered before: idempotent */
            continue;
        json_object *o = aic_usage_record_json(&recs[i]);
        st = write_entry(fd, path, &s, "record", o);
        json_object_put(o);
        if (st == AIC_OK)
            st = add_key(&s, &recs[i].core, 0);
    }
    state_free(&s);
    return close_synced(fd, path, st);
}

aic_status aic_ledger_append_entry(const char *path, json_object *entry) {
    ledger_state s = {.path = path};
    int fd;
    AIC_TRY(open_locked(path, &s, &fd));
    json_object *open, *rec;
    aic_status st;
    if (json_object_object_get_ex(entry, "open", &open))
        st = write_entry(fd, path, &s, "open", open);
    else if (json_object_object_get_ex(entry, "record", &rec))
        st = write_entry(fd, path, &s, "record", rec);
    else
        st = aic_fail(AIC_ERR_FORMAT, "an entry to append holds neither 'open' nor 'record'");
    state_free(&s);
    return close_synced(fd, path, st);
}

static int by_job_seq_rank(const void *pa, const void *pb) {
    const record_key *a = pa, *b = pb;
    int c = memcmp(a->job_id, b->job_id, 32);
    if (c == 0)
        c = (a->seq > b->seq) - (a->seq < b->seq);
    if (c == 0)
        c = (a->rank > b->rank) - (a->rank < b->rank);
    return c;
}

/* Every rank of a run signs a record whose seq is the run's final step, so a job's records come in
 * sets: for each seq one rank signed, each rank of the signed opening signed one too, and an opened
 * job has at least one set. A record deleted (the chain recomputed after it or not) or a ledger cut
 * after a record breaks a set. Each record also names the seq of the rank's record of the run it
 * resumed from (prevSeq), so a whole set taken out of the middle of a job leaves a record naming a
 * seq the ledger lacks; only the newest set of a job can go unnoticed, as a run not yet delivered. */
static aic_status check_complete(ledger_state *s) {
    if (s->n_keys > 1)
        qsort(s->keys, s->n_keys, sizeof *s->keys, by_job_seq_rank);
    bool *has_records = calloc(s->n_jobs + 1, sizeof *has_records);
    if (!has_records)
        return aic_fail(AIC_ERR_NOMEM, "ledger %s: job table", s->path);
    aic_status st = AIC_OK;
    for (size_t g = 0; g < s->n_keys && st == AIC_OK;) {
        const record_key *first = &s->keys[g];
        size_t n = 1;
        while (g + n < s->n_keys && memcmp(first->job_id, s->keys[g + n].job_id, 32) == 0 &&
               first->seq == s->keys[g + n].seq)
            n++;
        const opened_job *j = find_job(s, first->job_id); /* verify refused records of jobs never opened */
        has_records[j - s->jobs] = true;
        if (n != (size_t)j->n_ranks) {
            uint32_t missing = 0;
            while (missing < n && s->keys[g + missing].rank == missing)
                missing++;
            char id[67];
            aic_hex_encode(first->job_id, 32, id);
            st = aic_fail(AIC_ERR_MISMATCH,
                          "ledger %s: job %s (opened at line %ld) is incomplete: rank %u has no record of seq %llu, "
                          "which rank %u signed at line %ld (a record was deleted or the ledger cut)",
                          s->path, id, j->line, (unsigned)missing, (unsigned long long)first->seq,
                          (unsigned)first->rank, first->line);
        }
        g += n;
    }
    for (size_t i = 0; i < s->n_keys && st == AIC_OK; i++) {
        const record_key *k = &s->keys[i];
        record_key want = {.rank = k->rank, .seq = k->prev_seq};
        memcpy(want.job_id, k->job_id, 32);
        if (k->prev_seq == 0 || bsearch(&want, s->keys, s->n_keys, sizeof *s->keys, by_job_seq_rank))
            continue;
        char id[67];
        aic_hex_encode(k->job_id, 32, id);
        st = aic_fail(AIC_ERR_MISMATCH,
                      "ledger %s line %ld: rank %u's record of seq %llu (job %s) resumed from its record of seq %llu, "
                      "which the ledger lacks (a record was deleted)",
                      s->path, k->line, (unsigned)k->rank, (unsigned long long)k->seq, id,
                      (unsigned long long)k->prev_seq);
    }
    for (size_t i = 0; i < s->n_jobs && st == AIC_OK; i++) {
        if (!has_records[i]) {
            char id[67];
            aic_hex_encode(s->jobs[i].job_id, 32, id);
            st = aic_fail(AIC_ERR_MISMATCH,
                          "ledger %s line %ld: job %s is opened but has no records (deleted, or the ledger cut)",
                          s->path, s->jobs[i].line, id);
        }
    }
    free(has_records);
    return st;
}

aic_status aic_ledger_verify(const char *path, long *entries) {
    ledger_state s = {.path = path, .check = true};
    *entries = 0;
    char *buf;
    size_t len;
    AIC_TRY(read_snapshot(path, &buf, &len));
    const bool cut = len > 0 && buf[len - 1] != '\n'; /* for_each_line overwrites the newlines */
    aic_status st = for_each_line(buf, len, scan_line, &s);
    if (st == AIC_OK && cut)
        st = aic_fail(AIC_ERR_FORMAT, "ledger %s line %ld: cut short (no newline)", path, s.entries);
    if (st == AIC_OK)
        st = check_complete(&s);
    free(buf);
    *entries = s.entries;
    state_free(&s);
    return st;
}

/* ---- show --------------------------------------------------------------------------------------- */

typedef struct {
    FILE *out;
    uint8_t last_job[32];
    bool any;
} show_state;

static aic_status show_line(void *ctx, char *line, size_t len, long lineno) {
    show_state *s = ctx;
    json_object *o = json_tokener_parse(line), *rec;
    if (!o || !json_object_object_get_ex(o, "record", &rec)) {
        json_object_put(o);
        return AIC_OK;
    }
    aic_usage_record *r = malloc(sizeof *r);
    if (r && aic_usage_record_parse(rec, r) == AIC_OK) {
        const aic_usage_core *c = &r->core;
        if (!s->any || memcmp(s->last_job, c->job_id, 32) != 0) {
            char id[67];
            aic_hex_encode(c->job_id, 32, id);
            json_object *d = json_tokener_parse(r->details), *name;
            fprintf(s->out, "%sjob %s", s->any ? "\n" : "", id);
            if (d && json_object_object_get_ex(d, "job", &name))
                fprintf(s->out, " (%s)", json_object_get_string(name));
            fprintf(s->out, "\n  %-4s %-42s %6s %8s %9s %9s %10s %6s %12s %12s\n", "rank", "miner", "seq", "steps",
                    "samples", "wall s", "device s", "MFLOP", "bytes sent", "bytes recv");
            json_object_put(d);
            memcpy(s->last_job, c->job_id, 32);
            s->any = true;
        }
        char miner[43];
        aic_hex_encode(c->miner, 20, miner);
        fprintf(s->out, "  %-4u %-42s %6llu %8llu %9llu %9.2f %10.2f %6llu %12llu %12llu\n", (unsigned)c->rank, miner,
                (unsigned long long)c->seq, (unsigned long long)c->steps, (unsigned long long)c->samples,
                (double)c->wall_ms / 1000.0, (double)c->device_ms / 1000.0, (unsigned long long)c->mflops,
                (unsigned long long)c->bytes_sent, (unsigned long long)c->bytes_recv);
    }
    free(r);
    json_object_put(o);
    return AIC_OK;
}

aic_status aic_ledger_show(const char *path, FILE *out) {
    long entries;
    AIC_TRY(aic_ledger_verify(path, &entries)); /* a table of what verify refuses would pass on forgeries */
    char *buf;
    size_t len;
    AIC_TRY(read_snapshot(path, &buf, &len));
    show_state s = {.out = out};
    aic_status st = for_each_line(buf, len, show_line, &s);
    if (!s.any)
        fprintf(out, "%s holds no records\n", path);
    free(buf);
    return st;
}
