// SPDX-License-Identifier: Apache-2.0
/* aic_expf: exp(x) in float without a libm call, so that a loop over it vectorizes (libm's expf is a
 * call per element: the softmax of attention scores spent most of its time there). The same formula
 * on both backends: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite: ln2 in two parts, k ln2_hi exact),
 * exp(r) by its Taylor polynomial to degree 7 (truncation below 6e-9 relative), and 2^k applied as two
 * powers of two built in the exponent bits, so that results down to the subnormals need no branch.
 * Within 2 ulp of a correctly rounded exp; selects only, so NaN stays NaN, below -104 is 0, above
 * 88.73 is inf. */
#ifndef AICON_LAYERS_VEXP_H
#define AICON_LAYERS_VEXP_H

#include <math.h>
#include <stdint.h>

#include "layers/host_device.h"

/* 2^k for -126 <= k <= 127, from the exponent bits. */
AIC_HD float aic_pow2i(int32_t k) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)(k + 127) << 23};
    return v.f;
}

AIC_HD float aic_expf(float x) {
    const float xc = x > -104.0f ? (x < 88.75f ? x : 88.75f) : -104.0f; /* NaN too: k stays an int */
    const float kf = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    const float r = (xc - kf * 0.693359375f) + kf * 2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t k = (int32_t)kf, k1 = k / 2; /* k in [-150, 128]: both halves in range */
    const float y = p * aic_pow2i(k1) * aic_pow2i(k - k1);
    return x != x ? x : x < -104.0f ? 0.0f : x > 88.75f ? (float)INFINITY : y;
}

/* tanh(x) without a libm call, vectorizable as aic_expf: for |x| < 0.55 its odd Taylor polynomial to
 * x^15 (the next term is below 1e-7 of the value there), else 1 - 2 / (exp(2|x|) + 1), which has no
 * cancellation once tanh is past 0.5; the sign of x put back. Within a few ulp of tanhf; tanh(NaN) is
 * NaN, large |x| gives +-1. */
AIC_HD float aic_tanhf(float x) {
    const float ax = x < 0.0f ? -x : x, x2 = x * x;
    float p = 929569.0f / 638512875.0f;
    p = p * x2 - 21844.0f / 6081075.0f;
    p = p * x2 + 1382.0f / 155925.0f;
    p = p * x2 - 62.0f / 2835.0f;
    p = p * x2 + 17.0f / 315.0f;
    p = p * x2 - 2.0f / 15.0f;
    p = p * x2 + 1.0f / 3.0f;
    const float small = x - x * (x2 * p);
    const float big = 1.0f - 2.0f / (aic_expf(2.0f * ax) + 1.0f);
    return ax < 0.55f ? small : x < 0.0f ? -big : x != x ? x : big;
}

#endif
