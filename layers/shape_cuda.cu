// SPDX-License-Identifier: Apache-2.0
// Broadcasting binary arithmetic, concat and transpose: one thread per output element, indices
// worked out from the shapes (binary.c, concat.c, transpose.c walk the same index spaces in order).
// Gradients of broadcast operands are summed with atomicAdd.
#include "layers/cuda_common.cuh"
#include "layers/binary_formula.h"

#define MAX_PARTS 8 // AIC_MAX_OP_INPUTS

// Offsets of output element o in a and b.
__device__ static void binary_offsets(const aic_binary_dims &d, size_t o, int64_t *ai, int64_t *bi) {
    *ai = *bi = 0;
    for (int k = d.ndim - 1; k >= 0; k--) {
        int64_t idx = (int64_t)(o % (size_t)d.shape[k]);
        o /= (size_t)d.shape[k];
        *ai += idx * d.astride[k];
        *bi += idx * d.bstride[k];
    }
}

__global__ static void binary_fwd_k(float *out, const float *a, const float *b, int kind, aic_binary_dims d,
                                    size_t n) {
    AIC_GRID_STRIDE(o, n) {
        int64_t ai, bi;
        binary_offsets(d, o, &ai, &bi);
        out[o] = aic_binary_f((aic_binary_kind)kind, a[ai], b[bi]);
    }
}

// write: the AIC_GRAD_WRITE_* bits, for an operand not broadcast (one thread per element of it)
__global__ static void binary_bwd_k(float *da, float *db, const float *dout, const float *a, const float *b, int kind,
                                    aic_binary_dims d, size_t n, unsigned write) {
    AIC_GRID_STRIDE(o, n) {
        int64_t ai, bi;
        binary_offsets(d, o, &ai, &bi);
        float ga, gb;
        aic_binary_grads((aic_binary_kind)kind, dout[o], a ? a[ai] : 0.0f, b ? b[bi] : 0.0f, &ga, &gb);
        if (da) {
            if (write & AIC_GRAD_WRITE_A)
                da[ai] = ga;
            else
                atomicAdd(da + ai, ga);
        }
        if (db) {
            if (write & AIC_GRAD_WRITE_B)
                db[bi] = gb;
            else
                atomicAdd(db + bi, gb);
        }
    }
}

static size_t binary_total(const aic_binary_dims *d) {
    size_t n = 1;
    for (int k = 0; k < d->ndim; k++)
        n *= (size_t)d->shape[k];
    return n;
}

extern "C" aic_status aic_cuda_binary_forward(float *out, const float *a, const float *b, aic_binary_kind kind,
                                              const aic_binary_dims *d) {
    size_t n = binary_total(d);
    return AIC_LAUNCH_N(n, binary_fwd_k, out, a, b, (int)kind, *d, n);
}

extern "C" aic_status aic_cuda_binary_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                                               aic_binary_kind kind, const aic_binary_dims *d, unsigned write) {
    size_t n = binary_total(d);
    return da || db ? AIC_LAUNCH_N(n, binary_bwd_k, da, db, dout, a, b, (int)kind, *d, n, write) : AIC_OK;
}

// ---- concat: input i viewed as outer x inner[i], out as outer x sum(inner) ---------------------

typedef struct {
    float *part[MAX_PARTS];
    size_t inner[MAX_PARTS];
    size_t start[MAX_PARTS]; // column where part i begins in a row of out
    int k;
    size_t row; // sum(inner)
} concat_parts;

// forward: out = parts; backward: parts += out (a NULL part is skipped). The same tensor may be
// several parts (concat(x, x)), so backward adds atomically: two threads may add into one element.
__global__ static void concat_k(float *out, concat_parts c, size_t n, int backward) {
    AIC_GRID_STRIDE(e, n) {
        size_t o = e / c.row, j = e % c.row;
        int i = 0;
        while (i + 1 < c.k && j >= c.start[i + 1])
            i++;
        size_t src = o * c.inner[i] + (j - c.start[i]);
        if (!backward)
            out[e] = c.part[i][src];
        else if (c.part[i])
            atomicAdd(&c.part[i][src], out[e]);
    }
}

static aic_status concat_run(float *out, float *const *parts, const size_t *inner, int k, size_t outer,
                             int backward) {
    if (k > MAX_PARTS)
        return aic_fail(AIC_ERR_UNSUPPORTED, "concat on CUDA: %d inputs, at most %d", k, MAX_PARTS);
    concat_parts c;
    c.k = k;
    c.row = 0;
    for (int i = 0; i < k; i++) {
        c.part[i] = parts[i];
        c.inner[i] = inner[i];
        c.start[i] = c.row;
        c.row += inner[i];
    }
    size_t n = outer * c.row;
    return AIC_LAUNCH_N(n, concat_k, out, c, n, backward);
}

extern "C" aic_status aic_cuda_concat_forward(float *out, const float *const *inps, const size_t *inner, int k,
                                              size_t outer) {
    float *parts[MAX_PARTS];
    for (int i = 0; i < k && i < MAX_PARTS; i++)
        parts[i] = (float *)inps[i]; // read only on this path
    return concat_run(out, parts, inner, k, outer, 0);
}

extern "C" aic_status aic_cuda_concat_backward(float *const *dinps, const float *dout, const size_t *inner, int k,
                                               size_t outer) {
    return concat_run((float *)dout, dinps, inner, k, outer, 1); // dout is read only on this path
}

// ---- transpose: out's per-sample axis k is x's axis perm[k] -------------------------------------

typedef struct {
    int rank;
    int64_t oshape[8], ostride[8]; // out's shape; x's stride along each out axis
    size_t numel;
} transpose_plan;

// forward: a = out, b = x (a[j] = b[src]); backward: a = dx, b = dout (a[src] += b[j])
__global__ static void transpose_k(float *a, const float *b, transpose_plan t, size_t n, int backward) {
    AIC_GRID_STRIDE(e, n) {
        size_t s = e / t.numel, j = e % t.numel, src = 0;
        for (int k = t.rank - 1; k >= 0; k--) {
            src += (j % (size_t)t.oshape[k]) * (size_t)t.ostride[k];
            j /= (size_t)t.oshape[k];
        }
        if (backward)
            a[s * t.numel + src] += b[e];
        else
            a[e] = b[s * t.numel + src];
    }
}

static aic_status transpose_run(float *a, const float *b, const int64_t *xshape, const int *perm, int rank, int n,
                                int backward) {
    if (rank > 8)
        return aic_fail(AIC_ERR_UNSUPPORTED, "transpose on CUDA: rank %d, at most 8", rank);
    transpose_plan t;
    int64_t xstride[8];
    t.rank = rank;
    t.numel = 1;
    for (int k = rank - 1; k >= 0; k--) {
        xstride[k] = (int64_t)t.numel;
        t.numel *= (size_t)xshape[k];
    }
    for (int k = 0; k < rank; k++) {
        t.oshape[k] = xshape[perm[k]];
        t.ostride[k] = xstride[perm[k]];
    }
    size_t total = t.numel * (size_t)n;
    return AIC_LAUNCH_N(total, transpose_k, a, b, t, total, backward);
}

extern "C" aic_status aic_cuda_transpose_forward(float *out, const float *x, const int64_t *xshape, const int *perm,
                                                 int rank, int n) {
    return transpose_run(out, x, xshape, perm, rank, n, 0);
}

extern "C" aic_status aic_cuda_transpose_backward(float *dx, const float *dout, const int64_t *xshape,
                                                  const int *perm, int rank, int n) {
    return dx ? transpose_run(dx, dout, xshape, perm, rank, n, 1) : AIC_OK;
}

// ---- expand: a sample's values to every row; back, one thread per value summing the rows in order ----

__global__ static void expand_k(float *out, const float *p, size_t numel, size_t total) {
    AIC_GRID_STRIDE(e, total) { out[e] = p[e % numel]; }
}

__global__ static void expand_back_k(float *dp, const float *dout, int rows, size_t numel) {
    AIC_GRID_STRIDE(i, numel) {
        double s = 0.0;
        for (int r = 0; r < rows; r++)
            s += dout[(size_t)r * numel + i];
        dp[i] += (float)s;
    }
}

extern "C" aic_status aic_cuda_expand_forward(float *out, const float *p, int rows, size_t numel) {
    const size_t total = (size_t)rows * numel;
    return total ? AIC_LAUNCH_N(total, expand_k, out, p, numel, total) : AIC_OK;
}

extern "C" aic_status aic_cuda_expand_backward(float *dp, const float *dout, int rows, size_t numel) {
    return numel && rows ? AIC_LAUNCH_N(numel, expand_back_k, dp, dout, rows, numel) : AIC_OK;
}
