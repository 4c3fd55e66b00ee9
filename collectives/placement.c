// SPDX-License-Identifier: Apache-2.0
/* Placement with hwloc: the GPU of a rank, the CPUs nearest it, and binding the process there. */
#define _GNU_SOURCE /* sched_getaffinity, cpu_set_t */
#include <errno.h>
#include <hwloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aicon/device.h"
#include "aicon/placement.h"
#include "core/error.h"

static const char *const mode_names[] = {"auto", "none", "numa", "core"};

const char *aic_bind_mode_name(aic_bind_mode m) {
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "?";
}

aic_status aic_bind_mode_parse(const char *text, aic_bind_mode *out) {
    for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++)
        if (text && strcmp(text, mode_names[i]) == 0) {
            *out = (aic_bind_mode)i;
            return AIC_OK;
        }
    return aic_fail(AIC_ERR_INVALID_ARG, "--bind: unknown mode '%s' (choose from auto, none, numa, core)",
                    text ? text : "(null)");
}

struct aic_topology {
    hwloc_topology_t h;
};

aic_status aic_topology_load(const char *synthetic, aic_topology_t **out) {
    *out = NULL;
    aic_topology_t *t = calloc(1, sizeof *t);
    if (!t)
        return aic_fail(AIC_ERR_NOMEM, "topology: out of memory");
    if (hwloc_topology_init(&t->h) != 0) {
        free(t);
        return aic_fail(AIC_ERR_NOMEM, "hwloc_topology_init: %s", strerror(errno));
    }
    int e;
    if (synthetic) {
        e = hwloc_topology_set_synthetic(t->h, synthetic);
        if (e != 0) {
            hwloc_topology_destroy(t->h);
            free(t);
            return aic_fail(AIC_ERR_INVALID_ARG, "hwloc cannot read the synthetic topology '%s'", synthetic);
        }
    } else {
        /* GPUs are PCI devices: keep them all, so any bus id the driver names can be found. */
        hwloc_topology_set_io_types_filter(t->h, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
        hwloc_topology_set_type_filter(t->h, HWLOC_OBJ_PCI_DEVICE, HWLOC_TYPE_FILTER_KEEP_ALL);
    }
    e = hwloc_topology_load(t->h);
    if (e != 0) {
        int err = errno;
        hwloc_topology_destroy(t->h);
        free(t);
        return aic_fail(AIC_ERR_IO, "hwloc cannot load the machine topology: %s", strerror(err));
    }
    *out = t;
    return AIC_OK;
}

void aic_topology_destroy(aic_topology_t *t) {
    if (!t)
        return;
    hwloc_topology_destroy(t->h);
    free(t);
}

static int count_type(hwloc_topology_t h, hwloc_obj_type_t type) {
    int n = hwloc_get_nbobjs_by_type(h, type);
    return n > 0 ? n : 0;
}

void aic_topology_count(const aic_topology_t *t, aic_topology_counts *out) {
    out->packages = count_type(t->h, HWLOC_OBJ_PACKAGE);
    out->numa_nodes = count_type(t->h, HWLOC_OBJ_NUMANODE);
    out->cores = count_type(t->h, HWLOC_OBJ_CORE);
    out->pus = count_type(t->h, HWLOC_OBJ_PU);
}

static void cpulist(char *dst, size_t len, hwloc_const_bitmap_t set) {
    if (len == 0)
        return;
    if (hwloc_bitmap_list_snprintf(dst, len, set) < 0)
        dst[0] = '\0';
}

/* The CPUs nearest a PCI device, by bus id: a cpuset owned by the topology. */
static aic_status pci_cpuset(const aic_topology_t *t, const char *bus_id, hwloc_const_cpuset_t *out) {
    unsigned domain, bus, dev, func;
    int used = -1;
    if (!bus_id || sscanf(bus_id, "%x:%x:%x.%x%n", &domain, &bus, &dev, &func, &used) != 4 || used < 0 ||
        bus_id[used] != '\0')
        return aic_fail(AIC_ERR_INVALID_ARG, "PCI bus id '%s' is malformed (want domain:bus:device.function in hex, "
                        "e.g. 0000:65:00.0)", bus_id ? bus_id : "(null)");
    hwloc_obj_t pci = hwloc_get_pcidev_by_busid(t->h, domain, bus, dev, func);
    if (!pci)
        return aic_fail(AIC_ERR_MISMATCH, "no such PCI device %04x:%02x:%02x.%x in this machine's topology (hwloc "
                        "found %d PCI devices)", domain, bus, dev, func, count_type(t->h, HWLOC_OBJ_PCI_DEVICE));
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(t->h, pci);
    if (!anc || !anc->cpuset || hwloc_bitmap_iszero(anc->cpuset))
        return aic_fail(AIC_ERR_MISMATCH, "PCI device %s has no CPUs near it in this machine's topology", bus_id);
    *out = anc->cpuset;
    return AIC_OK;
}

aic_status aic_topology_pci_locality(const aic_topology_t *t, const char *bus_id, char *cpus, size_t cpus_len,
                                     int *numa_node) {
    hwloc_const_cpuset_t set;
    AIC_TRY(pci_cpuset(t, bus_id, &set));
    if (cpus)
        cpulist(cpus, cpus_len, set);
    if (numa_node) {
        hwloc_obj_t node = hwloc_get_next_obj_covering_cpuset_by_type(t->h, set, HWLOC_OBJ_NUMANODE, NULL);
        if (!node) /* the set spans several nodes: the first one holding any of its CPUs */
            for (node = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, NULL); node;
                 node = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, node))
                if (hwloc_bitmap_intersects(node->cpuset, set))
                    break;
        *numa_node = node ? (int)node->os_index : -1;
    }
    return AIC_OK;
}

/* Domain of local rank r into set: its GPU's nearest CPUs, or NUMA node r mod (nodes with CPUs). */
static aic_status rank_domain(const aic_topology_t *t, int r, int ngpus, const char *const *bus_ids,
                              hwloc_bitmap_t set) {
    if (ngpus > 0) {
        hwloc_const_cpuset_t g;
        AIC_TRY(pci_cpuset(t, bus_ids[r % ngpus], &g));
        hwloc_bitmap_copy(set, g);
        return AIC_OK;
    }
    int nodes = 0;
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, n)))
        nodes += !hwloc_bitmap_iszero(n->cpuset); /* memory-only nodes (CXL, HBM) run nobody */
    if (nodes == 0) {
        hwloc_bitmap_copy(set, hwloc_topology_get_topology_cpuset(t->h));
        return AIC_OK;
    }
    int want = r % nodes;
    n = NULL;
    while ((n = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, n)))
        if (!hwloc_bitmap_iszero(n->cpuset) && want-- == 0)
            break;
    hwloc_bitmap_copy(set, n->cpuset);
    return AIC_OK;
}

/* Share `index` of `sharers` of the cores (PUs where the machine reports no cores) in domain. */
static void split_cores(const aic_topology_t *t, hwloc_const_bitmap_t domain, int index, int sharers,
                        hwloc_bitmap_t out, int *shared) {
    hwloc_obj_type_t unit = count_type(t->h, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->h, unit, o));)
        n += hwloc_bitmap_intersects(o->cpuset, domain);
    int lo, hi; /* cores [lo, hi) of the domain, in logical order */
    if (n >= sharers) {
        lo = (int)((long)index * n / sharers);
        hi = (int)((long)(index + 1) * n / sharers);
    } else {
        lo = index % n;
        hi = lo + 1;
        *shared = 1;
    }
    hwloc_bitmap_zero(out);
    int i = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->h, unit, o));) {
        if (!hwloc_bitmap_intersects(o->cpuset, domain))
            continue;
        if (i >= lo && i < hi)
            hwloc_bitmap_or(out, out, o->cpuset);
        i++;
    }
    hwloc_bitmap_and(out, out, domain);
}

static aic_status plan_set(const aic_topology_t *t, aic_bind_mode mode, int local_rank, int local_size, int ngpus,
                           const char *const *bus_ids, hwloc_bitmap_t out, int *shared) {
    if (mode != AIC_BIND_NUMA && mode != AIC_BIND_CORE)
        return aic_fail(AIC_ERR_INVALID_ARG, "placement plan: mode %s binds nothing (want numa or core)",
                        aic_bind_mode_name(mode));
    if (local_size < 1 || local_rank < 0 || local_rank >= local_size || ngpus < 0 || (ngpus > 0 && !bus_ids))
        return aic_fail(AIC_ERR_INVALID_ARG, "placement plan: local rank %d of %d with %d GPUs", local_rank,
                        local_size, ngpus);
    *shared = 0;
    hwloc_bitmap_t mine = hwloc_bitmap_alloc(), other = hwloc_bitmap_alloc();
    aic_status st = AIC_OK;
    if (!mine || !other) {
        st = aic_fail(AIC_ERR_NOMEM, "placement plan: out of memory");
        goto cleanup;
    }
    AIC_TRY_GOTO(rank_domain(t, local_rank, ngpus, bus_ids, mine));
    if (mode == AIC_BIND_NUMA) {
        hwloc_bitmap_copy(out, mine);
        goto cleanup;
    }
    /* Core mode: the local ranks with the same domain split it, in local-rank order. */
    int index = 0, sharers = 0;
    for (int r = 0; r < local_size; r++) {
        AIC_TRY_GOTO(rank_domain(t, r, ngpus, bus_ids, other));
        if (hwloc_bitmap_isequal(other, mine)) {
            index += r < local_rank;
            sharers++;
        }
    }
    split_cores(t, mine, index, sharers, out, shared);
cleanup:
    hwloc_bitmap_free(mine);
    hwloc_bitmap_free(other);
    return st;
}

aic_status aic_topology_plan(const aic_topology_t *t, aic_bind_mode mode, int local_rank, int local_size,
                             int ngpus, const char *const *gpu_bus_ids, char *cpus, size_t cpus_len, int *shared) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return aic_fail(AIC_ERR_NOMEM, "placement plan: out of memory");
    int sh = 0;
    aic_status st = plan_set(t, mode, local_rank, local_size, ngpus, gpu_bus_ids, set, &sh);
    if (st == AIC_OK) {
        cpulist(cpus, cpus_len, set);
        if (shared)
            *shared = sh;
    }
    hwloc_bitmap_free(set);
    return st;
}

/* The kernel's view of this thread's affinity, as an hwloc bitmap. */
static int kernel_affinity(hwloc_bitmap_t out) {
    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (sched_getaffinity(0, sizeof cs, &cs) != 0)
        return -1;
    hwloc_bitmap_zero(out);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &cs))
            hwloc_bitmap_set(out, (unsigned)cpu);
    return 0;
}

static int cores_touched(const aic_topology_t *t, hwloc_const_bitmap_t set) {
    hwloc_obj_type_t unit = count_type(t->h, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->h, unit, o));)
        n += hwloc_bitmap_intersects(o->cpuset, set);
    return n;
}

aic_status aic_place_rank(const aic_comm_t *c, aic_bind_mode mode, aic_placement *out) {
    if (!c || !out || (unsigned)mode > AIC_BIND_CORE)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_place_rank: no communicator, no output or an unknown mode");
    memset(out, 0, sizeof *out);
    gethostname(out->host, sizeof out->host - 1);
    out->rank = aic_comm_rank(c);
    out->local_rank = aic_comm_local_rank(c);
    out->local_size = aic_comm_local_size(c);
    out->mode = mode;
    out->gpu = -1;

    aic_status st = AIC_OK;
    aic_topology_t *t = NULL;
    char(*bus)[32] = NULL;
    const char **bus_ptr = NULL;
    hwloc_bitmap_t launcher = hwloc_bitmap_alloc(), plan = hwloc_bitmap_alloc(), now = hwloc_bitmap_alloc();
    if (!launcher || !plan || !now) {
        st = aic_fail(AIC_ERR_NOMEM, "aic_place_rank: out of memory");
        goto cleanup;
    }
    if (kernel_affinity(launcher) == 0)
        cpulist(out->launcher_cpus, sizeof out->launcher_cpus, launcher);

    int ngpus = 0;
    AIC_TRY_GOTO(aic_gpu_count(&ngpus));
    if (ngpus > 0) {
        bus = calloc((size_t)ngpus, sizeof *bus);
        bus_ptr = calloc((size_t)ngpus, sizeof *bus_ptr);
        if (!bus || !bus_ptr) {
            st = aic_fail(AIC_ERR_NOMEM, "aic_place_rank: out of memory");
            goto cleanup;
        }
        for (int g = 0; g < ngpus; g++) {
            aic_gpu_info gi;
            AIC_TRY_GOTO(aic_gpu_info_get(g, &gi));
            snprintf(bus[g], sizeof bus[g], "%s", gi.pci_bus_id);
            bus_ptr[g] = bus[g];
        }
        out->gpu = out->local_rank % ngpus;
        snprintf(out->gpu_bus_id, sizeof out->gpu_bus_id, "%s", bus[out->gpu]);
    }

    if (aic_topology_load(NULL, &t) != AIC_OK) {
        snprintf(out->warning, sizeof out->warning, "not bound: %s", aic_last_error());
        snprintf(out->applied, sizeof out->applied, "%s", mode == AIC_BIND_NONE ? "none" : "failed");
        aic_clear_error();
        goto report;
    }
    if (mode == AIC_BIND_NONE) {
        snprintf(out->applied, sizeof out->applied, "none");
        goto report;
    }
    int shared = 0;
    if (plan_set(t, mode == AIC_BIND_NUMA ? AIC_BIND_NUMA : AIC_BIND_CORE, out->local_rank, out->local_size, ngpus,
                 bus_ptr, plan, &shared) != AIC_OK) {
        /* e.g. the driver names a GPU hwloc cannot see (a container hiding /sys): run unbound. */
        snprintf(out->warning, sizeof out->warning, "not bound: %s", aic_last_error());
        snprintf(out->applied, sizeof out->applied, "failed");
        aic_clear_error();
        goto report;
    }
    cpulist(out->planned_cpus, sizeof out->planned_cpus, plan);
    if (shared)
        snprintf(out->warning, sizeof out->warning,
                 "%d local ranks outnumber the cores near them: CPUs %s carry more than one rank", out->local_size,
                 out->planned_cpus);
    if (mode == AIC_BIND_AUTO && !hwloc_bitmap_iszero(launcher) && hwloc_bitmap_isincluded(launcher, plan)) {
        snprintf(out->applied, sizeof out->applied, "launcher");
        goto report;
    }
    /* The whole process, so threads already started (OpenBLAS's pool, MPI's) move with it. */
    if (hwloc_set_cpubind(t->h, plan, HWLOC_CPUBIND_PROCESS) != 0) {
        snprintf(out->warning, sizeof out->warning, "cannot bind to CPUs %s: %s; running on CPUs %s",
                 out->planned_cpus, strerror(errno), out->launcher_cpus);
        snprintf(out->applied, sizeof out->applied, "failed");
        goto report;
    }
    snprintf(out->applied, sizeof out->applied, "%s", aic_bind_mode_name(mode == AIC_BIND_NUMA ? AIC_BIND_NUMA
                                                                                                   : AIC_BIND_CORE));
report:
    if (kernel_affinity(now) == 0) {
        cpulist(out->kernel_cpus, sizeof out->kernel_cpus, now);
        out->cores = t ? cores_touched(t, now) : hwloc_bitmap_weight(now);
    }
cleanup:
    free(bus);
    free(bus_ptr);
    hwloc_bitmap_free(launcher);
    hwloc_bitmap_free(plan);
    hwloc_bitmap_free(now);
    aic_topology_destroy(t);
    return st;
}

aic_status aic_placement_gather(aic_comm_t *c, const aic_placement *mine, aic_placement *all) {
    if (!c || !mine || (aic_comm_rank(c) == 0 && !all))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_placement_gather: missing communicator or buffer");
    int e = MPI_Gather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine, MPI_BYTE, 0, aic_comm_mpi(c));
    if (e != MPI_SUCCESS)
        return aic_fail(AIC_ERR_COMM, "rank %d: MPI_Gather of the placements failed (error %d)", aic_comm_rank(c), e);
    return AIC_OK;
}
