/* Internal: the loaded model, shared by the loader, the importer and the tensor reader. */
#ifndef AICON_ONNX_INTERNAL_H
#define AICON_ONNX_INTERNAL_H

#include "aicon/onnx.h"
#include "onnx/onnx.pb-c.h"

struct aic_onnx_model {
    Onnx__ModelProto *proto; /* unpacked by protobuf-c; freed with onnx__model_proto__free_unpacked */
};

/* The whole of a file of at most AIC_ONNX_MAX_FILE_BYTES into *data (malloc'd, the caller frees);
 * `what` names the kind of file in messages ("an ONNX model"). */
aic_status aic_onnx_read_file(const char *path, const char *what, uint8_t **data, size_t *size);

#endif
