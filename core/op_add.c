// SPDX-License-Identifier: Apache-2.0
/* add: two activations of one shape. */
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_add(aic_model_t *m, const char *name, aic_value a, aic_value b, aic_value *out) {
    int in[2] = {a, b};
    aic_op *op;
    AIC_TRY(aic_op_begin(m, AIC_OP_ADD, name, in, 2, &op));
    const aic_value_info *va = aic_val(m, a), *vb = aic_val(m, b);
    bool same = va->ndim == vb->ndim && va->dtype == AIC_F32 && vb->dtype == AIC_F32;
    for (int i = 0; same && i < va->ndim; i++)
        same = va->shape[i] == vb->shape[i];
    if (!same) {
        char sa[128], sb[128];
        aic_value_shape_text(sa, sizeof sa, va);
        aic_value_shape_text(sb, sizeof sb, vb);
        return aic_fail(AIC_ERR_SHAPE, "op '%s' (add): shapes differ: '%s' is %s, '%s' is %s", op->name, va->name, sa,
                        vb->name, sb);
    }
    return aic_op_same_shape(m, op, a, out);
}

static aic_status add_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return AIC_KERNEL(m, add_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_act(m, op->in[1]),
                           aic_rows_numel(m, op->out, b->n));
}

static aic_status add_bwd(aic_model_t *m, aic_op *op, int n) {
    /* For x + x both pointers name one buffer, which then receives both contributions. */
    return AIC_KERNEL(m, add_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->in[1]), aic_act_grad(m, op->out),
                            aic_rows_numel(m, op->out, n));
}

const aic_op_desc aic_op_add = {"add", {add_fwd, add_bwd}, AIC_CUDA_KERNELS(add_fwd, add_bwd), NULL, NULL, AIC_BATCH_ROWS};
