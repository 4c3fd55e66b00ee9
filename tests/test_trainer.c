// SPDX-License-Identifier: Apache-2.0
/* aic_trainer through its public API, under mpirun -np 2 on Fashion-MNIST (a small MLP, 30 steps):
 *   a run to the end: every callback in order, checkpoints every 10 steps, equal parameters on the ranks;
 *   a run that should_stop ends after step 12: its checkpoint, on_stop, the summary;
 *   that run resumed (resume_auto) to step 30: bitwise the parameters of the uninterrupted run;
 *   bad settings and a missing resume file: errors that name the flag or the file, on every rank.
 *
 * Usage: test_trainer DATA_DIR */
#define _XOPEN_SOURCE 700
#include <mpi.h>
#include <string.h>
#include <sys/stat.h>

#include "aicon/aicon.h"
#include "tests/test_tmpdir.h"
#include "tests/test_util.h"

#define STEPS 30
#define CKPT_EVERY 10
#define STOP_AT 12

typedef struct {
    int rank;
    int64_t stop_at; /* should_stop from this step on (0: never) */
    int starts, before_checkpoints, stops;
    int64_t start_step, start_last_step, steps_seen, last_step_seen, stopped_step;
    bool in_order, losses_finite;
    int64_t ckpt_steps[8];
    int checkpoints;
} probe;

static void on_start(void *ctx, const aic_trainer_start *s) {
    probe *p = ctx;
    p->starts++;
    p->start_step = s->state->step;
    p->start_last_step = s->last_step;
    p->last_step_seen = s->state->step;
}

static void on_step(void *ctx, const aic_trainer_step *s) {
    probe *p = ctx;
    p->in_order = p->in_order && s->step == p->last_step_seen + 1;
    p->losses_finite = p->losses_finite && s->loss == s->loss && s->loss < 1e30f;
    p->last_step_seen = s->step;
    p->steps_seen++;
}

static void before_checkpoint(void *ctx, aic_train_state *st, bool final) { ((probe *)ctx)->before_checkpoints++; }

static void on_checkpoint(void *ctx, const char *path, int64_t step) {
    probe *p = ctx;
    if (p->checkpoints < 8)
        p->ckpt_steps[p->checkpoints] = step;
    p->checkpoints++;
}

static bool should_stop(void *ctx) {
    const probe *p = ctx;
    return p->stop_at > 0 && p->last_step_seen >= p->stop_at;
}

static void on_stop(void *ctx, int64_t step) {
    probe *p = ctx;
    p->stops++;
    p->stopped_step = step;
}

/* flatten, dense 32, relu, dense 10, softmax cross-entropy; compiled for batch 32, seed 7. */
static aic_status build(aic_model_t **out, aic_io_values *io) {
    aic_model_t *m;
    aic_value x, h;
    AIC_TRY(aic_model_create(&m, "trainer_mlp"));
    *out = m;
    AIC_TRY(aic_input(m, "image", 3, (int64_t[]){1, 28, 28}, &x));
    AIC_TRY(aic_labels(m, "label", &io->labels));
    io->input = x;
    AIC_TRY(aic_flatten(m, "flatten", x, &h));
    AIC_TRY(aic_dense(m, "fc1", h, 32, true, &h));
    AIC_TRY(aic_relu(m, "relu", h, &h));
    AIC_TRY(aic_dense(m, "fc2", h, 10, true, &h));
    AIC_TRY(aic_softmax_cross_entropy(m, "loss", h, io->labels, &h));
    return aic_model_compile(m, 32, 7);
}

static aic_trainer_config base_config(const char *dir) {
    return (aic_trainer_config){.epochs = 1, .max_steps = STEPS, .batch = 32, .seed = 7,
                                .optim = {.kind = AIC_OPTIM_SGD, .momentum = 0.9f},
                                .lr = {.base_lr = 0.05f}, .checkpoint_dir = dir, .checkpoint_every = CKPT_EVERY};
}

/* One run of a fresh model; the trainer's status, with *sum and *p filled. */
static aic_status run(aic_comm_t *comm, const aic_dataset_t *train, const aic_dataset_t *test,
                      const aic_trainer_config *cfg, probe *p, aic_train_summary *sum) {
    p->in_order = p->losses_finite = true;
    const aic_trainer_callbacks cb = {.ctx = p, .on_start = on_start, .on_step = on_step,
                                      .before_checkpoint = before_checkpoint, .on_checkpoint = on_checkpoint,
                                      .should_stop = should_stop, .on_stop = on_stop};
    aic_model_t *m = NULL;
    aic_io_values io;
    aic_trainer_t *t = NULL;
    aic_status st = build(&m, &io);
    if (st == AIC_OK)
        st = aic_trainer_create(&t, m, NULL, comm, io, train, test, cfg, &cb);
    if (st == AIC_OK)
        st = aic_trainer_run(t, sum);
    aic_trainer_destroy(t);
    aic_model_destroy(m);
    return st;
}

static bool file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Whether every rank holds the same 64-character digest. */
static bool same_on_all_ranks(const char *digest) {
    char root[65];
    memcpy(root, digest, sizeof root);
    MPI_Bcast(root, sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    int same = memcmp(root, digest, 64) == 0, all;
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return all;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    aic_comm_t *comm;
    REQUIRE_OK(aic_comm_create(&comm, MPI_COMM_WORLD));
    test_rank = aic_comm_rank(comm);
    const char *data = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    aic_dataset_t *train, *test;
    REQUIRE_OK(aic_dataset_load_idx_dir(data, &train, &test));
    /* One scratch directory, made by rank 0 and named to the others. */
    if (test_rank == 0 && test_tmp_make("aicon_trainer") != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Bcast(test_tmp, sizeof test_tmp, MPI_CHAR, 0, MPI_COMM_WORLD);
    char dir_a[1024], dir_b[1024];
    snprintf(dir_a, sizeof dir_a, "%s", test_tmp_path("a"));
    snprintf(dir_b, sizeof dir_b, "%s", test_tmp_path("b"));

    /* To the end. */
    aic_trainer_config cfg = base_config(dir_a);
    probe pa = {.rank = test_rank};
    aic_train_summary sa;
    if (CHECK_OK(run(comm, train, test, &cfg, &pa, &sa))) {
        CHECK(pa.starts == 1 && pa.start_step == 0 && pa.start_last_step == STEPS);
        CHECK_MSG(pa.steps_seen == STEPS && pa.in_order, "%lld steps seen, in order: %d", (long long)pa.steps_seen,
                  pa.in_order);
        CHECK(pa.losses_finite);
        CHECK(sa.steps == STEPS && !sa.stopped && pa.stops == 0);
        CHECK_MSG(sa.test_accuracy > 0.3 && sa.test_accuracy <= 1.0, "test accuracy %g", sa.test_accuracy);
        CHECK(pa.before_checkpoints >= 3);
        if (test_rank == 0) /* on_checkpoint is rank 0's */
            CHECK_MSG(pa.checkpoints == 3 && pa.ckpt_steps[0] == 10 && pa.ckpt_steps[1] == 20 &&
                          pa.ckpt_steps[2] == 30,
                      "%d checkpoints, at %lld %lld %lld", pa.checkpoints, (long long)pa.ckpt_steps[0],
                      (long long)pa.ckpt_steps[1], (long long)pa.ckpt_steps[2]);
        CHECK_MSG(ends_with(sa.checkpoint, "ckpt-step-00000030.h5") && file_exists(sa.checkpoint), "checkpoint '%s'",
                  sa.checkpoint);
        CHECK_MSG(strlen(sa.params_sha256) == 64 && same_on_all_ranks(sa.params_sha256), "params %s",
                  sa.params_sha256);
    }

    /* Stopped after step STOP_AT by should_stop (rank 1 only asks: every rank stops). */
    cfg = base_config(dir_b);
    probe pb = {.rank = test_rank, .stop_at = test_rank == 1 ? STOP_AT : 0};
    aic_train_summary sb;
    if (CHECK_OK(run(comm, train, NULL, &cfg, &pb, &sb))) {
        CHECK_MSG(sb.stopped && sb.steps == STOP_AT && pb.steps_seen == STOP_AT, "stopped %d at %lld after %lld",
                  sb.stopped, (long long)sb.steps, (long long)pb.steps_seen);
        CHECK(pb.stops == 1 && pb.stopped_step == STOP_AT);
        CHECK_MSG(ends_with(sb.checkpoint, "ckpt-step-00000012.h5") && file_exists(sb.checkpoint), "checkpoint '%s'",
                  sb.checkpoint);
    }

    /* Resumed from that checkpoint to the end: the uninterrupted run's parameters, bit for bit. */
    cfg = base_config(dir_b);
    cfg.resume_auto = true;
    probe pc = {.rank = test_rank};
    aic_train_summary sc;
    if (CHECK_OK(run(comm, train, NULL, &cfg, &pc, &sc))) {
        CHECK_MSG(pc.start_step == STOP_AT && pc.steps_seen == STEPS - STOP_AT && pc.in_order,
                  "resumed at %lld, %lld steps", (long long)pc.start_step, (long long)pc.steps_seen);
        CHECK(sc.steps == STEPS && !sc.stopped);
        CHECK_MSG(strcmp(sc.params_sha256, sa.params_sha256) == 0, "resumed %s, uninterrupted %s", sc.params_sha256,
                  sa.params_sha256);
    }

    /* Settings refused before anything runs, naming the flag. */
    cfg = base_config(NULL);
    CHECK(aic_trainer_config_check(&cfg) == AIC_ERR_INVALID_ARG && strstr(aic_last_error(), "--checkpoint-every"));
    cfg = base_config(dir_a);
    cfg.checkpoint_every = -1;
    CHECK(aic_trainer_config_check(&cfg) == AIC_ERR_INVALID_ARG && strstr(aic_last_error(), "--checkpoint-every"));

    /* A resume file that is not there: a failure on every rank, told by rank 0, naming the file. */
    cfg = base_config(NULL);
    cfg.checkpoint_every = 0;
    cfg.resume = test_tmp_path("missing.h5");
    probe pd = {.rank = test_rank};
    aic_train_summary sd;
    aic_status st = run(comm, train, NULL, &cfg, &pd, &sd);
    CHECK_MSG(st != AIC_OK && pd.steps_seen == 0, "status %s, %lld steps", aic_status_string(st),
              (long long)pd.steps_seen);
    if (test_rank == 0)
        CHECK_MSG(sd.report && strstr(aic_last_error(), "missing.h5"), "report %d: %s", sd.report, aic_last_error());

    MPI_Barrier(MPI_COMM_WORLD);
    if (test_rank == 0)
        test_tmp_remove();
    aic_dataset_destroy(train);
    aic_dataset_destroy(test);
    aic_comm_destroy(comm);
    int failed = test_fail > 0, any;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    MPI_Finalize();
    return test_report("trainer") || any;
}
