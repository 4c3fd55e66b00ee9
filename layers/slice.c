// SPDX-License-Identifier: Apache-2.0
/* CPU kernels of slice and pad: each element in order through layers/slice.h, or, where every output
 * line is a run of the input, a copy a line. */
#include <stdbool.h>
#include <string.h>

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

/* Whether every output line (the last axis) reads one run of the input inside it: step 1 on that axis,
 * constant mode (no mirror or edge, so no input element is read twice). Then a line is one copy. */
static bool lines_are_runs(const aic_slice_plan *p) {
    const int a = p->ndim - 1;
    return p->ndim > 0 && p->mode == AIC_PAD_CONSTANT && p->step[a] == 1 && p->start[a] >= 0 &&
           p->start[a] + p->odim[a] <= p->xdim[a];
}

/* The input offset, within a row, of the first element output line l (of the row's o_numel / odim[last])
 * reads; -1 when an outer axis reads outside the input (the line is the pad value). */
static int64_t line_src(const aic_slice_plan *p, int64_t l) {
    int64_t off = p->start[p->ndim - 1], stride = p->xdim[p->ndim - 1];
    for (int a = p->ndim - 2; a >= 0; a--) {
        const int64_t j = aic_slice_src(p, a, l % p->odim[a]);
        if (j < 0)
            return -1;
        off += j * stride;
        stride *= p->xdim[a];
        l /= p->odim[a];
    }
    return off;
}

aic_status aic_slice_forward(float *out, const float *x, const aic_slice_plan *plan) {
    AIC_TRY(aic_slice_plan_check(__func__, plan));
    AIC_KERNEL_ARG(plan->rows == 0 || (out && x), "out or x is NULL");
    if (lines_are_runs(plan)) {
        const int64_t w = plan->odim[plan->ndim - 1], lines = plan->o_numel / w;
        for (int64_t r = 0; r < plan->rows; r++)
            for (int64_t l = 0; l < lines; l++) {
                float *o = out + r * plan->o_numel + l * w;
                const int64_t src = line_src(plan, l);
                if (src < 0)
                    for (int64_t k = 0; k < w; k++)
                        o[k] = plan->value;
                else
                    memcpy(o, x + r * plan->x_numel + src, sizeof(float) * (size_t)w);
            }
        return AIC_OK;
    }
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
    if (lines_are_runs(plan)) { /* each input element read at most once: its gradient is that one dout */
        const int64_t w = plan->odim[plan->ndim - 1], lines = plan->o_numel / w;
        for (int64_t r = 0; r < plan->rows; r++)
            for (int64_t l = 0; l < lines; l++) {
                const int64_t src = line_src(plan, l);
                if (src < 0)
                    continue;
                float *d = dx + r * plan->x_numel + src;
                const float *g = dout + r * plan->o_numel + l * w;
                for (int64_t k = 0; k < w; k++)
                    d[k] += g[k];
            }
        return AIC_OK;
    }
    const int64_t n = plan->rows * plan->x_numel;
    for (int64_t e = 0; e < n; e++)
        dx[e] += (float)aic_slice_grad_one(plan, dout, e);
    return AIC_OK;
}
