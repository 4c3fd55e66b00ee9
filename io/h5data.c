// SPDX-License-Identifier: Apache-2.0
/* HDF5 data sets as h5py writes them: dataset `x` (N x ..., any numeric type) and `y` (N integer labels).
 *
 * HDF5 converts on read: x arrives as native float, y as native int32 (out-of-range integers saturate,
 * and the label check below rejects what saturated). HDF5's own error printing is silenced while we
 * work and restored afterwards; every failure is reported through aic_last_error naming the file. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "io/dataset.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "core/error.h"
#include "io/h5describe.h"

static void close_id(hid_t *id, herr_t (*fn)(hid_t)) {
    if (*id >= 0)
        fn(*id);
    *id = H5I_INVALID_HID;
}

aic_status aic_io_h5_open_dataset(hid_t file, const char *path, const char *name, const char *needs, hid_t *out) {
    *out = H5I_INVALID_HID;
    htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
    if (exists < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: cannot look up dataset '%s' (corrupt file?)", path, name);
    if (exists == 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: no dataset '%s' (%s)", path, name, needs);
    *out = H5Dopen2(file, name, H5P_DEFAULT);
    if (*out < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: '%s' exists but cannot be opened as a dataset (is it a group?)",
                        path, name);
    return AIC_OK;
}

aic_status aic_io_h5_dims(hid_t dset, const char *path, const char *name, int max_rank, hsize_t *dims,
                          int *rank) {
    hid_t space = H5Dget_space(dset);
    aic_status st = AIC_OK;
    if (space < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: cannot read the dataspace of '%s' (corrupt file?)", path, name);
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    int r = H5Sget_simple_extent_ndims(space);
    if (cls != H5S_SIMPLE || r < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset '%s' is %s, not an array", path, name,
                      cls == H5S_SCALAR ? "a scalar" : cls == H5S_NULL ? "empty (null dataspace)" : "unreadable");
        goto cleanup;
    }
    if (r > max_rank) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset '%s' has rank %d; at most %d is supported", path, name, r,
                      max_rank);
        goto cleanup;
    }
    if (H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read the dimensions of '%s' (corrupt file?)", path, name);
        goto cleanup;
    }
    *rank = r;
cleanup:
    H5Sclose(space);
    return st;
}

/* Chunked (possibly compressed) or compact data may declare at most this many times the bytes it
 * stores: deflate, h5py's usual filter, tops out near 1032:1, and no real data set compresses like a
 * constant. A 2 KB file declaring 2^28 chunked samples never written (they read as the fill value)
 * made aicon allocate 5 GB (h5data_fuzz). */
#define H5_MAX_EXPANSION 4096.0

aic_status aic_io_h5_check_storage(hid_t dset, const char *path, const char *name, hsize_t npoints,
                                   int64_t file_size) {
    aic_status st = AIC_OK;
    hid_t dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
    if (dcpl < 0 || type < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read the properties of dataset '%s' (corrupt file?)", path,
                      name);
        goto cleanup;
    }
    if (H5Pget_layout(dcpl) == H5D_CONTIGUOUS) {
        size_t elem = H5Tget_size(type);
        double need = (double)npoints * (double)elem;
        if (elem == 0 || need > (double)file_size) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: dataset '%s' declares %llu elements of %zu bytes (%.0f bytes) but "
                          "the file is only %lld bytes (truncated or corrupt)", path, name,
                          (unsigned long long)npoints, elem, need, (long long)file_size);
            goto cleanup;
        }
    } else {
        double stored = (double)H5Dget_storage_size(dset);
        double need = (double)npoints * (double)H5Tget_size(type);
        if (need > stored * H5_MAX_EXPANSION) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: dataset '%s' declares %llu elements (%.0f bytes) but stores only %.0f "
                          "bytes (%s): more than any compression gives back", path, name,
                          (unsigned long long)npoints, need, stored,
                          stored == 0 ? "its data was never written" : "a corrupt or crafted file");
            goto cleanup;
        }
    }
cleanup:
    close_id(&dcpl, H5Pclose);
    close_id(&type, H5Tclose);
    return st;
}

aic_status aic_dataset_load_h5(aic_dataset_t **out, const char *path) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_h5: out is NULL");
    *out = NULL;
    if (!path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_h5: path is NULL");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open HDF5 data set: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "%s: is a directory, not an HDF5 file", path);

    /* Silence HDF5's error stack printing for this call; restore the caller's handler on the way out. */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    aic_status st = AIC_OK;
    aic_dataset_t *d = NULL;
    hid_t file = H5I_INVALID_HID, dx = H5I_INVALID_HID, dy = H5I_INVALID_HID;
    hid_t tx = H5I_INVALID_HID, ty = H5I_INVALID_HID;

    htri_t is_h5 = H5Fis_hdf5(path);
    if (is_h5 == 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: not an HDF5 file (no HDF5 signature)", path);
        goto cleanup;
    }
    if (is_h5 < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read as HDF5 (unreadable or corrupt file)", path);
        goto cleanup;
    }
    AIC_TRY_GOTO(aic_io_h5_probe(path, "the data set", (const char *const[]){"x", "y"}, 2));
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot open as HDF5: the file is corrupt or truncated", path);
        goto cleanup;
    }
    static const char needs[] = "a data set file needs 'x': N samples of any shape, and 'y': N integer labels";
    AIC_TRY_GOTO(aic_io_h5_open_dataset(file, path, "x", needs, &dx));
    AIC_TRY_GOTO(aic_io_h5_open_dataset(file, path, "y", needs, &dy));

    /* Element types: x any number, y integers. */
    tx = H5Dget_type(dx);
    ty = H5Dget_type(dy);
    if (tx < 0 || ty < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read the element type of '%s' (corrupt file?)", path,
                      tx < 0 ? "x" : "y");
        goto cleanup;
    }
    H5T_class_t cx = H5Tget_class(tx), cy = H5Tget_class(ty);
    if (cx != H5T_INTEGER && cx != H5T_FLOAT) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' holds %s elements; expected integers or floats", path,
                      aic_io_h5_class_name(cx));
        goto cleanup;
    }
    if (cy != H5T_INTEGER) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'y' holds %s elements; expected integer class labels", path,
                      aic_io_h5_class_name(cy));
        goto cleanup;
    }

    /* Shapes: x is N x (1 to 6 sample dims), y is N or N x 1. */
    hsize_t xd[1 + AIC_DATASET_MAX_RANK], yd[2];
    int xr = 0, yr = 0;
    AIC_TRY_GOTO(aic_io_h5_dims(dx, path, "x", 1 + AIC_DATASET_MAX_RANK, xd, &xr));
    AIC_TRY_GOTO(aic_io_h5_dims(dy, path, "y", 2, yd, &yr));
    if (xr < 2) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' has rank %d; expected N x (sample shape), rank 2 to %d", path,
                      xr, 1 + AIC_DATASET_MAX_RANK);
        goto cleanup;
    }
    if (yr == 0 || (yr == 2 && yd[1] != 1)) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'y' has rank %d%s; expected N labels (shape N or N x 1)", path, yr,
                      yr == 2 ? " with more than one column" : "");
        goto cleanup;
    }
    if (xd[0] == 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' holds no samples (N = 0)", path);
        goto cleanup;
    }
    if (yd[0] != xd[0]) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' has %llu samples but 'y' has %llu labels", path,
                      (unsigned long long)xd[0], (unsigned long long)yd[0]);
        goto cleanup;
    }
    int64_t shape[AIC_DATASET_MAX_RANK];
    int64_t total = 1;
    for (int i = 0; i < xr; i++) {
        if (xd[i] == 0) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' has a dimension of size 0 (dimension %d)", path, i);
            goto cleanup;
        }
        if (xd[i] > (hsize_t)AIC_DATASET_MAX_FLOATS || total > AIC_DATASET_MAX_FLOATS / (int64_t)xd[i]) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'x' holds more than %lld values; too large for aicon (or a "
                          "corrupt header)", path, (long long)AIC_DATASET_MAX_FLOATS);
            goto cleanup;
        }
        total *= (int64_t)xd[i];
        if (i > 0)
            shape[i - 1] = (int64_t)xd[i];
    }
    AIC_TRY_GOTO(aic_io_h5_check_storage(dx, path, "x", (hsize_t)total, (int64_t)sb.st_size));
    AIC_TRY_GOTO(aic_io_h5_check_storage(dy, path, "y", yd[0], (int64_t)sb.st_size));

    AIC_TRY_GOTO(aic_io_dataset_alloc(&d, path, path, (int64_t)xd[0], xr - 1, shape));
    if (H5Dread(dx, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->x) < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read dataset 'x' as float (corrupt or truncated file?)", path);
        goto cleanup;
    }
    if (H5Dread(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->y) < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read dataset 'y' as int32 (corrupt or truncated file?)", path);
        goto cleanup;
    }
    AIC_TRY_GOTO(aic_io_dataset_finish_labels(d));
    *out = d;
    d = NULL;

cleanup:
    aic_dataset_destroy(d);
    close_id(&tx, H5Tclose);
    close_id(&ty, H5Tclose);
    close_id(&dx, H5Dclose);
    close_id(&dy, H5Dclose);
    close_id(&file, H5Fclose);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return st;
}
