// SPDX-License-Identifier: Apache-2.0
/* A researcher's own model, defined and trained through aicon's public C API.
 *
 *   mpirun -np 2 build/examples/train_classifier [DATA_DIR] [MAX_STEPS]
 *
 * A small CNN with batch normalization, a residual block and dropout, trained with AdamW and a
 * cosine schedule on Fashion-MNIST; each rank takes its slice of every global batch. */
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

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int64_t max_steps = argc > 2 ? atoll(argv[2]) : 400;
    const int batch = 64;
    const uint64_t seed = 1;

    MPI_Init(&argc, &argv);
    aic_comm_t *comm;
    CHECK(aic_comm_create(&comm, MPI_COMM_WORLD));
    const int rank = aic_comm_rank(comm), world = aic_comm_size(comm);

    aic_dataset_t *train, *test;
    CHECK(aic_dataset_load_idx_dir(dir, &train, &test));

    aic_model_t *model;
    aic_io_values io;
    CHECK(aic_model_create(&model, "example_cnn"));
    build(model, &io, aic_dataset_num_classes(train));
    CHECK(aic_model_compile(model, batch, seed));

    aic_optim_t *optim;
    CHECK(aic_optim_create(&optim, model, &(aic_optim_config){.kind = AIC_OPTIM_ADAMW, .weight_decay = 0.01f}));
    const aic_lr_schedule lr = {.kind = AIC_LR_COSINE, .base_lr = 3e-3f, .warmup_steps = 20, .total_steps = max_steps};

    /* Every rank starts from rank 0's parameters (here they are equal anyway: same seed). */
    CHECK(aic_broadcast(comm, aic_model_params(model), sizeof(float) * aic_model_num_params(model), 0));

    aic_sampler_t *sampler;
    CHECK(aic_sampler_create(&sampler, aic_dataset_size(train), batch, rank, world, seed, true));
    int64_t idx[64];
    float *x = malloc(sizeof(float) * batch * 28 * 28);
    int32_t y[64];
    int64_t step = 0;
    for (int64_t epoch = 0; step < max_steps; epoch++) {
        CHECK(aic_sampler_set_epoch(sampler, epoch));
        for (int64_t s = 0; s < aic_sampler_steps_per_epoch(sampler) && step < max_steps; s++, step++) {
            aic_batch_slice slice;
            float loss;
            CHECK(aic_sampler_batch(sampler, s, idx, &slice));
            CHECK(aic_dataset_gather(train, idx, slice.n_local, x, y));
            CHECK(aic_train_step(model, optim, comm, io, x, y, &slice, (uint64_t)step, aic_lr_at(&lr, step), &loss));
            if (rank == 0 && step % 100 == 0)
                printf("step %lld  loss %.4f\n", (long long)step, loss);
        }
    }
    aic_eval_result ev;
    CHECK(aic_evaluate(model, comm, io, test, &ev));
    if (rank == 0)
        printf("test accuracy %.4f (loss %.4f) after %lld steps on %d ranks\n", ev.accuracy, ev.loss,
               (long long)step, world);

    free(x);
    aic_sampler_destroy(sampler);
    aic_optim_destroy(optim);
    aic_model_destroy(model);
    aic_dataset_destroy(train);
    aic_dataset_destroy(test);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return 0;
}
