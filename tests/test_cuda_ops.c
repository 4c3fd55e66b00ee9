// SPDX-License-Identifier: Apache-2.0
/* Every op's forward and backward on CUDA against the CPU path: the same graph built twice from one
 * seed (parameters are initialized on the host, so both start from the same bits), the same batch,
 * then the op's output, the loss and every parameter gradient compared, and two optimizer steps of
 * SGD and Adam compared. fp32 with TF32 off; tolerance 1e-5 of the reference's largest magnitude
 * (max |cuda - cpu| <= 1e-5 * max |cpu|, per tensor). Each op sits between a dense layer (so that its
 * input gradient is exercised: the dense weights' gradient flows through it) and an MSE loss.
 * Exits 77 (ctest: skipped) with the reason when this build has no CUDA or no GPU is visible. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "aicon/aicon.h"
#include "core/graph.h"
#include "tests/test_util.h"

#define TOL 1e-5
#define N 6 /* batch */

/* The op under test, applied to h (per-sample shape given to the case); *out its result. */
typedef aic_status (*op_fn)(aic_model_t *m, aic_value h, aic_value labels, aic_value *out);

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[4];
    op_fn op;
    bool is_loss; /* the op is the loss itself */
    int batch;    /* 0: N */
} op_case;

static aic_status op_dense(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_dense(m, "t", h, 7, true, o); }
static aic_status op_conv(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_conv2d(m, "t", h, &(aic_conv2d_opts){.out_channels = 4, .kernel = {3, 3}, .pad = {1, 1}}, o);
}
static aic_status op_conv_strided(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_conv2d(m, "t", h,
                      &(aic_conv2d_opts){.out_channels = 4, .kernel = {3, 2}, .stride = {2, 1}, .pad = {1, 0},
                                         .dilation = {1, 2}, .groups = 2},
                      o);
}
static aic_status op_maxpool(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_maxpool2d(m, "t", h, &(aic_pool2d_opts){.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .ceil_mode = true}, o);
}
static aic_status op_maxpool2(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_maxpool2d(m, "t", h, &(aic_pool2d_opts){.kernel = {2, 2}}, o);
}
static aic_status op_avgpool(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_avgpool2d(m, "t", h, &(aic_pool2d_opts){.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .ceil_mode = true}, o);
}
static aic_status op_avgpool_pad(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_avgpool2d(m, "t", h, &(aic_pool2d_opts){.kernel = {3, 3}, .stride = {1, 1}, .pad = {1, 1}, .count_include_pad = true}, o);
}
static aic_status op_gap(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_global_avgpool(m, "t", h, o); }
static aic_status op_relu(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_relu(m, "t", h, o); }
static aic_status op_sigmoid(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_sigmoid(m, "t", h, o); }
static aic_status op_tanh(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_tanh(m, "t", h, o); }
static aic_status op_bn(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_batchnorm(m, "t", h, 0.1f, 1e-5f, o); }
static aic_status op_dropout(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_dropout(m, "t", h, 0.3f, o); }
static aic_status op_add(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value r;
    AIC_TRY(aic_relu(m, "r", h, &r));
    return aic_add(m, "t", h, r, o);
}
static aic_status op_concat(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value r, t, xs[3];
    AIC_TRY(aic_relu(m, "r", h, &r));
    AIC_TRY(aic_tanh(m, "th", h, &t));
    xs[0] = h, xs[1] = r, xs[2] = t;
    return aic_concat(m, "t", 3, xs, 2, o);
}
/* One tensor twice: backward adds both halves of the gradient into the same input. */
static aic_status op_concat_same(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value xs[2] = {h, h};
    return aic_concat(m, "t", 2, xs, 1, o);
}
static aic_status op_softmax(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_softmax(m, "t", h, 1, o); }
static aic_status op_softmax_inner(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_softmax(m, "t", h, 2, o); }
static aic_status op_log_softmax(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_log_softmax(m, "t", h, 1, o); }
static aic_status op_leaky(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_leaky_relu(m, "t", h, 0.1f, o); }
static aic_status op_clip(aic_model_t *m, aic_value h, aic_value l, aic_value *o) { return aic_clip(m, "t", h, -0.2f, 0.3f, o); }
static aic_status op_binary(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value g, q;
    AIC_TRY(aic_global_avgpool(m, "g", h, &g));      /* N x C x 1 x 1: broadcasts against h */
    AIC_TRY(aic_binary(m, "mul", AIC_BINOP_MUL, h, g, &q));
    AIC_TRY(aic_binary(m, "sub", AIC_BINOP_SUB, q, h, &q));
    return aic_binary_const(m, "t", AIC_BINOP_DIV, q, 3, (int64_t[]){1, 1, 5}, false, o);
}
static aic_status op_binary_add(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value s;
    AIC_TRY(aic_sigmoid(m, "s", h, &s));
    AIC_TRY(aic_binary(m, "add", AIC_BINOP_ADD, h, s, &s));
    return aic_binary_const(m, "t", AIC_BINOP_SUB, s, 1, (int64_t[]){5}, true, o);
}
static aic_status op_transpose(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_transpose(m, "t", h, (int[]){0, 3, 1, 2}, o);
}
static aic_status op_xent(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_softmax_cross_entropy(m, "t", h, l, o);
}
static aic_status op_nll(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    aic_value lp;
    AIC_TRY(aic_log_softmax(m, "lsm", h, 1, &lp));
    return aic_nll_loss(m, "t", lp, l, o);
}

static const op_case CASES[] = {
    {"dense", 1, {12}, op_dense, false, 0},
    {"conv2d", 3, {2, 6, 5}, op_conv, false, 0},
    {"conv2d strided/dilated/grouped", 3, {2, 7, 6}, op_conv_strided, false, 0},
    {"maxpool2d ceil pad", 3, {2, 7, 6}, op_maxpool, false, 0},
    {"maxpool2d 2x2", 3, {2, 6, 4}, op_maxpool2, false, 0},
    {"avgpool2d ceil pad", 3, {2, 7, 6}, op_avgpool, false, 0},
    {"avgpool2d count_include_pad", 3, {2, 5, 4}, op_avgpool_pad, false, 0},
    {"global_avgpool", 3, {3, 4, 5}, op_gap, false, 0},
    {"relu", 2, {3, 5}, op_relu, false, 0},
    {"sigmoid", 2, {3, 5}, op_sigmoid, false, 0},
    {"tanh", 2, {3, 5}, op_tanh, false, 0},
    {"batchnorm (N x C x S)", 3, {3, 4, 5}, op_bn, false, 0},
    {"batchnorm (N x C)", 1, {9}, op_bn, false, 0},
    {"batchnorm, one value per channel", 1, {9}, op_bn, false, 1},
    {"dropout", 2, {4, 9}, op_dropout, false, 0},
    {"add", 2, {3, 5}, op_add, false, 0},
    {"concat", 3, {2, 3, 4}, op_concat, false, 0},
    {"concat of one tensor twice", 2, {3, 4}, op_concat_same, false, 0},
    {"softmax", 1, {10}, op_softmax, false, 0},
    {"softmax inner axis", 3, {3, 4, 2}, op_softmax_inner, false, 0},
    {"log_softmax", 1, {10}, op_log_softmax, false, 0},
    {"leaky_relu", 2, {3, 5}, op_leaky, false, 0},
    {"clip", 2, {3, 5}, op_clip, false, 0},
    {"binary (broadcast, constant)", 3, {2, 3, 5}, op_binary, false, 0},
    {"binary add, constant on the left", 2, {3, 5}, op_binary_add, false, 0},
    {"transpose", 3, {2, 3, 4}, op_transpose, false, 0},
    {"softmax_xent", 1, {10}, op_xent, true, 0},
    {"nll", 1, {10}, op_nll, true, 0},
};

/* x -> flatten -> dense(numel) -> reshape(shape) -> OP -> [flatten -> mse(target)] */
static aic_status build(const op_case *c, bool cuda, aic_model_t **out, aic_io_values *io, aic_value *target,
                        aic_value *opv) {
    aic_model_t *m;
    AIC_TRY(aic_model_create(&m, c->name));
    *out = m;
    if (cuda)
        AIC_TRY(aic_model_set_device(m, AIC_DEVICE_CUDA, 0, false));
    int64_t numel = 1;
    for (int i = 0; i < c->ndim; i++)
        numel *= c->shape[i];
    aic_value x, h;
    AIC_TRY(aic_input(m, "x", c->ndim, c->shape, &x));
    AIC_TRY(aic_labels(m, "y", &io->labels));
    io->input = x;
    AIC_TRY(aic_flatten(m, "flat0", x, &h));
    AIC_TRY(aic_dense(m, "lead", h, numel, true, &h));
    AIC_TRY(aic_reshape(m, "shape0", h, c->ndim, c->shape, &h));
    aic_value o, loss;
    AIC_TRY(c->op(m, h, io->labels, &o));
    *opv = o;
    *target = -1;
    if (!c->is_loss) {
        aic_value f;
        AIC_TRY(aic_flatten(m, "flat1", o, &f));
        int64_t fn = m->values[f].numel;
        AIC_TRY(aic_input(m, "target", 1, &fn, target));
        AIC_TRY(aic_mse(m, "loss", f, *target, &loss));
        *opv = o;
    }
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

static aic_status run_case(const op_case *c) {
    aic_model_t *m[2] = {NULL, NULL};
    aic_io_values io[2];
    aic_value target[2], opv[2];
    for (int k = 0; k < 2; k++)
        AIC_TRY(build(c, k == 1, &m[k], &io[k], &target[k], &opv[k]));
    const int nb = c->batch ? c->batch : N;
    size_t in_numel = (size_t)m[0]->values[io[0].input].numel;
    float *x = test_rand_buf(in_numel * nb, -1.5f, 1.5f);
    int32_t y[N];
    int K = c->is_loss ? (int)m[0]->values[m[0]->ops[m[0]->values[m[0]->loss_value].producer].in[0]].numel : 1;
    for (int i = 0; i < nb; i++)
        y[i] = (int32_t)(test_urand() * K);
    float *t = NULL;
    if (target[0] >= 0)
        t = test_rand_buf((size_t)m[0]->values[target[0]].numel * nb, -1, 1);
    float loss[2];
    aic_batch_info b = {.n = nb, .training = true, .step = 3, .row_offset = 5};
    for (int k = 0; k < 2; k++) {
        AIC_TRY(aic_model_set_input(m[k], io[k].input, x, nb));
        AIC_TRY(aic_model_set_input(m[k], io[k].labels, y, nb));
        if (t)
            AIC_TRY(aic_model_set_input(m[k], target[k], t, nb));
        AIC_TRY(aic_model_zero_grad(m[k]));
        AIC_TRY(aic_model_forward(m[k], &b, &loss[k]));
        AIC_TRY(aic_model_backward(m[k], 1.0f));
    }
    compare(c->name, "loss", &loss[0], &loss[1], 1);
    if (!c->is_loss) {
        aic_tensor o0, o1;
        AIC_TRY(aic_model_value(m[0], opv[0], &o0));
        AIC_TRY(aic_model_value(m[1], opv[1], &o1));
        compare(c->name, "forward output", o0.data, o1.data, aic_tensor_numel(&o0));
    }
    size_t np = aic_model_num_params(m[0]);
    compare(c->name, "parameter gradients (backward)", aic_model_grads(m[0]), aic_model_grads(m[1]), np);
    compare(c->name, "buffers (running statistics)", aic_model_buffers(m[0]), aic_model_buffers(m[1]),
            aic_model_num_buffers(m[0]));
    /* Evaluation mode too (batchnorm's running statistics, dropout off). */
    aic_batch_info e = {.n = nb, .training = false};
    for (int k = 0; k < 2; k++)
        AIC_TRY(aic_model_forward(m[k], &e, &loss[k]));
    compare(c->name, "loss in evaluation mode", &loss[0], &loss[1], 1);
    printf("ok   %s\n", c->name);
    free(x);
    free(t);
    aic_model_destroy(m[0]);
    aic_model_destroy(m[1]);
    return AIC_OK;
}

static aic_status op_dense_wide(aic_model_t *m, aic_value h, aic_value l, aic_value *o) {
    return aic_dense(m, "t", h, 512, true, o);
}

/* TF32 is a model's setting: a model that keeps it off computes in fp32 even after another model of
 * the process allowed it (TF32 would miss TOL by two orders of magnitude on these 512-long sums). */
static aic_status run_tf32_per_model(void) {
    const op_case c = {"dense beside a model with TF32", 1, {512}, op_dense_wide, false, 0};
    aic_model_t *m[2], *tf32_model;
    aic_io_values io[2];
    aic_value target[2], opv[2];
    for (int k = 0; k < 2; k++)
        AIC_TRY(build(&c, k == 1, &m[k], &io[k], &target[k], &opv[k]));
    AIC_TRY(aic_model_create(&tf32_model, "tf32"));
    AIC_TRY(aic_model_set_device(tf32_model, AIC_DEVICE_CUDA, 0, true));
    float *x = test_rand_buf(512 * N, -1.5f, 1.5f), *t = test_rand_buf(512 * N, -1, 1);
    aic_batch_info b = {.n = N, .training = false};
    aic_tensor out[2];
    for (int k = 0; k < 2; k++) {
        AIC_TRY(aic_model_set_input(m[k], io[k].input, x, N));
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
    const op_case c = {"optimizer", 3, {2, 6, 5}, op_conv, false, 0};
    aic_model_t *m[2];
    aic_io_values io[2];
    aic_value target[2], opv[2];
    aic_optim_t *o[2];
    for (int k = 0; k < 2; k++) {
        AIC_TRY(build(&c, k == 1, &m[k], &io[k], &target[k], &opv[k]));
        AIC_TRY(aic_optim_create(&o[k], m[k], cfg));
    }
    float *x = test_rand_buf(60 * N, -1, 1), *t = test_rand_buf((size_t)m[0]->values[target[0]].numel * N, -1, 1);
    for (int step = 0; step < 2; step++)
        for (int k = 0; k < 2; k++) {
            aic_batch_info b = {.n = N, .training = true, .step = (uint64_t)step};
            AIC_TRY(aic_model_set_input(m[k], io[k].input, x, N));
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
#ifdef AICON_HAVE_CUDA
    /* Every kind the CPU runs has CUDA kernels (a forgotten row would fail every model using it). */
    for (int k = 0; k < AIC_OP_KIND_COUNT; k++)
        CHECK_MSG((!aic_op_classes[k].forward || aic_op_classes_cuda[k].forward) &&
                      (!aic_op_classes[k].backward || aic_op_classes_cuda[k].backward),
                  "op kind %s has no CUDA kernel", aic_op_classes[k].name);
#endif
    test_rng = 0x1234567ull;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        CHECK_MSG(run_case(&CASES[i]) == AIC_OK, "%s", CASES[i].name);
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
