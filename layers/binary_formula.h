// SPDX-License-Identifier: Apache-2.0
/* The binary ops' formulas (aic_binary_kind, layers/layers.h), written once for the C kernels
 * (layers/binary.c) and the CUDA ones (layers/shape_cuda.cu). */
#ifndef AICON_LAYERS_BINARY_FORMULA_H
#define AICON_LAYERS_BINARY_FORMULA_H

#include <math.h>

#include "layers/host_device.h"
#include "layers/layers.h"

/* max and min: a NaN operand is the result (numpy's maximum, ONNX Max); pow: powf. The comparisons
 * and the logic ops give 1 or 0 (aicon holds ONNX's bool tensors as floats 0 and 1; the logic ops read
 * any nonzero as true). */
AIC_HD float aic_binary_f(aic_binary_kind k, float x, float y) {
    switch (k) {
    case AIC_BINARY_EQUAL: return x == y ? 1.0f : 0.0f;
    case AIC_BINARY_LESS: return x < y ? 1.0f : 0.0f;
    case AIC_BINARY_GREATER: return x > y ? 1.0f : 0.0f;
    case AIC_BINARY_LESS_EQUAL: return x <= y ? 1.0f : 0.0f;
    case AIC_BINARY_GREATER_EQUAL: return x >= y ? 1.0f : 0.0f;
    case AIC_BINARY_AND: return x != 0.0f && y != 0.0f ? 1.0f : 0.0f;
    case AIC_BINARY_OR: return x != 0.0f || y != 0.0f ? 1.0f : 0.0f;
    case AIC_BINARY_XOR: return (x != 0.0f) != (y != 0.0f) ? 1.0f : 0.0f;
    case AIC_BINARY_ADD: return x + y;
    case AIC_BINARY_SUB: return x - y;
    case AIC_BINARY_MUL: return x * y;
    case AIC_BINARY_DIV: return x / y;
    case AIC_BINARY_POW: return powf(x, y);
    case AIC_BINARY_MAX: return x != x || x > y ? x : y;
    case AIC_BINARY_FMOD: return fmodf(x, y);
    case AIC_BINARY_MOD: { /* fmod moved to the divisor's sign, a zero too (numpy's mod) */
        const float r = fmodf(x, y);
        return r == 0.0f ? copysignf(0.0f, y) : (r < 0.0f) != (y < 0.0f) ? r + y : r;
    }
    default: return x != x || x < y ? x : y; /* AIC_BINARY_MIN */
    }
}

/* The gradients g sends to x (*gx) and y (*gy) through out = f(x, y). pow: y x^(y-1), and out log x
 * (0 where x is 0 and y not negative, as torch.pow); max and min: all to the operand chosen, half to
 * each on a tie (torch.maximum); fmod and mod: 1 and -trunc(x / y) or -floor(x / y) (torch.fmod,
 * torch.remainder); the comparisons and logic ops: none. */
AIC_HD void aic_binary_grads(aic_binary_kind k, float g, float x, float y, float *gx, float *gy) {
    if (k >= AIC_BINARY_EQUAL && k <= AIC_BINARY_XOR) {
        *gx = *gy = 0.0f;
        return;
    }
    switch (k) {
    case AIC_BINARY_ADD: *gx = g; *gy = g; break;
    case AIC_BINARY_SUB: *gx = g; *gy = -g; break;
    case AIC_BINARY_MUL: *gx = g * y; *gy = g * x; break;
    case AIC_BINARY_DIV: *gx = g / y; *gy = -g * x / (y * y); break;
    case AIC_BINARY_POW:
        *gx = g * y * powf(x, y - 1.0f);
        *gy = x == 0.0f && y >= 0.0f ? 0.0f : g * powf(x, y) * logf(x);
        break;
    case AIC_BINARY_FMOD: *gx = g; *gy = -g * truncf(x / y); break;
    case AIC_BINARY_MOD: *gx = g; *gy = -g * floorf(x / y); break;
    default: { /* max, min */
        const float out = aic_binary_f(k, x, y);
        *gx = x == y ? 0.5f * g : out == x || out != out ? g : 0.0f;
        *gy = x == y ? 0.5f * g : out == x || out != out ? 0.0f : g;
        break;
    }
    }
}

#endif
