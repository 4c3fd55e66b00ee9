// SPDX-License-Identifier: Apache-2.0
/* Models: a graph of ops built through this API, then compiled for a maximum batch size.
 *
 * Every tensor in the graph (an aic_value) has a leading batch dimension that is not written in
 * shapes passed here: aic_input(m, "image", 3, (int64_t[]){1, 28, 28}, &x) makes a value of shape
 * N x 1 x 28 x 28. Parameters, their gradients and the optimizer state live in contiguous arenas
 * (one allocation each), so allreduce, checkpointing and zeroing work on one flat buffer.
 * Parameter gradients accumulate (+=) across backward calls until aic_model_zero_grad().
 *
 * Ownership: the model owns every buffer it hands out; pointers stay valid until
 * aic_model_destroy(). Destroying NULL is a no-op. A model is not thread-safe. */
#ifndef AICON_MODEL_H
#define AICON_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aicon/device.h"
#include "aicon/export.h"
#include "aicon/status.h"
#include "aicon/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aic_model aic_model_t;
typedef int aic_value; /* handle of a tensor in a model's graph; valid handles are >= 0 */

AIC_API aic_status aic_model_create(aic_model_t **out, const char *name);
AIC_API void aic_model_destroy(aic_model_t *m);
AIC_API const char *aic_model_name(const aic_model_t *m);

/* ---- building the graph -------------------------------------------------------------------
 * Each builder appends one op. `name` names the op and prefixes its parameters
 * ("conv1" -> "conv1.weight", "conv1.bias"); NULL picks "<kind><k>". Shapes are checked here, so a
 * mistake fails at the line that made it, with the op's name in the message. */

/* A float input of per-sample shape `shape` (ndim <= AIC_MAX_DIMS - 1). */
AIC_API aic_status aic_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out);
/* An int32 class-label input, one label per sample: aic_int_input of rank 0. */
AIC_API aic_status aic_labels(aic_model_t *m, const char *name, aic_value *out);
/* An int32 input of per-sample shape `shape` (ndim <= AIC_MAX_DIMS - 1; 0: one value per sample):
 * token ids N x T for aic_embedding, per-pixel labels N x H x W for aic_cross_entropy. The ops that
 * read it check its values: on the CPU at each forward, on a GPU in aic_model_set_input. Integer
 * tensors get no gradient. */
AIC_API aic_status aic_int_input(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out);

/* torch.nn.Embedding: out[..., :] = table[ids[...], :], a trained table "<name>.weight" of vocab x dim
 * initialized N(0, 1) from the seed (as PyTorch). ids: an int32 value (aic_int_input) of any per-sample
 * shape, each id in [0, vocab) (checked; a bad id fails naming the op, the id and its position); out has
 * ids' shape with dim appended. Backward sums into the table's gradient in a fixed order (repeated ids
 * add up deterministically, on the GPU too). */
AIC_API aic_status aic_embedding(aic_model_t *m, const char *name, aic_value ids, int64_t vocab, int64_t dim,
                                 aic_value *out);
/* ONNX Gather of an activation at constant indices along `axis` (counted with the batch as ONNX does,
 * 1..rank-1 or negative from the end; the batch axis 0 is refused): n_idx indices (1..32; negative ones
 * count from the end of the axis) select slices of x in order, repeats allowed. With scalar_index (one
 * index, as x[:, 0] in a ViT) the axis is dropped; else it keeps n_idx entries. The gradient is
 * scattered back, repeated indices summed in a fixed order. */
AIC_API aic_status aic_gather(aic_model_t *m, const char *name, aic_value x, int axis, int n_idx, const int64_t *idx,
                              bool scalar_index, aic_value *out);
/* ONNX GatherElements (torch.gather): out[.., k, ..] = x[.., indices[.., k, ..], ..] along `axis` (counted
 * with the batch, 1..rank-1 or negative from the end; the batch axis is refused). indices: an int32 value
 * (aic_int_input) of x's rank, no larger than x but on the axis, each in -size..size-1 of the axis
 * (negative ones count from its end); out has its shape. The gradient goes back to x, repeated indices
 * summed in index order. */
AIC_API aic_status aic_gather_elements(aic_model_t *m, const char *name, aic_value x, aic_value indices, int axis,
                                       aic_value *out);
/* ONNX ScatterElements (Tensor.scatter_): x with updates (a float value of indices' shape) written at
 * the positions indices name along `axis` (as aic_gather_elements), in index order; reduction NULL or
 * "none" (replace: the last update to a position wins), "add" or "mul". Gradients go to x (where not
 * replaced) and to the updates. */
AIC_API aic_status aic_scatter_elements(aic_model_t *m, const char *name, aic_value x, aic_value indices,
                                        aic_value updates, int axis, const char *reduction, aic_value *out);
/* ONNX OneHot: indices (an int32 value, or a float one) to floats with a new axis of `depth` at `axis`
 * of the output (counted with the batch, 1..rank or negative from the end): `on` at the index's
 * position (v, or v + depth for v < 0), `off` elsewhere and for indices outside -depth..depth-1 (and
 * float ones that are not integers, as onnxruntime and ONNX's reference compute it). No gradient. */
AIC_API aic_status aic_one_hot(aic_model_t *m, const char *name, aic_value indices, int axis, int64_t depth, float off,
                               float on, aic_value *out);

/* y = x W^T + b; x: N x in_features (use aic_flatten first for images); W: out x in. */
AIC_API aic_status aic_dense(aic_model_t *m, const char *name, aic_value x, int64_t out_features, bool bias,
                             aic_value *out);
/* y = x P^T (+ b) whose weight P is an existing parameter named `param` of shape [out, in], in = x's last
 * dim: a language model's head tied to its token embedding ("wte.weight", vocab x dim). Only the bias
 * (optional, "<name>.bias") is new. Both ops' gradients add into the one parameter's gradient; the
 * ONNX export holds it once, read by both nodes. */
AIC_API aic_status aic_dense_tied(aic_model_t *m, const char *name, aic_value x, const char *param, bool bias,
                                  aic_value *out);

typedef struct {
    int64_t out_channels;
    int kernel[2];   /* kh, kw */
    int stride[2];   /* 0 means 1 */
    int pad[2];      /* symmetric padding, ph, pw */
    int dilation[2]; /* 0 means 1 */
    int groups;      /* 0 means 1 */
    bool no_bias;
} aic_conv2d_opts;
/* x: N x C x H x W -> N x out_channels x Ho x Wo; W: out_channels x C/groups x kh x kw. */
AIC_API aic_status aic_conv2d(aic_model_t *m, const char *name, aic_value x, const aic_conv2d_opts *o, aic_value *out);

typedef struct {
    int kernel[2];
    int stride[2]; /* 0 means kernel */
    int pad[2];
    bool ceil_mode;
    bool count_include_pad; /* average pooling only */
} aic_pool2d_opts;
AIC_API aic_status aic_maxpool2d(aic_model_t *m, const char *name, aic_value x, const aic_pool2d_opts *o,
                                 aic_value *out);
AIC_API aic_status aic_avgpool2d(aic_model_t *m, const char *name, aic_value x, const aic_pool2d_opts *o,
                                 aic_value *out);
/* 3-D convolution (torch.nn.Conv3d; ONNX Conv over three spatial axes): x: N x C x D x H x W -> N x
 * out_channels x Do x Ho x Wo. Parameters "<name>.weight" (out_channels x C/groups x kd x kh x kw) and
 * "<name>.bias" (out_channels) start uniform in +-1/sqrt(C/groups * kd * kh * kw), as PyTorch's.
 * Every array here is depth, height, width. */
typedef struct {
    int64_t out_channels;
    int kernel[3];
    int stride[3];   /* 0 means 1 */
    int pad[3];      /* on both ends of each axis */
    int dilation[3]; /* 0 means 1 */
    int groups;      /* 0 means 1 */
    bool no_bias;
} aic_conv3d_opts;
AIC_API aic_status aic_conv3d(aic_model_t *m, const char *name, aic_value x, const aic_conv3d_opts *o, aic_value *out);

/* 3-D max and average pooling over N x C x D x H x W, as the 2-D ones (PyTorch's output sizes, padding
 * at most half the kernel). */
typedef struct {
    int kernel[3];
    int stride[3]; /* 0 means kernel */
    int pad[3];
    bool ceil_mode;
    bool count_include_pad; /* average pooling only */
} aic_pool3d_opts;
AIC_API aic_status aic_maxpool3d(aic_model_t *m, const char *name, aic_value x, const aic_pool3d_opts *o,
                                 aic_value *out);
AIC_API aic_status aic_avgpool3d(aic_model_t *m, const char *name, aic_value x, const aic_pool3d_opts *o,
                                 aic_value *out);

/* N x C x H x W -> N x C x 1 x 1 */
AIC_API aic_status aic_global_avgpool(aic_model_t *m, const char *name, aic_value x, aic_value *out);

/* Transposed 2-D convolution (torch.nn.ConvTranspose2d, ONNX ConvTranspose): input pixel (h, w)
 * adds weight[c][oc] times itself into output pixels (h*stride - pad + kh*dilation, ...), so the
 * output is (H-1)*stride + dilation*(kernel-1) + 1 - 2*pad - pad_end + output_padding high (likewise
 * wide). Parameters "<name>.weight" (C x out_channels/groups x kh x kw, PyTorch's layout) and
 * "<name>.bias" (out_channels) start uniform in +-1/sqrt(out_channels/groups * kh * kw), as PyTorch's. */
typedef struct {
    int64_t out_channels;
    int kernel[2];         /* kh, kw */
    int stride[2];         /* 0 means 1 */
    int pad[2];            /* cut from both ends of each axis (PyTorch's padding) */
    int pad_end[2];        /* cut from the end on top of pad (ONNX's asymmetric pads: end = pad + pad_end) */
    int output_padding[2]; /* added at the end (positions no input reaches get the bias alone) */
    int dilation[2];       /* 0 means 1 */
    int groups;            /* 0 means 1 */
    bool no_bias;
} aic_conv_transpose2d_opts;
AIC_API aic_status aic_conv_transpose2d(aic_model_t *m, const char *name, aic_value x,
                                        const aic_conv_transpose2d_opts *o, aic_value *out);

/* Resize of N x C x H x W to N x C x OH x OW (ONNX Resize on H and W; F.interpolate). The zero of each
 * enum is ONNX's default. Coordinates (output position o on an axis of in -> out positions, scale =
 * out / in): half_pixel (o + 0.5) / scale - 0.5, asymmetric o / scale, pytorch_half_pixel as
 * half_pixel but 0 when out is 1, align_corners o * (in - 1) / (out - 1), tf_half_pixel_for_nn
 * (o + 0.5) / scale. F.interpolate's modes: nearest is asymmetric + floor; bilinear is linear +
 * half_pixel, or align_corners with it set. */
typedef enum { AIC_RESIZE_NEAREST, AIC_RESIZE_LINEAR } aic_resize_mode;
typedef enum {
    AIC_RESIZE_HALF_PIXEL,
    AIC_RESIZE_ASYMMETRIC,
    AIC_RESIZE_PYTORCH_HALF_PIXEL,
    AIC_RESIZE_ALIGN_CORNERS,
    AIC_RESIZE_TF_HALF_PIXEL_FOR_NN
} aic_resize_coord;
/* How nearest rounds a coordinate: to the nearest position, halves down or up, or down or up. */
typedef enum {
    AIC_RESIZE_ROUND_PREFER_FLOOR,
    AIC_RESIZE_ROUND_PREFER_CEIL,
    AIC_RESIZE_FLOOR,
    AIC_RESIZE_CEIL
} aic_resize_nearest;
typedef struct {
    aic_resize_mode mode;       /* nearest, or linear (bilinear: the coordinate clamped to the input) */
    aic_resize_coord coord;     /* ONNX's coordinate_transformation_mode */
    aic_resize_nearest nearest; /* ONNX's nearest_mode (mode nearest) */
    int size[2];                /* output OH, OW; or 0, 0 and scale: */
    float scale[2];             /* OH = floor(H * scale[0]) (in float), OW likewise; the coordinates use scale */
} aic_resize2d_opts;
AIC_API aic_status aic_resize2d(aic_model_t *m, const char *name, aic_value x, const aic_resize2d_opts *o,
                                aic_value *out);

/* Recurrent layers over x of N x T x I (batch first), zero initial states: out is N x T x (dirs x
 * hidden), every step's hidden state, the reverse direction's behind the forward one's. Parameters as
 * ONNX's LSTM and GRU lay them out: W [dirs, G x hidden, I], R [dirs, G x hidden, hidden], B [dirs,
 * 2 x G x hidden] (W's biases, then R's), G gates in ONNX's order (LSTM: i, o, f, c; GRU: z, r, h),
 * initialized U(-1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch. */
typedef struct {
    int64_t hidden;
    bool bidirectional;
    bool linear_before_reset; /* GRU: r scales (R h + Rb), as PyTorch (ONNX's default is false) */
} aic_rnn_opts;
AIC_API aic_status aic_lstm(aic_model_t *m, const char *name, aic_value x, const aic_rnn_opts *o, aic_value *out);
AIC_API aic_status aic_gru(aic_model_t *m, const char *name, aic_value x, const aic_rnn_opts *o, aic_value *out);

AIC_API aic_status aic_relu(aic_model_t *m, const char *name, aic_value x, aic_value *out);
AIC_API aic_status aic_sigmoid(aic_model_t *m, const char *name, aic_value x, aic_value *out);
AIC_API aic_status aic_tanh(aic_model_t *m, const char *name, aic_value x, aic_value *out);
/* ONNX LeakyRelu: y = x for x >= 0, alpha * x below (ONNX's default alpha is 0.01; pass it). The
 * gradient's slope is alpha at x == 0, as PyTorch. */
AIC_API aic_status aic_leaky_relu(aic_model_t *m, const char *name, aic_value x, float alpha, aic_value *out);
/* Any elementwise unary op by its name ("relu", "leaky_relu", ...: the list and each op's float
 * attributes are in layers/unary_ops.def, the formulas in layers/unary.h). attrs: the op's attributes
 * in that order, or NULL for the defaults (ONNX's). */
AIC_API aic_status aic_unary(aic_model_t *m, const char *op, const char *name, aic_value x, const float *attrs,
                             aic_value *out);
/* ONNX Clip / torch.clamp: y = min(max(x, lo), hi), lo <= hi; lo may be -INFINITY, hi +INFINITY
 * (ReLU6 is lo 0, hi 6). The gradient passes where lo <= x <= hi, boundaries included, as
 * torch.clamp. NaN passes through. */
AIC_API aic_status aic_clip(aic_model_t *m, const char *name, aic_value x, float lo, float hi, aic_value *out);
/* Softmax over one per-sample axis, counted with the batch dimension as ONNX does (1 <= axis <=
 * rank - 1; the last axis is the usual choice). Numerically stable (the maximum is subtracted). */
AIC_API aic_status aic_softmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out);
/* log(softmax(x)) over `axis` (as aic_softmax), computed stably as x - max - log(sum exp(x - max)).
 * Pair with aic_nll_loss for a classifier whose graph ends in LogSoftmax. */
AIC_API aic_status aic_log_softmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out);
/* ONNX ArgMax (ArgMin with min): the position of the largest (smallest) element of x along `axis`,
 * counted with the batch as ONNX does (or negative from the end; the batch axis, and an axis in front
 * of it, are refused), the first of equal ones or the last with select_last; a NaN counts as the
 * extreme (numpy's argmax and argmin). out is an int32 value of x's shape with the axis dropped, or
 * kept as 1 with keepdims. No gradient flows back through it: integer values get none. */
AIC_API aic_status aic_argmax(aic_model_t *m, const char *name, aic_value x, int axis, bool min, bool select_last,
                              bool keepdims, aic_value *out);
/* ONNX Hardmax (opset 13): 1 at the first largest element of x along `axis` (as aic_argmax's), 0
 * elsewhere; a float value of x's shape. Its gradient is zero: nothing flows back through it. */
AIC_API aic_status aic_hardmax(aic_model_t *m, const char *name, aic_value x, int axis, aic_value *out);

/* Batch normalization over dim 1 (channels) of N x C x ... ; in training uses batch statistics and
 * updates running_mean/running_var as PyTorch does (unbiased variance, running = (1-momentum) *
 * running + momentum * batch); in evaluation uses the running statistics. */
AIC_API aic_status aic_batchnorm(aic_model_t *m, const char *name, aic_value x, float momentum, float eps,
                                 aic_value *out);
/* Layer normalization (torch.nn.LayerNorm, ONNX LayerNormalization): each sample is normalized over
 * its axes from `axis` to the last, axis counted with the batch dimension as ONNX does (1 <= axis <=
 * rank - 1; rank - 1 normalizes the last axis only): y = (x - mean) / sqrt(var + eps) * weight + bias,
 * the biased variance, eps >= 0. With affine, parameters "<name>.weight" (ones) and "<name>.bias"
 * (zeros) of the normalized shape (at most 4 axes); without, y is the normalized x. The same in
 * training and evaluation. */
AIC_API aic_status aic_layernorm(aic_model_t *m, const char *name, aic_value x, int axis, float eps, bool affine,
                                 aic_value *out);
/* A reduction of x over the per-sample axes `axes` (n_axes of them, counted with the batch as ONNX
 * does: 1..rank-1, or negative from the end; axis 0, the batch, is refused; n_axes 0: every per-sample
 * axis), the reduced axes kept as 1s with keepdims, else dropped (all of them: a per-sample scalar).
 * op names the reduction (ONNX Reduce*): "sum", "mean", "max", "min", "l2" (sqrt of the sum of
 * squares), "sum_square", "log_sum_exp" (the maximum subtracted first), "l1" (sum of |x|), "log_sum"
 * (log of the sum), "prod" (in double). Sums are in double, in index
 * order. max and min send each output's gradient to its first extreme element in index order (torch.amax
 * splits it evenly among ties). */
AIC_API aic_status aic_reduce(aic_model_t *m, const char *op, const char *name, aic_value x, int n_axes,
                              const int *axes, bool keepdims, aic_value *out);
/* Inverted dropout with drop probability p in [0, 1); identity in evaluation. The mask depends on
 * the seed, the step and the sample's position in the global batch, not on rank or thread count. */
AIC_API aic_status aic_dropout(aic_model_t *m, const char *name, aic_value x, float p, aic_value *out);

/* N x d1 x ... -> N x (d1 * ...). No copy. */
AIC_API aic_status aic_flatten(aic_model_t *m, const char *name, aic_value x, aic_value *out);
/* Same elements, new per-sample shape (one entry may be -1). No copy. For a value whose batch is not
 * its first axis (see aic_reshape_full), the axes behind the batch axis are the ones reshaped. */
AIC_API aic_status aic_reshape(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                               aic_value *out);
/* A reshape of the full shape (ndim entries, the batch axis's among them), which may merge axes into
 * the batch axis, split them out again, or move it: the entry AIC_DIM_BATCH marks the axis that holds
 * the batch, with what the other entries leave over merged into it. In memory x is (the elements in
 * front of its batch) x N x (the elements behind it): the entries in front of the batch axis must
 * divide the first, those behind it the second. With x of shape N x 4 x 8 x 16, {AIC_DIM_BATCH, 8, 16}
 * gives (N 4) x 8 x 16 (heads merged into the batch), and from there {AIC_DIM_BATCH, 4, 8, 16} splits
 * them out again; with x of shape 8 x N x 16, {AIC_DIM_BATCH, 16} gives (8 N) x 16. No copy. */
#define AIC_DIM_BATCH INT64_C(-2)
AIC_API aic_status aic_reshape_full(aic_model_t *m, const char *name, aic_value x, int ndim, const int64_t *shape,
                                    aic_value *out);
/* Elementwise a + b of equal shapes (residual connections). */
AIC_API aic_status aic_add(aic_model_t *m, const char *name, aic_value a, aic_value b, aic_value *out);
/* Elementwise binary arithmetic, out = a (op) b, op one of aic_binary_op. */
typedef enum {
    AIC_BINOP_ADD,
    AIC_BINOP_SUB,
    AIC_BINOP_MUL,
    AIC_BINOP_DIV,
    AIC_BINOP_POW, /* a^b (powf; the gradient to b is a^b log a, 0 where a is 0) */
    AIC_BINOP_MAX, /* a NaN operand is the result; the gradient to the one chosen, half each on a tie */
    AIC_BINOP_MIN,
    /* comparisons and logic (ONNX's bool tensors held as floats 1 and 0; nonzero reads as true): no
     * gradient */
    AIC_BINOP_EQUAL,
    AIC_BINOP_LESS,
    AIC_BINOP_GREATER,
    AIC_BINOP_LESS_EQUAL,
    AIC_BINOP_GREATER_EQUAL,
    AIC_BINOP_AND,
    AIC_BINOP_OR,
    AIC_BINOP_XOR,
    /* remainders: MOD with the divisor's sign (Python's %), FMOD with the dividend's (C's fmod); the
     * gradient 1 to a, -trunc(a / b) (FMOD) or -floor(a / b) (MOD) to b */
    AIC_BINOP_MOD,
    AIC_BINOP_FMOD
} aic_binary_op;
/* Two activations whose per-sample shapes broadcast as numpy does (right-aligned, a dim of 1 stretches;
 * the batch dims always line up); the output has the broadcast shape. Gradients flow to both, summed
 * over the dims each was stretched on. */
AIC_API aic_status aic_binary(aic_model_t *m, const char *name, aic_binary_op op, aic_value a, aic_value b,
                              aic_value *out);
/* x (op) c, or c (op) x when const_on_left, with c a constant that is not trained: a model buffer
 * named "<name>.constant" of const_numel floats (set it after compile; it starts as 0 for add/sub and
 * 1 for mul/div/pow, the identity; 0 for max/min; 1 for mod/fmod, no division by 0). const_shape broadcasts against x's per-sample shape as numpy does; a
 * constant of rank (per-sample rank + 1) whose first dim is 1 also fits (that dim lines up with the
 * batch and is dropped). */
AIC_API aic_status aic_binary_const(aic_model_t *m, const char *name, aic_binary_op op, aic_value x, int const_ndim,
                                    const int64_t *const_shape, bool const_on_left, aic_value *out);
/* Permute the axes as ONNX Transpose does: perm has (per-sample rank + 1) entries over the full shape,
 * and may move the batch axis (N x T x E with perm {1, 0, 2} gives T x N x E). Most ops need the batch
 * first; elementwise ops, softmax, layernorm and dense also take it elsewhere (on the axes behind it). */
AIC_API aic_status aic_transpose(aic_model_t *m, const char *name, aic_value x, const int *perm, aic_value *out);
/* Batched matrix product of two activations (numpy's matmul, ONNX MatMul): a of per-sample shape
 * [..., M, K] times b of [..., K, N] gives [..., M, N]; the per-sample ranks are at least 2, and the
 * leading per-sample dims broadcast as numpy does (right-aligned, a dim of 1 stretches): [H, T, D] x
 * [H, D, S] and [T, D] x [H, D, S] both give [H, T, S]. Sample i of a multiplies sample i of b (the
 * batch dims pair up). Attention's Q K^T is aic_transpose of K, then aic_matmul; a and b may be one
 * value. Gradients flow to both, summed over the dims each was stretched on. */
AIC_API aic_status aic_matmul(aic_model_t *m, const char *name, aic_value a, aic_value b, aic_value *out);
/* Fused scaled-dot-product attention: out = softmax(q k^T * scale + mask) v, q of per-sample shape
 * [..., T, D], k and v [..., S, D] with the same leading dims (heads folded into the batch, (N H) x T x
 * D, or kept per sample, N x H x T x D), out like q. scale 0 means 1/sqrt(D). causal masks key j from
 * query i when j > i + S - T (bottom-right aligned; for T == S the usual j > i, as the -inf upper
 * triangle of GPT models; needs S >= T). The T x S scores are never held whole: blocks of them with an
 * online softmax (FlashAttention), and backward recomputes them from each query's saved log-sum-exp. */
AIC_API aic_status aic_attention(aic_model_t *m, const char *name, aic_value q, aic_value k, aic_value v, bool causal,
                                 float scale, aic_value *out);
/* Concatenate along `axis` counted with the batch dimension (axis >= 1, as in ONNX). */
AIC_API aic_status aic_concat(aic_model_t *m, const char *name, int n, const aic_value *xs, int axis, aic_value *out);
/* Running sums of x along `axis`, counted with the batch dimension (1..rank-1, or negative from the
 * end; not the batch) as ONNX CumSum: y[k] = x[0] + ... + x[k]; exclusive leaves x[k] out (y[0] = 0),
 * reverse sums from the end. Each line is summed in order in double. The gradient is the running sum
 * of dy the other way. */
AIC_API aic_status aic_cumsum(aic_model_t *m, const char *name, aic_value x, int axis, bool exclusive, bool reverse,
                              aic_value *out);
/* A trained parameter "<name>.weight" of per-sample shape `shape` (rank 1..4, zeros at first) as a
 * value that holds it for every sample of the batch: a ViT's class token, concatenated in front of
 * the patches. Its gradient is the sum over the batch. */
AIC_API aic_status aic_expand_param(aic_model_t *m, const char *name, int ndim, const int64_t *shape, aic_value *out);
/* A strided slice of x as numpy's x[..., start:end:step, ...] and ONNX Slice: on each of the n_axes
 * axes (counted on the full shape as ONNX does, or negative from the end; only axes behind the batch
 * axis: 1..rank-1 where the batch is first) keep positions start, start + step, ... before end. Negative starts and ends
 * count from the end of the axis, both are then clamped to it, and a negative step walks backwards
 * (end -1 - size or lower: down to position 0); steps NULL: all 1, no step 0. An empty result is
 * refused. The gradient goes back to the positions read. */
AIC_API aic_status aic_slice(aic_model_t *m, const char *name, aic_value x, int n_axes, const int *axes,
                             const int64_t *starts, const int64_t *ends, const int64_t *steps, aic_value *out);
/* Padding as ONNX Pad (numpy.pad): constant fills with value, reflect mirrors about the edges without
 * repeating them ([1 2 3] -> 3 2 | 1 2 3 | 2 1), edge repeats the edge. */
typedef enum { AIC_PAD_CONSTANT, AIC_PAD_REFLECT, AIC_PAD_EDGE } aic_pad_mode;
/* x padded by pads_begin[a] positions before and pads_end[a] after axis a, for every axis a of the
 * full shape (per-sample rank + 1 entries each; the batch's, entry 0, must be 0). A negative pad
 * crops. Reflect and edge read the padded positions from x: its gradient there collects the
 * gradients of every position that copied it. */
AIC_API aic_status aic_pad(aic_model_t *m, const char *name, aic_value x, const int64_t *pads_begin,
                           const int64_t *pads_end, aic_pad_mode mode, float value, aic_value *out);

/* Losses produce a scalar: the mean over the batch (or the sum). A model has at most one loss. */
/* How a classification loss reduces its positions' losses: the mean (the default) and the sum are the
 * model's loss; 'none' is instead an activation of the labels' shape, each position's loss (0 where
 * ignored), for later ops to read (ONNX's reduction 'none'). */
typedef enum { AIC_LOSS_MEAN, AIC_LOSS_SUM, AIC_LOSS_NONE } aic_loss_reduction;
/* The classification losses' options (zeroed: the defaults). */
typedef struct {
    /* The axis of the classes, counted with the batch: 1 (0 means 1) for PyTorch's and ONNX's scores
     * N x C x d1 x ... with labels N x d1 x ...; -1 (the last) for a language model's N x T x V with
     * labels N x T, no transpose needed. */
    int class_axis;
    /* With has_ignore, a label equal to ignore_index (PyTorch's default is -100) adds neither loss nor
     * gradient, and the mean is over the labels counted, as PyTorch's reduction='mean'. A batch with
     * none counted has loss 0 and no gradient (PyTorch: NaN). */
    bool has_ignore;
    int ignore_index;
    aic_loss_reduction reduction;
    /* With class_weights, each counted position's loss l is weighed by its label's class weight w,
     * and the mean is sum(w l) / sum(w) over the counted positions (0 when that is 0), as PyTorch's
     * and ONNX's weight. The weights are the op's buffer '<name>.weight' of C floats, ones until set
     * (aic_model_buffer after aic_model_compile): never trained, kept in checkpoints. */
    bool class_weights;
} aic_xent_opts;
/* Softmax cross-entropy, as torch.nn.functional.cross_entropy and ONNX SoftmaxCrossEntropyLoss: by
 * default the mean over the labels counted of -log softmax(logits)[label] along the class axis,
 * computed stably (the maximum subtracted; sums in double), else as o's reduction and class weights
 * say; *loss is the model's loss, or with AIC_LOSS_NONE an activation of the labels' shape. labels: an int32
 * value (aic_labels, aic_int_input) of the logits' shape without the class axis, each in [0, C) or the
 * ignored one (checked; a bad label fails naming the op, the label and its position). o: NULL for the
 * defaults.
 * Over ranks: aic_model_backward's loss_scale n_local / n_global weighs each rank's mean by its rows,
 * so the summed gradients are those of the global mean when every rank counts as many labels per
 * row; with ignored labels the ranks' counts differ, and the result is the row-weighted mean of the
 * ranks' means (on one rank, PyTorch's mean exactly). */
AIC_API aic_status aic_cross_entropy(aic_model_t *m, const char *name, aic_value logits, aic_value labels,
                                     const aic_xent_opts *o, aic_value *loss);
/* Negative log-likelihood, as torch.nn.NLLLoss and ONNX NegativeLogLikelihoodLoss: by default the
 * mean over the labels counted of -logprobs[label] along the class axis; logprobs
 * e.g. from aic_log_softmax on that axis. Labels and options as aic_cross_entropy's. */
AIC_API aic_status aic_nll(aic_model_t *m, const char *name, aic_value logprobs, aic_value labels,
                           const aic_xent_opts *o, aic_value *loss);
/* aic_cross_entropy and aic_nll with the default options: scores N x K, one label per sample. */
AIC_API aic_status aic_softmax_cross_entropy(aic_model_t *m, const char *name, aic_value logits, aic_value labels,
                                             aic_value *loss);
AIC_API aic_status aic_nll_loss(aic_model_t *m, const char *name, aic_value logprobs, aic_value labels,
                                aic_value *loss);
/* mean over all elements of (pred - target)^2, as torch.nn.MSELoss. */
AIC_API aic_status aic_mse(aic_model_t *m, const char *name, aic_value pred, aic_value target, aic_value *loss);

/* The value aic_model_predict returns (the logits). Defaults to the loss op's first input. */
AIC_API aic_status aic_model_set_output(aic_model_t *m, aic_value v);

/* Allocate arenas for batches of up to max_batch samples and initialize parameters from `seed`
 * (uniform +-1/sqrt(fan_in) for weights and biases as PyTorch's defaults; BatchNorm weight 1, bias 0).
 * No allocation happens after this call. */
AIC_API aic_status aic_model_compile(aic_model_t *m, int max_batch, uint64_t seed);

/* ---- device -----------------------------------------------------------------------------------
 * Where the model runs: AIC_DEVICE_CPU (the default, the reference) or AIC_DEVICE_CUDA on GPU `gpu`
 * (a CUDA device ordinal; aicon drives one GPU per process, so every model of a process names the
 * same one: with mpirun, the node-local rank). tf32 lets cuBLAS and cuDNN use TF32 tensor cores for
 * fp32 products (faster, about 1e-3 relative error); off, they compute in full fp32. Call before
 * aic_model_compile. AIC_ERR_UNSUPPORTED in a build without CUDA; the GPU not opening is reported
 * with the CUDA call that failed.
 *
 * On a GPU the arenas are device memory. aic_model_params/grads/buffers, aic_model_param,
 * aic_model_find_param, aic_model_buffer, aic_model_value, aic_model_value_grad and
 * aic_model_output hand out HOST copies, fetched at the call: read them, or write parameters and
 * buffers there (checkpoint loading, broadcast from rank 0), and the next forward, backward or
 * optimizer step sends what was written back to the GPU. Fetch again after device work rather than
 * keeping an old pointer's contents. aic_model_set_input takes host data on both devices. */
AIC_API aic_status aic_model_set_device(aic_model_t *m, aic_device_kind kind, int gpu, bool tf32);
AIC_API aic_device_kind aic_model_device(const aic_model_t *m);
/* Wait until the device has finished the model's queued work (for timing); reports a kernel's
 * failure. A no-op on the CPU. */
AIC_API aic_status aic_model_sync(aic_model_t *m);

/* ---- running --------------------------------------------------------------------------------- */

typedef struct {
    int n;              /* samples in this batch, 0 <= n <= max_batch */
    bool training;      /* batch statistics and dropout on */
    uint64_t step;      /* global step: with row_offset it places this batch for the RNG */
    int64_t row_offset; /* position of this rank's first row in the global batch */
} aic_batch_info;

/* Copy n rows into an input (float data for aic_input, int32 for aic_labels and aic_int_input: on a GPU
 * model the int values are checked here by the ops that read them, on the CPU at each forward). */
AIC_API aic_status aic_model_set_input(aic_model_t *m, aic_value v, const void *data, int n);
/* Run the forward pass; *loss (may be NULL) receives the mean loss over the batch (0 when n == 0). */
AIC_API aic_status aic_model_forward(aic_model_t *m, const aic_batch_info *b, float *loss);
/* Run the backward pass of the last forward. The loss gradient is seeded with loss_scale, so
 * loss_scale = n_local / n_global gives gradients of the global-batch mean when summed over ranks. */
AIC_API aic_status aic_model_backward(aic_model_t *m, float loss_scale);
AIC_API aic_status aic_model_zero_grad(aic_model_t *m);
/* The output value of the last forward as a tensor view (N x ...); rows beyond n are stale. */
AIC_API aic_status aic_model_output(aic_model_t *m, aic_tensor *out);
/* View of any value's activations (after forward) or gradient (after backward). The view's dtype is
 * the value's: AIC_I32 for an int value (an input of aic_int_input, aic_argmax's output), whose data
 * then holds int32. An int value has no gradient: aic_model_value_grad refuses it saying so. */
AIC_API aic_status aic_model_value(aic_model_t *m, aic_value v, aic_tensor *out);
AIC_API aic_status aic_model_value_grad(aic_model_t *m, aic_value v, aic_tensor *out);

/* ---- parameters ------------------------------------------------------------------------------ */

/* Trainable parameters in arena order. */
AIC_API int aic_model_param_count(const aic_model_t *m);
AIC_API aic_status aic_model_param(aic_model_t *m, int i, aic_tensor *param, aic_tensor *grad);
AIC_API aic_status aic_model_find_param(aic_model_t *m, const char *name, aic_tensor *param);
/* Fill parameter `name` with N(0, std^2) draws from `seed`: the draws aic_model_compile makes for a
 * normally initialized parameter (aic_embedding's table at std 1), the same on every machine. */
AIC_API aic_status aic_model_init_normal(aic_model_t *m, const char *name, float std, uint64_t seed);
/* Non-trainable state saved with the model (BatchNorm running statistics). */
AIC_API int aic_model_buffer_count(const aic_model_t *m);
AIC_API aic_status aic_model_buffer(aic_model_t *m, int i, aic_tensor *buf);
/* The flat arenas: params and grads have aic_model_num_params() floats, buffers
 * aic_model_num_buffers() floats. */
AIC_API size_t aic_model_num_params(const aic_model_t *m);
AIC_API size_t aic_model_num_buffers(const aic_model_t *m);
AIC_API float *aic_model_params(aic_model_t *m);
AIC_API float *aic_model_grads(aic_model_t *m);
AIC_API float *aic_model_buffers(aic_model_t *m);

/* SHA-256 of the architecture (ops, attributes, parameter names and shapes): two models with the
 * same hash can exchange checkpoints. */
AIC_API aic_status aic_model_arch_hash(const aic_model_t *m, uint8_t out[32]);
/* SHA-256 of the parameter and buffer arenas' bytes. */
AIC_API aic_status aic_model_params_hash(const aic_model_t *m, uint8_t out[32]);
/* One line per op with output shapes and parameter counts, into buf (truncated to size). */
AIC_API aic_status aic_model_summary(const aic_model_t *m, char *buf, size_t size);
/* Floating-point operations of one training sample's forward pass (multiply-add counts 2). */
AIC_API double aic_model_flops_per_sample(const aic_model_t *m);

#ifdef __cplusplus
}
#endif
#endif
