// SPDX-License-Identifier: Apache-2.0
/* cumsum: running sums along one axis; back, the running sums of the gradient the other way. */
#include "layers/layers.h"
#include "layers/cumsum_line.h"
#include "layers/kernel_check.h"

static aic_status cumsum(const char *kernel, float *out, const float *in, const aic_cumsum_dims *d, bool reverse,
                         bool accumulate) {
    if (!out || !in || !d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "a buffer or the dims are NULL");
    for (size_t o = 0; o < d->outer; o++)
        for (size_t i = 0; i < d->inner; i++)
            aic_cumsum_line(out + o * d->len * d->inner + i, in + o * d->len * d->inner + i, d->len, d->inner,
                            d->exclusive, reverse, accumulate);
    return AIC_OK;
}

aic_status aic_cumsum_forward(float *y, const float *x, const aic_cumsum_dims *d) {
    // y, x: outer x len x inner
    return cumsum(__func__, y, x, d, d && d->reverse, false);
}

aic_status aic_cumsum_backward(float *dx, const float *dy, const aic_cumsum_dims *d) {
    // dx, dy: outer x len x inner; y[k] sums x[j] for j up to k, so dx[j] gathers dy[k] for k from j on
    if (!dx)
        return AIC_OK;
    return cumsum(__func__, dx, dy, d, d && !d->reverse, true);
}
