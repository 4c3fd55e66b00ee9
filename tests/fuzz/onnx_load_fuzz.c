// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: aic_onnx_load_buffer on arbitrary bytes. A model that loads must answer its
 * queries; every other input must be refused with a message, never a crash, a leak or undefined
 * behaviour (build with AICON_FUZZ=ON and clang, which adds ASan and UBSan).
 *
 *   build-fuzz/tests/fuzz/onnx_load_fuzz -max_total_time=120 CORPUS_DIR tests/fuzz/corpus/onnx */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aicon/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aic_onnx_model_t *m = NULL;
    aic_status st = aic_onnx_load_buffer(data, size, "fuzz", &m);
    if (st == AIC_OK) {
        if (!m)
            abort();
        (void)aic_onnx_opset_version(m);
        (void)aic_onnx_num_nodes(m);
        (void)aic_onnx_graph_name(m);
    } else if (m != NULL || aic_last_error()[0] == '\0') {
        abort(); /* a failure must leave *out NULL and say why */
    }
    aic_onnx_free(m);
    return 0;
}
