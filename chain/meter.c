// SPDX-License-Identifier: Apache-2.0
/* Metering, signing and gathering the usage records of a training run; delivery at its end. */
#include "chain/meter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/adapter.h"
#include "core/error.h"

struct aic_meter {
    aic_usage_dest dests[AIC_METER_MAX_DESTS];
    int n_dests;
    char spool[1024];
    int timeout_ms;
    aic_key key;
    char job_text[128];
    uint8_t job_id[32];
    uint8_t dataset_hash[32];
    time_t start;
    double t0;
    double busy;
    uint64_t steps, samples;
};

static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The key path with each %r replaced by the rank. */
static aic_status rank_key_path(const char *flag, int rank, char *out, size_t size) {
    char pattern[1024];
    AIC_TRY(aic_key_path(flag, pattern, sizeof pattern));
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        int n = (p[0] == '%' && p[1] == 'r') ? snprintf(out + o, size - o, "%d", rank) : snprintf(out + o, size - o, "%c", *p);
        if (n < 0 || (size_t)n >= size - o)
            return aic_fail(AIC_ERR_INVALID_ARG, "key path %s is too long", pattern);
        o += (size_t)n;
        if (p[0] == '%' && p[1] == 'r')
            p++;
    }
    return AIC_OK;
}

static void job_text(char *out, size_t size) {
    static const struct {
        const char *var, *prefix;
    } sources[] = {{"SLURM_JOB_ID", "slurm"}, {"OMPI_MCA_orte_ess_jobid", "ompi"}, {"PMIX_NAMESPACE", "pmix"}};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        const char *v = getenv(sources[i].var);
        if (v && *v) {
            snprintf(out, size, "%s:%s", sources[i].prefix, v);
            return;
        }
    }
    uint8_t r[16] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { /* still unique enough per host and moment */
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(r, &t, sizeof t);
    }
    char hex[35];
    aic_hex_encode(r, sizeof r, hex);
    snprintf(out, size, "gen:%s", hex + 2);
}

/* ---- the data set's hash: SHA-256 over each file's name and bytes, in path order ----------------- */

static aic_status hash_file(EVP_MD_CTX *ctx, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "hashing the data set: %s: %s", path, strerror(errno));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    EVP_DigestUpdate(ctx, base, strlen(base) + 1);
    uint8_t buf[1 << 16];
    aic_status st = AIC_OK;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = aic_fail(AIC_ERR_IO, "hashing the data set: %s: %s", path, strerror(errno));
        if (n <= 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    close(fd);
    return st;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A directory's regular files, sorted (an IDX directory: the train-* and t10k-* files read). */
static aic_status hash_dir(EVP_MD_CTX *ctx, const char *dir) {
    DIR *dh = opendir(dir);
    if (!dh)
        return aic_fail(AIC_ERR_IO, "hashing the data set: %s: %s", dir, strerror(errno));
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(dh)) != NULL && n < 256;)
        if (strncmp(e->d_name, "train-", 6) == 0 || strncmp(e->d_name, "t10k-", 5) == 0)
            names[n++] = strdup(e->d_name);
    closedir(dh);
    aic_status st = AIC_OK;
    for (int i = 0; i < n; i++)
        if (!names[i])
            st = aic_fail(AIC_ERR_NOMEM, "hashing the data set");
    if (st == AIC_OK)
        qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n && st == AIC_OK; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            st = hash_file(ctx, path);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    return st;
}

static aic_status hash_data(const char *const *files, uint8_t out[32]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        return aic_fail(AIC_ERR_INTERNAL, "SHA-256 context");
    }
    aic_status st = AIC_OK;
    for (int i = 0; files && files[i] && st == AIC_OK; i++) {
        struct stat sb;
        if (stat(files[i], &sb) != 0)
            st = aic_fail(AIC_ERR_IO, "hashing the data set: %s: %s", files[i], strerror(errno));
        else
            st = S_ISDIR(sb.st_mode) ? hash_dir(ctx, files[i]) : hash_file(ctx, files[i]);
    }
    unsigned len = 0;
    if (!EVP_DigestFinal_ex(ctx, out, &len) && st == AIC_OK)
        st = aic_fail(AIC_ERR_INTERNAL, "SHA-256 final");
    EVP_MD_CTX_free(ctx);
    return st;
}

/* ---- start ------------------------------------------------------------------------------------- */

/* What rank 0 learns and every rank needs. */
typedef struct {
    int32_t status;
    char job_text[128];
    uint8_t dataset_hash[32];
    uint64_t chain_ids[AIC_METER_MAX_DESTS];
} start_facts;

aic_status aic_meter_start(aic_comm_t *c, const aic_meter_config *cfg, const char *const *data_files, aic_meter **out) {
    *out = NULL;
    const int rank = aic_comm_rank(c);
    aic_meter *m = calloc(1, sizeof *m);
    aic_status st = m ? AIC_OK : aic_fail(AIC_ERR_NOMEM, "usage meter");
    bool off = false;
    char key_path[1024] = "";
    if (st == AIC_OK) {
        m->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
        st = rank_key_path(cfg->key, rank, key_path, sizeof key_path);
    }
    if (st == AIC_OK && cfg->n_uris == 0) {
        /* The default ledger only for a miner who has a key; anyone else trains without records. */
        struct stat sb;
        if (stat(key_path, &sb) != 0)
            off = true;
    }
    if (st == AIC_OK && !off) {
        const char *def = AIC_USAGE_DEFAULT_LEDGER;
        int n = cfg->n_uris ? cfg->n_uris : 1;
        for (int i = 0; i < n && st == AIC_OK; i++)
            st = aic_usage_dest_parse(cfg->n_uris ? cfg->uris[i] : def, &m->dests[i]);
        m->n_dests = n;
        if (st == AIC_OK)
            st = aic_key_load(key_path, &m->key);
        if (st == AIC_OK)
            st = aic_spool_dir(cfg->spool, m->spool, sizeof m->spool);
    }
    /* Every rank agrees on off (all see the same flags, but the key file may be missing on one). */
    int32_t off_all = off ? 1 : 0;
    aic_status agreed = aic_comm_agree(c, st);
    if (agreed != AIC_OK) {
        free(m);
        return agreed;
    }
    int64_t off_sum = off_all;
    AIC_TRY(aic_allreduce_sum_i64(c, &off_sum, 1));
    if (off_sum == aic_comm_size(c)) {
        free(m);
        return AIC_OK;
    }
    if (off_sum != 0) {
        free(m);
        return aic_fail(AIC_ERR_INVALID_ARG, "some ranks have a key file and some do not (%s on rank %d %s)", key_path,
                        rank, off ? "is missing" : "exists");
    }

    start_facts f = {0};
    if (rank == 0) {
        job_text(f.job_text, sizeof f.job_text);
        aic_status s0 = hash_data(data_files, f.dataset_hash);
        for (int i = 0; i < m->n_dests && s0 == AIC_OK; i++) {
            s0 = aic_usage_dest_resolve(&m->dests[i], m->timeout_ms);
            f.chain_ids[i] = m->dests[i].domain.chain_id;
        }
        f.status = s0;
    }
    aic_status bs = aic_broadcast(c, &f, sizeof f, 0);
    if (bs == AIC_OK && f.status != AIC_OK)
        bs = rank == 0 ? (aic_status)f.status
                       : aic_fail((aic_status)f.status, "rank 0 could not start usage metering (see its message)");
    if (bs != AIC_OK) {
        free(m);
        return bs;
    }
    for (int i = 0; i < m->n_dests; i++) {
        m->dests[i].domain.chain_id = f.chain_ids[i];
        m->dests[i].chain_id_known = true;
    }
    memcpy(m->job_text, f.job_text, sizeof m->job_text);
    aic_keccak256(m->job_text, strlen(m->job_text), m->job_id);
    memcpy(m->dataset_hash, f.dataset_hash, 32);
    m->start = time(NULL);
    m->t0 = monotonic();
    *out = m;
    return AIC_OK;
}

void aic_meter_step(aic_meter *m, double busy_seconds, int64_t samples) {
    if (!m)
        return;
    m->busy += busy_seconds;
    m->steps++;
    m->samples += (uint64_t)samples;
}

/* ---- finish ------------------------------------------------------------------------------------ */

/* What each rank sends rank 0: its record and one signature per destination. */
typedef struct {
    aic_usage_core core;
    char details[AIC_USAGE_MAX_DETAILS];
    uint8_t sigs[AIC_METER_MAX_DESTS][65];
    int32_t status;
} rank_record;

static void iso_time(time_t t, char out[32]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static aic_status make_record(aic_meter *m, aic_comm_t *c, const aic_meter_end *end, rank_record *r) {
    aic_usage_core *k = &r->core;
    memcpy(k->job_id, m->job_id, 32);
    k->rank = (uint32_t)aic_comm_rank(c);
    k->seq = end->final_step;
    k->prev_seq = end->prev_seq;
    memcpy(k->miner, m->key.address, 20);
    k->steps = m->steps;
    k->samples = m->samples;
    k->wall_ms = (uint64_t)((monotonic() - m->t0) * 1000.0 + 0.5);
    k->device_ms = (uint64_t)(m->busy * 1000.0 + 0.5);
    /* forward + backward ~ 3 x forward */
    k->mflops = (uint64_t)(3.0 * aic_model_flops_per_sample(end->model) * (double)m->samples / 1e6 + 0.5);
    aic_comm_traffic(c, &k->bytes_sent, &k->bytes_recv);
    AIC_TRY(aic_model_arch_hash(end->model, k->model_hash));
    memcpy(k->dataset_hash, m->dataset_hash, 32);
    AIC_TRY(aic_model_params_hash(end->model, k->params_hash));
    if (end->proof_root && *end->proof_root) { /* what aicon verify --root checks a proof log against */
        AIC_TRY(aic_hex_decode(end->proof_root, k->proof_root, 32));
        k->proof_segments = (uint64_t)end->proof_segments;
    }

    json_object *d = json_object_new_object();
    char host[256] = "", t0[32], t1[32];
    gethostname(host, sizeof host - 1);
    iso_time(m->start, t0);
    iso_time(time(NULL), t1);
    json_object_object_add(d, "job", json_object_new_string(m->job_text));
    json_object_object_add(d, "host", json_object_new_string(host));
    json_object_object_add(d, "device", json_object_new_string(end->device ? end->device : "cpu"));
    json_object_object_add(d, "model", json_object_new_string(aic_model_name(end->model)));
    json_object_object_add(d, "start", json_object_new_string(t0));
    json_object_object_add(d, "end", json_object_new_string(t1));
    json_object *hp = end->hyperparameters ? json_tokener_parse(end->hyperparameters) : NULL;
    json_object_object_add(d, "hyperparameters", hp ? hp : json_object_new_object());
    size_t len;
    const char *text = json_object_to_json_string_length(d, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    aic_status st = AIC_OK;
    if (len >= sizeof r->details)
        st = aic_fail(AIC_ERR_INVALID_ARG, "usage record details are %zu bytes, more than %zu", len,
                      sizeof r->details - 1);
    else
        memcpy(r->details, text, len + 1);
    json_object_put(d);
    AIC_TRY(st);
    aic_keccak256(r->details, strlen(r->details), k->details_hash);
    for (int i = 0; i < m->n_dests; i++) {
        uint8_t digest[32];
        aic_usage_digest(&m->dests[i].domain, k, digest);
        AIC_TRY(aic_sign_digest(&m->key, digest, r->sigs[i]));
    }
    return AIC_OK;
}

/* Rank 0: spool, deliver, unspool each destination's records; then what earlier runs left. */
static aic_status deliver_all(aic_meter *m, const rank_record *all, int world, FILE *log) {
    aic_usage_job job = {.n_ranks = world};
    memcpy(job.job_id, m->job_id, 32);
    job.ranks = calloc((size_t)world, sizeof *job.ranks);
    aic_usage_record *recs = calloc((size_t)world, sizeof *recs);
    if (!job.ranks || !recs) {
        free(job.ranks);
        free(recs);
        return aic_fail(AIC_ERR_NOMEM, "usage records of %d ranks", world);
    }
    for (int i = 0; i < world; i++)
        memcpy(job.ranks[i], all[i].core.miner, 20);
    memcpy(job.owner, m->key.address, 20);
    uint8_t digest[32];
    aic_usage_open_digest(&job, digest);
    aic_status st = aic_sign_digest(&m->key, digest, job.sig);
    for (int d = 0; d < m->n_dests && st == AIC_OK; d++) {
        const aic_usage_dest *dest = &m->dests[d];
        for (int i = 0; i < world; i++) {
            recs[i].core = all[i].core;
            memcpy(recs[i].details, all[i].details, sizeof recs[i].details);
            memcpy(recs[i].sig, all[i].sigs[d], 65);
        }
        /* Spooled first: a crash or a hang past this point loses nothing. */
        st = aic_spool_put(m->spool, dest, &job, recs, world);
        if (st != AIC_OK)
            break;
        if (aic_usage_deliver(dest, &job, recs, world, &m->key, m->timeout_ms) == AIC_OK) {
            aic_spool_remove(m->spool, dest, recs, world);
        } else if (log) {
            fprintf(log, "aicon: usage records for %s are spooled in %s (send them with aicon ledger flush): %s\n",
                    dest->uri, m->spool, aic_last_error());
        }
    }
    if (st == AIC_OK) {
        int sent, left;
        aic_spool_flush(m->spool, &m->key, m->timeout_ms, log, &sent, &left);
    }
    free(job.ranks);
    free(recs);
    return st;
}

aic_status aic_meter_finish(aic_meter *m, aic_comm_t *c, const aic_meter_end *end, FILE *log) {
    const int rank = aic_comm_rank(c), world = aic_comm_size(c);
    rank_record *mine = calloc(1, sizeof *mine);
    rank_record *all = rank == 0 ? calloc((size_t)world, sizeof *all) : NULL;
    aic_status st = (mine && (rank != 0 || all)) ? AIC_OK : aic_fail(AIC_ERR_NOMEM, "usage records");
    if (st == AIC_OK)
        st = make_record(m, c, end, mine);
    st = aic_comm_agree(c, st);
    if (st == AIC_OK && MPI_Gather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine, MPI_BYTE, 0,
                                   aic_comm_mpi(c)) != MPI_SUCCESS)
        st = aic_fail(AIC_ERR_COMM, "gathering usage records on rank 0");
    if (st == AIC_OK && rank == 0)
        st = deliver_all(m, all, world, log);
    free(mine);
    free(all);
    return st;
}

aic_status aic_meter_sign(const aic_meter *m, const uint8_t digest[32], uint8_t sig[65], uint8_t address[20]) {
    memcpy(address, m->key.address, 20);
    return aic_sign_digest(&m->key, digest, sig);
}

aic_status aic_meter_signer(const uint8_t digest[32], const uint8_t sig[65], uint8_t address[20]) {
    return aic_recover_address(digest, sig, address);
}

void aic_meter_job_id(const aic_meter *m, uint8_t out[32]) { memcpy(out, m->job_id, 32); }

void aic_meter_destroy(aic_meter *m) {
    if (!m)
        return;
    memset(&m->key, 0, sizeof m->key);
    free(m);
}
