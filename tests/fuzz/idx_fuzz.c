// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: aic_dataset_load_idx on an images file and a labels file cut from one input:
 * the first two bytes (little-endian) are the images file's length, the rest after it is the labels
 * file. Plain and gzip files alike (zlib reads both). A load must give a consistent data set; a
 * refusal must say why; nothing may crash, leak or hit undefined behaviour.
 *
 *   build-fuzz/idx_fuzz -rss_limit_mb=2048 NEW_DIR tests/fuzz/corpus/idx */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aicon/data.h"
#include "tests/fuzz/fuzz_file.h"

static fuzz_file images, labels;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_file_open(&images, "idx-images");
    fuzz_file_open(&labels, "idx-labels");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    size_t n_images = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (n_images > size)
        n_images = size;
    fuzz_file_set(&images, data, n_images);
    fuzz_file_set(&labels, data + n_images, size - n_images);

    aic_dataset_t *d = (aic_dataset_t *)1; /* must be overwritten */
    aic_status st = aic_dataset_load_idx(&d, images.path, labels.path);
    if (st != AIC_OK) {
        fuzz_dataset_refused(d, aic_last_error());
        return 0;
    }
    int64_t shape[6];
    if (!d || aic_dataset_size(d) < 1 || aic_dataset_sample_shape(d, shape) != 3 || shape[0] != 1 ||
        aic_dataset_sample_numel(d) != shape[1] * shape[2] || aic_dataset_num_classes(d) < 1 ||
        aic_dataset_num_classes(d) > 256)
        abort();
    double mean, std;
    (void)aic_dataset_stats(d, &mean, &std);
    aic_dataset_destroy(d);
    return 0;
}
