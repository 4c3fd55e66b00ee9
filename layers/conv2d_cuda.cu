// SPDX-License-Identifier: Apache-2.0
// Convolution on cuDNN (NCHW, fp32). Each shape (the dims with the batch, and the math mode) gets its
// descriptors and its three algorithms once: cudnnFind* times the candidates, the fastest whose
// workspace fits aic_cuda.workspace_limit is kept. Bias and its gradient are small kernels.
#include <string.h>

#include "layers/cuda_common.cuh"

#define CONV_CACHE_MAX 512

typedef struct {
    aic_conv2d_dims d;
    bool tf32;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t fwd_ws, bwd_data_ws, bwd_filter_ws;
} conv_plan;

static conv_plan plans[CONV_CACHE_MAX];
static int n_plans;

// The fastest successful result that fits the workspace bound (results come sorted by time).
#define PICK_ALGO(results, count, out_algo, out_ws, what)                                                      \
    do {                                                                                                       \
        int found_ = 0;                                                                                        \
        for (int i_ = 0; i_ < (count) && !found_; i_++)                                                        \
            if ((results)[i_].status == CUDNN_STATUS_SUCCESS && (results)[i_].memory <= aic_cuda.workspace_limit) { \
                (out_algo) = (results)[i_].algo;                                                               \
                (out_ws) = (results)[i_].memory;                                                               \
                found_ = 1;                                                                                    \
            }                                                                                                  \
        if (!found_)                                                                                           \
            return aic_fail(AIC_ERR_UNSUPPORTED,                                                               \
                            "conv2d %dx%dx%dx%d -> %d channels, kernel %dx%d: cuDNN has no %s algorithm within the " \
                            "%zu MiB workspace bound (AICON_CUDNN_WORKSPACE_MB)",                              \
                            d->N, d->C, d->H, d->W, d->OC, d->KH, d->KW, what, aic_cuda.workspace_limit >> 20); \
    } while (0)

// Fills p (zeroed, d and tf32 set): descriptors and the fastest algorithms within the workspace bound.
// On failure the descriptors made so far stay in p for plan_for to destroy.
static aic_status build_plan(conv_plan *p, const aic_conv2d_dims *d) {
    AIC_TRY(AIC_CUDNN(cudnnCreateTensorDescriptor(&p->x)));
    AIC_TRY(AIC_CUDNN(cudnnCreateTensorDescriptor(&p->y)));
    AIC_TRY(AIC_CUDNN(cudnnCreateFilterDescriptor(&p->w)));
    AIC_TRY(AIC_CUDNN(cudnnCreateConvolutionDescriptor(&p->conv)));
    AIC_TRY(AIC_CUDNN(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->N, d->C, d->H, d->W)));
    AIC_TRY(AIC_CUDNN(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->N, d->OC, d->OH, d->OW)));
    AIC_TRY(AIC_CUDNN(
        cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d->OC, d->C / d->G, d->KH, d->KW)));
    // Cross-correlation, as PyTorch and conv2d.c.
    AIC_TRY(AIC_CUDNN(cudnnSetConvolution2dDescriptor(p->conv, d->PH, d->PW, d->SH, d->SW, d->DH, d->DW,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT)));
    AIC_TRY(AIC_CUDNN(cudnnSetConvolutionGroupCount(p->conv, d->G)));
    // FMA math keeps fp32 exact to the CPU's tolerance; TF32 tensor cores only when asked for.
    AIC_TRY(AIC_CUDNN(cudnnSetConvolutionMathType(p->conv, aic_cuda.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH)));
    int n, oc, oh, ow;
    AIC_TRY(AIC_CUDNN(cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &oc, &oh, &ow)));
    if (n != d->N || oc != d->OC || oh != d->OH || ow != d->OW)
        return aic_fail(AIC_ERR_INTERNAL, "conv2d: cuDNN computes output %dx%dx%dx%d, aicon %dx%dx%dx%d", n, oc, oh,
                        ow, d->N, d->OC, d->OH, d->OW);
    cudnnConvolutionFwdAlgoPerf_t fr[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t dr[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    cudnnConvolutionBwdFilterAlgoPerf_t wr[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int nf = 0, nd = 0, nw = 0;
    AIC_TRY(AIC_CUDNN(cudnnFindConvolutionForwardAlgorithm(aic_cuda.dnn, p->x, p->w, p->conv, p->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &nf, fr)));
    AIC_TRY(AIC_CUDNN(cudnnFindConvolutionBackwardDataAlgorithm(aic_cuda.dnn, p->w, p->y, p->conv, p->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &nd, dr)));
    AIC_TRY(AIC_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithm(aic_cuda.dnn, p->x, p->y, p->conv, p->w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &nw, wr)));
    PICK_ALGO(fr, nf, p->fwd, p->fwd_ws, "forward");
    PICK_ALGO(dr, nd, p->bwd_data, p->bwd_data_ws, "backward-data");
    PICK_ALGO(wr, nw, p->bwd_filter, p->bwd_filter_ws, "backward-filter");
    return AIC_OK;
}

static aic_status plan_for(const aic_conv2d_dims *d, conv_plan **out) {
    for (int i = 0; i < n_plans; i++)
        if (plans[i].tf32 == aic_cuda.tf32 && memcmp(&plans[i].d, d, sizeof *d) == 0) {
            *out = &plans[i];
            return AIC_OK;
        }
    if (n_plans == CONV_CACHE_MAX)
        return aic_fail(AIC_ERR_NOMEM, "conv2d: more than %d convolution shapes in one process", CONV_CACHE_MAX);
    conv_plan *p = &plans[n_plans];
    memset(p, 0, sizeof *p);
    p->d = *d;
    p->tf32 = aic_cuda.tf32;
    aic_status s = build_plan(p, d);
    if (s != AIC_OK) { // the slot is reused by the next shape: nothing of this one may stay behind
        if (p->x)
            cudnnDestroyTensorDescriptor(p->x);
        if (p->y)
            cudnnDestroyTensorDescriptor(p->y);
        if (p->w)
            cudnnDestroyFilterDescriptor(p->w);
        if (p->conv)
            cudnnDestroyConvolutionDescriptor(p->conv);
        return s;
    }
    n_plans++;
    *out = p;
    return AIC_OK;
}

// out: N x OC x S += bias (OC) per channel
__global__ static void add_channel_bias_k(float *out, const float *bias, size_t n, int OC, size_t S) {
    AIC_GRID_STRIDE(i, n) out[i] += bias[(i / S) % (size_t)OC];
}

// dbias: OC += sum over N and S of dout (N x OC x S); one block per channel, a fixed tree order
__global__ static void channel_sums_k(float *dbias, const float *dout, int N, int OC, size_t S) {
    __shared__ float part[AIC_CUDA_THREADS];
    const int c = blockIdx.x;
    float s = 0.0f;
    for (size_t k = threadIdx.x; k < (size_t)N * S; k += blockDim.x) {
        size_t n = k / S, j = k % S;
        s += dout[(n * OC + c) * S + j];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        dbias[c] += part[0];
}

extern "C" aic_status aic_cuda_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                              const aic_conv2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: OC x C/G x KH x KW, bias: OC or NULL
    if (d->N == 0)
        return AIC_OK;
    conv_plan *p;
    void *ws = NULL;
    AIC_TRY(plan_for(d, &p));
    AIC_TRY(aic_cuda_workspace(p->fwd_ws, &ws));
    const float one = 1.0f, zero = 0.0f;
    AIC_TRY(AIC_CUDNN(cudnnConvolutionForward(aic_cuda.dnn, &one, p->x, inp, p->w, weight, p->conv, p->fwd, ws,
                                              p->fwd_ws, &zero, p->y, out)));
    if (bias) {
        size_t S = (size_t)d->OH * d->OW, n = (size_t)d->N * d->OC * S;
        AIC_TRY(AIC_LAUNCH_N(n, add_channel_bias_k, out, bias, n, d->OC, S));
    }
    return AIC_OK;
}

extern "C" aic_status aic_cuda_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                               const float *inp, const float *weight, const aic_conv2d_dims *d) {
    if (d->N == 0)
        return AIC_OK;
    conv_plan *p;
    void *ws = NULL;
    AIC_TRY(plan_for(d, &p));
    const float one = 1.0f;
    if (dinp) { // beta 1: accumulate, as every backward
        AIC_TRY(aic_cuda_workspace(p->bwd_data_ws, &ws));
        AIC_TRY(AIC_CUDNN(cudnnConvolutionBackwardData(aic_cuda.dnn, &one, p->w, weight, p->y, dout, p->conv,
                                                       p->bwd_data, ws, p->bwd_data_ws, &one, p->x, dinp)));
    }
    if (dweight) {
        AIC_TRY(aic_cuda_workspace(p->bwd_filter_ws, &ws));
        AIC_TRY(AIC_CUDNN(cudnnConvolutionBackwardFilter(aic_cuda.dnn, &one, p->x, inp, p->y, dout, p->conv,
                                                         p->bwd_filter, ws, p->bwd_filter_ws, &one, p->w, dweight)));
    }
    if (dbias) {
        channel_sums_k<<<d->OC, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(dbias, dout, d->N, d->OC,
                                                                          (size_t)d->OH * d->OW);
        AIC_TRY(AIC_CUDA_LAUNCHED());
    }
    return AIC_OK;
}

// ---- Transposed convolution: per sample and group, a cuBLAS GEMM between the input and the columns,
// and the columns gathered to or from the output pixels (the transposed convolution's output side is
// the image of conv2d.c's im2col and col2im). Row-major matrices are column-major transposes, as in
// dense_cuda.cu. Each output pixel sums its own taps: no atomics, the same bits every run.

// col: (OCg*KH*KW) x (H*W) <- img: OCg x OH x OW; row (c, kh, kw) holds, for every input position, the
// output pixel that tap reaches, 0 where it falls outside.
__global__ static void transposed_im2col_k(float *col, const float *img, aic_conv_transpose2d_dims d, int OCg) {
    const size_t P = (size_t)d.H * d.W, n = (size_t)OCg * d.KH * d.KW * P;
    AIC_GRID_STRIDE(i, n) {
        const size_t r = i / P, p = i % P;
        const int w = (int)(p % d.W), h = (int)(p / d.W);
        const int kw = (int)(r % d.KW), kh = (int)(r / d.KW % d.KH), c = (int)(r / ((size_t)d.KW * d.KH));
        const int y = h * d.SH - d.PH + kh * d.DH, x = w * d.SW - d.PW + kw * d.DW;
        col[i] = y >= 0 && y < d.OH && x >= 0 && x < d.OW ? img[((size_t)c * d.OH + y) * d.OW + x] : 0.0f;
    }
}

// img: OCg x OH x OW = the columns' taps that reach each pixel, summed in (kh, kw) order.
__global__ static void transposed_col2im_k(float *img, const float *col, aic_conv_transpose2d_dims d, int OCg) {
    const size_t P = (size_t)d.H * d.W, n = (size_t)OCg * d.OH * d.OW;
    AIC_GRID_STRIDE(i, n) {
        const int x = (int)(i % d.OW), y = (int)(i / d.OW % d.OH), c = (int)(i / ((size_t)d.OW * d.OH));
        float s = 0.0f;
        for (int kh = 0; kh < d.KH; kh++) {
            const int hs = y + d.PH - kh * d.DH; // h * SH for the input row h this tap reads
            if (hs < 0 || hs % d.SH || hs / d.SH >= d.H)
                continue;
            for (int kw = 0; kw < d.KW; kw++) {
                const int ws = x + d.PW - kw * d.DW;
                if (ws < 0 || ws % d.SW || ws / d.SW >= d.W)
                    continue;
                s += col[(((size_t)c * d.KH + kh) * d.KW + kw) * P + (size_t)(hs / d.SH) * d.W + ws / d.SW];
            }
        }
        img[i] = s;
    }
}

extern "C" aic_status aic_cuda_conv_transpose2d_forward(float *out, const float *inp, const float *weight,
                                                        const float *bias, float *scratch,
                                                        const aic_conv_transpose2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: C x OCg x KH x KW, bias: OC or NULL
    const int Cg = d->C / d->G, OCg = d->OC / d->G, K = OCg * d->KH * d->KW, P = d->H * d->W;
    const size_t OP = (size_t)d->OH * d->OW;
    const bool pointwise = aic_conv_transpose2d_pointwise(d);
    const float one = 1.0f, zero = 0.0f;
    for (int n = 0; n < d->N; n++) {
        for (int g = 0; g < d->G; g++) {
            const float *xg = inp + ((size_t)n * d->C + (size_t)g * Cg) * P;  // Cg x P
            const float *wg = weight + (size_t)g * Cg * K;                    // Cg x K
            float *og = out + ((size_t)n * d->OC + (size_t)g * OCg) * OP;     // OCg x OH x OW
            // columns (K x P) = wg^T xg: column-major P x K = xg^T (P x Cg) * wg (Cg x K)
            AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_N, CUBLAS_OP_T, P, K, Cg, &one, xg, P, wg, K,
                                           &zero, pointwise ? og : scratch, P)));
            if (!pointwise)
                AIC_TRY(AIC_LAUNCH_N((size_t)OCg * OP, transposed_col2im_k, og, scratch, *d, OCg));
        }
    }
    if (bias && d->N > 0) {
        const size_t n = (size_t)d->N * d->OC * OP;
        AIC_TRY(AIC_LAUNCH_N(n, add_channel_bias_k, out, bias, n, d->OC, OP));
    }
    return AIC_OK;
}

extern "C" aic_status aic_cuda_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias,
                                                         const float *dout, const float *inp, const float *weight,
                                                         float *scratch, const aic_conv_transpose2d_dims *d) {
    const int Cg = d->C / d->G, OCg = d->OC / d->G, K = OCg * d->KH * d->KW, P = d->H * d->W;
    const size_t OP = (size_t)d->OH * d->OW;
    const bool pointwise = aic_conv_transpose2d_pointwise(d);
    const float one = 1.0f;
    for (int n = 0; n < d->N && (dinp || dweight); n++) {
        for (int g = 0; g < d->G; g++) {
            const size_t in_off = ((size_t)n * d->C + (size_t)g * Cg) * P;
            const float *dog = dout + ((size_t)n * d->OC + (size_t)g * OCg) * OP; // OCg x OH x OW
            const float *col = dog;                                               // K x P
            if (!pointwise) {
                AIC_TRY(AIC_LAUNCH_N((size_t)K * P, transposed_im2col_k, scratch, dog, *d, OCg));
                col = scratch;
            }
            if (dinp) // dinp_g (Cg x P) += weight_g (Cg x K) col: column-major P x Cg += col^T (P x K) weight_g^T
                AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_N, CUBLAS_OP_N, P, Cg, K, &one, col, P,
                                               weight + (size_t)g * Cg * K, K, &one, dinp + in_off, P)));
            if (dweight) // dweight_g (Cg x K) += inp_g col^T: column-major K x Cg += col (K x P) inp_g^T (P x Cg)
                AIC_TRY(AIC_CUBLAS(cublasSgemm(aic_cuda.blas, CUBLAS_OP_T, CUBLAS_OP_N, K, Cg, P, &one, col, P,
                                               inp + in_off, P, &one, dweight + (size_t)g * Cg * K, K)));
        }
    }
    if (dbias && d->N > 0) {
        channel_sums_k<<<d->OC, AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(dbias, dout, d->N, d->OC, OP);
        AIC_TRY(AIC_CUDA_LAUNCHED());
    }
    return AIC_OK;
}
