// SPDX-License-Identifier: Apache-2.0
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AIC_ERRBUF 1024

static _Thread_local char last_error[AIC_ERRBUF];

aic_status aic_fail(aic_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

aic_status aic_fail_context(aic_status s, const char *fmt, ...) {
    char prefix[AIC_ERRBUF], old[AIC_ERRBUF];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    memcpy(last_error, prefix, n + 1);
    /* Keep as much of the old message as fits; truncation is acceptable for a diagnostic. */
    strncat(last_error, old, sizeof last_error - n - 1);
    return s;
}

void aic_clear_error(void) { last_error[0] = '\0'; }

const char *aic_last_error(void) { return last_error; }

const char *aic_status_string(aic_status s) {
    switch (s) {
    case AIC_OK: return "ok";
    case AIC_ERR_INVALID_ARG: return "invalid argument";
    case AIC_ERR_NOMEM: return "out of memory";
    case AIC_ERR_IO: return "I/O error";
    case AIC_ERR_FORMAT: return "malformed input";
    case AIC_ERR_SHAPE: return "shape mismatch";
    case AIC_ERR_MISMATCH: return "mismatch";
    case AIC_ERR_COMM: return "communication error";
    case AIC_ERR_UNSUPPORTED: return "unsupported";
    case AIC_ERR_STATE: return "wrong call order";
    case AIC_ERR_INTERNAL: return "internal error";
    case AIC_ERR_NONFINITE: return "non-finite value";
    }
    return "unknown status";
}

#define AIC_STR2(x) #x
#define AIC_STR(x) AIC_STR2(x)

const char *aic_version_string(void) {
    return AIC_STR(AICON_VERSION_MAJOR) "." AIC_STR(AICON_VERSION_MINOR) "." AIC_STR(AICON_VERSION_PATCH);
}

int aic_version_code(void) { return AICON_VERSION_CODE; }
