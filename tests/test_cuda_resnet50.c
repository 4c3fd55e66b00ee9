// SPDX-License-Identifier: Apache-2.0
/* Training throughput of a ResNet-50-shaped model (torchvision's resnet50 layout: 7x7 stem, bottleneck
 * stages of 3, 4, 6, 3 blocks with the stride on the 3x3 convolution, BatchNorm, 1000 classes) on
 * synthetic 3 x 224 x 224 data at batch 64 on one GPU: fp32, TF32 off unless --tf32, SGD with
 * momentum. The batch stays on the GPU (as the PyTorch side of scripts/gpu-check.sh does), so the
 * figure is forward + backward + optimizer step. Prints "resnet50 img/s X"; fails if the loss on
 * the repeated batch is not finite or does not fall over the timed steps. Exits 77 without a GPU. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "aicon/aicon.h"
#include "core/error.h"
#include "tests/test_util.h"

static int blk;

static aic_status conv_bn(aic_model_t *m, aic_value x, int64_t oc, int k, int stride, bool relu, aic_value *out) {
    char name[32];
    snprintf(name, sizeof name, "c%d", ++blk);
    AIC_TRY(aic_conv2d(m, name, x,
                              &(aic_conv2d_opts){.out_channels = oc, .kernel = {k, k}, .stride = {stride, stride},
                                                 .pad = {k / 2, k / 2}, .no_bias = true},
                              out));
    snprintf(name, sizeof name, "bn%d", blk);
    AIC_TRY(aic_batchnorm(m, name, *out, 0.1f, 1e-5f, out));
    if (relu) {
        snprintf(name, sizeof name, "r%d", blk);
        AIC_TRY(aic_relu(m, name, *out, out));
    }
    return AIC_OK;
}

static aic_status bottleneck(aic_model_t *m, aic_value x, int64_t in, int64_t mid, int stride, aic_value *out) {
    aic_value h, s = x;
    AIC_TRY(conv_bn(m, x, mid, 1, 1, true, &h));
    AIC_TRY(conv_bn(m, h, mid, 3, stride, true, &h));
    AIC_TRY(conv_bn(m, h, mid * 4, 1, 1, false, &h));
    if (stride != 1 || in != mid * 4)
        AIC_TRY(conv_bn(m, x, mid * 4, 1, stride, false, &s));
    char name[32];
    snprintf(name, sizeof name, "add%d", blk);
    AIC_TRY(aic_add(m, name, h, s, &h));
    snprintf(name, sizeof name, "out%d", blk);
    return aic_relu(m, name, h, out);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    bool tf32 = argc > 1 && strcmp(argv[1], "--tf32") == 0;
    int gpus = 0;
    aic_gpu_count(&gpus);
    if (!aic_cuda_built() || gpus == 0) {
        printf("SKIP: %s\n", aic_cuda_built() ? aic_last_error() : "this aicon was built without CUDA");
        MPI_Finalize();
        return 77;
    }
    const int batch = 64, warmup = 5, steps = 20;
    aic_model_t *m;
    aic_value x, y, h, loss;
    REQUIRE_OK(aic_model_create(&m, "resnet50"));
    REQUIRE_OK(aic_model_set_device(m, AIC_DEVICE_CUDA, 0, tf32));
    REQUIRE_OK(aic_input(m, "image", 3, (int64_t[]){3, 224, 224}, &x));
    REQUIRE_OK(aic_labels(m, "label", &y));
    REQUIRE_OK(conv_bn(m, x, 64, 7, 2, true, &h));
    REQUIRE_OK(
        aic_maxpool2d(m, "pool", h, &(aic_pool2d_opts){.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}}, &h));
    const int blocks[4] = {3, 4, 6, 3};
    int64_t in = 64;
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++) {
            int64_t mid = 64 << s;
            REQUIRE_OK(bottleneck(m, h, in, mid, b == 0 && s > 0 ? 2 : 1, &h));
            in = mid * 4;
        }
    REQUIRE_OK(aic_global_avgpool(m, "gap", h, &h));
    REQUIRE_OK(aic_flatten(m, "flat", h, &h));
    REQUIRE_OK(aic_dense(m, "fc", h, 1000, true, &h));
    REQUIRE_OK(aic_softmax_cross_entropy(m, "loss", h, y, &loss));
    REQUIRE_OK(aic_model_compile(m, batch, 1));
    aic_optim_t *o;
    REQUIRE_OK(aic_optim_create(&o, m, &(aic_optim_config){.kind = AIC_OPTIM_SGD, .momentum = 0.9f}));

    float *img = test_rand_buf((size_t)batch * 3 * 224 * 224, -1, 1);
    int32_t labels[64];
    for (int i = 0; i < batch; i++)
        labels[i] = (int32_t)(test_urand() * 1000);
    REQUIRE_OK(aic_model_set_input(m, x, img, batch));
    REQUIRE_OK(aic_model_set_input(m, y, labels, batch));
    aic_batch_info bi = {.n = batch, .training = true};
    float first = NAN, last = NAN;
    double t0 = 0;
    for (int step = 0; step < warmup + steps; step++) {
        if (step == warmup) {
            REQUIRE_OK(aic_model_sync(m));
            t0 = now();
        }
        bi.step = (uint64_t)step;
        REQUIRE_OK(aic_model_zero_grad(m));
        /* The loss is read only at the ends of the timed run: a read waits for the GPU. */
        REQUIRE_OK(aic_model_forward(m, &bi, step == warmup || step == warmup + steps - 1 ? &last : NULL));
        if (step == warmup)
            first = last;
        REQUIRE_OK(aic_model_backward(m, 1.0f));
        REQUIRE_OK(aic_optim_step(o, 0.01f));
    }
    REQUIRE_OK(aic_model_sync(m));
    double secs = now() - t0;
    printf("resnet50 batch %d, %d timed steps, TF32 %s: %.3f s, loss %.4f -> %.4f\n", batch, steps, tf32 ? "on" : "off",
           secs, first, last);
    printf("resnet50 img/s %.1f\n", batch * steps / secs);
    CHECK_MSG(isfinite(first) && isfinite(last) && last < first,
              "the loss on the repeated batch went from %g to %g (should fall)", first, last);
    free(img);
    aic_optim_destroy(o);
    aic_model_destroy(m);
    int rc = test_report("cuda_resnet50");
    MPI_Finalize();
    return rc;
}
