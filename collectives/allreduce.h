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

/* aic_allreduce_sum_f32 takes recursive doubling up to AIC_ALLREDUCE_RD_MAX bytes, Rabenseifner up
 * to AIC_ALLREDUCE_RABENSEIFNER_MAX, recursive doubling again up to AIC_ALLREDUCE_SHORT_MAX, and the
 * ring beyond. Measured with benchmarks/allreduce (README, "Benchmarks: allreduce") with 2 ranks over
 * Open MPI's shared-memory btl, whose eager limit is 4 KiB with the header: a message over it goes
 * rendezvous (a handshake first). Recursive doubling sends one whole-vector message per round and is
 * the fastest up to 2 KiB and from 8 KiB to 64 KiB (1.4-1.6x Rabenseifner's and the ring's
 * bandwidth); from 2 to 4 KiB its message just passes the limit while Rabenseifner's halves do not
 * (2.4x faster there); from 128 KiB all are alike and the ring's pipelined segments win with more
 * ranks. */
#define AIC_ALLREDUCE_RD_MAX 2048
#define AIC_ALLREDUCE_RABENSEIFNER_MAX 4096
#define AIC_ALLREDUCE_SHORT_MAX 65536
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
