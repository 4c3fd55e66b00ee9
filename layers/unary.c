// SPDX-License-Identifier: Apache-2.0
/* CPU kernels of the unary ops: one loop pair per op over its formulas in layers/unary.h, plain
 * enough for the compiler to vectorize (at the CPU's full width: layers/cpu_clones.h). */
#include "layers/unary.h"

#include "layers/cpu_clones.h"
#include "layers/kernel_check.h"

#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1)                                                      \
    AIC_CPU_CLONES static void name##_forward(float *y, const float *x, size_t n, const float *a) {         \
        for (size_t i = 0; i < n; i++)                                                                      \
            y[i] = aic_##name##_f(x[i], a);                                                                 \
    }                                                                                                       \
    AIC_CPU_CLONES static void name##_backward(float *dx, const float *dy, const float *x, const float *y,  \
                                               size_t n, const float *a) {                                  \
        for (size_t i = 0; i < n; i++) {                                                                    \
            const float g = dy[i]; /* read unconditionally: a select, not a branch */                       \
            dx[i] += aic_##name##_grad(g, x[i], y[i], a);                                                   \
        }                                                                                                   \
    }
#include "layers/unary_ops.def"
#undef AIC_UNARY

static const struct {
    void (*forward)(float *y, const float *x, size_t n, const float *a);
    void (*backward)(float *dx, const float *dy, const float *x, const float *y, size_t n, const float *a);
    const char *attr0; /* the first attribute's name; NULL: the op reads no a[] */
} kernels[AIC_UNARY_COUNT] = {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_UNARY_##E] = {name##_forward, name##_backward, a0},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};

aic_status aic_unary_forward(aic_unary_kind k, float *y, const float *x, size_t n, const float *a) {
    // y, x: n; a: the op's attributes (NULL where it has none)
    AIC_KERNEL_ARG((unsigned)k < AIC_UNARY_COUNT, "unary op kind %d is not one of the %d", (int)k, AIC_UNARY_COUNT);
    AIC_KERNEL_ARG(y && x, "y or x is NULL");
    AIC_KERNEL_ARG(a || !kernels[k].attr0, "attributes are NULL; the op reads %s", kernels[k].attr0);
    kernels[k].forward(y, x, n, a);
    return AIC_OK;
}

aic_status aic_unary_backward(aic_unary_kind k, float *dx, const float *dy, const float *x, const float *y, size_t n,
                              const float *a) {
    // dx, dy, x, y: n; a: the op's attributes (NULL where it has none)
    AIC_KERNEL_ARG((unsigned)k < AIC_UNARY_COUNT, "unary op kind %d is not one of the %d", (int)k, AIC_UNARY_COUNT);
    if (!dx)
        return AIC_OK;
    AIC_KERNEL_ARG(dy && x && y, "dy, x or y is NULL");
    AIC_KERNEL_ARG(a || !kernels[k].attr0, "attributes are NULL; the op reads %s", kernels[k].attr0);
    kernels[k].backward(dx, dy, x, y, n, a);
    return AIC_OK;
}
