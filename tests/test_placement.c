// SPDX-License-Identifier: Apache-2.0
/* Placement plans on hwloc synthetic machines (2 NUMA nodes, uneven core counts, more ranks than
 * cores), --bind parsing, and PCI bus-id lookup in this machine's real topology: a device that
 * exists, one that does not and a malformed id. Needs no MPI launcher and no GPU. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aicon/aicon.h"
#include "tests/test_util.h"

/* "0-3,8" -> bit mask of CPUs (this test's machines have at most 64). */
static uint64_t mask_of(const char *list) {
    uint64_t m = 0;
    const char *p = list;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long i = a; i <= b && i < 64; i++)
            m |= 1ull << i;
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p)
            break;
    }
    return m;
}

static aic_topology_t *load(const char *synthetic) {
    aic_topology_t *t = NULL;
    REQUIRE_MSG(aic_topology_load(synthetic, &t) == AIC_OK, "aic_topology_load(%s)",
                synthetic ? synthetic : "this machine");
    return t;
}

static void expect_plan(aic_topology_t *t, aic_bind_mode mode, int rank, int size, const char *want, int want_shared) {
    char cpus[AIC_CPULIST_LEN];
    int shared = -1;
    aic_status st = aic_topology_plan(t, mode, rank, size, 0, NULL, cpus, sizeof cpus, &shared);
    CHECK_MSG(st == AIC_OK, "plan %s rank %d/%d", aic_bind_mode_name(mode), rank, size);
    if (st == AIC_OK) {
        CHECK_MSG(strcmp(cpus, want) == 0, "plan %s rank %d/%d: CPUs %s, want %s", aic_bind_mode_name(mode), rank,
                  size, cpus, want);
        CHECK_MSG(shared == want_shared, "plan %s rank %d/%d: shared %d, want %d", aic_bind_mode_name(mode), rank,
                  size, shared, want_shared);
    }
}

/* Core mode with no more ranks than cores: the sets are disjoint, non-empty and cover the machine. */
static void check_core_partition(aic_topology_t *t, int size, uint64_t all) {
    uint64_t seen = 0;
    for (int r = 0; r < size; r++) {
        char cpus[AIC_CPULIST_LEN];
        int shared;
        if (!CHECK_MSG(aic_topology_plan(t, AIC_BIND_CORE, r, size, 0, NULL, cpus, sizeof cpus, &shared) == AIC_OK,
                       "core plan rank %d/%d", r, size))
            return;
        uint64_t m = mask_of(cpus);
        CHECK_MSG(m != 0, "core plan rank %d/%d is empty", r, size);
        CHECK_MSG((m & seen) == 0, "core plan rank %d/%d (%s) overlaps an earlier rank's CPUs", r, size, cpus);
        CHECK_MSG(!shared, "core plan rank %d/%d says cores are shared", r, size);
        seen |= m;
    }
    CHECK_MSG(seen == all, "core plans of %d ranks cover %#llx, want %#llx", size, (unsigned long long)seen,
              (unsigned long long)all);
}

static void test_parse(void) {
    static const char *const names[] = {"auto", "none", "numa", "core"};
    for (int i = 0; i < 4; i++) {
        aic_bind_mode m = AIC_BIND_NONE;
        CHECK_MSG(aic_bind_mode_parse(names[i], &m) == AIC_OK && (int)m == i, "parse '%s'", names[i]);
        CHECK_MSG(strcmp(aic_bind_mode_name(m), names[i]) == 0, "name of mode %d", i);
    }
    aic_bind_mode m;
    CHECK_MSG(aic_bind_mode_parse("socket", &m) == AIC_ERR_INVALID_ARG, "parse 'socket' must fail");
    CHECK_MSG(strstr(aic_last_error(), "--bind") && strstr(aic_last_error(), "'socket'"),
              "the error names the flag and the value");
}

static void test_synthetic(void) {
    /* 2 packages, one NUMA node each, 4 cores of 2 PUs: node 0 holds PUs 0-7, node 1 PUs 8-15. */
    aic_topology_t *t = load("package:2 numa:1 core:4 pu:2");
    aic_topology_counts c;
    aic_topology_count(t, &c);
    CHECK_MSG(c.packages == 2 && c.numa_nodes == 2 && c.cores == 8 && c.pus == 16, "counts %d %d %d %d", c.packages,
              c.numa_nodes, c.cores, c.pus);
    /* numa: local rank r on node r mod 2, the whole node, shared. */
    expect_plan(t, AIC_BIND_NUMA, 0, 2, "0-7", 0);
    expect_plan(t, AIC_BIND_NUMA, 1, 2, "8-15", 0);
    expect_plan(t, AIC_BIND_NUMA, 2, 4, "0-7", 0);
    /* core: ranks 0 and 2 split node 0, ranks 1 and 3 node 1, whole cores (both PUs) each. */
    expect_plan(t, AIC_BIND_CORE, 0, 4, "0-3", 0);
    expect_plan(t, AIC_BIND_CORE, 2, 4, "4-7", 0);
    expect_plan(t, AIC_BIND_CORE, 1, 4, "8-11", 0);
    expect_plan(t, AIC_BIND_CORE, 3, 4, "12-15", 0);
    /* 3 ranks: two share node 0, rank 1 has node 1 to itself. */
    expect_plan(t, AIC_BIND_CORE, 0, 3, "0-3", 0);
    expect_plan(t, AIC_BIND_CORE, 2, 3, "4-7", 0);
    expect_plan(t, AIC_BIND_CORE, 1, 3, "8-15", 0);
    /* 10 ranks: 5 on each node of 4 cores; the fifth wraps onto the node's first core. */
    expect_plan(t, AIC_BIND_CORE, 8, 10, "0-1", 1);
    expect_plan(t, AIC_BIND_CORE, 0, 10, "0-1", 1);
    /* One rank takes node 0 (one rank per NUMA node, first nodes first); from 2 on, all 16 PUs. */
    for (int size = 1; size <= 8; size++)
        check_core_partition(t, size, size == 1 ? 0xffull : 0xffffull);
    /* Bad plans fail by name. */
    char cpus[AIC_CPULIST_LEN];
    CHECK_MSG(aic_topology_plan(t, AIC_BIND_NONE, 0, 1, 0, NULL, cpus, sizeof cpus, NULL) == AIC_ERR_INVALID_ARG,
              "mode none has no plan");
    CHECK_MSG(aic_topology_plan(t, AIC_BIND_CORE, 2, 2, 0, NULL, cpus, sizeof cpus, NULL) == AIC_ERR_INVALID_ARG,
              "local rank 2 of 2 is refused");
    /* A synthetic machine has no PCI devices: a GPU plan names the missing device. */
    const char *bus[] = {"0000:65:00.0"};
    CHECK_MSG(aic_topology_plan(t, AIC_BIND_CORE, 0, 1, 1, bus, cpus, sizeof cpus, NULL) == AIC_ERR_MISMATCH,
              "GPU plan on a machine without that PCI device must fail");
    CHECK(strstr(aic_last_error(), "no such PCI device 0000:65:00.0"));
    aic_topology_destroy(t);

    /* 3 cores for 2 ranks: 1 and 2, none shared; a machine hwloc cannot parse is refused. */
    t = load("package:1 core:3 pu:1");
    expect_plan(t, AIC_BIND_CORE, 0, 2, "0", 0);
    expect_plan(t, AIC_BIND_CORE, 1, 2, "1-2", 0);
    expect_plan(t, AIC_BIND_NUMA, 1, 2, "0-2", 0);
    aic_topology_destroy(t);
    aic_topology_t *bad = NULL;
    CHECK_MSG(aic_topology_load("package:two", &bad) == AIC_ERR_INVALID_ARG && !bad, "bad synthetic description");
}

/* A PCI device of this machine as a GPU stand-in: the lookup and the GPU plan on real hwloc data. */
static void test_real_pci(void) {
    aic_topology_t *t = load(NULL);
    char cpus[AIC_CPULIST_LEN];
    int node = -2;
    CHECK_MSG(aic_topology_pci_locality(t, "0000:ff:1f.7", cpus, sizeof cpus, &node) == AIC_ERR_MISMATCH,
              "an absent PCI device must fail");
    CHECK(strstr(aic_last_error(), "no such PCI device 0000:ff:1f.7"));
    CHECK_MSG(aic_topology_pci_locality(t, "65:00.0", cpus, sizeof cpus, &node) == AIC_ERR_INVALID_ARG,
              "a bus id without domain is malformed");
    CHECK_MSG(aic_topology_pci_locality(t, "0000:65:00.0 ", cpus, sizeof cpus, &node) == AIC_ERR_INVALID_ARG,
              "trailing characters are malformed");
    CHECK(strstr(aic_last_error(), "malformed"));

    char dev[64] = "";
    DIR *d = opendir("/sys/bus/pci/devices");
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof dev && (!dev[0] || strcmp(e->d_name, dev) < 0))
            snprintf(dev, sizeof dev, "%s", e->d_name);
    if (d)
        closedir(d);
    if (!dev[0]) {
        printf("SKIP real PCI lookup: /sys/bus/pci/devices lists no device here\n");
        aic_topology_destroy(t);
        return;
    }
    aic_status st = aic_topology_pci_locality(t, dev, cpus, sizeof cpus, &node);
    CHECK_MSG(st == AIC_OK, "PCI device %s from sysfs", dev);
    if (st == AIC_OK) {
        CHECK_MSG(mask_of(cpus) != 0, "PCI device %s: empty CPU list '%s'", dev, cpus);
        aic_topology_counts c;
        aic_topology_count(t, &c);
        CHECK_MSG(c.numa_nodes == 0 || node >= 0, "PCI device %s: no NUMA node on a machine with %d", dev,
                  c.numa_nodes);
        printf("PCI %s: CPUs %s, NUMA node %d\n", dev, cpus, node);
        /* Two ranks on one "GPU": numa gives both its whole locality, core splits it (when it has
         * at least 2 cores). */
        const char *bus[] = {dev};
        char a[AIC_CPULIST_LEN], b[AIC_CPULIST_LEN];
        int sa, sb;
        CHECK_MSG(aic_topology_plan(t, AIC_BIND_NUMA, 1, 2, 1, bus, a, sizeof a, &sa) == AIC_OK &&
                      strcmp(a, cpus) == 0,
                  "GPU numa plan %s, want the device's CPUs %s", a, cpus);
        CHECK_MSG(aic_topology_plan(t, AIC_BIND_CORE, 0, 2, 1, bus, a, sizeof a, &sa) == AIC_OK &&
                      aic_topology_plan(t, AIC_BIND_CORE, 1, 2, 1, bus, b, sizeof b, &sb) == AIC_OK,
                  "GPU core plans");
        uint64_t ma = mask_of(a), mb = mask_of(b), mc = mask_of(cpus);
        CHECK_MSG(ma && mb && (ma | mb) == mc, "GPU core plans %s + %s do not cover %s", a, b, cpus);
        CHECK_MSG(sa || (ma & mb) == 0, "GPU core plans %s and %s overlap without saying so", a, b);
    }
    aic_topology_destroy(t);
}

int main(void) {
    test_parse();
    test_synthetic();
    test_real_pci();
    return test_report("placement_plan");
}
