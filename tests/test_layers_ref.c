// SPDX-License-Identifier: Apache-2.0
/* Reference checks of the layer kernels beyond gradients:
 *  - conv2d and dense forward against naive loops in double;
 *  - every backward accumulates: a second call on top of the first doubles the gradients;
 *  - forward and backward are bitwise identical when run twice, and a NULL gradient changes nothing
 *    in the others;
 *  - semantics that a gradient check cannot see: pooling padding and ceil-mode divisors, maxpool
 *    ties, batchnorm running statistics, the dropout mask's Philox layout, softmax stability. */
#include "layers/layers.h"
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
    aic_conv2d_forward(out, inp, w, b, scratch, &d);
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
    aic_dense_forward(out, inp, w, b, N, C, OC);
    char what[96];
    snprintf(what, sizeof what, "dense forward vs naive: %dx%d -> %d%s", N, C, OC, b ? "" : " no bias");
    report_err(what, dot_err(out, ref, mag, (size_t)N * OC), 1e-6);
    free(inp), free(w), free(b), free(out), free(ref), free(mag);
}

/* ---- every op: accumulation, determinism, NULL gradients ----
 * One shared set of random inputs; each op reads the prefix it needs. */

enum { BIG = 4096 };
static float *X, *X2, *Wt, *Bs, *DY; // BIG each: inputs, weights, biases, output gradients
static int32_t LABELS[8];
static float SAVE_MEAN[16], SAVE_INVSTD[16], RUN_MEAN[16], RUN_VAR[16];
static int32_t ARGMAX[BIG];
static float PROBS[BIG];

static const aic_conv2d_dims CONV = {2, 4, 9, 8, 6, 3, 3, 2, 1, 1, 2, 2, 1, 2, 4, 8};   // OH = 4, OW = 8
static const aic_conv2d_dims CONV1 = {2, 4, 5, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2, 5, 6}; // pointwise
static const aic_pool2d_dims POOL = {2, 3, 6, 8, 3, 3, 2, 2, 1, 1, 4, 5, 1};           // ceil-mode shape
static float CONV_SCRATCH[BIG];
static const int DN = 3, DC = 5, DOC = 4;    // dense
static const int BN_N = 3, BN_C = 4, BN_S = 5; // batchnorm
static const size_t EW = 37;                 // elementwise ops
static const int XN = 4, XK = 7;             // softmax_xent
static const size_t CAT_INNER[3] = {2, 1, 4}, CAT_OUTER = 3;
static const size_t SM_OUTER = 2, SM_INNER = 3; // softmax over the middle of 2 x 5 x 3
static const int SM_K = 5;
#define SM_N (SM_OUTER * (size_t)SM_K * SM_INNER)

enum { OP_DENSE, OP_CONV, OP_CONV1, OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_RELU, OP_SIGMOID, OP_TANH, OP_BN,
       OP_DROPOUT, OP_ADD, OP_CONCAT, OP_XENT, OP_MSE, OP_SOFTMAX, OP_LOGSOFTMAX, OP_LEAKY, OP_CLIP, OP_NLL,
       OP_COUNT };
static const char *OP_NAME[OP_COUNT] = {"dense", "conv2d", "conv2d 1x1", "maxpool", "avgpool", "global_avgpool",
                                        "relu", "sigmoid", "tanh", "batchnorm", "dropout", "add", "concat",
                                        "softmax_xent", "mse", "softmax", "log_softmax", "leaky_relu", "clip",
                                        "nll"};

static size_t conv_in(const aic_conv2d_dims *d) { return (size_t)d->N * d->C * d->H * d->W; }
static size_t conv_w(const aic_conv2d_dims *d) { return (size_t)d->OC * (d->C / d->G) * d->KH * d->KW; }
static size_t conv_out(const aic_conv2d_dims *d) { return (size_t)d->N * d->OC * d->OH * d->OW; }
static size_t pool_in(void) { return (size_t)POOL.N * POOL.C * POOL.H * POOL.W; }
static size_t pool_out(void) { return (size_t)POOL.N * POOL.C * POOL.OH * POOL.OW; }

// Floats of each gradient the op's backward takes (0: none).
static void grad_sizes(int op, size_t n[3]) {
    n[0] = n[1] = n[2] = 0;
    switch (op) {
    case OP_DENSE: n[0] = (size_t)DN * DC, n[1] = (size_t)DOC * DC, n[2] = DOC; break;
    case OP_CONV: n[0] = conv_in(&CONV), n[1] = conv_w(&CONV), n[2] = CONV.OC; break;
    case OP_CONV1: n[0] = conv_in(&CONV1), n[1] = conv_w(&CONV1), n[2] = CONV1.OC; break;
    case OP_MAXPOOL: case OP_AVGPOOL: n[0] = pool_in(); break;
    case OP_GAP: n[0] = (size_t)BN_N * BN_C * BN_S; break;
    case OP_RELU: case OP_SIGMOID: case OP_TANH: case OP_DROPOUT: case OP_MSE: n[0] = EW; break;
    case OP_BN: n[0] = (size_t)BN_N * BN_C * BN_S, n[1] = n[2] = BN_C; break;
    case OP_ADD: n[0] = n[1] = EW; break;
    case OP_CONCAT: for (int i = 0; i < 3; i++) n[i] = CAT_OUTER * CAT_INNER[i]; break;
    case OP_XENT: case OP_NLL: n[0] = (size_t)XN * XK; break;
    case OP_SOFTMAX: case OP_LOGSOFTMAX: n[0] = SM_N; break;
    case OP_LEAKY: case OP_CLIP: n[0] = EW; break;
    }
}

// Run the op's forward into out (BIG floats) and return how many floats it wrote; also leaves the
// state its backward reads (argmax, probs, saved statistics, activation outputs in out).
static size_t forward(int op, float *out) {
    const float *cat[3] = {X, X + 16, X + 32};
    switch (op) {
    case OP_DENSE: aic_dense_forward(out, X, Wt, Bs, DN, DC, DOC); return (size_t)DN * DOC;
    case OP_CONV: aic_conv2d_forward(out, X, Wt, Bs, CONV_SCRATCH, &CONV); return conv_out(&CONV);
    case OP_CONV1: aic_conv2d_forward(out, X, Wt, Bs, CONV_SCRATCH, &CONV1); return conv_out(&CONV1);
    case OP_MAXPOOL: aic_maxpool2d_forward(out, ARGMAX, X, &POOL); return pool_out();
    case OP_AVGPOOL: aic_avgpool2d_forward(out, X, &POOL); return pool_out();
    case OP_GAP: aic_global_avgpool_forward(out, X, BN_N, BN_C, BN_S); return (size_t)BN_N * BN_C;
    case OP_RELU: aic_unary_forward(AIC_UNARY_RELU, out, X, EW, NULL); return EW;
    case OP_SIGMOID: aic_unary_forward(AIC_UNARY_SIGMOID, out, X, EW, NULL); return EW;
    case OP_TANH: aic_unary_forward(AIC_UNARY_TANH, out, X, EW, NULL); return EW;
    case OP_BN:
        aic_batchnorm_forward_train(out, SAVE_MEAN, SAVE_INVSTD, RUN_MEAN, RUN_VAR, X, Wt, Bs, BN_N, BN_C, BN_S,
                                    0.1f, 1e-5f);
        return (size_t)BN_N * BN_C * BN_S;
    case OP_DROPOUT: aic_dropout_forward(out, X, 1, EW, 0.4f, 77, 5); return EW;
    case OP_ADD: aic_add_forward(out, X, X2, EW); return EW;
    case OP_CONCAT: aic_concat_forward(out, cat, CAT_INNER, 3, CAT_OUTER); return CAT_OUTER * 7;
    case OP_XENT:
        out[0] = aic_softmax_xent_forward(PROBS, X, LABELS, XN, XK);
        memcpy(out + 1, PROBS, (size_t)XN * XK * sizeof(float));
        return 1 + (size_t)XN * XK;
    case OP_MSE: out[0] = aic_mse_forward(X, X2, EW); return 1;
    case OP_SOFTMAX: aic_softmax_forward(out, X, SM_OUTER, SM_K, SM_INNER); return SM_N;
    case OP_LOGSOFTMAX: aic_log_softmax_forward(out, X, SM_OUTER, SM_K, SM_INNER); return SM_N;
    case OP_LEAKY: aic_unary_forward(AIC_UNARY_LEAKY_RELU, out, X, EW, (const float[]){0.2f}); return EW;
    case OP_CLIP: aic_clip_forward(out, X, EW, -0.3f, 0.4f); return EW;
    case OP_NLL: out[0] = aic_nll_forward(X, LABELS, XN, XK); return 1;
    }
    return 0;
}

// Run the op's backward with dout = DY into g[0..2] (NULL where not wanted); out: its forward output.
static void backward(int op, float *const g[3], const float *out) {
    switch (op) {
    case OP_DENSE: aic_dense_backward(g[0], g[1], g[2], DY, X, Wt, DN, DC, DOC); break;
    case OP_CONV: aic_conv2d_backward(g[0], g[1], g[2], DY, X, Wt, CONV_SCRATCH, &CONV); break;
    case OP_CONV1: aic_conv2d_backward(g[0], g[1], g[2], DY, X, Wt, CONV_SCRATCH, &CONV1); break;
    case OP_MAXPOOL: aic_maxpool2d_backward(g[0], DY, ARGMAX, &POOL); break;
    case OP_AVGPOOL: aic_avgpool2d_backward(g[0], DY, &POOL); break;
    case OP_GAP: aic_global_avgpool_backward(g[0], DY, BN_N, BN_C, BN_S); break;
    case OP_RELU: aic_unary_backward(AIC_UNARY_RELU, g[0], DY, X, out, EW, NULL); break;
    case OP_SIGMOID: aic_unary_backward(AIC_UNARY_SIGMOID, g[0], DY, X, out, EW, NULL); break;
    case OP_TANH: aic_unary_backward(AIC_UNARY_TANH, g[0], DY, X, out, EW, NULL); break;
    case OP_BN:
        aic_batchnorm_backward(g[0], g[1], g[2], DY, X, Wt, SAVE_MEAN, SAVE_INVSTD, BN_N, BN_C, BN_S);
        break;
    case OP_DROPOUT: aic_dropout_backward(g[0], DY, 1, EW, 0.4f, 77, 5); break;
    case OP_ADD: aic_add_backward(g[0], g[1], DY, EW); break;
    case OP_CONCAT: aic_concat_backward(g, DY, CAT_INNER, 3, CAT_OUTER); break;
    case OP_XENT: aic_softmax_xent_backward(g[0], PROBS, LABELS, XN, XK, 0.8f); break;
    case OP_MSE: aic_mse_backward(g[0], X, X2, EW, 0.8f); break;
    case OP_SOFTMAX: aic_softmax_backward(g[0], DY, out, SM_OUTER, SM_K, SM_INNER); break;
    case OP_LOGSOFTMAX: aic_log_softmax_backward(g[0], DY, out, SM_OUTER, SM_K, SM_INNER); break;
    case OP_LEAKY: aic_unary_backward(AIC_UNARY_LEAKY_RELU, g[0], DY, X, out, EW, (const float[]){0.2f}); break;
    case OP_CLIP: aic_clip_backward(g[0], DY, X, EW, -0.3f, 0.4f); break;
    case OP_NLL: aic_nll_backward(g[0], LABELS, XN, XK, 0.8f); break;
    }
}

static void test_op_contract(int op) {
    char what[96];
    float *out1 = test_alloc(BIG), *out2 = test_alloc(BIG);
    size_t no = forward(op, out1);
    forward(op, out2);
    snprintf(what, sizeof what, "%s: forward bitwise repeatable", OP_NAME[op]);
    report(what, memcmp(out1, out2, no * sizeof(float)) == 0, "");

    size_t n[3];
    grad_sizes(op, n);
    float *once[3], *twice[3], *alone[3];
    for (int i = 0; i < 3; i++) {
        once[i] = n[i] ? test_alloc(n[i]) : NULL;
        twice[i] = n[i] ? test_alloc(n[i]) : NULL;
        alone[i] = n[i] ? test_alloc(n[i]) : NULL;
    }
    backward(op, once, out1);
    backward(op, twice, out1);
    int same = 1;
    for (int i = 0; i < 3; i++)
        same &= !n[i] || memcmp(once[i], twice[i], n[i] * sizeof(float)) == 0;
    snprintf(what, sizeof what, "%s: backward bitwise repeatable", OP_NAME[op]);
    report(what, same, "");

    // second call on top: every gradient must double (col2im and BLAS may round the sum differently)
    backward(op, twice, out1);
    double err = 0.0;
    for (int i = 0; i < 3; i++) {
        double scale = 1e-30;
        for (size_t j = 0; j < n[i]; j++)
            scale = fmax(scale, fabs(once[i][j]));
        for (size_t j = 0; j < n[i]; j++)
            err = fmax(err, fabs(twice[i][j] - 2.0 * once[i][j]) / scale);
    }
    snprintf(what, sizeof what, "%s: backward twice doubles the gradients", OP_NAME[op]);
    report_err(what, err, 1e-6);

    // each gradient alone (the others NULL) is bitwise what the full call gives
    if (n[1]) {
        int ok = 1;
        for (int i = 0; i < 3; i++) {
            if (!n[i])
                continue;
            float *only[3] = {NULL, NULL, NULL};
            only[i] = alone[i];
            backward(op, only, out1);
            ok &= memcmp(alone[i], once[i], n[i] * sizeof(float)) == 0;
        }
        snprintf(what, sizeof what, "%s: NULL gradients skipped", OP_NAME[op]);
        report(what, ok, "");
    }
    for (int i = 0; i < 3; i++)
        free(once[i]), free(twice[i]), free(alone[i]);
    free(out1), free(out2);
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
    aic_avgpool2d_forward(out, ones, &d);
    report_err("avgpool ceil count_include_pad as PyTorch", max_err(out, ref, 9), 1e-7);
    d.count_include_pad = 0;
    aic_avgpool2d_forward(out, ones, &d);
    report_err("avgpool ceil exclude pad: all ones", max_err(out, ref_ex, 9), 1e-7);

    // maxpool: padding is -inf (a negative input still wins at the border); ties pick the first
    aic_pool2d_dims m = {1, 1, 4, 4, 3, 3, 2, 2, 1, 1, 2, 2, 0};
    float neg[16], mo[4];
    int32_t am[4];
    for (int i = 0; i < 16; i++)
        neg[i] = -5.0f;
    aic_maxpool2d_forward(mo, am, neg, &m);
    // windows start at (-1,-1), (-1,1), (1,-1), (1,1): first in-bounds elements 0, 1, 4, 5
    int ok = mo[0] == -5.0f && mo[3] == -5.0f && am[0] == 0 && am[1] == 1 && am[2] == 4 && am[3] == 5;
    report("maxpool padding is -inf, ties pick the first", ok, "");

    // the 2x2 stride-2 path keeps the rule: ties pick the first, the first NaN wins, -inf is a value;
    // windows (row-major): {1,3,3,0} {nan,5,nan,9} {-inf,-inf,-inf,-inf} {2,7,-1,7}
    const float nan = NAN, inf = INFINITY;
    float x[16] = {1, 3, nan, 5, 3, 0, nan, 9, -inf, -inf, 2, 7, -inf, -inf, -1, 7}, y[4];
    int32_t a[4];
    aic_pool2d_dims k2 = {1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, 0};
    aic_maxpool2d_forward(y, a, x, &k2);
    ok = y[0] == 3.0f && a[0] == 1 && isnan(y[1]) && a[1] == 2 && y[2] == -inf && a[2] == 8 && y[3] == 7.0f &&
         a[3] == 11;
    report("maxpool 2x2: first of ties, first NaN, -inf", ok, "");
}

static void test_relu_semantics(void) {
    // backward passes nothing where the output is not positive, whatever dout holds, and adds no +0
    // onto a -0 gradient; forward lets a NaN through
    float out[4] = {0.0f, -0.0f, 2.0f, 3.0f}, dout[4] = {NAN, INFINITY, 1.5f, 4.0f};
    float dinp[4] = {-0.0f, 1.0f, -0.0f, 2.0f}, x = NAN, y;
    aic_unary_backward(AIC_UNARY_RELU, dinp, dout, out, out, 4, NULL); // relu's gradient reads y only
    int ok = dinp[0] == 0.0f && signbit(dinp[0]) && dinp[1] == 1.0f && dinp[2] == 1.5f && dinp[3] == 6.0f;
    aic_unary_forward(AIC_UNARY_RELU, &y, &x, 1, NULL);
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
    aic_batchnorm_forward_train(out, mean, invstd, rm, rv, x, gamma, beta, N, C, S, mom, eps);
    report_err("batchnorm train output (biased var)", max_err(out, ref_out, N * C * S), 1e-5);
    report_err("batchnorm running mean", max_err(rm, ref_rm, C), 1e-6);
    report_err("batchnorm running var (unbiased)", max_err(rv, ref_rv, C), 1e-6);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < N * S; i++) {
            int k = (i / S * C + c) * S + i % S;
            ref_eval[k] = (x[k] - rm[c]) / sqrt((double)rv[c] + eps) * gamma[c] + beta[c];
        }
    aic_batchnorm_forward_eval(eval_out, x, gamma, beta, rm, rv, N, C, S, eps);
    report_err("batchnorm eval vs naive", max_err(eval_out, ref_eval, N * C * S), 1e-5);

    // one value per channel: output beta, running var decays toward 0 without a 0/0
    float x1 = 3.0f, o1, m1, is1, rm1 = 0.5f, rv1 = 2.0f, g1 = 1.5f, b1 = 0.25f;
    aic_batchnorm_forward_train(&o1, &m1, &is1, &rm1, &rv1, &x1, &g1, &b1, 1, 1, 1, mom, eps);
    int ok = o1 == b1 && fabsf(rm1 - (0.9f * 0.5f + 0.1f * 3.0f)) < 1e-6f && fabsf(rv1 - 0.9f * 2.0f) < 1e-6f;
    report("batchnorm N*S == 1: finite running var", ok, "");
    free(x);
}

static void test_dropout_semantics(void) {
    enum { N = 50, F = 101 }; // F odd: four-element Philox blocks straddle rows
    const float p = 0.3f;
    const uint64_t key = 0x5EEDull;
    const int64_t row0 = 7;
    float *x = test_rand_buf(N * F, 0.5f, 1.5f), *out = test_alloc(N * F), *split = test_alloc(N * F);
    aic_dropout_forward(out, x, N, F, p, key, row0);
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
    aic_dropout_forward(split, x, 20, F, p, key, row0);
    aic_dropout_forward(split + 20 * F, x + 20 * F, N - 20, F, p, key, row0 + 20);
    report("dropout mask independent of the batch split", memcmp(out, split, sizeof(float) * N * F) == 0, "");
    aic_dropout_forward(out, x, N, F, 0.0f, key, row0);
    report("dropout p = 0 is the identity", memcmp(out, x, sizeof(float) * N * F) == 0, "");
    aic_dropout_forward(out, x, N, F, 1.0f, key, row0);
    ok = 1;
    for (size_t k = 0; k < (size_t)N * F; k++)
        ok &= out[k] == 0.0f;
    report("dropout p = 1 gives zeros (no inf * 0)", ok, "");
    free(x), free(out), free(split);
}

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
    float loss = aic_softmax_xent_forward(probs, logits, labels, N, K);
    report_err("softmax_xent loss vs naive", fabs(loss - ref) / (1 + fabs(ref)), 1e-6);
    report_err("softmax_xent probs vs naive", max_err(probs, ref_p, N * K), 1e-6);
    // huge logits: exp would overflow without the max subtracted; loss = log(1 + e^-1000...) etc.
    float big[4] = {1000.0f, 0.0f, -1000.0f, 999.0f}, bp[4];
    int32_t bl[1] = {2};
    loss = aic_softmax_xent_forward(bp, big, bl, 1, 4);
    double want = 2000.0 + log(1.0 + exp(-1.0));
    int ok = isfinite(loss) && fabs(loss - want) < 1e-3 && isfinite(bp[0]) && bp[2] == 0.0f;
    report("softmax_xent stable at |logit| = 1000", ok, "");
    report("softmax_xent N == 0 gives 0", aic_softmax_xent_forward(bp, big, bl, 0, 4) == 0.0f, "");

    float pred[7], target[7];
    double ms = 0;
    for (int i = 0; i < 7; i++) {
        pred[i] = test_frand(-2, 2), target[i] = test_frand(-2, 2);
        ms += ((double)pred[i] - target[i]) * ((double)pred[i] - target[i]) / 7;
    }
    report_err("mse vs naive", fabs(aic_mse_forward(pred, target, 7) - ms) / (1 + ms), 1e-6);
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
    aic_softmax_forward(y, x, O, K, I);
    aic_log_softmax_forward(ly, x, O, K, I);
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
    aic_softmax_forward(bs, big, 1, 4, 1);
    aic_log_softmax_forward(bl, big, 1, 4, 1);
    double lse = 1000.0 + log(1.0 + exp(-1.0));
    int ok = fabs(bs[0] - 1.0 / (1.0 + exp(-1.0))) < 1e-6 && bs[2] == 0.0f && isfinite(bl[2]) &&
             fabs(bl[2] - (-1000.0 - lse)) < 1e-3 && fabs(bl[3] - (999.0 - lse)) < 1e-4;
    report("softmax, log_softmax stable at |x| = 1000", ok, "");

    // nll of log_softmax is softmax cross-entropy
    enum { N = 4, C = 6 };
    float *logits = test_rand_buf(N * C, -3, 3), lp[N * C], probs[N * C];
    int32_t labels[N] = {5, 0, 3, 3};
    aic_log_softmax_forward(lp, logits, N, C, 1);
    double nref = 0;
    for (int i = 0; i < N; i++)
        nref -= (double)lp[i * C + labels[i]] / N;
    float nll = aic_nll_forward(lp, labels, N, C);
    report_err("nll vs naive", fabs(nll - nref) / (1 + fabs(nref)), 1e-6);
    float xent = aic_softmax_xent_forward(probs, logits, labels, N, C);
    report_err("nll(log_softmax) == softmax_xent", fabs(nll - xent) / (1 + fabs(xent)), 1e-6);
    report("nll N == 0 gives 0", aic_nll_forward(lp, labels, 0, C) == 0.0f, "");
    float dlp[N * C] = {0};
    aic_nll_backward(dlp, labels, N, C, 2.0f);
    ok = 1;
    for (int i = 0; i < N * C; i++)
        ok &= dlp[i] == (i % C == labels[i / C] ? -0.5f : 0.0f);
    report("nll backward: -dloss/N at the label only", ok, "");

    // leaky_relu: forward vs naive, slope from the input's sign (alpha at 0, as PyTorch)
    float lx[5] = {-2.0f, -0.0f, 0.0f, 3.0f, NAN}, lo[5], ld[5] = {0}, ones[5] = {1, 1, 1, 1, 1};
    const float alpha = 0.01f;
    aic_unary_forward(AIC_UNARY_LEAKY_RELU, lo, lx, 5, &alpha);
    aic_unary_backward(AIC_UNARY_LEAKY_RELU, ld, ones, lx, lo, 5, &alpha);
    ok = lo[0] == -0.02f && lo[1] == 0.0f && lo[2] == 0.0f && lo[3] == 3.0f && isnan(lo[4]) && ld[0] == 0.01f &&
         ld[2] == 0.01f && ld[3] == 1.0f;
    report("leaky_relu: values, slope alpha at 0, NaN passes", ok, "");

    // clip: torch.clamp semantics, gradient at the boundaries, NaN forward, infinite bounds
    float cx[6] = {-1.0f, 0.0f, 3.0f, 6.0f, 7.0f, NAN}, co[6], cd[6] = {0}, c1[6] = {1, 1, 1, 1, 1, 1};
    aic_clip_forward(co, cx, 6, 0.0f, 6.0f); // ReLU6
    aic_clip_backward(cd, c1, cx, 6, 0.0f, 6.0f);
    ok = co[0] == 0.0f && co[1] == 0.0f && co[2] == 3.0f && co[3] == 6.0f && co[4] == 6.0f && isnan(co[5]) &&
         cd[0] == 0.0f && cd[1] == 1.0f && cd[2] == 1.0f && cd[3] == 1.0f && cd[4] == 0.0f && cd[5] == 0.0f;
    report("clip [0, 6]: values, gradient 1 at lo and hi, NaN", ok, "");
    float ix[3] = {-1e30f, 0.5f, 1e30f}, io[3];
    aic_clip_forward(io, ix, 3, -INFINITY, 1.0f);
    ok = io[0] == -1e30f && io[1] == 0.5f && io[2] == 1.0f;
    aic_clip_forward(io, ix, 3, 0.0f, INFINITY);
    ok &= io[0] == 0.0f && io[1] == 0.5f && io[2] == 1e30f;
    report("clip with an infinite bound leaves that side open", ok, "");
    free(x), free(logits);
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

    X = test_rand_buf(BIG, -1, 1), X2 = test_rand_buf(BIG, -1, 1), Wt = test_rand_buf(BIG, 0.5f, 1.5f);
    Bs = test_rand_buf(BIG, -1, 1), DY = test_rand_buf(BIG, -1, 1);
    for (int i = 0; i < 8; i++)
        LABELS[i] = i % XK;
    for (int op = 0; op < OP_COUNT; op++)
        test_op_contract(op);

    test_pool_semantics();
    test_relu_semantics();
    test_batchnorm_semantics();
    test_dropout_semantics();
    test_losses();
    test_new_ops();
    free(X), free(X2), free(Wt), free(Bs), free(DY);
    return test_report("layers_ref");
}
