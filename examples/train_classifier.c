// SPDX-License-Identifier: Apache-2.0
/* A researcher's own model, defined through aicon's public C API and trained by its trainer.
 *
 *   mpirun -np 2 build/examples/train_classifier [DATA_DIR] [MAX_STEPS]
 *
 * A small CNN with batch normalization, a residual block and dropout, trained with AdamW and a
 * cosine schedule on Fashion-MNIST; each rank takes its slice of every global batch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "aicon/aicon.h"

#define CHECK(call)                                                                                   \
    do {                                                                                              \
        aic_status s_ = (call);                                                                       \
        if (s_ != AIC_OK) {                                                                           \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, aic_status_string(s_), aic_last_error()); \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                             \
        }                                                                                             \
    } while (0)

/* conv-bn-relu, a residual block, global pooling, dropout, dense. */
static void build(aic_model_t *m, aic_io_values *io, int classes) {
    aic_value x, h, r;
    CHECK(aic_input(m, "image", 3, (int64_t[]){1, 28, 28}, &x));
    CHECK(aic_labels(m, "label", &io->labels));
    io->input = x;
    CHECK(aic_conv2d(m, "stem", x, &(aic_conv2d_opts){.out_channels = 16, .kernel = {3, 3}, .pad = {1, 1}}, &h));
    CHECK(aic_batchnorm(m, "stem_bn", h, 0.1f, 1e-5f, &h));
    CHECK(aic_relu(m, "stem_relu", h, &h));
    CHECK(aic_maxpool2d(m, "pool", h, &(aic_pool2d_opts){.kernel = {2, 2}}, &h));
    CHECK(aic_conv2d(m, "res_conv", h,
                     &(aic_conv2d_opts){.out_channels = 16, .kernel = {3, 3}, .pad = {1, 1}, .no_bias = true}, &r));
    CHECK(aic_batchnorm(m, "res_bn", r, 0.1f, 1e-5f, &r));
    CHECK(aic_add(m, "residual", h, r, &h));
    CHECK(aic_relu(m, "res_relu", h, &h));
    CHECK(aic_global_avgpool(m, "gap", h, &h));
    CHECK(aic_flatten(m, "flatten", h, &h));
    CHECK(aic_dropout(m, "dropout", h, 0.1f, &h));
    aic_value logits, loss;
    CHECK(aic_dense(m, "classifier", h, classes, true, &logits));
    CHECK(aic_softmax_cross_entropy(m, "loss", logits, io->labels, &loss));
}

/* Rank 0 prints the loss every 100 steps. */
static void on_step(void *ctx, const aic_trainer_step *s) {
    if (*(const int *)ctx == 0 && s->step % 100 == 0)
        printf("step %lld  loss %.4f\n", (long long)s->step, s->loss);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int64_t max_steps = argc > 2 ? atoll(argv[2]) : 400;
    const int batch = 64;
    const uint64_t seed = 1;

    MPI_Init(&argc, &argv);
    aic_comm_t *comm;
    CHECK(aic_comm_create(&comm, MPI_COMM_WORLD));
    int rank = aic_comm_rank(comm);

    aic_dataset_t *train, *test;
    CHECK(aic_dataset_load_idx_dir(dir, &train, &test));

    aic_model_t *model;
    aic_io_values io;
    CHECK(aic_model_create(&model, "example_cnn"));
    build(model, &io, aic_dataset_num_classes(train));
    CHECK(aic_model_compile(model, batch, seed));

    /* The trainer broadcasts rank 0's parameters, shuffles, steps, and evaluates on the test set. */
    const aic_trainer_config cfg = {
        .epochs = 100, .max_steps = max_steps, .batch = batch, .seed = seed,
        .optim = {.kind = AIC_OPTIM_ADAMW, .weight_decay = 0.01f},
        .lr = {.kind = AIC_LR_COSINE, .base_lr = 3e-3f, .warmup_steps = 20, .total_steps = max_steps},
    };
    aic_trainer_t *trainer;
    CHECK(aic_trainer_create(&trainer, model, NULL, comm, io, train, test, &cfg,
                             &(aic_trainer_callbacks){.ctx = &rank, .on_step = on_step}));
    aic_train_summary sum;
    aic_status s = aic_trainer_run(trainer, &sum);
    if (s != AIC_OK) {
        if (sum.report)
            fprintf(stderr, "train_classifier: %s\n", aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("test accuracy %.4f (loss %.4f) after %lld steps on %d ranks\n", sum.test_accuracy, sum.test_loss,
               (long long)sum.steps, aic_comm_size(comm));

    aic_trainer_destroy(trainer);
    aic_model_destroy(model);
    aic_dataset_destroy(train);
    aic_dataset_destroy(test);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return 0;
}
