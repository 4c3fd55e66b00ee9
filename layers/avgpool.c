// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

// The in-bounds rows [*s, *e) of output row o's window, and the extent PyTorch divides by under
// count_include_pad: the window clipped to the padded input (ceil-mode windows can run past it).
static void avg_span(int o, int K, int S, int P, int size, int *s, int *e, int *padded) {
    int start = o * S - P;
    int end = start + K < size + P ? start + K : size + P;
    *padded = end - start;
    *s = start < 0 ? 0 : start;
    *e = end < size ? end : size;
}

// The in-bounds window [*hs, *he) x [*ws, *we) of output (oh, ow), and what its sum is divided by: the
// in-bounds count, or under count_include_pad the window clipped to the padded input. 0: no input
// lies under the window (its output is 0, as in PyTorch).
static int avg_window(const aic_pool2d_dims *d, int oh, int ow, int *hs, int *he, int *ws, int *we) {
    int hp, wp;
    avg_span(oh, d->KH, d->SH, d->PH, d->H, hs, he, &hp);
    avg_span(ow, d->KW, d->SW, d->PW, d->W, ws, we, &wp);
    if (*hs >= *he || *ws >= *we)
        return 0;
    return d->count_include_pad ? hp * wp : (*he - *hs) * (*we - *ws);
}

aic_status aic_avgpool2d_forward(float *out, const float *inp, const aic_pool2d_dims *d) {
    // out: N x C x OH x OW; inp: N x C x H x W
    AIC_TRY(aic_pool2d_check(__func__, d));
    AIC_KERNEL_ARG(out && inp, "out or inp is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W, P = (size_t)d->OH * d->OW;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *x = inp + pl * HW; // H x W
        float *y = out + pl * P;        // OH x OW
        for (int oh = 0; oh < d->OH; oh++)
            for (int ow = 0; ow < d->OW; ow++) {
                int hs, he, ws, we;
                const int count = avg_window(d, oh, ow, &hs, &he, &ws, &we);
                float sum = 0.0f;
                for (int ih = hs; ih < he; ih++)
                    for (int iw = ws; iw < we; iw++)
                        sum += x[ih * d->W + iw];
                y[(size_t)oh * d->OW + ow] = count ? sum / (float)count : 0.0f;
            }
    }
    return AIC_OK;
}

aic_status aic_avgpool2d_backward(float *dinp, const float *dout, const aic_pool2d_dims *d) {
    // dinp: N x C x H x W; dout: N x C x OH x OW
    AIC_TRY(aic_pool2d_check(__func__, d));
    if (!dinp)
        return AIC_OK;
    AIC_KERNEL_ARG(dout, "dout is NULL");
    const size_t planes = (size_t)d->N * d->C, HW = (size_t)d->H * d->W, P = (size_t)d->OH * d->OW;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dx = dinp + pl * HW;      // H x W
        const float *dy = dout + pl * P; // OH x OW
        for (int oh = 0; oh < d->OH; oh++)
            for (int ow = 0; ow < d->OW; ow++) {
                int hs, he, ws, we;
                const int count = avg_window(d, oh, ow, &hs, &he, &ws, &we);
                if (!count)
                    continue;
                float g = dy[(size_t)oh * d->OW + ow] / (float)count;
                for (int ih = hs; ih < he; ih++)
                    for (int iw = ws; iw < we; iw++)
                        dx[ih * d->W + iw] += g;
            }
    }
    return AIC_OK;
}
