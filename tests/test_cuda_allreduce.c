// SPDX-License-Identifier: Apache-2.0
/* GPU allreduces: NCCL (the default), the ring on device buffers (aic_allreduce_sum_f32 with a device
 * pointer: CUDA-aware MPI or pinned host staging) and the hierarchical one, each against the exact
 * sum (values are small multiples of 1/4, so every order of summation gives the same float), for
 * lengths 0, 1, p+1 and 2^20+3. Rank r uses GPU (local rank mod GPUs). NCCL refuses two ranks on one
 * GPU, so the NCCL and hierarchical cases need a GPU per local rank and are skipped (said so)
 * otherwise; the ring case runs with any count.
 *
 * Then gradient buckets on the GPU (aic_train_set_buckets: NCCL sums queued bucket by bucket on the
 * collectives' stream while backward is queued): a small MLP trained for a few steps with 1 KiB
 * buckets (one or more per parameter) must end with the parameters and losses of the same training
 * without buckets, within 1e-6 relative (with 1 or 2 ranks every sum is exact whatever the cut), and
 * so must buckets with the ring algorithm (which keeps one sum after backward). Needs NCCL, so a GPU
 * per local rank.
 *
 * Last, the host's waits on the GPU: a wait past its deadline fails with AIC_ERR_COMM instead of
 * hanging (a stream held by a host callback longer than the deadline), and with a GPU per rank a
 * peer that never joins an NCCL sum makes the waiting rank fail the same way, its communicator
 * aborted. Exits 77 without CUDA or without a GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "aicon/aicon.h"
#ifdef AICON_HAVE_CUDA
#include <time.h>

#include <cuda_runtime.h>

#include "core/cuda.h"
#endif

#ifdef AICON_HAVE_CUDA
static float value(int rank, size_t i) { return (float)((rank + 1) * (int)(i % 13) - 6) * 0.25f; }

/* 0 on success; prints what failed. */
static int check(aic_comm_t *c, const char *what, int algo, size_t n) {
    const int rank = aic_comm_rank(c), p = aic_comm_size(c);
    float *h = malloc((n ? n : 1) * sizeof(float)), *d = NULL;
    for (size_t i = 0; i < n; i++)
        h[i] = value(rank, i);
    /* From pageable memory cudaMemcpy may return before the copy has landed, and aicon's streams are
     * non-blocking (no implicit order with the legacy stream): wait for it. */
    if (cudaMalloc((void **)&d, (n ? n : 1) * sizeof(float)) != cudaSuccess ||
        cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess ||
        cudaDeviceSynchronize() != cudaSuccess) {
        printf("FAIL rank %d %s n=%zu: cudaMalloc/cudaMemcpy\n", rank, what, n);
        return 1;
    }
    aic_status st = algo < 0 ? aic_allreduce_sum_f32(c, d, n)
                             : (aic_comm_set_gpu_allreduce(c, (aic_gpu_allreduce)algo) == AIC_OK
                                    ? aic_allreduce_sum_f32_gpu(c, d, n)
                                    : AIC_ERR_INVALID_ARG);
    int bad = 0;
    if (st != AIC_OK) {
        printf("FAIL rank %d %s n=%zu: %s\n", rank, what, n, aic_last_error());
        bad = 1;
    } else if (cudaDeviceSynchronize() != cudaSuccess ||
               cudaMemcpy(h, d, n * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
        printf("FAIL rank %d %s n=%zu: copying the result back\n", rank, what, n);
        bad = 1;
    } else {
        size_t wrong = 0, first = 0;
        for (size_t i = 0; i < n; i++) {
            float want = 0;
            for (int r = 0; r < p; r++)
                want += value(r, i);
            if (h[i] != want && !wrong++)
                first = i;
        }
        if (wrong) {
            printf("FAIL rank %d %s n=%zu: %zu wrong elements, first at %zu\n", rank, what, n, wrong, first);
            bad = 1;
        }
    }
    cudaFree(d);
    free(h);
    return bad;
}

enum { MLP_IN = 32, MLP_CLASSES = 10, MLP_ROWS = 8, MLP_STEPS = 5 };

/* Trains a 32-64-64-10 MLP on GPU `gpu` for MLP_STEPS steps of MLP_ROWS rows per rank (rank r takes
 * rows r * MLP_ROWS.. of each global batch, made from the step and the row) with the given GPU
 * allreduce and bucket size. Fills losses[MLP_STEPS]; returns a malloc'd copy of the parameters
 * (*n floats), or NULL after printing what failed. */
static float *train_mlp(aic_comm_t *c, int gpu, int algo, size_t bucket_bytes, float *losses, size_t *n) {
    const int rank = aic_comm_rank(c), p = aic_comm_size(c);
    aic_model_t *m = NULL;
    aic_optim_t *o = NULL;
    aic_value x, y, h, logits, loss;
    float *params = NULL;
    aic_status st = aic_model_create(&m, "mlp");
    if (st == AIC_OK)
        st = aic_model_set_device(m, AIC_DEVICE_CUDA, gpu, false);
    if (st == AIC_OK)
        st = aic_input(m, "x", 1, (int64_t[]){MLP_IN}, &x);
    if (st == AIC_OK)
        st = aic_labels(m, "y", &y);
    if (st == AIC_OK)
        st = aic_dense(m, "fc1", x, 64, true, &h);
    if (st == AIC_OK)
        st = aic_relu(m, "relu1", h, &h);
    if (st == AIC_OK)
        st = aic_dense(m, "fc2", h, 64, true, &h);
    if (st == AIC_OK)
        st = aic_relu(m, "relu2", h, &h);
    if (st == AIC_OK)
        st = aic_dense(m, "fc3", h, MLP_CLASSES, true, &logits);
    if (st == AIC_OK)
        st = aic_softmax_cross_entropy(m, "loss", logits, y, &loss);
    if (st == AIC_OK)
        st = aic_model_compile(m, MLP_ROWS, 7);
    if (st == AIC_OK)
        st = aic_optim_create(&o, m, &(aic_optim_config){.kind = AIC_OPTIM_SGD, .momentum = 0.9f});
    if (st == AIC_OK)
        st = aic_comm_set_gpu_allreduce(c, (aic_gpu_allreduce)algo);
    if (st == AIC_OK)
        st = aic_train_set_buckets(m, c, bucket_bytes);
    float xs[MLP_ROWS * MLP_IN];
    int32_t ys[MLP_ROWS];
    const aic_batch_slice slice = {.n_local = MLP_ROWS, .n_global = MLP_ROWS * p, .row_offset = rank * MLP_ROWS};
    for (int step = 0; st == AIC_OK && step < MLP_STEPS; step++) {
        for (int i = 0; i < MLP_ROWS; i++) {
            const int row = rank * MLP_ROWS + i;
            for (int j = 0; j < MLP_IN; j++)
                xs[i * MLP_IN + j] = (float)((row * 31 + j * 7 + step * 13) % 17 - 8) / 8.0f;
            ys[i] = (row * 3 + step) % MLP_CLASSES;
        }
        st = aic_train_step(m, o, c, (aic_io_values){.input = x, .labels = y}, xs, ys, &slice, (uint64_t)step, 0.1f,
                            &losses[step]);
    }
    const float *host = st == AIC_OK ? aic_model_params(m) : NULL;
    if (host) {
        *n = aic_model_num_params(m);
        params = malloc(*n * sizeof(float));
        if (params)
            memcpy(params, host, *n * sizeof(float));
    }
    if (!params)
        printf("FAIL rank %d: training on the GPU (algorithm %d, buckets of %zu bytes): %s\n", rank, algo,
               bucket_bytes, st != AIC_OK ? aic_last_error() : "no parameters");
    aic_optim_destroy(o);
    aic_model_destroy(m);
    return params;
}

/* 0 when training with `what`'s buckets matches the unbucketed reference within 1e-6 relative. */
static int check_buckets(aic_comm_t *c, int gpu, const char *what, int algo, const float *ref,
                         const float *ref_loss, size_t n_ref) {
    float losses[MLP_STEPS];
    size_t n = 0;
    float *got = train_mlp(c, gpu, algo, 1024, losses, &n);
    if (!got)
        return 1;
    int bad = 0;
    float scale = 0;
    for (size_t i = 0; i < n_ref; i++)
        scale = fabsf(ref[i]) > scale ? fabsf(ref[i]) : scale;
    size_t wrong = 0, first = 0;
    for (size_t i = 0; i < n && n == n_ref; i++)
        if (fabsf(got[i] - ref[i]) > 1e-6f * scale && !wrong++)
            first = i;
    if (n != n_ref || wrong) {
        printf("FAIL rank %d %s: %zu of %zu parameters differ from the unbucketed run, first at %zu (%.9g vs %.9g)\n",
               aic_comm_rank(c), what, wrong, n, first, n == n_ref ? got[first] : 0.0, n == n_ref ? ref[first] : 0.0);
        bad = 1;
    }
    for (int k = 0; k < MLP_STEPS; k++)
        if (fabsf(losses[k] - ref_loss[k]) > 1e-6f * fabsf(ref_loss[k])) {
            printf("FAIL rank %d %s: loss of step %d is %.9g, unbucketed %.9g\n", aic_comm_rank(c), what, k,
                   losses[k], ref_loss[k]);
            bad = 1;
            break;
        }
    free(got);
    return bad;
}
#endif

#ifdef AICON_HAVE_CUDA
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void CUDART_CB hold_stream(void *seconds) {
    nanosleep(&(struct timespec){.tv_sec = *(const int *)seconds}, NULL);
}

/* 0 when waiting for work that outlasts a 1 s deadline fails with AIC_ERR_COMM after 1 to 2.5 s. Where
 * NCCL communicators exist the deadline aborts them, and ncclCommAbort waits for the work queued on the
 * device, here the held callback: seen on an H200 as 3.8 s, so the window then ends 3 s later. */
static int check_wait_deadline(int rank, bool nccl) {
    static const int hold = 3;
    const double limit = aic_cuda.wait_limit, latest = 2.5 + (nccl ? hold : 0);
    aic_cuda.wait_limit = 1.0;
    int bad = cudaLaunchHostFunc(aic_cuda.stream, hold_stream, (void *)&hold) != cudaSuccess;
    const double t0 = now_s();
    const aic_status st = bad ? AIC_OK : aic_cuda_stream_wait(aic_cuda.stream, "a 3 s host callback");
    const double took = now_s() - t0;
    if (!bad && (st != AIC_ERR_COMM || took < 1.0 || took > latest)) {
        printf("FAIL rank %d: a wait past its 1 s deadline returned '%s' after %.2f s (want a communication "
               "failure after 1-%.1f s): %s\n", rank, aic_status_string(st), took, latest, aic_last_error());
        bad = 1;
    } else if (!bad) {
        printf("ok   rank %d: a wait past its deadline fails after %.2f s: %s\n", rank, took, aic_last_error());
    }
    aic_cuda.wait_limit = limit;
    cudaStreamSynchronize(aic_cuda.stream);
    return bad;
}

/* Rank 0 queues an NCCL sum that the other ranks never join: its wait must fail (the deadline set
 * to 3 s, or NCCL's own error) with the communicator aborted. The others wait on MPI meanwhile. */
static int check_missing_peer(aic_comm_t *c) {
    const int rank = aic_comm_rank(c);
    int bad = 0;
    if (rank == 0) {
        float *d = NULL;
        const double limit = aic_cuda.wait_limit;
        aic_cuda.wait_limit = 3.0;
        bad = cudaMalloc((void **)&d, 1024 * sizeof(float)) != cudaSuccess ||
              aic_comm_set_gpu_allreduce(c, AIC_GPU_ALLREDUCE_NCCL) != AIC_OK ||
              aic_allreduce_sum_f32_gpu(c, d, 1024) != AIC_OK;
        const double t0 = now_s();
        const aic_status st = bad ? AIC_OK : aic_cuda_stream_wait(aic_cuda.stream, "an NCCL sum no peer joins");
        const double took = now_s() - t0;
        if (bad || st != AIC_ERR_COMM || took > 20) {
            printf("FAIL rank 0: an NCCL sum no peer joined ended the wait with '%s' after %.2f s: %s\n",
                   aic_status_string(st), took, aic_last_error());
            bad = 1;
        } else {
            printf("ok   rank 0: an NCCL sum no peer joined fails after %.2f s: %s\n", took, aic_last_error());
        }
        aic_cuda.wait_limit = limit;
        cudaFree(d);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return bad;
}
#endif

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int gpus = 0;
    aic_gpu_count(&gpus);
    if (!aic_cuda_built() || gpus == 0) {
        printf("SKIP: %s\n", aic_cuda_built() ? aic_last_error() : "this aicon was built without CUDA");
        MPI_Finalize();
        return 77;
    }
    int failures = 0;
#ifdef AICON_HAVE_CUDA
    aic_comm_t *c;
    if (aic_comm_create(&c, MPI_COMM_WORLD) != AIC_OK) {
        printf("FAIL aic_comm_create: %s\n", aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const int rank = aic_comm_rank(c), p = aic_comm_size(c);
    const int gpu = aic_comm_local_rank(c) % gpus;
    /* A model on the GPU makes the process's CUDA context, as in training. */
    aic_model_t *m;
    aic_value x;
    if (aic_model_create(&m, "ctx") != AIC_OK || aic_model_set_device(m, AIC_DEVICE_CUDA, gpu, false) != AIC_OK ||
        aic_input(m, "x", 1, (int64_t[]){1}, &x) != AIC_OK) {
        printf("FAIL rank %d: opening GPU %d: %s\n", rank, gpu, aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int own_gpu = aic_comm_local_size(c) <= gpus, all_own = 0;
    MPI_Allreduce(&own_gpu, &all_own, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    const size_t lens[] = {0, 1, (size_t)p + 1, (1u << 20) + 3};
    for (int k = 0; k < 4; k++) {
        failures += check(c, "ring on a device buffer", -1, lens[k]);
        failures += check(c, "ring (gpu algorithm)", AIC_GPU_ALLREDUCE_RING, lens[k]);
        if (all_own) {
            failures += check(c, "nccl", AIC_GPU_ALLREDUCE_NCCL, lens[k]);
            failures += check(c, "hierarchical", AIC_GPU_ALLREDUCE_HIERARCHICAL, lens[k]);
        }
    }
    if (all_own) {
        float ref_loss[MLP_STEPS];
        size_t n_ref = 0;
        float *ref = train_mlp(c, gpu, AIC_GPU_ALLREDUCE_NCCL, 0, ref_loss, &n_ref);
        /* A rank without a reference must not leave the others alone in the bucketed runs. */
        int have = ref != NULL, all_have = 0;
        MPI_Allreduce(&have, &all_have, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (all_have) {
            failures += check_buckets(c, gpu, "buckets (nccl)", AIC_GPU_ALLREDUCE_NCCL, ref, ref_loss, n_ref);
            failures += check_buckets(c, gpu, "buckets (ring)", AIC_GPU_ALLREDUCE_RING, ref, ref_loss, n_ref);
        } else {
            failures++;
        }
        free(ref);
    }
    if (!all_own && rank == 0)
        printf("SKIP nccl, hierarchical and buckets: %d ranks on a node with %d GPU%s (NCCL needs one GPU per rank)\n",
               aic_comm_local_size(c), gpus, gpus == 1 ? "" : "s");
    failures += check_wait_deadline(rank, all_own); /* all_own: the NCCL cases above made communicators */
    /* Last: it aborts rank 0's NCCL communicator. */
    const bool peer_case = all_own && p > 1;
    if (peer_case)
        failures += check_missing_peer(c);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: GPU allreduce and buckets on %d rank%s, %d failure%s\n", total ? "FAIL" : "PASS", p, p == 1 ? "" : "s", total,
               total == 1 ? "" : "s");
    failures = total;
    aic_model_destroy(m);
    /* After the missing-peer case the other ranks' NCCL communicator still counts on rank 0's, which
     * was aborted: destroying it could wait for that peer, so process exit takes it. */
    if (!peer_case)
        aic_comm_destroy(c);
#endif
    MPI_Finalize();
    return failures ? 1 : 0;
}
