// SPDX-License-Identifier: Apache-2.0
/* slice and pad: strided copies over the per-sample axes (layers/slice.h), the batch rows untouched. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"
#include "layers/slice.h"

/* Pads and slice bounds past this are refused: no shape that fits a model reaches it, and the index
 * arithmetic stays far from overflow. */
#define BOUND_LIMIT (INT64_C(1) << 40)

aic_status aic_slice(aic_model_t *m, const char *name, aic_value x, int n_axes, const int *axes,
                     const int64_t *starts, const int64_t *ends, const int64_t *steps, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_SLICE, name, x, &op));
    const aic_value_info *v = aic_val(m, x);
    const int rank = v->ndim + 1;
    char shape[128];
    aic_value_shape_text(shape, sizeof shape, v);
    if (n_axes < 0 || n_axes > rank || (n_axes > 0 && (!axes || !starts || !ends)))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (slice): %d axes for rank %d, or axes, starts or ends NULL",
                        op->name, n_axes, rank);
    /* The attributes are over the axes behind the batch (the rows' axes, aic_op_desc.batch). */
    const int ba = v->batch_axis;
    int64_t oshape[AIC_MAX_DIMS];
    memcpy(oshape, v->shape, sizeof oshape);
    op->attr.slice.ndim = v->ndim - ba;
    for (int r = 0; r < v->ndim - ba; r++) {
        op->attr.slice.start[r] = 0;
        op->attr.slice.end[r] = v->shape[ba + r];
        op->attr.slice.step[r] = 1;
    }
    unsigned seen = 0;
    for (int k = 0; k < n_axes; k++) {
        const int a = axes[k] < 0 ? axes[k] + rank : axes[k];
        if (a < 0 || a >= rank)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (slice): axis %d is outside -%d..%d for input '%s' of shape %s",
                            op->name, axes[k], rank, rank - 1, v->name, shape);
        if (a <= ba)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (slice): axis %d is the batch axis or in front of it; aicon "
                            "slices the axes behind it (%d..%d of input '%s' of shape %s)", op->name, axes[k], ba + 1,
                            rank - 1, v->name, shape);
        if (seen & 1u << a)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (slice): axis %d is listed twice", op->name, a);
        seen |= 1u << a;
        const int64_t dim = v->shape[a - 1], step = steps ? steps[k] : 1;
        if (step == 0)
            return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (slice): axis %d has step 0", op->name, a);
        /* numpy's and ONNX's rules: negative positions count from the end, then clamp to the axis
         * (to -1 for an end walking backwards: down to position 0) */
        int64_t start = starts[k] < 0 ? starts[k] + dim : starts[k], end = ends[k] < 0 ? ends[k] + dim : ends[k];
        const int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
        start = start < 0 ? 0 : start > hi ? hi : start;
        end = end < lo ? lo : end > hi ? hi : end;
        const int64_t span = step > 0 ? end - start : start - end;
        const int64_t mag = step > 0 ? step : step == INT64_MIN ? INT64_MAX : -step;
        const int64_t count = span > 0 ? 1 + (span - 1) / mag : 0;
        if (count < 1)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (slice): axis %d keeps nothing of size %lld (start %lld, end "
                            "%lld, step %lld); aicon has no empty tensors", op->name, a, (long long)dim,
                            (long long)starts[k], (long long)ends[k], (long long)step);
        /* one position: step 1, the same slice, and no huge step in the index arithmetic */
        const int64_t st = count == 1 ? 1 : step;
        op->attr.slice.start[a - 1 - ba] = start;
        op->attr.slice.step[a - 1 - ba] = st;
        op->attr.slice.end[a - 1 - ba] = start + (count - 1) * st + (st > 0 ? 1 : -1); /* just past the last */
        oshape[a - 1] = count;
    }
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, oshape, out);
}

aic_status aic_pad(aic_model_t *m, const char *name, aic_value x, const int64_t *pads_begin, const int64_t *pads_end,
                   aic_pad_mode mode, float value, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_PAD, name, x, &op));
    const aic_value_info *v = aic_val(m, x);
    char shape[128];
    aic_value_shape_text(shape, sizeof shape, v);
    if (!pads_begin || !pads_end)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (pad): pads_begin or pads_end is NULL", op->name);
    if (!aic_pad_mode_name(mode))
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s' (pad): mode %d is not AIC_PAD_CONSTANT, AIC_PAD_REFLECT or "
                        "AIC_PAD_EDGE", op->name, (int)mode);
    if (pads_begin[0] != 0 || pads_end[0] != 0)
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (pad): pads %lld and %lld on axis 0, the batch, of input '%s' of "
                        "shape %s; aicon pads within each sample", op->name, (long long)pads_begin[0],
                        (long long)pads_end[0], v->name, shape);
    int64_t oshape[AIC_MAX_DIMS];
    op->attr.pad.ndim = v->ndim;
    op->attr.pad.mode = (int)mode;
    op->attr.pad.value = mode == AIC_PAD_CONSTANT ? value : 0.0f;
    for (int a = 1; a <= v->ndim; a++) {
        const int64_t b = pads_begin[a], e = pads_end[a];
        if (b < -BOUND_LIMIT || b > BOUND_LIMIT || e < -BOUND_LIMIT || e > BOUND_LIMIT ||
            v->shape[a - 1] + b + e < 1)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (pad): pads %lld and %lld on axis %d of input '%s' of shape %s "
                            "leave no position (aicon has no empty tensors)", op->name, (long long)b, (long long)e,
                            a, v->name, shape);
        op->attr.pad.begin[a - 1] = b;
        op->attr.pad.end[a - 1] = e;
        oshape[a - 1] = v->shape[a - 1] + b + e;
    }
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, oshape, out);
}

/* Both as the kernels' strided copy over `rows` rows of the axes behind the batch (pad: every axis
 * but the first, the batch): a pad reads from position -begin on, step 1. */
static aic_slice_plan copy_plan(const aic_model_t *m, const aic_op *op, int rows) {
    const aic_value_info *x = aic_val(m, op->in[0]), *y = aic_val(m, op->out);
    const bool pad = op->kind == AIC_OP_PAD;
    const int ba = x->batch_axis;
    aic_slice_plan p = {.ndim = x->ndim - ba,
                        .rows = rows,
                        .mode = pad ? (aic_pad_mode)op->attr.pad.mode : AIC_PAD_CONSTANT,
                        .value = pad ? op->attr.pad.value : 0.0f,
                        .x_numel = aic_value_behind(x),
                        .o_numel = aic_value_behind(y)};
    for (int a = 0; a < x->ndim - ba; a++) {
        p.xdim[a] = x->shape[ba + a];
        p.odim[a] = y->shape[ba + a];
        p.start[a] = pad ? -op->attr.pad.begin[a] : op->attr.slice.start[a];
        p.step[a] = pad ? 1 : op->attr.slice.step[a];
    }
    return p;
}

static aic_status copy_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    const aic_slice_plan p = copy_plan(m, op, b->n);
    return AIC_KERNEL(m, slice_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), &p);
}

static aic_status copy_bwd(aic_model_t *m, aic_op *op, int n) {
    const aic_slice_plan p = copy_plan(m, op, n);
    return AIC_KERNEL(m, slice_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), &p);
}

/* "name=v0,v1,...": one entry per per-sample axis. */
static int list_text(char *buf, size_t size, int len, const char *name, const int64_t *v, int n) {
    if (len < (int)size)
        len += snprintf(buf + len, size - (size_t)len, "%s%s=", len ? " " : "", name);
    for (int a = 0; a < n && len < (int)size; a++)
        len += snprintf(buf + len, size - (size_t)len, a ? ",%lld" : "%lld", (long long)v[a]);
    return len;
}

/* "starts=0,2 ends=3,-1 steps=1,-1": the normalized bounds, per per-sample axis. */
static void slice_attrs(const aic_op *op, char *buf, size_t size) {
    buf[0] = '\0';
    int len = list_text(buf, size, 0, "starts", op->attr.slice.start, op->attr.slice.ndim);
    len = list_text(buf, size, len, "ends", op->attr.slice.end, op->attr.slice.ndim);
    list_text(buf, size, len, "steps", op->attr.slice.step, op->attr.slice.ndim);
}

/* "begin=0,1 end=2,-1 mode=constant value=0.5" (value for constant only). */
static void pad_attrs(const aic_op *op, char *buf, size_t size) {
    buf[0] = '\0';
    int len = list_text(buf, size, 0, "begin", op->attr.pad.begin, op->attr.pad.ndim);
    len = list_text(buf, size, len, "end", op->attr.pad.end, op->attr.pad.ndim);
    if (len < (int)size)
        len += snprintf(buf + len, size - (size_t)len, " mode=%s", aic_pad_mode_name(op->attr.pad.mode));
    if (op->attr.pad.mode == AIC_PAD_CONSTANT && len < (int)size)
        snprintf(buf + len, size - (size_t)len, " value=%.9g", op->attr.pad.value);
}

/* A copy: no arithmetic. */
static double copy_flops(const aic_model_t *m, const aic_op *op) { return 0.0; }

const aic_op_desc aic_op_slice = {"slice", {copy_fwd, copy_bwd}, AIC_CUDA_KERNELS(copy_fwd, copy_bwd), slice_attrs,
                                  copy_flops, AIC_BATCH_ROWS};
const aic_op_desc aic_op_pad = {"pad", {copy_fwd, copy_bwd}, AIC_CUDA_KERNELS(copy_fwd, copy_bwd), pad_attrs,
                                copy_flops, AIC_BATCH_FIRST};
