// SPDX-License-Identifier: Apache-2.0
/* Shared by the tests that read reference values from HDF5 files (PyTorch golden data). */
#ifndef AICON_TEST_H5_H
#define AICON_TEST_H5_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H5_MAX_DIMS 8

typedef struct {
    int ndim;
    hsize_t dims[H5_MAX_DIMS];
    size_t numel;
    void *data; /* malloc'd, numel elements of the requested memory type */
} h5_array;

/* Read dataset `path` of `file` whole, converted to `memtype`. Returns 0 on success. */
static int h5_read(hid_t file, const char *path, hid_t memtype, h5_array *out) {
    memset(out, 0, sizeof *out);
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    int rc = -1;
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0) {
        fprintf(stderr, "reference file has no dataset %s\n", path);
        return -1;
    }
    if ((ds = H5Dopen2(file, path, H5P_DEFAULT)) < 0 || (sp = H5Dget_space(ds)) < 0) {
        fprintf(stderr, "cannot open dataset %s\n", path);
        goto done;
    }
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd < 0 || nd > H5_MAX_DIMS) {
        fprintf(stderr, "dataset %s: bad rank %d\n", path, nd);
        goto done;
    }
    out->ndim = nd;
    H5Sget_simple_extent_dims(sp, out->dims, NULL);
    out->numel = 1;
    for (int i = 0; i < nd; i++) out->numel *= (size_t)out->dims[i];
    out->data = malloc((out->numel ? out->numel : 1) * H5Tget_size(memtype));
    if (!out->data) {
        fprintf(stderr, "dataset %s: out of memory\n", path);
        goto done;
    }
    if (H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->data) < 0) {
        fprintf(stderr, "cannot read dataset %s\n", path);
        goto done;
    }
    rc = 0;
done:
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    if (rc != 0) {
        free(out->data);
        out->data = NULL;
    }
    return rc;
}

#endif
