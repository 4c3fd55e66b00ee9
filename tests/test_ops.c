// SPDX-License-Identifier: Apache-2.0
/* One harness for every op (ggml's test-backend-ops): each op kind contributes cases (shapes,
 * attributes, edge cases) to CASES below, and every case goes through the same checks, all on one-op
 * models built with the public builders.
 *
 * The test model of a case: each float input x_k goes through an identity "lead-in" (flatten, dense
 * with W = I, reshape: h_k == x_k bit for bit, and h_k gets a gradient, which an input does not),
 * then the op y = op(h_0, ...). A loss op ends the model there. Any other op's output is flattened and
 * concatenated with the flattened h_k into a sink s, and the loss is mse(s, target): h_k then receives
 * the sink's share of its gradient before the op's backward runs, so an op that overwrote its input
 * gradient instead of adding to it fails (a), which takes that share, known exactly, out of both sides
 * before comparing. An int output (argmax's) stays out of the sink, which then holds the h_k alone.
 * A case with a reference (ref) must match it bit for bit; an op without a backward (argmax, hardmax)
 * must leave each dx_k exactly the sink's share, and an int output must refuse a gradient.
 *
 *  (a) Finite differences (CPU): the probe P = sum(g * s), g the gradient backward gave s (for a loss
 *      op P = the loss), is summed in double; its central differences (step EPS) on every input and
 *      every parameter of the op (at most MAX_FD elements of each, evenly spaced) against backward's
 *      gradients, error |a - n| / max(|a|, |n|, 1% of the largest |n|) within the case's tolerance.
 *      Input elements at a kink (relu at 0, clip at its bounds) are left out of the differences:
 *      cases place values exactly there for the other checks, and push the rest 3 EPS away. Also: a
 *      second forward is bitwise the first, a second backward without zeroing doubles the parameter
 *      gradients (1e-6), and the same op fed straight from the inputs (its input gradient NULL) gives
 *      bitwise the same parameter gradients.
 *  (b) Alternative CPU paths (ALT_PATHS: conv2d on oneDNN or on the im2col reference): core/op_conv2d.c
 *      reads the switch once per process, so a child process runs the cases with the switch flipped;
 *      outputs, loss, running statistics and gradients agree within 1e-5 of each tensor's largest
 *      magnitude, and the fast path is checked to accept the case's shape.
 *  (c) CUDA (builds with AICON_HAVE_CUDA and a visible GPU): the same model on the GPU, TF32 off,
 *      against the CPU, training step and evaluation, within 1e-5 of each tensor's largest magnitude.
 *      Without a GPU the run prints "skipped: no GPU (reason)" once and goes on.
 *  (d) ONNX: the op alone (inputs -> op, evaluation mode) exported with aic_onnx_export, imported with
 *      aic_onnx_import and run on the same inputs: outputs equal within 1e-6 of their largest
 *      magnitude (bitwise, in practice); a loss op's output is its loss. mse has no ONNX form and says
 *      so. An int input (a loss's labels, an embedding's ids) is the input "labels".
 *  (e) For onnxruntime: each exported model, its inputs and aicon's output go to DIR, listed in
 *      DIR/manifest.tsv, which tests/ops/onnxruntime.sh runs through onnxruntime-node.
 * Every op kind but input and labels must have a case: a kind without one fails the run.
 *
 * Usage: test_ops DIR
 *        test_ops --alt-path K OUT   (the child of (b): ALT_PATHS[K]'s cases, results to OUT) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aicon/aicon.h"
#include "aicon/onnx.h"
#include "core/graph.h"
#include "layers/layers.h"
#include "tests/test_util.h"

enum { MAX_IN = 3, MAX_BATCH = 8, MAX_FD = 200 };
static const int BATCH = 3;
/* Central-difference step: inputs are O(1), and non-smooth ops keep their kinks farther away. */
static const float EPS = 1e-2f;
static const double TOL_BACKENDS = 1e-5; /* (b), (c): of each tensor's largest magnitude */
static const double TOL_ONNX = 1e-6;     /* (d) */
/* Finite-difference tolerances: piecewise-linear ops, and ops whose curvature the step feels. */
#define LINEAR .tol = 3e-3
#define CURVED .tol = 1e-2

/* ---- cases ------------------------------------------------------------------------------------ */

typedef struct {
    int ndim;
    int64_t shape[AIC_MAX_DIMS - 1]; /* per sample */
    float lo, hi;                    /* uniform values in [lo, hi); both 0: [-1, 1) */
    bool distinct;                   /* values 0.05 apart in random order: no near-ties (maxpool) */
    bool no_grad;                    /* fed to the op without a lead-in: its gradient is NULL */
} input_spec;

typedef struct op_case op_case;
/* Builds the op under test, named "op", from the values it reads; *out its output (a loss's value). */
typedef aic_status (*build_fn)(aic_model_t *m, const op_case *c, const aic_value *x, aic_value labels, aic_value *out);

struct op_case {
    aic_op_kind kind;
    const char *name;
    build_fn build;
    int n_in;
    input_spec in[MAX_IN];
    double tol; /* (a) */
    int batch;  /* 0: BATCH */
    /* attributes (each builder reads its own) */
    int64_t units;          /* dense */
    bool no_bias;           /* dense; layernorm: no affine part */
    aic_conv2d_opts conv;   /* conv2d */
    aic_conv_transpose2d_opts convt; /* conv_transpose2d */
    aic_resize2d_opts resize;        /* resize2d */
    aic_rnn_opts rnn;                /* lstm, gru */
    aic_pool2d_opts pool;   /* maxpool2d, avgpool2d */
    aic_conv3d_opts conv3d; /* conv3d */
    aic_pool3d_opts pool3d; /* maxpool3d, avgpool3d */
    float a, b;             /* unary op attributes; clip lo, hi; batchnorm momentum, eps; dropout p; layernorm b: eps */
    int axis;               /* concat, softmax, log_softmax, layernorm, gather; losses: the class axis */
    int perm[AIC_MAX_DIMS]; /* transpose */
    aic_binary_op binop;
    bool constant, const_left; /* binary: x (op) c or c (op) x, c of shape `shape` */
    int sndim;
    int64_t shape[AIC_MAX_DIMS - 1]; /* reshape target; binary constant */
    bool twice;                      /* add, concat, binary: the one input on both sides */
    bool causal;                     /* attention */
    bool labels;                     /* an int input "labels": a loss's labels, an embedding's ids */
    int lndim;                       /* its per-sample shape (0 dims: one per sample) */
    int64_t lshape[AIC_MAX_DIMS - 1];
    int classes;                     /* its values in [0, classes) (0: the size of input 0's class axis) */
    bool has_ignore;                 /* every 4th label is ignore_index instead */
    int ignore_index;
    aic_loss_reduction reduction;    /* losses */
    bool class_weights;              /* losses: the op's weight buffer (which the harness fills) */
    int n_idx;                       /* gather: idx[], one as a scalar with scalar_index */
    int64_t idx[AIC_GATHER_MAX_INDICES];
    bool scalar_index;
    const char *reduce;        /* reduce: the reduction's name */
    int n_axes;                /* reduce: axes[] (0: every per-sample axis) */
    int axes[AIC_MAX_DIMS];
    bool keepdims;
    bool exclusive, reverse;   /* cumsum (on axis) */
    int64_t starts[AIC_MAX_DIMS], ends[AIC_MAX_DIMS], steps[AIC_MAX_DIMS]; /* slice, on axes[] (steps[0] 0: NULL) */
    int64_t pads_begin[AIC_MAX_DIMS], pads_end[AIC_MAX_DIMS];              /* pad, with a: the value */
    aic_pad_mode pad_mode;
    int n_kinks;
    float kink[2];      /* input 0's values where the op is not differentiable */
    bool at_kinks;      /* every 5th element of input 0 exactly on a kink */
    const char *no_export; /* why the op has no ONNX form, or NULL */
    /* Where the op's inputs hold the batch: moved by a transpose with pre_perm (pre_perm[1] != 0), or
     * with their first per-sample axis folded into it (pre_fold: N x H x ... -> (H N) x ...). An
     * all-zero pre_perm is none. */
    int pre_perm[AIC_MAX_DIMS];
    bool pre_fold;
    bool arg_min, select_last; /* argmax: ArgMin, the last of equal extremes */
    /* An exact reference of the output (as floats) from the op's input x as the model holds it (its
     * full shape), or NULL; it must agree bit for bit. */
    void (*ref)(const op_case *c, const aic_tensor *x, float *out);
};

static aic_status b_dense(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_dense(m, "op", x[0], c->units, !c->no_bias, o);
}
static aic_status b_conv(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_conv2d(m, "op", x[0], &c->conv, o);
}
static aic_status b_convt(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_conv_transpose2d(m, "op", x[0], &c->convt, o);
}
static aic_status b_resize(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_resize2d(m, "op", x[0], &c->resize, o);
}
static aic_status b_rnn(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return (c->kind == AIC_OP_LSTM ? aic_lstm : aic_gru)(m, "op", x[0], &c->rnn, o);
}
static aic_status b_maxpool(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_maxpool2d(m, "op", x[0], &c->pool, o);
}
static aic_status b_avgpool(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_avgpool2d(m, "op", x[0], &c->pool, o);
}
static aic_status b_conv3d(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_conv3d(m, "op", x[0], &c->conv3d, o);
}
static aic_status b_pool3d(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return (c->kind == AIC_OP_MAXPOOL3D ? aic_maxpool3d : aic_avgpool3d)(m, "op", x[0], &c->pool3d, o);
}
static aic_status b_gap(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_global_avgpool(m, "op", x[0], o);
}
/* Every unary op (layers/unary_ops.def) by its kind's name; its attributes are a, b. */
static aic_status b_unary(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_unary(m, aic_op_name(c->kind), "op", x[0], (const float[]){c->a, c->b}, o);
}
static aic_status b_clip(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_clip(m, "op", x[0], c->a, c->b, o);
}
static aic_status b_bn(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_batchnorm(m, "op", x[0], c->a, c->b, o);
}
static aic_status b_ln(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_layernorm(m, "op", x[0], c->axis, c->b, !c->no_bias, o);
}
static aic_status b_reduce(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_reduce(m, c->reduce, "op", x[0], c->n_axes, c->axes, c->keepdims, o);
}
static aic_status b_slice(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_slice(m, "op", x[0], c->n_axes, c->axes, c->starts, c->ends, c->steps[0] ? c->steps : NULL, o);
}
static aic_status b_pad(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_pad(m, "op", x[0], c->pads_begin, c->pads_end, c->pad_mode, c->a, o);
}
static aic_status b_dropout(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_dropout(m, "op", x[0], c->a, o);
}
static aic_status b_flatten(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_flatten(m, "op", x[0], o);
}
static aic_status b_reshape(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_reshape(m, "op", x[0], c->sndim, c->shape, o);
}
/* a parameter of shape c->shape for every sample; x goes unread (the harness needs an input) */
static aic_status b_expand(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_expand_param(m, "op", c->sndim, c->shape, o);
}
static aic_status b_reshape_full(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_reshape_full(m, "op", x[0], c->sndim, c->shape, o);
}
/* dense on x reshaped (c->shape: a full target), as PyTorch's attention merges T x N x E to (T N) x E */
static aic_status b_dense_reshaped(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    aic_value r;
    AIC_TRY(aic_reshape_full(m, "merged", x[0], c->sndim, c->shape, &r));
    return aic_dense(m, "op", r, c->units, !c->no_bias, o);
}
/* dense tied to an embedding's table (units: dim, classes: vocab): (x + emb(ids)) emb.weight^T, so that
 * both ops' gradients add into the one table */
static aic_status b_dense_tied(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    aic_value e, s;
    AIC_TRY(aic_embedding(m, "op.emb", l, c->classes, c->units, &e)); /* "op.": the harness fills its table */
    AIC_TRY(aic_add(m, "sum", x[0], e, &s));
    return aic_dense_tied(m, "op", s, "op.emb.weight", !c->no_bias, o);
}
static aic_status b_add(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_add(m, "op", x[0], x[c->twice ? 0 : 1], o);
}
static aic_status b_concat(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    const aic_value twice[2] = {x[0], x[0]};
    return c->twice ? aic_concat(m, "op", 2, twice, c->axis, o) : aic_concat(m, "op", c->n_in, x, c->axis, o);
}
/* The losses through the builders of the default options where the case has those. */
static aic_xent_opts xent_opts(const op_case *c) {
    return (aic_xent_opts){.class_axis = c->axis, .has_ignore = c->has_ignore, .ignore_index = c->ignore_index,
                           .reduction = c->reduction, .class_weights = c->class_weights};
}
static bool xent_defaults(const op_case *c) {
    return c->axis == 0 && !c->has_ignore && c->reduction == AIC_LOSS_MEAN && !c->class_weights;
}
static aic_status b_xent(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    const aic_xent_opts opts = xent_opts(c);
    if (xent_defaults(c))
        return aic_softmax_cross_entropy(m, "op", x[0], l, o);
    return aic_cross_entropy(m, "op", x[0], l, &opts, o);
}
static aic_status b_nll(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    const aic_xent_opts opts = xent_opts(c);
    if (xent_defaults(c))
        return aic_nll_loss(m, "op", x[0], l, o);
    return aic_nll(m, "op", x[0], l, &opts, o);
}
/* units: the embedding's dim, classes its vocabulary */
static aic_status b_embedding(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_embedding(m, "op", l, c->classes, c->units, o);
}
static aic_status b_gather(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_gather(m, "op", x[0], c->axis, c->n_idx, c->idx, c->scalar_index, o);
}
/* the indices are the labels input (values in [0, the axis's size)); scatter: x[1] the updates, reduce
 * the reduction (NULL: none) */
static aic_status b_gather_elements(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_gather_elements(m, "op", x[0], l, c->axis, o);
}
static aic_status b_scatter_elements(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l,
                                     aic_value *o) {
    return aic_scatter_elements(m, "op", x[0], l, x[1], c->axis, c->reduce, o);
}
/* float indices x[0] (the harness needs a float path to the loss: int ones go through the ONNX
 * conformance cases); units: the depth, a and b: off and on */
static aic_status b_one_hot(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_one_hot(m, "op", x[0], c->axis, c->units, c->a, c->b, o);
}
static aic_status b_mse(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_mse(m, "op", x[0], x[1], o);
}
static aic_status b_softmax(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_softmax(m, "op", x[0], c->axis, o);
}
static aic_status b_log_softmax(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_log_softmax(m, "op", x[0], c->axis, o);
}
static aic_status b_binary(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    if (c->constant)
        return aic_binary_const(m, "op", c->binop, x[0], c->sndim, c->shape, c->const_left, o);
    return aic_binary(m, "op", c->binop, x[0], x[c->twice ? 0 : 1], o);
}
static aic_status b_transpose(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_transpose(m, "op", x[0], c->perm, o);
}
/* a @ b, b = x[1] (twice: x[0]); with a perm, b goes through aic_transpose first (Q K^T). */
static aic_status b_matmul(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    aic_value b = x[c->twice ? 0 : 1];
    if (c->perm[1] != 0)
        AIC_TRY(aic_transpose(m, "transposed", b, c->perm, &b));
    return aic_matmul(m, "op", x[0], b, o);
}
/* q, k, v = x[0..2] (twice: x[0] for all three) */
static aic_status b_attention(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return c->twice ? aic_attention(m, "op", x[0], x[0], x[0], c->causal, c->a, o)
                    : aic_attention(m, "op", x[0], x[1], x[2], c->causal, c->a, o);
}
static aic_status b_cumsum(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_cumsum(m, "op", x[0], c->axis, c->exclusive, c->reverse, o);
}
static aic_status b_argmax(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_argmax(m, "op", x[0], c->axis, c->arg_min, c->select_last, c->keepdims, o);
}
static aic_status b_hardmax(aic_model_t *m, const op_case *c, const aic_value *x, aic_value l, aic_value *o) {
    return aic_hardmax(m, "op", x[0], c->axis, o);
}
/* argmax's index or hardmax's one-hot along c->axis of x's full shape, in index order */
static void ref_argmax(const op_case *c, const aic_tensor *x, float *out) {
    const int axis = c->axis < 0 ? c->axis + x->ndim : c->axis;
    const int64_t K = x->shape[axis];
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < x->ndim; i++)
        if (i < axis)
            outer *= x->shape[i];
        else if (i > axis)
            inner *= x->shape[i];
    const float *v = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t best = 0;
            for (int64_t k = 1; k < K; k++) {
                const float a = v[(o * K + k) * inner + i], b = v[(o * K + best) * inner + i];
                if ((c->arg_min ? a < b : a > b) || (a == b && c->select_last))
                    best = k;
            }
            if (c->kind == AIC_OP_ARGMAX)
                out[o * inner + i] = (float)best;
            else
                for (int64_t k = 0; k < K; k++)
                    out[(o * K + k) * inner + i] = k == best ? 1.0f : 0.0f;
        }
}

#define SHAPE(...) .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}
#define IN(...) {SHAPE(__VA_ARGS__)}
#define IN_RANGE(lo_, hi_, ...) {SHAPE(__VA_ARGS__), .lo = lo_, .hi = hi_}
#define IN_DISTINCT(...) {SHAPE(__VA_ARGS__), .distinct = true}
#define ATTR_SHAPE(...) .sndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}
#define CONV(...) .conv = {__VA_ARGS__}
#define POOL(...) .pool = {__VA_ARGS__}
#define CONV3D(...) .conv3d = {__VA_ARGS__}
#define POOL3D(...) .pool3d = {__VA_ARGS__}
#define NO_LOSS_EXPORT .no_export = "ONNX has no mean squared error op"
#define LABELS(...) .labels = true, .lndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                    .lshape = {__VA_ARGS__}

/* The six broadcasting cases of one binary op; d_lo, d_hi: the range of a divisor (away from 0 for
 * div). A constant starts as the identity; the harness fills every buffer with values in [0.5, 1.5). */
#define BINARY_CASES(op, opname, d_lo, d_hi)                                                                \
    {AIC_OP_BINARY, opname " broadcast middle dim", b_binary, 2, {IN(2, 3, 4), IN_RANGE(d_lo, d_hi, 2, 1, 4)}, \
     CURVED, .binop = op},                                                                                  \
    {AIC_OP_BINARY, opname " scalar right", b_binary, 2, {IN(2, 3, 4), IN_RANGE(d_lo, d_hi, 1, 1, 1)}, CURVED, \
     .binop = op},                                                                                          \
    {AIC_OP_BINARY, opname " scalar left", b_binary, 2, {IN(1, 1, 1), IN_RANGE(d_lo, d_hi, 2, 3, 4)}, CURVED,  \
     .binop = op},                                                                                          \
    {AIC_OP_BINARY, opname " both sides broadcast", b_binary, 2,                                            \
     {IN(2, 1, 4), IN_RANGE(d_lo, d_hi, 1, 3, 1)}, CURVED, .binop = op},                                    \
    {AIC_OP_BINARY, opname " constant right 3 x 1", b_binary, 1, {IN(2, 3, 4)}, CURVED, .binop = op,           \
     .constant = true, ATTR_SHAPE(3, 1)},                                                                   \
    {AIC_OP_BINARY, opname " constant left 4", b_binary, 1, {IN_RANGE(d_lo, d_hi, 2, 3, 4)}, CURVED,          \
     .binop = op, .constant = true, .const_left = true, ATTR_SHAPE(4)}

static const op_case CASES[] = {
    {AIC_OP_DENSE, "5 -> 4", b_dense, 1, {IN(5)}, LINEAR, .units = 4},
    {AIC_OP_DENSE, "7 -> 3 no bias", b_dense, 1, {IN(7)}, LINEAR, .units = 3, .no_bias = true},

    {AIC_OP_CONV2D, "k3 s2 p1", b_conv, 1, {IN(3, 7, 7)}, LINEAR,
     CONV(.out_channels = 4, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1})},
    {AIC_OP_CONV2D, "k3x2 p2x1 d2 g2", b_conv, 1, {IN(4, 8, 7)}, LINEAR,
     CONV(.out_channels = 6, .kernel = {3, 2}, .pad = {2, 1}, .dilation = {2, 2}, .groups = 2)},
    {AIC_OP_CONV2D, "k3 s2x1 p2x1 d2x1 g2", b_conv, 1, {IN(4, 9, 8)}, LINEAR,
     CONV(.out_channels = 4, .kernel = {3, 3}, .stride = {2, 1}, .pad = {2, 1}, .dilation = {2, 1}, .groups = 2)},
    {AIC_OP_CONV2D, "k5 d3 p6 g4", b_conv, 1, {IN(8, 11, 10)}, LINEAR,
     CONV(.out_channels = 8, .kernel = {5, 5}, .pad = {6, 6}, .dilation = {3, 3}, .groups = 4)},
    {AIC_OP_CONV2D, "depthwise k3 s2 p1", b_conv, 1, {IN(6, 10, 10)}, LINEAR,
     CONV(.out_channels = 6, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .groups = 6)},
    {AIC_OP_CONV2D, "1x1", b_conv, 1, {IN(4, 5, 6)}, LINEAR, CONV(.out_channels = 6, .kernel = {1, 1})},
    {AIC_OP_CONV2D, "1x1 g2 no bias", b_conv, 1, {IN(4, 5, 6)}, LINEAR,
     CONV(.out_channels = 4, .kernel = {1, 1}, .groups = 2, .no_bias = true)},
    {AIC_OP_CONV2D, "1x1 s2", b_conv, 1, {IN(4, 5, 5)}, LINEAR,
     CONV(.out_channels = 3, .kernel = {1, 1}, .stride = {2, 2})},
    {AIC_OP_CONV2D, "1x1 s2 p1", b_conv, 1, {IN(4, 6, 6)}, LINEAR,
     CONV(.out_channels = 3, .kernel = {1, 1}, .stride = {2, 2}, .pad = {1, 1})},
    {AIC_OP_CONV2D, "k5 p2 (same size)", b_conv, 1, {IN(3, 8, 7)}, LINEAR,
     CONV(.out_channels = 4, .kernel = {5, 5}, .pad = {2, 2})},
    {AIC_OP_CONV2D, "k3 p1 16 -> 32 channels (oneDNN's blocked layouts)", b_conv, 1, {IN(16, 7, 6)}, LINEAR,
     CONV(.out_channels = 32, .kernel = {3, 3}, .pad = {1, 1})},
    /* a lead-in for 3 x 32 x 32 would hold 3072^2 weights: the input gradient is left to the others */
    {AIC_OP_CONV2D, "k7 s2 p3 (ResNet stem), input without a gradient", b_conv, 1,
     {{SHAPE(3, 32, 32), .no_grad = true}}, LINEAR,
     CONV(.out_channels = 16, .kernel = {7, 7}, .stride = {2, 2}, .pad = {3, 3})},

    {AIC_OP_MAXPOOL2D, "k3 s2 p1", b_maxpool, 1, {IN_DISTINCT(2, 7, 7)}, LINEAR,
     POOL(.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1})},
    {AIC_OP_MAXPOOL2D, "k3 s2 p1 ceil", b_maxpool, 1, {IN_DISTINCT(2, 6, 8)}, LINEAR,
     POOL(.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .ceil_mode = true)},
    {AIC_OP_MAXPOOL2D, "k2x3 s1x2", b_maxpool, 1, {IN_DISTINCT(3, 5, 7)}, LINEAR,
     POOL(.kernel = {2, 3}, .stride = {1, 2})},
    {AIC_OP_MAXPOOL2D, "k2 s2", b_maxpool, 1, {IN_DISTINCT(3, 6, 8)}, LINEAR, POOL(.kernel = {2, 2})},
    {AIC_OP_MAXPOOL2D, "k2 s2 odd size", b_maxpool, 1, {IN_DISTINCT(2, 7, 9)}, LINEAR, POOL(.kernel = {2, 2})},
    {AIC_OP_MAXPOOL2D, "k2 s2 ceil odd size", b_maxpool, 1, {IN_DISTINCT(2, 7, 9)}, LINEAR,
     POOL(.kernel = {2, 2}, .ceil_mode = true)},
    {AIC_OP_MAXPOOL2D, "k2 s2 output width 7", b_maxpool, 1, {IN_DISTINCT(2, 6, 14)}, LINEAR,
     POOL(.kernel = {2, 2})},

    {AIC_OP_AVGPOOL2D, "k3 s2 p1 ceil", b_avgpool, 1, {IN(2, 6, 8)}, LINEAR,
     POOL(.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .ceil_mode = true)},
    {AIC_OP_AVGPOOL2D, "k3 s2 p1 ceil count_include_pad", b_avgpool, 1, {IN(2, 6, 8)}, LINEAR,
     POOL(.kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .ceil_mode = true, .count_include_pad = true)},
    {AIC_OP_AVGPOOL2D, "k3x2 s1x2 p1 count_include_pad", b_avgpool, 1, {IN(3, 5, 8)}, LINEAR,
     POOL(.kernel = {3, 2}, .stride = {1, 2}, .pad = {1, 1}, .count_include_pad = true)},
    {AIC_OP_AVGPOOL2D, "k2 s2", b_avgpool, 1, {IN(2, 6, 8)}, LINEAR, POOL(.kernel = {2, 2})},

    {AIC_OP_GLOBAL_AVGPOOL, "3 x 4 x 5", b_gap, 1, {IN(3, 4, 5)}, LINEAR},

    {AIC_OP_RELU, "values at 0", b_unary, 1, {IN(3, 5)}, LINEAR, .n_kinks = 1, .kink = {0}, .at_kinks = true},
    {AIC_OP_SIGMOID, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_TANH, "3 x 5", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED},
    {AIC_OP_LEAKY_RELU, "alpha 0.1, values at 0", b_unary, 1, {IN(3, 5)}, LINEAR, .a = 0.1f, .n_kinks = 1,
     .kink = {0}, .at_kinks = true},
    {AIC_OP_LEAKY_RELU, "alpha -0.5", b_unary, 1, {IN(3, 5)}, LINEAR, .a = -0.5f, .n_kinks = 1, .kink = {0}},
    {AIC_OP_LEAKY_RELU, "alpha 0.01, N x C x H x W", b_unary, 1, {IN(2, 3, 4)}, LINEAR, .a = 0.01f, .n_kinks = 1,
     .kink = {0}},
    {AIC_OP_HARD_SIGMOID, "alpha 0.2 beta 0.5, values at the bends", b_unary, 1, {IN_RANGE(-4, 4, 3, 5)}, LINEAR,
     .a = 0.2f, .b = 0.5f, .n_kinks = 2, .kink = {-2.5f, 2.5f}, .at_kinks = true},
    {AIC_OP_HARD_SIGMOID, "alpha 1/6 (PyTorch)", b_unary, 1, {IN_RANGE(-5, 5, 2, 3, 4)}, LINEAR, .a = 1.0f / 6,
     .b = 0.5f, .n_kinks = 2, .kink = {-3.0f, 3.0f}},
    {AIC_OP_EXP, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_LOG, "positive inputs", b_unary, 1, {IN_RANGE(0.5f, 2, 3, 5)}, CURVED},
    {AIC_OP_NEG, "3 x 5", b_unary, 1, {IN(3, 5)}, LINEAR},
    {AIC_OP_SQRT, "positive inputs", b_unary, 1, {IN_RANGE(0.25f, 4, 3, 5)}, CURVED},
    {AIC_OP_RECIPROCAL, "positive inputs", b_unary, 1, {IN_RANGE(0.5f, 2, 3, 5)}, CURVED},
    {AIC_OP_RECIPROCAL, "negative inputs", b_unary, 1, {IN_RANGE(-2, -0.5f, 2, 3, 4)}, CURVED},
    /* a: the exponent; 2 and 3 on negative values too, as torch.pow */
    {AIC_OP_POW, "exponent 2", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED, .a = 2.0f},
    {AIC_OP_POW, "exponent 3", b_unary, 1, {IN_RANGE(-2, 2, 2, 3, 4)}, CURVED, .a = 3.0f},
    {AIC_OP_POW, "exponent 0.5", b_unary, 1, {IN_RANGE(0.5f, 2, 3, 5)}, CURVED, .a = 0.5f},
    {AIC_OP_POW, "exponent -1", b_unary, 1, {IN_RANGE(0.5f, 2, 3, 5)}, CURVED, .a = -1.0f},
    {AIC_OP_POW, "exponent -1, negative values", b_unary, 1, {IN_RANGE(-2, -0.5f, 3, 5)}, CURVED, .a = -1.0f},
    {AIC_OP_POW, "exponent 1.5", b_unary, 1, {IN_RANGE(0.5f, 2, 3, 5)}, CURVED, .a = 1.5f},
    {AIC_OP_ABS, "values at 0", b_unary, 1, {IN(3, 5)}, LINEAR, .n_kinks = 1, .kink = {0}, .at_kinks = true},
    {AIC_OP_ERF, "3 x 5", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED},
    {AIC_OP_ELU, "alpha 1, values at 0", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED, .a = 1.0f, .n_kinks = 1,
     .kink = {0}, .at_kinks = true},
    {AIC_OP_ELU, "alpha 0.5", b_unary, 1, {IN_RANGE(-3, 3, 2, 3, 4)}, CURVED, .a = 0.5f, .n_kinks = 1,
     .kink = {0}},
    {AIC_OP_SELU, "PyTorch's alpha and gamma, values at 0", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED,
     .a = 1.67326319217681884765625f, .b = 1.05070102214813232421875f, .n_kinks = 1, .kink = {0},
     .at_kinks = true},
    {AIC_OP_SELU, "alpha 2 gamma 0.5", b_unary, 1, {IN_RANGE(-3, 3, 2, 3, 4)}, CURVED, .a = 2.0f, .b = 0.5f,
     .n_kinks = 1, .kink = {0}},
    {AIC_OP_SOFTPLUS, "3 x 5", b_unary, 1, {IN_RANGE(-4, 4, 3, 5)}, CURVED},
    {AIC_OP_SOFTPLUS, "|x| up to 40 (past PyTorch's threshold 20)", b_unary, 1, {IN_RANGE(-40, 40, 2, 3, 4)},
     CURVED},
    {AIC_OP_GELU, "3 x 5 over [-4, 4]", b_unary, 1, {IN_RANGE(-4, 4, 3, 5)}, CURVED},
    {AIC_OP_GELU_TANH, "3 x 5 over [-4, 4]", b_unary, 1, {IN_RANGE(-4, 4, 3, 5)}, CURVED},
    {AIC_OP_HARD_SWISH, "values at the bends", b_unary, 1, {IN_RANGE(-5, 5, 3, 5)}, CURVED, .n_kinks = 2,
     .kink = {-3.0f, 3.0f}, .at_kinks = true},
    {AIC_OP_CLIP, "[-0.4, 0.5], values at the bounds", b_clip, 1, {IN(3, 5)}, LINEAR, .a = -0.4f, .b = 0.5f,
     .n_kinks = 2, .kink = {-0.4f, 0.5f}, .at_kinks = true},
    {AIC_OP_CLIP, "[0, 6] (ReLU6)", b_clip, 1, {IN_RANGE(-2, 8, 3, 5)}, LINEAR, .a = 0, .b = 6, .n_kinks = 2,
     .kink = {0, 6}, .at_kinks = true},
    {AIC_OP_CLIP, "[0, inf)", b_clip, 1, {IN(3, 5)}, LINEAR, .a = 0, .b = INFINITY, .n_kinks = 1, .kink = {0}},
    {AIC_OP_CLIP, "(-inf, 0.3]", b_clip, 1, {IN(3, 5)}, LINEAR, .a = -INFINITY, .b = 0.3f, .n_kinks = 1,
     .kink = {0.3f}},

    {AIC_OP_BATCHNORM, "N x C x S", b_bn, 1, {IN_RANGE(-1, 2, 4, 3, 5)}, CURVED, .a = 0.1f, .b = 1e-5f},
    /* 8 values per channel: with 3, one value's step of EPS moves the statistics far enough that the
     * differences' truncation error nears 1e-2 */
    {AIC_OP_BATCHNORM, "N x C, momentum 0.3, eps 1e-3", b_bn, 1, {IN_RANGE(-1, 2, 6)}, CURVED, .batch = 8,
     .a = 0.3f, .b = 1e-3f},
    {AIC_OP_BATCHNORM, "N x C, batch 1 (one value per channel)", b_bn, 1, {IN(6)}, CURVED, .batch = 1, .a = 0.1f,
     .b = 1e-5f},

    /* b: eps; no_bias: no affine part (no weight, no bias) */
    {AIC_OP_LAYERNORM, "N x 6, last axis", b_ln, 1, {IN_RANGE(-1, 2, 6)}, CURVED, .axis = 1, .b = 1e-5f},
    {AIC_OP_LAYERNORM, "N x 4 x 5, last axis, eps 1e-3", b_ln, 1, {IN(4, 5)}, CURVED, .axis = 2, .b = 1e-3f},
    {AIC_OP_LAYERNORM, "N x 3 x 4, over both axes", b_ln, 1, {IN_RANGE(-2, 1, 3, 4)}, CURVED, .axis = 1,
     .b = 1e-5f},
    {AIC_OP_LAYERNORM, "N x 2 x 3 x 4, last two axes, no affine", b_ln, 1, {IN(2, 3, 4)}, CURVED, .axis = 2,
     .b = 1e-5f, .no_bias = true},
    {AIC_OP_LAYERNORM, "N x 8, no affine, eps 0.1", b_ln, 1, {IN(8)}, CURVED, .axis = 1, .b = 0.1f,
     .no_bias = true},

#define AXES(...) .n_axes = sizeof((int[]){__VA_ARGS__}) / sizeof(int), .axes = {__VA_ARGS__}
    /* axes counted with the batch; max and min on values 0.05 apart (no near-ties), or with every 5th
     * value on one extreme (ties: the first takes the gradient; the tied values, at the "kink", are
     * left out of the differences) */
    {AIC_OP_REDUCE, "sum, last axis, keepdims", b_reduce, 1, {IN(3, 4)}, LINEAR, .reduce = "sum", AXES(2),
     .keepdims = true},
    {AIC_OP_REDUCE, "sum, axes 1 and 3", b_reduce, 1, {IN(2, 3, 4)}, LINEAR, .reduce = "sum", AXES(1, 3)},
    {AIC_OP_REDUCE, "sum, all axes (empty list) to a scalar", b_reduce, 1, {IN(3, 4)}, LINEAR, .reduce = "sum"},
    {AIC_OP_REDUCE, "mean, axis -1, keepdims (LayerNorm's)", b_reduce, 1, {IN(4, 5)}, LINEAR, .reduce = "mean",
     AXES(-1), .keepdims = true},
    {AIC_OP_REDUCE, "mean, axes 1 and 2 of 3", b_reduce, 1, {IN(2, 3, 4)}, LINEAR, .reduce = "mean", AXES(1, 2)},
    {AIC_OP_REDUCE, "max, last axis", b_reduce, 1, {IN_DISTINCT(3, 4)}, LINEAR, .reduce = "max", AXES(2)},
    {AIC_OP_REDUCE, "max, axes 3 and 1, keepdims", b_reduce, 1, {IN_DISTINCT(2, 3, 4)}, LINEAR, .reduce = "max",
     AXES(3, 1), .keepdims = true},
    {AIC_OP_REDUCE, "max with ties", b_reduce, 1, {IN_DISTINCT(2, 10)}, LINEAR, .reduce = "max", AXES(2),
     .n_kinks = 1, .kink = {2.0f}, .at_kinks = true},
    {AIC_OP_REDUCE, "min, axis 2 of 3, keepdims", b_reduce, 1, {IN_DISTINCT(2, 3, 4)}, LINEAR, .reduce = "min",
     AXES(2), .keepdims = true},
    {AIC_OP_REDUCE, "min with ties, first axis", b_reduce, 1, {IN_DISTINCT(10, 2)}, LINEAR, .reduce = "min",
     AXES(1), .n_kinks = 1, .kink = {-2.0f}, .at_kinks = true},
    {AIC_OP_REDUCE, "l2, last axis", b_reduce, 1, {IN(3, 4)}, CURVED, .reduce = "l2", AXES(2)},
    {AIC_OP_REDUCE, "l2, all axes, keepdims", b_reduce, 1, {IN(2, 3, 4)}, CURVED, .reduce = "l2", .keepdims = true},
    {AIC_OP_REDUCE, "sum_square, axes 2 and 3", b_reduce, 1, {IN(2, 3, 4)}, CURVED, .reduce = "sum_square",
     AXES(2, 3)},
    {AIC_OP_REDUCE, "log_sum_exp, last axis, keepdims", b_reduce, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED,
     .reduce = "log_sum_exp", AXES(2), .keepdims = true},
    {AIC_OP_REDUCE, "log_sum_exp, axes 1 and 3", b_reduce, 1, {IN(2, 3, 4)}, CURVED, .reduce = "log_sum_exp",
     AXES(1, 3)},
    /* outputs near 90 carry 8e-6 of rounding, which central differences over 2 EPS amplify: a wider
     * tolerance there; the point of the case is that nothing overflows */
    {AIC_OP_REDUCE, "log_sum_exp of values 80..90 (exp overflows float)", b_reduce, 1, {IN_RANGE(80, 90, 6)},
     .tol = 5e-2, .reduce = "log_sum_exp", AXES(1)},
    /* l1's kink at 0 kept away by the input range; prod over few elements so it stays O(1) */
    {AIC_OP_REDUCE, "l1, last axis, keepdims", b_reduce, 1, {IN_RANGE(0.2f, 1.0f, 3, 4)}, LINEAR, .reduce = "l1",
     AXES(2), .keepdims = true},
    {AIC_OP_REDUCE, "l1 of signed values, axes 1 and 2", b_reduce, 1, {IN(2, 3)}, LINEAR, .reduce = "l1", AXES(1, 2),
     .n_kinks = 1, .kink = {0}},
    {AIC_OP_REDUCE, "log_sum of positive values, axis 1", b_reduce, 1, {IN_RANGE(0.5f, 2.0f, 3, 4)}, CURVED,
     .reduce = "log_sum", AXES(1)},
    {AIC_OP_REDUCE, "prod, last axis", b_reduce, 1, {IN_RANGE(0.5f, 1.5f, 3, 4)}, CURVED, .reduce = "prod", AXES(2)},
    {AIC_OP_REDUCE, "prod over 2 x 2, keepdims", b_reduce, 1, {IN(2, 2)}, CURVED, .reduce = "prod", AXES(1, 2),
     .keepdims = true},
    {AIC_OP_REDUCE, "prod with zeros (the others' product)", b_reduce, 1, {IN(5)}, CURVED, .reduce = "prod", AXES(1),
     .n_kinks = 1, .kink = {0}, .at_kinks = true},

    /* slice: positions past the axis clamp, negative ones count from its end; pad: reflect and edge
     * send several output gradients to one input position, in order */
    {AIC_OP_SLICE, "axis 2, 1:4", b_slice, 1, {IN(2, 5, 4)}, LINEAR, AXES(2), .starts = {1}, .ends = {4}},
    {AIC_OP_SLICE, "batch second: 3 x N x 6, axis 2, 1:5 (attention's q of qkv)", b_slice, 1, {IN(3, 6)}, LINEAR,
     AXES(2), .starts = {1}, .ends = {5}, .pre_perm = {1, 0, 2}},
    {AIC_OP_SLICE, "step 2, end past the axis", b_slice, 1, {IN(7, 3)}, LINEAR, AXES(1), .starts = {1},
     .ends = {1000}, .steps = {2}},
    {AIC_OP_SLICE, "negative steps on two axes (reversed, every other)", b_slice, 1, {IN(3, 6)}, LINEAR, AXES(1, 2),
     .starts = {-1, 5}, .ends = {INT64_MIN, 0}, .steps = {-1, -2}},
    {AIC_OP_SLICE, "negative axes and bounds", b_slice, 1, {IN(2, 3, 5)}, LINEAR, AXES(-1, -3), .starts = {-3, 1},
     .ends = {-1, 2}},
    {AIC_OP_SLICE, "step 3 backwards, batch 1", b_slice, 1, {IN(8, 2)}, LINEAR, .batch = 1, AXES(1),
     .starts = {6}, .ends = {-100}, .steps = {-3}},
    {AIC_OP_PAD, "constant 0.5", b_pad, 1, {IN(3, 4)}, LINEAR, .pads_begin = {0, 1, 2}, .pads_end = {0, 2, 1},
     .pad_mode = AIC_PAD_CONSTANT, .a = 0.5f},
    {AIC_OP_PAD, "constant, negative pads crop", b_pad, 1, {IN(4, 5)}, LINEAR, .pads_begin = {0, -1, 2},
     .pads_end = {0, 1, -2}, .pad_mode = AIC_PAD_CONSTANT},
    {AIC_OP_PAD, "reflect", b_pad, 1, {IN(2, 4, 5)}, LINEAR, .pads_begin = {0, 0, 2, 1}, .pads_end = {0, 1, 3, 4},
     .pad_mode = AIC_PAD_REFLECT},
    {AIC_OP_PAD, "edge", b_pad, 1, {IN(3, 4)}, LINEAR, .pads_begin = {0, 2, 3}, .pads_end = {0, 1, 4},
     .pad_mode = AIC_PAD_EDGE},
    {AIC_OP_PAD, "reflect 1-D, one side cropped", b_pad, 1, {IN(6)}, LINEAR, .pads_begin = {0, -1},
     .pads_end = {0, 3}, .pad_mode = AIC_PAD_REFLECT},
#undef AXES

    /* 35 values per sample: the dropout mask's four-value Philox blocks straddle samples */
    {AIC_OP_DROPOUT, "p 0.3", b_dropout, 1, {IN(5, 7)}, LINEAR, .a = 0.3f},
    {AIC_OP_DROPOUT, "p 0 (identity)", b_dropout, 1, {IN(5, 7)}, LINEAR, .a = 0},

    {AIC_OP_RESHAPE, "flatten 2 x 3 x 4", b_flatten, 1, {IN(2, 3, 4)}, LINEAR},
    {AIC_OP_RESHAPE, "2 x 3 x 4 -> 6 x -1", b_reshape, 1, {IN(2, 3, 4)}, LINEAR, ATTR_SHAPE(6, -1)},

    {AIC_OP_ADD, "3 x 5 + 3 x 5", b_add, 2, {IN(3, 5), IN(3, 5)}, LINEAR},
    {AIC_OP_ADD, "x + x", b_add, 1, {IN(3, 5)}, LINEAR, .twice = true},

    {AIC_OP_CONCAT, "three inputs, middle axis", b_concat, 3, {IN(2, 3, 4), IN(2, 1, 4), IN(2, 2, 4)}, LINEAR,
     .axis = 2},
    {AIC_OP_CONCAT, "last axis", b_concat, 2, {IN(2, 3), IN(2, 5)}, LINEAR, .axis = 2},
    {AIC_OP_CONCAT, "one tensor twice", b_concat, 1, {IN(3, 4)}, LINEAR, .axis = 1, .twice = true},

    /* axis: the class axis (0: 1); with has_ignore every 4th label is ignore_index, which may be a class;
     * classes last is exported as a Transpose before ONNX's loss */
    {AIC_OP_SOFTMAX_XENT, "6 classes", b_xent, 1, {IN_RANGE(-2, 2, 6)}, CURVED, .labels = true},
    {AIC_OP_SOFTMAX_XENT, "N x C x d1 x d2, ignore_index -100", b_xent, 1, {IN_RANGE(-2, 2, 4, 3, 2)}, CURVED,
     LABELS(3, 2), .has_ignore = true, .ignore_index = -100},
    {AIC_OP_SOFTMAX_XENT, "N x T x V, classes last", b_xent, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED, LABELS(3),
     .axis = -1},
    {AIC_OP_SOFTMAX_XENT, "classes on axis 2 of 3, ignore_index 2 (a class)", b_xent, 1,
     {IN_RANGE(-2, 2, 2, 5, 2)}, CURVED, LABELS(2, 2), .axis = 2, .has_ignore = true, .ignore_index = 2},
    {AIC_OP_NLL, "5 classes", b_nll, 1, {IN_RANGE(-3, 0, 5)}, CURVED, .labels = true},
    {AIC_OP_NLL, "N x C x d1, ignore_index -1", b_nll, 1, {IN_RANGE(-3, 0, 4, 3)}, CURVED, LABELS(3),
     .has_ignore = true, .ignore_index = -1},
    {AIC_OP_NLL, "N x T x V, classes last", b_nll, 1, {IN_RANGE(-3, 0, 3, 4)}, CURVED, LABELS(3), .axis = -1},
    {AIC_OP_MSE, "7 values", b_mse, 2, {IN(7), {SHAPE(7), .no_grad = true}}, CURVED, NO_LOSS_EXPORT},

    {AIC_OP_SOFTMAX, "last axis", b_softmax, 1, {IN_RANGE(-2, 2, 10)}, CURVED, .axis = 1},
    {AIC_OP_SOFTMAX, "middle axis", b_softmax, 1, {IN_RANGE(-2, 2, 3, 4, 2)}, CURVED, .axis = 2},
    {AIC_OP_SOFTMAX, "first axis", b_softmax, 1, {IN_RANGE(-2, 2, 3, 4, 2)}, CURVED, .axis = 1},
    {AIC_OP_LOG_SOFTMAX, "last axis", b_log_softmax, 1, {IN_RANGE(-2, 2, 10)}, CURVED, .axis = 1},
    {AIC_OP_LOG_SOFTMAX, "middle axis", b_log_softmax, 1, {IN_RANGE(-2, 2, 3, 4, 2)}, CURVED, .axis = 2},

    BINARY_CASES(AIC_BINOP_ADD, "add", -1, 1),
    BINARY_CASES(AIC_BINOP_SUB, "sub", -1, 1),
    BINARY_CASES(AIC_BINOP_MUL, "mul", -1, 1),
    BINARY_CASES(AIC_BINOP_DIV, "div", 0.5f, 1.5f),
    {AIC_OP_BINARY, "mul x * x", b_binary, 1, {IN(2, 3, 4)}, CURVED, .binop = AIC_BINOP_MUL, .twice = true},
    {AIC_OP_BINARY, "div, divisor without a gradient", b_binary, 2, {IN(2, 3, 4), {SHAPE(1, 3, 1), .lo = 0.5f,
     .hi = 1.5f, .no_grad = true}}, CURVED, .binop = AIC_BINOP_DIV},
    {AIC_OP_BINARY, "add, per-sample ranks 3 and 1", b_binary, 2, {IN(2, 3, 4), IN(4)}, CURVED,
     .binop = AIC_BINOP_ADD},

    {AIC_OP_TRANSPOSE, "perm 0 3 1 2", b_transpose, 1, {IN(2, 3, 4)}, LINEAR, .perm = {0, 3, 1, 2}},
    {AIC_OP_TRANSPOSE, "perm 0 1 3 2", b_transpose, 1, {IN(2, 3, 4)}, LINEAR, .perm = {0, 1, 3, 2}},
    {AIC_OP_TRANSPOSE, "perm 0 2 1", b_transpose, 1, {IN(3, 5)}, LINEAR, .perm = {0, 2, 1}},

    /* perm: b transposed first; twice: x[0] on both sides (both gradients into one buffer) */
    {AIC_OP_MATMUL, "3 x 4 @ 4 x 5", b_matmul, 2, {IN(3, 4), IN(4, 5)}, LINEAR},
    {AIC_OP_MATMUL, "2 x 3 x 4 @ 2 x 4 x 5", b_matmul, 2, {IN(2, 3, 4), IN(2, 4, 5)}, LINEAR},
    {AIC_OP_MATMUL, "broadcast a: 3 x 4 @ 2 x 4 x 5", b_matmul, 2, {IN(3, 4), IN(2, 4, 5)}, LINEAR},
    {AIC_OP_MATMUL, "broadcast b: 2 x 3 x 4 @ 4 x 2", b_matmul, 2, {IN(2, 3, 4), IN(4, 2)}, LINEAR},
    {AIC_OP_MATMUL, "both broadcast: 2 x 1 x 3 x 4 @ 1 x 3 x 4 x 2", b_matmul, 2, {IN(2, 1, 3, 4), IN(1, 3, 4, 2)},
     LINEAR},
    {AIC_OP_MATMUL, "Q K^T: 2 x 3 x 4 @ (2 x 5 x 4)^T", b_matmul, 2, {IN(2, 3, 4), IN(2, 5, 4)}, LINEAR,
     .perm = {0, 1, 3, 2}},
    {AIC_OP_MATMUL, "attention V, batch 1: 2 x 3 x 5 @ 2 x 5 x 4", b_matmul, 2, {IN(2, 3, 5), IN(2, 5, 4)},
     LINEAR, .batch = 1},
    {AIC_OP_MATMUL, "x @ x^T: 2 x 3 x 4", b_matmul, 1, {IN(2, 3, 4)}, LINEAR, .perm = {0, 1, 3, 2}, .twice = true},
    {AIC_OP_MATMUL, "a @ a: 2 x 3 x 3", b_matmul, 1, {IN(2, 3, 3)}, LINEAR, .twice = true},
    {AIC_OP_MATMUL, "b without a gradient: 3 x 2 x 4 @ 3 x 4 x 2", b_matmul, 2,
     {IN(3, 2, 4), {SHAPE(3, 4, 2), .no_grad = true}}, LINEAR},

    /* attention: q T x D, k and v S x D (a: the scale, 0: 1/sqrt(D)); causal masks j > i + S - T */
    {AIC_OP_ATTENTION, "T 5, D 8, causal", b_attention, 3, {IN(5, 8), IN(5, 8), IN(5, 8)}, CURVED, .causal = true},
    {AIC_OP_ATTENTION, "T 5, D 8", b_attention, 3, {IN(5, 8), IN(5, 8), IN(5, 8)}, CURVED},
    {AIC_OP_ATTENTION, "T 3, S 6, D 8, scale 0.5", b_attention, 3, {IN(3, 8), IN(6, 8), IN(6, 8)}, CURVED, .a = 0.5f},
    {AIC_OP_ATTENTION, "T 3, S 5, D 8, causal bottom-right", b_attention, 3, {IN(3, 8), IN(5, 8), IN(5, 8)}, CURVED,
     .causal = true},
    {AIC_OP_ATTENTION, "heads per sample: 2 x 4 x 8, causal", b_attention, 3,
     {IN(2, 4, 8), IN(2, 4, 8), IN(2, 4, 8)}, CURVED, .causal = true},
    {AIC_OP_ATTENTION, "heads folded: (2N) x 4 x 8, causal", b_attention, 3,
     {IN(2, 4, 8), IN(2, 4, 8), IN(2, 4, 8)}, CURVED, .causal = true, .pre_fold = true},
    {AIC_OP_ATTENTION, "self-attention, q = k = v: 4 x 8", b_attention, 1, {IN(4, 8)}, CURVED, .twice = true},

    /* embedding: the ids are the labels input (values in [0, classes), the vocabulary; units: dim), more
     * of them than the vocabulary so that ids repeat and their gradients add up; gather: axis counted
     * with the batch, indices that repeat and count from the end */
    {AIC_OP_EMBEDDING, "vocab 5 x dim 3, ids N x 4 (repeats)", b_embedding, 0, {{0}}, LINEAR, LABELS(4),
     .classes = 5, .units = 3},
    {AIC_OP_EMBEDDING, "vocab 7 x dim 2, ids N x 2 x 3", b_embedding, 0, {{0}}, LINEAR, LABELS(2, 3), .classes = 7,
     .units = 2},
    {AIC_OP_EMBEDDING, "one id per sample, vocab 2", b_embedding, 0, {{0}}, LINEAR, .labels = true, .classes = 2,
     .units = 4},
    {AIC_OP_GATHER, "x[:, 0] (ViT's class token): the axis dropped", b_gather, 1, {IN(4, 3)}, LINEAR, .axis = 1,
     .n_idx = 1, .idx = {0}, .scalar_index = true},
    {AIC_OP_GATHER, "axis 2, indices 2 0 2 -1", b_gather, 1, {IN(2, 4, 3)}, LINEAR, .axis = 2, .n_idx = 4,
     .idx = {2, 0, 2, -1}},
    {AIC_OP_GATHER, "axis -1, scalar index -2", b_gather, 1, {IN(2, 3, 5)}, LINEAR, .axis = -1, .n_idx = 1,
     .idx = {-2}, .scalar_index = true},
    {AIC_OP_GATHER, "axis 1 of rank 1, one index kept", b_gather, 1, {IN(5)}, LINEAR, .axis = 1, .n_idx = 1,
     .idx = {3}},

    /* The batch elsewhere than first: moved by a transpose (sequence-first attention), or heads folded
     * into it (N x H x T x D -> (H N) x T x D); the sink moves and unfolds it back. */
    {AIC_OP_TRANSPOSE, "batch moved: perm 1 0 2", b_transpose, 1, {IN(3, 4)}, LINEAR, .perm = {1, 0, 2}},
    {AIC_OP_TRANSPOSE, "batch last: perm 1 2 0", b_transpose, 1, {IN(3, 4)}, LINEAR, .perm = {1, 2, 0}},
    {AIC_OP_TRANSPOSE, "folded batch moved: (2N) x 3 x 4, perm 1 0 2", b_transpose, 1, {IN(2, 3, 4)}, LINEAR,
     .perm = {1, 0, 2}, .pre_fold = true},
    {AIC_OP_RESHAPE, "fold: N x 2 x 3 x 4 to (6N) x 4", b_reshape_full, 1, {IN(2, 3, 4)}, LINEAR,
     ATTR_SHAPE(AIC_DIM_BATCH, 4)},
    {AIC_OP_RESHAPE, "fold behind a moved batch: 3 x N x 4 to 3 x (2N) x 2", b_reshape_full,
     1, {IN(3, 4)}, LINEAR, .pre_perm = {1, 0, 2}, ATTR_SHAPE(3, AIC_DIM_BATCH, 2)},
    {AIC_OP_DENSE, "batch second: 3 x N x 4 -> 3 x N x 5", b_dense, 1, {IN(3, 4)}, LINEAR, .units = 5,
     .pre_perm = {1, 0, 2}},
    {AIC_OP_DENSE, "N x 3 x 4 -> N x 3 x 2, no bias", b_dense, 1, {IN(3, 4)}, LINEAR, .units = 2, .no_bias = true},
    {AIC_OP_DENSE, "merged in front: 3 x N x 4 -> (3 N) x 4 -> (3 N) x 5", b_dense_reshaped, 1, {IN(3, 4)}, LINEAR,
     .units = 5, .pre_perm = {1, 0, 2}, ATTR_SHAPE(AIC_DIM_BATCH, 4)},
    {AIC_OP_DENSE, "merged both sides: 2 x N x 3 x 4 -> (2 N 3) x 4", b_dense_reshaped, 1, {IN(2, 3, 4)}, LINEAR,
     .units = 2, .pre_perm = {1, 0, 2, 3}, ATTR_SHAPE(AIC_DIM_BATCH, 4)},
    {AIC_OP_SOFTMAX, "batch second: 3 x N x 4, axis 2", b_softmax, 1, {IN(3, 4)}, CURVED, .axis = 2,
     .pre_perm = {1, 0, 2}},
    {AIC_OP_SOFTMAX, "folded: (2N) x 3 x 3 attention scores, axis 2", b_softmax, 1, {IN(2, 3, 3)}, CURVED,
     .axis = 2, .pre_fold = true},
    {AIC_OP_LAYERNORM, "batch second: 3 x N x 4, last axis", b_ln, 1, {IN(3, 4)}, CURVED, .axis = 2, .b = 1e-5f,
     .pre_perm = {1, 0, 2}},
    {AIC_OP_TANH, "batch second: 3 x N x 4", b_unary, 1, {IN(3, 4)}, CURVED, .pre_perm = {1, 0, 2}},
    {AIC_OP_ADD, "folded: (2N) x 3", b_add, 2, {IN(2, 3), IN(2, 3)}, LINEAR, .pre_fold = true},
    {AIC_OP_MATMUL, "heads folded: (2N) x 3 x 4 @ (2N) x 4 x 5", b_matmul, 2, {IN(2, 3, 4), IN(2, 4, 5)}, LINEAR,
     .pre_fold = true},

    /* conv_transpose2d and resize2d (a U-Net's upsampling) */
#define CONVT(...) .convt = {__VA_ARGS__}
    {AIC_OP_CONV_TRANSPOSE2D, "k2 s2 (U-Net's up-convolution)", b_convt, 1, {IN(4, 3, 3)}, LINEAR,
     CONVT(.out_channels = 2, .kernel = {2, 2}, .stride = {2, 2})},
    {AIC_OP_CONV_TRANSPOSE2D, "k3 s2 p1 output_padding 1 (2x upsampling)", b_convt, 1, {IN(3, 3, 4)}, LINEAR,
     CONVT(.out_channels = 4, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .output_padding = {1, 1})},
    {AIC_OP_CONV_TRANSPOSE2D, "k3x2 s2x1 p1x0 d2 g2", b_convt, 1, {IN(4, 3, 4)}, LINEAR,
     CONVT(.out_channels = 6, .kernel = {3, 2}, .stride = {2, 1}, .pad = {1, 0}, .dilation = {2, 2},
           .groups = 2)},
    {AIC_OP_CONV_TRANSPOSE2D, "k3 s2 pad_end 1 (ONNX's SAME_UPPER)", b_convt, 1, {IN(2, 3, 4)}, LINEAR,
     CONVT(.out_channels = 3, .kernel = {3, 3}, .stride = {2, 2}, .pad_end = {1, 1})},
    {AIC_OP_CONV_TRANSPOSE2D, "k3 s1 p1 (same size, stride 1)", b_convt, 1, {IN(3, 4, 5)}, LINEAR,
     CONVT(.out_channels = 2, .kernel = {3, 3}, .pad = {1, 1})},
    {AIC_OP_CONV_TRANSPOSE2D, "k3 s2 d3 output_padding 2x0 (past the stride), pad 2x1 pad_end 0x2", b_convt, 1,
     {IN(2, 3, 3)}, LINEAR,
     CONVT(.out_channels = 2, .kernel = {3, 3}, .stride = {2, 2}, .dilation = {3, 3}, .pad = {2, 1},
           .pad_end = {0, 2}, .output_padding = {2, 0})},
    {AIC_OP_CONV_TRANSPOSE2D, "1x1 (the columns are the output) no bias", b_convt, 1, {IN(4, 3, 5)}, LINEAR,
     CONVT(.out_channels = 3, .kernel = {1, 1}, .no_bias = true)},
    {AIC_OP_CONV_TRANSPOSE2D, "1x1 s2 g2", b_convt, 1, {IN(4, 3, 3)}, LINEAR,
     CONVT(.out_channels = 2, .kernel = {1, 1}, .stride = {2, 2}, .groups = 2)},
    {AIC_OP_CONV_TRANSPOSE2D, "depthwise k3 s2 p1", b_convt, 1, {IN(4, 3, 3)}, LINEAR,
     CONVT(.out_channels = 4, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .groups = 4)},
    {AIC_OP_CONV_TRANSPOSE2D, "k4 s2 p1 16 -> 8 channels, input without a gradient", b_convt, 1,
     {{SHAPE(16, 5, 6), .no_grad = true}}, LINEAR,
     CONVT(.out_channels = 8, .kernel = {4, 4}, .stride = {2, 2}, .pad = {1, 1})},
#undef CONVT

    /* F.interpolate's nearest is asymmetric + floor, its bilinear linear + half_pixel (or align_corners);
     * 3 -> 7 has no float scale whose product with 3 truncates to 7: the export gives sizes */
#define RESIZE(...) .resize = {__VA_ARGS__}
    {AIC_OP_RESIZE2D, "nearest x2 (F.interpolate)", b_resize, 1, {IN(2, 3, 4)}, LINEAR,
     RESIZE(.coord = AIC_RESIZE_ASYMMETRIC, .nearest = AIC_RESIZE_FLOOR, .scale = {2, 2})},
    {AIC_OP_RESIZE2D, "nearest half_pixel round_prefer_floor 3x4 -> 5x7", b_resize, 1, {IN(2, 3, 4)}, LINEAR,
     RESIZE(.size = {5, 7})},
    {AIC_OP_RESIZE2D, "nearest asymmetric round_prefer_ceil, scale 0.5x1.5", b_resize, 1, {IN(2, 6, 4)}, LINEAR,
     RESIZE(.coord = AIC_RESIZE_ASYMMETRIC, .nearest = AIC_RESIZE_ROUND_PREFER_CEIL, .scale = {0.5f, 1.5f})},
    {AIC_OP_RESIZE2D, "nearest align_corners ceil 4x3 -> 7x2", b_resize, 1, {IN(2, 4, 3)}, LINEAR,
     RESIZE(.coord = AIC_RESIZE_ALIGN_CORNERS, .nearest = AIC_RESIZE_CEIL, .size = {7, 2})},
    {AIC_OP_RESIZE2D, "nearest tf_half_pixel_for_nn 4x4 -> 3x2", b_resize, 1, {IN(2, 4, 4)}, LINEAR,
     RESIZE(.coord = AIC_RESIZE_TF_HALF_PIXEL_FOR_NN, .size = {3, 2})},
    {AIC_OP_RESIZE2D, "bilinear x2 (F.interpolate, align_corners False)", b_resize, 1, {IN(2, 3, 4)}, LINEAR,
     RESIZE(.mode = AIC_RESIZE_LINEAR, .scale = {2, 2})},
    {AIC_OP_RESIZE2D, "bilinear align_corners 3x4 -> 5x7", b_resize, 1, {IN(2, 3, 4)}, LINEAR,
     RESIZE(.mode = AIC_RESIZE_LINEAR, .coord = AIC_RESIZE_ALIGN_CORNERS, .size = {5, 7})},
    {AIC_OP_RESIZE2D, "bilinear 3x3 -> 7x7 (exported with sizes)", b_resize, 1, {IN(2, 3, 3)}, LINEAR,
     RESIZE(.mode = AIC_RESIZE_LINEAR, .size = {7, 7})},
    {AIC_OP_RESIZE2D, "linear pytorch_half_pixel 6x5 -> 3x1 (downsampling)", b_resize, 1, {IN(2, 6, 5)}, LINEAR,
     RESIZE(.mode = AIC_RESIZE_LINEAR, .coord = AIC_RESIZE_PYTORCH_HALF_PIXEL, .size = {3, 1})},
    {AIC_OP_RESIZE2D, "linear asymmetric, scale 1.5x0.75", b_resize, 1, {IN(2, 4, 4)}, LINEAR,
     RESIZE(.mode = AIC_RESIZE_LINEAR, .coord = AIC_RESIZE_ASYMMETRIC, .scale = {1.5f, 0.75f})},
#undef RESIZE

    /* lstm and gru: N x T x I, three steps; both directions; GRU with and without linear_before_reset */
#define RNN(...) .rnn = {__VA_ARGS__}
    {AIC_OP_LSTM, "T 3, I 4, hidden 5", b_rnn, 1, {IN(3, 4)}, CURVED, RNN(.hidden = 5)},
    {AIC_OP_LSTM, "bidirectional T 3, I 2, hidden 3", b_rnn, 1, {IN(3, 2)}, CURVED,
     RNN(.hidden = 3, .bidirectional = true)},
    {AIC_OP_GRU, "T 3, I 4, hidden 5, linear_before_reset (PyTorch)", b_rnn, 1, {IN(3, 4)}, CURVED,
     RNN(.hidden = 5, .linear_before_reset = true)},
    {AIC_OP_GRU, "bidirectional T 3, I 2, hidden 3, linear_before_reset", b_rnn, 1, {IN(3, 2)}, CURVED,
     RNN(.hidden = 3, .bidirectional = true, .linear_before_reset = true)},
    {AIC_OP_GRU, "bidirectional T 3, I 3, hidden 4 (ONNX's default)", b_rnn, 1, {IN(3, 3)}, CURVED,
     RNN(.hidden = 4, .bidirectional = true)},
#undef RNN
    /* appended: a case's random data follows from its place in this list */
    {AIC_OP_EXPAND, "a 1 x 4 class token for every sample", b_expand, 1, {IN(2)}, LINEAR, ATTR_SHAPE(1, 4)},
    {AIC_OP_BINARY, "pow of two activations, base in [0.5, 2)", b_binary, 2,
     {IN_RANGE(0.5f, 2.0f, 2, 3), IN_RANGE(-1.5f, 1.5f, 2, 3)}, CURVED, .binop = AIC_BINOP_POW},
    /* 72 and 9 values on 0.05 grids a half step apart (the harness centres each): no near-ties */
    {AIC_OP_BINARY, "max, broadcast", b_binary, 2, {IN_DISTINCT(2, 3, 4), IN_DISTINCT(1, 3, 1)}, LINEAR,
     .binop = AIC_BINOP_MAX},
    {AIC_OP_BINARY, "min, constant right", b_binary, 1, {IN_DISTINCT(2, 3, 4)}, LINEAR, .binop = AIC_BINOP_MIN,
     .constant = true, ATTR_SHAPE(3, 1)},
    /* the trigonometric family inside their domains; floor, ceil, round and sign away from their jumps */
    {AIC_OP_SIN, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_COS, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_TAN, "3 x 5 in (-1, 1)", b_unary, 1, {IN_RANGE(-1, 1, 3, 5)}, CURVED},
    {AIC_OP_ASIN, "3 x 5 in (-0.8, 0.8)", b_unary, 1, {IN_RANGE(-0.8f, 0.8f, 3, 5)}, CURVED},
    {AIC_OP_ACOS, "3 x 5 in (-0.8, 0.8)", b_unary, 1, {IN_RANGE(-0.8f, 0.8f, 3, 5)}, CURVED},
    {AIC_OP_ATAN, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_SINH, "3 x 5", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED},
    {AIC_OP_COSH, "3 x 5", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED},
    {AIC_OP_ASINH, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED},
    {AIC_OP_ACOSH, "3 x 5 in (1.2, 3)", b_unary, 1, {IN_RANGE(1.2f, 3, 3, 5)}, CURVED},
    {AIC_OP_ATANH, "3 x 5 in (-0.8, 0.8)", b_unary, 1, {IN_RANGE(-0.8f, 0.8f, 3, 5)}, CURVED},
    {AIC_OP_SOFTSIGN, "3 x 5", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED, .n_kinks = 1, .kink = {0}},
    {AIC_OP_THRESHOLDED_RELU, "alpha 0.5", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, LINEAR, .a = 0.5f, .n_kinks = 1,
     .kink = {0.5f}},
    {AIC_OP_CELU, "alpha 2", b_unary, 1, {IN_RANGE(-3, 3, 3, 5)}, CURVED, .a = 2.0f, .n_kinks = 1, .kink = {0}},
    {AIC_OP_SHRINK, "lambd 0.5, bias 0.2", b_unary, 1, {IN_RANGE(-2, 2, 3, 5)}, LINEAR, .a = 0.5f, .b = 0.2f,
     .n_kinks = 2, .kink = {-0.5f, 0.5f}},
    {AIC_OP_FLOOR, "values in (0.1, 0.9)", b_unary, 1, {IN_RANGE(0.1f, 0.9f, 3, 5)}, LINEAR},
    {AIC_OP_CEIL, "values in (1.1, 1.9)", b_unary, 1, {IN_RANGE(1.1f, 1.9f, 3, 5)}, LINEAR},
    {AIC_OP_ROUND, "values in (0.1, 0.4)", b_unary, 1, {IN_RANGE(0.1f, 0.4f, 3, 5)}, LINEAR},
    {AIC_OP_SIGN, "values in (0.1, 1)", b_unary, 1, {IN_RANGE(0.1f, 1.0f, 3, 5)}, LINEAR},
    /* comparisons and logic: floats 1 and 0, no gradient (grids a half step apart: no near-ties) */
    {AIC_OP_BINARY, "equal, broadcast", b_binary, 2, {IN_DISTINCT(2, 3, 4), IN_DISTINCT(1, 3, 1)}, LINEAR,
     .binop = AIC_BINOP_EQUAL},
    {AIC_OP_BINARY, "less_equal, broadcast", b_binary, 2, {IN_DISTINCT(2, 3, 4), IN_DISTINCT(1, 3, 1)}, LINEAR,
     .binop = AIC_BINOP_LESS_EQUAL},
    {AIC_OP_BINARY, "and of nonzero values", b_binary, 2, {IN_RANGE(0.5f, 1.5f, 3, 4), IN_RANGE(-1.5f, -0.5f, 3, 4)},
     LINEAR, .binop = AIC_BINOP_AND},
    {AIC_OP_BINARY, "xor with a constant", b_binary, 1, {IN_RANGE(0.5f, 1.5f, 3, 4)}, LINEAR, .binop = AIC_BINOP_XOR,
     .constant = true, ATTR_SHAPE(4)},
    {AIC_OP_NOT, "of nonzero values", b_unary, 1, {IN_RANGE(0.5f, 1.5f, 3, 4)}, LINEAR},
    /* cumsum along a per-sample axis (counted with the batch), each way */
    {AIC_OP_CUMSUM, "axis 1 of N x 5", b_cumsum, 1, {IN(5)}, LINEAR, .axis = 1},
    {AIC_OP_CUMSUM, "axis 2 of N x 3 x 4, exclusive", b_cumsum, 1, {IN(3, 4)}, LINEAR, .axis = 2, .exclusive = true},
    {AIC_OP_CUMSUM, "axis -2 of N x 2 x 3 x 4, reverse", b_cumsum, 1, {IN(2, 3, 4)}, LINEAR, .axis = -2,
     .reverse = true},
    {AIC_OP_CUMSUM, "axis 1 of N x 4 x 3, reverse exclusive", b_cumsum, 1, {IN(4, 3)}, LINEAR, .axis = 1,
     .exclusive = true, .reverse = true},
    /* mod and fmod with a / b off the integers, where both jump: b gets -trunc(a / b) (fmod) or
     * -floor(a / b) (mod); mod's sign fix at a = 0 is a kink; a constant holds values in [0.5, 1.5) */
    {AIC_OP_BINARY, "fmod, a / b in (1.1, 1.9), b broadcast", b_binary, 2,
     {IN_RANGE(2.2f, 2.8f, 2, 3, 4), IN_RANGE(1.5f, 2.0f, 1, 3, 1)}, LINEAR, .binop = AIC_BINOP_FMOD},
    {AIC_OP_BINARY, "fmod, a / b in (-1.9, -1.1)", b_binary, 2,
     {IN_RANGE(-2.8f, -2.2f, 3, 4), IN_RANGE(1.5f, 2.0f, 3, 4)}, LINEAR, .binop = AIC_BINOP_FMOD},
    {AIC_OP_BINARY, "mod, a / b in (-1.9, -1.1): the divisor's sign", b_binary, 2,
     {IN_RANGE(-2.8f, -2.2f, 2, 3, 4), IN_RANGE(1.5f, 2.0f, 1, 3, 1)}, LINEAR, .binop = AIC_BINOP_MOD},
    {AIC_OP_BINARY, "mod of both signs by a constant right 3 x 1", b_binary, 1, {IN_RANGE(-0.45f, 0.45f, 2, 3, 4)},
     LINEAR, .binop = AIC_BINOP_MOD, .constant = true, ATTR_SHAPE(3, 1), .n_kinks = 1, .kink = {0}},
    {AIC_OP_BINARY, "mod of a constant left 4 by negative divisors", b_binary, 1, {IN_RANGE(-2.0f, -1.6f, 2, 3, 4)},
     LINEAR, .binop = AIC_BINOP_MOD, .constant = true, .const_left = true, ATTR_SHAPE(4)},
    /* finite values: all 0 (the ONNX conformance cases hold the infinities and NaNs) */
    {AIC_OP_IS_INF, "of finite values", b_unary, 1, {IN(3, 5)}, LINEAR, .a = 1.0f, .b = 1.0f},
    {AIC_OP_IS_INF, "detect_negative 0", b_unary, 1, {IN(2, 3)}, LINEAR, .a = 1.0f, .b = 0.0f},
    {AIC_OP_IS_NAN, "of finite values", b_unary, 1, {IN(3, 5)}, LINEAR},
    /* argmax and hardmax: no gradient (the harness checks that none flows), outputs exact against
     * ref_argmax. Ties: every 5th value sits on the range's end, so the columns of 3 x 5 and 2 x 5
     * starting at a multiple of 5 hold equal extremes (first vs last). hardmax's output reaches the
     * loss: distinct values, which an EPS step never reorders. */
    {AIC_OP_ARGMAX, "axis 1 of N x 3 x 5, keepdims, ties take the first", b_argmax, 1, {IN_RANGE(-1, 0.5f, 3, 5)},
     LINEAR, .axis = 1, .keepdims = true, .n_kinks = 1, .kink = {0.5f}, .at_kinks = true, .ref = ref_argmax},
    {AIC_OP_ARGMAX, "axis 1 of N x 3 x 5, select_last_index", b_argmax, 1, {IN_RANGE(-1, 0.5f, 3, 5)}, LINEAR,
     .axis = 1, .select_last = true, .n_kinks = 1, .kink = {0.5f}, .at_kinks = true, .ref = ref_argmax},
    {AIC_OP_ARGMAX, "argmin axis 1 of N x 2 x 5, keepdims, select_last_index", b_argmax, 1,
     {IN_RANGE(-0.5f, 1, 2, 5)}, LINEAR, .axis = 1, .arg_min = true, .select_last = true, .keepdims = true,
     .n_kinks = 1, .kink = {-0.5f}, .at_kinks = true, .ref = ref_argmax},
    {AIC_OP_ARGMAX, "argmin axis -1 of N x 2 x 3 x 4", b_argmax, 1, {IN(2, 3, 4)}, LINEAR, .axis = -1,
     .arg_min = true, .ref = ref_argmax},
    {AIC_OP_ARGMAX, "axis 1 of N x 6: one index per sample", b_argmax, 1, {IN(6)}, LINEAR, .axis = 1,
     .ref = ref_argmax},
    {AIC_OP_ARGMAX, "batch second: 3 x N x 4, axis 2", b_argmax, 1, {IN(3, 4)}, LINEAR, .axis = 2,
     .pre_perm = {1, 0, 2}, .ref = ref_argmax},
    {AIC_OP_HARDMAX, "axis -1 of N x 3 x 4", b_hardmax, 1, {IN_DISTINCT(3, 4)}, LINEAR, .axis = -1,
     .ref = ref_argmax},
    {AIC_OP_HARDMAX, "axis 1 of N x 4 x 3", b_hardmax, 1, {IN_DISTINCT(4, 3)}, LINEAR, .axis = 1, .ref = ref_argmax},
    {AIC_OP_HARDMAX, "batch second: 3 x N x 4, axis 2", b_hardmax, 1, {IN_DISTINCT(3, 4)}, LINEAR, .axis = 2,
     .pre_perm = {1, 0, 2}, .ref = ref_argmax},
    /* the losses' class weights (the buffer holds values in [0.5, 1.5)) and reductions: 'none' is an
     * activation of the labels' shape, which the sink takes */
    {AIC_OP_SOFTMAX_XENT, "class weights, N x C x d1, ignore_index -1", b_xent, 1, {IN_RANGE(-2, 2, 4, 3)}, CURVED,
     LABELS(3), .has_ignore = true, .ignore_index = -1, .class_weights = true},
    {AIC_OP_SOFTMAX_XENT, "sum, class weights, classes last", b_xent, 1, {IN_RANGE(-2, 2, 3, 5)}, CURVED, LABELS(3),
     .axis = -1, .reduction = AIC_LOSS_SUM, .class_weights = true},
    {AIC_OP_SOFTMAX_XENT, "none, N x C x d1 x d2, ignore_index 0 (a class)", b_xent, 1, {IN_RANGE(-2, 2, 4, 3, 2)},
     CURVED, LABELS(3, 2), .has_ignore = true, .ignore_index = 0, .reduction = AIC_LOSS_NONE},
    {AIC_OP_SOFTMAX_XENT, "none, class weights, 5 classes", b_xent, 1, {IN_RANGE(-2, 2, 5)}, CURVED, .labels = true,
     .reduction = AIC_LOSS_NONE, .class_weights = true},
    {AIC_OP_NLL, "class weights, N x C x d1, ignore_index -100", b_nll, 1, {IN_RANGE(-3, 0, 4, 3)}, CURVED, LABELS(3),
     .has_ignore = true, .ignore_index = -100, .class_weights = true},
    {AIC_OP_NLL, "sum, 5 classes", b_nll, 1, {IN_RANGE(-3, 0, 5)}, CURVED, .labels = true, .reduction = AIC_LOSS_SUM},
    {AIC_OP_NLL, "none, class weights, classes last", b_nll, 1, {IN_RANGE(-3, 0, 3, 4)}, CURVED, LABELS(3),
     .axis = -1, .reduction = AIC_LOSS_NONE, .class_weights = true},
    /* gather_elements, scatter_elements: int indices (the labels) repeat, so gradients add up in index
     * order and a later update replaces an earlier one; indices may be longer than data on the axis
     * and shorter on the others */
    {AIC_OP_GATHER_ELEMENTS, "axis 1, indices longer than the axis", b_gather_elements, 1, {IN(4, 3)}, LINEAR,
     LABELS(6, 3), .axis = 1},
    {AIC_OP_GATHER_ELEMENTS, "axis -1, indices shorter on the other axis", b_gather_elements, 1, {IN(3, 5)}, LINEAR,
     LABELS(2, 4), .axis = -1},
    {AIC_OP_GATHER_ELEMENTS, "axis 2 of rank 3", b_gather_elements, 1, {IN(2, 3, 4)}, LINEAR, LABELS(2, 2, 4),
     .axis = 2},
    {AIC_OP_SCATTER_ELEMENTS, "none, axis 1 (the last update wins)", b_scatter_elements, 2, {IN(5, 3), IN(4, 3)},
     LINEAR, LABELS(4, 3), .axis = 1},
    {AIC_OP_SCATTER_ELEMENTS, "add, axis -1, more updates than the axis", b_scatter_elements, 2,
     {IN(3, 4), IN(3, 6)}, LINEAR, LABELS(3, 6), .axis = -1, .reduce = "add"},
    {AIC_OP_SCATTER_ELEMENTS, "mul, axis 2 of rank 3, indices smaller", b_scatter_elements, 2,
     {IN(2, 3, 4), IN_RANGE(0.5f, 1.5f, 2, 2, 3)}, CURVED, LABELS(2, 2, 3), .axis = 2, .reduce = "mul"},
    /* one_hot: every 5th index on an integer (the kinks), the others not, which give all off, as do
     * those past the depth */
    {AIC_OP_ONE_HOT, "indices -2 and 1, depth 5 at the last axis", b_one_hot, 1, {IN_RANGE(-3, 3, 3)}, LINEAR,
     .units = 5, .axis = -1, .a = 0.0f, .b = 1.0f, .n_kinks = 2, .kink = {-2.0f, 1.0f}, .at_kinks = true},
    {AIC_OP_ONE_HOT, "N x 2 x 3, indices 3 and -4, depth 4 at axis 1, off -1 on 2", b_one_hot, 1,
     {IN_RANGE(-5, 5, 2, 3)}, LINEAR, .units = 4, .axis = 1, .a = -1.0f, .b = 2.0f, .n_kinks = 2,
     .kink = {3.0f, -4.0f}, .at_kinks = true},
    {AIC_OP_ONE_HOT, "indices 7 and -6 past the depth 5", b_one_hot, 1, {IN_RANGE(-8, 8, 4)}, LINEAR, .units = 5,
     .axis = 2, .a = 0.0f, .b = 1.0f, .n_kinks = 2, .kink = {7.0f, -6.0f}, .at_kinks = true},
    /* 3-D convolution and pooling over C x D x H x W */
    {AIC_OP_CONV3D, "k3 s2 p1", b_conv3d, 1, {IN(2, 5, 5, 5)}, LINEAR,
     CONV3D(.out_channels = 3, .kernel = {3, 3, 3}, .stride = {2, 2, 2}, .pad = {1, 1, 1})},
    {AIC_OP_CONV3D, "k3x2x2 p1x0x1 d2x1x1 g2 no bias", b_conv3d, 1, {IN(4, 6, 4, 5)}, LINEAR,
     CONV3D(.out_channels = 4, .kernel = {3, 2, 2}, .pad = {1, 0, 1}, .dilation = {2, 1, 1}, .groups = 2,
            .no_bias = true)},
    {AIC_OP_CONV3D, "k2x3x2 s1x2x1", b_conv3d, 1, {IN(3, 4, 5, 4)}, LINEAR,
     CONV3D(.out_channels = 2, .kernel = {2, 3, 2}, .stride = {1, 2, 1})},
    {AIC_OP_MAXPOOL3D, "k3 s2 p1", b_pool3d, 1, {IN_DISTINCT(2, 5, 6, 5)}, LINEAR,
     POOL3D(.kernel = {3, 3, 3}, .stride = {2, 2, 2}, .pad = {1, 1, 1})},
    {AIC_OP_MAXPOOL3D, "k2 (stride the kernel)", b_pool3d, 1, {IN_DISTINCT(2, 4, 4, 6)}, LINEAR,
     POOL3D(.kernel = {2, 2, 2})},
    {AIC_OP_MAXPOOL3D, "k3x2x3 s2 p1x0x1 ceil", b_pool3d, 1, {IN_DISTINCT(2, 6, 5, 6)}, LINEAR,
     POOL3D(.kernel = {3, 2, 3}, .stride = {2, 2, 2}, .pad = {1, 0, 1}, .ceil_mode = true)},
    {AIC_OP_AVGPOOL3D, "k3 s2 p1", b_pool3d, 1, {IN(2, 5, 6, 5)}, LINEAR,
     POOL3D(.kernel = {3, 3, 3}, .stride = {2, 2, 2}, .pad = {1, 1, 1})},
    {AIC_OP_AVGPOOL3D, "k3 s2 p1 ceil count_include_pad", b_pool3d, 1, {IN(2, 6, 5, 6)}, LINEAR,
     POOL3D(.kernel = {3, 3, 3}, .stride = {2, 2, 2}, .pad = {1, 1, 1}, .ceil_mode = true,
            .count_include_pad = true)},
    {AIC_OP_AVGPOOL3D, "k2x3x2 s1x2x2 p0x1x1 count_include_pad", b_pool3d, 1, {IN(2, 4, 5, 6)}, LINEAR,
     POOL3D(.kernel = {2, 3, 2}, .stride = {1, 2, 2}, .pad = {0, 1, 1}, .count_include_pad = true)},
    {AIC_OP_DENSE, "tied to an embedding's table: (x + emb(ids)) W^T, W 5 x 4, 3 x 4 -> 3 x 5", b_dense_tied, 1,
     {IN(3, 4)}, LINEAR, LABELS(3), .classes = 5, .units = 4, .no_bias = true},
    {AIC_OP_DENSE, "tied with a bias, one row: 4 -> 6", b_dense_tied, 1, {IN(4)}, LINEAR, .labels = true,
     .classes = 6, .units = 4},
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

static const char *kind_name(aic_op_kind k) { return aic_op_name(k); }

/* ---- the test model --------------------------------------------------------------------------- */

typedef struct {
    aic_model_t *m;
    int n;                 /* batch */
    aic_value x[MAX_IN];   /* the inputs fed */
    aic_value h[MAX_IN];   /* what the op reads: x, or x after its lead-in */
    bool lead[MAX_IN];     /* h has a lead-in, hence a gradient */
    aic_value labels, target;
    aic_value y;           /* the op's output (a loss op: the loss) */
    aic_value sink;        /* the concatenation the mse reads (a loss op: -1) */
    int op;                /* index of the op under test */
} model;

/* An int output (argmax's) cannot reach the loss: the sink then holds the h_k alone. */
static bool y_in_sink(const model *t) { return t->m->values[t->y].dtype == AIC_F32; }

static void model_free(model *t) {
    aic_model_destroy(t->m);
    t->m = NULL;
}

/* The labels of one sample (c->labels). */
static int64_t labels_per_sample(const op_case *c) {
    int64_t n = 1;
    for (int i = 0; i < c->lndim; i++)
        n *= c->lshape[i];
    return n;
}

static int64_t numel_of(const input_spec *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->shape[i];
    return n;
}

/* v with its batch moved first and the axes merged into it split out (N x everything else), for the
 * sink's concat. */
static aic_status batch_first(aic_model_t *m, aic_value *v) {
    const aic_value_info *vi = &m->values[*v];
    int64_t full[AIC_MAX_DIMS];
    int a = vi->batch_axis, rank = vi->ndim + 1;
    if (vi->outer != 1) { /* (outer N fold) -> outer x (N fold) */
        aic_value_full_shape(vi, 1, full);
        memmove(full + a + 1, full + a, sizeof(int64_t) * (size_t)(rank - a));
        full[a] = vi->outer;
        full[a + 1] = AIC_DIM_BATCH;
        AIC_TRY(aic_reshape_full(m, NULL, *v, ++rank, full, v));
        a++;
    }
    if (a != 0) {
        int perm[AIC_MAX_DIMS];
        perm[0] = a;
        for (int i = 1; i < rank; i++)
            perm[i] = i - (i <= a);
        AIC_TRY(aic_transpose(m, NULL, *v, perm, v));
    }
    vi = &m->values[*v];
    const int64_t target[2] = {AIC_DIM_BATCH, vi->fold * vi->numel};
    return vi->fold == 1 ? AIC_OK : aic_reshape_full(m, NULL, *v, 2, target, v);
}

/* leads: identity lead-ins (the test model); without, the op reads the inputs (NULL input gradients,
 * and the form that is exported). */
static aic_status build(const op_case *c, bool leads, bool cuda, model *t) {
    memset(t, 0, sizeof *t);
    t->labels = t->target = t->sink = -1;
    t->n = c->batch ? c->batch : BATCH;
    AIC_TRY(aic_model_create(&t->m, c->name));
    aic_model_t *m = t->m;
    if (cuda)
        AIC_TRY(aic_model_set_device(m, AIC_DEVICE_CUDA, 0, false));
    for (int k = 0; k < c->n_in; k++) {
        const input_spec *s = &c->in[k];
        char name[32];
        snprintf(name, sizeof name, "x%d", k);
        AIC_TRY(aic_input(m, name, s->ndim, s->shape, &t->x[k]));
        t->h[k] = t->x[k];
        t->lead[k] = leads && !s->no_grad;
        if (t->lead[k]) {
            aic_value f;
            snprintf(name, sizeof name, "lead%d", k);
            AIC_TRY(aic_flatten(m, NULL, t->x[k], &f));
            AIC_TRY(aic_dense(m, name, f, numel_of(s), false, &f));
            AIC_TRY(aic_reshape(m, NULL, f, s->ndim, s->shape, &t->h[k]));
        }
    }
    if (c->labels)
        AIC_TRY(aic_int_input(m, "labels", c->lndim, c->lshape, &t->labels));
    aic_value in[MAX_IN];
    for (int k = 0; k < c->n_in; k++) {
        in[k] = t->h[k];
        if (c->pre_perm[0] || c->pre_perm[1])
            AIC_TRY(aic_transpose(m, NULL, in[k], c->pre_perm, &in[k]));
        if (c->pre_fold) {
            const input_spec *s = &c->in[k];
            int64_t target[AIC_MAX_DIMS] = {AIC_DIM_BATCH};
            memcpy(target + 1, s->shape + 1, sizeof(int64_t) * (size_t)(s->ndim - 1));
            AIC_TRY(aic_reshape_full(m, NULL, in[k], s->ndim, target, &in[k]));
        }
    }
    AIC_TRY(c->build(m, c, in, t->labels, &t->y));
    t->op = m->values[t->y].producer;
    if (!m->values[t->y].scalar) {
        aic_value parts[1 + MAX_IN], y = t->y;
        int n_parts = 0;
        if (y_in_sink(t)) {
            AIC_TRY(batch_first(m, &y));
            AIC_TRY(aic_flatten(m, NULL, y, &parts[n_parts++]));
        }
        for (int k = 0; k < c->n_in; k++)
            AIC_TRY(aic_flatten(m, NULL, t->h[k], &parts[n_parts++]));
        AIC_TRY(aic_concat(m, "sink", n_parts, parts, 1, &t->sink));
        const int64_t sn = m->values[t->sink].numel;
        aic_value loss;
        AIC_TRY(aic_input(m, "target", 1, &sn, &t->target));
        AIC_TRY(aic_mse(m, "loss", t->sink, t->target, &loss));
    }
    AIC_TRY(aic_model_set_output(m, t->y)); /* a loss op's output is its loss: what (d) exports */
    return aic_model_compile(m, t->n, 7);
}

/* Inputs, labels, target, and the op's parameters and buffers: drawn once per case from a seed of its
 * own, so every model of the case, in this process or the child of (b), gets the same values. */
typedef struct {
    float *x[MAX_IN];
    int32_t *labels;
    float *target;
    float *params, *buffers;
} case_data;

static void data_free(case_data *d) {
    for (int k = 0; k < MAX_IN; k++)
        free(d->x[k]);
    free(d->labels);
    free(d->target);
    free(d->params);
    free(d->buffers);
    memset(d, 0, sizeof *d);
}

static bool is_op_param(const char *name) { return strncmp(name, "op.", 3) == 0; }

static size_t op_param_floats(aic_model_t *m) {
    size_t n = 0;
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p;
        if (aic_model_param(m, i, &p, NULL) == AIC_OK && is_op_param(p.name))
            n += (size_t)aic_tensor_numel(&p);
    }
    return n;
}

static bool near_kink(const op_case *c, float v, float dist) {
    for (int i = 0; i < c->n_kinks; i++)
        if (fabsf(v - c->kink[i]) < dist)
            return true;
    return false;
}

static void make_data(const op_case *c, int case_index, const model *t, case_data *d) {
    memset(d, 0, sizeof *d);
    test_rng = 0x9E3779B97F4A7C15ull ^ (0x2545F4914F6CDD1Dull * (uint64_t)(case_index + 1));
    for (int k = 0; k < c->n_in; k++) {
        const input_spec *s = &c->in[k];
        const size_t n = (size_t)t->n * (size_t)numel_of(s);
        const bool range = s->lo != 0 || s->hi != 0;
        d->x[k] = test_rand_buf(n, range ? s->lo : -1, range ? s->hi : 1);
        if (s->distinct) { /* a +-EPS step never changes which value is the largest */
            for (size_t i = 0; i < n; i++)
                d->x[k][i] = 0.05f * (float)i - 0.025f * (float)n;
            for (size_t i = n; i > 1; i--) {
                const size_t j = (size_t)(test_urand() * (double)i);
                const float v = d->x[k][i - 1];
                d->x[k][i - 1] = d->x[k][j];
                d->x[k][j] = v;
            }
        }
        for (size_t i = 0; k == 0 && i < n; i++) {
            for (int q = 0; q < c->n_kinks; q++)
                if (fabsf(d->x[k][i] - c->kink[q]) < 3 * EPS)
                    d->x[k][i] = c->kink[q] + (d->x[k][i] < c->kink[q] ? -3 * EPS : 3 * EPS);
            if (c->at_kinks && i % 5 == 0)
                d->x[k][i] = c->kink[(i / 5) % (size_t)c->n_kinks];
        }
    }
    /* labels in [0, classes): of the class axis of input 0 (axis 0 means 1, negative from the end) */
    const input_spec *scores = &c->in[0];
    const int class_axis = c->axis == 0 ? 1 : c->axis < 0 ? c->axis + scores->ndim + 1 : c->axis;
    const int classes = c->classes ? c->classes : (int)scores->shape[class_axis - 1];
    const size_t n_labels = (size_t)t->n * (size_t)labels_per_sample(c);
    d->labels = malloc(sizeof *d->labels * n_labels);
    REQUIRE_MSG(d->labels, "out of memory");
    for (size_t i = 0; i < n_labels; i++)
        d->labels[i] = c->has_ignore && i % 4 == 1 ? c->ignore_index : (int32_t)(test_urand() * classes);
    if (t->target >= 0)
        d->target = test_rand_buf((size_t)t->n * (size_t)t->m->values[t->target].numel, -1, 1);
    d->params = test_rand_buf(op_param_floats(t->m), -1, 1);
    d->buffers = test_rand_buf(aic_model_num_buffers(t->m), 0.5f, 1.5f);
}

/* Lead-ins to the identity, the op's parameters and buffers (all buffers are the op's) from d. */
static aic_status init_model(const op_case *c, model *t, const case_data *d) {
    aic_model_t *m = t->m;
    size_t at = 0;
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p;
        AIC_TRY(aic_model_param(m, i, &p, NULL));
        float *v = p.data;
        const size_t n = (size_t)aic_tensor_numel(&p);
        if (is_op_param(p.name)) {
            memcpy(v, d->params + at, n * sizeof *v);
            at += n;
        } else { /* a lead-in's square weight */
            const int64_t f = p.shape[0];
            for (int64_t r = 0; r < f; r++)
                for (int64_t q = 0; q < f; q++)
                    v[r * f + q] = r == q ? 1.0f : 0.0f;
        }
    }
    memcpy(aic_model_buffers(m), d->buffers, aic_model_num_buffers(m) * sizeof(float));
    for (int k = 0; k < c->n_in; k++)
        AIC_TRY(aic_model_set_input(m, t->x[k], d->x[k], t->n));
    if (t->labels >= 0)
        AIC_TRY(aic_model_set_input(m, t->labels, d->labels, t->n));
    if (t->target >= 0)
        AIC_TRY(aic_model_set_input(m, t->target, d->target, t->n));
    return AIC_OK;
}

/* ---- results: named copies of what a run computed ---------------------------------------------- */

enum { MAX_RESULTS = 16 };
typedef struct {
    char name[48];
    float *v;
    size_t n;
} copy;
typedef struct {
    copy t[MAX_RESULTS];
    int n;
} results;

static void results_add(results *r, const char *name, const float *v, size_t n) {
    REQUIRE_MSG(r->n < MAX_RESULTS, "more than %d results", MAX_RESULTS);
    copy *c = &r->t[r->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->v = test_alloc(n);
    c->n = n;
    memcpy(c->v, v, n * sizeof *v);
}

static void results_free(results *r) {
    for (int i = 0; i < r->n; i++)
        free(r->t[i].v);
    r->n = 0;
}

static const copy *results_find(const results *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->t[i].name, name) == 0)
            return &r->t[i];
    return NULL;
}

/* A copy of t's values as floats: an int value's converted (exactly, for indices). */
static float *floats_of(const aic_tensor *t) {
    const size_t n = (size_t)aic_tensor_numel(t);
    float *f = test_alloc(n);
    for (size_t i = 0; i < n; i++)
        f[i] = t->dtype == AIC_I32 ? (float)((const int32_t *)t->data)[i] : ((const float *)t->data)[i];
    return f;
}

static aic_status add_value(results *r, aic_model_t *m, const char *name, aic_value v, bool grad) {
    aic_tensor t;
    AIC_TRY(grad ? aic_model_value_grad(m, v, &t) : aic_model_value(m, v, &t));
    float *f = floats_of(&t);
    results_add(r, name, f, (size_t)aic_tensor_numel(&t));
    free(f);
    return AIC_OK;
}

static const aic_batch_info TRAIN = {.training = true, .step = 3, .row_offset = 5};

/* One training step from zero gradients (the op's output, the loss, the gradients of its inputs and
 * parameters, its buffers after the step), then the op's output in evaluation mode. */
static aic_status run_step(const op_case *c, model *t, results *r) {
    aic_model_t *m = t->m;
    aic_batch_info b = TRAIN;
    b.n = t->n;
    float loss;
    AIC_TRY(aic_model_zero_grad(m));
    AIC_TRY(aic_model_forward(m, &b, &loss));
    AIC_TRY(aic_model_backward(m, 1.0f));
    AIC_TRY(add_value(r, m, "output", t->y, false));
    results_add(r, "loss", &loss, 1);
    for (int k = 0; k < c->n_in; k++) {
        char name[32];
        snprintf(name, sizeof name, "dx%d", k);
        if (t->lead[k])
            AIC_TRY(add_value(r, m, name, t->h[k], true));
    }
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p, g;
        char name[48];
        AIC_TRY(aic_model_param(m, i, &p, &g));
        snprintf(name, sizeof name, "d%s", p.name);
        if (is_op_param(p.name))
            results_add(r, name, g.data, (size_t)aic_tensor_numel(&g));
    }
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        aic_tensor buf;
        AIC_TRY(aic_model_buffer(m, i, &buf));
        results_add(r, buf.name, buf.data, (size_t)aic_tensor_numel(&buf));
    }
    const aic_batch_info e = {.n = t->n};
    AIC_TRY(aic_model_forward(m, &e, NULL));
    return add_value(r, m, "output (evaluation)", t->y, false);
}

/* The case's test model on one device, initialized and run. */
static aic_status build_and_step(const op_case *c, int index, bool cuda, model *t, case_data *d, bool make,
                                 results *r) {
    AIC_TRY(build(c, true, cuda, t));
    if (make)
        make_data(c, index, t, d);
    AIC_TRY(init_model(c, t, d));
    return run_step(c, t, r);
}

/* ---- comparisons ------------------------------------------------------------------------------- */

/* Largest |got - want| over the largest |want| (NaN: infinite). */
static double rel_diff(const float *got, const float *want, size_t n, size_t *at) {
    double worst = 0, scale = 0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        const double dlt = fabs((double)got[i] - want[i]);
        if (!(dlt <= worst)) {
            worst = isnan(dlt) ? INFINITY : dlt;
            *at = i;
        }
        scale = fmax(scale, fabs(want[i]));
    }
    return scale > 0 ? worst / scale : worst;
}

/* Every result of want against got within tol; returns the worst relative difference. */
static double compare_all(const op_case *c, const char *what, const results *want, const results *got, double tol) {
    double worst = 0;
    for (int i = 0; i < want->n; i++) {
        const copy *w = &want->t[i], *g = results_find(got, w->name);
        if (!CHECK_MSG(g && g->n == w->n, "%s [%s]: %s: '%s' missing or of another size", kind_name(c->kind),
                       c->name, what, w->name))
            continue;
        size_t at;
        const double e = rel_diff(g->v, w->v, w->n, &at);
        CHECK_MSG(e <= tol, "%s [%s]: %s: %s differs by %.3g of its largest magnitude (tol %.0e) at %zu: %.8g vs %.8g",
                  kind_name(c->kind), c->name, what, w->name, e, tol, at, g->v[at], w->v[at]);
        worst = fmax(worst, e);
    }
    return worst;
}

/* ---- (a) finite differences ---------------------------------------------------------------------- */

/* The probe: the loss, or sum(g * sink) in double. */
static aic_status probe(model *t, const float *g, double *out) {
    aic_batch_info b = TRAIN;
    b.n = t->n;
    float loss;
    AIC_TRY(aic_model_forward(t->m, &b, &loss));
    if (t->sink < 0) {
        *out = loss;
        return AIC_OK;
    }
    aic_tensor s;
    AIC_TRY(aic_model_value(t->m, t->sink, &s));
    const float *v = s.data;
    double p = 0;
    for (int64_t i = 0; i < aic_tensor_numel(&s); i++)
        p += (double)g[i] * v[i];
    *out = p;
    return AIC_OK;
}

/* Central differences of the probe against analytic for the n values at v: an input's (fed again
 * after each change: input >= 0) or a parameter's (in place: input -1). share (NULL: none): the part of
 * both that the sink adds straight to an input's gradient, left out of the comparison so that it does
 * not dilute the op's own part. *err: the worst error. */
static aic_status fd_tensor(const op_case *c, model *t, const float *g, float *v, size_t n, int input,
                            const float *analytic, const float *share, const char *what, double *err) {
    const size_t step = n > MAX_FD ? (n + MAX_FD - 1) / MAX_FD : 1;
    double *num = calloc(n ? n : 1, sizeof *num), scale = 0;
    bool *used = calloc(n ? n : 1, sizeof *used);
    REQUIRE_MSG(num && used, "out of memory");
    aic_status st = AIC_OK;
    for (size_t i = 0; i < n && st == AIC_OK; i += step) {
        if (input == 0 && near_kink(c, v[i], 1.5f * EPS))
            continue; /* on a kink: no derivative to approximate */
        const float save = v[i], vp = save + EPS, vm = save - EPS;
        double pp, pm;
        v[i] = vp;
        if (input >= 0)
            st = aic_model_set_input(t->m, t->x[input], v, t->n);
        if (st == AIC_OK)
            st = probe(t, g, &pp);
        v[i] = vm;
        if (st == AIC_OK && input >= 0)
            st = aic_model_set_input(t->m, t->x[input], v, t->n);
        if (st == AIC_OK)
            st = probe(t, g, &pm);
        v[i] = save;
        num[i] = (pp - pm) / ((double)vp - vm) - (share ? share[i] : 0); /* the step taken, in float */
        used[i] = true;
        scale = fmax(scale, fabs(num[i]));
    }
    if (input >= 0 && st == AIC_OK)
        st = aic_model_set_input(t->m, t->x[input], v, t->n);
    /* Relative to the largest derivative, but never below 1e-6: where the true gradient is 0 (batch
     * norm over one value per channel) the differences are float noise of 1e-15. */
    const double floor_ = fmax(1e-2 * scale, 1e-6);
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n && st == AIC_OK; i++) {
        if (!used[i])
            continue;
        const double a = (double)analytic[i] - (share ? share[i] : 0);
        const double e = fabs(a - num[i]) / fmax(fmax(fabs(a), fabs(num[i])), floor_);
        if (!(e <= worst)) {
            worst = isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    if (st == AIC_OK)
        CHECK_MSG(worst <= c->tol,
                  "%s [%s]: %s: finite differences: max rel err %.3g (tol %.0e) at %zu: backward %.8g, numeric %.8g",
                  kind_name(c->kind), c->name, what, worst, c->tol, at, analytic[at] - (share ? share[at] : 0),
                  num[at]);
    *err = fmax(*err, worst);
    free(num);
    free(used);
    return st;
}

/* What the sink adds straight to dx_k: per sample, the sink holds y (where y_in_sink), then h_0, h_1,
 * ...; h_k's slice of the sink's gradient g. */
static float *sink_share(const op_case *c, const model *t, const float *g, int k) {
    size_t at = y_in_sink(t) ? (size_t)t->m->values[t->y].numel : 0;
    for (int j = 0; j < k; j++)
        at += (size_t)numel_of(&c->in[j]);
    const size_t per = (size_t)numel_of(&c->in[k]), sink = (size_t)t->m->values[t->sink].numel;
    float *share = test_alloc((size_t)t->n * per);
    for (int s = 0; s < t->n; s++)
        memcpy(share + (size_t)s * per, g + (size_t)s * sink + at, per * sizeof *share);
    return share;
}

/* ref: the CPU step of this model (run_step). The model is left with its parameters and inputs. */
static aic_status check_fd(const op_case *c, model *t, case_data *d, const results *ref, double *err) {
    aic_model_t *m = t->m;
    float *g = NULL;
    if (t->sink >= 0) { /* the gradient backward gave the sink: after run_step, still in place */
        aic_tensor s;
        AIC_TRY(aic_model_value_grad(m, t->sink, &s));
        g = test_alloc((size_t)aic_tensor_numel(&s));
        memcpy(g, s.data, sizeof(float) * (size_t)aic_tensor_numel(&s));
    }
    aic_status st = AIC_OK;
    for (int k = 0; k < c->n_in && st == AIC_OK; k++) {
        char name[32];
        snprintf(name, sizeof name, "dx%d", k);
        const copy *a = results_find(ref, name);
        float *share = a && g ? sink_share(c, t, g, k) : NULL;
        if (a)
            st = fd_tensor(c, t, g, d->x[k], a->n, k, a->v, share, name, err);
        free(share);
    }
    for (int i = 0; i < aic_model_param_count(m) && st == AIC_OK; i++) {
        aic_tensor p;
        char name[48];
        st = aic_model_param(m, i, &p, NULL);
        snprintf(name, sizeof name, "d%s", p.name);
        const copy *a = results_find(ref, name);
        if (st == AIC_OK && a)
            st = fd_tensor(c, t, g, p.data, a->n, -1, a->v, NULL, name, err);
    }
    free(g);
    return st;
}

/* A second forward is bitwise the first; a second backward on top doubles the parameter gradients
 * (gradients accumulate until zeroed) and leaves the input gradients as they were (zeroed per step). */
static aic_status check_repeat(const op_case *c, model *t, const results *ref) {
    aic_model_t *m = t->m;
    aic_batch_info b = TRAIN;
    b.n = t->n;
    AIC_TRY(aic_model_zero_grad(m));
    for (int pass = 0; pass < 2; pass++) {
        AIC_TRY(aic_model_forward(m, &b, NULL));
        AIC_TRY(aic_model_backward(m, 1.0f));
    }
    results r = {0};
    AIC_TRY(add_value(&r, m, "output", t->y, false));
    for (int k = 0; k < c->n_in; k++) {
        char name[32];
        snprintf(name, sizeof name, "dx%d", k);
        if (t->lead[k])
            AIC_TRY(add_value(&r, m, name, t->h[k], true));
    }
    for (int i = 0; i < r.n; i++) {
        const copy *want = results_find(ref, r.t[i].name);
        CHECK_MSG(want && memcmp(want->v, r.t[i].v, want->n * sizeof(float)) == 0,
                  "%s [%s]: %s of a second step is not bitwise the first's", kind_name(c->kind), c->name, r.t[i].name);
    }
    for (int i = 0; i < aic_model_param_count(m); i++) {
        aic_tensor p, g;
        char name[48];
        AIC_TRY(aic_model_param(m, i, &p, &g));
        snprintf(name, sizeof name, "d%s", p.name);
        const copy *once = results_find(ref, name);
        if (!once)
            continue;
        const float *twice = g.data;
        double worst = 0, scale = 1e-30;
        for (size_t j = 0; j < once->n; j++) {
            scale = fmax(scale, fabs(once->v[j]));
            worst = fmax(worst, fabs(twice[j] - 2.0 * once->v[j]));
        }
        CHECK_MSG(worst / scale <= 1e-6, "%s [%s]: %s after two backward passes is not twice one's (%.3g)",
                  kind_name(c->kind), c->name, name, worst / scale);
    }
    results_free(&r);
    return AIC_OK;
}

/* The op fed straight from the inputs (input gradients NULL): bitwise the same parameter gradients. */
static aic_status check_null_grads(const op_case *c, model *plain, const results *ref) {
    results r = {0};
    AIC_TRY(run_step(c, plain, &r));
    for (int i = 0; i < r.n; i++) {
        const copy *want = results_find(ref, r.t[i].name);
        if (strncmp(r.t[i].name, "dop.", 4) == 0)
            CHECK_MSG(want && memcmp(want->v, r.t[i].v, want->n * sizeof(float)) == 0,
                      "%s [%s]: %s differs when the op's input gradient is NULL", kind_name(c->kind), c->name,
                      r.t[i].name);
    }
    results_free(&r);
    return AIC_OK;
}

/* The first i where a and b differ (as values: -0 == 0), or n. */
static size_t first_difference(const float *a, const float *b, size_t n) {
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* The outputs of the step and of evaluation (ref, run_step's) are c->ref's of the op's input, bit for
 * bit; false (a failure counted) where not. */
static bool check_ref(const op_case *c, model *t, const results *ref) {
    aic_tensor x;
    const copy *y = results_find(ref, "output"), *ye = results_find(ref, "output (evaluation)");
    if (!CHECK_MSG(y && ye && aic_model_value(t->m, t->m->ops[t->op].in[0], &x) == AIC_OK,
                   "%s [%s]: no input or output to check against the reference", kind_name(c->kind), c->name))
        return false;
    float *want = test_alloc(y->n);
    c->ref(c, &x, want);
    const size_t at = first_difference(y->v, want, y->n), at_e = first_difference(ye->v, want, y->n);
    const size_t i = at < at_e ? at : at_e;
    const bool exact = CHECK_MSG(i == y->n, "%s [%s]: output %zu is %g (evaluation %g), the reference's %g",
                                 kind_name(c->kind), c->name, i, y->v[i], ye->v[i], want[i]);
    free(want);
    return exact;
}

/* An op without a backward passes nothing back: each input's gradient (ref's) is the sink's share
 * alone, and an int output has no gradient to ask for. */
static aic_status check_no_grad(const op_case *c, model *t, const results *ref) {
    aic_tensor s, gy;
    AIC_TRY(aic_model_value_grad(t->m, t->sink, &s));
    for (int k = 0; k < c->n_in; k++) {
        char name[32];
        snprintf(name, sizeof name, "dx%d", k);
        const copy *dx = results_find(ref, name);
        if (!dx)
            continue;
        float *share = sink_share(c, t, s.data, k);
        const size_t i = first_difference(dx->v, share, dx->n);
        CHECK_MSG(i == dx->n, "%s [%s]: %s[%zu] is %g, the sink's share %g: a gradient flowed through the op",
                  kind_name(c->kind), c->name, name, i, dx->v[i], share[i]);
        free(share);
    }
    if (!y_in_sink(t))
        CHECK_MSG(aic_model_value_grad(t->m, t->y, &gy) == AIC_ERR_INVALID_ARG &&
                      strstr(aic_last_error(), "holds int32 values, which get no gradient"),
                  "%s [%s]: the int output has a gradient", kind_name(c->kind), c->name);
    return AIC_OK;
}

/* ---- (b) alternative CPU paths ------------------------------------------------------------------- */

/* oneDNN's primitives take the case's convolution (else both runs take the reference). */
static bool dnnl_takes_conv(const model *t) {
    aic_conv2d_dims d = t->m->ops[t->op].attr.conv;
    d.N = t->n;
    const size_t ni = (size_t)d.N * d.C * d.H * d.W, nw = (size_t)d.OC * (d.C / d.G) * d.KH * d.KW;
    const size_t no = (size_t)d.N * d.OC * d.OH * d.OW;
    float *x = test_alloc(ni), *dx = test_alloc(ni), *w = test_alloc(nw), *dw = test_alloc(nw);
    float *b = test_alloc(d.OC), *db = test_alloc(d.OC), *y = test_alloc(no);
    const bool bias = t->m->ops[t->op].param[1] >= 0;
    const bool ok = aic_conv2d_dnnl_forward(y, x, w, bias ? b : NULL, &d) == AIC_OK &&
                    aic_conv2d_dnnl_backward_data(dx, y, w, &d, bias) == AIC_OK &&
                    aic_conv2d_dnnl_backward_weights(dw, bias ? db : NULL, y, x, &d) == AIC_OK;
    free(x), free(dx), free(w), free(dw), free(b), free(db), free(y);
    return ok;
}

/* CPU kernels with a second implementation: the environment switch core/ops.c reads, the value that
 * picks the second one, and a check that the default path really runs the case's shape. */
static const struct {
    aic_op_kind kind;
    const char *env, *value, *what;
    bool (*default_takes)(const model *t);
} ALT_PATHS[] = {
    {AIC_OP_CONV2D, "AICON_CPU_CONV", "reference", "oneDNN vs the im2col reference", dnnl_takes_conv},
};
enum { N_ALT = sizeof ALT_PATHS / sizeof ALT_PATHS[0] };

/* The child: every case of ALT_PATHS[k]'s kind, its run_step results appended to out. */
static int alt_child(int k, const char *out) {
    FILE *f = fopen(out, "wb");
    REQUIRE_MSG(f, "cannot write %s", out);
    for (int i = 0; i < N_CASES; i++) {
        if (CASES[i].kind != ALT_PATHS[k].kind)
            continue;
        model t;
        case_data d;
        results r = {0};
        REQUIRE_OK(build_and_step(&CASES[i], i, false, &t, &d, true, &r));
        const int32_t n = r.n;
        REQUIRE_MSG(fwrite(&n, sizeof n, 1, f) == 1, "cannot write %s", out);
        for (int j = 0; j < r.n; j++) {
            const uint64_t cnt = r.t[j].n;
            REQUIRE_MSG(fwrite(r.t[j].name, sizeof r.t[j].name, 1, f) == 1 && fwrite(&cnt, sizeof cnt, 1, f) == 1 &&
                            fwrite(r.t[j].v, sizeof(float), r.t[j].n, f) == r.t[j].n,
                        "cannot write %s", out);
        }
        results_free(&r);
        data_free(&d);
        model_free(&t);
    }
    REQUIRE_MSG(fclose(f) == 0, "cannot write %s", out);
    return 0;
}

/* Runs the child for ALT_PATHS[k] with the switch flipped from this process's; its results file. */
static FILE *alt_spawn(const char *self, int k, const char *dir) {
    char out[4096], arg[16];
    snprintf(out, sizeof out, "%s/alt%d.bin", dir, k);
    snprintf(arg, sizeof arg, "%d", k);
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        const char *cur = getenv(ALT_PATHS[k].env);
        if (cur && strcmp(cur, ALT_PATHS[k].value) == 0)
            unsetenv(ALT_PATHS[k].env);
        else
            setenv(ALT_PATHS[k].env, ALT_PATHS[k].value, 1);
        execl("/proc/self/exe", self, "--alt-path", arg, out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    const bool ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK_MSG(ok, "%s: the child process with %s flipped failed (status %d)", ALT_PATHS[k].what, ALT_PATHS[k].env,
              status);
    return ok ? fopen(out, "rb") : NULL;
}

static bool alt_read(FILE *f, results *r) {
    int32_t n;
    if (!f || fread(&n, sizeof n, 1, f) != 1 || n < 0 || n > MAX_RESULTS)
        return false;
    for (int j = 0; j < n; j++) {
        copy *c = &r->t[r->n];
        uint64_t cnt;
        if (fread(c->name, sizeof c->name, 1, f) != 1 || fread(&cnt, sizeof cnt, 1, f) != 1 || cnt > (1u << 26))
            return false;
        c->name[sizeof c->name - 1] = '\0';
        c->n = cnt;
        c->v = test_alloc(cnt);
        r->n++;
        if (fread(c->v, sizeof(float), cnt, f) != cnt)
            return false;
    }
    return true;
}

/* ---- (c) CUDA ------------------------------------------------------------------------------------ */

/* NULL when a GPU is there to test on, else why not. */
static const char *no_gpu_reason(void) {
#ifdef AICON_HAVE_CUDA
    static char why[512];
    int gpus = 0;
    if (aic_gpu_count(&gpus) != AIC_OK || gpus == 0) {
        snprintf(why, sizeof why, "%s", aic_last_error()[0] ? aic_last_error() : "no CUDA device visible");
        return why;
    }
    return NULL;
#else
    return "this aicon was built without CUDA";
#endif
}

#ifdef AICON_HAVE_CUDA
static aic_status check_cuda(const op_case *c, int index, case_data *d, const results *cpu, double *err) {
    model t;
    results r = {0};
    aic_status st = build_and_step(c, index, true, &t, d, false, &r);
    if (st == AIC_OK)
        *err = compare_all(c, "CUDA vs CPU", cpu, &r, TOL_BACKENDS);
    results_free(&r);
    model_free(&t);
    return st;
}
#endif

/* ---- (d) ONNX, (e) files for onnxruntime -------------------------------------------------------- */

static bool write_file(const char *path, const void *data, size_t bytes) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, bytes, f) == bytes;
    if (f)
        ok = fclose(f) == 0 && ok;
    return CHECK_MSG(ok, "cannot write %s", path);
}

/* plain: the op fed from its inputs, initialized, not yet run. Exports it, imports it back and
 * compares the outputs of evaluation mode; writes the files (e) reads and its manifest line. */
static aic_status check_onnx(const op_case *c, int index, model *plain, const case_data *d, const char *dir,
                             FILE *manifest, bool *bitwise) {
    const aic_batch_info e = {.n = plain->n};
    aic_tensor y;
    AIC_TRY(aic_model_forward(plain->m, &e, NULL));
    AIC_TRY(aic_model_value(plain->m, plain->y, &y));
    char path[4096];
    snprintf(path, sizeof path, "%s/%03d.onnx", dir, index);
    AIC_TRY(aic_onnx_export(plain->m, path));

    aic_onnx_model_t *om = NULL;
    aic_model_t *mi = NULL;
    aic_onnx_binding bind;
    aic_status st = aic_onnx_load(path, &om);
    if (st == AIC_OK)
        st = aic_onnx_import(om, plain->n, &mi, &bind);
    if (st == AIC_OK && !CHECK_MSG(bind.n_inputs == c->n_in + c->labels && bind.n_outputs == 1,
                                   "%s [%s]: the exported model has %d inputs and %d outputs", kind_name(c->kind),
                                   c->name, bind.n_inputs, bind.n_outputs))
        st = AIC_ERR_FORMAT;
    for (int i = 0; st == AIC_OK && i < bind.n_inputs; i++) {
        const bool labels = strcmp(bind.input_names[i], "labels") == 0;
        const int k = labels ? 0 : atoi(bind.input_names[i] + 1); /* "x<k>" */
        st = aic_model_set_input(mi, bind.inputs[i], labels ? (const void *)d->labels : d->x[k], plain->n);
    }
    aic_tensor yi;
    if (st == AIC_OK)
        st = aic_model_forward(mi, &e, NULL);
    if (st == AIC_OK)
        st = aic_model_value(mi, bind.outputs[0], &yi);
    if (st == AIC_OK && CHECK_MSG(aic_tensor_numel(&yi) == aic_tensor_numel(&y),
                                  "%s [%s]: the re-imported model has %lld outputs, the op %lld", kind_name(c->kind),
                                  c->name, (long long)aic_tensor_numel(&yi), (long long)aic_tensor_numel(&y))) {
        const size_t n = (size_t)aic_tensor_numel(&y);
        float *got = floats_of(&yi), *want = floats_of(&y);
        size_t at;
        const double diff = rel_diff(got, want, n, &at);
        *bitwise = yi.dtype == y.dtype && memcmp(got, want, n * sizeof(float)) == 0;
        free(got);
        free(want);
        CHECK_MSG(diff <= TOL_ONNX, "%s [%s]: exported and re-imported: output differs by %.3g of its largest (tol %.0e)",
                  kind_name(c->kind), c->name, diff, TOL_ONNX);
    }
    aic_model_destroy(mi);
    aic_onnx_free(om);
    AIC_TRY(st);

    /* (e): NNN.x<k>.f32 each input, NNN.labels.i32 the int input, NNN.y.f32 the output; the manifest
     * line: id, label, then name=dims per input and output=dims, dims with the batch first (a loss's
     * scalar: none) */
    fprintf(manifest, "%03d\t%s [%s]", index, kind_name(c->kind), c->name);
    for (int k = 0; k < c->n_in; k++) {
        const input_spec *s = &c->in[k];
        snprintf(path, sizeof path, "%s/%03d.x%d.f32", dir, index, k);
        write_file(path, d->x[k], sizeof(float) * (size_t)plain->n * (size_t)numel_of(s));
        fprintf(manifest, "\tx%d=%d", k, plain->n);
        for (int i = 0; i < s->ndim; i++)
            fprintf(manifest, ",%lld", (long long)s->shape[i]);
    }
    if (c->labels) {
        snprintf(path, sizeof path, "%s/%03d.labels.i32", dir, index);
        write_file(path, d->labels, sizeof(int32_t) * (size_t)plain->n * (size_t)labels_per_sample(c));
        fprintf(manifest, "\tlabels=%d", plain->n);
        for (int i = 0; i < c->lndim; i++)
            fprintf(manifest, ",%lld", (long long)c->lshape[i]);
    }
    fprintf(manifest, "\toutput=");
    for (int i = 0; i < y.ndim; i++)
        fprintf(manifest, "%s%lld", i ? "," : "", (long long)y.shape[i]);
    fputc('\n', manifest);
    snprintf(path, sizeof path, "%s/%03d.y.f32", dir, index);
    float *yf = floats_of(&y); /* an int output as floats: onnxruntime.js compares numbers */
    write_file(path, yf, sizeof(float) * (size_t)aic_tensor_numel(&y));
    free(yf);
    return AIC_OK;
}

/* ---- one case ------------------------------------------------------------------------------------ */

static void run_case(int index, FILE *alt[N_ALT], const char *dir, FILE *manifest, const char *no_gpu) {
    const op_case *c = &CASES[index];
    const char *kn = kind_name(c->kind);
    char line[512];
    int len = snprintf(line, sizeof line, "%-14s %-44s", kn, c->name);
    model t = {0}, plain = {0};
    case_data d = {0};
    results ref = {0};
    if (!CHECK_MSG(build_and_step(c, index, false, &t, &d, true, &ref) == AIC_OK, "%s [%s]: the CPU step failed", kn,
                   c->name))
        goto done;
    if (!CHECK_MSG(t.m->ops[t.op].kind == c->kind, "%s [%s]: the builder made a %s op", kn, c->name,
                   kind_name(t.m->ops[t.op].kind)))
        goto done;

    if (c->ref && check_ref(c, &t, &ref))
        len += snprintf(line + len, sizeof line - (size_t)len, "  ref exact");
    if (!aic_op_descs[c->kind]->cpu.backward && t.m->values[t.y].alias_of < 0) /* a reshape's gradient is x's */
        CHECK_MSG(check_no_grad(c, &t, &ref) == AIC_OK, "%s [%s]: the gradient check failed", kn, c->name);

    /* (a) */
    double fd = 0;
    CHECK_MSG(check_repeat(c, &t, &ref) == AIC_OK, "%s [%s]: the repeated step failed", kn, c->name);
    CHECK_MSG(check_fd(c, &t, &d, &ref, &fd) == AIC_OK, "%s [%s]: finite differences failed", kn, c->name);
    len += snprintf(line + len, sizeof line - (size_t)len, "  fd %.1e", fd);

    /* (b) */
    for (int k = 0; k < N_ALT; k++) {
        if (ALT_PATHS[k].kind != c->kind)
            continue;
        results r = {0};
        CHECK_MSG(ALT_PATHS[k].default_takes(&t), "%s [%s]: %s: the default path does not take this case", kn,
                  c->name, ALT_PATHS[k].what);
        if (CHECK_MSG(alt_read(alt[k], &r), "%s [%s]: no results from the %s child", kn, c->name, ALT_PATHS[k].env))
            len += snprintf(line + len, sizeof line - (size_t)len, "  %s=%s %.1e", ALT_PATHS[k].env,
                            ALT_PATHS[k].value, compare_all(c, ALT_PATHS[k].what, &r, &ref, TOL_BACKENDS));
        results_free(&r);
    }

    /* (c) */
    if (no_gpu) {
        len += snprintf(line + len, sizeof line - (size_t)len, "  cuda skipped");
    } else {
#ifdef AICON_HAVE_CUDA
        double e = 0;
        CHECK_MSG(check_cuda(c, index, &d, &ref, &e) == AIC_OK, "%s [%s]: the CUDA step failed", kn, c->name);
        len += snprintf(line + len, sizeof line - (size_t)len, "  cuda %.1e", e);
#endif
    }

    /* (d), (e), then the rest of (a), on the op fed straight from the inputs: exported with fresh
     * buffers, before a training step moves the running statistics */
    if (!CHECK_MSG(build(c, false, false, &plain) == AIC_OK && init_model(c, &plain, &d) == AIC_OK,
                   "%s [%s]: the model without lead-ins failed", kn, c->name))
        goto done;
    if (c->no_export) {
        len += snprintf(line + len, sizeof line - (size_t)len, "  onnx: not exported (%s)", c->no_export);
    } else {
        bool bitwise = false;
        if (CHECK_MSG(check_onnx(c, index, &plain, &d, dir, manifest, &bitwise) == AIC_OK,
                      "%s [%s]: ONNX export and re-import failed", kn, c->name))
            len += snprintf(line + len, sizeof line - (size_t)len, "  onnx %s", bitwise ? "bitwise" : "close");
    }
    if (op_param_floats(t.m) > 0)
        CHECK_MSG(check_null_grads(c, &plain, &ref) == AIC_OK, "%s [%s]: the step without lead-ins failed", kn,
                  c->name);
done:
    printf("%s\n", line);
    results_free(&ref);
    data_free(&d);
    model_free(&plain);
    model_free(&t);
}

/* ---- int inputs: bad values --------------------------------------------------------------------- */

/* The model's forward fails, its message holding want. */
static void expect_forward_fails(aic_model_t *m, int n, const char *what, const char *want) {
    const aic_batch_info b = {.n = n};
    const aic_status st = aic_model_forward(m, &b, NULL);
    CHECK_MSG(st == AIC_ERR_INVALID_ARG && strstr(aic_last_error(), want), "%s: status %d, '%s' (want '%s')", what,
              (int)st, aic_last_error(), want);
}

/* Ids outside the vocabulary and labels outside the classes (not ignored) fail the forward pass naming
 * the op, the value, its batch row and its position; labels of the wrong shape fail the builder. */
static void check_bad_ints(void) {
    aic_model_t *m = NULL;
    aic_value ids, emb, x, labels, loss;
    const int64_t three = 3, scores[2] = {4, 3}, two = 2;
    const int32_t bad_ids[6] = {0, 1, 2, 4, 5, 0}, bad_labels[6] = {0, 1, -100, 2, 9, 3};
    const aic_xent_opts ignore = {.has_ignore = true, .ignore_index = -100};
    REQUIRE_OK(aic_model_create(&m, "bad ids"));
    REQUIRE_OK(aic_int_input(m, "ids", 1, &three, &ids));
    REQUIRE_OK(aic_embedding(m, "emb", ids, 5, 2, &emb));
    REQUIRE_OK(aic_model_compile(m, 2, 1));
    REQUIRE_OK(aic_model_set_input(m, ids, bad_ids, 2));
    expect_forward_fails(m, 2, "embedding", "op 'emb': id 5 of batch row 1 at position 1 is outside 0..4");
    aic_model_destroy(m);

    REQUIRE_OK(aic_model_create(&m, "bad labels"));
    REQUIRE_OK(aic_input(m, "x", 2, scores, &x));
    REQUIRE_OK(aic_int_input(m, "labels", 1, &three, &labels));
    REQUIRE_OK(aic_cross_entropy(m, "loss", x, labels, &ignore, &loss));
    REQUIRE_OK(aic_model_compile(m, 2, 1));
    REQUIRE_OK(aic_model_set_input(m, labels, bad_labels, 2));
    expect_forward_fails(m, 2, "cross-entropy",
                         "op 'loss': label 9 of batch row 1 at position 1 is outside 0..3 and is not ignore_index -100");
    aic_model_destroy(m);

    REQUIRE_OK(aic_model_create(&m, "labels of another shape"));
    REQUIRE_OK(aic_input(m, "x", 2, scores, &x));
    REQUIRE_OK(aic_int_input(m, "labels", 1, &two, &labels));
    const aic_status st = aic_cross_entropy(m, "loss", x, labels, NULL, &loss);
    CHECK_MSG(st == AIC_ERR_SHAPE && strstr(aic_last_error(), "need labels of their shape without that axis"),
              "labels of another shape: status %d, '%s'", (int)st, aic_last_error());
    aic_model_destroy(m);
    printf("int inputs: bad ids and labels fail naming the op, the value and its position\n");

    /* the embedding's table starts N(0, 1), as torch.nn.Embedding's */
    aic_tensor w;
    double sum = 0, sq = 0;
    REQUIRE_OK(aic_model_create(&m, "embedding init"));
    REQUIRE_OK(aic_int_input(m, "ids", 1, &three, &ids));
    REQUIRE_OK(aic_embedding(m, "emb", ids, 1000, 100, &emb));
    REQUIRE_OK(aic_model_compile(m, 1, 3));
    REQUIRE_OK(aic_model_find_param(m, "emb.weight", &w));
    const float *v = w.data;
    for (int64_t i = 0; i < aic_tensor_numel(&w); i++)
        sum += v[i], sq += (double)v[i] * v[i];
    const double mean = sum / 1e5, sd = sqrt(sq / 1e5 - mean * mean);
    CHECK_MSG(fabs(mean) < 0.01 && fabs(sd - 1) < 0.01, "embedding init: mean %.4f, std %.4f of N(0, 1)", mean, sd);
    printf("embedding init: 100000 values, mean %.4f, std %.4f\n", mean, sd);
    aic_model_destroy(m);
}

/* ---- the losses' log_prob path ------------------------------------------------------------------ */

/* One loss over scores N x 4 x 3 (a dense lead-in gives them a gradient) with class weights and an
 * ignored label: cross-entropy fused, or log_softmax feeding nll (log_prob: ONNX's
 * SoftmaxCrossEntropyLoss with its log_prob output imports so). The loss (each position's for
 * 'none', which an mse against zeros then takes) and the scores' gradient go to loss and grad. */
static aic_status log_prob_run(aic_loss_reduction r, bool log_prob, float loss[6], float grad[24]) {
    static const int64_t flat = 12, scores[2] = {4, 3}, per = 3;
    static const int32_t labels[6] = {0, 3, -1, 2, 1, 3};
    static const float w[4] = {0.5f, 1.25f, 2.0f, 0.75f};
    static const float zeros[6] = {0};
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
    aic_model_t *m = NULL;
    aic_value in, lab, s, y, target, sum;
    const aic_xent_opts o = {.has_ignore = true, .ignore_index = -1, .reduction = r, .class_weights = true};
    aic_status st = aic_model_create(&m, "log_prob");
    if (st == AIC_OK)
        st = aic_input(m, "x", 1, &flat, &in);
    if (st == AIC_OK)
        st = aic_int_input(m, "labels", 1, &per, &lab);
    if (st == AIC_OK)
        st = aic_dense(m, "lead", in, flat, false, &s);
    if (st == AIC_OK)
        st = aic_reshape(m, "scores", s, 2, scores, &s);
    if (st == AIC_OK && log_prob)
        st = aic_log_softmax(m, "log_prob", s, 1, &y);
    if (st == AIC_OK)
        st = log_prob ? aic_nll(m, "loss", y, lab, &o, &y) : aic_cross_entropy(m, "loss", s, lab, &o, &y);
    if (st == AIC_OK && r == AIC_LOSS_NONE)
        st = aic_input(m, "target", 1, &per, &target);
    if (st == AIC_OK && r == AIC_LOSS_NONE)
        st = aic_mse(m, "sum", y, target, &sum);
    if (st == AIC_OK)
        st = aic_model_compile(m, 2, 5);
    aic_tensor t;
    for (int i = 0; st == AIC_OK && i < aic_model_buffer_count(m); i++) /* the weights, the only buffer */
        if ((st = aic_model_buffer(m, i, &t)) == AIC_OK)
            memcpy(t.data, w, sizeof w);
    if (st == AIC_OK)
        st = aic_model_set_input(m, in, x, 2);
    if (st == AIC_OK)
        st = aic_model_set_input(m, lab, labels, 2);
    if (st == AIC_OK && r == AIC_LOSS_NONE)
        st = aic_model_set_input(m, target, zeros, 2);
    if (st == AIC_OK)
        st = aic_model_forward(m, &(aic_batch_info){.n = 2, .training = true}, loss);
    if (st == AIC_OK && r == AIC_LOSS_NONE && (st = aic_model_value(m, y, &t)) == AIC_OK)
        memcpy(loss, t.data, sizeof(float) * 6);
    if (st == AIC_OK)
        st = aic_model_backward(m, 1.0f);
    if (st == AIC_OK && (st = aic_model_value_grad(m, s, &t)) == AIC_OK)
        memcpy(grad, t.data, sizeof(float) * 24);
    aic_model_destroy(m);
    return st;
}

/* The log_prob path gives the fused loss's numbers: loss and gradient within 1e-6 of their largest
 * magnitude, for each reduction. */
static void check_log_prob_path(void) {
    for (int r = AIC_LOSS_MEAN; r <= AIC_LOSS_NONE; r++) {
        float loss[2][6] = {{0}}, grad[2][24];
        if (!CHECK_OK(log_prob_run((aic_loss_reduction)r, false, loss[0], grad[0])) ||
            !CHECK_OK(log_prob_run((aic_loss_reduction)r, true, loss[1], grad[1])))
            continue;
        double le = 0, lmax = 0, ge = 0, gmax = 0;
        for (int i = 0; i < 6; i++) {
            le = fmax(le, fabs((double)loss[0][i] - loss[1][i]));
            lmax = fmax(lmax, fabs((double)loss[0][i]));
        }
        for (int i = 0; i < 24; i++) {
            ge = fmax(ge, fabs((double)grad[0][i] - grad[1][i]));
            gmax = fmax(gmax, fabs((double)grad[0][i]));
        }
        CHECK_MSG(lmax > 0 && gmax > 0 && le <= 1e-6 * lmax && ge <= 1e-6 * gmax,
                  "log_prob path, reduction %s: loss differs by %.2g of %.2g, gradient by %.2g of %.2g",
                  aic_xent_reduction_name(r), le, lmax, ge, gmax);
        printf("log_prob path (log_softmax + nll), class weights, reduction %s: loss %.1e, gradient %.1e from the "
               "fused op's\n", aic_xent_reduction_name(r), le / lmax, ge / gmax);
    }
}

/* aic_attention refuses what it cannot compute, naming the op and why. */
static void check_bad_attention(void) {
    static const struct {
        int64_t q[2], k[2], v[2];
        bool causal;
        float scale;
        const char *want;
    } bad[] = {
        {{4, 8}, {3, 8}, {3, 8}, true, 0, "a causal mask needs S >= T"},
        {{4, 8}, {4, 6}, {4, 6}, false, 0, "k and v must both be S x D with q's D"},
        {{4, 8}, {5, 8}, {4, 8}, false, 0, "k and v must both be S x D with q's D"},
        {{4, 8}, {4, 8}, {4, 8}, false, -1, "scale must be finite and not negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        aic_model_t *m = NULL;
        aic_value q, k, v, o;
        REQUIRE_OK(aic_model_create(&m, "bad attention"));
        REQUIRE_OK(aic_input(m, "q", 2, bad[i].q, &q));
        REQUIRE_OK(aic_input(m, "k", 2, bad[i].k, &k));
        REQUIRE_OK(aic_input(m, "v", 2, bad[i].v, &v));
        const aic_status st = aic_attention(m, "attn", q, k, v, bad[i].causal, bad[i].scale, &o);
        CHECK_MSG(st == AIC_ERR_SHAPE && strstr(aic_last_error(), "op 'attn' (attention)") &&
                      strstr(aic_last_error(), bad[i].want),
                  "bad attention %zu: status %d, '%s' (want '%s')", i, (int)st, aic_last_error(), bad[i].want);
        aic_model_destroy(m);
    }
    printf("attention: %zu bad shapes and scales refused naming the op\n", sizeof bad / sizeof *bad);
}

/* aic_argmax and aic_hardmax refuse an axis over or in front of the batch, one out of range, and an
 * int input, naming the op. */
static void check_bad_argmax(void) {
    static const struct {
        bool moved, ints, hardmax; /* the batch second (3 x N x 4); an int input */
        int axis;
        const char *want;
    } bad[] = {
        {false, false, false, 0, "op 'am' (argmax): axis 0 is the batch axis of input 'x' (shape Nx3x4)"},
        {false, false, true, -3, "op 'am' (hardmax): axis -3 is the batch axis of input 'x' (shape Nx3x4)"},
        {false, false, false, 3, "op 'am' (argmax): axis 3 is outside -3..2"},
        {true, false, false, 1, "op 'am' (argmax): axis 1 is the batch axis"},
        {true, false, false, 0, "op 'am' (argmax): axis 0 of input 't' (shape 3xNx4) is not one of 2..2"},
        {false, true, false, 1, "op 'am': input 'x' must be a float tensor"},
    };
    const int64_t shape[2] = {3, 4};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        aic_model_t *m = NULL;
        aic_value x, y;
        REQUIRE_OK(aic_model_create(&m, "bad argmax"));
        REQUIRE_OK((bad[i].ints ? aic_int_input : aic_input)(m, "x", 2, shape, &x));
        if (bad[i].moved)
            REQUIRE_OK(aic_transpose(m, "t", x, (const int[]){1, 0, 2}, &x));
        const aic_status st = bad[i].hardmax ? aic_hardmax(m, "am", x, bad[i].axis, &y)
                                             : aic_argmax(m, "am", x, bad[i].axis, false, false, false, &y);
        CHECK_MSG(st == AIC_ERR_SHAPE && strstr(aic_last_error(), bad[i].want), "bad argmax %zu: status %d, '%s' "
                  "(want '%s')", i, (int)st, aic_last_error(), bad[i].want);
        aic_model_destroy(m);
    }
    printf("argmax, hardmax: %zu bad axes and inputs refused naming the op\n", sizeof bad / sizeof *bad);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--alt-path") == 0) {
        const int k = atoi(argv[2]);
        REQUIRE_MSG(k >= 0 && k < N_ALT, "no alternative path %d", k);
        return alt_child(k, argv[3]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    REQUIRE_MSG(mkdir(dir, 0755) == 0 || errno == EEXIST, "cannot make %s: %s", dir, strerror(errno));

    /* Every op kind with math has a case. */
    bool covered[AIC_OP_KIND_COUNT] = {false};
    for (int i = 0; i < N_CASES; i++)
        covered[CASES[i].kind] = true;
    for (int k = 0; k < AIC_OP_KIND_COUNT; k++)
        CHECK_MSG(k == AIC_OP_INPUT || k == AIC_OP_LABELS || covered[k], "op kind %s has no case in tests/test_ops.c",
                  kind_name((aic_op_kind)k));
#ifdef AICON_HAVE_CUDA
    for (int k = 0; k < AIC_OP_KIND_COUNT; k++)
        CHECK_MSG((!aic_op_descs[k]->cpu.forward || aic_op_descs[k]->cuda.forward) &&
                      (!aic_op_descs[k]->cpu.backward || aic_op_descs[k]->cuda.backward),
                  "op kind %s has no CUDA kernel", kind_name((aic_op_kind)k));
#endif

    const char *no_gpu = no_gpu_reason();
    if (no_gpu)
        printf("cuda: skipped: no GPU (%s)\n", no_gpu);
    FILE *alt[N_ALT];
    for (int k = 0; k < N_ALT; k++) {
        alt[k] = alt_spawn(argv[0], k, dir);
        printf("%s: %s (%s=%s in a child process)\n", kind_name(ALT_PATHS[k].kind), ALT_PATHS[k].what,
               ALT_PATHS[k].env, ALT_PATHS[k].value);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    FILE *manifest = fopen(path, "w");
    REQUIRE_MSG(manifest, "cannot write %s", path);
    for (int i = 0; i < N_CASES; i++)
        run_case(i, alt, dir, manifest, no_gpu);
    CHECK_MSG(fclose(manifest) == 0, "cannot write %s", path);
    for (int k = 0; k < N_ALT; k++)
        if (alt[k])
            fclose(alt[k]);
    check_bad_ints();
    check_bad_attention();
    check_log_prob_path();
    check_bad_argmax();
    printf("%d cases\n", N_CASES);
    return test_report("ops");
}
