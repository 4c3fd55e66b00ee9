// SPDX-License-Identifier: Apache-2.0
/* The aicon command: `aicon train ...`, `aicon export ...`, `aicon generate ...`, `aicon onnx-test ...`,
 * `aicon --version`, `aicon --help`. */
#include <cblas.h>
#include <hdf5.h>
#include <hwloc.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools.h"

int aicon_launcher_rank(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

bool aicon_mpi_start(const char *cmd, int thread_level, aic_comm_t **comm) {
    int provided;
    if (MPI_Init_thread(NULL, NULL, thread_level, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", cmd);
        return false;
    }
    if (aic_comm_create(comm, MPI_COMM_WORLD) != AIC_OK) {
        fprintf(stderr, "%s: %s\n", cmd, aic_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return true;
}

/* One row per command; each prints its own --help. */
static const struct {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", aicon_train_main, "train a model (aicon train --help)"},
    {"export", aicon_export_main, "write a checkpoint's model as an ONNX file (aicon export --help)"},
    {"info", aicon_info_main, "the topology, GPUs, each rank's CPU binding and library versions (aicon info --help)"},
    {"keygen", aicon_keygen_main, "make a miner key for signing usage records (aicon keygen --help)"},
    {"ledger", aicon_ledger_main, "verify, show or flush usage records (aicon ledger --help)"},
    {"tokenize", aicon_tokenize_main, "text as token files for language models (aicon tokenize --help)"},
    {"generate", aicon_generate_main, "continue a text with a trained language model (aicon generate --help)"},
    {"proof", aicon_proof_main, "per-op digests of one step of a proof log (aicon proof ops --help)"},
    {"verify", aicon_verify_main, "replay a share of a job from its proof log, bit for bit (aicon verify --help)"},
    {"onnx-test", aicon_onnx_test_main, "run ONNX backend test cases through the importer (aicon onnx-test --help)"},
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: aicon <command> [options]\n"
            "\n"
            "Data-parallel deep-learning training over MPI. Start one process per GPU or CPU socket:\n"
            "  mpirun -np 2 aicon train --model lenet\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  --version   print the versions of aicon and of the libraries it runs on\n"
            "  --help      this text\n");
}

static void version(void) {
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *nl = strchr(mpi, '\n');
    if (nl)
        *nl = '\0';
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    unsigned hw = hwloc_get_api_version();
    printf("aicon %s\n", aic_version_string());
    printf("  MPI:      %s\n", mpi);
    printf("  HDF5:     %u.%u.%u\n", maj, min, rel);
    printf("  BLAS:     %s\n", openblas_get_config());
    printf("  hwloc:    %u.%u.%u\n", hw >> 16, (hw >> 8) & 0xff, hw & 0xff);
    printf("  backends: %s\n", aic_cuda_built() ? "cpu cuda" : "cpu");
    if (aic_cuda_built()) {
        aic_gpu_versions v;
        aic_gpu_versions_get(&v);
        printf("  CUDA:     runtime %s, driver %s, cuBLAS %s, cuDNN %s, NCCL %s\n", v.cuda_runtime,
               v.cuda_driver[0] ? v.cuda_driver : "none", v.cublas, v.cudnn, v.nccl);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        if (aicon_launcher_rank() == 0)
            usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        version();
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    if (aicon_launcher_rank() == 0) {
        fprintf(stderr, "aicon: unknown command '%s' (commands:", argv[1]);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            fprintf(stderr, "%s %s", i ? "," : "", commands[i].name);
        fprintf(stderr, "; see aicon --help)\n");
    }
    return 2;
}
