// SPDX-License-Identifier: Apache-2.0
/* aicon train: its options, what it sets up around the trainer (include/aicon/trainer.h), and the
 * callbacks that print its lines and write its --metrics and --summary files. */
#ifndef AICON_TOOLS_TRAIN_CMD_H
#define AICON_TOOLS_TRAIN_CMD_H

#include <stdio.h>

#include "chain/meter.h"
#include "tools/tools.h"
#include "tools/watchdog.h"

#define AICON_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
enum { AICON_TASK_CLASSIFY, AICON_TASK_LM };
/* Tokens a sample of --task lm: its window, the next tokens its labels. */
#define AICON_DEFAULT_SEQ_LEN 128
/* Gradient bucket size: see the --help text and docs/training.md for how it was chosen. */
#define AICON_DEFAULT_BUCKET_KB 256

typedef struct {
    aic_trainer_config train; /* epochs, batch, optimizer, schedule, checkpoints, resume, trace, export */
    const char *model, *input, *loss, *data, *test_data, *summary;
    const char *metrics;  /* --metrics FILE.jsonl */
    int64_t log_every;    /* --log-every (steps; 0: no step lines) */
    int threads, bucket_kb;
    int classes;          /* --classes (0: a built-in model's default) */
    int task;             /* --task: AICON_TASK_CLASSIFY or AICON_TASK_LM */
    aic_gpt_config gpt;   /* --layers, --heads, --dim, --seq-len, --vocab (0: defaults) */
    bool quiet, normalize, verbose;
    bool no_proof;             /* --no-proof: none by default with --usage either */
    aic_bind_mode bind;
    aic_meter_config meter;    /* --usage, --key, --spool */
    int device, gpu_allreduce; /* --device (-1: cuda when built with it and a GPU is visible), --gpu-allreduce */
    bool tf32;                 /* --tf32 */
    aicon_watchdog_config watchdog; /* --heartbeat-timeout, --stall-timeout */
    int argc;                       /* the command's arguments, argv[0] "train": the proof log keeps them */
    char **argv;
    /* aicon proof ops and verify --ops (no flag): after step ops_step, rank ops_rank writes its
     * per-op digests to ops_out (aicon_write_op_digests). */
    const char *ops_out;
    int64_t ops_step;
    int ops_rank;
} train_opts;

/* What the command holds while it trains. */
typedef struct {
    aic_comm_t *comm;
    int rank, world;
    aicon_model_source src; /* owns the model */
    aic_dataset_t *train, *test;
    aic_meter *meter; /* NULL: no usage records */
    char device[320]; /* this rank's device, for its usage record */
    char proof_dir[4096]; /* with --usage and no --proof: where the proof log goes */
} train_run;

/* aicon train --help (tools/train_help.c). */
void aicon_train_usage(FILE *out);

typedef struct train_report train_report;

/* tools/train_run.c. Binds this rank (--bind; with --verbose rank 0 prints every rank's binding) and
 * sets the BLAS threads. Collective. */
/* Every op's output and output gradient, as SHA-256, of model m after a step: "op INDEX KIND NAME out
 * HEX grad HEX" (a "-" where there is none), under a line naming the step and rank. */
aic_status aicon_write_op_digests(aic_model_t *m, int64_t step, int rank, const char *path);
/* aicon train's flags into o: 0, 1 after --help, 2 on a usage error (told on rank 0). */
int aicon_train_parse(int argc, char **argv, train_opts *o);
/* The job between MPI's start and end: placement, data, model, training, reports; its exit code. */
int aicon_train_job(train_opts *o, aic_comm_t *comm);
aic_status aicon_train_place(train_opts *o, train_run *r);
/* SIGTERM and SIGUSR1 ask the run to stop after the step under way (every rank at the same one). */
void aicon_train_signals(void);
/* Starts the watchdog, loads the data, builds, places and compiles the model and trains it; then the
 * summary, the usage records and the last line. Returns the exit status (MPI_Abort after a failure
 * only some ranks saw). */
int aicon_train_run(train_opts *o, train_run *r, train_report *rep);

/* tools/train_report.c: what rank 0 prints and writes as training goes (the live progress line on a
 * terminal, --log-every lines, --metrics records, epoch lines), the usage metering of each step, and
 * --summary and the last line at the end. */
struct train_report {
    const train_opts *o;
    train_run *r;
    bool talk, live;     /* rank 0 prints (not --quiet); on a terminal, a live line */
    FILE *metrics;       /* --metrics, open on rank 0 */
    uint64_t usage_prev_seq; /* the record a resumed state of this job ends with */
    int64_t last_step, first_step, live_epoch;
    double t_start, t_last, t_print; /* the loop's start, the last step line, the last live line */
    double t_step, eval_seconds; /* the last step's end; time in evaluations since the last step line */
    double loss_sum;     /* loss x samples since the last step line */
    int64_t samples;
};

/* Opens --metrics on rank 0 (to append) and fills cb with the report's callbacks. */
aic_status aicon_train_report_start(train_report *rep, const train_opts *o, train_run *r, aic_trainer_callbacks *cb);
/* After the run: --summary (rank 0; stopped_by the signal's name or NULL), then usage records. */
aic_status aicon_train_report_summary(train_report *rep, const aic_train_summary *s, const char *stopped_by);
aic_status aicon_train_report_usage(train_report *rep, const aic_train_summary *s);
/* Rank 0's last line: the test accuracy or steps trained, or where a stopped run can resume. */
void aicon_train_report_final(const train_report *rep, const aic_train_summary *s, const char *stopped_by);
void aicon_train_report_close(train_report *rep);

#endif
