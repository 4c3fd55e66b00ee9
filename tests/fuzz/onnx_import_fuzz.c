// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the whole ONNX path on arbitrary bytes. aic_onnx_load_buffer, then, for every
 * model that loads, aic_onnx_import for batches of 2 and, when that succeeds, one eval-mode forward
 * pass over zero inputs. Every refusal must leave *out NULL and say why; nothing may crash, leak or
 * hit undefined behaviour (built with AICON_FUZZ=ON and clang, which adds ASan and UBSan), and a small
 * input must not make the importer allocate gigabytes (run with -rss_limit_mb=2048
 * -malloc_limit_mb=1024). tests/fuzz/repro holds such models (kept out of the corpus: one the
 * importer accepts stops a run).
 *
 *   build-fuzz/onnx_import_fuzz -max_total_time=600 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
 *       CORPUS_DIR tests/fuzz/corpus/onnx */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aicon/model.h"
#include "aicon/onnx.h"

#define FUZZ_BATCH 2
/* A forward pass past this many operations per sample only measures the machine's speed: a 147-byte
 * MaxPool over 107x121x64 with a 35x12 window took 37 s under the sanitizers. */
#define FUZZ_MAX_FLOPS 1e8

/* One eval forward over zero inputs; failures are fine (they must only be clean). */
static void forward_zeros(aic_model_t *m, const aic_onnx_binding *bind) {
    for (int i = 0; i < bind->n_inputs; i++) {
        aic_tensor t;
        if (aic_model_value(m, bind->inputs[i], &t) != AIC_OK)
            return;
        size_t per_sample = 1; /* t.shape[0] is the last batch size, not yet set */
        for (int d = 1; d < t.ndim; d++)
            per_sample *= (size_t)t.shape[d];
        /* float and int32 inputs alike: 4-byte zeros */
        void *zeros = calloc(per_sample * FUZZ_BATCH + 1, 4);
        if (!zeros)
            abort();
        aic_status st = aic_model_set_input(m, bind->inputs[i], zeros, FUZZ_BATCH);
        free(zeros);
        if (st != AIC_OK) {
            if (aic_last_error()[0] == '\0')
                abort();
            return;
        }
    }
    aic_batch_info b = {.n = FUZZ_BATCH, .training = false, .step = 0, .row_offset = 0};
    float loss = 0.0f;
    if (aic_model_forward(m, &b, &loss) != AIC_OK && aic_last_error()[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aic_onnx_model_t *om = NULL;
    aic_status st = aic_onnx_load_buffer(data, size, "fuzz", &om);
    if (st != AIC_OK) {
        if (om != NULL || aic_last_error()[0] == '\0')
            abort(); /* a failure must leave *out NULL and say why */
        return 0;
    }
    if (!om)
        abort();
    aic_model_t *m = (aic_model_t *)1; /* must be overwritten, with NULL on failure */
    aic_onnx_binding bind;
    memset(&bind, 0xab, sizeof bind);
    st = aic_onnx_import(om, FUZZ_BATCH, &m, &bind);
    if (st == AIC_OK) {
        if (!m)
            abort();
        if (aic_model_flops_per_sample(m) <= FUZZ_MAX_FLOPS)
            forward_zeros(m, &bind);
        aic_model_destroy(m);
    } else if (m != NULL || aic_last_error()[0] == '\0') {
        abort();
    }
    aic_onnx_free(om);
    return 0;
}
