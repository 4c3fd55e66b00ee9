// SPDX-License-Identifier: Apache-2.0
/* aicon train: data-parallel training of a built-in or ONNX model under mpirun. This file parses the
 * flags into an aic_trainer_config (include/aicon/trainer.h) and starts MPI; tools/train_run.c sets up
 * the data and the model and runs the trainer, tools/train_report.c prints what it tells. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tools/train_cmd.h"

/* ---- flags: one table gives getopt_long's options and how each value is parsed and stored ------- */

typedef enum {
    ARG_STRING,      /* const char *: the text */
    ARG_INT,         /* int in lo..hi */
    ARG_I64,         /* int64_t (or uint64_t) in lo..hi */
    ARG_FLOAT,       /* float in [flo, fhi] */
    ARG_SECONDS,     /* double in [flo, fhi] */
    ARG_TRUE,        /* bool set by the flag alone */
    ARG_CHOICE,      /* int (or an enum of int's size): the index of the value in names */
    ARG_BOOL_CHOICE, /* bool: whether the value is names[1] */
    ARG_NAME,        /* const char *: the value, one of names */
    ARG_OTHER,       /* parse_other */
} arg_kind;

typedef struct {
    const char *flag; /* without its "--" */
    arg_kind kind;
    size_t at; /* offset in train_opts */
    int64_t lo, hi;
    double flo, fhi;
    const char *const *names; /* the choices, NULL-terminated */
} flag_spec;

_Static_assert(sizeof(aic_optim_kind) == sizeof(int) && sizeof(aic_lr_kind) == sizeof(int) &&
                   sizeof(aic_sync_mode) == sizeof(int) && sizeof(aic_compress) == sizeof(int),
               "enums held as int");

#define AT(field) offsetof(train_opts, field)
#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define STRING(f, field) {.flag = f, .kind = ARG_STRING, .at = AT(field)}
#define INT(f, field, l, h) {.flag = f, .kind = ARG_INT, .at = AT(field), .lo = l, .hi = h}
#define I64(f, field, l, h) {.flag = f, .kind = ARG_I64, .at = AT(field), .lo = l, .hi = h}
#define FLOAT(f, field, l, h) {.flag = f, .kind = ARG_FLOAT, .at = AT(field), .flo = l, .fhi = h}
#define SECONDS(f, field, l, h) {.flag = f, .kind = ARG_SECONDS, .at = AT(field), .flo = l, .fhi = h}
#define TRUE(f, field) {.flag = f, .kind = ARG_TRUE, .at = AT(field)}
#define CHOICE(f, k, field, ...) {.flag = f, .kind = k, .at = AT(field), .names = NAMES(__VA_ARGS__)}
#define OTHER(f) {.flag = f, .kind = ARG_OTHER}
/* A string of a part this build may lack (json-c, usage records): parse_other says so. */
#define STRING_IF(built, f, field) {.flag = f, .kind = (built) ? ARG_STRING : ARG_OTHER, .at = AT(field)}

static const flag_spec flags[] = {
    STRING("model", model),
    STRING("input", input),
    CHOICE("loss", ARG_NAME, loss, "cross-entropy", "nll"),
    STRING("data", data),
    STRING("test-data", test_data),
    INT("classes", classes, 1, AICON_MAX_CLASSES),
    CHOICE("normalize", ARG_BOOL_CHOICE, normalize, "none", "auto"),
    CHOICE("task", ARG_CHOICE, task, "classify", "lm"),
    INT("seq-len", gpt.seq_len, 1, 1 << 20),
    INT("vocab", gpt.vocab, 1, 1 << 24),
    INT("layers", gpt.layers, 1, 1000),
    INT("heads", gpt.heads, 1, 1024),
    INT("dim", gpt.dim, 1, 1 << 16),
    I64("eval-every", train.eval_every, 1, INT64_MAX),
    TRUE("no-shuffle", train.no_shuffle),
    INT("epochs", train.epochs, 1, 1000000),
    INT("batch", train.batch, 1, 1 << 20),
    INT("accumulate", train.accumulate, 1, 1 << 20),
    I64("max-steps", train.max_steps, 1, INT64_MAX),
    TRUE("skip-nonfinite", train.skip_nonfinite),
    CHOICE("optimizer", ARG_CHOICE, train.optim.kind, "sgd", "adam", "adamw"),
    FLOAT("lr", train.lr.base_lr, 0.0, 1e6),
    FLOAT("momentum", train.optim.momentum, 0.0, 1.0),
    TRUE("nesterov", train.optim.nesterov),
    FLOAT("weight-decay", train.optim.weight_decay, 0.0, 1e6),
    TRUE("decay-matrices-only", train.optim.decay_matrices_only),
    FLOAT("clip-grad-norm", train.optim.clip_grad_norm, 0.0, 1e6),
    CHOICE("lr-schedule", ARG_CHOICE, train.lr.kind, "constant", "step", "cosine"),
    I64("lr-step-size", train.lr.step_size, 1, INT64_MAX),
    FLOAT("lr-gamma", train.lr.gamma, 0.0, 1.0),
    I64("warmup-steps", train.lr.warmup_steps, 0, INT64_MAX),
    TRUE("scale-lr", train.scale_lr),
    I64("seed", train.seed, 0, INT64_MAX),
    CHOICE("device", ARG_CHOICE, device, "cpu", "cuda"),
    TRUE("tf32", tf32),
    CHOICE("gpu-allreduce", ARG_CHOICE, gpu_allreduce, "nccl", "ring", "hierarchical"),
    INT("bucket-kb", bucket_kb, 0, 1 << 22),
    CHOICE("sync", ARG_CHOICE, train.sync, "step", "diloco"),
    INT("inner-steps", train.inner_steps, 1, 1 << 30),
    INT("sync-group", train.sync_group, 1, 1 << 20),
    FLOAT("outer-lr", train.outer_lr, 1e-6, 1e3),
    FLOAT("outer-momentum", train.outer_momentum, 0.0, 0.999),
    CHOICE("outer-compress", ARG_CHOICE, train.outer_compress, "none", "bf16", "int8"),
    INT("outer-fragments", train.outer_fragments, 1, 1 << 30),
    INT("threads", threads, 1, 4096),
    OTHER("bind"),
    STRING("checkpoint", train.checkpoint),
    STRING("resume", train.resume),
    STRING("checkpoint-dir", train.checkpoint_dir),
    I64("checkpoint-every", train.checkpoint_every, 1, INT64_MAX),
    INT("keep", train.keep, 0, 1000000),
    CHOICE("on-checkpoint-error", ARG_BOOL_CHOICE, train.checkpoint_continue, "stop", "continue"),
    STRING_IF(AICON_HAVE_JSONC, "summary", summary),
    I64("log-every", log_every, 1, INT64_MAX),
    STRING_IF(AICON_HAVE_JSONC, "metrics", metrics),
    STRING("timeline", train.timeline),
    INT("timeline-steps", train.timeline_steps, 1, 1000000),
    STRING("export", train.export_path),
    STRING("proof", train.proof_dir),
    I64("proof-every", train.proof_every, 1, INT64_MAX),
    TRUE("no-proof", no_proof),
    TRUE("quiet", quiet),
    TRUE("verbose", verbose),
    SECONDS("heartbeat-timeout", watchdog.heartbeat_timeout, 0.0, 1e6),
    SECONDS("stall-timeout", watchdog.stall_timeout, 0.0, 1e7),
    OTHER("usage"),
    STRING_IF(AICON_HAVE_USAGE, "key", meter.key),
    STRING_IF(AICON_HAVE_USAGE, "spool", meter.spool),
    OTHER("help"),
};
#define N_FLAGS (sizeof flags / sizeof flags[0])

/* Every error names the flag and what is wrong; rank 0 alone tells (MPI is not started yet). */
static bool bad_value(const char *fmt, ...) AIC_PRINTF(1, 2);
static bool bad_value(const char *fmt, ...) {
    if (aicon_launcher_rank() != 0)
        return false;
    va_list ap;
    va_start(ap, fmt);
    fputs("aicon train: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    return false;
}

static bool parse_i64(const char *flag, const char *text, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return bad_value("--%s expects a whole number in %lld..%lld, got '%s'\n", flag, (long long)lo, (long long)hi,
                         text);
    *out = v;
    return true;
}

static bool parse_double(const char *flag, const char *text, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi))
        return bad_value("--%s expects a number in [%g, %g], got '%s'\n", flag, lo, hi, text);
    *out = v;
    return true;
}

static bool parse_choice(const char *flag, const char *text, const char *const *names, int *out) {
    for (int i = 0; names[i]; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return true;
        }
    if (aicon_launcher_rank() == 0) {
        fprintf(stderr, "aicon train: --%s: unknown value '%s' (choose from", flag, text);
        for (int i = 0; names[i]; i++)
            fprintf(stderr, "%s %s", i ? "," : "", names[i]);
        fprintf(stderr, ")\n");
    }
    return false;
}

/* The flags the table cannot say: --bind, --usage, --help, and those of parts this build lacks. */
static int parse_other(const char *flag, const char *arg, train_opts *o) {
    if (strcmp(flag, "help") == 0) {
        if (aicon_launcher_rank() == 0)
            aicon_train_usage(stdout);
        return 1;
    }
    if (strcmp(flag, "bind") == 0) {
        if (aic_bind_mode_parse(arg, &o->bind) == AIC_OK)
            return 0;
        return bad_value("%s\n", aic_last_error()), 2;
    }
    if (strcmp(flag, "summary") == 0 || strcmp(flag, "metrics") == 0)
        return bad_value("--summary and --metrics: this aicon was built without json-c (-DAICON_USAGE=OFF on a "
                         "machine without libjson-c-dev)\n"), 2;
#if AICON_HAVE_USAGE
    if (o->meter.n_uris < AIC_METER_MAX_DESTS) {
        o->meter.uris[o->meter.n_uris++] = arg;
        return 0;
    }
    return bad_value("at most %d --usage destinations\n", AIC_METER_MAX_DESTS), 2;
#else
    return bad_value("--usage, --key and --spool: this aicon was built without usage records (-DAICON_USAGE=OFF)\n"),
           2;
#endif
}

/* One flag's value into o; 0 to go on, 1 after --help, 2 on a usage error. */
static int parse_flag(const flag_spec *f, const char *arg, train_opts *o) {
    char *p = (char *)o + f->at;
    int64_t i64 = 0;
    double d = 0;
    int choice = 0;
    switch (f->kind) {
    case ARG_STRING: *(const char **)p = arg; return 0;
    case ARG_TRUE: *(bool *)p = true; return 0;
    case ARG_OTHER: return parse_other(f->flag, arg, o);
    case ARG_INT:
    case ARG_I64:
        if (!parse_i64(f->flag, arg, f->lo, f->hi, &i64))
            return 2;
        if (f->kind == ARG_INT)
            *(int *)p = (int)i64;
        else
            *(int64_t *)p = i64;
        return 0;
    case ARG_FLOAT:
    case ARG_SECONDS:
        if (!parse_double(f->flag, arg, f->flo, f->fhi, &d))
            return 2;
        if (f->kind == ARG_FLOAT)
            *(float *)p = (float)d;
        else
            *(double *)p = (float)d; /* as given in float, like the rates */
        return 0;
    case ARG_CHOICE:
    case ARG_BOOL_CHOICE:
    case ARG_NAME:
        if (!parse_choice(f->flag, arg, f->names, &choice))
            return 2;
        if (f->kind == ARG_CHOICE)
            *(int *)p = choice;
        else if (f->kind == ARG_BOOL_CHOICE)
            *(bool *)p = choice == 1;
        else
            *(const char **)p = f->names[choice];
        return 0;
    }
    return 2;
}

/* Returns 0 to go on, 1 after --help, 2 on a usage error. */
int aicon_train_parse(int argc, char **argv, train_opts *o) {
    struct option longopts[N_FLAGS + 1];
    for (size_t i = 0; i < N_FLAGS; i++) {
        const bool bare = flags[i].kind == ARG_TRUE || strcmp(flags[i].flag, "help") == 0;
        longopts[i] = (struct option){flags[i].flag, bare ? no_argument : required_argument, NULL, 256 + (int)i};
    }
    longopts[N_FLAGS] = (struct option){0};
    *o = (train_opts){.data = NULL, .normalize = true, .device = -1,
                      .bucket_kb = AICON_DEFAULT_BUCKET_KB};
    o->train = (aic_trainer_config){.epochs = 3, .batch = 64, .accumulate = 1, .seed = 42, .keep = 3,
                                    .timeline_steps = 10, .inner_steps = 100, .outer_lr = 0.7f,
                                    .outer_momentum = 0.9f}; /* DiLoCo's outer Nesterov */
    o->train.optim = (aic_optim_config){.kind = AIC_OPTIM_SGD, .momentum = 0.9f};
    o->train.lr = (aic_lr_schedule){.kind = AIC_LR_CONSTANT, .base_lr = NAN, .gamma = 0.1f};
    o->watchdog = (aicon_watchdog_config){.heartbeat_timeout = 10, .stall_timeout = 600};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c < 256 || c >= 256 + (int)N_FLAGS) {
            const char *arg = argv[optind - 1];
            if (optopt && optopt < 256 && arg[0] == '-' && arg[1] != '-')
                bad_value("unknown flag '-%c' (see aicon train --help)\n", optopt);
            else if (c == ':' || (optopt >= 256))
                bad_value("%s needs a value (see aicon train --help)\n", arg);
            else
                bad_value("unknown flag '%s' (see aicon train --help)\n", arg);
            return 2;
        }
        int rc = parse_flag(&flags[c - 256], optarg, o);
        if (rc)
            return rc;
    }
    if (optind < argc)
        return bad_value("unexpected argument '%s' (see aicon train --help)\n", argv[optind]), 2;
    o->argc = argc;
    o->argv = argv;
    if (o->train.proof_dir && o->no_proof)
        return bad_value("--proof and --no-proof: one or the other\n"), 2;
    for (int i = 1; (o->train.proof_dir || (o->meter.n_uris && !o->no_proof)) && i < argc; i++)
        if (strchr(argv[i], '\n'))
            return bad_value("--proof: an argument holds a line break, which the proof log cannot keep\n"), 2;
    const bool lm = o->task == AICON_TASK_LM;
    if (!o->model)
        o->model = lm ? "gpt" : "lenet";
    if (!o->data && lm)
        return bad_value("--task lm needs --data: a token file (aicon tokenize writes one)\n"), 2;
    if (!o->data)
        o->data = AICON_DEFAULT_DATA;
    if (!o->gpt.seq_len)
        o->gpt.seq_len = AICON_DEFAULT_SEQ_LEN;
    if (o->train.resume && strcmp(o->train.resume, "auto") == 0) {
        o->train.resume_auto = true;
        o->train.resume = NULL;
    }
    if (aic_trainer_config_check(&o->train) != AIC_OK)
        return bad_value("%s\n", aic_last_error()), 2;
    o->train.bucket_bytes = (size_t)o->bucket_kb << 10;
    if (isnan(o->train.lr.base_lr))
        o->train.lr.base_lr = o->train.optim.kind == AIC_OPTIM_SGD ? 0.05f : 0.001f;
    return 0;
}

/* ---- the run ---------------------------------------------------------------------------------- */

int aicon_train_job(train_opts *o, aic_comm_t *comm) {
    train_run r = {.comm = comm, .rank = aic_comm_rank(comm), .world = aic_comm_size(comm)};
    train_report rep = {0};
    int exit_code = 0;
    if (aicon_train_place(o, &r) != AIC_OK) {
        fprintf(stderr, "aicon train: [rank %d] placement: %s\n", r.rank, aic_last_error());
        exit_code = 1;
    }
    if (exit_code == 0)
        exit_code = aicon_train_run(o, &r, &rep);
    aicon_watchdog_stop(); /* past the last collective: from here a rank that exits is done, not gone */
    aicon_train_report_close(&rep);
    aic_meter_destroy(r.meter);
    aicon_model_source_free(&r.src);
    aic_dataset_destroy(r.train);
    aic_dataset_destroy(r.test);
    return exit_code;
}

int aicon_train_main(int argc, char **argv) {
    train_opts o;
    int rc = aicon_train_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    aic_comm_t *comm;
    /* Streaming DiLoCo sends its fragments from a thread of their own while training calls MPI too. */
    const int thread_level = o.train.outer_fragments > 1 ? MPI_THREAD_MULTIPLE : MPI_THREAD_SERIALIZED;
    if (!aicon_mpi_start("aicon train", thread_level, &comm))
        return 1;
    aicon_train_signals(); /* after MPI_Init, which may install handlers of its own */
    const int exit_code = aicon_train_job(&o, comm);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return exit_code;
}
