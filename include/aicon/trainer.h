// SPDX-License-Identifier: Apache-2.0
/* The training loop as a library call: epochs of data-parallel steps (aic_train_step), gradient
 * accumulation, a learning-rate schedule, resume from a checkpoint, checkpoints every N steps and at
 * every epoch's end, evaluation after each epoch and at the end, a Chrome trace and an ONNX export.
 * `aicon train` is this plus argument parsing, and so is examples/train_classifier.c.
 *
 *   aic_trainer_t *t;
 *   aic_trainer_config cfg = {.epochs = 3, .batch = 64, .seed = 42, .lr = {.base_lr = 0.05f}};
 *   aic_trainer_create(&t, model, NULL, comm, io, train, test, &cfg, &callbacks);  (model compiled)
 *   aic_train_summary sum;
 *   aic_status s = aic_trainer_run(t, &sum);
 *   aic_trainer_destroy(t);
 *
 * Every rank calls the same functions with the same configuration. The trainer prints nothing: it
 * tells what happens through the callbacks, and failures through its status and aic_last_error().
 * Its messages name settings by the flags of `aicon train` (--checkpoint-dir for checkpoint_dir, and
 * so on: each config field below names its flag). CPU training is bitwise reproducible for a given
 * seed, world size, batch, accumulate, BLAS threads and bucket size, and a run resumed from one of its
 * checkpoints goes on bitwise as if never stopped. */
#ifndef AICON_TRAINER_H
#define AICON_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aicon/checkpoint.h"
#include "aicon/comm.h"
#include "aicon/data.h"
#include "aicon/export.h"
#include "aicon/model.h"
#include "aicon/optim.h"
#include "aicon/status.h"
#include "aicon/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aic_trainer aic_trainer_t;

typedef enum { AIC_SYNC_STEP = 0, AIC_SYNC_DILOCO = 1 } aic_sync_mode;

/* What to train for and what to write. Zero is the default of every field. */
typedef struct {
    int epochs;             /* --epochs: passes over the training set (0: 1) */
    int64_t max_steps;      /* --max-steps: stop after this many optimizer steps in all (0: no limit) */
    int batch;              /* --batch: samples per rank per micro-batch, at most the compiled batch (0: that) */
    int accumulate;         /* --accumulate: micro-batches per rank per optimizer step, CPU only (0: 1) */
    uint64_t seed;          /* --seed: the sample order (a resumed run keeps its checkpoint's) */
    aic_optim_config optim; /* the optimizer the trainer creates when given none */
    /* --lr...: the schedule over optimizer steps; AIC_LR_STEP's step_size 0 is one epoch, and
     * AIC_LR_COSINE's total_steps 0 is the run's last step: epochs x steps per epoch, or max_steps when
     * that ends the run first. */
    aic_lr_schedule lr;
    bool scale_lr;          /* --scale-lr: base_lr times the number of ranks */
    size_t bucket_bytes;    /* --bucket-kb: gradient buckets (aic_train_set_buckets); 0: one allreduce */
    bool skip_nonfinite;    /* --skip-nonfinite: a step with a non-finite loss is skipped, not an error */
    aic_preprocess preprocess; /* what was done to the inputs: checkpoints and the export record it */

    const char *checkpoint;      /* --checkpoint: a file rewritten at every epoch's end (NULL: none) */
    const char *checkpoint_dir;  /* --checkpoint-dir: DIR/ckpt-step-00001234.h5 at every epoch's end
                                  * and the run's end (made if missing; stale temporary files removed) */
    int64_t checkpoint_every;    /* --checkpoint-every: also every N steps into checkpoint_dir (0: not) */
    int keep;                    /* --keep: the newest K in checkpoint_dir are kept (0: all) */
    bool checkpoint_continue;    /* --on-checkpoint-error continue: a failed save is a warning */
    const char *resume;          /* --resume FILE: rank 0 reads it, the others receive it (NULL: none) */
    bool resume_auto;            /* --resume auto: checkpoint_dir's newest checkpoint that loads, if any */

    const char *timeline;        /* --timeline: a Chrome trace of the first steps, all ranks (NULL: none) */
    int timeline_steps;          /* --timeline-steps (0: 10) */
    const char *export_path;     /* --export: the trained model as ONNX, rank 0 (NULL: none) */
    int64_t eval_every;          /* --eval-every: also evaluate the test set every N steps (0: at epoch
                                  * ends and the run's end only) */
    bool no_shuffle;             /* --no-shuffle: every epoch takes the samples in the file's order (a
                                  * token shard written shuffled, as llm.c reads one) */

    /* --sync diloco: groups of sync_group ranks (0: the ranks of one node) sum their gradients every
     * step; across groups an outer step every inner_steps (0: 100) steps and at the run's end, on the
     * mean parameter change sent coded as outer_compress, with outer_lr (0: 1) and Nesterov momentum
     * outer_momentum (lr 1, momentum 0: plain averaging). outer_fragments F > 1 (at most
     * inner_steps) streams: the parameters in F fragments whose outer steps are spread over the
     * inner steps, each sent on a thread of its own while the next step runs (the caller's MPI must
     * give MPI_THREAD_MULTIPLE). CPU only; checkpoints hold every group's state and the outer state. */
    aic_sync_mode sync;
    int inner_steps, sync_group, outer_fragments;
    float outer_lr, outer_momentum;
    aic_compress outer_compress;

    /* --proof DIR: a proof log (train/proof.h) in DIR, a directory of its own: every rank's gradient
     * digest of every step, and at the start, every proof_every steps (0: 100) and the end the
     * digest of the whole state and its checkpoint DIR/seg-<step>.h5; proof_meta (lines) heads the
     * log: what a verifier needs to run the job again. CPU and --sync step only. */
    const char *proof_dir;
    int64_t proof_every;
    const char *proof_meta;
    /* End the run after this step (0: no such end) as if the run were that long, the schedule kept:
     * a verifier replays a segment of a longer run. */
    int64_t stop_after;
} aic_trainer_config;

/* Where training starts, after any resume (on_start). */
typedef struct {
    int rank, world;
    int64_t train_samples;   /* the training set's size */
    int64_t steps_per_epoch; /* optimizer steps per epoch */
    int64_t last_step;       /* the run ends after this step: epochs, or max_steps when fewer */
    int64_t epochs;          /* the epochs the run reaches into */
    int64_t global_batch;    /* samples per optimizer step over all ranks */
    const aic_train_state *state; /* step 0, or the resumed checkpoint's state (every rank holds it) */
    const char *resumed_from;     /* rank 0: the checkpoint resumed from; NULL: none (and elsewhere) */
} aic_trainer_start;

/* One optimizer step just done (on_step). */
typedef struct {
    int64_t step;          /* steps done, this one included (the schedule's step + 1) */
    int64_t epoch;         /* its epoch, from 0 */
    int64_t epoch_step;    /* steps of this epoch done, this one included */
    int64_t epoch_steps;   /* steps of this epoch the run takes */
    int64_t steps_per_epoch, last_step;
    float loss;            /* the step's mean loss over all ranks; not finite: skipped or about to fail */
    float lr;              /* the rate it used */
    int64_t samples;       /* its samples over all ranks */
    int local_samples;     /* this rank's share */
    double seconds;        /* this rank's time for the step */
    double epoch_loss;     /* mean loss of this epoch's finite steps so far */
    int64_t epoch_samples; /* their samples over all ranks */
    double epoch_seconds;  /* since the epoch (or the run) began */
} aic_trainer_step;

/* One epoch just ended, after its evaluation and checkpoints (on_epoch). */
typedef struct {
    int64_t epoch;          /* epochs ended, this one included */
    int64_t epochs;         /* the epochs the run reaches into */
    int64_t step;
    double train_loss;      /* mean over the epoch's finite steps */
    double train_accuracy;  /* NaN when no sample counted */
    double test_loss, test_accuracy; /* NaN without a test set */
    double samples_per_sec; /* this epoch's */
    double elapsed;         /* seconds since training began */
    /* This rank in the epoch's training steps (its evaluation left out): */
    double seconds;           /* spent in them */
    double comm_wait_seconds; /* of those, blocked on communication (aic_comm_wait_seconds) */
    uint64_t bytes_sent, bytes_received; /* by its collectives (aic_comm_traffic) */
} aic_trainer_epoch;

typedef enum {
    AIC_TRAINER_NOTE,    /* something worth a line: temporary files removed from checkpoint_dir */
    AIC_TRAINER_WARNING, /* training goes on, but not as asked: a damaged checkpoint skipped, ... */
} aic_trainer_message_kind;

/* What the trainer tells as it goes. Every callback is optional (NULL), and each gets ctx. They run on
 * the training thread, between steps: a slow callback slows training. */
typedef struct {
    void *ctx;
    /* Every rank, once, after resume and before the first step. */
    void (*on_start)(void *ctx, const aic_trainer_start *start);
    /* Every rank, after each optimizer step (before the ranks agree on stopping). */
    void (*on_step)(void *ctx, const aic_trainer_step *step);
    /* Every rank, after each epoch that ends in this run. */
    void (*on_epoch)(void *ctx, const aic_trainer_epoch *epoch);
    /* Every rank, before the checkpoints of a step are written (final: they end the run, at its last
     * step or on a stop): the state they will hold, for the caller to stamp (aicon train names the
     * usage record it is about to sign). Called at the run's end also when no checkpoint is set. */
    void (*before_checkpoint)(void *ctx, aic_train_state *state, bool final);
    /* Rank 0, after a checkpoint is safely in place at path. */
    void (*on_checkpoint)(void *ctx, const char *path, int64_t step);
    /* Every rank, after each step: true asks to stop (a signal, a time limit). When any rank asks,
     * every rank stops after the same step, writes the usual checkpoints of that step, and skips the
     * final evaluation and the export; on_stop comes first. A program that stops on a signal should
     * take it on a thread that does not train: oneDNN 2.7's JIT GEMM points rsp into the heap, and a
     * handler that runs inside it corrupts the heap (aicon train blocks its stop signals there). */
    bool (*should_stop)(void *ctx);
    void (*on_stop)(void *ctx, int64_t step);
    /* Rank 0: a note or a warning, one line without its end. NULL: warnings go to stderr as
     * "aicon: warning: ...", notes nowhere. */
    void (*on_message)(void *ctx, aic_trainer_message_kind kind, const char *text);
    /* Rank 0: write the trained model to path as ONNX, its inputs prepared as pre says (NULL:
     * aic_onnx_export_with, the input io.input under its own name). */
    aic_status (*export_model)(void *ctx, aic_model_t *m, const aic_preprocess *pre, const char *path);
    /* Every rank, after an evaluation of eval_every (not those of an epoch's end: on_epoch has them). */
    void (*on_eval)(void *ctx, int64_t step, const aic_eval_result *ev);
    /* Every rank, --proof: sign digest (what this rank vouches for: the digest of its gradient digests)
     * and give the signing key's address. NULL: the proof log is unsigned. */
    aic_status (*sign)(void *ctx, const uint8_t digest[32], uint8_t signature[65], uint8_t address[20]);
} aic_trainer_callbacks;

/* What a run did: what `aicon train --summary` writes. */
typedef struct {
    int64_t steps;            /* optimizer steps done, those of a resumed run's first part included */
    int64_t last_step;        /* where the run was to end */
    int64_t epochs;           /* epochs trained in, the last one partly where max_steps or a stop ended it */
    double epochs_exact;      /* steps / steps per epoch */
    double train_loss;        /* the last finished epoch's mean (NaN: none finished) */
    double test_loss, test_accuracy; /* the final evaluation (NaN: no test set, or stopped) */
    double seconds;           /* spent in training steps */
    double samples_per_sec;   /* NaN when no step was left to train */
    /* This rank over the run (the bytes include the evaluations' few, which `seconds` leaves out): */
    double comm_wait_seconds;            /* of `seconds`, blocked on communication */
    uint64_t bytes_sent, bytes_received; /* by its collectives */
    int64_t skipped_steps;    /* non-finite losses skipped (skip_nonfinite) */
    bool stopped;             /* should_stop ended the run early */
    char params_sha256[65];   /* of the final parameters, equal on every rank */
    char proof_root[65];      /* --proof: the log's Merkle root (every rank), "" without */
    int64_t proof_segments;
    char checkpoint[4096];    /* the run's last checkpoint: checkpoint_dir's of the final step, else
                               * the checkpoint file, else "" */
    /* After a failure: */
    aic_status local_status;  /* this rank's own failure; AIC_OK: another rank's was agreed on */
    bool report;              /* this rank should tell aic_last_error(): rank 0, or a rank whose own
                               * failure the message names ("[rank N] ...") */
    bool unagreed;            /* the failure came out of a collective and may have reached only some
                               * ranks: make no further collective call; end the job (MPI_Abort) */
} aic_train_summary;

/* Checks a configuration without a model: AIC_ERR_INVALID_ARG naming the setting by its flag (a
 * negative count, --nesterov without momentum, --resume auto or --checkpoint-every without
 * --checkpoint-dir, batch x accumulate over 2^24). aic_trainer_create checks it too. Local. */
AIC_API aic_status aic_trainer_config_check(const aic_trainer_config *cfg);

/* A trainer of the compiled model m over the data sets (test may be NULL), with optimizer o (NULL: the
 * trainer creates one from cfg->optim and destroys it). m, o, c and the data sets must outlive the
 * trainer; cfg's strings too; cfg and cb are copied (cb may be NULL). Checks the configuration
 * (aic_trainer_config_check; a batch over the compiled one); local. */
AIC_API aic_status aic_trainer_create(aic_trainer_t **out, aic_model_t *m, aic_optim_t *o, aic_comm_t *c,
                                      aic_io_values io, const aic_dataset_t *train, const aic_dataset_t *test,
                                      const aic_trainer_config *cfg, const aic_trainer_callbacks *cb);
/* Train as configured: prepare the checkpoint paths, resume, broadcast rank 0's parameters, optimizer
 * and train state to every rank (and check they agree), then run the steps, evaluations, checkpoints,
 * trace and export; *out says what happened. Collective; call it once. A failure on any rank is
 * returned on every rank (out->report says which rank tells it), except one inside a step's
 * collectives (out->unagreed). Never exits. */
AIC_API aic_status aic_trainer_run(aic_trainer_t *t, aic_train_summary *out);
/* Frees the trainer (and the optimizer it created); NULL is a no-op. */
AIC_API void aic_trainer_destroy(aic_trainer_t *t);

/* aic_comm_agree on a local outcome, leaving in aic_last_error() what this rank should tell of a
 * failure: rank 0 the agreed one (its own, or "rank N failed: ..."), another rank that failed its own
 * prefixed "[rank N] ". *report (may be NULL): whether this rank should tell it. Collective. */
AIC_API aic_status aic_trainer_agree(aic_comm_t *c, aic_status local, bool *report);

#ifdef __cplusplus
}
#endif
#endif
