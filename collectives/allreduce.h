// SPDX-License-Identifier: Apache-2.0
/* Internal to collectives/ (and the allreduce benchmark, which times each algorithm alone): the CPU
 * float allreduce algorithms behind aic_allreduce_sum_f32 and the choice between them by size.
 *
 * All of them sum in place over the communicator, in host memory, and are bitwise reproducible for
 * a given world size with the same bits on every rank. The ring sums each chunk in its own rank
 * order (collectives/ring_allreduce.c) and the single-copy allreduce in the same order
 * (collectives/cma_allreduce.c), so those two give the same bits; recursive doubling and
 * Rabenseifner sum every element in the same pairwise tree (collectives/allreduce_small.c), so they
 * give the same bits as each other. Choosing within either pair never changes a result. */
#ifndef AICON_COLLECTIVES_ALLREDUCE_H
#define AICON_COLLECTIVES_ALLREDUCE_H

#include <stddef.h>
#include "aicon/comm.h"

/* aic_allreduce_sum_f32 takes recursive doubling up to AIC_ALLREDUCE_RD_MAX bytes, Rabenseifner up
 * to AIC_ALLREDUCE_RABENSEIFNER_MAX; beyond, where every rank shares one node and may read the
 * others' memory (struct aic_comm's cma_ok), the single copy above AIC_ALLREDUCE_CMA_MIN; otherwise
 * recursive doubling again up to AIC_ALLREDUCE_SHORT_MAX and the ring beyond. Measured with
 * benchmarks/allreduce (README, "Benchmarks: allreduce") with 2 ranks over Open MPI's shared-memory
 * btl, whose eager limit is 4 KiB with the header: a message over it goes rendezvous (a handshake
 * first). Recursive doubling sends one whole-vector message per round and is the fastest up to 2 KiB
 * and from 8 KiB to 64 KiB (1.4-1.6x Rabenseifner's and the ring's bandwidth); from 2 to 4 KiB its
 * message just passes the limit while Rabenseifner's halves do not (2.4x faster there); from 128 KiB
 * all are alike and the ring's pipelined segments win with more ranks.
 *
 * The single copy (Zen 4, 2 cores, Open MPI 4.1.4 whose vader btl itself moves rendezvous messages
 * with CMA; bus bandwidth against MPI_Allreduce, quiet machine, 2 ranks): 1.6-1.9x from 32 to
 * 512 KiB, 1.11-1.13x at 1 MiB, 1.00-1.02x at 2 MiB, 1.05-1.10x at 4 MiB, 1.3-1.5x at 8 MiB,
 * 1.2-1.35x at 16 MiB and 2.5x at 32-64 MiB (three runs of benchmarks/allreduce --reps 7); 1.15-1.3x
 * Rabenseifner from 16 to 64 MiB; 1.3-1.9x recursive doubling from 32 to 64 KiB with 2 to 4 ranks,
 * mixed at 16 KiB. With 3 and 4 ranks (oversubscribed on 2 cores) 1.0-1.6x the ring from 128 KiB
 * to 8 MiB. From 1 to 4 MiB both move each float across once (the kernel's page pinning and copy
 * dominate), so the margin there is thin. */
#define AIC_ALLREDUCE_RD_MAX 2048
#define AIC_ALLREDUCE_RABENSEIFNER_MAX 4096
#define AIC_ALLREDUCE_CMA_MIN 16384
#define AIC_ALLREDUCE_SHORT_MAX 65536
/* Without the single copy and with 2 ranks, Rabenseifner again above this many bytes: it is one
 * exchange of each half, received in cache-sized blocks, where the ring's reduce-scatter lands in a
 * temporary as long as the chunk and so goes through main memory twice more; measured 10-40% faster
 * from 16 MiB up. With 2 ranks every algorithm gives the same bits (a + b = b + a), so this choice
 * never changes a result. */
#define AIC_ALLREDUCE_PAIR_RABENSEIFNER_MIN (16u << 20)

/* The ring: p chunks, 2(p-1) pipelined steps (bandwidth-optimal, latency 2(p-1) messages). */
aic_status aic_allreduce_ring_f32(aic_comm_t *c, float *buf, size_t n);
/* Recursive doubling: log2 p exchanges of the whole vector (latency-optimal). */
aic_status aic_allreduce_rd_f32(aic_comm_t *c, float *buf, size_t n);
/* Single copy (Linux Cross-Memory Attach), when every rank shares one node: each rank reads its
 * owned chunk from every peer with process_vm_readv in cache-sized blocks, adds them in the ring's
 * order (so the same bits as the ring) and writes each finished block into every peer's buf with
 * process_vm_writev; one kernel copy per float each way. AIC_ERR_UNSUPPORTED where the
 * communicator cannot (ranks on several nodes, AICON_ALLREDUCE_CMA=0, CMA refused at creation). */
aic_status aic_allreduce_cma_f32(aic_comm_t *c, float *buf, size_t n);
/* Rabenseifner: recursive-halving reduce-scatter, then recursive-doubling all-gather (2 log2 p
 * messages, each rank moving about 2n floats). */
aic_status aic_allreduce_rabenseifner_f32(aic_comm_t *c, float *buf, size_t n);

#endif
