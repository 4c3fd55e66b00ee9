/* Internal to collectives/ (and the allreduce benchmark, which times each algorithm alone): the CPU
 * float allreduce algorithms behind aic_allreduce_sum_f32 and the choice between them by size.
 *
 * All of them sum in place over the communicator, in host memory, and are bitwise reproducible for
 * a given world size with the same bits on every rank. The ring sums each chunk in its own rank
 * order (collectives/ring_allreduce.c); recursive doubling and Rabenseifner sum every element in the
 * same pairwise tree (collectives/allreduce_small.c), so they give the same bits as each other and
 * the choice between those two never changes a result. */
#ifndef AICON_COLLECTIVES_ALLREDUCE_H
#define AICON_COLLECTIVES_ALLREDUCE_H

#include <stddef.h>
#include "aicon/comm.h"

/* aic_allreduce_sum_f32 takes recursive doubling up to this many bytes, Rabenseifner above it up to
 * AIC_ALLREDUCE_RABENSEIFNER_MAX, and the ring beyond. Measured with benchmarks/allreduce (README,
 * "Benchmarks: allreduce"): with 2 ranks over Open MPI's shared-memory btl, recursive doubling is
 * the fastest up to 2 KiB (1.1-1.9 us) and 10x slower at 4 KiB, where its whole-vector messages pass
 * vader's 4 KiB eager limit and go rendezvous while Rabenseifner's halves do not; from 64 KiB the
 * ring's pipelined segments win. */
#define AIC_ALLREDUCE_RD_MAX 2048
#define AIC_ALLREDUCE_RABENSEIFNER_MAX 65536
/* With 2 ranks, Rabenseifner again above this many bytes: it is one exchange of each half, received
 * in cache-sized blocks, where the ring's reduce-scatter lands in a temporary as long as the chunk
 * and so goes through main memory twice more; measured 10-40% faster from 16 MiB up. With 2 ranks
 * every algorithm gives the same bits (a + b = b + a), so this choice never changes a result. */
#define AIC_ALLREDUCE_PAIR_RABENSEIFNER_MIN (16u << 20)

/* The ring: p chunks, 2(p-1) pipelined steps (bandwidth-optimal, latency 2(p-1) messages). */
aic_status aic_allreduce_ring_f32(aic_comm_t *c, float *buf, size_t n);
/* Recursive doubling: log2 p exchanges of the whole vector (latency-optimal). */
aic_status aic_allreduce_rd_f32(aic_comm_t *c, float *buf, size_t n);
/* Rabenseifner: recursive-halving reduce-scatter, then recursive-doubling all-gather (2 log2 p
 * messages, each rank moving about 2n floats). */
aic_status aic_allreduce_rabenseifner_f32(aic_comm_t *c, float *buf, size_t n);

#endif
