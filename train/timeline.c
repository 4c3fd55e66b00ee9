// SPDX-License-Identifier: Apache-2.0
/* --timeline over the ranks: a shared origin, and rank 0 gathering every rank's events as JSON. */
#include "train/timeline.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/trace.h"

aic_status aic_timeline_start(aic_comm_t *c, int steps) {
    if (!c || steps < 1 || steps > 1000000)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_timeline_start: %d steps to trace (1..1000000)", steps);
    /* Ranks leave a barrier within a few microseconds of one another: a shared origin lines their
     * rows up in the viewer (one host's clock, or hosts whose clocks agree). */
    if (MPI_Barrier(aic_comm_mpi(c)) != MPI_SUCCESS)
        return aic_fail(AIC_ERR_COMM, "--timeline: barrier before the trace failed");
    aic_trace_start(steps);
    return AIC_OK;
}

/* Appends s to b as a JSON string body (quotes, backslashes and control bytes escaped). */
static size_t put_escaped(char *b, const char *s) {
    size_t k = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            k += (size_t)sprintf(b + k, "\\%c", ch);
        else if (ch < 0x20)
            k += (size_t)sprintf(b + k, "\\u%04x", ch);
        else
            b[k++] = (char)ch;
    }
    b[k] = '\0';
    return k;
}

/* This rank's events (ev[0 .. n-1]) as JSON objects, each followed by ",\n"; NULL when out of memory. */
static char *serialize(int rank, const aic_trace_event *ev, size_t n, size_t *len) {
    /* 6 bytes per escaped name byte, plus the fixed fields, bound each event. */
    const size_t per_event = 6 * (sizeof ev[0].name + sizeof ev[0].cat) + 256;
    char *buf = malloc((n + 4) * per_event);
    if (!buf)
        return NULL;
    size_t k = 0;
    static const char *const threads[] = {"compute", "allreduce"};
    k += (size_t)sprintf(buf + k, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,"
                                  "\"args\":{\"name\":\"rank %d\"}},\n", rank, rank);
    for (int t = 0; t < 2; t++)
        k += (size_t)sprintf(buf + k, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
                                      "\"args\":{\"name\":\"%s\"}},\n", rank, t, threads[t]);
    for (size_t i = 0; i < n; i++) {
        const aic_trace_event *e = &ev[i];
        k += (size_t)sprintf(buf + k, "{\"ph\":\"X\",\"name\":\"");
        k += put_escaped(buf + k, e->name);
        k += (size_t)sprintf(buf + k, "\",\"cat\":\"");
        k += put_escaped(buf + k, e->cat);
        k += (size_t)sprintf(buf + k, "\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"step\":%llu}},\n",
                             rank, e->tid, e->t0, e->t1 - e->t0, (unsigned long long)e->step);
    }
    *len = k;
    return buf;
}

aic_status aic_timeline_write(aic_comm_t *c, const char *path) {
    if (!c || !path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_timeline_write: NULL argument");
    size_t n_events = 0;
    const aic_trace_event *ev = aic_trace_finish(&n_events);
    const int rank = aic_comm_rank(c), world = aic_comm_size(c);
    MPI_Comm mc = aic_comm_mpi(c);
    size_t len = 0;
    char *mine = serialize(rank, ev, n_events, &len), *all = NULL;
    int *counts = NULL, *displs = NULL;
    aic_status st = AIC_OK;
    if (!mine)
        st = aic_fail(AIC_ERR_NOMEM, "--timeline: rank %d: no memory for %zu events", rank, n_events);
    else if (len > INT_MAX)
        st = aic_fail(AIC_ERR_INVALID_ARG, "--timeline: rank %d: %zu bytes of events (trace fewer steps)", rank, len);
    if (rank == 0 && st == AIC_OK) {
        counts = malloc(sizeof(int) * (size_t)world);
        displs = malloc(sizeof(int) * (size_t)world);
        if (!counts || !displs)
            st = aic_fail(AIC_ERR_NOMEM, "--timeline: no memory to gather %d ranks", world);
    }
    aic_status agreed = aic_comm_agree(c, st);
    if (agreed != AIC_OK) {
        st = agreed;
        goto cleanup;
    }
    int n = (int)len;
    if (MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, mc) != MPI_SUCCESS) {
        st = aic_fail(AIC_ERR_COMM, "--timeline: gathering event sizes failed");
        goto cleanup;
    }
    long long total = 0;
    if (rank == 0) {
        for (int r = 0; r < world; r++) {
            displs[r] = (int)total;
            total += counts[r];
        }
        if (total > INT_MAX)
            st = aic_fail(AIC_ERR_INVALID_ARG, "--timeline %s: %lld bytes of events (trace fewer steps)", path, total);
        else if (!(all = malloc((size_t)total + 1)))
            st = aic_fail(AIC_ERR_NOMEM, "--timeline %s: no memory for %lld bytes of events", path, total);
    }
    agreed = aic_comm_agree(c, st);
    if (agreed != AIC_OK) {
        st = agreed;
        goto cleanup;
    }
    if (MPI_Gatherv(mine, n, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, mc) != MPI_SUCCESS) {
        st = aic_fail(AIC_ERR_COMM, "--timeline: gathering events failed");
        goto cleanup;
    }
    if (rank == 0) {
        /* Every object ends in ",\n": the last comma goes (total > 0: rank 0's metadata is there). */
        total -= 2;
        FILE *f = fopen(path, "w");
        if (!f) {
            st = aic_fail(AIC_ERR_IO, "--timeline %s: %s", path, strerror(errno));
        } else {
            fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
            fwrite(all, 1, (size_t)total, f);
            fputs("\n]}\n", f);
            const bool failed = ferror(f) != 0;
            if (fclose(f) != 0 || failed)
                st = aic_fail(AIC_ERR_IO, "--timeline %s: cannot write: %s", path, strerror(errno));
        }
    }
    st = aic_comm_agree(c, st);
cleanup:
    free(mine);
    free(all);
    free(counts);
    free(displs);
    aic_trace_clear();
    return st;
}
