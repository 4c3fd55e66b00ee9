// SPDX-License-Identifier: Apache-2.0
/* The stand-in for usage records in an aicon built without them (-DAICON_USAGE=OFF, no chain/):
 * keygen and ledger say so, and train's meter records nothing (train itself refuses --usage, --key
 * and --spool). */
#include <stdio.h>

#include "chain/meter.h"
#include "core/error.h"
#include "tools/tools.h"

static int not_built(const char *command) {
    fprintf(stderr, "aicon %s: this aicon was built without usage records (-DAICON_USAGE=OFF)\n", command);
    return 1;
}

int aicon_keygen_main(int argc, char **argv) { return not_built("keygen"); }

int aicon_ledger_main(int argc, char **argv) { return not_built("ledger"); }

aic_status aic_meter_start(aic_comm_t *c, const aic_meter_config *cfg, const char *const *data_files, aic_meter **out) {
    *out = NULL;
    return AIC_OK;
}

void aic_meter_step(aic_meter *m, double busy_seconds, int64_t samples) {}

aic_status aic_meter_finish(aic_meter *m, aic_comm_t *c, const aic_meter_end *end, FILE *log) { return AIC_OK; }

void aic_meter_job_id(const aic_meter *m, uint8_t out[32]) {}

aic_status aic_meter_sign(const aic_meter *m, const uint8_t digest[32], uint8_t sig[65], uint8_t address[20]) {
    return aic_fail(AIC_ERR_STATE, "this aicon was built without usage records: no key to sign with");
}

aic_status aic_meter_signer(const uint8_t digest[32], const uint8_t sig[65], uint8_t address[20]) {
    return aic_fail(AIC_ERR_STATE, "this aicon was built without usage records (-DAICON_USAGE=OFF): signatures "
                    "cannot be checked");
}

void aic_meter_destroy(aic_meter *m) {}
