// SPDX-License-Identifier: Apache-2.0
/* aicon info: the machine, the GPUs, where each rank runs, and the library versions in use. */
#include <cblas.h>
#include <getopt.h>
#include <hdf5.h>
#include <hwloc.h>
#if AICON_HAVE_JSONC
#include <json-c/json.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "tools/tools.h"

static void info_usage(FILE *out) {
    fprintf(out,
            "usage: [mpirun -np N] aicon info [--bind MODE] [--json]\n"
            "\n"
            "Binds every rank as aicon train would, then rank 0 prints the topology of its node (packages,\n"
            "NUMA nodes, cores, PUs, and each GPU with its PCI id, memory and nearest NUMA node), one line\n"
            "per rank (host, rank, local rank, the CPUs it is bound to and what the kernel reports for it,\n"
            "the GPU it would use) and the versions of MPI, CUDA, cuDNN, cuBLAS, NCCL, HDF5, hwloc and\n"
            "OpenBLAS in use.\n"
            "\n"
            "  --bind MODE   auto, none, numa or core, as in aicon train (default auto):\n"
            "                  none  keep the affinity the process started with (the launcher's)\n"
            "                  numa  the CPUs nearest the rank's GPU; without GPUs NUMA node\n"
            "                        (local rank mod NUMA nodes), shared with the ranks on it\n"
            "                  core  numa's set split evenly between the local ranks that share it, so\n"
            "                        no two ranks share a core\n"
            "                  auto  core, unless the launcher's binding already lies inside core's set\n"
            "                        (then that narrower binding is kept)\n"
            "                Open MPI's mpirun binds on its own (to a core for -np 1 or 2, to a package\n"
            "                for more): auto keeps its core binding and replaces its package binding;\n"
            "                numa and core replace either. Pass mpirun --bind-to none to leave all\n"
            "                placement to aicon.\n"
            "  --json        print the report as one JSON object\n"
            "  --help        this text\n");
}

enum { OPT_BIND = 256, OPT_JSON, OPT_HELP };

/* Returns 0 to go on, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, aic_bind_mode *bind, bool *json) {
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, OPT_BIND},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const bool talk = aicon_launcher_rank() == 0;
    *bind = AIC_BIND_AUTO;
    *json = false;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_BIND:
            if (aic_bind_mode_parse(optarg, bind) != AIC_OK) {
                if (talk)
                    fprintf(stderr, "aicon info: %s\n", aic_last_error());
                return 2;
            }
            break;
        case OPT_JSON:
#if AICON_HAVE_JSONC
            *json = true;
            break;
#else
            if (talk)
                fprintf(stderr, "aicon info: --json: this aicon was built without json-c (-DAICON_USAGE=OFF on a "
                                "machine without libjson-c-dev)\n");
            return 2;
#endif
        case OPT_HELP:
            if (talk)
                info_usage(stdout);
            return 1;
        default:
            if (talk) {
                if (c == ':' || optopt >= 256)
                    fprintf(stderr, "aicon info: %s needs a value (see aicon info --help)\n", argv[optind - 1]);
                else
                    fprintf(stderr, "aicon info: unknown flag '%s' (see aicon info --help)\n", argv[optind - 1]);
            }
            return 2;
        }
    }
    if (optind < argc) {
        if (talk)
            fprintf(stderr, "aicon info: unexpected argument '%s' (see aicon info --help)\n", argv[optind]);
        return 2;
    }
    return 0;
}

typedef struct {
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING], hdf5[32], hwloc[32], openblas[256];
    aic_gpu_versions gpu;
} versions;

static void get_versions(versions *v) {
    int len = 0;
    MPI_Get_library_version(v->mpi, &len);
    char *nl = strchr(v->mpi, '\n');
    if (nl)
        *nl = '\0';
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(v->hdf5, sizeof v->hdf5, "%u.%u.%u", maj, min, rel);
    unsigned hw = hwloc_get_api_version();
    /* The library reports its API version only; the release is the header's. */
    snprintf(v->hwloc, sizeof v->hwloc, "%s (API %u.%u)", HWLOC_VERSION, hw >> 16, (hw >> 8) & 0xff);
    snprintf(v->openblas, sizeof v->openblas, "%s", openblas_get_config());
    aic_gpu_versions_get(&v->gpu);
}

/* One GPU as rank 0 sees it, with where it sits in rank 0's topology. */
typedef struct {
    aic_gpu_info info;
    char cpus[AIC_CPULIST_LEN];
    int numa_node;
    char where[256]; /* why cpus is unknown, else "" */
} gpu_row;

/* The GPUs into *out, or none and why into why. */
static aic_status get_gpus(const aic_topology_t *t, gpu_row **out, int *n, char *why, size_t why_len) {
    *out = NULL;
    AIC_TRY(aic_gpu_count(n));
    if (*n == 0) {
        snprintf(why, why_len, "%s", aic_last_error());
        return AIC_OK;
    }
    gpu_row *g = calloc((size_t)*n, sizeof *g);
    if (!g)
        return aic_fail(AIC_ERR_NOMEM, "out of memory for %d GPUs", *n);
    for (int i = 0; i < *n; i++) {
        aic_status st = aic_gpu_info_get(i, &g[i].info);
        if (st != AIC_OK) {
            free(g);
            return st;
        }
        g[i].numa_node = -1;
        if (!t || aic_topology_pci_locality(t, g[i].info.pci_bus_id, g[i].cpus, sizeof g[i].cpus,
                                            &g[i].numa_node) != AIC_OK)
            snprintf(g[i].where, sizeof g[i].where, "%s", t ? aic_last_error() : "no topology");
    }
    *out = g;
    return AIC_OK;
}

static const char *or_not_built(const char *v) { return v[0] ? v : aic_cuda_built() ? "not found" : "not built"; }

static void print_text(const aic_topology_counts *tc, const char *host, const gpu_row *gpus, int ngpus,
                       const char *no_gpu, const aic_placement *all, int world, aic_bind_mode bind,
                       const versions *v) {
    printf("aicon %s on %d rank%s, --bind %s\n", aic_version_string(), world, world > 1 ? "s" : "",
           aic_bind_mode_name(bind));
    printf("topology of %s: %d package%s, %d NUMA node%s, %d core%s, %d PU%s\n", host, tc->packages,
           tc->packages == 1 ? "" : "s", tc->numa_nodes, tc->numa_nodes == 1 ? "" : "s", tc->cores,
           tc->cores == 1 ? "" : "s", tc->pus, tc->pus == 1 ? "" : "s");
    if (ngpus == 0)
        printf("GPUs: none%s%s%s\n", no_gpu[0] ? " (" : "", no_gpu, no_gpu[0] ? ")" : "");
    for (int i = 0; i < ngpus; i++) {
        const gpu_row *g = &gpus[i];
        printf("GPU %d: %s, PCI %s, %.1f GiB, compute %d.%d, ", g->info.index, g->info.name, g->info.pci_bus_id,
               (double)g->info.memory_bytes / (1024.0 * 1024.0 * 1024.0), g->info.cc_major, g->info.cc_minor);
        if (g->where[0])
            printf("locality unknown: %s\n", g->where);
        else
            printf("nearest NUMA node %d (CPUs %s)\n", g->numa_node, g->cpus);
    }
    for (int r = 0; r < world; r++) {
        const aic_placement *p = &all[r];
        const char *applied = strcmp(p->applied, "launcher") == 0 ? "kept the launcher's binding"
                              : strcmp(p->applied, "none") == 0   ? "as started, --bind none"
                              : strcmp(p->applied, "failed") == 0 ? "not bound"
                              : strcmp(p->applied, "core") == 0   ? "bound: core"
                                                                  : "bound: numa";
        printf("rank %d: host %s, local rank %d of %d, CPUs %s (%s; kernel: %s, %d core%s), GPU ", p->rank, p->host,
               p->local_rank, p->local_size, applied[0] == 'b' ? p->planned_cpus : p->launcher_cpus, applied,
               p->kernel_cpus, p->cores, p->cores == 1 ? "" : "s");
        if (p->gpu >= 0)
            printf("%d (%s)", p->gpu, p->gpu_bus_id);
        else
            printf("none");
        if (p->warning[0])
            printf("; warning: %s", p->warning);
        printf("\n");
    }
    printf("versions:\n");
    printf("  MPI:          %s\n", v->mpi);
    printf("  CUDA runtime: %s\n", or_not_built(v->gpu.cuda_runtime));
    printf("  CUDA driver:  %s\n", or_not_built(v->gpu.cuda_driver));
    printf("  cuDNN:        %s\n", or_not_built(v->gpu.cudnn));
    printf("  cuBLAS:       %s\n", or_not_built(v->gpu.cublas));
    printf("  NCCL:         %s\n", or_not_built(v->gpu.nccl));
    printf("  HDF5:         %s\n", v->hdf5);
    printf("  hwloc:        %s\n", v->hwloc);
    printf("  OpenBLAS:     %s\n", v->openblas);
}

#if AICON_HAVE_JSONC
/* A version string, or null for a library this build lacks. */
static json_object *json_version(const char *v) { return v[0] ? json_object_new_string(v) : NULL; }

static json_object *json_cpus(const char *list) { return list[0] ? json_object_new_string(list) : NULL; }

static int print_json(const aic_topology_counts *tc, const char *host, const gpu_row *gpus, int ngpus,
                      const aic_placement *all, int world, aic_bind_mode bind, const versions *v) {
    json_object *root = json_object_new_object();
    if (!root)
        return 1;
    json_object_object_add(root, "aicon_version", json_object_new_string(aic_version_string()));
    json_object_object_add(root, "world_size", json_object_new_int(world));
    json_object_object_add(root, "bind", json_object_new_string(aic_bind_mode_name(bind)));
    json_object_object_add(root, "cuda_built", json_object_new_boolean(aic_cuda_built()));
    json_object *topo = json_object_new_object();
    json_object_object_add(topo, "host", json_object_new_string(host));
    json_object_object_add(topo, "packages", json_object_new_int(tc->packages));
    json_object_object_add(topo, "numa_nodes", json_object_new_int(tc->numa_nodes));
    json_object_object_add(topo, "cores", json_object_new_int(tc->cores));
    json_object_object_add(topo, "pus", json_object_new_int(tc->pus));
    json_object_object_add(root, "topology", topo);
    json_object *ga = json_object_new_array();
    for (int i = 0; i < ngpus; i++) {
        const gpu_row *g = &gpus[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "index", json_object_new_int(g->info.index));
        json_object_object_add(o, "name", json_object_new_string(g->info.name));
        json_object_object_add(o, "pci_bus_id", json_object_new_string(g->info.pci_bus_id));
        json_object_object_add(o, "memory_bytes", json_object_new_int64((int64_t)g->info.memory_bytes));
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", g->info.cc_major, g->info.cc_minor);
        json_object_object_add(o, "compute_capability", json_object_new_string(cc));
        json_object_object_add(o, "numa_node", g->where[0] ? NULL : json_object_new_int(g->numa_node));
        json_object_object_add(o, "cpus", g->where[0] ? NULL : json_cpus(g->cpus));
        if (g->where[0])
            json_object_object_add(o, "locality_error", json_object_new_string(g->where));
        json_object_array_add(ga, o);
    }
    json_object_object_add(root, "gpus", ga);
    json_object *ra = json_object_new_array();
    for (int r = 0; r < world; r++) {
        const aic_placement *p = &all[r];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "rank", json_object_new_int(p->rank));
        json_object_object_add(o, "host", json_object_new_string(p->host));
        json_object_object_add(o, "local_rank", json_object_new_int(p->local_rank));
        json_object_object_add(o, "local_size", json_object_new_int(p->local_size));
        json_object_object_add(o, "bind", json_object_new_string(aic_bind_mode_name(p->mode)));
        json_object_object_add(o, "applied", json_object_new_string(p->applied));
        json_object_object_add(o, "launcher_cpus", json_cpus(p->launcher_cpus));
        json_object_object_add(o, "planned_cpus", json_cpus(p->planned_cpus));
        json_object_object_add(o, "cpus", json_cpus(p->kernel_cpus));
        json_object_object_add(o, "cores", json_object_new_int(p->cores));
        json_object_object_add(o, "gpu", p->gpu >= 0 ? json_object_new_int(p->gpu) : NULL);
        json_object_object_add(o, "gpu_bus_id", p->gpu >= 0 ? json_object_new_string(p->gpu_bus_id) : NULL);
        json_object_object_add(o, "warning", p->warning[0] ? json_object_new_string(p->warning) : NULL);
        json_object_array_add(ra, o);
    }
    json_object_object_add(root, "ranks", ra);
    json_object *vo = json_object_new_object();
    json_object_object_add(vo, "mpi", json_object_new_string(v->mpi));
    json_object_object_add(vo, "cuda_runtime", json_version(v->gpu.cuda_runtime));
    json_object_object_add(vo, "cuda_driver", json_version(v->gpu.cuda_driver));
    json_object_object_add(vo, "cudnn", json_version(v->gpu.cudnn));
    json_object_object_add(vo, "cublas", json_version(v->gpu.cublas));
    json_object_object_add(vo, "nccl", json_version(v->gpu.nccl));
    json_object_object_add(vo, "hdf5", json_object_new_string(v->hdf5));
    json_object_object_add(vo, "hwloc", json_object_new_string(v->hwloc));
    json_object_object_add(vo, "openblas", json_object_new_string(v->openblas));
    json_object_object_add(root, "versions", vo);
    int rc = puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY)) < 0;
    json_object_put(root);
    return rc;
}

#else
/* parse_args refuses --json without json-c. */
static int print_json(const aic_topology_counts *tc, const char *host, const gpu_row *gpus, int ngpus,
                      const aic_placement *all, int world, aic_bind_mode bind, const versions *v) {
    return 1;
}
#endif

/* Rank 0's report; every rank has placed itself and `all` holds them all. */
static int report(const aic_placement *all, int world, aic_bind_mode bind, bool json) {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    aic_topology_t *t = NULL;
    aic_topology_counts tc = {0};
    if (aic_topology_load(NULL, &t) == AIC_OK)
        aic_topology_count(t, &tc);
    else
        fprintf(stderr, "aicon info: warning: %s\n", aic_last_error());
    gpu_row *gpus = NULL;
    int ngpus = 0, rc = 0;
    char no_gpu[512] = "";
    if (get_gpus(t, &gpus, &ngpus, no_gpu, sizeof no_gpu) != AIC_OK) {
        fprintf(stderr, "aicon info: GPUs: %s\n", aic_last_error());
        rc = 1;
    } else {
        versions v;
        get_versions(&v);
        if (json)
            rc = print_json(&tc, host, gpus, ngpus, all, world, bind, &v);
        else
            print_text(&tc, host, gpus, ngpus, no_gpu, all, world, bind, &v);
    }
    fflush(stdout);
    free(gpus);
    aic_topology_destroy(t);
    return rc;
}

int aicon_info_main(int argc, char **argv) {
    aic_bind_mode bind;
    bool json;
    int rc = parse_args(argc, argv, &bind, &json);
    if (rc)
        return rc == 1 ? 0 : 2;
    aic_comm_t *comm = NULL;
    if (!aicon_mpi_start("aicon info", MPI_THREAD_FUNNELED, &comm))
        return 1;
    const int rank = aic_comm_rank(comm), world = aic_comm_size(comm);
    aic_placement mine;
    aic_status local = aic_place_rank(comm, bind, &mine);
    if (local != AIC_OK)
        fprintf(stderr, "aicon info: [rank %d] %s\n", rank, aic_last_error());
    aic_status st = aic_comm_agree(comm, local);
    aic_placement *all = NULL;
    if (st == AIC_OK && rank == 0) {
        all = calloc((size_t)world, sizeof *all);
        if (!all)
            fprintf(stderr, "aicon info: out of memory for %d placements\n", world);
    }
    if (st == AIC_OK)
        st = aic_comm_agree(comm, rank == 0 && !all ? AIC_ERR_NOMEM : AIC_OK);
    if (st == AIC_OK)
        st = aic_placement_gather(comm, &mine, all);
    int exit_code = st != AIC_OK;
    if (st == AIC_OK && rank == 0)
        exit_code = report(all, world, bind, json);
    free(all);
    aic_comm_destroy(comm);
    MPI_Finalize();
    return exit_code;
}
