// SPDX-License-Identifier: Apache-2.0
#include "layers/layers.h"
#include "layers/kernel_check.h"
#include "layers/binary_formula.h"
#include "layers/cpu_clones.h"

/* Advance the multi-index idx over d->shape (row-major) and the two operand offsets with it. */
static inline void step(int64_t *idx, int64_t *ai, int64_t *bi, const aic_binary_dims *d) {
    for (int k = d->ndim - 1; k >= 0; k--) {
        *ai += d->astride[k];
        *bi += d->bstride[k];
        if (++idx[k] < d->shape[k])
            return;
        *ai -= d->astride[k] * d->shape[k];
        *bi -= d->bstride[k] * d->shape[k];
        idx[k] = 0;
    }
}

static int64_t total(const aic_binary_dims *d) {
    int64_t n = 1;
    for (int k = 0; k < d->ndim; k++)
        n *= d->shape[k];
    return n;
}

// The index space: at most AIC_BINARY_MAX_DIMS dims, none negative; a known kind.
static aic_status check_dims(const char *kernel, aic_binary_kind kind, const aic_binary_dims *d) {
    if ((unsigned)kind >= AIC_BINARY_KIND_COUNT)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "kind %d is not a binary op (layers/binary_formula.h)", (int)kind);
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->ndim < 0 || d->ndim > AIC_BINARY_MAX_DIMS)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "%d dims, at most %d", d->ndim, AIC_BINARY_MAX_DIMS);
    for (int k = 0; k < d->ndim; k++)
        if (d->shape[k] < 0)
            return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dim %d is %lld", k, (long long)d->shape[k]);
    return AIC_OK;
}

/* The innermost dim is one row: a run of `len` outputs with each operand at a fixed stride (1, or 0 where
 * broadcast). The kind is dispatched once per row, not per element: with a constant kind the formula
 * inlines and the loop vectorizes (GCC versions it for unit strides). */
static inline void forward_row_of(aic_binary_kind kind, float *out, const float *a, int64_t sa, const float *b,
                                  int64_t sb, int64_t len) {
    for (int64_t i = 0; i < len; i++)
        out[i] = aic_binary_f(kind, a[i * sa], b[i * sb]);
}

AIC_CPU_CLONES
static void forward_row(aic_binary_kind kind, float *out, const float *a, int64_t sa, const float *b, int64_t sb,
                        int64_t len) {
    switch (kind) {
    case AIC_BINARY_ADD: forward_row_of(AIC_BINARY_ADD, out, a, sa, b, sb, len); break;
    case AIC_BINARY_SUB: forward_row_of(AIC_BINARY_SUB, out, a, sa, b, sb, len); break;
    case AIC_BINARY_MUL: forward_row_of(AIC_BINARY_MUL, out, a, sa, b, sb, len); break;
    case AIC_BINARY_DIV: forward_row_of(AIC_BINARY_DIV, out, a, sa, b, sb, len); break;
    default: forward_row_of(kind, out, a, sa, b, sb, len); break;
    }
}

/* In the same element order as one flat loop, so a broadcast operand's gradient sums in row-major order.
 * write: the AIC_GRAD_WRITE_* bits, for operands that are not broadcast; a written gradient is
 * 0 + g, a select rather than a branch, so that the loop vectorizes and what it held is not read in. */
static inline void backward_row_of(aic_binary_kind kind, float *da, float *db, const float *dout, const float *a,
                                   int64_t sa, const float *b, int64_t sb, int64_t len, unsigned write) {
    const bool wa = write & AIC_GRAD_WRITE_A, wb = write & AIC_GRAD_WRITE_B;
    for (int64_t i = 0; i < len; i++) {
        float ga, gb;
        aic_binary_grads(kind, dout[i], a ? a[i * sa] : 0.0f, b ? b[i * sb] : 0.0f, &ga, &gb);
        if (da)
            da[i * sa] = (wa ? 0.0f : da[i * sa]) + ga;
        if (db)
            db[i * sb] = (wb ? 0.0f : db[i * sb]) + gb;
    }
}

AIC_CPU_CLONES
static void backward_row(aic_binary_kind kind, float *da, float *db, const float *dout, const float *a, int64_t sa,
                         const float *b, int64_t sb, int64_t len, unsigned write) {
    switch (kind) {
    case AIC_BINARY_ADD: backward_row_of(AIC_BINARY_ADD, da, db, dout, a, sa, b, sb, len, write); break;
    case AIC_BINARY_SUB: backward_row_of(AIC_BINARY_SUB, da, db, dout, a, sa, b, sb, len, write); break;
    case AIC_BINARY_MUL: backward_row_of(AIC_BINARY_MUL, da, db, dout, a, sa, b, sb, len, write); break;
    case AIC_BINARY_DIV: backward_row_of(AIC_BINARY_DIV, da, db, dout, a, sa, b, sb, len, write); break;
    default: backward_row_of(kind, da, db, dout, a, sa, b, sb, len, write); break;
    }
}

/* The operands of one pass: forward reads a and b into out; backward reads dout (and a, b) into da, db. */
typedef struct {
    float *out, *da, *db;
    const float *dout, *a, *b;
    unsigned write;
} binary_buffers;

/* Runs the pass row by row: the innermost dim is a row (`len` long, operand strides sa and sb), the
 * others are stepped by step(). */
static void run_rows(aic_binary_kind kind, const aic_binary_dims *d, const binary_buffers *p, bool backward) {
    aic_binary_dims rows = *d;
    int64_t len = 1, sa = 0, sb = 0;
    if (d->ndim > 0) {
        rows.ndim = d->ndim - 1;
        len = d->shape[d->ndim - 1];
        sa = d->astride[d->ndim - 1];
        sb = d->bstride[d->ndim - 1];
    }
    if (len == 0)
        return;
    int64_t idx[AIC_BINARY_MAX_DIMS] = {0}, ai = 0, bi = 0, n = total(&rows);
    for (int64_t r = 0; r < n; r++, step(idx, &ai, &bi, &rows)) {
        const float *a = p->a ? p->a + ai : NULL, *b = p->b ? p->b + bi : NULL;
        if (backward)
            backward_row(kind, p->da ? p->da + ai : NULL, p->db ? p->db + bi : NULL, p->dout + r * len, a, sa, b, sb,
                         len, p->write);
        else
            forward_row(kind, p->out + r * len, a, sa, b, sb, len);
    }
}

aic_status aic_binary_forward(float *out, const float *a, const float *b, aic_binary_kind kind,
                              const aic_binary_dims *d) {
    // out: prod(shape); a, b: addressed through astride/bstride
    AIC_TRY(check_dims(__func__, kind, d));
    AIC_KERNEL_ARG(out && a && b, "out, a or b is NULL");
    run_rows(kind, d, &(binary_buffers){.out = out, .a = a, .b = b}, false);
    return AIC_OK;
}

aic_status aic_binary_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                               aic_binary_kind kind, const aic_binary_dims *d, unsigned write) {
    // dout: prod(shape); da like a, db like b (NULL: skipped)
    AIC_TRY(check_dims(__func__, kind, d));
    if (!da && !db)
        return AIC_OK;
    // all but add and sub read both operands
    AIC_KERNEL_ARG(dout && ((kind == AIC_BINARY_ADD || kind == AIC_BINARY_SUB) || (a && b)), "dout, a or b is NULL");
    run_rows(kind, d, &(binary_buffers){.da = da, .db = db, .dout = dout, .a = a, .b = b, .write = write}, true);
    return AIC_OK;
}
