// SPDX-License-Identifier: Apache-2.0
#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* Numbers the temporary names a process makes, so two threads writing one path never share one. */
static atomic_uint temp_count;

/* A new temporary file next to path, its name in tmp; -1 with errno on failure. O_EXCL rather than
 * mkstemp: the file gets mode less the umask, as a plain open(2) would (mkstemp's is always 0600),
 * and a name a killed writer of the same pid left (containers reuse pids) is skipped, not reused. */
static int create_temp(const char *path, mode_t mode, char *tmp, size_t size) {
    for (int tries = 0; tries < 100; tries++) {
        snprintf(tmp, size, "%s" AIC_ATOMIC_TEMP_INFIX "%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&temp_count, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1; /* errno is EEXIST */
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

/* fsync path's directory, which makes a rename in it durable; buf holds at least strlen(path) + 2. */
static aic_status fsync_dir(const char *path, const char *what, char *buf) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(buf, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/x": the root */
        memcpy(buf, path, n);
        buf[n] = '\0';
    }
    int fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fsync(fd);
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        return aic_fail(AIC_ERR_IO, "%s: %s is in place, but flushing the directory %s failed: %s", path, what, buf,
                        strerror(err));
    return AIC_OK;
}

aic_status aic_atomic_write(const char *path, const void *data, size_t len, mode_t mode, const char *what) {
    /* The path, the infix, a pid and a count (at most 20 and 10 digits), a dot and the NUL. */
    size_t size = strlen(path) + sizeof AIC_ATOMIC_TEMP_INFIX + 32;
    char *tmp = malloc(size);
    if (!tmp)
        return aic_fail(AIC_ERR_NOMEM, "%s: writing %s: out of memory", path, what);
    int fd = create_temp(path, mode, tmp, size);
    if (fd < 0) {
        aic_status s = aic_fail(AIC_ERR_IO, "%s: cannot create a temporary file for %s (%s): %s", path, what, tmp,
                                strerror(errno));
        free(tmp);
        return s;
    }
    /* close(2) reports errors too (NFS); fsync makes the data durable before the rename publishes it. */
    int err = 0;
    if (!write_all(fd, data, len) || fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    aic_status s = AIC_OK;
    if (err)
        s = aic_fail(AIC_ERR_IO, "%s: writing %s failed: %s (the temporary file is removed, nothing is replaced)",
                     path, what, strerror(err));
    else if (rename(tmp, path) != 0)
        s = aic_fail(AIC_ERR_IO, "%s: cannot rename %s (%s) into place: %s", path, what, tmp, strerror(errno));
    if (s != AIC_OK)
        unlink(tmp);
    else
        s = fsync_dir(path, what, tmp);
    free(tmp);
    return s;
}
