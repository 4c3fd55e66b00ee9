// SPDX-License-Identifier: Apache-2.0
/* Ring allreduce, float sum, in place.
 *
 * p ranks, rank r; left = r-1, right = r+1 (mod p). The buffer of n floats is split into p chunks
 * whose lengths differ by at most one (the first n % p chunks are one longer). The algorithm is a
 * stream of 2(p-1) steps: at step t rank r receives chunk (r-t-1) mod p from the left and sends to
 * the right the chunk it received at step t-1 (at step 0 its own chunk r), i.e. chunk (r-t) mod p.
 *
 *   reduce-scatter, t < p-1:  the received chunk goes to a temporary and is added into the local
 *                             one, buf[i] = buf[i] + tmp[i]. After step p-2, rank r holds the full
 *                             sum of chunk r+1.
 *   all-gather, t >= p-1:     the received chunk (a full sum) is received straight into buf.
 *
 * Summation order: chunk c starts as rank c's values x_c and travels c -> c+1 -> ... -> c-1, each
 * rank adding its own values: sum = x_{c-1} + (x_{c-2} + (... + (x_{c+1} + x_c))). That order
 * depends on p alone, so results are bitwise reproducible for a given world size and identical on
 * every rank (the all-gather copies one rank's bits).
 *
 * Pipelining: each chunk travels in segments of AIC_RING_SEGMENT floats (longer for chunks beyond
 * AIC_RING_MAX_SEGMENTS segments; the length depends on n and p only), tag = segment index. A
 * step posts the receives of all its segments; as each completes (MPI_Waitany) it is reduced and at
 * once sent on as that segment of step t+1, so sends and receives of neighbouring steps are in
 * flight together. The reduce-scatter temporary is double-buffered (two max-chunk halves, kept in
 * the communicator and grown only when a larger n arrives), which lets step t+1's receives be
 * posted while step t is still being processed: a segment the left neighbour sends early lands in
 * a posted buffer instead of waiting as an unexpected message.
 *
 * Buffer safety: at the start of step t the sends of step t-1 are waited for (step t+1's sends
 * reuse their request slot). The sends then in flight are step t's (chunk r-t) and, as they are
 * posted, step t+1's (chunk r-t-1, each segment sent only once it is complete). Step t+1's
 * receives are posted early, at the start of step t: a reduce-scatter receive goes to the
 * temporary half last used by step t-1, whose segments were all reduced; an all-gather receive
 * writes chunk r-t-2 of buf, which no send in flight reads unless p = 2 (then r-t-2 = r-t), so
 * with p = 2 the all-gather receive is posted only after step t's sends have finished.
 * Same-tag messages of two steps cannot be confused: MPI matches in order, the left neighbour sends
 * step t's segment s before step t+1's, and step t's receives are posted before step t+1's.
 *
 * Empty chunks (n < p) have no segments: no messages, consistently on both ends. */
#include "collectives/comm_internal.h"
#include "collectives/allreduce.h"

#include <limits.h>
#include <stdlib.h>

#include "core/error.h"
#ifdef AICON_HAVE_CUDA
#include "core/cuda.h"
#endif

/* Offset and length of chunk k of n floats over p ranks. */
static void chunk_span(size_t n, int p, int k, size_t *off, size_t *len) {
    size_t base = n / (size_t)p, rem = n % (size_t)p, uk = (size_t)k;
    *off = uk * base + (uk < rem ? uk : rem);
    *len = base + (uk < rem ? 1 : 0);
}

/* Segment length for chunks of up to max_len floats: AIC_RING_SEGMENT, or longer so that no chunk
 * has more than AIC_RING_MAX_SEGMENTS segments. */
static size_t segment_for(size_t max_len) {
    size_t seg = (max_len + AIC_RING_MAX_SEGMENTS - 1) / AIC_RING_MAX_SEGMENTS;
    return seg > AIC_RING_SEGMENT ? seg : AIC_RING_SEGMENT;
}

static size_t segments_of(size_t len, size_t seg) { return (len + seg - 1) / seg; }

static int mod(int a, int p) { return ((a % p) + p) % p; }

/* Grows the temporary and the request arrays for chunks of up to max_len floats, seg per segment. */
static aic_status ring_reserve(aic_comm_t *c, size_t max_len, size_t seg) {
    if (max_len > c->ring_tmp_cap) {
        if (max_len > SIZE_MAX / (2 * sizeof(float)))
            return aic_fail(AIC_ERR_INVALID_ARG, "aic_allreduce_sum_f32: chunk of %zu floats is too "
                            "large", max_len);
        float *t = malloc(2 * max_len * sizeof(float));
        if (!t)
            return aic_fail(AIC_ERR_NOMEM, "aic_allreduce_sum_f32: out of memory for the %zu-byte "
                            "ring buffer", 2 * max_len * sizeof(float));
        free(c->ring_tmp);
        c->ring_tmp = t;
        c->ring_tmp_cap = max_len;
    }
    size_t max_seg = segments_of(max_len, seg);
    if (max_seg > c->ring_req_cap) {
        MPI_Request *r = malloc(4 * max_seg * sizeof(MPI_Request));
        if (!r)
            return aic_fail(AIC_ERR_NOMEM, "aic_allreduce_sum_f32: out of memory for %zu requests",
                            4 * max_seg);
        free(c->ring_req);
        c->ring_req = r;
        c->ring_req_cap = max_seg;
    }
    return AIC_OK;
}

/* One step's view of the ring: which chunk it receives, and where. */
typedef struct {
    int chunk;      /* received at this step, sent on at the next */
    size_t off;     /* of the chunk in buf */
    size_t len;     /* of the chunk, floats */
    int nseg;       /* segments of the chunk */
    float *recv_to; /* temporary (reduce-scatter) or buf + off (all-gather) */
} ring_step;

typedef struct {
    aic_comm_t *c;
    float *buf;
    size_t n;
    size_t seg; /* floats per segment */
    int p, left, right;
    MPI_Request *recv_req[2]; /* receives of steps with parity 0 and 1 */
    MPI_Request *send_req[2]; /* sends of steps with parity 0 and 1 */
    int nsend[2];             /* sends posted in each slot */
} ring;

static ring_step step_of(const ring *g, int t) {
    ring_step s;
    s.chunk = mod(g->c->rank - t - 1, g->p);
    chunk_span(g->n, g->p, s.chunk, &s.off, &s.len);
    s.nseg = (int)segments_of(s.len, g->seg);
    s.recv_to = t < g->p - 1 ? g->c->ring_tmp + (size_t)(t & 1) * g->c->ring_tmp_cap
                             : g->buf + s.off;
    return s;
}

/* Length of segment k of a chunk of len floats. */
static size_t seg_len(const ring *g, size_t len, int k) {
    size_t start = (size_t)k * g->seg;
    return len - start < g->seg ? len - start : g->seg;
}

static aic_status post_recvs(ring *g, int t) {
    ring_step s = step_of(g, t);
    MPI_Request *req = g->recv_req[t & 1];
    for (int k = 0; k < s.nseg; k++) {
        size_t len = seg_len(g, s.len, k);
        AIC_MPI_TRY(g->c, MPI_Irecv(s.recv_to + (size_t)k * g->seg, (int)len, MPI_FLOAT,
                                    g->left, k, g->c->comm, &req[k]), "MPI_Irecv from", g->left);
        g->c->received += len * sizeof(float);
    }
    return AIC_OK;
}

/* Sends segment k of chunk `chunk` (in buf) as part of step t. */
static aic_status post_send(ring *g, int t, int chunk, int k) {
    size_t off, len;
    chunk_span(g->n, g->p, chunk, &off, &len);
    size_t sl = seg_len(g, len, k);
    MPI_Request *req = &g->send_req[t & 1][k];
    AIC_MPI_TRY(g->c, MPI_Isend(g->buf + off + (size_t)k * g->seg, (int)sl, MPI_FLOAT,
                                g->right, k, g->c->comm, req), "MPI_Isend to", g->right);
    g->c->sent += sl * sizeof(float);
    return AIC_OK;
}

static aic_status wait_sends(ring *g, int t) {
    int slot = t & 1;
    if (g->nsend[slot] > 0)
        AIC_MPI_TRY(g->c, MPI_Waitall(g->nsend[slot], g->send_req[slot], MPI_STATUSES_IGNORE),
                    "MPI_Waitall on sends to", g->right);
    g->nsend[slot] = 0;
    return AIC_OK;
}

aic_status aic_allreduce_sum_f32(aic_comm_t *c, float *buf, size_t n) {
    AIC_TRY(aic_sum_args(c, buf, n, "aic_allreduce_sum_f32"));
    if (n == 0 || c->size == 1)
        return AIC_OK;
#ifdef AICON_HAVE_CUDA
    /* The loops below read host memory. Only a process that has put a model on a GPU asks (the
     * query would otherwise start a CUDA context for a CPU run). */
    if (aic_cuda.ready && aic_cuda_is_device_ptr(buf))
        return aic_allreduce_sum_f32_device(c, buf, n);
#endif
    /* n is the same on every rank, so every rank picks the same algorithm. */
    const size_t bytes = n * sizeof(float);
    if (bytes <= AIC_ALLREDUCE_RD_MAX)
        return aic_allreduce_rd_f32(c, buf, n);
    if (bytes <= AIC_ALLREDUCE_RABENSEIFNER_MAX)
        return aic_allreduce_rabenseifner_f32(c, buf, n);
    /* cma_ok was agreed by all ranks at creation. */
    if (c->cma_ok && bytes > AIC_ALLREDUCE_CMA_MIN)
        return aic_allreduce_cma_f32(c, buf, n);
    if (bytes <= AIC_ALLREDUCE_SHORT_MAX)
        return aic_allreduce_rd_f32(c, buf, n);
    if (c->size == 2 && bytes > AIC_ALLREDUCE_PAIR_RABENSEIFNER_MIN)
        return aic_allreduce_rabenseifner_f32(c, buf, n);
    return aic_allreduce_ring_f32(c, buf, n);
}

aic_status aic_allreduce_ring_f32(aic_comm_t *c, float *buf, size_t n) {
    AIC_TRY(aic_sum_args(c, buf, n, "aic_allreduce_ring_f32"));
    const int p = c->size, r = c->rank;
    if (n == 0 || p == 1)
        return AIC_OK;
    const size_t max_len = (n + (size_t)p - 1) / (size_t)p, seg = segment_for(max_len);
    if (seg > INT_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_allreduce_sum_f32: n = %zu is too large for %d "
                        "ranks (segments would exceed MPI's int count)", n, p);
    AIC_TRY(ring_reserve(c, max_len, seg));
    const size_t q = c->ring_req_cap;
    ring g = {
        .c = c, .buf = buf, .n = n, .seg = seg, .p = p, .left = mod(r - 1, p), .right = mod(r + 1, p),
        .recv_req = {c->ring_req, c->ring_req + q},
        .send_req = {c->ring_req + 2 * q, c->ring_req + 3 * q},
        .nsend = {0, 0},
    };
    const int nsteps = 2 * (p - 1);

    /* Step 0: receive chunk r-1, send the own chunk r. */
    AIC_TRY(post_recvs(&g, 0));
    {
        size_t off, len;
        chunk_span(n, p, r, &off, &len);
        int nseg = (int)segments_of(len, seg);
        for (int k = 0; k < nseg; k++)
            AIC_TRY(post_send(&g, 0, r, k));
        g.nsend[0] = nseg;
    }

    for (int t = 0; t < nsteps; t++) {
        ring_step s = step_of(&g, t);
        /* Sends of step t-1 share a slot with those of step t+1 posted below; also, with p = 2 the
         * all-gather receive of step t overwrites the chunk they read. */
        if (t > 0)
            AIC_TRY(wait_sends(&g, t - 1));
        /* This step's receives were posted early unless it is p = 2's all-gather step. */
        if (t > 0 && p == 2)
            AIC_TRY(post_recvs(&g, t));
        if (t + 1 < nsteps && p > 2)
            AIC_TRY(post_recvs(&g, t + 1));

        const int reduce = t < p - 1, forward = t + 1 < nsteps;
        MPI_Request *req = g.recv_req[t & 1];
        for (int done = 0; done < s.nseg; done++) {
            int k;
            AIC_MPI_TRY(c, MPI_Waitany(s.nseg, req, &k, MPI_STATUS_IGNORE), "MPI_Waitany on "
                        "receives from", g.left);
            if (k == MPI_UNDEFINED)
                return aic_fail(AIC_ERR_INTERNAL, "aic_allreduce_sum_f32: rank %d step %d: no "
                                "receive left to wait for", r, t);
            if (reduce) {
                size_t at = (size_t)k * seg, len = seg_len(&g, s.len, k);
                float *dst = buf + s.off + at;
                const float *src = s.recv_to + at;
                for (size_t i = 0; i < len; i++)
                    dst[i] = dst[i] + src[i];
            }
            if (forward)
                AIC_TRY(post_send(&g, t + 1, s.chunk, k));
        }
        if (forward)
            g.nsend[(t + 1) & 1] = s.nseg;
    }
    /* The last step sends nothing; the step before it posted the last sends. */
    AIC_TRY(wait_sends(&g, nsteps - 1));
    return AIC_OK;
}
