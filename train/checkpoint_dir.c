// SPDX-License-Identifier: Apache-2.0
/* The trainer's checkpoint directory: names by step, the newest K kept, --resume auto's choice. */
#include <ctype.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "train/checkpoint_dir.h"

#define PREFIX "ckpt-step-"
#define SUFFIX ".h5"

aic_status aic_ckpt_path(const char *dir, int64_t step, char *out, size_t size) {
    int n = snprintf(out, size, "%s/" PREFIX "%08lld" SUFFIX, dir, (long long)step);
    return n > 0 && (size_t)n < size ? AIC_OK : aic_fail(AIC_ERR_INVALID_ARG, "--checkpoint-dir %.64s...: path too long", dir);
}

/* The step of a checkpoint's file name, or -1 for any other name (temporary files included). */
static int64_t step_of(const char *name) {
    size_t lp = strlen(PREFIX), n = strlen(name);
    if (n <= lp + strlen(SUFFIX) || strncmp(name, PREFIX, lp) != 0 || strcmp(name + n - strlen(SUFFIX), SUFFIX) != 0)
        return -1;
    int64_t step = 0;
    for (const char *p = name + lp; p < name + n - strlen(SUFFIX); p++) {
        if (!isdigit((unsigned char)*p) || step > (INT64_MAX - 9) / 10)
            return -1;
        step = step * 10 + (*p - '0');
    }
    return step;
}

static int newest_first(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* The steps of dir's checkpoints, newest first, in a malloc'd array (*steps NULL when *n is 0). */
static aic_status list_steps(const char *dir, int64_t **steps, int *n) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return aic_fail(AIC_ERR_IO, "--checkpoint-dir %s: %s", dir, strerror(errno));
    int cap = 0;
    aic_status s = AIC_OK;
    for (struct dirent *e; s == AIC_OK && (e = readdir(d));) {
        int64_t step = step_of(e->d_name);
        if (step < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *grown = realloc(*steps, sizeof(int64_t) * (size_t)cap);
            if (!grown) {
                s = aic_fail(AIC_ERR_NOMEM, "--checkpoint-dir %s: out of memory listing checkpoints", dir);
                break;
            }
            *steps = grown;
        }
        (*steps)[(*n)++] = step;
    }
    closedir(d);
    if (s != AIC_OK) {
        free(*steps);
        *steps = NULL;
        *n = 0;
        return s;
    }
    if (*n > 1) /* qsort of a NULL array is undefined even for no elements (an empty directory) */
        qsort(*steps, (size_t)*n, sizeof(int64_t), newest_first);
    return AIC_OK;
}

aic_status aic_ckpt_dir_prepare(const char *dir, int *removed) {
    *removed = 0;
    struct stat sb;
    if (stat(dir, &sb) != 0 && (errno != ENOENT || mkdir(dir, 0777) != 0))
        return aic_fail(AIC_ERR_IO, "--checkpoint-dir %s: cannot create it: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "--checkpoint-dir %s: not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return aic_fail(AIC_ERR_IO, "--checkpoint-dir %s: directory is not writable: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        return aic_fail(AIC_ERR_IO, "--checkpoint-dir %s: %s", dir, strerror(errno));
    /* A writer killed between create and rename leaves NAME.h5.tmp.PID.N: never a checkpoint, only space. */
    char path[4096];
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0 &&
            strstr(e->d_name, SUFFIX AIC_CHECKPOINT_TEMP_INFIX) != NULL &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path && unlink(path) == 0)
            ++*removed;
    closedir(d);
    return AIC_OK;
}

void aic_ckpt_prune(const char *dir, int keep, aic_ckpt_warn_fn warn, void *ctx) {
    int64_t *steps;
    int n;
    if (keep <= 0)
        return;
    if (list_steps(dir, &steps, &n) != AIC_OK) {
        char text[1200];
        snprintf(text, sizeof text, "old checkpoints not removed: %s", aic_last_error());
        warn(ctx, text);
        return;
    }
    char path[4096], text[4400];
    for (int i = keep; i < n; i++)
        if (aic_ckpt_path(dir, steps[i], path, sizeof path) == AIC_OK && unlink(path) != 0) {
            snprintf(text, sizeof text, "cannot remove the old checkpoint %s: %s", path, strerror(errno));
            warn(ctx, text);
        }
    free(steps);
}

aic_status aic_ckpt_resume_auto(const char *dir, aic_model_t *m, aic_optim_t *o, aic_train_state *st,
                                char *path_out, size_t size, aic_ckpt_warn_fn warn, void *ctx) {
    path_out[0] = '\0';
    int64_t *steps;
    int n;
    AIC_TRY(list_steps(dir, &steps, &n));
    aic_status s = AIC_OK;
    for (int i = 0; i < n; i++) {
        if (aic_ckpt_path(dir, steps[i], path_out, size) != AIC_OK) {
            free(steps);
            return AIC_ERR_INVALID_ARG;
        }
        s = aic_checkpoint_load(path_out, m, o, st);
        if (s == AIC_OK)
            break;
        /* The load's message usually starts with the path already: name it once. */
        const char *why = aic_last_error();
        size_t lp = strlen(path_out);
        if (strncmp(why, path_out, lp) == 0 && why[lp] == ':' && why[lp + 1] == ' ')
            why += lp + 2;
        char text[5200];
        snprintf(text, sizeof text, "skipping %s: %s", path_out, why);
        warn(ctx, text);
        path_out[0] = '\0';
    }
    free(steps);
    if (s != AIC_OK)
        return aic_fail(AIC_ERR_FORMAT,
                        "--resume auto: %s holds %d checkpoint%s and none can be loaded (see the warnings); move "
                        "them away to start afresh, or name one with --resume FILE",
                        dir, n, n == 1 ? "" : "s");
    return AIC_OK;
}
