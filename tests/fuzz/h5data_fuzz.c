// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: aic_dataset_load_h5 on arbitrary bytes as an HDF5 file. A load must give a
 * consistent data set; a refusal must say why; nothing may crash, leak or hit undefined behaviour.
 * libhdf5 itself is the system's (not instrumented): a crash inside it is still a crash of aicon's
 * reader.
 *
 *   build-fuzz/h5data_fuzz -rss_limit_mb=2048 NEW_DIR tests/fuzz/corpus/h5data */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aicon/data.h"

#include <hdf5.h>

#include "tests/fuzz/fuzz_file.h"

static fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_file_open_real(&file, "h5data");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_file_set(&file, data, size);
    aic_dataset_t *d = (aic_dataset_t *)1; /* must be overwritten */
    aic_status st = aic_dataset_load_h5(&d, file.path);
    fuzz_check_hdf5_closed();
    if (st != AIC_OK) {
        fuzz_dataset_refused(d, aic_last_error());
        return 0;
    }
    int64_t shape[6];
    int rank = d ? aic_dataset_sample_shape(d, shape) : 0;
    if (!d || aic_dataset_size(d) < 1 || rank < 1 || rank > 6 || aic_dataset_num_classes(d) < 1)
        abort();
    int64_t numel = 1;
    for (int i = 0; i < rank; i++)
        numel *= shape[i];
    if (numel != aic_dataset_sample_numel(d))
        abort();
    double mean, std;
    (void)aic_dataset_stats(d, &mean, &std);
    aic_dataset_destroy(d);
    return 0;
}
