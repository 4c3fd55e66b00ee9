// SPDX-License-Identifier: Apache-2.0
/* The stall watchdog: see watchdog.h for what it promises. */
#define _DEFAULT_SOURCE /* getifaddrs, NI_MAXHOST */
#include "tools/watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "train/progress.h"

#define BEAT_INTERVAL 0.5  /* seconds between heartbeats */
#define TICK_MS 100        /* the thread's poll timeout: how late a verdict may come */
#define CONNECT_TIMEOUT 30 /* seconds for every rank to reach rank 0 at start */
/* After SIGTERM, how long to wait for rank 0's verdict before saying only that the launcher ended
 * the run: Open MPI sends SIGKILL 1 s after SIGTERM (odls_base_sigkill_timeout). */
#define TERM_GRACE 0.4
/* How long rank 0 keeps its connections open after its verdict, so that the STOP records reach the
 * others before the close (closing with unread input resets the connection and drops them). */
#define STOP_LINGER 0.5

/* One record on the wire, in host byte order: the ranks of one run share it (MPI needs that too). */
typedef struct {
    uint32_t kind;
    int32_t rank;    /* HELLO, BEAT, DONE: the sender; STOP: the failed rank */
    int32_t phase;   /* aic_phase */
    int32_t reason;  /* STOP: a why_* */
    int64_t step;
    uint64_t changes; /* BEAT: the sender's progress counter */
    int64_t millis;   /* STOP: how long the failed rank was silent or stalled */
    int32_t waiter;   /* STOP, stalled: a rank that waited in a collective */
    int32_t waiter_phase;
} wd_msg;

enum { MSG_HELLO = 0x57440001, MSG_BEAT, MSG_DONE, MSG_STOP };
enum { WHY_SILENT, WHY_CLOSED, WHY_STALLED };

typedef struct {
    int fd;             /* -1: none (this rank itself, or no connection) */
    uint8_t buf[sizeof(wd_msg)];
    size_t have;        /* bytes of a partial record in buf */
    double heard;       /* when its last record came */
    double changed;     /* when its progress counter last changed */
    wd_msg last;        /* its last heartbeat: what it was doing */
    bool done, closed;
    bool wedged;        /* a send did not fit: it reads nothing (frozen); send it no more */
} peer;

typedef char host_name[64];

static struct {
    bool running;
    int rank, world;
    double hb_timeout, stall_timeout;
    peer *peers;       /* rank 0: one per rank; others: peers[0] is rank 0 */
    host_name *hosts;  /* every rank's host, for messages */
    int wake[2];       /* a pipe: 'S' stop, 'T' SIGTERM */
    pthread_t thread;
} wd = {.wake = {-1, -1}};
/* Set while the thread runs and wd.wake is open: only then may a SIGTERM handler write to it. */
static volatile sig_atomic_t term_armed;
/* The ranks agreed to stop after a signal: a SIGTERM is then no sign of a failure. */
static atomic_bool stopping;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool collective_phase(int phase) {
    return phase == AIC_PHASE_ALLREDUCE || phase == AIC_PHASE_EVALUATE || phase == AIC_PHASE_COLLECTIVE;
}

static void send_msg(peer *p, const wd_msg *m) {
    if (p->fd < 0 || p->closed || p->wedged)
        return;
    /* Never block: a frozen peer stops reading, and this thread must go on judging. */
    ssize_t n = send(p->fd, m, sizeof *m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n != (ssize_t)sizeof *m && !(n < 0 && errno == EINTR))
        p->wedged = n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK; /* a part sent would misframe the rest */
}

static wd_msg my_beat(uint32_t kind) {
    aic_progress pr = aic_progress_get();
    return (wd_msg){.kind = kind, .rank = wd.rank, .phase = (int32_t)pr.phase, .step = pr.step,
                    .changes = pr.changes};
}

/* "backward of step 37", or the phase alone before the first step. */
static void describe(char *out, size_t size, int phase, int64_t step) {
    if (step >= 0 && phase != AIC_PHASE_START)
        snprintf(out, size, "%s of step %lld", aic_phase_name((aic_phase)phase), (long long)step);
    else
        snprintf(out, size, "%s", aic_phase_name((aic_phase)phase));
}

static void linger(void);

/* Writes this rank's one line about the failure in s and ends the process: the line first, since
 * mpirun may send SIGKILL soon. */
static void stop_for(const wd_msg *s) {
    char what[160], why[256], line[768];
    describe(what, sizeof what, s->phase, s->step);
    const double secs = (double)s->millis / 1000.0;
    if (s->reason == WHY_STALLED) {
        snprintf(why, sizeof why, "is stalled (no progress for %.1f s while rank %d waits in %s); it is in %s",
                 secs, (int)s->waiter, aic_phase_name((aic_phase)s->waiter_phase), what);
    } else if (s->reason == WHY_CLOSED) { /* heartbeats are 0.5 s apart: say how old the news is */
        snprintf(why, sizeof why,
                 "is gone (its process ended: connection closed); it was in %s at its last heartbeat, %.1f s before",
                 what, secs);
    } else {
        snprintf(why, sizeof why, "is gone (no heartbeat for %.1f s); it was in %s at its last heartbeat", secs, what);
    }
    /* The failed rank itself hears the verdict when it thaws (kill -CONT, or mpirun's before SIGTERM). */
    char who[128];
    if (s->rank == wd.rank)
        snprintf(who, sizeof who, "rank 0 judged that this rank");
    else
        snprintf(who, sizeof who, "rank %d (on %s)", (int)s->rank, wd.hosts[s->rank]);
    int n = snprintf(line, sizeof line, "aicon train: [rank %d] stopping: %s %s\n", wd.rank, who, why);
    if (write(STDERR_FILENO, line, (size_t)n) < 0) { /* nothing left to tell it to */
    }
    if (wd.rank == 0)
        linger();
    _exit(s->reason == WHY_STALLED ? AICON_EXIT_RANK_STALLED : AICON_EXIT_RANK_GONE);
}

/* Rank 0's verdict: tell every rank, and close for writing so that it goes out now. */
static void broadcast_stop(const wd_msg *s) {
    for (int k = 1; k < wd.world; k++) {
        send_msg(&wd.peers[k], s);
        if (wd.peers[k].fd >= 0)
            shutdown(wd.peers[k].fd, SHUT_WR);
    }
}

/* Rank 0, after its verdict: drain what the others still send until they close or the linger ends
 * (see STOP_LINGER). */
static void linger(void) {
    const double until = now_s() + STOP_LINGER;
    for (;;) {
        bool open = false;
        for (int k = 1; k < wd.world; k++) {
            peer *p = &wd.peers[k];
            uint8_t junk[512];
            while (p->fd >= 0 && !p->closed) {
                ssize_t n = recv(p->fd, junk, sizeof junk, MSG_DONTWAIT);
                if (n > 0)
                    continue;
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    p->closed = true;
                break;
            }
            open |= p->fd >= 0 && !p->closed && !p->wedged;
        }
        if (!open || now_s() > until)
            return;
        poll(NULL, 0, 20);
    }
}

static void judge(wd_msg *verdict, bool *found, double now) {
    *found = false;
    /* Gone: rank 0 judges every rank; the others judge rank 0. */
    for (int k = 0; k < (wd.rank == 0 ? wd.world : 1); k++) {
        peer *p = &wd.peers[k];
        if (p->fd < 0 || p->done)
            continue;
        const int who = wd.rank == 0 ? k : 0;
        if (p->closed || now - p->heard > wd.hb_timeout) {
            *verdict = (wd_msg){.kind = MSG_STOP, .rank = who, .phase = p->last.phase, .step = p->last.step,
                                .reason = p->closed ? WHY_CLOSED : WHY_SILENT,
                                .millis = (int64_t)((now - p->heard) * 1000)};
            *found = true;
            return;
        }
    }
    if (wd.rank != 0 || wd.stall_timeout <= 0)
        return;
    /* Stalled: no progress for the stall timeout while another rank waits in a collective. Among
     * those, a rank outside any collective holds the others up; else (all wait, in collectives of
     * different steps) the one furthest behind. */
    int waiter = -1, culprit = -1;
    for (int k = 0; k < wd.world; k++)
        if (!wd.peers[k].done && collective_phase(wd.peers[k].last.phase))
            waiter = k;
    if (waiter < 0)
        return;
    for (int k = 0; k < wd.world; k++) {
        const peer *p = &wd.peers[k];
        if (p->done || now - p->changed <= wd.stall_timeout)
            continue;
        if (culprit < 0) {
            culprit = k;
            continue;
        }
        const wd_msg *c = &wd.peers[culprit].last;
        bool c_out = !collective_phase(c->phase), k_out = !collective_phase(p->last.phase);
        if ((k_out && !c_out) || (k_out == c_out && p->last.step < c->step))
            culprit = k;
    }
    if (culprit < 0)
        return;
    if (waiter == culprit) { /* name another rank that waits, when there is one */
        for (int k = 0; k < wd.world; k++)
            if (k != culprit && !wd.peers[k].done && collective_phase(wd.peers[k].last.phase))
                waiter = k;
        if (waiter == culprit)
            return; /* a lone rank in a collective is no stall of another */
    }
    const peer *c = &wd.peers[culprit];
    *verdict = (wd_msg){.kind = MSG_STOP, .rank = culprit, .phase = c->last.phase, .step = c->last.step,
                        .reason = WHY_STALLED, .millis = (int64_t)((now - c->changed) * 1000),
                        .waiter = waiter, .waiter_phase = wd.peers[waiter].last.phase};
    *found = true;
}

/* A record from peer p (rank 0: from rank k; others: from rank 0). */
static void take(peer *p, const wd_msg *m, double now) {
    p->heard = now;
    if (m->kind == MSG_STOP && wd.rank != 0)
        stop_for(m);
    if (m->kind == MSG_DONE)
        p->done = true;
    if (m->kind == MSG_BEAT || m->kind == MSG_DONE) {
        if (m->changes != p->last.changes)
            p->changed = now;
        p->last = *m;
    }
}

static void read_peer(peer *p, double now) {
    for (;;) {
        ssize_t n = recv(p->fd, p->buf + p->have, sizeof p->buf - p->have, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            p->closed = true;
            return;
        }
        if (n < 0)
            return;
        p->have += (size_t)n;
        if (p->have == sizeof p->buf) {
            wd_msg m;
            memcpy(&m, p->buf, sizeof m);
            p->have = 0;
            take(p, &m, now);
        }
    }
}

static void *watchdog_main(void *arg) {
    (void)arg;
    const int npeers = wd.rank == 0 ? wd.world : 1;
    struct pollfd *fds = calloc((size_t)npeers + 1, sizeof *fds);
    if (!fds) {
        static const char msg[] = "aicon train: watchdog: out of memory; training goes on without it\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
        }
        return NULL;
    }
    double next_beat = 0, term_at = -1, last_tick = now_s();
    uint64_t term_changes = 0; /* this rank's progress counter when term_at was last set */
    for (;;) {
        int n = 0;
        fds[n++] = (struct pollfd){.fd = wd.wake[0], .events = POLLIN};
        for (int k = 0; k < npeers; k++)
            if (wd.peers[k].fd >= 0 && !wd.peers[k].closed)
                fds[n++] = (struct pollfd){.fd = wd.peers[k].fd, .events = POLLIN};
        poll(fds, (nfds_t)n, TICK_MS);
        const double now = now_s();
        char cmd;
        while (read(wd.wake[0], &cmd, 1) == 1) {
            if (cmd == 'S') {
                free(fds);
                return NULL;
            }
            if (cmd == 'T' && term_at < 0) {
                term_at = now;
                term_changes = aic_progress_get().changes;
            }
        }
        for (int k = 0; k < npeers; k++)
            if (wd.peers[k].fd >= 0 && !wd.peers[k].closed)
                read_peer(&wd.peers[k], now);
        if (now - last_tick > wd.hb_timeout) {
            /* Thawed after kill -STOP (or starved of CPU that long): the others count this rank as
             * gone; judging them now would blame a rank that merely stopped because of it. */
            char line[256];
            int len = snprintf(line, sizeof line,
                               "aicon train: [rank %d] stopping: this rank was frozen for %.1f s (stopped, or starved "
                               "of CPU); the other ranks count it as gone\n",
                               wd.rank, now - last_tick);
            if (write(STDERR_FILENO, line, (size_t)len) < 0) {
            }
            _exit(AICON_EXIT_RANK_GONE);
        }
        last_tick = now;
        if (wd.rank == 0) { /* rank 0 judges itself too, for stalls */
            peer *self = &wd.peers[0];
            wd_msg b = my_beat(MSG_BEAT);
            if (b.changes != self->last.changes)
                self->changed = now;
            self->last = b;
        }
        if (now >= next_beat) {
            next_beat = now + BEAT_INTERVAL;
            wd_msg b = my_beat(MSG_BEAT);
            for (int k = 0; k < npeers; k++)
                send_msg(&wd.peers[k], &b);
        }
        wd_msg verdict;
        bool found;
        judge(&verdict, &found, now);
        if (found) {
            if (wd.rank == 0)
                broadcast_stop(&verdict);
            stop_for(&verdict);
        }
        /* After a SIGTERM aicon train stops at the end of the step; only a rank that waits for the
         * others in a collective and gets nowhere is taken for one mpirun is ending after a failure. */
        const aic_progress pr = aic_progress_get();
        if (term_at >= 0 && (pr.changes != term_changes ||
                             (pr.phase != AIC_PHASE_ALLREDUCE && pr.phase != AIC_PHASE_COLLECTIVE))) {
            term_at = now;
            term_changes = pr.changes;
        }
        if (term_at >= 0 && !atomic_load(&stopping) && now - term_at > TERM_GRACE) {
            char line[256];
            int len = snprintf(line, sizeof line,
                               "aicon train: [rank %d] stopping: terminated (SIGTERM) by the launcher before this "
                               "rank's watchdog saw any rank fail; this rank was in %s\n",
                               wd.rank, aic_phase_name(aic_progress_get().phase));
            if (write(STDERR_FILENO, line, (size_t)len) < 0) {
            }
            _exit(AICON_EXIT_TERMINATED);
        }
    }
}

/* Only wakes the thread (write() is async-signal-safe); it waits TERM_GRACE for the verdict that
 * names the failed rank, which usually is already on its way. */
void aicon_watchdog_term(void) {
    if (!term_armed)
        return;
    int saved = errno;
    if (write(wd.wake[1], "T", 1) < 0) {
    }
    errno = saved;
}

void aicon_watchdog_settle(void) {
    if (!wd.running)
        return;
    /* Four heartbeats: a verdict from rank 0 is sent the moment it has one. */
    const double until = now_s() + 4 * BEAT_INTERVAL;
    while (now_s() < until) /* the watchdog thread _exit()s the process when its verdict comes */
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
}

void aicon_watchdog_stopping(void) {
    atomic_store(&stopping, true);
}

/* This host's IPv4 address as the other nodes reach it: the host name's address unless that is a
 * loopback one, else the first address of an interface that is up and not loopback. */
static struct in_addr host_address(const char *host) {
    struct in_addr a = {htonl(INADDR_LOOPBACK)};
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        for (struct addrinfo *r = res; r; r = r->ai_next) {
            struct in_addr c = ((struct sockaddr_in *)r->ai_addr)->sin_addr;
            if ((ntohl(c.s_addr) >> 24) != 127) {
                freeaddrinfo(res);
                return c;
            }
        }
        freeaddrinfo(res);
    }
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP) &&
                !(i->ifa_flags & IFF_LOOPBACK)) {
                a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                break;
            }
        freeifaddrs(ifs);
    }
    return a;
}

typedef struct {
    struct in_addr addr;
    uint16_t port; /* rank 0's listening port; 0 elsewhere */
    host_name host;
} endpoint;

static aic_status set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return aic_fail(AIC_ERR_IO, "watchdog: fcntl: %s", strerror(errno));
    return AIC_OK;
}

/* Rank 0: a listening socket on an ephemeral port of every interface. */
static aic_status listen_socket(int *fd, uint16_t *port) {
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t len = sizeof sa;
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(*fd, SOMAXCONN) != 0 ||
        getsockname(*fd, (struct sockaddr *)&sa, &len) != 0)
        return aic_fail(AIC_ERR_IO, "watchdog: rank 0 cannot listen on a TCP port: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return set_nonblocking(*fd);
}

/* Rank k: connect to rank 0 (loopback when on its host) and say who this is. */
static aic_status connect_root(const endpoint *root, bool same_host, peer *p) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(root->port),
                             .sin_addr = same_host ? (struct in_addr){htonl(INADDR_LOOPBACK)} : root->addr};
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr);
    const double until = now_s() + CONNECT_TIMEOUT;
    for (;;) { /* rank 0 may not be listening yet only if it failed; retry a refused connect a while */
        p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (p->fd < 0)
            return aic_fail(AIC_ERR_IO, "watchdog: socket: %s", strerror(errno));
        if (connect(p->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        int err = errno;
        close(p->fd);
        p->fd = -1;
        if (now_s() > until || (err != ECONNREFUSED && err != EINTR && err != ETIMEDOUT))
            return aic_fail(AIC_ERR_COMM,
                            "watchdog: rank %d cannot connect to rank 0 at %s:%u (%s): %s (--heartbeat-timeout 0 "
                            "turns the watchdog off)",
                            wd.rank, addr, (unsigned)root->port, root->host, strerror(err));
        poll(NULL, 0, 100);
    }
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wd_msg hello = {.kind = MSG_HELLO, .rank = wd.rank};
    if (send(p->fd, &hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello)
        return aic_fail(AIC_ERR_COMM, "watchdog: rank %d: sending to rank 0 at %s: %s", wd.rank, addr,
                        strerror(errno));
    return set_nonblocking(p->fd);
}

/* Rank 0: accept one connection from every other rank, each named by its HELLO. */
static aic_status accept_all(int lfd) {
    const double until = now_s() + CONNECT_TIMEOUT;
    int missing = wd.world - 1;
    while (missing > 0) {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        if (now_s() > until) {
            int k = 1;
            while (wd.peers[k].fd >= 0)
                k++;
            return aic_fail(AIC_ERR_COMM,
                            "watchdog: %d rank%s (rank %d on %s first) did not connect to rank 0 within %d s (a "
                            "firewall between the nodes? --heartbeat-timeout 0 turns the watchdog off)",
                            missing, missing == 1 ? "" : "s", k, wd.hosts[k], CONNECT_TIMEOUT);
        }
        if (poll(&pf, 1, 100) <= 0)
            continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        /* The HELLO follows the connect at once; wait for it briefly, blocking. */
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        wd_msg hello;
        ssize_t n = recv(fd, &hello, sizeof hello, MSG_WAITALL);
        if (n != (ssize_t)sizeof hello || hello.kind != MSG_HELLO || hello.rank <= 0 || hello.rank >= wd.world ||
            wd.peers[hello.rank].fd >= 0) {
            close(fd); /* not one of ours (a port scanner), or a duplicate */
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        wd.peers[hello.rank].fd = fd;
        AIC_TRY(set_nonblocking(fd));
        missing--;
    }
    return AIC_OK;
}

static void close_all(void) {
    for (int k = 0; wd.peers && k < (wd.rank == 0 ? wd.world : 1); k++)
        if (wd.peers[k].fd >= 0)
            close(wd.peers[k].fd);
    for (int i = 0; i < 2; i++)
        if (wd.wake[i] >= 0)
            close(wd.wake[i]);
    wd.wake[0] = wd.wake[1] = -1;
    free(wd.peers);
    free(wd.hosts);
    wd.peers = NULL;
    wd.hosts = NULL;
}

static aic_status start_local(endpoint *mine, int *lfd) {
    wd.peers = calloc((size_t)(wd.rank == 0 ? wd.world : 1), sizeof *wd.peers);
    wd.hosts = calloc((size_t)wd.world, sizeof *wd.hosts);
    if (!wd.peers || !wd.hosts)
        return aic_fail(AIC_ERR_NOMEM, "watchdog: out of memory for %d ranks", wd.world);
    for (int k = 0; k < (wd.rank == 0 ? wd.world : 1); k++)
        wd.peers[k].fd = -1;
    if (pipe(wd.wake) != 0 || set_nonblocking(wd.wake[0]) != AIC_OK)
        return aic_fail(AIC_ERR_IO, "watchdog: pipe: %s", strerror(errno));
    fcntl(wd.wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(wd.wake[1], F_SETFD, FD_CLOEXEC);
    if (gethostname(mine->host, sizeof mine->host) != 0)
        snprintf(mine->host, sizeof mine->host, "?");
    mine->host[sizeof mine->host - 1] = '\0';
    mine->addr = host_address(mine->host);
    return wd.rank == 0 ? listen_socket(lfd, &mine->port) : AIC_OK;
}

aic_status aicon_watchdog_start(aic_comm_t *comm, const aicon_watchdog_config *cfg) {
    if (cfg->heartbeat_timeout <= 0 || aic_comm_size(comm) == 1) /* one rank: nobody to tell, nobody to wait */
        return AIC_OK;
    if (wd.running)
        return aic_fail(AIC_ERR_STATE, "watchdog: already started");
    wd.rank = aic_comm_rank(comm);
    wd.world = aic_comm_size(comm);
    wd.hb_timeout = cfg->heartbeat_timeout;
    wd.stall_timeout = cfg->stall_timeout;
    endpoint mine = {0}, *all = NULL;
    int lfd = -1;
    aic_status st = start_local(&mine, &lfd);
    if (st == AIC_OK && !(all = calloc((size_t)wd.world, sizeof *all)))
        st = aic_fail(AIC_ERR_NOMEM, "watchdog: out of memory for %d ranks", wd.world);
    st = aic_comm_agree(comm, st);
    if (st == AIC_OK && MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE,
                                      aic_comm_mpi(comm)) != MPI_SUCCESS)
        st = aic_fail(AIC_ERR_COMM, "watchdog: MPI_Allgather of the ranks' addresses failed");
    if (st == AIC_OK) {
        for (int k = 0; k < wd.world; k++)
            memcpy(wd.hosts[k], all[k].host, sizeof(host_name));
        /* One host: the same name and address. Containers or network namespaces may share a name
         * but not a loopback device: their addresses differ. */
        const bool same_host = strcmp(all[0].host, mine.host) == 0 && all[0].addr.s_addr == mine.addr.s_addr;
        st = wd.rank == 0 ? accept_all(lfd) : connect_root(&all[0], same_host, &wd.peers[0]);
        st = aic_comm_agree(comm, st);
    }
    if (lfd >= 0)
        close(lfd);
    free(all);
    if (st == AIC_OK) {
        const double now = now_s();
        for (int k = 0; k < (wd.rank == 0 ? wd.world : 1); k++) {
            wd.peers[k].heard = wd.peers[k].changed = now;
            wd.peers[k].last = (wd_msg){.phase = AIC_PHASE_START, .step = -1};
        }
        int err = pthread_create(&wd.thread, NULL, watchdog_main, NULL);
        if (err == 0) {
            wd.running = true;
            term_armed = 1;
            return AIC_OK;
        }
        /* Too late to agree without a collective every rank must reach: go on unwatched, and say so. */
        fprintf(stderr, "aicon train: [rank %d] warning: no watchdog thread: %s\n", wd.rank, strerror(err));
    }
    close_all();
    return st;
}

void aicon_watchdog_stop(void) {
    if (!wd.running)
        return;
    aic_progress_phase(AIC_PHASE_DONE);
    if (write(wd.wake[1], "S", 1) != 1) { /* the pipe is empty but for a 'T' or two: cannot fill up */
    }
    pthread_join(wd.thread, NULL);
    term_armed = 0;
    wd.running = false;
    wd_msg done = my_beat(MSG_DONE);
    for (int k = 0; k < (wd.rank == 0 ? wd.world : 1); k++) {
        peer *p = &wd.peers[k];
        send_msg(p, &done);
        if (p->fd < 0)
            continue;
        /* Read what is left first: closing with unread input resets the connection, and the reset
         * can overtake the DONE on its way out (a false alarm at the other end). */
        shutdown(p->fd, SHUT_WR);
        uint8_t junk[512];
        while (recv(p->fd, junk, sizeof junk, MSG_DONTWAIT) > 0) {
        }
    }
    close_all();
}
