// SPDX-License-Identifier: Apache-2.0
/* HDF5 types and dataspaces in words, and closing ids (see io/h5describe.h). */
#include "io/h5describe.h"

#include <stdio.h>

const char *aic_io_h5_class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "floating-point";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum (e.g. bool)";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

void aic_io_h5_describe(hid_t type, hid_t space, char *buf, size_t size) {
    char elem[48];
    H5T_class_t c = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t bits = type >= 0 ? 8 * H5Tget_size(type) : 0;
    if (c == H5T_INTEGER)
        snprintf(elem, sizeof elem, "%s%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", bits);
    else if (c == H5T_FLOAT)
        snprintf(elem, sizeof elem, "float%zu", bits);
    else
        snprintf(elem, sizeof elem, "%s", aic_io_h5_class_name(c));
    H5S_class_t sc = space >= 0 ? H5Sget_simple_extent_type(space) : H5S_NO_CLASS;
    int rank = sc == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK];
    if (sc == H5S_SCALAR) {
        snprintf(buf, size, "%s scalar", elem);
    } else if (rank < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        snprintf(buf, size, "%s values in %s", elem, sc == H5S_NULL ? "an empty (null) dataspace" : "an unreadable dataspace");
    } else {
        size_t len = (size_t)snprintf(buf, size, "%s array of shape ", elem);
        for (int i = 0; i < rank && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? "x" : "", (unsigned long long)dims[i]);
    }
}

void aic_io_h5_close(const hid_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0)
            continue;
        switch (H5Iget_type(ids[i])) {
        case H5I_FILE: H5Fclose(ids[i]); break;
        case H5I_GROUP: H5Gclose(ids[i]); break;
        case H5I_DATATYPE: H5Tclose(ids[i]); break;
        case H5I_DATASPACE: H5Sclose(ids[i]); break;
        case H5I_DATASET: H5Dclose(ids[i]); break;
        case H5I_ATTR: H5Aclose(ids[i]); break;
        default: H5Idec_ref(ids[i]); break;
        }
    }
}
