// SPDX-License-Identifier: Apache-2.0
/* aicon export: a trained checkpoint as an ONNX file (the model's forward pass, its logits). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aicon/aicon.h"
#include "aicon/onnx.h"
#include "core/error.h"
#include "tools/tools.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

static void export_usage(FILE *out) {
    fprintf(out,
            "usage: aicon export --model NAME|FILE.onnx --checkpoint FILE.h5 --out FILE.onnx [--data PATH]\n"
            "       aicon export --model gpt --checkpoint FILE.h5 --out FILE.onnx [GPT sizes]\n"
            "\n"
            "Write the model of an aicon train checkpoint as an ONNX file (IR 8, opset 17): its forward pass\n"
            "to the logits, without the loss, for any batch size. Parameters keep their aicon names; the\n"
            "graph's input and output are named as in the ONNX file the model came from, or input and\n"
            "logits for a built-in model. After aicon train --normalize auto (the default) the graph takes\n"
            "the values the data file holds (IDX: pixels 0..255) and its first nodes standardize them with\n"
            "the training set's mean and standard deviation from the checkpoint; metadata_props aicon.mean,\n"
            "aicon.std and aicon.preprocess say so. A checkpoint from before aicon recorded this gives a\n"
            "graph of the inputs as trained, with a warning. --model gpt's graph takes int32 tokens [N, T]\n"
            "(T: --seq-len) and gives the logits [N, T, vocabulary]; its sizes are the ones it was trained\n"
            "with, and it needs no --data.\n"
            "\n"
            "options:\n"
            "  --model NAME|FILE      the model trained: built-in %s, or the ONNX file given to train\n"
            "  --input NAME           the ONNX graph input the data fed (as for train)\n"
            "  --loss NAME            the loss it was trained with (as for train)\n"
            "  --checkpoint FILE.h5   a checkpoint aicon train wrote for that model\n"
            "  --out FILE.onnx        where to write (atomically)\n"
            "  --classes N            a built-in model's outputs, as given to train (default %d)\n"
            "  --data PATH            the training data (IDX directory or HDF5 file), for the sample shape\n"
            "                         (default " DEFAULT_DATA ")\n",
            aicon_builtin_model_names, AICON_DEFAULT_CLASSES);
    aicon_gpt_usage(out);
    fprintf(out, "  --help                 this text\n");
}

/* --model gpt: its sizes from the flags, the window its input. */
static aic_status run_export_gpt(const aic_gpt_config *gpt, const char *ckpt, const char *out) {
    aicon_model_source src;
    aic_train_state ts;
    AIC_TRY(aicon_lm_load("gpt", gpt, ckpt, &src, &ts));
    aic_status st = aicon_model_export(&src, &ts.preprocess, out);
    aicon_model_source_free(&src);
    return st;
}

static aic_status run_export(const char *model, const char *input, const char *loss, int classes, const char *ckpt,
                             const char *out, const char *data) {
    aic_dataset_t *train = NULL;
    struct stat sb;
    aic_status st;
    if (stat(data, &sb) == 0 && S_ISDIR(sb.st_mode))
        st = aic_dataset_load_idx_dir(data, &train, NULL);
    else
        st = aic_dataset_load_h5(&train, data);
    if (st != AIC_OK)
        return st;
    int64_t shape[6];
    int ndim = aic_dataset_sample_shape(train, shape);
    aic_dataset_destroy(train);
    aicon_model_source src;
    AIC_TRY(aicon_model_build(model, input, loss, ndim, shape, classes, false, &src));
    aic_train_state ts;
    st = aic_model_compile(src.model, 1, 0);
    if (st == AIC_OK)
        st = aic_checkpoint_load(ckpt, src.model, NULL, &ts);
    if (st == AIC_OK && ts.preprocess.kind == AIC_PREPROCESS_UNKNOWN)
        fprintf(stderr,
                "aicon export: warning: %s does not record how inputs were prepared (written by an older aicon):"
                " %s takes them as they were trained on, standardized or not\n",
                ckpt, out);
    if (st == AIC_OK)
        st = aicon_model_export(&src, &ts.preprocess, out);
    aicon_model_source_free(&src);
    return st;
}

int aicon_export_main(int argc, char **argv) {
    static const char cmd[] = "aicon export";
    enum { OPT_MODEL = 1, OPT_INPUT, OPT_LOSS, OPT_CHECKPOINT, OPT_OUT, OPT_DATA, OPT_CLASSES, OPT_HELP, OPT_GPT };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL}, {"input", required_argument, NULL, OPT_INPUT},
        {"loss", required_argument, NULL, OPT_LOSS},
        {"checkpoint", required_argument, NULL, OPT_CHECKPOINT}, {"out", required_argument, NULL, OPT_OUT},
        {"data", required_argument, NULL, OPT_DATA}, {"classes", required_argument, NULL, OPT_CLASSES},
        {"help", no_argument, NULL, OPT_HELP}, AICON_GPT_OPTIONS(OPT_GPT), {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *input = NULL, *loss = NULL, *ckpt = NULL, *out = NULL, *data = NULL;
    const char *gpt_flag = NULL;
    long classes = 0;
    aic_gpt_config gpt = {0};
    opterr = 0;
    int c, li;
    while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_INPUT: input = optarg; break;
        case OPT_LOSS: loss = optarg; break;
        case OPT_CHECKPOINT: ckpt = optarg; break;
        case OPT_OUT: out = optarg; break;
        case OPT_DATA: data = optarg; break;
        case OPT_CLASSES:
            if (!aicon_parse_int(cmd, "classes", optarg, 1, AICON_MAX_CLASSES, &classes))
                return 2;
            break;
        case OPT_HELP: export_usage(stdout); return 0;
        default:
            switch (aicon_gpt_option(cmd, c, OPT_GPT, optarg, &gpt)) {
            case 1: gpt_flag = longopts[li].name; continue;
            case -1: return 2;
            }
            fprintf(stderr, "aicon export: unknown or incomplete option '%s' (see aicon export --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aicon export: unexpected argument '%s' (see aicon export --help)\n", argv[optind]);
        return 2;
    }
    if (!model || !ckpt || !out) {
        fprintf(stderr, "aicon export: --model, --checkpoint and --out are required (see aicon export --help)\n");
        return 2;
    }
    const bool is_gpt = strcmp(model, "gpt") == 0;
    if (gpt_flag && !is_gpt) {
        fprintf(stderr, "aicon export: --%s goes with --model gpt\n", gpt_flag);
        return 2;
    }
    if (is_gpt && (input || loss || data || classes)) {
        fprintf(stderr, "aicon export: --model gpt takes no --input, --loss, --data or --classes: its sizes are "
                "--layers, --heads, --dim, --seq-len and --vocab\n");
        return 2;
    }
    const aic_status st = is_gpt ? run_export_gpt(&gpt, ckpt, out)
                                 : run_export(model, input, loss, (int)classes, ckpt, out, data ? data : DEFAULT_DATA);
    if (st != AIC_OK) {
        fprintf(stderr, "aicon export: %s\n", aic_last_error());
        return 1;
    }
    printf("wrote %s\n", out);
    return 0;
}
