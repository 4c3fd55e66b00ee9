// SPDX-License-Identifier: Apache-2.0
/* What the op files (core/op_*.c) share: starting a builder, checking an input, shape text. */
#ifndef AICON_CORE_OP_BUILD_H
#define AICON_CORE_OP_BUILD_H

#include "core/error.h"
#include "core/graph.h"
#include "core/op_layout.h"
#ifdef AICON_HAVE_CUDA
#include "layers/cuda_layers.h"
#endif

/* AIC_KERNEL(m, name): the kernel of the model's backend where the CPU one (aic_<name>) and the CUDA
 * one (aic_cuda_<name>) take the same arguments, so that one glue function serves both.
 * AIC_CUDA_KERNELS(fwd, bwd): a descriptor's CUDA kernels, none in a build without CUDA. */
#ifdef AICON_HAVE_CUDA
#define AIC_KERNEL(m, name) ((m)->backend->kind == AIC_BACKEND_CUDA ? aic_cuda_##name : aic_##name)
#define AIC_CUDA_KERNELS(fwd, bwd) {fwd, bwd}
#else
#define AIC_KERNEL(m, name) aic_##name
#define AIC_CUDA_KERNELS(fwd, bwd) {NULL, NULL}
#endif

static inline const aic_value_info *aic_val(const aic_model_t *m, int v) { return &m->values[v]; }

/* The elements of value v over `rows` rows as its op's kernels see them (aic_op_desc.batch): each row
 * holds the per-sample axes from the batch axis on. */
static inline size_t aic_rows_numel(const aic_model_t *m, int v, int rows) {
    return (size_t)rows * (size_t)aic_value_behind(&m->values[v]);
}
/* The per-sample axes a row of value v holds (aic_op_desc.batch: AIC_BATCH_ROWS), and how many. */
static inline const int64_t *aic_row_shape(const aic_model_t *m, int v) {
    return m->values[v].shape + m->values[v].batch_axis;
}
static inline int aic_row_ndim(const aic_model_t *m, int v) {
    return m->values[v].ndim - m->values[v].batch_axis;
}

/* Begin a builder: check the model and the inputs, and append the op. */
aic_status aic_op_begin(aic_model_t *m, aic_op_kind kind, const char *name, const int *in, int n_in, aic_op **op);
/* aic_op_begin with one input, which must be a float activation (not a loss). */
aic_status aic_op_begin_float(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, aic_op **op);
/* aic_op_begin for an op on images: one input x of shape N x C x H x W (else the error says `what`),
 * whose C, H, W it returns in chw, and options opts that must not be NULL. */
aic_status aic_op_begin_image(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const void *opts,
                              const char *what, aic_op **op, int chw[3]);
/* The same for an op on volumes: x of shape N x C x D x H x W, its C, D, H, W into cdhw. */
aic_status aic_op_begin_volume(aic_model_t *m, aic_op_kind kind, const char *name, aic_value x, const void *opts,
                               const char *what, aic_op **op, int cdhw[4]);
/* Fails naming the op and the shape unless value v is a float activation of per-sample rank ndim. */
aic_status aic_op_need_rank(const aic_model_t *m, const aic_op *op, int v, int ndim, const char *what);
/* For an AIC_BATCH_ROWS op over x's axes from `axis` (counted on the full shape, as ONNX counts): the
 * axis counted on x's rows as its kernels see them (0: the rows; 1: the first axis behind the batch
 * axis). Fails naming the op when axis is not behind the batch axis. */
aic_status aic_op_row_axis(const aic_model_t *m, const aic_op *op, int x, int axis, int *row_axis);
/* Adds the op's output with x's shape. */
aic_status aic_op_same_shape(aic_model_t *m, aic_op *op, int x, aic_value *out);
/* "axis=2": the canonical text of an op whose one attribute is attr.axis. */
void aic_op_axis_text(const aic_op *op, char *buf, size_t size);

#endif
