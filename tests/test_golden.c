// SPDX-License-Identifier: Apache-2.0
/* Golden test against PyTorch: tests/golden/make_golden.py trains two small models in PyTorch and
 * writes their initial parameters, batches, per-step losses and final parameters to an HDF5 file;
 * this program builds the same models with the public API, loads the same initial parameters,
 * repeats the ten SGD-with-momentum steps through aic_train_step and compares.
 *
 * Per model it checks, in order:
 *   fwd0   the logits of step 0's batch with the initial parameters (aic_model_forward);
 *   grad0  every parameter's gradient of that batch's mean loss (aic_model_backward), so a failure
 *          names the layer whose forward or backward differs;
 *   step   the loss aic_train_step returns at each of the ten steps (before that step's update);
 *   final  every parameter after the ten updates.
 *
 * Usage: test_golden golden.h5 (run under mpirun -np 1). Prints one line per check, then
 * "golden: N passed, M failed"; exits non-zero on any failure.
 *
 * Tolerances (float32 throughout, different summation orders): each step's loss within 1e-4
 * relative of PyTorch's; each tensor within 1e-4 measured as max|a - b| / max|b| over the tensor. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

#include "aicon/aicon.h"
#include "tests/test_h5.h"
#include "tests/test_util.h"

#define LOSS_RTOL 1e-4
#define TENSOR_RTOL 1e-4
#define NUM_CLASSES 10

/* ---- HDF5 ------------------------------------------------------------------------------------ */

/* Number of links (datasets) in group `path`, or -1. */
static long h5_group_size(hid_t file, const char *path) {
    H5G_info_t info;
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0) return -1;
    if (H5Gget_info_by_name(file, path, &info, H5P_DEFAULT) < 0) return -1;
    return (long)info.nlinks;
}

/* ---- models ---------------------------------------------------------------------------------- */

/* 1x8x8 -> flatten (64) -> fc1 (32) -> relu -> fc2 (10) -> softmax cross-entropy */
static aic_status build_mlp(aic_model_t *m, aic_io_values *io) {
    aic_status s;
    aic_value x, h, logits, loss;
    if ((s = aic_input(m, "x", 3, (int64_t[]){1, 8, 8}, &io->input))) return s;
    if ((s = aic_flatten(m, "flatten", io->input, &x))) return s;
    if ((s = aic_dense(m, "fc1", x, 32, true, &h))) return s;
    if ((s = aic_relu(m, "relu1", h, &h))) return s;
    if ((s = aic_dense(m, "fc2", h, NUM_CLASSES, true, &logits))) return s;
    if ((s = aic_labels(m, "y", &io->labels))) return s;
    return aic_softmax_cross_entropy(m, "loss", logits, io->labels, &loss);
}

/* 1x12x12 -> conv1 3x3 8ch pad 1 (8x12x12) -> relu -> maxpool 2 (8x6x6) -> conv2 3x3 16ch (16x4x4)
 * -> tanh -> avgpool 2 (16x2x2) -> flatten (64) -> fc1 (10) -> softmax cross-entropy */
static aic_status build_cnn(aic_model_t *m, aic_io_values *io) {
    aic_status s;
    aic_value h, logits, loss;
    aic_conv2d_opts c1 = {.out_channels = 8, .kernel = {3, 3}, .stride = {1, 1}, .pad = {1, 1}};
    aic_conv2d_opts c2 = {.out_channels = 16, .kernel = {3, 3}, .stride = {1, 1}, .pad = {0, 0}};
    aic_pool2d_opts p2 = {.kernel = {2, 2}, .stride = {2, 2}};
    if ((s = aic_input(m, "x", 3, (int64_t[]){1, 12, 12}, &io->input))) return s;
    if ((s = aic_conv2d(m, "conv1", io->input, &c1, &h))) return s;
    if ((s = aic_relu(m, "relu1", h, &h))) return s;
    if ((s = aic_maxpool2d(m, "pool1", h, &p2, &h))) return s;
    if ((s = aic_conv2d(m, "conv2", h, &c2, &h))) return s;
    if ((s = aic_tanh(m, "tanh2", h, &h))) return s;
    if ((s = aic_avgpool2d(m, "pool2", h, &p2, &h))) return s;
    if ((s = aic_flatten(m, "flatten", h, &h))) return s;
    if ((s = aic_dense(m, "fc1", h, NUM_CLASSES, true, &logits))) return s;
    if ((s = aic_labels(m, "y", &io->labels))) return s;
    return aic_softmax_cross_entropy(m, "loss", logits, io->labels, &loss);
}

/* Tensor shape and dataset shape agree exactly. */
static int same_shape(const aic_tensor *t, const h5_array *a) {
    if (t->ndim != a->ndim) return 0;
    for (int i = 0; i < t->ndim; i++)
        if ((hsize_t)t->shape[i] != a->dims[i]) return 0;
    return 1;
}

static void shape_str(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? " x %lld" : "%lld", (long long)shape[i]);
}

/* Load /<model>/params/<name> into every parameter of m, checking names, counts and shapes. */
static int load_params(hid_t file, const char *model, const char *group, aic_model_t *m) {
    char path[256], want[128], got[128];
    int np = aic_model_param_count(m);
    snprintf(path, sizeof path, "/%s/%s", model, group);
    long nfile = h5_group_size(file, path);
    if (nfile != np) {
        fprintf(stderr, "%s: model has %d parameters, golden file %ld\n", path, np, nfile);
        return -1;
    }
    for (int i = 0; i < np; i++) {
        aic_tensor p, g;
        h5_array a;
        if (aic_model_param(m, i, &p, &g) != AIC_OK) {
            fprintf(stderr, "aic_model_param(%d): %s\n", i, aic_last_error());
            return -1;
        }
        snprintf(path, sizeof path, "/%s/%s/%s", model, group, p.name ? p.name : "(null)");
        if (h5_read(file, path, H5T_NATIVE_FLOAT, &a) != 0) return -1;
        if (!same_shape(&p, &a) || p.dtype != AIC_F32) {
            int64_t d[H5_MAX_DIMS];
            for (int k = 0; k < a.ndim; k++) d[k] = (int64_t)a.dims[k];
            shape_str(want, sizeof want, a.ndim, d);
            shape_str(got, sizeof got, p.ndim, p.shape);
            fprintf(stderr, "%s: golden shape %s, aicon parameter shape %s\n", path, want, got);
            free(a.data);
            return -1;
        }
        memcpy(p.data, a.data, a.numel * sizeof(float));
        free(a.data);
    }
    return 0;
}

/* One pass/fail line comparing n floats with the reference: max|a - b| / max|b| <= TENSOR_RTOL. */
static void compare_floats(const char *model, const char *what, const char *name, const float *ours,
                           const float *ref, size_t n) {
    double maxdiff = 0, maxref = 0;
    size_t worst = 0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)ours[k] - (double)ref[k]);
        if (d > maxdiff || isnan(d)) maxdiff = d, worst = k;
        if (fabs(ref[k]) > maxref) maxref = fabs(ref[k]);
    }
    double rel = maxdiff / (maxref > 0 ? maxref : 1.0);
    int ok = test_count(rel <= TENSOR_RTOL); /* false for NaN */
    printf("%-4s %s %-6s %-14s max|diff| %.3e at [%zu] (aicon %.8f pytorch %.8f) rel %.3e %s\n", model,
           ok ? "ok  " : "FAIL", what, name, maxdiff, worst, n ? (double)ours[worst] : 0.0,
           n ? (double)ref[worst] : 0.0, rel, ok ? "" : "<-- exceeds tolerance");
}

/* Compare every parameter (or, with grads, its gradient) with /<model>/<group>/<name>. */
static int compare_params(hid_t file, const char *model, const char *group, int grads, aic_model_t *m) {
    char path[256];
    int np = aic_model_param_count(m);
    for (int i = 0; i < np; i++) {
        aic_tensor p, g;
        h5_array a;
        if (aic_model_param(m, i, &p, &g) != AIC_OK) {
            fprintf(stderr, "aic_model_param(%d): %s\n", i, aic_last_error());
            return -1;
        }
        snprintf(path, sizeof path, "/%s/%s/%s", model, group, p.name);
        if (h5_read(file, path, H5T_NATIVE_FLOAT, &a) != 0) return -1;
        if (!same_shape(&p, &a)) {
            fprintf(stderr, "%s: shape differs from the model's\n", path);
            free(a.data);
            return -1;
        }
        compare_floats(model, grads ? "grad0" : "final", p.name, grads ? g.data : p.data, a.data, a.numel);
        free(a.data);
    }
    return 0;
}

/* Forward and backward of step 0's batch with the initial parameters, outside aic_train_step:
 * compare the logits and every parameter gradient with PyTorch's, so a failure names the layer.
 * Leaves the gradients zeroed and the parameters untouched. */
static int check_step0(hid_t file, const char *model, aic_model_t *m, aic_io_values io, const float *x,
                       const int32_t *y, int batch) {
    int rc = -1;
    char path[256];
    h5_array ref = {0};
    float l = NAN;
    aic_tensor out;
    aic_batch_info b = {.n = batch, .training = true, .step = 0, .row_offset = 0};

    if (!CHECK_OK(aic_model_set_input(m, io.input, x, batch))) goto cleanup;
    if (!CHECK_OK(aic_model_set_input(m, io.labels, y, batch))) goto cleanup;
    if (!CHECK_OK(aic_model_zero_grad(m))) goto cleanup;
    if (!CHECK_OK(aic_model_forward(m, &b, &l))) goto cleanup;
    if (!CHECK_OK(aic_model_output(m, &out))) goto cleanup;
    snprintf(path, sizeof path, "/%s/logits0", model);
    if (h5_read(file, path, H5T_NATIVE_FLOAT, &ref) != 0) goto cleanup;
    if (!CHECK_MSG(out.dtype == AIC_F32 && out.ndim == 2 && ref.ndim == 2 && out.shape[0] >= batch &&
                       (hsize_t)out.shape[1] == ref.dims[1] && ref.dims[0] == (hsize_t)batch,
                   "%s: output shape differs from the logits' (%d dims)", model, out.ndim))
        goto cleanup;
    {
        /* rows beyond n are stale: compare n rows, following the view's row stride */
        const int64_t K = out.shape[1];
        float *rows = malloc((size_t)batch * (size_t)K * sizeof(float));
        if (!CHECK_MSG(rows, "out of memory")) goto cleanup;
        for (int r = 0; r < batch; r++)
            for (int64_t k = 0; k < K; k++)
                rows[r * K + k] = ((const float *)out.data)[r * out.strides[0] + k * out.strides[1]];
        compare_floats(model, "fwd0", "logits", rows, ref.data, ref.numel);
        free(rows);
    }
    if (!CHECK_OK(aic_model_backward(m, 1.0f))) goto cleanup;
    if (compare_params(file, model, "grads0", 1, m) != 0) goto cleanup;
    if (!CHECK_OK(aic_model_zero_grad(m))) goto cleanup;
    rc = 0;
cleanup:
    free(ref.data);
    return rc;
}

/* Build, load, train ten steps and compare one model. Returns 0 when it could run (pass or fail
 * counted), -1 when something broke before the comparison. */
static int run_model(hid_t file, aic_comm_t *comm, const char *model,
                     aic_status (*build)(aic_model_t *, aic_io_values *)) {
    int rc = -1;
    aic_model_t *m = NULL;
    aic_optim_t *o = NULL;
    h5_array x = {0}, y = {0}, loss = {0};
    aic_io_values io;
    char path[256];

    snprintf(path, sizeof path, "/%s/x", model);
    if (h5_read(file, path, H5T_NATIVE_FLOAT, &x) != 0) goto cleanup;
    snprintf(path, sizeof path, "/%s/y", model);
    if (h5_read(file, path, H5T_NATIVE_INT32, &y) != 0) goto cleanup;
    snprintf(path, sizeof path, "/%s/loss", model);
    if (h5_read(file, path, H5T_NATIVE_DOUBLE, &loss) != 0) goto cleanup;
    if (!CHECK_MSG(x.ndim >= 2 && y.ndim == 2 && loss.ndim == 1, "%s: x, y, loss ranks %d, %d, %d", model, x.ndim,
                   y.ndim, loss.ndim))
        goto cleanup;
    const int steps = (int)loss.dims[0], batch = (int)x.dims[1];
    if (!CHECK_MSG(x.dims[0] == (hsize_t)steps && y.dims[0] == (hsize_t)steps && y.dims[1] == (hsize_t)batch,
                   "%s: x, y and loss disagree on steps or batch", model))
        goto cleanup;
    const size_t sample = x.numel / ((size_t)steps * (size_t)batch);

    if (!CHECK_OK(aic_model_create(&m, model))) goto cleanup;
    if (!CHECK_OK(build(m, &io))) goto cleanup;
    if (!CHECK_OK(aic_model_compile(m, batch, 0))) goto cleanup;
    if (load_params(file, model, "params", m) != 0) goto cleanup;

    aic_optim_config cfg = {.kind = AIC_OPTIM_SGD, .momentum = 0.9f};
    if (!CHECK_OK(aic_optim_create(&o, m, &cfg))) goto cleanup;

    const float *xs = x.data;
    const int32_t *ys = y.data;
    const double *ref = loss.data;
    if (check_step0(file, model, m, io, xs, ys, batch) != 0) goto cleanup;
    aic_batch_slice slice = {.n_local = batch, .n_global = batch, .row_offset = 0};
    for (int k = 0; k < steps; k++) {
        float l = NAN;
        if (!CHECK_OK(aic_train_step(m, o, comm, io, xs + (size_t)k * batch * sample, ys + (size_t)k * batch, &slice,
                                     (uint64_t)k, 0.05f, &l)))
            goto cleanup;
        double rel = fabs((double)l - ref[k]) / fabs(ref[k]);
        int ok = test_count(rel <= LOSS_RTOL); /* false for NaN */
        printf("%-4s %s step %2d loss aicon %.7f pytorch %.7f rel %.3e %s\n", model, ok ? "ok  " : "FAIL", k,
               (double)l, ref[k], rel, ok ? "" : "<-- exceeds tolerance");
    }
    if (compare_params(file, model, "final", 0, m) != 0) goto cleanup;
    rc = 0;
cleanup:
    aic_optim_destroy(o);
    aic_model_destroy(m);
    free(x.data);
    free(y.data);
    free(loss.data);
    return rc;
}

int main(int argc, char **argv) {
    int broken = 1; /* until both models have run */
    aic_comm_t *comm = NULL;
    hid_t file = H5I_INVALID_HID;

    MPI_Init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: %s golden.h5 (written by tests/golden/make_golden.py)\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* this program reports HDF5 failures itself */
    file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "cannot open golden file %s (run tests/golden/make_golden.py first)\n", argv[1]);
        broken = 1;
        goto cleanup;
    }
    if (!CHECK_OK(aic_comm_create(&comm, MPI_COMM_WORLD))) goto cleanup;
    if (!CHECK_MSG(aic_comm_size(comm) == 1, "run with one rank (got %d)", aic_comm_size(comm))) goto cleanup;

    int ok_mlp = run_model(file, comm, "mlp", build_mlp) == 0;
    int ok_cnn = run_model(file, comm, "cnn", build_cnn) == 0;
    broken = !(ok_mlp && ok_cnn);

cleanup:
    aic_comm_destroy(comm);
    if (file >= 0) H5Fclose(file);
    CHECK_MSG(!broken, "could not run every comparison (see above)");
    int rc = test_report("golden");
    MPI_Finalize();
    return rc;
}
