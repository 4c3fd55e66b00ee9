// SPDX-License-Identifier: Apache-2.0
/* IDX files (the MNIST layout), plain or gzip-compressed, and the MNIST-style directory loader.
 *
 * An IDX file is a 4-byte big-endian magic 0x0000TTRR (TT: element type, 0x08 = unsigned byte;
 * RR: rank), RR big-endian uint32 dimensions, then the elements in row-major order. zlib's gzread
 * reads gzip and plain files alike, so the format is taken from the content, never the name.
 *
 * Nothing the header declares is allocated until the data is known to be there: a plain file's size
 * is checked against the header first, and gzip data is read into a buffer grown as it arrives. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "io/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"

#define IDX_TYPE_U8 0x08
#define IDX_MAX_RANK 3
#define IDX_FIRST_CHUNK ((int64_t)1 << 20) /* first buffer for gzip data; doubled as data arrives */
#define IDX_GZ_BUFFER (1u << 17)

typedef struct {
    int rank;
    int64_t dims[IDX_MAX_RANK];
    uint8_t *data; /* product(dims) bytes */
} idx_array;

static const char *idx_type_name(unsigned t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return "unknown type";
}

static uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read up to len bytes. Returns the bytes read; fewer than len means end of data, clean when *zerr is
 * NULL, else *zerr is zlib's message (and *zerrno its code: Z_ERRNO for a system read error). */
static int64_t gz_read_upto(gzFile gz, const char *path, void *buf, int64_t len, const char **zerr,
                            int *zerrno) {
    int64_t got = 0;
    *zerr = NULL;
    *zerrno = Z_OK;
    while (got < len) {
        int64_t want = len - got;
        unsigned ask = want > (1 << 30) ? 1u << 30 : (unsigned)want;
        int r = gzread(gz, (uint8_t *)buf + got, ask);
        if (r <= 0)
            break;
        got += r;
    }
    if (got < len) {
        int errnum = Z_OK;
        const char *msg = gzerror(gz, &errnum);
        if (errnum != Z_OK) {
            *zerrno = errnum;
            /* zlib's message starts with the path; ours already does. */
            size_t plen = strlen(path);
            if (msg && strncmp(msg, path, plen) == 0 && msg[plen] == ':' && msg[plen + 1] == ' ')
                msg += plen + 2;
            *zerr = errnum == Z_ERRNO ? strerror(errno) : msg;
        }
    }
    return got;
}

/* The header's claim in words, for messages: "60000 images of 28x28 (47040000 bytes)". */
static void describe_claim(char *buf, size_t size, const idx_array *a, int64_t total) {
    if (a->rank == 3)
        snprintf(buf, size, "%lld images of %lldx%lld (%lld bytes)", (long long)a->dims[0], (long long)a->dims[1],
                 (long long)a->dims[2], (long long)total);
    else
        snprintf(buf, size, "%lld labels (%lld bytes)", (long long)a->dims[0], (long long)total);
}

/* Read an unsigned-byte IDX file of rank want_rank (3: images, 1: labels) into *a. */
static aic_status idx_read(const char *path, int want_rank, idx_array *a) {
    const char *what = want_rank == 3 ? "images" : "labels";
    aic_status st = AIC_OK;
    gzFile gz = NULL;
    uint8_t *buf = NULL;
    memset(a, 0, sizeof *a);

    struct stat sb;
    if (stat(path, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open IDX %s file: %s", path, what, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "%s: is a directory, not an IDX %s file", path, what);
    errno = 0;
    gz = gzopen(path, "rb");
    if (!gz) {
        if (errno == 0)
            return aic_fail(AIC_ERR_NOMEM, "%s: out of memory opening the file", path);
        return aic_fail(AIC_ERR_IO, "%s: cannot open IDX %s file: %s", path, what, strerror(errno));
    }
    gzbuffer(gz, IDX_GZ_BUFFER);

    const char *zerr;
    int zerrno;
    uint8_t head[4 + 4 * IDX_MAX_RANK];
    int64_t got = gz_read_upto(gz, path, head, 4, &zerr, &zerrno);
    if (got < 4) {
        if (zerr)
            st = aic_fail(zerrno == Z_ERRNO ? AIC_ERR_IO : AIC_ERR_FORMAT, "%s: cannot read the IDX header: %s",
                          path, zerr);
        else if (got == 0)
            st = aic_fail(AIC_ERR_FORMAT, "%s: file is empty (expected an IDX %s file)", path, what);
        else
            st = aic_fail(AIC_ERR_FORMAT, "%s: file ends after %lld bytes, inside the 4-byte IDX magic", path,
                          (long long)got);
        goto cleanup;
    }
    uint32_t magic = load_be32(head), want = (uint32_t)IDX_TYPE_U8 << 8 | (uint32_t)want_rank;
    if (magic != want) {
        char hint[160] = "";
        if (magic >> 16 == 0)
            snprintf(hint, sizeof hint, "; this is an IDX file of %s elements and rank %u%s",
                     idx_type_name(magic >> 8 & 0xff), magic & 0xff,
                     magic == ((uint32_t)IDX_TYPE_U8 << 8 | 1u) ? " (a labels file?)"
                     : magic == ((uint32_t)IDX_TYPE_U8 << 8 | 3u) ? " (an images file?)" : "");
        else
            snprintf(hint, sizeof hint, "; this is not an IDX file");
        st = aic_fail(AIC_ERR_FORMAT, "%s: bad magic 0x%08x (expected 0x%08x for unsigned-byte %s of rank %d)%s",
                      path, magic, want, what, want_rank, hint);
        goto cleanup;
    }
    int64_t head_len = 4 + 4 * (int64_t)want_rank;
    got = gz_read_upto(gz, path, head + 4, head_len - 4, &zerr, &zerrno);
    if (got < head_len - 4) {
        if (zerr)
            st = aic_fail(zerrno == Z_ERRNO ? AIC_ERR_IO : AIC_ERR_FORMAT, "%s: cannot read the IDX header: %s",
                          path, zerr);
        else
            st = aic_fail(AIC_ERR_FORMAT, "%s: file ends inside the IDX header (%lld of %lld bytes)", path,
                          (long long)(4 + got), (long long)head_len);
        goto cleanup;
    }

    a->rank = want_rank;
    int64_t total = 1;
    for (int i = 0; i < want_rank; i++) {
        a->dims[i] = load_be32(head + 4 + 4 * i);
        if (a->dims[i] == 0) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: IDX header has dimension %d of size 0 (%s file with no data)", path,
                          i, what);
            goto cleanup;
        }
        /* Checked before multiplying: two dimensions near 2^32 overflow int64 (UBSan, found by idx_fuzz). */
        if (a->dims[i] > AIC_DATASET_MAX_FLOATS / total) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: IDX header declares more than %lld values (%s); the header is "
                          "corrupt or the file is too large for aicon", path, (long long)AIC_DATASET_MAX_FLOATS,
                          what);
            goto cleanup;
        }
        total *= a->dims[i];
    }
    char claim[128];
    describe_claim(claim, sizeof claim, a, total);

    /* Plain file: its size must cover the header's claim before anything is allocated. */
    bool plain = gzdirect(gz) != 0;
    int64_t cap = total < IDX_FIRST_CHUNK ? total : IDX_FIRST_CHUNK;
    if (plain && S_ISREG(sb.st_mode)) {
        int64_t avail = (int64_t)sb.st_size - head_len;
        if (avail < total) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: header says %s but the file holds only %lld bytes of data", path,
                          claim, (long long)(avail < 0 ? 0 : avail));
            goto cleanup;
        }
        cap = total;
    }

    /* Read, growing the buffer as data arrives; a compressed stream proves its length only by delivering. */
    int64_t have = 0;
    buf = malloc((size_t)cap);
    if (!buf) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory reading %lld bytes", path, (long long)cap);
        goto cleanup;
    }
    for (;;) {
        got = gz_read_upto(gz, path, buf + have, cap - have, &zerr, &zerrno);
        have += got;
        if (have < cap || have == total)
            break;
        int64_t next = cap * 2 < total ? cap * 2 : total;
        uint8_t *grown = realloc(buf, (size_t)next);
        if (!grown) {
            st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory reading %lld bytes", path, (long long)next);
            goto cleanup;
        }
        buf = grown;
        cap = next;
    }
    if (have < total) {
        if (zerr)
            st = aic_fail(zerrno == Z_ERRNO ? AIC_ERR_IO : AIC_ERR_FORMAT,
                          "%s: header says %s but reading stopped after %lld bytes of data: %s%s", path, claim,
                          (long long)have, zerr, plain ? "" : " (truncated or corrupt gzip data)");
        else
            st = aic_fail(AIC_ERR_FORMAT, "%s: header says %s but the %s holds only %lld bytes of data", path, claim,
                          plain ? "file" : "decompressed data", (long long)have);
        goto cleanup;
    }
    /* Trailing bytes after the declared data are ignored. */
    a->data = buf;
    buf = NULL;

cleanup:
    free(buf);
    if (gz)
        gzclose(gz);
    return st;
}

aic_status aic_dataset_load_idx(aic_dataset_t **out, const char *images_path, const char *labels_path) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_idx: out is NULL");
    *out = NULL;
    if (!images_path || !labels_path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_idx: %s path is NULL",
                        !images_path ? "images" : "labels");

    aic_status st = AIC_OK;
    aic_dataset_t *d = NULL;
    idx_array im = {0}, lb = {0};
    AIC_TRY_GOTO(idx_read(images_path, 3, &im));
    AIC_TRY_GOTO(idx_read(labels_path, 1, &lb));
    if (lb.dims[0] != im.dims[0]) {
        st = aic_fail(AIC_ERR_MISMATCH, "%s: labels file has %lld labels but images file %s has %lld images",
                      labels_path, (long long)lb.dims[0], images_path, (long long)im.dims[0]);
        goto cleanup;
    }

    int64_t shape[3] = {1, im.dims[1], im.dims[2]};
    AIC_TRY_GOTO(aic_io_dataset_alloc(&d, images_path, labels_path, im.dims[0], 3, shape));
    float scale[256];
    for (int v = 0; v < 256; v++)
        scale[v] = (float)v / 255.0f;
    d->value_scale = 1.0 / 255.0;
    int64_t count = d->n * d->numel;
    for (int64_t i = 0; i < count; i++)
        d->x[i] = scale[im.data[i]];
    for (int64_t i = 0; i < d->n; i++)
        d->y[i] = lb.data[i];
    AIC_TRY_GOTO(aic_io_dataset_finish_labels(d));
    *out = d;
    d = NULL;

cleanup:
    aic_dataset_destroy(d);
    free(im.data);
    free(lb.data);
    return st;
}

/* dir/base.gz if it exists, else dir/base; *out is malloc'ed. */
static aic_status find_idx_file(const char *dir, const char *base, char **out) {
    static const char *const suffixes[] = {".gz", ""};
    *out = NULL;
    size_t len = strlen(dir) + strlen(base) + 8;
    for (int k = 0; k < 2; k++) {
        char *p = malloc(len);
        if (!p)
            return aic_fail(AIC_ERR_NOMEM, "%s: out of memory", dir);
        snprintf(p, len, "%s/%s%s", dir, base, suffixes[k]);
        struct stat sb;
        if (stat(p, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode)) {
                *out = p;
                return AIC_OK;
            }
        } else if (errno != ENOENT && errno != ENOTDIR) {
            aic_status st = aic_fail(AIC_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
            free(p);
            return st;
        }
        free(p);
    }
    return aic_fail(AIC_ERR_IO, "%s: no %s.gz or %s in this directory (expected the four MNIST-layout files "
                    "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                    "t10k-labels-idx1-ubyte, each optionally .gz)", dir, base, base);
}

static aic_status load_split(const char *dir, const char *prefix, aic_dataset_t **out) {
    char images_base[64], labels_base[64];
    snprintf(images_base, sizeof images_base, "%s-images-idx3-ubyte", prefix);
    snprintf(labels_base, sizeof labels_base, "%s-labels-idx1-ubyte", prefix);
    char *images = NULL, *labels = NULL;
    aic_status st = AIC_OK;
    AIC_TRY_GOTO(find_idx_file(dir, images_base, &images));
    AIC_TRY_GOTO(find_idx_file(dir, labels_base, &labels));
    st = aic_dataset_load_idx(out, images, labels);
cleanup:
    free(images);
    free(labels);
    return st;
}

aic_status aic_dataset_load_idx_dir(const char *dir, aic_dataset_t **train, aic_dataset_t **test) {
    if (!train)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_idx_dir: train is NULL");
    *train = NULL;
    if (test)
        *test = NULL;
    if (!dir)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_dataset_load_idx_dir: dir is NULL");
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open data directory: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "%s: not a directory (expected a directory holding the IDX files)", dir);

    AIC_TRY(load_split(dir, "train", train));
    if (test) {
        aic_status st = load_split(dir, "t10k", test);
        if (st != AIC_OK) {
            aic_dataset_destroy(*train);
            *train = NULL;
            return st;
        }
    }
    return AIC_OK;
}
