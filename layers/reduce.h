// SPDX-License-Identifier: Apache-2.0
/* Reductions (layers/reduce_ops.def) over a set of axes: the value of one output element and the
 * gradient it sends to its inputs, written once for the C kernels (layers/reduce.c) and the CUDA
 * ones (layers/reduce_cuda.cu). Each output element reads its reduced elements in index order and
 * sums in double, so a result does not depend on threads or backend scheduling. */
#ifndef AICON_LAYERS_REDUCE_H
#define AICON_LAYERS_REDUCE_H

#include <math.h>
#include <stdint.h>

#include "aicon/status.h"
#include "layers/host_device.h"

typedef enum {
#define AIC_REDUCE(E, name, onnx) AIC_REDUCE_##E,
#include "layers/reduce_ops.def"
#undef AIC_REDUCE
    AIC_REDUCE_COUNT
} aic_reduce_kind;

enum { AIC_REDUCE_MAX_DIMS = 8 };

/* Where an output element's inputs lie: output element o, written in the kept axes' sizes keep_dim
 * (row-major), starts at sum(coord * keep_stride); its reduced elements, in the reduced axes' sizes
 * red_dim (row-major), sit at that start + sum(coord * red_stride). Strides count input elements. */
typedef struct {
    int n_keep, n_red;
    int64_t keep_dim[AIC_REDUCE_MAX_DIMS], keep_stride[AIC_REDUCE_MAX_DIMS];
    int64_t red_dim[AIC_REDUCE_MAX_DIMS], red_stride[AIC_REDUCE_MAX_DIMS];
    int64_t n_out, count; /* output elements; reduced elements per output element */
} aic_reduce_plan;

/* The offset of element i of a row-major index space of n dims over the given strides. */
AIC_HD int64_t aic_reduce_at(const int64_t *dim, const int64_t *stride, int n, int64_t i) {
    int64_t off = 0;
    for (int d = n - 1; d >= 0; d--) {
        off += (i % dim[d]) * stride[d];
        i /= dim[d];
    }
    return off;
}

/* The input offset of output element o's first reduced element. */
AIC_HD int64_t aic_reduce_base(const aic_reduce_plan *p, int64_t o) {
    return aic_reduce_at(p->keep_dim, p->keep_stride, p->n_keep, o);
}

/* The offset of reduced element j (index order) from the base. */
AIC_HD int64_t aic_reduce_offset(const aic_reduce_plan *p, int64_t j) {
    return aic_reduce_at(p->red_dim, p->red_stride, p->n_red, j);
}

/* Whether v replaces the extreme m so far (max: larger, min: smaller; a NaN wins and stays, as
 * torch.amax): the first extreme element in index order is kept. */
AIC_HD int aic_reduce_beats(aic_reduce_kind k, float v, float m) {
    if (m != m)
        return 0;
    return v != v || (k == AIC_REDUCE_MAX ? v > m : v < m);
}

/* Index (in reduced order) of output o's first maximal (max) or minimal (min) element. */
AIC_HD int64_t aic_reduce_argext(aic_reduce_kind k, const float *x, const aic_reduce_plan *p, int64_t o) {
    const float *b = x + aic_reduce_base(p, o);
    float m = b[0];
    int64_t at = 0;
    for (int64_t j = 1; j < p->count; j++) {
        const float v = b[aic_reduce_offset(p, j)];
        if (aic_reduce_beats(k, v, m)) {
            m = v;
            at = j;
        }
    }
    return at;
}

/* Output element o. log_sum_exp subtracts the maximum first (an infinite or NaN maximum is the
 * result: all -inf gives -inf, as torch.logsumexp); prod multiplies in double. */
AIC_HD float aic_reduce_one(aic_reduce_kind k, const float *x, const aic_reduce_plan *p, int64_t o) {
    const float *b = x + aic_reduce_base(p, o);
    if (k == AIC_REDUCE_MAX || k == AIC_REDUCE_MIN)
        return b[aic_reduce_offset(p, aic_reduce_argext(k, x, p, o))];
    const float m = k == AIC_REDUCE_LOG_SUM_EXP ? b[aic_reduce_offset(p, aic_reduce_argext(AIC_REDUCE_MAX, x, p, o))]
                                                : 0.0f;
    if (k == AIC_REDUCE_LOG_SUM_EXP && !isfinite(m))
        return m;
    double s = k == AIC_REDUCE_PROD ? 1.0 : 0.0;
    for (int64_t j = 0; j < p->count; j++) {
        const double v = b[aic_reduce_offset(p, j)];
        switch (k) {
        case AIC_REDUCE_LOG_SUM_EXP: s += exp(v - m); break;
        case AIC_REDUCE_L2:
        case AIC_REDUCE_SUM_SQUARE: s += v * v; break;
        case AIC_REDUCE_L1: s += fabs(v); break;
        case AIC_REDUCE_PROD: s *= v; break;
        default: s += v; break;
        }
    }
    switch (k) {
    case AIC_REDUCE_MEAN: return (float)(s / (double)p->count);
    case AIC_REDUCE_L2: return (float)sqrt(s);
    case AIC_REDUCE_LOG_SUM_EXP: return (float)((double)m + log(s));
    case AIC_REDUCE_LOG_SUM: return (float)log(s);
    default: return (float)s;
    }
}

/* The product of output o's reduced elements but its j-th, in double (prod's gradient where that
 * element is 0, which y / x cannot give). */
AIC_HD double aic_reduce_prod_but(const float *x, const aic_reduce_plan *p, int64_t o, int64_t skip) {
    const float *b = x + aic_reduce_base(p, o);
    double s = 1.0;
    for (int64_t j = 0; j < p->count; j++)
        if (j != skip)
            s *= b[aic_reduce_offset(p, j)];
    return s;
}

/* dx += the gradient output o (value y, gradient g) sends to each of its inputs: sum 1, mean 1/count,
 * sum_square 2x, l2 x/y (0 where y is 0, as torch.linalg.vector_norm), log_sum_exp exp(x - y), l1
 * sign(x) (0 at 0, as torch.sign), log_sum 1/exp(y) (the sum's reciprocal), prod y/x (the product of
 * the others where x is 0), max
 * and min all of g to the first extreme element (torch.amax splits g evenly among ties; one element
 * taking all keeps the gradient a subgradient and matches ReduceMax's argmax). */
AIC_HD void aic_reduce_back_one(aic_reduce_kind k, float *dx, const float *x, float y, float g,
                                const aic_reduce_plan *p, int64_t o) {
    const int64_t base = aic_reduce_base(p, o);
    if (k == AIC_REDUCE_MAX || k == AIC_REDUCE_MIN) {
        dx[base + aic_reduce_offset(p, aic_reduce_argext(k, x, p, o))] += g;
        return;
    }
    for (int64_t j = 0; j < p->count; j++) {
        const int64_t i = base + aic_reduce_offset(p, j);
        switch (k) {
        case AIC_REDUCE_MEAN: dx[i] += (float)((double)g / (double)p->count); break;
        case AIC_REDUCE_SUM_SQUARE: dx[i] += 2.0f * x[i] * g; break;
        case AIC_REDUCE_L2: dx[i] += y == 0.0f ? 0.0f : g * (x[i] / y); break;
        case AIC_REDUCE_LOG_SUM_EXP: dx[i] += g * expf(x[i] - y); break;
        case AIC_REDUCE_L1: dx[i] += x[i] > 0.0f ? g : x[i] < 0.0f ? -g : 0.0f; break;
        case AIC_REDUCE_LOG_SUM: dx[i] += (float)((double)g / exp((double)y)); break;
        case AIC_REDUCE_PROD:
            dx[i] += x[i] != 0.0f ? g * (y / x[i]) : (float)((double)g * aic_reduce_prod_but(x, p, o, j));
            break;
        default: dx[i] += g; break;
        }
    }
}

/* Fails naming `kernel` unless k is a kind and the plan's dims are positive, at most
 * AIC_REDUCE_MAX_DIMS axes each side (one reduced at least), with counts that agree. */
aic_status aic_reduce_plan_check(const char *kernel, aic_reduce_kind k, const aic_reduce_plan *plan);
/* out: plan->n_out = the output; inp: the input the plan describes. Backward: dinp += the gradient
 * from dout (out: forward's output); dinp NULL: nothing. (layers/reduce.c) */
aic_status aic_reduce_forward(aic_reduce_kind k, float *out, const float *inp, const aic_reduce_plan *plan);
aic_status aic_reduce_backward(aic_reduce_kind k, float *dinp, const float *dout, const float *inp, const float *out,
                               const aic_reduce_plan *plan);
/* The same on the GPU, one thread per output element (layers/reduce_cuda.cu). */
aic_status aic_cuda_reduce_forward(aic_reduce_kind k, float *out, const float *inp, const aic_reduce_plan *plan);
aic_status aic_cuda_reduce_backward(aic_reduce_kind k, float *dinp, const float *dout, const float *inp,
                                    const float *out, const aic_reduce_plan *plan);

#endif
