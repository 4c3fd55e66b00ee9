// SPDX-License-Identifier: Apache-2.0
/* Token data sets (aic_dataset_load_tokens): llm.c shards (written here byte by byte, and by the
 * writer of aicon tokenize) and HDF5 `tokens` files load as windows of T = 8 whose gather gives each
 * window and the window one token on; damaged files fail naming the file and what is wrong. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "aicon/data.h"
#include "io/tokens.h"
#include "tests/test_tmpdir.h"
#include "tests/test_util.h"

enum { T = 8, NTOK = 5 * T + 4 }; /* five windows, and a tail of three tokens that fills none */
static int32_t g_tok[NTOK];
static int32_t g_max;

/* A failing call must return `want` with a message naming the file and each of the needles. */
static void expect_fail(const char *what, aic_status got, aic_status want, const char *file, const char *needle) {
    const char *msg = aic_last_error();
    bool ok = got == want && strstr(msg, file) && (!needle || strstr(msg, needle));
    if (CHECK_MSG(ok, "%s: got %s (want %s), message \"%s\" (want \"%s\" and \"%s\")", what, aic_status_string(got),
                  aic_status_string(want), msg, file, needle ? needle : ""))
        printf("  ok   %-28s -> %s\n", what, msg);
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An llm.c shard: the header (magic, version, declared count), then `have` of the tokens as uint16,
 * then `extra` zero bytes. */
static const char *write_shard(const char *name, uint32_t magic, uint32_t version, int32_t declared, int have,
                               int extra) {
    const char *path = test_tmp_path(name);
    size_t len = 1024 + 2 * (size_t)have + (size_t)extra;
    uint8_t *buf = calloc(len, 1);
    put_le32(buf, magic);
    put_le32(buf + 4, version);
    put_le32(buf + 8, (uint32_t)declared);
    for (int i = 0; i < have; i++) {
        buf[1024 + 2 * i] = (uint8_t)g_tok[i];
        buf[1024 + 2 * i + 1] = (uint8_t)(g_tok[i] >> 8);
    }
    FILE *f = fopen(path, "wb");
    REQUIRE_MSG(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
    free(buf);
    return path;
}

/* A file holding the first `len` bytes of `data`. */
static const char *write_raw(const char *name, const void *data, size_t len) {
    const char *path = test_tmp_path(name);
    FILE *f = fopen(path, "wb");
    REQUIRE_MSG(f && fwrite(data, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
    return path;
}

/* An HDF5 file with dataset `name` of `rank` dims (n x 1 for rank 2) stored as file_type, from values
 * in memory as mem_type. */
static const char *write_h5(const char *file, const char *name, hid_t file_type, hid_t mem_type, int rank,
                            hsize_t n, const void *values) {
    const char *path = test_tmp_path(file);
    hsize_t dims[2] = {n, 1};
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE_MSG(f >= 0 && ds >= 0 && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0,
                "cannot write %s", path);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
    return path;
}

/* The loaded set is the five windows of g_tok, whatever file it came from. */
static void check_windows(const aic_dataset_t *d, const char *what) {
    printf("  checking %s\n", what);
    if (!CHECK(d != NULL))
        return;
    int64_t shape[6];
    CHECK(aic_dataset_size(d) == 5);
    CHECK(aic_dataset_sample_shape(d, shape) == 1 && shape[0] == T && shape[1] == 1);
    CHECK(aic_dataset_sample_numel(d) == T);
    CHECK(aic_dataset_sample_dtype(d) == AIC_I32);
    CHECK(aic_dataset_label_numel(d) == T);
    CHECK(aic_dataset_token_count(d) == NTOK);
    CHECK(aic_dataset_num_classes(d) == g_max + 1);
    CHECK(aic_dataset_value_scale(d) == 1.0);

    const int64_t idx[3] = {4, 0, 2};
    int32_t x[3 * T], y[3 * T];
    CHECK_OK(aic_dataset_gather(d, idx, 3, x, y));
    int bad = 0;
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < T; t++)
            bad += x[i * T + t] != g_tok[idx[i] * T + t] || y[i * T + t] != g_tok[idx[i] * T + t + 1];
    CHECK_MSG(bad == 0, "%s: %d tokens of the gathered windows differ from the stream", what, bad);
    /* The last window's last label is token 40, the first of the tail. */
    CHECK(y[T - 1] == g_tok[5 * T]);
    int32_t x2[T];
    const int64_t one = 3;
    CHECK_OK(aic_dataset_gather(d, &one, 1, x2, NULL));
    CHECK(memcmp(x2, g_tok + 3 * T, sizeof x2) == 0);
    const int64_t past = 5;
    expect_fail("gather window 5 of 5", aic_dataset_gather(d, &past, 1, x2, NULL), AIC_ERR_INVALID_ARG,
                aic_dataset_source(d), "index 5");

    CHECK_OK(aic_dataset_check_labels(d, g_max + 1));
    char needle[64];
    snprintf(needle, sizeof needle, "is %d, outside the vocabulary of %d", (int)g_max, (int)g_max);
    expect_fail("check_labels below the max", aic_dataset_check_labels(d, g_max), AIC_ERR_FORMAT,
                aic_dataset_source(d), needle);
    double mean, std;
    expect_fail("stats of tokens", aic_dataset_stats(d, &mean, &std), AIC_ERR_INVALID_ARG, aic_dataset_source(d),
                "token data is not normalized");
    expect_fail("normalize tokens", aic_dataset_normalize((aic_dataset_t *)d, 0.0, 1.0), AIC_ERR_INVALID_ARG,
                aic_dataset_source(d), "token data is not normalized");
}

static void test_good(void) {
    printf("good token files\n");
    aic_dataset_t *d = NULL;
    const char *shard = write_shard("good.bin", 20240520, 1, NTOK, NTOK, 0);
    CHECK_OK(aic_dataset_load_tokens(&d, shard, T));
    check_windows(d, "llm.c shard");
    aic_dataset_destroy(d);

    /* The same stream in HDF5, as int64 (h5py's default for Python ints) and as uint16. */
    int64_t t64[NTOK];
    uint16_t t16[NTOK];
    for (int i = 0; i < NTOK; i++) {
        t64[i] = g_tok[i];
        t16[i] = (uint16_t)g_tok[i];
    }
    const char *h64 = write_h5("i64.h5", "tokens", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NTOK, t64);
    CHECK_OK(aic_dataset_load_tokens(&d, h64, T));
    check_windows(d, "HDF5 int64 tokens");
    aic_dataset_destroy(d);
    const char *h16 = write_h5("u16.h5", "tokens", H5T_STD_U16BE, H5T_NATIVE_UINT16, 1, NTOK, t16);
    CHECK_OK(aic_dataset_load_tokens(&d, h16, T));
    check_windows(d, "HDF5 big-endian uint16 tokens");
    aic_dataset_destroy(d);

    /* What aicon tokenize writes reads back as the same stream. */
    uint16_t t16le[NTOK];
    for (int i = 0; i < NTOK; i++)
        t16le[i] = (uint16_t)g_tok[i];
    const char *written = test_tmp_path("written.bin");
    CHECK_OK(aic_io_tokens_write_shard(written, t16le, NTOK));
    CHECK_OK(aic_dataset_load_tokens(&d, written, T));
    check_windows(d, "a shard of aic_io_tokens_write_shard");
    aic_dataset_destroy(d);

    /* Exactly T + 1 tokens make one window; T = 1 makes a window of each token but the last. */
    const char *min = write_shard("min.bin", 20240520, 1, T + 1, T + 1, 0);
    CHECK_OK(aic_dataset_load_tokens(&d, min, T));
    CHECK(aic_dataset_size(d) == 1 && aic_dataset_token_count(d) == T + 1);
    aic_dataset_destroy(d);
    CHECK_OK(aic_dataset_load_tokens(&d, shard, 1));
    CHECK(aic_dataset_size(d) == NTOK - 1);
    aic_dataset_destroy(d);
}

static void test_damaged(void) {
    printf("damaged token files\n");
    aic_dataset_t *d = (aic_dataset_t *)&d;
    const char *p;
    p = write_shard("magic.bin", 20240521, 1, NTOK, NTOK, 0);
    expect_fail("bad magic", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "bad magic 20240521");
    CHECK(d == NULL);
    p = write_shard("version.bin", 20240520, 2, NTOK, NTOK, 0);
    expect_fail("version 2", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "version 2");
    p = write_shard("truncated.bin", 20240520, 1, NTOK, NTOK - 3, 0);
    expect_fail("truncated tokens", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "truncated");
    p = write_shard("extra.bin", 20240520, 1, NTOK, NTOK, 2);
    expect_fail("bytes after the tokens", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p,
                "bytes after the tokens");
    p = write_shard("negative.bin", 20240520, 1, -4, 0, 0);
    expect_fail("negative count", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "declares -4 tokens");
    uint8_t head[600] = {0};
    put_le32(head, 20240520);
    put_le32(head + 4, 1);
    p = write_raw("short_header.bin", head, sizeof head);
    expect_fail("header cut short", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "ends inside");
    p = write_raw("empty.bin", head, 0);
    expect_fail("empty file", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "0 bytes");
    p = write_shard("few.bin", 20240520, 1, T, T, 0);
    expect_fail("T tokens for T = 8", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p,
                "holds 8 tokens; a window of sequence length 8 needs 9");
    expect_fail("sequence length 0", aic_dataset_load_tokens(&d, p, 0), AIC_ERR_INVALID_ARG, p, "sequence length 0");
    expect_fail("missing file", aic_dataset_load_tokens(&d, test_tmp_path("none.bin"), T), AIC_ERR_IO, "none.bin",
                "No such file");

    int64_t t64[NTOK];
    for (int i = 0; i < NTOK; i++)
        t64[i] = g_tok[i];
    p = write_h5("no_tokens.h5", "x", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NTOK, t64);
    expect_fail("HDF5 without tokens", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "no dataset 'tokens'");
    p = write_h5("rank2.h5", "tokens", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, NTOK, t64);
    expect_fail("HDF5 tokens N x 1", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "rank 2");
    float tf[NTOK] = {0};
    p = write_h5("float.h5", "tokens", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, NTOK, tf);
    expect_fail("HDF5 float tokens", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "floating-point");
    t64[17] = -1;
    p = write_h5("negative.h5", "tokens", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NTOK, t64);
    expect_fail("HDF5 token -1", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "token 17 is -1");
    t64[17] = (int64_t)1 << 33; /* saturates to INT32_MAX as read, and is refused */
    p = write_h5("huge.h5", "tokens", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, NTOK, t64);
    expect_fail("HDF5 token 2^33", aic_dataset_load_tokens(&d, p, T), AIC_ERR_FORMAT, p, "token 17 is 2147483647");
    CHECK(d == NULL);
}

int main(void) {
    if (test_tmp_make("aicon_test_tokens") != 0)
        return 2;
    /* Tokens past 255 and past 32767: the uint16 is read whole and unsigned. */
    for (int i = 0; i < NTOK; i++) {
        g_tok[i] = (int32_t)((i * 7919 + 13) % 65536);
        if (g_tok[i] > g_max)
            g_max = g_tok[i];
    }
    test_good();
    test_damaged();
    test_tmp_remove();
    return test_report("io_tokens");
}
