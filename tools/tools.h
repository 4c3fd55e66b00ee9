/* Shared by the aicon command's subcommands. Only tools/ prints usage and exits. */
#ifndef AICON_TOOLS_H
#define AICON_TOOLS_H

#include <stdint.h>
#include "aicon/aicon.h"

/* This process's rank as the launcher announces it (mpirun, srun), before MPI is initialized:
 * lets only one process print usage errors without starting MPI. */
int aicon_launcher_rank(void);

/* Build the built-in model `name` ("mlp", "lenet") for samples of the given shape and classes. */
aic_status aicon_builtin_model(const char *name, int ndim, const int64_t *shape, int classes, aic_model_t **out,
                               aic_io_values *io);
extern const char *const aicon_builtin_model_names;

int aicon_train_main(int argc, char **argv);
/* aicon onnx-test DIR...: the ONNX backend test cases under DIR against the importer. */
int aicon_onnx_test_main(int argc, char **argv);

#endif
