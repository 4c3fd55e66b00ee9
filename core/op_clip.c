// SPDX-License-Identifier: Apache-2.0
/* clip: elementwise bounds; backward reads the forward input. */
#include <math.h>
#include <stdio.h>

#include "core/op_build.h"

aic_status aic_clip(aic_model_t *m, const char *name, aic_value x, float lo, float hi, aic_value *out) {
    aic_op *op;
    AIC_TRY(aic_op_begin_float(m, AIC_OP_CLIP, name, x, &op));
    if (isnan(lo) || isnan(hi) || lo > hi || lo == INFINITY || hi == -INFINITY)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': clip bounds [%g, %g] must satisfy lo <= hi", op->name, lo, hi);
    op->attr.clip.lo = lo;
    op->attr.clip.hi = hi;
    return aic_op_same_shape(m, op, x, out);
}

static aic_status clip_fwd(aic_model_t *m, aic_op *op, const aic_batch_info *b) {
    return AIC_KERNEL(m, clip_forward)(aic_act(m, op->out), aic_act(m, op->in[0]), aic_rows_numel(m, op->out, b->n),
                            op->attr.clip.lo, op->attr.clip.hi);
}

static aic_status clip_bwd(aic_model_t *m, aic_op *op, int n) {
    return AIC_KERNEL(m, clip_backward)(aic_act_grad(m, op->in[0]), aic_act_grad(m, op->out), aic_act(m, op->in[0]),
                             aic_rows_numel(m, op->out, n), op->attr.clip.lo, op->attr.clip.hi);
}

static void clip_attrs(const aic_op *op, char *buf, size_t size) {
    snprintf(buf, size, "lo=%.9g hi=%.9g", (double)op->attr.clip.lo, (double)op->attr.clip.hi);
}

const aic_op_desc aic_op_clip = {"clip", {clip_fwd, clip_bwd}, AIC_CUDA_KERNELS(clip_fwd, clip_bwd), clip_attrs, NULL, AIC_BATCH_ROWS};
