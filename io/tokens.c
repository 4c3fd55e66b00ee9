// SPDX-License-Identifier: Apache-2.0
/* Token data sets: an llm.c shard or an HDF5 `tokens` dataset read into one int32 stream, which
 * io/dataset.c cuts into windows; and the shard writer aicon tokenize uses.
 *
 * The kind is told from the content: libhdf5 finds its signature (at offset 0, or after a user
 * block), else the file must start with llm.c's magic. Everything a header declares is checked
 * against the file's real size before the tokens are allocated. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "io/tokens.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/dataset.h"
#include "io/h5describe.h"

static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The tokens of the llm.c shard at path (file_size bytes) into *out (*n of them). */
static aic_status read_shard(const char *path, int64_t file_size, int32_t **out, int64_t *n) {
    aic_status st = AIC_OK;
    uint8_t head[AIC_TOKENS_HEADER_BYTES], buf[1 << 16];
    int32_t *tokens = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return aic_fail(AIC_ERR_IO, "%s: cannot open the token file: %s", path, strerror(errno));
    if (file_size < 4 || fread(head, 1, 4, f) != 4 || get_le32(head) != AIC_TOKENS_MAGIC) {
        st = file_size < 4 ? aic_fail(AIC_ERR_FORMAT, "%s: file of %lld bytes is neither an llm.c token shard nor "
                                      "an HDF5 file", path, (long long)file_size)
                           : aic_fail(AIC_ERR_FORMAT, "%s: bad magic %u: not an llm.c token shard (magic %d), and "
                                      "no HDF5 signature either", path, get_le32(head), AIC_TOKENS_MAGIC);
        goto cleanup;
    }
    if (file_size < AIC_TOKENS_HEADER_BYTES || fread(head + 4, 1, sizeof head - 4, f) != sizeof head - 4) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: file of %lld bytes ends inside the %d-byte llm.c shard header (truncated)",
                      path, (long long)file_size, AIC_TOKENS_HEADER_BYTES);
        goto cleanup;
    }
    const uint32_t version = get_le32(head + 4);
    const int32_t count = (int32_t)get_le32(head + 8);
    if (version != AIC_TOKENS_VERSION) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: llm.c shard version %u; aicon reads version %d (uint16 tokens)", path,
                      version, AIC_TOKENS_VERSION);
        goto cleanup;
    }
    const int64_t want = AIC_TOKENS_HEADER_BYTES + 2 * (int64_t)count;
    if (count < 0 || want != file_size) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: header declares %d tokens (a file of %lld bytes) but the file is %lld "
                      "bytes (%s)", path, (int)count, (long long)want, (long long)file_size,
                      count < 0 ? "a corrupt header" : want > file_size ? "truncated" : "bytes after the tokens");
        goto cleanup;
    }
    tokens = malloc((size_t)(count ? count : 1) * sizeof *tokens);
    if (!tokens) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory for %d tokens", path, (int)count);
        goto cleanup;
    }
    for (int64_t at = 0; at < count;) {
        size_t want_now = (size_t)(count - at < (int64_t)sizeof buf / 2 ? count - at : (int64_t)sizeof buf / 2);
        if (fread(buf, 2, want_now, f) != want_now) {
            st = aic_fail(ferror(f) ? AIC_ERR_IO : AIC_ERR_FORMAT, "%s: reading token %lld of %d: %s", path,
                          (long long)at, (int)count,
                          ferror(f) ? strerror(errno) : "the file ended (did it change while read?)");
            goto cleanup;
        }
        for (size_t i = 0; i < want_now; i++)
            tokens[at + (int64_t)i] = (int32_t)(buf[2 * i] | buf[2 * i + 1] << 8);
        at += (int64_t)want_now;
    }
    *out = tokens;
    *n = count;
    tokens = NULL;
cleanup:
    free(tokens);
    fclose(f);
    return st;
}

/* The tokens of the HDF5 file at path (file_size bytes), dataset `tokens`, into *out (*n of them). */
static aic_status read_h5(const char *path, int64_t file_size, int32_t **out, int64_t *n) {
    static const char needs[] = "a token file needs 'tokens': a 1-D array of integer tokens";
    aic_status st = AIC_OK;
    hid_t file = H5I_INVALID_HID, ds = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int32_t *tokens = NULL;
    AIC_TRY(aic_io_h5_probe(path, "the token file", (const char *const[]){"tokens"}, 1));
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot open as HDF5: the file is corrupt or truncated", path);
        goto cleanup;
    }
    AIC_TRY_GOTO(aic_io_h5_open_dataset(file, path, "tokens", needs, &ds));
    type = H5Dget_type(ds);
    if (type < 0 || H5Tget_class(type) != H5T_INTEGER) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: dataset 'tokens' holds %s elements; expected integer tokens", path,
                      type < 0 ? "unreadable" : aic_io_h5_class_name(H5Tget_class(type)));
        goto cleanup;
    }
    hsize_t dims[1];
    int rank = 0;
    AIC_TRY_GOTO(aic_io_h5_dims(ds, path, "tokens", 1, dims, &rank));
    if (rank != 1 || dims[0] > (hsize_t)AIC_DATASET_MAX_FLOATS) {
        st = aic_fail(AIC_ERR_FORMAT, rank != 1 ? "%s: dataset 'tokens' has rank %d; expected a 1-D array of tokens"
                                                : "%s: dataset 'tokens' (rank %d) holds more tokens than aicon reads "
                                                  "(or has a corrupt header)", path, rank);
        goto cleanup;
    }
    AIC_TRY_GOTO(aic_io_h5_check_storage(ds, path, "tokens", dims[0], file_size));
    tokens = malloc((size_t)(dims[0] ? dims[0] : 1) * sizeof *tokens);
    if (!tokens) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory for %llu tokens", path, (unsigned long long)dims[0]);
        goto cleanup;
    }
    /* Converted to int32 as read: a value past its range saturates, and io/dataset.c refuses INT32_MAX. */
    if (dims[0] && H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, tokens) < 0) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: cannot read dataset 'tokens' as int32 (corrupt or truncated file?)", path);
        goto cleanup;
    }
    *out = tokens;
    *n = (int64_t)dims[0];
    tokens = NULL;
cleanup:
    free(tokens);
    AIC_H5_CLOSE(type, ds, file);
    return st;
}

aic_status aic_dataset_load_tokens(aic_dataset_t **out, const char *path, int seq_len) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_tokens: out is NULL");
    *out = NULL;
    if (!path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_tokens: path is NULL");
    if (seq_len < 1)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: sequence length %d; it must be at least 1", path, seq_len);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open the token file: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "%s: is a directory, not a token file", path);

    /* Silence HDF5's error stack printing for this call; restore the caller's handler on the way out. */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int32_t *tokens = NULL;
    int64_t n = 0;
    aic_status st = H5Fis_hdf5(path) > 0 ? read_h5(path, (int64_t)sb.st_size, &tokens, &n)
                                         : read_shard(path, (int64_t)sb.st_size, &tokens, &n);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return st == AIC_OK ? aic_io_dataset_from_tokens(out, path, tokens, n, seq_len) : st;
}

aic_status aic_io_tokens_write_shard(const char *path, const uint16_t *tokens, int64_t n) {
    if (n < 0 || n > INT32_MAX || (n > 0 && !tokens))
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: cannot write %lld tokens as an llm.c shard (at most %d)", path,
                        (long long)n, (int)INT32_MAX);
    const size_t len = AIC_TOKENS_HEADER_BYTES + 2 * (size_t)n;
    uint8_t *buf = calloc(len, 1);
    if (!buf)
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for %lld tokens", path, (long long)n);
    put_le32(buf, AIC_TOKENS_MAGIC);
    put_le32(buf + 4, AIC_TOKENS_VERSION);
    put_le32(buf + 8, (uint32_t)n);
    uint8_t *p = buf + AIC_TOKENS_HEADER_BYTES;
    for (int64_t i = 0; i < n; i++) {
        p[2 * i] = (uint8_t)tokens[i];
        p[2 * i + 1] = (uint8_t)(tokens[i] >> 8);
    }
    aic_status st = aic_atomic_write(path, buf, len, 0644, "the token shard");
    free(buf);
    return st;
}
