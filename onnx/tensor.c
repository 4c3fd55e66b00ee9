// SPDX-License-Identifier: Apache-2.0
/* Reading one serialized TensorProto: the input_K.pb and output_K.pb files of the ONNX backend tests.
 *
 * As in onnx_load.c, nothing is allocated by a size the file declares before it is checked: the file
 * is read only after stat says it is under AIC_ONNX_MAX_FILE_BYTES, protobuf-c bounds every length by
 * the bytes it was given, and the float array is allocated only once the dims' product is known to be
 * under AIC_ONNX_MAX_TENSOR_ELEMENTS and to match the data the file holds. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "aicon/onnx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "onnx/onnx_internal.h"

/* Element type as ONNX spells it in its docs ("float", "int64"). */
static const char *elem_type_name(int32_t t) {
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED: return "undefined";
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "float";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "uint8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "int8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return "uint16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return "int16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "int32";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return "int64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__STRING: return "string";
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return "bool";
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return "float16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return "double";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: return "uint32";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: return "uint64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64: return "complex64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128: return "complex128";
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return "bfloat16";
    default: return NULL;
    }
}

/* Little-endian float from 4 bytes, whatever the host's byte order. */
static float load_le_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Fills *out from an unpacked tensor; file names it in messages. */
static aic_status tensor_from_proto(const char *file, const Onnx__TensorProto *t, aic_onnx_tensor *out) {
    const char *tname = t->name ? t->name : "";
    char what[AIC_MAX_NAME + 16];
    snprintf(what, sizeof what, "tensor '%s'", tname);
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        const char *ty = elem_type_name(t->data_type);
        if (!ty)
            return aic_fail(AIC_ERR_FORMAT, "%s: tensor '%s' has unknown element type %" PRId32, file, tname,
                            t->data_type);
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: tensor '%s' holds %s elements; aicon reads only float", file,
                        tname, ty);
    }
    if (t->n_dims > AIC_MAX_DIMS)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: tensor '%s' has %zu dimensions; aicon handles at most %d", file,
                        tname, t->n_dims, AIC_MAX_DIMS);
    /* Only a float tensor reaches the shared checks: test data files of other protos (sequences,
     * optionals) parse as empty tensors of type 0 and are skipped above as not float. */
    uint64_t count;
    AIC_TRY(aic_onnx_check_tensor(file, what, t, &count));

    float *data = malloc((count ? (size_t)count : 1) * sizeof *data);
    if (!data)
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for tensor '%s' (%" PRIu64 " floats)", file, tname, count);
    if (t->has_raw_data) {
        for (uint64_t i = 0; i < count; i++)
            data[i] = load_le_f32(t->raw_data.data + 4 * i);
    } else if (count > 0) {
        memcpy(data, t->float_data, (size_t)count * sizeof *data);
    }

    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", tname); /* cut to AIC_MAX_NAME - 1 bytes */
    out->ndim = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++)
        out->dims[i] = t->dims[i];
    out->numel = (int64_t)count;
    out->data = data;
    return AIC_OK;
}

aic_status aic_onnx_read_tensor(const char *path, aic_onnx_tensor *out) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_read_tensor: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_read_tensor: path is NULL");

    uint8_t *buf;
    size_t got;
    AIC_TRY(aic_onnx_read_file(path, "a tensor file", &buf, &got));
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, got, buf);
    free(buf);
    if (!t)
        return aic_fail(AIC_ERR_FORMAT, "%s: not an ONNX tensor (protobuf parse failed)", path);
    aic_status st = tensor_from_proto(path, t, out);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return st;
}

void aic_onnx_tensor_free(aic_onnx_tensor *t) {
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->numel = 0;
}
