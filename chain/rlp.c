// SPDX-License-Identifier: Apache-2.0
/* Byte buffers and RLP, the serialization of Ethereum transactions. */
#include <stdlib.h>
#include <string.h>

#include "chain/eth.h"
#include "core/error.h"
#include "core/grow.h"

void aic_bytes_free(aic_bytes *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

aic_status aic_bytes_append(aic_bytes *b, const void *data, size_t n) {
    if (!aic_grow((void **)&b->data, &b->cap, b->len + n, 1, 64))
        return aic_fail(AIC_ERR_NOMEM, "out of memory growing a byte buffer of %zu bytes by %zu", b->len, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return AIC_OK;
}

/* The prefix of a payload of n bytes: short form up to 55 bytes, else the length's own big-endian
 * bytes after `base + 55 + their count`. base is 0x80 for strings and 0xc0 for lists. */
static aic_status rlp_prefix(aic_bytes *out, uint8_t base, size_t n) {
    if (n <= 55) {
        uint8_t b = (uint8_t)(base + n);
        return aic_bytes_append(out, &b, 1);
    }
    uint8_t len[1 + sizeof(size_t)];
    int k = 0;
    for (size_t v = n; v; v >>= 8)
        k++;
    len[0] = (uint8_t)(base + 55 + k);
    for (int i = 0; i < k; i++)
        len[k - i] = (uint8_t)(n >> (8 * i));
    return aic_bytes_append(out, len, (size_t)k + 1);
}

aic_status aic_rlp_string(aic_bytes *out, const uint8_t *s, size_t n) {
    if (n == 1 && s[0] < 0x80) /* a single low byte is its own encoding */
        return aic_bytes_append(out, s, 1);
    AIC_TRY(rlp_prefix(out, 0x80, n));
    return aic_bytes_append(out, s, n);
}

aic_status aic_rlp_uint(aic_bytes *out, uint64_t v) {
    uint8_t be[8];
    int k = 0;
    for (uint64_t x = v; x; x >>= 8)
        k++;
    for (int i = 0; i < k; i++)
        be[k - 1 - i] = (uint8_t)(v >> (8 * i));
    return aic_rlp_string(out, be, (size_t)k);
}

aic_status aic_rlp_list(aic_bytes *out, const aic_bytes *items) {
    AIC_TRY(rlp_prefix(out, 0xc0, items->len));
    return aic_bytes_append(out, items->data, items->len);
}
