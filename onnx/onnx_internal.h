// SPDX-License-Identifier: Apache-2.0
/* Internal: the loaded model, shared by the loader, the importer and the tensor reader. */
#ifndef AICON_ONNX_INTERNAL_H
#define AICON_ONNX_INTERNAL_H

#include <stdbool.h>

#include "aicon/onnx.h"
#include "onnx/onnx.pb-c.h"

struct aic_onnx_model {
    Onnx__ModelProto *proto; /* unpacked by protobuf-c; freed with onnx__model_proto__free_unpacked */
    size_t *order;           /* the graph's nodes, each after the nodes whose outputs it reads */
};

/* An open-addressing table of a graph's value names, for the loader's checks and the importer: keys[i]
 * is a name (the proto's string) or NULL; what a user maps a name to lies in its own array, indexed
 * like keys. */
typedef struct {
    const char **keys;
    size_t cap; /* a power of two, over twice the names */
} aic_onnx_names;

/* An empty table with room for every name g defines: its inputs, initializers and node outputs. */
aic_status aic_onnx_names_init(aic_onnx_names *t, const Onnx__GraphProto *g);
void aic_onnx_names_free(aic_onnx_names *t);
/* The slot of name: the one holding it, or the empty one where it would go. */
size_t aic_onnx_names_slot(const aic_onnx_names *t, const char *name);

/* Checks one tensor as the loader does (no external data or segments, a known element type,
 * non-negative dims, at most AIC_ONNX_MAX_TENSOR_ELEMENTS elements, exactly as much data as the dims
 * say); `what` names it in messages ("tensor 'w'"). *elements (may be NULL) gets the count. */
aic_status aic_onnx_check_tensor(const char *file, const char *what, const Onnx__TensorProto *t,
                                 uint64_t *elements);

/* Elements of checked tensors (onnx/tensor.c; raw_data is little-endian whatever the host).
 * aic_onnx_is_floating: float, float16, bfloat16 or double, which aic_onnx_float_at reads as float32
 * (the import converts such initializers and Constant values on reading). aic_onnx_int_at: element i
 * of an int32 or int64 tensor. */
bool aic_onnx_is_floating(const Onnx__TensorProto *t);
float aic_onnx_float_at(const Onnx__TensorProto *t, int64_t i);
int64_t aic_onnx_int_at(const Onnx__TensorProto *t, int64_t i);

/* The whole of a file of at most AIC_ONNX_MAX_FILE_BYTES into *data (malloc'd, the caller frees);
 * `what` names the kind of file in messages ("an ONNX model"). */
aic_status aic_onnx_read_file(const char *path, const char *what, uint8_t **data, size_t *size);

#endif
