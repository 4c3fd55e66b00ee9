/* Internal: the loaded model, shared by the loader, the importer and the tensor reader. */
#ifndef AICON_ONNX_INTERNAL_H
#define AICON_ONNX_INTERNAL_H

#include "aicon/onnx.h"
#include "onnx/onnx.pb-c.h"

struct aic_onnx_model {
    Onnx__ModelProto *proto; /* unpacked by protobuf-c; freed with onnx__model_proto__free_unpacked */
};

#endif
