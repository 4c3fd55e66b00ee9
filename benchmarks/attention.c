// SPDX-License-Identifier: Apache-2.0
/* Attention, fused (aic_attention) against the batched aic_matmul path (transpose, matmul, scale,
 * causal mask, softmax, matmul), forward and backward, one model step of each on the CPU; and the
 * batched MatMul alone ("bmm": q times k reshaped to N x H x D x T, times v: attention's two
 * products at its shapes, without the ops between them). q, k and v
 * are three embeddings of the ids 0..H*T-1 (N x H x T x D, each with a gradient that costs a copy)
 * and the loss is mse(out, target), so that backward reaches dq, dk and dv; both models share that
 * frame, which benchmarks/pytorch_attention.py builds alike. Prints the best CPU time of each pass over
 * the iterations, as "path pass ms" lines (benchmarks/attention.sh compares them with PyTorch's).
 *
 * usage: attention [--batch 8] [--seq 256] [--heads 12] [--dim 64] [--causal 1] [--iters 5] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aicon/aicon.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: a busy machine does not count */
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((call) != AIC_OK) {                                                                    \
            fprintf(stderr, "attention benchmark: %s: %s\n", #call, aic_last_error());             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    int B, T, H, D, iters;
    bool causal;
} config;

/* The model of one path; ids and target inputs in *ids, *target. */
enum { FUSED, MATMUL, BMM };
static const char *const PATHS[] = {"fused", "matmul", "bmm"};

static aic_model_t *build(const config *c, int path, aic_value *ids, aic_value *target) {
    aic_model_t *m;
    TRY(aic_model_create(&m, PATHS[path]));
    const int64_t id_shape[2] = {c->H, c->T}, x_shape[3] = {c->H, c->T, c->D};
    TRY(aic_int_input(m, "ids", 2, id_shape, ids));
    TRY(aic_input(m, "target", 3, x_shape, target));
    aic_value q, k, v, o, loss;
    TRY(aic_embedding(m, "q", *ids, (int64_t)c->H * c->T, c->D, &q));
    TRY(aic_embedding(m, "k", *ids, (int64_t)c->H * c->T, c->D, &k));
    TRY(aic_embedding(m, "v", *ids, (int64_t)c->H * c->T, c->D, &v));
    if (path == FUSED) {
        TRY(aic_attention(m, "attention", q, k, v, c->causal, 0.0f, &o));
    } else if (path == BMM) {
        const int64_t kr_shape[3] = {c->H, c->D, c->T};
        aic_value kr, s;
        TRY(aic_reshape(m, "k_r", k, 3, kr_shape, &kr));
        TRY(aic_matmul(m, "scores", q, kr, &s));
        TRY(aic_matmul(m, "out", s, v, &o));
    } else {
        const int perm[4] = {0, 1, 3, 2};
        const int64_t one = 1, mask_shape[2] = {c->T, c->T};
        aic_value kt, s, p;
        TRY(aic_transpose(m, "k_t", k, perm, &kt));
        TRY(aic_matmul(m, "scores", q, kt, &s));
        TRY(aic_binary_const(m, "scale", AIC_BINOP_MUL, s, 1, &one, false, &s));
        if (c->causal)
            TRY(aic_binary_const(m, "mask", AIC_BINOP_ADD, s, 2, mask_shape, false, &s));
        TRY(aic_softmax(m, "softmax", s, 3, &p));
        TRY(aic_matmul(m, "out", p, v, &o));
    }
    TRY(aic_mse(m, "loss", o, *target, &loss));
    TRY(aic_model_compile(m, c->B, 1));
    /* the constants: the scale (1 float) and the mask (T x T: 0, -inf above the diagonal) */
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        aic_tensor t;
        TRY(aic_model_buffer(m, i, &t));
        float *d = t.data;
        const int64_t n = t.shape[0];
        for (int64_t e = 0; e < n; e++)
            d[e] = n == 1 ? 1.0f / sqrtf((float)c->D) : (e % c->T > e / c->T ? -INFINITY : 0.0f);
    }
    return m;
}

/* Best forward and backward times over the iterations (the first is a warm-up). */
static void run(const config *c, int path) {
    aic_value ids, target;
    aic_model_t *m = build(c, path, &ids, &target);
    const size_t n_ids = (size_t)c->B * c->H * c->T, n_x = n_ids * (size_t)c->D;
    int32_t *id = malloc(n_ids * sizeof *id);
    float *tg = malloc(n_x * sizeof *tg);
    if (!id || !tg) {
        fprintf(stderr, "attention benchmark: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n_ids; i++)
        id[i] = (int32_t)(i % ((size_t)c->H * c->T));
    for (size_t i = 0; i < n_x; i++)
        tg[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    TRY(aic_model_set_input(m, ids, id, c->B));
    TRY(aic_model_set_input(m, target, tg, c->B));
    const aic_batch_info b = {.n = c->B, .training = true};
    double best_f = INFINITY, best_b = INFINITY;
    for (int it = 0; it <= c->iters; it++) {
        TRY(aic_model_zero_grad(m));
        float loss;
        const double t0 = now_ms();
        TRY(aic_model_forward(m, &b, &loss));
        const double t1 = now_ms();
        TRY(aic_model_backward(m, 1.0f));
        const double t2 = now_ms();
        if (it > 0) {
            best_f = t1 - t0 < best_f ? t1 - t0 : best_f;
            best_b = t2 - t1 < best_b ? t2 - t1 : best_b;
        }
    }
    printf("%s forward %.3f\n%s backward %.3f\n", PATHS[path], best_f, PATHS[path], best_b);
    free(id);
    free(tg);
    aic_model_destroy(m);
}

int main(int argc, char **argv) {
    config c = {8, 256, 12, 64, 5, true};
    for (int i = 1; i + 1 < argc; i += 2) {
        const int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--batch"))
            c.B = v;
        else if (!strcmp(argv[i], "--seq"))
            c.T = v;
        else if (!strcmp(argv[i], "--heads"))
            c.H = v;
        else if (!strcmp(argv[i], "--dim"))
            c.D = v;
        else if (!strcmp(argv[i], "--causal"))
            c.causal = v != 0;
        else if (!strcmp(argv[i], "--iters"))
            c.iters = v;
        else {
            fprintf(stderr, "usage: attention [--batch B] [--seq T] [--heads H] [--dim D] [--causal 0|1] "
                            "[--iters I]\n");
            return 2;
        }
    }
    if (c.B < 1 || c.T < 1 || c.H < 1 || c.D < 1 || c.iters < 1) {
        fprintf(stderr, "attention benchmark: sizes and iterations must be positive\n");
        return 2;
    }
    for (int path = FUSED; path <= BMM; path++)
        run(&c, path);
    return 0;
}
