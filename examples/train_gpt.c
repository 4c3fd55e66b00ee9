// SPDX-License-Identifier: Apache-2.0
/* A GPT-2 language model (examples/gpt.c) trained on an llm.c token shard by aicon's trainer.
 *
 *   mpirun -np 2 build/examples/train_gpt TRAIN.bin [MAX_STEPS [VAL.bin]]
 *
 * TRAIN.bin: a shard as llm.c's data scripts write it (tiny_shakespeare_train.bin). AdamW with weight
 * decay on the matrices only, gradients clipped to norm 1, a warm-up then a cosine schedule, as
 * nanoGPT trains; rank 0 prints the loss every 10 steps and the validation loss at the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpt.h"

#define CHECK(call)                                                                                   \
    do {                                                                                              \
        aic_status s_ = (call);                                                                       \
        if (s_ != AIC_OK) {                                                                           \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, aic_status_string(s_), aic_last_error()); \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                             \
        }                                                                                             \
    } while (0)

static void on_step(void *ctx, const aic_trainer_step *s) {
    if (*(const int *)ctx == 0 && (s->step % 10 == 0 || s->step == s->last_step))
        printf("step %lld  loss %.4f  lr %.2e\n", (long long)s->step, s->loss, s->lr);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: train_gpt TRAIN.bin [MAX_STEPS [VAL.bin]]\n");
        return 2;
    }
    const int64_t max_steps = argc > 2 ? atoll(argv[2]) : 200;
    const int batch = 8;
    const uint64_t seed = 1;
    aic_gpt_config gpt = {.layers = 4, .heads = 4, .dim = 128, .seq_len = 64};

    MPI_Init(&argc, &argv);
    aic_comm_t *comm;
    CHECK(aic_comm_create(&comm, MPI_COMM_WORLD));
    int rank = aic_comm_rank(comm);

    aic_dataset_t *train, *val = NULL;
    CHECK(aic_dataset_load_tokens(&train, argv[1], gpt.seq_len));
    if (argc > 3)
        CHECK(aic_dataset_load_tokens(&val, argv[3], gpt.seq_len));
    gpt.vocab = aic_dataset_num_classes(train); /* the largest token + 1 */

    aic_model_t *model;
    aic_io_values io;
    aic_value logits, loss;
    CHECK(aic_model_create(&model, "gpt"));
    CHECK(gpt_build(model, &gpt, &io.input, &io.labels, &logits, &loss));
    CHECK(aic_model_compile(model, batch, seed));
    CHECK(gpt_init(model, &gpt, seed));

    const aic_trainer_config cfg = {
        .epochs = 1000, .max_steps = max_steps, .batch = batch, .seed = seed,
        .optim = {.kind = AIC_OPTIM_ADAMW, .weight_decay = 0.1f, .beta2 = 0.95f, .decay_matrices_only = true,
                  .clip_grad_norm = 1.0f},
        .lr = {.kind = AIC_LR_COSINE, .base_lr = 1e-3f, .warmup_steps = max_steps / 10, .total_steps = max_steps,
               .min_lr = 1e-4f},
    };
    aic_trainer_t *trainer;
    CHECK(aic_trainer_create(&trainer, model, NULL, comm, io, train, val, &cfg,
                             &(aic_trainer_callbacks){.ctx = &rank, .on_step = on_step}));
    aic_train_summary sum;
    if (aic_trainer_run(trainer, &sum) != AIC_OK) {
        fprintf(stderr, "train_gpt: %s\n", aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("trained %lld steps on %d ranks: last epoch loss %.4f, validation loss %.4f\n", (long long)sum.steps,
               aic_comm_size(comm), sum.train_loss, sum.test_loss);

    aic_trainer_destroy(trainer);
    aic_model_destroy(model);
    aic_dataset_destroy(train);
    aic_dataset_destroy(val);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return 0;
}
