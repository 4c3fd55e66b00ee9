// SPDX-License-Identifier: Apache-2.0
#include "core/grow.h"

#include <stdlib.h>

bool aic_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first) {
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}
