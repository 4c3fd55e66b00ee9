// SPDX-License-Identifier: Apache-2.0
/* Shared by the aicon command's subcommands. Only tools/ prints usage and exits. */
#ifndef AICON_TOOLS_H
#define AICON_TOOLS_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include "aicon/aicon.h"
#include "aicon/onnx.h"
#include "examples/gpt.h"

/* This process's rank as the launcher announces it (mpirun, srun), before MPI is initialized:
 * lets only one process print usage errors without starting MPI. */
int aicon_launcher_rank(void);
/* MPI_Init_thread at thread_level, then a communicator over MPI_COMM_WORLD; a failure is told on
 * stderr after cmd ("aicon train"): false when MPI did not start, MPI_Abort when the communicator
 * could not be made. */
bool aicon_mpi_start(const char *cmd, int thread_level, aic_comm_t **comm);

/* Build the built-in model `name` ("mlp", "lenet") for samples of the given shape and classes. */
aic_status aicon_builtin_model(const char *name, int ndim, const int64_t *shape, int classes, aic_model_t **out,
                               aic_io_values *io);
extern const char *const aicon_builtin_model_names;
/* Outputs of a built-in model when --classes is not given: Fashion-MNIST's and MNIST's 10. */
#define AICON_DEFAULT_CLASSES 10
/* The most --classes, and the largest label + 1 aicon train reads: past it a corrupt file is far
 * likelier than a real class. */
#define AICON_MAX_CLASSES 65536

/* The model aicon train trains. */
typedef struct {
    aic_model_t *model;     /* built, not yet compiled */
    aic_io_values io;       /* the data input and the labels */
    aic_onnx_model_t *onnx; /* an ONNX model: the file, whose weights aicon_model_load_weights copies in */
    /* What an export names the data input and the output: the ONNX file's own names, or for a built-in
     * model "input" and "logits" (its ops keep theirs: checkpoints name parameters after them). */
    char input_name[AIC_MAX_NAME], output_name[AIC_MAX_NAME];
    int classes; /* the model's outputs: labels must lie below */
    aic_gpt_config gpt; /* --model gpt: its sizes (layers 0: another model) */
} aicon_model_source;

/* True when --model names an ONNX file: it ends in .onnx, or names an existing file. */
bool aicon_model_is_onnx(const char *model);
/* Build `model` for samples of the given shape (lm: an ONNX language model, its output T x vocabulary
 * logits of a window of T tokens, trained on the next tokens): a built-in model with `classes` outputs (0:
 * AICON_DEFAULT_CLASSES), or the ONNX file's graph (its data input `input_name`, NULL for the only one;
 * its output's width is its class count, and `classes` must be 0) with labels and a loss on its single
 * output; out->classes is the outputs built. loss (NULL: "cross-entropy"): "cross-entropy" takes the
 * output as logits, except that a graph ending in LogSoftmax gets the negative log-likelihood and one
 * ending in Softmax gets the cross-entropy of the Softmax's input (never a second softmax); "nll"
 * takes the output as log-probabilities. Errors name the file or flag. *out is empty after a failure. */
aic_status aicon_model_build(const char *model, const char *input_name, const char *loss, int ndim,
                             const int64_t *shape, int classes, bool lm, aicon_model_source *out);
/* --model gpt over windows of seq_len tokens (gpt's layers, heads and dim; 0: 4, 4 and 128) with a vocabulary
 * of `vocab` tokens: labels are the next tokens, a cross-entropy at every position. */
aic_status aicon_model_build_gpt(const aic_gpt_config *gpt, aicon_model_source *out);
/* After aic_model_compile: an ONNX model's weights from its file, a GPT's GPT-2 initialization from the
 * seed (the other built-in models keep their init). */
aic_status aicon_model_init_weights(aicon_model_source *s, uint64_t seed);
/* Write the compiled model of s to path as ONNX under s's input and output names, the standardization
 * in pre (may be NULL: unknown) as its first nodes (aic_onnx_export_with). */
aic_status aicon_model_export(const aicon_model_source *s, const aic_preprocess *pre, const char *path);
/* Destroys the model and frees the ONNX file's model; an empty source is a no-op. */
void aicon_model_source_free(aicon_model_source *s);

int aicon_train_main(int argc, char **argv);
/* aicon onnx-test DIR...: the ONNX backend test cases under DIR against the importer. */
int aicon_onnx_test_main(int argc, char **argv);
int aicon_verify_main(int argc, char **argv);
int aicon_proof_main(int argc, char **argv);
/* aicon export --model M --checkpoint F.h5 --out F.onnx: a checkpoint as an ONNX file (no MPI). */
int aicon_export_main(int argc, char **argv);
/* aicon info [--bind MODE] [--json]: topology, GPUs, every rank's binding, library versions. */
int aicon_info_main(int argc, char **argv);
/* aicon keygen [--key PATH]: a new miner key. */
int aicon_keygen_main(int argc, char **argv);
/* aicon ledger verify|show|flush|append: the usage-record ledger and spool. */
int aicon_ledger_main(int argc, char **argv);
/* aicon tokenize --bytes IN... -o OUT.bin: text as llm.c token shards, training and validation (no MPI). */
int aicon_tokenize_main(int argc, char **argv);
/* aicon generate --model gpt|FILE.onnx --prompt TEXT: a language model's continuation, a byte a token (no MPI). */
int aicon_generate_main(int argc, char **argv);

/* A whole number lo..hi from the argument of --flag; false after telling stderr why, after cmd. */
bool aicon_parse_int(const char *cmd, const char *flag, const char *arg, long lo, long hi, long *out);
/* --layers, --heads, --dim, --seq-len and --vocab of --model gpt, as getopt_long entries whose codes run
 * from base; aicon_gpt_option takes code c's argument into gpt: 1 taken, 0 not one of them, -1 a bad
 * value (told on stderr). aicon_gpt_usage prints their --help lines. */
#define AICON_GPT_OPTIONS(base)                                                                                 \
    {"layers", required_argument, NULL, (base)}, {"heads", required_argument, NULL, (base) + 1},              \
        {"dim", required_argument, NULL, (base) + 2}, {"seq-len", required_argument, NULL, (base) + 3},       \
        {"vocab", required_argument, NULL, (base) + 4}
int aicon_gpt_option(const char *cmd, int c, int base, const char *arg, aic_gpt_config *gpt);
void aicon_gpt_usage(FILE *out);
/* A language model compiled for batch 1: --model gpt (gpt's sizes, 0: aicon train's defaults and a
 * vocabulary of 256) or an ONNX language model (one int input of a fixed window [N, T], logits [N, T, V]
 * out), with the weights of checkpoint ckpt, or without one the GPT's initialization from seed 0 or the
 * file's own. *ts is the checkpoint's state (preprocessing none without one). Errors name the flag or file. */
aic_status aicon_lm_load(const char *model, const aic_gpt_config *gpt, const char *ckpt, aicon_model_source *s,
                         aic_train_state *ts);

#endif
