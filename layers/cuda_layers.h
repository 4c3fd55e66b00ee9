// SPDX-License-Identifier: Apache-2.0
/* CUDA kernels and library calls, one file per op family (layers/ *_cuda.cu), with the signatures of
 * the CPU kernels in layers/layers.h, status included: same buffers (device pointers now), same shapes,
 * same conventions (forward writes, backward ACCUMULATES into every gradient it is given, a NULL
 * gradient is skipped). Everything is queued on aic_cuda.stream (core/cuda.h); nothing waits for the
 * device. Losses write their value to a device float and read the loss gradient from one. */
#ifndef AICON_LAYERS_CUDA_LAYERS_H
#define AICON_LAYERS_CUDA_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif
#include "layers/layers.h"

/* ---- elementwise_cuda.cu: fills, clip, add, dropout (unary ops: layers/unary.h) ---- */
aic_status aic_cuda_fill(float *dst, float value, size_t n);
/* dst[0] = src[0] * scale (the scaled loss into the allreduce slot) */
aic_status aic_cuda_scale_copy(float *dst, const float *src, float scale);
aic_status aic_cuda_clip_forward(float *out, const float *inp, size_t n, float lo, float hi);
aic_status aic_cuda_clip_backward(float *dinp, const float *dout, const float *inp, size_t n, float lo, float hi);
aic_status aic_cuda_add_forward(float *out, const float *a, const float *b, size_t n);
aic_status aic_cuda_add_backward(float *da, float *db, const float *dout, size_t n);
/* The same Philox counters as layers/dropout.c: masks agree with the CPU bit for bit. */
aic_status aic_cuda_dropout_forward(float *out, const float *inp, int N, size_t F, float p, uint64_t key,
                                    int64_t row_offset);
aic_status aic_cuda_dropout_backward(float *dinp, const float *dout, int N, size_t F, float p, uint64_t key,
                                     int64_t row_offset);
/* dst (n) = src (n), device to device (dropout in evaluation) */
aic_status aic_cuda_copy(float *dst, const float *src, size_t n);

/* ---- dense_cuda.cu: cuBLAS SGEMM ---- */
aic_status aic_cuda_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                                  int OC);
aic_status aic_cuda_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                   const float *weight, int N, int C, int OC, unsigned write);

/* ---- matmul_cuda.cu: cuBLAS strided-batched SGEMM over the last leading dim, a host loop over the rest ---- */
aic_status aic_cuda_matmul_forward(float *out, const float *a, const float *b, const aic_matmul_dims *d);
aic_status aic_cuda_matmul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                                    const aic_matmul_dims *d, unsigned write);

/* ---- conv2d_cuda.cu: cuDNN, algorithms found once per shape and cached ---- */
aic_status aic_cuda_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                   const aic_conv2d_dims *d);
aic_status aic_cuda_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                    const float *weight, const aic_conv2d_dims *d);
/* Transposed convolution: cuBLAS GEMMs with im2col and col2im kernels, no atomics */
aic_status aic_cuda_conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                             float *scratch, const aic_conv_transpose2d_dims *d);
aic_status aic_cuda_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                              const float *inp, const float *weight, float *scratch,
                                              const aic_conv_transpose2d_dims *d);

/* ---- pool_cuda.cu: max, average and global average pooling ---- */
aic_status aic_cuda_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool2d_dims *d);
aic_status aic_cuda_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const aic_pool2d_dims *d);
aic_status aic_cuda_avgpool2d_forward(float *out, const float *inp, const aic_pool2d_dims *d);
aic_status aic_cuda_avgpool2d_backward(float *dinp, const float *dout, const aic_pool2d_dims *d);
/* ---- conv3d_cuda.cu, pool3d_cuda.cu: one thread per element of each result (layers/window3d.h) ---- */
aic_status aic_cuda_conv3d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                   const aic_conv3d_dims *d);
aic_status aic_cuda_conv3d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                    const float *weight, const aic_conv3d_dims *d);
aic_status aic_cuda_maxpool3d_forward(float *out, int32_t *argmax, const float *inp, const aic_pool3d_dims *d);
aic_status aic_cuda_maxpool3d_backward(float *dinp, const float *dout, const int32_t *argmax,
                                       const aic_pool3d_dims *d);
aic_status aic_cuda_avgpool3d_forward(float *out, const float *inp, const aic_pool3d_dims *d);
aic_status aic_cuda_avgpool3d_backward(float *dinp, const float *dout, const aic_pool3d_dims *d);
aic_status aic_cuda_global_avgpool_forward(float *out, const float *inp, int N, int C, int S);
aic_status aic_cuda_global_avgpool_backward(float *dinp, const float *dout, int N, int C, int S);

/* ---- batchnorm_cuda.cu: cuDNN spatial batch normalization (eps >= CUDNN_BN_MIN_EPSILON) ---- */
aic_status aic_cuda_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                                            float *running_var, const float *inp, const float *gamma,
                                            const float *beta, int N, int C, int S, float momentum, float eps);
aic_status aic_cuda_batchnorm_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                                           const float *running_mean, const float *running_var, int N, int C, int S,
                                           float eps);
aic_status aic_cuda_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                                       const float *gamma, const float *save_mean, const float *save_invstd, int N,
                                       int C, int S, float eps);

/* ---- layernorm_cuda.cu: one block per row; parameter gradients one thread per column, rows in order ---- */
aic_status aic_cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                      const float *bias, int rows, int cols, float eps);
aic_status aic_cuda_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                       const float *weight, const float *mean, const float *rstd, int rows, int cols);

/* ---- softmax_cuda.cu: cuDNN softmax over an axis; the losses ---- */
aic_status aic_cuda_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner);
aic_status aic_cuda_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                     size_t inner, bool write);
aic_status aic_cuda_log_softmax_forward(float *out, const float *inp, size_t outer, int K, size_t inner);
aic_status aic_cuda_log_softmax_backward(float *dinp, const float *dout, const float *out, size_t outer, int K,
                                         size_t inner, bool write);
/* The classification losses (aic_xent_dims). The forward passes also write weights (1 double: the
 * counted positions' weights, the mean's denominator), which backward reads; part: outer x inner
 * doubles for each position's loss. The labels are not checked on the device: aic_model_set_input
 * checks them on the host. */
aic_status aic_cuda_softmax_xent_forward(float *loss, double *weights, double *part, float *probs, const float *logits,
                                         const int32_t *labels, const aic_xent_dims *d);
aic_status aic_cuda_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                                          const double *weights, const aic_xent_dims *d, const float *dloss);
aic_status aic_cuda_nll_forward(float *loss, double *weights, double *part, const float *logprobs,
                                const int32_t *labels, const aic_xent_dims *d);
aic_status aic_cuda_nll_backward(float *dlogprobs, const int32_t *labels, const double *weights,
                                 const aic_xent_dims *d, const float *dloss);
aic_status aic_cuda_mse_forward(float *loss, const float *pred, const float *target, size_t n);
aic_status aic_cuda_mse_backward(float *dpred, const float *pred, const float *target, size_t n, const float *dloss);

/* ---- cumsum_cuda.cu: a thread per line, as layers/cumsum_line.h sums it ---- */
aic_status aic_cuda_cumsum_forward(float *y, const float *x, const aic_cumsum_dims *d);
aic_status aic_cuda_cumsum_backward(float *dx, const float *dy, const aic_cumsum_dims *d);

/* ---- shape_cuda.cu: broadcasting binary ops, concat, transpose ---- */
aic_status aic_cuda_binary_forward(float *out, const float *a, const float *b, aic_binary_kind kind,
                                   const aic_binary_dims *d);
aic_status aic_cuda_binary_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                                    aic_binary_kind kind, const aic_binary_dims *d, unsigned write);
aic_status aic_cuda_concat_forward(float *out, const float *const *inps, const size_t *inner, int k, size_t outer);
aic_status aic_cuda_concat_backward(float *const *dinps, const float *dout, const size_t *inner, int k, size_t outer);
aic_status aic_cuda_transpose_forward(float *out, const float *x, const int64_t *xshape, const int *perm, int rank,
                                      int n);
aic_status aic_cuda_transpose_backward(float *dx, const float *dout, const int64_t *xshape, const int *perm, int rank,
                                       int n);
aic_status aic_cuda_expand_forward(float *out, const float *p, int rows, size_t numel);
aic_status aic_cuda_expand_backward(float *dp, const float *dout, int rows, size_t numel);

/* ---- gather_cuda.cu: embedding and gather, deterministic (no atomics): the backward passes sum
 * repeated ids and indices in the CPU kernels' order, one thread per column. Ids are checked on the
 * host by aic_model_set_input. ---- */
aic_status aic_cuda_embedding_forward(float *out, const float *table, const int32_t *ids, size_t n, int vocab,
                                      int dim);
aic_status aic_cuda_embedding_backward(float *dtable, const float *dout, const int32_t *ids, size_t n, int vocab,
                                       int dim);
aic_status aic_cuda_gather_forward(float *out, const float *x, const aic_gather_dims *d);
aic_status aic_cuda_gather_backward(float *dx, const float *dout, const aic_gather_dims *d);

/* ---- argmax_cuda.cu: argmax, argmin, hardmax, a thread per position (layers/argmax.c's formula) ---- */
aic_status aic_cuda_argmax_forward(int32_t *idx, float *onehot, const float *x, const aic_argmax_dims *d);

/* ---- rnn_cuda.cu: LSTM and GRU, cuBLAS per step and elementwise gate kernels (rnn.c's layout) ---- */
aic_status aic_cuda_rnn_forward(const aic_rnn_dims *d, float *y, float *work, const float *x, const float *W,
                                const float *R, const float *B);
aic_status aic_cuda_rnn_backward(const aic_rnn_dims *d, float *dx, float *dW, float *dR, float *dB,
                                 const float *dy, const float *x, const float *y, const float *W, const float *R,
                                 float *work);

/* ---- optim_cuda.cu: the update rules of core/optim.c over the flat arenas ---- */
aic_status aic_cuda_sgd_step(float *p, const float *g, float *buf, size_t n, float lr, float wd, float mu,
                             int nesterov);
aic_status aic_cuda_adam_step(float *p, const float *g, float *m1, float *m2, size_t n, float lr, float beta1,
                              float beta2, float eps, float wd, int decoupled, float bc1, float bc2_sqrt);
/* *sum = the sum of g's n squares in double, a fixed tree of AIC_CUDA_NORM_BLOCKS blocks' sums (the
 * same bits every run) through partial (that many doubles on the device); waits for the result. */
#define AIC_CUDA_NORM_BLOCKS 256
aic_status aic_cuda_sum_squares(double *partial, const float *g, size_t n, double *sum);
/* x[i] *= c over n floats */
aic_status aic_cuda_scale(float *x, size_t n, float c);

/* ---- attention_cuda.cu: fused attention, a thread per query row (or key row in backward) over
 * shared-memory tiles; scratch unused ---- */
aic_status aic_cuda_attention_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                                      float *scratch, const aic_attention_dims *d);
aic_status aic_cuda_attention_backward(float *dq, float *dk, float *dv, float *delta, const float *dout,
                                       const float *q, const float *k, const float *v, const float *out,
                                       const float *lse, float *scratch, const aic_attention_dims *d);

/* ---- elements_cuda.cu: elements.c's kernels, a thread per position over layers/elements.h's formulas
 * (no atomics: repeated indices add up in index order); indices outside their axis read and write
 * nothing (the host checks them, aic_model_set_input) ---- */
aic_status aic_cuda_gather_elements_forward(float *out, const float *x, const int32_t *idx,
                                            const aic_elements_dims *d);
aic_status aic_cuda_gather_elements_backward(float *dx, const float *dout, const int32_t *idx,
                                             const aic_elements_dims *d);
aic_status aic_cuda_scatter_elements_forward(float *out, const float *x, const int32_t *idx, const float *upd,
                                             const aic_elements_dims *d);
aic_status aic_cuda_scatter_elements_backward(float *dx, float *dupd, const float *dout, const float *x,
                                              const int32_t *idx, const float *upd, const aic_elements_dims *d);
aic_status aic_cuda_one_hot_forward(float *out, const int32_t *idx, const float *fidx, const aic_one_hot_dims *d);

#ifdef __cplusplus
}
#endif
#endif
