// SPDX-License-Identifier: Apache-2.0
/* Shared by the C tests: one family of checks with one count, a small deterministic generator and
 * buffer helpers. */
#ifndef AICON_TEST_UTIL_H
#define AICON_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h" /* AIC_PRINTF, and AIC_TRY for a test's own aic_status helpers */

/* ---- checks ---------------------------------------------------------------------------------------
 * CHECK(cond), CHECK_MSG(cond, fmt, ...) and CHECK_OK(call returning aic_status) count a pass or a
 * failure and go on. A failure prints "FAIL file:line: " and the condition, the formatted message or
 * the call with its status, then aic_last_error() when it holds a message (possibly left by an
 * earlier call). Each is an expression, true when the check passed, so a test that cannot go on
 * stops where the reader sees it: `if (!CHECK_OK(call)) goto cleanup;`. REQUIRE_OK and REQUIRE_MSG
 * end the program with exit code 1 instead. test_report prints the counts and gives the exit code. */

static long test_pass, test_fail;
/* An MPI test stores its rank here, so that each failure says which rank saw it. */
static int test_rank = -1;

static inline bool test_passed(void) {
    test_pass++;
    return true;
}

static inline AIC_PRINTF(3, 4) bool test_failed(const char *file, int line, const char *fmt, ...) {
    test_fail++;
    if (test_rank >= 0)
        fprintf(stderr, "rank %d: ", test_rank);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const char *err = aic_last_error();
    if (err[0])
        fprintf(stderr, " (last error: %s)", err);
    fputc('\n', stderr);
    return false;
}

/* For a test that prints its own ok/FAIL line per comparison (a table of errors). */
static inline bool test_count(bool ok) {
    if (!ok) {
        test_fail++;
        return false;
    }
    return test_passed();
}

static inline bool test_check(bool ok, const char *file, int line, const char *cond) {
    return ok ? test_passed() : test_failed(file, line, "%s", cond);
}

static inline bool test_check_ok(aic_status st, const char *file, int line, const char *call) {
    return st == AIC_OK ? test_passed() : test_failed(file, line, "%s: %s", call, aic_status_string(st));
}

/* A call rather than a ?: expression: a condition the compiler folds to a constant would leave a
 * ?: whose value is unused (-Wunused-value). */
#define CHECK(cond) test_check((cond), __FILE__, __LINE__, #cond)
/* The message's arguments are evaluated after cond, and only when it fails. */
#define CHECK_MSG(cond, ...) ((cond) ? test_passed() : test_failed(__FILE__, __LINE__, __VA_ARGS__))
#define CHECK_OK(call) test_check_ok((call), __FILE__, __LINE__, #call)

#define REQUIRE_OK(call)                                                                                   \
    do {                                                                                                   \
        if (!CHECK_OK(call))                                                                               \
            exit(1);                                                                                       \
    } while (0)
#define REQUIRE_MSG(cond, ...)                                                                             \
    do {                                                                                                   \
        if (!CHECK_MSG(cond, __VA_ARGS__))                                                                 \
            exit(1);                                                                                       \
    } while (0)

/* Prints "name: N passed, M failed"; returns the exit code, 1 when any check failed. */
static inline int test_report(const char *name) {
    printf("%s: %ld passed, %ld failed\n", name, test_pass, test_fail);
    return test_fail ? 1 : 0;
}

/* ---- data ------------------------------------------------------------------------------------------ */

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
