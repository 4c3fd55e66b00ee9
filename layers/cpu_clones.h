// SPDX-License-Identifier: Apache-2.0
/* AIC_CPU_CLONES marks a hot CPU kernel that GCC compiles three times, for AVX-512, AVX2 and the
 * x86-64 baseline (SSE2), the loader picking the one the CPU runs (target_clones: an ifunc), so that
 * its loops use the CPU's full vector width from one portable binary. Every clone computes the same
 * bits: no a * b + c is contracted into an FMA (-ffp-contract=off, CMakeLists.txt), and each kernel
 * spells out the order of its reductions (layers/softmax_row.h) rather than leave it to the
 * vectorizer. Elsewhere (other compilers or CPUs, the sanitizer builds) the kernel is compiled once.
 * Static functions only: GCC exports a cloned function's dispatcher (an ifunc) from the shared
 * library whatever its visibility, so a public kernel calls a cloned static one. */
#ifndef AICON_LAYERS_CPU_CLONES_H
#define AICON_LAYERS_CPU_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&                   \
    !defined(__SANITIZE_ADDRESS__) && !defined(__CUDACC__)
#define AIC_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AIC_CPU_CLONES
#endif

#endif
