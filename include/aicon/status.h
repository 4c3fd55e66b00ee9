// SPDX-License-Identifier: Apache-2.0
/* aicon status codes and error reporting.
 *
 * Every public call returns an aic_status. AIC_OK is zero; failures are negative. After a failure,
 * aic_last_error() returns a message (per thread) naming what went wrong: the file, flag, tensor or
 * rank, and why. */
#ifndef AICON_STATUS_H
#define AICON_STATUS_H

#include "aicon/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AICON_VERSION_MAJOR 0
#define AICON_VERSION_MINOR 1
#define AICON_VERSION_PATCH 0
#define AICON_VERSION_CODE (AICON_VERSION_MAJOR * 10000 + AICON_VERSION_MINOR * 100 + AICON_VERSION_PATCH)

typedef enum {
    AIC_OK = 0,
    AIC_ERR_INVALID_ARG = -1, /* a caller passed a bad value (flag, shape, option) */
    AIC_ERR_NOMEM = -2,       /* an allocation failed */
    AIC_ERR_IO = -3,          /* a file could not be opened, read, written or renamed */
    AIC_ERR_FORMAT = -4,      /* a file's contents are malformed (header, size, type) */
    AIC_ERR_SHAPE = -5,       /* tensor shapes do not fit together */
    AIC_ERR_MISMATCH = -6,    /* a file or a peer rank holds something other than expected */
    AIC_ERR_COMM = -7,        /* an MPI call failed or a peer rank failed */
    AIC_ERR_UNSUPPORTED = -8, /* a feature this build or backend does not have */
    AIC_ERR_STATE = -9,       /* a call made in the wrong order (e.g. run before compile) */
    AIC_ERR_INTERNAL = -10,   /* a bug in aicon */
    AIC_ERR_NONFINITE = -11,  /* a loss or value came out NaN or infinite */
} aic_status;

/* Short constant name of a status, e.g. "invalid argument". Never NULL. */
AIC_API const char *aic_status_string(aic_status s);

/* Detail of the last failure on this thread; "" when none. Valid until the next failing call. */
AIC_API const char *aic_last_error(void);

/* Library version as "MAJOR.MINOR.PATCH"; compare with AICON_VERSION_CODE to tell header from library. */
AIC_API const char *aic_version_string(void);
AIC_API int aic_version_code(void);

#ifdef __cplusplus
}
#endif
#endif
