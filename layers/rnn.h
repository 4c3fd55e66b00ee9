// SPDX-License-Identifier: Apache-2.0
/* The LSTM and GRU cells' formulas (ONNX's equations), one hidden unit j of one sample at one step,
 * written once for the CPU (rnn.c) and CUDA (rnn_cuda.cu) kernels. g is the step's saved row: the G
 * gates' activations (H each, in ONNX's order), then one more H: LSTM's cell state, GRU's input to
 * R_h (linear_before_reset: R_h h + Rb_h, else r * h). rec holds the step's recurrent pre-activations
 * (R h + Rb); the gates' input parts (W x + Wb) are in g before the cell runs. */
#ifndef AICON_LAYERS_RNN_H
#define AICON_LAYERS_RNN_H

#include <math.h>
#include <stdbool.h>

#include "layers/host_device.h"
#include "layers/layers.h"

AIC_HD float aic_rnn_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

/* LSTM: the gates and C from cprev; returns h. */
AIC_HD float aic_lstm_cell(float *g, const float *rec, float cprev, int H, int j) {
    const float i = aic_rnn_sigmoid(g[j] + rec[j]), o = aic_rnn_sigmoid(g[H + j] + rec[H + j]);
    const float f = aic_rnn_sigmoid(g[2 * H + j] + rec[2 * H + j]), c = tanhf(g[3 * H + j] + rec[3 * H + j]);
    const float C = f * cprev + i * c;
    g[j] = i;
    g[H + j] = o;
    g[2 * H + j] = f;
    g[3 * H + j] = c;
    g[4 * H + j] = C;
    return o * tanhf(C);
}

/* LSTM backward: dh reaches h, *dc C (from the next step) and is replaced by what reaches cprev; da
 * gets the gates' pre-activation gradients. */
AIC_HD void aic_lstm_cell_back(const float *g, float cprev, float dh, float *dc, float *da, int H, int j) {
    const float i = g[j], o = g[H + j], f = g[2 * H + j], c = g[3 * H + j], tC = tanhf(g[4 * H + j]);
    const float dC = *dc + dh * o * (1.0f - tC * tC);
    da[j] = dC * c * i * (1.0f - i);
    da[H + j] = dh * tC * o * (1.0f - o);
    da[2 * H + j] = dC * cprev * f * (1.0f - f);
    da[3 * H + j] = dC * i * (1.0f - c * c);
    *dc = dC * f;
}

/* GRU, first half: z and r; without linear_before_reset also R_h's input r * hp. */
AIC_HD void aic_gru_cell_zr(float *g, const float *rec, float hp, bool lbr, int H, int j) {
    const float r = aic_rnn_sigmoid(g[H + j] + rec[H + j]);
    g[j] = aic_rnn_sigmoid(g[j] + rec[j]);
    g[H + j] = r;
    if (!lbr)
        g[3 * H + j] = r * hp;
}

/* GRU, second half (rec's h part holds R_h's product with its input, plus Rb_h): returns h. */
AIC_HD float aic_gru_cell_h(float *g, const float *rec, float hp, bool lbr, int H, int j) {
    const float z = g[j], r = g[H + j], e = rec[2 * H + j];
    const float c = tanhf(g[2 * H + j] + (lbr ? r * e : e));
    g[2 * H + j] = c;
    if (lbr)
        g[3 * H + j] = e;
    return (1.0f - z) * c + z * hp;
}

/* GRU backward, first half: dh reaches h; da and dar get z's and h's pre-activation gradients (dar:
 * as R's product sees them), with linear_before_reset r's too; returns what reaches hp directly. */
AIC_HD float aic_gru_cell_back(const float *g, float hp, float dh, bool lbr, float *da, float *dar, int H, int j) {
    const float z = g[j], r = g[H + j], c = g[2 * H + j];
    const float daz = dh * (hp - c) * z * (1.0f - z), dah = dh * (1.0f - z) * (1.0f - c * c);
    da[j] = dar[j] = daz;
    da[2 * H + j] = dah;
    dar[2 * H + j] = lbr ? dah * r : dah;
    if (lbr)
        da[H + j] = dar[H + j] = dah * g[3 * H + j] * r * (1.0f - r);
    return dh * z;
}

/* GRU backward without linear_before_reset, second half: dq reaches R_h's input r * hp; sets r's
 * pre-activation gradient and returns what reaches hp through it. */
AIC_HD float aic_gru_cell_back_r(const float *g, float hp, float dq, float *da, float *dar, int H, int j) {
    const float r = g[H + j];
    da[H + j] = dar[H + j] = dq * hp * r * (1.0f - r);
    return dq * r;
}

/* The work memory (aic_rnn_work_per_sample) of n samples, and the strides of one direction: where
 * the C and the CUDA kernels keep what forward saves and backward needs. */
typedef struct {
    int N, T, H, G, DH; /* DH: y's values per step */
    size_t GH, S;       /* gates' values per step; saved row per step (GH + H) */
    float *state;       /* dirs x N x T x S: the saved rows */
    float *da, *dar;    /* N x T x GH: pre-activation gradients as W and as R see them (the same for LSTM) */
    float *dh, *dc, *dq; /* N x H each: what reaches the previous step's h, C, and R_h's input */
} aic_rnn_work;

static inline aic_rnn_work aic_rnn_work_of(const aic_rnn_dims *d, float *work) {
    aic_rnn_work w;
    const size_t NT = (size_t)d->N * (size_t)d->T;
    w.N = d->N;
    w.T = d->T;
    w.H = d->H;
    w.G = d->gates;
    w.DH = d->dirs * d->H;
    w.GH = (size_t)d->gates * (size_t)d->H;
    w.S = w.GH + (size_t)d->H;
    w.state = work;
    w.da = work + (size_t)d->dirs * NT * w.S;
    w.dar = d->gates == 4 ? w.da : w.da + NT * w.GH;
    w.dh = w.da + 2 * NT * w.GH;
    w.dc = w.dh + (size_t)d->N * (size_t)d->H;
    w.dq = w.dc + (size_t)d->N * (size_t)d->H;
    return w;
}

#endif
