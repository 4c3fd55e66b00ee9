// SPDX-License-Identifier: Apache-2.0
/* 3-D convolution and pooling (N x C x D x H x W), one element of a result at a time: each formula
 * below is the whole sum for one output, input-gradient or weight-gradient element, in a fixed order.
 * The CPU kernels (conv3d.c, pool3d.c) loop over the elements and the CUDA ones (conv3d_cuda.cu,
 * pool3d_cuda.cu) give each its thread, so both backends agree, and backward gathers instead of
 * scattering: no atomics, the same sums every run. */
#ifndef AICON_LAYERS_WINDOW3D_H
#define AICON_LAYERS_WINDOW3D_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/host_device.h"
#include "layers/layers.h"

/* Splits flat index i of a ... x e[0] x e[1] x e[2] array into the three last coordinates (c) and
 * what lies in front of them (returned). */
AIC_HD size_t aic_w3_split(size_t i, const int e[3], int c[3]) {
    for (int a = 2; a >= 0; a--) {
        c[a] = (int)(i % (size_t)e[a]);
        i /= (size_t)e[a];
    }
    return i;
}

AIC_HD size_t aic_w3_volume(const int e[3]) { return (size_t)e[0] * (size_t)e[1] * (size_t)e[2]; }

/* Along one axis, the output o whose window (start o s - p, taps at dilation dl) reads input position x
 * at tap t: o s - p + t dl == x. -1 where none does (the stride does not divide the distance, or o
 * falls outside 0..out-1). */
AIC_HD int aic_w3_tap_out(int x, int t, int s, int p, int dl, int out) {
    const int r = x + p - t * dl;
    return r < 0 || r % s || r / s >= out ? -1 : r / s;
}

/* ---- convolution ---- */

/* Output element i (N x OC x out): bias plus the window's products over the group's channels. */
AIC_HD float aic_conv3d_out(const aic_conv3d_dims *d, const float *inp, const float *w, const float *bias, size_t i) {
    int o[3];
    const size_t r = aic_w3_split(i, d->out, o);
    const int oc = (int)(r % (size_t)d->OC), n = (int)(r / (size_t)d->OC), cg = d->C / d->G;
    const int c0 = oc / (d->OC / d->G) * cg;
    float sum = bias ? bias[oc] : 0.0f;
    for (int c = 0; c < cg; c++) {
        const float *x = inp + ((size_t)n * d->C + c0 + c) * aic_w3_volume(d->in);
        const float *wk = w + ((size_t)oc * cg + c) * aic_w3_volume(d->k);
        for (int kd = 0; kd < d->k[0]; kd++) {
            const int id = o[0] * d->s[0] - d->p[0] + kd * d->dil[0];
            if (id < 0 || id >= d->in[0])
                continue;
            for (int kh = 0; kh < d->k[1]; kh++) {
                const int ih = o[1] * d->s[1] - d->p[1] + kh * d->dil[1];
                if (ih < 0 || ih >= d->in[1])
                    continue;
                for (int kw = 0; kw < d->k[2]; kw++) {
                    const int iw = o[2] * d->s[2] - d->p[2] + kw * d->dil[2];
                    if (iw >= 0 && iw < d->in[2])
                        sum += x[((size_t)id * d->in[1] + ih) * d->in[2] + iw] *
                               wk[((size_t)kd * d->k[1] + kh) * d->k[2] + kw];
                }
            }
        }
    }
    return sum;
}

/* Input-gradient element i (N x C x in): the output gradients of every window tap that read it. */
AIC_HD float aic_conv3d_dinp(const aic_conv3d_dims *d, const float *dout, const float *w, size_t i) {
    int x[3];
    const size_t r = aic_w3_split(i, d->in, x);
    const int c = (int)(r % (size_t)d->C), n = (int)(r / (size_t)d->C), cg = d->C / d->G, ocg = d->OC / d->G;
    const int g = c / cg;
    float sum = 0.0f;
    for (int oc = g * ocg; oc < (g + 1) * ocg; oc++) {
        const float *dy = dout + ((size_t)n * d->OC + oc) * aic_w3_volume(d->out);
        const float *wk = w + ((size_t)oc * cg + c % cg) * aic_w3_volume(d->k);
        for (int kd = 0; kd < d->k[0]; kd++) {
            const int od = aic_w3_tap_out(x[0], kd, d->s[0], d->p[0], d->dil[0], d->out[0]);
            if (od < 0)
                continue;
            for (int kh = 0; kh < d->k[1]; kh++) {
                const int oh = aic_w3_tap_out(x[1], kh, d->s[1], d->p[1], d->dil[1], d->out[1]);
                if (oh < 0)
                    continue;
                for (int kw = 0; kw < d->k[2]; kw++) {
                    const int ow = aic_w3_tap_out(x[2], kw, d->s[2], d->p[2], d->dil[2], d->out[2]);
                    if (ow >= 0)
                        sum += dy[((size_t)od * d->out[1] + oh) * d->out[2] + ow] *
                               wk[((size_t)kd * d->k[1] + kh) * d->k[2] + kw];
                }
            }
        }
    }
    return sum;
}

/* Weight-gradient element i (OC x C/G x k): over the batch and the outputs, the output gradient times
 * the input that tap read. */
AIC_HD float aic_conv3d_dweight(const aic_conv3d_dims *d, const float *dout, const float *inp, size_t i) {
    int t[3];
    const size_t r = aic_w3_split(i, d->k, t);
    const int cg = d->C / d->G, c = (int)(r % (size_t)cg), oc = (int)(r / (size_t)cg);
    const int ci = oc / (d->OC / d->G) * cg + c;
    float sum = 0.0f;
    for (int n = 0; n < d->N; n++) {
        const float *dy = dout + ((size_t)n * d->OC + oc) * aic_w3_volume(d->out);
        const float *x = inp + ((size_t)n * d->C + ci) * aic_w3_volume(d->in);
        for (int od = 0; od < d->out[0]; od++) {
            const int id = od * d->s[0] - d->p[0] + t[0] * d->dil[0];
            if (id < 0 || id >= d->in[0])
                continue;
            for (int oh = 0; oh < d->out[1]; oh++) {
                const int ih = oh * d->s[1] - d->p[1] + t[1] * d->dil[1];
                if (ih < 0 || ih >= d->in[1])
                    continue;
                for (int ow = 0; ow < d->out[2]; ow++) {
                    const int iw = ow * d->s[2] - d->p[2] + t[2] * d->dil[2];
                    if (iw >= 0 && iw < d->in[2])
                        sum += dy[((size_t)od * d->out[1] + oh) * d->out[2] + ow] *
                               x[((size_t)id * d->in[1] + ih) * d->in[2] + iw];
                }
            }
        }
    }
    return sum;
}

/* Bias-gradient element oc: the output gradient summed over the batch and the outputs. */
AIC_HD float aic_conv3d_dbias(const aic_conv3d_dims *d, const float *dout, int oc) {
    const size_t vol = aic_w3_volume(d->out);
    float sum = 0.0f;
    for (int n = 0; n < d->N; n++)
        for (size_t j = 0; j < vol; j++)
            sum += dout[((size_t)n * d->OC + oc) * vol + j];
    return sum;
}

/* ---- pooling ---- */

/* One axis of output o's window: the in-bounds inputs [*s, *e), and the extent PyTorch divides by
 * under count_include_pad (the window clipped to the padded input, as avgpool.c's avg_span). */
AIC_HD int aic_w3_span(int o, int k, int s, int p, int size, int *lo, int *hi) {
    const int start = o * s - p, end = start + k < size + p ? start + k : size + p;
    *lo = start < 0 ? 0 : start;
    *hi = end < size ? end : size;
    return end - start;
}

/* Output element i's window (N x C x out) in bounds, returned in lo, hi, and what its average divides
 * by: the in-bounds count, or the clipped padded window under count_include_pad; 0 where no input lies
 * under the window. */
AIC_HD int aic_pool3d_window(const aic_pool3d_dims *d, const int o[3], int lo[3], int hi[3]) {
    int padded = 1, inside = 1;
    for (int a = 0; a < 3; a++) {
        padded *= aic_w3_span(o[a], d->k[a], d->s[a], d->p[a], d->in[a], &lo[a], &hi[a]);
        inside *= hi[a] > lo[a] ? hi[a] - lo[a] : 0;
    }
    return inside == 0 ? 0 : d->count_include_pad ? padded : inside;
}

/* Max-pooling output i: the maximum (NaN wins; the first on ties) and its index in the sample's
 * channel volume, -1 (and -inf) for a window wholly in the padding. */
AIC_HD float aic_maxpool3d_out(const aic_pool3d_dims *d, const float *inp, size_t i, int32_t *argmax) {
    int o[3], lo[3], hi[3];
    const size_t plane = aic_w3_split(i, d->out, o);
    aic_pool3d_window(d, o, lo, hi);
    const float *x = inp + plane * aic_w3_volume(d->in);
    float best = -INFINITY;
    int32_t idx = -1;
    for (int a = lo[0]; a < hi[0]; a++)
        for (int b = lo[1]; b < hi[1]; b++)
            for (int c = lo[2]; c < hi[2]; c++) {
                const int32_t j = (a * d->in[1] + b) * d->in[2] + c;
                const float v = x[j];
                if (idx < 0 || v > best || (v != v && best == best)) {
                    best = v;
                    idx = j;
                }
            }
    *argmax = idx;
    return best;
}

/* Average-pooling output i. */
AIC_HD float aic_avgpool3d_out(const aic_pool3d_dims *d, const float *inp, size_t i) {
    int o[3], lo[3], hi[3];
    const size_t plane = aic_w3_split(i, d->out, o);
    const int count = aic_pool3d_window(d, o, lo, hi);
    if (!count)
        return 0.0f;
    const float *x = inp + plane * aic_w3_volume(d->in);
    float sum = 0.0f;
    for (int a = lo[0]; a < hi[0]; a++)
        for (int b = lo[1]; b < hi[1]; b++)
            for (int c = lo[2]; c < hi[2]; c++)
                sum += x[((size_t)a * d->in[1] + b) * d->in[2] + c];
    return sum / (float)count;
}

/* Input-gradient element i (N x C x in) of pooling: over the windows that hold it (their outputs in
 * [lo, hi) per axis), the output gradient where it was the maximum (argmax given) or divided by the
 * window's count (argmax NULL: average). */
AIC_HD float aic_pool3d_dinp(const aic_pool3d_dims *d, const float *dout, const int32_t *argmax, size_t i) {
    int x[3], lo[3], hi[3];
    const size_t plane = aic_w3_split(i, d->in, x);
    const int32_t self = (int32_t)(i - plane * aic_w3_volume(d->in));
    for (int a = 0; a < 3; a++) {
        const int first = x[a] + d->p[a] - d->k[a] + 1; /* the window starting there ends at x */
        lo[a] = first <= 0 ? 0 : (first + d->s[a] - 1) / d->s[a];
        hi[a] = (x[a] + d->p[a]) / d->s[a] + 1;
        hi[a] = hi[a] < d->out[a] ? hi[a] : d->out[a];
    }
    const size_t base = plane * aic_w3_volume(d->out);
    float sum = 0.0f;
    for (int a = lo[0]; a < hi[0]; a++)
        for (int b = lo[1]; b < hi[1]; b++)
            for (int c = lo[2]; c < hi[2]; c++) {
                const size_t j = base + ((size_t)a * d->out[1] + b) * d->out[2] + c;
                if (argmax) {
                    if (argmax[j] == self)
                        sum += dout[j];
                    continue;
                }
                const int o[3] = {a, b, c};
                int wl[3], wh[3];
                const int count = aic_pool3d_window(d, o, wl, wh);
                if (count)
                    sum += dout[j] / (float)count;
            }
    return sum;
}

#endif
