// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: aic_checkpoint_load on arbitrary bytes as an HDF5 file, into one small model
 * built once (dense 4->3, batch norm, relu, dense 3->2: parameters and buffers) with an SGD
 * momentum optimizer (a slot group), and again without the optimizer. A refusal must say why;
 * nothing may crash, leak or hit undefined behaviour, and an accepted file must hold finite values.
 *
 * With AICON_FUZZ_WRITE_SEEDS=DIR set, the target instead saves this model's checkpoints into DIR
 * (with and without optimizer state) and exits: the valid seeds of tests/fuzz/corpus/checkpoint.
 *
 *   build-fuzz/checkpoint_fuzz -rss_limit_mb=2048 NEW_DIR tests/fuzz/corpus/checkpoint */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "aicon/checkpoint.h"
#include "aicon/model.h"
#include "aicon/optim.h"

#include <hdf5.h>

#include "tests/fuzz/fuzz_file.h"

static fuzz_file file;
static aic_model_t *model;
static aic_optim_t *optim;

static void must(aic_status st, const char *what) {
    if (st != AIC_OK) {
        fprintf(stderr, "checkpoint_fuzz: %s: %s\n", what, aic_last_error());
        abort();
    }
}

static void build_model(void) {
    aic_value x, h, y, labels, loss;
    must(aic_model_create(&model, "fuzz_tiny"), "model");
    must(aic_input(model, "x", 1, (const int64_t[]){4}, &x), "input");
    must(aic_dense(model, "fc1", x, 3, true, &h), "fc1");
    must(aic_batchnorm(model, "bn1", h, 0.1f, 1e-5f, &h), "bn1");
    must(aic_relu(model, "relu1", h, &h), "relu1");
    must(aic_dense(model, "fc2", h, 2, true, &y), "fc2");
    must(aic_labels(model, "y", &labels), "labels");
    must(aic_softmax_cross_entropy(model, "loss", y, labels, &loss), "loss");
    must(aic_model_compile(model, 2, 7), "compile");
    aic_optim_config cfg = {.kind = AIC_OPTIM_SGD, .momentum = 0.9f};
    must(aic_optim_create(&optim, model, &cfg), "optimizer");
}

static void write_seeds(const char *dir) {
    char path[4096];
    aic_train_state st = {.step = 12, .epoch = 3, .seed = 42, .global_batch = 4,
                          .preprocess = {.kind = AIC_PREPROCESS_STANDARDIZE, .mean = 0.25, .std = 0.5}};
    snprintf(path, sizeof path, "%s/sgd.h5", dir);
    must(aic_checkpoint_save(path, model, optim, &st), path);
    st.preprocess = (aic_preprocess){.kind = AIC_PREPROCESS_NONE};
    snprintf(path, sizeof path, "%s/no_optim.h5", dir);
    must(aic_checkpoint_save(path, model, NULL, &st), path);
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    build_model();
    const char *seeds = getenv("AICON_FUZZ_WRITE_SEEDS");
    if (seeds)
        write_seeds(seeds);
    fuzz_file_open_real(&file, "checkpoint");
    return 0;
}

static void load(aic_optim_t *o) {
    aic_train_state st;
    if (aic_checkpoint_load(file.path, model, o, &st) != AIC_OK) {
        fuzz_note(aic_last_error());
        if (aic_last_error()[0] == '\0')
            abort();
        return;
    }
    const float *p = aic_model_params(model);
    for (size_t i = 0; i < aic_model_num_params(model); i++)
        if (!isfinite(p[i]))
            abort();
    if (st.step < 0 || st.epoch < 0 || st.global_batch < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_file_set(&file, data, size);
    load(optim);
    fuzz_check_hdf5_closed();
    load(NULL);
    fuzz_check_hdf5_closed();
    return 0;
}
