// SPDX-License-Identifier: Apache-2.0
/* Fused scaled-dot-product attention (FlashAttention's scheme on the CPU): the scores of a block of
 * queries against a block of keys are the only T x S part ever held, forward keeps a running maximum
 * and sum per query (online softmax) and saves the log-sum-exp, backward recomputes each block's
 * probabilities from it. Block products are SGEMMs. */
#include <math.h>

#include "layers/layers.h"
#include "layers/gemm.h"
#include "layers/kernel_check.h"
#include "layers/softmax_row.h"
#include "layers/cpu_clones.h"


/* 64 x 128 score blocks: big enough for efficient SGEMMs, small enough to stay in L2. */
enum { BQ = 64, BK = 128 };

size_t aic_attention_scratch(void) { return 2 * (size_t)BQ * BK; }

static aic_status check_args(const char *kernel, const aic_attention_dims *d) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->B < 0 || d->T <= 0 || d->S <= 0 || d->D <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "B %lld must not be negative, T %d, S %d and D %d positive",
                               (long long)d->B, d->T, d->S, d->D);
    if (d->causal && d->S < d->T)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "causal attention needs S %d >= T %d (the first queries would see no key)", d->S, d->T);
    if (!(d->scale > 0.0f) || !isfinite(d->scale))
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "scale %g must be positive and finite", (double)d->scale);
    return AIC_OK;
}

/* Keys query i sees: 0..limit(i)-1 (bottom-right aligned causal mask: j <= i + S - T). */
static inline int key_limit(const aic_attention_dims *d, int i) { return d->causal ? i + 1 + d->S - d->T : d->S; }

AIC_CPU_CLONES
static void forward_blocks(float *out, float *lse, const float *q, const float *k, const float *v, float *scratch,
                           const aic_attention_dims *d) {
    const int T = d->T, S = d->S, D = d->D;
    float *sc = scratch; /* BQ x BK scores, then probabilities */
    for (int64_t b = 0; b < d->B; b++) {
        const float *qb = q + (size_t)b * T * D, *kb = k + (size_t)b * S * D, *vb = v + (size_t)b * S * D;
        float *ob = out + (size_t)b * T * D, *lb = lse + (size_t)b * T;
        for (int i0 = 0; i0 < T; i0 += BQ) {
            const int bq = T - i0 < BQ ? T - i0 : BQ;
            float mx[BQ];
            double sum[BQ];
            for (int r = 0; r < bq; r++) {
                mx[r] = -INFINITY;
                sum[r] = 0.0;
            }
            float *o = ob + (size_t)i0 * D;
            for (size_t e = 0; e < (size_t)bq * D; e++)
                o[e] = 0.0f;
            const int kend = key_limit(d, i0 + bq - 1); /* the block's last query sees the most keys */
            for (int j0 = 0; j0 < kend; j0 += BK) {
                const int bk = kend - j0 < BK ? kend - j0 : BK;
                aic_sgemm(false, true, bq, bk, D, d->scale, qb + (size_t)i0 * D, D,
                          kb + (size_t)j0 * D, D, 0.0f, sc, BK);
                for (int r = 0; r < bq; r++) {
                    float *s = sc + (size_t)r * BK;
                    int lim = key_limit(d, i0 + r) - j0;
                    lim = lim < 0 ? 0 : lim > bk ? bk : lim;
                    float m = mx[r];
                    for (int c = 0; c < lim; c++)
                        m = s[c] > m ? s[c] : m;
                    for (int c = 0; c < lim; c++)
                        s[c] = aic_expf(s[c] - m);
                    const double part = aic_row_dot(s, NULL, lim, 1);
                    for (int c = lim; c < bk; c++)
                        s[c] = 0.0f;
                    if (lim == 0)
                        continue;
                    if (m > mx[r] && mx[r] > -INFINITY) { /* a new maximum: rescale what was summed so far */
                        const float corr = aic_expf(mx[r] - m);
                        sum[r] *= corr;
                        for (int e = 0; e < D; e++)
                            o[(size_t)r * D + e] *= corr;
                    }
                    mx[r] = m;
                    sum[r] += part;
                }
                aic_sgemm(false, false, bq, D, bk, 1.0f, sc, BK, vb + (size_t)j0 * D, D, 1.0f, o, D);
            }
            for (int r = 0; r < bq; r++) {
                const float inv = (float)(1.0 / sum[r]);
                for (int e = 0; e < D; e++)
                    o[(size_t)r * D + e] *= inv;
                lb[i0 + r] = mx[r] + (float)log(sum[r]);
            }
        }
    }
}

aic_status aic_attention_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                                 float *scratch, const aic_attention_dims *d) {
    AIC_TRY(check_args(__func__, d));
    AIC_KERNEL_ARG(d->B == 0 || (out && lse && q && k && v && scratch), "out, lse, q, k, v or scratch is NULL");
    forward_blocks(out, lse, q, k, v, scratch, d);
    return AIC_OK;
}

AIC_CPU_CLONES
static void backward_blocks(float *dq, float *dk, float *dv, float *delta, const float *dout, const float *q,
                            const float *k, const float *v, const float *out, const float *lse, float *scratch,
                            const aic_attention_dims *d) {
    const int T = d->T, S = d->S, D = d->D;
    float *p = scratch, *dp = scratch + (size_t)BQ * BK; /* BQ x BK each */
    for (int64_t b = 0; b < d->B; b++) {
        const size_t qo = (size_t)b * T * D, ko = (size_t)b * S * D;
        const float *qb = q + qo, *kb = k + ko, *vb = v + ko, *gb = dout + qo, *lb = lse + (size_t)b * T;
        float *db = delta + (size_t)b * T;
        /* delta_i = sum_e dout_ie out_ie = sum_j p_ij dp_ij: the softmax backward's row term */
        for (int i = 0; i < T; i++)
            db[i] = (float)aic_row_dot(gb + (size_t)i * D, out + qo + (size_t)i * D, D, 1);
        /* query blocks in order, key blocks in order within each: a fixed order for every sum */
        for (int i0 = 0; i0 < T; i0 += BQ) {
            const int bq = T - i0 < BQ ? T - i0 : BQ;
            const int kend = key_limit(d, i0 + bq - 1);
            for (int j0 = 0; j0 < kend; j0 += BK) {
                const int bk = kend - j0 < BK ? kend - j0 : BK;
                aic_sgemm(false, true, bq, bk, D, d->scale, qb + (size_t)i0 * D, D,
                          kb + (size_t)j0 * D, D, 0.0f, p, BK);
                /* dp = dout V^T */
                aic_sgemm(false, true, bq, bk, D, 1.0f, gb + (size_t)i0 * D, D, vb + (size_t)j0 * D, D, 0.0f, dp, BK);
                for (int r = 0; r < bq; r++) {
                    float *pr = p + (size_t)r * BK, *dr = dp + (size_t)r * BK;
                    int lim = key_limit(d, i0 + r) - j0;
                    lim = lim < 0 ? 0 : lim > bk ? bk : lim;
                    const float l = lb[i0 + r], dl = db[i0 + r];
                    for (int c = 0; c < lim; c++) {
                        pr[c] = aic_expf(pr[c] - l);
                        dr[c] = pr[c] * (dr[c] - dl) * d->scale; /* d(scores before the scale) */
                    }
                    for (int c = lim; c < bk; c++)
                        pr[c] = dr[c] = 0.0f;
                }
                if (dv) /* dv_j += p^T dout */
                    aic_sgemm(true, false, bk, D, bq, 1.0f, p, BK, gb + (size_t)i0 * D,
                              D, 1.0f, dv + ko + (size_t)j0 * D, D);
                if (dq) /* dq_i += ds k */
                    aic_sgemm(false, false, bq, D, bk, 1.0f, dp, BK,
                              kb + (size_t)j0 * D, D, 1.0f, dq + qo + (size_t)i0 * D, D);
                if (dk) /* dk_j += ds^T q */
                    aic_sgemm(true, false, bk, D, bq, 1.0f, dp, BK, qb + (size_t)i0 * D,
                              D, 1.0f, dk + ko + (size_t)j0 * D, D);
            }
        }
    }
}

aic_status aic_attention_backward(float *dq, float *dk, float *dv, float *delta, const float *dout, const float *q,
                                  const float *k, const float *v, const float *out, const float *lse, float *scratch,
                                  const aic_attention_dims *d) {
    AIC_TRY(check_args(__func__, d));
    if (!dq && !dk && !dv)
        return AIC_OK;
    AIC_KERNEL_ARG(d->B == 0 || (delta && dout && q && k && v && out && lse && scratch),
                   "delta, dout, q, k, v, out, lse or scratch is NULL");
    backward_blocks(dq, dk, dv, delta, dout, q, k, v, out, lse, scratch, d);
    return AIC_OK;
}
