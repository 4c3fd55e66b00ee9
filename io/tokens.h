// SPDX-License-Identifier: Apache-2.0
/* Internal: llm.c's token shard, the file aic_dataset_load_tokens reads and aicon tokenize writes
 * (karpathy/llm.c, dev/data/data_common.py): a header of 256 little-endian int32 (magic, version, the
 * token count, zeros), then the tokens as little-endian uint16, and nothing after them. */
#ifndef AICON_IO_TOKENS_H
#define AICON_IO_TOKENS_H

#include <stdint.h>

#include "aicon/status.h"

#define AIC_TOKENS_MAGIC 20240520
#define AIC_TOKENS_VERSION 1 /* uint16 tokens (llm.c's version 2 holds uint32 ones) */
#define AIC_TOKENS_HEADER_BYTES (256 * 4)

/* Write the n tokens (n <= INT32_MAX: the count is an int32) to path as a shard, atomically
 * (core/atomic_file.h); failures name path. */
aic_status aic_io_tokens_write_shard(const char *path, const uint16_t *tokens, int64_t n);

#endif
