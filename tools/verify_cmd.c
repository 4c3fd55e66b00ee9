// SPDX-License-Identifier: Apache-2.0
#define _XOPEN_SOURCE 700 /* nftw */
/* aicon verify DIR: checks a job's proof log (train/proof.h) and replays a random share of its
 * segments from their checkpoints with the job's own flags, world size and threads, comparing every
 * step's gradient digest of every rank and the state at each end bitwise. CPU training is bitwise
 * reproducible, so any difference is a difference in the work. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "chain/meter.h"
#include "core/error.h"
#include "core/graph.h"
#include "tools/train_cmd.h"
#include "train/proof.h"

typedef struct {
    int64_t step;
    char state[65];
} boundary;

typedef struct {
    const char *path;
    char *text;
    int world, threads, bucket_kb;
    int argc;
    char **argv;         /* argv[0] "train", then the job's arguments (their own copies) */
    boundary *b;         /* b[0] the start; segment i runs from b[i] to b[i + 1] */
    int nb;
    char (*grads)[65];   /* step s of rank r: [(s - b[0].step - 1) * world + r] */
    int64_t n_grads;
    bool have_root;
    char root[65];       /* the root line's */
    int n_sigs;
    struct {
        int rank;
        char address[41], sig[131];
    } *sigs;             /* the sig lines', at most one a rank */
    uint8_t computed[32]; /* the root of the chunks as they are */
} proof_log;

static void log_free(proof_log *l) {
    for (int i = 1; i < l->argc; i++)
        free(l->argv[i]);
    free(l->text);
    free(l->argv);
    free(l->b);
    free(l->grads);
    free(l->sigs);
    *l = (proof_log){0};
}

static bool is_hex64(const char *s) {
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Each line in turn, the text kept whole for the chunks' hashes. */
static aic_status parse_log(proof_log *l) {
    uint8_t(*leaves)[32] = NULL;
    size_t n_leaves = 0;
    aic_status st = AIC_OK;
    char *chunk = l->text, *line = l->text;
    int no = 0;
    const size_t cap = strlen(l->text) / 60 + 16; /* every line is longer than 60 bytes but a few */
    leaves = malloc(32 * cap);
    l->argv = malloc(sizeof(char *) * cap);
    l->b = malloc(sizeof(boundary) * cap);
    l->grads = malloc(65 * cap);
    if (!leaves || !l->argv || !l->b || !l->grads)
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory", l->path);
    if (st == AIC_OK)
        l->argv[l->argc++] = "train";
#define BAD(...) (st = aic_fail(AIC_ERR_FORMAT, __VA_ARGS__))
    while (st == AIC_OK && *line) {
        no++;
        char *end = strchr(line, '\n');
        if (!end) {
            BAD("%s line %d: the last line does not end (the log was cut short)", l->path, no);
            break;
        }
        const size_t with_nl = (size_t)(end - line) + 1;
        *end = '\0';
        bool closes_chunk = false;
        char word[16], a[4096], h[140];
        long long step = 0;
        int rank = 0;
        if (no == 1) {
            if (strcmp(line, "aicon-proof 1") == 0)
                BAD("%s: a proof log of format 1, whose state digests this aicon does not compute: verify it "
                    "with the aicon that wrote it", l->path);
            else if (strcmp(line, AIC_PROOF_HEADER) != 0)
                BAD("%s: not an aicon proof log (its first line is not '" AIC_PROOF_HEADER "')", l->path);
        } else if (l->have_root) {
            if (sscanf(line, "sig %d %40s %139s", &rank, a, h) != 3 || rank < 0 || rank >= l->world || strlen(a) != 40 ||
                strlen(h) != 130 || (l->n_sigs && l->sigs[l->n_sigs - 1].rank >= rank))
                BAD("%s line %d: after the root line only 'sig RANK ADDRESS SIGNATURE' lines, one a rank in order; "
                    "found '%s'", l->path, no, line);
            else if (!l->sigs && !(l->sigs = calloc((size_t)l->world, sizeof *l->sigs)))
                st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory", l->path);
            else {
                l->sigs[l->n_sigs].rank = rank;
                memcpy(l->sigs[l->n_sigs].address, a, 41);
                memcpy(l->sigs[l->n_sigs++].sig, h, 131);
            }
        } else if (strncmp(line, "meta ", 5) == 0) {
            if (l->nb > 0)
                BAD("%s line %d: a meta line after the start", l->path, no);
            else if (strncmp(line + 5, "arg ", 4) == 0) {
                if (!(l->argv[l->argc++] = strdup(line + 9)))
                    st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory", l->path);
            } else if (sscanf(line + 5, "world %d", &l->world) != 1 && sscanf(line + 5, "threads %d", &l->threads) != 1 &&
                       sscanf(line + 5, "bucket_kb %d", &l->bucket_kb) != 1 && strncmp(line + 5, "aicon ", 6) != 0)
                BAD("%s line %d: an unknown meta line '%s'", l->path, no, line);
        } else if (sscanf(line, "grad %lld %d %139s", &step, &rank, h) == 3) {
            const int64_t want = l->nb ? l->b[0].step + 1 + l->n_grads / (l->world > 0 ? l->world : 1) : -1;
            if (l->nb == 0 || l->world < 1 || step != want || rank != l->n_grads % l->world || !is_hex64(h))
                BAD("%s line %d: expected the digest of step %lld, rank %lld (64 hex digits), found '%s'", l->path, no,
                    (long long)want, (long long)(l->world > 0 ? l->n_grads % l->world : 0), line);
            else
                memcpy(l->grads[l->n_grads++], h, 65);
        } else if (sscanf(line, "%15s %lld %139s", word, &step, h) == 3 &&
                   (strcmp(word, "start") == 0 || strcmp(word, "segment") == 0)) {
            const bool start = strcmp(word, "start") == 0;
            const int64_t done = l->nb ? l->b[0].step + (l->world > 0 ? l->n_grads / l->world : 0) : 0;
            if (start != (l->nb == 0) || !is_hex64(h) || (!start && (step != done || step <= l->b[l->nb - 1].step)))
                BAD("%s line %d: '%s' out of place (after step %lld)", l->path, no, line, (long long)done);
            else {
                l->b[l->nb].step = step;
                memcpy(l->b[l->nb++].state, h, 65);
                closes_chunk = true;
            }
        } else if (sscanf(line, "root %79s %lld", a, &step) == 2 && is_hex64(a)) {
            if (chunk != line || step != l->nb - 1)
                BAD("%s line %d: the root line is not after the last segment", l->path, no);
            memcpy(l->root, a, 65);
            l->have_root = true;
        } else {
            BAD("%s line %d: cannot read '%s'", l->path, no, line);
        }
        *end = '\n';
        if (closes_chunk) {
            st = aic_proof_leaf(chunk, (size_t)(line + with_nl - chunk), leaves[n_leaves++]);
            chunk = line + with_nl;
        }
        line = end + 1;
    }
#undef BAD
    if (st == AIC_OK && (l->world < 1 || l->threads < 1 || l->bucket_kb < 0 || l->nb < 2))
        st = aic_fail(AIC_ERR_FORMAT, "%s: %s", l->path,
                      l->nb < 2 ? "no segment ends in it"
                                : "the world size, the threads or the bucket size are missing from its meta");
    if (st == AIC_OK && !l->have_root)
        st = aic_fail(AIC_ERR_FORMAT, "%s: no root line: the job did not finish, or the log was cut short", l->path);
    if (st == AIC_OK)
        st = aic_proof_merkle_root((const uint8_t(*)[32])leaves, n_leaves, l->computed);
    free(leaves);
    return st;
}

static aic_status read_file(const char *path, char **out) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return aic_fail(AIC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = 2 * (len + 65536 + 1);
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return aic_fail(AIC_ERR_NOMEM, "%s: out of memory", path);
            }
            text = t;
        }
        const size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    const bool err = ferror(f);
    fclose(f);
    text[len] = '\0';
    if (err || strlen(text) != len) {
        free(text);
        return aic_fail(AIC_ERR_FORMAT, "%s: %s", path, err ? "cannot read it" : "not a text file");
    }
    *out = text;
    return AIC_OK;
}

/* Rank 0 reads the log, every rank gets the text and reads it the same way. */
static aic_status load_log(aic_comm_t *c, const char *path, proof_log *l) {
    *l = (proof_log){.path = path, .bucket_kb = -1};
    aic_status st = aic_comm_rank(c) == 0 ? read_file(path, &l->text) : AIC_OK;
    int64_t len = l->text ? (int64_t)strlen(l->text) : -1;
    AIC_TRY(aic_broadcast(c, &len, sizeof len, 0));
    if (len < 0)
        return aic_comm_rank(c) == 0 ? st : aic_fail(AIC_ERR_IO, "rank 0 cannot read %s", path);
    if (!l->text && !(l->text = malloc((size_t)len + 1)))
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory", path);
    AIC_TRY(aic_broadcast(c, l->text, (size_t)len + 1, 0));
    return parse_log(l);
}

/* splitmix64: the verifier's own choice of segments from its seed. */
static uint64_t next_random(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool unhex(const char *hex, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

/* Each sig line: its rank's message made again from the rank's digests in the log must be what the
 * signature signs, by the address it names. "" when every signature holds, else what fails. */
static void check_signatures(const proof_log *l, char *why, size_t size) {
    why[0] = '\0';
    for (int k = 0; k < l->n_sigs; k++) {
        const int r = l->sigs[k].rank;
        uint8_t chain[32], message[32], sig[65], address[20], digest[32];
        char got[41];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        for (int64_t i = r; ok && i < l->n_grads; i += l->world)
            ok = unhex(l->grads[i], digest, 32) && EVP_DigestUpdate(ctx, digest, 32);
        unsigned int len = 0;
        ok = ok && EVP_DigestFinal_ex(ctx, chain, &len) && unhex(l->sigs[k].sig, sig, 65);
        EVP_MD_CTX_free(ctx);
        aic_status st = ok ? aic_proof_rank_message(r, chain, message) : AIC_ERR_INTERNAL;
        if (st == AIC_OK)
            st = aic_meter_signer(message, sig, address);
        if (st == AIC_OK)
            aic_hex(address, 20, got);
        if (st != AIC_OK || strcmp(got, l->sigs[k].address) != 0) {
            snprintf(why, size, "rank %d's signature (by %s) does not sign the digests the log gives for rank %d%s%s: "
                     "they were changed after it signed", r, l->sigs[k].address, r, st == AIC_OK ? "" : ": ",
                     st == AIC_OK ? "" : aic_last_error());
            return;
        }
    }
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The segments to replay: k of n, chosen by seed, in order. */
static int *choose(int n, int k, uint64_t seed) {
    int *idx = malloc(sizeof(int) * (size_t)n);
    if (!idx)
        return NULL;
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 0; i < k; i++) {
        const int j = i + (int)(next_random(&seed) % (uint64_t)(n - i));
        const int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    qsort(idx, (size_t)k, sizeof(int), cmp_int);
    return idx;
}

/* Compares a replay's log with segment i of the job's; "" when they agree, else what differs. */
static void compare(const proof_log *job, int i, const proof_log *re, const char *dir, char *why, size_t size) {
    const boundary *a = &job->b[i], *b = &job->b[i + 1];
    why[0] = '\0';
    if (re->nb != 2 || re->b[0].step != a->step || re->b[1].step != b->step) {
        snprintf(why, size, "the replay of steps %lld-%lld did not cover them", (long long)a->step + 1,
                 (long long)b->step);
    } else if (strcmp(re->b[0].state, a->state) != 0) {
        snprintf(why, size, "%s/seg-%08lld.h5 is not the state the log gives after step %lld (its digest %.16s..., "
                 "the log's %.16s...): the checkpoint was changed", dir, (long long)a->step, (long long)a->step,
                 re->b[0].state, a->state);
    } else {
        const int64_t base = (a->step - job->b[0].step) * job->world;
        for (int64_t k = 0; k < re->n_grads; k++)
            if (strcmp(re->grads[k], job->grads[base + k]) != 0) {
                snprintf(why, size, "step %lld, rank %lld: the gradient differs from the replay's (log %.16s..., "
                         "replay %.16s...)", (long long)(a->step + 1 + k / job->world), (long long)(k % job->world),
                         job->grads[base + k], re->grads[k]);
                return;
            }
        if (strcmp(re->b[1].state, b->state) != 0)
            snprintf(why, size, "the state after step %lld differs from the replay's (log %.16s..., replay %.16s...), "
                     "every gradient of steps %lld-%lld agreeing", (long long)b->step, b->state, re->b[1].state,
                     (long long)a->step + 1, (long long)b->step);
    }
}

/* The job's flags for one segment: resumed from its checkpoint, ended after it, writing a proof log of
 * its own into work and nothing else. */
static int replay_opts(const proof_log *job, int i, const char *dir, const char *work, train_opts *o, char *resume,
                       size_t size) {
    const int rc = aicon_train_parse(job->argc, job->argv, o);
    if (rc)
        return rc;
    aic_proof_checkpoint_path(dir, job->b[i].step, resume, size);
    aic_trainer_config *k = &o->train;
    k->resume = resume;
    k->resume_auto = false;
    k->checkpoint = k->checkpoint_dir = k->timeline = k->export_path = NULL;
    k->checkpoint_every = k->eval_every = 0;
    k->proof_dir = work;
    k->stop_after = job->b[i + 1].step;
    o->summary = o->metrics = NULL;
    o->log_every = 0;
    o->quiet = true;
    o->threads = job->threads;
    o->bucket_kb = job->bucket_kb;
    k->bucket_bytes = (size_t)job->bucket_kb << 10;
    o->meter = (aic_meter_config){0};
    return 0;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: mpirun -np W aicon verify DIR [--fraction F] [--seed S | --segment N] [--root HEX] [--signed]\n"
            "                                  [--work DIR2] [--keep]\n"
            "\n"
            "Checks the proof log DIR/proof.log that `aicon train --proof DIR` wrote, then replays a random share\n"
            "of its segments from their checkpoints (DIR/seg-<step>.h5) with the job's own flags, world size W and\n"
            "threads, and compares every step's gradient digest of every rank and the state at the segment's end\n"
            "bit for bit. Run it where the job's data paths lead to the same files.\n"
            "\n"
            "  --fraction F   share of the segments to replay, 0 < F <= 1 (default 0.05; at least one)\n"
            "  --seed S       the choice of segments (default: random, printed); never known to the trainer\n"
            "  --segment N    replay segment N only (1 = the first; the segment a dispute names, aicon ledger)\n"
            "  --root HEX     the Merkle root the job committed to (its usage record): the log must have it\n"
            "  --work DIR2    where the replays write their own logs and checkpoints (default: a new directory\n"
            "                 under $TMPDIR or /tmp, removed afterwards)\n"
            "  --keep         keep the replays' files\n"
            "  --signed       every rank must have signed its digests (with its usage key)\n"
            "  --ops FILE     instead of segments, replay the step and rank of FILE (aicon proof ops wrote\n"
            "                 it) and name the first op whose output or output gradient differs\n"
            "  --help         this text\n"
            "\n"
            "Exit status: 0 every replayed segment agrees; 1 one does not (the message names the first step and\n"
            "rank that differ, or the checkpoint or state); 2 bad arguments or an unreadable or edited log.\n");
}

typedef struct {
    const char *dir, *root, *work;
    const char *ops;       /* --ops FILE: compare one step's per-op digests instead */
    int64_t ops_step;      /* aicon proof ops: the step and rank whose ops to write (to ops) */
    int ops_rank;
    int segment;           /* --segment N: only this one (1-based); 0: chosen by seed */
    double fraction;
    uint64_t seed;
    bool have_seed, keep, signed_only;
} verify_opts;

static int parse(int argc, char **argv, verify_opts *v) {
    static const struct option longopts[] = {{"fraction", required_argument, NULL, 'f'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"segment", required_argument, NULL, 'n'},
                                             {"root", required_argument, NULL, 'r'},
                                             {"work", required_argument, NULL, 'w'},
                                             {"keep", no_argument, NULL, 'k'},
                                             {"signed", no_argument, NULL, 'g'},
                                             {"ops", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    *v = (verify_opts){.fraction = 0.05};
    const bool talk = aicon_launcher_rank() == 0;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        char *end = NULL;
        errno = 0;
        switch (c) {
        case 'f':
            v->fraction = strtod(optarg, &end);
            if (!end || *end || !(v->fraction > 0 && v->fraction <= 1))
                return talk ? fprintf(stderr, "aicon verify: --fraction %s: a share in (0, 1]\n", optarg) : 0, 2;
            break;
        case 's':
            v->seed = strtoull(optarg, &end, 10);
            if (!end || *end || errno || optarg[0] == '-')
                return talk ? fprintf(stderr, "aicon verify: --seed %s: a whole number\n", optarg) : 0, 2;
            v->have_seed = true;
            break;
        case 'n': {
            const long n = strtol(optarg, &end, 10);
            if (!end || *end || errno || n < 1 || n > INT_MAX)
                return talk ? fprintf(stderr, "aicon verify: --segment %s: a segment number, 1 or more\n", optarg) : 0, 2;
            v->segment = (int)n;
            break;
        }
        case 'r':
            if (!is_hex64(optarg))
                return talk ? fprintf(stderr, "aicon verify: --root %s: 64 lowercase hex digits\n", optarg) : 0, 2;
            v->root = optarg;
            break;
        case 'w':
            v->work = optarg;
            break;
        case 'k':
            v->keep = true;
            break;
        case 'g':
            v->signed_only = true;
            break;
        case 'o':
            v->ops = optarg;
            break;
        case 'h':
            if (talk)
                usage(stdout);
            return 1;
        default:
            return talk ? fprintf(stderr, "aicon verify: unknown flag or missing value '%s' (see aicon verify --help)\n",
                                  argv[optind - 1]) : 0, 2;
        }
    }
    if (optind + 1 != argc)
        return talk ? fprintf(stderr, "aicon verify: name one proof directory (see aicon verify --help)\n") : 0, 2;
    v->dir = argv[optind];
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Rank 0 makes the replays' directory (given, or a new one under $TMPDIR) and every rank learns it;
 * "" when it cannot be made. */
static void make_work(aic_comm_t *c, const char *given, char *work, size_t size) {
    if (aic_comm_rank(c) == 0) {
        const char *tmp = getenv("TMPDIR");
        if (given)
            snprintf(work, size, "%s", given);
        else
            snprintf(work, size, "%s/aicon-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (given ? mkdir(work, 0777) != 0 && errno != EEXIST : !mkdtemp(work)) {
            fprintf(stderr, "aicon: cannot make the work directory %s: %s\n", work, strerror(errno));
            work[0] = '\0';
        }
    }
    if (aic_broadcast(c, work, size, 0) != AIC_OK)
        work[0] = '\0';
}

static void remove_work(aic_comm_t *c, const char *work) {
    if (aic_comm_rank(c) == 0 && work[0] && nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "aicon: warning: cannot remove %s: %s\n", work, strerror(errno));
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The segment holding step (b[i] < step <= b[i + 1]), or -1. */
static int segment_of(const proof_log *l, int64_t step) {
    for (int i = 0; i + 1 < l->nb; i++)
        if (l->b[i].step < step && step <= l->b[i + 1].step)
            return i;
    return -1;
}

/* Runs the job from segment i's checkpoint until step `end`, rank `rank` writing its per-op digests
 * of that step to ops_out; the exit code of the job. */
static int replay_ops(aic_comm_t *c, const proof_log *job, const char *dir, const char *work, int64_t step, int rank,
                      const char *ops_out) {
    const int i = segment_of(job, step);
    char resume[4200];
    train_opts o;
    if (i < 0 || replay_opts(job, i, dir, work, &o, resume, sizeof resume) != 0)
        return 2;
    o.train.stop_after = step;
    o.ops_out = ops_out;
    o.ops_step = step;
    o.ops_rank = rank;
    return aicon_train_job(&o, c);
}

/* Compares two per-op digest files: "" when they agree, else the first op that differs. */
static void compare_ops(const char *mine, const char *theirs, char *why, size_t size) {
    FILE *a = fopen(mine, "r"), *b = fopen(theirs, "r");
    char la[1024], lb[1024];
    why[0] = '\0';
    if (!a || !b) {
        snprintf(why, size, "cannot read %.500s", a ? theirs : mine);
    } else if (!fgets(la, sizeof la, a) || !fgets(lb, sizeof lb, b) || strcmp(la, lb) != 0) {
        snprintf(why, size, "%.500s is not of the same step and rank", theirs);
    } else {
        for (int line = 2;; line++) {
            const bool ea = !fgets(la, sizeof la, a), eb = !fgets(lb, sizeof lb, b);
            if (ea || eb) {
                if (ea != eb)
                    snprintf(why, size, "%.500s has %s ops than the model", theirs, ea ? "more" : "fewer");
                break;
            }
            if (strcmp(la, lb) == 0)
                continue;
            int index = 0;
            char kind[64], name[256], out[80], grad[80], kind2[64], name2[256], out2[80], grad2[80];
            if (sscanf(la, "op %d %63s %255s out %79s grad %79s", &index, kind, name, out, grad) != 5 ||
                sscanf(lb, "op %*d %63s %255s out %79s grad %79s", kind2, name2, out2, grad2) != 4 ||
                strcmp(kind, kind2) != 0 || strcmp(name, name2) != 0)
                snprintf(why, size, "%.500s line %d is not the model's op (%.80s)", theirs, line, lb);
            else
                snprintf(why, size, "op %d, %s '%s': its %s differs from the replay's (%.16s..., replay %.16s...)",
                         index, kind, name, strcmp(out, out2) != 0 ? "output" : "output's gradient",
                         strcmp(out, out2) != 0 ? out2 : grad2, strcmp(out, out2) != 0 ? out : grad);
            break;
        }
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
}

/* verify --ops: the step and rank of the file, replayed here and compared op by op. */
static int verify_ops(aic_comm_t *c, const proof_log *job, const verify_opts *v, const char *work) {
    const int rank = aic_comm_rank(c);
    long long step = 0;
    int ops_rank = -1;
    char head[128] = "";
    FILE *f = rank == 0 ? fopen(v->ops, "r") : NULL;
    if (f) {
        if (!fgets(head, sizeof head, f) || sscanf(head, "aicon-ops 1 step %lld rank %d", &step, &ops_rank) != 2)
            ops_rank = -1;
        fclose(f);
    }
    int64_t what[2] = {step, ops_rank};
    if (aic_broadcast(c, what, sizeof what, 0) != AIC_OK)
        return 2;
    if (what[1] < 0 || what[1] >= job->world || segment_of(job, what[0]) < 0) {
        if (rank == 0)
            fprintf(stderr, "aicon verify: %s: not an ops file (aicon proof ops) of a step and rank of this job\n",
                    v->ops);
        return 2;
    }
    char mine[4200];
    snprintf(mine, sizeof mine, "%s/ops-step-%lld-rank-%d.txt", work, (long long)what[0], (int)what[1]);
    const int rc = replay_ops(c, job, v->dir, work, what[0], (int)what[1], mine);
    if (rc != 0) {
        if (rank == 0)
            fprintf(stderr, "aicon verify: the replay up to step %lld failed (exit %d)\n", (long long)what[0], rc);
        return 2;
    }
    char why[1024] = "";
    if (rank == 0)
        compare_ops(mine, v->ops, why, sizeof why);
    if (aic_broadcast(c, why, sizeof why, 0) != AIC_OK)
        return 2;
    if (rank == 0 && why[0])
        fprintf(stderr, "aicon verify: FAILED at step %lld, rank %d: %s\n", (long long)what[0], (int)what[1], why);
    else if (rank == 0)
        printf("verified: every op's output and gradient of step %lld on rank %d agrees with %s\n",
               (long long)what[0], (int)what[1], v->ops);
    return why[0] ? 1 : 0;
}

/* Replays the chosen segments; 0 when all agree, 1 at the first that does not, 2 when one cannot run. */
static int replay_all(aic_comm_t *c, const proof_log *job, const verify_opts *v, const int *segs, int k,
                      const char *work) {
    const int rank = aic_comm_rank(c);
    for (int j = 0; j < k; j++) {
        const int i = segs[j];
        char sub[4200], resume[4200];
        snprintf(sub, sizeof sub, "%s/seg-%08lld", work, (long long)job->b[i].step);
        train_opts o;
        if (replay_opts(job, i, v->dir, sub, &o, resume, sizeof resume) != 0) {
            if (rank == 0)
                fprintf(stderr, "aicon verify: %s: the job's flags do not parse here\n", job->path);
            return 2;
        }
        const int rc = aicon_train_job(&o, c);
        if (rc != 0) {
            if (rank == 0)
                fprintf(stderr, "aicon verify: the replay of steps %lld-%lld from %s failed (exit %d)\n",
                        (long long)job->b[i].step + 1, (long long)job->b[i + 1].step, resume, rc);
            return 2;
        }
        char why[1024] = "";
        if (rank == 0) {
            char path[4300];
            snprintf(path, sizeof path, "%s/%s", sub, AIC_PROOF_LOG);
            proof_log re = {.path = path, .bucket_kb = -1};
            aic_status st = read_file(path, &re.text);
            if (st == AIC_OK)
                st = parse_log(&re);
            if (st != AIC_OK)
                snprintf(why, sizeof why, "the replay's log: %s", aic_last_error());
            else
                compare(job, i, &re, v->dir, why, sizeof why);
            log_free(&re);
        }
        if (aic_broadcast(c, why, sizeof why, 0) != AIC_OK)
            return 2;
        if (why[0]) {
            if (rank == 0)
                fprintf(stderr, "aicon verify: FAILED in segment %d (steps %lld-%lld): %s\n", i + 1,
                        (long long)job->b[i].step + 1, (long long)job->b[i + 1].step, why);
            return 1;
        }
        if (rank == 0)
            printf("segment %d (steps %lld-%lld): every gradient and the end state agree\n", i + 1,
                   (long long)job->b[i].step + 1, (long long)job->b[i + 1].step);
    }
    return 0;
}

int aicon_verify_main(int argc, char **argv) {
    verify_opts v;
    int rc = parse(argc, argv, &v);
    if (rc)
        return rc == 1 ? 0 : 2;
    aic_comm_t *comm;
    /* The replays may be of streaming DiLoCo, whose fragments travel on a thread of their own. */
    if (!aicon_mpi_start("aicon verify", MPI_THREAD_MULTIPLE, &comm))
        return 1;
    aicon_train_signals();
    const int rank = aic_comm_rank(comm), world = aic_comm_size(comm);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", v.dir, AIC_PROOF_LOG);
    proof_log job;
    aic_status st = load_log(comm, path, &job);
    char computed[65] = "";
    if (st == AIC_OK) {
        aic_hex(job.computed, 32, computed);
        if (strcmp(computed, job.root) != 0)
            st = aic_fail(AIC_ERR_FORMAT, "%s: the Merkle root of its lines is %s, its root line says %s: the log was "
                          "edited after it was written", path, computed, job.root);
        else if (v.root && strcmp(v.root, job.root) != 0)
            st = aic_fail(AIC_ERR_FORMAT, "%s: its root %s is not the committed root %s: a log of another job, or "
                          "rewritten", path, job.root, v.root);
        else if (v.segment > job.nb - 1)
            st = aic_fail(AIC_ERR_INVALID_ARG, "%s: --segment %d: the log has %d segments", path, v.segment, job.nb - 1);
        else if (job.world != world)
            st = aic_fail(AIC_ERR_INVALID_ARG, "%s: the job ran on %d ranks; run mpirun -np %d aicon verify", path,
                          job.world, job.world);
    }
    if (st == AIC_OK) {
        char why[1024];
        check_signatures(&job, why, sizeof why);
        if (why[0])
            st = aic_fail(AIC_ERR_FORMAT, "%s: %s", path, why);
        else if (v.signed_only && job.n_sigs < job.world)
            st = aic_fail(AIC_ERR_FORMAT, "%s: %d of its %d ranks signed their digests (--signed wants all)", path,
                          job.n_sigs, job.world);
    }
    if (st != AIC_OK) {
        if (rank == 0)
            fprintf(stderr, "aicon verify: %s\n", aic_last_error());
        rc = st == AIC_ERR_FORMAT ? 1 : 2;
    }
    const int segments = job.nb - 1;
    int k = 0, *segs = NULL;
    char work[4096] = "";
    if (rc == 0) {
        if (!v.have_seed && rank == 0 && getrandom(&v.seed, sizeof v.seed, 0) != sizeof v.seed)
            v.seed = (uint64_t)time(NULL);
        aic_broadcast(comm, &v.seed, sizeof v.seed, 0);
        k = (int)ceil(v.fraction * segments - 1e-9);
        k = v.segment || k < 1 ? 1 : k > segments ? segments : k;
        segs = choose(segments, k, v.seed);
        if (segs && v.segment)
            segs[0] = v.segment - 1;
        make_work(comm, v.work, work, sizeof work);
        if (rank == 0) {
            printf("%s: %d ranks, %d segments (steps %lld-%lld), root %s", path, job.world, segments,
                   (long long)job.b[0].step + 1, (long long)job.b[segments].step, job.root);
            if (v.ops)
                printf("; replaying the step of %s\n", v.ops);
            else if (v.segment)
                printf("; replaying segment %d\n", v.segment);
            else
                printf("; replaying %d (seed %llu)\n", k, (unsigned long long)v.seed);
            for (int s = 0; s < job.n_sigs; s++)
                printf("rank %d's digests are signed by 0x%s\n", job.sigs[s].rank, job.sigs[s].address);
            if (job.n_sigs < job.world)
                printf("%d of %d ranks signed their digests (a rank signs with its usage key, --key)\n", job.n_sigs,
                       job.world);
            fflush(stdout);
        }
        if (!segs || !work[0])
            rc = 2;
    }
    const double t0 = now_s();
    if (rc == 0 && v.ops)
        rc = verify_ops(comm, &job, &v, work);
    else if (rc == 0)
        rc = replay_all(comm, &job, &v, segs, k, work);
    if (rc == 0 && rank == 0 && !v.ops) {
        int64_t replayed = 0;
        for (int j = 0; j < k; j++)
            replayed += job.b[segs[j] + 1].step - job.b[segs[j]].step;
        const int64_t total = job.b[segments].step - job.b[0].step;
        printf("verified: %d of %d segments agree bit for bit; replayed %lld of the job's %lld steps (%.1f%%) in "
               "%.1f s\n", k, segments, (long long)replayed, (long long)total, 100.0 * (double)replayed / (double)total,
               now_s() - t0);
    }
    if (!v.keep && !v.work)
        remove_work(comm, work);
    free(segs);
    log_free(&job);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return rc;
}

/* aicon proof ops DIR --step K --rank R [--out FILE]: the job replayed to step K from the checkpoint
 * before it, rank R writing every op's digests of that step. */
int aicon_proof_main(int argc, char **argv) {
    const bool talk = aicon_launcher_rank() == 0;
    if (argc < 2 || strcmp(argv[1], "ops") != 0 || (argc > 2 && strcmp(argv[2], "--help") == 0)) {
        if (talk)
            fprintf(argc > 2 ? stdout : stderr,
                    "usage: mpirun -np W aicon proof ops DIR --step K --rank R [--out FILE]\n"
                    "\n"
                    "Replays the job of the proof log DIR/proof.log (aicon train --proof) from the checkpoint before\n"
                    "step K to step K, and writes rank R's SHA-256 of every op's output and output gradient of that\n"
                    "step to FILE (default ops-step-K-rank-R.txt): what `aicon verify DIR --ops FILE` compares with\n"
                    "its own replay to name the first op that differs. W is the job's world size.\n");
        return argc > 2 ? 0 : 2;
    }
    static const struct option longopts[] = {{"step", required_argument, NULL, 's'},
                                             {"rank", required_argument, NULL, 'r'},
                                             {"out", required_argument, NULL, 'o'},
                                             {0}};
    long long step = 0;
    int ops_rank = -1;
    char out[4200] = "";
    opterr = 0;
    optind = 2;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 's')
            step = atoll(optarg);
        else if (c == 'r')
            ops_rank = atoi(optarg);
        else if (c == 'o')
            snprintf(out, sizeof out, "%s", optarg);
        else
            return talk ? fprintf(stderr, "aicon proof ops: unknown flag or missing value '%s'\n", argv[optind - 1])
                        : 0, 2;
    }
    if (optind + 1 != argc || step < 1 || ops_rank < 0)
        return talk ? fprintf(stderr, "aicon proof ops: name one proof directory, --step K >= 1 and --rank R\n") : 0, 2;
    const char *dir = argv[optind];
    if (!out[0])
        snprintf(out, sizeof out, "ops-step-%lld-rank-%d.txt", step, ops_rank);
    aic_comm_t *comm;
    if (!aicon_mpi_start("aicon proof", MPI_THREAD_MULTIPLE, &comm)) /* as aicon verify's */
        return 1;
    aicon_train_signals();
    char path[4200], work[4096] = "";
    snprintf(path, sizeof path, "%s/%s", dir, AIC_PROOF_LOG);
    proof_log job;
    aic_status st = load_log(comm, path, &job);
    if (st == AIC_OK && job.world != aic_comm_size(comm))
        st = aic_fail(AIC_ERR_INVALID_ARG, "%s: the job ran on %d ranks; run mpirun -np %d aicon proof ops", path,
                      job.world, job.world);
    if (st == AIC_OK && (segment_of(&job, step) < 0 || ops_rank >= job.world))
        st = aic_fail(AIC_ERR_INVALID_ARG, "%s: no step %lld or rank %d in this job (steps %lld-%lld, %d ranks)", path,
                      step, ops_rank, (long long)job.b[0].step + 1, (long long)job.b[job.nb - 1].step, job.world);
    int rc = st == AIC_OK ? 0 : 2;
    if (rc && talk)
        fprintf(stderr, "aicon proof ops: %s\n", aic_last_error());
    if (rc == 0) {
        make_work(comm, NULL, work, sizeof work);
        rc = work[0] ? replay_ops(comm, &job, dir, work, step, ops_rank, out) : 2;
        remove_work(comm, work);
        if (rc == 0 && aic_comm_rank(comm) == ops_rank)
            printf("wrote %s: rank %d's digests of every op of step %lld\n", out, ops_rank, step);
    }
    log_free(&job);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return rc;
}
