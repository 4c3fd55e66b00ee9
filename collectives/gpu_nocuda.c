// SPDX-License-Identifier: Apache-2.0
/* GPU collectives in a build without CUDA: there is no device memory to sum. */
#include "collectives/comm_internal.h"
#include "collectives/gpu_internal.h"
#include "core/error.h"

void aic_comm_gpu_destroy(aic_comm_t *c) { (void)c; }

aic_status aic_allreduce_sum_f32_device(aic_comm_t *c, float *buf, size_t n) {
    (void)c, (void)buf;
    return aic_fail(AIC_ERR_UNSUPPORTED, "allreduce of %zu floats in device memory: aicon was built without CUDA", n);
}

aic_status aic_comm_set_gpu_allreduce(aic_comm_t *c, aic_gpu_allreduce algo) {
    (void)c;
    return aic_fail(AIC_ERR_UNSUPPORTED, "GPU allreduce algorithm %d: aicon was built without CUDA", (int)algo);
}

aic_status aic_allreduce_sum_f32_gpu(aic_comm_t *c, float *dev_buf, size_t n) {
    return aic_allreduce_sum_f32_device(c, dev_buf, n);
}

bool aic_gpu_stream_sums(const aic_comm_t *c) {
    (void)c;
    return false;
}

aic_status aic_gpu_sum_enqueue(aic_comm_t *c, float *dev, size_t n) {
    (void)c, (void)dev;
    return aic_fail(AIC_ERR_UNSUPPORTED, "GPU sum of %zu floats on a stream: aicon was built without CUDA", n);
}

aic_status aic_gpu_sums_join(aic_comm_t *c) {
    (void)c;
    return aic_fail(AIC_ERR_UNSUPPORTED, "waiting for GPU sums: aicon was built without CUDA");
}
