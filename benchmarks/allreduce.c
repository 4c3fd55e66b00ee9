// SPDX-License-Identifier: Apache-2.0
/* Allreduce benchmark in the manner of nccl-tests: for each size, each algorithm's time, algorithm
 * bandwidth (bytes / time), bus bandwidth (algbw x 2(p-1)/p, the rate each rank's link carries in a
 * bandwidth-optimal allreduce, so comparable across p) and the count of wrong elements, summed
 * over ranks.
 *
 *   mpirun -np P allreduce [--min BYTES] [--max BYTES] [--factor F] [--iters N] [--warmup W]
 *                          [--reps R] [--algos LIST] [--json FILE]
 *
 * Algorithms (LIST, comma-separated; default all):
 *   ring          aicon's ring (aic_allreduce_ring_f32)
 *   rd            aicon's recursive doubling
 *   rabenseifner  aicon's Rabenseifner
 *   cma           aicon's single-copy allreduce (all ranks on one node; otherwise skipped with the
 *                 reason printed)
 *   aicon         aic_allreduce_sum_f32, aicon's choice by size
 *   mpi           MPI_Allreduce(MPI_IN_PLACE, MPI_SUM) of the MPI library
 *   nccl          ncclAllReduce on one GPU per rank (a CUDA build with a GPU; otherwise skipped
 *                 with the reason printed)
 *
 * Every op is in place on a float buffer. The timed loop runs `iters` calls back to back and the
 * time per call is the slowest rank's; each size times every algorithm R times (default 3), the
 * algorithms taking turns so that a noisy moment hurts them alike, and reports the median (and the
 * fastest). After each timing the buffer is refilled and one more call is checked element by
 * element: rank r holds small integers, so the float sum is exact in any order and a wrong element
 * is a real error, not rounding. Exits 1 if any element was wrong anywhere. */
#include <errno.h>
#include <json-c/json.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef AICON_HAVE_CUDA
#include <cuda_runtime.h>
#include <nccl.h>
#endif

#include "aicon/comm.h"
#include "collectives/allreduce.h"

enum { ALGO_RING, ALGO_RD, ALGO_RABENSEIFNER, ALGO_CMA, ALGO_AICON, ALGO_MPI, ALGO_NCCL,
       ALGO_COUNT };
static const char *const algo_names[ALGO_COUNT] = {"ring", "rd", "rabenseifner", "cma", "aicon",
                                                   "mpi", "nccl"};

typedef struct {
    size_t min_bytes, max_bytes;
    int factor;
    int iters, warmup; /* 0: chosen by size */
    int reps;          /* timings per size and algorithm, interleaved; the median is reported */
    int use[ALGO_COUNT];
    const char *json_path;
} options;

enum { MAX_REPS = 15 };
static int g_rank, g_size;

/* Rank r's value at i: an integer in -3 .. 4, so any sum of up to 2^21 ranks is exact. */
static float fill_value(int r, size_t i) { return (float)((int)((i * 7 + (size_t)r * 13) % 8) - 3); }

static void fill(float *buf, size_t n) {
    for (size_t i = 0; i < n; i++)
        buf[i] = fill_value(g_rank, i);
}

static size_t count_wrong(const float *buf, size_t n) {
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        float want = 0;
        for (int q = 0; q < g_size; q++)
            want += fill_value(q, i);
        wrong += buf[i] != want;
    }
    return wrong;
}

/* "64", "4K", "16M", "1G" (powers of 1024). */
static int parse_bytes(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 'K': case 'k': v <<= 10; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'G': case 'g': v <<= 30; end++; break;
    default: break;
    }
    if (*end)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_int(const char *s, int lo, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_algos(const char *list, int use[ALGO_COUNT]) {
    memset(use, 0, ALGO_COUNT * sizeof use[0]);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < ALGO_COUNT && strcmp(tok, algo_names[k]) != 0)
            k++;
        if (k == ALGO_COUNT)
            return -1;
        use[k] = 1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.min_bytes = 4, .max_bytes = (size_t)256 << 20, .factor = 2, .reps = 3};
    for (int k = 0; k < ALGO_COUNT; k++)
        o->use[k] = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad;
        if (!v) {
            bad = 1;
        } else if (!strcmp(a, "--min")) {
            bad = parse_bytes(v, &o->min_bytes);
        } else if (!strcmp(a, "--max")) {
            bad = parse_bytes(v, &o->max_bytes);
        } else if (!strcmp(a, "--factor")) {
            bad = parse_int(v, 2, &o->factor);
        } else if (!strcmp(a, "--iters")) {
            bad = parse_int(v, 1, &o->iters);
        } else if (!strcmp(a, "--reps")) {
            bad = parse_int(v, 1, &o->reps) || o->reps > MAX_REPS;
        } else if (!strcmp(a, "--warmup")) {
            bad = parse_int(v, 0, &o->warmup);
        } else if (!strcmp(a, "--algos")) {
            bad = parse_algos(v, o->use);
        } else if (!strcmp(a, "--json")) {
            o->json_path = v;
            bad = 0;
        } else {
            if (g_rank == 0)
                fprintf(stderr, "allreduce: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            if (g_rank == 0)
                fprintf(stderr, "allreduce: bad or missing value for %s%s%s\n", a, v ? ": " : "",
                        v ? v : "");
            return -1;
        }
        i++;
    }
    if (o->min_bytes < 4 || o->max_bytes < o->min_bytes || o->max_bytes / 4 > 0x7fffffff) {
        if (g_rank == 0)
            fprintf(stderr, "allreduce: need 4 <= --min <= --max < 8G (got %zu and %zu)\n",
                    o->min_bytes, o->max_bytes);
        return -1;
    }
    return 0;
}

/* Calls per timing: about 64 MiB of payload per size, 5 to 1000 calls. */
static int iters_for(const options *o, size_t bytes) {
    if (o->iters)
        return o->iters;
    size_t k = ((size_t)64 << 20) / bytes;
    return k < 5 ? 5 : k > 1000 ? 1000 : (int)k;
}

static int warmup_for(const options *o, size_t bytes) {
    return o->warmup ? o->warmup : iters_for(o, bytes) / 5 + 1;
}

/* Median of n timings (sorts them); any failed timing (< 0) makes it -1. */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    if (t[0] < 0)
        return -1;
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* ---- NCCL ----------------------------------------------------------------------------------- */

#ifdef AICON_HAVE_CUDA
typedef struct {
    ncclComm_t comm;
    cudaStream_t stream;
    float *dev;
    int ready;
} nccl_state;

/* Every rank reports whether it has a GPU; NCCL runs only if all do. */
static int nccl_open(nccl_state *g, size_t max_floats, aic_comm_t *c) {
    int ndev = 0, ok;
    ok = cudaGetDeviceCount(&ndev) == cudaSuccess && ndev > 0;
    int all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        if (g_rank == 0)
            printf("# nccl: skipped: a rank has no CUDA GPU (cudaGetDeviceCount)\n");
        return 0;
    }
    cudaSetDevice(aic_comm_local_rank(c) % ndev);
    ncclUniqueId id;
    if (g_rank == 0)
        ncclGetUniqueId(&id);
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    ok = ncclCommInitRank(&g->comm, g_size, id, g_rank) == ncclSuccess &&
         cudaStreamCreate(&g->stream) == cudaSuccess &&
         cudaMalloc((void **)&g->dev, max_floats * sizeof(float)) == cudaSuccess;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok && g_rank == 0)
        printf("# nccl: skipped: NCCL or CUDA set-up failed on a rank\n");
    g->ready = all_ok;
    return all_ok;
}

static void nccl_close(nccl_state *g) {
    if (!g->ready)
        return;
    cudaFree(g->dev);
    cudaStreamDestroy(g->stream);
    ncclCommDestroy(g->comm);
}
#endif

/* ---- one measurement ------------------------------------------------------------------------ */

typedef struct {
    aic_comm_t *c;
    float *buf;
#ifdef AICON_HAVE_CUDA
    nccl_state *nccl;
#endif
} bench;

static int run_once(bench *b, int algo, size_t n) {
    switch (algo) {
    case ALGO_RING: return aic_allreduce_ring_f32(b->c, b->buf, n) == AIC_OK ? 0 : -1;
    case ALGO_RD: return aic_allreduce_rd_f32(b->c, b->buf, n) == AIC_OK ? 0 : -1;
    case ALGO_RABENSEIFNER: return aic_allreduce_rabenseifner_f32(b->c, b->buf, n) == AIC_OK ? 0 : -1;
    case ALGO_CMA: return aic_allreduce_cma_f32(b->c, b->buf, n) == AIC_OK ? 0 : -1;
    case ALGO_AICON: return aic_allreduce_sum_f32(b->c, b->buf, n) == AIC_OK ? 0 : -1;
    case ALGO_MPI:
        return MPI_Allreduce(MPI_IN_PLACE, b->buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) ==
                       MPI_SUCCESS ? 0 : -1;
#ifdef AICON_HAVE_CUDA
    case ALGO_NCCL:
        if (ncclAllReduce(b->nccl->dev, b->nccl->dev, n, ncclFloat, ncclSum, b->nccl->comm,
                          b->nccl->stream) != ncclSuccess)
            return -1;
        return cudaStreamSynchronize(b->nccl->stream) == cudaSuccess ? 0 : -1;
#endif
    default: return -1;
    }
}

static void upload(bench *b, int algo, size_t n) {
#ifdef AICON_HAVE_CUDA
    if (algo == ALGO_NCCL)
        cudaMemcpy(b->nccl->dev, b->buf, n * sizeof(float), cudaMemcpyHostToDevice);
#endif
}

static void download(bench *b, int algo, size_t n) {
#ifdef AICON_HAVE_CUDA
    if (algo == ALGO_NCCL)
        cudaMemcpy(b->buf, b->nccl->dev, n * sizeof(float), cudaMemcpyDeviceToHost);
#endif
}

/* Seconds per call (slowest rank) and wrong elements (all ranks); -1 seconds if a call failed. */
static void measure(bench *b, int algo, size_t n, int iters, int warmup, double *sec, long *wrong) {
    int failed = 0;
    fill(b->buf, n);
    upload(b, algo, n);
    for (int i = 0; i < warmup && !failed; i++)
        failed = run_once(b, algo, n) != 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < iters && !failed; i++)
        failed = run_once(b, algo, n) != 0;
    double local = (MPI_Wtime() - t0) / iters;

    /* The timed calls summed sums (integers growing by p each call, never denormal); check a fresh
     * one. */
    fill(b->buf, n);
    upload(b, algo, n);
    if (!failed)
        failed = run_once(b, algo, n) != 0;
    download(b, algo, n);
    long bad = failed ? (long)n : (long)count_wrong(b->buf, n);
    if (failed)
        fprintf(stderr, "allreduce: rank %d: %s failed at %zu bytes: %s\n", g_rank, algo_names[algo],
                n * sizeof(float), algo == ALGO_MPI || algo == ALGO_NCCL ? "(library error)"
                                                                          : aic_last_error());
    MPI_Allreduce(&local, sec, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&bad, wrong, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    int any_failed;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_failed)
        *sec = -1;
}

static json_object *result_json(int algo, size_t bytes, int iters, double sec, double best,
                                double bus, long wrong) {
    double algbw = sec > 0 ? (double)bytes / sec / 1e9 : 0;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "algo", json_object_new_string(algo_names[algo]));
    json_object_object_add(r, "bytes", json_object_new_int64((int64_t)bytes));
    json_object_object_add(r, "iters", json_object_new_int(iters));
    json_object_object_add(r, "time_us", json_object_new_double(sec * 1e6));
    json_object_object_add(r, "algbw_GBps", json_object_new_double(algbw));
    json_object_object_add(r, "busbw_GBps", json_object_new_double(algbw * bus));
    /* The fastest repetition: on a shared machine, the least disturbed one. */
    json_object_object_add(r, "best_time_us", json_object_new_double(best * 1e6));
    json_object_object_add(r, "best_busbw_GBps",
                           json_object_new_double(best > 0 ? (double)bytes / best / 1e9 * bus : 0));
    json_object_object_add(r, "wrong", json_object_new_int64(wrong));
    return r;
}

int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    options o;
    if (parse_options(argc, argv, &o) != 0) {
        MPI_Finalize();
        return 2;
    }
    bench b = {0};
    if (aic_comm_create(&b.c, MPI_COMM_WORLD) != AIC_OK) {
        fprintf(stderr, "allreduce: rank %d: %s\n", g_rank, aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const size_t max_n = o.max_bytes / sizeof(float);
    b.buf = malloc(max_n * sizeof(float));
    if (!b.buf) {
        fprintf(stderr, "allreduce: rank %d: out of memory for %zu bytes\n", g_rank, o.max_bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
#ifdef AICON_HAVE_CUDA
    nccl_state nccl = {0};
    b.nccl = &nccl;
    if (o.use[ALGO_NCCL] && !nccl_open(&nccl, max_n, b.c))
        o.use[ALGO_NCCL] = 0;
#else
    if (o.use[ALGO_NCCL] && g_rank == 0)
        printf("# nccl: skipped: aicon was built without CUDA (-DAICON_CUDA=OFF or not found)\n");
    o.use[ALGO_NCCL] = 0;
#endif
    /* Usable or not alike on every rank (agreed at creation), so every rank skips it or none. */
    if (o.use[ALGO_CMA] && g_size > 1 && aic_allreduce_cma_f32(b.c, b.buf, 1) != AIC_OK) {
        if (g_rank == 0)
            printf("# cma: skipped: %s\n", aic_last_error());
        o.use[ALGO_CMA] = 0;
    }

    json_object *results = json_object_new_array();
    const double bus = g_size > 1 ? 2.0 * (g_size - 1) / g_size : 1.0;
    long total_wrong = 0;
    if (g_rank == 0)
        printf("# %d ranks; time us per call (slowest rank, median of %d), algbw and busbw GB/s, "
               "busbw of the fastest repetition, wrong elements in all checks\n"
               "# %12s %12s %-13s %6s %12s %9s %9s %9s %8s\n",
               g_size, o.reps, "bytes", "floats", "algo", "iters", "time_us", "algbw", "busbw",
               "best_bus", "wrong");
    for (size_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= (size_t)o.factor) {
        const size_t n = bytes / sizeof(float);
        const int iters = iters_for(&o, bytes), warmup = warmup_for(&o, bytes);
        double secs[ALGO_COUNT][MAX_REPS];
        long wrongs[ALGO_COUNT] = {0};
        for (int rep = 0; rep < o.reps; rep++)
            for (int algo = 0; algo < ALGO_COUNT; algo++) {
                long w = 0;
                if (o.use[algo])
                    measure(&b, algo, n, iters, warmup, &secs[algo][rep], &w);
                wrongs[algo] += w;
            }
        for (int algo = 0; algo < ALGO_COUNT; algo++) {
            if (!o.use[algo])
                continue;
            double sec = median(secs[algo], o.reps), best = secs[algo][0]; /* sorted */
            long wrong = wrongs[algo];
            double algbw = sec > 0 ? (double)(n * sizeof(float)) / sec / 1e9 : 0;
            total_wrong += wrong;
            if (g_rank == 0) {
                printf("  %12zu %12zu %-13s %6d %12.2f %9.3f %9.3f %9.3f %8ld%s\n",
                       n * sizeof(float), n, algo_names[algo], iters, sec * 1e6, algbw, algbw * bus,
                       best > 0 ? (double)(n * sizeof(float)) / best / 1e9 * bus : 0, wrong,
                       sec < 0 ? "  FAILED" : "");
                json_object_array_add(results, result_json(algo, n * sizeof(float), iters, sec,
                                                           best, bus, wrong));
            }
        }
        if (bytes > o.max_bytes / (size_t)o.factor)
            break;
    }

    int status = total_wrong ? 1 : 0;
    if (g_rank == 0) {
        printf("# wrong elements in all: %ld\n", total_wrong);
        if (o.json_path) {
            json_object *root = json_object_new_object();
            json_object_object_add(root, "ranks", json_object_new_int(g_size));
            json_object_object_add(root, "reps", json_object_new_int(o.reps));
            json_object_object_add(root, "bus_factor", json_object_new_double(bus));
            json_object_object_add(root, "rd_max_bytes", json_object_new_int(AIC_ALLREDUCE_RD_MAX));
            json_object_object_add(root, "rabenseifner_max_bytes",
                                   json_object_new_int(AIC_ALLREDUCE_RABENSEIFNER_MAX));
            json_object_object_add(root, "short_max_bytes",
                                   json_object_new_int(AIC_ALLREDUCE_SHORT_MAX));
            json_object_object_add(root, "cma_min_bytes", json_object_new_int(AIC_ALLREDUCE_CMA_MIN));
            json_object_object_add(root, "results", json_object_get(results));
            if (json_object_to_file_ext(o.json_path, root, JSON_C_TO_STRING_PRETTY) != 0) {
                fprintf(stderr, "allreduce: cannot write %s: %s\n", o.json_path,
                        json_util_get_last_err());
                status = 2;
            }
            json_object_put(root);
        }
    }
    json_object_put(results);
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
#ifdef AICON_HAVE_CUDA
    nccl_close(&nccl);
#endif
    free(b.buf);
    aic_comm_destroy(b.c);
    MPI_Finalize();
    return status;
}
