// SPDX-License-Identifier: Apache-2.0
/* Tests for core/atomic_file.c, the one writer of checkpoints, exports, spool files and summaries:
 * the exact bytes and mode land under the final name, a replacement is a new file renamed over the
 * old one, a write that fails (file size limit, missing or read-only directory, a directory in the
 * way) names the path and the OS reason and leaves the old file and no temporary behind, and a
 * temporary name a killed writer of the same pid left is skipped, not reused.
 *
 * Every file is written in a fresh temporary directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aicon/checkpoint.h"
#include "core/atomic_file.h"
#include "tests/test_tmpdir.h"
#include "tests/test_util.h"

/* Whether path holds exactly text. */
static int holds(const char *path, const char *text) {
    char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static int put(const char *path, const char *text, mode_t mode) {
    return aic_atomic_write(path, text, strlen(text), mode, "the test file") == AIC_OK;
}

/* Entries of dir whose name holds the temporary infix. */
static int temporaries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, AIC_ATOMIC_TEMP_INFIX) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* The last failure was AIC_ERR_IO (got) and its message names path and strerror(err). */
static void expect_io_error(aic_status got, const char *path, int err) {
    const char *msg = aic_last_error();
    CHECK(got == AIC_ERR_IO);
    CHECK(strstr(msg, path) != NULL);
    CHECK(strstr(msg, strerror(err)) != NULL);
}

/* Runs first: the process's first temporary names are PATH.tmp.PID.0 and .1, here left by a "killed
 * writer"; the write must go past them and leave them as they are. */
static void test_stale_temporaries(void) {
    const char *path = test_tmp_path("stale.txt");
    char stale[2][1100];
    for (int i = 0; i < 2; i++) {
        snprintf(stale[i], sizeof stale[i], "%s" AIC_ATOMIC_TEMP_INFIX "%ld.%d", path, (long)getpid(), i);
        FILE *f = fopen(stale[i], "w");
        CHECK(f && fputs("stale", f) >= 0 && fclose(f) == 0);
    }
    CHECK(put(path, "fresh", 0644));
    CHECK(holds(path, "fresh"));
    CHECK(holds(stale[0], "stale") && holds(stale[1], "stale"));
    CHECK(temporaries(test_tmp) == 2);
    unlink(stale[0]);
    unlink(stale[1]);
}

static void test_new_and_replace(void) {
    const char *path = test_tmp_path("new.bin");
    const unsigned char bytes[] = {0, 1, 2, 0xff, 0, '\n'}; /* NULs and all: a byte buffer, not a string */
    CHECK_OK(aic_atomic_write(path, bytes, sizeof bytes, 0644, "the test file"));
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size == (off_t)sizeof bytes && (sb.st_mode & 0777) == 0644);
    FILE *f = fopen(path, "rb");
    unsigned char got[16] = {0};
    CHECK(f && fread(got, 1, sizeof got, f) == sizeof bytes && memcmp(got, bytes, sizeof bytes) == 0);
    if (f)
        fclose(f);

    /* Private files keep their mode (spooled usage records are 0600). */
    const char *secret = test_tmp_path("secret.json");
    CHECK(put(secret, "{}", 0600));
    CHECK(stat(secret, &sb) == 0 && (sb.st_mode & 0777) == 0600);

    /* A replacement is a new inode renamed over the old one: a reader holding the old file open, or
     * a crash mid-write, never sees a mix. */
    const char *rep = test_tmp_path("replace.txt");
    CHECK(put(rep, "old contents, longer than the new", 0644));
    struct stat before, after;
    CHECK(stat(rep, &before) == 0);
    FILE *reader = fopen(rep, "rb");
    CHECK(put(rep, "new", 0644));
    CHECK(stat(rep, &after) == 0 && after.st_ino != before.st_ino);
    CHECK(holds(rep, "new"));
    char old[64] = {0};
    CHECK(reader && fread(old, 1, sizeof old - 1, reader) > 0 && strcmp(old, "old contents, longer than the new") == 0);
    if (reader)
        fclose(reader);

    /* An empty file is a file too. */
    const char *empty = test_tmp_path("empty");
    CHECK_OK(aic_atomic_write(empty, "", 0, 0644, "the test file"));
    CHECK(stat(empty, &sb) == 0 && sb.st_size == 0);
    CHECK(temporaries(test_tmp) == 0);
}

/* A bare file name: the temporary and the directory flush are in the working directory. */
static void test_relative_path(void) {
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(test_tmp) == 0);
    CHECK(put("relative.txt", "here", 0644));
    CHECK(holds("relative.txt", "here"));
    CHECK(temporaries(".") == 0);
    CHECK(chdir(cwd) == 0);
}

/* write(2) fails part way (a file size limit: EFBIG, as a full disk gives ENOSPC): the old file is
 * untouched, a new one never appears, and no temporary is left. */
static void test_failed_write(void) {
    const char *path = test_tmp_path("limited.txt"), *fresh = test_tmp_path("never.txt");
    CHECK(put(path, "old", 0644));
    struct rlimit saved, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    small = saved;
    small.rlim_cur = 8;
    void (*xfsz)(int) = signal(SIGXFSZ, SIG_IGN); /* else the limit kills the process */
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    char big[64];
    memset(big, 'x', sizeof big);
    aic_status s = aic_atomic_write(path, big, sizeof big, 0644, "the test file");
    expect_io_error(s, path, EFBIG);
    CHECK(strstr(aic_last_error(), "the test file") != NULL);
    s = aic_atomic_write(fresh, big, sizeof big, 0644, "the test file");
    expect_io_error(s, fresh, EFBIG);
    CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    signal(SIGXFSZ, xfsz);
    CHECK(holds(path, "old"));
    CHECK(access(fresh, F_OK) != 0 && errno == ENOENT);
    CHECK(temporaries(test_tmp) == 0);
}

static void test_missing_directory(void) {
    const char *path = test_tmp_path("no/such/dir/x.h5");
    expect_io_error(aic_atomic_write(path, "x", 1, 0644, "the test file"), path, ENOENT);
}

/* A directory in the way of the rename: the error names it, the directory stays, no temporary. */
static void test_directory_in_the_way(void) {
    const char *path = test_tmp_path("a_dir");
    CHECK(mkdir(path, 0755) == 0);
    expect_io_error(aic_atomic_write(path, "x", 1, 0644, "the test file"), path, EISDIR);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(temporaries(test_tmp) == 0);
    rmdir(path);
}

/* A read-only directory: EACCES. Root writes anywhere, so the check runs in a child that drops to
 * nobody when it is root. */
static void test_read_only_directory(void) {
    const char *dir = test_tmp_path("ro"), *path = test_tmp_path("ro/x.onnx");
    CHECK(mkdir(dir, 0755) == 0 && put(path, "old", 0644) && chmod(dir, 0555) == 0);
    CHECK(chmod(test_tmp, 0755) == 0); /* mkdtemp's 0700 would stop nobody before the directory itself */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(77);
        aic_status s = aic_atomic_write(path, "new", 3, 0644, "the test file");
        const char *msg = aic_last_error();
        _exit(s == AIC_ERR_IO && strstr(msg, path) && strstr(msg, strerror(EACCES)) ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        printf("read-only directory: skipped (cannot drop root privileges)\n");
    else
        CHECK(WEXITSTATUS(status) == 0);
    CHECK(holds(path, "old"));
    CHECK(temporaries(dir) == 0);
    chmod(dir, 0755);
}

int main(void) {
    /* The writer's temporary names are those the checkpoint directory cleans up. */
    CHECK(strcmp(AIC_ATOMIC_TEMP_INFIX, AIC_CHECKPOINT_TEMP_INFIX) == 0);
    if (test_tmp_make("aicon_test_atomic") != 0)
        return 2;
    umask(022);
    test_stale_temporaries();
    test_new_and_replace();
    test_relative_path();
    test_failed_write();
    test_missing_directory();
    test_directory_in_the_way();
    test_read_only_directory();
    test_tmp_remove();
    return test_report("atomic_file");
}
