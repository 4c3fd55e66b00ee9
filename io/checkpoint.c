// SPDX-License-Identifier: Apache-2.0
/* HDF5 checkpoints: one dataset per tensor, written by aic_atomic_write. */
#include <ctype.h>
#include <errno.h>
#include <hdf5.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aicon/checkpoint.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/graph.h"
#include "io/checkpoint_snapshot.h"
#include "io/h5describe.h"

/* Format 2 added it to every tensor's dataset; format 1 files have none and load unverified. */
#define CHECKSUM_ATTR "sha256"
/* Steps, epochs and the global batch past this are a damaged file, not a run: 2^48 steps at 10^4 a
 * second would take 900 years. */
#define MAX_COUNT ((int64_t)1 << 48)

/* HDF5 treats '/' as a path separator; '%' escapes it so any tensor name (ONNX ones too) survives. */
static void escape_name(char *dst, size_t size, const char *name) {
    size_t j = 0;
    for (const char *p = name; *p && j + 4 < size; p++) {
        if (*p == '/' || *p == '%')
            j += (size_t)snprintf(dst + j, size - j, "%%%02X", (unsigned char)*p);
        else
            dst[j++] = *p;
    }
    dst[j] = '\0';
}

static int64_t numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

/* The attribute CHECKSUM_ATTR of a tensor's dataset: hex SHA-256 of its values as float32 in memory,
 * which on the little-endian hosts aicon runs on are the bytes h5py's astype("<f4").tobytes() gives. */
static bool tensor_sha256(const float *data, int64_t n, uint8_t md[32]) {
    unsigned int len = 0;
    return EVP_Digest(data, sizeof(float) * (size_t)n, md, &len, EVP_sha256(), NULL) && len == 32;
}

static const char *optim_name(const aic_optim_t *o) {
    if (!o)
        return "none";
    switch (aic_optim_config_of(o)->kind) {
    case AIC_OPTIM_SGD: return "sgd";
    case AIC_OPTIM_ADAM: return "adam";
    case AIC_OPTIM_ADAMW: return "adamw";
    }
    return "none";
}

/* ---- writing ---------------------------------------------------------------------------------- */

static herr_t write_attr_str(hid_t loc, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    herr_t rc = -1;
    if (type >= 0 && space >= 0 && H5Tset_size(type, strlen(value) + 1) >= 0) {
        attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (attr >= 0)
            rc = H5Awrite(attr, type, value);
    }
    AIC_H5_CLOSE(attr, space, type);
    return rc;
}

/* A scalar int64, as an attribute of loc or as a dataset in it. */
static herr_t write_i64(hid_t loc, const char *name, int64_t value, bool attribute) {
    hid_t space = H5Screate(H5S_SCALAR), obj = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        obj = attribute ? H5Acreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT)
                        : H5Dcreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (obj >= 0)
        rc = attribute ? H5Awrite(obj, H5T_NATIVE_INT64, &value)
                       : H5Dwrite(obj, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    AIC_H5_CLOSE(obj, space);
    return rc;
}

static herr_t write_attr_f64(hid_t loc, const char *name, double value) {
    hid_t space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        attr = H5Acreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0)
        rc = H5Awrite(attr, H5T_NATIVE_DOUBLE, &value);
    AIC_H5_CLOSE(attr, space);
    return rc;
}

/* /preprocess: left out when unknown, so that such a checkpoint reads back as unknown. */
static herr_t write_preprocess(hid_t f, const aic_preprocess *p) {
    if (p->kind == AIC_PREPROCESS_UNKNOWN)
        return 0;
    hid_t g = H5Gcreate2(f, "preprocess", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    herr_t rc = write_attr_str(g, "kind", aic_preprocess_name(p->kind));
    if (rc >= 0 && p->kind == AIC_PREPROCESS_STANDARDIZE)
        rc = write_attr_f64(g, "mean", p->mean) < 0 || write_attr_f64(g, "std", p->std) < 0 ? -1 : 0;
    H5Gclose(g);
    return rc;
}

/* ---- snapshots: what a checkpoint holds, in the file's order ----------------------------------- */

enum { IN_PARAMS, IN_BUFFERS, IN_OPTIMIZER, IN_EXTRA };
static const char *const group_names[] = {"params", "buffers", "optimizer", "extra"};
/* SGD has one slot, Adam two. */
enum { MAX_SLOTS = 4 };

typedef struct {
    int group, slot; /* slot: the optimizer's, in group IN_OPTIMIZER */
    char name[AIC_MAX_NAME];
    int ndim;
    int64_t shape[AIC_MAX_DIMS];
    const float *data;
    uint8_t sha[32];
} snap_tensor;

struct aic_checkpoint_snapshot {
    char *model_name;
    char model_hash[65];
    const char *optimizer;
    char slot_names[MAX_SLOTS][32];
    int n_slots;
    bool has_state;
    aic_train_state st;
    int64_t optim_steps;
    snap_tensor *tensors;
    int n_tensors, cap_tensors;
    size_t n_floats;
    float *values; /* the copies (NULL: borrowed) */
    size_t cap_values;
    bool hashed;
};

/* src, or where its n values were copied (*dst then moves past them). */
static const float *keep(float **dst, const float *src, size_t n) {
    if (!*dst || n == 0)
        return src;
    const float *at = *dst;
    memcpy(*dst, src, sizeof(float) * n);
    *dst += n;
    return at;
}

static void add_tensor(aic_checkpoint_snapshot *s, int group, int slot, const char *name, int ndim,
                       const int64_t *shape, const float *data) {
    snap_tensor *t = &s->tensors[s->n_tensors++];
    t->group = group, t->slot = slot, t->ndim = ndim, t->data = data;
    snprintf(t->name, sizeof t->name, "%s", name);
    memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
}

static aic_status take_tensors(aic_checkpoint_snapshot *s, aic_model_t *m, aic_optim_t *o,
                               const aic_checkpoint_extra *extra, int n_extra, bool copy) {
    const size_t n_params = aic_model_num_params(m), n_buffers = aic_model_num_buffers(m);
    s->n_floats = n_params * (size_t)(1 + s->n_slots) + n_buffers;
    for (int i = 0; i < n_extra; i++)
        s->n_floats += (size_t)(extra[i].rows * extra[i].cols);
    const int count = aic_model_param_count(m) * (1 + s->n_slots) + aic_model_buffer_count(m) + n_extra;
    if (count > s->cap_tensors) {
        snap_tensor *t = realloc(s->tensors, sizeof *t * (size_t)count);
        if (!t)
            return aic_fail(AIC_ERR_NOMEM, "checkpoint: out of memory for %d tensors", count);
        s->tensors = t, s->cap_tensors = count;
    }
    if (copy && s->n_floats > s->cap_values) {
        free(s->values);
        s->cap_values = 0;
        if (!(s->values = malloc(sizeof(float) * s->n_floats)))
            return aic_fail(AIC_ERR_NOMEM, "checkpoint: out of memory for a copy of %zu values", s->n_floats);
        s->cap_values = s->n_floats;
    }
    float *dst = copy ? s->values : NULL;
    s->n_tensors = 0;
    aic_tensor t;
    /* Parameters and each slot are laid out as the parameter arena: the same offsets name the same tensors. */
    const float *base = aic_model_params(m), *params = keep(&dst, base, n_params);
    for (int i = 0; i < aic_model_param_count(m); i++) {
        AIC_TRY(aic_model_param(m, i, &t, NULL));
        add_tensor(s, IN_PARAMS, 0, t.name, t.ndim, t.shape, params + ((const float *)t.data - base));
    }
    const float *buffers_base = aic_model_buffers(m), *buffers = keep(&dst, buffers_base, n_buffers);
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        AIC_TRY(aic_model_buffer(m, i, &t));
        add_tensor(s, IN_BUFFERS, 0, t.name, t.ndim, t.shape, buffers + ((const float *)t.data - buffers_base));
    }
    for (int k = 0; k < s->n_slots; k++) {
        const char *slot_name;
        float *slot_base;
        AIC_TRY(aic_optim_slot(o, k, &slot_name, &slot_base));
        snprintf(s->slot_names[k], sizeof s->slot_names[k], "%s", slot_name);
        const float *slot = keep(&dst, slot_base, n_params);
        for (int i = 0; i < aic_model_param_count(m); i++) {
            AIC_TRY(aic_model_param(m, i, &t, NULL));
            add_tensor(s, IN_OPTIMIZER, k, t.name, t.ndim, t.shape, slot + ((const float *)t.data - base));
        }
    }
    for (int i = 0; i < n_extra; i++)
        add_tensor(s, IN_EXTRA, 0, extra[i].name, 2, (const int64_t[]){extra[i].rows, extra[i].cols},
                   keep(&dst, extra[i].data, (size_t)(extra[i].rows * extra[i].cols)));
    return AIC_OK;
}

aic_status aic_checkpoint_snapshot_take(aic_checkpoint_snapshot **snap, aic_model_t *m, aic_optim_t *o,
                                        const aic_train_state *st, const aic_checkpoint_extra *extra,
                                        int n_extra, bool copy) {
    if (!snap || !m || n_extra < 0 || (n_extra && !extra))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_save: NULL argument");
    for (int i = 0; i < n_extra; i++)
        if (!extra[i].name || !extra[i].data || extra[i].rows < 1 || extra[i].cols < 1)
            return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_save_with: extra array %d has no name, data or "
                            "size", i);
    /* Stored as int64, and read back only when not negative. */
    if (st && st->seed > (uint64_t)INT64_MAX)
        return aic_fail(AIC_ERR_INVALID_ARG, "seed %llu does not fit a checkpoint (at most 2^63 - 1)",
                        (unsigned long long)st->seed);
    if (aic_optim_slot_count(o) > MAX_SLOTS)
        return aic_fail(AIC_ERR_INTERNAL, "checkpoint: an optimizer of %d slots", aic_optim_slot_count(o));
    aic_checkpoint_snapshot *s = *snap ? *snap : calloc(1, sizeof *s);
    if (!s)
        return aic_fail(AIC_ERR_NOMEM, "checkpoint: out of memory");
    *snap = s;
    uint8_t hash[32];
    AIC_TRY(aic_model_arch_hash(m, hash));
    aic_hex(hash, 32, s->model_hash);
    free(s->model_name);
    if (!(s->model_name = strdup(aic_model_name(m))))
        return aic_fail(AIC_ERR_NOMEM, "checkpoint: out of memory");
    s->optimizer = optim_name(o);
    s->n_slots = aic_optim_slot_count(o);
    s->optim_steps = aic_optim_steps(o);
    s->has_state = st != NULL;
    s->st = st ? *st : (aic_train_state){0};
    s->hashed = false;
    return take_tensors(s, m, o, extra, n_extra, copy);
}

static aic_status hash_tensors(aic_checkpoint_snapshot *s) {
    for (int i = 0; !s->hashed && i < s->n_tensors; i++) {
        snap_tensor *t = &s->tensors[i];
        if (!tensor_sha256(t->data, numel_of(t->ndim, t->shape), t->sha))
            return aic_fail(AIC_ERR_INTERNAL, "checkpoint: cannot compute the SHA-256 of %s (OpenSSL)", t->name);
    }
    s->hashed = true;
    return AIC_OK;
}

/* A tensor's dataset in the file: "params/conv1.weight", "optimizer/momentum/conv1.weight". */
typedef struct {
    char path[3 * AIC_MAX_NAME + 64];
    int index;
} dataset_path;

static int by_path(const void *a, const void *b) {
    return strcmp(((const dataset_path *)a)->path, ((const dataset_path *)b)->path);
}

aic_status aic_checkpoint_snapshot_digest(aic_checkpoint_snapshot *s, uint8_t out[32]) {
    AIC_TRY(hash_tensors(s));
    dataset_path *order = malloc(sizeof *order * (size_t)(s->n_tensors ? s->n_tensors : 1));
    if (!order)
        return aic_fail(AIC_ERR_NOMEM, "checkpoint: out of memory for the state's digest");
    for (int i = 0; i < s->n_tensors; i++) {
        const snap_tensor *t = &s->tensors[i];
        char esc[3 * AIC_MAX_NAME + 1];
        escape_name(esc, sizeof esc, t->name);
        snprintf(order[i].path, sizeof order[i].path, "%s/%s%s%s", group_names[t->group],
                 t->group == IN_OPTIMIZER ? s->slot_names[t->slot] : "", t->group == IN_OPTIMIZER ? "/" : "", esc);
        order[i].index = i;
    }
    /* The datasets' order by name, as anyone holding only the file can list them (h5py: sorted keys). */
    qsort(order, (size_t)s->n_tensors, sizeof *order, by_path);
    static const char tag[] = "aicon-state-2";
    const int64_t counters[5] = {s->optim_steps, s->st.step, s->st.epoch, (int64_t)s->st.seed, s->st.global_batch};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, tag, sizeof tag - 1);
    for (int i = 0; ok && i < s->n_tensors; i++)
        ok = EVP_DigestUpdate(ctx, s->tensors[order[i].index].sha, 32);
    unsigned int len = 0;
    ok = ok && EVP_DigestUpdate(ctx, counters, sizeof counters) && EVP_DigestFinal_ex(ctx, out, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    free(order);
    return ok ? AIC_OK : aic_fail(AIC_ERR_INTERNAL, "checkpoint: SHA-256 failed in libcrypto");
}

bool aic_checkpoint_threads_ok(void) {
    hbool_t safe = 0;
    return H5is_library_threadsafe(&safe) >= 0 && safe;
}

void aic_checkpoint_snapshot_free(aic_checkpoint_snapshot *s) {
    if (!s)
        return;
    free(s->model_name);
    free(s->tensors);
    free(s->values);
    free(s);
}

static herr_t write_tensor(hid_t group, const snap_tensor *t) {
    char esc[3 * AIC_MAX_NAME + 1];
    escape_name(esc, sizeof esc, t->name);
    hsize_t dims[AIC_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        dims[i] = (hsize_t)t->shape[i];
    hid_t space = t->ndim ? H5Screate_simple(t->ndim, dims, NULL) : H5Screate(H5S_SCALAR), ds = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        ds = H5Dcreate2(group, esc, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char sum[65];
    aic_hex(t->sha, 32, sum);
    if (ds >= 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0)
        rc = write_attr_str(ds, CHECKSUM_ATTR, sum);
    AIC_H5_CLOSE(ds, space);
    return rc;
}

/* The snapshot's tensors hashed (hash_tensors) into f. */
static herr_t write_contents(hid_t f, const aic_checkpoint_snapshot *s) {
    if (write_i64(f, "format_version", AIC_CHECKPOINT_FORMAT_VERSION, true) < 0 ||
        write_attr_str(f, "model_name", s->model_name) < 0 || write_attr_str(f, "model_hash", s->model_hash) < 0 ||
        write_attr_str(f, "optimizer", s->optimizer) < 0 ||
        write_attr_str(f, "aicon_version", aic_version_string()) < 0)
        return -1;
    const bool any_extra = s->n_tensors > 0 && s->tensors[s->n_tensors - 1].group == IN_EXTRA;
    hid_t groups[IN_EXTRA + 1] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    hid_t slots[MAX_SLOTS], state;
    herr_t rc = 0;
    for (int g = 0; g < (any_extra ? IN_EXTRA + 1 : IN_EXTRA); g++)
        if ((groups[g] = H5Gcreate2(f, group_names[g], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            rc = -1;
    for (int k = 0; k < s->n_slots; k++)
        if ((slots[k] = rc < 0 ? H5I_INVALID_HID
                               : H5Gcreate2(groups[IN_OPTIMIZER], s->slot_names[k], H5P_DEFAULT, H5P_DEFAULT,
                                            H5P_DEFAULT)) < 0)
            rc = -1;
    for (int i = 0; rc >= 0 && i < s->n_tensors; i++) {
        const snap_tensor *t = &s->tensors[i];
        rc = write_tensor(t->group == IN_OPTIMIZER ? slots[t->slot] : groups[t->group], t);
    }
    const aic_train_state *st = &s->st;
    state = rc < 0 ? H5I_INVALID_HID : H5Gcreate2(f, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (state < 0 || write_i64(state, "step", st->step, false) < 0 || write_i64(state, "epoch", st->epoch, false) < 0 ||
        write_i64(state, "seed", (int64_t)st->seed, false) < 0 ||
        write_i64(state, "global_batch", st->global_batch, false) < 0 ||
        write_i64(state, "optimizer_steps", s->optim_steps, false) < 0)
        rc = -1;
    if (rc >= 0 && st->usage_seq) {
        char job_hex[65];
        aic_hex(st->usage_job, 32, job_hex);
        if (write_i64(state, "usage_seq", (int64_t)st->usage_seq, false) < 0 ||
            write_attr_str(state, "usage_job", job_hex) < 0)
            rc = -1;
    }
    if (rc >= 0 && s->has_state && write_preprocess(f, &st->preprocess) < 0)
        rc = -1;
    aic_io_h5_close(slots, (size_t)s->n_slots);
    AIC_H5_CLOSE(state, groups[IN_EXTRA], groups[IN_OPTIMIZER], groups[IN_BUFFERS], groups[IN_PARAMS]);
    return rc;
}

/* HDF5 prints its error stack to stderr by default; aicon reports failures itself, so the stack is
 * silenced for the duration of a call and the caller's handler put back afterwards. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static h5_quiet h5_quiet_begin(void) {
    h5_quiet q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void h5_quiet_end(h5_quiet q) {
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

/* HDF5 builds the file in memory (the core driver, no backing store) and aicon writes the image
 * itself: a full disk or a failing device is then one failed write(2) with its errno, never an HDF5
 * file left half-flushed (HDF5 1.10 crashes at exit closing a file whose close failed). */
static aic_status save_quiet(const char *path, const aic_checkpoint_snapshot *snap) {
    /* One allocation of about the final size: growing by small steps would copy the image each time. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, sizeof(float) * snap->n_floats + ((size_t)1 << 20), 0) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return aic_fail(AIC_ERR_IO, "%s: cannot set up the checkpoint (HDF5 core driver)", path);
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return aic_fail(AIC_ERR_NOMEM, "%s: cannot create the checkpoint in memory", path);
    ssize_t size = -1;
    unsigned char *image = NULL;
    /* HDF5 1.10's H5Fget_file_image leaves object headers out of the image unless flushed first. */
    if (write_contents(f, snap) >= 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 &&
        (size = H5Fget_file_image(f, NULL, 0)) > 0 &&
        (image = malloc((size_t)size)) && H5Fget_file_image(f, image, (size_t)size) != size)
        size = -1;
    H5Fclose(f);
    if (size <= 0 || !image) {
        free(image);
        return aic_fail(size > 0 ? AIC_ERR_NOMEM : AIC_ERR_IO, "%s: building the checkpoint failed (%s)", path,
                        size > 0 ? "out of memory" : "HDF5 error");
    }
    aic_status s = aic_atomic_write(path, image, (size_t)size, 0644, "the checkpoint");
    free(image);
    return s;
}

aic_status aic_checkpoint_snapshot_save(const char *path, aic_checkpoint_snapshot *snap) {
    if (!path || !snap)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_save: NULL argument");
    AIC_TRY(hash_tensors(snap));
    h5_quiet q = h5_quiet_begin();
    aic_status s = save_quiet(path, snap);
    h5_quiet_end(q);
    return s;
}

aic_status aic_checkpoint_save(const char *path, aic_model_t *m, aic_optim_t *o, const aic_train_state *st) {
    return aic_checkpoint_save_with(path, m, o, st, NULL, 0);
}

aic_status aic_checkpoint_save_with(const char *path, aic_model_t *m, aic_optim_t *o, const aic_train_state *st,
                                    const aic_checkpoint_extra *extra, int n_extra) {
    if (!path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_save: NULL argument");
    aic_checkpoint_snapshot *snap = NULL;
    aic_status s = aic_checkpoint_snapshot_take(&snap, m, o, st, extra, n_extra, false);
    if (s == AIC_OK)
        s = aic_checkpoint_snapshot_save(path, snap);
    else /* the caller's mistakes name the file */
        s = aic_fail(s, "%s: %s", path, aic_last_error());
    aic_checkpoint_snapshot_free(snap);
    return s;
}

/* ---- reading: every dataset and attribute is checked before it is read, since a read with H5S_ALL
 * stores as many values as the file holds, whatever the buffer's size ---------------------------- */

/* `what` ("dataset /state/step") must hold class cls in shape (ndim, dims), ndim 0 a scalar; expected
 * says so in words. Another class or kind of dataspace is AIC_ERR_FORMAT, another shape shape_err. */
static aic_status check_held(const char *path, const char *what, hid_t type, hid_t space, H5T_class_t cls, int ndim,
                             const int64_t *dims, const char *expected, aic_status shape_err) {
    if (type < 0 || space < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s cannot be read (corrupt file?)", path, what);
    bool ok = H5Tget_class(type) == cls && H5Sget_simple_extent_type(space) == (ndim ? H5S_SIMPLE : H5S_SCALAR);
    aic_status err = AIC_ERR_FORMAT;
    if (ok && ndim) {
        hsize_t got[H5S_MAX_RANK];
        err = shape_err;
        ok = H5Sget_simple_extent_ndims(space) == ndim && H5Sget_simple_extent_dims(space, got, NULL) == ndim;
        for (int i = 0; ok && i < ndim; i++)
            ok = got[i] == (hsize_t)dims[i];
    }
    if (ok)
        return AIC_OK;
    char holds[192];
    aic_io_h5_describe(type, space, holds, sizeof holds);
    return aic_fail(err, "%s: %s holds %s; expected %s", path, what, holds, expected);
}

/* Attribute `name` of loc (`of` names loc in messages: "" for the file), checked to be a scalar of
 * class cls; *attr is to be closed by the caller. */
static aic_status open_attr(hid_t loc, const char *path, const char *of, const char *name, H5T_class_t cls,
                            const char *expected, hid_t *attr) {
    char what[5 * AIC_MAX_NAME + 32];
    snprintf(what, sizeof what, "attribute '%s'%s", name, of);
    *attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (*attr < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s is not an aicon checkpoint: %s is missing", path, what);
    hid_t type = H5Aget_type(*attr), space = H5Aget_space(*attr);
    aic_status s = check_held(path, what, type, space, cls, 0, NULL, expected, AIC_ERR_FORMAT);
    AIC_H5_CLOSE(type, space);
    if (s != AIC_OK) {
        H5Aclose(*attr);
        *attr = H5I_INVALID_HID;
    }
    return s;
}

static aic_status read_attr_str(hid_t loc, const char *path, const char *of, const char *name, char *out,
                                size_t size) {
    hid_t attr;
    AIC_TRY(open_attr(loc, path, of, name, H5T_STRING, "string scalar", &attr));
    hid_t ftype = H5Aget_type(attr), mtype = H5Tcopy(H5T_C_S1);
    aic_status s = AIC_OK;
    size_t len = ftype >= 0 ? H5Tget_size(ftype) : 0;
    if (ftype < 0 || H5Tis_variable_str(ftype) > 0 || len == 0 || len >= size)
        s = aic_fail(AIC_ERR_FORMAT, "%s: attribute '%s'%s is not a short fixed-length string", path, name, of);
    /* One byte more than the file's: a null-terminated memory type of the file's size would drop the
     * last character of a string written without its terminator (h5py's np.bytes_). */
    else if (H5Tset_size(mtype, len + 1) < 0 || H5Aread(attr, mtype, out) < 0)
        s = aic_fail(AIC_ERR_FORMAT, "%s: cannot read attribute '%s'%s", path, name, of);
    else
        out[len] = '\0';
    AIC_H5_CLOSE(mtype, ftype, attr);
    return s;
}

/* A numeric scalar attribute, converted to mem_type: H5T_NATIVE_INT64 from an integer, or
 * H5T_NATIVE_DOUBLE from a float. */
static aic_status read_attr_num(hid_t loc, const char *path, const char *of, const char *name, hid_t mem_type,
                                void *out) {
    bool integer = H5Tget_class(mem_type) == H5T_INTEGER;
    hid_t attr;
    AIC_TRY(open_attr(loc, path, of, name, integer ? H5T_INTEGER : H5T_FLOAT,
                      integer ? "integer scalar" : "floating-point scalar", &attr));
    herr_t rc = H5Aread(attr, mem_type, out);
    H5Aclose(attr);
    return rc < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: cannot read attribute '%s'%s", path, name, of) : AIC_OK;
}

/* The stored checksum of a tensor's dataset against the values read. */
static aic_status verify_checksum(hid_t ds, const char *path, const char *what, const float *v, int64_t n) {
    char of[4 * AIC_MAX_NAME + 8], stored[80], actual[65];
    uint8_t md[32];
    snprintf(of, sizeof of, " of %s", what);
    if (H5Aexists(ds, CHECKSUM_ATTR) <= 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s has no '" CHECKSUM_ATTR "' checksum (format 2 writes one on every "
                        "tensor)", path, what);
    AIC_TRY(read_attr_str(ds, path, of, CHECKSUM_ATTR, stored, sizeof stored));
    if (!tensor_sha256(v, n, md))
        return aic_fail(AIC_ERR_INTERNAL, "%s: cannot compute the SHA-256 of %s (OpenSSL)", path, what);
    aic_hex(md, 32, actual);
    if (strcmp(stored, actual) != 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s fails its checksum (SHA-256 %.16s..., recorded %.16s...): the file "
                        "is damaged", path, what, actual, stored);
    return AIC_OK;
}

/* Read dataset `group`/`name` of shape (ndim, shape) into dst; with checksum, verify it. */
static aic_status read_tensor(hid_t f, const char *path, const char *group, const char *name, int ndim,
                              const int64_t *shape, bool checksum, float *dst) {
    char esc[3 * AIC_MAX_NAME + 1], full[4 * AIC_MAX_NAME], what[4 * AIC_MAX_NAME], want[160];
    escape_name(esc, sizeof esc, name);
    snprintf(full, sizeof full, "/%s/%s", group, esc);
    snprintf(what, sizeof what, "tensor '%s' in /%s", name, group);
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0 || H5Lexists(f, full, H5P_DEFAULT) <= 0)
        return aic_fail(AIC_ERR_MISMATCH, "%s has no %s (a checkpoint of another model?)", path, what);
    int len = snprintf(want, sizeof want, ndim ? "floating-point array of shape " : "floating-point scalar");
    for (int i = 0; i < ndim && len < (int)sizeof want; i++)
        len += snprintf(want + len, sizeof want - (size_t)len, "%s%lld", i ? "x" : "", (long long)shape[i]);
    if (len < (int)sizeof want)
        snprintf(want + len, sizeof want - (size_t)len, " (the model's)");
    hid_t ds = H5Dopen2(f, full, H5P_DEFAULT);
    hid_t type = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID, space = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    const int64_t n = numel_of(ndim, shape);
    aic_status s = check_held(path, what, type, space, H5T_FLOAT, ndim, shape, want, AIC_ERR_MISMATCH);
    if (s == AIC_OK && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        s = aic_fail(AIC_ERR_FORMAT, "%s: reading %s failed (corrupt file?)", path, what);
    if (s == AIC_OK && checksum)
        s = verify_checksum(ds, path, what, dst, n);
    /* A diverged run's NaN would only resume into more NaN: refused here, where the file is named. */
    for (int64_t i = 0; s == AIC_OK && i < n; i++)
        if (!isfinite(dst[i]))
            s = aic_fail(AIC_ERR_FORMAT, "%s: %s holds %g at element %lld; a checkpoint's values must be finite",
                         path, what, (double)dst[i], (long long)i);
    AIC_H5_CLOSE(type, space, ds);
    return s;
}

/* The integer scalar dataset `name`, which must lie in [min, max]. */
static aic_status read_count(hid_t f, const char *path, const char *name, int64_t min, int64_t max, int64_t *out) {
    char what[64];
    snprintf(what, sizeof what, "dataset %s", name);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s is missing", path, what);
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
    aic_status s = check_held(path, what, type, space, H5T_INTEGER, 0, NULL, "integer scalar", AIC_ERR_FORMAT);
    if (s == AIC_OK && H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        s = aic_fail(AIC_ERR_FORMAT, "%s: cannot read %s", path, what);
    if (s == AIC_OK && (*out < min || *out > max))
        s = aic_fail(AIC_ERR_FORMAT, "%s: %s is %lld; expected %lld to %lld (a damaged file?)", path, what,
                     (long long)*out, (long long)min, (long long)max);
    AIC_H5_CLOSE(type, space, ds);
    return s;
}

/* /state/usage_seq and the usage_job attribute of /state, or none (seq 0) when they are absent. */
static aic_status read_usage(hid_t f, const char *path, uint8_t job[32], uint64_t *seq) {
    memset(job, 0, 32);
    *seq = 0;
    if (H5Lexists(f, "/state/usage_seq", H5P_DEFAULT) <= 0)
        return AIC_OK;
    int64_t n;
    AIC_TRY(read_count(f, path, "/state/usage_seq", 1, MAX_COUNT, &n));
    hid_t g = H5Gopen2(f, "state", H5P_DEFAULT);
    if (g < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: /state cannot be opened (corrupt file?)", path);
    char text[80];
    aic_status s = read_attr_str(g, path, " of /state", "usage_job", text, sizeof text);
    H5Gclose(g);
    AIC_TRY(s);
    bool ok = strlen(text) == 64;
    for (int i = 0; ok && i < 32; i++)
        ok = isxdigit((unsigned char)text[2 * i]) && isxdigit((unsigned char)text[2 * i + 1]) &&
             sscanf(text + 2 * i, "%2hhx", &job[i]) == 1;
    if (!ok)
        return aic_fail(AIC_ERR_FORMAT, "%s: attribute usage_job of /state is '%.70s', not 64 hex digits", path, text);
    *seq = (uint64_t)n;
    return AIC_OK;
}

/* /preprocess, or unknown when the checkpoint predates it. */
static aic_status read_preprocess(hid_t f, const char *path, aic_preprocess *p) {
    *p = (aic_preprocess){.kind = AIC_PREPROCESS_UNKNOWN};
    if (H5Lexists(f, "preprocess", H5P_DEFAULT) <= 0)
        return AIC_OK;
    hid_t g = H5Gopen2(f, "preprocess", H5P_DEFAULT);
    if (g < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: /preprocess cannot be opened (corrupt file?)", path);
    char kind[32];
    const char *of = " of /preprocess";
    aic_status s = read_attr_str(g, path, of, "kind", kind, sizeof kind);
    if (s == AIC_OK && strcmp(kind, aic_preprocess_name(AIC_PREPROCESS_NONE)) == 0) {
        p->kind = AIC_PREPROCESS_NONE;
    } else if (s == AIC_OK && strcmp(kind, aic_preprocess_name(AIC_PREPROCESS_STANDARDIZE)) == 0) {
        p->kind = AIC_PREPROCESS_STANDARDIZE;
        s = read_attr_num(g, path, of, "mean", H5T_NATIVE_DOUBLE, &p->mean);
        if (s == AIC_OK)
            s = read_attr_num(g, path, of, "std", H5T_NATIVE_DOUBLE, &p->std);
        if (s == AIC_OK && !(isfinite(p->mean) && isfinite(p->std) && p->std > 0))
            s = aic_fail(AIC_ERR_FORMAT, "%s: /preprocess standardizes with mean %g and std %g (std must be > 0)",
                         path, p->mean, p->std);
    } else if (s == AIC_OK) {
        s = aic_fail(AIC_ERR_FORMAT, "%s: /preprocess has kind '%s'; this aicon knows none and standardize", path,
                     kind);
    }
    H5Gclose(g);
    return s;
}

static aic_status load_contents(hid_t f, const char *path, aic_model_t *m, aic_optim_t *o, aic_train_state *st) {
    int64_t version;
    char name[AIC_MAX_NAME + 1], hash_file[80], opt[32];
    AIC_TRY(read_attr_num(f, path, "", "format_version", H5T_NATIVE_INT64, &version));
    if (version < 1 || version > AIC_CHECKPOINT_FORMAT_VERSION)
        return aic_fail(AIC_ERR_FORMAT, "%s: checkpoint format version %lld, this aicon reads 1..%d", path,
                        (long long)version, AIC_CHECKPOINT_FORMAT_VERSION);
    AIC_TRY(read_attr_str(f, path, "", "model_name", name, sizeof name));
    AIC_TRY(read_attr_str(f, path, "", "model_hash", hash_file, sizeof hash_file));
    AIC_TRY(read_attr_str(f, path, "", "optimizer", opt, sizeof opt));
    const bool checksums = version >= 2;
    uint8_t hash[32];
    char hash_hex[65];
    AIC_TRY(version >= 3 ? aic_model_arch_hash(m, hash) : aic_model_arch_hash_v1(m, hash));
    aic_hex(hash, 32, hash_hex);
    if (strcmp(hash_hex, hash_file) != 0)
        return aic_fail(AIC_ERR_MISMATCH,
                        "%s holds model '%s' (architecture %.12s), not this model '%s' (architecture %.12s)", path,
                        name, hash_file, aic_model_name(m), hash_hex);
    if (o && strcmp(opt, optim_name(o)) != 0)
        return aic_fail(AIC_ERR_MISMATCH, "%s holds %s optimizer state; this run uses %s", path, opt, optim_name(o));
    aic_tensor t;
    for (int i = 0; i < aic_model_param_count(m); i++) {
        AIC_TRY(aic_model_param(m, i, &t, NULL));
        AIC_TRY(read_tensor(f, path, "params", t.name, t.ndim, t.shape, checksums, t.data));
    }
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        AIC_TRY(aic_model_buffer(m, i, &t));
        AIC_TRY(read_tensor(f, path, "buffers", t.name, t.ndim, t.shape, checksums, t.data));
    }
    const float *base = aic_model_params(m);
    for (int s = 0; s < aic_optim_slot_count(o); s++) {
        const char *slot_name;
        float *slot;
        aic_optim_slot(o, s, &slot_name, &slot);
        char group[64];
        snprintf(group, sizeof group, "optimizer/%s", slot_name);
        for (int i = 0; i < aic_model_param_count(m); i++) {
            AIC_TRY(aic_model_param(m, i, &t, NULL));
            AIC_TRY(read_tensor(f, path, group, t.name, t.ndim, t.shape, checksums, slot + ((const float *)t.data - base)));
        }
    }
    int64_t step, epoch, seed, osteps, global_batch;
    AIC_TRY(read_count(f, path, "/state/step", 0, MAX_COUNT, &step));
    AIC_TRY(read_count(f, path, "/state/global_batch", 0, MAX_COUNT, &global_batch));
    AIC_TRY(read_count(f, path, "/state/epoch", 0, MAX_COUNT, &epoch));
    AIC_TRY(read_count(f, path, "/state/seed", 0, INT64_MAX, &seed));
    AIC_TRY(read_count(f, path, "/state/optimizer_steps", 0, MAX_COUNT, &osteps));
    aic_preprocess pre;
    AIC_TRY(read_preprocess(f, path, &pre));
    uint8_t usage_job[32];
    uint64_t usage_seq;
    AIC_TRY(read_usage(f, path, usage_job, &usage_seq));
    if (o)
        aic_optim_set_steps(o, osteps);
    if (st) {
        st->step = step;
        st->epoch = epoch;
        st->seed = (uint64_t)seed;
        st->global_batch = global_batch;
        st->preprocess = pre;
        memcpy(st->usage_job, usage_job, 32);
        st->usage_seq = usage_seq;
    }
    return AIC_OK;
}

/* The paths load_contents looks up, for the probe of libhdf5 on the file (io/h5probe.c). */
static aic_status probe(const char *path, aic_model_t *m, aic_optim_t *o) {
    static const char *const fixed[] = {"/params", "/buffers", "/optimizer", "/state", "/state/step",
                                        "/state/epoch", "/state/seed", "/state/global_batch",
                                        "/state/optimizer_steps", "/state/usage_seq", "/preprocess"};
    const size_t n_fixed = sizeof fixed / sizeof *fixed, n_params = (size_t)aic_model_param_count(m);
    const size_t n_slots = (size_t)aic_optim_slot_count(o), n_buffers = (size_t)aic_model_buffer_count(m);
    const size_t n = n_fixed + n_params * (1 + n_slots) + n_buffers;
    const char **names = calloc(n, sizeof *names);
    char (*paths)[4 * AIC_MAX_NAME] = calloc(n - n_fixed + 1, sizeof *paths);
    aic_status st = names && paths ? AIC_OK : aic_fail(AIC_ERR_NOMEM, "%s: the names to check", path);
    size_t k = 0, j = 0;
    for (size_t i = 0; st == AIC_OK && i < n_fixed; i++)
        names[k++] = fixed[i];
    aic_tensor t;
    char esc[3 * AIC_MAX_NAME + 1];
    for (size_t i = 0; st == AIC_OK && i < n_buffers && (st = aic_model_buffer(m, (int)i, &t)) == AIC_OK; i++) {
        escape_name(esc, sizeof esc, t.name);
        snprintf(paths[j], sizeof paths[j], "/buffers/%s", esc);
        names[k++] = paths[j++];
    }
    for (size_t i = 0; st == AIC_OK && i < n_params && (st = aic_model_param(m, (int)i, &t, NULL)) == AIC_OK; i++) {
        escape_name(esc, sizeof esc, t.name);
        snprintf(paths[j], sizeof paths[j], "/params/%s", esc);
        names[k++] = paths[j++];
        for (size_t s = 0; s < n_slots; s++) {
            const char *slot;
            float *unused;
            aic_optim_slot(o, (int)s, &slot, &unused);
            snprintf(paths[j], sizeof paths[j], "/optimizer/%s/%s", slot, esc);
            names[k++] = paths[j++];
        }
    }
    if (st == AIC_OK)
        st = aic_io_h5_probe(path, "the checkpoint", names, k);
    free(names);
    free(paths);
    return st;
}

aic_status aic_checkpoint_load(const char *path, aic_model_t *m, aic_optim_t *o, aic_train_state *st) {
    if (!path || !m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_load: NULL argument");
    if (access(path, R_OK) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot read checkpoint: %s", path, strerror(errno));
    AIC_TRY(probe(path, m, o));
    h5_quiet q = h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    aic_status s = f < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: not an HDF5 file, or a damaged one", path)
                         : load_contents(f, path, m, o, st);
    if (f >= 0)
        H5Fclose(f);
    h5_quiet_end(q);
    return s;
}

/* The extra array's shape, or 0 x 0 when the file has none (f open, HDF5 quiet). */
static aic_status extra_shape(hid_t f, const char *path, const char *full, const char *what, int64_t shape[2]) {
    shape[0] = shape[1] = 0;
    if (H5Lexists(f, "/extra", H5P_DEFAULT) <= 0 || H5Lexists(f, full, H5P_DEFAULT) <= 0)
        return AIC_OK;
    hid_t ds = H5Dopen2(f, full, H5P_DEFAULT);
    hid_t type = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID, space = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    hsize_t dims[2] = {0, 0};
    aic_status s = AIC_OK;
    if (type < 0 || space < 0 || H5Tget_class(type) != H5T_FLOAT || H5Sget_simple_extent_ndims(space) != 2 ||
        H5Sget_simple_extent_dims(space, dims, NULL) != 2 || dims[0] < 1 || dims[1] < 1 ||
        dims[0] > ((hsize_t)1 << 40) / dims[1]) {
        char holds[192] = "nothing readable";
        if (type >= 0 && space >= 0)
            aic_io_h5_describe(type, space, holds, sizeof holds);
        s = aic_fail(AIC_ERR_FORMAT, "%s: %s holds %s; expected a 2-D floating-point array", path, what, holds);
    }
    AIC_H5_CLOSE(type, space, ds);
    shape[0] = (int64_t)dims[0];
    shape[1] = (int64_t)dims[1];
    return s;
}

aic_status aic_checkpoint_read_extra(const char *path, const char *name, float **data, int64_t *rows, int64_t *cols) {
    if (!path || !name || !data || !rows || !cols)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_read_extra: NULL argument");
    *data = NULL;
    *rows = *cols = 0;
    char esc[3 * AIC_MAX_NAME + 1], full[4 * AIC_MAX_NAME], what[4 * AIC_MAX_NAME];
    escape_name(esc, sizeof esc, name);
    snprintf(full, sizeof full, "/extra/%s", esc);
    snprintf(what, sizeof what, "tensor '%s' in /extra", name);
    AIC_TRY(aic_io_h5_probe(path, "the checkpoint", (const char *const[]){"/extra", full}, 2));
    h5_quiet q = h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t shape[2] = {0, 0};
    aic_status s = f < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: not an HDF5 file, or a damaged one", path)
                         : extra_shape(f, path, full, what, shape);
    if (s == AIC_OK && shape[0]) {
        *data = malloc(sizeof(float) * (size_t)(shape[0] * shape[1]));
        s = *data ? read_tensor(f, path, "extra", name, 2, shape, true, *data)
                  : aic_fail(AIC_ERR_NOMEM, "%s: out of memory for %s", path, what);
        if (s == AIC_OK) {
            *rows = shape[0];
            *cols = shape[1];
        } else {
            free(*data);
            *data = NULL;
        }
    }
    if (f >= 0)
        H5Fclose(f);
    h5_quiet_end(q);
    return s;
}
