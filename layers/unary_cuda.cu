// SPDX-License-Identifier: Apache-2.0
// CUDA kernels of the unary ops: the formulas of layers/unary.h, compiled for the device.
#include "layers/cuda_common.cuh"
extern "C" {
#include "layers/unary.h"
}

// The attributes travel by value: a kernel cannot read the host's array.
struct unary_attrs {
    float a[AIC_UNARY_MAX_ATTRS];
};

#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1)                                                      \
    __global__ static void name##_fwd_k(float *y, const float *x, size_t n, unary_attrs at) {                \
        AIC_GRID_STRIDE(i, n) y[i] = aic_##name##_f(x[i], at.a);                                            \
    }                                                                                                       \
    __global__ static void name##_bwd_k(float *dx, const float *dy, const float *x, const float *y, size_t n, \
                                        unary_attrs at) {                                                   \
        AIC_GRID_STRIDE(i, n) dx[i] += aic_##name##_grad(dy[i], x[i], y[i], at.a);                          \
    }
#include "layers/unary_ops.def"
#undef AIC_UNARY

static unary_attrs attrs_of(const float *a) {
    unary_attrs at = {};
    for (int i = 0; a && i < AIC_UNARY_MAX_ATTRS; i++)
        at.a[i] = a[i];
    return at;
}

extern "C" aic_status aic_cuda_unary_forward(aic_unary_kind k, float *y, const float *x, size_t n, const float *a) {
    const unary_attrs at = attrs_of(a);
    switch (k) {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) \
    case AIC_UNARY_##E: return AIC_LAUNCH_N(n, name##_fwd_k, y, x, n, at);
#include "layers/unary_ops.def"
#undef AIC_UNARY
    default: return aic_fail(AIC_ERR_INVALID_ARG, "unary op kind %d is not one of the %d", (int)k, AIC_UNARY_COUNT);
    }
}

extern "C" aic_status aic_cuda_unary_backward(aic_unary_kind k, float *dx, const float *dy, const float *x,
                                              const float *y, size_t n, const float *a) {
    if (!dx)
        return AIC_OK;
    const unary_attrs at = attrs_of(a);
    switch (k) {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) \
    case AIC_UNARY_##E: return AIC_LAUNCH_N(n, name##_bwd_k, dx, dy, x, y, n, at);
#include "layers/unary_ops.def"
#undef AIC_UNARY
    default: return aic_fail(AIC_ERR_INVALID_ARG, "unary op kind %d is not one of the %d", (int)k, AIC_UNARY_COUNT);
    }
}
