// SPDX-License-Identifier: Apache-2.0
/* Slice and pad as one strided copy: output index i on axis a reads the input at start + i * step,
 * and a position outside the input is filled by the pad mode (a value, the mirror image, the edge).
 * The formulas are written once for the C kernels (layers/slice.c) and the CUDA ones
 * (layers/slice_cuda.cu): forward computes each output element, backward gathers each input element's
 * gradient from the outputs that read it, in index order and summed in double, so no two threads
 * write one element and the result does not depend on scheduling. */
#ifndef AICON_LAYERS_SLICE_H
#define AICON_LAYERS_SLICE_H

#include <stdint.h>

#include "aicon/model.h" /* aic_pad_mode */
#include "aicon/status.h"
#include "layers/host_device.h"

enum { AIC_SLICE_MAX_DIMS = 8 };

/* rows x (the axes xdim) in, rows x (the axes odim) out, both row-major. Output index i on axis a reads
 * input position start[a] + i * step[a] (step != 0); outside 0..xdim[a]-1, mode decides: constant
 * fills value, reflect mirrors about the edges without repeating them (numpy's reflect, periodic past
 * one mirror image), edge repeats the edge. Reflect and edge take step 1. */
typedef struct {
    int ndim;
    int64_t rows;
    int64_t xdim[AIC_SLICE_MAX_DIMS], odim[AIC_SLICE_MAX_DIMS];
    int64_t start[AIC_SLICE_MAX_DIMS], step[AIC_SLICE_MAX_DIMS];
    aic_pad_mode mode;
    float value;
    int64_t x_numel, o_numel; /* per row */
} aic_slice_plan;

/* A mode as ONNX Pad names it ("constant", "reflect", "edge"); NULL for a value that is none. */
static inline const char *aic_pad_mode_name(int mode) {
    return mode == AIC_PAD_CONSTANT ? "constant" : mode == AIC_PAD_REFLECT ? "reflect" : mode == AIC_PAD_EDGE ? "edge"
                                                                                                          : NULL;
}

/* The input position output index i of axis a reads, or -1 for the constant value. */
AIC_HD int64_t aic_slice_src(const aic_slice_plan *p, int a, int64_t i) {
    const int64_t n = p->xdim[a], t = p->start[a] + i * p->step[a];
    if (t >= 0 && t < n)
        return t;
    if (p->mode == AIC_PAD_EDGE)
        return t < 0 ? 0 : n - 1;
    if (p->mode != AIC_PAD_REFLECT)
        return -1;
    if (n == 1)
        return 0;
    const int64_t period = 2 * (n - 1);
    int64_t r = t % period;
    if (r < 0)
        r += period;
    return r < n ? r : period - r;
}

/* The first output index i' >= i of axis a that reads input position j, or -1. */
AIC_HD int64_t aic_slice_next(const aic_slice_plan *p, int a, int64_t j, int64_t i) {
    const int64_t n = p->xdim[a], s = p->start[a], out = p->odim[a], t0 = s + i;
    int64_t t; /* the first position t >= t0 that reads j; output index t - s */
    if (p->mode == AIC_PAD_EDGE) { /* j, and at an edge every position past it */
        const int64_t lo = j == 0 ? INT64_MIN : j, hi = j == n - 1 ? INT64_MAX : j;
        t = t0 > lo ? t0 : lo;
        if (t > hi)
            return -1;
    } else if (p->mode == AIC_PAD_REFLECT) { /* j or -j, modulo the period */
        if (n == 1) {
            t = t0;
        } else {
            const int64_t period = 2 * (n - 1);
            int64_t base = t0 % period;
            base = t0 - (base < 0 ? base + period : base);
            int64_t c1 = base + j, c2 = base + (period - j) % period;
            if (c1 < t0)
                c1 += period;
            if (c2 < t0)
                c2 += period;
            t = c1 < c2 ? c1 : c2;
        }
    } else { /* the one i' with s + i' * step = j */
        const int64_t d = j - s, st = p->step[a];
        if (d % st != 0 || d / st < i)
            return -1;
        return d / st < out ? d / st : -1;
    }
    return t - s < out ? t - s : -1;
}

/* Output element o (of rows x o_numel). */
AIC_HD float aic_slice_one(const aic_slice_plan *p, const float *x, int64_t o) {
    int64_t q = o % p->o_numel, off = 0, stride = 1;
    for (int a = p->ndim - 1; a >= 0; a--) {
        const int64_t j = aic_slice_src(p, a, q % p->odim[a]);
        if (j < 0)
            return p->value;
        off += j * stride;
        stride *= p->xdim[a];
        q /= p->odim[a];
    }
    return x[o / p->o_numel * p->x_numel + off];
}

/* The gradient of input element e (of rows x x_numel): the sum of dout over the output elements that
 * read it, in index order. */
AIC_HD double aic_slice_grad_one(const aic_slice_plan *p, const float *dout, int64_t e) {
    int64_t q = e % p->x_numel, j[AIC_SLICE_MAX_DIMS], i[AIC_SLICE_MAX_DIMS];
    for (int a = p->ndim - 1; a >= 0; a--) {
        j[a] = q % p->xdim[a];
        q /= p->xdim[a];
    }
    for (int a = 0; a < p->ndim; a++)
        if ((i[a] = aic_slice_next(p, a, j[a], 0)) < 0)
            return 0.0;
    const float *g = dout + e / p->x_numel * p->o_numel;
    double s = 0.0;
    for (;;) {
        int64_t off = 0;
        for (int a = 0; a < p->ndim; a++)
            off = off * p->odim[a] + i[a];
        s += g[off];
        int a = p->ndim - 1;
        for (; a >= 0; a--) { /* the next reader, odometer style */
            const int64_t next = aic_slice_next(p, a, j[a], i[a] + 1);
            if (next >= 0) {
                i[a] = next;
                break;
            }
            i[a] = aic_slice_next(p, a, j[a], 0);
        }
        if (a < 0)
            return s;
    }
}

/* Fails naming `kernel` unless the plan has 0..AIC_SLICE_MAX_DIMS axes of positive sizes whose
 * products are its numels, rows >= 0, nonzero steps (1 for reflect and edge) and a known mode. */
aic_status aic_slice_plan_check(const char *kernel, const aic_slice_plan *plan);
/* out: rows x odim; x: rows x xdim. Backward: dx (rows x xdim) += the gradient from dout; dx NULL:
 * nothing. (layers/slice.c) */
aic_status aic_slice_forward(float *out, const float *x, const aic_slice_plan *plan);
aic_status aic_slice_backward(float *dx, const float *dout, const aic_slice_plan *plan);
/* The same on the GPU: a thread per output element forward, per input element backward
 * (layers/slice_cuda.cu). */
aic_status aic_cuda_slice_forward(float *out, const float *x, const aic_slice_plan *plan);
aic_status aic_cuda_slice_backward(float *dx, const float *dout, const aic_slice_plan *plan);

#endif
