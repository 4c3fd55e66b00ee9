// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include "layers/gemm.h"

aic_status aic_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                             int OC) {
    // out: N x OC, inp: N x C, weight: OC x C, bias: OC
    AIC_KERNEL_ARG(N >= 0 && C > 0 && OC > 0, "N %d must not be negative, C %d and OC %d must be positive", N, C, OC);
    AIC_KERNEL_ARG(out && inp && weight, "out, inp or weight is NULL");
    float beta = 0.0f;
    if (bias) {
        // start from the bias so the GEMM adds onto it: no second pass over out
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
                out[(size_t)n * OC + o] = bias[o];
        beta = 1.0f;
    }
    aic_sgemm(false, true, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
    return AIC_OK;
}

aic_status aic_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                              const float *weight, int N, int C, int OC, unsigned write) {
    // dinp: N x C, dweight: OC x C, dbias: OC, dout: N x OC, inp: N x C, weight: OC x C
    AIC_KERNEL_ARG(N >= 0 && C > 0 && OC > 0, "N %d must not be negative, C %d and OC %d must be positive", N, C, OC);
    AIC_KERNEL_ARG(dout && (!dinp || weight) && (!dweight || inp), "dout, or the weight or input it needs, is NULL");
    if (dinp)
        aic_sgemm(false, false, N, C, OC, 1.0f, dout, OC, weight, C, write & AIC_GRAD_WRITE_A ? 0.0f : 1.0f, dinp, C);
    if (dweight)
        aic_sgemm(true, false, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias) {
        // column sums of dout in double, a block of columns at a time so dout is read row by row
        // (contiguous, vectorizable); each column is still summed over n in order
        enum { BLOCK = 256 };
        double sum[BLOCK];
        for (int o0 = 0; o0 < OC; o0 += BLOCK) {
            const int w = OC - o0 < BLOCK ? OC - o0 : BLOCK;
            for (int j = 0; j < w; j++)
                sum[j] = 0.0;
            for (int n = 0; n < N; n++) {
                const float *row = dout + (size_t)n * OC + o0; // w
                for (int j = 0; j < w; j++)
                    sum[j] += row[j];
            }
            for (int j = 0; j < w; j++)
                dbias[o0 + j] += (float)sum[j];
        }
    }
    return AIC_OK;
}
