// SPDX-License-Identifier: Apache-2.0
/* CPU kernels of slice and pad: each element in order through layers/slice.h. */
#include "layers/slice.h"
#include "layers/kernel_check.h"

aic_status aic_slice_plan_check(const char *kernel, const aic_slice_plan *p) {
    if (!p || p->ndim < 0 || p->ndim > AIC_SLICE_MAX_DIMS || p->rows < 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "the plan is NULL or has a bad axis or row count");
    if (!aic_pad_mode_name(p->mode))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "pad mode %d is not constant, reflect or edge",
                               (int)p->mode);
    int64_t xn = 1, on = 1;
    for (int a = 0; a < p->ndim; a++) {
        if (p->xdim[a] < 1 || p->odim[a] < 1)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "axis %d has sizes %lld in, %lld out", a,
                                   (long long)p->xdim[a], (long long)p->odim[a]);
        if (p->step[a] == 0 || (p->mode != AIC_PAD_CONSTANT && p->step[a] != 1))
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "axis %d has step %lld (reflect and edge take 1)", a,
                                   (long long)p->step[a]);
        xn *= p->xdim[a];
        on *= p->odim[a];
    }
    if (xn != p->x_numel || on != p->o_numel)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "the plan's numels %lld in, %lld out disagree with its axes",
                               (long long)p->x_numel, (long long)p->o_numel);
    return AIC_OK;
}

aic_status aic_slice_forward(float *out, const float *x, const aic_slice_plan *plan) {
    AIC_TRY(aic_slice_plan_check(__func__, plan));
    AIC_KERNEL_ARG(plan->rows == 0 || (out && x), "out or x is NULL");
    const int64_t n = plan->rows * plan->o_numel;
    for (int64_t o = 0; o < n; o++)
        out[o] = aic_slice_one(plan, x, o);
    return AIC_OK;
}

aic_status aic_slice_backward(float *dx, const float *dout, const aic_slice_plan *plan) {
    AIC_TRY(aic_slice_plan_check(__func__, plan));
    if (!dx)
        return AIC_OK;
    AIC_KERNEL_ARG(plan->rows == 0 || dout, "dout is NULL");
    const int64_t n = plan->rows * plan->x_numel;
    for (int64_t e = 0; e < n; e++)
        dx[e] += (float)aic_slice_grad_one(plan, dout, e);
    return AIC_OK;
}
