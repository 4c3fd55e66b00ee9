// SPDX-License-Identifier: Apache-2.0
/* aicon train: data-parallel training of a built-in or ONNX model under mpirun. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <hwloc.h>
#if AICON_HAVE_JSONC
#include <json-c/json.h>
#endif
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/meter.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/graph.h"
#include "train/progress.h"
#include "train/timeline.h"
#include "tools/checkpoints.h"
#include "tools/tools.h"
#include "tools/watchdog.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
/* Gradient bucket size: see the --help text and docs/training.md for how it was chosen. */
#define DEFAULT_BUCKET_KB 256
#define STR2(x) #x
#define STR(x) STR2(x)

typedef struct {
    const char *model, *input, *loss, *data, *test_data, *checkpoint, *resume, *summary, *export_path;
    const char *timeline;
    const char *metrics;             /* --metrics FILE.jsonl */
    int64_t log_every;               /* --log-every (steps; 0: no step lines) */
    const char *checkpoint_dir;      /* --checkpoint-dir */
    int64_t checkpoint_every;        /* --checkpoint-every (steps; 0: at epoch ends only) */
    int keep;                        /* --keep (0: all) */
    bool resume_auto, ckpt_continue; /* --resume auto, --on-checkpoint-error continue */
    int epochs, batch, accumulate, threads, timeline_steps, bucket_kb;
    int64_t max_steps;
    uint64_t seed;
    int classes; /* --classes (0: a built-in model's default) */
    aic_optim_config optim;
    aic_lr_schedule lr;
    bool scale_lr, quiet, normalize, verbose;
    aic_bind_mode bind;
    aic_meter_config meter; /* --usage, --key, --spool */
    int device, gpu_allreduce; /* --device (-1: cuda when built with it and a GPU is visible), --gpu-allreduce */
    bool tf32;                 /* --tf32 */
    bool skip_nonfinite;       /* --skip-nonfinite */
    aicon_watchdog_config watchdog; /* --heartbeat-timeout, --stall-timeout */
} train_opts;

static void train_usage(FILE *out) {
    fprintf(out,
            "usage: [mpirun -np N] aicon train [options]\n"
            "\n"
            "Trains a model data-parallel: each rank takes its share of every global batch, gradients are\n"
            "summed with a ring allreduce, and every rank applies the same update. Rank 0 prints one line\n"
            "per epoch and, on a terminal, a live progress line.\n"
            "\n"
            "model and data:\n"
            "  --model NAME|FILE      built-in model: %s (default lenet), or an ONNX file (a name ending\n"
            "                         in .onnx, or an existing file): its graph, with a single output, trained\n"
            "                         from the file's weights\n"
            "  --input NAME           the ONNX graph input the data feeds (default: the only one)\n"
            "  --loss NAME            cross-entropy: the output is logits; a graph ending in Softmax or\n"
            "                         LogSoftmax is recognized and not given a second softmax (default)\n"
            "                         nll: the output is log-probabilities, taken as they are\n"
            "  --classes N            a built-in model's outputs; every label must lie in 0..N-1 (default\n"
            "                         " STR(AICON_DEFAULT_CLASSES) "; an ONNX model's are its output's width)\n"
            "  --data PATH            a directory of MNIST-layout IDX files (train-*, t10k-*, plain or .gz),\n"
            "                         or an HDF5 file with datasets x (N x ...) and y (N labels)\n"
            "                         (default " DEFAULT_DATA ")\n"
            "  --test-data FILE.h5    test set for an HDF5 --data (an IDX directory brings its own)\n"
            "  --normalize auto|none  auto: standardize inputs with the training set's mean and standard\n"
            "                         deviation, test set included (default auto)\n"
            "training:\n"
            "  --epochs N             passes over the training set (default 3)\n"
            "  --batch N              samples per rank per micro-batch (default 64)\n"
            "  --accumulate N         micro-batches per rank per optimizer step: their gradients are added\n"
            "                         up and summed over ranks once, so a step takes N x ranks x batch\n"
            "                         samples, in the order one batch N times larger would (CPU only;\n"
            "                         default 1). Steps, --max-steps and the schedule count optimizer\n"
            "                         steps. A checkpoint resumes under any N x batch of the same product\n"
            "                         as the original run would go on (up to rounding); others warn\n"
            "  --max-steps N          stop after N optimizer steps in all (default: no limit)\n"
            "  --skip-nonfinite       a step whose loss is NaN or Inf on any rank leaves the model as it was\n"
            "                         on every rank and training goes on; the summary counts them\n"
            "                         (default: such a step stops the run with an error naming the step\n"
            "                         and the rank)\n"
            "  --optimizer NAME       sgd, adam or adamw (default sgd)\n"
            "  --lr X                 learning rate (default 0.05 for sgd, 0.001 for adam/adamw)\n"
            "  --momentum X           SGD momentum (default 0.9)\n"
            "  --nesterov             Nesterov momentum\n"
            "  --weight-decay X       L2 penalty (decoupled for adamw) (default 0)\n"
            "  --lr-schedule NAME     constant, step or cosine (default constant)\n"
            "  --lr-step-size N       step schedule: steps between decays (default one epoch)\n"
            "  --lr-gamma X           step schedule: decay factor (default 0.1)\n"
            "  --warmup-steps N       linear warm-up over the first N steps (default 0)\n"
            "  --scale-lr             multiply the rate by the number of ranks (large-batch rule)\n"
            "  --seed N               seed of initialization, shuffling and dropout (default 42)\n"
            "  --device cpu|cuda      where each rank computes; cuda uses GPU <node-local rank> (default:\n"
            "                         cuda when this aicon has CUDA and a GPU is visible, else cpu)\n"
            "  --tf32                 let GPU fp32 products use TF32 tensor cores (default: full fp32)\n"
            "  --gpu-allreduce NAME   nccl, ring (MPI) or hierarchical (NCCL in a node, ring across)\n"
            "                         (default nccl)\n"
            "  --bucket-kb N          sum the gradients in buckets of about N KiB while backward still runs\n"
            "                         (the first bucket at most 64 KiB): on CPU on a thread of each rank's\n"
            "                         own, on GPU with --gpu-allreduce nccl on NCCL's stream; 0: one\n"
            "                         allreduce after backward (default " STR(DEFAULT_BUCKET_KB) ")\n"
            "  --threads N            BLAS threads per rank (default: cores / ranks on the node, at most\n"
            "                         the cores --bind gave the rank)\n"
            "  --bind MODE            where each rank runs (aicon info --help says more; default auto):\n"
            "                         none: as launched; numa: the CPUs nearest the rank's GPU, or NUMA\n"
            "                         node (local rank mod nodes) on CPU; core: that set split evenly\n"
            "                         between the ranks sharing it, no core shared; auto: core, unless\n"
            "                         the launcher's binding already lies inside it. Open MPI binds\n"
            "                         -np 1-2 to cores (auto keeps that) and more to packages (auto\n"
            "                         narrows it); mpirun --bind-to none leaves it all to --bind\n"
            "checkpoints and reports:\n"
            "  --checkpoint FILE.h5   write an HDF5 checkpoint after every epoch (atomically)\n"
            "  --resume FILE.h5       continue from a checkpoint of the same model\n"
            "  --checkpoint-dir DIR   keep checkpoints in DIR (made if missing) as DIR/ckpt-step-00001234.h5,\n"
            "                         written atomically after every epoch, at the end of the run and\n"
            "                         every --checkpoint-every steps; temporary files a crash left are\n"
            "                         removed at start (a directory belongs to one run at a time)\n"
            "  --checkpoint-every N   also write one every N steps (default: at epoch ends only)\n"
            "  --keep K               keep the newest K checkpoints in DIR, removing older ones only after\n"
            "                         a new one is safely in place (default 3; 0 keeps all)\n"
            "  --resume auto          with --checkpoint-dir: continue from DIR's newest checkpoint that\n"
            "                         loads; a damaged one (truncated, corrupt, another model) is skipped\n"
            "                         with a warning and the next older one tried. No checkpoint in DIR:\n"
            "                         training starts from step 0; checkpoints there but none loads: an\n"
            "                         error (a file named auto: --resume ./auto)\n"
            "  --on-checkpoint-error stop|continue\n"
            "                         a checkpoint that cannot be written (disk full, not writable): stop\n"
            "                         every rank with the error, or warn and train on, trying again at\n"
            "                         the next one (default stop); earlier checkpoints stay intact\n"
            "  --summary FILE.json    write a JSON summary of the run (rank 0)\n"
            "  --log-every N          every N steps rank 0 prints a line: step, loss (mean since the last\n"
            "                         line), learning rate, samples/s, elapsed time, ETA; only where stdout\n"
            "                         is not a terminal (a batch job's log), a terminal keeps the live line\n"
            "  --metrics FILE.jsonl   rank 0 appends one JSON object a line: one per --log-every step\n"
            "                         (\"type\": \"step\") and one per epoch (\"type\": \"epoch\")\n"
            "  --timeline FILE.json   write a Chrome trace (chrome://tracing, Perfetto) of the first steps:\n"
            "                         each op's forward and backward, the gradient allreduce and the\n"
            "                         optimizer, every rank's in one file (rank 0 gathers; pid = rank)\n"
            "  --timeline-steps N     steps --timeline traces, from the first of this run (default 10)\n"
            "  --export FILE.onnx     after training, write the model's forward pass (logits, no loss) as\n"
            "                         ONNX (rank 0): with --normalize auto it takes the values the data\n"
            "                         file holds and standardizes them in its first nodes\n"
            "  --quiet                only errors and the final result\n"
            "  --verbose              rank 0 also prints every rank's CPU binding and GPU at start\n"
            "failures (a watchdog thread per rank, over TCP to rank 0):\n"
            "  --heartbeat-timeout S  a rank that died, or sent no heartbeat for S seconds (frozen, its node\n"
            "                         down), stops every rank, each with a line naming it and what it was\n"
            "                         doing (default 10; 0 turns the watchdog off)\n"
            "  --stall-timeout S      likewise for a rank whose heartbeats come but whose training made no\n"
            "                         progress for S seconds while another rank waits in a collective\n"
            "                         (default 600; 0: never)\n"
            "                         exit status: 3 a rank is gone, 4 a rank stalled, 5 SIGTERM (mpirun\n"
            "                         ending the run) before the watchdog knew which rank failed\n"
            "stopping early (batch jobs, Slurm's --signal):\n"
            "  SIGTERM or SIGUSR1 to any rank (mpirun and srun pass SIGUSR1 on to every rank): every rank\n"
            "                         stops after the step under way, rank 0 writes the usual checkpoints\n"
            "                         of that step (--checkpoint-dir, --checkpoint) and prints \"stopped by\n"
            "                         SIGUSR1 at step N of M; checkpoint ...; resume with ...\"; the final\n"
            "                         evaluation and --export are skipped, --summary says stopped_by.\n"
            "                         Exit status 6. --resume auto then goes on bitwise as if never\n"
            "                         stopped. mpirun, sent SIGTERM itself, kills its ranks within a\n"
            "                         second: signal the ranks, or mpirun with SIGUSR1\n"
            "usage records (docs/usage-records.md):\n"
            "  --usage URI            where rank 0 sends the ranks' signed usage records after training\n"
            "                         (repeatable, up to 8): file:PATH (an append-only ledger),\n"
            "                         http(s)://URL (a POST per record) or eth://HOST:PORT?contract=0x...\n"
            "                         (the UsageLedger contract); default file:aicon-ledger.jsonl when a\n"
            "                         key exists, else no records\n"
            "  --key PATH             this rank's signing key (aicon keygen); %%r becomes the rank\n"
            "                         (default $AICON_KEY, else ~/.aicon/key)\n"
            "  --spool DIR            where undelivered records wait for aicon ledger flush\n"
            "                         (default $AICON_SPOOL, else ~/.aicon/spool)\n"
            "  --help                 this text\n"
            "\n"
            "Training is bitwise reproducible on CPU for a given seed, world size, batch size, --threads\n"
            "and --bucket-kb.\n",
            aicon_builtin_model_names);
}

/* ---- flag parsing: every error names the flag and what is wrong ------------------------------- */

static bool parse_i64(const char *flag, const char *text, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: %s expects a whole number in %lld..%lld, got '%s'\n", flag, (long long)lo,
                    (long long)hi, text);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_int(const char *flag, const char *text, int lo, int hi, int *out) {
    int64_t v;
    if (!parse_i64(flag, text, lo, hi, &v))
        return false;
    *out = (int)v;
    return true;
}

static bool parse_float(const char *flag, const char *text, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: %s expects a number in [%g, %g], got '%s'\n", flag, lo, hi, text);
        return false;
    }
    *out = (float)v;
    return true;
}

static bool parse_choice(const char *flag, const char *text, const char *const *names, int n, int *out) {
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return true;
        }
    if (aicon_launcher_rank() == 0) {
        fprintf(stderr, "aicon train: %s: unknown value '%s' (choose from", flag, text);
        for (int i = 0; i < n; i++)
            fprintf(stderr, "%s %s", i ? "," : "", names[i]);
        fprintf(stderr, ")\n");
    }
    return false;
}

enum {
    OPT_MODEL = 256, OPT_DATA, OPT_TEST_DATA, OPT_EPOCHS, OPT_BATCH, OPT_MAX_STEPS, OPT_OPTIMIZER, OPT_LR,
    OPT_MOMENTUM, OPT_NESTEROV, OPT_WD, OPT_SCHEDULE, OPT_STEP_SIZE, OPT_GAMMA, OPT_WARMUP, OPT_SCALE_LR, OPT_SEED,
    OPT_THREADS, OPT_CHECKPOINT, OPT_RESUME, OPT_SUMMARY, OPT_QUIET, OPT_NORMALIZE, OPT_HELP, OPT_INPUT, OPT_EXPORT,
    OPT_LOSS, OPT_BIND, OPT_VERBOSE, OPT_USAGE, OPT_KEY, OPT_SPOOL,
    OPT_CKPT_DIR, OPT_CKPT_EVERY, OPT_KEEP, OPT_ON_CKPT_ERROR,
    OPT_DEVICE, OPT_TF32, OPT_GPU_ALLREDUCE, OPT_TIMELINE, OPT_TIMELINE_STEPS, OPT_BUCKET_KB,
    OPT_HEARTBEAT_TIMEOUT, OPT_STALL_TIMEOUT, OPT_ACCUMULATE, OPT_LOG_EVERY, OPT_METRICS,
    OPT_SKIP_NONFINITE, OPT_CLASSES
};

#if !AICON_HAVE_JSONC || !AICON_HAVE_USAGE
/* Flags of a part this build lacks: rank 0 says so, and parsing fails. */
static bool not_built(const char *flags, const char *lacking) {
    if (aicon_launcher_rank() == 0)
        fprintf(stderr, "aicon train: %s: this aicon was built without %s\n", flags, lacking);
    return false;
}
#endif

/* Returns 0 to go on, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, train_opts *o) {
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL},       {"data", required_argument, NULL, OPT_DATA},
        {"test-data", required_argument, NULL, OPT_TEST_DATA}, {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"batch", required_argument, NULL, OPT_BATCH},       {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
        {"accumulate", required_argument, NULL, OPT_ACCUMULATE},
        {"log-every", required_argument, NULL, OPT_LOG_EVERY}, {"metrics", required_argument, NULL, OPT_METRICS},
        {"skip-nonfinite", no_argument, NULL, OPT_SKIP_NONFINITE}, {"classes", required_argument, NULL, OPT_CLASSES},
        {"optimizer", required_argument, NULL, OPT_OPTIMIZER}, {"lr", required_argument, NULL, OPT_LR},
        {"momentum", required_argument, NULL, OPT_MOMENTUM}, {"nesterov", no_argument, NULL, OPT_NESTEROV},
        {"weight-decay", required_argument, NULL, OPT_WD},   {"lr-schedule", required_argument, NULL, OPT_SCHEDULE},
        {"lr-step-size", required_argument, NULL, OPT_STEP_SIZE}, {"lr-gamma", required_argument, NULL, OPT_GAMMA},
        {"warmup-steps", required_argument, NULL, OPT_WARMUP}, {"scale-lr", no_argument, NULL, OPT_SCALE_LR},
        {"seed", required_argument, NULL, OPT_SEED},         {"threads", required_argument, NULL, OPT_THREADS},
        {"checkpoint", required_argument, NULL, OPT_CHECKPOINT}, {"resume", required_argument, NULL, OPT_RESUME},
        {"summary", required_argument, NULL, OPT_SUMMARY},   {"quiet", no_argument, NULL, OPT_QUIET},
        {"normalize", required_argument, NULL, OPT_NORMALIZE}, {"help", no_argument, NULL, OPT_HELP},
        {"input", required_argument, NULL, OPT_INPUT},         {"export", required_argument, NULL, OPT_EXPORT},
        {"loss", required_argument, NULL, OPT_LOSS},
        {"bind", required_argument, NULL, OPT_BIND},           {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"usage", required_argument, NULL, OPT_USAGE},         {"key", required_argument, NULL, OPT_KEY},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"checkpoint-dir", required_argument, NULL, OPT_CKPT_DIR},
        {"checkpoint-every", required_argument, NULL, OPT_CKPT_EVERY},
        {"keep", required_argument, NULL, OPT_KEEP},
        {"on-checkpoint-error", required_argument, NULL, OPT_ON_CKPT_ERROR},
        {"device", required_argument, NULL, OPT_DEVICE},       {"tf32", no_argument, NULL, OPT_TF32},
        {"gpu-allreduce", required_argument, NULL, OPT_GPU_ALLREDUCE},
        {"timeline", required_argument, NULL, OPT_TIMELINE},
        {"timeline-steps", required_argument, NULL, OPT_TIMELINE_STEPS},
        {"bucket-kb", required_argument, NULL, OPT_BUCKET_KB},
        {"heartbeat-timeout", required_argument, NULL, OPT_HEARTBEAT_TIMEOUT},
        {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
        {NULL, 0, NULL, 0},
    };
    static const char *const optimizers[] = {"sgd", "adam", "adamw"};
    static const char *const schedules[] = {"constant", "step", "cosine"};
    static const char *const losses[] = {"cross-entropy", "nll"};
    static const char *const normalizations[] = {"none", "auto"};
    *o = (train_opts){.model = "lenet", .data = DEFAULT_DATA, .epochs = 3, .batch = 64, .accumulate = 1, .seed = 42,
                     .timeline_steps = 10, .normalize = true};
    o->optim = (aic_optim_config){.kind = AIC_OPTIM_SGD, .momentum = 0.9f};
    o->lr = (aic_lr_schedule){.kind = AIC_LR_CONSTANT, .base_lr = NAN, .gamma = 0.1f};
    o->device = -1;
    o->keep = 3;
    o->bucket_kb = DEFAULT_BUCKET_KB;
    o->watchdog = (aicon_watchdog_config){.heartbeat_timeout = 10, .stall_timeout = 600};
    float seconds;
    int64_t i64;
    int choice;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        bool ok = true;
        switch (c) {
        case OPT_MODEL: o->model = optarg; break;
        case OPT_INPUT: o->input = optarg; break;
        case OPT_LOSS:
            ok = parse_choice("--loss", optarg, losses, 2, &choice);
            o->loss = ok ? losses[choice] : NULL;
            break;
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST_DATA: o->test_data = optarg; break;
        case OPT_CLASSES: ok = parse_int("--classes", optarg, 1, AICON_MAX_CLASSES, &o->classes); break;
        case OPT_EPOCHS: ok = parse_int("--epochs", optarg, 1, 1000000, &o->epochs); break;
        case OPT_BATCH: ok = parse_int("--batch", optarg, 1, 1 << 20, &o->batch); break;
        case OPT_ACCUMULATE: ok = parse_int("--accumulate", optarg, 1, 1 << 20, &o->accumulate); break;
        case OPT_MAX_STEPS: ok = parse_i64("--max-steps", optarg, 1, INT64_MAX, &o->max_steps); break;
        case OPT_OPTIMIZER:
            ok = parse_choice("--optimizer", optarg, optimizers, 3, &choice);
            o->optim.kind = (aic_optim_kind)choice;
            break;
        case OPT_LR: ok = parse_float("--lr", optarg, 0.0, 1e6, &o->lr.base_lr); break;
        case OPT_MOMENTUM: ok = parse_float("--momentum", optarg, 0.0, 1.0, &o->optim.momentum); break;
        case OPT_NESTEROV: o->optim.nesterov = true; break;
        case OPT_WD: ok = parse_float("--weight-decay", optarg, 0.0, 1e6, &o->optim.weight_decay); break;
        case OPT_SCHEDULE:
            ok = parse_choice("--lr-schedule", optarg, schedules, 3, &choice);
            o->lr.kind = (aic_lr_kind)choice;
            break;
        case OPT_STEP_SIZE: ok = parse_i64("--lr-step-size", optarg, 1, INT64_MAX, &o->lr.step_size); break;
        case OPT_GAMMA: ok = parse_float("--lr-gamma", optarg, 0.0, 1.0, &o->lr.gamma); break;
        case OPT_WARMUP: ok = parse_i64("--warmup-steps", optarg, 0, INT64_MAX, &o->lr.warmup_steps); break;
        case OPT_SCALE_LR: o->scale_lr = true; break;
        case OPT_SEED:
            ok = parse_i64("--seed", optarg, 0, INT64_MAX, &i64);
            o->seed = (uint64_t)i64;
            break;
        case OPT_THREADS: ok = parse_int("--threads", optarg, 1, 4096, &o->threads); break;
        case OPT_DEVICE: {
            static const char *const devices[] = {"cpu", "cuda"};
            ok = parse_choice("--device", optarg, devices, 2, &o->device);
            break;
        }
        case OPT_TF32: o->tf32 = true; break;
        case OPT_GPU_ALLREDUCE: {
            static const char *const algos[] = {"nccl", "ring", "hierarchical"};
            ok = parse_choice("--gpu-allreduce", optarg, algos, 3, &o->gpu_allreduce);
            break;
        }
        case OPT_CHECKPOINT: o->checkpoint = optarg; break;
        case OPT_RESUME: o->resume = optarg; break;
        case OPT_CKPT_DIR: o->checkpoint_dir = optarg; break;
        case OPT_CKPT_EVERY: ok = parse_i64("--checkpoint-every", optarg, 1, INT64_MAX, &o->checkpoint_every); break;
        case OPT_KEEP: ok = parse_int("--keep", optarg, 0, 1000000, &o->keep); break;
        case OPT_ON_CKPT_ERROR: {
            static const char *const actions[] = {"stop", "continue"};
            ok = parse_choice("--on-checkpoint-error", optarg, actions, 2, &choice);
            o->ckpt_continue = choice == 1;
            break;
        }
        case OPT_LOG_EVERY: ok = parse_i64("--log-every", optarg, 1, INT64_MAX, &o->log_every); break;
#if AICON_HAVE_JSONC
        case OPT_SUMMARY: o->summary = optarg; break;
        case OPT_METRICS: o->metrics = optarg; break;
#else
        case OPT_SUMMARY:
        case OPT_METRICS:
            ok = not_built("--summary and --metrics", "json-c (-DAICON_USAGE=OFF on a machine without libjson-c-dev)");
            break;
#endif
        case OPT_TIMELINE: o->timeline = optarg; break;
        case OPT_TIMELINE_STEPS: ok = parse_int("--timeline-steps", optarg, 1, 1000000, &o->timeline_steps); break;
        case OPT_BUCKET_KB: ok = parse_int("--bucket-kb", optarg, 0, 1 << 22, &o->bucket_kb); break;
        case OPT_HEARTBEAT_TIMEOUT:
            ok = parse_float("--heartbeat-timeout", optarg, 0.0, 1e6, &seconds);
            o->watchdog.heartbeat_timeout = seconds;
            break;
        case OPT_STALL_TIMEOUT:
            ok = parse_float("--stall-timeout", optarg, 0.0, 1e7, &seconds);
            o->watchdog.stall_timeout = seconds;
            break;
        case OPT_EXPORT: o->export_path = optarg; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_SKIP_NONFINITE: o->skip_nonfinite = true; break;
        case OPT_VERBOSE: o->verbose = true; break;
#if AICON_HAVE_USAGE
        case OPT_USAGE:
            ok = o->meter.n_uris < AIC_METER_MAX_DESTS;
            if (ok)
                o->meter.uris[o->meter.n_uris++] = optarg;
            else if (aicon_launcher_rank() == 0)
                fprintf(stderr, "aicon train: at most %d --usage destinations\n", AIC_METER_MAX_DESTS);
            break;
        case OPT_KEY: o->meter.key = optarg; break;
        case OPT_SPOOL: o->meter.spool = optarg; break;
#else
        case OPT_USAGE:
        case OPT_KEY:
        case OPT_SPOOL:
            ok = not_built("--usage, --key and --spool", "usage records (-DAICON_USAGE=OFF)");
            break;
#endif
        case OPT_BIND:
            ok = aic_bind_mode_parse(optarg, &o->bind) == AIC_OK;
            if (!ok && aicon_launcher_rank() == 0)
                fprintf(stderr, "aicon train: %s\n", aic_last_error());
            break;
        case OPT_NORMALIZE:
            ok = parse_choice("--normalize", optarg, normalizations, 2, &choice);
            o->normalize = choice == 1;
            break;
        case OPT_HELP:
            if (aicon_launcher_rank() == 0)
                train_usage(stdout);
            return 1;
        default:
            if (aicon_launcher_rank() == 0) {
                const char *arg = argv[optind - 1];
                if (optopt && optopt < 256 && arg[0] == '-' && arg[1] != '-')
                    fprintf(stderr, "aicon train: unknown flag '-%c' (see aicon train --help)\n", optopt);
                else if (c == ':' || (optopt >= 256))
                    fprintf(stderr, "aicon train: %s needs a value (see aicon train --help)\n", arg);
                else
                    fprintf(stderr, "aicon train: unknown flag '%s' (see aicon train --help)\n", arg);
            }
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (optind < argc) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: unexpected argument '%s' (see aicon train --help)\n", argv[optind]);
        return 2;
    }
    if (o->optim.nesterov && o->optim.momentum <= 0) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: --nesterov needs --momentum greater than 0\n");
        return 2;
    }
    o->resume_auto = o->resume && strcmp(o->resume, "auto") == 0;
    const char *needs_dir = o->resume_auto ? "--resume auto" : o->checkpoint_every ? "--checkpoint-every" : NULL;
    if (needs_dir && !o->checkpoint_dir) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: %s needs --checkpoint-dir DIR\n", needs_dir);
        return 2;
    }
    /* The sampler hands out batch x accumulate rows per rank and step in one int. */
    if ((int64_t)o->batch * o->accumulate > (1 << 24)) {
        if (aicon_launcher_rank() == 0)
            fprintf(stderr, "aicon train: --batch %d x --accumulate %d is over %d samples per rank and step\n",
                    o->batch, o->accumulate, 1 << 24);
        return 2;
    }
    if (isnan(o->lr.base_lr))
        o->lr.base_lr = o->optim.kind == AIC_OPTIM_SGD ? 0.05f : 0.001f;
    return 0;
}

/* ---- the run ---------------------------------------------------------------------------------- */

typedef struct {
    aic_comm_t *comm;
    int rank, world;
    aicon_model_source src; /* owns the model */
    aic_model_t *model;
    aic_io_values io;
    aic_optim_t *optim;
    aic_dataset_t *train, *test;
    aic_sampler_t *sampler;
    int64_t *idx;
    aic_meter *meter;  /* NULL: no usage records */
    FILE *metrics;     /* --metrics, open on rank 0 */
    char device[320];  /* this rank's device, for its usage record */
    aic_preprocess preprocess; /* what load_data did to the inputs: checkpoints and exports record it */
} run_state;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Report a failure agreed on by all ranks: rank 0 names it (or the rank that failed); a failing
 * rank other than 0 adds its own detail. */
static int report_failure(const run_state *r, aic_status agreed, aic_status local, const char *local_msg) {
    if (agreed == AIC_ERR_COMM || local == AIC_ERR_COMM)
        aicon_watchdog_settle(); /* a peer that died is the watchdog's to name (status 3) */
    if (local != AIC_OK && r->rank != 0)
        fprintf(stderr, "aicon train: [rank %d] %s\n", r->rank, local_msg);
    else if (r->rank == 0)
        fprintf(stderr, "aicon train: %s\n", aic_last_error()[0] ? aic_last_error() : aic_status_string(agreed));
    return 1;
}

/* Agree on a step that may fail on some ranks only; on failure every rank reports and returns 1. */
#define AGREE_OR_FAIL(r, expr)                                                      \
    do {                                                                            \
        aic_status local_ = (expr);                                                 \
        char msg_[1024];                                                            \
        snprintf(msg_, sizeof msg_, "%s", aic_last_error());                       \
        aic_progress_phase(AIC_PHASE_COLLECTIVE);                                   \
        aic_status agreed_ = aic_comm_agree((r)->comm, local_);                     \
        if (agreed_ != AIC_OK) {                                                    \
            exit_code = report_failure((r), agreed_, local_, msg_);                  \
            goto cleanup;                                                           \
        }                                                                           \
    } while (0)

static aic_status load_data(const train_opts *o, run_state *r) {
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
    r->preprocess = unit == 1.0 ? (aic_preprocess){.kind = AIC_PREPROCESS_NONE}
                                : (aic_preprocess){.kind = AIC_PREPROCESS_STANDARDIZE, .mean = 0, .std = 1 / unit};
    if (o->normalize) {
        double mean, std;
        AIC_TRY(aic_dataset_stats(r->train, &mean, &std));
        r->preprocess = (aic_preprocess){.kind = AIC_PREPROCESS_STANDARDIZE, .mean = mean / unit, .std = std / unit};
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

/* Fail before training, not an epoch later, when the checkpoint cannot be written where asked. */
static aic_status check_checkpoint_dir(const char *flag, const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    if (access(d, W_OK) != 0)
        return aic_fail(AIC_ERR_IO, "%s %s: directory %s is not writable: %s", flag, path, d, strerror(errno));
    return AIC_OK;
}

/* Binds this rank (--bind) and, with --verbose, has rank 0 print every rank's binding. A binding
 * the system refuses is a warning from that rank. Collective; *cores: the cores aicon bound it to
 * (0 when it left the process where it was). */
static aic_status place(const train_opts *o, run_state *r, int *cores) {
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
static aic_status place_model(const train_opts *o, run_state *r) {
    int gpus = 0;
    aic_gpu_count(&gpus);
    int device = o->device >= 0 ? o->device : (aic_cuda_built() && gpus > 0 ? 1 : 0);
    if (device == 0)
        return AIC_OK;
    int local = aic_comm_local_rank(r->comm);
    if (local >= gpus)
        return aic_fail(AIC_ERR_INVALID_ARG, "--device cuda: rank %d is local rank %d but this node shows %d GPU%s",
                        r->rank, local, gpus, gpus == 1 ? "" : "s");
    AIC_TRY(aic_model_set_device(r->model, AIC_DEVICE_CUDA, local, o->tf32));
    return aic_comm_set_gpu_allreduce(r->comm, (aic_gpu_allreduce)o->gpu_allreduce);
}

/* Make every rank hold rank 0's parameters, buffers, optimizer state and train state. */
static aic_status sync_from_root(run_state *r, aic_train_state *st) {
    aic_model_t *m = r->model;
    AIC_TRY(aic_broadcast(r->comm, aic_model_params(m), sizeof(float) * aic_model_num_params(m), 0));
    AIC_TRY(aic_broadcast(r->comm, aic_model_buffers(m), sizeof(float) * aic_model_num_buffers(m), 0));
    for (int i = 0; i < aic_optim_slot_count(r->optim); i++) {
        float *slot;
        AIC_TRY(aic_optim_slot(r->optim, i, NULL, &slot));
        AIC_TRY(aic_broadcast(r->comm, slot, sizeof(float) * aic_model_num_params(m), 0));
    }
    int64_t osteps = aic_optim_steps(r->optim);
    AIC_TRY(aic_broadcast(r->comm, &osteps, sizeof osteps, 0));
    aic_optim_set_steps(r->optim, osteps);
    AIC_TRY(aic_broadcast(r->comm, st, sizeof *st, 0));
    uint8_t digest[32];
    AIC_TRY(aic_model_params_hash(m, digest));
    return aic_comm_check_same(r->comm, digest, "the model parameters");
}

/* A checkpoint that ends a run carries the usage record the run is about to sign: the next run of the
 * job names it as its record's prevSeq (chain/usage.h), so a record taken out of the ledger shows. */
static void claim_usage_record(const run_state *r, aic_train_state *st) {
    if (!r->meter)
        return;
    aic_meter_job_id(r->meter, st->usage_job);
    st->usage_seq = (uint64_t)st->step;
}

static void hex32(char out[65], const uint8_t d[32]) {
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

typedef struct {
    int64_t steps, epochs;
    double epochs_exact; /* steps / steps per epoch */
    double test_accuracy, test_loss, train_loss, samples_per_sec, seconds;
    const char *stopped_by; /* the signal that stopped the run early, NULL: it ran to its end */
    int64_t skipped_steps;  /* steps with a non-finite loss, left out under --skip-nonfinite */
    char params_sha256[65];
} run_summary;

/* A live progress line only for a person watching: stdout is a terminal, and under mpirun (which
 * gives each rank a pseudo-terminal whatever its own output is) the launcher's stdout is one too. */
static bool stdout_is_terminal(void) {
    if (!isatty(STDOUT_FILENO))
        return false;
    if (!getenv("OMPI_COMM_WORLD_SIZE"))
        return true;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%ld/fd/1", (long)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

static void progress_line(int64_t epoch, int epochs, int64_t step, int64_t steps, double loss, double rate) {
    const int width = 24;
    int filled = (int)(width * (double)step / (double)steps);
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    printf("\repoch %lld/%d [%s] %lld/%lld  loss %.4f  %.0f samples/s ", (long long)epoch + 1, epochs, bar,
           (long long)step, (long long)steps, loss, rate);
    fflush(stdout);
}

/* --log-every and --metrics (rank 0): what happened since the last step line. */
typedef struct {
    double t_start, t_last; /* the training loop's start, the last step line */
    int64_t first_step;     /* where this run started (past 0 when resumed) */
    double loss_sum;        /* loss x samples since the last step line */
    int64_t samples;
} step_log;

#if AICON_HAVE_JSONC
/* The JSON aicon train writes (--summary, --metrics), with json-c. */

/* A number, or null where it is not finite (JSON has no NaN). */
static json_object *json_finite(double v) {
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

static aic_status write_summary(const char *path, const train_opts *o, const run_state *r, const run_summary *s) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "aicon_version", json_object_new_string(aic_version_string()));
    json_object_object_add(j, "model", json_object_new_string(o->model));
    json_object_object_add(j, "world_size", json_object_new_int(r->world));
    json_object_object_add(j, "batch_per_rank", json_object_new_int(o->batch));
    json_object_object_add(j, "accumulate", json_object_new_int(o->accumulate));
    json_object_object_add(j, "epochs", json_object_new_int64(s->epochs));
    json_object_object_add(j, "epochs_exact", json_object_new_double(s->epochs_exact));
    json_object_object_add(j, "steps", json_object_new_int64(s->steps));
    json_object_object_add(j, "max_steps", o->max_steps ? json_object_new_int64(o->max_steps) : NULL);
    json_object_object_add(j, "stopped_by", s->stopped_by ? json_object_new_string(s->stopped_by) : NULL);
    json_object_object_add(j, "skipped_steps", json_object_new_int64(s->skipped_steps));
    json_object_object_add(j, "seed", json_object_new_uint64(o->seed));
    json_object_object_add(j, "blas_threads", json_object_new_int(o->threads));
    json_object_object_add(j, "train_loss", json_finite(s->train_loss));
    json_object_object_add(j, "test_accuracy", json_finite(s->test_accuracy));
    json_object_object_add(j, "test_loss", json_finite(s->test_loss));
    json_object_object_add(j, "train_samples_per_sec", json_finite(s->samples_per_sec));
    json_object_object_add(j, "train_seconds", json_finite(s->seconds));
    json_object_object_add(j, "params_sha256", json_object_new_string(s->params_sha256));
    json_object *pre = json_object_new_object();
    json_object_object_add(pre, "kind", json_object_new_string(aic_preprocess_name(r->preprocess.kind)));
    if (r->preprocess.kind == AIC_PREPROCESS_STANDARDIZE) {
        json_object_object_add(pre, "mean", json_object_new_double(r->preprocess.mean));
        json_object_object_add(pre, "std", json_object_new_double(r->preprocess.std));
    }
    json_object_object_add(j, "preprocess", pre);
    const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    aic_status st = aic_atomic_write(path, text, strlen(text), 0644, "the run summary");
    json_object_put(j);
    return st == AIC_OK ? AIC_OK : aic_fail_context(st, "--summary ");
}

/* One --metrics record a line, flushed, so that a job killed at any time leaves whole lines. A
 * failure to write is a warning, and the records stop. */
static void metrics_append(const train_opts *o, run_state *r, json_object *j) {
    if (r->metrics &&
        (fprintf(r->metrics, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN)) < 0 ||
         fflush(r->metrics) != 0)) {
        fprintf(stderr, "aicon train: warning: --metrics %s: %s; no more records\n", o->metrics, strerror(errno));
        fclose(r->metrics);
        r->metrics = NULL;
    }
    json_object_put(j);
}

static void metrics_step(const train_opts *o, run_state *r, int64_t step, int64_t epoch, double loss, double lr,
                         double rate, double elapsed, double eta) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("step"));
    json_object_object_add(j, "step", json_object_new_int64(step));
    json_object_object_add(j, "epoch", json_object_new_int64(epoch));
    json_object_object_add(j, "loss", json_finite(loss));
    json_object_object_add(j, "lr", json_finite(lr));
    json_object_object_add(j, "samples_per_sec", json_finite(rate));
    json_object_object_add(j, "elapsed", json_finite(elapsed));
    json_object_object_add(j, "eta", json_finite(eta));
    metrics_append(o, r, j);
}

static void metrics_epoch(const train_opts *o, run_state *r, int64_t epoch, int64_t step, double train_loss,
                          double train_accuracy, const aic_eval_result *test, double rate, double elapsed) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("epoch"));
    json_object_object_add(j, "epoch", json_object_new_int64(epoch));
    json_object_object_add(j, "step", json_object_new_int64(step));
    json_object_object_add(j, "train_loss", json_finite(train_loss));
    json_object_object_add(j, "train_accuracy", json_finite(train_accuracy));
    json_object_object_add(j, "test_loss", json_finite(test->loss));
    json_object_object_add(j, "test_accuracy", json_finite(test->accuracy));
    json_object_object_add(j, "samples_per_sec", json_finite(rate));
    json_object_object_add(j, "elapsed", json_finite(elapsed));
    metrics_append(o, r, j);
}
#else
/* Built without json-c (-DAICON_USAGE=OFF on a machine without it): parse_args refuses --summary and
 * --metrics, so none of these is reached. */
static aic_status write_summary(const char *path, const train_opts *o, const run_state *r, const run_summary *s) {
    return aic_fail(AIC_ERR_UNSUPPORTED, "--summary %s: this aicon was built without json-c", path);
}
static void metrics_step(const train_opts *o, run_state *r, int64_t step, int64_t epoch, double loss, double lr,
                         double rate, double elapsed, double eta) {}
static void metrics_epoch(const train_opts *o, run_state *r, int64_t epoch, int64_t step, double train_loss,
                          double train_accuracy, const aic_eval_result *test, double rate, double elapsed) {}
#endif

/* The --log-every line (print: stdout is no terminal) and record of step, the step just done. */
static void log_step(const train_opts *o, run_state *r, step_log *lg, int64_t step, int64_t last_step,
                     int64_t steps_per_epoch, double lr, bool print) {
    const double now = now_seconds(), elapsed = now - lg->t_start;
    const double loss = lg->samples ? lg->loss_sum / (double)lg->samples : NAN;
    const double rate = now > lg->t_last ? (double)lg->samples / (now - lg->t_last) : NAN;
    const double eta = elapsed / (double)(step - lg->first_step) * (double)(last_step - step);
    const int64_t epoch = (step - 1) / steps_per_epoch + 1;
    if (print) {
        printf("step %lld/%lld  epoch %lld  loss %.4f  lr %.4g  %.0f samples/s  elapsed %.1f s  ETA %.1f s\n",
               (long long)step, (long long)last_step, (long long)epoch, loss, lr, rate, elapsed, eta);
        fflush(stdout);
    }
    if (r->metrics)
        metrics_step(o, r, step, epoch, loss, lr, rate, elapsed, eta);
    lg->t_last = now;
    lg->loss_sum = 0;
    lg->samples = 0;
}

/* Rank 0 opens --metrics to append: the records of a resumed run follow those of its first part. */
static aic_status open_metrics(const train_opts *o, run_state *r) {
    if (o->metrics && !(r->metrics = fopen(o->metrics, "a")))
        return aic_fail(AIC_ERR_IO, "--metrics %s: %s", o->metrics, strerror(errno));
    return AIC_OK;
}

/* The signal (SIGTERM, SIGUSR1) that asked this rank to stop at the end of the step; 0: none. */
static volatile sig_atomic_t stop_signal;

static const char *signal_name(int sig) {
    return sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "a signal to another rank";
}

static void on_stop_signal(int sig) {
    stop_signal = sig;
    if (sig == SIGTERM) /* mpirun's way to end a failed run, too: the watchdog tells the two apart */
        aicon_watchdog_term();
}

/* What the ranks agree on after a step, in one small sum: whether any got a stop signal (so that all
 * stop at the same step), and which saw a non-finite loss of their own (rides along for the message). */
typedef struct {
    bool stop;
    int nonfinite_ranks, nonfinite_rank; /* how many saw one; the rank, when it was one */
} step_agreement;

static aic_status step_agreed(run_state *r, bool local_nonfinite, step_agreement *a) {
    double v[3] = {stop_signal != 0, local_nonfinite, local_nonfinite ? r->rank : 0};
    AIC_TRY(aic_allreduce_sum_f64(r->comm, v, 3));
    *a = (step_agreement){.stop = v[0] > 0, .nonfinite_ranks = (int)v[1], .nonfinite_rank = (int)v[2]};
    return AIC_OK;
}

/* Count rows whose largest logit is the label. */
static int64_t count_correct(aic_model_t *m, const int32_t *labels, int n) {
    aic_tensor out;
    if (n == 0 || aic_model_output(m, &out) != AIC_OK)
        return 0;
    const float *logits = out.data;
    int64_t K = out.shape[1], correct = 0;
    for (int i = 0; i < n; i++) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; k++)
            if (logits[i * K + k] > logits[i * K + best])
                best = k;
        correct += best == labels[i];
    }
    return correct;
}

/* Rank 0 writes file, or with file NULL --checkpoint-dir's checkpoint of this step and then drops the
 * ones past --keep; the caller agrees on the outcome. With --on-checkpoint-error continue a failure is
 * a warning and the next save tries again. */
static aic_status save_checkpoint(const train_opts *o, const run_state *r, const char *file, const aic_train_state *st) {
    if (r->rank != 0)
        return AIC_OK;
    char path[4096];
    aic_status s = file ? AIC_OK : aicon_ckpt_path(o->checkpoint_dir, st->step, path, sizeof path);
    if (s == AIC_OK)
        s = aic_checkpoint_save(file ? file : path, r->model, r->optim, st);
    if (s == AIC_OK && !file)
        aicon_ckpt_prune(o->checkpoint_dir, o->keep, stderr);
    if (s == AIC_OK)
        return AIC_OK;
    if (o->ckpt_continue) {
        fprintf(stderr, "aicon train: warning: step %lld: %s; training goes on (--on-checkpoint-error continue)\n",
                (long long)st->step, aic_last_error());
        return AIC_OK;
    }
    char why[1024];
    snprintf(why, sizeof why, "%s", aic_last_error());
    return aic_fail(s, "step %lld: %s; stopping (--on-checkpoint-error continue would train on)", (long long)st->step,
                    why);
}

/* One optimizer step on global batch s of the epoch: --accumulate micro-batches of at most --batch of
 * this rank's rows, one sum over ranks. The sampler's local batch is batch x accumulate, so a step
 * takes the samples one batch that many times larger would. A failure to read a batch is carried into
 * the step's agreement. *slice: this rank's share of the whole step; *correct: rows classified right;
 * *local_nonfinite: whether this rank's own loss was NaN or Inf (*loss is the sum over ranks). */
static aic_status accumulated_step(const train_opts *o, run_state *r, int64_t s, uint64_t step, float lr,
                                   aic_batch_slice *slice, float *loss, int64_t *correct, bool *local_nonfinite) {
    aic_tensor xin, yin;
    aic_model_value(r->model, r->io.input, &xin);
    aic_model_value(r->model, r->io.labels, &yin);
    aic_progress_set(AIC_PHASE_DATA, (int64_t)step);
    *slice = (aic_batch_slice){0};
    aic_accumulation acc = {.status = aic_sampler_batch(r->sampler, s, r->idx, slice)};
    *correct = 0;
    for (int k = 0;; k++) {
        const int first = k * o->batch, left = slice->n_local - first;
        const aic_batch_slice micro = {.n_local = left < 0 ? 0 : left < o->batch ? left : o->batch,
                                       .n_global = slice->n_global, .row_offset = slice->row_offset + first};
        if (acc.status == AIC_OK && micro.n_local > 0)
            acc.status = aic_dataset_gather(r->train, r->idx + first, micro.n_local, xin.data, yin.data);
        if (k + 1 == o->accumulate) {
            AIC_TRY(aic_train_step_accumulated(r->model, r->optim, r->comm, r->io, xin.data, yin.data, &micro, step,
                                               lr, &acc, loss));
            *correct += count_correct(r->model, yin.data, micro.n_local);
            /* The loss op's output still holds the last micro-batch's mean; acc the earlier ones'. */
            aic_tensor last;
            *local_nonfinite = !isfinite(acc.loss) ||
                               (micro.n_local > 0 && aic_model_value(r->model, r->model->loss_value, &last) == AIC_OK &&
                                !isfinite(*(const float *)last.data));
            return AIC_OK;
        }
        if (aic_train_accumulate(r->model, r->io, xin.data, yin.data, &micro, step, &acc) == AIC_OK)
            *correct += count_correct(r->model, yin.data, micro.n_local);
    }
}

static int train(const train_opts *o, run_state *r) {
    int exit_code = 0;
    aic_train_state st = {.seed = o->seed};
    const bool talk = r->rank == 0 && !o->quiet;
    const bool live = talk && stdout_is_terminal();

    aic_progress_set(AIC_PHASE_START, -1);
    AGREE_OR_FAIL(r, aicon_watchdog_start(r->comm, &o->watchdog));
    if (o->checkpoint)
        AGREE_OR_FAIL(r, r->rank == 0 ? check_checkpoint_dir("--checkpoint", o->checkpoint) : AIC_OK);
    if (o->checkpoint_dir) {
        int stale = 0;
        AGREE_OR_FAIL(r, r->rank == 0 ? aicon_ckpt_dir_prepare(o->checkpoint_dir, &stale) : AIC_OK);
        if (stale && talk)
            printf("removed %d temporary file%s an interrupted save left in %s\n", stale, stale == 1 ? "" : "s",
                   o->checkpoint_dir);
    }
    if (o->export_path)
        AGREE_OR_FAIL(r, r->rank == 0 ? check_checkpoint_dir("--export", o->export_path) : AIC_OK);
    AGREE_OR_FAIL(r, r->rank == 0 ? open_metrics(o, r) : AIC_OK);
    AGREE_OR_FAIL(r, load_data(o, r));
    const char *data_files[] = {o->data, o->test_data, NULL};
    AGREE_OR_FAIL(r, aic_meter_start(r->comm, &o->meter, data_files, &r->meter));
    int64_t shape[6];
    int ndim = aic_dataset_sample_shape(r->train, shape);
    AGREE_OR_FAIL(r, aicon_model_build(o->model, o->input, o->loss, ndim, shape, o->classes, &r->src));
    /* A label past the model's outputs would index past its logits: refused before any step. */
    AGREE_OR_FAIL(r, aic_dataset_check_labels(r->train, r->src.classes));
    if (r->test)
        AGREE_OR_FAIL(r, aic_dataset_check_labels(r->test, r->src.classes));
    r->model = r->src.model;
    r->io = r->src.io;
    AGREE_OR_FAIL(r, place_model(o, r));
    AGREE_OR_FAIL(r, aic_model_compile(r->model, o->batch, o->seed));
    AGREE_OR_FAIL(r, aicon_model_load_weights(&r->src)); /* an ONNX file's own weights, not the seed's */
    AGREE_OR_FAIL(r, aic_optim_create(&r->optim, r->model, &o->optim));
    AGREE_OR_FAIL(r, aic_train_set_buckets(r->model, r->comm, (size_t)o->bucket_kb << 10));
    /* rank 0 reads; the others receive it, so only rank 0 needs the file. resumed: the file (rank 0). */
    char auto_path[4096] = "";
    const char *resumed = o->resume_auto ? auto_path : o->resume;
    if (o->resume_auto)
        AGREE_OR_FAIL(r, r->rank == 0 ? aicon_ckpt_resume_auto(o->checkpoint_dir, r->model, r->optim, &st, auto_path,
                                                               sizeof auto_path, stderr)
                                      : AIC_OK);
    else if (o->resume)
        AGREE_OR_FAIL(r, r->rank == 0 ? aic_checkpoint_load(o->resume, r->model, r->optim, &st) : AIC_OK);
    aic_progress_phase(AIC_PHASE_COLLECTIVE);
    AGREE_OR_FAIL(r, sync_from_root(r, &st));
    /* Samples per optimizer step: the sample order depends on it alone, so a run resumed with another
     * --accumulate x --batch of the same product goes on as the original would have (up to rounding). */
    const int64_t global_batch = (int64_t)o->batch * o->accumulate * r->world;
    if (resumed && resumed[0] && st.global_batch != global_batch && r->rank == 0)
        fprintf(stderr,
                "aicon train: warning: %s was written with a global batch of %lld, this run has %lld (%d ranks x %d"
                " x --accumulate %d): training goes on from step %lld, but not as the original run would have\n",
                resumed, (long long)st.global_batch, (long long)global_batch, r->world, o->batch, o->accumulate,
                (long long)st.step);
    st.global_batch = global_batch;
    st.preprocess = r->preprocess; /* this run's data, whatever a resumed checkpoint had */
    uint64_t usage_prev_seq = 0; /* the record a resumed state of this job ends with */
    if (r->meter) {
        uint8_t job[32];
        aic_meter_job_id(r->meter, job);
        usage_prev_seq = memcmp(job, st.usage_job, 32) == 0 ? st.usage_seq : 0;
    }
    AGREE_OR_FAIL(r, aic_sampler_create(&r->sampler, aic_dataset_size(r->train), o->batch * o->accumulate, r->rank,
                                        r->world, st.seed, true));
    r->idx = malloc(sizeof(int64_t) * (size_t)o->batch * (size_t)o->accumulate);
    AGREE_OR_FAIL(r, r->idx ? AIC_OK : AIC_ERR_NOMEM);

    const int64_t steps_per_epoch = aic_sampler_steps_per_epoch(r->sampler);
    aic_lr_schedule sched = o->lr;
    if (o->scale_lr)
        sched.base_lr = aic_lr_scale_for_world(sched.base_lr, r->world);
    if (sched.kind == AIC_LR_STEP && sched.step_size == 0)
        sched.step_size = steps_per_epoch;
    if (sched.kind == AIC_LR_COSINE)
        sched.total_steps = steps_per_epoch * o->epochs;
    int64_t last_step = steps_per_epoch * o->epochs;
    if (o->max_steps > 0 && o->max_steps < last_step)
        last_step = o->max_steps;
    /* The epochs this run reaches into: fewer than --epochs when --max-steps ends it first. */
    const int64_t epochs = (last_step + steps_per_epoch - 1) / steps_per_epoch;
    if (talk) {
        char summary[4096];
        aic_model_summary(r->model, summary, sizeof summary);
        char accumulate[48] = "";
        if (o->accumulate > 1)
            snprintf(accumulate, sizeof accumulate, " x %d micro-batches", o->accumulate);
        printf("aicon %s: model %s, %d rank%s x batch %d%s, %lld samples (%lld steps/epoch), threads %d\n",
               aic_version_string(), o->model, r->world, r->world > 1 ? "s" : "", o->batch, accumulate,
               (long long)aic_dataset_size(r->train), (long long)steps_per_epoch, o->threads);
        if (st.step > 0)
            printf("resuming from %s at step %lld (epoch %lld)\n", resumed, (long long)st.step,
                   (long long)(st.step / steps_per_epoch));
        else if (o->resume_auto && !auto_path[0])
            printf("no checkpoint in %s: starting from step 0\n", o->checkpoint_dir);
        fflush(stdout);
    }
    if (o->timeline)
        AGREE_OR_FAIL(r, aic_timeline_start(r->comm, o->timeline_steps));
    const double t_start = now_seconds();
    double train_seconds = 0, last_train_loss = NAN;
    int64_t samples_done = 0;
    step_log lg = {.t_start = t_start, .t_last = t_start, .first_step = st.step};
    bool stopped = false;
    int64_t skipped = 0;
    while (st.step < last_step && !stopped) {
        const int64_t epoch = st.step / steps_per_epoch;
        AGREE_OR_FAIL(r, aic_sampler_set_epoch(r->sampler, epoch));
        double t_epoch = now_seconds(), t_print = 0, loss_sum = 0;
        double stats[2] = {0, 0}; /* correct, samples */
        int64_t epoch_samples = 0;
        /* The bar's length: the steps of this epoch the run takes. */
        const int64_t epoch_steps = last_step - epoch * steps_per_epoch < steps_per_epoch
                                        ? last_step - epoch * steps_per_epoch : steps_per_epoch;
        for (int64_t s = st.step % steps_per_epoch; s < epoch_steps && !stopped; s++) {
            aic_batch_slice slice;
            float loss;
            int64_t correct;
            bool local_nonfinite = false;
            const double t_step = now_seconds();
            aic_status ts = accumulated_step(o, r, s, (uint64_t)st.step, aic_lr_at(&sched, st.step), &slice, &loss,
                                             &correct, &local_nonfinite);
            if (ts != AIC_OK) {
                /* A failure inside a collective may have reached only some ranks: take them all down
                 * rather than leave one waiting. Others were agreed by every rank; rank 0 and the
                 * failing rank name them. A peer that died is the watchdog's to name (status 3). */
                if (ts == AIC_ERR_COMM)
                    aicon_watchdog_settle();
                if (r->rank == 0 || strncmp(aic_last_error(), "rank ", 5) != 0)
                    fprintf(stderr, "aicon train: [rank %d] step %lld: %s\n", r->rank, (long long)st.step,
                            aic_last_error());
                if (ts == AIC_ERR_COMM)
                    MPI_Abort(MPI_COMM_WORLD, 1);
                exit_code = 1;
                goto cleanup;
            }
            aic_meter_step(r->meter, now_seconds() - t_step, slice.n_local);
            /* The loss summed over ranks: every rank sees the same one, and a non-finite one has left the
             * model unchanged everywhere (aic_train_step); it is kept out of the means. */
            const bool nonfinite = !isfinite(loss);
            if (!nonfinite) {
                stats[0] += (double)correct;
                stats[1] += slice.n_local;
                loss_sum += (double)loss * slice.n_global;
                epoch_samples += slice.n_global;
                lg.loss_sum += (double)loss * slice.n_global;
                lg.samples += slice.n_global;
            }
            st.step++;
            if (live && (now_seconds() - t_print > 0.25 || s + 1 == epoch_steps)) {
                t_print = now_seconds();
                progress_line(epoch, epochs, s + 1, epoch_steps, loss_sum / (double)epoch_samples,
                              (double)epoch_samples / (t_print - t_epoch));
            }
            if (r->rank == 0 && o->log_every && st.step % o->log_every == 0)
                log_step(o, r, &lg, st.step, last_step, steps_per_epoch, aic_lr_at(&sched, st.step - 1),
                         talk && !live);
            if (st.step < last_step || nonfinite) {
                step_agreement ag = {0};
                AGREE_OR_FAIL(r, step_agreed(r, local_nonfinite, &ag));
                if (nonfinite) {
                    const char *what = isnan(loss) ? "NaN" : loss > 0 ? "+Inf" : "-Inf";
                    char where[64];
                    if (ag.nonfinite_ranks == 1)
                        snprintf(where, sizeof where, "on rank %d", ag.nonfinite_rank);
                    else if (ag.nonfinite_ranks > 1)
                        snprintf(where, sizeof where, "on %d ranks", ag.nonfinite_ranks);
                    else
                        snprintf(where, sizeof where, "summed over the ranks");
                    if (!o->skip_nonfinite) {
                        if (r->rank == 0)
                            fprintf(stderr, "aicon train: step %lld: the loss is %s %s; stopping (--skip-nonfinite "
                                    "would skip such steps)\n", (long long)st.step, what, where);
                        exit_code = 1;
                        goto cleanup;
                    }
                    skipped++;
                    if (r->rank == 0)
                        fprintf(stderr, "aicon train: warning: step %lld: the loss is %s %s; the update is skipped "
                                "on every rank (--skip-nonfinite)\n", (long long)st.step, what, where);
                }
                stopped = ag.stop && st.step < last_step;
                if (stopped) {
                    aicon_watchdog_stopping();
                    break; /* the checkpoint comes below */
                }
            }
            /* Mid-epoch only: the end of an epoch (or of the run) saves below. */
            if (o->checkpoint_every && st.step % o->checkpoint_every == 0 && s + 1 < steps_per_epoch &&
                st.step < last_step)
                AGREE_OR_FAIL(r, save_checkpoint(o, r, NULL, &st));
        }
        const double epoch_seconds = now_seconds() - t_epoch;
        train_seconds += epoch_seconds;
        samples_done += epoch_samples;
        if (stopped)
            break;
        aic_progress_phase(AIC_PHASE_COLLECTIVE);
        AGREE_OR_FAIL(r, aic_allreduce_sum_f64(r->comm, stats, 2));
        last_train_loss = loss_sum / (double)(epoch_samples ? epoch_samples : 1);
        aic_eval_result ev = {.loss = NAN, .accuracy = NAN};
        aic_progress_phase(AIC_PHASE_EVALUATE);
        if (r->test)
            AGREE_OR_FAIL(r, aic_evaluate(r->model, r->comm, r->io, r->test, &ev));
        if (st.step % steps_per_epoch == 0)
            st.epoch = st.step / steps_per_epoch;
        if (st.step >= last_step)
            claim_usage_record(r, &st);
        aic_progress_phase(AIC_PHASE_CHECKPOINT); /* rank 0 writes, the others wait in the agreement */
        if (o->checkpoint)
            AGREE_OR_FAIL(r, save_checkpoint(o, r, o->checkpoint, &st));
        if (o->checkpoint_dir)
            AGREE_OR_FAIL(r, save_checkpoint(o, r, NULL, &st));
        if (talk) {
            if (live)
                printf("\r\033[K");
            printf("epoch %lld/%lld  train loss %.4f acc %.4f", (long long)epoch + 1, (long long)epochs,
                   last_train_loss, stats[1] > 0 ? stats[0] / stats[1] : 0.0);
            if (r->test)
                printf("  test loss %.4f acc %.4f", ev.loss, ev.accuracy);
            printf("  %.0f samples/s  %.1f s\n", (double)epoch_samples / epoch_seconds, now_seconds() - t_start);
            fflush(stdout);
        }
        if (r->metrics)
            metrics_epoch(o, r, epoch + 1, st.step, last_train_loss, stats[1] > 0 ? stats[0] / stats[1] : NAN,
                          &ev, (double)epoch_samples / epoch_seconds, now_seconds() - t_start);
    }
    if (stopped) { /* a signal: the usual checkpoints of this step, then the run ends as a finished one */
        if (st.step % steps_per_epoch == 0)
            st.epoch = st.step / steps_per_epoch;
        claim_usage_record(r, &st);
        aic_progress_phase(AIC_PHASE_CHECKPOINT);
        if (o->checkpoint)
            AGREE_OR_FAIL(r, save_checkpoint(o, r, o->checkpoint, &st));
        if (o->checkpoint_dir)
            AGREE_OR_FAIL(r, save_checkpoint(o, r, NULL, &st));
    }

    /* epochs: those trained in, the last one partly where --max-steps or a signal ended it */
    run_summary sum = {.steps = st.step, .epochs = (st.step + steps_per_epoch - 1) / steps_per_epoch,
                       .epochs_exact = (double)st.step / (double)steps_per_epoch, .test_accuracy = NAN,
                       .test_loss = NAN, .train_loss = last_train_loss, .seconds = train_seconds,
                       .samples_per_sec = train_seconds > 0 ? (double)samples_done / train_seconds : NAN,
                       .stopped_by = stopped ? signal_name(stop_signal) : NULL, .skipped_steps = skipped};
    if (r->test && !stopped) { /* a stopping job has little time left */
        aic_eval_result ev;
        aic_progress_phase(AIC_PHASE_EVALUATE);
        AGREE_OR_FAIL(r, aic_evaluate(r->model, r->comm, r->io, r->test, &ev));
        sum.test_accuracy = ev.accuracy;
        sum.test_loss = ev.loss;
    }
    aic_progress_phase(AIC_PHASE_COLLECTIVE); /* the trace, the files rank 0 writes, the usage records */
    if (o->timeline)
        AGREE_OR_FAIL(r, aic_timeline_write(r->comm, o->timeline));
    if (o->export_path && !stopped)
        AGREE_OR_FAIL(r, r->rank == 0 ? aicon_model_export(&r->src, &r->preprocess, o->export_path) : AIC_OK);
    uint8_t digest[32];
    AGREE_OR_FAIL(r, aic_model_params_hash(r->model, digest));
    hex32(sum.params_sha256, digest);
    if (o->summary)
        AGREE_OR_FAIL(r, r->rank == 0 ? write_summary(o->summary, o, r, &sum) : AIC_OK);
    if (r->meter) { /* after training: delivery never slows a step */
        static const char *const optimizers[] = {"sgd", "adam", "adamw"};
        char hyper[512];
        snprintf(hyper, sizeof hyper,
                 "{\"model\":\"%s\",\"ranks\":%d,\"batch\":%d,\"epochs\":%d,\"maxSteps\":%lld,\"optimizer\":\"%s\","
                 "\"lr\":%g,\"momentum\":%g,\"weightDecay\":%g,\"seed\":%llu}",
                 aic_model_name(r->model), r->world, o->batch, o->epochs, (long long)o->max_steps,
                 optimizers[o->optim.kind], (double)o->lr.base_lr, (double)o->optim.momentum,
                 (double)o->optim.weight_decay, (unsigned long long)o->seed);
        aic_meter_end end = {.model = r->model, .final_step = (uint64_t)st.step, .prev_seq = usage_prev_seq,
                             .device = r->device, .hyperparameters = hyper};
        AGREE_OR_FAIL(r, aic_meter_finish(r->meter, r->comm, &end, stderr));
    }
    if (r->rank == 0 && stopped) {
        char path[4096] = "";
        if (o->checkpoint_dir)
            aicon_ckpt_path(o->checkpoint_dir, st.step, path, sizeof path);
        printf("stopped by %s at step %lld of %lld; ", sum.stopped_by, (long long)st.step, (long long)last_step);
        if (o->checkpoint_dir)
            printf("checkpoint %s; resume with --checkpoint-dir %s --resume auto\n", path, o->checkpoint_dir);
        else if (o->checkpoint)
            printf("checkpoint %s; resume with --resume %s\n", o->checkpoint, o->checkpoint);
        else
            printf("no checkpoint (no --checkpoint-dir): the run cannot be resumed\n");
        fflush(stdout);
    } else if (r->rank == 0) {
        char speed[48] = ", no step left to train"; /* resumed at its last step */
        if (!isnan(sum.samples_per_sec))
            snprintf(speed, sizeof speed, ", %.0f samples/s", sum.samples_per_sec);
        if (r->test)
            printf("test accuracy %.4f (loss %.4f) after %lld steps on %d rank%s%s", sum.test_accuracy, sum.test_loss,
                   (long long)sum.steps, r->world, r->world > 1 ? "s" : "", speed);
        else
            printf("trained %lld steps on %d rank%s%s", (long long)sum.steps, r->world, r->world > 1 ? "s" : "", speed);
        if (skipped)
            printf("; %lld step%s skipped (non-finite loss)", (long long)skipped, skipped == 1 ? "" : "s");
        printf("\n");
    }
    if (stopped)
        exit_code = AICON_EXIT_STOPPED;
cleanup:
    return exit_code;
}

int aicon_train_main(int argc, char **argv) {
    train_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "aicon train: MPI_Init_thread failed\n");
        return 1;
    }
    run_state r = {0};
    int exit_code = 0;
    /* After MPI_Init, which may install handlers of its own. */
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    if (aic_comm_create(&r.comm, MPI_COMM_WORLD) != AIC_OK) {
        fprintf(stderr, "aicon train: %s\n", aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    r.rank = aic_comm_rank(r.comm);
    r.world = aic_comm_size(r.comm);
    int bound_cores = 0;
    if (place(&o, &r, &bound_cores) != AIC_OK) {
        fprintf(stderr, "aicon train: [rank %d] placement: %s\n", r.rank, aic_last_error());
        exit_code = 1;
    }
    if (o.threads == 0) {
        o.threads = default_threads(aic_comm_local_size(r.comm));
        if (bound_cores > 0 && bound_cores < o.threads) /* BLAS threads stay on the rank's own cores */
            o.threads = bound_cores;
    }
    openblas_set_num_threads(o.threads);
    if (exit_code == 0)
        exit_code = train(&o, &r);
    aicon_watchdog_stop(); /* past the last collective: from here a rank that exits is done, not gone */
    free(r.idx);
    aic_meter_destroy(r.meter);
    if (r.metrics)
        fclose(r.metrics);
    aic_sampler_destroy(r.sampler);
    aic_optim_destroy(r.optim);
    aicon_model_source_free(&r.src);
    aic_dataset_destroy(r.train);
    aic_dataset_destroy(r.test);
    aic_comm_destroy(r.comm);
    MPI_Finalize();
    return exit_code;
}
