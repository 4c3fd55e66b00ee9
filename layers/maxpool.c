#include "layers/layers.h"

#include <math.h>

// One plane of 2x2 windows at stride 2, all inside the input (no padding, no ceil-mode overhang):
// the general rule below without bounds or branches, so the compiler can use selects.
static void maxpool_2x2(float *y, int32_t *am, const float *x, int W, int OH, int OW) {
    // y, am: OH x OW; x: H x W
    for (int oh = 0; oh < OH; oh++) {
        const float *r0 = x + (size_t)2 * oh * W, *r1 = r0 + W; // the window's two input rows
        for (int ow = 0; ow < OW; ow++) {
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
}

void aic_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool2d_dims *d) {
    // out, argmax: N x C x OH x OW; inp: N x C x H x W
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
}

void aic_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool2d_dims *d) {
    // dinp: N x C x H x W; dout, argmax: N x C x OH x OW
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
}
