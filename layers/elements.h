// SPDX-License-Identifier: Apache-2.0
/* GatherElements', ScatterElements' and OneHot's formulas, once for both backends (layers/elements.c,
 * layers/elements_cuda.cu). Each gives one position's value, so that a thread per position needs no
 * atomics and the two backends add repeated indices up in the same (index) order. Positions are flat
 * over aic_elements_dims' data (q) or idx (p) shape, rows first. */
#ifndef AICON_LAYERS_ELEMENTS_H
#define AICON_LAYERS_ELEMENTS_H

#include "layers/host_device.h"
#include "layers/layers.h"

/* The elements of a shape of ndim axes. */
AIC_HD size_t aic_elements_count(const int64_t *shape, int ndim) {
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= (size_t)shape[a];
    return n;
}

/* Index v on an axis of size D as a position, or -1 outside -D..D-1. */
AIC_HD int64_t aic_elements_pos(int32_t v, int64_t D) {
    const int64_t j = v < 0 ? (int64_t)v + D : (int64_t)v;
    return j >= 0 && j < D ? j : -1;
}

/* The data position index p names (p's coordinates with the axis's replaced by idx[p]), or -1. */
AIC_HD int64_t aic_elements_target(const aic_elements_dims *d, const int32_t *idx, size_t p) {
    const int64_t j = aic_elements_pos(idx[p], d->data[d->axis]);
    int64_t off = 0, stride = 1, rest = (int64_t)p;
    for (int a = d->ndim - 1; a >= 0 && j >= 0; a--) {
        const int64_t c = rest % d->idx[a];
        rest /= d->idx[a];
        off += (a == d->axis ? j : c) * stride;
        stride *= d->data[a];
    }
    return j < 0 ? -1 : off;
}

/* The line of index positions along the axis that may name data position q: the first (*base), the
 * stride (*step), and q's coordinate on the axis (*j); false when the indices do not reach q's line. */
AIC_HD bool aic_elements_line(const aic_elements_dims *d, size_t q, int64_t *base, int64_t *step, int64_t *j) {
    int64_t rest = (int64_t)q, stride = 1;
    *base = *j = 0;
    *step = 1;
    for (int a = d->ndim - 1; a >= 0; a--) {
        const int64_t c = rest % d->data[a];
        rest /= d->data[a];
        if (a == d->axis) {
            *j = c;
            *step = stride;
        } else if (c >= d->idx[a]) {
            return false;
        } else {
            *base += c * stride;
        }
        stride *= d->idx[a];
    }
    return true;
}

/* The gradient index positions send to data position q: their dout summed in index order. */
AIC_HD float aic_gather_elements_grad(const aic_elements_dims *d, const int32_t *idx, const float *dout, size_t q) {
    int64_t base, step, j;
    float s = 0;
    if (!aic_elements_line(d, q, &base, &step, &j))
        return 0;
    for (int64_t k = 0; k < d->idx[d->axis]; k++)
        if (aic_elements_pos(idx[base + k * step], d->data[d->axis]) == j)
            s += dout[base + k * step];
    return s;
}

/* The scatter's output at q: x[q] with the updates to q applied in index order. */
AIC_HD float aic_scatter_elements_value(const aic_elements_dims *d, const float *x, const int32_t *idx,
                                        const float *upd, size_t q) {
    int64_t base, step, j;
    float v = x[q];
    if (!aic_elements_line(d, q, &base, &step, &j))
        return v;
    for (int64_t k = 0; k < d->idx[d->axis]; k++)
        if (aic_elements_pos(idx[base + k * step], d->data[d->axis]) == j) {
            const float u = upd[base + k * step];
            v = d->reduction == AIC_SCATTER_ADD ? v + u : d->reduction == AIC_SCATTER_MUL ? v * u : u;
        }
    return v;
}

/* d out[q] / d x[q]: 0 where an update replaced x[q], the product of the updates multiplied into it. */
AIC_HD float aic_scatter_elements_dx(const aic_elements_dims *d, const int32_t *idx, const float *upd, size_t q) {
    int64_t base, step, j;
    float f = 1;
    if (d->reduction == AIC_SCATTER_ADD || !aic_elements_line(d, q, &base, &step, &j))
        return 1;
    for (int64_t k = 0; k < d->idx[d->axis]; k++)
        if (aic_elements_pos(idx[base + k * step], d->data[d->axis]) == j)
            f = d->reduction == AIC_SCATTER_MUL ? f * upd[base + k * step] : 0;
    return f;
}

/* d out[t] / d upd[p] for the position t that p names (*t, -1: none): 1 when added; x[t] times the other
 * updates to t when multiplied; when written, 1 unless a later update to t overwrote it. */
AIC_HD float aic_scatter_elements_dupd(const aic_elements_dims *d, const float *x, const int32_t *idx,
                                       const float *upd, size_t p, int64_t *t) {
    *t = aic_elements_target(d, idx, p);
    if (*t < 0 || d->reduction == AIC_SCATTER_ADD)
        return 1;
    int64_t step = 1;
    for (int a = d->ndim - 1; a > d->axis; a--)
        step *= d->idx[a];
    const int64_t K = d->idx[d->axis], k = (int64_t)p / step % K, base = (int64_t)p - k * step,
                  j = aic_elements_pos(idx[p], d->data[d->axis]);
    float f = d->reduction == AIC_SCATTER_MUL ? x[*t] : 1;
    for (int64_t k2 = d->reduction == AIC_SCATTER_MUL ? 0 : k + 1; k2 < K; k2++)
        if (k2 != k && aic_elements_pos(idx[base + k2 * step], d->data[d->axis]) == j) {
            if (d->reduction != AIC_SCATTER_MUL)
                return 0;
            f *= upd[base + k2 * step];
        }
    return f;
}

/* OneHot's class of index position p: the int32 index, or the float one where it is an integer (others,
 * NaN included, name none: onnxruntime and ONNX's reference compare the float with each class), as a
 * position of depth; -1 outside -depth..depth-1. */
AIC_HD int64_t aic_one_hot_class(const int32_t *idx, const float *fidx, size_t p, int64_t depth) {
    int64_t v;
    if (idx) {
        v = idx[p];
    } else {
        const float f = fidx[p];
        if (!(f >= (float)-depth && f < (float)depth) || (float)(int64_t)f != f)
            return -1;
        v = (int64_t)f;
    }
    return v >= -depth && v < depth ? (v < 0 ? v + depth : v) : -1;
}

#endif
