// SPDX-License-Identifier: Apache-2.0
// Layer normalization (layernorm.c's formulas). Row statistics: one block per row, each thread summing
// its strided share in double, then a shared-memory tree of fixed shape. Parameter gradients: one
// thread per column summing over the rows in row order. No atomics: every run sums in the same order,
// so results are bitwise reproducible on one GPU.
#include "layers/cuda_common.cuh"
#include "layers/layernorm_column.h"

#define LN_THREADS 256 // a power of two: block_sum halves it
#define LN_MAX_BLOCKS (65535u * 8u)

// The sum of every thread's v, in a fixed order; every thread gets it. All threads must call it.
__device__ static double block_sum(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = LN_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s)
            sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    const double r = sh[0];
    __syncthreads(); // sh is reused by the next call
    return r;
}

// out, inp: rows x cols; mean, rstd: rows; weight, bias: cols or NULL
__global__ static void __launch_bounds__(LN_THREADS)
    ln_fwd_k(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias, int rows,
             int cols, float eps) {
    __shared__ double sh[LN_THREADS];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) { // uniform over the block
        const float *x = inp + (size_t)r * cols;
        float *y = out + (size_t)r * cols;
        double s = 0.0;
        for (int c = threadIdx.x; c < cols; c += LN_THREADS)
            s += x[c];
        const double mu = block_sum(s, sh) / cols;
        double q = 0.0;
        for (int c = threadIdx.x; c < cols; c += LN_THREADS) {
            const double d = x[c] - mu;
            q += d * d;
        }
        const double var = block_sum(q, sh) / cols;
        const float m = (float)mu, rs = (float)(1.0 / sqrt(var + (double)eps));
        if (threadIdx.x == 0) {
            mean[r] = m;
            rstd[r] = rs;
        }
        for (int c = threadIdx.x; c < cols; c += LN_THREADS) {
            const float xhat = (x[c] - m) * rs;
            y[c] = xhat * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
    }
}

// dinp += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight, per row
__global__ static void __launch_bounds__(LN_THREADS)
    ln_bwd_inp_k(float *dinp, const float *dout, const float *inp, const float *weight, const float *mean,
                 const float *rstd, int rows, int cols) {
    __shared__ double sh[LN_THREADS];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *x = inp + (size_t)r * cols, *dy = dout + (size_t)r * cols;
        float *dx = dinp + (size_t)r * cols;
        const float m = mean[r], s = rstd[r];
        double sg = 0.0, sgx = 0.0;
        for (int c = threadIdx.x; c < cols; c += LN_THREADS) {
            const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
            sg += g;
            sgx += (double)g * xhat;
        }
        const float mg = (float)(block_sum(sg, sh) / cols), mgx = (float)(block_sum(sgx, sh) / cols);
        for (int c = threadIdx.x; c < cols; c += LN_THREADS) {
            const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
            dx[c] += s * (g - mg - xhat * mgx);
        }
    }
}

// dweight[c] += sum over rows of dout * xhat, dbias[c] += sum of dout: one thread per column
__global__ static void ln_bwd_params_k(float *dweight, float *dbias, const float *dout, const float *inp,
                                       const float *mean, const float *rstd, int rows, int cols) {
    AIC_GRID_STRIDE(c, (size_t)cols)
        aic_layernorm_param_grads_column(dweight, dbias, dout, inp, mean, rstd, rows, cols, (int)c);
}

static unsigned row_blocks(int rows) { return (unsigned)rows < LN_MAX_BLOCKS ? (unsigned)rows : LN_MAX_BLOCKS; }

static aic_status check_dims(const char *kernel, int rows, int cols) {
    if (rows < 0 || cols <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: rows %d must not be negative and cols %d must be positive", kernel,
                        rows, cols);
    return AIC_OK;
}

extern "C" aic_status aic_cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                                                 const float *weight, const float *bias, int rows, int cols,
                                                 float eps) {
    AIC_TRY(check_dims(__func__, rows, cols));
    if (!out || !mean || !rstd || !inp || !(eps >= 0.0f))
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: a buffer (out, mean, rstd, inp) is NULL or eps %g is negative",
                        __func__, (double)eps);
    if (rows == 0)
        return AIC_OK;
    ln_fwd_k<<<row_blocks(rows), LN_THREADS, 0, aic_cuda.stream>>>(out, mean, rstd, inp, weight, bias, rows, cols,
                                                                    eps);
    return AIC_CUDA_LAUNCHED();
}

extern "C" aic_status aic_cuda_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                                  const float *inp, const float *weight, const float *mean,
                                                  const float *rstd, int rows, int cols) {
    AIC_TRY(check_dims(__func__, rows, cols));
    if (!dout || !inp || !mean || !rstd)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: a buffer (dout, inp, mean, rstd) is NULL", __func__);
    if (rows == 0)
        return AIC_OK;
    if (dinp) {
        ln_bwd_inp_k<<<row_blocks(rows), LN_THREADS, 0, aic_cuda.stream>>>(dinp, dout, inp, weight, mean, rstd, rows,
                                                                            cols);
        AIC_TRY(AIC_CUDA_LAUNCHED());
    }
    if (dweight || dbias)
        return AIC_LAUNCH_N((size_t)cols, ln_bwd_params_k, dweight, dbias, dout, inp, mean, rstd, rows, cols);
    return AIC_OK;
}
