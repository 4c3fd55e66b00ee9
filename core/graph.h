// SPDX-License-Identifier: Apache-2.0
/* Internal model representation: values (tensors whose shape holds the batch size once, linearly),
 * ops in topological order (the order they were built), and the arenas compile() lays out. */
#ifndef AICON_CORE_GRAPH_H
#define AICON_CORE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aicon/model.h"
#include "core/backend.h"
#include "layers/layers.h"
#include "layers/reduce.h"
#include "layers/resize.h"
#include "layers/unary.h"

#define AIC_MAX_OP_INPUTS 8
#define AIC_MAX_OP_PARAMS 3
#define AIC_NO_OFFSET ((size_t)-1)

typedef enum {
#define AIC_OP(E, desc) AIC_OP_##E,
#include "core/ops.def"
#undef AIC_OP
    /* The unary ops, in layers/unary_ops.def's order: AIC_OP_UNARY_FIRST is the first of them. */
    AIC_OP_UNARY_FIRST,
    AIC_OP_UNARY_BEFORE_ = AIC_OP_UNARY_FIRST - 1,
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) AIC_OP_##E,
#include "layers/unary_ops.def"
#undef AIC_UNARY
    AIC_OP_KIND_COUNT
} aic_op_kind;

/* A value's full shape is its per-sample shape with the batch axis inserted at batch_axis, that axis
 * holding outer x N x fold for a batch of N (in that order, outer slowest): inputs have it first with
 * outer and fold 1 (N x 3 x 28 x 28); a reshape can merge per-sample axes into it (N x H x T x D ->
 * (N H) x T x D: fold H; T x N x E -> (T N) x E: outer T) and split them out again, and a transpose
 * can move it (T x N x E, batch_axis 1). In memory a value is thus (elements in front of the batch) x
 * N x (elements behind it) whatever its shape, every shape is linear in N, and a model compiled for a
 * largest batch runs any smaller one. */
typedef struct {
    char name[AIC_MAX_NAME];
    aic_dtype dtype;
    int ndim;                     /* per-sample rank: the full rank without the batch axis */
    int64_t shape[AIC_MAX_DIMS];  /* per-sample shape */
    int64_t numel;                /* elements of the per-sample shape (1 for a scalar loss) */
    int batch_axis;               /* where the batch axis sits in the full shape, 0..ndim */
    int64_t outer, fold;          /* the batch axis holds outer x N x fold */
    bool scalar;                  /* a loss: one element for the whole batch */
    bool requires_grad;           /* some parameter lies upstream */
    int producer;                 /* op index */
    int alias_of;                 /* value whose storage this one shares (reshape), or -1 */
    size_t act;                   /* offset in floats into the activation arena */
    size_t grad;                  /* offset into the activation-gradient arena, or AIC_NO_OFFSET */
    bool grad_written;            /* the first backward to reach the gradient writes it (aic_op.grad_write) */
} aic_value_info;

typedef enum { AIC_INIT_UNIFORM, AIC_INIT_ONES, AIC_INIT_ZEROS, AIC_INIT_NORMAL } aic_init_kind;

typedef struct {
    char name[AIC_MAX_NAME];
    int ndim;
    int64_t shape[5]; /* up to a 3-D convolution's weight */
    size_t numel;
    size_t offset;   /* in floats, into the params/grads arena (or the buffers arena) */
    aic_init_kind init;
    float bound;     /* AIC_INIT_UNIFORM: U(-bound, bound); AIC_INIT_NORMAL: N(0, bound^2) */
    char source[AIC_MAX_NAME]; /* the ONNX initializer it was loaded from unchanged (export keeps it), or "" */
} aic_param_info;

typedef struct {
    aic_op_kind kind;
    char name[AIC_MAX_NAME];
    int in[AIC_MAX_OP_INPUTS];
    int n_in;
    int out;
    int param[AIC_MAX_OP_PARAMS]; /* weight, bias (or gamma, beta; lstm, gru: W, R, B); -1 when absent */
    int buffer[2]; /* running mean, running var; -1 when absent */
    union {
        aic_conv2d_dims conv;
        struct {                       /* conv_transpose2d: the kernels' dims, and for the text and */
            aic_conv_transpose2d_dims d; /* the export the padding cut from the end beyond d's PH, PW, */
            int pad_end[2], out_pad[2];  /* and the output padding */
        } convt;
        aic_resize2d_dims resize;
        aic_pool2d_dims pool;
        aic_conv3d_dims conv3d;
        aic_pool3d_dims pool3d;
        struct { float momentum, eps; } bn;
        struct { int axis; float eps; bool affine; } ln; /* layernorm: axis counted on the rows (aic_op_row_axis) */
        struct { int kind; unsigned mask; bool keepdims; } reduce; /* aic_reduce_kind; bit a: axis a reduced */
        float drop_p;
        int perm[AIC_MAX_DIMS];        /* transpose: over the full shape, the batch axis's among them */
        int axis;                      /* concat: counted with the batch dim; softmax, log_softmax: on the rows */
        float unary[AIC_UNARY_MAX_ATTRS]; /* a unary op's attributes (layers/unary_ops.def) */
        struct { float lo, hi; } clip; /* clip */
        struct {                       /* slice: per per-sample axis, positions start, start + step, ... */
            int ndim;                  /* before end, all three normalized (0 <= start < size, end >= -1) */
            int64_t start[AIC_MAX_DIMS - 1], end[AIC_MAX_DIMS - 1], step[AIC_MAX_DIMS - 1];
        } slice;
        struct {                       /* pad: per per-sample axis, positions added before and after */
            int ndim, mode;            /* (negative: cropped); mode an aic_pad_mode */
            int64_t begin[AIC_MAX_DIMS - 1], end[AIC_MAX_DIMS - 1];
            float value;               /* constant mode's fill, else 0 */
        } pad;
        struct {                       /* binary: kind, and for a constant operand (buffer[0]) its */
            int kind;                  /* side and per-sample shape (right-aligned; 0 dims: none) */
            int const_left, cndim;
            int64_t cshape[AIC_MAX_DIMS - 1];
        } binary;
        struct {                       /* softmax_xent, nll: class axis 1..ndim; class weights: */
            int axis, ignore_index;    /* buffer[0] (-1: none) */
            bool has_ignore;
            aic_loss_reduction reduction;
        } loss;
        struct {                       /* gather: axis 1..ndim (with the batch), indices in 0..size-1; */
            int axis, n;               /* scalar: one index, its axis dropped */
            bool scalar;
            int32_t idx[AIC_GATHER_MAX_INDICES];
        } gather;
        struct { int hidden, dirs; bool linear_before_reset; } rnn; /* lstm, gru */
        struct { bool causal; float scale; } attn; /* attention: the scale resolved (never 0) */
        struct { int axis; bool exclusive, reverse; } cumsum; /* axis 1..ndim (with the batch) */
        struct { int axis; bool min, last, keepdims; } argmax; /* argmax, hardmax: axis on the rows (aic_op_row_axis) */
        struct { int axis, reduction; } elements; /* gather_elements, scatter_elements: axis 1..ndim (with the
                                                    * batch), reduction an aic_scatter_kind */
        struct { int axis; int64_t depth; float off, on; } one_hot; /* axis 1..ndim of the output */
        struct { int tied; } dense; /* dense: 1 + the parameter its weight is (aic_dense_tied), 0: its own */
    } attr;
    /* per-op memory kept from forward to backward: saved_per_sample * max_batch + saved_fixed floats */
    size_t saved_per_sample, saved_fixed, saved;
    /* Bit j of grad_writable (set by the builder): backward can write input j's gradient outright,
     * each element of it getting exactly one value from this op (softmax; matmul and binary for an
     * operand not broadcast). Bit j of grad_write (set by aic_model_compile): it does, being the
     * first backward to reach that gradient, which is then not zeroed beforehand. */
    unsigned grad_writable, grad_write;
    size_t scratch; /* floats of transient scratch (shared by all ops) */
} aic_op;

/* The host copy of a device arena (CUDA models only; on the CPU the arenas are host memory and no
 * copy exists). Accessors hand the copy out and the caller may write it, so from then on the host
 * copy is the newer one (host_newer) until aic_model_to_device sends it back before the device next
 * uses the arena; an accessor called while the device is newer first fetches it. */
typedef struct {
    float *host;
    bool host_newer;
} aic_mirror;

/* Called after op `op`'s backward (see aic_model_set_backward_hook). */
typedef aic_status (*aic_backward_hook)(void *ctx, int op);

struct aic_model {
    char name[AIC_MAX_NAME];
    const aic_backend *backend;
    int gpu;   /* CUDA device ordinal (backend cuda) */
    bool tf32; /* TF32 tensor cores allowed for fp32 GEMMs and convolutions (backend cuda) */
    aic_value_info *values;
    int n_values, cap_values;
    aic_op *ops;
    int n_ops, cap_ops;
    aic_param_info *params;
    int n_params, cap_params;
    aic_param_info *buffers;
    int n_buffers, cap_buffers;
    int loss_value, output_value;
    int kind_count[AIC_OP_KIND_COUNT]; /* for default names */

    bool compiled;
    int max_batch;
    uint64_t seed;
    size_t n_param_floats, n_buffer_floats;
    float *param_arena;  /* n_param_floats */
    float *grad_arena;   /* n_param_floats + 1: the extra slot carries the scaled loss in allreduce */
    float *buffer_arena; /* n_buffer_floats */
    float *act_arena, *act_grad_arena, *saved_arena, *scratch_arena;
    size_t n_act_floats, n_saved_floats, n_scratch_floats;

    aic_batch_info last; /* batch of the last forward, for backward */
    bool have_forward;

    aic_mirror params_mirror, grads_mirror, buffers_mirror; /* CUDA: host copies, see aic_mirror */
    float *host_act; /* CUDA: host copies of the values aic_model_value hands out, laid out as act_arena */

    /* Set by what is built above core/ (train/: the gradient buckets), which core/ knows nothing of:
     * see aic_model_set_backward_hook and aic_model_attach. */
    aic_backward_hook backward_hook;
    void *backward_hook_ctx;
    void *attached;
    void (*attached_destroy)(void *state);
    /* train/'s proof of work: whether each step takes the digest of this rank's gradient before the
     * sum over ranks (aic_train_digest_grads), and the last one. */
    bool digest_grads;
    uint8_t grad_digest[32];
};

/* The elements of value v for a batch of n samples. */
static inline size_t aic_value_elems(const aic_value_info *v, int n) {
    return v->scalar ? 1 : (size_t)n * (size_t)(v->outer * v->fold) * (size_t)v->numel;
}
/* Elements of the per-sample axes behind the batch axis (a row of aic_value_lead). */
static inline int64_t aic_value_behind(const aic_value_info *v) {
    int64_t e = 1;
    for (int i = v->batch_axis; i < v->ndim; i++)
        e *= v->shape[i];
    return e;
}
/* A value's full shape for a batch of n (per-sample rank + 1 entries), and as text: "Nx3x28x28",
 * "8xN*4x64" (a batch axis holding N x 4 second). */
void aic_value_full_shape(const aic_value_info *v, int n, int64_t *full);
void aic_value_shape_text(char *buf, size_t size, const aic_value_info *v);
/* Rows per sample of a value seen as rows x (its per-sample axes behind the batch axis): the batch
 * axis's outer x fold times the per-sample axes in front of it. */
static inline int64_t aic_value_lead(const aic_value_info *v) {
    int64_t lead = v->outer * v->fold;
    for (int i = 0; i < v->batch_axis; i++)
        lead *= v->shape[i];
    return lead;
}

/* An op's kernels on one backend: forward, and backward (NULL: nothing flows back). Every kernel
 * returns a status; a failure stops the pass with it. The kernels get the batch as rows (see
 * aic_op_desc.batch). */
typedef struct {
    aic_status (*forward)(aic_model_t *m, aic_op *op, const aic_batch_info *b);
    aic_status (*backward)(aic_model_t *m, aic_op *op, int n);
} aic_op_kernels;

/* One per op kind (ggml style), defined in the op's file core/op_<op>.c beside its builder and listed
 * in core/ops.def (docs/ops.md: adding an op); ONNX import and export find it by kind in onnx/'s
 * tables. The kernels read the graph's values at the offsets aic_model_compile laid out in the
 * backend's arenas, so one glue function serves both backends where the kernels agree. */
typedef struct {
    const char *name;
    aic_op_kernels cpu;
    aic_op_kernels cuda; /* none in a build without CUDA; aic_model_compile refuses an op lacking them */
    /* The op's attributes as canonical text ("kernel=3x3 stride=1x1 ..."; NULL: it has none), what
     * the architecture hash digests. */
    void (*attr_text)(const aic_op *op, char *buf, size_t size);
    /* Floating-point operations per sample (NULL: one per output element). */
    double (*flops)(const aic_model_t *m, const aic_op *op);
    /* How the op takes its inputs' batch (aic_value_info): AIC_BATCH_FIRST ops need it on axis 0 and
     * see outer x fold x n rows of the per-sample shape; AIC_BATCH_ROWS ops take it on any axis and see
     * lead x n rows (aic_value_lead) of the per-sample axes from batch_axis on; AIC_BATCH_WHOLE ops
     * (which move the batch axis) see n itself. */
    enum { AIC_BATCH_FIRST, AIC_BATCH_ROWS, AIC_BATCH_WHOLE } batch;
} aic_op_desc;

#define AIC_OP(E, desc) extern const aic_op_desc desc;
#include "core/ops.def"
#undef AIC_OP
extern const aic_op_desc aic_op_unary_descs[]; /* by aic_unary_kind (core/op_unary.c) */
extern const aic_op_desc *const aic_op_descs[]; /* by kind, AIC_OP_KIND_COUNT of them (core/ops.c) */

static inline const char *aic_op_name(aic_op_kind k) { return aic_op_descs[k]->name; }

/* A unary op's kind in layers/unary.h's terms, and whether an op kind is one. */
static inline bool aic_op_is_unary(aic_op_kind k) {
    return k >= AIC_OP_UNARY_FIRST && k < AIC_OP_UNARY_FIRST + AIC_UNARY_COUNT;
}
static inline aic_unary_kind aic_op_unary(aic_op_kind k) { return (aic_unary_kind)(k - AIC_OP_UNARY_FIRST); }

/* The kernels of op kind k on the model's backend. */
static inline const aic_op_kernels *aic_model_kernels(const aic_model_t *m, aic_op_kind k) {
    return m->backend->kind == AIC_BACKEND_CUDA ? &aic_op_descs[k]->cuda : &aic_op_descs[k]->cpu;
}

/* Formats 1 and 2 of checkpoints hold this architecture hash: the attribute union's bytes instead
 * of its canonical text (core/model.c). */
aic_status aic_model_arch_hash_v1(const aic_model_t *m, uint8_t out[32]);

/* Device arenas and host copies (core/model.c). aic_mirror_host returns a host view of the n floats
 * at dev (dev itself on the CPU), fetching them first when the device holds the newer copy; the
 * caller may write it. aic_mirror_to_device sends a newer host copy back. aic_model_to_device does
 * that for the model's parameters, gradients and buffers: call it before device work. */
float *aic_mirror_host(const aic_backend *be, aic_mirror *mi, float *dev, size_t n);
aic_status aic_mirror_to_device(const aic_backend *be, aic_mirror *mi, float *dev, size_t n);
void aic_mirror_free(aic_mirror *mi);
aic_status aic_model_to_device(aic_model_t *m);

/* Hooks for what is built above core/ (core/model.c). aic_model_set_backward_hook: aic_model_backward
 * calls hook(ctx, i) after op i, for every op in decreasing order (also one with nothing to
 * differentiate), until the hook is set again; NULL removes it. A failing hook stops backward with its
 * status. aic_model_attach keeps state with the model that must go before the arenas do (a thread
 * reading them): aic_model_destroy calls destroy(state) first; attaching again destroys the state
 * attached before (NULL state: none). aic_model_attached returns it, or NULL. */
void aic_model_set_backward_hook(aic_model_t *m, aic_backward_hook hook, void *ctx);
void aic_model_attach(aic_model_t *m, void *state, void (*destroy)(void *state));
void *aic_model_attached(const aic_model_t *m);
/* SHA-256 of bytes (libcrypto). */
aic_status aic_sha256(const void *data, size_t bytes, uint8_t out[32]);
/* n bytes as 2n lowercase hex digits and a '\0' into out. */
void aic_hex(const uint8_t *bytes, size_t n, char *out);

/* Helpers shared by core/model.c and the op files. */
static inline float *aic_act(aic_model_t *m, int v) { return m->act_arena + m->values[v].act; }
static inline float *aic_act_grad(aic_model_t *m, int v) {
    return m->values[v].grad == AIC_NO_OFFSET ? NULL : m->act_grad_arena + m->values[v].grad;
}
static inline float *aic_param_data(aic_model_t *m, int p) {
    return p < 0 ? NULL : m->param_arena + m->params[p].offset;
}
static inline float *aic_param_grad(aic_model_t *m, int p) {
    return p < 0 ? NULL : m->grad_arena + m->params[p].offset;
}
static inline float *aic_buffer_data(aic_model_t *m, int b) {
    return m->buffer_arena + m->buffers[b].offset;
}

/* The int32 data (host memory) of n samples of an op's labels or ids, checked as the op reads them:
 * every label in range or ignored (softmax_xent, nll; core/op_loss.c), every id in the vocabulary
 * (embedding; core/op_gather.c); a failure names the op, the value and its position. The CPU glue
 * checks in its forward; for a device model, whose kernels cannot fail, aic_model_set_input does. */
aic_status aic_loss_check_labels(const aic_model_t *m, const aic_op *op, const int32_t *labels, int n);
aic_status aic_embedding_check_ids(const aic_model_t *m, const aic_op *op, const int32_t *ids, int n);
/* gather_elements, scatter_elements: every index within the axis (core/op_elements.c). */
aic_status aic_elements_check_indices(const aic_model_t *m, const aic_op *op, const int32_t *idx, int n);
extern const char *const aic_scatter_names[AIC_SCATTER_KIND_COUNT]; /* "none", "add", "mul" (ONNX's) */

/* Graph building primitives (core/model.c). */
aic_status aic_graph_check_building(aic_model_t *m, const char *what);
aic_status aic_graph_check_value(aic_model_t *m, aic_value v, const char *op_name, const char *role);
aic_status aic_graph_add_op(aic_model_t *m, aic_op_kind kind, const char *name, const int *inputs, int n_in,
                            aic_op **out);
aic_status aic_graph_add_value(aic_model_t *m, aic_op *op, aic_dtype dtype, int ndim, const int64_t *shape,
                               aic_value *out);
aic_status aic_graph_add_param(aic_model_t *m, aic_op *op, const char *suffix, int ndim, const int64_t *shape,
                               aic_init_kind init, float bound, int *out);
aic_status aic_graph_add_buffer(aic_model_t *m, aic_op *op, const char *suffix, int64_t n, aic_init_kind init,
                                int *out);

#endif
