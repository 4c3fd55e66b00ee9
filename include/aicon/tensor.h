// SPDX-License-Identifier: Apache-2.0
/* Tensor descriptors: a typed, shaped, named view of memory that aicon or the caller owns. */
#ifndef AICON_TENSOR_H
#define AICON_TENSOR_H

#include <stdint.h>
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIC_MAX_DIMS 6
#define AIC_MAX_NAME 96

typedef enum { AIC_F32 = 0, AIC_I32 = 1 } aic_dtype;

typedef struct {
    aic_dtype dtype;
    int ndim;
    int64_t shape[AIC_MAX_DIMS];
    int64_t strides[AIC_MAX_DIMS]; /* in elements, row-major when contiguous */
    void *data;                    /* not owned by the descriptor */
    const char *name;              /* not owned; may be NULL */
} aic_tensor;

/* Fill *t as a contiguous row-major view of data. Fails on ndim out of [0, AIC_MAX_DIMS] or a
 * negative dimension. */
AIC_API aic_status aic_tensor_view(aic_tensor *t, aic_dtype dtype, void *data, int ndim, const int64_t *shape,
                                   const char *name);
AIC_API int64_t aic_tensor_numel(const aic_tensor *t);
/* Size in bytes of one element of dtype. */
AIC_API int aic_dtype_size(aic_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
