// SPDX-License-Identifier: Apache-2.0
// LSTM and GRU on CUDA: rnn.c's steps and work layout, its GEMMs on cuBLAS (a row-major product
// C = A B is the column-major C^T = B^T A^T) and its cells (layers/rnn.h) one thread per hidden unit
// and sample. The bias gradients are column sums, one thread per column, rows in order.
#include "layers/cuda_common.cuh"
#include "layers/rnn.h"

namespace {

int step_time(const aic_rnn_dims *d, int dir, int s) { return dir ? d->T - 1 - s : s; }

// Row-major C (M x N) = A (M x K, or its transpose) B (K x N, or its transpose) + beta C.
aic_status gemm(bool ta, bool tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc) {
    const float one = 1.0f;
    return AIC_CUBLAS(cublasSgemm(aic_cuda.blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N,
                                  M, K, &one, B, ldb, A, lda, &beta, C, ldc));
}

// rows rows of dst (leading dimension ld) = src (cols)
__global__ void rows_fill_k(float *dst, size_t ld, const float *src, size_t rows, size_t cols) {
    AIC_GRID_STRIDE(i, rows * cols) dst[(i / cols) * ld + i % cols] = src[i % cols];
}

// The cells of step t (previous step tp, none when has_prev is false); thread i: sample i / H, unit i % H.
struct step_args {
    float *st, *y;
    const float *rec;
    int N, T, H, DH, dir, t, tp;
    size_t GH, S;
    bool has_prev, lbr;
};

__device__ float *row_g(const step_args &a, int n, int t) { return a.st + ((size_t)n * a.T + t) * a.S; }
__device__ float *row_y(const step_args &a, int n, int t) {
    return a.y + ((size_t)n * a.T + t) * a.DH + (size_t)a.dir * a.H;
}
__device__ float prev_h(const step_args &a, int n, int j) { return a.has_prev ? row_y(a, n, a.tp)[j] : 0.0f; }

__global__ void lstm_fwd_k(step_args a) {
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        const float cprev = a.has_prev ? row_g(a, n, a.tp)[4 * a.H + j] : 0.0f;
        row_y(a, n, a.t)[j] = aic_lstm_cell(row_g(a, n, a.t), a.rec + (size_t)n * a.GH, cprev, a.H, j);
    }
}

__global__ void gru_zr_k(step_args a) {
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        aic_gru_cell_zr(row_g(a, n, a.t), a.rec + (size_t)n * a.GH, prev_h(a, n, j), a.lbr, a.H, j);
    }
}

__global__ void gru_h_k(step_args a) {
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        row_y(a, n, a.t)[j] = aic_gru_cell_h(row_g(a, n, a.t), a.rec + (size_t)n * a.GH, prev_h(a, n, j), a.lbr, a.H, j);
    }
}

// Backward of step t: dy, the carried dh (and dc), the gate gradients da, dar (rows n T GH apart).
struct back_args {
    step_args s;
    const float *dy;
    float *da, *dar, *dh, *dc, *dq;
};

__global__ void lstm_bwd_k(back_args b) {
    const step_args &a = b.s;
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        const float cprev = a.has_prev ? row_g(a, n, a.tp)[4 * a.H + j] : 0.0f;
        const float dh = b.dy[((size_t)n * a.T + a.t) * a.DH + (size_t)a.dir * a.H + j] + b.dh[i];
        aic_lstm_cell_back(row_g(a, n, a.t), cprev, dh, &b.dc[i], b.da + ((size_t)n * a.T + a.t) * a.GH, a.H, j);
        b.dh[i] = 0.0f;
    }
}

__global__ void gru_bwd_k(back_args b) {
    const step_args &a = b.s;
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        const size_t r = ((size_t)n * a.T + a.t) * a.GH;
        const float dh = b.dy[((size_t)n * a.T + a.t) * a.DH + (size_t)a.dir * a.H + j] + b.dh[i];
        b.dh[i] = aic_gru_cell_back(row_g(a, n, a.t), prev_h(a, n, j), dh, a.lbr, b.da + r, b.dar + r, a.H, j);
    }
}

__global__ void gru_bwd_r_k(back_args b) {
    const step_args &a = b.s;
    AIC_GRID_STRIDE(i, (size_t)a.N * a.H) {
        const int n = (int)(i / a.H), j = (int)(i % a.H);
        const size_t r = ((size_t)n * a.T + a.t) * a.GH;
        b.dh[i] += aic_gru_cell_back_r(row_g(a, n, a.t), prev_h(a, n, j), b.dq[i], b.da + r, b.dar + r, a.H, j);
    }
}

// dst[j] += the sum over rows of src[r][j], in row order, in double
__global__ void column_sums_k(float *dst, const float *src, size_t rows, size_t cols) {
    AIC_GRID_STRIDE(j, cols) {
        double s = 0.0;
        for (size_t r = 0; r < rows; r++)
            s += src[r * cols + j];
        dst[j] += (float)s;
    }
}

} // namespace

extern "C" aic_status aic_cuda_rnn_forward(const aic_rnn_dims *d, float *y, float *work, const float *x,
                                           const float *W, const float *R, const float *B) {
    if (d->N == 0)
        return AIC_OK;
    const aic_rnn_work w = aic_rnn_work_of(d, work);
    const int N = w.N, T = w.T, H = w.H, C = d->C, GH = (int)w.GH, S = (int)w.S;
    const bool lstm = w.G == 4, lbr = d->linear_before_reset;
    const int K1 = lstm || lbr ? GH : 2 * H;
    float *rec = w.dar;
    const size_t NH = (size_t)N * H;
    for (int dir = 0; dir < d->dirs; dir++) {
        float *st = w.state + (size_t)dir * N * T * w.S;
        const float *Wd = W + (size_t)dir * w.GH * C, *Rd = R + (size_t)dir * w.GH * H;
        const float *Wb = B + (size_t)dir * 2 * w.GH, *Rb = Wb + w.GH;
        AIC_TRY(AIC_LAUNCH_N((size_t)N * T * w.GH, rows_fill_k, st, w.S, Wb, (size_t)N * T, w.GH));
        AIC_TRY(gemm(false, true, N * T, GH, C, x, C, Wd, C, 1.0f, st, S));
        for (int s = 0; s < T; s++) {
            step_args a = {st, y, rec, N, T, H, w.DH, dir, step_time(d, dir, s), s > 0 ? step_time(d, dir, s - 1) : 0,
                           w.GH, w.S, s > 0, lbr};
            const float *hp = y + (size_t)a.tp * w.DH + (size_t)dir * H;
            AIC_TRY(AIC_LAUNCH_N((size_t)N * w.GH, rows_fill_k, rec, w.GH, Rb, (size_t)N, w.GH));
            if (a.has_prev)
                AIC_TRY(gemm(false, true, N, K1, H, hp, T * w.DH, Rd, H, 1.0f, rec, GH));
            if (lstm) {
                AIC_TRY(AIC_LAUNCH_N(NH, lstm_fwd_k, a));
                continue;
            }
            AIC_TRY(AIC_LAUNCH_N(NH, gru_zr_k, a));
            if (!lbr && a.has_prev) // rec's h part += (r * hp) R_h^T
                AIC_TRY(gemm(false, true, N, H, H, st + (size_t)a.t * w.S + w.GH, T * S, Rd + (size_t)2 * H * H, H,
                             1.0f, rec + 2 * H, GH));
            AIC_TRY(AIC_LAUNCH_N(NH, gru_h_k, a));
        }
    }
    return AIC_OK;
}

extern "C" aic_status aic_cuda_rnn_backward(const aic_rnn_dims *d, float *dx, float *dW, float *dR, float *dB,
                                            const float *dy, const float *x, const float *y, const float *W,
                                            const float *R, float *work) {
    if (d->N == 0)
        return AIC_OK;
    const aic_rnn_work w = aic_rnn_work_of(d, work);
    const int N = w.N, T = w.T, H = w.H, C = d->C, GH = (int)w.GH, S = (int)w.S;
    const bool lstm = w.G == 4, lbr = d->linear_before_reset;
    const int K1 = lstm || lbr ? GH : 2 * H;
    const size_t NH = (size_t)N * H;
    for (int dir = 0; dir < d->dirs; dir++) {
        float *st = w.state + (size_t)dir * N * T * w.S;
        const float *Wd = W + (size_t)dir * w.GH * C, *Rd = R + (size_t)dir * w.GH * H;
        float *dWd = dW + (size_t)dir * w.GH * C, *dRd = dR + (size_t)dir * w.GH * H;
        AIC_TRY(AIC_CUDA(cudaMemsetAsync(w.dh, 0, sizeof(float) * 2 * NH, aic_cuda.stream))); // dh and dc
        for (int s = T - 1; s >= 0; s--) {
            back_args b = {{st, (float *)y, NULL, N, T, H, w.DH, dir, step_time(d, dir, s),
                            s > 0 ? step_time(d, dir, s - 1) : 0, w.GH, w.S, s > 0, lbr},
                           dy, w.da, w.dar, w.dh, w.dc, w.dq};
            const float *hp = y + (size_t)b.s.tp * w.DH + (size_t)dir * H;
            float *dar_t = w.dar + (size_t)b.s.t * w.GH;
            AIC_TRY(lstm ? AIC_LAUNCH_N(NH, lstm_bwd_k, b) : AIC_LAUNCH_N(NH, gru_bwd_k, b));
            if (!lstm && !lbr) {
                if (b.s.has_prev) // dq = dah R_h
                    AIC_TRY(gemm(false, false, N, H, H, dar_t + 2 * H, T * GH, Rd + (size_t)2 * H * H, H, 0.0f, w.dq,
                                 H));
                else
                    AIC_TRY(AIC_CUDA(cudaMemsetAsync(w.dq, 0, sizeof(float) * NH, aic_cuda.stream)));
                AIC_TRY(AIC_LAUNCH_N(NH, gru_bwd_r_k, b));
            }
            if (!b.s.has_prev)
                continue;
            AIC_TRY(gemm(false, false, N, H, K1, dar_t, T * GH, Rd, H, 1.0f, w.dh, H));
            AIC_TRY(gemm(true, false, K1, H, N, dar_t, T * GH, hp, T * w.DH, 1.0f, dRd, H));
            if (!lstm && !lbr)
                AIC_TRY(gemm(true, false, H, H, N, dar_t + 2 * H, T * GH, st + (size_t)b.s.t * w.S + w.GH, T * S, 1.0f,
                             dRd + (size_t)2 * H * H, H));
        }
        if (dx)
            AIC_TRY(gemm(false, false, N * T, C, GH, w.da, GH, Wd, C, 1.0f, dx, C));
        AIC_TRY(gemm(true, false, GH, C, N * T, w.da, GH, x, C, 1.0f, dWd, C));
        AIC_TRY(AIC_LAUNCH_N(w.GH, column_sums_k, dB + (size_t)dir * 2 * w.GH, w.da, (size_t)N * T, w.GH));
        AIC_TRY(AIC_LAUNCH_N(w.GH, column_sums_k, dB + (size_t)dir * 2 * w.GH + w.GH, w.dar, (size_t)N * T, w.GH));
    }
    return AIC_OK;
}
