// SPDX-License-Identifier: Apache-2.0
#include "aicon/tensor.h"
#include "core/error.h"

int aic_dtype_size(aic_dtype dtype) {
    switch (dtype) {
    case AIC_F32: return 4;
    case AIC_I32: return 4;
    }
    return 0;
}

aic_status aic_tensor_view(aic_tensor *t, aic_dtype dtype, void *data, int ndim, const int64_t *shape,
                           const char *name) {
    if (!t || ndim < 0 || ndim > AIC_MAX_DIMS || (ndim > 0 && !shape))
        return aic_fail(AIC_ERR_INVALID_ARG, "tensor %s: rank %d is outside 0..%d", name ? name : "(unnamed)", ndim,
                        AIC_MAX_DIMS);
    t->dtype = dtype;
    t->ndim = ndim;
    t->data = data;
    t->name = name;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        if (shape[i] < 0)
            return aic_fail(AIC_ERR_SHAPE, "tensor %s: dimension %d is negative (%lld)", name ? name : "(unnamed)", i,
                            (long long)shape[i]);
        t->shape[i] = shape[i];
        t->strides[i] = stride;
        stride *= shape[i];
    }
    return AIC_OK;
}

int64_t aic_tensor_numel(const aic_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}
