// SPDX-License-Identifier: Apache-2.0
/* For fuzz targets over readers that take a path: the input goes into a memfd and the reader opens
 * /proc/self/fd/N. Nothing lands on disk (a crashed run leaves no temporary file) and each input
 * replaces the previous one in place. libhdf5 resolves the path to the memfd's name, which it cannot
 * open: HDF5 readers get a real file under $TMPDIR instead (fuzz_file_open_real), removed at exit.
 * Define _GNU_SOURCE before any include (memfd_create). */
#ifndef AICON_FUZZ_FILE_H
#define AICON_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    int fd;
    char path[4096];
} fuzz_file;

static inline void fuzz_file_open(fuzz_file *f, const char *name) {
    f->fd = memfd_create(name, MFD_CLOEXEC);
    if (f->fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

static char fuzz_real_path[4096];

static inline void fuzz_remove_real(void) {
    unlink(fuzz_real_path);
}

/* One per target: a file of its own under $TMPDIR (or /tmp). */
static inline void fuzz_file_open_real(fuzz_file *f, const char *name) {
    const char *dir = getenv("TMPDIR");
    snprintf(f->path, sizeof f->path, "%s/aicon-fuzz-%s-XXXXXX", dir && *dir ? dir : "/tmp", name);
    f->fd = mkstemp(f->path);
    if (f->fd < 0) {
        perror(f->path);
        abort();
    }
    snprintf(fuzz_real_path, sizeof fuzz_real_path, "%s", f->path);
    atexit(fuzz_remove_real);
}

/* The file now holds exactly data[0..size). */
static inline void fuzz_file_set(fuzz_file *f, const uint8_t *data, size_t size) {
    if (ftruncate(f->fd, 0) != 0)
        abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(f->fd, data + done, size - done, (off_t)done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
}

/* With AICON_FUZZ_VERBOSE set, each refusal's message goes to stderr (for looking at one input). */
static inline void fuzz_note(const char *message) {
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("AICON_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "refused: %s\n", message);
}

/* A data-set reader refused the input: it must have said why and left *out NULL. */
static inline void fuzz_dataset_refused(const void *out, const char *message) {
    fuzz_note(message);
    if (out != NULL || message[0] == '\0')
        abort();
}

#ifdef H5_VERS_MAJOR
/* Every HDF5 object the reader opened must be closed again: an open identifier is no leak to
 * LeakSanitizer (HDF5's tables still point to it), so it is counted here. */
static inline void fuzz_check_hdf5_closed(void) {
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0) {
        fprintf(stderr, "%zd HDF5 objects left open\n", open_ids);
        abort();
    }
}
#endif

#endif
