// SPDX-License-Identifier: Apache-2.0
// Shared by the layers/ *_cuda.cu files: launch geometry over n elements and the launch check.
#ifndef AICON_LAYERS_CUDA_COMMON_CUH
#define AICON_LAYERS_CUDA_COMMON_CUH

#include "core/cuda.h"
extern "C" {
#include "core/error.h"
}
#include "layers/cuda_layers.h"

#define AIC_CUDA_THREADS 256

// Enough blocks for one element per thread, capped: the kernels loop with a grid stride.
static inline unsigned aic_cuda_blocks(size_t n) {
    size_t b = (n + AIC_CUDA_THREADS - 1) / AIC_CUDA_THREADS;
    if (b < 1)
        b = 1;
    return b > 65535u * 8u ? 65535u * 8u : (unsigned)b;
}

#define AIC_GRID_STRIDE(i, n)                                                                   \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                     \
         i += (size_t)blockDim.x * gridDim.x)

// Launch kernel<<<blocks over n, 256 threads, on the model's stream>>> and check the launch.
#define AIC_LAUNCH_N(n, kernel, ...)                                                            \
    ((n) == 0 ? AIC_OK                                                                          \
              : (kernel<<<aic_cuda_blocks(n), AIC_CUDA_THREADS, 0, aic_cuda.stream>>>(__VA_ARGS__), \
                 AIC_CUDA_LAUNCHED()))

#endif
