// SPDX-License-Identifier: Apache-2.0
/* The op descriptor table (one aic_op_desc per kind, each defined in its core/op_*.c file), what the
 * op files share, and what is computed over a model's ops. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

#define AIC_OP(E, desc) [AIC_OP_##E] = &desc,
const aic_op_desc *const aic_op_descs[] = {
#include "core/ops.def"
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_OP_##E] = &aic_op_unary_descs[AIC_UNARY_##E],
#include "layers/unary_ops.def"
#undef AIC_UNARY
};
#undef AIC_OP
_Static_assert(sizeof aic_op_descs / sizeof *aic_op_descs == AIC_OP_KIND_COUNT,
               "core/ops.def and layers/unary_ops.def: an op kind without a descriptor");

/* The op's batched inputs must hold the batch alike (the kernels pair their rows), and where the
 * op needs it first (aic_op_desc.batch), first. */
static aic_status check_batch_layout(const aic_model_t *m, const aic_op *op) {
    const aic_value_info *first = NULL;
    for (int k = 0; k < op->n_in; k++) {
        const aic_value_info *v = &m->values[op->in[k]];
        if (v->scalar)
            continue;
        char s[128];
        aic_value_shape_text(s, sizeof s, v);
        if (aic_op_descs[op->kind]->batch == AIC_BATCH_FIRST && v->batch_axis != 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' has shape %s; %s needs the batch first "
                            "(transpose it there)", op->name, aic_op_name(op->kind), v->name, s,
                            aic_op_name(op->kind));
        if (!first) {
            first = v;
            continue;
        }
        bool alike = v->batch_axis == first->batch_axis && v->outer == first->outer && v->fold == first->fold;
        for (int i = 0; alike && i < v->batch_axis; i++)
            alike = v->shape[i] == first->shape[i];
        if (!alike) {
            char s0[128];
            aic_value_shape_text(s0, sizeof s0, first);
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): inputs '%s' (%s) and '%s' (%s) hold the batch differently",
                            op->name, aic_op_name(op->kind), first->name, s0, v->name, s);
        }
    }
    return AIC_OK;
}

aic_status aic_op_begin(aic_model_t *m, aic_op_kind kind, const char *name, const int *in, int n_in, aic_op **op) {
    AIC_TRY(aic_graph_check_building(m, aic_op_name(kind)));
    AIC_TRY(aic_graph_add_op(m, kind, name, in, n_in, op));
    return check_batch_layout(m, *op);
}

aic_status aic_op_begin_float(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, aic_op **op) {
    AIC_TRY(aic_op_begin(m, kind, name, &x, 1, op));
    if (aic_val(m, x)->dtype != AIC_F32 || aic_val(m, x)->scalar)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': input '%s' must be a float tensor", (*op)->name, aic_val(m, x)->name);
    return AIC_OK;
}

/* aic_op_begin_image and aic_op_begin_volume: x of per-sample rank `rank`, its shape into dims. */
static aic_status begin_spatial(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const void *opts,
                                const char *what, aic_op **op, int rank, int *dims) {
    AIC_TRY(aic_op_begin(m, kind, name, &x, 1, op));
    if (!opts)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': options are NULL", (*op)->name);
    AIC_TRY(aic_op_need_rank(m, *op, x, rank, what));
    for (int i = 0; i < rank; i++)
        dims[i] = (int)aic_val(m, x)->shape[i];
    return AIC_OK;
}

aic_status aic_op_begin_image(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const void *opts,
                              const char *what, aic_op **op, int chw[3]) {
    return begin_spatial(m, kind, name, x, opts, what, op, 3, chw);
}

aic_status aic_op_begin_volume(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const void *opts,
                               const char *what, aic_op **op, int cdhw[4]) {
    return begin_spatial(m, kind, name, x, opts, what, op, 4, cdhw);
}

aic_status aic_op_need_rank(const aic_model_t *m, const aic_op *op, int v, int ndim, const char *what) {
    if (aic_val(m, v)->ndim == ndim && aic_val(m, v)->dtype == AIC_F32 && !aic_val(m, v)->scalar)
        return AIC_OK;
    char s[128];
    aic_value_shape_text(s, sizeof s, aic_val(m, v));
    return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): input '%s' has shape %s; %s", op->name, aic_op_name(op->kind),
                    aic_val(m, v)->name, s, what);
}

aic_status aic_op_row_axis(const aic_model_t *m, const aic_op *op, int x, int axis, int *row_axis) {
    const aic_value_info *v = aic_val(m, x);
    if (axis > v->batch_axis && axis <= v->ndim) {
        *row_axis = axis - v->batch_axis;
        return AIC_OK;
    }
    char s[128];
    aic_value_shape_text(s, sizeof s, v);
    return aic_fail(AIC_ERR_SHAPE, "op '%s' (%s): axis %d of input '%s' (shape %s) is not one of %d..%d, the axes "
                    "behind the batch axis", op->name, aic_op_name(op->kind), axis, v->name, s, v->batch_axis + 1,
                    v->ndim);
}

aic_status aic_op_same_shape(aic_model_t *m, aic_op *op, int x, aic_value *out) {
    const aic_value_info *v = aic_val(m, x);
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, v->shape, sizeof shape);
    return aic_graph_add_value(m, op, AIC_F32, v->ndim, shape, out);
}

/* Floats in canonical texts as %.9g: enough digits that the text tells every float apart. */
void aic_op_axis_text(const aic_op *op, char *buf, size_t size) { snprintf(buf, size, "axis=%d", op->attr.axis); }

double aic_model_flops_per_sample(const aic_model_t *m) {
    double flops = 0;
    for (int i = 0; m && i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        const aic_op_desc *d = aic_op_descs[op->kind];
        if (d->flops)
            flops += d->flops(m, op);
        else if (op->out >= 0)
            flops += (double)aic_value_elems(&m->values[op->out], 1); /* elementwise: one per output */
    }
    return flops;
}
