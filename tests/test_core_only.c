// SPDX-License-Identifier: Apache-2.0
/* A program linked with the core library alone (aicon_core: no MPI, no HDF5, no usage records; its
 * libraries are checked by tests/layering/core_only.sh): a dense layer and a mean squared error on
 * the CPU, forward and backward against values worked out by hand, and the model's hooks for what is
 * built above core/ (the backward hook after every op, attached state destroyed with the model). */
#include <math.h>

#include "aicon/model.h"
#include "core/graph.h"
#include "tests/test_util.h"

/* The backward hook's record: the ops it was called after, in order. */
typedef struct {
    int ops[8];
    int n;
} hook_calls;

static aic_status record_op(void *ctx, int op) {
    hook_calls *h = ctx;
    if (h->n == (int)(sizeof h->ops / sizeof h->ops[0]))
        return aic_fail(AIC_ERR_INTERNAL, "backward hook: called more than %d times", h->n);
    h->ops[h->n++] = op;
    return AIC_OK;
}

static int destroyed;
static void count_destroy(void *state) { destroyed += *(int *)state; }

#define CHECK_NEAR(what, got, want) \
    CHECK_MSG(fabsf((got) - (want)) <= 1e-5f, "%s is %.7g, expected %.7g", what, (double)(got), (double)(want))

/* x -> dense(1) -> pred, mse(pred, target); W = [0.5, -0.25], b = 0.1. */
static aic_status build(aic_model_t *m, aic_value *x, aic_value *target) {
    const int64_t two = 2, one = 1;
    aic_value pred, loss;
    AIC_TRY(aic_input(m, "x", 1, &two, x));
    AIC_TRY(aic_input(m, "target", 1, &one, target));
    AIC_TRY(aic_dense(m, "fc", *x, 1, true, &pred));
    AIC_TRY(aic_mse(m, "loss", pred, *target, &loss));
    AIC_TRY(aic_model_compile(m, 2, 1));
    aic_tensor w, b;
    AIC_TRY(aic_model_param(m, 0, &w, NULL));
    AIC_TRY(aic_model_param(m, 1, &b, NULL));
    ((float *)w.data)[0] = 0.5f;
    ((float *)w.data)[1] = -0.25f;
    ((float *)b.data)[0] = 0.1f;
    return AIC_OK;
}

int main(void) {
    aic_model_t *m = NULL;
    aic_value x, target;
    REQUIRE_OK(aic_model_create(&m, "core_only"));
    REQUIRE_OK(build(m, &x, &target));

    /* On x = [1, 2] and [3, 4] against targets 1 and 2: pred = 0.1 and 0.6, errors -0.9 and -1.4,
     * loss (0.81 + 1.96) / 2 = 1.385; the gradient of the mean is the error per row:
     * dW = -0.9 [1, 2] - 1.4 [3, 4] = [-5.1, -7.4], db = -2.3. */
    const float xs[4] = {1, 2, 3, 4}, ys[2] = {1, 2};
    const aic_batch_info batch = {.n = 2, .training = true};
    float loss = 0;
    REQUIRE_OK(aic_model_set_input(m, x, xs, 2));
    REQUIRE_OK(aic_model_set_input(m, target, ys, 2));
    REQUIRE_OK(aic_model_zero_grad(m));
    REQUIRE_OK(aic_model_forward(m, &batch, &loss));
    CHECK_NEAR("the loss", loss, 1.385f);

    hook_calls h = {.n = 0};
    aic_model_set_backward_hook(m, record_op, &h);
    CHECK_OK(aic_model_backward(m, 1.0f));
    aic_model_set_backward_hook(m, NULL, NULL);
    aic_tensor dw, db;
    REQUIRE_OK(aic_model_param(m, 0, NULL, &dw));
    REQUIRE_OK(aic_model_param(m, 1, NULL, &db));
    CHECK_NEAR("dW[0]", ((float *)dw.data)[0], -5.1f);
    CHECK_NEAR("dW[1]", ((float *)dw.data)[1], -7.4f);
    CHECK_NEAR("db", ((float *)db.data)[0], -2.3f);
    /* After every op, also the inputs with nothing to differentiate, from the last one down. */
    CHECK_MSG(h.n == m->n_ops, "backward hook: %d calls for %d ops", h.n, m->n_ops);
    for (int i = 0; i < h.n; i++)
        CHECK_MSG(h.ops[i] == m->n_ops - 1 - i, "backward hook: call %d was after op %d, expected %d", i, h.ops[i],
                  m->n_ops - 1 - i);
    /* Removed: another backward calls nothing. */
    CHECK_OK(aic_model_backward(m, 1.0f));
    CHECK_MSG(h.n == m->n_ops, "backward hook: called after it was removed");

    /* Attached state: attaching again destroys the old one, destroying the model the current one. */
    static int first = 1, second = 10;
    aic_model_attach(m, &first, count_destroy);
    aic_model_attach(m, &second, count_destroy);
    CHECK_MSG(destroyed == 1 && aic_model_attached(m) == &second,
              "attaching again: destroyed %d (expected the first state, 1), attached %p", destroyed,
              aic_model_attached(m));
    aic_model_destroy(m);
    CHECK_MSG(destroyed == 11, "aic_model_destroy: destroyed %d, expected both states (11)", destroyed);
    return test_report("core_only");
}
