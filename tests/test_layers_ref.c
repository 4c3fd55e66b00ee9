// SPDX-License-Identifier: Apache-2.0
/* Reference checks of the layer kernels beyond what tests/test_ops.c checks for every op (gradients,
 * accumulation, repeatability, NULL gradients, oneDNN, CUDA, onnxruntime):
 *  - conv2d and dense forward against naive loops in double;
 *  - semantics that a gradient check cannot see: pooling padding and ceil-mode divisors, maxpool
 *    ties, reduce max/min ties and log_sum_exp past float's exp range, pow on negative values,
 *    batchnorm running statistics, layernorm far from zero, the dropout mask's Philox layout,
 *    softmax stability;
 *  - bad arguments: a status and a last error naming the kernel, nothing written, no crash. */
#include "layers/layers.h"
#include "layers/reduce.h"
#include "layers/resize.h"
#include "layers/slice.h"
#include "layers/unary.h"
#include "tests/test_util.h"

#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *what, int ok, const char *detail) {
    test_count(ok);
    printf("%-54s %-32s %s\n", what, detail, ok ? "ok" : "FAIL");
}

// Report a maximum error against its tolerance.
static void report_err(const char *what, double err, double tol) {
    char detail[64];
    snprintf(detail, sizeof detail, "max err %.2e (tol %.0e)", err, tol);
    report(what, err <= tol, detail);
}

// max |y - ref| / (1 + |ref|)
static double max_err(const float *y, const double *ref, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(y[i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (!(d <= e)) // a NaN makes the error infinite
            e = isnan(d) ? INFINITY : d;
    }
    return e;
}

/* ---- conv2d and dense against naive loops ----
 * Each output is a dot product; its float error is judged against mag, the sum of the absolute values
 * of its terms (rounding grows with it, and a wrong or missing term shows up as ~1/K of it). */

// max |y - ref| / mag
static double dot_err(const float *y, const double *ref, const double *mag, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(y[i] - ref[i]) / (mag[i] + 1e-30);
        if (!(d <= e))
            e = isnan(d) ? INFINITY : d;
    }
    return e;
}

static void conv_naive(double *out, double *mag, const float *inp, const float *weight, const float *bias,
                       const aic_conv2d_dims *d) {
    // out, mag: N x OC x OH x OW
    int Cg = d->C / d->G, OCg = d->OC / d->G;
    for (int n = 0; n < d->N; n++)
        for (int oc = 0; oc < d->OC; oc++)
            for (int oh = 0; oh < d->OH; oh++)
                for (int ow = 0; ow < d->OW; ow++) {
                    int g = oc / OCg;
                    double s = bias ? bias[oc] : 0.0, m = fabs(s);
                    for (int c = 0; c < Cg; c++)
                        for (int kh = 0; kh < d->KH; kh++)
                            for (int kw = 0; kw < d->KW; kw++) {
                                int ih = oh * d->SH - d->PH + kh * d->DH, iw = ow * d->SW - d->PW + kw * d->DW;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W)
                                    continue;
                                double t = (double)inp[(((size_t)n * d->C + g * Cg + c) * d->H + ih) * d->W + iw] *
                                           weight[(((size_t)oc * Cg + c) * d->KH + kh) * d->KW + kw];
                                s += t, m += fabs(t);
                            }
                    size_t o = (((size_t)n * d->OC + oc) * d->OH + oh) * d->OW + ow;
                    out[o] = s, mag[o] = m;
                }
}

static void test_conv_ref(const char *name, int N, int C, int H, int W, int OC, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int G, int with_bias) {
    aic_conv2d_dims d = {N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, 0, 0};
    d.OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    d.OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    size_t ni = (size_t)N * C * H * W, nw = (size_t)OC * (C / G) * KH * KW, no = (size_t)N * OC * d.OH * d.OW;
    float *inp = test_rand_buf(ni, -1, 1), *w = test_rand_buf(nw, -1, 1), *b = with_bias ? test_rand_buf(OC, -1, 1) : NULL;
    float *out = test_alloc(no), *scratch = test_alloc(aic_conv2d_scratch(&d));
    double *ref = malloc(no * sizeof(double)), *mag = malloc(no * sizeof(double));
    CHECK_OK(aic_conv2d_forward(out, inp, w, b, scratch, &d));
    conv_naive(ref, mag, inp, w, b, &d);
    char what[96];
    snprintf(what, sizeof what, "conv2d forward vs naive: %s", name);
    report_err(what, dot_err(out, ref, mag, no), 1e-6);
    free(inp), free(w), free(b), free(out), free(scratch), free(ref), free(mag);
}

static void test_dense_ref(int N, int C, int OC, int with_bias) {
    float *inp = test_rand_buf((size_t)N * C, -1, 1), *w = test_rand_buf((size_t)OC * C, -1, 1);
    float *b = with_bias ? test_rand_buf(OC, -1, 1) : NULL, *out = test_alloc((size_t)N * OC);
    double *ref = malloc((size_t)N * OC * sizeof(double)), *mag = malloc((size_t)N * OC * sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0, m = fabs(s);
            for (int c = 0; c < C; c++) {
                double t = (double)inp[(size_t)n * C + c] * w[(size_t)o * C + c];
                s += t, m += fabs(t);
            }
            ref[(size_t)n * OC + o] = s, mag[(size_t)n * OC + o] = m;
        }
    CHECK_OK(aic_dense_forward(out, inp, w, b, N, C, OC));
    char what[96];
    snprintf(what, sizeof what, "dense forward vs naive: %dx%d -> %d%s", N, C, OC, b ? "" : " no bias");
    report_err(what, dot_err(out, ref, mag, (size_t)N * OC), 1e-6);
    free(inp), free(w), free(b), free(out), free(ref), free(mag);
}

/* ---- semantics ---- */

static void test_pool_semantics(void) {
    // PyTorch: avg_pool2d(ones(1,1,4,4), 3, stride 2, padding 1, ceil_mode=True); the last window
    // starts at row 3 and is clipped to the padded end (rows 3..4): divisor 2 * ..., not 3 * ...
    aic_pool2d_dims d = {1, 1, 4, 4, 3, 3, 2, 2, 1, 1, 3, 3, 1};
    float ones[16], out[9];
    for (int i = 0; i < 16; i++)
        ones[i] = 1.0f;
    static const double f[3] = {2.0 / 3.0, 1.0, 0.5};
    double ref[9], ref_ex[9];
    for (int i = 0; i < 9; i++)
        ref[i] = f[i / 3] * f[i % 3], ref_ex[i] = 1.0;
    CHECK_OK(aic_avgpool2d_forward(out, ones, &d));
    report_err("avgpool ceil count_include_pad as PyTorch", max_err(out, ref, 9), 1e-7);
    d.count_include_pad = 0;
    CHECK_OK(aic_avgpool2d_forward(out, ones, &d));
    report_err("avgpool ceil exclude pad: all ones", max_err(out, ref_ex, 9), 1e-7);

    // maxpool: padding is -inf (a negative input still wins at the border); ties pick the first
    aic_pool2d_dims m = {1, 1, 4, 4, 3, 3, 2, 2, 1, 1, 2, 2, 0};
    float neg[16], mo[4];
    int32_t am[4];
    for (int i = 0; i < 16; i++)
        neg[i] = -5.0f;
    CHECK_OK(aic_maxpool2d_forward(mo, am, neg, &m));
    // windows start at (-1,-1), (-1,1), (1,-1), (1,1): first in-bounds elements 0, 1, 4, 5
    int ok = mo[0] == -5.0f && mo[3] == -5.0f && am[0] == 0 && am[1] == 1 && am[2] == 4 && am[3] == 5;
    report("maxpool padding is -inf, ties pick the first", ok, "");

    // the 2x2 stride-2 path keeps the rule: ties pick the first, the first NaN wins, -inf is a value;
    // windows (row-major): {1,3,3,0} {nan,5,nan,9} {-inf,-inf,-inf,-inf} {2,7,-1,7}
    const float nan = NAN, inf = INFINITY;
    float x[16] = {1, 3, nan, 5, 3, 0, nan, 9, -inf, -inf, 2, 7, -inf, -inf, -1, 7}, y[4];
    int32_t a[4];
    aic_pool2d_dims k2 = {1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, 0};
    CHECK_OK(aic_maxpool2d_forward(y, a, x, &k2));
    ok = y[0] == 3.0f && a[0] == 1 && isnan(y[1]) && a[1] == 2 && y[2] == -inf && a[2] == 8 && y[3] == 7.0f &&
         a[3] == 11;
    report("maxpool 2x2: first of ties, first NaN, -inf", ok, "");
}

// A plan over a contiguous rows x cols input reducing cols (a row per output element).
static aic_reduce_plan row_plan(int64_t rows, int64_t cols) {
    return (aic_reduce_plan){.n_keep = 1, .keep_dim = {rows}, .keep_stride = {cols}, .n_red = 1, .red_dim = {cols},
                             .red_stride = {1}, .n_out = rows, .count = cols};
}

// One axis of n positions copied to out: from position start on with step, the rest by mode.
static aic_slice_plan line_plan(int64_t n, int64_t out, int64_t start, int64_t step, aic_pad_mode mode) {
    return (aic_slice_plan){.ndim = 1, .rows = 1, .xdim = {n}, .odim = {out}, .start = {start}, .step = {step},
                            .mode = mode, .value = 0.5f, .x_numel = n, .o_numel = out};
}

// Slice and pad: numpy's values where a reflection passes more than one mirror image (which the
// harness's pads stay short of), the edges' gradients, and backward's gather (each input position
// finds the outputs that read it) against a plain scatter over the outputs, for every mode.
static void test_slice_semantics(void) {
    const float x3[3] = {1, 2, 3}, x1[1] = {7}, g[13] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    float y[13], dx[10] = {0};
    aic_slice_plan p = line_plan(3, 13, -5, 1, AIC_PAD_REFLECT);
    const float reflect[13] = {2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2}; /* np.pad([1, 2, 3], 5, 'reflect') */
    CHECK_OK(aic_slice_forward(y, x3, &p));
    report("pad reflect past one mirror image (numpy)", memcmp(y, reflect, sizeof reflect) == 0, "");
    CHECK_OK(aic_slice_backward(dx, g, &p));
    report("pad reflect backward: 13 copies of 3 values", dx[0] == 2 + 32 + 512 && dx[2] == 8 + 128 + 2048, "");
    p = line_plan(3, 8, -2, 1, AIC_PAD_EDGE);
    memset(dx, 0, sizeof dx);
    CHECK_OK(aic_slice_backward(dx, g, &p));
    report("pad edge backward: each edge collects its copies", dx[0] == 7 && dx[1] == 8 && dx[2] == 240, "");
    p = line_plan(1, 4, -2, 1, AIC_PAD_REFLECT);
    memset(dx, 0, sizeof dx);
    CHECK_OK(aic_slice_forward(y, x1, &p));
    CHECK_OK(aic_slice_backward(dx, g, &p));
    report("pad reflect of one position: its copies", y[0] == 7 && y[3] == 7 && dx[0] == 15, "");
    p = line_plan(3, 5, -1, 1, AIC_PAD_CONSTANT);
    CHECK_OK(aic_slice_forward(y, x3, &p));
    report("pad constant: the value around x", y[0] == 0.5f && y[1] == 1 && y[3] == 3 && y[4] == 0.5f, "");

    /* 2 rows of 2-D inputs: reflect far out, edge of a 1-wide axis, a backward slice with steps, and a
     * crop with padding on the other side */
    const aic_slice_plan plans[4] = {
        {2, 2, {3, 4}, {12, 9}, {-5, -2}, {1, 1}, AIC_PAD_REFLECT, 0, 12, 108},
        {2, 2, {1, 5}, {4, 9}, {-2, -3}, {1, 1}, AIC_PAD_EDGE, 0, 5, 36},
        {2, 2, {7, 6}, {3, 2}, {6, 1}, {-3, 4}, AIC_PAD_CONSTANT, 0, 42, 6},
        {2, 2, {5, 4}, {4, 7}, {2, -2}, {1, 1}, AIC_PAD_CONSTANT, 0.25f, 20, 28},
    };
    for (int k = 0; k < 4; k++) {
        const aic_slice_plan *q = &plans[k];
        float gs[216], got[84] = {0};
        double want[84] = {0};
        for (int64_t o = 0; o < q->rows * q->o_numel; o++)
            gs[o] = test_frand(-1, 1);
        for (int64_t o = 0; o < q->rows * q->o_numel; o++) {
            const int64_t a = aic_slice_src(q, 0, o % q->o_numel / q->odim[1]), b = aic_slice_src(q, 1, o % q->odim[1]);
            if (a >= 0 && b >= 0)
                want[o / q->o_numel * q->x_numel + a * q->xdim[1] + b] += gs[o];
        }
        CHECK_OK(aic_slice_backward(got, gs, q));
        double err = 0;
        for (int64_t i = 0; i < q->rows * q->x_numel; i++)
            err = fmax(err, fabs(got[i] - want[i]));
        char what[64];
        snprintf(what, sizeof what, "slice backward: gather = scatter, %s plan %d", aic_pad_mode_name(q->mode), k);
        report_err(what, err, 1e-6);
    }
}

// max and min send the gradient to the first extreme element of a tie; log_sum_exp of values where
// exp overflows (and underflows) float; a NaN wins max
static void test_reduce_semantics(void) {
    const aic_reduce_plan p = row_plan(1, 5);
    const float x[5] = {1, 3, -2, 3, -2}, g = 1.5f;
    float y, dx[5] = {0};
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_MAX, &y, x, &p));
    CHECK_OK(aic_reduce_backward(AIC_REDUCE_MAX, dx, &g, x, &y, &p));
    report("reduce max tie: all to the first maximum", y == 3 && dx[1] == g && dx[3] == 0 && dx[0] == 0, "");
    memset(dx, 0, sizeof dx);
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_MIN, &y, x, &p));
    CHECK_OK(aic_reduce_backward(AIC_REDUCE_MIN, dx, &g, x, &y, &p));
    report("reduce min tie: all to the first minimum", y == -2 && dx[2] == g && dx[4] == 0, "");
    const float big[5] = {100, 101, 99, 100.5f, 50}, tiny[5] = {-300, -299, -301, -299.5f, -350};
    double s = 0;
    for (int i = 0; i < 5; i++)
        s += exp((double)big[i] - 101.0);
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_LOG_SUM_EXP, &y, big, &p));
    report("log_sum_exp of values near 100 (exp overflows)", fabs(y - (101.0 + log(s))) < 1e-6 * 101, ""); // float: 1e-6 relative
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_LOG_SUM_EXP, &y, tiny, &p));
    report("log_sum_exp of values near -300 (exp underflows)", fabs(y - (-299.0 + log(s))) < 1e-6 * 299, "");
    const float nan_in[3] = {1, NAN, 2};
    const aic_reduce_plan p3 = row_plan(1, 3);
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_MAX, &y, nan_in, &p3));
    report("reduce max with a NaN: NaN", isnan(y), "");
    // max: a NaN operand wins; a tie sends half the gradient to each side (torch.maximum)
    const aic_binary_dims bd = {.ndim = 1, .shape = {2}, .astride = {1}, .bstride = {1}};
    const float ma[2] = {2, NAN}, mb[2] = {2, 1}, mg[2] = {1, 1};
    float mo[2], dma[2] = {0}, dmb[2] = {0};
    CHECK_OK(aic_binary_forward(mo, ma, mb, AIC_BINARY_MAX, &bd));
    CHECK_OK(aic_binary_backward(dma, dmb, mg, ma, mb, AIC_BINARY_MAX, &bd, 0));
    report("binary max: tie halves the gradient, NaN wins", mo[0] == 2 && isnan(mo[1]) && dma[0] == 0.5f &&
           dmb[0] == 0.5f && dma[1] == 1 && dmb[1] == 0, "");
    // prod's gradient at a zero is the others' product, not y / x; l1's is the sign
    const float z[3] = {2, 0, 3};
    float dz[3] = {0};
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_PROD, &y, z, &p3));
    CHECK_OK(aic_reduce_backward(AIC_REDUCE_PROD, dz, &g, z, &y, &p3));
    report("reduce prod with a zero: 0, gradient 0, 6 g, 0", y == 0 && dz[0] == 0 && dz[1] == 6 * g && dz[2] == 0, "");
    const float sgn[3] = {-2, 0, 3};
    memset(dz, 0, sizeof dz);
    CHECK_OK(aic_reduce_forward(AIC_REDUCE_L1, &y, sgn, &p3));
    CHECK_OK(aic_reduce_backward(AIC_REDUCE_L1, dz, &g, sgn, &y, &p3));
    report("reduce l1: 5, gradient -g, 0, g", y == 5 && dz[0] == -g && dz[1] == 0 && dz[2] == g, "");
    // pow: torch.pow's integer exponents on negative values
    const float e2 = 2, e3 = 3, eh = 0.5f;
    report("pow(-3, 2) = 9, pow(-2, 3) = -8, pow(-1, 0.5) NaN",
           aic_pow_f(-3, &e2) == 9 && aic_pow_f(-2, &e3) == -8 && isnan(aic_pow_f(-1, &eh)), "");
    report("pow grad at -3, exponent 2: -6", aic_pow_grad(1, -3, 9, &e2) == -6, "");
}

static void test_relu_semantics(void) {
    // backward passes nothing where the output is not positive, whatever dout holds, and adds no +0
    // onto a -0 gradient; forward lets a NaN through
    float out[4] = {0.0f, -0.0f, 2.0f, 3.0f}, dout[4] = {NAN, INFINITY, 1.5f, 4.0f};
    float dinp[4] = {-0.0f, 1.0f, -0.0f, 2.0f}, x = NAN, y;
    CHECK_OK(aic_unary_backward(AIC_UNARY_RELU, dinp, dout, out, out, 4, NULL)); // relu's gradient reads y only
    int ok = dinp[0] == 0.0f && signbit(dinp[0]) && dinp[1] == 1.0f && dinp[2] == 1.5f && dinp[3] == 6.0f;
    CHECK_OK(aic_unary_forward(AIC_UNARY_RELU, &y, &x, 1, NULL));
    report("relu: masked gradient untouched, NaN passes", ok && isnan(y), "");
}

static void test_batchnorm_semantics(void) {
    enum { N = 4, C = 3, S = 5 };
    float *x = test_rand_buf(N * C * S, -2, 3), gamma[C], beta[C], out[N * C * S], mean[C], invstd[C];
    float rm[C], rv[C], eval_out[N * C * S];
    double ref_rm[C], ref_rv[C], ref_out[N * C * S], ref_eval[N * C * S];
    const float mom = 0.1f, eps = 1e-5f;
    for (int c = 0; c < C; c++) {
        gamma[c] = test_frand(0.5f, 1.5f), beta[c] = test_frand(-1, 1), rm[c] = test_frand(-1, 1), rv[c] = test_frand(0.5f, 2);
        double s = 0, q = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++)
                s += x[(n * C + c) * S + i];
        double mu = s / (N * S);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++)
                q += (x[(n * C + c) * S + i] - mu) * (x[(n * C + c) * S + i] - mu);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++)
                ref_out[(n * C + c) * S + i] = (x[(n * C + c) * S + i] - mu) / sqrt(q / (N * S) + eps) * gamma[c] + beta[c];
        ref_rm[c] = (1 - mom) * rm[c] + mom * mu;
        ref_rv[c] = (1 - mom) * rv[c] + mom * q / (N * S - 1);
    }
    CHECK_OK(aic_batchnorm_forward_train(out, mean, invstd, rm, rv, x, gamma, beta, N, C, S, mom, eps));
    report_err("batchnorm train output (biased var)", max_err(out, ref_out, N * C * S), 1e-5);
    report_err("batchnorm running mean", max_err(rm, ref_rm, C), 1e-6);
    report_err("batchnorm running var (unbiased)", max_err(rv, ref_rv, C), 1e-6);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < N * S; i++) {
            int k = (i / S * C + c) * S + i % S;
            ref_eval[k] = (x[k] - rm[c]) / sqrt((double)rv[c] + eps) * gamma[c] + beta[c];
        }
    CHECK_OK(aic_batchnorm_forward_eval(eval_out, x, gamma, beta, rm, rv, N, C, S, eps));
    report_err("batchnorm eval vs naive", max_err(eval_out, ref_eval, N * C * S), 1e-5);

    // one value per channel: output beta, running var decays toward 0 without a 0/0
    float x1 = 3.0f, o1, m1, is1, rm1 = 0.5f, rv1 = 2.0f, g1 = 1.5f, b1 = 0.25f;
    CHECK_OK(aic_batchnorm_forward_train(&o1, &m1, &is1, &rm1, &rv1, &x1, &g1, &b1, 1, 1, 1, mom, eps));
    int ok = o1 == b1 && fabsf(rm1 - (0.9f * 0.5f + 0.1f * 3.0f)) < 1e-6f && fabsf(rv1 - 0.9f * 2.0f) < 1e-6f;
    report("batchnorm N*S == 1: finite running var", ok, "");
    free(x);
}

// layernorm against naive double loops, also far from zero (|mean| >> std: the two-pass variance keeps
// the statistics), and without the affine part
static void test_layernorm_semantics(void) {
    enum { R = 5, K = 7 };
    float x[R * K], w[K], b[K], out[R * K], mean[R], rstd[R];
    double ref[R * K], ref_plain[R * K];
    const float eps = 1e-5f;
    for (int c = 0; c < K; c++)
        w[c] = test_frand(0.5f, 1.5f), b[c] = test_frand(-1, 1);
    for (int r = 0; r < R; r++) {
        const float offset = r == R - 1 ? 1000.0f : 0.0f; // the last row far from zero
        for (int c = 0; c < K; c++)
            x[r * K + c] = offset + test_frand(-2, 3);
        double s = 0, q = 0;
        for (int c = 0; c < K; c++)
            s += x[r * K + c];
        const double mu = s / K;
        for (int c = 0; c < K; c++)
            q += (x[r * K + c] - mu) * (x[r * K + c] - mu);
        for (int c = 0; c < K; c++) {
            ref_plain[r * K + c] = (x[r * K + c] - mu) / sqrt(q / K + eps);
            ref[r * K + c] = ref_plain[r * K + c] * w[c] + b[c];
        }
    }
    CHECK_OK(aic_layernorm_forward(out, mean, rstd, x, w, b, R, K, eps));
    report_err("layernorm output (one row at 1000 + U(-2, 3))", max_err(out, ref, R * K), 1e-5);
    CHECK_OK(aic_layernorm_forward(out, mean, rstd, x, NULL, NULL, R, K, eps));
    report_err("layernorm without weight and bias", max_err(out, ref_plain, R * K), 1e-5);
    // a constant row: variance 0, output bias (eps keeps 1/std finite)
    float c1[3] = {2, 2, 2}, o1[3], m1, s1;
    CHECK_OK(aic_layernorm_forward(o1, &m1, &s1, c1, w, b, 1, 3, eps));
    report("layernorm constant row: output bias", o1[0] == b[0] && o1[1] == b[1] && o1[2] == b[2] && m1 == 2.0f, "");
}

/* matmul against naive loops in double: batch 2 x heads 3, a [2, 1, M, K] broadcast over the heads,
 * b [2, 3, K, N]; backward's da sums the three heads' dy b^T, and calling it twice doubles it (+=). */
static void test_matmul_semantics(void) {
    enum { B = 2, H = 3, M = 4, K = 5, N = 3 };
    float a[B * M * K], b[B * H * K * N], out[B * H * M * N], dy[B * H * M * N], da[B * M * K], db[B * H * K * N];
    double ref[B * H * M * N], mag[B * H * M * N], rda[B * M * K], rdb[B * H * K * N];
    for (size_t i = 0; i < sizeof a / sizeof *a; i++)
        a[i] = test_frand(-1, 1);
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        b[i] = test_frand(-1, 1);
    for (size_t i = 0; i < sizeof dy / sizeof *dy; i++)
        dy[i] = test_frand(-1, 1);
    memset(rda, 0, sizeof rda);
    memset(rdb, 0, sizeof rdb);
    for (int n = 0; n < B; n++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    const size_t o = (((size_t)n * H + h) * M + i) * N + j;
                    double s = 0, m = 0;
                    for (int k = 0; k < K; k++) {
                        const double x = a[(n * M + i) * K + k], w = b[((n * H + h) * K + k) * N + j];
                        s += x * w, m += fabs(x * w);
                        rda[(n * M + i) * K + k] += dy[o] * w;
                        rdb[((n * H + h) * K + k) * N + j] += dy[o] * x;
                    }
                    ref[o] = s, mag[o] = m;
                }
    const aic_matmul_dims d = {M, K, N, 2, {B, H}, {1, 0}, {H, 1}};
    CHECK_OK(aic_matmul_forward(out, a, b, &d));
    report_err("matmul [1, M, K] x [3, K, N] (a broadcast over the heads)", dot_err(out, ref, mag, B * H * M * N),
               1e-6);
    memset(da, 0, sizeof da);
    memset(db, 0, sizeof db);
    CHECK_OK(aic_matmul_backward(da, db, dy, a, b, &d, 0));
    report_err("matmul backward da (summed over the heads)", max_err(da, rda, B * M * K), 1e-5);
    report_err("matmul backward db", max_err(db, rdb, B * H * K * N), 1e-5);
    for (size_t i = 0; i < B * H * K * N; i++)
        db[i] = NAN; /* b is not broadcast: its gradient may be written over whatever it held */
    CHECK_OK(aic_matmul_backward(NULL, db, dy, a, b, &d, AIC_GRAD_WRITE_B));
    report_err("matmul backward writes db (=)", max_err(db, rdb, B * H * K * N), 1e-5);
    for (size_t i = 0; i < B * M * K; i++)
        rda[i] *= 2;
    CHECK_OK(aic_matmul_backward(da, NULL, dy, a, b, &d, 0));
    report_err("matmul backward accumulates (+=)", max_err(da, rda, B * M * K), 1e-5);
}

// max |got - want| over the largest |want|
static double rel_to_max(const float *got, const float *want, size_t n) {
    double e = 0.0, big = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]);
        e = d > e || isnan(d) ? (isnan(d) ? INFINITY : d) : e;
        big = fabs(want[i]) > big ? fabs(want[i]) : big;
    }
    return e / (big > 0 ? big : 1.0);
}

/* The fused attention kernels against the unfused path (the matmul and softmax kernels, the scores
 * held whole), forward and backward, for shapes that span several blocks of queries and keys. */
static void test_attention_ref(const char *name, int B, int T, int S, int D, bool causal) {
    const aic_attention_dims d = {B, T, S, D, causal, 1.0f / sqrtf((float)D)};
    const size_t nq = (size_t)B * T * D, nk = (size_t)B * S * D, ns = (size_t)B * T * S;
    float *q = test_rand_buf(nq, -2, 2), *k = test_rand_buf(nk, -2, 2), *v = test_rand_buf(nk, -1, 1);
    float *dout = test_rand_buf(nq, -1, 1), *kt = test_alloc(nk), *dkt = test_alloc(nk), *p = test_alloc(ns);
    float *dp = test_alloc(ns), *dsc = test_alloc(ns), *out = test_alloc(nq), *ref = test_alloc(nq);
    float *dq = test_alloc(nq), *dk = test_alloc(nk), *dv = test_alloc(nk), *rdq = test_alloc(nq);
    float *rdk = test_alloc(nk), *rdv = test_alloc(nk), *lse = test_alloc(2 * (size_t)B * T);
    float *scratch = test_alloc(aic_attention_scratch());
    for (int b = 0; b < B; b++)
        for (int j = 0; j < S; j++)
            for (int e = 0; e < D; e++)
                kt[((size_t)b * D + e) * S + j] = k[((size_t)b * S + j) * D + e];
    const aic_matmul_dims qk = {T, D, S, 1, {B}, {1}, {1}}, pv = {T, S, D, 1, {B}, {1}, {1}};
    CHECK_OK(aic_matmul_forward(p, q, kt, &qk));
    for (size_t r = 0; r < (size_t)B * T; r++)
        for (int j = 0; j < S; j++)
            p[r * S + j] = causal && j > (int)(r % T) + S - T ? -INFINITY : p[r * S + j] * d.scale;
    CHECK_OK(aic_softmax_forward(p, p, (size_t)B * T, S, 1));
    CHECK_OK(aic_matmul_forward(ref, p, v, &pv));
    CHECK_OK(aic_matmul_backward(dp, rdv, dout, p, v, &pv, 0));
    CHECK_OK(aic_softmax_backward(dsc, dp, p, (size_t)B * T, S, 1, false));
    for (size_t i = 0; i < ns; i++)
        dsc[i] *= d.scale;
    CHECK_OK(aic_matmul_backward(rdq, dkt, dsc, q, kt, &qk, 0));
    for (int b = 0; b < B; b++)
        for (int j = 0; j < S; j++)
            for (int e = 0; e < D; e++)
                rdk[((size_t)b * S + j) * D + e] = dkt[((size_t)b * D + e) * S + j];

    CHECK_OK(aic_attention_forward(out, lse, q, k, v, scratch, &d));
    CHECK_OK(aic_attention_backward(dq, dk, dv, lse + (size_t)B * T, dout, q, k, v, out, lse, scratch, &d));
    const double e = fmax(fmax(rel_to_max(out, ref, nq), rel_to_max(dq, rdq, nq)),
                          fmax(rel_to_max(dk, rdk, nk), rel_to_max(dv, rdv, nk)));
    char what[96];
    snprintf(what, sizeof what, "attention %s: fused = unfused, out, dq, dk, dv", name);
    report_err(what, e, 1e-5);
    float *bufs[] = {q, k, v, dout, kt, dkt, p, dp, dsc, out, ref, dq, dk, dv, rdq, rdk, rdv, lse, scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
}

static void test_dropout_semantics(void) {
    enum { N = 50, F = 101 }; // F odd: four-element Philox blocks straddle rows
    const float p = 0.3f;
    const uint64_t key = 0x5EEDull;
    const int64_t row0 = 7;
    float *x = test_rand_buf(N * F, 0.5f, 1.5f), *out = test_alloc(N * F), *split = test_alloc(N * F);
    CHECK_OK(aic_dropout_forward(out, x, N, F, p, key, row0));
    // the documented layout: element (i, j) reads word e % 4 of Philox block e / 4, e = (row0 + i) F + j
    int ok = 1;
    size_t kept = 0;
    for (size_t k = 0; k < (size_t)N * F; k++) {
        uint64_t e = (uint64_t)row0 * F + k;
        int keep = aic_u32_to_unit(aic_philox(key, 0, e / 4).v[e % 4]) >= p;
        kept += keep;
        ok &= out[k] == (keep ? x[k] * (1.0f / (1.0f - p)) : 0.0f);
    }
    report("dropout mask follows the Philox layout", ok, "");
    char detail[64];
    double rate = (double)kept / (N * F);
    snprintf(detail, sizeof detail, "kept %.3f (expect 0.70 +- 0.03)", rate);
    report("dropout keep rate", fabs(rate - 0.7) < 0.03, detail);
    // the same rows computed as two shards (ranks) give the same bits
    CHECK_OK(aic_dropout_forward(split, x, 20, F, p, key, row0));
    CHECK_OK(aic_dropout_forward(split + 20 * F, x + 20 * F, N - 20, F, p, key, row0 + 20));
    report("dropout mask independent of the batch split", memcmp(out, split, sizeof(float) * N * F) == 0, "");
    CHECK_OK(aic_dropout_forward(out, x, N, F, 0.0f, key, row0));
    report("dropout p = 0 is the identity", memcmp(out, x, sizeof(float) * N * F) == 0, "");
    CHECK_OK(aic_dropout_forward(out, x, N, F, 1.0f, key, row0));
    ok = 1;
    for (size_t k = 0; k < (size_t)N * F; k++)
        ok &= out[k] == 0.0f;
    report("dropout p = 1 gives zeros (no inf * 0)", ok, "");
    free(x), free(out), free(split);
}

/* The classification losses' dims for N x K scores, one label per row. */
#define XENT(N, K) (&(aic_xent_dims){.outer = (N), .inner = 1, .C = (K)})

static void test_losses(void) {
    enum { N = 5, K = 6 };
    float *logits = test_rand_buf(N * K, -3, 3), probs[N * K];
    int32_t labels[N] = {0, 5, 2, 2, 3};
    double ref = 0.0, ref_p[N * K];
    for (int i = 0; i < N; i++) {
        double z = 0;
        for (int j = 0; j < K; j++)
            z += exp(logits[i * K + j]);
        for (int j = 0; j < K; j++)
            ref_p[i * K + j] = exp(logits[i * K + j]) / z;
        ref -= log(ref_p[i * K + labels[i]]) / N;
    }
    float loss = NAN;
    CHECK_OK(aic_softmax_xent_forward(&loss, probs, logits, labels, XENT(N, K)));
    report_err("softmax_xent loss vs naive", fabs(loss - ref) / (1 + fabs(ref)), 1e-6);
    report_err("softmax_xent probs vs naive", max_err(probs, ref_p, N * K), 1e-6);
    // huge logits: exp would overflow without the max subtracted; loss = log(1 + e^-1000...) etc.
    float big[4] = {1000.0f, 0.0f, -1000.0f, 999.0f}, bp[4];
    int32_t bl[1] = {2};
    CHECK_OK(aic_softmax_xent_forward(&loss, bp, big, bl, XENT(1, 4)));
    double want = 2000.0 + log(1.0 + exp(-1.0));
    int ok = isfinite(loss) && fabs(loss - want) < 1e-3 && isfinite(bp[0]) && bp[2] == 0.0f;
    report("softmax_xent stable at |logit| = 1000", ok, "");
    loss = NAN;
    CHECK_OK(aic_softmax_xent_forward(&loss, bp, big, bl, XENT(0, 4)));
    report("softmax_xent N == 0 gives 0", loss == 0.0f, "");

    float pred[7], target[7];
    double ms = 0;
    for (int i = 0; i < 7; i++) {
        pred[i] = test_frand(-2, 2), target[i] = test_frand(-2, 2);
        ms += ((double)pred[i] - target[i]) * ((double)pred[i] - target[i]) / 7;
    }
    float mse = NAN;
    CHECK_OK(aic_mse_forward(&mse, pred, target, 7));
    report_err("mse vs naive", fabs(mse - ms) / (1 + ms), 1e-6);
    free(logits);
}

/* ---- softmax, log_softmax, leaky_relu, clip, nll against naive double loops ---- */

static void test_new_ops(void) {
    enum { O = 3, K = 4, I = 5, NE = O * K * I };
    float *x = test_rand_buf(NE, -4, 4), y[NE], ly[NE];
    double ref[NE], lref[NE];
    for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++) {
            double z = 0;
            for (int k = 0; k < K; k++)
                z += exp(x[(o * K + k) * I + i]);
            for (int k = 0; k < K; k++) {
                ref[(o * K + k) * I + i] = exp(x[(o * K + k) * I + i]) / z;
                lref[(o * K + k) * I + i] = x[(o * K + k) * I + i] - log(z);
            }
        }
    CHECK_OK(aic_softmax_forward(y, x, O, K, I));
    CHECK_OK(aic_log_softmax_forward(ly, x, O, K, I));
    report_err("softmax (middle axis) vs naive", max_err(y, ref, NE), 1e-6);
    report_err("log_softmax (middle axis) vs naive", max_err(ly, lref, NE), 1e-6);
    // rows of the softmax sum to 1
    double worst = 0;
    for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++) {
            double t = 0;
            for (int k = 0; k < K; k++)
                t += y[(o * K + k) * I + i];
            worst = fmax(worst, fabs(t - 1.0));
        }
    report_err("softmax sums to 1 along the axis", worst, 1e-6);

    // huge inputs: no overflow; log_softmax stays finite where the softmax underflows to 0
    float big[4] = {1000.0f, 0.0f, -1000.0f, 999.0f}, bs[4], bl[4];
    CHECK_OK(aic_softmax_forward(bs, big, 1, 4, 1));
    CHECK_OK(aic_log_softmax_forward(bl, big, 1, 4, 1));
    double lse = 1000.0 + log(1.0 + exp(-1.0));
    int ok = fabs(bs[0] - 1.0 / (1.0 + exp(-1.0))) < 1e-6 && bs[2] == 0.0f && isfinite(bl[2]) &&
             fabs(bl[2] - (-1000.0 - lse)) < 1e-3 && fabs(bl[3] - (999.0 - lse)) < 1e-4;
    report("softmax, log_softmax stable at |x| = 1000", ok, "");

    // nll of log_softmax is softmax cross-entropy
    enum { N = 4, C = 6 };
    float *logits = test_rand_buf(N * C, -3, 3), lp[N * C], probs[N * C];
    int32_t labels[N] = {5, 0, 3, 3};
    CHECK_OK(aic_log_softmax_forward(lp, logits, N, C, 1));
    double nref = 0;
    for (int i = 0; i < N; i++)
        nref -= (double)lp[i * C + labels[i]] / N;
    float nll = NAN, xent = NAN, nll0 = NAN;
    CHECK_OK(aic_nll_forward(&nll, lp, labels, XENT(N, C)));
    report_err("nll vs naive", fabs(nll - nref) / (1 + fabs(nref)), 1e-6);
    CHECK_OK(aic_softmax_xent_forward(&xent, probs, logits, labels, XENT(N, C)));
    report_err("nll(log_softmax) == softmax_xent", fabs(nll - xent) / (1 + fabs(xent)), 1e-6);
    CHECK_OK(aic_nll_forward(&nll0, lp, labels, XENT(0, C)));
    report("nll N == 0 gives 0", nll0 == 0.0f, "");
    float dlp[N * C] = {0};
    CHECK_OK(aic_nll_backward(dlp, labels, XENT(N, C), &(const float){2.0f}));
    ok = 1;
    for (int i = 0; i < N * C; i++)
        ok &= dlp[i] == (i % C == labels[i / C] ? -0.5f : 0.0f);
    report("nll backward: -dloss/N at the label only", ok, "");

    // leaky_relu: forward vs naive, slope from the input's sign (alpha at 0, as PyTorch)
    float lx[5] = {-2.0f, -0.0f, 0.0f, 3.0f, NAN}, lo[5], ld[5] = {0}, ones[5] = {1, 1, 1, 1, 1};
    const float alpha = 0.01f;
    CHECK_OK(aic_unary_forward(AIC_UNARY_LEAKY_RELU, lo, lx, 5, &alpha));
    CHECK_OK(aic_unary_backward(AIC_UNARY_LEAKY_RELU, ld, ones, lx, lo, 5, &alpha));
    ok = lo[0] == -0.02f && lo[1] == 0.0f && lo[2] == 0.0f && lo[3] == 3.0f && isnan(lo[4]) && ld[0] == 0.01f &&
         ld[2] == 0.01f && ld[3] == 1.0f;
    report("leaky_relu: values, slope alpha at 0, NaN passes", ok, "");

    // clip: torch.clamp semantics, gradient at the boundaries, NaN forward, infinite bounds
    float cx[6] = {-1.0f, 0.0f, 3.0f, 6.0f, 7.0f, NAN}, co[6], cd[6] = {0}, c1[6] = {1, 1, 1, 1, 1, 1};
    CHECK_OK(aic_clip_forward(co, cx, 6, 0.0f, 6.0f)); // ReLU6
    CHECK_OK(aic_clip_backward(cd, c1, cx, 6, 0.0f, 6.0f));
    ok = co[0] == 0.0f && co[1] == 0.0f && co[2] == 3.0f && co[3] == 6.0f && co[4] == 6.0f && isnan(co[5]) &&
         cd[0] == 0.0f && cd[1] == 1.0f && cd[2] == 1.0f && cd[3] == 1.0f && cd[4] == 0.0f && cd[5] == 0.0f;
    report("clip [0, 6]: values, gradient 1 at lo and hi, NaN", ok, "");
    float ix[3] = {-1e30f, 0.5f, 1e30f}, io[3];
    CHECK_OK(aic_clip_forward(io, ix, 3, -INFINITY, 1.0f));
    ok = io[0] == -1e30f && io[1] == 0.5f && io[2] == 1.0f;
    CHECK_OK(aic_clip_forward(io, ix, 3, 0.0f, INFINITY));
    ok &= io[0] == 0.0f && io[1] == 0.5f && io[2] == 1e30f;
    report("clip with an infinite bound leaves that side open", ok, "");
    free(x), free(logits);
}

/* ---- bad arguments: every kernel returns a status ---- */

// st is the failure `want` and the last error names `kernel`.
static void expect_fail(const char *what, aic_status st, aic_status want, const char *kernel) {
    char detail[64];
    snprintf(detail, sizeof detail, "%s", aic_status_string(st));
    const bool ok = st == want && strstr(aic_last_error(), kernel) == aic_last_error();
    report(what, ok, detail);
    if (!ok)
        printf("    last error: %s\n", aic_last_error());
}

static void test_bad_arguments(void) {
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8], w[8] = {0}, sentinel = -7.0f, loss = sentinel;
    for (int i = 0; i < 8; i++)
        y[i] = sentinel;
    expect_fail("dense: NULL out", aic_dense_forward(NULL, x, w, NULL, 2, 2, 2), AIC_ERR_INVALID_ARG,
                "aic_dense_forward:");
    expect_fail("dense: C = 0", aic_dense_forward(y, x, w, NULL, 2, 0, 2), AIC_ERR_INVALID_ARG,
                "aic_dense_forward:");
    expect_fail("dense backward: N < 0", aic_dense_backward(y, NULL, NULL, x, x, w, -1, 2, 2, 0),
                AIC_ERR_INVALID_ARG, "aic_dense_backward:");

    aic_conv2d_dims cd = {1, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3};
    float scratch[2 * 9 * 9];
    cd.OH = 4; // the formula gives 3
    expect_fail("conv2d: output size off the formula", aic_conv2d_forward(y, x, w, NULL, scratch, &cd),
                AIC_ERR_SHAPE, "aic_conv2d_forward:");
    cd.OH = 3, cd.G = 3;
    expect_fail("conv2d: groups do not divide channels", aic_conv2d_backward(y, w, NULL, x, x, w, scratch, &cd),
                AIC_ERR_SHAPE, "aic_conv2d_backward:");
    cd.G = 1;
    expect_fail("conv2d: scratch NULL where needed", aic_conv2d_forward(y, x, w, NULL, NULL, &cd),
                AIC_ERR_INVALID_ARG, "aic_conv2d_forward:");
    expect_fail("conv2d: dims NULL", aic_conv2d_forward(y, x, w, NULL, scratch, NULL), AIC_ERR_INVALID_ARG,
                "aic_conv2d_forward:");

    aic_conv_transpose2d_dims td = {1, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 4, 4};
    td.OW = 0;
    expect_fail("conv_transpose2d: output width 0", aic_conv_transpose2d_forward(y, x, w, NULL, scratch, &td),
                AIC_ERR_INVALID_ARG, "aic_conv_transpose2d_forward:");
    td.OW = 4, td.G = 3;
    expect_fail("conv_transpose2d: groups do not divide channels",
                aic_conv_transpose2d_backward(y, w, NULL, x, x, w, scratch, &td), AIC_ERR_SHAPE,
                "aic_conv_transpose2d_backward:");
    td.G = 1;
    expect_fail("conv_transpose2d: scratch NULL where needed",
                aic_conv_transpose2d_forward(y, x, w, NULL, NULL, &td), AIC_ERR_INVALID_ARG,
                "aic_conv_transpose2d_forward:");
    expect_fail("conv_transpose2d backward: NULL weight for dinp",
                aic_conv_transpose2d_backward(y, NULL, NULL, x, x, NULL, scratch, &td), AIC_ERR_INVALID_ARG,
                "aic_conv_transpose2d_backward:");

    aic_resize2d_dims rd = {1, 1, 2, 2, 4, 4, AIC_RESIZE_LINEAR, AIC_RESIZE_HALF_PIXEL, 0, 2.0f, 0.0f};
    expect_fail("resize2d: scale 0", aic_resize2d_forward(y, x, &rd), AIC_ERR_INVALID_ARG, "aic_resize2d_forward:");
    rd.scale_w = 2.0f, rd.coord = 9;
    expect_fail("resize2d: coordinate mode 9", aic_resize2d_forward(y, x, &rd), AIC_ERR_INVALID_ARG,
                "aic_resize2d_forward:");
    rd.coord = AIC_RESIZE_HALF_PIXEL;
    expect_fail("resize2d backward: NULL dout", aic_resize2d_backward(y, NULL, &rd), AIC_ERR_INVALID_ARG,
                "aic_resize2d_backward:");

    aic_pool2d_dims pd = {1, 1, 2, 2, 2, 2, 0, 2, 0, 0, 1, 1, 0}; // stride 0
    int32_t am[8];
    expect_fail("maxpool: stride 0", aic_maxpool2d_forward(y, am, x, &pd), AIC_ERR_INVALID_ARG,
                "aic_maxpool2d_forward:");
    expect_fail("avgpool backward: dims NULL", aic_avgpool2d_backward(y, x, NULL), AIC_ERR_INVALID_ARG,
                "aic_avgpool2d_backward:");
    pd.SH = 2;
    report("maxpool backward: NULL dinp is skipped", aic_maxpool2d_backward(NULL, x, NULL, &pd) == AIC_OK, "");
    expect_fail("global_avgpool: S = 0", aic_global_avgpool_forward(y, x, 1, 2, 0), AIC_ERR_INVALID_ARG,
                "aic_global_avgpool_forward:");

    expect_fail("softmax: K = 0", aic_softmax_forward(y, x, 2, 0, 1), AIC_ERR_INVALID_ARG, "aic_softmax_forward:");
    expect_fail("log_softmax backward: NULL dout", aic_log_softmax_backward(y, NULL, x, 2, 4, 1, false),
                AIC_ERR_INVALID_ARG, "aic_log_softmax_backward:");
    expect_fail("clip: lo > hi", aic_clip_forward(y, x, 8, 1.0f, 0.0f), AIC_ERR_INVALID_ARG, "aic_clip_forward:");
    expect_fail("clip: NaN bound", aic_clip_backward(y, x, x, 8, NAN, 1.0f), AIC_ERR_INVALID_ARG,
                "aic_clip_backward:");

    float g[2] = {1, 1}, b[2] = {0, 0};
    expect_fail("batchnorm: C = 0", aic_batchnorm_forward_eval(y, x, g, b, b, g, 2, 0, 2, 1e-5f), AIC_ERR_INVALID_ARG,
                "aic_batchnorm_forward_eval:");
    expect_fail("batchnorm train: NULL running_var",
                aic_batchnorm_forward_train(y, w, w, w, NULL, x, g, b, 2, 2, 2, 0.1f, 1e-5f), AIC_ERR_INVALID_ARG,
                "aic_batchnorm_forward_train:");
    expect_fail("layernorm: cols = 0", aic_layernorm_forward(y, w, w, x, g, b, 2, 0, 1e-5f), AIC_ERR_INVALID_ARG,
                "aic_layernorm_forward:");
    expect_fail("layernorm: eps negative", aic_layernorm_forward(y, w, w, x, g, b, 2, 2, -1.0f), AIC_ERR_INVALID_ARG,
                "aic_layernorm_forward:");
    expect_fail("layernorm backward: NULL rstd", aic_layernorm_backward(y, g, b, x, x, g, w, NULL, 2, 2),
                AIC_ERR_INVALID_ARG, "aic_layernorm_backward:");
    const aic_reduce_plan rp = row_plan(2, 2), bad = {.n_keep = 1, .keep_dim = {2}, .keep_stride = {2}, .n_red = 1,
                                                      .red_dim = {2}, .red_stride = {1}, .n_out = 3, .count = 2};
    expect_fail("reduce: kind 99", aic_reduce_forward((aic_reduce_kind)99, y, x, &rp), AIC_ERR_INVALID_ARG,
                "aic_reduce_forward:");
    expect_fail("reduce: plan counts disagree", aic_reduce_forward(AIC_REDUCE_SUM, y, x, &bad), AIC_ERR_INVALID_ARG,
                "aic_reduce_forward:");
    expect_fail("reduce backward: NULL out", aic_reduce_backward(AIC_REDUCE_MAX, y, g, x, NULL, &rp),
                AIC_ERR_INVALID_ARG, "aic_reduce_backward:");
    expect_fail("dropout: p NaN", aic_dropout_forward(y, x, 2, 4, NAN, 1, 0), AIC_ERR_INVALID_ARG,
                "aic_dropout_forward:");
    expect_fail("dropout backward: p 1.5", aic_dropout_backward(y, x, 2, 4, 1.5f, 1, 0), AIC_ERR_INVALID_ARG,
                "aic_dropout_backward:");
    expect_fail("add: NULL b", aic_add_forward(y, x, NULL, 8), AIC_ERR_INVALID_ARG, "aic_add_forward:");

    aic_binary_dims bd = {1, {8}, {1}, {1}};
    expect_fail("binary: kind out of range", aic_binary_forward(y, x, x, AIC_BINARY_KIND_COUNT, &bd),
                AIC_ERR_INVALID_ARG, "aic_binary_forward:");
    bd.ndim = AIC_BINARY_MAX_DIMS + 1;
    expect_fail("binary backward: too many dims", aic_binary_backward(y, y, x, x, x, AIC_BINARY_MUL, &bd, 0),
                AIC_ERR_INVALID_ARG, "aic_binary_backward:");

    size_t inner[2] = {2, 2};
    const float *parts[2] = {x, NULL};
    expect_fail("concat: no inputs", aic_concat_forward(y, parts, inner, 0, 2), AIC_ERR_INVALID_ARG,
                "aic_concat_forward:");
    expect_fail("concat: NULL input", aic_concat_forward(y, parts, inner, 2, 2), AIC_ERR_INVALID_ARG,
                "aic_concat_forward:");

    int64_t xshape[9] = {2, 2, 1, 1, 1, 1, 1, 1, 1};
    int perm[9] = {0, 0};
    expect_fail("transpose: perm not a permutation", aic_transpose_forward(y, x, xshape, perm, 2, 1),
                AIC_ERR_INVALID_ARG, "aic_transpose_forward:");
    expect_fail("transpose backward: rank 9", aic_transpose_backward(y, x, xshape, perm, 9, 1), AIC_ERR_INVALID_ARG,
                "aic_transpose_backward:");

    aic_matmul_dims md = {2, 2, 2, 1, {1}, {0}, {0}};
    expect_fail("matmul: NULL b", aic_matmul_forward(y, x, NULL, &md), AIC_ERR_INVALID_ARG, "aic_matmul_forward:");

    aic_slice_plan sp = line_plan(8, 4, 0, 0, AIC_PAD_CONSTANT);
    expect_fail("slice: step 0", aic_slice_forward(y, x, &sp), AIC_ERR_INVALID_ARG, "aic_slice_forward:");
    sp = line_plan(8, 4, 0, 2, AIC_PAD_REFLECT);
    expect_fail("pad reflect: step 2", aic_slice_backward(y, x, &sp), AIC_ERR_INVALID_ARG, "aic_slice_backward:");
    sp = line_plan(8, 4, 0, 1, (aic_pad_mode)7);
    expect_fail("pad: mode 7", aic_slice_forward(y, x, &sp), AIC_ERR_INVALID_ARG, "aic_slice_forward:");
    sp = line_plan(8, 4, 0, 1, AIC_PAD_EDGE);
    sp.o_numel = 5;
    expect_fail("slice: numel disagrees with the axes", aic_slice_forward(y, x, &sp), AIC_ERR_INVALID_ARG,
                "aic_slice_forward:");
    sp.o_numel = 4;
    expect_fail("slice backward: NULL dout", aic_slice_backward(y, NULL, &sp), AIC_ERR_INVALID_ARG,
                "aic_slice_backward:");
    md.K = 0;
    expect_fail("matmul backward: K = 0", aic_matmul_backward(y, y, x, x, x, &md, 0), AIC_ERR_INVALID_ARG,
                "aic_matmul_backward:");
    md.K = 2, md.ndim = AIC_MATMUL_MAX_DIMS + 1;
    expect_fail("matmul: too many dims", aic_matmul_forward(y, x, x, &md), AIC_ERR_INVALID_ARG,
                "aic_matmul_forward:");

    expect_fail("leaky_relu: NULL attributes", aic_unary_forward(AIC_UNARY_LEAKY_RELU, y, x, 8, NULL),
                AIC_ERR_INVALID_ARG, "aic_unary_forward:");

    int32_t labels[2] = {1, 4}; // 4 is outside 0..3
    float probs[8];
    expect_fail("softmax_xent: label outside 0..K-1", aic_softmax_xent_forward(&loss, probs, x, labels, XENT(2, 4)),
                AIC_ERR_INVALID_ARG, "aic_softmax_xent_forward:");
    expect_fail("nll backward: label outside 0..K-1", aic_nll_backward(y, labels, XENT(2, 4), &(const float){1.0f}),
                AIC_ERR_INVALID_ARG, "aic_nll_backward:");
    labels[1] = 2;
    expect_fail("nll: NULL loss", aic_nll_forward(NULL, x, labels, XENT(2, 4)), AIC_ERR_INVALID_ARG, "aic_nll_forward:");
    expect_fail("softmax_xent: NULL dims", aic_softmax_xent_forward(&loss, probs, x, labels, NULL), AIC_ERR_INVALID_ARG,
                "aic_softmax_xent_forward:");
    const int32_t ids[2] = {3, 5}; // 5 is outside 0..4
    expect_fail("embedding: id outside the vocabulary", aic_embedding_forward(y, x, ids, 2, 5, 1), AIC_ERR_INVALID_ARG,
                "aic_embedding_forward:");
    expect_fail("embedding backward: id outside the vocabulary", aic_embedding_backward(y, x, ids, 2, 5, 1),
                AIC_ERR_INVALID_ARG, "aic_embedding_backward:");
    const aic_gather_dims gd = {.outer = 2, .inner = 1, .D = 4, .n = 1, .idx = {4}}; // 4 is outside 0..3
    expect_fail("gather: index outside the axis", aic_gather_forward(y, x, &gd), AIC_ERR_INVALID_ARG,
                "aic_gather_forward:");
    expect_fail("mse: NULL target", aic_mse_forward(&loss, x, NULL, 8), AIC_ERR_INVALID_ARG, "aic_mse_forward:");

    // a failing kernel writes nothing
    bool untouched = loss == sentinel;
    for (int i = 0; i < 8; i++)
        untouched &= y[i] == sentinel;
    report("a failing kernel writes nothing", untouched, "");
}

/* ---- the losses over any shape with ignore_index, and the embedding's backward, against PyTorch 1.13 ----
 * The inputs and expected values (float32) as PyTorch printed them:
 *   g = torch.Generator().manual_seed(7)
 *   x = (torch.rand(2, 3, 4, generator=g) * 6 - 3).requires_grad_()
 *   F.cross_entropy(x, y, ignore_index=-100).backward()                 # classes on axis 1
 *   lp = torch.log_softmax(torch.rand(3, 2, 4, generator=g) * 4 - 2, dim=2).requires_grad_()
 *   F.nll_loss(lp.permute(0, 2, 1), t, ignore_index=1).backward()        # classes last; 1 is a class
 *   W = (torch.rand(5, 3, generator=g) * 2 - 1).requires_grad_()
 *   F.embedding(ids, W).backward(torch.rand(2, 4, 3, generator=g) * 2 - 1) # ids repeat
 * with y, t and ids the labels and ids below. */

// max |got - want| / (1 + |want|)
static double ref_err(const float *got, const float *want, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(d <= e))
            e = isnan(d) ? INFINITY : d;
    }
    return e;
}

static void test_pytorch_refs(void) {
    static const float xent_logits[24] = {0.209535122f, -1.80718088f, 0.95527029f, 0.941341639f, -1.60343063f,
        -0.449631691f, -1.75748384f, 0.778418064f, -0.808103085f, 2.10761023f, 2.1296587f, 0.305611134f, -1.27896595f,
        -1.76208365f, -0.329458952f, -0.844284296f, 1.32228279f, -2.56168842f, 2.81951761f, -2.35328078f, 2.29726553f,
        -0.520963669f, 1.54316664f, 1.16908503f};
    static const int32_t xent_labels[8] = {0, -100, 2, 1, 2, 2, -100, 0};
    static const float xent_dlogits[24] = {-0.0573496036f, 0.0f, 0.0387370177f, 0.0700514242f, 0.0178372115f, 0.0f,
        0.00257034786f, -0.107147053f, 0.0395123921f, 0.0f, -0.0413073599f, 0.0370956287f, 0.00331878569f,
        0.0339512974f, 0.0f, -0.147530779f, 0.0447390936f, 0.0152613334f, 0.0f, 0.00423155352f, -0.0480578952f,
        -0.0492126346f, 0.0f, 0.143299222f};
    static const float nll_logprobs[24] = {-2.08860588f, -1.79940128f, -0.653509319f, -1.65796971f, -1.16304779f,
        -3.77126026f, -0.800370991f, -1.53580427f, -1.97041464f, -2.20072627f, -1.50208592f, -0.640150547f,
        -1.07049441f, -1.73967648f, -1.128654f, -1.84442973f, -1.22949266f, -3.18006897f, -3.25898671f, -0.465933532f,
        -0.364091992f, -1.96421611f, -2.54056978f, -2.45241404f};
    static const int32_t nll_labels[6] = {1, 3, 0, 1, 2, 1};
    static const float nll_dlogprobs[24] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.333333343f, -0.333333343f,
        0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.333333343f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    static const float emb_table[15] = {0.473724842f, -0.933779001f, -0.817244411f, 0.798807979f, 0.987240195f,
        -0.0594249964f, -0.79015255f, 0.0273231268f, -0.465219498f, -0.00192248821f, 0.489463806f, 0.442674637f,
        -0.117264986f, 0.110095859f, 0.272136331f};
    static const int32_t emb_ids[8] = {1, 3, 1, 0, 3, 3, 4, 1};
    static const float emb_dout[24] = {-0.78382349f, -0.339039326f, 0.0391535759f, -0.570609212f, -0.436734319f,
        0.335877657f, 0.575528264f, 0.0140117407f, -0.38898468f, 0.547523141f, -0.548171163f, -0.23472321f,
        0.943370342f, 0.184172511f, 0.0704612732f, 0.33711493f, -0.243854046f, 0.855579734f, -0.815616488f,
        -0.275077462f, -0.172867417f, -0.411472917f, -0.247501254f, 0.619753242f};
    static const float emb_dtable[15] = {0.547523141f, -0.548171163f, -0.23472321f, -0.619768143f, -0.572528839f,
        0.269922137f, 0.0f, 0.0f, 0.0f, 0.70987606f, -0.496415854f, 1.26191866f, -0.815616488f, -0.275077462f,
        -0.172867417f};
    float probs[24], d[24] = {0}, loss = NAN;
    aic_xent_dims xd = {.outer = 2, .inner = 4, .C = 3, .has_ignore = true, .ignore_index = -100};
    CHECK_OK(aic_softmax_xent_forward(&loss, probs, xent_logits, xent_labels, &xd));
    CHECK_OK(aic_softmax_xent_backward(d, probs, xent_labels, &xd, &(const float){1.0f}));
    report_err("cross-entropy N x C x d1, ignore_index -100: loss", fabs(loss - 0.765131474) / 1.765131474, 1e-6);
    report_err("cross-entropy N x C x d1, ignore_index -100: dlogits", ref_err(d, xent_dlogits, 24), 1e-6);

    aic_xent_dims nd = {.outer = 6, .inner = 1, .C = 4, .has_ignore = true, .ignore_index = 1};
    memset(d, 0, sizeof d);
    loss = NAN;
    CHECK_OK(aic_nll_forward(&loss, nll_logprobs, nll_labels, &nd));
    CHECK_OK(aic_nll_backward(d, nll_labels, &nd, &(const float){1.0f}));
    report_err("nll N x T x V classes last, ignore_index 1: loss", fabs(loss - 2.25506854) / 3.25506854, 1e-6);
    report_err("nll N x T x V classes last, ignore_index 1: dlogprobs", ref_err(d, nll_dlogprobs, 24), 1e-6);

    // every label ignored: loss 0 and no gradient (PyTorch: NaN)
    const int32_t none[8] = {-100, -100, -100, -100, -100, -100, -100, -100};
    memset(d, 0, sizeof d);
    CHECK_OK(aic_softmax_xent_forward(&loss, probs, xent_logits, none, &xd));
    CHECK_OK(aic_softmax_xent_backward(d, probs, none, &xd, &(const float){1.0f}));
    bool zero = loss == 0.0f;
    for (int i = 0; i < 24; i++)
        zero = zero && d[i] == 0.0f;
    report("cross-entropy with every label ignored: 0, no gradient", zero, "");

    float out[24], dtable[15] = {0};
    CHECK_OK(aic_embedding_forward(out, emb_table, emb_ids, 8, 5, 3));
    bool rows = true;
    for (int i = 0; i < 8; i++)
        rows = rows && memcmp(out + 3 * i, emb_table + 3 * emb_ids[i], 3 * sizeof(float)) == 0;
    report("embedding: row i is table[ids[i]]", rows, "");
    CHECK_OK(aic_embedding_backward(dtable, emb_dout, emb_ids, 8, 5, 3));
    report_err("embedding backward, repeated ids: dtable", ref_err(dtable, emb_dtable, 15), 1e-6);
}

int main(void) {
    test_rng = 0x2545F4914F6CDD1Dull;
    //            name                        N   C   H   W  OC KH KW SH SW PH PW DH DW G bias
    test_conv_ref("k3 s1 p1", 2, 3, 8, 8, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    test_conv_ref("k3 s2 p1 no bias", 2, 3, 9, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0);
    test_conv_ref("k3x2 s2x1 p2x1 d2 g2", 2, 4, 9, 8, 6, 3, 2, 2, 1, 2, 1, 2, 2, 2, 1);
    test_conv_ref("k5 d3 p6 g4", 1, 8, 11, 10, 8, 5, 5, 1, 1, 6, 6, 3, 3, 4, 1);
    test_conv_ref("depthwise k3 s2 p1", 2, 6, 10, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6, 1);
    test_conv_ref("1x1", 2, 8, 5, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1);
    test_conv_ref("1x1 g2", 2, 8, 5, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0);
    test_conv_ref("1x1 s2 p1", 1, 4, 6, 6, 3, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1);
    test_conv_ref("k7 s2 p3 (stem)", 2, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1);
    test_conv_ref("k3 p1 C64 OC64", 1, 64, 12, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    test_conv_ref("k5 p2 (lenet conv2)", 2, 8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1, 1);
    test_dense_ref(3, 5, 4, 1);
    test_dense_ref(7, 33, 10, 0);
    test_dense_ref(64, 300, 128, 1);

    test_pool_semantics();
    test_relu_semantics();
    test_batchnorm_semantics();
    test_layernorm_semantics();
    test_matmul_semantics();
    test_attention_ref("T 64, D 64", 3, 64, 64, 64, false);
    test_attention_ref("T 64, D 64, causal", 3, 64, 64, 64, true);
    test_attention_ref("T 300, D 16, causal (5 x 3 blocks)", 2, 300, 300, 16, true);
    test_attention_ref("T 100, S 333, D 24", 2, 100, 333, 24, false);
    test_attention_ref("T 100, S 333, D 24, causal", 2, 100, 333, 24, true);
    test_dropout_semantics();
    test_reduce_semantics();
    test_slice_semantics();
    test_losses();
    test_new_ops();
    test_pytorch_refs();
    test_bad_arguments();
    return test_report("layers_ref");
}
