// SPDX-License-Identifier: Apache-2.0
/* aic_onnx_export round trip: the ONNX file aicon train --export wrote, imported back with
 * aic_onnx_import, computes the same logits as the built-in model loaded from the checkpoint of the
 * same run (within 1e-5 of the largest logit, and the same argmax on every sample). The checkpoint
 * model's logits go to OUT for the onnxruntime comparison in tests/cli/onnx_export.sh.
 *
 * Usage: test_onnx_export FILE.onnx MODEL CKPT.h5 CLASSES INPUT.f32 N C H W OUT.f32
 * (INPUT.f32: N x C x H x W float32, raw; OUT.f32: N x CLASSES float32, raw).
 *
 * test_onnx_export --logits FILE.onnx INPUT.f32 N C H W OUT.f32: any ONNX file with one input and
 * one output, imported with aic_onnx_import, forwarded in evaluation mode over the N samples (in
 * chunks of at most 500), its N x K outputs written raw to OUT.f32 (tests/cli/onnx_roundtrip.sh). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aicon/aicon.h"
#include "aicon/onnx.h"
#include "tests/test_util.h"
#include "tools/tools.h"

/* Forward n samples of x through m's input `in` in evaluation mode; the output's n x K floats. */
static const float *run(aic_model_t *m, aic_value in, const float *x, int n, int64_t *K) {
    aic_tensor out;
    aic_batch_info b = {.n = n, .training = false};
    if (aic_model_set_input(m, in, x, n) != AIC_OK || aic_model_forward(m, &b, NULL) != AIC_OK ||
        aic_model_output(m, &out) != AIC_OK)
        return NULL;
    *K = out.shape[1];
    return out.data;
}

/* --logits: the imported file's outputs for the raw inputs, chunk by chunk. */
static int logits(char **argv) {
    const int n = atoi(argv[3]);
    const size_t sample = (size_t)(atoll(argv[4]) * atoll(argv[5]) * atoll(argv[6]));
    REQUIRE_MSG(n > 0 && sample != 0, "bad N or shape");
    const size_t numel = (size_t)n * sample;
    float *x = malloc(numel * sizeof *x);
    FILE *f = fopen(argv[2], "rb");
    REQUIRE_MSG(x && f && fread(x, sizeof *x, numel, f) == numel, "cannot read %zu floats from %s", numel, argv[2]);
    fclose(f);
    const int chunk = n < 500 ? n : 500;
    aic_onnx_model_t *om;
    aic_model_t *m;
    aic_onnx_binding bind;
    REQUIRE_MSG(aic_onnx_load(argv[1], &om) == AIC_OK && aic_onnx_import(om, chunk, &m, &bind) == AIC_OK,
                "cannot import %s", argv[1]);
    REQUIRE_MSG(bind.n_inputs == 1 && bind.n_outputs == 1, "%s: %d inputs and %d outputs, expected 1 and 1", argv[1],
                bind.n_inputs, bind.n_outputs);
    f = fopen(argv[7], "wb");
    REQUIRE_MSG(f, "cannot write %s", argv[7]);
    int64_t K = 0;
    for (int i = 0; i < n; i += chunk) {
        const int c = n - i < chunk ? n - i : chunk;
        const float *y = run(m, bind.inputs[0], x + (size_t)i * sample, c, &K);
        REQUIRE_MSG(y, "forward of %s on samples %d..%d", argv[1], i, i + c - 1);
        REQUIRE_MSG(fwrite(y, sizeof *y, (size_t)c * (size_t)K, f) == (size_t)c * (size_t)K, "cannot write %s",
                    argv[7]);
    }
    REQUIRE_MSG(fclose(f) == 0, "cannot write %s", argv[7]);
    printf("%s: %d samples, %lld outputs each, written to %s\n", argv[1], n, (long long)K, argv[7]);
    aic_model_destroy(m);
    aic_onnx_free(om);
    free(x);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 9 && strcmp(argv[1], "--logits") == 0)
        return logits(argv + 1);
    if (argc != 11) {
        fprintf(stderr, "usage: %s FILE.onnx MODEL CKPT.h5 CLASSES INPUT.f32 N C H W OUT.f32\n"
                        "       %s --logits FILE.onnx INPUT.f32 N C H W OUT.f32\n", argv[0], argv[0]);
        return 2;
    }
    const int classes = atoi(argv[4]), n = atoi(argv[6]);
    const int64_t shape[3] = {atoll(argv[7]), atoll(argv[8]), atoll(argv[9])};
    const size_t numel = (size_t)n * (size_t)(shape[0] * shape[1] * shape[2]);
    float *x = malloc(numel * sizeof *x);
    FILE *f = fopen(argv[5], "rb");
    REQUIRE_MSG(x && f && fread(x, sizeof *x, numel, f) == numel, "cannot read %zu floats from %s", numel, argv[5]);
    fclose(f);

    /* the exported file, imported back */
    aic_onnx_model_t *om;
    aic_model_t *mi;
    aic_onnx_binding bind;
    REQUIRE_MSG(aic_onnx_load(argv[1], &om) == AIC_OK && aic_onnx_import(om, n, &mi, &bind) == AIC_OK,
                "cannot import %s", argv[1]);
    REQUIRE_MSG(bind.n_inputs == 1 && bind.n_outputs == 1, "%s: %d inputs and %d outputs, expected 1 and 1", argv[1],
                bind.n_inputs, bind.n_outputs);
    int64_t Ki;
    const float *yi = run(mi, bind.inputs[0], x, n, &Ki);
    REQUIRE_MSG(yi, "forward of the imported model");

    /* the built-in model from the checkpoint */
    aic_model_t *mc;
    aic_io_values io;
    REQUIRE_MSG(aicon_builtin_model(argv[2], 3, shape, classes, &mc, &io) == AIC_OK &&
                    aic_model_compile(mc, n, 0) == AIC_OK && aic_checkpoint_load(argv[3], mc, NULL, NULL) == AIC_OK,
                "cannot build %s from %s", argv[2], argv[3]);
    int64_t Kc;
    const float *yc = run(mc, io.input, x, n, &Kc);
    REQUIRE_MSG(yc && Kc == Ki && Kc == classes, "checkpoint model: %lld logits, imported: %lld, classes %d",
                (long long)Kc, (long long)Ki, classes);

    double max_abs = 0, max_diff = 0;
    int argmax_differ = 0;
    for (int i = 0; i < n; i++) {
        int bi = 0, bc = 0;
        for (int64_t k = 0; k < Kc; k++) {
            const size_t j = (size_t)i * (size_t)Kc + (size_t)k;
            max_abs = fmax(max_abs, fabs(yc[j]));
            max_diff = fmax(max_diff, fabs((double)yc[j] - yi[j]));
            if (yc[j] > yc[(size_t)i * (size_t)Kc + (size_t)bc])
                bc = (int)k;
            if (yi[j] > yi[(size_t)i * (size_t)Kc + (size_t)bi])
                bi = (int)k;
        }
        argmax_differ += bi != bc;
    }
    printf("%s: re-imported vs checkpoint model on %d samples: max |diff| %.3g, max |logit| %.3g, "
           "argmax differs on %d\n",
           argv[1], n, max_diff, max_abs, argmax_differ);
    f = fopen(argv[10], "wb");
    REQUIRE_MSG(f && fwrite(yc, sizeof *yc, (size_t)n * (size_t)Kc, f) == (size_t)n * (size_t)Kc && fclose(f) == 0,
                "cannot write %s", argv[10]);
    aic_model_destroy(mi);
    aic_model_destroy(mc);
    aic_onnx_free(om);
    free(x);
    REQUIRE_MSG(max_diff <= 1e-5 * max_abs && !argmax_differ,
                "the exported model computes other logits than the checkpoint's");
    return 0;
}
