// SPDX-License-Identifier: Apache-2.0
/* Shared by the kernel tests: a small deterministic generator and buffer helpers. */
#ifndef AICON_TEST_UTIL_H
#define AICON_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64*: each test program seeds it (test_rng = ...) so its data never changes. */
static uint64_t test_rng = 0x9E3779B97F4A7C15ull;

/* Uniform in [0, 1). */
static inline double test_urand(void) {
    test_rng ^= test_rng >> 12;
    test_rng ^= test_rng << 25;
    test_rng ^= test_rng >> 27;
    return (double)((test_rng * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

static inline float test_frand(float lo, float hi) { return lo + (hi - lo) * (float)test_urand(); }

static inline float *test_alloc(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline float *test_rand_buf(size_t n, float lo, float hi) {
    float *p = test_alloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = test_frand(lo, hi);
    return p;
}

#endif
