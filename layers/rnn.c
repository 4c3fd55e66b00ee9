// SPDX-License-Identifier: Apache-2.0
/* LSTM and GRU (aic_rnn_dims): per direction one GEMM for every step's input part, then per step a
 * GEMM for the recurrent part and the cells (layers/rnn.h); backward walks the steps in reverse,
 * keeping every step's gate gradients so that the input's and W's gradients are one GEMM each. */
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/rnn.h"

#include <cblas.h>
#include <string.h>

/* The time of step s of direction dir. */
static int step_time(const aic_rnn_dims *d, int dir, int s) { return dir ? d->T - 1 - s : s; }

static aic_status rnn_check(const char *kernel, const aic_rnn_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->N < 0 || d->T <= 0 || d->C <= 0 || d->H <= 0 || (d->dirs != 1 && d->dirs != 2) ||
        (d->gates != 3 && d->gates != 4))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "N %d T %d C %d H %d dirs %d gates %d: N must not be "
                               "negative, T, C, H positive, dirs 1 or 2, gates 3 or 4", d->N, d->T, d->C, d->H,
                               d->dirs, d->gates);
    return AIC_OK;
}

aic_status aic_rnn_forward(const aic_rnn_dims *d, float *y, float *work, const float *x, const float *W,
                           const float *R, const float *B) {
    AIC_TRY(rnn_check(__func__, d));
    AIC_KERNEL_ARG(y && work && x && W && R && B, "y, work, x, W, R or B is NULL");
    const aic_rnn_work w = aic_rnn_work_of(d, work);
    const int N = w.N, T = w.T, H = w.H, C = d->C, GH = (int)w.GH, S = (int)w.S;
    const bool lstm = w.G == 4, lbr = d->linear_before_reset;
    /* GRU without linear_before_reset multiplies R_h by r * h, after r: the first GEMM stops at 2H */
    const int K1 = lstm || lbr ? GH : 2 * H;
    float *rec = w.dar; /* N x GH: free until backward */
    for (int dir = 0; dir < d->dirs; dir++) {
        float *st = w.state + (size_t)dir * N * T * w.S;
        const float *Wd = W + (size_t)dir * w.GH * C, *Rd = R + (size_t)dir * w.GH * H;
        const float *Wb = B + (size_t)dir * 2 * w.GH, *Rb = Wb + w.GH;
        for (size_t r = 0; r < (size_t)N * T; r++)
            memcpy(st + r * w.S, Wb, sizeof(float) * w.GH);
        if (N > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N * T, GH, C, 1.0f, x, C, Wd, C, 1.0f, st, S);
        for (int s = 0; s < T; s++) {
            const int t = step_time(d, dir, s), tp = s > 0 ? step_time(d, dir, s - 1) : 0;
            const float *hp = s > 0 ? y + (size_t)tp * w.DH + (size_t)dir * H : NULL; /* row n at n T DH */
            for (int n = 0; n < N; n++)
                memcpy(rec + (size_t)n * w.GH, Rb, sizeof(float) * w.GH);
            if (hp && N > 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, K1, H, 1.0f, hp, T * w.DH, Rd, H, 1.0f, rec,
                            GH);
            for (int n = 0; n < N; n++) {
                float *g = st + ((size_t)n * T + t) * w.S, *yo = y + ((size_t)n * T + t) * w.DH + (size_t)dir * H;
                const float *rn = rec + (size_t)n * w.GH, *gp = st + ((size_t)n * T + tp) * w.S;
                const float *hn = hp ? hp + (size_t)n * T * w.DH : NULL;
                for (int j = 0; j < H; j++) {
                    if (lstm)
                        yo[j] = aic_lstm_cell(g, rn, hp ? gp[4 * H + j] : 0.0f, H, j);
                    else
                        aic_gru_cell_zr(g, rn, hn ? hn[j] : 0.0f, lbr, H, j);
                }
            }
            if (lstm)
                continue;
            if (!lbr && hp && N > 0) /* rec's h part += (r * hp) R_h^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, H, 1.0f, st + (size_t)t * w.S + w.GH,
                            T * S, Rd + (size_t)2 * H * H, H, 1.0f, rec + 2 * H, GH);
            for (int n = 0; n < N; n++) {
                float *g = st + ((size_t)n * T + t) * w.S, *yo = y + ((size_t)n * T + t) * w.DH + (size_t)dir * H;
                const float *hn = hp ? hp + (size_t)n * T * w.DH : NULL;
                for (int j = 0; j < H; j++)
                    yo[j] = aic_gru_cell_h(g, rec + (size_t)n * w.GH, hn ? hn[j] : 0.0f, lbr, H, j);
            }
        }
    }
    return AIC_OK;
}

/* dst[j] += the sum over rows of src[r][j] (rows x cols, in row order, in double). */
static void column_sums_add(float *dst, const float *src, size_t rows, size_t cols) {
    enum { BLOCK = 256 };
    double sum[BLOCK];
    for (size_t c0 = 0; c0 < cols; c0 += BLOCK) {
        const size_t wd = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        for (size_t j = 0; j < wd; j++)
            sum[j] = 0.0;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < wd; j++)
                sum[j] += src[r * cols + c0 + j];
        for (size_t j = 0; j < wd; j++)
            dst[c0 + j] += (float)sum[j];
    }
}

aic_status aic_rnn_backward(const aic_rnn_dims *d, float *dx, float *dW, float *dR, float *dB, const float *dy,
                            const float *x, const float *y, const float *W, const float *R, float *work) {
    AIC_TRY(rnn_check(__func__, d));
    AIC_KERNEL_ARG(dW && dR && dB && dy && x && y && W && R && work, "dW, dR, dB, dy, x, y, W, R or work is NULL");
    const aic_rnn_work w = aic_rnn_work_of(d, work);
    const int N = w.N, T = w.T, H = w.H, C = d->C, GH = (int)w.GH, S = (int)w.S;
    const bool lstm = w.G == 4, lbr = d->linear_before_reset;
    const int K1 = lstm || lbr ? GH : 2 * H;
    if (N == 0)
        return AIC_OK;
    for (int dir = 0; dir < d->dirs; dir++) {
        const float *st = w.state + (size_t)dir * N * T * w.S;
        const float *Wd = W + (size_t)dir * w.GH * C, *Rd = R + (size_t)dir * w.GH * H;
        float *dWd = dW + (size_t)dir * w.GH * C, *dRd = dR + (size_t)dir * w.GH * H;
        memset(w.dh, 0, sizeof(float) * (size_t)N * H);
        memset(w.dc, 0, sizeof(float) * (size_t)N * H);
        for (int s = T - 1; s >= 0; s--) {
            const int t = step_time(d, dir, s), tp = s > 0 ? step_time(d, dir, s - 1) : 0;
            const float *hp = s > 0 ? y + (size_t)tp * w.DH + (size_t)dir * H : NULL;
            float *da_t = w.da + (size_t)t * w.GH, *dar_t = w.dar + (size_t)t * w.GH; /* row n at n T GH */
            for (int n = 0; n < N; n++) {
                const float *g = st + ((size_t)n * T + t) * w.S, *gp = st + ((size_t)n * T + tp) * w.S;
                const float *dyn = dy + ((size_t)n * T + t) * w.DH + (size_t)dir * H;
                const float *hn = hp ? hp + (size_t)n * T * w.DH : NULL;
                float *dan = da_t + (size_t)n * T * w.GH, *darn = dar_t + (size_t)n * T * w.GH;
                float *dhn = w.dh + (size_t)n * H;
                for (int j = 0; j < H; j++) {
                    const float dh = dyn[j] + dhn[j];
                    if (lstm) {
                        aic_lstm_cell_back(g, hp ? gp[4 * H + j] : 0.0f, dh, &w.dc[(size_t)n * H + j], dan, H, j);
                        dhn[j] = 0.0f;
                    } else {
                        dhn[j] = aic_gru_cell_back(g, hn ? hn[j] : 0.0f, dh, lbr, dan, darn, H, j);
                    }
                }
            }
            if (!lstm && !lbr) {
                /* dq = dah R_h: what reaches R_h's input r * hp (nothing from a zero hp) */
                if (hp)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, H, 1.0f, dar_t + 2 * H, T * GH,
                                Rd + (size_t)2 * H * H, H, 0.0f, w.dq, H);
                else
                    memset(w.dq, 0, sizeof(float) * (size_t)N * H);
                for (int n = 0; n < N; n++) {
                    const float *g = st + ((size_t)n * T + t) * w.S, *hn = hp ? hp + (size_t)n * T * w.DH : NULL;
                    float *dan = da_t + (size_t)n * T * w.GH, *darn = dar_t + (size_t)n * T * w.GH;
                    for (int j = 0; j < H; j++)
                        w.dh[(size_t)n * H + j] +=
                            aic_gru_cell_back_r(g, hn ? hn[j] : 0.0f, w.dq[(size_t)n * H + j], dan, darn, H, j);
                }
            }
            if (!hp)
                continue;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, K1, 1.0f, dar_t, T * GH, Rd, H, 1.0f, w.dh,
                        H);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K1, H, N, 1.0f, dar_t, T * GH, hp, T * w.DH, 1.0f,
                        dRd, H);
            if (!lstm && !lbr) /* R_h's gradient against its input r * hp */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, N, 1.0f, dar_t + 2 * H, T * GH,
                            st + (size_t)t * w.S + w.GH, T * S, 1.0f, dRd + (size_t)2 * H * H, H);
        }
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N * T, C, GH, 1.0f, w.da, GH, Wd, C, 1.0f, dx, C);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, C, N * T, 1.0f, w.da, GH, x, C, 1.0f, dWd, C);
        column_sums_add(dB + (size_t)dir * 2 * w.GH, w.da, (size_t)N * T, w.GH);
        column_sums_add(dB + (size_t)dir * 2 * w.GH + w.GH, w.dar, (size_t)N * T, w.GH);
    }
    return AIC_OK;
}
