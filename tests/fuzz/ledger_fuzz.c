// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the file ledger as a file. aic_ledger_verify on the input (every line's form,
 * the hash chain, signatures, completeness); a ledger that verifies is shown too (aic_ledger_show);
 * and every input is appended to as a job would (aic_ledger_append: the scan without signature
 * checks, then one opening written). A refusal must say why; nothing may crash, leak or hit
 * undefined behaviour.
 *
 *   build-fuzz/ledger_fuzz NEW_DIR tests/fuzz/corpus/ledger */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "tests/fuzz/fuzz_file.h"

static fuzz_file file;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_file_open(&file, "ledger");
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_file_set(&file, data, size);
    long entries = -1;
    aic_status st = aic_ledger_verify(file.path, &entries);
    if (entries < 0)
        abort();
    if (st == AIC_OK) {
        if (aic_ledger_show(file.path, devnull) != AIC_OK)
            abort(); /* show refuses only what verify refuses */
    } else if (aic_last_error()[0] == '\0') {
        abort();
    } else {
        fuzz_note(aic_last_error());
    }

    /* A job that appends: its opening, unless the ledger already holds this job id. */
    uint8_t ranks[1][20] = {{0x11}};
    aic_usage_job job = {.n_ranks = 1, .ranks = ranks, .owner = {0x11}};
    memset(job.job_id, 0x5a, sizeof job.job_id);
    if (aic_ledger_append(file.path, &job, NULL, 0) != AIC_OK && aic_last_error()[0] == '\0')
        abort();
    return 0;
}
