// SPDX-License-Identifier: Apache-2.0
/* The GPT of examples/gpt.c, its tied head and the optimizer's clipping and decay_matrices_only:
 *   test_gpt DIR   builds a tiny GPT (2 layers, 2 heads, dim 32, T 16, vocab 64, batch 4), checks the
 *                  tied head's bookkeeping (the summary counts wte once, the head has no weight of
 *                  its own, errors name the op and the parameter), then runs 5 AdamW steps (weight
 *                  decay on matrices only, gradients clipped) on fixed random tokens and writes for
 *                  tests/gpt/gpt_parity.py, which repeats them in PyTorch: DIR/params.txt (name and
 *                  shape of each parameter, arena order), DIR/params0.f32 and params5.f32 (the arena
 *                  before and after), DIR/grads0.f32 (the first step's gradients, before clipping),
 *                  DIR/tokens.i32 and targets.i32 (5 x 4 x 16), DIR/steps.txt (loss and gradient
 *                  norm per step). */
#include <stdio.h>
#include <string.h>

#include "aicon/aicon.h"
#include "examples/gpt.h"
#include "tests/test_util.h"

enum { STEPS = 5, BATCH = 4 };
static const aic_gpt_config CFG = {.layers = 2, .heads = 2, .dim = 32, .seq_len = 16, .vocab = 64};
static const aic_optim_config OPT = {.kind = AIC_OPTIM_ADAMW, .weight_decay = 0.1f, .beta2 = 0.95f,
                                     .decay_matrices_only = true, .clip_grad_norm = 0.5f};
static const float LR = 3e-3f;

static void write_file(const char *dir, const char *name, const void *data, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    REQUIRE_MSG(f && fwrite(data, 1, bytes, f) == bytes && fclose(f) == 0, "cannot write %s", path);
}

/* The tied head on a model of its own: an unknown parameter and a weight of the wrong shape fail
 * naming the op and the parameter. */
static void tied_errors(void) {
    aic_model_t *m;
    aic_value ids, e, y;
    REQUIRE_OK(aic_model_create(&m, "tied errors"));
    REQUIRE_OK(aic_int_input(m, "ids", 1, (int64_t[]){3}, &ids));
    REQUIRE_OK(aic_embedding(m, "wte", ids, 10, 4, &e));
    CHECK(aic_dense_tied(m, "head", e, "wpe.weight", false, &y) == AIC_ERR_INVALID_ARG);
    CHECK_MSG(strstr(aic_last_error(), "'head'") && strstr(aic_last_error(), "'wpe.weight'"), "%s", aic_last_error());
    aic_model_destroy(m);
    REQUIRE_OK(aic_model_create(&m, "tied errors"));
    REQUIRE_OK(aic_int_input(m, "ids", 1, (int64_t[]){3}, &ids));
    REQUIRE_OK(aic_embedding(m, "wte", ids, 10, 4, &e));
    REQUIRE_OK(aic_dense(m, "proj", e, 5, true, &e));
    CHECK(aic_dense_tied(m, "head", e, "wte.weight", false, &y) == AIC_ERR_SHAPE);
    CHECK_MSG(strstr(aic_last_error(), "'head'") && strstr(aic_last_error(), "'wte.weight'"), "%s", aic_last_error());
    aic_model_destroy(m);
}

/* The summary counts the tied table once (its total is the arena's), and the head adds no weight. */
static void tied_bookkeeping(aic_model_t *m) {
    char buf[1 << 14], total[64];
    REQUIRE_OK(aic_model_summary(m, buf, sizeof buf));
    snprintf(total, sizeof total, "\n%zu parameters\n", aic_model_num_params(m));
    CHECK_MSG(strstr(buf, total) != NULL, "summary does not end in%s:\n%s", total, buf);
    aic_tensor t;
    CHECK(aic_model_find_param(m, "lm_head.weight", &t) == AIC_ERR_INVALID_ARG);
    CHECK_OK(aic_model_find_param(m, "wte.weight", &t));
    CHECK(t.shape[0] == CFG.vocab && t.shape[1] == CFG.dim);
}

int main(int argc, char **argv) {
    REQUIRE_MSG(argc == 2, "usage: test_gpt DIR");
    const char *dir = argv[1];
    tied_errors();

    aic_model_t *m;
    aic_value tokens, targets, logits, loss;
    REQUIRE_OK(aic_model_create(&m, "gpt"));
    REQUIRE_OK(gpt_build(m, &CFG, &tokens, &targets, &logits, &loss));
    REQUIRE_OK(aic_model_compile(m, BATCH, 7));
    REQUIRE_OK(gpt_init(m, &CFG, 7));
    tied_bookkeeping(m);

    const size_t np = aic_model_num_params(m);
    char path[4096];
    snprintf(path, sizeof path, "%s/params.txt", dir);
    FILE *f = fopen(path, "w");
    REQUIRE_MSG(f != NULL, "cannot write %s", path);
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p;
        REQUIRE_OK(aic_model_param(m, i, &p, NULL));
        fprintf(f, "%s", p.name);
        for (int d = 0; d < p.ndim; d++)
            fprintf(f, " %lld", (long long)p.shape[d]);
        fputc('\n', f);
    }
    REQUIRE_MSG(fclose(f) == 0, "cannot write %s", path);
    write_file(dir, "params0.f32", aic_model_params(m), sizeof(float) * np);

    enum { N = STEPS * BATCH * 16 };
    static int32_t tok[N], tgt[N];
    test_rng = 12345;
    for (int i = 0; i < N; i++) {
        tok[i] = (int32_t)(test_urand() * CFG.vocab);
        tgt[i] = (int32_t)(test_urand() * CFG.vocab);
    }
    write_file(dir, "tokens.i32", tok, sizeof tok);
    write_file(dir, "targets.i32", tgt, sizeof tgt);

    aic_optim_t *o;
    REQUIRE_OK(aic_optim_create(&o, m, &OPT));
    char steps[1024];
    int len = 0;
    for (int s = 0; s < STEPS; s++) {
        const size_t at = (size_t)s * BATCH * 16;
        REQUIRE_OK(aic_model_set_input(m, tokens, tok + at, BATCH));
        REQUIRE_OK(aic_model_set_input(m, targets, tgt + at, BATCH));
        float l;
        REQUIRE_OK(aic_model_zero_grad(m));
        REQUIRE_OK(aic_model_forward(m, &(aic_batch_info){.n = BATCH, .training = true, .step = (uint64_t)s}, &l));
        REQUIRE_OK(aic_model_backward(m, 1.0f));
        if (s == 0)
            write_file(dir, "grads0.f32", aic_model_grads(m), sizeof(float) * np);
        REQUIRE_OK(aic_optim_step(o, LR));
        len += snprintf(steps + len, sizeof steps - (size_t)len, "%.9g %.9g\n", l, aic_optim_last_grad_norm(o));
        printf("step %d: loss %.6f, gradient norm %.6f\n", s + 1, l, aic_optim_last_grad_norm(o));
    }
    write_file(dir, "steps.txt", steps, strlen(steps));
    write_file(dir, "params5.f32", aic_model_params(m), sizeof(float) * np);
    aic_optim_destroy(o);
    aic_model_destroy(m);
    return test_report("test_gpt");
}
