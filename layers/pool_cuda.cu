// SPDX-License-Identifier: Apache-2.0
// Pooling kernels. Not cuDNN: its pooling has no ceil mode, no clipped count_include_pad windows and
// no argmax, and aicon's pooling (maxpool.c, avgpool.c) follows PyTorch in all three; the kernels
// below are those loops with one thread per output. Backward scatters with atomicAdd (windows may
// overlap).
#include "layers/cuda_common.cuh"

// out, argmax: N x C x OH x OW; inp: N x C x H x W
__global__ static void maxpool_fwd_k(float *out, int32_t *argmax, const float *inp, aic_pool2d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) {
        int ow = (int)(i % d.OW), oh = (int)(i / d.OW % d.OH);
        size_t plane = i / ((size_t)d.OW * d.OH);
        const float *x = inp + plane * d.H * d.W;
        int h0 = oh * d.SH - d.PH, w0 = ow * d.SW - d.PW;
        int hs = h0 < 0 ? 0 : h0, he = h0 + d.KH < d.H ? h0 + d.KH : d.H;
        int ws = w0 < 0 ? 0 : w0, we = w0 + d.KW < d.W ? w0 + d.KW : d.W;
        float best = -INFINITY;
        int32_t idx = -1;
        for (int ih = hs; ih < he; ih++)
            for (int iw = ws; iw < we; iw++) {
                float v = x[ih * d.W + iw];
                if (idx < 0 || v > best || (isnan(v) && !isnan(best))) { // first maximum; NaN wins
                    best = v;
                    idx = ih * d.W + iw;
                }
            }
        out[i] = best;
        argmax[i] = idx;
    }
}

__global__ static void maxpool_bwd_k(float *dinp, const float *dout, const int32_t *argmax, aic_pool2d_dims d,
                                     size_t n) {
    AIC_GRID_STRIDE(i, n) {
        size_t plane = i / ((size_t)d.OW * d.OH);
        if (argmax[i] >= 0)
            atomicAdd(dinp + plane * d.H * d.W + argmax[i], dout[i]);
    }
}

// The in-bounds span [*s, *e) of output o's window and the padded extent (avgpool.c's avg_span).
__device__ static void avg_span(int o, int K, int S, int P, int size, int *s, int *e, int *padded) {
    int start = o * S - P;
    int end = start + K < size + P ? start + K : size + P;
    *padded = end - start;
    *s = start < 0 ? 0 : start;
    *e = end < size ? end : size;
}

__global__ static void avgpool_fwd_k(float *out, const float *inp, aic_pool2d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) {
        int ow = (int)(i % d.OW), oh = (int)(i / d.OW % d.OH);
        size_t plane = i / ((size_t)d.OW * d.OH);
        const float *x = inp + plane * d.H * d.W;
        int hs, he, hp, ws, we, wp;
        avg_span(oh, d.KH, d.SH, d.PH, d.H, &hs, &he, &hp);
        avg_span(ow, d.KW, d.SW, d.PW, d.W, &ws, &we, &wp);
        if (hs >= he || ws >= we) {
            out[i] = 0.0f;
            continue;
        }
        float sum = 0.0f;
        for (int ih = hs; ih < he; ih++)
            for (int iw = ws; iw < we; iw++)
                sum += x[ih * d.W + iw];
        int count = d.count_include_pad ? hp * wp : (he - hs) * (we - ws);
        out[i] = sum / (float)count;
    }
}

__global__ static void avgpool_bwd_k(float *dinp, const float *dout, aic_pool2d_dims d, size_t n) {
    AIC_GRID_STRIDE(i, n) {
        int ow = (int)(i % d.OW), oh = (int)(i / d.OW % d.OH);
        size_t plane = i / ((size_t)d.OW * d.OH);
        float *dx = dinp + plane * d.H * d.W;
        int hs, he, hp, ws, we, wp;
        avg_span(oh, d.KH, d.SH, d.PH, d.H, &hs, &he, &hp);
        avg_span(ow, d.KW, d.SW, d.PW, d.W, &ws, &we, &wp);
        if (hs >= he || ws >= we)
            continue;
        int count = d.count_include_pad ? hp * wp : (he - hs) * (we - ws);
        float g = dout[i] / (float)count;
        for (int ih = hs; ih < he; ih++)
            for (int iw = ws; iw < we; iw++)
                atomicAdd(dx + ih * d.W + iw, g);
    }
}

// out: N x C = mean over S of inp (N x C x S); one warp per (n, c)
__global__ static void gap_fwd_k(float *out, const float *inp, size_t rows, int S) {
    size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    const float *x = inp + row * S;
    float s = 0.0f;
    for (int j = lane; j < S; j += 32)
        s += x[j];
    for (int off = 16; off > 0; off /= 2)
        s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0)
        out[row] = s / (float)S;
}

__global__ static void gap_bwd_k(float *dinp, const float *dout, size_t n, int S) {
    AIC_GRID_STRIDE(i, n) dinp[i] += dout[i / S] / (float)S;
}

static size_t outputs(const aic_pool2d_dims *d) { return (size_t)d->N * d->C * d->OH * d->OW; }

extern "C" aic_status aic_cuda_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                                                 const aic_pool2d_dims *d) {
    return AIC_LAUNCH_N(outputs(d), maxpool_fwd_k, out, argmax, inp, *d, outputs(d));
}
extern "C" aic_status aic_cuda_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                                                  const aic_pool2d_dims *d) {
    return dinp ? AIC_LAUNCH_N(outputs(d), maxpool_bwd_k, dinp, dout, argmax, *d, outputs(d)) : AIC_OK;
}
extern "C" aic_status aic_cuda_avgpool2d_forward(float *out, const float *inp, const aic_pool2d_dims *d) {
    return AIC_LAUNCH_N(outputs(d), avgpool_fwd_k, out, inp, *d, outputs(d));
}
extern "C" aic_status aic_cuda_avgpool2d_backward(float *dinp, const float *dout, const aic_pool2d_dims *d) {
    return dinp ? AIC_LAUNCH_N(outputs(d), avgpool_bwd_k, dinp, dout, *d, outputs(d)) : AIC_OK;
}
extern "C" aic_status aic_cuda_global_avgpool_forward(float *out, const float *inp, int N, int C, int S) {
    size_t rows = (size_t)N * C;
    if (rows == 0)
        return AIC_OK;
    size_t blocks = (rows * 32 + AIC_CUDA_THREADS - 1) / AIC_CUDA_THREADS;
    gap_fwd_k<<<(unsigned)blocks, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(out, inp, rows, S);
    return AIC_CUDA_LAUNCHED();
}
extern "C" aic_status aic_cuda_global_avgpool_backward(float *dinp, const float *dout, int N, int C, int S) {
    size_t n = (size_t)N * C * S;
    return dinp ? AIC_LAUNCH_N(n, gap_bwd_k, dinp, dout, n, S) : AIC_OK;
}
