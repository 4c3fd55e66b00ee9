// SPDX-License-Identifier: Apache-2.0
/* AIC_HD marks a formula written once for both backends: a static inline function that the C
 * kernels compile for the host and nvcc compiles for the host and the device. */
#ifndef AICON_LAYERS_HOST_DEVICE_H
#define AICON_LAYERS_HOST_DEVICE_H

#ifdef __CUDACC__
#define AIC_HD static inline __host__ __device__
#else
#define AIC_HD static inline
#endif

#endif
