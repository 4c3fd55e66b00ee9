// SPDX-License-Identifier: Apache-2.0
// Batch normalization on cuDNN, spatial mode: inp N x C x S is the 4-d tensor N x C x S x 1. cuDNN
// keeps what batchnorm.c keeps: the batch mean and 1/sqrt(var + eps) (C each) for backward, and
// running statistics updated with factor `momentum` from the unbiased variance (as PyTorch).
#include "layers/cuda_common.cuh"

typedef struct {
    cudnnTensorDescriptor_t x, bn;
} bn_desc;

static aic_status bn_begin(bn_desc *b, int N, int C, int S, float eps) {
    b->x = b->bn = NULL;
    if (eps < (float)CUDNN_BN_MIN_EPSILON)
        return aic_fail(AIC_ERR_UNSUPPORTED, "batchnorm on CUDA: eps %g is below cuDNN's minimum %g", eps,
                        CUDNN_BN_MIN_EPSILON);
    AIC_TRY(AIC_CUDNN(cudnnCreateTensorDescriptor(&b->x)));
    AIC_TRY(AIC_CUDNN(cudnnCreateTensorDescriptor(&b->bn)));
    AIC_TRY(AIC_CUDNN(cudnnSetTensor4dDescriptor(b->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, C, S, 1)));
    return AIC_CUDNN(cudnnDeriveBNTensorDescriptor(b->bn, b->x, CUDNN_BATCHNORM_SPATIAL));
}

static aic_status bn_end(bn_desc *b, aic_status s) {
    if (b->x)
        cudnnDestroyTensorDescriptor(b->x);
    if (b->bn)
        cudnnDestroyTensorDescriptor(b->bn);
    return s;
}

// Running statistics from a batch of one value per channel: its mean is the value, its variance 0.
__global__ static void bn_single_running_k(float *running_mean, float *running_var, const float *batch_mean,
                                           float momentum, int C) {
    AIC_GRID_STRIDE(c, (size_t)C) {
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * batch_mean[c];
        running_var[c] = (1.0f - momentum) * running_var[c];
    }
}

extern "C" aic_status aic_cuda_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                                                       float *running_mean, float *running_var, const float *inp,
                                                       const float *gamma, const float *beta, int N, int C, int S,
                                                       float momentum, float eps) {
    // out, inp: N x C x S; save_mean, save_invstd, running_mean, running_var, gamma, beta: C
    if ((size_t)N * S == 0) // no statistics: the running ones stay, as batchnorm.c
        return AIC_OK;
    // One value per channel has no spread: cuDNN's unbiased running variance would divide by n - 1 = 0,
    // so the running statistics are updated here instead, as batchnorm.c does (biased variance 0).
    const bool single = (size_t)N * S == 1;
    bn_desc b;
    aic_status s = bn_begin(&b, N, C, S, eps);
    const float one = 1.0f, zero = 0.0f;
    if (s == AIC_OK)
        s = AIC_CUDNN(cudnnBatchNormalizationForwardTraining(aic_cuda.dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, b.x,
                                                             inp, b.x, out, b.bn, gamma, beta, (double)momentum,
                                                             single ? NULL : running_mean, single ? NULL : running_var,
                                                             (double)eps, save_mean, save_invstd));
    if (s == AIC_OK && single)
        s = AIC_LAUNCH_N((size_t)C, bn_single_running_k, running_mean, running_var, save_mean, momentum, C);
    return bn_end(&b, s);
}

extern "C" aic_status aic_cuda_batchnorm_forward_eval(float *out, const float *inp, const float *gamma,
                                                      const float *beta, const float *running_mean,
                                                      const float *running_var, int N, int C, int S, float eps) {
    if ((size_t)N * S == 0)
        return AIC_OK;
    bn_desc b;
    aic_status s = bn_begin(&b, N, C, S, eps);
    const float one = 1.0f, zero = 0.0f;
    if (s == AIC_OK)
        s = AIC_CUDNN(cudnnBatchNormalizationForwardInference(aic_cuda.dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                                                              b.x, inp, b.x, out, b.bn, gamma, beta, running_mean,
                                                              running_var, (double)eps));
    return bn_end(&b, s);
}

extern "C" aic_status aic_cuda_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                                                  const float *inp, const float *gamma, const float *save_mean,
                                                  const float *save_invstd, int N, int C, int S, float eps) {
    // dinp, dout, inp: N x C x S; dgamma, dbeta, gamma, save_mean, save_invstd: C
    if ((size_t)N * S == 0)
        return AIC_OK;
    // cuDNN always writes dx and both parameter gradients: the missing ones go to the workspace
    // (alpha 1, beta 0 there; beta 1 accumulates into the real ones).
    size_t nx = (size_t)N * C * S;
    size_t need = (dinp ? 0 : nx) + (dgamma && dbeta ? 0 : 2 * (size_t)C);
    void *ws = NULL;
    if (need)
        AIC_TRY(aic_cuda_workspace(need * sizeof(float), &ws));
    float *spare = (float *)ws;
    float *dx = dinp ? dinp : spare;
    float *dg = dgamma && dbeta ? dgamma : spare + (dinp ? 0 : nx);
    float *db = dgamma && dbeta ? dbeta : dg + C;
    bn_desc b;
    aic_status s = bn_begin(&b, N, C, S, eps);
    const float one = 1.0f, zero = 0.0f;
    if (s == AIC_OK)
        s = AIC_CUDNN(cudnnBatchNormalizationBackward(aic_cuda.dnn, CUDNN_BATCHNORM_SPATIAL, &one,
                                                      dinp ? &one : &zero, &one, dgamma && dbeta ? &one : &zero, b.x,
                                                      inp, b.x, dout, b.x, dx, b.bn, gamma, dg, db, (double)eps,
                                                      save_mean, save_invstd));
    return bn_end(&b, s);
}
