// SPDX-License-Identifier: Apache-2.0
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

/* A long exchange travels in blocks of BLOCK floats (256 KiB) and is received into NSLOT rotating
 * block buffers (1 MiB, which stays in cache) rather than a temporary as long as the vector: each
 * block is added into buf while the next ones arrive, and the received data never goes through
 * main memory on its way to the add. */
#define BLOCK ((size_t)65536)
#define NSLOT 4

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

/* Posts the sends of n floats to peer in BLOCK-float messages into req[]; *nreq gets their count. */
static aic_status send_blocks(aic_comm_t *c, const float *buf, size_t n, int peer, MPI_Request *req,
                              int *nreq) {
    int k = 0;
    for (size_t at = 0; at < n; at += BLOCK, k++) {
        size_t len = n - at < BLOCK ? n - at : BLOCK;
        AIC_MPI_TRY(c, MPI_Isend(buf + at, (int)len, MPI_FLOAT, peer, SMALL_TAG, c->comm, &req[k]),
                    "MPI_Isend to", peer);
        c->sent += len * sizeof(float);
    }
    *nreq = k;
    return AIC_OK;
}

/* Receives n floats from peer in BLOCK-float messages (the peer's send_blocks) into the NSLOT
 * block buffers of tmp and adds each into dst as it lands: dst = peer + dst if the peer's partial
 * comes first (peer_first), else dst + peer. Blocks are matched in order (one tag, one source). */
static aic_status recv_reduce_blocks(aic_comm_t *c, float *dst, size_t n, int peer, float *tmp,
                                     int peer_first) {
    const size_t nblk = (n + BLOCK - 1) / BLOCK;
    MPI_Request req[NSLOT];
    size_t blk_of[NSLOT], next = 0;
    for (int s = 0; s < NSLOT; s++)
        req[s] = MPI_REQUEST_NULL;
    for (size_t done = 0; done < nblk; done++) {
        for (int s = 0; s < NSLOT && next < nblk; s++) {
            if (req[s] != MPI_REQUEST_NULL)
                continue;
            size_t at = next * BLOCK, len = n - at < BLOCK ? n - at : BLOCK;
            AIC_MPI_TRY(c, MPI_Irecv(tmp + (size_t)s * BLOCK, (int)len, MPI_FLOAT, peer, SMALL_TAG,
                                     c->comm, &req[s]), "MPI_Irecv from", peer);
            c->received += len * sizeof(float);
            blk_of[s] = next++;
        }
        int s;
        AIC_MPI_TRY(c, MPI_Waitany(NSLOT, req, &s, MPI_STATUS_IGNORE), "MPI_Waitany on receives "
                    "from", peer);
        if (s == MPI_UNDEFINED)
            return aic_fail(AIC_ERR_INTERNAL, "aicon allreduce: rank %d: no receive left from %d",
                            c->rank, peer);
        size_t at = blk_of[s] * BLOCK, len = n - at < BLOCK ? n - at : BLOCK;
        const float *got = tmp + (size_t)s * BLOCK;
        if (peer_first)
            add_ordered(dst + at, got, dst + at, len);
        else
            add_ordered(dst + at, dst + at, got, len);
    }
    return AIC_OK;
}

/* Sends `send` (ns floats) to peer while receiving nr floats from it and adding them into dst. */
static aic_status exchange_reduce(aic_comm_t *c, const float *send, size_t ns, float *dst, size_t nr,
                                  int peer, float *tmp, MPI_Request *sreq, int peer_first) {
    int nsend = 0;
    AIC_TRY(send_blocks(c, send, ns, peer, sreq, &nsend));
    AIC_TRY(recv_reduce_blocks(c, dst, nr, peer, tmp, peer_first));
    if (nsend)
        AIC_MPI_TRY(c, MPI_Waitall(nsend, sreq, MPI_STATUSES_IGNORE), "MPI_Waitall on sends to",
                    peer);
    return AIC_OK;
}

typedef struct {
    float *tmp;        /* NSLOT blocks (Rabenseifner) or n floats (recursive doubling) */
    MPI_Request *sreq; /* one per BLOCK of the vector (Rabenseifner) */
} scratch;

typedef aic_status (*virtual_allreduce)(aic_comm_t *c, float *buf, scratch *w, size_t n, int v,
                                        int q, int e);

/* Recursive doubling among the q virtual ranks; w->tmp holds n floats. */
static aic_status rd_rounds(aic_comm_t *c, float *buf, scratch *w, size_t n, int v, int q, int e) {
    float *tmp = w->tmp;
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

/* Rabenseifner among the q virtual ranks. */
static aic_status rabenseifner_rounds(aic_comm_t *c, float *buf, scratch *w, size_t n, int v, int q,
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
            AIC_TRY(exchange_reduce(c, buf + mid, b - mid, buf + a, mid - a, peer, w->tmp, w->sreq,
                                    0));
            b = mid;
        } else { /* keep [mid, b), give [a, mid) */
            AIC_TRY(exchange_reduce(c, buf + a, mid - a, buf + mid, b - mid, peer, w->tmp, w->sreq,
                                    1));
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

/* The pre-step (extra ranks fold in), the virtual-rank rounds, the post-step (results go back).
 * tmp_len: floats of w.tmp; blocked: whether the pre-step travels in blocks (w.tmp holds NSLOT). */
static aic_status pairwise_allreduce(aic_comm_t *c, float *buf, size_t n, size_t tmp_len, int blocked,
                                     virtual_allreduce rounds, const char *fn) {
    AIC_TRY(aic_sum_args(c, buf, n, fn));
    if (n > INT_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: n = %zu exceeds MPI's int count", fn, n);
    const int p = c->size, r = c->rank;
    if (n == 0 || p == 1)
        return AIC_OK;
    scratch w = {malloc(tmp_len * sizeof(float)), malloc((n / BLOCK + 1) * sizeof(MPI_Request))};
    if (!w.tmp || !w.sreq) {
        free(w.tmp);
        free(w.sreq);
        return aic_fail(AIC_ERR_NOMEM, "%s: rank %d: out of memory for %zu floats", fn, r, tmp_len);
    }
    const int q = pow2_floor(p), e = p - q;
    aic_status st = AIC_OK;
    if (r < 2 * e && r % 2 == 0) { /* fold into r+1, sit out, take the result back */
        if (blocked)
            AIC_TRY_GOTO(exchange_reduce(c, buf, n, NULL, 0, r + 1, w.tmp, w.sreq, 0));
        else
            AIC_TRY_GOTO(send_to(c, buf, n, r + 1));
        AIC_TRY_GOTO(recv_from(c, buf, n, r + 1));
        goto cleanup;
    }
    if (r < 2 * e) { /* x_{r-1} + x_r */
        if (blocked) {
            AIC_TRY_GOTO(recv_reduce_blocks(c, buf, n, r - 1, w.tmp, 1));
        } else {
            AIC_TRY_GOTO(recv_from(c, w.tmp, n, r - 1));
            add_ordered(buf, w.tmp, buf, n);
        }
    }
    AIC_TRY_GOTO(rounds(c, buf, &w, n, r < 2 * e ? r / 2 : r - e, q, e));
    if (r < 2 * e)
        AIC_TRY_GOTO(send_to(c, buf, n, r - 1));
cleanup:
    free(w.tmp);
    free(w.sreq);
    return st;
}

aic_status aic_allreduce_rd_f32(aic_comm_t *c, float *buf, size_t n) {
    return pairwise_allreduce(c, buf, n, n ? n : 1, 0, rd_rounds, "aic_allreduce_rd_f32");
}

aic_status aic_allreduce_rabenseifner_f32(aic_comm_t *c, float *buf, size_t n) {
    size_t slots = n < NSLOT * BLOCK ? n : NSLOT * BLOCK;
    return pairwise_allreduce(c, buf, n, slots ? slots : 1, 1, rabenseifner_rounds,
                              "aic_allreduce_rabenseifner_f32");
}
