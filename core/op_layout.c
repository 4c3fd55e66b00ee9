// SPDX-License-Identifier: Apache-2.0
/* Tensor layouts of the op glue, shared by the CPU and CUDA op tables (core/op_layout.h). */
#include "core/op_build.h"
#include "core/rng.h"

static const aic_value_info *val(const aic_model_t *m, int v) { return &m->values[v]; }

void aic_gap_dims(const aic_model_t *m, const aic_op *op, int *C, int *S) {
    const aic_value_info *v = val(m, op->in[0]);
    *C = (int)v->shape[0];
    *S = (int)(v->shape[1] * v->shape[2]);
}

void aic_bn_dims(const aic_model_t *m, const aic_op *op, int *C, int *S) {
    const aic_value_info *v = val(m, op->in[0]);
    *C = (int)v->shape[0];
    *S = (int)(v->numel / v->shape[0]);
}

size_t aic_axis_layout(const aic_model_t *m, int x, int axis, int rows, int *K, size_t *inner) {
    const int64_t *s = aic_row_shape(m, x);
    const int nd = aic_row_ndim(m, x);
    size_t outer = (size_t)rows;
    *inner = 1;
    for (int i = 0; i < axis - 1; i++)
        outer *= (size_t)s[i];
    for (int i = axis; i < nd; i++)
        *inner *= (size_t)s[i];
    *K = (int)s[axis - 1];
    return outer;
}

size_t aic_concat_layout(aic_model_t *m, const aic_op *op, int n, bool grads, size_t *inner, float **parts) {
    size_t outer = (size_t)n;
    const aic_value_info *v0 = val(m, op->in[0]);
    for (int i = 0; i < op->attr.axis - 1; i++)
        outer *= (size_t)v0->shape[i];
    for (int k = 0; k < op->n_in; k++) {
        inner[k] = (size_t)val(m, op->in[k])->numel / (outer / (size_t)n);
        parts[k] = grads ? aic_act_grad(m, op->in[k]) : aic_act(m, op->in[k]);
    }
    return outer;
}

uint64_t aic_dropout_key(const aic_model_t *m, const aic_op *op) {
    return aic_mix64(aic_mix64(m->seed, m->last.step), (uint64_t)(op - m->ops));
}

/* Strides of an operand of per-sample shape s (rank r, right-aligned) along the output's dims, batch
 * dim first (batch_stride: numel for an activation, 0 for a constant). */
static void operand_strides(int64_t *stride, int on, int r, const int64_t *s, int64_t batch_stride) {
    int64_t st = 1;
    for (int k = on; k >= 1; k--) {
        int j = k - 1 - (on - r);
        if (j < 0 || s[j] == 1)
            stride[k] = 0;
        else
            stride[k] = st;
        if (j >= 0)
            st *= s[j];
    }
    stride[0] = batch_stride;
}

void aic_binary_setup(aic_model_t *m, const aic_op *op, int n, aic_binary_dims *d, int *av, int *bv, float **ca,
                         float **cb) {
    const aic_value_info *vo = val(m, op->out);
    d->ndim = vo->ndim + 1;
    d->shape[0] = n;
    for (int k = 0; k < vo->ndim; k++)
        d->shape[k + 1] = vo->shape[k];
    *ca = *cb = NULL;
    *av = *bv = -1;
    if (op->n_in == 2) {
        const aic_value_info *va = val(m, op->in[0]), *vb = val(m, op->in[1]);
        operand_strides(d->astride, vo->ndim, va->ndim, va->shape, va->numel);
        operand_strides(d->bstride, vo->ndim, vb->ndim, vb->shape, vb->numel);
        *av = op->in[0];
        *bv = op->in[1];
        return;
    }
    const aic_value_info *vx = val(m, op->in[0]);
    float *c = aic_buffer_data(m, op->buffer[0]);
    if (op->attr.binary.const_left) {
        operand_strides(d->astride, vo->ndim, op->attr.binary.cndim, op->attr.binary.cshape, 0);
        operand_strides(d->bstride, vo->ndim, vx->ndim, vx->shape, vx->numel);
        *ca = c;
        *bv = op->in[0];
    } else {
        operand_strides(d->astride, vo->ndim, vx->ndim, vx->shape, vx->numel);
        operand_strides(d->bstride, vo->ndim, op->attr.binary.cndim, op->attr.binary.cshape, 0);
        *av = op->in[0];
        *cb = c;
    }
}
