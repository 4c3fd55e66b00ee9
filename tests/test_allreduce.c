// SPDX-License-Identifier: Apache-2.0
/* Collectives test, run under mpirun with 1 to 5 ranks: the ring, recursive doubling and
 * Rabenseifner allreduces against serial sums in their own orders (bitwise) and in double
 * precision, the single-copy (CMA) allreduce against the ring (bitwise), the same bits on every
 * rank, aic_allreduce_sum_f32's choice between them by size,
 * reproducibility, traffic counts, broadcast,
 * digest checks, agreement and the small f64/i64 sums. Prints "N passed, M failed" (summed over
 * ranks) on rank 0 and exits non-zero on every rank if any check failed anywhere. */
#define _GNU_SOURCE /* process_vm_readv */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h> /* process_vm_readv, to check the communicator's own CMA check */
#include <unistd.h>

#include "aicon/comm.h"
#include "collectives/allreduce.h"     /* the algorithms one by one, and the size thresholds */
#include "collectives/comm_internal.h" /* AIC_RING_SEGMENT, to aim lengths at segment edges */
#include "core/error.h"                 /* aic_fail, to give a failing rank its own message */
#include "tests/test_util.h"

static int g_size;

/* ---- data ---------------------------------------------------------------------------------------- */

static uint64_t mix(uint64_t x) { /* splitmix64 finalizer */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Rank q's value at index i: a 24-bit signed mantissa scaled by 2^-12 .. 2^11, so sums of a few
 * of them round, and differently in different orders. */
static float value(int q, size_t i) {
    uint64_t h = mix(((uint64_t)(q + 1) << 40) ^ (uint64_t)i);
    float mant = (float)((int64_t)(h & 0xffffff) - 0x800000) / (float)0x800000;
    int e = (int)((h >> 24) % 24) - 12;
    return ldexpf(mant, e);
}

/* Chunk k of n over p: the first n % p chunks hold one element more. */
static void chunk(size_t n, int p, int k, size_t *off, size_t *len) {
    size_t base = n / (size_t)p, rem = n % (size_t)p;
    *off = (size_t)k * base + ((size_t)k < rem ? (size_t)k : rem);
    *len = base + ((size_t)k < rem);
}

/* The sum the ring computes. Chunk c starts at rank c (its step-0 send); rank c+1 adds its own
 * values to it at step 0 (buf = buf + tmp), rank c+2 at step 1, ..., rank c-1 at step p-2, which
 * then owns the full sum and all-gathers it unchanged. So the order is
 *   x_{c-1} + (x_{c-2} + (... + (x_{c+1} + x_c))). */
static void ring_order_sum(float *ref, size_t n, int p) {
    for (int c = 0; c < p; c++) {
        size_t off, len;
        chunk(n, p, c, &off, &len);
        for (size_t i = off; i < off + len; i++) {
            float acc = value(c, i);
            for (int k = 1; k < p; k++)
                acc = value((c + k) % p, i) + acc;
            ref[i] = acc;
        }
    }
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ---- ring allreduce ------------------------------------------------------------------------------ */

static void test_ring_length(aic_comm_t *c, size_t n) {
    const int p = g_size, r = test_rank;
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    float *first = malloc((n ? n : 1) * sizeof *first);
    float *ref = malloc((n ? n : 1) * sizeof *ref);
    if (!CHECK_MSG(buf && first && ref, "n=%zu: out of memory in the test", n))
        goto done;
    for (size_t i = 0; i < n; i++)
        buf[i] = value(r, i);

    uint64_t s0, r0, s1, r1;
    aic_comm_traffic(c, &s0, &r0);
    aic_status st = aic_allreduce_ring_f32(c, buf, n);
    aic_comm_traffic(c, &s1, &r1);
    CHECK_MSG(st == AIC_OK, "n=%zu: allreduce returned %s", n, aic_status_string(st));

    /* Traffic: step t sends chunk r-t and receives chunk r-t-1, t = 0 .. 2p-3. */
    uint64_t want_sent = 0, want_recv = 0;
    if (p > 1) {
        for (int t = 0; t < 2 * (p - 1); t++) {
            size_t off, len;
            chunk(n, p, ((r - t) % p + p) % p, &off, &len);
            want_sent += len * sizeof(float);
            chunk(n, p, ((r - t - 1) % p + p) % p, &off, &len);
            want_recv += len * sizeof(float);
        }
    }
    CHECK_MSG(s1 - s0 == want_sent && r1 - r0 == want_recv,
              "n=%zu: traffic sent %llu received %llu, expected %llu and %llu", n,
              (unsigned long long)(s1 - s0), (unsigned long long)(r1 - r0),
              (unsigned long long)want_sent, (unsigned long long)want_recv);

    /* Bitwise against the ring's own order; within 1e-6 of the double sum, relative to the sum of
     * magnitudes (the scale of float rounding when terms cancel). */
    ring_order_sum(ref, n, p);
    size_t bad_bits = 0, bad_tol = 0, first_bad = 0, order_matters = 0;
    for (size_t i = 0; i < n; i++) {
        if (!same_bits(buf[i], ref[i]) && bad_bits++ == 0)
            first_bad = i;
        double d = 0, mag = 0;
        float naive = value(0, i);
        for (int q = 0; q < p; q++) {
            d += (double)value(q, i);
            mag += fabs((double)value(q, i));
            if (q > 0)
                naive = naive + value(q, i);
        }
        if (fabs((double)buf[i] - d) > 1e-6 * mag)
            bad_tol++;
        if (!same_bits(naive, ref[i]))
            order_matters++;
    }
    CHECK_MSG(bad_bits == 0, "n=%zu: %zu elements differ from the ring-order serial sum, first at "
              "%zu: %.9g vs %.9g", n, bad_bits, first_bad, n ? buf[first_bad] : 0.0,
              n ? ref[first_bad] : 0.0);
    CHECK_MSG(bad_tol == 0, "n=%zu: %zu elements off the double-precision sum by more than 1e-6", n,
              bad_tol);
    /* The data must be able to tell orders apart, else the bitwise check proves little. */
    if (p >= 3 && n >= 1000)
        CHECK_MSG(order_matters > 0, "n=%zu: rank-order and ring-order sums agree everywhere", n);

    /* Reproducibility: the same input gives the same bits. */
    memcpy(first, buf, n * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = value(r, i);
    st = aic_allreduce_ring_f32(c, buf, n);
    CHECK_MSG(st == AIC_OK, "n=%zu: second allreduce returned %s", n, aic_status_string(st));
    CHECK_MSG(n == 0 || memcmp(first, buf, n * sizeof *buf) == 0,
              "n=%zu: second call differs from the first", n);
done:
    free(buf);
    free(first);
    free(ref);
}

static void test_ring(aic_comm_t *c) {
    const size_t p = (size_t)g_size, S = AIC_RING_SEGMENT;
    const size_t lengths[] = {
        0, 1, p - 1, p + 1, 1000,
        ((size_t)1 << 20) + 3,     /* several segments per chunk, last one partial */
        p * S,                     /* every chunk exactly one segment */
        p * S + 1,                 /* one chunk has a second, 1-float segment; the others not */
        p * S - 1,                 /* one chunk one float short of a segment */
        3 * p * S + 12345,         /* not a multiple of the segment size */
    };
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
        test_ring_length(c, lengths[k]);
    CHECK_MSG(aic_allreduce_sum_f32(c, NULL, 5) == AIC_ERR_INVALID_ARG, "NULL buf with n > 0 accepted");
    CHECK_MSG(aic_allreduce_sum_f32(c, NULL, 0) == AIC_OK, "NULL buf with n = 0 refused");
    CHECK_MSG(aic_allreduce_ring_f32(c, NULL, 5) == AIC_ERR_INVALID_ARG, "ring: NULL buf accepted");
}

/* ---- recursive doubling and Rabenseifner --------------------------------------------------------- */

typedef aic_status (*allreduce_fn)(aic_comm_t *c, float *buf, size_t n);

/* The sum both pairwise algorithms compute, at index i: q = the largest power of two <= p virtual
 * ranks, the first e = p - q of them starting from x_2v + x_2v+1, the others from x_v+e; then
 * rounds k = 0, 1, ... add groups of 2^k virtual ranks pairwise, the lower group's partial first. */
static float tree_order_sum(size_t i, int p) {
    int q = 1;
    while (q * 2 <= p)
        q *= 2;
    const int e = p - q;
    float v[64];
    for (int j = 0; j < q; j++)
        v[j] = j < e ? value(2 * j, i) + value(2 * j + 1, i) : value(j + e, i);
    for (int mask = 1; mask < q; mask *= 2)
        for (int j = 0; j < q; j += 2 * mask)
            v[j] = v[j] + v[j + mask];
    return v[0];
}

/* Whether every rank holds the same n floats as rank 0, bit for bit. */
static int same_on_all_ranks(aic_comm_t *c, const float *buf, size_t n) {
    float *root = malloc((n ? n : 1) * sizeof *root);
    int local = root != NULL, all;
    if (root) {
        memcpy(root, buf, n * sizeof *buf);
        MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
        local = memcmp(root, buf, n * sizeof *buf) == 0;
    }
    MPI_Allreduce(&local, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    free(root);
    return all;
}

static void test_pairwise_length(aic_comm_t *c, allreduce_fn fn, const char *name, size_t n) {
    const int p = g_size, r = test_rank;
    float *buf = malloc((n ? n : 1) * sizeof *buf), *first = malloc((n ? n : 1) * sizeof *first);
    if (!CHECK_MSG(buf && first, "%s n=%zu: out of memory in the test", name, n))
        goto done;
    for (size_t i = 0; i < n; i++)
        buf[i] = value(r, i);
    aic_status st = fn(c, buf, n);
    CHECK_MSG(st == AIC_OK, "%s n=%zu: returned %s", name, n, aic_status_string(st));
    size_t bad_bits = 0, bad_tol = 0, first_bad = 0, differs = 0;
    float ref = 0;
    for (size_t i = 0; i < n; i++) {
        float t = tree_order_sum(i, p);
        if (!same_bits(buf[i], t) && bad_bits++ == 0) {
            first_bad = i;
            ref = t;
        }
        double d = 0, mag = 0;
        for (int q = 0; q < p; q++) {
            d += (double)value(q, i);
            mag += fabs((double)value(q, i));
        }
        bad_tol += fabs((double)buf[i] - d) > 1e-6 * mag;
        /* With p >= 3 the data must tell the tree from another order (reverse rank order; with p = 3
         * the tree is rank order itself). */
        float other = value(p - 1, i);
        for (int q = p - 2; q >= 0; q--)
            other = other + value(q, i);
        differs += !same_bits(other, t);
    }
    CHECK_MSG(bad_bits == 0, "%s n=%zu: %zu elements differ from the tree-order serial sum, first at "
              "%zu: %.9g vs %.9g", name, n, bad_bits, first_bad, n ? buf[first_bad] : 0.0, ref);
    CHECK_MSG(bad_tol == 0, "%s n=%zu: %zu elements off the double sum by more than 1e-6", name, n,
              bad_tol);
    if (p >= 3 && n >= 1000)
        CHECK_MSG(differs > 0, "%s n=%zu: tree-order and reverse-order sums agree everywhere",
                  name, n);
    CHECK_MSG(same_on_all_ranks(c, buf, n), "%s n=%zu: ranks hold different bits", name, n);

    memcpy(first, buf, n * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = value(r, i);
    st = fn(c, buf, n);
    CHECK_MSG(st == AIC_OK && (n == 0 || memcmp(first, buf, n * sizeof *buf) == 0),
              "%s n=%zu: second call differs from the first (%s)", name, n, aic_status_string(st));
done:
    free(buf);
    free(first);
}

static void test_pairwise(aic_comm_t *c) {
    const size_t p = (size_t)g_size;
    /* Empty ranges in the halving (n < p), odd splits, the sizes the choice sends here. */
    const size_t lengths[] = {0, 1, p - 1, p + 1, 7, 1000, 2047, AIC_ALLREDUCE_SHORT_MAX / 4,
                              100003,
                              /* Rabenseifner's 64Ki-float blocks: more than its 4 block buffers */
                              9 * 65536 + 5};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        test_pairwise_length(c, aic_allreduce_rd_f32, "recursive doubling", lengths[k]);
        test_pairwise_length(c, aic_allreduce_rabenseifner_f32, "Rabenseifner", lengths[k]);
    }
    CHECK_MSG(aic_allreduce_rd_f32(c, NULL, 5) == AIC_ERR_INVALID_ARG &&
                  aic_allreduce_rabenseifner_f32(c, NULL, 5) == AIC_ERR_INVALID_ARG,
              "pairwise: NULL buf with n > 0 accepted");
}

/* ---- single copy (CMA) --------------------------------------------------------------------------- */

/* Whether this run disabled the single-copy allreduce (tests/collectives.cmake runs one so). */
static int cma_disabled(void) {
    const char *e = getenv("AICON_ALLREDUCE_CMA");
    return e && strcmp(e, "0") == 0;
}

/* The single-copy allreduce gives the ring's bits, the same on every rank, and counts its traffic:
 * (p-1) |owned chunk| + (n - |owned chunk|) floats each way. */
static void test_cma_length(aic_comm_t *c, size_t n) {
    const int p = g_size, r = test_rank;
    float *buf = malloc((n ? n : 1) * sizeof *buf), *ref = malloc((n ? n : 1) * sizeof *ref);
    if (!CHECK_MSG(buf && ref, "cma n=%zu: out of memory in the test", n))
        goto done;
    for (size_t i = 0; i < n; i++)
        buf[i] = ref[i] = value(r, i);
    aic_status st = aic_allreduce_ring_f32(c, ref, n);
    CHECK_MSG(st == AIC_OK, "cma n=%zu: ring returned %s", n, aic_status_string(st));

    uint64_t s0, r0, s1, r1;
    aic_comm_traffic(c, &s0, &r0);
    st = aic_allreduce_cma_f32(c, buf, n);
    aic_comm_traffic(c, &s1, &r1);
    CHECK_MSG(st == AIC_OK, "cma n=%zu: returned %s", n, aic_status_string(st));
    size_t off, len;
    chunk(n, p, (r + 1) % p, &off, &len);
    const uint64_t want = ((uint64_t)(p - 1) * len + (n - len)) * sizeof(float);
    CHECK_MSG(s1 - s0 == want && r1 - r0 == want, "cma n=%zu: traffic sent %llu received %llu, "
              "expected %llu each", n, (unsigned long long)(s1 - s0), (unsigned long long)(r1 - r0),
              (unsigned long long)want);

    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_bits(buf[i], ref[i]) && bad++ == 0)
            first_bad = i;
    CHECK_MSG(bad == 0, "cma n=%zu: %zu elements differ from the ring, first at %zu: %.9g vs %.9g", n,
              bad, first_bad, n ? buf[first_bad] : 0.0, n ? ref[first_bad] : 0.0);
    CHECK_MSG(same_on_all_ranks(c, buf, n), "cma n=%zu: ranks hold different bits", n);
done:
    free(buf);
    free(ref);
}

enum { P_MAX = 64 }; /* ranks the independent CMA check handles */

static void test_cma(aic_comm_t *c) {
    const int p = g_size;
    if (p == 1) {
        float x = 1.5f;
        CHECK_MSG(aic_allreduce_cma_f32(c, &x, 1) == AIC_OK && x == 1.5f, "cma with one rank");
        return;
    }
    if (cma_disabled()) {
        float x = 1.5f;
        aic_status st = aic_allreduce_cma_f32(c, &x, 1);
        CHECK_MSG(st == AIC_ERR_UNSUPPORTED && strstr(aic_last_error(), "AICON_ALLREDUCE_CMA=0"),
                  "cma with AICON_ALLREDUCE_CMA=0 returned %s", aic_status_string(st));
        return;
    }
    /* An independent look: can every rank read and write every other's memory? Then the
     * communicator must have found so too (all ranks of these tests share one node). */
    uint64_t word = 0x5eed0000u + (uint64_t)test_rank, *addr = malloc(P_MAX * sizeof *addr);
    int pid = (int)getpid(), *pids = malloc(P_MAX * sizeof *pids), can = addr && pids && p <= P_MAX;
    uint64_t mine = (uint64_t)(uintptr_t)&word;
    if (can) {
        MPI_Allgather(&pid, 1, MPI_INT, pids, 1, MPI_INT, MPI_COMM_WORLD);
        MPI_Allgather(&mine, 1, MPI_UINT64_T, addr, 1, MPI_UINT64_T, MPI_COMM_WORLD);
        for (int q = 0; q < p; q++) {
            uint64_t got = 0;
            struct iovec l = {.iov_base = &got, .iov_len = sizeof got};
            struct iovec rm = {.iov_base = (void *)(uintptr_t)addr[q], .iov_len = sizeof got};
            can = can && process_vm_readv(pids[q], &l, 1, &rm, 1, 0) == (ssize_t)sizeof got &&
                  got == 0x5eed0000u + (uint64_t)q &&
                  process_vm_writev(pids[q], &l, 1, &rm, 1, 0) == (ssize_t)sizeof got;
        }
    }
    int all_can = 0;
    MPI_Allreduce(&can, &all_can, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD); /* word lives until here */
    free(addr);
    free(pids);
    CHECK_MSG(c->cma_ok == all_can, "cma: the communicator says %s, but process_vm_readv/writev %s "
              "here", c->cma_ok ? "usable" : "unusable", all_can ? "work" : "fail");
    if (!c->cma_ok) {
        /* Where ptrace rules or a container forbid it: the fallback is what runs, and is tested. */
        if (test_rank == 0)
            printf("note: process_vm_readv refused here; single-copy checks skipped\n");
        return;
    }
    const size_t P = (size_t)p, B = c->cma_block;
    const size_t lengths[] = {
        1, P - 1, P + 1, 1000,           /* empty chunks, uneven chunks */
        P * B, P * B - 1, P * B + 1,     /* each chunk one block; a float short; one over */
        3 * P * B + 12345,               /* several blocks, the last partial */
        ((size_t)5 << 20) / 4 + 7,       /* about 5 MiB */
    };
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
        test_cma_length(c, lengths[k]);
    CHECK_MSG(aic_allreduce_cma_f32(c, NULL, 5) == AIC_ERR_INVALID_ARG, "cma: NULL buf accepted");
}

/* aic_allreduce_sum_f32 gives, bit for bit, the algorithm its size selects, and the traffic says
 * which one ran (recursive doubling moves the whole vector each round). */
static void test_choice(aic_comm_t *c) {
    const size_t rd = AIC_ALLREDUCE_RD_MAX / sizeof(float);
    const size_t rab = AIC_ALLREDUCE_RABENSEIFNER_MAX / sizeof(float);
    const size_t rd2 = AIC_ALLREDUCE_SHORT_MAX / sizeof(float);
    const size_t cmin = AIC_ALLREDUCE_CMA_MIN / sizeof(float);
    const int cma = c->cma_ok;
    CHECK_MSG(!cma || !cma_disabled(), "choice: AICON_ALLREDUCE_CMA=0 left CMA on");
    const struct {
        size_t n;
        allreduce_fn want;
        const char *name;
    } cases[] = {
        {1, aic_allreduce_rd_f32, "recursive doubling"},
        {rd, aic_allreduce_rd_f32, "recursive doubling"},
        {rd + 1, aic_allreduce_rabenseifner_f32, "Rabenseifner"},
        {rab, aic_allreduce_rabenseifner_f32, "Rabenseifner"},
        {rab + 1, aic_allreduce_rd_f32, "recursive doubling"},
        {cmin, aic_allreduce_rd_f32, "recursive doubling"},
        /* Above 16 KiB the single copy where every rank shares this node and may use the others'
         * memory; without it recursive doubling to 64 KiB, then the ring, and with 2 ranks
         * Rabenseifner for long vectors. */
        {cmin + 1, cma ? aic_allreduce_cma_f32 : aic_allreduce_rd_f32,
         cma ? "CMA" : "recursive doubling"},
        {rd2, cma ? aic_allreduce_cma_f32 : aic_allreduce_rd_f32, cma ? "CMA" : "recursive doubling"},
        {rd2 + 1, cma ? aic_allreduce_cma_f32 : aic_allreduce_ring_f32, cma ? "CMA" : "the ring"},
        {AIC_ALLREDUCE_PAIR_RABENSEIFNER_MIN / sizeof(float) + 1,
         cma ? aic_allreduce_cma_f32 : g_size == 2 ? aic_allreduce_rabenseifner_f32
                                                   : aic_allreduce_ring_f32,
         cma ? "CMA" : g_size == 2 ? "Rabenseifner" : "the ring"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = cases[k].n;
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        if (!CHECK_MSG(a && b, "choice n=%zu: out of memory in the test", n)) {
            free(a);
            free(b);
            return;
        }
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = value(test_rank, i);
        uint64_t s0, r0, s1, r1, s2, r2;
        aic_comm_traffic(c, &s0, &r0);
        aic_status st = aic_allreduce_sum_f32(c, a, n);
        aic_comm_traffic(c, &s1, &r1);
        aic_status st2 = cases[k].want(c, b, n);
        aic_comm_traffic(c, &s2, &r2);
        CHECK_MSG(st == AIC_OK && st2 == AIC_OK, "choice n=%zu: %s / %s", n, aic_status_string(st),
                  aic_status_string(st2));
        CHECK_MSG(memcmp(a, b, n * sizeof *a) == 0 && s1 - s0 == s2 - s1 && r1 - r0 == r2 - r1,
                  "choice n=%zu: aic_allreduce_sum_f32 did not run %s (traffic %llu vs %llu bytes)", n,
                  cases[k].name, (unsigned long long)(s1 - s0), (unsigned long long)(s2 - s1));
        free(a);
        free(b);
    }
}

/* ---- broadcast ----------------------------------------------------------------------------------- */

static void test_broadcast(aic_comm_t *c, int root) {
    const size_t bytes = 100003;
    unsigned char *b = malloc(bytes);
    if (!CHECK_MSG(b, "out of memory in the test"))
        return;
    for (size_t i = 0; i < bytes; i++)
        b[i] = test_rank == root ? (unsigned char)(i * 31 + (size_t)root * 7 + (i >> 8)) : 0xAA;
    aic_status st = aic_broadcast(c, b, bytes, root);
    CHECK_MSG(st == AIC_OK, "broadcast from %d returned %s", root, aic_status_string(st));
    size_t bad = 0;
    for (size_t i = 0; i < bytes; i++)
        bad += b[i] != (unsigned char)(i * 31 + (size_t)root * 7 + (i >> 8));
    CHECK_MSG(bad == 0, "broadcast from %d: %zu bytes wrong", root, bad);
    free(b);
}

/* ---- check_same ---------------------------------------------------------------------------------- */

static void test_check_same(aic_comm_t *c) {
    uint8_t d[32];
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(i * 37 + 11);
    aic_status st = aic_comm_check_same(c, d, "parameters");
    CHECK_MSG(st == AIC_OK, "check_same with equal digests returned %s", aic_status_string(st));
    if (g_size < 2)
        return;

    char want[64];
    if (test_rank == g_size - 1)
        d[17] ^= 1;
    st = aic_comm_check_same(c, d, "parameters");
    snprintf(want, sizeof want, "rank %d has", g_size - 1);
    CHECK_MSG(st == AIC_ERR_MISMATCH, "check_same with the last rank different returned %s",
              aic_status_string(st));
    CHECK_MSG(strstr(aic_last_error(), want) && strstr(aic_last_error(), "parameters"),
              "check_same message does not name '%s' and 'parameters'", want);

    if (g_size >= 3) { /* rank 1 differs too: the first differing rank is named */
        if (test_rank == 1)
            d[0] ^= 0x80;
        st = aic_comm_check_same(c, d, "optimizer state");
        CHECK_MSG(st == AIC_ERR_MISMATCH && strstr(aic_last_error(), "rank 1 has") &&
                      strstr(aic_last_error(), "optimizer state"),
                  "check_same with ranks 1 and %d different: %s", g_size - 1,
                  aic_status_string(st));
    }
}

/* ---- agree --------------------------------------------------------------------------------------- */

static void test_agree(aic_comm_t *c) {
    const int last = g_size - 1;
    aic_clear_error();
    aic_status st = aic_comm_agree(c, AIC_OK);
    CHECK_MSG(st == AIC_OK, "agree with all OK returned %s", aic_status_string(st));

    /* The last rank fails. */
    aic_status local = AIC_OK;
    if (test_rank == last)
        local = aic_fail(AIC_ERR_IO, "disk full on rank %d", test_rank);
    st = aic_comm_agree(c, local);
    CHECK_MSG(st == AIC_ERR_IO, "agree with rank %d failing returned %s", last, aic_status_string(st));
    char want[128];
    if (test_rank == last)
        snprintf(want, sizeof want, "disk full on rank %d", test_rank);
    else
        snprintf(want, sizeof want, "rank %d failed: %s", last, aic_status_string(AIC_ERR_IO));
    CHECK_MSG(strcmp(aic_last_error(), want) == 0, "agree message '%s', expected '%s'",
              aic_last_error(), want);

    /* Ranks 1 and last fail: everyone gets rank 1's status, though the last rank's code is lower. */
    if (g_size >= 3) {
        local = AIC_OK;
        if (test_rank == 1)
            local = aic_fail(AIC_ERR_NOMEM, "no memory on rank 1");
        if (test_rank == last)
            local = aic_fail(AIC_ERR_INTERNAL, "bug on rank %d", test_rank);
        st = aic_comm_agree(c, local);
        CHECK_MSG(st == AIC_ERR_NOMEM, "agree with ranks 1 and %d failing returned %s", last,
                  aic_status_string(st));
        if (test_rank == 1)
            snprintf(want, sizeof want, "no memory on rank 1");
        else if (test_rank == last)
            snprintf(want, sizeof want, "bug on rank %d", test_rank);
        else
            snprintf(want, sizeof want, "rank 1 failed: %s", aic_status_string(AIC_ERR_NOMEM));
        CHECK_MSG(strcmp(aic_last_error(), want) == 0, "agree message '%s', expected '%s'",
                  aic_last_error(), want);
    }

    st = aic_comm_agree(c, AIC_OK); /* and the communicator still works */
    CHECK_MSG(st == AIC_OK, "agree after a failure returned %s", aic_status_string(st));
}

/* ---- small sums ---------------------------------------------------------------------------------- */

static double dval(int q, int i) { return (double)value(q, (size_t)i) * 1.1 + 1e-3 * q; }
static int64_t kval(int q, int i) { return (int64_t)q * 1000000000000000LL + (int64_t)i * (q + 1) - 7; }

static void test_small_sums(aic_comm_t *c) {
    enum { N = 37 };
    double d[N], dref[N];
    int64_t k[N], kref[N];
    for (int i = 0; i < N; i++) {
        d[i] = dval(test_rank, i);
        k[i] = kval(test_rank, i);
        dref[i] = dval(0, i);
        kref[i] = kval(0, i);
        for (int q = 1; q < g_size; q++) { /* rank order */
            dref[i] += dval(q, i);
            kref[i] += kval(q, i);
        }
    }
    aic_status st = aic_allreduce_sum_f64(c, d, N);
    CHECK_MSG(st == AIC_OK, "f64 sum returned %s", aic_status_string(st));
    CHECK_MSG(memcmp(d, dref, sizeof d) == 0, "f64 sum differs from the rank-order sum");
    st = aic_allreduce_sum_i64(c, k, N);
    CHECK_MSG(st == AIC_OK, "i64 sum returned %s", aic_status_string(st));
    CHECK_MSG(memcmp(k, kref, sizeof k) == 0, "i64 sum wrong: [5] = %lld, expected %lld",
              (long long)k[5], (long long)kref[5]);
    CHECK_MSG(aic_allreduce_sum_f64(c, d, 0) == AIC_OK && aic_allreduce_sum_i64(c, k, 0) == AIC_OK,
              "empty small sums failed");
}

/* ---- creation and queries ------------------------------------------------------------------------ */

static void test_queries(aic_comm_t *c) {
    CHECK_MSG(aic_comm_rank(c) == test_rank && aic_comm_size(c) == g_size,
              "rank %d size %d, MPI says %d %d", aic_comm_rank(c), aic_comm_size(c), test_rank, g_size);
    int lr = aic_comm_local_rank(c), ls = aic_comm_local_size(c);
    CHECK_MSG(ls >= 1 && ls <= g_size && lr >= 0 && lr < ls, "local rank %d of %d", lr, ls);
    int cmp = MPI_UNEQUAL;
    MPI_Comm_compare(aic_comm_mpi(c), MPI_COMM_WORLD, &cmp);
    CHECK_MSG(cmp == MPI_CONGRUENT, "the communicator is not a duplicate of its parent (%d)", cmp);
    uint64_t s, r;
    aic_comm_traffic(c, &s, &r);
    CHECK_MSG(s == 0 && r == 0, "fresh communicator has traffic %llu/%llu", (unsigned long long)s,
              (unsigned long long)r);
    CHECK_MSG(aic_comm_create(NULL, MPI_COMM_WORLD) == AIC_ERR_INVALID_ARG, "create(NULL) accepted");
    aic_comm_t *bad = (aic_comm_t *)1;
    CHECK_MSG(aic_comm_create(&bad, MPI_COMM_NULL) == AIC_ERR_INVALID_ARG && bad == NULL,
              "create from MPI_COMM_NULL accepted");
    aic_comm_destroy(NULL);
    CHECK_MSG(aic_broadcast(c, NULL, 0, g_size) == AIC_ERR_INVALID_ARG, "broadcast root out of range");
}

/* ---- compressed mean ------------------------------------------------------------------------------ */

/* Largest magnitude of rank q's values in block b of an n-float vector. */
static float block_amax(int q, size_t n, size_t b) {
    float amax = 0.0f;
    for (size_t i = b * AIC_COMPRESS_BLOCK; i < n && i < (b + 1) * AIC_COMPRESS_BLOCK; i++)
        amax = fmaxf(amax, fabsf(value(q, i)));
    return amax;
}

/* aic_allreduce_mean_compressed of value(rank, i) against the exact mean: none gives the double sum
 * in rank order over p, rounded once, bit for bit; bf16 within 2^-7 of the inputs' mean magnitude
 * (each input and the mean rounded once to 8 significant bits, 2^-8 relative each); int8 within the
 * block's largest input magnitude / 127 (each input and the mean off by at most half a step of their
 * block's scale). The
 * result has the same bits on every rank and on a second call; the bytes counted are the coded
 * blocks' (about 1/4 and 1/2 of the floats'); the residual is the input minus its own decoded code. */
static void test_compressed_length(aic_comm_t *c, aic_compress how, size_t n) {
    const int p = g_size, r = test_rank;
    const size_t nb = (n + AIC_COMPRESS_BLOCK - 1) / AIC_COMPRESS_BLOCK;
    const size_t bb = how == AIC_COMPRESS_INT8   ? 4 + AIC_COMPRESS_BLOCK /* scale, a byte a value */
                      : how == AIC_COMPRESS_BF16 ? 2 * AIC_COMPRESS_BLOCK
                                                 : 4 * AIC_COMPRESS_BLOCK;
    const size_t mine = nb * (size_t)(r + 1) / (size_t)p - nb * (size_t)r / (size_t)p;
    float *buf = malloc((n ? n : 1) * sizeof *buf), *again = malloc((n ? n : 1) * sizeof *again);
    float *res = malloc((n ? n : 1) * sizeof *res);
    if (!CHECK_MSG(buf && again && res, "out of memory for n = %zu", n)) {
        free(buf), free(again), free(res);
        return;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = again[i] = value(r, i);
    uint64_t s0, r0, s1, r1;
    aic_comm_traffic(c, &s0, &r0);
    aic_status st = aic_allreduce_mean_compressed(c, buf, n, how, res);
    aic_comm_traffic(c, &s1, &r1);
    CHECK_MSG(st == AIC_OK, "%s n=%zu: %s", aic_compress_name(how), n, aic_last_error());
    const uint64_t want_bytes = (uint64_t)(nb - mine) * bb + (uint64_t)(p - 1) * mine * bb;
    CHECK_MSG(s1 - s0 == want_bytes && r1 - r0 == want_bytes, "%s n=%zu: %llu bytes sent, %llu received, want %llu",
              aic_compress_name(how), n, (unsigned long long)(s1 - s0), (unsigned long long)(r1 - r0),
              (unsigned long long)want_bytes);
    size_t bad = 0, first_bad = 0;
    double bad_exact = 0.0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0, mag = 0.0;
        for (int q = 0; q < p; q++) {
            sum += (double)value(q, i);
            mag += fabs((double)value(q, i));
        }
        const float exact = (float)(sum / p);
        const size_t b = i / AIC_COMPRESS_BLOCK;
        float amax = 0.0f;
        for (int q = 0; q < p; q++)
            amax = fmaxf(amax, block_amax(q, n, b));
        bool ok;
        if (how == AIC_COMPRESS_NONE)
            ok = same_bits(buf[i], exact) && res[i] == 0.0f;
        else if (how == AIC_COMPRESS_BF16)
            ok = fabs((double)buf[i] - exact) <= (mag / p) * ldexp(1.0, -7) * 1.001 + 1e-30;
        else
            ok = fabs((double)buf[i] - exact) <= amax / 127.0 * 1.001 &&
                 fabsf(res[i]) <= block_amax(r, n, b) / 254.0f * 1.001f;
        if (!ok && bad++ == 0) {
            first_bad = i;
            bad_exact = exact;
        }
    }
    CHECK_MSG(bad == 0, "%s n=%zu: %zu values off the bound, first at %zu: %.9g, exact mean %.9g (residual %.3g)",
              aic_compress_name(how), n, bad, first_bad, bad ? buf[first_bad] : 0.0, bad_exact,
              bad ? res[first_bad] : 0.0);
    CHECK_MSG(same_on_all_ranks(c, buf, n), "%s n=%zu: ranks hold different bits", aic_compress_name(how), n);
    st = aic_allreduce_mean_compressed(c, again, n, how, NULL);
    CHECK_MSG(st == AIC_OK && memcmp(again, buf, n * sizeof *buf) == 0, "%s n=%zu: a second call gave other bits",
              aic_compress_name(how), n);
    free(buf), free(again), free(res);
}

static void test_compressed(aic_comm_t *c) {
    const size_t lengths[] = {0, 1, 10, 255, 256, 257, 1000, (size_t)3 * AIC_COMPRESS_BLOCK * (size_t)g_size + 17};
    const aic_compress hows[] = {AIC_COMPRESS_NONE, AIC_COMPRESS_BF16, AIC_COMPRESS_INT8};
    for (size_t h = 0; h < sizeof hows / sizeof *hows; h++)
        for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++)
            test_compressed_length(c, hows[h], lengths[k]);
    float x = 1.0f;
    CHECK(aic_allreduce_mean_compressed(c, &x, 1, (aic_compress)7, NULL) == AIC_ERR_INVALID_ARG &&
          strstr(aic_last_error(), "unknown coding 7"));
}

int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &test_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);

    aic_comm_t *c = NULL;
    aic_status st = aic_comm_create(&c, MPI_COMM_WORLD);
    CHECK_MSG(st == AIC_OK, "create returned %s", aic_status_string(st));
    if (st == AIC_OK) {
        test_queries(c);
        test_ring(c);
        test_pairwise(c);
        test_cma(c);
        test_choice(c);
        test_broadcast(c, 0);
        test_broadcast(c, g_size - 1);
        test_check_same(c);
        test_agree(c);
        test_small_sums(c);
        test_compressed(c);
        aic_comm_destroy(c);
    }

    long local[2] = {test_pass, test_fail}, total[2];
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (test_rank == 0)
        printf("%ld passed, %ld failed\n", total[0], total[1]);
    MPI_Finalize();
    return total[1] ? 1 : 0;
}
