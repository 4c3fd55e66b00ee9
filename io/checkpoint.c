// SPDX-License-Identifier: Apache-2.0
/* HDF5 checkpoints: one dataset per tensor, written under a temporary name and renamed. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdbool.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aicon/checkpoint.h"
#include "core/error.h"

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

static void hex(char *dst, const uint8_t *bytes, int n) {
    for (int i = 0; i < n; i++)
        sprintf(dst + 2 * i, "%02x", bytes[i]);
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
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

/* A scalar int64, as an attribute of loc or as a dataset in it. */
static herr_t write_i64(hid_t loc, const char *name, int64_t value, bool attribute) {
    hid_t space = H5Screate(H5S_SCALAR), obj = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        obj = attribute ? H5Acreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT)
                        : H5Dcreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (obj >= 0) {
        rc = attribute ? H5Awrite(obj, H5T_NATIVE_INT64, &value)
                       : H5Dwrite(obj, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
        if (attribute)
            H5Aclose(obj);
        else
            H5Dclose(obj);
    }
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static herr_t write_attr_f64(hid_t loc, const char *name, double value) {
    hid_t space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        attr = H5Acreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        rc = H5Awrite(attr, H5T_NATIVE_DOUBLE, &value);
        H5Aclose(attr);
    }
    if (space >= 0)
        H5Sclose(space);
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

static herr_t write_tensor(hid_t group, const char *name, int ndim, const int64_t *shape, const float *data) {
    char esc[3 * AIC_MAX_NAME + 1];
    escape_name(esc, sizeof esc, name);
    hsize_t dims[AIC_MAX_DIMS];
    for (int i = 0; i < ndim; i++)
        dims[i] = (hsize_t)shape[i];
    hid_t space = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR), ds = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space >= 0)
        ds = H5Dcreate2(group, esc, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0)
        rc = H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0)
        H5Dclose(ds);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static herr_t write_contents(hid_t f, aic_model_t *m, aic_optim_t *o, const aic_train_state *st) {
    uint8_t hash[32];
    char hash_hex[65];
    if (aic_model_arch_hash(m, hash) != AIC_OK)
        return -1;
    hex(hash_hex, hash, 32);
    if (write_i64(f, "format_version", AIC_CHECKPOINT_FORMAT_VERSION, true) < 0 ||
        write_attr_str(f, "model_name", aic_model_name(m)) < 0 || write_attr_str(f, "model_hash", hash_hex) < 0 ||
        write_attr_str(f, "optimizer", optim_name(o)) < 0 || write_attr_str(f, "aicon_version", aic_version_string()) < 0)
        return -1;
    herr_t rc = 0;
    hid_t params = H5Gcreate2(f, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t buffers = H5Gcreate2(f, "buffers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t optim = H5Gcreate2(f, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t state = H5Gcreate2(f, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (params < 0 || buffers < 0 || optim < 0 || state < 0)
        rc = -1;
    aic_tensor t;
    for (int i = 0; rc >= 0 && i < aic_model_param_count(m); i++)
        if (aic_model_param(m, i, &t, NULL) != AIC_OK || write_tensor(params, t.name, t.ndim, t.shape, t.data) < 0)
            rc = -1;
    for (int i = 0; rc >= 0 && i < aic_model_buffer_count(m); i++)
        if (aic_model_buffer(m, i, &t) != AIC_OK || write_tensor(buffers, t.name, t.ndim, t.shape, t.data) < 0)
            rc = -1;
    for (int s = 0; rc >= 0 && s < aic_optim_slot_count(o); s++) {
        const char *slot_name;
        float *slot;
        aic_optim_slot(o, s, &slot_name, &slot);
        hid_t g = H5Gcreate2(optim, slot_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
            rc = -1;
        /* A slot is laid out like the parameter arena: the same offsets name the same tensors. */
        const float *base = aic_model_params(m);
        for (int i = 0; rc >= 0 && i < aic_model_param_count(m); i++) {
            aic_model_param(m, i, &t, NULL);
            if (write_tensor(g, t.name, t.ndim, t.shape, slot + ((const float *)t.data - base)) < 0)
                rc = -1;
        }
        if (g >= 0)
            H5Gclose(g);
    }
    if (rc >= 0 && (write_i64(state, "step", st ? st->step : 0, false) < 0 ||
                    write_i64(state, "epoch", st ? st->epoch : 0, false) < 0 ||
                    write_i64(state, "seed", st ? (int64_t)st->seed : 0, false) < 0 ||
                    write_i64(state, "global_batch", st ? st->global_batch : 0, false) < 0 ||
                    write_i64(state, "optimizer_steps", aic_optim_steps(o), false) < 0))
        rc = -1;
    if (rc >= 0 && st && write_preprocess(f, &st->preprocess) < 0)
        rc = -1;
    if (state >= 0)
        H5Gclose(state);
    if (optim >= 0)
        H5Gclose(optim);
    if (buffers >= 0)
        H5Gclose(buffers);
    if (params >= 0)
        H5Gclose(params);
    return rc;
}

static aic_status fsync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd < 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open to flush: %s", path, strerror(errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    return rc == 0 ? AIC_OK : aic_fail(AIC_ERR_IO, "%s: fsync failed: %s", path, strerror(err));
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

/* write(2) all of buf, retrying short writes; false with errno set on failure. */
static bool write_all(int fd, const unsigned char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* HDF5 builds the file in memory (the core driver, no backing store) and aicon writes the image
 * itself: a full disk or a failing device is then one failed write(2) with its errno, never an HDF5
 * file left half-flushed (HDF5 1.10 crashes at exit closing a file whose close failed). */
static aic_status save_quiet(const char *path, aic_model_t *m, aic_optim_t *o, const aic_train_state *st) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s" AIC_CHECKPOINT_TEMP_INFIX "%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return aic_fail(AIC_ERR_INVALID_ARG, "checkpoint path is too long: %.64s...", path);
    /* One allocation of about the final size: growing by small steps would copy the image each time. */
    size_t floats = aic_model_num_params(m) * (size_t)(1 + aic_optim_slot_count(o)) + aic_model_num_buffers(m);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, sizeof(float) * floats + ((size_t)1 << 20), 0) < 0) {
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
    if (write_contents(f, m, o, st) >= 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 &&
        (size = H5Fget_file_image(f, NULL, 0)) > 0 &&
        (image = malloc((size_t)size)) && H5Fget_file_image(f, image, (size_t)size) != size)
        size = -1;
    H5Fclose(f);
    if (size <= 0 || !image) {
        free(image);
        return aic_fail(size > 0 ? AIC_ERR_NOMEM : AIC_ERR_IO, "%s: building the checkpoint failed (%s)", path,
                        size > 0 ? "out of memory" : "HDF5 error");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        free(image);
        return aic_fail(AIC_ERR_IO, "%s: cannot create the temporary file %s: %s", path, tmp, strerror(err));
    }
    /* close(2) reports errors too (NFS); fsync makes the data durable before the rename publishes it. */
    int err = 0;
    if (!write_all(fd, image, (size_t)size) || fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    free(image);
    if (err) {
        unlink(tmp);
        return aic_fail(AIC_ERR_IO, "%s: writing the checkpoint failed: %s (the temporary file is removed, "
                        "earlier checkpoints are untouched)", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return aic_fail(AIC_ERR_IO, "%s: cannot rename the new checkpoint into place: %s", path, strerror(err));
    }
    /* The rename itself is durable only once the directory is flushed. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    return fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY);
}

aic_status aic_checkpoint_save(const char *path, aic_model_t *m, aic_optim_t *o, const aic_train_state *st) {
    if (!path || !m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_save: NULL argument");
    h5_quiet q = h5_quiet_begin();
    aic_status s = save_quiet(path, m, o, st);
    h5_quiet_end(q);
    return s;
}

/* ---- reading ---------------------------------------------------------------------------------- */

static aic_status read_attr_str(hid_t f, const char *path, const char *name, char *out, size_t size) {
    hid_t attr = H5Aopen(f, name, H5P_DEFAULT);
    if (attr < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s is not an aicon checkpoint: attribute '%s' is missing", path, name);
    hid_t ftype = H5Aget_type(attr), mtype = H5Tcopy(H5T_C_S1);
    aic_status s = AIC_OK;
    size_t len = ftype >= 0 ? H5Tget_size(ftype) : 0;
    if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) > 0 || len == 0 || len >= size)
        s = aic_fail(AIC_ERR_FORMAT, "%s: attribute '%s' is not a short fixed-length string", path, name);
    else if (H5Tset_size(mtype, len) < 0 || H5Aread(attr, mtype, out) < 0)
        s = aic_fail(AIC_ERR_FORMAT, "%s: cannot read attribute '%s'", path, name);
    else
        out[len] = '\0';
    H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    H5Aclose(attr);
    return s;
}

/* A numeric scalar attribute, converted to mem_type (H5T_NATIVE_INT64 or H5T_NATIVE_DOUBLE). */
static aic_status read_attr_num(hid_t f, const char *path, const char *name, hid_t mem_type, void *out) {
    hid_t attr = H5Aopen(f, name, H5P_DEFAULT);
    if (attr < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s is not an aicon checkpoint: attribute '%s' is missing", path, name);
    herr_t rc = H5Aread(attr, mem_type, out);
    H5Aclose(attr);
    return rc < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: attribute '%s' is not a number", path, name) : AIC_OK;
}

static aic_status read_attr_int(hid_t f, const char *path, const char *name, int64_t *out) {
    return read_attr_num(f, path, name, H5T_NATIVE_INT64, out);
}

static aic_status read_attr_f64(hid_t f, const char *path, const char *name, double *out) {
    return read_attr_num(f, path, name, H5T_NATIVE_DOUBLE, out);
}

/* Read dataset `group`/`name` of shape (ndim, shape) into dst. */
static aic_status read_tensor(hid_t f, const char *path, const char *group, const char *name, int ndim,
                              const int64_t *shape, float *dst) {
    char esc[3 * AIC_MAX_NAME + 1], full[4 * AIC_MAX_NAME];
    escape_name(esc, sizeof esc, name);
    snprintf(full, sizeof full, "/%s/%s", group, esc);
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0 || H5Lexists(f, full, H5P_DEFAULT) <= 0)
        return aic_fail(AIC_ERR_MISMATCH, "%s has no tensor '%s' in /%s (a checkpoint of another model?)", path, name,
                        group);
    hid_t ds = H5Dopen2(f, full, H5P_DEFAULT);
    hid_t space = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    aic_status s = AIC_OK;
    hsize_t dims[AIC_MAX_DIMS] = {0};
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank < 0 || rank > AIC_MAX_DIMS) {
        s = aic_fail(AIC_ERR_FORMAT, "%s: tensor '%s' cannot be read (corrupt file?)", path, name);
    } else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        bool same = rank == ndim;
        for (int i = 0; same && i < ndim; i++)
            same = dims[i] == (hsize_t)shape[i];
        if (!same) {
            char want[128] = "", got[128] = "";
            int lw = 0, lg = 0;
            for (int i = 0; i < ndim; i++)
                lw += snprintf(want + lw, sizeof want - (size_t)lw, "%s%lld", i ? "x" : "", (long long)shape[i]);
            for (int i = 0; i < rank; i++)
                lg += snprintf(got + lg, sizeof got - (size_t)lg, "%s%llu", i ? "x" : "", (unsigned long long)dims[i]);
            s = aic_fail(AIC_ERR_MISMATCH, "%s: tensor '%s' has shape %s, the model needs %s", path, name, got, want);
        } else if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
            s = aic_fail(AIC_ERR_FORMAT, "%s: reading tensor '%s' failed (corrupt file?)", path, name);
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (ds >= 0)
        H5Dclose(ds);
    return s;
}

static aic_status read_scalar(hid_t f, const char *path, const char *name, int64_t *out) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s is missing", path, name);
    herr_t rc = H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(ds);
    return rc < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: cannot read %s", path, name) : AIC_OK;
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
    aic_status s = read_attr_str(g, path, "kind", kind, sizeof kind);
    if (s == AIC_OK && strcmp(kind, aic_preprocess_name(AIC_PREPROCESS_NONE)) == 0) {
        p->kind = AIC_PREPROCESS_NONE;
    } else if (s == AIC_OK && strcmp(kind, aic_preprocess_name(AIC_PREPROCESS_STANDARDIZE)) == 0) {
        p->kind = AIC_PREPROCESS_STANDARDIZE;
        s = read_attr_f64(g, path, "mean", &p->mean);
        if (s == AIC_OK)
            s = read_attr_f64(g, path, "std", &p->std);
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
    AIC_TRY(read_attr_int(f, path, "format_version", &version));
    if (version < 1 || version > AIC_CHECKPOINT_FORMAT_VERSION)
        return aic_fail(AIC_ERR_FORMAT, "%s: checkpoint format version %lld, this aicon reads 1..%d", path,
                        (long long)version, AIC_CHECKPOINT_FORMAT_VERSION);
    AIC_TRY(read_attr_str(f, path, "model_name", name, sizeof name));
    AIC_TRY(read_attr_str(f, path, "model_hash", hash_file, sizeof hash_file));
    AIC_TRY(read_attr_str(f, path, "optimizer", opt, sizeof opt));
    uint8_t hash[32];
    char hash_hex[65];
    AIC_TRY(aic_model_arch_hash(m, hash));
    hex(hash_hex, hash, 32);
    if (strcmp(hash_hex, hash_file) != 0)
        return aic_fail(AIC_ERR_MISMATCH,
                        "%s holds model '%s' (architecture %.12s), not this model '%s' (architecture %.12s)", path,
                        name, hash_file, aic_model_name(m), hash_hex);
    if (o && strcmp(opt, optim_name(o)) != 0)
        return aic_fail(AIC_ERR_MISMATCH, "%s holds %s optimizer state; this run uses %s", path, opt, optim_name(o));
    aic_tensor t;
    for (int i = 0; i < aic_model_param_count(m); i++) {
        AIC_TRY(aic_model_param(m, i, &t, NULL));
        AIC_TRY(read_tensor(f, path, "params", t.name, t.ndim, t.shape, t.data));
    }
    for (int i = 0; i < aic_model_buffer_count(m); i++) {
        AIC_TRY(aic_model_buffer(m, i, &t));
        AIC_TRY(read_tensor(f, path, "buffers", t.name, t.ndim, t.shape, t.data));
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
            AIC_TRY(read_tensor(f, path, group, t.name, t.ndim, t.shape, slot + ((const float *)t.data - base)));
        }
    }
    int64_t step, epoch, seed, osteps, global_batch;
    AIC_TRY(read_scalar(f, path, "/state/step", &step));
    AIC_TRY(read_scalar(f, path, "/state/global_batch", &global_batch));
    AIC_TRY(read_scalar(f, path, "/state/epoch", &epoch));
    AIC_TRY(read_scalar(f, path, "/state/seed", &seed));
    AIC_TRY(read_scalar(f, path, "/state/optimizer_steps", &osteps));
    aic_preprocess pre;
    AIC_TRY(read_preprocess(f, path, &pre));
    if (o)
        aic_optim_set_steps(o, osteps);
    if (st) {
        st->step = step;
        st->epoch = epoch;
        st->seed = (uint64_t)seed;
        st->global_batch = global_batch;
        st->preprocess = pre;
    }
    return AIC_OK;
}

aic_status aic_checkpoint_load(const char *path, aic_model_t *m, aic_optim_t *o, aic_train_state *st) {
    if (!path || !m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_checkpoint_load: NULL argument");
    if (access(path, R_OK) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot read checkpoint: %s", path, strerror(errno));
    h5_quiet q = h5_quiet_begin();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    aic_status s = f < 0 ? aic_fail(AIC_ERR_FORMAT, "%s: not an HDF5 file, or a damaged one", path)
                         : load_contents(f, path, m, o, st);
    if (f >= 0)
        H5Fclose(f);
    h5_quiet_end(q);
    return s;
}
