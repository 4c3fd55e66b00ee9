// SPDX-License-Identifier: Apache-2.0
/* Internal: the loaded model, shared by the loader, the importer and the tensor reader. */
#ifndef AICON_ONNX_INTERNAL_H
#define AICON_ONNX_INTERNAL_H

#include "aicon/onnx.h"
#include "onnx/onnx.pb-c.h"

struct aic_onnx_model {
    Onnx__ModelProto *proto; /* unpacked by protobuf-c; freed with onnx__model_proto__free_unpacked */
};

/* Checks one tensor as the loader does (no external data or segments, a known element type,
 * non-negative dims, at most AIC_ONNX_MAX_TENSOR_ELEMENTS elements, exactly as much data as the dims
 * say); `what` names it in messages ("tensor 'w'"). *elements (may be NULL) gets the count. */
aic_status aic_onnx_check_tensor(const char *file, const char *what, const Onnx__TensorProto *t,
                                 uint64_t *elements);

/* The whole of a file of at most AIC_ONNX_MAX_FILE_BYTES into *data (malloc'd, the caller frees);
 * `what` names the kind of file in messages ("an ONNX model"). */
aic_status aic_onnx_read_file(const char *path, const char *what, uint8_t **data, size_t *size);

#endif
