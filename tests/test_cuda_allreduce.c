/* GPU allreduces: NCCL (the default), the ring on device buffers (aic_allreduce_sum_f32 with a device
 * pointer: CUDA-aware MPI or pinned host staging) and the hierarchical one, each against the exact
 * sum (values are small multiples of 1/4, so every order of summation gives the same float), for
 * lengths 0, 1, p+1 and 2^20+3. Rank r uses GPU (local rank mod GPUs). NCCL refuses two ranks on one
 * GPU, so the NCCL and hierarchical cases need a GPU per local rank and are skipped (said so)
 * otherwise; the ring case runs with any count. Exits 77 without CUDA or without a GPU. */
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>

#include "aicon/aicon.h"
#ifdef AICON_HAVE_CUDA
#include <cuda_runtime.h>
#endif

#ifdef AICON_HAVE_CUDA
static float value(int rank, size_t i) { return (float)((rank + 1) * (int)(i % 13) - 6) * 0.25f; }

/* 0 on success; prints what failed. */
static int check(aic_comm_t *c, const char *what, int algo, size_t n) {
    const int rank = aic_comm_rank(c), p = aic_comm_size(c);
    float *h = malloc((n ? n : 1) * sizeof(float)), *d = NULL;
    for (size_t i = 0; i < n; i++)
        h[i] = value(rank, i);
    if (cudaMalloc((void **)&d, (n ? n : 1) * sizeof(float)) != cudaSuccess ||
        cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
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
    if (!all_own && rank == 0)
        printf("SKIP nccl and hierarchical: %d ranks on a node with %d GPU%s (NCCL needs one GPU per rank)\n",
               aic_comm_local_size(c), gpus, gpus == 1 ? "" : "s");
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: GPU allreduce on %d rank%s, %d failure%s\n", total ? "FAIL" : "PASS", p, p == 1 ? "" : "s", total,
               total == 1 ? "" : "s");
    failures = total;
    aic_model_destroy(m);
    aic_comm_destroy(c);
#endif
    MPI_Finalize();
    return failures ? 1 : 0;
}
