// SPDX-License-Identifier: Apache-2.0
/* Internal: HDF5 types and dataspaces in words, for the messages of the HDF5 readers. */
#ifndef AICON_IO_H5DESCRIBE_H
#define AICON_IO_H5DESCRIBE_H

#include <stddef.h>
#include <hdf5.h>

/* "integer", "floating-point", "string", ... */
const char *aic_io_h5_class_name(H5T_class_t c);
/* What a dataset or attribute holds, as "int64 array of shape 2" or "float64 scalar". */
void aic_io_h5_describe(hid_t type, hid_t space, char *buf, size_t size);

#endif
