// SPDX-License-Identifier: Apache-2.0
// Elementwise kernels: fills, clip, add, dropout (the unary ops are in unary_cuda.cu).
// Same formulas as the CPU files beside them (clip.c, add.c, ...); backward accumulates.
#include "layers/cuda_common.cuh"

__global__ static void fill_k(float *dst, float v, size_t n) {
    AIC_GRID_STRIDE(i, n) dst[i] = v;
}
extern "C" aic_status aic_cuda_fill(float *dst, float value, size_t n) { return AIC_LAUNCH_N(n, fill_k, dst, value, n); }

__global__ static void scale_copy_k(float *dst, const float *src, float s) { dst[0] = src[0] * s; }
extern "C" aic_status aic_cuda_scale_copy(float *dst, const float *src, float scale) {
    scale_copy_k<<<1, 1, 0, aic_cuda.stream>>>(dst, src, scale);
    return AIC_CUDA_LAUNCHED();
}

extern "C" aic_status aic_cuda_copy(float *dst, const float *src, size_t n) {
    return n ? AIC_CUDA(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, aic_cuda.stream))
             : AIC_OK;
}

// out, inp: n
__global__ static void clip_fwd_k(float *out, const float *inp, size_t n, float lo, float hi) {
    AIC_GRID_STRIDE(i, n) {
        float x = inp[i];
        out[i] = x < lo ? lo : x > hi ? hi : x; // NaN passes, as clip.c
    }
}
__global__ static void clip_bwd_k(float *dinp, const float *dout, const float *inp, size_t n, float lo, float hi) {
    AIC_GRID_STRIDE(i, n) if (inp[i] >= lo && inp[i] <= hi) dinp[i] += dout[i];
}
__global__ static void add_fwd_k(float *out, const float *a, const float *b, size_t n) {
    AIC_GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}
// da and db may be one buffer (x + x): each thread owns its element, so both adds land.
__global__ static void add_bwd_k(float *da, float *db, const float *dout, size_t n) {
    AIC_GRID_STRIDE(i, n) {
        if (da)
            da[i] += dout[i];
        if (db)
            db[i] += dout[i];
    }
}

extern "C" aic_status aic_cuda_clip_forward(float *out, const float *inp, size_t n, float lo, float hi) {
    return AIC_LAUNCH_N(n, clip_fwd_k, out, inp, n, lo, hi);
}
extern "C" aic_status aic_cuda_clip_backward(float *dinp, const float *dout, const float *inp, size_t n, float lo,
                                             float hi) {
    return dinp ? AIC_LAUNCH_N(n, clip_bwd_k, dinp, dout, inp, n, lo, hi) : AIC_OK;
}
extern "C" aic_status aic_cuda_add_forward(float *out, const float *a, const float *b, size_t n) {
    return AIC_LAUNCH_N(n, add_fwd_k, out, a, b, n);
}
extern "C" aic_status aic_cuda_add_backward(float *da, float *db, const float *dout, size_t n) {
    return da || db ? AIC_LAUNCH_N(n, add_bwd_k, da, db, dout, n) : AIC_OK;
}

// ---- dropout: Philox4x32-10 as core/rng.c, word e % 4 of block e / 4 for counter e --------------

__device__ static uint32_t philox_word(uint64_t key, uint64_t ctr_lo, int word) {
    uint32_t c0 = (uint32_t)ctr_lo, c1 = (uint32_t)(ctr_lo >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return word == 0 ? c0 : word == 1 ? c1 : word == 2 ? c2 : c3;
}

// dst (N x F; =, or += when accumulate) = src * mask / (1 - p)
__global__ static void dropout_k(float *dst, const float *src, int accumulate, size_t n, float p, float scale,
                                 uint64_t key, uint64_t e0) {
    AIC_GRID_STRIDE(k, n) {
        uint64_t e = e0 + k;
        float u = (float)(philox_word(key, e / 4, (int)(e % 4)) >> 8) * (1.0f / 16777216.0f);
        float v = u >= p ? src[k] * scale : 0.0f;
        if (accumulate)
            dst[k] += v;
        else
            dst[k] = v;
    }
}

extern "C" aic_status aic_cuda_dropout_forward(float *out, const float *inp, int N, size_t F, float p, uint64_t key,
                                               int64_t row_offset) {
    size_t n = (size_t)N * F;
    return AIC_LAUNCH_N(n, dropout_k, out, inp, 0, n, p, 1.0f / (1.0f - p), key, (uint64_t)row_offset * F);
}

extern "C" aic_status aic_cuda_dropout_backward(float *dinp, const float *dout, int N, size_t F, float p,
                                                uint64_t key, int64_t row_offset) {
    size_t n = (size_t)N * F;
    return dinp ? AIC_LAUNCH_N(n, dropout_k, dinp, dout, 1, n, p, 1.0f / (1.0f - p), key, (uint64_t)row_offset * F)
                : AIC_OK;
}
