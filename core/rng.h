// SPDX-License-Identifier: Apache-2.0
/* Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11): a value is a pure function of
 * (key, counter), so results depend on the seed and the position, never on threads or ranks. */
#ifndef AICON_CORE_RNG_H
#define AICON_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint32_t v[4];
} aic_philox_block;

/* Four 32-bit random words for counter ctr[0..3] under key key[0..1]. */
aic_philox_block aic_philox(uint64_t key, uint64_t ctr_hi, uint64_t ctr_lo);

/* A uniform float in [0, 1) from a 32-bit word (24 random mantissa bits). */
static inline float aic_u32_to_unit(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* Mix several 64-bit words into one key (splitmix64 finalizer), e.g. (seed, step, op id). */
uint64_t aic_mix64(uint64_t a, uint64_t b);

#endif
