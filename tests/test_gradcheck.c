// SPDX-License-Identifier: Apache-2.0
/* Finite-difference check of every layer's backward. For an op y = f(x) and a fixed random dout, the
 * backward's gradient of L = sum(dout * y) is compared with the central difference
 * (L(x + eps) - L(x - eps)) / (x + eps - (x - eps)), taken element by element. The forward runs in
 * float; L and the differences are formed in double, so the float rounding of y sets the noise.
 * Error per element: |analytic - numeric| / max(|analytic|, |numeric|, 1% of the largest |numeric|),
 * so a near-zero gradient entry is judged against the tensor's scale. Non-smooth ops get inputs away
 * from their kinks (relu away from 0, maxpool with no near-ties). */
#include "layers/layers.h"
#include "layers/unary.h"
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// xorshift64*: a fixed sequence, so every run checks the same tensors
static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

// Step of the central differences: inputs are O(1), and non-smooth ops keep their kinks farther away.
static const float EPS = 1e-2f;

// Compare analytic (n) with central differences of f(ctx) with respect to x (n), perturbed in place.
static void check(const char *op, const char *grad, float *x, size_t n, const float *analytic, loss_fn f, void *ctx,
                  double tol) {
    double *num = malloc((n ? n : 1) * sizeof(double)); // n
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        float save = x[i];
        float xp = save + EPS, xm = save - EPS;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = save;
        num[i] = (lp - lm) / ((double)xp - xm); // the step actually taken after rounding to float
        if (fabs(num[i]) > scale)
            scale = fabs(num[i]);
    }
    double floor_ = scale > 0.0 ? 1e-2 * scale : 1e-12, max_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = analytic[i], d = fabs(a - num[i]);
        double den = fmax(fmax(fabs(a), fabs(num[i])), floor_);
        if (d / den > max_err || isnan(a))
            max_err = isnan(a) ? INFINITY : d / den;
    }
    free(num);
    int ok = test_count(max_err <= tol);
    printf("%-22s %-8s max rel err %.2e  (tol %.0e, |grad| max %.2e)  %s\n", op, grad, max_err, tol, scale,
           ok ? "ok" : "FAIL");
}

/* ---- dense ---- */
typedef struct {
    int N, C, OC;
    float *inp, *weight, *bias, *out, *dout; // N x C, OC x C, OC, N x OC, N x OC
} dense_ctx;

static double dense_loss(void *p) {
    dense_ctx *c = p;
    aic_dense_forward(c->out, c->inp, c->weight, c->bias, c->N, c->C, c->OC);
    return dot(c->dout, c->out, (size_t)c->N * c->OC);
}

static void test_dense(void) {
    dense_ctx c = {.N = 3, .C = 5, .OC = 4};
    c.inp = test_rand_buf((size_t)c.N * c.C, -1, 1);
    c.weight = test_rand_buf((size_t)c.OC * c.C, -1, 1);
    c.bias = test_rand_buf(c.OC, -1, 1);
    c.out = test_alloc((size_t)c.N * c.OC);
    c.dout = test_rand_buf((size_t)c.N * c.OC, -1, 1);
    float *dinp = test_alloc((size_t)c.N * c.C), *dw = test_alloc((size_t)c.OC * c.C), *db = test_alloc(c.OC);
    aic_dense_backward(dinp, dw, db, c.dout, c.inp, c.weight, c.N, c.C, c.OC);
    check("dense", "dinp", c.inp, (size_t)c.N * c.C, dinp, dense_loss, &c, 3e-3);
    check("dense", "dweight", c.weight, (size_t)c.OC * c.C, dw, dense_loss, &c, 3e-3);
    check("dense", "dbias", c.bias, c.OC, db, dense_loss, &c, 3e-3);
    free(c.inp), free(c.weight), free(c.bias), free(c.out), free(c.dout), free(dinp), free(dw), free(db);
}

/* ---- conv2d ---- */
typedef struct {
    aic_conv2d_dims d;
    float *inp, *weight, *bias, *out, *dout, *scratch;
} conv_ctx;

static double conv_loss(void *p) {
    conv_ctx *c = p;
    aic_conv2d_forward(c->out, c->inp, c->weight, c->bias, c->scratch, &c->d);
    return dot(c->dout, c->out, (size_t)c->d.N * c->d.OC * c->d.OH * c->d.OW);
}

// Largest |a - b| over the largest |b|: the two paths sum in different orders, so they agree to
// float rounding relative to the tensor's scale.
static double max_rel_diff(const float *a, const float *b, size_t n) {
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return scale > 0.0 ? diff / scale : diff;
}

static void check_close(const char *op, const char *what, const float *got, const float *want, size_t n) {
    double err = max_rel_diff(got, want, n);
    int ok = test_count(err <= 1e-5);
    printf("%-22s %-8s oneDNN vs reference %.2e  (tol 1e-05)  %s\n", op, what, err, ok ? "ok" : "FAIL");
}

// oneDNN's path against the reference (c->out holds the reference forward; dinp, dw, db its gradients
// from zero). The oneDNN gradients start from a random prefill, which they must add to, not replace.
static void check_dnnl_conv(const char *name, conv_ctx *c, const float *dinp, const float *dw, const float *db) {
    const aic_conv2d_dims *d = &c->d;
    size_t ni = (size_t)d->N * d->C * d->H * d->W, nw = (size_t)d->OC * (d->C / d->G) * d->KH * d->KW;
    size_t no = (size_t)d->N * d->OC * d->OH * d->OW;
    float *out = test_alloc(no), *g_in = test_rand_buf(ni, -1, 1), *g_w = test_rand_buf(nw, -1, 1);
    float *g_b = test_rand_buf(d->OC, -1, 1);
    float *pre_in = malloc(ni * sizeof(float)), *pre_w = malloc(nw * sizeof(float)), *pre_b = malloc(d->OC * sizeof(float));
    memcpy(pre_in, g_in, ni * sizeof(float));
    memcpy(pre_w, g_w, nw * sizeof(float));
    memcpy(pre_b, g_b, d->OC * sizeof(float));
    aic_status f = aic_conv2d_dnnl_forward(out, c->inp, c->weight, c->bias, d);
    aic_status bd = aic_conv2d_dnnl_backward_data(g_in, c->dout, c->weight, d, true);
    aic_status bw = aic_conv2d_dnnl_backward_weights(g_w, g_b, c->dout, c->inp, d);
    int ran = test_count(f == AIC_OK && bd == AIC_OK && bw == AIC_OK);
    printf("%-22s oneDNN primitives: forward %s, backward data %s, weights %s  %s\n", name, aic_status_string(f),
           aic_status_string(bd), aic_status_string(bw), ran ? "ok" : "FAIL");
    if (ran) {
        for (size_t i = 0; i < ni; i++)
            g_in[i] -= pre_in[i];
        for (size_t i = 0; i < nw; i++)
            g_w[i] -= pre_w[i];
        for (int i = 0; i < d->OC; i++)
            g_b[i] -= pre_b[i];
        check_close(name, "out", out, c->out, no);
        check_close(name, "dinp", g_in, dinp, ni);
        check_close(name, "dweight", g_w, dw, nw);
        check_close(name, "dbias", g_b, db, d->OC);
    }
    free(out), free(g_in), free(g_w), free(g_b), free(pre_in), free(pre_w), free(pre_b);
}

static void test_conv(const char *name, int N, int C, int H, int W, int OC, int KH, int KW, int SH, int SW, int PH,
                      int PW, int DH, int DW, int G) {
    conv_ctx c = {.d = {N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, 0, 0}};
    c.d.OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    c.d.OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    size_t ni = (size_t)N * C * H * W, nw = (size_t)OC * (C / G) * KH * KW, no = (size_t)N * OC * c.d.OH * c.d.OW;
    c.inp = test_rand_buf(ni, -1, 1);
    c.weight = test_rand_buf(nw, -1, 1);
    c.bias = test_rand_buf(OC, -1, 1);
    c.out = test_alloc(no);
    c.dout = test_rand_buf(no, -1, 1);
    c.scratch = test_alloc(aic_conv2d_scratch(&c.d));
    float *dinp = test_alloc(ni), *dw = test_alloc(nw), *db = test_alloc(OC);
    aic_conv2d_backward(dinp, dw, db, c.dout, c.inp, c.weight, c.scratch, &c.d);
    check(name, "dinp", c.inp, ni, dinp, conv_loss, &c, 3e-3);
    check(name, "dweight", c.weight, nw, dw, conv_loss, &c, 3e-3);
    check(name, "dbias", c.bias, OC, db, conv_loss, &c, 3e-3);
    conv_loss(&c);
    check_dnnl_conv(name, &c, dinp, dw, db);
    free(c.inp), free(c.weight), free(c.bias), free(c.out), free(c.dout), free(c.scratch);
    free(dinp), free(dw), free(db);
}

/* ---- maxpool, avgpool ---- */
typedef struct {
    aic_pool2d_dims d;
    int max; // maxpool, else avgpool
    float *inp, *out, *dout;
    int32_t *argmax;
} pool_ctx;

static double pool_loss(void *p) {
    pool_ctx *c = p;
    if (c->max)
        aic_maxpool2d_forward(c->out, c->argmax, c->inp, &c->d);
    else
        aic_avgpool2d_forward(c->out, c->inp, &c->d);
    return dot(c->dout, c->out, (size_t)c->d.N * c->d.C * c->d.OH * c->d.OW);
}

// OH, OW are passed in, so a ceil-mode shape is just a larger OH than the floor formula gives.
static void test_pool(const char *name, int max, int count_include_pad, int N, int C, int H, int W, int KH, int KW,
                      int SH, int SW, int PH, int PW, int OH, int OW) {
    pool_ctx c = {.d = {N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad}, .max = max};
    size_t ni = (size_t)N * C * H * W, no = (size_t)N * C * OH * OW;
    c.inp = test_rand_buf(ni, -1, 1);
    if (max) {
        // distinct values 0.05 apart in random order: a +-EPS step never changes which one is the max
        for (size_t i = 0; i < ni; i++)
            c.inp[i] = 0.05f * (float)i - 0.025f * (float)ni;
        for (size_t i = ni; i > 1; i--) {
            size_t j = (size_t)(test_urand() * (double)i);
            float t = c.inp[i - 1];
            c.inp[i - 1] = c.inp[j];
            c.inp[j] = t;
        }
    }
    c.out = test_alloc(no);
    c.dout = test_rand_buf(no, -1, 1);
    c.argmax = malloc(no * sizeof(int32_t));
    float *dinp = test_alloc(ni);
    pool_loss(&c); // argmax for the backward
    if (max)
        aic_maxpool2d_backward(dinp, c.dout, c.argmax, &c.d);
    else
        aic_avgpool2d_backward(dinp, c.dout, &c.d);
    check(name, "dinp", c.inp, ni, dinp, pool_loss, &c, 3e-3);
    free(c.inp), free(c.out), free(c.dout), free(c.argmax), free(dinp);
}

/* ---- global_avgpool ---- */
typedef struct {
    int N, C, S;
    float *inp, *out, *dout;
} gap_ctx;

static double gap_loss(void *p) {
    gap_ctx *c = p;
    aic_global_avgpool_forward(c->out, c->inp, c->N, c->C, c->S);
    return dot(c->dout, c->out, (size_t)c->N * c->C);
}

static void test_global_avgpool(void) {
    gap_ctx c = {.N = 2, .C = 3, .S = 10};
    size_t ni = (size_t)c.N * c.C * c.S;
    c.inp = test_rand_buf(ni, -1, 1);
    c.out = test_alloc((size_t)c.N * c.C);
    c.dout = test_rand_buf((size_t)c.N * c.C, -1, 1);
    float *dinp = test_alloc(ni);
    aic_global_avgpool_backward(dinp, c.dout, c.N, c.C, c.S);
    check("global_avgpool", "dinp", c.inp, ni, dinp, gap_loss, &c, 1e-3);
    free(c.inp), free(c.out), free(c.dout), free(dinp);
}

/* ---- relu, sigmoid, tanh (layers/unary.h) ---- */
typedef struct {
    aic_unary_kind kind;
    size_t n;
    float *inp, *out, *dout;
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    aic_unary_forward(c->kind, c->out, c->inp, c->n, NULL);
    return dot(c->dout, c->out, c->n);
}

static void test_activation(const char *name, aic_unary_kind kind, float lo, float hi, double tol) {
    act_ctx c = {.kind = kind, .n = 40};
    c.inp = test_rand_buf(c.n, lo, hi);
    for (size_t i = 0; i < c.n; i += 2)
        c.inp[i] = -c.inp[i];
    c.out = test_alloc(c.n);
    c.dout = test_rand_buf(c.n, -1, 1);
    float *dinp = test_alloc(c.n);
    act_loss(&c); // backward reads the forward output
    aic_unary_backward(kind, dinp, c.dout, c.inp, c.out, c.n, NULL);
    check(name, "dinp", c.inp, c.n, dinp, act_loss, &c, tol);
    free(c.inp), free(c.out), free(c.dout), free(dinp);
}

/* ---- batchnorm (training) ---- */
typedef struct {
    int N, C, S;
    float *inp, *gamma, *beta, *out, *dout, *mean, *invstd, *rmean, *rvar; // rmean, rvar: updated, unread
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = p;
    aic_batchnorm_forward_train(c->out, c->mean, c->invstd, c->rmean, c->rvar, c->inp, c->gamma, c->beta, c->N,
                                c->C, c->S, 0.1f, 1e-5f);
    return dot(c->dout, c->out, (size_t)c->N * c->C * c->S);
}

static void test_batchnorm(void) {
    bn_ctx c = {.N = 3, .C = 2, .S = 5};
    size_t ni = (size_t)c.N * c.C * c.S;
    c.inp = test_rand_buf(ni, -1, 2);
    c.gamma = test_rand_buf(c.C, 0.5f, 1.5f);
    c.beta = test_rand_buf(c.C, -1, 1);
    c.out = test_alloc(ni);
    c.dout = test_rand_buf(ni, -1, 1);
    c.mean = test_alloc(c.C), c.invstd = test_alloc(c.C), c.rmean = test_alloc(c.C), c.rvar = test_alloc(c.C);
    float *dinp = test_alloc(ni), *dg = test_alloc(c.C), *db = test_alloc(c.C);
    bn_loss(&c); // save_mean, save_invstd for the backward
    aic_batchnorm_backward(dinp, dg, db, c.dout, c.inp, c.gamma, c.mean, c.invstd, c.N, c.C, c.S);
    check("batchnorm train", "dinp", c.inp, ni, dinp, bn_loss, &c, 1e-2);
    check("batchnorm train", "dgamma", c.gamma, c.C, dg, bn_loss, &c, 1e-2);
    check("batchnorm train", "dbeta", c.beta, c.C, db, bn_loss, &c, 1e-2);
    free(c.inp), free(c.gamma), free(c.beta), free(c.out), free(c.dout);
    free(c.mean), free(c.invstd), free(c.rmean), free(c.rvar), free(dinp), free(dg), free(db);
}

/* ---- dropout ---- */
typedef struct {
    int N;
    size_t F;
    float p;
    float *inp, *out, *dout;
} drop_ctx;

static const uint64_t DROP_KEY = 0xD0D0CAFEull;
static const int64_t DROP_ROW = 3; // F odd and a row offset: Philox blocks straddle rows

static double drop_loss(void *p) {
    drop_ctx *c = p;
    aic_dropout_forward(c->out, c->inp, c->N, c->F, c->p, DROP_KEY, DROP_ROW);
    return dot(c->dout, c->out, (size_t)c->N * c->F);
}

static void test_dropout(void) {
    drop_ctx c = {.N = 4, .F = 7, .p = 0.3f};
    size_t n = (size_t)c.N * c.F;
    c.inp = test_rand_buf(n, -1, 1);
    c.out = test_alloc(n);
    c.dout = test_rand_buf(n, -1, 1);
    float *dinp = test_alloc(n);
    aic_dropout_backward(dinp, c.dout, c.N, c.F, c.p, DROP_KEY, DROP_ROW);
    check("dropout p=0.3", "dinp", c.inp, n, dinp, drop_loss, &c, 1e-3);
    free(c.inp), free(c.out), free(c.dout), free(dinp);
}

/* ---- add ---- */
typedef struct {
    size_t n;
    float *a, *b, *out, *dout;
} add_ctx;

static double add_loss(void *p) {
    add_ctx *c = p;
    aic_add_forward(c->out, c->a, c->b, c->n);
    return dot(c->dout, c->out, c->n);
}

static void test_add(void) {
    add_ctx c = {.n = 17};
    c.a = test_rand_buf(c.n, -1, 1), c.b = test_rand_buf(c.n, -1, 1), c.out = test_alloc(c.n), c.dout = test_rand_buf(c.n, -1, 1);
    float *da = test_alloc(c.n), *db = test_alloc(c.n);
    aic_add_backward(da, db, c.dout, c.n);
    check("add", "da", c.a, c.n, da, add_loss, &c, 1e-3);
    check("add", "db", c.b, c.n, db, add_loss, &c, 1e-3);
    free(c.a), free(c.b), free(c.out), free(c.dout), free(da), free(db);
}

/* ---- transpose ---- */
typedef struct {
    int64_t xshape[3];
    int perm[3];
    int n;
    size_t numel;
    float *x, *out, *dout;
} tr_ctx;

static double tr_loss(void *p) {
    tr_ctx *c = p;
    aic_transpose_forward(c->out, c->x, c->xshape, c->perm, 3, c->n);
    return dot(c->dout, c->out, (size_t)c->n * c->numel);
}

static void test_transpose(void) {
    tr_ctx c = {.xshape = {2, 3, 4}, .perm = {2, 0, 1}, .n = 2, .numel = 24};
    size_t total = (size_t)c.n * c.numel;
    c.x = test_rand_buf(total, -1, 1), c.out = test_alloc(total), c.dout = test_rand_buf(total, -1, 1);
    float *dx = test_alloc(total);
    aic_transpose_backward(dx, c.dout, c.xshape, c.perm, 3, c.n);
    check("transpose", "dx", c.x, total, dx, tr_loss, &c, 1e-3);
    /* the forward itself: out[s][k][i][j] = x[s][i][j][k] for perm (2, 0, 1) */
    aic_transpose_forward(c.out, c.x, c.xshape, c.perm, 3, c.n);
    int bad = 0;
    for (int s = 0; s < c.n; s++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    bad += c.out[s * 24 + k * 6 + i * 3 + j] != c.x[s * 24 + i * 12 + j * 4 + k];
    test_count(bad == 0);
    printf("%-22s %-8s %d misplaced elements  %s\n", "transpose", "forward", bad, bad ? "FAIL" : "ok");
    free(c.x), free(c.out), free(c.dout), free(dx);
}

/* ---- concat ---- */
enum { CAT_K = 3 };
typedef struct {
    size_t outer, inner[CAT_K], total;
    float *inps[CAT_K], *out, *dout;
} cat_ctx;

static double cat_loss(void *p) {
    cat_ctx *c = p;
    aic_concat_forward(c->out, (const float *const *)c->inps, c->inner, CAT_K, c->outer);
    return dot(c->dout, c->out, c->outer * c->total);
}

static void test_concat(void) {
    cat_ctx c = {.outer = 3, .inner = {2, 1, 4}, .total = 7};
    float *dinps[CAT_K];
    for (int i = 0; i < CAT_K; i++) {
        c.inps[i] = test_rand_buf(c.outer * c.inner[i], -1, 1);
        dinps[i] = test_alloc(c.outer * c.inner[i]);
    }
    c.out = test_alloc(c.outer * c.total);
    c.dout = test_rand_buf(c.outer * c.total, -1, 1);
    aic_concat_backward(dinps, c.dout, c.inner, CAT_K, c.outer);
    static const char *names[CAT_K] = {"dinp0", "dinp1", "dinp2"};
    for (int i = 0; i < CAT_K; i++)
        check("concat", names[i], c.inps[i], c.outer * c.inner[i], dinps[i], cat_loss, &c, 1e-3);
    for (int i = 0; i < CAT_K; i++)
        free(c.inps[i]), free(dinps[i]);
    free(c.out), free(c.dout);
}

/* ---- softmax_xent ---- */
typedef struct {
    int N, K;
    float dloss;
    float *logits, *probs;
    int32_t *labels;
} xent_ctx;

static double xent_loss(void *p) {
    xent_ctx *c = p;
    return (double)c->dloss * aic_softmax_xent_forward(c->probs, c->logits, c->labels, c->N, c->K);
}

static void test_softmax_xent(void) {
    xent_ctx c = {.N = 4, .K = 6, .dloss = 0.7f};
    size_t n = (size_t)c.N * c.K;
    c.logits = test_rand_buf(n, -2, 2);
    c.probs = test_alloc(n);
    c.labels = malloc((size_t)c.N * sizeof(int32_t));
    for (int i = 0; i < c.N; i++)
        c.labels[i] = (int32_t)(test_urand() * c.K);
    float *dl = test_alloc(n);
    xent_loss(&c); // probs for the backward
    aic_softmax_xent_backward(dl, c.probs, c.labels, c.N, c.K, c.dloss);
    check("softmax_xent", "dlogits", c.logits, n, dl, xent_loss, &c, 1e-2);
    free(c.logits), free(c.probs), free(c.labels), free(dl);
}

/* ---- mse ---- */
typedef struct {
    size_t n;
    float dloss;
    float *pred, *target;
} mse_ctx;

static double mse_loss(void *p) {
    mse_ctx *c = p;
    return (double)c->dloss * aic_mse_forward(c->pred, c->target, c->n);
}

static void test_mse(void) {
    mse_ctx c = {.n = 13, .dloss = 1.3f};
    c.pred = test_rand_buf(c.n, -1, 1), c.target = test_rand_buf(c.n, -1, 1);
    float *dp = test_alloc(c.n);
    aic_mse_backward(dp, c.pred, c.target, c.n, c.dloss);
    check("mse", "dpred", c.pred, c.n, dp, mse_loss, &c, 1e-2);
    free(c.pred), free(c.target), free(dp);
}

/* ---- softmax, log_softmax over outer x K x inner ---- */
typedef struct {
    void (*forward)(float *, const float *, size_t, int, size_t);
    size_t outer, inner;
    int K;
    float *inp, *out, *dout;
} smax_ctx;

static double smax_loss(void *p) {
    smax_ctx *c = p;
    c->forward(c->out, c->inp, c->outer, c->K, c->inner);
    return dot(c->dout, c->out, c->outer * (size_t)c->K * c->inner);
}

static void test_softmax(const char *name, void (*forward)(float *, const float *, size_t, int, size_t),
                         void (*backward)(float *, const float *, const float *, size_t, int, size_t), size_t outer,
                         int K, size_t inner) {
    smax_ctx c = {.forward = forward, .outer = outer, .inner = inner, .K = K};
    size_t n = outer * (size_t)K * inner;
    c.inp = test_rand_buf(n, -2, 2);
    c.out = test_alloc(n);
    c.dout = test_rand_buf(n, -1, 1);
    float *dinp = test_alloc(n);
    smax_loss(&c); // backward reads the forward output
    backward(dinp, c.dout, c.out, outer, K, inner);
    check(name, "dinp", c.inp, n, dinp, smax_loss, &c, 1e-2);
    free(c.inp), free(c.out), free(c.dout), free(dinp);
}

/* ---- leaky_relu, clip: backward reads the input; inputs kept > 2 EPS from the kinks ---- */
typedef struct {
    size_t n;
    float a, b; // alpha, or lo and hi
    int clip;
    float *inp, *out, *dout;
} kink_ctx;

static double kink_loss(void *p) {
    kink_ctx *c = p;
    if (c->clip)
        aic_clip_forward(c->out, c->inp, c->n, c->a, c->b);
    else
        aic_unary_forward(AIC_UNARY_LEAKY_RELU, c->out, c->inp, c->n, &c->a);
    return dot(c->dout, c->out, c->n);
}

static void test_kink(const char *name, int clip, float a, float b) {
    kink_ctx c = {.n = 40, .a = a, .b = b, .clip = clip};
    c.inp = test_rand_buf(c.n, -1, 1);
    const float kinks[2] = {clip ? a : 0.0f, clip ? b : 0.0f};
    for (size_t i = 0; i < c.n; i++)
        for (int k = 0; k < 2; k++)
            if (fabsf(c.inp[i] - kinks[k]) < 3 * EPS)
                c.inp[i] = kinks[k] + (c.inp[i] < kinks[k] ? -3 * EPS : 3 * EPS);
    c.out = test_alloc(c.n);
    c.dout = test_rand_buf(c.n, -1, 1);
    float *dinp = test_alloc(c.n);
    if (clip) {
        aic_clip_backward(dinp, c.dout, c.inp, c.n, a, b);
    } else {
        kink_loss(&c); // the gradient reads the forward output too
        aic_unary_backward(AIC_UNARY_LEAKY_RELU, dinp, c.dout, c.inp, c.out, c.n, &a);
    }
    check(name, "dinp", c.inp, c.n, dinp, kink_loss, &c, 1e-3);
    free(c.inp), free(c.out), free(c.dout), free(dinp);
}

/* ---- nll ---- */
typedef struct {
    int N, K;
    float dloss;
    float *logprobs;
    int32_t *labels;
} nll_ctx;

static double nll_loss(void *p) {
    nll_ctx *c = p;
    return (double)c->dloss * aic_nll_forward(c->logprobs, c->labels, c->N, c->K);
}

static void test_nll(void) {
    nll_ctx c = {.N = 5, .K = 4, .dloss = 0.9f};
    size_t n = (size_t)c.N * c.K;
    c.logprobs = test_rand_buf(n, -3, 0);
    c.labels = malloc((size_t)c.N * sizeof(int32_t));
    for (int i = 0; i < c.N; i++)
        c.labels[i] = (int32_t)(test_urand() * c.K);
    float *dl = test_alloc(n);
    aic_nll_backward(dl, c.labels, c.N, c.K, c.dloss);
    check("nll", "dlogprobs", c.logprobs, n, dl, nll_loss, &c, 1e-2);
    free(c.logprobs), free(c.labels), free(dl);
}

/* ---- binary arithmetic with broadcasting: a (3 dims) op b (3 dims), a dim of 1 stretches ---- */
typedef struct {
    aic_binary_kind kind;
    aic_binary_dims d;
    size_t n;           // output elements
    float *a, *b, *out, *dout;
} bin_ctx;

static double bin_loss(void *p) {
    bin_ctx *c = p;
    aic_binary_forward(c->out, c->a, c->b, c->kind, &c->d);
    return dot(c->dout, c->out, c->n);
}

static void bin_strides(int64_t *stride, const int64_t *s, const int64_t *out) {
    int64_t st = 1;
    for (int k = 2; k >= 0; k--) {
        stride[k] = s[k] == 1 && out[k] != 1 ? 0 : st;
        st *= s[k];
    }
}

static void test_binary(const char *name, aic_binary_kind kind, const int64_t as[3], const int64_t bs[3]) {
    bin_ctx c = {.kind = kind, .d.ndim = 3, .n = 1};
    size_t na = 1, nb = 1;
    for (int k = 0; k < 3; k++) {
        c.d.shape[k] = as[k] > bs[k] ? as[k] : bs[k];
        c.n *= (size_t)c.d.shape[k], na *= (size_t)as[k], nb *= (size_t)bs[k];
    }
    bin_strides(c.d.astride, as, c.d.shape);
    bin_strides(c.d.bstride, bs, c.d.shape);
    // divisors kept in [0.5, 1.5] (away from 0); the rest in [-1, 1]
    c.a = test_rand_buf(na, -1, 1), c.b = kind == AIC_BINARY_DIV ? test_rand_buf(nb, 0.5f, 1.5f) : test_rand_buf(nb, -1, 1);
    c.out = test_alloc(c.n), c.dout = test_rand_buf(c.n, -1, 1);
    float *da = test_alloc(na), *db = test_alloc(nb);
    aic_binary_backward(da, db, c.dout, c.a, c.b, kind, &c.d);
    check(name, "da", c.a, na, da, bin_loss, &c, 1e-2);
    check(name, "db", c.b, nb, db, bin_loss, &c, 1e-2);
    // += semantics: a second backward doubles; NULL gradients are skipped
    float *da2 = test_alloc(na);
    memcpy(da2, da, na * sizeof *da2);
    aic_binary_backward(da2, NULL, c.dout, c.a, c.b, kind, &c.d);
    int ok = 1;
    for (size_t i = 0; i < na; i++)
        ok &= fabsf(da2[i] - 2.0f * da[i]) <= 1e-5f * (1.0f + fabsf(da[i]));
    test_count(ok);
    printf("%-22s %-8s accumulates, NULL db skipped  %s\n", name, "da", ok ? "ok" : "FAIL");
    free(c.a), free(c.b), free(c.out), free(c.dout), free(da), free(db), free(da2);
}

int main(void) {
    test_dense();
    //        name                 N  C  H  W OC KH KW SH SW PH PW DH DW G
    test_conv("conv2d k3 s2 p1", 2, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1);
    test_conv("conv2d k3x2 d2 g2", 2, 4, 8, 7, 6, 3, 2, 1, 1, 2, 1, 2, 2, 2);
    test_conv("conv2d s2x1 p2 d2 g2", 2, 4, 9, 8, 4, 3, 3, 2, 1, 2, 1, 2, 1, 2);
    test_conv("conv2d 1x1", 2, 4, 5, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    test_conv("conv2d 1x1 g2", 2, 4, 5, 6, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2);
    test_conv("conv2d 1x1 s2", 1, 4, 5, 5, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1);
    test_conv("conv2d k5 p2 (same size)", 2, 3, 8, 7, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1);
    test_conv("conv2d 16ch (blocked)", 2, 16, 7, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    //        name                   max pad  N  C  H  W KH KW SH SW PH PW OH OW
    test_pool("maxpool k3 s2 p1", 1, 0, 2, 2, 7, 7, 3, 3, 2, 2, 1, 1, 4, 4);
    test_pool("maxpool k3 s2 p1 ceil", 1, 0, 2, 2, 6, 8, 3, 3, 2, 2, 1, 1, 4, 5);
    test_pool("maxpool k2x3 s1x2", 1, 0, 1, 3, 5, 7, 2, 3, 1, 2, 0, 0, 4, 3);
    test_pool("maxpool k2 s2", 1, 0, 2, 3, 6, 8, 2, 2, 2, 2, 0, 0, 3, 4);
    test_pool("maxpool k2 s2 odd size", 1, 0, 1, 2, 7, 9, 2, 2, 2, 2, 0, 0, 3, 4);
    test_pool("maxpool k2 s2 OW 7", 1, 0, 2, 2, 6, 14, 2, 2, 2, 2, 0, 0, 3, 7);
    test_pool("avgpool k3 s2 p1 ceil", 0, 0, 2, 2, 6, 8, 3, 3, 2, 2, 1, 1, 4, 5);
    test_pool("avgpool ceil incl_pad", 0, 1, 2, 2, 6, 8, 3, 3, 2, 2, 1, 1, 4, 5);
    test_pool("avgpool k3x2 s1x2 p1", 0, 1, 1, 3, 5, 8, 3, 2, 1, 2, 1, 1, 5, 5);
    test_global_avgpool();
    test_activation("relu", AIC_UNARY_RELU, 0.1f, 1.0f, 1e-3);
    test_activation("sigmoid", AIC_UNARY_SIGMOID, 0.0f, 3.0f, 1e-2);
    test_activation("tanh", AIC_UNARY_TANH, 0.0f, 2.0f, 1e-2);
    test_batchnorm();
    test_dropout();
    test_add();
    test_concat();
    test_transpose();
    test_softmax_xent();
    test_mse();
    test_softmax("softmax last axis", aic_softmax_forward, aic_softmax_backward, 4, 6, 1);
    test_softmax("softmax middle axis", aic_softmax_forward, aic_softmax_backward, 2, 5, 3);
    test_softmax("log_softmax last axis", aic_log_softmax_forward, aic_log_softmax_backward, 4, 6, 1);
    test_softmax("log_softmax mid axis", aic_log_softmax_forward, aic_log_softmax_backward, 2, 5, 3);
    test_kink("leaky_relu a=0.1", 0, 0.1f, 0.0f);
    test_kink("leaky_relu a=-0.5", 0, -0.5f, 0.0f);
    test_kink("clip [-0.4, 0.5]", 1, -0.4f, 0.5f);
    test_kink("clip [0, inf)", 1, 0.0f, INFINITY);
    test_kink("clip (-inf, 0.3]", 1, -INFINITY, 0.3f);
    test_nll();
    static const int64_t full[3] = {2, 3, 4}, mid[3] = {2, 1, 4}, one[3] = {1, 1, 1}, row[3] = {1, 3, 1};
    static const char *const bin_names[4] = {"add", "sub", "mul", "div"};
    for (int k = 0; k < 4; k++) {
        char nm[40];
        snprintf(nm, sizeof nm, "%s bcast mid", bin_names[k]);
        test_binary(nm, (aic_binary_kind)k, full, mid);
        snprintf(nm, sizeof nm, "%s scalar right", bin_names[k]);
        test_binary(nm, (aic_binary_kind)k, full, one);
        snprintf(nm, sizeof nm, "%s scalar left", bin_names[k]);
        test_binary(nm, (aic_binary_kind)k, one, full);
        snprintf(nm, sizeof nm, "%s both bcast", bin_names[k]);
        test_binary(nm, (aic_binary_kind)k, mid, row);
    }
    return test_report("layers_gradcheck");
}
