// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"

#include <stddef.h>

/* Visits one sample's output elements in order; for each, the offset of its source element in x. */
static void transpose_walk(float *a, const float *b, const int64_t *xshape, const int *perm, int rank, int n,
                           int backward) {
    // a, b: n x numel; forward: a = out, b = x; backward: a = dx, b = dout
    int64_t xstride[8], ostride[8], oshape[8], idx[8] = {0};
    size_t numel = 1;
    for (int k = rank - 1; k >= 0; k--) {
        xstride[k] = (int64_t)numel;
        numel *= (size_t)xshape[k];
    }
    for (int k = 0; k < rank; k++) {
        oshape[k] = xshape[perm[k]];
        ostride[k] = xstride[perm[k]]; /* out's axis k steps x by this */
    }
    for (int s = 0; s < n; s++) {
        float *as = a + (size_t)s * numel;
        const float *bs = b + (size_t)s * numel;
        for (int k = 0; k < rank; k++)
            idx[k] = 0;
        size_t src = 0;
        for (size_t j = 0; j < numel; j++) {
            if (backward)
                as[src] += bs[j];
            else
                as[j] = bs[src];
            for (int k = rank - 1; k >= 0; k--) { /* next output index, odometer style */
                src += (size_t)ostride[k];
                if (++idx[k] < oshape[k])
                    break;
                src -= (size_t)(ostride[k] * oshape[k]);
                idx[k] = 0;
            }
        }
    }
}

void aic_transpose_forward(float *out, const float *x, const int64_t *xshape, const int *perm, int rank, int n) {
    transpose_walk(out, x, xshape, perm, rank, n, 0);
}

void aic_transpose_backward(float *dx, const float *dout, const int64_t *xshape, const int *perm, int rank, int n) {
    transpose_walk(dx, dout, xshape, perm, rank, n, 1);
}
