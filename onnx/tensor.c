// SPDX-License-Identifier: Apache-2.0
/* Reading one serialized TensorProto: the input_K.pb and output_K.pb files of the ONNX backend tests
 * (float, and integers as int32); and the elements of the model's tensors for the importer, other
 * floating types (float16, bfloat16, double) converted to float32.
 *
 * As in onnx_load.c, nothing is allocated by a size the file declares before it is checked: the file
 * is read only after stat says it is under AIC_ONNX_MAX_FILE_BYTES, protobuf-c bounds every length by
 * the bytes it was given, and the float array is allocated only once the dims' product is known to be
 * under AIC_ONNX_MAX_TENSOR_ELEMENTS and to match the data the file holds. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "aicon/onnx.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
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

/* The n little-endian bytes of element i of raw_data, whatever the host's byte order. */
static uint64_t raw_le(const Onnx__TensorProto *t, int64_t i, int n) {
    const uint8_t *b = t->raw_data.data + (size_t)n * (size_t)i;
    uint64_t u = 0;
    for (int k = n - 1; k >= 0; k--)
        u = u << 8 | b[k];
    return u;
}

static float f32_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half precision to float: every half is exactly a float. */
static float half_to_float(uint16_t h) {
    const int e = h >> 10 & 0x1f, man = h & 0x3ff;
    float f;
    if (e == 0)
        f = ldexpf((float)man, -24); /* zero or subnormal */
    else if (e == 31)
        f = man ? NAN : INFINITY;
    else
        f = ldexpf((float)(man | 0x400), e - 25);
    return h >> 15 ? -f : f;
}

bool aic_onnx_is_floating(const Onnx__TensorProto *t) {
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return true;
    default: return false;
    }
}

float aic_onnx_float_at(const Onnx__TensorProto *t, int64_t i) {
    const bool raw = t->has_raw_data;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: /* 16 bits: in int32_data when not raw */
        return half_to_float((uint16_t)(raw ? raw_le(t, i, 2) : (uint32_t)t->int32_data[i]));
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        return f32_of((uint32_t)(raw ? raw_le(t, i, 2) : (uint32_t)t->int32_data[i] & 0xffff) << 16);
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        if (!raw)
            return (float)t->double_data[i];
        const uint64_t u = raw_le(t, i, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return (float)d;
    }
    default: return raw ? f32_of((uint32_t)raw_le(t, i, 4)) : t->float_data[i];
    }
}

int64_t aic_onnx_int_at(const Onnx__TensorProto *t, int64_t i) {
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return t->has_raw_data ? (int32_t)(uint32_t)raw_le(t, i, 4) : t->int32_data[i];
    return t->has_raw_data ? (int64_t)raw_le(t, i, 8) : t->int64_data[i];
}

/* Fills *out from an unpacked tensor: floating elements as float (float16, bfloat16 and double
 * converted), bools as floats 0 and 1, int32 and int64 ones as int32 (an int64 outside int32's range
 * fails). file names it in messages. */
static aic_status tensor_from_proto(const char *file, const Onnx__TensorProto *t, aic_onnx_tensor *out) {
    const char *tname = t->name ? t->name : "";
    char what[AIC_MAX_NAME + 16];
    snprintf(what, sizeof what, "tensor '%s'", tname);
    const bool ints = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
                      t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    const bool bools = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL; /* aicon's bools: floats 0, 1 */
    if (!aic_onnx_is_floating(t) && !ints && !bools) {
        const char *ty = elem_type_name(t->data_type);
        if (!ty)
            return aic_fail(AIC_ERR_FORMAT, "%s: tensor '%s' has unknown element type %" PRId32, file, tname,
                            t->data_type);
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: tensor '%s' holds %s elements; aicon reads floating types as "
                        "float, and int32 and int64 as int32", file, tname, ty);
    }
    if (t->n_dims > AIC_MAX_DIMS)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: tensor '%s' has %zu dimensions; aicon handles at most %d", file,
                        tname, t->n_dims, AIC_MAX_DIMS);
    /* Only a float or integer tensor reaches the shared checks: test data files of other protos
     * (sequences, optionals) parse as empty tensors of type 0 and are skipped above. */
    uint64_t count;
    AIC_TRY(aic_onnx_check_tensor(file, what, t, &count));

    float *data = malloc((count ? (size_t)count : 1) * sizeof *data);
    if (!data)
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for tensor '%s' (%" PRIu64 " values)", file, tname, count);
    for (uint64_t i = 0; i < count && ints; i++) {
        const int64_t v = aic_onnx_int_at(t, (int64_t)i);
        if (v < INT32_MIN || v > INT32_MAX) {
            free(data);
            return aic_fail(AIC_ERR_UNSUPPORTED, "%s: tensor '%s' holds int64 elements outside int32's range (%" PRId64
                            " at %" PRIu64 "); aicon reads integers as int32", file, tname, v, i);
        }
        const int32_t v32 = (int32_t)v;
        memcpy(data + i, &v32, sizeof v32); /* int32 in float storage, as aicon's arenas hold labels */
    }
    for (uint64_t i = 0; i < count && bools; i++)
        data[i] = (t->has_raw_data ? t->raw_data.data[i] : t->int32_data[i]) != 0 ? 1.0f : 0.0f;
    for (uint64_t i = 0; i < count && !ints && !bools; i++)
        data[i] = aic_onnx_float_at(t, (int64_t)i);

    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", tname); /* cut to AIC_MAX_NAME - 1 bytes */
    out->ndim = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++)
        out->dims[i] = t->dims[i];
    out->numel = (int64_t)count;
    out->data = data;
    out->dtype = ints ? AIC_I32 : AIC_F32;
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
