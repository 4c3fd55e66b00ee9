// SPDX-License-Identifier: Apache-2.0
/* Internal to the HDF5 readers and writers: types and dataspaces in words for their messages, one
 * close for every kind of id, and the check in a child process that libhdf5 survives a file before
 * they open it. */
#ifndef AICON_IO_H5DESCRIBE_H
#define AICON_IO_H5DESCRIBE_H

#include <stddef.h>
#include <hdf5.h>

#include <stdint.h>

#include "aicon/status.h"

/* "integer", "floating-point", "string", ... */
const char *aic_io_h5_class_name(H5T_class_t c);
/* What a dataset or attribute holds, as "int64 array of shape 2" or "float64 scalar". */
void aic_io_h5_describe(hid_t type, hid_t space, char *buf, size_t size);

/* Closes, in order, each of the n ids that is valid (>= 0) with the close of its kind (file, group,
 * datatype, dataspace, dataset, attribute; any other by dropping its reference). */
void aic_io_h5_close(const hid_t *ids, size_t n);
#define AIC_H5_CLOSE(...) \
    aic_io_h5_close((const hid_t[]){__VA_ARGS__}, sizeof((const hid_t[]){__VA_ARGS__}) / sizeof(hid_t))

/* In a child process (io/h5probe.c), looks up `names` (the paths the reader will open, "/params/fc1.weight")
 * in the HDF5 file at path and reads every object in it: AIC_ERR_FORMAT naming the file and `what`
 * ("the checkpoint") when libhdf5 crashes on it, AIC_OK otherwise (an error libhdf5 reports cleanly
 * is left for the reader to name). */
aic_status aic_io_h5_probe(const char *path, const char *what, const char *const *names, size_t n_names);

/* The data set readers' checks (io/h5data.c); every failure is AIC_ERR_FORMAT naming path and name. */
/* Open dataset `name` at the file's root; a missing one is named with `needs`, what the file must hold. */
aic_status aic_io_h5_open_dataset(hid_t file, const char *path, const char *name, const char *needs, hid_t *out);
/* The dimensions of a simple dataspace into dims (at most max_rank of them); its rank into *rank. */
aic_status aic_io_h5_dims(hid_t dset, const char *path, const char *name, int max_rank, hsize_t *dims, int *rank);
/* For contiguous (uncompressed) storage the data must lie inside the file: a truncated or lying file is
 * caught before anything is allocated. Chunked and compact data must be stored, and may expand to at
 * most 4096 times what is (H5_MAX_EXPANSION, io/h5data.c). */
aic_status aic_io_h5_check_storage(hid_t dset, const char *path, const char *name, hsize_t npoints,
                                   int64_t file_size);

#endif
