// SPDX-License-Identifier: Apache-2.0
// CUDA kernels of the reductions: one thread per output element over its reduced elements in order
// (layers/reduce.h's formulas), so results are deterministic and need no atomics.
#include "layers/cuda_common.cuh"
extern "C" {
#include "layers/reduce.h"
}

// The plan travels by value: a kernel cannot read the host's struct.
__global__ static void reduce_fwd_k(aic_reduce_kind k, float *out, const float *inp, aic_reduce_plan p) {
    AIC_GRID_STRIDE(o, (size_t)p.n_out) out[o] = aic_reduce_one(k, inp, &p, (int64_t)o);
}

__global__ static void reduce_bwd_k(aic_reduce_kind k, float *dinp, const float *dout, const float *inp,
                                    const float *out, aic_reduce_plan p) {
    AIC_GRID_STRIDE(o, (size_t)p.n_out) aic_reduce_back_one(k, dinp, inp, out[o], dout[o], &p, (int64_t)o);
}

extern "C" aic_status aic_cuda_reduce_forward(aic_reduce_kind k, float *out, const float *inp,
                                              const aic_reduce_plan *plan) {
    AIC_TRY(aic_reduce_plan_check(__func__, k, plan));
    return AIC_LAUNCH_N((size_t)plan->n_out, reduce_fwd_k, k, out, inp, *plan);
}

extern "C" aic_status aic_cuda_reduce_backward(aic_reduce_kind k, float *dinp, const float *dout, const float *inp,
                                               const float *out, const aic_reduce_plan *plan) {
    AIC_TRY(aic_reduce_plan_check(__func__, k, plan));
    if (!dinp)
        return AIC_OK;
    return AIC_LAUNCH_N((size_t)plan->n_out, reduce_bwd_k, k, dinp, dout, inp, out, *plan);
}
