// SPDX-License-Identifier: Apache-2.0
/* Batch statistics are reduced in double (a channel can hold N*S = millions of values) with a
 * two-pass variance, which does not cancel catastrophically when |mean| >> std. */
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include <math.h>

// N may be 0 (an empty batch); a channel holds at least one value per sample.
#define CHECK_DIMS(N, C, S)                                                                                 \
    AIC_KERNEL_ARG((N) >= 0 && (C) > 0 && (S) > 0, "N %d must not be negative, C %d and S %d must be positive", \
                   (N), (C), (S))

aic_status aic_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                                       float *running_var, const float *inp, const float *gamma, const float *beta,
                                       int N, int C, int S, float momentum, float eps) {
    // out, inp: N x C x S; save_mean, save_invstd, running_mean, running_var, gamma, beta: C
    CHECK_DIMS(N, C, S);
    AIC_KERNEL_ARG(out && save_mean && save_invstd && running_mean && running_var && inp && gamma && beta,
                   "a buffer (out, save_mean, save_invstd, running_mean, running_var, inp, gamma, beta) is NULL");
    const size_t M = (size_t)N * S; // values per channel
    if (M == 0) // no statistics: leave the running ones as they are rather than make them NaN
        return AIC_OK;
    for (int c = 0; c < C; c++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * S; // S
            for (int s = 0; s < S; s++)
                sum += x[s];
        }
        double mean = sum / (double)M;
        double sq = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * S;
            for (int s = 0; s < S; s++) {
                double dev = x[s] - mean;
                sq += dev * dev;
            }
        }
        double var = sq / (double)M; // biased: what the batch is normalized with
        float m = (float)mean, invstd = (float)(1.0 / sqrt(var + eps));
        save_mean[c] = m;
        save_invstd[c] = invstd;
        float scale = invstd * gamma[c], shift = beta[c];
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * S;
            float *y = out + ((size_t)n * C + c) * S;
            for (int s = 0; s < S; s++)
                y[s] = (x[s] - m) * scale + shift;
        }
        // the running variance is unbiased (PyTorch); a single value has no spread to correct: keep 0
        double unbiased = M > 1 ? sq / (double)(M - 1) : var;
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (float)mean;
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float)unbiased;
    }
    return AIC_OK;
}

aic_status aic_batchnorm_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                                      const float *running_mean, const float *running_var, int N, int C, int S,
                                      float eps) {
    // out, inp: N x C x S; gamma, beta, running_mean, running_var: C
    CHECK_DIMS(N, C, S);
    AIC_KERNEL_ARG(out && inp && gamma && beta && running_mean && running_var,
                   "a buffer (out, inp, gamma, beta, running_mean, running_var) is NULL");
    for (int c = 0; c < C; c++) {
        // one affine map per channel: y = x * scale + shift
        float scale = gamma[c] / sqrtf(running_var[c] + eps);
        float shift = beta[c] - running_mean[c] * scale;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * S;
            float *y = out + ((size_t)n * C + c) * S;
            for (int s = 0; s < S; s++)
                y[s] = x[s] * scale + shift;
        }
    }
    return AIC_OK;
}

aic_status aic_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                                  const float *gamma, const float *save_mean, const float *save_invstd, int N, int C,
                                  int S) {
    // dinp, dout, inp: N x C x S; dgamma, dbeta, gamma, save_mean, save_invstd: C
    CHECK_DIMS(N, C, S);
    AIC_KERNEL_ARG(dout && inp && save_mean && save_invstd && (!dinp || gamma),
                   "a buffer (dout, inp, save_mean, save_invstd, or gamma for dinp) is NULL");
    const size_t M = (size_t)N * S;
    for (int c = 0; c < C; c++) {
        const float m = save_mean[c], invstd = save_invstd[c];
        double sdy = 0.0, sdy_xhat = 0.0; // sum(dout), sum(dout * xhat) over the channel
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * S;
            const float *dy = dout + ((size_t)n * C + c) * S;
            for (int s = 0; s < S; s++) {
                sdy += dy[s];
                sdy_xhat += (double)dy[s] * ((x[s] - m) * invstd);
            }
        }
        if (dbeta)
            dbeta[c] += (float)sdy;
        if (dgamma)
            dgamma[c] += (float)sdy_xhat;
        if (dinp) {
            // dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)): the mean and variance
            // depend on every x of the channel, which removes these two projections
            float k = gamma[c] * invstd;
            float mdy = (float)(sdy / (double)M), mdy_xhat = (float)(sdy_xhat / (double)M);
            for (int n = 0; n < N; n++) {
                const float *x = inp + ((size_t)n * C + c) * S;
                const float *dy = dout + ((size_t)n * C + c) * S;
                float *dx = dinp + ((size_t)n * C + c) * S;
                for (int s = 0; s < S; s++) {
                    float xhat = (x[s] - m) * invstd;
                    dx[s] += k * (dy[s] - mdy - xhat * mdy_xhat);
                }
            }
        }
    }
    return AIC_OK;
}
