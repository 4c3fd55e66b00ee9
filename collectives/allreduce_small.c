/* Recursive doubling and Rabenseifner allreduce, float sum, in place: the algorithms for short
 * vectors, where the ring's 2(p-1) message latencies cost more than its bandwidth saves.
 *
 * Both work on q = the largest power of two <= p "virtual" ranks. With p - q = e extra ranks, ranks
 * 0 .. 2e-1 pair up first: even rank 2i sends its vector to 2i+1, which adds it (x_2i + x_2i+1)
 * and becomes virtual rank i; the even ranks sit out. Ranks 2e .. p-1 become virtual ranks e ..
 * q-1. At the end each odd rank 2i+1 sends the result back to 2i.
 *
 * Summation order: among the virtual ranks, round k (k = 0, 1, ...) joins the partial sums of the
 * two groups of 2^k virtual ranks that differ in bit k, the lower group's partial first:
 *   sum = ((v_0 + v_1) + (v_2 + v_3)) + ((v_4 + v_5) + (v_6 + v_7)) ...
 * with v_i the virtual rank's starting vector. Both partners of a round compute the same a + b (IEEE
 * addition is commutative, so the bits agree whoever adds), so every rank ends with the same bits,
 * the same on every run for a given p.
 *
 *   recursive doubling:  round k exchanges the whole vector with virtual partner v ^ 2^k.
 *   Rabenseifner:        the reduce-scatter halves the range a rank owns each round (the lower
 *                        virtual rank of a pair keeps the lower half), so after log2 q rounds each
 *                        virtual rank owns the full sum of one 1/q of the vector, reduced in the same
 *                        tree as above; the all-gather replays the rounds backwards, exchanging the
 *                        owned ranges. */
#include "collectives/allreduce.h"

#include <limits.h>
#include <stdlib.h>

#include "collectives/comm_internal.h"
#include "core/error.h"

/* Distinct from the ring's segment tags (< AIC_RING_MAX_SEGMENTS) for clarity in traces; every call
 * completes its messages before returning, so tags never meet another call's. */
#define SMALL_TAG 4001

/* Largest power of two <= p. */
static int pow2_floor(int p) {
    int q = 1;
    while (q * 2 <= p)
        q *= 2;
    return q;
}

/* Real rank of virtual rank v when e ranks paired up first. */
static int real_rank(int v, int e) { return v < e ? 2 * v + 1 : v + e; }

/* dst[i] = lo[i] + hi[i], the lower group's partial first. */
static void add_ordered(float *dst, const float *lo, const float *hi, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = lo[i] + hi[i];
}

static aic_status exchange(aic_comm_t *c, const float *send, size_t ns, float *recv, size_t nr,
                           int peer) {
    AIC_MPI_TRY(c, MPI_Sendrecv(send, (int)ns, MPI_FLOAT, peer, SMALL_TAG, recv, (int)nr, MPI_FLOAT,
                                peer, SMALL_TAG, c->comm, MPI_STATUS_IGNORE),
                "MPI_Sendrecv with", peer);
    c->sent += ns * sizeof(float);
    c->received += nr * sizeof(float);
    return AIC_OK;
}

static aic_status send_to(aic_comm_t *c, const float *buf, size_t n, int peer) {
    AIC_MPI_TRY(c, MPI_Send(buf, (int)n, MPI_FLOAT, peer, SMALL_TAG, c->comm), "MPI_Send to", peer);
    c->sent += n * sizeof(float);
    return AIC_OK;
}

static aic_status recv_from(aic_comm_t *c, float *buf, size_t n, int peer) {
    AIC_MPI_TRY(c, MPI_Recv(buf, (int)n, MPI_FLOAT, peer, SMALL_TAG, c->comm, MPI_STATUS_IGNORE),
                "MPI_Recv from", peer);
    c->received += n * sizeof(float);
    return AIC_OK;
}

typedef aic_status (*virtual_allreduce)(aic_comm_t *c, float *buf, float *tmp, size_t n, int v,
                                        int q, int e);

/* Recursive doubling among the q virtual ranks; tmp holds n floats. */
static aic_status rd_rounds(aic_comm_t *c, float *buf, float *tmp, size_t n, int v, int q, int e) {
    for (int mask = 1; mask < q; mask <<= 1) {
        int pv = v ^ mask;
        AIC_TRY(exchange(c, buf, n, tmp, n, real_rank(pv, e)));
        if (v < pv)
            add_ordered(buf, buf, tmp, n);
        else
            add_ordered(buf, tmp, buf, n);
    }
    return AIC_OK;
}

/* Rabenseifner among the q virtual ranks; tmp holds n/2 + 1 floats. */
static aic_status rabenseifner_rounds(aic_comm_t *c, float *buf, float *tmp, size_t n, int v, int q,
                                      int e) {
    size_t lo[32], hi[32]; /* the range owned before round k; q <= 2^31 */
    size_t a = 0, b = n;
    int k = 0;
    for (int mask = 1; mask < q; mask <<= 1, k++) {
        int pv = v ^ mask, peer = real_rank(pv, e);
        size_t mid = a + (b - a) / 2;
        lo[k] = a;
        hi[k] = b;
        if (v < pv) { /* keep [a, mid), give [mid, b) */
            AIC_TRY(exchange(c, buf + mid, b - mid, tmp, mid - a, peer));
            add_ordered(buf + a, buf + a, tmp, mid - a);
            b = mid;
        } else { /* keep [mid, b), give [a, mid) */
            AIC_TRY(exchange(c, buf + a, mid - a, tmp, b - mid, peer));
            add_ordered(buf + mid, tmp, buf + mid, b - mid);
            a = mid;
        }
    }
    while (k-- > 0) { /* all-gather: the partner owns the other half of [lo[k], hi[k]) */
        int pv = v ^ (1 << k), peer = real_rank(pv, e);
        if (v < pv)
            AIC_TRY(exchange(c, buf + a, b - a, buf + b, hi[k] - b, peer));
        else
            AIC_TRY(exchange(c, buf + a, b - a, buf + lo[k], a - lo[k], peer));
        a = lo[k];
        b = hi[k];
    }
    return AIC_OK;
}

/* The pre-step (extra ranks fold in), the virtual-rank rounds, the post-step (results go back). */
static aic_status pairwise_allreduce(aic_comm_t *c, float *buf, size_t n, size_t tmp_len,
                                     virtual_allreduce rounds, const char *fn) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: communicator is NULL", fn);
    if (!buf && n)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: buf is NULL with n = %zu", fn, n);
    if (n > INT_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: n = %zu exceeds MPI's int count", fn, n);
    const int p = c->size, r = c->rank;
    if (n == 0 || p == 1)
        return AIC_OK;
    float *tmp = malloc(tmp_len * sizeof *tmp);
    if (!tmp)
        return aic_fail(AIC_ERR_NOMEM, "%s: rank %d: out of memory for %zu floats", fn, r, tmp_len);
    const int q = pow2_floor(p), e = p - q;
    aic_status st = AIC_OK;
    if (r < 2 * e && r % 2 == 0) {
        AIC_TRY_GOTO(send_to(c, buf, n, r + 1));
        AIC_TRY_GOTO(recv_from(c, buf, n, r + 1));
        goto cleanup;
    }
    if (r < 2 * e) {
        AIC_TRY_GOTO(recv_from(c, tmp, n, r - 1));
        add_ordered(buf, tmp, buf, n);
    }
    AIC_TRY_GOTO(rounds(c, buf, tmp, n, r < 2 * e ? r / 2 : r - e, q, e));
    if (r < 2 * e)
        AIC_TRY_GOTO(send_to(c, buf, n, r - 1));
cleanup:
    free(tmp);
    return st;
}

aic_status aic_allreduce_rd_f32(aic_comm_t *c, float *buf, size_t n) {
    return pairwise_allreduce(c, buf, n, n ? n : 1, rd_rounds, "aic_allreduce_rd_f32");
}

aic_status aic_allreduce_rabenseifner_f32(aic_comm_t *c, float *buf, size_t n) {
    /* The pre-step receives a whole vector; the rounds at most half of one (rounded up). */
    size_t need = c && c->rank < 2 * (c->size - pow2_floor(c->size)) ? n : n / 2 + 1;
    return pairwise_allreduce(c, buf, n, need ? need : 1, rabenseifner_rounds,
                              "aic_allreduce_rabenseifner_f32");
}
