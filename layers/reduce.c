// SPDX-License-Identifier: Apache-2.0
/* CPU kernels of the reductions: each output element in order through layers/reduce.h. */
#include "layers/reduce.h"
#include "layers/kernel_check.h"

aic_status aic_reduce_plan_check(const char *kernel, aic_reduce_kind k, const aic_reduce_plan *p) {
    if ((unsigned)k >= AIC_REDUCE_COUNT)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "reduce kind %d is not one of the %d", (int)k,
                               AIC_REDUCE_COUNT);
    if (!p || p->n_keep < 0 || p->n_keep > AIC_REDUCE_MAX_DIMS || p->n_red < 1 || p->n_red > AIC_REDUCE_MAX_DIMS)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "the plan is NULL or has bad axis counts");
    int64_t n_out = 1, count = 1;
    for (int d = 0; d < p->n_keep; d++)
        n_out *= p->keep_dim[d] > 0 ? p->keep_dim[d] : 0;
    for (int d = 0; d < p->n_red; d++)
        count *= p->red_dim[d] > 0 ? p->red_dim[d] : 0;
    if (n_out != p->n_out || count != p->count || count < 1)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "the plan's %lld outputs of %lld reduced elements disagree with its dims",
                               (long long)p->n_out, (long long)p->count);
    return AIC_OK;
}

aic_status aic_reduce_forward(aic_reduce_kind k, float *out, const float *inp, const aic_reduce_plan *plan) {
    AIC_TRY(aic_reduce_plan_check(__func__, k, plan));
    AIC_KERNEL_ARG(plan->n_out == 0 || (out && inp), "out or inp is NULL");
    for (int64_t o = 0; o < plan->n_out; o++)
        out[o] = aic_reduce_one(k, inp, plan, o);
    return AIC_OK;
}

aic_status aic_reduce_backward(aic_reduce_kind k, float *dinp, const float *dout, const float *inp, const float *out,
                               const aic_reduce_plan *plan) {
    AIC_TRY(aic_reduce_plan_check(__func__, k, plan));
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(plan->n_out == 0 || (dout && inp && out), "dout, inp or out is NULL");
    for (int64_t o = 0; o < plan->n_out; o++)
        aic_reduce_back_one(k, dinp, inp, out[o], dout[o], plan, o);
    return AIC_OK;
}
