// SPDX-License-Identifier: Apache-2.0
/* Debian 12's libhdf5 (1.10.8) overflows its heap, follows wild pointers and asks for absurd
 * allocations on some damaged files (checkpoint_fuzz and h5data_fuzz found dozens): whatever aicon
 * checks, reading such a file would crash the reader inside the library. So before a reader opens
 * a file, a child process looks up the names the reader will (absent ones too: a damaged name heap
 * crashes the lookup) and reads every object in the file; a child that dies names the file as one
 * aicon refuses, and the parent never touches it. */
#include <errno.h>
#include <hdf5.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "io/h5describe.h"

enum { PROBE_READ = 0, PROBE_HDF5_ERROR = 2 }; /* the child's exit codes; anything else is a crash */

#define PROBE_CHUNK_BYTES ((size_t)64 << 20)
#define PROBE_SECONDS 60

/* A dataset's first and last slab of rows (all of it when small), through a buffer of at most
 * PROBE_CHUNK_BYTES. The values are read as the readers read them: numbers converted to double,
 * anything else as stored. */
static bool read_dataset(hid_t ds) {
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds), mem = H5I_INVALID_HID;
    void *buf = NULL;
    bool ok = type >= 0 && space >= 0;
    const H5T_class_t cls = ok ? H5Tget_class(type) : H5T_NO_CLASS;
    if (ok)
        mem = cls == H5T_INTEGER || cls == H5T_FLOAT ? H5Tcopy(H5T_NATIVE_DOUBLE) : H5Tcopy(type);
    const int rank = ok ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK] = {0};
    ok = ok && mem >= 0 && rank >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) == rank;
    /* The bytes of one row (one element for a scalar); rows: the first dimension. */
    size_t row = ok ? H5Tget_size(mem) : 0;
    for (int i = 1; ok && i < rank; i++)
        row = dims[i] && row > SIZE_MAX / dims[i] ? 0 : row * (size_t)dims[i];
    const hsize_t rows = rank == 0 ? 1 : dims[0];
    ok = ok && row > 0 && row <= PROBE_CHUNK_BYTES;
    const hsize_t per = ok ? PROBE_CHUNK_BYTES / row : 1;
    if (ok && rows > 0)
        ok = (buf = malloc(row * (size_t)(per < rows ? per : rows))) != NULL;
    if (ok && rank == 0)
        ok = H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    /* The first and the last slab: what a damaged file hides is in the index that finds them, and a
     * file may claim 2^28 rows of fill values to make reading them all take hours. */
    for (hsize_t at = 0; ok && rank > 0 && at < rows; at = at == 0 && rows > 2 * per ? rows - per : at + per) {
        hsize_t start[H5S_MAX_RANK] = {at}, count[H5S_MAX_RANK];
        memcpy(count, dims, sizeof count);
        count[0] = rows - at < per ? rows - at : per;
        hid_t fs = H5Scopy(space), ms = H5Screate_simple(rank, count, NULL);
        ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(ds, mem, ms, fs, H5P_DEFAULT, buf) >= 0;
        AIC_H5_CLOSE(fs, ms);
    }
    free(buf);
    AIC_H5_CLOSE(mem, type, space);
    return ok;
}

static herr_t read_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *unused) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID, space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    const size_t size = type >= 0 ? H5Tget_size(type) : 0;
    bool ok = n >= 0 && size > 0 && (size_t)n <= PROBE_CHUNK_BYTES / size;
    void *buf = ok ? malloc((size_t)(n ? n : 1) * size) : NULL;
    ok = ok && buf && H5Aread(a, type, buf) >= 0;
    if (ok && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0)
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
    free(buf);
    AIC_H5_CLOSE(type, space, a);
    return 0; /* on to the next one: the probe is to touch everything the readers might */
}

static herr_t read_object(hid_t file, const char *name, const H5O_info_t *info, void *unused) {
    hid_t o = H5Oopen(file, name, H5P_DEFAULT); /* by its path, as the readers open what they read */
    if (o < 0)
        return 0;
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, read_attribute, NULL);
    if (info->type == H5O_TYPE_DATASET)
        read_dataset(o);
    H5Oclose(o);
    return 0;
}

/* A path the reader will look up, as it does: each group on the way, then the object itself. */
static void look_up(hid_t f, const char *name) {
    char prefix[1024];
    for (const char *p = name; (p = strchr(p + 1, '/')) != NULL;) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(p - name), name);
        if (H5Lexists(f, prefix, H5P_DEFAULT) <= 0)
            return;
    }
    H5O_info_t info;
    if (H5Lexists(f, name, H5P_DEFAULT) > 0 && H5Oget_info_by_name2(f, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0)
        read_object(f, name, &info, NULL);
}

static void probe_child(const char *path, const char *const *names, size_t n_names) {
    /* Die of the signal itself: no handler of the parent's (a fuzzer's, a sanitizer's) runs here. */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        signal(fatal[i], SIG_DFL);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
        dup2(null, STDERR_FILENO); /* a sanitizer's report of the library's fault: the parent says it */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    for (size_t i = 0; f >= 0 && i < n_names; i++)
        look_up(f, names[i]);
    bool ok = f >= 0 && H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, read_object, NULL) >= 0;
    if (f >= 0)
        H5Fclose(f);
    _exit(ok ? PROBE_READ : PROBE_HDF5_ERROR);
}

aic_status aic_io_h5_probe(const char *path, const char *what, const char *const *names, size_t n_names) {
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot check %s in a child process: fork: %s", path, what, strerror(errno));
    if (pid == 0)
        probe_child(path, names, n_names);
    /* A file may also make libhdf5 loop: the child gets PROBE_SECONDS, which metadata never needs. */
    int status = 0;
    pid_t done = 0;
    for (int waited_ms = 0; (done = waitpid(pid, &status, WNOHANG)) == 0 && waited_ms < PROBE_SECONDS * 1000;
         waited_ms += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return aic_fail(AIC_ERR_FORMAT, "%s: libhdf5 did not finish reading %s in %d s: the file is damaged, or made "
                        "to attack the library; aicon does not open it", path, what, PROBE_SECONDS);
    }
    if (done < 0)
        return aic_fail(AIC_ERR_IO, "%s: waiting for the check of %s: %s", path, what, strerror(errno));
    if (WIFEXITED(status) && (WEXITSTATUS(status) == PROBE_READ || WEXITSTATUS(status) == PROBE_HDF5_ERROR))
        return AIC_OK; /* an error libhdf5 reports: the reader names it */
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "signal %d, %s", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(how, sizeof how, "exit %d", WEXITSTATUS(status));
    return aic_fail(AIC_ERR_FORMAT, "%s: libhdf5 crashed reading %s (%s): the file is damaged, or made to attack the "
                    "library; aicon does not open it", path, what, how);
}
