// SPDX-License-Identifier: Apache-2.0
/* CPU reference kernels, one file per op (llm.c style): plain functions over raw float buffers with
 * the shape of every buffer in a comment. Conventions:
 *  - every kernel returns an aic_status: AIC_OK, or, having written nothing, a failure whose last error
 *    names the kernel and what is wrong with its arguments (a NULL buffer it needs, a negative size, a
 *    zero feature or class count, a label outside [0, K): layers/kernel_check.h). A batch of N = 0
 *    rows is valid;
 *  - forward writes its outputs (=); a loss writes its value through `float *loss`;
 *  - backward ACCUMULATES (+=) into every gradient it is given: activation gradients (dinp) as well as
 *    parameter gradients, so a value read by several ops sums their contributions. The caller zeroes
 *    them. A NULL gradient pointer means "not needed": skip that work. The kernels that take a
 *    `write` argument write (=) the gradients it names instead: the first op to reach a gradient
 *    spares it the zeroing (aic_model_compile decides);
 *  - No allocation: any temporary buffer comes in as `scratch`, sized by the matching *_scratch call.
 *  - Single-threaded apart from BLAS, with a fixed summation order: results are bitwise reproducible.
 * The CUDA kernels (layers/cuda_layers.h) mirror these over device pointers. */
#ifndef AICON_LAYERS_H
#define AICON_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aicon/status.h"

/* The bits of a backward kernel's `write` argument: the gradient of input a (b) is written, not added to. */
enum { AIC_GRAD_WRITE_A = 1, AIC_GRAD_WRITE_B = 2 };

/* ---- dense.c ---- */
/* out: N x OC = inp (N x C) * weight^T (weight: OC x C) + bias (OC, may be NULL) */
aic_status aic_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                             int OC);
/* dinp: N x C += dout * weight (write & AIC_GRAD_WRITE_A: =); dweight: OC x C += dout^T * inp; dbias: OC +=
 * column sums of dout */
aic_status aic_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                              const float *weight, int N, int C, int OC, unsigned write);

/* ---- matmul.c ---- */
/* A stack of matrix products out[i] = a[i] b[i] (a: M x K, b: K x N, out: M x N, each row-major) over
 * an index space of `ndim` leading dims (the batch dim included; out holds prod(shape) matrices, in
 * row-major order). astride/bstride: each operand's stride along every leading dim in whole matrices
 * (M*K floats of a, K*N of b), 0 on a dim where it is broadcast. */
#define AIC_MATMUL_MAX_DIMS 6
typedef struct {
    int M, K, N;
    int ndim;
    int64_t shape[AIC_MATMUL_MAX_DIMS];   /* out's leading dims */
    int64_t astride[AIC_MATMUL_MAX_DIMS]; /* in matrices of a; 0 on a broadcast dim */
    int64_t bstride[AIC_MATMUL_MAX_DIMS];
} aic_matmul_dims;
/* out: prod(shape) x M x N = a (read through astride) x b (through bstride) */
aic_status aic_matmul_forward(float *out, const float *a, const float *b, const aic_matmul_dims *d);
/* da += dout b^T, db += a^T dout, each summed over the dims its operand is broadcast on, the output
 * matrices visited in row-major order (a fixed order). Either may be NULL; they may name one buffer
 * when a and b do. write: AIC_GRAD_WRITE_A, _B: that gradient is written (=), not added to (for an
 * operand not broadcast). */
aic_status aic_matmul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                               const aic_matmul_dims *d, unsigned write);

/* ---- conv2d.c ---- */
typedef struct {
    int N, C, H, W;     /* input N x C x H x W */
    int OC, KH, KW;     /* weight OC x (C/G) x KH x KW */
    int SH, SW, PH, PW; /* stride, symmetric zero padding */
    int DH, DW, G;      /* dilation, groups */
    int OH, OW;         /* output N x OC x OH x OW, OH = (H + 2PH - DH(KH-1) - 1)/SH + 1 */
} aic_conv2d_dims;
/* Floats of scratch that forward and backward need (the im2col buffer of one sample). */
size_t aic_conv2d_scratch(const aic_conv2d_dims *d);
/* out: N x OC x OH x OW; inp: N x C x H x W; weight: OC x C/G x KH x KW; bias: OC or NULL; scratch:
 * aic_conv2d_scratch(d) floats (NULL where that is 0). d's OH and OW must be the formula's. */
aic_status aic_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, float *scratch,
                              const aic_conv2d_dims *d);
/* dinp: N x C x H x W; dweight: OC x C/G x KH x KW; dbias: OC; dout: N x OC x OH x OW */
aic_status aic_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, float *scratch, const aic_conv2d_dims *d);

/* ---- conv2d_dnnl.c: the same on oneDNN's CPU primitives (the fast CPU path). Each returns
 * AIC_ERR_UNSUPPORTED, having done nothing, where oneDNN has no primitive for the shape; the caller
 * then runs the reference above. The backward halves accumulate (+=) as the reference does. ---- */
aic_status aic_conv2d_dnnl_forward(float *out, const float *inp, const float *weight, const float *bias,
                                   const aic_conv2d_dims *d);
/* bias: whether the op has a bias (the primitives are shared with the forward pass's) */
aic_status aic_conv2d_dnnl_backward_data(float *dinp, const float *dout, const float *weight,
                                         const aic_conv2d_dims *d, bool bias);
aic_status aic_conv2d_dnnl_backward_weights(float *dweight, float *dbias, const float *dout, const float *inp,
                                            const aic_conv2d_dims *d);

/* ---- conv2d.c: transposed convolution (the input gradient of a convolution as an op) ---- */
typedef struct {
    int N, C, H, W;     /* input N x C x H x W */
    int OC, KH, KW;     /* weight C x OC/G x KH x KW (PyTorch's and ONNX's ConvTranspose layout) */
    int SH, SW, PH, PW; /* stride; padding cut from the start of each axis */
    int DH, DW, G;      /* dilation, groups */
    int OH, OW;         /* output N x OC x OH x OW: input pixel (h, w) reaches (h SH - PH + kh DH, w SW - PW +
                         * kw DW); positions past OH, OW are cut, and any not reached are 0 (plus bias) */
} aic_conv_transpose2d_dims;
/* Whether input pixel (h, w) lands on output pixel (h, w) alone: then the columns are the output
 * itself, and the kernels need no scratch. */
static inline bool aic_conv_transpose2d_pointwise(const aic_conv_transpose2d_dims *d) {
    return d->KH == 1 && d->KW == 1 && d->SH == 1 && d->SW == 1 && d->PH == 0 && d->PW == 0 && d->OH == d->H &&
           d->OW == d->W;
}
/* Floats of scratch that forward and backward need (one sample's columns of one group). */
size_t aic_conv_transpose2d_scratch(const aic_conv_transpose2d_dims *d);
/* out: N x OC x OH x OW; inp: N x C x H x W; weight: C x OC/G x KH x KW; bias: OC or NULL; scratch:
 * aic_conv_transpose2d_scratch(d) floats (NULL where that is 0) */
aic_status aic_conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                        float *scratch, const aic_conv_transpose2d_dims *d);
/* dinp: N x C x H x W; dweight: C x OC/G x KH x KW; dbias: OC; dout: N x OC x OH x OW */
aic_status aic_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                         const float *inp, const float *weight, float *scratch,
                                         const aic_conv_transpose2d_dims *d);

/* ---- maxpool.c, avgpool.c ---- */
typedef struct {
    int N, C, H, W;
    int KH, KW, SH, SW, PH, PW; /* padding: implicit -inf (max) or 0 (avg) */
    int OH, OW;                 /* given by the caller (floor or ceil mode) */
    int count_include_pad;      /* avg: divide by KH*KW instead of the in-bounds count */
} aic_pool2d_dims;
/* out: N x C x OH x OW; argmax: N x C x OH x OW, index into the sample's H*W plane of the maximum
 * (the first one on ties; -1 for a window wholly in the padding); inp: N x C x H x W */
aic_status aic_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool2d_dims *d);
/* dinp: N x C x H x W += dout (N x C x OH x OW) routed through argmax */
aic_status aic_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool2d_dims *d);
/* out: N x C x OH x OW; inp: N x C x H x W */
aic_status aic_avgpool2d_forward(float *out, const float *inp, const aic_pool2d_dims *d);
aic_status aic_avgpool2d_backward(float *dinp, const float *dout, const aic_pool2d_dims *d);

/* ---- conv3d.c, pool3d.c: 3-D convolution and pooling over N x C x D x H x W, plain loops over the
 * formulas of layers/window3d.h; every 3-entry array is depth, height, width ---- */
typedef struct {
    int N, C, OC, G;           /* weight OC x C/G x k */
    int in[3], k[3], s[3], p[3], dil[3];
    int out[3];                /* (in + 2 p - dil (k - 1) - 1) / s + 1 */
} aic_conv3d_dims;
/* out: N x OC x out; inp: N x C x in; weight: OC x C/G x k; bias: OC or NULL */
aic_status aic_conv3d_forward(float *out, const float *inp, const float *weight, const float *bias,
                              const aic_conv3d_dims *d);
/* dinp: N x C x in; dweight: OC x C/G x k; dbias: OC (each NULL: skipped); dout: N x OC x out */
aic_status aic_conv3d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const aic_conv3d_dims *d);
typedef struct {
    int N, C;
    int in[3], k[3], s[3], p[3], out[3];
    bool count_include_pad; /* average pooling only */
} aic_pool3d_dims;
/* out, argmax: N x C x out (argmax: index into the sample's channel volume, -1 for a window wholly in
 * the padding); inp: N x C x in */
aic_status aic_maxpool3d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool3d_dims *d);
aic_status aic_maxpool3d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool3d_dims *d);
aic_status aic_avgpool3d_forward(float *out, const float *inp, const aic_pool3d_dims *d);
aic_status aic_avgpool3d_backward(float *dinp, const float *dout, const aic_pool3d_dims *d);

/* ---- global_avgpool.c ---- */
/* inp: N x C x S (S = H*W) -> out: N x C */
aic_status aic_global_avgpool_forward(float *out, const float *inp, int N, int C, int S);
/* dinp: N x C x S += dout (N x C) / S */
aic_status aic_global_avgpool_backward(float *dinp, const float *dout, int N, int C, int S);

/* ---- unary.c: relu, sigmoid, tanh, leaky_relu, ... (layers/unary.h) ---- */

/* ---- softmax.c ---- */
/* inp, out: outer x K x inner, softmax over K (stride inner): outer is the batch times the dims before
 * the axis, inner the dims after it. Stable (max subtracted), sums in double. */
aic_status aic_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner);
/* dinp += y * (dy - sum_K(dy * y)) (write: = instead of +=); reads the forward OUTPUT y */
aic_status aic_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                size_t inner, bool write);
/* out = x - max - log(sum exp(x - max)) over K */
aic_status aic_log_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner);
/* dinp += dy - exp(y) * sum_K(dy) (write: = instead of +=); reads the forward OUTPUT y */
aic_status aic_log_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                    size_t inner, bool write);

/* ---- clip.c ---- */
/* out, inp: n. Backward reads the forward INPUT. y = min(max(x, lo), hi), gradient where
 * lo <= x <= hi (torch.clamp); lo > hi or a NaN bound fails. */
aic_status aic_clip_forward(float *out, const float *inp, size_t n, float lo, float hi);
aic_status aic_clip_backward(float *dinp, const float *dout, const float *inp, size_t n, float lo, float hi);

/* ---- batchnorm.c ---- */
/* inp, out: N x C x S. Training: normalize with the batch mean and biased variance; save mean and
 * 1/sqrt(var + eps) (C each) for backward; running_mean/var (C) <- (1-momentum) * running +
 * momentum * batch, with the unbiased variance (as PyTorch). */
aic_status aic_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                                       float *running_var, const float *inp, const float *gamma, const float *beta,
                                       int N, int C, int S, float momentum, float eps);
aic_status aic_batchnorm_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                                      const float *running_mean, const float *running_var, int N, int C, int S,
                                      float eps);
/* Backward of the training forward. dinp, dout, inp: N x C x S; dgamma, dbeta, gamma, save_*: C */
aic_status aic_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                                  const float *gamma, const float *save_mean, const float *save_invstd, int N, int C,
                                  int S);

/* ---- layernorm.c ---- */
/* inp, out: rows x cols, each row normalized over its cols values: y = (x - mean) * rstd * weight +
 * bias, rstd = 1/sqrt(biased variance + eps), the statistics summed in double; mean and rstd (rows
 * each) saved for backward. weight, bias: cols, or NULL (1 and 0: no affine part). */
aic_status aic_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                 const float *bias, int rows, int cols, float eps);
/* dinp: rows x cols += the gradient through the row statistics; dweight: cols += column sums of
 * dout * xhat; dbias: cols += column sums of dout (each may be NULL: skipped). weight NULL: 1. */
aic_status aic_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                  const float *weight, const float *mean, const float *rstd, int rows, int cols);

/* ---- dropout.c ---- */
/* inp, out: N x F. Element (i, j) is kept with probability 1 - p (p in [0, 1]), from Philox under `key`
 * at counter (row_offset + i) * F + j, and scaled by 1/(1-p): the mask needs no storage and backward
 * recomputes it. */
aic_status aic_dropout_forward(float *out, const float *inp, int N, size_t F, float p, uint64_t key,
                               int64_t row_offset);
/* dinp: N x F += dout (N x F) under the same mask and scale */
aic_status aic_dropout_backward(float *dinp, const float *dout, int N, size_t F, float p, uint64_t key,
                                int64_t row_offset);

/* ---- add.c ---- */
/* out = a + b, n elements; backward: da += dout, db += dout (either may be NULL) */
aic_status aic_add_forward(float *out, const float *a, const float *b, size_t n);
aic_status aic_add_backward(float *da, float *db, const float *dout, size_t n);

/* ---- binary.c ---- */
/* Elementwise out = a (op) b with numpy broadcasting, over an index space of `ndim` dims (the batch
 * dim included). astride/bstride: each operand's element stride along every output dim, 0 where it
 * is broadcast; out is contiguous. Forward and backward visit the index space in row-major order, so
 * the reductions over broadcast dims sum in a fixed order. */
typedef enum {
    AIC_BINARY_ADD,
    AIC_BINARY_SUB,
    AIC_BINARY_MUL,
    AIC_BINARY_DIV,
    AIC_BINARY_POW,
    AIC_BINARY_MAX,
    AIC_BINARY_MIN,
    AIC_BINARY_EQUAL,
    AIC_BINARY_LESS,
    AIC_BINARY_GREATER,
    AIC_BINARY_LESS_EQUAL,
    AIC_BINARY_GREATER_EQUAL,
    AIC_BINARY_AND,
    AIC_BINARY_OR,
    AIC_BINARY_XOR,
    AIC_BINARY_MOD,  /* the remainder with the divisor's sign (Python's %, ONNX Mod fmod=0) */
    AIC_BINARY_FMOD, /* the remainder with the dividend's sign (C's fmod, ONNX Mod fmod=1) */
    AIC_BINARY_KIND_COUNT
} aic_binary_kind; /* the formulas: layers/binary_formula.h */
#define AIC_BINARY_MAX_DIMS 6
typedef struct {
    int ndim;
    int64_t shape[AIC_BINARY_MAX_DIMS];   /* output */
    int64_t astride[AIC_BINARY_MAX_DIMS]; /* in elements of a; 0 on a broadcast dim */
    int64_t bstride[AIC_BINARY_MAX_DIMS];
} aic_binary_dims;
/* out: prod(shape); a, b: read through astride, bstride */
aic_status aic_binary_forward(float *out, const float *a, const float *b, aic_binary_kind kind,
                              const aic_binary_dims *d);
/* da += dy * d(out)/da, db += dy * d(out)/db, summed over the dims each operand is broadcast on
 * (either may be NULL; they may name one buffer when a and b do). add: 1, 1; sub: 1, -1; mul: b, a;
 * div: 1/b, -a/b^2. a and b are read by mul and div only (add and sub may pass NULL). write:
 * AIC_GRAD_WRITE_A, _B: that gradient is written (=), not added to (for an operand not broadcast). */
aic_status aic_binary_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                               aic_binary_kind kind, const aic_binary_dims *d, unsigned write);

/* ---- cumsum.c: running sums along one axis (ONNX CumSum) ---- */
typedef struct {
    size_t outer, len, inner; /* x: outer x len x inner, summed along len */
    bool exclusive;           /* each sum leaves its own element out (the first is 0) */
    bool reverse;             /* summed from the end of the axis */
} aic_cumsum_dims;
/* y = the running sums of x, each line summed in order in double (layers/cumsum_line.h) */
aic_status aic_cumsum_forward(float *y, const float *x, const aic_cumsum_dims *d);
/* dx += the running sums of dy the other way (dx NULL: nothing) */
aic_status aic_cumsum_backward(float *dx, const float *dy, const aic_cumsum_dims *d);

/* ---- concat.c ---- */
/* Input i of k (k >= 1) viewed as outer x inner[i]; out as outer x sum(inner). Backward: dinps[i]
 * (outer x inner[i]; NULL: skipped) += its columns of dout. */
aic_status aic_concat_forward(float *out, const float *const *inps, const size_t *inner, int k, size_t outer);
aic_status aic_concat_backward(float *const *dinps, const float *dout, const size_t *inner, int k, size_t outer);

/* ---- expand.c ---- */
/* out: rows x numel, each row p; dp (numel) += the column sums of dout (rows x numel). */
aic_status aic_expand_forward(float *out, const float *p, int rows, size_t numel);
aic_status aic_expand_backward(float *dp, const float *dout, int rows, size_t numel);

/* ---- transpose.c ---- */
/* x: n x (per-sample shape xshape, rank dims, rank <= 8); out: n x (xshape permuted), out's per-sample
 * axis k being x's axis perm[k] (perm over the per-sample axes, 0-based). Backward: dx += dout permuted
 * back. */
aic_status aic_transpose_forward(float *out, const float *x, const int64_t *xshape, const int *perm, int rank,
                                 int n);
aic_status aic_transpose_backward(float *dx, const float *dout, const int64_t *xshape, const int *perm, int rank,
                                  int n);

/* ---- softmax_xent.c, nll.c: classification losses over any shape ----
 * Scores outer x C x inner, the C classes on the middle axis (PyTorch's [N, C, d1, ...]: outer N,
 * inner d1 x ...; classes last, [N, T, V]: outer N x T, inner 1), labels outer x inner. A label equal
 * to ignore_index (with has_ignore) counts for nothing: no loss, no gradient, not in the mean; every
 * other label must lie in [0, C) (else the kernel fails). Each counted position's loss l is weighed by
 * its label's class weight w (1 without weights), as ONNX and PyTorch weigh it. The reduction: 'mean'
 * sum(w l) / sum(w) over the counted positions (0 when that sum is 0; PyTorch gives NaN), 'sum' sum(w l),
 * both summed in double in position order into one float; 'none' w l at each position (outer x inner
 * floats, 0 where ignored). */
typedef enum { AIC_XENT_MEAN, AIC_XENT_SUM, AIC_XENT_NONE } aic_xent_reduction;
/* A reduction's name as ONNX spells it ("mean", "sum", "none"); NULL for a value outside the enum. */
static inline const char *aic_xent_reduction_name(int r) {
    static const char *const names[] = {"mean", "sum", "none"};
    return r >= 0 && r < 3 ? names[r] : NULL;
}
typedef struct {
    size_t outer, inner;
    int C;
    bool has_ignore;
    int32_t ignore_index;
    aic_xent_reduction reduction;
    const float *weight; /* C class weights (NULL: 1 each), where the kernels' other buffers are */
} aic_xent_dims;
/* loss = the reduction of -log softmax(logits)[label], computed stably (max subtracted); probs (laid
 * out as logits) saved for backward at the counted positions. */
aic_status aic_softmax_xent_forward(float *loss, float *probs, const float *logits, const int32_t *labels,
                                    const aic_xent_dims *d);
/* dlogits += g * (probs - onehot(label)) at the counted positions, g the position's share of dloss (1
 * float, or outer x inner for 'none'): aic_xent_grad_scale (layers/xent.h) */
aic_status aic_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                                     const aic_xent_dims *d, const float *dloss);
/* loss = the reduction of -logprobs[label] */
aic_status aic_nll_forward(float *loss, const float *logprobs, const int32_t *labels, const aic_xent_dims *d);
/* dlogprobs[label] -= g at the counted positions (g as in aic_softmax_xent_backward) */
aic_status aic_nll_backward(float *dlogprobs, const int32_t *labels, const aic_xent_dims *d, const float *dloss);

/* ---- gather.c: embedding lookup, and gather at constant indices ---- */
/* out: n x dim, row i = table[ids[i]]; table: vocab x dim; ids: n, each in [0, vocab) (else the kernel
 * fails). */
aic_status aic_embedding_forward(float *out, const float *table, const int32_t *ids, size_t n, int vocab, int dim);
/* dtable: vocab x dim += row i of dout (n x dim) into row ids[i], i in order: repeated ids sum in a
 * fixed order. */
aic_status aic_embedding_backward(float *dtable, const float *dout, const int32_t *ids, size_t n, int vocab,
                                  int dim);
#define AIC_GATHER_MAX_INDICES 32
typedef struct {
    size_t outer, inner; /* x: outer x D x inner; out: outer x n x inner */
    int D, n;
    int32_t idx[AIC_GATHER_MAX_INDICES]; /* n indices (1..AIC_GATHER_MAX_INDICES), each in [0, D) */
} aic_gather_dims;
/* out[o][k][i] = x[o][idx[k]][i] */
aic_status aic_gather_forward(float *out, const float *x, const aic_gather_dims *d);
/* dx[o][idx[k]][i] += dout[o][k][i], k in order (repeated indices sum in a fixed order) */
aic_status aic_gather_backward(float *dx, const float *dout, const aic_gather_dims *d);

/* ---- argmax.c: the position of the extreme along one axis (ONNX ArgMax, ArgMin, Hardmax) ---- */
typedef struct {
    size_t outer, inner; /* x: outer x K x inner */
    int K;
    bool min;  /* the smallest value instead of the largest */
    bool last; /* the last of equal extremes instead of the first */
} aic_argmax_dims;
/* idx (outer x inner, or NULL) = the extreme's position along K; onehot (outer x K x inner, or NULL) =
 * 1 there, 0 elsewhere. A NaN is the extreme (numpy's argmax and argmin). No backward. */
aic_status aic_argmax_forward(int32_t *idx, float *onehot, const float *x, const aic_argmax_dims *d);

/* ---- mse.c ---- */
/* pred, target: n. loss (1 float) = the mean over n elements of (pred - target)^2, summed in double;
 * 0 when n == 0. */
aic_status aic_mse_forward(float *loss, const float *pred, const float *target, size_t n);
/* dpred: n += dloss * 2 (pred - target) / n */
aic_status aic_mse_backward(float *dpred, const float *pred, const float *target, size_t n, float dloss);

/* ---- rnn.c: LSTM and GRU over time (ONNX's equations, zero initial states) ---- */
typedef struct {
    int N, T, C, H, dirs; /* x: N x T x C; y: N x T x dirs x H, the reverse direction second */
    int gates;            /* 4: LSTM (i, o, f, c), 3: GRU (z, r, h) */
    bool linear_before_reset; /* GRU: h's pre-activation has r * (R_h h + Rb_h), else R_h (r * h) + Rb_h */
} aic_rnn_dims;
/* Floats of a forward's and backward's work memory per sample: the gates and states backward reads
 * (gates + 1 values of H per step and direction), then room for the gradients of every step's gates. */
static inline size_t aic_rnn_work_per_sample(const aic_rnn_dims *d) {
    const size_t GH = (size_t)d->gates * (size_t)d->H;
    return (size_t)d->dirs * (size_t)d->T * (GH + (size_t)d->H) + 2 * (size_t)d->T * GH + 3 * (size_t)d->H;
}
/* y from x; W: dirs x GH x C, R: dirs x GH x H, B: dirs x 2GH (W's biases, R's); work: N x
 * aic_rnn_work_per_sample floats, kept for backward. */
aic_status aic_rnn_forward(const aic_rnn_dims *d, float *y, float *work, const float *x, const float *W,
                           const float *R, const float *B);
/* Backward through time: dx (or NULL), dW, dR, dB += the gradients of dy, from forward's y and work. */
aic_status aic_rnn_backward(const aic_rnn_dims *d, float *dx, float *dW, float *dR, float *dB, const float *dy,
                            const float *x, const float *y, const float *W, const float *R, float *work);

/* ---- attention.c: fused scaled-dot-product attention ---- */
/* B stacked problems of q: T x D, k and v: S x D, out: T x D = softmax(q k^T * scale + mask) v, the
 * mask (causal) refusing key j to query i when j > i + S - T (bottom-right aligned; j > i for T == S;
 * needs S >= T). */
typedef struct {
    int64_t B;
    int T, S, D;
    bool causal;
    float scale;
} aic_attention_dims;
/* Floats of the CPU kernels' scratch (independent of the sizes: score blocks). */
size_t aic_attention_scratch(void);
/* out: B x T x D; lse: B x T, each query row's log-sum-exp of its scaled scores, kept for backward. */
aic_status aic_attention_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                                 float *scratch, const aic_attention_dims *d);
/* dq, dk, dv (each may be NULL; they may name one buffer) += the gradients of dout, the probabilities
 * recomputed from q, k and lse; delta: B x T floats of work (each row's dout . out). */
aic_status aic_attention_backward(float *dq, float *dk, float *dv, float *delta, const float *dout, const float *q,
                                  const float *k, const float *v, const float *out, const float *lse, float *scratch,
                                  const aic_attention_dims *d);

/* ---- elements.c: GatherElements, ScatterElements (int32 indices along one axis), OneHot ---- */
/* data (gather's input, scatter's input and output) and idx (the indices, gather's output, scatter's
 * updates) have ndim axes, the rows first; idx no larger than data but on the axis. An index v names
 * position v, or v + size for v < 0, of the axis. */
#define AIC_ELEMENTS_MAX_DIMS 6
typedef enum { AIC_SCATTER_NONE, AIC_SCATTER_ADD, AIC_SCATTER_MUL, AIC_SCATTER_KIND_COUNT } aic_scatter_kind;
typedef struct {
    int ndim, axis; /* axis 1..ndim-1 */
    int64_t data[AIC_ELEMENTS_MAX_DIMS], idx[AIC_ELEMENTS_MAX_DIMS];
    int reduction; /* scatter: aic_scatter_kind (none: the last update to a position wins) */
} aic_elements_dims;
aic_status aic_gather_elements_forward(float *out, const float *x, const int32_t *idx, const aic_elements_dims *d);
/* dx += dout scattered back, the updates of each position summed in index order. */
aic_status aic_gather_elements_backward(float *dx, const float *dout, const int32_t *idx, const aic_elements_dims *d);
aic_status aic_scatter_elements_forward(float *out, const float *x, const int32_t *idx, const float *upd,
                                        const aic_elements_dims *d);
/* dx, dupd (either may be NULL) += the gradients of dout. */
aic_status aic_scatter_elements_backward(float *dx, float *dupd, const float *dout, const float *x, const int32_t *idx,
                                         const float *upd, const aic_elements_dims *d);
/* out: outer x depth x inner, on where the index (int32, or a float one holding an integer; one of
 * them NULL) of idx: outer x inner names the class (v, or v + depth for v < 0), off elsewhere. */
typedef struct {
    size_t outer, inner;
    int64_t depth;
    float off, on;
} aic_one_hot_dims;
aic_status aic_one_hot_forward(float *out, const int32_t *idx, const float *fidx, const aic_one_hot_dims *d);

#endif
