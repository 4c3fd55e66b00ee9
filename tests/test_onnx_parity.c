// SPDX-License-Identifier: Apache-2.0
/* Training parity with PyTorch through ONNX: tests/onnx/make_parity.py exports nineteen PyTorch models
 * (an MLP, a narrow LeNet, torchvision's ResNet-18 and MobileNetV2, an MLP with two LayerNorms at
 * opset 17 and the same at opset 14, where each LayerNorm is exported as its decomposition into
 * ReduceMean, Pow and elementwise ops that aicon fuses back into one, a transformer encoder layer
 * whose attention moves, merges and splits the batch axis, at opsets 17 and 13, a GPT-2 block with
 * causal attention written out as nanoGPT does, and the model families of model_families.py: a 1-D
 * conv net, a ViT and MobileNetV3 small at opsets 17 and 13, a U-Net with per-pixel classes, an LSTM
 * and a bidirectional GRU at both opsets) with torch.onnx.export in training mode and trains each for
 * twenty SGD-with-momentum steps; this program imports every file (aic_onnx_build), adds labels of
 * the reference's label shape (one per sample, or a map per pixel) and a softmax cross-entropy over
 * the classes of the single graph output (axis 1), compiles for batch 8, copies the file's initial
 * weights (aic_onnx_load_weights), repeats the steps through aic_train_step on the same batches and
 * compares each step's loss (taken before that step's update) with PyTorch's.
 *
 * Per model it checks that the attention of the transformer layer, the GPT block and the ViT is
 * imported as one fused attention op each, no softmax left (check_attention).
 *
 * Per model it checks that every nn.Parameter is trained: aicon's trained floats equal PyTorch's
 * parameter elements (a ViT's class token and position embedding, initializers that feed Expand and
 * Add, would otherwise be frozen as constants and the count come out short).
 *
 * Per model it also checks the BatchNorm running statistics after step 0 (sum of all running means,
 * sum of all running variances, within 1e-3 relative): PyTorch's momentum 0.1 is written as ONNX
 * momentum 0.9 and must come back as aicon's 0.1; a momentum read the wrong way round moves these sums
 * by far more than that.
 *
 * Usage: test_onnx_parity DIR (make_parity.py's output directory; run under mpirun -np 1). Prints one
 * line per check, then "onnx_parity: N passed, M failed"; exits non-zero on any failure.
 *
 * Loss tolerances (float32 on both sides, different summation orders):
 *   every model but resnet18 and mobilenet_v2: 1e-4 relative at every step it is compared at
 *   (measured: at most 4.2e-6, MobileNetV3 at opset 13, step 15, where PyTorch's own float32 run is
 *   4.1e-6 from float64; LeNet 1.9e-6: aicon's dense layers run on oneDNN's sgemm, PyTorch's on
 *   OpenBLAS's). MobileNetV3 is compared at steps 0-15 only: from step 16 its training turns chaotic,
 *   PyTorch's own float32-vs-float64 difference growing from 2e-8 at step 15 to 1.2e-5 at step 19 on
 *   one machine (less on another), and aicon's, summing its dense layers in oneDNN's order, from 8e-7
 *   to 9.8e-5 here and 1.09e-4 against another machine's reference; its steps 16-19 must only be
 *   finite. Its 16 steps check every op's forward and backward pass and 15 optimizer steps.
 *   resnet18, mobilenet_v2: at step k, max(1e-4, NOISE_FACTOR x r_k), where r_k is the largest
 *   relative difference, over steps 0..k, between PyTorch's own float32 run and the same run in
 *   float64 (make_parity.py's loss64). The reason: with batch 8 at 32x32 these two networks train
 *   chaotically (likely because their last stages run BatchNorm over only 8 values per channel at
 *   1x1 spatial size, and steps at lr 0.01 on random labels make the loss rise, not fall; neither
 *   64x64 inputs nor lr 0.001 make them well conditioned): a rounding difference of 1e-7 grows to
 *   1e-3 within a step and to several percent after that. PyTorch float32 and PyTorch float64
 *   disagree by 4.5e-3 at step 2 of ResNet-18 and by 5.4e-3 at step 1 of MobileNetV2 (3e-2 with
 *   other batches, and by 19% on some of MobileNetV2's step-0 gradients), so no float32
 *   implementation with another summation order can be held to 1e-4 there. While the reference is
 *   well conditioned (r_k below 1e-5: ResNet-18 steps 0 and 1, MobileNetV2 step 0) the bound is the
 *   full 1e-4: the step-0 loss checks the whole forward pass, and ResNet-18's step-1 loss every
 *   gradient and the momentum update (MobileNetV2's step-1 loss already carries PyTorch's own 3e-2
 *   noise, so its backward pass is checked only within the noise band). After that the bound
 *   follows the reference's own noise: aicon must stay within NOISE_FACTOR (10) times the largest
 *   float32-vs-float64 difference PyTorch itself has shown so far (measured: aicon's difference is at
 *   most 5.7 times that for ResNet-18, at step 3, and 6.7 times for MobileNetV2, at step 2: on the
 *   first steps in the noise band "the largest so far" is one sample of a noise still growing, and
 *   later steps stay within 2.2 times). These later steps only guard
 *   against a run that goes wrong late (NaN, a loss leaving the noise band); a wrongly computed op in
 *   the forward pass (BatchNorm with running statistics, a dropped residual) fails step 0.
 *   Measured with Debian's torch 1.13.1 and torchvision 0.14.1. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

#include "aicon/aicon.h"
#include "tests/test_h5.h"
#include "tests/test_util.h"

#define STEPS 20
#define BATCH 8
#define LR 0.01f
#define BN_RTOL 1e-3

/* The models and the loss bound each is held to (see the head of this file). */
#define LOSS_RTOL 1e-4
#define NOISE_FACTOR 10.0
#define WELL_CONDITIONED 1e-5

typedef struct {
    const char *name;
    bool follow_noise; /* bound max(LOSS_RTOL, NOISE_FACTOR x reference noise) instead of LOSS_RTOL */
    int attention;     /* the attention ops the import fuses (check_attention) */
    int compared;      /* the steps compared with the reference (0: all); later ones must be finite */
} model_case;

static const model_case MODELS[] = {
    {"mlp", false, 0, 0},
    {"lenet", false, 0, 0},
    {"resnet18", true, 0, 0},
    {"mobilenet_v2", true, 0, 0},
    {"mlp_layernorm", false, 0, 0},
    {"mlp_layernorm14", false, 0, 0},
    {"transformer", false, 1, 0},
    {"transformer13", false, 1, 0},
    {"gpt_block", false, 1, 0},
    {"audio", false, 0, 0},
    {"vit", false, 1, 0},
    {"vit13", false, 1, 0},
    {"mobilenet_v3", false, 0, 16},
    {"mobilenet_v3_13", false, 0, 16},
    {"unet", false, 0, 0},
    {"lstm", false, 0, 0},
    {"lstm13", false, 0, 0},
    {"gru", false, 0, 0},
    {"gru13", false, 0, 0},
};

/* ---- HDF5 ------------------------------------------------------------------------------------ */

/* Sum of every buffer whose name ends in suffix (".running_mean" or ".running_var"); *n gets how many. */
static double buffer_sum(aic_model_t *m, const char *suffix, int *n) {
    double sum = 0;
    size_t ls = strlen(suffix);
    *n = 0;
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        aic_tensor b;
        if (aic_model_buffer(m, i, &b) != AIC_OK || !b.name) continue;
        size_t l = strlen(b.name);
        if (l < ls || strcmp(b.name + l - ls, suffix) != 0) continue;
        for (int64_t k = 0, nb = aic_tensor_numel(&b); k < nb; k++) sum += ((const float *)b.data)[k];
        ++*n;
    }
    return sum;
}

/* BatchNorm running statistics after step 0 against /<model>/bn_mean and bn_var (models without
 * BatchNorm have neither side). bn[2] receives the datasets (the caller frees them). */
static int check_bn(hid_t file, aic_model_t *m, const char *model, h5_array bn[2]) {
    char path[512];

    static const char *const stat[2] = {"bn_mean", "bn_var"};
    static const char *const suffix[2] = {".running_mean", ".running_var"};
    for (int i = 0; i < 2; i++) {
        int n = 0;
        double ours = buffer_sum(m, suffix[i], &n);
        snprintf(path, sizeof path, "/%s/%s", model, stat[i]);
        if (H5Lexists(file, path, H5P_DEFAULT) <= 0) {
            if (!CHECK_MSG(n == 0, "%s: aicon has %d %s buffers, PyTorch none", model, n, suffix[i])) goto cleanup;
            continue;
        }
        if (h5_read(file, path, H5T_NATIVE_DOUBLE, &bn[i]) != 0) goto cleanup;
        double want = ((const double *)bn[i].data)[0];
        double rel = fabs(ours - want) / fabs(want);
        int ok = test_count(n > 0 && rel <= BN_RTOL);
        printf("%-12s %s %s sum over %d BatchNorms aicon %.6f pytorch %.6f rel %.3e %s\n", model,
               ok ? "ok  " : "FAIL", stat[i], n, ours, want, rel, ok ? "" : "<-- exceeds tolerance");
    }
    return 0;
cleanup:
    return -1;
}

/* Every nn.Parameter must be trained: aicon's trained floats against the group's attribute "params"
 * (PyTorch's parameter elements). A parameter imported as a constant (frozen) makes aicon's fewer. */
static void check_params(hid_t file, aic_model_t *m, const char *model) {
    int64_t want = -1;
    hid_t a = H5Aopen_by_name(file, model, "params", H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &want) < 0) want = -1;
    if (a >= 0) H5Aclose(a);
    const int64_t ours = (int64_t)aic_model_num_params(m);
    int ok = test_count(ours == want);
    printf("%-12s %s trained parameters aicon %" PRId64 " pytorch %" PRId64 " %s\n", model, ok ? "ok  " : "FAIL", ours,
           want, ok ? "" : "<-- a parameter is not trained");
}

/* How many ops of kind `kind` m has (the second column of aic_model_summary's lines). */
static int count_ops(const aic_model_t *m, const char *kind) {
    static char buf[1 << 16];
    int n = 0;
    if (aic_model_summary(m, buf, sizeof buf) != AIC_OK)
        return -1;
    for (const char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char k[32];
        if (sscanf(line, "%*s %31s", k) == 1 && strcmp(k, kind) == 0)
            n++;
    }
    return n;
}

/* The attention each file writes out op by op (MatMul, scale, mask, Softmax, MatMul) must be imported
 * as mc->attention fused ops, with no softmax left to hold the T x S scores. */
static void check_attention(const aic_model_t *m, const model_case *mc) {
    const int att = count_ops(m, "attention"), soft = count_ops(m, "softmax");
    int ok = test_count(att == mc->attention && (mc->attention == 0 || soft == 0));
    printf("%-12s %s attention ops %d (want %d), softmax ops %d %s\n", mc->name, ok ? "ok  " : "FAIL", att,
           mc->attention, soft, ok ? "" : "<-- the attention was not fused");
}

/* Import, train STEPS steps and compare one model. Returns 0 when it could run (pass or fail counted),
 * -1 when something broke before the comparison. */
static int run_model(const char *dir, hid_t file, aic_comm_t *comm, const model_case *mc) {
    int rc = -1;
    aic_onnx_model_t *om = NULL;
    aic_model_t *m = NULL;
    aic_optim_t *o = NULL;
    h5_array x = {0}, y = {0}, loss = {0}, loss64 = {0}, bn[2] = {{0}};
    aic_onnx_binding bind;
    aic_value labels, lossv;
    char path[512];
    const char *model = mc->name;

    snprintf(path, sizeof path, "/%s/x", model);
    if (h5_read(file, path, H5T_NATIVE_FLOAT, &x) != 0) goto cleanup;
    snprintf(path, sizeof path, "/%s/y", model);
    if (h5_read(file, path, H5T_NATIVE_INT32, &y) != 0) goto cleanup;
    snprintf(path, sizeof path, "/%s/loss", model);
    if (h5_read(file, path, H5T_NATIVE_DOUBLE, &loss) != 0) goto cleanup;
    snprintf(path, sizeof path, "/%s/loss64", model);
    if (h5_read(file, path, H5T_NATIVE_DOUBLE, &loss64) != 0) goto cleanup;
    if (!CHECK_MSG(x.ndim >= 2 && x.dims[0] == STEPS && x.dims[1] == BATCH && y.ndim >= 2 &&
                       y.ndim <= AIC_MAX_DIMS + 1 && y.dims[0] == STEPS && y.dims[1] == BATCH && loss.ndim == 1 &&
                       loss.dims[0] == STEPS && loss64.numel == STEPS,
                   "%s: x, y, loss are not %d steps of batch %d", model, STEPS, BATCH))
        goto cleanup;
    const size_t sample = x.numel / ((size_t)STEPS * BATCH), label_sample = y.numel / ((size_t)STEPS * BATCH);
    /* y's per-sample shape: none (one class per sample) or a label map (per-pixel classes) */
    int64_t label_shape[AIC_MAX_DIMS];
    for (int i = 2; i < y.ndim; i++)
        label_shape[i - 2] = (int64_t)y.dims[i];

    snprintf(path, sizeof path, "%s/%s.onnx", dir, model);
    if (!CHECK_OK(aic_onnx_load(path, &om))) goto cleanup;
    if (!CHECK_OK(aic_model_create(&m, model))) goto cleanup;
    if (!CHECK_OK(aic_onnx_build(om, m, &bind))) goto cleanup;
    if (!CHECK_MSG(bind.n_inputs == 1 && bind.n_outputs == 1, "%s: %d inputs and %d outputs, want 1 and 1", model,
                   bind.n_inputs, bind.n_outputs))
        goto cleanup;
    if (!CHECK_OK(aic_int_input(m, "labels", y.ndim - 2, label_shape, &labels))) goto cleanup;
    if (!CHECK_OK(aic_cross_entropy(m, "loss", bind.outputs[0], labels, NULL, &lossv))) goto cleanup;
    if (!CHECK_OK(aic_model_compile(m, BATCH, 0))) goto cleanup;
    if (!CHECK_OK(aic_onnx_load_weights(om, m))) goto cleanup;
    check_params(file, m, model);
    check_attention(m, mc);

    aic_optim_config cfg = {.kind = AIC_OPTIM_SGD, .momentum = 0.9f};
    if (!CHECK_OK(aic_optim_create(&o, m, &cfg))) goto cleanup;
    aic_io_values io = {.input = bind.inputs[0], .labels = labels};
    aic_batch_slice slice = {.n_local = BATCH, .n_global = BATCH, .row_offset = 0};
    const float *xs = x.data;
    const int32_t *ys = y.data;
    const double *ref = loss.data, *ref64 = loss64.data;
    double worst = 0, noise = 0;
    for (int k = 0; k < STEPS; k++) {
        float l = NAN;
        if (!CHECK_OK(aic_train_step(m, o, comm, io, xs + (size_t)k * BATCH * sample,
                                     ys + (size_t)k * BATCH * label_sample, &slice, (uint64_t)k, LR, &l)))
            goto cleanup;
        double rel = fabs((double)l - ref[k]) / fabs(ref[k]);
        double r64 = fabs(ref[k] - ref64[k]) / fabs(ref64[k]);
        if (r64 > noise) noise = r64;
        double bound = LOSS_RTOL;
        if (mc->follow_noise && noise > WELL_CONDITIONED) bound = fmax(LOSS_RTOL, NOISE_FACTOR * noise);
        const bool compared = !mc->compared || k < mc->compared;
        if (!compared) bound = DBL_MAX; /* a finite loss */
        int ok = test_count(rel <= bound); /* false for NaN */
        if (compared && !(rel <= worst)) worst = rel;
        char shown[16] = "finite";
        if (compared) snprintf(shown, sizeof shown, "%.1e", bound);
        printf("%-12s %s step %2d loss aicon %.7f pytorch %.7f rel %.3e bound %s (pytorch f32 vs f64 %.1e) %s\n",
               model, ok ? "ok  " : "FAIL", k, (double)l, ref[k], rel, shown, r64,
               ok ? "" : "<-- exceeds tolerance");
        if (k == 0 && check_bn(file, m, model, bn) != 0) goto cleanup;
    }
    printf("%-12s max rel %.3e over %d steps\n", model, worst, mc->compared ? mc->compared : STEPS);
    rc = 0;
cleanup:
    aic_optim_destroy(o);
    aic_model_destroy(m);
    aic_onnx_free(om);
    free(x.data);
    free(y.data);
    free(loss.data);
    free(loss64.data);
    free(bn[0].data);
    free(bn[1].data);
    return rc;
}

int main(int argc, char **argv) {
    int broken = 0;
    aic_comm_t *comm = NULL;
    hid_t file = H5I_INVALID_HID;
    char path[512];

    MPI_Init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (written by tests/onnx/make_parity.py)\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* this program reports HDF5 failures itself */
    snprintf(path, sizeof path, "%s/parity.h5", argv[1]);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "cannot open %s (run tests/onnx/make_parity.py first)\n", path);
        broken = 1;
        goto cleanup;
    }
    if (!CHECK_OK(aic_comm_create(&comm, MPI_COMM_WORLD))) goto cleanup;
    if (!CHECK_MSG(aic_comm_size(comm) == 1, "run with one rank (got %d)", aic_comm_size(comm))) goto cleanup;

    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++)
        if (run_model(argv[1], file, comm, &MODELS[i]) != 0) {
            fprintf(stderr, "%s: could not run the comparison (see above)\n", MODELS[i].name);
            broken = 1;
        }
    goto done;
cleanup:
    broken = 1;
done:
    aic_comm_destroy(comm);
    if (file >= 0) H5Fclose(file);
    CHECK_MSG(!broken, "could not run every comparison (see above)");
    int rc = test_report("onnx_parity");
    MPI_Finalize();
    return rc;
}
