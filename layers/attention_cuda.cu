// SPDX-License-Identifier: Apache-2.0
// Fused attention (layers/attention.c) in plain CUDA, correct before fast: a block of ROWS threads per
// (group of ROWS query rows, problem), each thread one query row, the keys and values streaming
// through shared-memory tiles. Forward takes two passes over the keys (the row's maximum and sum,
// then the output weighted by exp(s - lse)); backward gives each thread one query row for dq, then one
// key row for dk and dv, every sum in a fixed order: no atomics, deterministic.
#include "layers/cuda_common.cuh"

#include <math.h>

enum { ROWS = 64, TILE_FLOATS = 6144 }; // two tiles of TILE_FLOATS floats: 48 KiB of shared memory

// Rows of a tile: as many as fit, at most 32.
static int tile_rows(int D) { return TILE_FLOATS / D < 32 ? TILE_FLOATS / D : 32; }

// Keys query i sees: 0..limit-1 (the causal mask is bottom-right aligned).
__device__ static int key_limit(const aic_attention_dims d, int i) { return d.causal ? i + 1 + d.S - d.T : d.S; }

__device__ static float dot(const float *a, const float *b, int D) {
    float s = 0.0f;
    for (int e = 0; e < D; e++)
        s += a[e] * b[e];
    return s;
}

// Copies rows r0.. (at most tr, fewer at the end of n) of a (n x D) and b into the shared tiles.
__device__ static void load_tiles(float *ta, float *tb, const float *a, const float *b, int r0, int tr, int n, int D) {
    const int rows = n - r0 < tr ? n - r0 : tr;
    for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
        ta[e] = a[(size_t)r0 * D + e];
        if (tb)
            tb[e] = b[(size_t)r0 * D + e];
    }
}

__global__ static void attn_fwd_k(float *out, float *lse, const float *q, const float *k, const float *v,
                                  aic_attention_dims d, int tr) {
    extern __shared__ float tiles[];
    float *tk = tiles, *tv = tiles + (size_t)tr * d.D;
    const int groups = (d.T + ROWS - 1) / ROWS;
    const int64_t b = blockIdx.x / groups;
    const int i = (int)(blockIdx.x % groups) * ROWS + (int)threadIdx.x;
    const float *qi = q + ((size_t)b * d.T + (i < d.T ? i : 0)) * d.D;
    const float *kb = k + (size_t)b * d.S * d.D, *vb = v + (size_t)b * d.S * d.D;
    const int lim = i < d.T ? key_limit(d, i) : 0;
    float m = -INFINITY;
    double l = 0.0;
    for (int j0 = 0; j0 < d.S; j0 += tr) {
        __syncthreads();
        load_tiles(tk, NULL, kb, NULL, j0, tr, d.S, d.D);
        __syncthreads();
        for (int c = 0; c < tr && j0 + c < lim; c++) {
            const float s = d.scale * dot(qi, tk + (size_t)c * d.D, d.D);
            if (s > m) {
                l = l * exp((double)m - s) + 1.0;
                m = s;
            } else {
                l += exp((double)s - m);
            }
        }
    }
    const float ls = m + (float)log(l);
    float *oi = out + ((size_t)b * d.T + (i < d.T ? i : 0)) * d.D;
    if (i < d.T) {
        lse[(size_t)b * d.T + i] = ls;
        for (int e = 0; e < d.D; e++)
            oi[e] = 0.0f;
    }
    for (int j0 = 0; j0 < d.S; j0 += tr) {
        __syncthreads();
        load_tiles(tk, tv, kb, vb, j0, tr, d.S, d.D);
        __syncthreads();
        for (int c = 0; c < tr && j0 + c < lim; c++) {
            const float p = expf(d.scale * dot(qi, tk + (size_t)c * d.D, d.D) - ls);
            for (int e = 0; e < d.D; e++)
                oi[e] += p * tv[(size_t)c * d.D + e];
        }
    }
}

// delta_i = dout_i . out_i, in double
__global__ static void attn_delta_k(float *delta, const float *dout, const float *out, size_t rows, int D) {
    AIC_GRID_STRIDE(r, rows) {
        double s = 0.0;
        for (int e = 0; e < D; e++)
            s += (double)dout[r * D + e] * out[r * D + e];
        delta[r] = (float)s;
    }
}

// dq_i += sum_j ds_ij k_j, ds = p (dp - delta) scale, a thread per query row
__global__ static void attn_dq_k(float *dq, const float *dout, const float *q, const float *k, const float *v,
                                 const float *lse, const float *delta, aic_attention_dims d, int tr) {
    extern __shared__ float tiles[];
    float *tk = tiles, *tv = tiles + (size_t)tr * d.D;
    const int groups = (d.T + ROWS - 1) / ROWS;
    const int64_t b = blockIdx.x / groups;
    const int i = (int)(blockIdx.x % groups) * ROWS + (int)threadIdx.x;
    const size_t row = (size_t)b * d.T + (i < d.T ? i : 0);
    const float *qi = q + row * d.D, *gi = dout + row * d.D;
    const float *kb = k + (size_t)b * d.S * d.D, *vb = v + (size_t)b * d.S * d.D;
    const int lim = i < d.T ? key_limit(d, i) : 0;
    const float ls = lse[row], dl = delta[row];
    for (int j0 = 0; j0 < d.S; j0 += tr) {
        __syncthreads();
        load_tiles(tk, tv, kb, vb, j0, tr, d.S, d.D);
        __syncthreads();
        for (int c = 0; c < tr && j0 + c < lim; c++) {
            const float *kc = tk + (size_t)c * d.D;
            const float p = expf(d.scale * dot(qi, kc, d.D) - ls);
            const float ds = p * (dot(gi, tv + (size_t)c * d.D, d.D) - dl) * d.scale;
            for (int e = 0; e < d.D; e++)
                dq[row * d.D + e] += ds * kc[e];
        }
    }
}

// dk_j += sum_i ds_ij q_i, dv_j += sum_i p_ij dout_i, a thread per key row, the queries through tiles
__global__ static void attn_dkv_k(float *dk, float *dv, const float *dout, const float *q, const float *k,
                                  const float *v, const float *lse, const float *delta, aic_attention_dims d, int tr) {
    extern __shared__ float tiles[];
    float *tq = tiles, *tg = tiles + (size_t)tr * d.D;
    const int groups = (d.S + ROWS - 1) / ROWS;
    const int64_t b = blockIdx.x / groups;
    const int j = (int)(blockIdx.x % groups) * ROWS + (int)threadIdx.x;
    const size_t row = (size_t)b * d.S + (j < d.S ? j : 0);
    const float *kj = k + row * d.D, *vj = v + row * d.D;
    const float *qb = q + (size_t)b * d.T * d.D, *gb = dout + (size_t)b * d.T * d.D;
    const float *lb = lse + (size_t)b * d.T, *db = delta + (size_t)b * d.T;
    for (int i0 = 0; i0 < d.T; i0 += tr) {
        __syncthreads();
        load_tiles(tq, tg, qb, gb, i0, tr, d.T, d.D);
        __syncthreads();
        for (int c = 0; c < tr && i0 + c < d.T; c++) {
            if (j >= d.S || j >= key_limit(d, i0 + c))
                continue;
            const float *qc = tq + (size_t)c * d.D, *gc = tg + (size_t)c * d.D;
            const float p = expf(d.scale * dot(qc, kj, d.D) - lb[i0 + c]);
            const float ds = p * (dot(gc, vj, d.D) - db[i0 + c]) * d.scale;
            for (int e = 0; e < d.D; e++) {
                if (dv)
                    dv[row * d.D + e] += p * gc[e];
                if (dk)
                    dk[row * d.D + e] += ds * qc[e];
            }
        }
    }
}

static aic_status check(const char *kernel, const aic_attention_dims *d) {
    if (!d || d->B < 0 || d->T <= 0 || d->S <= 0 || d->D <= 0 || (d->causal && d->S < d->T) || !(d->scale > 0.0f))
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: bad dims (B >= 0, T, S, D and scale positive, S >= T if causal)",
                        kernel);
    if (d->D > TILE_FLOATS)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: D %d is more than the %d the shared-memory tiles hold", kernel, d->D,
                        (int)TILE_FLOATS);
    const int64_t groups = (int64_t)((d->T > d->S ? d->T : d->S) + ROWS - 1) / ROWS;
    if (d->B * groups > INT32_MAX)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: %lld problems are more than one grid holds", kernel,
                        (long long)d->B);
    return AIC_OK;
}

extern "C" aic_status aic_cuda_attention_forward(float *out, float *lse, const float *q, const float *k,
                                                 const float *v, float *scratch, const aic_attention_dims *d) {
    (void)scratch;
    AIC_TRY(check(__func__, d));
    if (d->B == 0)
        return AIC_OK;
    const int tr = tile_rows(d->D);
    const unsigned blocks = (unsigned)(d->B * ((d->T + ROWS - 1) / ROWS));
    attn_fwd_k<<<blocks, ROWS, 2 * (size_t)tr * d->D * sizeof(float), aic_cuda.stream>>>(out, lse, q, k, v, *d, tr);
    return AIC_CUDA_LAUNCHED();
}

extern "C" aic_status aic_cuda_attention_backward(float *dq, float *dk, float *dv, float *delta, const float *dout,
                                                  const float *q, const float *k, const float *v, const float *out,
                                                  const float *lse, float *scratch, const aic_attention_dims *d) {
    (void)scratch;
    AIC_TRY(check(__func__, d));
    if (d->B == 0 || (!dq && !dk && !dv))
        return AIC_OK;
    const int tr = tile_rows(d->D);
    const size_t shared = 2 * (size_t)tr * d->D * sizeof(float);
    AIC_TRY(AIC_LAUNCH_N((size_t)d->B * d->T, attn_delta_k, delta, dout, out, (size_t)d->B * d->T, d->D));
    if (dq) {
        const unsigned blocks = (unsigned)(d->B * ((d->T + ROWS - 1) / ROWS));
        attn_dq_k<<<blocks, ROWS, shared, aic_cuda.stream>>>(dq, dout, q, k, v, lse, delta, *d, tr);
        AIC_TRY(AIC_CUDA_LAUNCHED());
    }
    if (dk || dv) {
        const unsigned blocks = (unsigned)(d->B * ((d->S + ROWS - 1) / ROWS));
        attn_dkv_k<<<blocks, ROWS, shared, aic_cuda.stream>>>(dk, dv, dout, q, k, v, lse, delta, *d, tr);
        AIC_TRY(AIC_CUDA_LAUNCHED());
    }
    return AIC_OK;
}
