// SPDX-License-Identifier: Apache-2.0
/* The one way aicon replaces a file: checkpoints, the ONNX export, spooled usage records and the run
 * summary all go through aic_atomic_write, so a crash at any moment leaves either the old file or the
 * whole new one under the final name, and a file reported written survives a power loss. */
#ifndef AICON_CORE_ATOMIC_FILE_H
#define AICON_CORE_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "aicon/status.h"

/* Between the final name and the writer's tag in a temporary file's name: "x.h5.tmp.1234.0" (pid,
 * then a count). A writer killed before the rename leaves such a file; aic_ckpt_dir_prepare
 * recognizes it by this text, the same as the public AIC_CHECKPOINT_TEMP_INFIX. */
#define AIC_ATOMIC_TEMP_INFIX ".tmp."

/* Write len bytes of data to path: into a new temporary file in path's directory (created with mode,
 * less the umask), fsync'd, renamed over path, then the directory fsync'd. what names the contents
 * in messages ("the checkpoint"). On failure (AIC_ERR_IO) the message names path and the OS reason,
 * no temporary file is left, and whatever was at path before is untouched, unless only the final
 * directory flush failed: then path holds the new contents, perhaps not yet durably. */
aic_status aic_atomic_write(const char *path, const void *data, size_t len, mode_t mode, const char *what);

#endif
