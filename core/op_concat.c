// SPDX-License-Identifier: Apache-2.0
/* concat along one per-sample axis. */
#include <stdio.h>
#include <string.h>

#include "core/op_build.h"

aic_status aic_concat(aic_model_t *m, const char *name, int n, const aic_value *xs, int axis, aic_value *out) {
    aic_op *op;
    if (n < 1 || !xs)
        return aic_fail(AIC_ERR_INVALID_ARG, "concat '%s': needs at least one input", name ? name : "");
    AIC_TRY(aic_op_begin(m, AIC_OP_CONCAT, name, xs, n, &op));
    const aic_value_info *v0 = aic_val(m, xs[0]);
    if (axis < 1 || axis > v0->ndim)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': axis %d outside 1..%d (axis 0 is the batch)", op->name, axis,
                        v0->ndim);
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, v0->shape, sizeof shape);
    for (int k = 1; k < n; k++) {
        const aic_value_info *vk = aic_val(m, xs[k]);
        bool ok = vk->ndim == v0->ndim && vk->dtype == AIC_F32;
        for (int i = 0; ok && i < v0->ndim; i++)
            ok = i == axis - 1 || vk->shape[i] == v0->shape[i];
        if (!ok) {
            char s0[128], sk[128];
            aic_value_shape_text(s0, sizeof s0, v0);
            aic_value_shape_text(sk, sizeof sk, vk);
            return aic_fail(AIC_ERR_SHAPE, "op '%s' (concat on axis %d): '%s' is %s but '%s' is %s", op->name, axis,
                            v0->name, s0, vk->name, sk);
        }
        shape[axis - 1] += vk->shape[axis - 1];
    }
    op->attr.axis = axis;
    return aic_graph_add_value(m, op, AIC_F32, v0->ndim, shape, out);
}

static aic_status concat_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, b->n, false, inner, parts);
    return AIC_KERNEL(m, concat_forward)(aic_act(m, op->out), (const float *const *)parts, inner, op->n_in, outer);
}

static aic_status concat_bwd(aic_model_t *m, aic_op *op, int n) {
    size_t inner[AIC_MAX_OP_INPUTS];
    float *parts[AIC_MAX_OP_INPUTS];
    size_t outer = aic_concat_layout(m, op, n, true, inner, parts);
    return AIC_KERNEL(m, concat_backward)(parts, aic_act_grad(m, op->out), inner, op->n_in, outer);
}

const aic_op_desc aic_op_concat = {"concat", {concat_fwd, concat_bwd},
                                   AIC_CUDA_KERNELS(concat_fwd, concat_bwd), aic_op_axis_text, NULL, AIC_BATCH_FIRST};
