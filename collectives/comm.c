// SPDX-License-Identifier: Apache-2.0
/* Communicators: creation, queries, broadcast, digest checks, agreement and the small rank-order
 * sums. The ring allreduce is in ring_allreduce.c.
 *
 * Every MPI call is checked: the duplicated communicator returns errors instead of aborting, and a
 * failure becomes AIC_ERR_COMM with a message naming the call, this rank and the peer rank where
 * there is one. After AIC_ERR_COMM the MPI state of the communicator is undefined (requests may be
 * left in flight); destroy it.
 *
 * Traffic counts payload bytes. The ring counts exactly what it sends and receives. Collectives
 * that MPI implements (broadcast, gather, allgather, allreduce) count this rank's own contribution
 * as sent and the payload delivered to it as received, once, whatever algorithm MPI runs beneath. */
#include "collectives/comm_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/graph.h"

aic_status aic_comm_mpi_fail(const aic_comm_t *c, int err, const char *call, int peer) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error code %d", err);
    char who[32] = "";
    if (c && c->rank >= 0)
        snprintf(who, sizeof who, "rank %d: ", c->rank);
    if (peer >= 0)
        return aic_fail(AIC_ERR_COMM, "%s%s with rank %d failed: %s", who, call, peer, msg);
    return aic_fail(AIC_ERR_COMM, "%s%s failed: %s", who, call, msg);
}

/* ---- creation and queries ---------------------------------------------------------------------- */

static aic_status comm_init(aic_comm_t *c, MPI_Comm parent) {
    AIC_MPI_TRY(c, MPI_Comm_dup(parent, &c->comm), "MPI_Comm_dup", -1);
    AIC_MPI_TRY(c, MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", -1);
    AIC_MPI_TRY(c, MPI_Comm_rank(c->comm, &c->rank), "MPI_Comm_rank", -1);
    AIC_MPI_TRY(c, MPI_Comm_size(c->comm, &c->size), "MPI_Comm_size", -1);

    /* The node-local communicator inherits the error handler; only its rank and size are kept. */
    MPI_Comm local = MPI_COMM_NULL;
    AIC_MPI_TRY(c, MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local),
                "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)", -1);
    int e = MPI_Comm_rank(local, &c->local_rank);
    if (e == MPI_SUCCESS)
        e = MPI_Comm_size(local, &c->local_size);
    int ef = MPI_Comm_free(&local);
    if (e != MPI_SUCCESS)
        return aic_comm_mpi_fail(c, e, "MPI_Comm_rank/size of the node-local communicator", -1);
    if (ef != MPI_SUCCESS)
        return aic_comm_mpi_fail(c, ef, "MPI_Comm_free of the node-local communicator", -1);
    return aic_comm_cma_init(c);
}

aic_status aic_comm_create(aic_comm_t **out, MPI_Comm parent) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_create: out is NULL");
    *out = NULL;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return aic_fail(AIC_ERR_STATE, "aic_comm_create: MPI is %s; call MPI_Init_thread before "
                        "creating a communicator and MPI_Finalize after destroying the last one",
                        finalized ? "already finalized" : "not initialized");
    if (parent == MPI_COMM_NULL)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_create: parent is MPI_COMM_NULL");

    aic_comm_t *c = calloc(1, sizeof *c);
    if (!c)
        return aic_fail(AIC_ERR_NOMEM, "aic_comm_create: out of memory");
    c->comm = MPI_COMM_NULL;
    c->rank = -1;
    aic_status st = comm_init(c, parent);
    if (st != AIC_OK) {
        aic_comm_destroy(c);
        return st;
    }
    *out = c;
    return AIC_OK;
}

void aic_comm_destroy(aic_comm_t *c) {
    if (!c)
        return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (c->comm != MPI_COMM_NULL && !finalized)
        MPI_Comm_free(&c->comm); /* nothing to report to in a destructor */
    aic_comm_gpu_destroy(c);
    aic_comm_cma_destroy(c);
    free(c->ring_tmp);
    free(c->ring_req);
    free(c->scratch);
    free(c);
}

int aic_comm_rank(const aic_comm_t *c) { return c ? c->rank : -1; }
int aic_comm_size(const aic_comm_t *c) { return c ? c->size : 0; }
int aic_comm_local_rank(const aic_comm_t *c) { return c ? c->local_rank : -1; }
int aic_comm_local_size(const aic_comm_t *c) { return c ? c->local_size : 0; }
MPI_Comm aic_comm_mpi(const aic_comm_t *c) { return c ? c->comm : MPI_COMM_NULL; }

void aic_comm_traffic(const aic_comm_t *c, uint64_t *sent, uint64_t *received) {
    if (sent)
        *sent = c ? c->sent : 0;
    if (received)
        *received = c ? c->received : 0;
}

double aic_comm_wait_seconds(const aic_comm_t *c) { return c ? c->wait_seconds : 0.0; }

void aic_comm_add_wait(aic_comm_t *c, double seconds) {
    if (c && seconds >= 0 && isfinite(seconds))
        c->wait_seconds += seconds;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static aic_status scratch_reserve(aic_comm_t *c, size_t bytes, const char *fn) {
    if (bytes <= c->scratch_cap)
        return AIC_OK;
    void *p = malloc(bytes);
    if (!p)
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for a %zu-byte gather buffer", fn, bytes);
    free(c->scratch);
    c->scratch = p;
    c->scratch_cap = bytes;
    return AIC_OK;
}

aic_status aic_sum_args(const aic_comm_t *c, const void *buf, size_t n, const char *fn) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: communicator is NULL", fn);
    if (!buf && n)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: buf is NULL with n = %zu", fn, n);
    return AIC_OK;
}

/* ---- broadcast --------------------------------------------------------------------------------- */

/* MPI counts are int: larger buffers go in pieces of this many bytes. */
#define AIC_BCAST_PIECE ((size_t)1 << 30)

aic_status aic_gather_bytes(aic_comm_t *c, const void *send, size_t bytes, void *recv, int root) {
    if (!c || (!send && bytes) || bytes > INT_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gather_bytes: NULL argument or %zu bytes (at most INT_MAX)", bytes);
    if (root < 0 || root >= c->size || (c->rank == root && !recv && bytes))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_gather_bytes: root %d of a %d-rank communicator, or no recv there",
                        root, c->size);
    AIC_MPI_TRY(c, MPI_Gather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, root, c->comm),
                "MPI_Gather to root", root);
    if (c->rank == root)
        c->received += bytes * (size_t)(c->size - 1);
    else
        c->sent += bytes;
    return AIC_OK;
}

aic_status aic_broadcast(aic_comm_t *c, void *buf, size_t bytes, int root) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_broadcast: communicator is NULL");
    if (!buf && bytes)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_broadcast: buf is NULL with %zu bytes", bytes);
    if (root < 0 || root >= c->size)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_broadcast: root %d is not a rank of a %d-rank "
                        "communicator", root, c->size);
    if (c->size == 1)
        return AIC_OK;
    unsigned char *p = buf;
    for (size_t done = 0; done < bytes;) {
        size_t k = bytes - done < AIC_BCAST_PIECE ? bytes - done : AIC_BCAST_PIECE;
        AIC_MPI_TRY(c, MPI_Bcast(p + done, (int)k, MPI_BYTE, root, c->comm), "MPI_Bcast from root",
                    root);
        done += k;
    }
    if (c->rank == root)
        c->sent += bytes;
    else
        c->received += bytes;
    return AIC_OK;
}

/* ---- small rank-order sums --------------------------------------------------------------------- */

/* Gathers n elements of every rank into c->scratch on rank 0 ([size][n], rank-major). */
static aic_status gather_to_rank0(aic_comm_t *c, const void *buf, size_t n, MPI_Datatype type,
                                  size_t elem, const char *fn) {
    if ((size_t)c->size > INT_MAX / n)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: n = %zu is too large for a rank-order sum over %d "
                        "ranks (it is meant for small vectors; use aic_allreduce_sum_f32)", fn, n,
                        c->size);
    if (c->rank == 0)
        AIC_TRY(scratch_reserve(c, (size_t)c->size * n * elem, fn));
    AIC_MPI_TRY(c, MPI_Gather(buf, (int)n, type, c->rank == 0 ? c->scratch : NULL, (int)n, type, 0,
                              c->comm), "MPI_Gather to rank", 0);
    if (c->rank == 0)
        c->received += (uint64_t)(c->size - 1) * n * elem;
    else
        c->sent += (uint64_t)n * elem;
    return AIC_OK;
}

/* Sends rank 0's sums to every rank. Traffic mirrors the gather: rank 0 contributes, others get. */
static aic_status bcast_from_rank0(aic_comm_t *c, void *buf, size_t n, MPI_Datatype type,
                                   size_t elem) {
    AIC_MPI_TRY(c, MPI_Bcast(buf, (int)n, type, 0, c->comm), "MPI_Bcast from root", 0);
    if (c->rank == 0)
        c->sent += (uint64_t)n * elem;
    else
        c->received += (uint64_t)n * elem;
    return AIC_OK;
}

/* Rank 0 adds the gathered [size][n] values in rank order into buf. */
typedef void (*rank_sum_fn)(void *buf, const void *gathered, size_t n, int size);

static void sum_f64(void *buf, const void *gathered, size_t n, int size) {
    const double *g = gathered;
    double *out = buf;
    for (size_t i = 0; i < n; i++) {
        double acc = g[i];
        for (int q = 1; q < size; q++)
            acc += g[(size_t)q * n + i];
        out[i] = acc;
    }
}

/* Wrap-around (unsigned) arithmetic: overflow is the caller's, but never undefined. */
static void sum_i64(void *buf, const void *gathered, size_t n, int size) {
    const int64_t *g = gathered;
    int64_t *out = buf;
    for (size_t i = 0; i < n; i++) {
        uint64_t acc = (uint64_t)g[i];
        for (int q = 1; q < size; q++)
            acc += (uint64_t)g[(size_t)q * n + i];
        out[i] = (int64_t)acc;
    }
}

/* The small sums: gathered on rank 0, added there in rank order (the same bits whatever the timing),
 * broadcast back. */
static aic_status rank_order_sum(aic_comm_t *c, void *buf, size_t n, MPI_Datatype type, size_t elem, rank_sum_fn add,
                                 const char *fn) {
    AIC_TRY(aic_sum_args(c, buf, n, fn));
    if (n == 0 || c->size == 1)
        return AIC_OK;
    AIC_TRY(gather_to_rank0(c, buf, n, type, elem, fn));
    if (c->rank == 0)
        add(buf, c->scratch, n, c->size);
    return bcast_from_rank0(c, buf, n, type, elem);
}

aic_status aic_allreduce_sum_f64(aic_comm_t *c, double *buf, size_t n) {
    return rank_order_sum(c, buf, n, MPI_DOUBLE, sizeof(double), sum_f64, "aic_allreduce_sum_f64");
}

aic_status aic_allreduce_sum_i64(aic_comm_t *c, int64_t *buf, size_t n) {
    return rank_order_sum(c, buf, n, MPI_INT64_T, sizeof(int64_t), sum_i64, "aic_allreduce_sum_i64");
}

/* ---- digest check and agreement ---------------------------------------------------------------- */

/* First 8 bytes of a digest in hex, enough to tell two apart in a message. */
static void digest_prefix(const uint8_t *d, char out[17]) { aic_hex(d, 8, out); }

aic_status aic_comm_check_same(aic_comm_t *c, const uint8_t digest[32], const char *what) {
    if (!c || !digest)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_check_same: %s is NULL",
                        c ? "digest" : "communicator");
    if (!what)
        what = "state";
    const size_t p = (size_t)c->size;
    AIC_TRY(scratch_reserve(c, 32 * p, "aic_comm_check_same"));
    uint8_t *all = c->scratch; /* [size][32] */
    AIC_MPI_TRY(c, MPI_Allgather(digest, 32, MPI_BYTE, all, 32, MPI_BYTE, c->comm), "MPI_Allgather",
                -1);
    c->sent += 32;
    c->received += 32 * (p - 1);

    int first = -1, ndiff = 0;
    for (size_t q = 1; q < p; q++) {
        if (memcmp(all + 32 * q, all, 32) != 0) {
            if (first < 0)
                first = (int)q;
            ndiff++;
        }
    }
    if (first < 0)
        return AIC_OK;
    char a[17], b[17];
    digest_prefix(all + 32 * (size_t)first, a);
    digest_prefix(all, b);
    return aic_fail(AIC_ERR_MISMATCH, "%s differs between ranks: rank %d has digest %s..., rank 0 "
                    "has %s... (%d of %d ranks differ from rank 0)", what, first, a, b, ndiff,
                    c->size);
}

aic_status aic_comm_agree(aic_comm_t *c, aic_status local) {
    if (!c)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_comm_agree: communicator is NULL");
    /* MINLOC over (key, status) pairs with key = this rank if it failed, else INT_MAX: the minimum
     * key is the lowest failing rank, and since failing ranks' keys are distinct, the "location"
     * MPI carries along with it is exactly that rank's status. With no failure the key is INT_MAX.
     * (Minimizing the status itself would pick the most negative code, not the lowest rank.) */
    int in[2] = {local != AIC_OK ? c->rank : INT_MAX, (int)local};
    int out[2];
    AIC_MPI_TRY(c, MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, c->comm), "MPI_Allreduce(MINLOC)",
                -1);
    c->sent += sizeof in;
    c->received += sizeof out;
    if (out[0] == INT_MAX)
        return AIC_OK;
    aic_status s = (aic_status)out[1];
    if (local == AIC_OK)
        return aic_fail(s, "rank %d failed: %s", out[0], aic_status_string(s));
    return s; /* a failing rank keeps its own message */
}
