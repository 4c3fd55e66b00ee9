// SPDX-License-Identifier: Apache-2.0
/* How the op glue (core/op_*.c) lays an op's tensors out for its kernels, the same for the CPU and
 * the CUDA kernels, so both backends index the graph the same way. */
#ifndef AICON_CORE_OP_LAYOUT_H
#define AICON_CORE_OP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/graph.h"
#include "layers/layers.h"

/* global_avgpool: C channels of S = H x W pixels each. */
void aic_gap_dims(const aic_model_t *m, const aic_op *op, int *C, int *S);
/* batchnorm: C channels (dim 0 per sample) of S = the rest. */
void aic_bn_dims(const aic_model_t *m, const aic_op *op, int *C, int *S);
/* Value x over `rows` rows as outer x K x inner around its row axis `axis` (aic_op_row_axis; softmax,
 * log_softmax, argmax, hardmax): outer = rows * the row's dims before the axis, inner = dims after
 * it; returns outer. */
size_t aic_axis_layout(const aic_model_t *m, int x, int axis, int rows, int *K, size_t *inner);
/* concat as outer x inner[k]: outer = n * dims before the axis, inner[k] = the rest of input k;
 * parts[k] is input k's activation, or its gradient when grads. Returns outer. */
size_t aic_concat_layout(aic_model_t *m, const aic_op *op, int n, bool grads, size_t *inner, float **parts);
/* The dropout mask's key: the run's seed, the global step and the op, so every rank, thread count
 * and backend draws the same mask for the same sample. */
uint64_t aic_dropout_key(const aic_model_t *m, const aic_op *op);
/* binary: the index space and the two operands for a batch of n (a, b: model values, or -1 with the
 * constant buffer in *ca or *cb on its side). */
void aic_binary_setup(aic_model_t *m, const aic_op *op, int n, aic_binary_dims *d, int *av, int *bv, float **ca,
                      float **cb);

#endif
