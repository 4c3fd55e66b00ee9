// SPDX-License-Identifier: Apache-2.0
/* The CUDA backend against the CPU path beyond single ops (each op's forward and backward on CUDA is
 * checked by tests/test_ops.c): a model that keeps TF32 off computes in fp32 beside one that allows it,
 * and two optimizer steps of SGD and Adam leave the same parameters and optimizer state. The same
 * graph is built twice from one seed (parameters are initialized on the host, so both start from the
 * same bits); fp32 with TF32 off; tolerance 1e-5 of the reference's largest magnitude
 * (max |cuda - cpu| <= 1e-5 * max |cpu|, per tensor). Each model puts its op between a dense layer
 * and an MSE loss. Exits 77 (ctest: skipped) with the reason when this build has no CUDA or no GPU
 * is visible. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "aicon/aicon.h"
#include "core/graph.h"
#include "tests/test_util.h"

#define TOL 1e-5
#define N 6 /* batch */

/* The model's op, applied to h (of the per-sample shape the case gives); *out its result. */
typedef aic_status (*op_fn)(aic_model_t *m, aic_value h, aic_value *out);

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[4];
    op_fn op;
} op_case;

static aic_status op_conv(aic_model_t *m, aic_value h, aic_value *o) {
    return aic_conv2d(m, "t", h, &(aic_conv2d_opts){.out_channels = 4, .kernel = {3, 3}, .pad = {1, 1}}, o);
}

static aic_status op_dense_wide(aic_model_t *m, aic_value h, aic_value *o) { return aic_dense(m, "t", h, 512, true, o); }

/* x -> flatten -> dense(numel) -> reshape(shape) -> OP -> flatten -> mse(target) */
static aic_status build(const op_case *c, bool cuda, aic_model_t **out, aic_value *input, aic_value *target,
                        aic_value *opv) {
    aic_model_t *m;
    AIC_TRY(aic_model_create(&m, c->name));
    *out = m;
    if (cuda)
        AIC_TRY(aic_model_set_device(m, AIC_DEVICE_CUDA, 0, false));
    int64_t numel = 1;
    for (int i = 0; i < c->ndim; i++)
        numel *= c->shape[i];
    aic_value h, f, loss;
    AIC_TRY(aic_input(m, "x", c->ndim, c->shape, input));
    AIC_TRY(aic_flatten(m, "flat0", *input, &h));
    AIC_TRY(aic_dense(m, "lead", h, numel, true, &h));
    AIC_TRY(aic_reshape(m, "shape0", h, c->ndim, c->shape, &h));
    AIC_TRY(c->op(m, h, opv));
    AIC_TRY(aic_flatten(m, "flat1", *opv, &f));
    int64_t fn = m->values[f].numel;
    AIC_TRY(aic_input(m, "target", 1, &fn, target));
    AIC_TRY(aic_mse(m, "loss", f, *target, &loss));
    return aic_model_compile(m, N, 7);
}

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

static void compare(const char *cname, const char *what, const float *cpu, const float *gpu, size_t n) {
    double scale = max_abs(cpu, n), worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)cpu[i] - gpu[i]);
        if (!(d <= worst)) { /* NaN counts as the worst */
            worst = d;
            at = i;
        }
    }
    CHECK_MSG(worst <= TOL * (scale > 0 ? scale : 1e-30),
              "%s: %s: max |cuda - cpu| %.3g at %zu (cpu %.8g, cuda %.8g), scale %.3g", cname, what, worst, at, cpu[at],
              gpu[at], scale);
}

/* TF32 is a model's setting: a model that keeps it off computes in fp32 even after another model of
 * the process allowed it (TF32 would miss TOL by two orders of magnitude on these 512-long sums). */
static aic_status run_tf32_per_model(void) {
    const op_case c = {"dense beside a model with TF32", 1, {512}, op_dense_wide};
    aic_model_t *m[2], *tf32_model;
    aic_value input[2], target[2], opv[2];
    for (int k = 0; k < 2; k++)
        AIC_TRY(build(&c, k == 1, &m[k], &input[k], &target[k], &opv[k]));
    AIC_TRY(aic_model_create(&tf32_model, "tf32"));
    AIC_TRY(aic_model_set_device(tf32_model, AIC_DEVICE_CUDA, 0, true));
    float *x = test_rand_buf(512 * N, -1.5f, 1.5f), *t = test_rand_buf(512 * N, -1, 1);
    aic_batch_info b = {.n = N, .training = false};
    aic_tensor out[2];
    for (int k = 0; k < 2; k++) {
        AIC_TRY(aic_model_set_input(m[k], input[k], x, N));
        AIC_TRY(aic_model_set_input(m[k], target[k], t, N));
        AIC_TRY(aic_model_forward(m[k], &b, NULL));
        AIC_TRY(aic_model_value(m[k], opv[k], &out[k]));
    }
    compare(c.name, "forward output", out[0].data, out[1].data, aic_tensor_numel(&out[0]));
    printf("ok   %s\n", c.name);
    free(x);
    free(t);
    aic_model_destroy(tf32_model);
    aic_model_destroy(m[0]);
    aic_model_destroy(m[1]);
    return AIC_OK;
}

/* Two steps of each optimizer on a small CNN: parameters and optimizer state after them. */
static aic_status run_optim(const aic_optim_config *cfg, const char *name) {
    const op_case c = {"optimizer", 3, {2, 6, 5}, op_conv};
    aic_model_t *m[2];
    aic_value input[2], target[2], opv[2];
    aic_optim_t *o[2];
    for (int k = 0; k < 2; k++) {
        AIC_TRY(build(&c, k == 1, &m[k], &input[k], &target[k], &opv[k]));
        AIC_TRY(aic_optim_create(&o[k], m[k], cfg));
    }
    float *x = test_rand_buf(60 * N, -1, 1), *t = test_rand_buf((size_t)m[0]->values[target[0]].numel * N, -1, 1);
    for (int step = 0; step < 2; step++)
        for (int k = 0; k < 2; k++) {
            aic_batch_info b = {.n = N, .training = true, .step = (uint64_t)step};
            AIC_TRY(aic_model_set_input(m[k], input[k], x, N));
            AIC_TRY(aic_model_set_input(m[k], target[k], t, N));
            AIC_TRY(aic_model_zero_grad(m[k]));
            AIC_TRY(aic_model_forward(m[k], &b, NULL));
            AIC_TRY(aic_model_backward(m[k], 1.0f));
            AIC_TRY(aic_optim_step(o[k], 0.05f));
        }
    size_t np = aic_model_num_params(m[0]);
    compare(name, "parameters after 2 steps", aic_model_params(m[0]), aic_model_params(m[1]), np);
    for (int s = 0; s < aic_optim_slot_count(o[0]); s++) {
        float *s0, *s1;
        AIC_TRY(aic_optim_slot(o[0], s, NULL, &s0));
        AIC_TRY(aic_optim_slot(o[1], s, NULL, &s1));
        compare(name, "optimizer state after 2 steps", s0, s1, np);
    }
    printf("ok   %s\n", name);
    for (int k = 0; k < 2; k++) {
        aic_optim_destroy(o[k]);
        aic_model_destroy(m[k]);
    }
    free(x);
    free(t);
    return AIC_OK;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (!aic_cuda_built()) {
        printf("SKIP: this aicon was built without CUDA (AICON_CUDA=OFF or no CUDA toolkit)\n");
        MPI_Finalize();
        return 77;
    }
    int gpus = 0;
    aic_gpu_count(&gpus);
    if (gpus == 0) {
        printf("SKIP: no GPU visible: %s\n", aic_last_error());
        MPI_Finalize();
        return 77;
    }
    test_rng = 0x1234567ull;
    CHECK_MSG(run_tf32_per_model() == AIC_OK, "TF32 per model");
    const aic_optim_config opts[] = {
        {.kind = AIC_OPTIM_SGD, .momentum = 0.9f, .nesterov = true, .weight_decay = 1e-3f},
        {.kind = AIC_OPTIM_SGD},
        {.kind = AIC_OPTIM_ADAM, .weight_decay = 1e-3f},
        {.kind = AIC_OPTIM_ADAMW, .weight_decay = 1e-2f},
    };
    const char *names[] = {"sgd nesterov", "sgd plain", "adam", "adamw"};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(run_optim(&opts[i], names[i]) == AIC_OK, "%s", names[i]);
    /* scripts/gpu-check.sh looks for this line's PASS. */
    printf("%s: %ld failure%s (tolerance %.0e of each tensor's largest magnitude, fp32, TF32 off)\n",
           test_fail ? "FAIL" : "PASS", test_fail, test_fail == 1 ? "" : "s", TOL);
    MPI_Finalize();
    return test_fail ? 1 : 0;
}
