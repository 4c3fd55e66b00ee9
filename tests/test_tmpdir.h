// SPDX-License-Identifier: Apache-2.0
/* A scratch directory for one test program: made fresh under $TMPDIR (else /tmp), paths inside it,
 * removed with everything in it at the end. Header-only, as tests/test_util.h; the includer defines
 * _XOPEN_SOURCE 700 (mkdtemp, nftw) before its first include. */
#ifndef AICON_TESTS_TEST_TMPDIR_H
#define AICON_TESTS_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char test_tmp[512];

/* mkdtemp of $TMPDIR/PREFIX_XXXXXX into test_tmp; 0, or -1 with the reason printed. */
static inline int test_tmp_make(const char *prefix) {
    const char *tmpdir = getenv("TMPDIR");
    snprintf(test_tmp, sizeof test_tmp, "%s/%s_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp", prefix);
    if (mkdtemp(test_tmp))
        return 0;
    perror("mkdtemp");
    return -1;
}

/* test_tmp/NAME; the last 8 stay valid, so a call may take several. */
static inline const char *test_tmp_path(const char *name) {
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", test_tmp, name);
    return b;
}

static inline int test_tmp_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    return remove(path);
}

static inline void test_tmp_remove(void) { nftw(test_tmp, test_tmp_remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

#endif
