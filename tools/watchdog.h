// SPDX-License-Identifier: Apache-2.0
/* The stall watchdog of aicon train: when a rank dies, freezes or stops making progress, every other
 * rank stops within seconds with one line naming the missing rank and what it was doing, instead of
 * waiting forever inside MPI (srun leaves the others running; mpirun kills them without a word
 * about which rank failed in what).
 *
 * Each rank runs one thread that makes no MPI call (MPI is not initialized for that). Ranks talk
 * over TCP in a star: rank k connects to rank 0 at start. Every 0.5 s each rank sends rank 0 its
 * phase, step and progress counter (train/progress.h), and rank 0 sends its own to every rank: 2N
 * small records a second for N ranks. A dead process is seen at once (its kernel closes the
 * connection), a frozen one (kill -STOP, a hung node) when no record came for the heartbeat
 * timeout, and a stalled one (records flow, progress does not) when its progress has not changed
 * for the stall timeout while another rank waits in a collective. Rank 0 judges and tells every
 * rank; the others judge rank 0 alone. Each rank then writes one line to stderr and _exit()s, since
 * its main thread may be blocked in MPI for good.
 *
 * Exit statuses (aicon train --help lists them): */
#ifndef AICON_TOOLS_WATCHDOG_H
#define AICON_TOOLS_WATCHDOG_H

#include "aicon/aicon.h"

enum {
    AICON_EXIT_RANK_GONE = 3,    /* a rank died or sent nothing for the heartbeat timeout */
    AICON_EXIT_RANK_STALLED = 4, /* a rank made no progress for the stall timeout while others waited */
    AICON_EXIT_TERMINATED = 5,   /* SIGTERM (mpirun ending the run) before the watchdog knew why */
    AICON_EXIT_STOPPED = 6,      /* stopped cleanly on SIGTERM or SIGUSR1, a checkpoint written (train_cmd.c) */
};

typedef struct {
    double heartbeat_timeout; /* seconds without a record before a rank counts as gone; 0: no watchdog */
    double stall_timeout;     /* seconds without progress before a rank counts as stalled; 0: never */
} aicon_watchdog_config;

/* Collective over comm, after it exists and before training: gathers every rank's host, connects
 * the ranks to rank 0 and starts this rank's watchdog thread. With heartbeat_timeout 0, or one rank, it does
 * nothing. Errors (a socket, a connection that failed) name the rank and the address. One watchdog
 * per process. */
aic_status aicon_watchdog_start(aic_comm_t *comm, const aicon_watchdog_config *cfg);
/* For the process's SIGTERM handler (async-signal-safe; a no-op when no watchdog runs): aicon train
 * then stops at the end of the step, but mpirun also sends SIGTERM when it ends a run after a
 * failure, and kills a moment later. So a rank that, after a SIGTERM, waits in a collective without
 * progress for 0.4 s writes the line that the launcher ended the run and exits with
 * AICON_EXIT_TERMINATED (unless a verdict names the failed rank first), before
 * aicon_watchdog_stopping is called. */
void aicon_watchdog_term(void);
/* For a rank whose collective just failed (AIC_ERR_COMM): when a peer died, that failure is the
 * watchdog's to report (its line names the rank, status 3), and it may be a moment behind (rank 0 sees
 * the closed connection at once, the others hear it from rank 0). Waits that moment; returns only if
 * no verdict came, the failure being something else. A no-op when no watchdog runs. */
void aicon_watchdog_settle(void);
/* Every rank agreed to stop after a signal: from now on a SIGTERM is no failure. */
void aicon_watchdog_stopping(void);
/* Tells the others this rank is done (not missing), joins the thread and closes the connections.
 * Call it after the last collective and before MPI_Finalize; a no-op when none was started. */
void aicon_watchdog_stop(void);

#endif
