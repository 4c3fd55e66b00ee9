// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include <math.h>

// Windows [ow0, ow1) of output row oh of a plane of 2x2 windows at stride 2: the rule of the general
// loop below without its bounds and branches, so the compiler can vectorize it with selects.
static inline void maxpool_2x2_row(float *y, int32_t *am, const float *x, int W, int OW, int oh, int ow0,
                                   int ow1) {
    // y, am: OH x OW; x: H x W
    const float *r0 = x + (size_t)2 * oh * W, *r1 = r0 + W; // the windows' two input rows
    for (int ow = ow0; ow < ow1; ow++) {
        const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
        float best = v[0];
        int k = 0;
        for (int j = 1; j < 4; j++) {
            int take = v[j] > best || (v[j] != v[j] && best == best);
            best = take ? v[j] : best;
            k = take ? j : k;
        }
        y[(size_t)oh * OW + ow] = best;
        am[(size_t)oh * OW + ow] = (2 * oh + k / 2) * W + 2 * ow + k % 2;
    }
}

// One plane of 2x2 windows at stride 2, all inside the input (no padding, no ceil-mode overhang).
// Vector code needs whole groups of four windows: the last group of a row ends at OW and overlaps the
// one before, whose windows it writes again with the same values (no slow scalar remainder).
static void maxpool_2x2(float *y, int32_t *am, const float *x, int W, int OH, int OW) {
    // y, am: OH x OW; x: H x W
    const int body = OW - OW % 4;
    for (int oh = 0; oh < OH; oh++) {
        maxpool_2x2_row(y, am, x, W, OW, oh, 0, body);
        if (body < OW)
            maxpool_2x2_row(y, am, x, W, OW, oh, body > 0 ? OW - 4 : 0, OW);
    }
}

aic_status aic_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool2d_dims *d) {
    // out, argmax: N x C x OH x OW; inp: N x C x H x W
    AIC_TRY(aic_pool2d_check(__func__, d));
    AIC_KERNEL_ARG(out && argmax && inp, "out, argmax or inp is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W, P = (size_t)d->OH * d->OW;
    const int fast = d->KH == 2 && d->KW == 2 && d->SH == 2 && d->SW == 2 && d->PH == 0 && d->PW == 0 &&
                     2 * d->OH <= d->H && 2 * d->OW <= d->W;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *x = inp + pl * HW; // H x W
        float *y = out + pl * P;        // OH x OW
        int32_t *am = argmax + pl * P;  // OH x OW
        if (fast) {
            maxpool_2x2(y, am, x, d->W, d->OH, d->OW);
            continue;
        }
        for (int oh = 0; oh < d->OH; oh++) {
            // padding is -inf: it never wins, so only the in-bounds part of the window is visited
            int h0 = oh * d->SH - d->PH;
            int hs = h0 < 0 ? 0 : h0, he = h0 + d->KH < d->H ? h0 + d->KH : d->H;
            for (int ow = 0; ow < d->OW; ow++) {
                int w0 = ow * d->SW - d->PW;
                int ws = w0 < 0 ? 0 : w0, we = w0 + d->KW < d->W ? w0 + d->KW : d->W;
                float best = -INFINITY;
                int32_t idx = -1;
                for (int ih = hs; ih < he; ih++) {
                    for (int iw = ws; iw < we; iw++) {
                        float v = x[ih * d->W + iw];
                        // strict > keeps the first of equal maxima; a NaN wins (and stays) as in
                        // PyTorch, so a diverging run shows it
                        if (idx < 0 || v > best || (isnan(v) && !isnan(best))) {
                            best = v;
                            idx = ih * d->W + iw;
                        }
                    }
                }
                y[(size_t)oh * d->OW + ow] = best;
                am[(size_t)oh * d->OW + ow] = idx;
            }
        }
    }
    return AIC_OK;
}

aic_status aic_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool2d_dims *d) {
    // dinp: N x C x H x W; dout, argmax: N x C x OH x OW
    AIC_TRY(aic_pool2d_check(__func__, d));
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout && argmax, "dout or argmax is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W, P = (size_t)d->OH * d->OW;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dx = dinp + pl * HW;
        const float *dy = dout + pl * P;
        const int32_t *am = argmax + pl * P;
        for (size_t p = 0; p < P; p++) {
            if (am[p] >= 0) // -1: a window wholly in the padding, which has no input to route to
                dx[am[p]] += dy[p];
        }
    }
    return AIC_OK;
}
