// SPDX-License-Identifier: Apache-2.0
/* aicon train after its flags: this rank's binding and BLAS threads, the stop signals, the data, the
 * model and its device, and the trainer's run with the watchdog and usage records around it. */
#include <cblas.h>
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "core/graph.h"
#include "train/progress.h"
#include "tools/train_cmd.h"

#define DEFAULT_DATA AICON_DEFAULT_DATA

/* --task lm: windows of --seq-len tokens from --data, and --test-data or else the validation split
 * aicon tokenize wrote beside it (OUT_val.bin), when there is one. Tokens are taken as they are. */
static aic_status load_tokens(const train_opts *o, train_run *r, aic_preprocess *pre) {
    *pre = (aic_preprocess){.kind = AIC_PREPROCESS_NONE};
    AIC_TRY(aic_dataset_load_tokens(&r->train, o->data, o->gpt.seq_len));
    const char *test = o->test_data;
    char sibling[4096];
    const size_t n = strlen(o->data);
    if (!test && n > 4 && strcmp(o->data + n - 4, ".bin") == 0 && n < sizeof sibling - 8) {
        snprintf(sibling, sizeof sibling, "%.*s_val.bin", (int)(n - 4), o->data);
        struct stat sb;
        test = stat(sibling, &sb) == 0 ? sibling : NULL;
    }
    return test ? aic_dataset_load_tokens(&r->test, test, o->gpt.seq_len) : AIC_OK;
}

/* --data and --test-data, standardized as --normalize says (*pre: what was done, for checkpoints and
 * exports). */
static aic_status load_data(const train_opts *o, train_run *r, aic_preprocess *pre) {
    if (o->task == AICON_TASK_LM)
        return load_tokens(o, r, pre);
    struct stat sb;
    if (stat(o->data, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "--data %s: %s%s", o->data, strerror(errno),
                        strcmp(o->data, DEFAULT_DATA) == 0 ? " (install Debian's dataset-fashion-mnist, or pass --data)"
                                                           : "");
    if (S_ISDIR(sb.st_mode)) {
        if (o->test_data)
            return aic_fail(AIC_ERR_INVALID_ARG, "--test-data goes with an HDF5 --data; %s is a directory", o->data);
        AIC_TRY(aic_dataset_load_idx_dir(o->data, &r->train, &r->test));
    } else {
        AIC_TRY(aic_dataset_load_h5(&r->train, o->data));
        if (o->test_data)
            AIC_TRY(aic_dataset_load_h5(&r->test, o->test_data));
    }
    /* No model has more classes: a label past them is a damaged file, told before anything else. */
    AIC_TRY(aic_dataset_check_labels(r->train, AICON_MAX_CLASSES));
    if (r->test)
        AIC_TRY(aic_dataset_check_labels(r->test, AICON_MAX_CLASSES));
    /* Recorded in the units of the file's values, so that an exported model takes those: without
     * --normalize, IDX bytes still become byte/255, which the record says as mean 0 and std 255. */
    const double unit = aic_dataset_value_scale(r->train);
    *pre = unit == 1.0 ? (aic_preprocess){.kind = AIC_PREPROCESS_NONE}
                       : (aic_preprocess){.kind = AIC_PREPROCESS_STANDARDIZE, .mean = 0, .std = 1 / unit};
    if (o->normalize) {
        double mean, std;
        AIC_TRY(aic_dataset_stats(r->train, &mean, &std));
        *pre = (aic_preprocess){.kind = AIC_PREPROCESS_STANDARDIZE, .mean = mean / unit, .std = std / unit};
        AIC_TRY(aic_dataset_normalize(r->train, mean, std));
        if (r->test)
            AIC_TRY(aic_dataset_normalize(r->test, mean, std));
    }
    if (r->test) {
        int64_t a[6], b[6];
        int na = aic_dataset_sample_shape(r->train, a), nb = aic_dataset_sample_shape(r->test, b);
        if (na != nb || memcmp(a, b, sizeof(int64_t) * (size_t)na) != 0)
            return aic_fail(AIC_ERR_SHAPE, "%s: test samples differ in shape from the training samples of %s",
                            aic_dataset_source(r->test), aic_dataset_source(r->train));
    }
    return AIC_OK;
}

/* The model of --model for samples of the given shape: with --task lm the GPT (a vocabulary of at least
 * the data's tokens, 256 for bytes, unless --vocab says) or an ONNX language model; else a classifier. */
static aic_status build_model(train_opts *o, train_run *r, int ndim, const int64_t *shape) {
    const bool lm = o->task == AICON_TASK_LM;
    if (!lm || aicon_model_is_onnx(o->model))
        return aicon_model_build(o->model, o->input, o->loss, ndim, shape, o->classes, lm, &r->src);
    if (strcmp(o->model, "gpt") != 0)
        return aic_fail(AIC_ERR_UNSUPPORTED, "--task lm trains --model gpt or an ONNX language model; %s is neither",
                        o->model);
    const int data_vocab = aic_dataset_num_classes(r->train);
    if (!o->gpt.vocab)
        o->gpt.vocab = data_vocab > 256 ? data_vocab : 256;
    return aicon_model_build_gpt(&o->gpt, &r->src);
}

/* Binds this rank (--bind) and, with --verbose, has rank 0 print every rank's binding. A binding
 * the system refuses is a warning from that rank. Collective; *cores: the cores aicon bound it to
 * (0 when it left the process where it was). */
static aic_status place(const train_opts *o, train_run *r, int *cores) {
    aic_placement mine, *all = NULL;
    aic_status local = aic_place_rank(r->comm, o->bind, &mine);
    AIC_TRY(aic_comm_agree(r->comm, local));
    if (strcmp(mine.applied, "failed") == 0)
        fprintf(stderr, "aicon train: warning: [rank %d] %s\n", r->rank, mine.warning);
    /* Only a binding aicon made caps the BLAS threads: a launcher's (mpirun binds -np 1 to one core)
     * keeps the default the run always had, and with it the same CPU results. */
    *cores = strcmp(mine.applied, "core") == 0 || strcmp(mine.applied, "numa") == 0 ? mine.cores : 0;
    if (mine.gpu >= 0)
        snprintf(r->device, sizeof r->device, "cuda:%d %s", mine.gpu, mine.gpu_bus_id);
    else
        snprintf(r->device, sizeof r->device, "cpu:%s", mine.kernel_cpus);
    if (!o->verbose)
        return AIC_OK;
    if (r->rank == 0 && !(all = calloc((size_t)r->world, sizeof *all)))
        local = aic_fail(AIC_ERR_NOMEM, "out of memory for %d placements", r->world);
    AIC_TRY(aic_comm_agree(r->comm, local));
    aic_status st = aic_placement_gather(r->comm, &mine, all);
    for (int i = 0; st == AIC_OK && i < r->world && r->rank == 0; i++) {
        const aic_placement *p = &all[i];
        printf("rank %d on %s (local %d of %d): --bind %s -> %s, CPUs %s (%d core%s), GPU ", p->rank, p->host,
               p->local_rank, p->local_size, aic_bind_mode_name(p->mode), p->applied, p->kernel_cpus, p->cores,
               p->cores == 1 ? "" : "s");
        if (p->gpu >= 0)
            printf("%d (%s)", p->gpu, p->gpu_bus_id);
        else
            printf("none");
        printf("%s%s\n", p->warning[0] ? "; " : "", p->warning);
    }
    fflush(stdout);
    free(all);
    return st;
}

static int default_threads(int local_size) {
    hwloc_topology_t topo;
    int cores = 1;
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0)
            cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
        hwloc_topology_destroy(topo);
    }
    int t = cores / (local_size > 0 ? local_size : 1);
    return t > 0 ? t : 1;
}

/* --device: GPU <node-local rank> (the GPU the binding code places the rank beside), or the CPU. */
static aic_status place_model(const train_opts *o, train_run *r) {
    int gpus = 0;
    aic_gpu_count(&gpus);
    int device = o->device >= 0 ? o->device : (aic_cuda_built() && gpus > 0 ? 1 : 0);
    if (device == 0)
        return AIC_OK;
    int local = aic_comm_local_rank(r->comm);
    if (local >= gpus)
        return aic_fail(AIC_ERR_INVALID_ARG, "--device cuda: rank %d is local rank %d but this node shows %d GPU%s",
                        r->rank, local, gpus, gpus == 1 ? "" : "s");
    AIC_TRY(aic_model_set_device(r->src.model, AIC_DEVICE_CUDA, local, o->tf32));
    return aic_comm_set_gpu_allreduce(r->comm, (aic_gpu_allreduce)o->gpu_allreduce);
}

aic_status aicon_train_place(train_opts *o, train_run *r) {
    int bound_cores = 0;
    aic_status s = place(o, r, &bound_cores);
    if (o->threads == 0) {
        o->threads = default_threads(aic_comm_local_size(r->comm));
        if (bound_cores > 0 && bound_cores < o->threads) /* BLAS threads stay on the rank's own cores */
            o->threads = bound_cores;
    }
    openblas_set_num_threads(o->threads);
    return s;
}

/* The signal (SIGTERM, SIGUSR1) that asked this rank to stop at the end of the step; 0: none. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
    stop_signal = sig;
    if (sig == SIGTERM) /* mpirun's way to end a failed run, too: the watchdog tells the two apart */
        aicon_watchdog_term();
}

static aic_status sign_proof(void *ctx, const uint8_t digest[32], uint8_t signature[65], uint8_t address[20]) {
    const train_report *rep = ctx;
    return aic_meter_sign(rep->r->meter, digest, signature, address);
}

static bool should_stop(void *ctx) {
    return stop_signal != 0;
}

static void on_stop(void *ctx, int64_t step) {
    aicon_watchdog_stopping();
}

/* The stop signals' own thread: they are blocked everywhere else (see aicon_train_signals). */
static void *signal_thread(void *arg) {
    sigset_t none;
    sigemptyset(&none);
    for (;;)
        sigsuspend(&none);
    return arg;
}

/* oneDNN 2.7's JIT GEMM points rsp into the heap while it runs (oneDNN issue 4845), so a handler
 * that runs on a thread inside it writes its signal frame over the heap: a stop signal at the wrong
 * moment ended runs with "free(): invalid pointer". The stop signals are blocked in this thread,
 * and so in every thread it starts later (OpenMP's, which run oneDNN), and handled by a thread of
 * their own. Threads started earlier (MPI's, OpenBLAS's) may handle them too: they never run oneDNN. */
void aicon_train_signals(void) {
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, signal_thread, NULL) != 0)
        pthread_sigmask(SIG_UNBLOCK, &stops, NULL); /* no thread to take them: as before, anywhere */
    else
        pthread_detach(thread);
}

static const char *signal_name(int sig) {
    return sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "a signal to another rank";
}

/* The proof log's head: what a verifier needs to run this job again (aicon verify reads it). */
static aic_status proof_meta(const train_opts *o, const train_run *r, char **out) {
    size_t size = 256;
    for (int i = 1; i < o->argc; i++)
        size += strlen(o->argv[i]) + 8;
    char *m = malloc(size);
    if (!m)
        return aic_fail(AIC_ERR_NOMEM, "--proof: out of memory");
    /* The bits depend on the threads and the bucket size as well as on the flags: both are kept as
     * they were, defaults included. */
    int len = snprintf(m, size, "aicon %d.%d.%d\nworld %d\nthreads %d\nbucket_kb %d\n", AICON_VERSION_MAJOR,
                       AICON_VERSION_MINOR, AICON_VERSION_PATCH, r->world, o->threads, o->bucket_kb);
    for (int i = 1; i < o->argc; i++)
        len += snprintf(m + len, size - (size_t)len, "arg %s\n", o->argv[i]);
    *out = m;
    return AIC_OK;
}

/* With usage records and neither --proof nor --no-proof, a proof log all the same where there can be
 * one (CPU, --sync step): proof-JOB-TIME in --checkpoint-dir or the working directory, a new one per
 * run (a resumed job starts another). Collective. */
static aic_status default_proof(train_opts *o, train_run *r) {
    if (!r->meter || o->train.proof_dir || o->no_proof)
        return AIC_OK;
    const bool talk = r->rank == 0 && !o->quiet;
    /* DiLoCo's boundaries would move every group's state over the slow links: asked for, not given. */
    const bool diloco = o->train.sync == AIC_SYNC_DILOCO;
    if (diloco || strncmp(r->device, "cpu:", 4) != 0) {
        if (talk)
            printf("no proof log: %s; this job's usage records carry none\n",
                   diloco ? "under --sync diloco each boundary gathers every group's state to rank 0, so only "
                            "--proof DIR writes one"
                          : "proofs are of CPU jobs");
        return AIC_OK;
    }
    uint8_t job[32];
    aic_meter_job_id(r->meter, job);
    char job_hex[17], when[32];
    aic_hex(job, 8, job_hex);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    AIC_TRY(aic_broadcast(r->comm, &ms, sizeof ms, 0)); /* one directory for all ranks */
    const time_t t = (time_t)(ms / 1000);
    struct tm utc;
    const size_t len = strftime(when, sizeof when, "%Y%m%dT%H%M%S", gmtime_r(&t, &utc));
    snprintf(when + len, sizeof when - len, ".%03dZ", (int)(ms % 1000));
    const char *base = o->train.checkpoint_dir ? o->train.checkpoint_dir : ".";
    if (snprintf(r->proof_dir, sizeof r->proof_dir, "%s/proof-%s-%s", base, job_hex, when) >= (int)sizeof r->proof_dir)
        return aic_fail(AIC_ERR_INVALID_ARG, "--checkpoint-dir %s: too long a path for the proof log in it", base);
    o->train.proof_dir = r->proof_dir;
    if (talk)
        printf("proof log: %s (aicon verify replays it; --no-proof: none)\n", r->proof_dir);
    return AIC_OK;
}

/* After an agreed failure (or one of this rank's own: unagreed) the ranks that should tell it do;
 * returns the exit status. */
static int failed(aic_status agreed, aic_status local, bool report) {
    if (agreed == AIC_ERR_COMM || local == AIC_ERR_COMM)
        aicon_watchdog_settle(); /* a peer that died is the watchdog's to name (status 3) */
    if (report)
        fprintf(stderr, "aicon train: %s\n", aic_last_error());
    return 1;
}

/* Agree on a set-up step that may fail on some ranks only; on failure every rank reports and returns 1. */
#define AGREE_OR_FAIL(r, expr)                                                 \
    do {                                                                       \
        const aic_status local_ = (expr);                                      \
        bool report_;                                                          \
        const aic_status agreed_ = aic_trainer_agree((r)->comm, local_, &report_); \
        if (agreed_ != AIC_OK)                                                 \
            return failed(agreed_, local_, report_);                           \
    } while (0)

int aicon_train_run(train_opts *o, train_run *r, train_report *rep) {
    aic_progress_set(AIC_PHASE_START, -1);
    AGREE_OR_FAIL(r, aicon_watchdog_start(r->comm, &o->watchdog));
    aic_trainer_callbacks cb;
    AGREE_OR_FAIL(r, aicon_train_report_start(rep, o, r, &cb));
    cb.should_stop = should_stop;
    cb.on_stop = on_stop;
    AGREE_OR_FAIL(r, load_data(o, r, &o->train.preprocess));
    const char *data_files[] = {o->data, o->test_data, NULL};
    AGREE_OR_FAIL(r, aic_meter_start(r->comm, &o->meter, data_files, &r->meter));
    if (r->meter) /* a miner with a usage key signs its proof log too */
        cb.sign = sign_proof;
    int64_t shape[6];
    int ndim = aic_dataset_sample_shape(r->train, shape);
    AGREE_OR_FAIL(r, build_model(o, r, ndim, shape));
    /* A label past the model's outputs would index past its logits: refused before any step. */
    AGREE_OR_FAIL(r, aic_dataset_check_labels(r->train, r->src.classes));
    if (r->test)
        AGREE_OR_FAIL(r, aic_dataset_check_labels(r->test, r->src.classes));
    AGREE_OR_FAIL(r, place_model(o, r));
    AGREE_OR_FAIL(r, aic_model_compile(r->src.model, o->train.batch, o->train.seed));
    AGREE_OR_FAIL(r, aicon_model_init_weights(&r->src, o->train.seed)); /* an ONNX file's own weights */
    AGREE_OR_FAIL(r, default_proof(o, r));
    char *meta = NULL;
    if (o->train.proof_dir) {
        AGREE_OR_FAIL(r, proof_meta(o, r, &meta));
        o->train.proof_meta = meta;
    }
    aic_trainer_t *t = NULL;
    const aic_status created =
        aic_trainer_create(&t, r->src.model, NULL, r->comm, r->src.io, r->train, r->test, &o->train, &cb);
    if (created != AIC_OK)
        free(meta);
    AGREE_OR_FAIL(r, created);
    aic_train_summary sum;
    const aic_status st = aic_trainer_run(t, &sum);
    aic_trainer_destroy(t);
    free(meta);
    o->train.proof_meta = NULL;
    if (st != AIC_OK) {
        const int code = failed(st, sum.local_status, sum.report);
        /* A failure inside a collective may have reached only some ranks: take them all down rather
         * than leave one waiting. */
        if (sum.unagreed)
            MPI_Abort(MPI_COMM_WORLD, 1);
        return code;
    }
    const char *stopped_by = sum.stopped ? signal_name(stop_signal) : NULL;
    aic_progress_phase(AIC_PHASE_COLLECTIVE); /* the files rank 0 writes, the usage records */
    AGREE_OR_FAIL(r, aicon_train_report_summary(rep, &sum, stopped_by));
    AGREE_OR_FAIL(r, aicon_train_report_usage(rep, &sum));
    aicon_train_report_final(rep, &sum, stopped_by);
    return sum.stopped ? AICON_EXIT_STOPPED : 0;
}
