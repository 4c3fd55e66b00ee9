// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include <stdbool.h>
#include <stddef.h>

/* Visits one sample's output elements in order; for each, the offset of its source element in x. Trailing
 * axes that stay in place (a head's D when [T, H, D] becomes [H, T, D]) move as runs of their elements,
 * copied or added as one. */
static void transpose_walk(float *a, const float *b, const int64_t *xshape, const int *perm, int rank, int n,
                           int backward) {
    // a, b: n x numel; forward: a = out, b = x; backward: a = dx, b = dout
    int64_t xstride[8], ostride[8], oshape[8], idx[8] = {0};
    int outer = rank; /* the axes before the trailing ones in place */
    while (outer > 0 && perm[outer - 1] == outer - 1)
        outer--;
    size_t run = 1, numel = 1;
    for (int k = outer; k < rank; k++)
        run *= (size_t)xshape[k];
    for (int k = outer - 1; k >= 0; k--) { /* in runs */
        xstride[k] = (int64_t)numel;
        numel *= (size_t)xshape[k];
    }
    for (int k = 0; k < outer; k++) {
        oshape[k] = xshape[perm[k]];
        ostride[k] = xstride[perm[k]]; /* out's axis k steps x by this */
    }
    for (int s = 0; s < n; s++) {
        float *as = a + (size_t)s * numel * run;
        const float *bs = b + (size_t)s * numel * run;
        for (int k = 0; k < outer; k++)
            idx[k] = 0;
        size_t src = 0;
        for (size_t j = 0; j < numel; j++) {
            float *to = backward ? as + src * run : as + j * run;
            const float *from = backward ? bs + j * run : bs + src * run;
            for (size_t e = 0; e < run; e++) /* a select the compiler keeps out of the loop */
                to[e] = backward ? to[e] + from[e] : from[e];
            for (int k = outer - 1; k >= 0; k--) { /* next output index, odometer style */
                src += (size_t)ostride[k];
                if (++idx[k] < oshape[k])
                    break;
                src -= (size_t)(ostride[k] * oshape[k]);
                idx[k] = 0;
            }
        }
    }
}

/* At most 8 axes (the walk's arrays), none negative, and perm a permutation of 0..rank-1. */
static aic_status check_args(const char *kernel, const int64_t *xshape, const int *perm, int rank, int n) {
    if (rank < 0 || rank > 8 || n < 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "rank %d must be in 0..8, n %d not negative", rank, n);
    if (rank > 0 && (!xshape || !perm))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "xshape or perm is NULL");
    bool seen[8] = {false};
    for (int k = 0; k < rank; k++) {
        if (xshape[k] < 0)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "axis %d has size %lld", k, (long long)xshape[k]);
        if (perm[k] < 0 || perm[k] >= rank || seen[perm[k]])
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "perm is not a permutation of 0..%d (perm[%d] = %d)",
                                   rank - 1, k, perm[k]);
        seen[perm[k]] = true;
    }
    return AIC_OK;
}

aic_status aic_transpose_forward(float *out, const float *x, const int64_t *xshape, const int *perm, int rank,
                                 int n) {
    // x: n x xshape; out: n x (xshape permuted by perm)
    AIC_TRY(check_args(__func__, xshape, perm, rank, n));
    AIC_KERNEL_ARG(out && x, "out or x is NULL");
    transpose_walk(out, x, xshape, perm, rank, n, 0);
    return AIC_OK;
}

aic_status aic_transpose_backward(float *dx, const float *dout, const int64_t *xshape, const int *perm, int rank,
                                  int n) {
    // dx: n x xshape; dout: n x (xshape permuted by perm)
    AIC_TRY(check_args(__func__, xshape, perm, rank, n));
    if (!dx)
        return AIC_OK;
    AIC_KERNEL_ARG(dout, "dout is NULL");
    transpose_walk(dx, dout, xshape, perm, rank, n, 1);
    return AIC_OK;
}
