// SPDX-License-Identifier: Apache-2.0
/* GPU enumeration and versions; the CUDA build replaces the bodies below with real queries. */
#include <string.h>

#include "aicon/device.h"
#include "core/error.h"

bool aic_cuda_built(void) { return false; }

aic_status aic_gpu_count(int *count) {
    if (!count)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gpu_count: count is NULL");
    *count = 0;
    aic_fail(AIC_ERR_UNSUPPORTED, "this aicon was built without CUDA (AICON_CUDA=OFF or no CUDA toolkit found)");
    return AIC_OK;
}

aic_status aic_gpu_info_get(int index, aic_gpu_info *out) {
    (void)out;
    return aic_fail(AIC_ERR_UNSUPPORTED, "GPU %d: this aicon was built without CUDA", index);
}

void aic_gpu_versions_get(aic_gpu_versions *out) { memset(out, 0, sizeof *out); }
