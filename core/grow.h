// SPDX-License-Identifier: Apache-2.0
/* Internal: the one growth rule of aicon's growable arrays. */
#ifndef AICON_CORE_GROW_H
#define AICON_CORE_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Room for need elements of elem bytes in *arr, whose capacity is *cap: the capacity doubles,
 * starting from first, until need fits. false when memory is out (*arr and *cap unchanged); the
 * caller names what it was growing. */
bool aic_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
