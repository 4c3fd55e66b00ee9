// SPDX-License-Identifier: Apache-2.0
// CUDA kernels of slice and pad (layers/slice.h's formulas): a thread per output element forward, a
// thread per input element backward gathering from its readers in order, so no atomics and the same
// sums as the CPU.
#include "layers/cuda_common.cuh"
extern "C" {
#include "layers/slice.h"
}

// The plan travels by value: a kernel cannot read the host's struct.
__global__ static void slice_fwd_k(float *out, const float *x, aic_slice_plan p, size_t n) {
    AIC_GRID_STRIDE(o, n) out[o] = aic_slice_one(&p, x, (int64_t)o);
}

__global__ static void slice_bwd_k(float *dx, const float *dout, aic_slice_plan p, size_t n) {
    AIC_GRID_STRIDE(e, n) dx[e] += (float)aic_slice_grad_one(&p, dout, (int64_t)e);
}

extern "C" aic_status aic_cuda_slice_forward(float *out, const float *x, const aic_slice_plan *plan) {
    AIC_TRY(aic_slice_plan_check(__func__, plan));
    const size_t n = (size_t)(plan->rows * plan->o_numel);
    return AIC_LAUNCH_N(n, slice_fwd_k, out, x, *plan, n);
}

extern "C" aic_status aic_cuda_slice_backward(float *dx, const float *dout, const aic_slice_plan *plan) {
    AIC_TRY(aic_slice_plan_check(__func__, plan));
    if (!dx)
        return AIC_OK;
    const size_t n = (size_t)(plan->rows * plan->x_numel);
    return AIC_LAUNCH_N(n, slice_bwd_k, dx, dout, *plan, n);
}
