// SPDX-License-Identifier: Apache-2.0
/* Internal error helpers: set the thread's last-error message and return the status. */
#ifndef AICON_CORE_ERROR_H
#define AICON_CORE_ERROR_H

#include "aicon/status.h"

#if defined(__GNUC__)
#define AIC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AIC_PRINTF(a, b)
#endif

/* Record "message" as the last error and return s. */
aic_status aic_fail(aic_status s, const char *fmt, ...) AIC_PRINTF(2, 3);
/* Prepend context ("loading x.h5: ") to the current last error and return s. */
aic_status aic_fail_context(aic_status s, const char *fmt, ...) AIC_PRINTF(2, 3);
void aic_clear_error(void);

/* Propagate a failure upward unchanged. */
#define AIC_TRY(expr)                     \
    do {                                  \
        aic_status aic_try_s_ = (expr);   \
        if (aic_try_s_ != AIC_OK)         \
            return aic_try_s_;            \
    } while (0)

/* Propagate a failure to a cleanup label: needs `aic_status st` and `cleanup:` in scope. */
#define AIC_TRY_GOTO(expr)        \
    do {                          \
        st = (expr);              \
        if (st != AIC_OK)         \
            goto cleanup;         \
    } while (0)

#endif
