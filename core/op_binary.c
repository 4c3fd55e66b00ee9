// SPDX-License-Identifier: Apache-2.0
/* binary: add, sub, mul, div, pow, max, min, the comparisons and logic ops, mod and fmod with numpy
 * broadcasting, of two activations or one and a constant. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

static const char *const BINOP_NAMES[] = {"add",  "sub",           "mul",   "div",         "pow",
                                          "max",  "min",           "equal", "less",        "greater",
                                          "less_equal", "greater_equal", "and",   "or", "xor",
                                          "mod",  "fmod"};
_Static_assert(sizeof BINOP_NAMES / sizeof *BINOP_NAMES == AIC_BINARY_KIND_COUNT, "a binary kind without a name");

/* Right-aligned numpy broadcast of two per-sample shapes into (*on, os). */
static aic_status broadcast(const aic_op *op, int an, const int64_t *as, int bn, const int64_t *bs, int *on,
                            int64_t *os) {
    *on = an > bn ? an : bn;
    for (int k = 0; k < *on; k++) {
        int ja = k - (*on - an), jb = k - (*on - bn);
        int64_t da = ja < 0 ? 1 : as[ja], db = jb < 0 ? 1 : bs[jb];
        if (da != db && da != 1 && db != 1)
            return aic_fail(AIC_ERR_SHAPE,
                            "op '%s' (%s): shapes do not broadcast: per-sample dim %d is %lld on one side and %lld "
                            "on the other",
                            op->name, BINOP_NAMES[op->attr.binary.kind], k + 1, (long long)da, (long long)db);
        os[k] = da == 1 ? db : da;
    }
    return AIC_OK;
}

static aic_status binop_check(aic_model_t *m, const aic_op *op, aic_binary_op kind, int x) {
    if ((int)kind < 0 || (int)kind >= (int)AIC_BINARY_KIND_COUNT)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': binary op kind %d is not one of aic_binary_op", op->name,
                        (int)kind);
    const aic_value_info *v = aic_val(m, x);
    if (v->dtype != AIC_F32 || v->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' must be a float tensor N x ...", op->name,
                        BINOP_NAMES[kind], v->name);
    return AIC_OK;
}

static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= shape[k];
    return n;
}

aic_status aic_binary(aic_model_t *m, const char *name, aic_binary_op kind, aic_value a, aic_value b,
                      aic_value *out) {
    int in[2] = {a, b};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_BINARY, name, in, 2, &op));
    AIC_TRY(binop_check(m, op, kind, a));
    AIC_TRY(binop_check(m, op, kind, b));
    op->attr.binary.kind = (int)kind;
    const aic_value_info *va = aic_val(m, a), *vb = aic_val(m, b);
    int on;
    int64_t os[AIC_MAX_DIMS];
    AIC_TRY(broadcast(op, va->ndim, va->shape, vb->ndim, vb->shape, &on, os));
    const int64_t numel = shape_numel(on, os);
    op->grad_writable = (va->numel == numel ? 1u : 0u) | (vb->numel == numel ? 2u : 0u); /* not broadcast */
    return aic_graph_add_value(m, op, AIC_F32, on, os, out);
}

aic_status aic_binary_const(aic_model_t *m, const char *name, aic_binary_op kind, aic_value x, int const_ndim,
                            const int64_t *const_shape, bool const_on_left, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_BINARY, name, &x, 1, &op));
    AIC_TRY(binop_check(m, op, kind, x));
    const aic_value_info *vx = aic_val(m, x);
    if (const_ndim < 0 || const_ndim > AIC_MAX_DIMS || (const_ndim > 0 && !const_shape))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': constant rank %d outside 0..%d", op->name, const_ndim,
                        AIC_MAX_DIMS);
    if (const_ndim == vx->ndim + 1 && const_shape[0] == 1) { /* lines up with the batch: drop it */
        const_shape++;
        const_ndim--;
    }
    if (const_ndim > vx->ndim)
        return aic_fail(AIC_ERR_SHAPE,
                        "op '%s' (%s): constant of rank %d against input '%s' of per-sample rank %d (the constant "
                        "may not reach the batch dimension)",
                        op->name, BINOP_NAMES[kind], const_ndim, vx->name, vx->ndim);
    int64_t numel = 1;
    for (int k = 0; k < const_ndim; k++) {
        if (const_shape[k] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': constant dimension %d is %lld (must be positive)", op->name, k,
                            (long long)const_shape[k]);
        numel *= const_shape[k];
    }
    op->attr.binary.kind = (int)kind;
    op->attr.binary.const_left = const_on_left;
    op->attr.binary.cndim = const_ndim;
    for (int k = 0; k < const_ndim; k++)
        op->attr.binary.cshape[k] = const_shape[k];
    int on;
    int64_t os[AIC_MAX_DIMS];
    AIC_TRY(broadcast(op, vx->ndim, vx->shape, const_ndim, const_shape, &on, os));
    op->grad_writable = vx->numel == shape_numel(on, os); /* x not broadcast */
    int op_index = (int)(op - m->ops);
    const bool ones = kind == AIC_BINOP_MUL || kind == AIC_BINOP_DIV || kind == AIC_BINOP_POW ||
                      kind == AIC_BINOP_MOD || kind == AIC_BINOP_FMOD; /* the identity, or no division by 0 */
    const aic_init_kind init = ones ? AIC_INIT_ONES : AIC_INIT_ZEROS;
    AIC_TRY(aic_graph_add_buffer(m, op, "constant", numel, init, &m->ops[op_index].buffer[0]));
    return aic_graph_add_value(m, &m->ops[op_index], AIC_F32, on, os, out);
}

static aic_status binary_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, b->n, &d, &av, &bv, &ca, &cb);
    return AIC_KERNEL(m, binary_forward)(aic_act(m, op->out), av >= 0 ? aic_act(m, av) : ca,
                                         bv >= 0 ? aic_act(m, bv) : cb, (aic_binary_kind)op->attr.binary.kind, &d);
}

static aic_status binary_bwd(aic_model_t *m, aic_op *op, int n) {
    aic_binary_dims d;
    int av, bv;
    float *ca, *cb;
    aic_binary_setup(m, op, n, &d, &av, &bv, &ca, &cb);
    /* op->grad_write counts the inputs, the kernel's bits the operands: a constant on the left makes
     * input 0 operand b. */
    const bool b_first = op->n_in == 1 && op->attr.binary.const_left;
    const unsigned write = b_first ? (op->grad_write & 1 ? AIC_GRAD_WRITE_B : 0) : op->grad_write;
    /* For x * x both gradient pointers name one buffer, which then receives both contributions. */
    return AIC_KERNEL(m, binary_backward)(av >= 0 ? aic_act_grad(m, av) : NULL, bv >= 0 ? aic_act_grad(m, bv) : NULL,
                               aic_act_grad(m, op->out), av >= 0 ? aic_act(m, av) : ca, bv >= 0 ? aic_act(m, bv) : cb,
                               (aic_binary_kind)op->attr.binary.kind, &d, write);
}


static void binary_attrs(const aic_op *op, char *buf, size_t size) {
    const int c = op->attr.binary.cndim;
    int len = snprintf(buf, size, "op=%s constant=%s shape=", BINOP_NAMES[op->attr.binary.kind],
                       c == 0 ? "none" : op->attr.binary.const_left ? "left" : "right");
    for (int i = 0; i < c && len < (int)size; i++)
        len += snprintf(buf + len, size - (size_t)len, i ? "x%lld" : "%lld", (long long)op->attr.binary.cshape[i]);
}

const aic_op_desc aic_op_binary = {"binary", {binary_fwd, binary_bwd},
                                   AIC_CUDA_KERNELS(binary_fwd, binary_bwd), binary_attrs, NULL, AIC_BATCH_FIRST};
