// SPDX-License-Identifier: Apache-2.0
/* AIC_API marks the public calls: libaicon.so is built with hidden visibility by default, so only
 * what carries this mark is exported, never aicon's internal functions. */
#ifndef AICON_EXPORT_H
#define AICON_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define AIC_API __attribute__((visibility("default")))
#else
#define AIC_API
#endif

#endif
