// SPDX-License-Identifier: Apache-2.0
/* The mean over ranks of a vector sent compressed (aic_allreduce_mean_compressed): for rare, large
 * sums over slow links, such as DiLoCo's outer step (the parameter change every H inner steps).
 *
 * The vector is cut into blocks of AIC_COMPRESS_BLOCK floats, each coded alone: int8 with one float
 * scale (the block's largest magnitude / 127; each value rounded to the nearest multiple), bf16
 * (rounded to nearest even) or plain float. The blocks are dealt out to the ranks in p chunks of whole
 * blocks, chunk k to rank k. Reduce-scatter: each rank codes its own vector once and sends every rank
 * that rank's chunk of the codes (MPI_Alltoallv); the owner decodes the p codes of each value, sums
 * them in double in rank order, divides by p and codes the mean. All-gather: the coded means
 * (MPI_Allgatherv), which every rank decodes. Every rank decodes the same bytes, so the result is
 * bitwise the same on every rank and, the coding and the order being fixed, from run to run for a
 * given world size. Each rank sends (p-1)/p of its coded vector in each phase and receives as much,
 * the ring's volume, in the coded size: int8 about a quarter of the floats' bytes, bf16 half. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collectives/comm_internal.h"
#include "core/error.h"

/* Bytes of one coded block. */
static size_t code_bytes(aic_compress how) {
    switch (how) {
    case AIC_COMPRESS_INT8: return sizeof(float) + AIC_COMPRESS_BLOCK;
    case AIC_COMPRESS_BF16: return 2 * AIC_COMPRESS_BLOCK;
    default: return sizeof(float) * AIC_COMPRESS_BLOCK;
    }
}

/* bf16 by round to nearest even; a NaN stays a (quiet) NaN. */
static uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (isnan(x))
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static float from_bf16(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Codes len (<= AIC_COMPRESS_BLOCK) floats into one block; the rest of the block codes zeros. */
static void encode(aic_compress how, const float *x, size_t len, unsigned char *out) {
    memset(out, 0, code_bytes(how));
    if (how == AIC_COMPRESS_INT8) {
        float amax = 0.0f;
        for (size_t i = 0; i < len; i++)
            amax = fmaxf(amax, fabsf(x[i]));
        /* A NaN or Inf in the block makes the scale non-finite: the block decodes to NaN, as the
         * uncompressed mean of a non-finite value would be. */
        for (size_t i = 0; i < len; i++)
            if (!isfinite(x[i]))
                amax = NAN;
        const float scale = amax / 127.0f;
        memcpy(out, &scale, sizeof scale);
        signed char *q = (signed char *)(out + sizeof scale);
        if (scale > 0.0f && isfinite(scale))
            for (size_t i = 0; i < len; i++)
                q[i] = (signed char)fminf(127.0f, fmaxf(-127.0f, nearbyintf(x[i] / scale)));
    } else if (how == AIC_COMPRESS_BF16) {
        for (size_t i = 0; i < len; i++) {
            const uint16_t h = to_bf16(x[i]);
            memcpy(out + 2 * i, &h, sizeof h);
        }
    } else {
        memcpy(out, x, len * sizeof(float));
    }
}

static void decode(aic_compress how, const unsigned char *in, size_t len, float *x) {
    if (how == AIC_COMPRESS_INT8) {
        float scale;
        memcpy(&scale, in, sizeof scale);
        const signed char *q = (const signed char *)(in + sizeof scale);
        for (size_t i = 0; i < len; i++)
            x[i] = isfinite(scale) ? (float)q[i] * scale : NAN;
    } else if (how == AIC_COMPRESS_BF16) {
        for (size_t i = 0; i < len; i++) {
            uint16_t h;
            memcpy(&h, in + 2 * i, sizeof h);
            x[i] = from_bf16(h);
        }
    } else {
        memcpy(x, in, len * sizeof(float));
    }
}

/* Floats of block b of an n-float vector. */
static size_t block_len(size_t n, size_t b) {
    const size_t at = b * AIC_COMPRESS_BLOCK;
    return n - at < AIC_COMPRESS_BLOCK ? n - at : AIC_COMPRESS_BLOCK;
}

/* First block of rank k's chunk, of nb blocks over p ranks. */
static size_t chunk_start(size_t nb, int p, int k) { return nb * (size_t)k / (size_t)p; }

const char *aic_compress_name(aic_compress how) {
    switch (how) {
    case AIC_COMPRESS_NONE: return "none";
    case AIC_COMPRESS_BF16: return "bf16";
    case AIC_COMPRESS_INT8: return "int8";
    }
    return "?";
}

aic_status aic_allreduce_mean_compressed(aic_comm_t *c, float *buf, size_t n, aic_compress how, float *residual) {
    static const char fn[] = "aic_allreduce_mean_compressed";
    AIC_TRY(aic_sum_args(c, buf, n, fn));
    if (how != AIC_COMPRESS_NONE && how != AIC_COMPRESS_BF16 && how != AIC_COMPRESS_INT8)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: unknown coding %d (none, bf16 or int8)", fn, (int)how);
    if (n == 0)
        return AIC_OK;
    const int p = c->size, r = c->rank;
    const size_t bb = code_bytes(how), nb = (n + AIC_COMPRESS_BLOCK - 1) / AIC_COMPRESS_BLOCK;
    const size_t mine = chunk_start(nb, p, r + 1) - chunk_start(nb, p, r); /* blocks this rank owns */
    /* MPI counts and displacements are int: the whole coded vector must fit one. */
    if (nb > (size_t)INT_MAX / bb)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: %zu floats code to more than %d bytes, MPI's limit", fn, n,
                        INT_MAX);
    unsigned char *codes = malloc(nb * bb), *recv = malloc((mine ? mine : 1) * bb * (size_t)p);
    int *counts = malloc(4 * sizeof(int) * (size_t)p);
    double *sum = malloc(AIC_COMPRESS_BLOCK * sizeof(double));
    float *block = malloc(AIC_COMPRESS_BLOCK * sizeof(float));
    aic_status st = AIC_OK;
    if (!codes || !recv || !counts || !sum || !block) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory for the coded %zu floats", fn, n);
        goto done;
    }
    int *send_counts = counts, *send_displs = counts + p, *recv_counts = counts + 2 * p, *recv_displs = counts + 3 * p;
    for (size_t b = 0; b < nb; b++) {
        const size_t len = block_len(n, b);
        encode(how, buf + b * AIC_COMPRESS_BLOCK, len, codes + b * bb);
        if (residual) { /* this rank's own coding error, for error feedback */
            decode(how, codes + b * bb, len, block);
            for (size_t i = 0; i < len; i++)
                residual[b * AIC_COMPRESS_BLOCK + i] = buf[b * AIC_COMPRESS_BLOCK + i] - block[i];
        }
    }
    /* Reduce-scatter: rank k gets every rank's codes of chunk k, rank j's at j * mine blocks. */
    for (int k = 0; k < p; k++) {
        send_displs[k] = (int)(chunk_start(nb, p, k) * bb);
        send_counts[k] = (int)((chunk_start(nb, p, k + 1) - chunk_start(nb, p, k)) * bb);
        recv_counts[k] = (int)(mine * bb);
        recv_displs[k] = (int)((size_t)k * mine * bb);
    }
    int e = MPI_Alltoallv(codes, send_counts, send_displs, MPI_BYTE, recv, recv_counts, recv_displs, MPI_BYTE,
                          c->comm);
    if (e != MPI_SUCCESS) {
        st = aic_comm_mpi_fail(c, e, "MPI_Alltoallv (compressed reduce-scatter)", -1);
        goto done;
    }
    const size_t first = chunk_start(nb, p, r);
    for (size_t m = 0; m < mine; m++) {
        const size_t len = block_len(n, first + m);
        for (size_t i = 0; i < len; i++)
            sum[i] = 0.0;
        for (int j = 0; j < p; j++) { /* in rank order */
            decode(how, recv + ((size_t)j * mine + m) * bb, len, block);
            for (size_t i = 0; i < len; i++)
                sum[i] += (double)block[i];
        }
        for (size_t i = 0; i < len; i++)
            block[i] = (float)(sum[i] / p);
        encode(how, block, len, codes + (first + m) * bb);
    }
    /* All-gather the coded means in place. */
    for (int k = 0; k < p; k++) {
        recv_counts[k] = send_counts[k];
        recv_displs[k] = send_displs[k];
    }
    e = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, codes, recv_counts, recv_displs, MPI_BYTE, c->comm);
    if (e != MPI_SUCCESS) {
        st = aic_comm_mpi_fail(c, e, "MPI_Allgatherv (compressed all-gather)", -1);
        goto done;
    }
    for (size_t b = 0; b < nb; b++)
        decode(how, codes + b * bb, block_len(n, b), buf + b * AIC_COMPRESS_BLOCK);
    /* Payload: the others' chunks of this rank's codes out and its own chunk's codes in from each of
     * them; then its coded mean out to each of them and theirs in. */
    c->sent += (uint64_t)(nb - mine) * bb + (uint64_t)(p - 1) * mine * bb;
    c->received += (uint64_t)(p - 1) * mine * bb + (uint64_t)(nb - mine) * bb;
done:
    free(codes);
    free(recv);
    free(counts);
    free(sum);
    free(block);
    return st;
}
