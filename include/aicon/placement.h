// SPDX-License-Identifier: Apache-2.0
/* Placement: which GPU each rank uses and which CPUs it runs on (hwloc).
 *
 * A rank's GPU is its node-local rank modulo the GPU count. Its CPUs come from a "domain": for a
 * GPU run the CPUs nearest its GPU (the cpuset of the GPU's nearest non-I/O ancestor in the hwloc
 * topology, usually a NUMA node or package); for a CPU run NUMA node (local rank mod the number of
 * NUMA nodes that have CPUs). Modes:
 *   AIC_BIND_NONE  leave the affinity the process started with (the launcher's binding, if any);
 *   AIC_BIND_NUMA  bind to the whole domain, shared with the other local ranks in it;
 *   AIC_BIND_CORE  split the domain's cores evenly between the local ranks that share it, so no two
 *                  ranks share a core (while there are at least as many cores as ranks);
 *   AIC_BIND_AUTO  AIC_BIND_CORE's set, unless the launcher's binding already lies inside it (say
 *                  mpirun --bind-to core): then that narrower binding is kept.
 * The whole process is bound, threads included, so BLAS threads started earlier stay inside it. A
 * binding the system refuses (a cgroup, a container) is not an error: the placement records a
 * warning naming the cpuset, and the process runs where it was. */
#ifndef AICON_PLACEMENT_H
#define AICON_PLACEMENT_H

#include <stddef.h>

#include "aicon/comm.h"
#include "aicon/export.h"
#include "aicon/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AIC_BIND_AUTO = 0, AIC_BIND_NONE = 1, AIC_BIND_NUMA = 2, AIC_BIND_CORE = 3 } aic_bind_mode;

/* "auto", "none", "numa", "core". */
AIC_API const char *aic_bind_mode_name(aic_bind_mode m);
/* Parse one of the names above; an unknown one fails with AIC_ERR_INVALID_ARG naming it. */
AIC_API aic_status aic_bind_mode_parse(const char *text, aic_bind_mode *out);

/* CPU lists are written as Linux writes them: "0-3,8-11". */
#define AIC_CPULIST_LEN 256

/* One rank's placement: a plain struct (no pointers), so ranks can gather it as bytes. */
typedef struct {
    char host[64];
    int rank, local_rank, local_size;
    aic_bind_mode mode;               /* as asked */
    char applied[16];                 /* what happened: "core", "numa", "launcher" (kept), "none", "failed" */
    int gpu;                          /* GPU index this rank uses, -1 for none */
    char gpu_bus_id[32];              /* its PCI id, "" for none */
    char launcher_cpus[AIC_CPULIST_LEN]; /* the affinity the process started with */
    char planned_cpus[AIC_CPULIST_LEN];  /* the set the mode chose ("" for none) */
    char kernel_cpus[AIC_CPULIST_LEN];   /* what sched_getaffinity reports after binding */
    int cores;                        /* cores that kernel_cpus touches */
    char warning[640];                /* why binding failed or is weak (cores shared), else "" */
} aic_placement;

/* Binds this process as `mode` says for its local rank in c and fills *out. Local, not collective.
 * Fails only on bad arguments or no memory; a refused binding is out->warning. */
AIC_API aic_status aic_place_rank(const aic_comm_t *c, aic_bind_mode mode, aic_placement *out);

/* Collective: rank 0 receives every rank's placement into all[0 .. size-1] (others may pass NULL). */
AIC_API aic_status aic_placement_gather(aic_comm_t *c, const aic_placement *mine, aic_placement *all);

/* ---- the topology, for aicon info and for planning without binding ----------------------------- */

typedef struct aic_topology aic_topology_t;

/* NULL: this machine, with its PCI devices. Otherwise an hwloc synthetic description such as
 * "package:2 numa:1 core:4 pu:2" (no PCI devices), to plan for another machine or to test. */
AIC_API aic_status aic_topology_load(const char *synthetic, aic_topology_t **out);
AIC_API void aic_topology_destroy(aic_topology_t *t);

typedef struct {
    int packages, numa_nodes, cores, pus;
} aic_topology_counts;
AIC_API void aic_topology_count(const aic_topology_t *t, aic_topology_counts *out);

/* Where a PCI device sits: the CPUs of its nearest non-I/O ancestor as a list, and the OS index of
 * the first NUMA node those CPUs belong to (-1 when the machine reports none). bus_id is
 * "domain:bus:device.function" in hex ("0000:65:00.0"; CUDA's 8-digit domain works too). Fails with
 * AIC_ERR_INVALID_ARG for a malformed id and AIC_ERR_MISMATCH when no such device is in the topology. */
AIC_API aic_status aic_topology_pci_locality(const aic_topology_t *t, const char *bus_id, char *cpus, size_t cpus_len,
                                             int *numa_node);

/* The CPU list `mode` (AIC_BIND_NUMA or AIC_BIND_CORE) gives local rank `local_rank` of
 * `local_size` on this topology: with ngpus > 0, rank r uses GPU r mod ngpus and its domain is that
 * GPU's locality (gpu_bus_ids[0 .. ngpus-1]); with ngpus == 0 it is NUMA node r mod n. Core mode
 * splits a domain among the local ranks whose domain is the same set. *shared is set when ranks
 * outnumber the domain's cores and some core therefore carries two of them (may be NULL). */
AIC_API aic_status aic_topology_plan(const aic_topology_t *t, aic_bind_mode mode, int local_rank, int local_size,
                                     int ngpus, const char *const *gpu_bus_ids, char *cpus, size_t cpus_len,
                                     int *shared);

#ifdef __cplusplus
}
#endif
#endif
