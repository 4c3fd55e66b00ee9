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

#endif
