// SPDX-License-Identifier: Apache-2.0
/* Elementwise unary ops (layers/unary_ops.def): for each, the forward formula f(x) and the gradient
 * it adds to dL/dx given dL/dy = g, the input x and the output y = f(x); a[] holds the op's float
 * attributes. The C kernels (layers/unary.c) and the CUDA ones (layers/unary_cuda.cu) compile these
 * same functions, so both backends compute one formula. Backward accumulates (dx += grad). */
#ifndef AICON_LAYERS_UNARY_H
#define AICON_LAYERS_UNARY_H

#include <math.h>
#include <stddef.h>

#include "aicon/status.h"
#include "layers/host_device.h"
#include "layers/vexp.h"

typedef enum {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) AIC_UNARY_##E,
#include "layers/unary_ops.def"
#undef AIC_UNARY
    AIC_UNARY_COUNT
} aic_unary_kind;

#define AIC_UNARY_MAX_ATTRS 2

/* A NaN passes through, as in PyTorch. The gradient selects g or -0 (x + -0 is x for every x), so
 * an infinite g never turns into a NaN. */
AIC_HD float aic_relu_f(float x, const float *a) { return x < 0.0f ? 0.0f : x; }
AIC_HD float aic_relu_grad(float g, float x, float y, const float *a) { return y > 0.0f ? g : -0.0f; }

/* exp of a non-positive argument only: no overflow for large |x|. */
AIC_HD float aic_sigmoid_f(float x, const float *a) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    const float e = expf(x);
    return e / (1.0f + e);
}
AIC_HD float aic_sigmoid_grad(float g, float x, float y, const float *a) { return g * y * (1.0f - y); }

AIC_HD float aic_tanh_f(float x, const float *a) { return aic_tanhf(x); }
AIC_HD float aic_tanh_grad(float g, float x, float y, const float *a) { return g * (1.0f - y * y); }

/* a[0] = alpha. The slope follows the input's sign; at x == 0 it is alpha, as PyTorch's
 * leaky_relu_backward (self > 0 ? grad : grad * negval). NaN: alpha * NaN passes through. */
AIC_HD float aic_leaky_relu_f(float x, const float *a) { return x >= 0.0f ? x : a[0] * x; }
AIC_HD float aic_leaky_relu_grad(float g, float x, float y, const float *a) { return x > 0.0f ? g : a[0] * g; }

/* a[0] = alpha, a[1] = beta: y = max(0, min(1, alpha x + beta)) (ONNX HardSigmoid; PyTorch's
 * hardsigmoid is alpha 1/6). The gradient is alpha where 0 < alpha x + beta < 1, as torch's
 * hardsigmoid_backward (-3 < x < 3), and 0 at and past the bends. */
AIC_HD float aic_hard_sigmoid_f(float x, const float *a) {
    const float t = a[0] * x + a[1];
    return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t; /* NaN passes through */
}
AIC_HD float aic_hard_sigmoid_grad(float g, float x, float y, const float *a) {
    const float t = a[0] * x + a[1];
    return t > 0.0f && t < 1.0f ? a[0] * g : -0.0f;
}

/* The gradient from y, as PyTorch's exp backward (grad * result). */
AIC_HD float aic_exp_f(float x, const float *a) { return expf(x); }
AIC_HD float aic_exp_grad(float g, float x, float y, const float *a) { return g * y; }

/* g / x, as PyTorch: +-inf at +-0, NaN below 0 and at NaN. */
AIC_HD float aic_log_f(float x, const float *a) { return logf(x); }
AIC_HD float aic_log_grad(float g, float x, float y, const float *a) { return g / x; }

AIC_HD float aic_neg_f(float x, const float *a) { return -x; }
AIC_HD float aic_neg_grad(float g, float x, float y, const float *a) { return -g; }

/* g / (2 sqrt(x)) from y, as PyTorch: +-inf at +-0 (y keeps the zero's sign), NaN below 0. */
AIC_HD float aic_sqrt_f(float x, const float *a) { return sqrtf(x); }
AIC_HD float aic_sqrt_grad(float g, float x, float y, const float *a) { return g / (2.0f * y); }

/* -g / x^2 as -g y^2, as PyTorch: -inf at +-0. */
AIC_HD float aic_reciprocal_f(float x, const float *a) { return 1.0f / x; }
AIC_HD float aic_reciprocal_grad(float g, float x, float y, const float *a) { return -g * (y * y); }

/* The gradient is g sign(x), 0 at x == 0 and at NaN as PyTorch's sgn (torch.abs's subgradient at 0
 * is 0); a select, as relu's, so an infinite g at 0 gives 0 where PyTorch's g * 0 gives NaN. */
AIC_HD float aic_abs_f(float x, const float *a) { return fabsf(x); }
AIC_HD float aic_abs_grad(float g, float x, float y, const float *a) { return x > 0.0f ? g : x < 0.0f ? -g : -0.0f; }

/* d/dx erf(x) = 2/sqrt(pi) exp(-x^2). */
AIC_HD float aic_erf_f(float x, const float *a) { return erff(x); }
AIC_HD float aic_erf_grad(float g, float x, float y, const float *a) {
    return g * 1.12837916709551257390f * expf(-x * x);
}

/* a[0] = alpha: y = x for x > 0, alpha (exp(x) - 1) below, by expm1 (no cancellation near 0). The
 * gradient is alpha exp(x) for x <= 0 (alpha at 0, as PyTorch's elu_backward) and 1 above; it is
 * computed from x, not as y + alpha, which loses every digit where exp(x) is below float's epsilon.
 * As PyTorch, a NaN x takes the x > 0 side in backward: the gradient is g (the output is NaN). */
AIC_HD float aic_elu_f(float x, const float *a) { return x > 0.0f ? x : a[0] * expm1f(x); }
AIC_HD float aic_elu_grad(float g, float x, float y, const float *a) { return x <= 0.0f ? g * a[0] * expf(x) : g; }

/* a[0] = alpha, a[1] = gamma: gamma elu(x, alpha), with PyTorch's selu's constants as the defaults
 * (ONNX's, which are those rounded to float) and its choices at 0 and NaN, as elu's. */
AIC_HD float aic_selu_f(float x, const float *a) { return x > 0.0f ? a[1] * x : a[0] * a[1] * expm1f(x); }
AIC_HD float aic_selu_grad(float g, float x, float y, const float *a) {
    return x <= 0.0f ? g * (a[0] * a[1]) * expf(x) : g * a[1];
}

/* log(1 + exp(x)) as log1p(exp(-|x|)) + max(x, 0): no overflow, and no underflow to 0 for x < 0.
 * PyTorch's softplus (beta 1, threshold 20) returns x past 20, where log1p(exp(-x)) < 2.1e-9 is
 * below half an ulp of x: the same floats. The gradient is sigmoid(x) (1 past 20 in float, as
 * PyTorch's threshold); NaN passes through both. */
AIC_HD float aic_softplus_f(float x, const float *a) { return log1pf(expf(-fabsf(x))) + (x > 0.0f ? x : 0.0f); }
AIC_HD float aic_softplus_grad(float g, float x, float y, const float *a) { return g * aic_sigmoid_f(x, a); }

/* x relu6(x + 3) / 6, as PyTorch's hardswish (ONNX's x max(0, min(1, x/6 + 1/2)) up to rounding).
 * The gradient is PyTorch's hardswish_backward: 0 below -3, x/3 + 1/2 on [-3, 3] (-1/2 at -3, 3/2
 * at 3), 1 above, and g at NaN. */
AIC_HD float aic_hard_swish_f(float x, const float *a) {
    const float t = x + 3.0f;
    return x * (t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t) / 6.0f; /* NaN passes through */
}
AIC_HD float aic_hard_swish_grad(float g, float x, float y, const float *a) {
    return x < -3.0f ? -0.0f : x <= 3.0f ? g * (x / 3.0f + 0.5f) : g;
}

/* GELU, exact: x (erf(x / sqrt 2) + 1) / 2, each float operation in the order of PyTorch's ONNX
 * export below opset 20 (Div, Erf, Add, Mul, Mul), so that the export (onnx/export.c writes the same
 * nodes) and this kernel agree bitwise. The gradient is (erf(x / sqrt 2) + 1) / 2 + x phi(x). */
#define AIC_SQRT2_F 1.41421356237309504880f
AIC_HD float aic_gelu_f(float x, const float *a) { return (x * (erff(x / AIC_SQRT2_F) + 1.0f)) * 0.5f; }
AIC_HD float aic_gelu_grad(float g, float x, float y, const float *a) {
    return g * (0.5f * (erff(x / AIC_SQRT2_F) + 1.0f) + x * 0.39894228040143267794f * expf(-0.5f * x * x));
}

/* GELU, tanh form (PyTorch's approximate='tanh', GPT-2's): (x (tanh(beta (x + kappa x (x x))) + 1))
 * / 2 with beta = sqrt(2 / pi), kappa = 0.044715, in the order of PyTorch's export (Mul, Mul, Mul, Add,
 * Mul, Tanh, Add, Mul, Mul). */
#define AIC_GELU_BETA_F 0.79788456080286535588f
#define AIC_GELU_KAPPA_F 0.044715f
AIC_HD float aic_gelu_tanh_f(float x, const float *a) {
    const float inner = AIC_GELU_BETA_F * (x + AIC_GELU_KAPPA_F * (x * (x * x)));
    return 0.5f * (x * (1.0f + aic_tanhf(inner)));
}
AIC_HD float aic_gelu_tanh_grad(float g, float x, float y, const float *a) {
    const float t = aic_tanhf(AIC_GELU_BETA_F * (x + AIC_GELU_KAPPA_F * (x * (x * x))));
    return g * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * AIC_GELU_BETA_F * (1.0f + 3.0f * AIC_GELU_KAPPA_F * x * x));
}

/* The trigonometric and hyperbolic functions and their inverses, with their derivatives. */
AIC_HD float aic_sin_f(float x, const float *a) { return sinf(x); }
AIC_HD float aic_sin_grad(float g, float x, float y, const float *a) { return g * cosf(x); }
AIC_HD float aic_cos_f(float x, const float *a) { return cosf(x); }
AIC_HD float aic_cos_grad(float g, float x, float y, const float *a) { return -g * sinf(x); }
AIC_HD float aic_tan_f(float x, const float *a) { return tanf(x); }
AIC_HD float aic_tan_grad(float g, float x, float y, const float *a) { return g * (1.0f + y * y); }
AIC_HD float aic_asin_f(float x, const float *a) { return asinf(x); }
AIC_HD float aic_asin_grad(float g, float x, float y, const float *a) { return g / sqrtf(1.0f - x * x); }
AIC_HD float aic_acos_f(float x, const float *a) { return acosf(x); }
AIC_HD float aic_acos_grad(float g, float x, float y, const float *a) { return -g / sqrtf(1.0f - x * x); }
AIC_HD float aic_atan_f(float x, const float *a) { return atanf(x); }
AIC_HD float aic_atan_grad(float g, float x, float y, const float *a) { return g / (1.0f + x * x); }
AIC_HD float aic_sinh_f(float x, const float *a) { return sinhf(x); }
AIC_HD float aic_sinh_grad(float g, float x, float y, const float *a) { return g * coshf(x); }
AIC_HD float aic_cosh_f(float x, const float *a) { return coshf(x); }
AIC_HD float aic_cosh_grad(float g, float x, float y, const float *a) { return g * sinhf(x); }
AIC_HD float aic_asinh_f(float x, const float *a) { return asinhf(x); }
AIC_HD float aic_asinh_grad(float g, float x, float y, const float *a) { return g / sqrtf(x * x + 1.0f); }
AIC_HD float aic_acosh_f(float x, const float *a) { return acoshf(x); }
AIC_HD float aic_acosh_grad(float g, float x, float y, const float *a) { return g / sqrtf(x * x - 1.0f); }
AIC_HD float aic_atanh_f(float x, const float *a) { return atanhf(x); }
AIC_HD float aic_atanh_grad(float g, float x, float y, const float *a) { return g / (1.0f - x * x); }

/* x / (1 + |x|); the gradient 1 / (1 + |x|)^2. */
AIC_HD float aic_softsign_f(float x, const float *a) { return x / (1.0f + fabsf(x)); }
AIC_HD float aic_softsign_grad(float g, float x, float y, const float *a) {
    const float d = 1.0f + fabsf(x);
    return g / (d * d);
}

/* a[0] = alpha: x where x > alpha, else 0 (ONNX ThresholdedRelu). */
AIC_HD float aic_thresholded_relu_f(float x, const float *a) { return x > a[0] ? x : 0.0f; }
AIC_HD float aic_thresholded_relu_grad(float g, float x, float y, const float *a) { return x > a[0] ? g : -0.0f; }

/* a[0] = alpha: max(0, x) + min(0, alpha (exp(x / alpha) - 1)), as torch.celu. */
AIC_HD float aic_celu_f(float x, const float *a) { return x > 0.0f ? x : a[0] * expm1f(x / a[0]); }
AIC_HD float aic_celu_grad(float g, float x, float y, const float *a) { return x > 0.0f ? g : g * expf(x / a[0]); }

/* a[0] = lambd, a[1] = bias: x + bias below -lambd, x - bias above lambd, 0 between (ONNX Shrink). */
AIC_HD float aic_shrink_f(float x, const float *a) { return x < -a[0] ? x + a[1] : x > a[0] ? x - a[1] : 0.0f; }
AIC_HD float aic_shrink_grad(float g, float x, float y, const float *a) { return x < -a[0] || x > a[0] ? g : -0.0f; }

/* Piecewise constant: no gradient (0, as torch's floor, ceil, round and sign). round is to the
 * nearest, ties to even (ONNX Round, numpy's round), as rintf in the default rounding mode. */
AIC_HD float aic_floor_f(float x, const float *a) { return floorf(x); }
AIC_HD float aic_floor_grad(float g, float x, float y, const float *a) { return 0.0f; }
AIC_HD float aic_ceil_f(float x, const float *a) { return ceilf(x); }
AIC_HD float aic_ceil_grad(float g, float x, float y, const float *a) { return 0.0f; }
AIC_HD float aic_round_f(float x, const float *a) { return rintf(x); }
AIC_HD float aic_round_grad(float g, float x, float y, const float *a) { return 0.0f; }
AIC_HD float aic_sign_f(float x, const float *a) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x; }
AIC_HD float aic_sign_grad(float g, float x, float y, const float *a) { return 0.0f; }

/* ONNX Not of a bool tensor held as floats: 1 where x is 0, else 0; no gradient. */
AIC_HD float aic_not_f(float x, const float *a) { return x == 0.0f ? 1.0f : 0.0f; }
AIC_HD float aic_not_grad(float g, float x, float y, const float *a) { return 0.0f; }

/* ONNX IsInf (a[0] = detect_positive, a[1] = detect_negative, nonzero: detected) and IsNaN, their
 * bools as floats 1 and 0; no gradient. */
AIC_HD float aic_is_inf_f(float x, const float *a) {
    return isinf(x) && (x > 0.0f ? a[0] : a[1]) != 0.0f ? 1.0f : 0.0f;
}
AIC_HD float aic_is_inf_grad(float g, float x, float y, const float *a) { return 0.0f; }
AIC_HD float aic_is_nan_f(float x, const float *a) { return x != x ? 1.0f : 0.0f; }
AIC_HD float aic_is_nan_grad(float g, float x, float y, const float *a) { return 0.0f; }

/* a[0] = exponent: x^exponent as torch.pow with a scalar exponent: x*x for 2, x*x*x for 3, sqrt for
 * 0.5, 1/x for -1, 1/(x*x) for -2, powf otherwise (a negative x with an integer exponent is defined:
 * pow(-2, 2) = 4; with another exponent NaN). The gradient is torch's pow_backward: 0 for exponent 0,
 * else g exponent x^(exponent - 1) by the same rules. */
AIC_HD float aic_pow_f(float x, const float *a) {
    const float e = a[0];
    return e == 2.0f ? x * x : e == 3.0f ? x * x * x : e == 0.5f ? sqrtf(x) : e == -1.0f ? 1.0f / x
         : e == -2.0f ? 1.0f / (x * x) : e == 1.0f ? x : powf(x, e);
}
AIC_HD float aic_pow_grad(float g, float x, float y, const float *a) {
    const float e1 = a[0] - 1.0f;
    return a[0] == 0.0f ? 0.0f : g * (a[0] * aic_pow_f(x, &e1));
}

/* y[i] = f(x[i]) and dx[i] += grad(dy[i], x[i], y[i]) over n elements (layers/unary.c). */
aic_status aic_unary_forward(aic_unary_kind k, float *y, const float *x, size_t n, const float *a);
aic_status aic_unary_backward(aic_unary_kind k, float *dx, const float *dy, const float *x, const float *y, size_t n,
                              const float *a);
/* The same on the GPU, queued on the model's stream (layers/unary_cuda.cu; dx NULL: nothing). */
aic_status aic_cuda_unary_forward(aic_unary_kind k, float *y, const float *x, size_t n, const float *a);
aic_status aic_cuda_unary_backward(aic_unary_kind k, float *dx, const float *dy, const float *x, const float *y,
                                   size_t n, const float *a);

#endif
