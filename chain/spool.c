// SPDX-License-Identifier: Apache-2.0
/* The spool: records a destination did not take yet, one file each, sent again by a later run or
 * `aicon ledger flush`. A file is {"uri", "chainId", "open", "record"}: everything delivery needs. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/adapter.h"
#include "core/atomic_file.h"
#include "core/error.h"

aic_status aic_spool_dir(const char *flag, char *out, size_t size) {
    int n;
    if (flag && *flag)
        n = snprintf(out, size, "%s", flag);
    else if (getenv("AICON_SPOOL") && *getenv("AICON_SPOOL"))
        n = snprintf(out, size, "%s", getenv("AICON_SPOOL"));
    else if (getenv("HOME") && *getenv("HOME"))
        n = snprintf(out, size, "%s/.aicon/spool", getenv("HOME"));
    else
        return aic_fail(AIC_ERR_INVALID_ARG, "no spool directory: pass --spool DIR, or set $AICON_SPOOL or $HOME");
    if (n < 0 || (size_t)n >= size)
        return aic_fail(AIC_ERR_INVALID_ARG, "spool path is longer than %zu bytes", size - 1);
    return AIC_OK;
}

/* mkdir -p with mode 0700: records name hosts and miners. */
static aic_status make_dirs(const char *dir) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return aic_fail(AIC_ERR_INVALID_ARG, "spool %s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return aic_fail(AIC_ERR_IO, "spool %s: mkdir %s: %s", dir, path, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return AIC_OK;
}

/* <job id, 16 hex>-r<rank>-s<seq>-<keccak of the URI, 8 hex>.json */
static void spool_name(const char *dir, const aic_usage_dest *d, const aic_usage_core *c, char *out, size_t size) {
    uint8_t h[32];
    aic_keccak256(d->uri, strlen(d->uri), h);
    char job[67], dest[67];
    aic_hex_encode(c->job_id, 8, job);
    aic_hex_encode(h, 4, dest);
    snprintf(out, size, "%s/%s-r%" PRIu32 "-s%" PRIu64 "-%s.json", dir, job + 2, c->rank, c->seq, dest + 2);
}

aic_status aic_spool_put(const char *dir, const aic_usage_dest *d, const aic_usage_job *job,
                         const aic_usage_record *recs, int n) {
    AIC_TRY(make_dirs(dir));
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "uri", json_object_new_string(d->uri));
        json_object_object_add(o, "chainId", json_object_new_uint64(d->domain.chain_id));
        json_object_object_add(o, "open", aic_usage_job_json(job));
        json_object_object_add(o, "record", aic_usage_record_json(&recs[i]));
        char path[1100];
        spool_name(dir, d, &recs[i].core, path, sizeof path);
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        /* 0600, like the directory: records name hosts and miners. */
        aic_status st = aic_atomic_write(path, text, strlen(text), 0600, "the spooled usage record");
        json_object_put(o);
        AIC_TRY(st);
    }
    return AIC_OK;
}

void aic_spool_remove(const char *dir, const aic_usage_dest *d, const aic_usage_record *recs, int n) {
    for (int i = 0; i < n; i++) {
        char path[1100];
        spool_name(dir, d, &recs[i].core, path, sizeof path);
        unlink(path);
    }
}

/* Deliver one spool file; on success remove it. */
static aic_status flush_one(const char *dir, const char *path, const aic_key *key, int timeout_ms) {
    json_object *o = json_object_from_file(path), *uri, *chain, *open, *rec;
    if (!o)
        return aic_fail(AIC_ERR_FORMAT, "%s: not JSON (%s)", path, json_util_get_last_err());
    aic_status st = AIC_OK;
    aic_usage_dest d;
    aic_usage_job job = {0};
    aic_usage_record *r = malloc(sizeof *r);
    if (!r)
        st = aic_fail(AIC_ERR_NOMEM, "%s", path);
    else if (!json_object_object_get_ex(o, "uri", &uri) || !json_object_object_get_ex(o, "chainId", &chain) ||
             !json_object_object_get_ex(o, "open", &open) || !json_object_object_get_ex(o, "record", &rec))
        st = aic_fail(AIC_ERR_FORMAT, "%s: needs uri, chainId, open and record", path);
    if (st == AIC_OK)
        st = aic_usage_dest_parse(json_object_get_string(uri), &d);
    if (st == AIC_OK && d.kind == AIC_DEST_ETH) {
        /* The record was signed for the chain it was spooled for: deliver it to that chain only. */
        d.domain.chain_id = json_object_get_uint64(chain);
        d.chain_id_known = true;
    }
    if (st == AIC_OK)
        st = aic_usage_job_parse(open, &job);
    if (st == AIC_OK)
        st = aic_usage_record_parse(rec, r);
    if (st == AIC_OK)
        st = aic_usage_deliver(&d, &job, r, 1, key, timeout_ms);
    if (st == AIC_OK)
        aic_spool_remove(dir, &d, r, 1);
    else
        aic_fail_context(st, "%s: ", path);
    aic_usage_job_free(&job);
    free(r);
    json_object_put(o);
    return st;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

aic_status aic_spool_flush(const char *dir, const aic_key *key, int timeout_ms, FILE *log, int *sent, int *left) {
    *sent = *left = 0;
    DIR *dh = opendir(dir);
    if (!dh) {
        if (errno == ENOENT) /* nothing was ever spooled */
            return AIC_OK;
        return aic_fail(AIC_ERR_IO, "spool %s: %s", dir, strerror(errno));
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    aic_status st = AIC_OK;
    for (struct dirent *e; (e = readdir(dh)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                st = aic_fail(AIC_ERR_NOMEM, "spool %s: listing", dir);
                break;
            }
            names = p;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            st = aic_fail(AIC_ERR_NOMEM, "spool %s: listing", dir);
            break;
        }
        n++;
    }
    closedir(dh);
    /* Name order puts a job's ranks together, rank 0 first. An empty spool has no list (names is
     * NULL), and qsort must not be given a null pointer even for no elements. */
    if (st == AIC_OK && n > 1)
        qsort(names, n, sizeof *names, by_name);
    aic_status first_failure = AIC_OK;
    for (size_t i = 0; i < n && st == AIC_OK; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        aic_status one = flush_one(dir, path, key, timeout_ms);
        if (one == AIC_OK) {
            (*sent)++;
        } else {
            (*left)++;
            if (log)
                fprintf(log, "aicon: not delivered, kept in the spool: %s\n", aic_last_error());
            if (first_failure == AIC_OK)
                first_failure = one;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (st != AIC_OK)
        return st;
    if (first_failure != AIC_OK)
        return aic_fail(first_failure, "%d spooled record%s in %s not delivered", *left, *left == 1 ? "" : "s", dir);
    return AIC_OK;
}
