// SPDX-License-Identifier: Apache-2.0
// Softmax and log-softmax over one axis on cuDNN (outer x K x inner is the 4-d tensor outer x K x
// inner x 1, channel mode), and the losses: one block reduces the whole batch in double in a fixed
// order (thread t takes positions t, t + 256, ..., then a tree), so the loss is deterministic.
#include "layers/cuda_common.cuh"
#include "layers/softmax_row.h"
#include "layers/xent.h"

static aic_status softmax_desc(cudnnTensorDescriptor_t *t, size_t outer, int K, size_t inner) {
    *t = NULL;
    if (outer * (size_t)K * inner > (size_t)INT32_MAX)
        return aic_fail(AIC_ERR_UNSUPPORTED, "softmax on CUDA: %zu x %d x %zu is more than 2^31 elements", outer, K,
                        inner);
    AIC_TRY(AIC_CUDNN(cudnnCreateTensorDescriptor(t)));
    return AIC_CUDNN(
        cudnnSetTensor4dDescriptor(*t, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)outer, K, (int)inner, 1));
}

static aic_status softmax_fwd(cudnnSoftmaxAlgorithm_t algo, float *out, const float *inp, size_t outer, int K,
                              size_t inner) {
    if (outer == 0)
        return AIC_OK;
    cudnnTensorDescriptor_t t;
    aic_status s = softmax_desc(&t, outer, K, inner);
    const float one = 1.0f, zero = 0.0f;
    if (s == AIC_OK)
        s = AIC_CUDNN(cudnnSoftmaxForward(aic_cuda.dnn, algo, CUDNN_SOFTMAX_MODE_CHANNEL, &one, t, inp, &zero, t, out));
    if (t)
        cudnnDestroyTensorDescriptor(t);
    return s;
}

// dinp += softmax backward (beta 1; written: beta 0); reads the forward output
static aic_status softmax_bwd(cudnnSoftmaxAlgorithm_t algo, float *dinp, const float *dout, const float *out,
                              size_t outer, int K, size_t inner, bool write) {
    if (outer == 0 || !dinp)
        return AIC_OK;
    cudnnTensorDescriptor_t t;
    aic_status s = softmax_desc(&t, outer, K, inner);
    const float one = 1.0f, beta = write ? 0.0f : 1.0f;
    if (s == AIC_OK)
        s = AIC_CUDNN(cudnnSoftmaxBackward(aic_cuda.dnn, algo, CUDNN_SOFTMAX_MODE_CHANNEL, &one, t, out, t, dout, &beta,
                                           t, dinp));
    if (t)
        cudnnDestroyTensorDescriptor(t);
    return s;
}

extern "C" aic_status aic_cuda_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    return softmax_fwd(CUDNN_SOFTMAX_ACCURATE, out, inp, outer, K, inner);
}
extern "C" aic_status aic_cuda_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                                size_t inner, bool write) {
    return softmax_bwd(CUDNN_SOFTMAX_ACCURATE, dinp, dout, out, outer, K, inner, write);
}
extern "C" aic_status aic_cuda_log_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner) {
    return softmax_fwd(CUDNN_SOFTMAX_LOG, out, inp, outer, K, inner);
}
extern "C" aic_status aic_cuda_log_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer,
                                                    int K, size_t inner, bool write) {
    return softmax_bwd(CUDNN_SOFTMAX_LOG, dinp, dout, out, outer, K, inner, write);
}

// Sum of part[0..blockDim) into part[0], a fixed tree.
__device__ static void block_sum(double *part) {
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
}

// Position p's weighted loss l (0 where ignored): loss's own element for 'none', else part's for
// xent_reduce_k.
__device__ static void xent_put(float *loss, double *part, const aic_xent_dims &d, size_t p, double l) {
    if (d.reduction == AIC_XENT_NONE)
        loss[p] = (float)l;
    else
        part[p] = l;
}

// Each position's w * -log softmax at its label; its softmax into probs.
__global__ static void xent_position_k(float *loss, double *part, float *probs, const float *logits,
                                       const int32_t *labels, aic_xent_dims d) {
    AIC_GRID_STRIDE(p, d.outer * d.inner) {
        const int32_t y = labels[p];
        xent_put(loss, part, d, p,
                 aic_xent_counts(&d, y) ? aic_xent_weight(&d, y) * aic_xent_position(probs, logits, &d, p, y) : 0.0);
    }
}

// Each position's w * -logprobs at its label.
__global__ static void nll_position_k(float *loss, double *part, const float *logprobs, const int32_t *labels,
                                      aic_xent_dims d) {
    AIC_GRID_STRIDE(p, d.outer * d.inner) {
        const int32_t y = labels[p];
        xent_put(loss, part, d, p,
                 aic_xent_counts(&d, y) ? -(double)aic_xent_weight(&d, y) * logprobs[aic_xent_at(&d, p, y)] : 0.0);
    }
}

// loss = part reduced as softmax_xent.c reduces it; *weights: the counted weights, for backward. One
// block: thread t takes positions t, t + 256, ..., then a fixed tree.
__global__ static void xent_reduce_k(float *loss, double *weights, const double *part, const int32_t *labels,
                                     aic_xent_dims d) {
    __shared__ double sum[AIC_CUDA_THREADS], wsum[AIC_CUDA_THREADS];
    double acc = 0.0, w = 0.0;
    for (size_t p = threadIdx.x; p < d.outer * d.inner; p += blockDim.x) {
        acc += part[p];
        if (aic_xent_counts(&d, labels[p]))
            w += aic_xent_weight(&d, labels[p]);
    }
    sum[threadIdx.x] = acc;
    wsum[threadIdx.x] = w;
    block_sum(sum);
    block_sum(wsum);
    if (threadIdx.x == 0) {
        *weights = wsum[0];
        *loss = aic_xent_reduced(&d, sum[0], wsum[0]);
    }
}

// dlogits += g * (probs - onehot(label)) at the counted positions (aic_xent_grad_scale)
__global__ static void xent_bwd_k(float *dlogits, const float *probs, const int32_t *labels, const double *weights,
                                  aic_xent_dims d, const float *dloss) {
    const double w = d.reduction == AIC_XENT_MEAN ? *weights : 0.0;
    AIC_GRID_STRIDE(e, d.outer * (size_t)d.C * d.inner) {
        const size_t p = e / ((size_t)d.C * d.inner) * d.inner + e % d.inner;
        const int c = (int)(e / d.inner % (size_t)d.C);
        if (aic_xent_counts(&d, labels[p]))
            dlogits[e] += aic_xent_grad_scale(&d, dloss, w, p, labels[p]) * (probs[e] - (c == labels[p] ? 1.0f : 0.0f));
    }
}

__global__ static void nll_bwd_k(float *dlogprobs, const int32_t *labels, const double *weights, aic_xent_dims d,
                                 const float *dloss) {
    const double w = d.reduction == AIC_XENT_MEAN ? *weights : 0.0;
    AIC_GRID_STRIDE(p, d.outer * d.inner)
    if (aic_xent_counts(&d, labels[p]))
        dlogprobs[aic_xent_at(&d, p, labels[p])] -= aic_xent_grad_scale(&d, dloss, w, p, labels[p]);
}

__global__ static void mse_fwd_k(float *loss, const float *pred, const float *target, size_t n) {
    __shared__ double part[AIC_CUDA_THREADS];
    double acc = 0.0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        double e = (double)pred[i] - target[i];
        acc += e * e;
    }
    part[threadIdx.x] = acc;
    block_sum(part);
    if (threadIdx.x == 0)
        *loss = n ? (float)(part[0] / (double)n) : 0.0f;
}

__global__ static void mse_bwd_k(float *dpred, const float *pred, const float *target, size_t n, const float *dloss) {
    const float g = 2.0f * *dloss / (float)n;
    AIC_GRID_STRIDE(i, n) dpred[i] += g * (pred[i] - target[i]);
}

// The reduction after the position kernels: none for 'none', whose losses are already in place.
static aic_status xent_reduce(float *loss, double *weights, const double *part, const int32_t *labels,
                              const aic_xent_dims *d) {
    if (d->reduction == AIC_XENT_NONE)
        return AIC_OK;
    xent_reduce_k<<<1, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(loss, weights, part, labels, *d);
    return AIC_CUDA_LAUNCHED();
}

extern "C" aic_status aic_cuda_softmax_xent_forward(float *loss, double *weights, double *part, float *probs,
                                                    const float *logits, const int32_t *labels,
                                                    const aic_xent_dims *d) {
    AIC_TRY(AIC_LAUNCH_N(d->outer * d->inner, xent_position_k, loss, part, probs, logits, labels, *d));
    return xent_reduce(loss, weights, part, labels, d);
}
extern "C" aic_status aic_cuda_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                                                     const double *weights, const aic_xent_dims *d,
                                                     const float *dloss) {
    return dlogits ? AIC_LAUNCH_N(d->outer * (size_t)d->C * d->inner, xent_bwd_k, dlogits, probs, labels, weights,
                                  *d, dloss)
                   : AIC_OK;
}
extern "C" aic_status aic_cuda_nll_forward(float *loss, double *weights, double *part, const float *logprobs,
                                           const int32_t *labels, const aic_xent_dims *d) {
    AIC_TRY(AIC_LAUNCH_N(d->outer * d->inner, nll_position_k, loss, part, logprobs, labels, *d));
    return xent_reduce(loss, weights, part, labels, d);
}
extern "C" aic_status aic_cuda_nll_backward(float *dlogprobs, const int32_t *labels, const double *weights,
                                            const aic_xent_dims *d, const float *dloss) {
    return dlogprobs ? AIC_LAUNCH_N(d->outer * d->inner, nll_bwd_k, dlogprobs, labels, weights, *d, dloss) : AIC_OK;
}
extern "C" aic_status aic_cuda_mse_forward(float *loss, const float *pred, const float *target, size_t n) {
    mse_fwd_k<<<1, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(loss, pred, target, n);
    return AIC_CUDA_LAUNCHED();
}
extern "C" aic_status aic_cuda_mse_backward(float *dpred, const float *pred, const float *target, size_t n,
                                            const float *dloss) {
    return dpred ? AIC_LAUNCH_N(n, mse_bwd_k, dpred, pred, target, n, dloss) : AIC_OK;
}
