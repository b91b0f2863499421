/*
 * sentinel-proxy's core: client connections, forwarding, master switching.
 *
 * Length: this file is being split by role (issue 10: sockets are in
 * net.c, metrics and the admin endpoint in stats.c, the shared-cache
 * publisher in cache_pub.c); client connections, the shared master
 * connections (multiplexing) and the master state machine are still here.
 *
 * Design (measured figures: benchmarks/proxy/RESULTS-proxy.md)
 *
 * - One thread, one level-triggered epoll loop (loop.c).
 *
 * - Multiplexing (default; "Multiplexing" below). Stateless commands of
 *   the clients in one state (AUTH, database) share one master connection:
 *   written once per loop iteration, so fifty clients' GETs cost the master
 *   and the proxy one write and one read instead of fifty. A client that
 *   sends anything else that could leave state in a connection or block it
 *   is pinned to a master connection of its own, where its bytes are
 *   forwarded as they come, without parsing (this is also every client
 *   with multiplex off).
 *
 * - Buffers are lazy. A read goes into one loop-wide scratch buffer and is
 *   written straight to the other side; only the part the other side did
 *   not take is copied into a per-connection buffer, allocated then and
 *   freed once drained. An idle connection holds no buffer, and a
 *   request/response client almost never needs one. Backpressure: while a
 *   direction has pending bytes, the proxy stops reading its source (EPOLLIN
 *   off), so a slow reader or a slow master costs at most one buffer of
 *   buffer-size bytes per direction; the rest waits in kernel socket
 *   buffers and then in the peer.
 *
 * - The master is tracked by libsentinel's watcher (events from every
 *   sentinel, polling as a backstop) whose fds live in this same loop, and
 *   every new master is verified with a non-blocking ROLE probe (probe.c)
 *   before any client is connected to it.
 *
 * - Zero-loss failover. At the first failover event about the master
 *   (FAILOVER_STARTED: the leader announces it ~150 ms before it promotes
 *   a replica) the proxy pauses: it stops reading from clients, so no new
 *   byte reaches the old master, while replies to what was already sent
 *   still flow back (those writes were acknowledged before the promotion
 *   and replicas in sync carry them). New clients are held without an
 *   upstream connection. On REPLICA_SELECTED it probes the candidate with
 *   ROLE every probe-interval (20 ms); when it answers "master" the proxy
 *   switches: every client still attached to the old master is dropped
 *   (the upstream with an abortive close, so bytes still in the proxy's
 *   send queue to a frozen master are discarded; whatever its kernel had
 *   already received may run when it thaws, but no client ever gets that
 *   acknowledgement), and held clients are connected to the new master. FAILOVER_ABORTED
 *   re-verifies the old master and resumes. Nobody waits forever: a client
 *   held longer than pause-timeout gets "-MASTERDOWN ..." and is closed.
 *
 * - Closing versus carrying clients over. A paused client whose next
 *   command has not been forwarded never got an answer to it, so closing
 *   it loses nothing acknowledged; the client library reconnects and its
 *   new connection goes to the new master. A client on a connection of its
 *   own is closed on a switch: carrying it over is only correct at a
 *   command boundary, outside MULTI, pub/sub and blocking commands, with
 *   AUTH/SELECT/CLIENT SETNAME replayed. A multiplexed client is at a
 *   command boundary by construction and has no connection state: when it
 *   has no reply outstanding it is carried over (its next command goes to
 *   the new master), and only clients with replies outstanding on the old
 *   master are closed. Measured on loopback: a write loop's longest gap in
 *   a manual failover equals the pause from the first failover event to
 *   the verified promotion (164-222 ms over runs); the reconnect after a
 *   drop adds under a millisecond.
 *
 * - Kill and freeze. A refused upstream connect makes the proxy suspect
 *   the master: it stops connecting new clients (they are held) and probes
 *   it; a connection the master closed only triggers a probe (clients QUIT
 *   too), and a failed probe then holds new clients the same way. A
 *   frozen master keeps accepting TCP connections, so there the switch
 *   comes from the sentinels; on the switch every connection to the frozen
 *   node is dropped at once, never left to TCP timeouts.
 *
 * Client authentication is end to end: clients send their own AUTH to the
 * master. The data credentials are used only by the ROLE probes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

#define PX_ACCEPT_BATCH 64
#define PX_TICK_MS 100
#define PX_DRAIN_MS 500          /* graceful stop: replies may drain this long */
#define PX_PROBE_BACKOFF_MAX_MS 500
#define PX_FD_RESERVE 64         /* fds for listeners, sentinels, probes, admin */
#define PX_WATCH_FDS (SN_MAX_SENTINELS + 1)

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------ */

typedef enum px_master_state {
    PX_MASTER_NONE,    /* no verified master: hold new clients, probe the named one */
    PX_MASTER_UP,      /* forwarding to a verified master */
    PX_MASTER_SUSPECT, /* the master refused or dropped us: hold new clients, probe it */
    PX_MASTER_PAUSED   /* a failover is under way: hold all client traffic */
} px_master_state;

static const char *master_state_name(px_master_state st)
{
    switch (st) {
    case PX_MASTER_NONE: return "none";
    case PX_MASTER_UP: return "up";
    case PX_MASTER_SUSPECT: return "suspect";
    case PX_MASTER_PAUSED: return "paused";
    }
    return "?";
}

typedef enum px_conn_state {
    PX_CONN_HELD,       /* accepted, waiting for a verified master */
    PX_CONN_CONNECTING, /* upstream connect in progress */
    PX_CONN_OPEN,       /* forwarding over its own master connection */
    PX_CONN_SHARED      /* multiplexed over the shared master connection */
} px_conn_state;

static const char *conn_state_name(px_conn_state st)
{
    switch (st) {
    case PX_CONN_HELD: return "held";
    case PX_CONN_CONNECTING: return "connecting";
    case PX_CONN_OPEN: return "open";
    case PX_CONN_SHARED: return "shared";
    }
    return "?";
}

/* Bytes one side did not take yet. Allocated only while non-empty. */
typedef struct px_buf {
    uint32_t pos, len;
    char data[];
} px_buf;

/* Independent facts about a connection's two ends. */
#define PX_CL_EOF 0x1 /* the client sent FIN (or QUIT): no more requests */
#define PX_UP_EOF 0x2 /* the master side ended (closed, replies lost, refused): flush
                       * what the client has, then drop; nothing more runs, whatever
                       * the client waited for */
#define PX_CL_DEAD 0x20 /* shared client gone: what it sent still runs, replies dropped */

/* A multiplexed client's life: where its parsing stands. Changed only by
 * mux_set(), which names each step in debug logs. (A held client that
 * waits for a connection of its own stays PINNING.) */
typedef enum px_mux_state {
    PX_MUX_PARSING,  /* its requests are read and queued as they come */
    PX_MUX_WAITING,  /* parse on once nothing is outstanding: its AUTH/SELECT
                      * answered, or the replies before an AUTH/SELECT in */
    PX_MUX_PINNING,  /* sent what needs a connection of its own: gets one once
                      * its shared replies are in */
    PX_MUX_QUITTING  /* sent QUIT: "+OK" after its replies, then the end */
} px_mux_state;

static const char *mux_state_name(px_mux_state st)
{
    switch (st) {
    case PX_MUX_PARSING: return "parsing";
    case PX_MUX_WAITING: return "waiting";
    case PX_MUX_PINNING: return "pinning";
    case PX_MUX_QUITTING: return "quitting";
    }
    return "?";
}

struct px_shup;

/* Kept small: an idle client costs this struct and one or two fds. */
typedef struct px_conn {
    struct px_conn *prev, *next;
    int cfd, ufd;
    uint8_t state;     /* px_conn_state */
    uint8_t flags;
    uint8_t mux;       /* px_mux_state */
    uint8_t skip;      /* OPEN: bytes of replayed "+OK\r\n" replies to drop */
    uint32_t inflight; /* SHARED: replies not handed over yet */
    px_buf *c2u, *u2c; /* SHARED: c2u holds an incomplete or waiting command */
    int64_t since;     /* held since, or last activity */
    struct px_shup *sh; /* SHARED: the shared connection for its AUTH and db */
} px_conn;

/* The shared master connection's queue: n replies in a row belong to c
 * (NULL: the client is gone, its replies are discarded). */
typedef struct px_wait {
    px_conn *c;
    uint32_t n;
    uint8_t bind; /* AUTH/SELECT: c moves to this connection on "+" */
} px_wait;

typedef enum px_sh_state { PX_SH_IDLE, PX_SH_CONNECTING, PX_SH_OPEN } px_sh_state;

/* A master connection shared by the multiplexed clients in one state (AUTH,
 * database). Requests are appended whole to out and written once per loop
 * iteration; replies are read into in, framed, and handed to the client
 * at the queue's head. */
typedef struct px_shup {
    struct px_shup *next;
    char *auth;         /* the AUTH command its clients sent (NULL: none) */
    uint32_t authlen, db;
    uint32_t users;     /* clients whose commands go here */
    int64_t idle_since; /* no users and nothing queued since (0: in use) */
    int fd;
    uint8_t state;      /* px_sh_state */
    uint8_t full;       /* its clients are not read: the queue is full */
    uint8_t framed_bind, bind_ok;
    int reg_mask;       /* interest registered with the loop */
    int delivering;     /* shared_deliver() is on the stack */
    uint32_t preamble;  /* replies to our own AUTH/SELECT still to swallow */
    size_t pre_left;    /* bytes of that AUTH/SELECT not written yet: the
                         * clients' commands behind it are written only once
                         * every preamble reply was "+" */
    uint8_t pre_failed; /* a preamble reply is an error: collecting it */
    uint8_t pre_errlen;
    char pre_err[120];  /* that error, handed to clients whose own AUTH/SELECT waits */
    int64_t since;      /* connect started, or first command waiting */
    char *out;          /* requests not written yet: out[out_pos..out_len) */
    size_t out_pos, out_len, out_cap;
    char *in;           /* replies read, not handed over yet: in[in_pos..in_len) */
    size_t in_pos, in_len;
    size_t in_framed;   /* of them, already framed for framed_for */
    px_conn *framed_for;
    uint32_t framed_n;  /* complete replies in the framed bytes */
    px_wait *q;         /* ring of pending replies */
    size_t q_head, q_len, q_cap;
    px_rep rep;
    px_conn *stalled;   /* the head client's buffer is full: stop reading */
    /* The stall clock: since when clients here have been held up by slow
     * readers. It runs across successive stalls (by one client taking a
     * long pipeline slowly, or by several non-readers in a row) and stops
     * only when another client's replies were handed over whole, so the
     * wait of everyone else is bounded by pause-timeout. */
    int64_t stalled_since; /* 0: not stalled */
    const px_conn *stall_by; /* the last client that stalled it (compared only) */
} px_shup;

typedef struct px_list {
    px_conn *head, *tail;
    size_t count;
} px_list;

struct sentinel_proxy {
    px_log log;
    px_loop *loop;
    int64_t now;

    /* configuration we keep */
    char master_name[256];
    int connect_ms, command_ms, probe_ms, pause_ms, idle_ms;
    size_t max_clients, bufsize;
    char unix_path[PX_PATH_MAX];
    sn_cred data_cred;

    /* listeners and wakeups */
    int tcp_fd, unix_fd, tcp_port;
    int64_t accept_paused_until;
    int wake_r, wake_w;
    volatile sig_atomic_t stop_requested, stats_requested;
    int stopping, stopped;
    int64_t stop_deadline;
    px_admin *admin;

    /* connections */
    int multiplex;
    px_shup *shs;  /* shared master connections, one per (AUTH, db) in use */
    int sh_kick;   /* a stalled delivery may continue */
    struct {
        uint8_t len;
        char name[16];
    } cmd_memo[8]; /* command names found shareable lately, as the client spelled them */
    px_list conns; /* CONNECTING, OPEN and SHARED */
    px_list held;  /* HELD, oldest first */
    char *scratch;

    /* the master */
    px_master_state state;
    int have_master;
    sn_hostport master;
    struct sockaddr_storage master_sa;
    socklen_t master_salen;
    int64_t state_since, down_since, down_total_ms, paused_warned;

    /* the candidate being verified */
    int have_cand;
    sn_hostport cand;
    px_probe probe;
    int probe_reg_fd, probe_reg_mask;
    int64_t probe_next;
    int probe_failures;
    int probe_ready;
    int64_t last_check;      /* last health check of the master */

    /* the watcher */
    sentinel_t *sn;
    sentinel_watch_t *watch;
    int watch_reg[PX_WATCH_FDS];
    int nwatch_reg;
    int watch_ready;
    int64_t watch_due;
    int links_up;
    char last_error[256];

    int64_t tick_due;
    px_counters ctr;

    /* watch mode / the shared cache (cache_pub.c) */
    int watch_only;
    px_pub *pub;
};

/* The one place a multiplexed client's life moves on. */
static void mux_set(sentinel_proxy_t *p, px_conn *c, px_mux_state st, const char *why)
{
    if (c->mux == st)
        return;
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d: %s -> %s (%s)", c->cfd,
                mux_state_name((px_mux_state)c->mux), mux_state_name(st), why);
    c->mux = (uint8_t)st;
}

/* ------------------------------------------------------------------------
 * Lists
 * ------------------------------------------------------------------------ */

static void list_push(px_list *l, px_conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->count++;
}

static void list_remove(px_list *l, px_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->count--;
}

static int same_hp(const sn_hostport *a, const char *host, int port)
{
    return a->port == port && strcmp(a->host, host) == 0;
}

/* ------------------------------------------------------------------------
 * Connections: events, teardown
 * ------------------------------------------------------------------------ */

static void on_client(px_loop *l, int fd, void *ud, int mask);
static void on_upstream(px_loop *l, int fd, void *ud, int mask);
static void master_suspect(sentinel_proxy_t *p, const char *why);
static void master_check(sentinel_proxy_t *p);
static void shared_forget(sentinel_proxy_t *p, px_conn *c);
static void conn_connect(sentinel_proxy_t *p, px_conn *c);
static struct px_shup *sh_get(sentinel_proxy_t *p, const char *auth, size_t authlen, uint32_t db);
static void sh_bind(sentinel_proxy_t *p, px_conn *c, struct px_shup *sh);
static void buf_release(sentinel_proxy_t *p, px_buf **b);

/* Apply the interest a connection's state calls for; epoll_ctl runs only
 * when something changed, so the forwarding fast path makes none. */
static void conn_update(sentinel_proxy_t *p, px_conn *c)
{
    int want_c = PX_NONE, want_u = PX_NONE, have;
    int forwarding = p->state != PX_MASTER_PAUSED && !p->stopping;

    if (c->state == PX_CONN_OPEN) {
        if (forwarding && c->c2u == NULL && !(c->flags & PX_CL_EOF))
            want_c |= PX_READABLE;
        if (c->u2c == NULL && !(c->flags & PX_UP_EOF))
            want_u |= PX_READABLE;
        if (c->c2u && forwarding)
            want_u |= PX_WRITABLE;
    } else if (c->state == PX_CONN_CONNECTING) {
        want_u |= PX_WRITABLE;
    } else if (c->state == PX_CONN_SHARED) {
        /* Read while nothing holds this client back: a pause, the shared
         * queue being full, an end, or a command that waits for a
         * connection of its own. */
        if (forwarding && !(c->sh && c->sh->full) && c->mux == PX_MUX_PARSING &&
            !(c->flags & (PX_CL_EOF | PX_UP_EOF)))
            want_c |= PX_READABLE;
    }
    if (c->u2c)
        want_c |= PX_WRITABLE;

    have = px_loop_mask(p->loop, c->cfd);
    if (have & ~want_c)
        px_loop_del(p->loop, c->cfd, have & ~want_c);
    if (want_c & ~have)
        px_loop_add(p->loop, c->cfd, want_c, on_client, c);
    if (c->ufd >= 0) {
        have = px_loop_mask(p->loop, c->ufd);
        if (have & ~want_u)
            px_loop_del(p->loop, c->ufd, have & ~want_u);
        if (want_u & ~have)
            px_loop_add(p->loop, c->ufd, want_u, on_upstream, c);
    }
}

typedef enum px_drop_how {
    PX_DROP_NORMAL, /* EOF, errors */
    PX_DROP_SWITCH  /* attached to a master we left: abort the upstream */
} px_drop_how;

/* The one teardown path of a connection: every error ends here. */
static void conn_drop(sentinel_proxy_t *p, px_conn *c, px_drop_how how)
{
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG,
                "client fd %d dropped (%s%s, %s, flags 0x%x)", c->cfd,
                conn_state_name((px_conn_state)c->state),
                how == PX_DROP_SWITCH ? ", master left" : "",
                mux_state_name((px_mux_state)c->mux), (unsigned)c->flags);
    if (c->state == PX_CONN_SHARED)
        shared_forget(p, c);
    sh_bind(p, c, NULL);
    px_loop_del(p->loop, c->cfd, PX_READABLE | PX_WRITABLE);
    close(c->cfd);
    if (c->ufd >= 0) {
        px_loop_del(p->loop, c->ufd, PX_READABLE | PX_WRITABLE);
        if (how == PX_DROP_SWITCH)
            px_close_abort(c->ufd);
        else
            close(c->ufd);
    }
    if (c->c2u)
        buf_release(p, &c->c2u);
    if (c->u2c)
        buf_release(p, &c->u2c);
    list_remove(c->state == PX_CONN_HELD ? &p->held : &p->conns, c);
    free(c);
}

/* Best effort: a short error line for a client we refuse, as Redis itself
 * answers a client over maxclients. */
static void refuse(int fd, const char *line)
{
    ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
}

static ssize_t client_take(sentinel_proxy_t *p, px_conn *c, const char *data, size_t len);

/* -MASTERDOWN, then the end. The line goes behind the replies the client
 * still has buffered, never into the middle of one: the client is marked
 * ended (PX_UP_EOF, nothing more read or run) and closed once its buffer
 * drains, or after pause-timeout if it does not read (tick). */
static void conn_refuse_masterdown(sentinel_proxy_t *p, px_conn *c)
{
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "-MASTERDOWN sentinel-proxy: no verified master for '%s' after %d ms%s%s\r\n",
                     p->master_name, p->pause_ms, p->last_error[0] ? ": " : "", p->last_error);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1 : (size_t)n;

    p->ctr.conns_refused++;
    if (len >= 2)
        memcpy(line + len - 2, "\r\n", 2); /* whole even when the error was cut */
    if (c->state == PX_CONN_SHARED)
        shared_forget(p, c); /* its queued commands never ran */
    c->flags |= PX_UP_EOF | PX_CL_EOF; /* what it waited for never comes */
    if (c->c2u)
        buf_release(p, &c->c2u);
    c->since = p->now;
    if (c->u2c && p->bufsize - (c->u2c->len - c->u2c->pos) < len)
        len = 0; /* no room for the whole line: just the end, after the replies */
    if ((len && client_take(p, c, line, len) < 0) || c->u2c == NULL) {
        conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    conn_update(p, c);
}

/* A held client starts forwarding: multiplexed, or over a master
 * connection of its own. */
static void conn_attach(sentinel_proxy_t *p, px_conn *c)
{
    list_remove(&p->held, c);
    list_push(&p->conns, c);
    c->since = p->now;
    if (p->multiplex && c->mux != PX_MUX_PINNING) {
        px_shup *sh = c->sh ? c->sh : sh_get(p, NULL, 0, 0);
        if (sh) {
            sh_bind(p, c, sh);
            c->state = PX_CONN_SHARED;
            conn_update(p, c);
            return;
        }
        mux_set(p, c, PX_MUX_PINNING, "no shared connection left");
    }
    conn_connect(p, c);
}

/* Start a client's own master connection (its requests wait in c2u). */
static void conn_connect(sentinel_proxy_t *p, px_conn *c)
{
    int fd;

    c->since = p->now;
    fd = socket(p->master_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "upstream socket: %s", strerror(errno));
        c->state = PX_CONN_CONNECTING; /* so that the drop finds the right list */
        conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    px_set_nodelay(fd);
    c->ufd = fd;
    if (connect(fd, (struct sockaddr *)&p->master_sa, p->master_salen) == 0) {
        c->state = PX_CONN_OPEN;
    } else if (errno == EINPROGRESS) {
        c->state = PX_CONN_CONNECTING;
    } else {
        c->state = PX_CONN_CONNECTING;
        p->ctr.upstream_errors++;
        conn_drop(p, c, PX_DROP_NORMAL);
        master_suspect(p, strerror(errno));
        return;
    }
    conn_update(p, c);
}

/* Held clients get an upstream once there is a verified master. */
static void attach_held(sentinel_proxy_t *p)
{
    for (px_conn *c = p->held.head, *next; c && p->state == PX_MASTER_UP && !p->stopping;
         c = next) {
        next = c->next;
        if (!(c->flags & PX_UP_EOF)) /* refused: only its last bytes go out */
            conn_attach(p, c);
    }
}

static void update_all(sentinel_proxy_t *p)
{
    for (px_conn *c = p->conns.head; c; c = c->next)
        conn_update(p, c);
}

/* ------------------------------------------------------------------------
 * Forwarding
 * ------------------------------------------------------------------------ */

/* Keep what the destination did not take. */
static int buf_keep(sentinel_proxy_t *p, px_buf **b, const char *data, size_t len)
{
    if ((*b = malloc(sizeof(px_buf) + p->bufsize)) == NULL)
        return -1;
    memcpy((*b)->data, data, len);
    (*b)->pos = 0;
    (*b)->len = (uint32_t)len;
    p->ctr.buffer_bytes += p->bufsize;
    return 0;
}

/* Free a buffer. A client's requests may hold its AUTH: wiped first. */
static void buf_release(sentinel_proxy_t *p, px_buf **b)
{
    explicit_bzero((*b)->data, (*b)->len);
    free(*b);
    *b = NULL;
    p->ctr.buffer_bytes -= p->bufsize;
}

/* Write pending bytes; 1 when drained, 0 when some remain, -1 on error. */
static int buf_flush(sentinel_proxy_t *p, px_buf **b, int fd)
{
    while ((*b)->pos < (*b)->len) {
        ssize_t n = send(fd, (*b)->data + (*b)->pos, (*b)->len - (*b)->pos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        (*b)->pos += (uint32_t)n;
    }
    buf_release(p, b);
    return 1;
}

/*
 * Move bytes from one socket to the other: read once into the scratch
 * buffer, write straight through, keep only the remainder. Returns 1 when
 * bytes moved, 0 on EAGAIN, -2 on EOF from src, -1 on an error.
 */
static int forward(sentinel_proxy_t *p, int src, int dst, px_buf **pending, uint64_t *counter)
{
    ssize_t n, w;

    n = recv(src, p->scratch, p->bufsize, 0);
    if (n == 0)
        return -2;
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    *counter += (uint64_t)n;
    w = send(dst, p->scratch, (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        w = 0;
    }
    if (w < n && buf_keep(p, pending, p->scratch + w, (size_t)(n - w)) == -1)
        return -1;
    return 1;
}

static int shared_pending(const sentinel_proxy_t *p, const px_conn *c);

/* Both directions finished? Then the connection is done. */
static int conn_finished(const sentinel_proxy_t *p, const px_conn *c)
{
    if (c->state == PX_CONN_SHARED) {
        /* Every reply handed over, and the client, the master or the
         * proxy is done with it (a client waiting to be pinned is not,
         * unless it is gone: what needs its own connection cannot run). */
        int waits = c->flags & PX_UP_EOF    ? 0 /* replies were lost: nothing more runs */
                    : c->flags & PX_CL_DEAD ? c->mux == PX_MUX_WAITING
                                            : c->mux != PX_MUX_PARSING;
        if (c->u2c || shared_pending(p, c) || waits)
            return 0;
        return (c->flags & (PX_CL_EOF | PX_UP_EOF)) || p->stopping;
    }
    if ((c->flags & PX_UP_EOF) && c->u2c == NULL)
        return 1; /* the master is gone and the client has every reply */
    if ((c->flags & PX_CL_EOF) && (c->flags & PX_UP_EOF))
        return c->u2c == NULL;
    return 0;
}

static void client_eof(sentinel_proxy_t *p, px_conn *c)
{
    c->flags |= PX_CL_EOF;
    if (c->state == PX_CONN_SHARED) {
        /* An incomplete command is dropped, as Redis would; commands that
         * wait for the client's own connection still go there. */
        if (c->c2u && c->mux != PX_MUX_PINNING && c->mux != PX_MUX_WAITING)
            buf_release(p, &c->c2u);
        if (conn_finished(p, c))
            conn_drop(p, c, PX_DROP_NORMAL);
        else
            conn_update(p, c);
        return;
    }
    /* Let the master see the end once it has every request; it then
     * answers what it has and closes, which ends the connection. */
    if (c->c2u == NULL && c->state == PX_CONN_OPEN)
        shutdown(c->ufd, SHUT_WR);
    if (c->state != PX_CONN_OPEN)
        conn_drop(p, c, PX_DROP_NORMAL);
    else
        conn_update(p, c);
}

/* ------------------------------------------------------------------------
 * Multiplexing: shared master connections
 *
 * Clients start multiplexed (multiplex on, the default): their commands are
 * framed (resp.c), appended whole to a shared master connection's output
 * and written once per loop iteration, so N clients' requests cost the
 * master and the proxy one write and one read instead of N. Replies come
 * back in order; a queue says whose they are.
 *
 * There is one shared connection per connection state a client can have
 * here: its AUTH and its database. A client starts on (no AUTH, db 0).
 * AUTH and SELECT move it: once it has no reply outstanding, its command
 * is sent on the connection for the new state (opened, if needed, with our
 * own copy of that AUTH and SELECT first, whose replies we swallow), and
 * the client moves there only if Redis answered its own command "+OK". So
 * Redis checks every client's AUTH itself, a wrong password or database
 * gets Redis' own error and changes nothing, and a connection only ever
 * carries clients that Redis accepted into exactly its state.
 *
 * A client that sends anything else that could leave state in a connection
 * or block it (HELLO, CLIENT, MULTI/EXEC/WATCH, (P|S)SUBSCRIBE, BLPOP,
 * CONFIG, unknown commands, inline or malformed bytes: see
 * px_cmd_shareable()) is pinned: once its shared replies are handed over it
 * gets a master connection of its own (replaying its AUTH and SELECT when
 * it had moved) and keeps it, exactly as with multiplex off.
 *
 * Memory stays bounded: a client's incomplete command waits in its c2u
 * (one buffer; a command larger than that pins the client), a shared
 * connection's output holds at most SH_OUT_BUFS buffers (beyond that its
 * clients are not read), its input one buffer; at most SH_MAX shared
 * connections exist (a client that would need another is pinned), and one
 * unused for SH_IDLE_MS is closed. A client too slow to take its replies
 * stalls its shared connection (it is not read, the master keeps the rest)
 * until the client reads again; one that makes no progress for
 * pause-timeout is dropped.
 * ------------------------------------------------------------------------ */

#define SH_OUT_BUFS 4      /* queued requests before a connection's clients wait */
#define SH_QUEUE_MAX 65536 /* queue entries before a connection's clients wait */
#define SH_MAX 64          /* shared connections: distinct (AUTH, database) */
#define SH_IDLE_MS 30000   /* an unused shared connection is closed after this */
#define SH_AUTH_MAX 1024   /* longest AUTH command that gets a shared connection */
#define SH_DB_MAX 1000000  /* highest database number that does */

static void on_shared(px_loop *l, int fd, void *ud, int mask);
static void shared_deliver(sentinel_proxy_t *p, px_shup *sh);
static ssize_t client_take(sentinel_proxy_t *p, px_conn *c, const char *data, size_t len);
static void shared_parse(sentinel_proxy_t *p, px_conn *c, const char *base, size_t have,
                         size_t *used);
static void shared_after_parse(sentinel_proxy_t *p, px_conn *c);

static int shared_pending(const sentinel_proxy_t *p, const px_conn *c)
{
    (void)p;
    return c->inflight > 0;
}

static int shared_is_full(const sentinel_proxy_t *p, const px_shup *sh)
{
    return sh->out_len - sh->out_pos >= SH_OUT_BUFS * p->bufsize || sh->q_len >= SH_QUEUE_MAX;
}

/* A connection's clients are read again, or no longer, when its queue
 * crosses the limit. */
static void shared_check_full(sentinel_proxy_t *p, px_shup *sh)
{
    int full = shared_is_full(p, sh);

    if (full != sh->full) {
        sh->full = full;
        update_all(p);
    }
}

static void shared_sync(sentinel_proxy_t *p, px_shup *sh)
{
    int want = PX_NONE;

    if (sh->state == PX_SH_CONNECTING) {
        want = PX_WRITABLE;
    } else if (sh->state == PX_SH_OPEN) {
        if (sh->in_pos == sh->in_len)
            want |= PX_READABLE;
        if (sh->out_pos < sh->out_len && p->state != PX_MASTER_PAUSED &&
            (sh->preamble == 0 || sh->pre_left > 0))
            want |= PX_WRITABLE;
    }
    if (want == sh->reg_mask)
        return;
    if (sh->reg_mask & ~want)
        px_loop_del(p->loop, sh->fd, sh->reg_mask & ~want);
    if (want & ~sh->reg_mask)
        px_loop_add(p->loop, sh->fd, want & ~sh->reg_mask, on_shared, sh);
    sh->reg_mask = want;
}

static void sh_idle_check(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->users == 0 && sh->q_len == 0 && sh->idle_since == 0)
        sh->idle_since = p->now;
}

static void sh_bind(sentinel_proxy_t *p, px_conn *c, px_shup *sh)
{
    if (c->sh == sh)
        return;
    if (c->sh) {
        c->sh->users--;
        sh_idle_check(p, c->sh);
    }
    c->sh = sh;
    if (sh) {
        sh->users++;
        sh->idle_since = 0;
    }
}

/* The shared connection for a state, made on first use (not connected
 * yet). NULL when SH_MAX exist or memory is short: the client is pinned. */
static px_shup *sh_get(sentinel_proxy_t *p, const char *auth, size_t authlen, uint32_t db)
{
    px_shup *sh;
    size_t n = 0;

    for (sh = p->shs; sh; sh = sh->next, n++)
        if (sh->db == db && sh->authlen == authlen &&
            (authlen == 0 || memcmp(sh->auth, auth, authlen) == 0))
            return sh;
    if (n >= SH_MAX || (sh = calloc(1, sizeof(*sh))) == NULL)
        return NULL;
    if (authlen && (sh->auth = malloc(authlen)) == NULL) {
        free(sh);
        return NULL;
    }
    if (authlen)
        memcpy(sh->auth, auth, authlen);
    sh->authlen = (uint32_t)authlen;
    sh->db = db;
    sh->fd = -1;
    sh->idle_since = p->now;
    px_rep_init(&sh->rep);
    sh->next = p->shs;
    p->shs = sh;
    return sh;
}

/* Free a shared connection's output: it may hold AUTH commands. */
static void sh_out_free(px_shup *sh)
{
    if (sh->out)
        explicit_bzero(sh->out, sh->out_cap);
    free(sh->out);
    sh->out = NULL;
    sh->out_pos = sh->out_len = sh->out_cap = 0;
}

/* End the shared clients marked PX_UP_EOF that have nothing left to get
 * (on a switch: all of them at once). */
static void end_marked(sentinel_proxy_t *p, px_drop_how how)
{
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (c->state != PX_CONN_SHARED || !(c->flags & PX_UP_EOF))
            continue;
        if (how == PX_DROP_SWITCH || conn_finished(p, c))
            conn_drop(p, c, how);
        else
            conn_update(p, c);
    }
}

/* Close a shared connection. Clients with replies outstanding here can
 * never get them: they are marked PX_UP_EOF, which ends them (at once on
 * a switch, otherwise once they have what they already got) whatever
 * else they wait for; their count of outstanding replies drops by exactly
 * what was owed here, and every queue entry goes with the queue. Clients
 * with nothing outstanding carry on: their next command opens the
 * connection again, to whichever master is current then. */
static void shared_close(sentinel_proxy_t *p, px_shup *sh, px_drop_how how)
{
    size_t marked = 0;

    if (sh->fd >= 0) {
        px_loop_del(p->loop, sh->fd, PX_READABLE | PX_WRITABLE);
        if (how == PX_DROP_SWITCH)
            px_close_abort(sh->fd);
        else
            close(sh->fd);
    }
    sh->fd = -1;
    sh->reg_mask = PX_NONE;
    sh->state = PX_SH_IDLE;
    for (size_t i = 0; i < sh->q_len; i++) {
        px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
        if (w->c) {
            w->c->inflight -= w->n < w->c->inflight ? w->n : w->c->inflight;
            w->c->flags |= PX_UP_EOF;
            w->c = NULL;
            marked++;
        }
    }
    if (sh->framed_for) {
        px_conn *c = sh->framed_for;
        c->inflight -= sh->framed_n < c->inflight ? sh->framed_n : c->inflight;
        c->flags |= PX_UP_EOF;
        marked++;
    }
    sh_out_free(sh);
    free(sh->in);
    free(sh->q);
    sh->in = NULL;
    sh->q = NULL;
    sh->in_pos = sh->in_len = sh->in_framed = 0;
    sh->q_head = sh->q_len = sh->q_cap = 0;
    sh->framed_for = sh->stalled = NULL;
    sh->stall_by = NULL;
    sh->stalled_since = 0;
    sh->framed_n = 0;
    sh->framed_bind = sh->bind_ok = 0;
    sh->preamble = 0;
    sh->pre_left = 0;
    sh->pre_failed = 0;
    px_rep_init(&sh->rep);
    sh_idle_check(p, sh);
    if (marked)
        end_marked(p, how);
    shared_check_full(p, sh);
}

static void shared_close_all(sentinel_proxy_t *p, px_drop_how how)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        shared_close(p, sh, how);
}

static void shared_fail(sentinel_proxy_t *p, px_shup *sh, const char *why)
{
    px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
            "shared master connection (db %u%s): %s (%zu replies pending)", (unsigned)sh->db,
            sh->authlen ? ", AUTH" : "", why, sh->q_len);
    p->ctr.upstream_errors++;
    shared_close(p, sh, PX_DROP_NORMAL);
}

/* Free the unused ones (and all of them when the proxy goes). */
static void shared_reap(sentinel_proxy_t *p, int all)
{
    for (px_shup **pp = &p->shs, *sh; (sh = *pp) != NULL;) {
        if (all || (sh->users == 0 && sh->q_len == 0 && sh->idle_since &&
                    p->now - sh->idle_since >= SH_IDLE_MS)) {
            shared_close(p, sh, PX_DROP_NORMAL);
            *pp = sh->next;
            if (sh->auth) {
                explicit_bzero(sh->auth, sh->authlen); /* it holds a password */
                free(sh->auth);
            }
            free(sh);
            continue;
        }
        pp = &sh->next;
    }
}

static int shared_alloc(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->out)
        return 0;
    /* Room for the connection's own AUTH and SELECT in front, too. */
    sh->out_cap = (SH_OUT_BUFS + 1) * p->bufsize + SH_AUTH_MAX + 64;
    sh->q_cap = 64;
    sh->out = malloc(sh->out_cap);
    sh->in = malloc(p->bufsize);
    sh->q = malloc(sh->q_cap * sizeof(*sh->q));
    if (sh->out == NULL || sh->in == NULL || sh->q == NULL) {
        free(sh->out);
        free(sh->in);
        free(sh->q);
        sh->out = sh->in = NULL;
        sh->q = NULL;
        sh->out_cap = sh->q_cap = 0;
        return -1;
    }
    return 0;
}

/* "SELECT db" as a RESP command into buf; its length. */
static size_t fmt_select(char *buf, size_t cap, uint32_t db)
{
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", (unsigned)db);

    return (size_t)snprintf(buf, cap, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", nl, num);
}

static void shared_connect(sentinel_proxy_t *p, px_shup *sh)
{
    char pre[SH_AUTH_MAX + 64];
    size_t plen = 0, pending;
    int fd;

    /* The connection's state first: our copy of the AUTH its clients
     * sent, then SELECT. Their replies are swallowed (preamble). */
    sh->preamble = 0;
    if (sh->authlen) {
        memcpy(pre, sh->auth, sh->authlen);
        plen = sh->authlen;
        sh->preamble++;
    }
    if (sh->db) {
        plen += fmt_select(pre + plen, sizeof(pre) - plen, sh->db);
        sh->preamble++;
    }
    /* Into a fresh buffer: the queued bytes may fill the old one. */
    pending = sh->out_len - sh->out_pos;
    {
        size_t cap = plen + pending > sh->out_cap ? plen + pending : sh->out_cap;
        char *nout = malloc(cap);
        if (nout == NULL) {
            explicit_bzero(pre, plen);
            shared_fail(p, sh, "out of memory");
            return;
        }
        memcpy(nout, pre, plen);
        memcpy(nout + plen, sh->out + sh->out_pos, pending);
        explicit_bzero(pre, plen);
        sh_out_free(sh);
        sh->out = nout;
        sh->out_cap = cap;
        sh->out_len = plen + pending;
        sh->pre_left = plen; /* the rest waits for its "+" replies */
        sh->pre_failed = 0;
    }

    fd = socket(p->master_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        shared_fail(p, sh, strerror(errno));
        return;
    }
    px_set_nodelay(fd);
    sh->fd = fd;
    sh->since = p->now;
    px_rep_init(&sh->rep);
    p->ctr.shared_connects++;
    if (connect(fd, (struct sockaddr *)&p->master_sa, p->master_salen) == 0) {
        sh->state = PX_SH_OPEN;
    } else if (errno == EINPROGRESS) {
        sh->state = PX_SH_CONNECTING;
    } else {
        char why[128];
        snprintf(why, sizeof(why), "%s", strerror(errno));
        shared_fail(p, sh, why);
        master_suspect(p, why);
        return;
    }
    shared_sync(p, sh);
}

/* Write the queued requests: once per loop iteration, so that every
 * client read in that iteration shares one write. */
static void shared_flush(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->out_pos == sh->out_len || p->state == PX_MASTER_PAUSED)
        return;
    if (sh->state == PX_SH_IDLE) {
        if (p->state == PX_MASTER_UP)
            shared_connect(p, sh);
        return;
    }
    if (sh->state != PX_SH_OPEN)
        return;
    while (sh->out_pos < sh->out_len) {
        size_t lim = sh->preamble ? sh->pre_left : sh->out_len - sh->out_pos;
        ssize_t n;
        if (lim == 0)
            break; /* our AUTH/SELECT first: nothing else runs before it is accepted */
        n = send(sh->fd, sh->out + sh->out_pos, lim, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            shared_fail(p, sh, strerror(errno));
            master_check(p);
            return;
        }
        sh->out_pos += (size_t)n;
        if (sh->preamble)
            sh->pre_left -= (size_t)n;
    }
    if (sh->out_pos == sh->out_len)
        sh->out_pos = sh->out_len = 0;
    shared_sync(p, sh);
    shared_check_full(p, sh);
}

static void shared_flush_all(sentinel_proxy_t *p)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        shared_flush(p, sh);
}

/* Queue one complete command of c on sh. bind: c moves to sh if Redis
 * answers it "+" (AUTH, SELECT). */
static int shared_queue(sentinel_proxy_t *p, px_shup *sh, px_conn *c, const char *cmd,
                        size_t len, int bind)
{
    px_wait *tail;

    if (shared_alloc(p, sh) == -1)
        return -1;
    if (sh->out_len + len > sh->out_cap) {
        memmove(sh->out, sh->out + sh->out_pos, sh->out_len - sh->out_pos);
        sh->out_len -= sh->out_pos;
        sh->out_pos = 0;
        if (sh->out_len + len > sh->out_cap) {
            /* Clients are not read past SH_OUT_BUFS, but AUTH/SELECT
             * queued here from other connections and commands re-parsed
             * after a wait are not held back: grow (each is bounded by
             * its client's one buffer). */
            size_t ncap = sh->out_cap * 2 > sh->out_len + len ? sh->out_cap * 2 : sh->out_len + len;
            char *no = malloc(ncap);
            if (no == NULL)
                return -1;
            memcpy(no, sh->out, sh->out_len);
            explicit_bzero(sh->out, sh->out_cap);
            free(sh->out);
            sh->out = no;
            sh->out_cap = ncap;
        }
    }
    tail = sh->q_len ? &sh->q[(sh->q_head + sh->q_len - 1) % sh->q_cap] : NULL;
    if (tail && tail->c == c && !tail->bind && !bind && tail->n < UINT32_MAX) {
        tail->n++;
    } else {
        if (sh->q_len == sh->q_cap) {
            size_t ncap = sh->q_cap * 2;
            px_wait *nq = malloc(ncap * sizeof(*nq));
            if (nq == NULL)
                return -1;
            for (size_t i = 0; i < sh->q_len; i++)
                nq[i] = sh->q[(sh->q_head + i) % sh->q_cap];
            free(sh->q);
            sh->q = nq;
            sh->q_cap = ncap;
            sh->q_head = 0;
        }
        sh->q[(sh->q_head + sh->q_len) % sh->q_cap] = (px_wait){c, 1, (uint8_t)bind};
        sh->q_len++;
    }
    if (sh->state == PX_SH_IDLE && sh->q_len == 1 && sh->q[sh->q_head].n == 1)
        sh->since = p->now; /* the first command waiting for a connection */
    memcpy(sh->out + sh->out_len, cmd, len);
    sh->out_len += len;
    sh->idle_since = 0;
    c->inflight++;
    p->ctr.multiplexed++;
    return 0;
}

/* A client is going away: its queued replies are discarded on arrival.
 * Every queue is searched whatever its count says: no entry may outlive
 * its client. */
static void shared_forget(sentinel_proxy_t *p, px_conn *c)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next) {
        for (size_t i = 0; i < sh->q_len; i++) {
            px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
            if (w->c == c)
                w->c = NULL;
        }
        if (sh->framed_for == c)
            sh->framed_for = NULL;
        if (sh->stalled == c) {
            sh->stalled = NULL;
            p->sh_kick = 1; /* the others' replies may flow again */
        }
        if (sh->stall_by == c)
            sh->stall_by = NULL; /* the stall clock runs on for the next one */
    }
    c->inflight = 0;
}

/* A shared client's command needs a connection of its own: give it one
 * once every reply it is owed on the shared connection has been handed
 * over, so that replies stay in order. If it had moved (AUTH, SELECT),
 * the same AUTH and SELECT go first on its new connection; the client had
 * its "+OK" for them already, so their replies are checked to be "+OK"
 * and skipped (on_upstream), and anything else closes the client. */
static void shared_pin(sentinel_proxy_t *p, px_conn *c)
{
    px_shup *sh = c->sh;

    if (shared_pending(p, c) || (c->flags & PX_UP_EOF))
        return; /* an ended client's pinned command never runs */
    if (sh && (sh->authlen || sh->db)) {
        /* Replay the state in front of what waits in c2u. */
        size_t pend = c->c2u ? c->c2u->len - c->c2u->pos : 0;
        char sel[64];
        size_t sl = sh->db ? fmt_select(sel, sizeof(sel), sh->db) : 0;
        size_t need = sh->authlen + sl + pend;
        px_buf *nb = malloc(sizeof(px_buf) + (need > p->bufsize ? need : p->bufsize));
        if (nb == NULL) {
            conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        nb->pos = 0;
        nb->len = 0;
        if (sh->authlen)
            memcpy(nb->data, sh->auth, sh->authlen);
        nb->len += sh->authlen;
        memcpy(nb->data + nb->len, sel, sl);
        nb->len += (uint32_t)sl;
        if (pend)
            memcpy(nb->data + nb->len, c->c2u->data + c->c2u->pos, pend);
        nb->len += (uint32_t)pend;
        if (c->c2u)
            buf_release(p, &c->c2u);
        c->c2u = nb; /* holds the AUTH: buf_release() wipes it */
        p->ctr.buffer_bytes += p->bufsize;
        c->skip = (uint8_t)(5 * ((sh->authlen ? 1 : 0) + (sh->db ? 1 : 0))); /* "+OK\r\n" */
    }
    sh_bind(p, c, NULL);
    p->ctr.pinned++;
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d gets its own connection",
                c->cfd);
    if (p->state == PX_MASTER_UP && !p->stopping) {
        conn_connect(p, c);
        return;
    }
    /* No verified master right now: wait with the held clients. */
    list_remove(&p->conns, c);
    c->state = PX_CONN_HELD;
    c->since = p->now;
    list_push(&p->held, c);
    conn_update(p, c);
}

/* After replies were handed to c (or its parse was held up): answer its
 * QUIT, carry on parsing, pin it, or finish it. */
static void shared_after(sentinel_proxy_t *p, px_conn *c)
{
    if (c->state != PX_CONN_SHARED || shared_pending(p, c))
        return;
    if (c->flags & PX_UP_EOF) {
        /* Its master connection ended with replies owed: what it waits
         * for (its own connection, QUIT's "+OK", a re-parse) never comes. */
        if (conn_finished(p, c))
            conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    if (c->mux == PX_MUX_WAITING) {
        /* AUTH/SELECT answered, or replies it had to wait for are in:
         * go on with what it sent after. */
        size_t used = 0;
        mux_set(p, c, PX_MUX_PARSING, "nothing outstanding");
        if (c->c2u) {
            shared_parse(p, c, c->c2u->data + c->c2u->pos, c->c2u->len - c->c2u->pos, &used);
            if (c->c2u && used == c->c2u->len - c->c2u->pos)
                buf_release(p, &c->c2u);
            else if (c->c2u)
                c->c2u->pos += (uint32_t)used;
        }
        shared_after_parse(p, c);
        return;
    }
    if (c->mux == PX_MUX_QUITTING) {
        /* QUIT is answered here: a connection of its own just to say
         * goodbye would cost the master a connect. The whole "+OK" or
         * nothing yet: a full buffer is flushed first (on_client). */
        if (c->u2c && p->bufsize - (c->u2c->len - c->u2c->pos) < 5)
            return;
        mux_set(p, c, PX_MUX_PARSING, "QUIT answered"); /* PX_CL_EOF: nothing more read */
        if (client_take(p, c, "+OK\r\n", 5) != 5) {
            conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
    }
    if (c->mux == PX_MUX_PINNING && !(c->flags & PX_CL_DEAD))
        shared_pin(p, c);
    else if (conn_finished(p, c))
        conn_drop(p, c, PX_DROP_NORMAL);
}

/* Give c as much of data as it takes now: a direct send, then its
 * buffer. Returns the bytes taken, or -1 when the client failed. */
static ssize_t client_take(sentinel_proxy_t *p, px_conn *c, const char *data, size_t len)
{
    size_t off = 0, keep;

    if (c->flags & PX_CL_DEAD)
        return (ssize_t)len;
    if (c->u2c == NULL) {
        ssize_t w = send(c->cfd, data, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -1;
            w = 0;
        }
        off = (size_t)w;
        if (off == len)
            return (ssize_t)len;
        keep = len - off < p->bufsize ? len - off : p->bufsize;
        if (buf_keep(p, &c->u2c, data + off, keep) == -1)
            return -1;
        off += keep;
    } else {
        px_buf *b = c->u2c;
        if (b->pos > 0) {
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        keep = p->bufsize - b->len < len ? p->bufsize - b->len : len;
        memcpy(b->data + b->len, data, keep);
        b->len += (uint32_t)keep;
        off = keep;
    }
    conn_update(p, c);
    return (ssize_t)off;
}

/*
 * The master refused the AUTH or SELECT that puts a (re)opened shared
 * connection in its state (a rotated password, an ACL change, -BUSY, a
 * node with fewer databases). Clients whose own AUTH/SELECT for this
 * state waits here get Redis' refusal as their answer (Redis refused the
 * same command) and stay where they are. Every other client here, queued
 * or already in this state, cannot go on in it: it is ended, never let run
 * in another database or as another user. The connection is closed.
 */
static void shared_refused(sentinel_proxy_t *p, px_shup *sh)
{
    char err[sizeof(sh->pre_err) + 2];
    size_t elen = 0, nask = 0;
    px_conn **ask = sh->q_len ? malloc(sh->q_len * sizeof(*ask)) : NULL;

    while (elen < sh->pre_errlen && sh->pre_err[elen] != '\r' && sh->pre_err[elen] != '\n')
        elen++;
    if (elen == 0 || sh->pre_err[0] != '-')
        elen = (size_t)snprintf(err, sizeof(err), "-ERR sentinel-proxy: unexpected reply");
    else
        memcpy(err, sh->pre_err, elen);
    memcpy(err + elen, "\r\n", 2);
    elen += 2;
    px_logf(&p->log, sh->users ? SENTINEL_PROXY_LOG_WARN : SENTINEL_PROXY_LOG_DEBUG,
            "shared master connection (db %u%s): the master refused its AUTH/SELECT (%.*s); "
            "%u clients in that state end",
            (unsigned)sh->db, sh->authlen ? ", AUTH" : "", (int)(elen - 2), err,
            (unsigned)sh->users);
    for (size_t i = 0; i < sh->q_len; i++) {
        px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
        px_conn *c = w->c;
        if (c && w->bind && c->sh != sh && !(c->flags & PX_UP_EOF)) {
            c->inflight -= w->n < c->inflight ? w->n : c->inflight;
            w->c = NULL;
            if (ask)
                ask[nask++] = c;
            else
                c->flags |= PX_UP_EOF; /* no memory to answer it: end it */
        }
    }
    for (px_conn *c = p->conns.head; c; c = c->next)
        if (c->state == PX_CONN_SHARED && c->sh == sh)
            c->flags |= PX_UP_EOF;
    shared_close(p, sh, PX_DROP_NORMAL);
    end_marked(p, PX_DROP_NORMAL);
    /* Not marked, with nothing queued anywhere: none of them was dropped. */
    for (size_t i = 0; i < nask; i++) {
        px_conn *c = ask[i];
        if (client_take(p, c, err, elen) < 0)
            conn_drop(p, c, PX_DROP_NORMAL);
        else
            shared_after(p, c);
    }
    free(ask);
}

/* Hand the replies read from a shared connection to their clients. */
static void shared_deliver(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->delivering)
        return;
    sh->delivering = 1;
    while (sh->in != NULL) {
        if (sh->in_framed > 0) {
            px_conn *c = sh->framed_for;
            size_t k = sh->in_framed;
            uint32_t nrep = sh->framed_n;
            int bind = sh->framed_bind;
            if (c) {
                ssize_t took = client_take(p, c, sh->in + sh->in_pos, k);
                if (took < 0) {
                    /* The client is gone. What it sent still runs, as in
                     * Redis (which reads a closed client's last commands
                     * before it sees the end); its replies are dropped. */
                    c->flags |= PX_CL_DEAD | PX_CL_EOF;
                    if (c->u2c)
                        buf_release(p, &c->u2c);
                    took = (ssize_t)k;
                }
                if ((size_t)took < k) {
                    /* Its buffer is full: wait for it (the clock runs on
                     * from an earlier stall: see px_shup). */
                    if (sh->stalled_since == 0)
                        sh->stalled_since = p->now;
                    sh->stalled = c;
                    sh->stall_by = c;
                    sh->in_pos += (size_t)took;
                    sh->in_framed -= (size_t)took;
                    break;
                }
            }
            sh->in_pos += sh->in_framed;
            sh->in_framed = 0;
            sh->framed_for = NULL;
            sh->framed_n = 0;
            sh->framed_bind = 0;
            sh->stalled = NULL;
            if (c && c != sh->stall_by) {
                /* Another client got its replies whole: the stall is over. */
                sh->stalled_since = 0;
                sh->stall_by = NULL;
            }
            if (c) {
                c->inflight -= nrep < c->inflight ? nrep : c->inflight;
                if (bind)
                    sh_bind(p, c, sh); /* Redis said +OK to its AUTH/SELECT here */
                shared_after(p, c);
            }
            continue;
        }
        if (sh->in_pos == sh->in_len) {
            sh->in_pos = sh->in_len = 0;
            break;
        }
        if (sh->preamble > 0) {
            /* Our own AUTH / SELECT: swallowed when "+". Anything else
             * means the connection is not in the state its clients were
             * accepted into: nothing of theirs was written yet (held
             * behind the preamble), and shared_refused() ends them. */
            int done, start = px_rep_at_start(&sh->rep);
            size_t from = sh->in_pos;
            ssize_t k = px_rep_feed(&sh->rep, sh->in + sh->in_pos, sh->in_len - sh->in_pos, &done);
            if (k < 0) {
                sh->delivering = 0;
                shared_fail(p, sh, "protocol error in a reply");
                return;
            }
            if (start && sh->in[from] != '+') {
                sh->pre_failed = 1;
                sh->pre_errlen = 0;
            }
            if (sh->pre_failed) {
                size_t room = sizeof(sh->pre_err) - sh->pre_errlen;
                size_t take = (size_t)k < room ? (size_t)k : room;
                memcpy(sh->pre_err + sh->pre_errlen, sh->in + from, take);
                sh->pre_errlen = (uint8_t)(sh->pre_errlen + take);
            }
            sh->in_pos += (size_t)k;
            if (!done)
                continue;
            sh->preamble--;
            if (sh->pre_failed) {
                sh->delivering = 0;
                shared_refused(p, sh);
                return;
            }
            if (sh->preamble == 0)
                shared_sync(p, sh); /* the clients' commands may go now */
            continue;
        }
        if (sh->q_len == 0) {
            sh->delivering = 0;
            shared_fail(p, sh, "reply without a request");
            return;
        }
        /* Frame as many of the head's replies as the bytes hold. */
        px_wait *w = &sh->q[sh->q_head];
        size_t pos = sh->in_pos;
        uint32_t nrep = 0;
        if (w->bind && px_rep_at_start(&sh->rep))
            sh->bind_ok = sh->in[pos] == '+';
        while (pos < sh->in_len && w->n > 0) {
            int done;
            ssize_t k = px_rep_feed(&sh->rep, sh->in + pos, sh->in_len - pos, &done);
            if (k < 0) {
                sh->delivering = 0;
                shared_fail(p, sh, "protocol error in a reply");
                return;
            }
            pos += (size_t)k;
            if (!done)
                break;
            w->n--;
            nrep++;
        }
        sh->framed_for = w->c;
        sh->in_framed = pos - sh->in_pos;
        sh->framed_n = nrep;
        sh->framed_bind = w->bind && w->n == 0 && sh->bind_ok;
        if (w->n == 0) {
            sh->q_head = (sh->q_head + 1) % sh->q_cap;
            sh->q_len--;
            sh_idle_check(p, sh);
        }
    }
    if (sh->q_len == 0 && sh->stalled == NULL) {
        sh->stalled_since = 0; /* nobody is owed anything here */
        sh->stall_by = NULL;
    }
    sh->delivering = 0;
    shared_sync(p, sh);
    shared_check_full(p, sh);
}

static void shared_deliver_all(sentinel_proxy_t *p)
{
    p->sh_kick = 0;
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        if (sh->in_pos < sh->in_len)
            shared_deliver(p, sh);
}

static void on_shared(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_shup *sh = ud;

    (void)fd;
    if (sh->state == PX_SH_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (!(mask & PX_WRITABLE))
            return;
        if (getsockopt(sh->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
            char why[128];
            snprintf(why, sizeof(why), "%s", strerror(err ? err : errno));
            shared_fail(p, sh, why);
            master_suspect(p, why);
            return;
        }
        sh->state = PX_SH_OPEN;
        shared_flush(p, sh);
        shared_sync(p, sh);
        return;
    }
    if (mask & PX_WRITABLE)
        shared_flush(p, sh);
    if ((mask & PX_READABLE) && sh->state == PX_SH_OPEN && sh->in_pos == sh->in_len) {
        ssize_t n = recv(sh->fd, sh->in, p->bufsize, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            shared_fail(p, sh, n == 0 ? "closed by the master" : strerror(errno));
            master_check(p);
            return;
        }
        p->ctr.bytes_out += (uint64_t)n;
        sh->in_pos = 0;
        sh->in_len = (size_t)n;
        shared_deliver(p, sh);
    }
}

/* px_cmd_shareable() behind a small memo of names seen lately: clients
 * repeat a handful of commands, and the lookup showed in profiles. */
static int cmd_shareable(sentinel_proxy_t *p, const char *name, size_t len)
{
    size_t slot;

    if (len == 0 || len > sizeof(p->cmd_memo[0].name))
        return 0;
    slot = (len * 7 + (unsigned char)name[0] + (unsigned char)name[len - 1]) & 7;
    if (p->cmd_memo[slot].len == len && memcmp(p->cmd_memo[slot].name, name, len) == 0)
        return 1;
    if (!px_cmd_shareable(name, len))
        return 0;
    p->cmd_memo[slot].len = (uint8_t)len;
    memcpy(p->cmd_memo[slot].name, name, len);
    return 1;
}

/* AUTH or SELECT: the shared connection for the state it asks for, or NULL
 * (pin the client) for a shape we do not multiplex. */
static px_shup *state_target(sentinel_proxy_t *p, px_conn *c, const char *cmd, size_t len,
                             int is_auth)
{
    const char *arg;
    size_t arglen;
    unsigned long db = 0;

    if (is_auth) {
        if (len > SH_AUTH_MAX || px_req_arg(cmd, len, 1, &arg, &arglen) == -1)
            return NULL;
        return sh_get(p, cmd, len, c->sh->db);
    }
    /* SELECT <digits> and nothing more */
    if (px_req_arg(cmd, len, 2, &arg, &arglen) == 0 ||
        px_req_arg(cmd, len, 1, &arg, &arglen) == -1 || arglen == 0 || arglen > 7)
        return NULL;
    for (size_t i = 0; i < arglen; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            return NULL;
        db = db * 10 + (unsigned long)(arg[i] - '0');
    }
    if (db > SH_DB_MAX)
        return NULL;
    return sh_get(p, c->sh->auth, c->sh->authlen, (uint32_t)db);
}

/* Queue every complete shareable command at base[0..have) on c's shared
 * connection; stop at an incomplete one, at AUTH/SELECT (sent once
 * nothing is outstanding, then wait for its answer: PX_MUX_WAITING), at QUIT,
 * or at anything that pins the client. *used: bytes consumed. */
static void shared_parse(sentinel_proxy_t *p, px_conn *c, const char *base, size_t have,
                         size_t *used)
{
    size_t off = 0;

    while (off < have) {
        const char *name = NULL;
        size_t namelen = 0;
        ssize_t k = px_req_scan(base + off, have - off, &name, &namelen);
        if (k == 0)
            break;
        if (k > 0 && namelen == 4 && strncasecmp(name, "QUIT", 4) == 0) {
            c->flags |= PX_CL_EOF; /* whatever follows is not run */
            mux_set(p, c, PX_MUX_QUITTING, "QUIT");
            off = have;
            break;
        }
        if (k > 0 && ((namelen == 4 && strncasecmp(name, "AUTH", 4) == 0) ||
                      (namelen == 6 && strncasecmp(name, "SELECT", 6) == 0))) {
            px_shup *to;
            if (shared_pending(p, c)) {
                mux_set(p, c, PX_MUX_WAITING, "its earlier replies first");
                break;
            }
            if ((to = state_target(p, c, base + off, (size_t)k, namelen == 4)) == NULL) {
                mux_set(p, c, PX_MUX_PINNING, "AUTH/SELECT not shared");
                break;
            }
            if (shared_queue(p, to, c, base + off, (size_t)k, 1) == -1)
                goto oom;
            off += (size_t)k;
            mux_set(p, c, PX_MUX_WAITING, "for Redis' answer to its AUTH/SELECT");
            break;
        }
        if (k < 0 || !cmd_shareable(p, name, namelen)) {
            mux_set(p, c, PX_MUX_PINNING, "a command not shared");
            if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
                px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d sent %.*s: not shared",
                        c->cfd, k < 0 ? 18 : (int)(namelen > 32 ? 32 : namelen),
                        k < 0 ? "unframable request" : name);
            break;
        }
        if (shared_queue(p, c->sh, c, base + off, (size_t)k, 0) == -1)
            goto oom;
        off += (size_t)k;
    }
    *used = off;
    return;
oom:
    px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "shared queue: out of memory");
    c->flags |= PX_UP_EOF; /* ends the client once its replies are in */
    *used = have;
}

/* What a parse decided: pin, answer QUIT, or keep reading. */
static void shared_after_parse(sentinel_proxy_t *p, px_conn *c)
{
    /* A command that does not fit in a buffer is streamed over the
     * client's own connection instead. */
    if (c->c2u && c->c2u->len - c->c2u->pos >= p->bufsize && c->mux != PX_MUX_WAITING)
        mux_set(p, c, PX_MUX_PINNING, "a command larger than a buffer");
    if (c->sh && shared_is_full(p, c->sh)) {
        shared_flush(p, c->sh);
        shared_check_full(p, c->sh);
    }
    if (c->mux == PX_MUX_PINNING || c->mux == PX_MUX_QUITTING || (c->flags & PX_UP_EOF)) {
        conn_update(p, c);
        shared_after(p, c); /* acts now when nothing is outstanding */
        return;
    }
    if (conn_finished(p, c)) {
        conn_drop(p, c, PX_DROP_NORMAL); /* it had closed while waiting for AUTH/SELECT */
        return;
    }
    conn_update(p, c);
}

/* Read a multiplexed client's requests and parse them. */
static void shared_client_read(sentinel_proxy_t *p, px_conn *c)
{
    char *base;
    size_t have, used = 0;
    ssize_t n;

    if ((c->sh && c->sh->full) || p->state == PX_MASTER_PAUSED || p->stopping ||
        c->mux != PX_MUX_PARSING) {
        conn_update(p, c); /* not now: stop asking */
        return;
    }
    if (c->c2u) {
        px_buf *b = c->c2u;
        if (b->pos > 0) {
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        n = recv(c->cfd, b->data + b->len, p->bufsize - b->len, 0);
        if (n > 0)
            b->len += (uint32_t)n;
        base = b->data;
        have = b->len;
    } else {
        n = recv(c->cfd, p->scratch, p->bufsize, 0);
        base = p->scratch;
        have = n > 0 ? (size_t)n : 0;
    }
    if (n == 0) {
        client_eof(p, c);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    p->ctr.bytes_in += (uint64_t)n;
    c->since = p->now;
    shared_parse(p, c, base, have, &used);
    /* Keep the rest: an incomplete command, or what waits. */
    if (c->c2u) {
        if (used == have)
            buf_release(p, &c->c2u);
        else
            c->c2u->pos = (uint32_t)used;
    } else if (used < have && buf_keep(p, &c->c2u, base + used, have - used) == -1) {
        conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    shared_after_parse(p, c);
}

static void on_client(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_conn *c = ud;
    int rc;

    (void)fd;
    if ((mask & PX_WRITABLE) && c->u2c) {
        /* Replies the client was too slow for. */
        rc = buf_flush(p, &c->u2c, c->cfd);
        if (rc == -1) {
            conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (c->flags & PX_UP_EOF)
            c->since = p->now; /* taking its last replies */
        for (px_shup *sh = p->shs; sh; sh = sh->next)
            if (sh->stalled == c) {
                /* It reads again: hand it the rest, then the others theirs.
                 * The stall clock keeps running (px_shup). */
                shared_deliver(p, sh);
                return; /* c may be gone; delivery updated it */
            }
        if (c->mux == PX_MUX_QUITTING) {
            shared_after(p, c); /* room for its "+OK" now? */
            return;
        }
        if (rc == 1) {
            if (conn_finished(p, c)) {
                conn_drop(p, c, PX_DROP_NORMAL);
                return;
            }
            conn_update(p, c);
        }
    }
    if ((mask & PX_READABLE) && c->state == PX_CONN_SHARED) {
        shared_client_read(p, c);
        return;
    }
    if ((mask & PX_READABLE) && c->state == PX_CONN_OPEN && c->c2u == NULL &&
        !(c->flags & PX_CL_EOF)) {
        c->since = p->now;
        rc = forward(p, c->cfd, c->ufd, &c->c2u, &p->ctr.bytes_in);
        if (rc == -2) {
            client_eof(p, c);
            return;
        }
        if (rc == -1) {
            conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (c->c2u)
            conn_update(p, c);
    }
}

static void upstream_connected(sentinel_proxy_t *p, px_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
        p->ctr.upstream_errors++;
        conn_drop(p, c, PX_DROP_NORMAL);
        master_suspect(p, strerror(err ? err : errno));
        return;
    }
    c->state = PX_CONN_OPEN;
    conn_update(p, c);
}

static void on_upstream(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_conn *c = ud;
    int rc;

    (void)fd;
    if (c->state == PX_CONN_CONNECTING) {
        if (mask & PX_WRITABLE)
            upstream_connected(p, c);
        return;
    }
    if ((mask & PX_WRITABLE) && c->c2u && p->state != PX_MASTER_PAUSED) {
        rc = buf_flush(p, &c->c2u, c->ufd);
        if (rc == -1) {
            p->ctr.upstream_errors++;
            conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (rc == 1) {
            if (c->flags & PX_CL_EOF)
                shutdown(c->ufd, SHUT_WR);
            conn_update(p, c);
        }
    }
    if ((mask & PX_READABLE) && c->skip && !(c->flags & PX_UP_EOF)) {
        /* Replies to the AUTH/SELECT replayed for a pinned client, which
         * had its "+OK" already: each must be "+OK" again, or the client's
         * new connection is not in the state it believes: close it. */
        char tmp[16];
        ssize_t n = recv(c->ufd, tmp, c->skip, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        for (ssize_t i = 0; i < n; i++, c->skip--)
            if (tmp[i] != "+OK\r\n"[(5 - c->skip % 5) % 5])
                n = 0;
        if (n <= 0) {
            px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                    "client fd %d: the master refused its AUTH/SELECT on its own connection",
                    c->cfd);
            p->ctr.upstream_errors++;
            conn_drop(p, c, PX_DROP_NORMAL);
        }
        return;
    }
    if ((mask & PX_READABLE) && c->u2c == NULL && !(c->flags & PX_UP_EOF)) {
        rc = forward(p, c->ufd, c->cfd, &c->u2c, &p->ctr.bytes_out);
        if (rc == -2 || rc == -1) {
            /* The master closed (QUIT, timeout, kill) or failed: hand the
             * client what it already has, then close it. */
            c->flags |= PX_UP_EOF;
            if (rc == -1)
                p->ctr.upstream_errors++;
            if (!(c->flags & PX_CL_EOF))
                master_check(p);
            if (conn_finished(p, c)) {
                conn_drop(p, c, PX_DROP_NORMAL);
                return;
            }
            conn_update(p, c);
            return;
        }
        if (c->u2c)
            conn_update(p, c);
    }
}

/* ------------------------------------------------------------------------
 * Accepting clients
 * ------------------------------------------------------------------------ */

static void accept_one(sentinel_proxy_t *p, int fd, int tcp)
{
    px_conn *c;

    if (p->conns.count + p->held.count >= p->max_clients || p->stopping) {
        refuse(fd, "-ERR max number of clients reached\r\n");
        close(fd);
        p->ctr.conns_refused++;
        return;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        close(fd);
        p->ctr.conns_refused++;
        return;
    }
    if (tcp)
        px_set_nodelay(fd);
    c->cfd = fd;
    c->ufd = -1;
    c->state = PX_CONN_HELD;
    c->since = p->now;
    p->ctr.conns_total++;
    list_push(&p->held, c);
    if (p->state == PX_MASTER_UP)
        conn_attach(p, c);
    /* else held: no upstream, nothing read, until a master is verified */
}

static void on_listener(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    int tcp = ud != NULL;

    (void)mask;
    for (int i = 0; i < PX_ACCEPT_BATCH; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of fds: stop accepting for a tick rather than spin. */
                px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "accept: %s; pausing accepts",
                        strerror(errno));
                if (p->tcp_fd >= 0)
                    px_loop_del(p->loop, p->tcp_fd, PX_READABLE);
                if (p->unix_fd >= 0)
                    px_loop_del(p->loop, p->unix_fd, PX_READABLE);
                p->accept_paused_until = p->now + PX_TICK_MS;
            }
            return;
        }
        accept_one(p, cfd, tcp);
    }
}

static void listeners_enable(sentinel_proxy_t *p)
{
    static int tcp_tag;

    if (p->tcp_fd >= 0)
        px_loop_add(p->loop, p->tcp_fd, PX_READABLE, on_listener, &tcp_tag);
    if (p->unix_fd >= 0)
        px_loop_add(p->loop, p->unix_fd, PX_READABLE, on_listener, NULL);
}

/* ------------------------------------------------------------------------
 * The master: state, switching, verification
 * ------------------------------------------------------------------------ */

static void probe_now(sentinel_proxy_t *p);

/* Tell the shared cache (if kept): a verified master, or a failover of it. */
static void publish(sentinel_proxy_t *p, int failover)
{
    px_pub_publish(p->pub, p->have_master ? &p->master : NULL, failover);
}

static void set_state(sentinel_proxy_t *p, px_master_state st, const char *why)
{
    px_master_state old = p->state;

    if (old == st)
        return;
    if (old == PX_MASTER_UP)
        p->down_since = p->now;
    if (st == PX_MASTER_UP && p->down_since) {
        p->down_total_ms += p->now - p->down_since;
        p->down_since = 0;
    }
    p->state = st;
    p->state_since = p->now;
    p->paused_warned = 0;
    px_logf(&p->log, st == PX_MASTER_UP ? SENTINEL_PROXY_LOG_INFO : SENTINEL_PROXY_LOG_WARN,
            "master %s -> %s (%s)", master_state_name(old), master_state_name(st), why);
    /* Pausing or resuming changes what every connection may read. */
    if (old == PX_MASTER_PAUSED || st == PX_MASTER_PAUSED)
        update_all(p);
}

static void set_candidate(sentinel_proxy_t *p, const char *host, int port)
{
    if (p->have_cand && same_hp(&p->cand, host, port))
        return;
    snprintf(p->cand.host, sizeof(p->cand.host), "%s", host);
    p->cand.port = port;
    p->have_cand = 1;
    p->probe_failures = 0;
    probe_now(p);
}

static void clear_candidate(sentinel_proxy_t *p)
{
    p->have_cand = 0;
    p->probe_failures = 0;
}

/* ROLE said master: make it the master and move traffic there. */
static void master_verified(sentinel_proxy_t *p, const sn_hostport *hp)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    size_t dropped = 0;

    clear_candidate(p);
    if (p->have_master && same_hp(&p->master, hp->host, hp->port)) {
        set_state(p, PX_MASTER_UP, "verified");
        attach_held(p);
        publish(p, 0);
        return;
    }
    if (px_resolve(hp, &sa, &salen) == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "cannot resolve master %s", hp->host);
        return;
    }
    /* Never leave a client talking to the old master. Multiplexed clients
     * with nothing outstanding are not attached to any master: they carry
     * on, and their next command goes to the new one. */
    dropped = p->conns.count;
    shared_close_all(p, PX_DROP_SWITCH);
    dropped -= p->conns.count;
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (c->state != PX_CONN_SHARED) {
            conn_drop(p, c, PX_DROP_SWITCH);
            dropped++;
        } else if (c->mux == PX_MUX_PINNING && !(c->flags & PX_UP_EOF)) {
            shared_pin(p, c); /* its own connection goes to the new master */
        }
    }
    if (p->have_master) {
        p->ctr.switches++;
        p->ctr.dropped_on_switch += dropped;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "switched master %s:%d -> %s:%d (%zu clients dropped, %zu held)",
                p->master.host, p->master.port, hp->host, hp->port, dropped, p->held.count);
    } else {
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "master is %s:%d", hp->host, hp->port);
    }
    p->master = *hp;
    p->master_sa = sa;
    p->master_salen = salen;
    p->have_master = 1;
    p->last_error[0] = '\0';
    set_state(p, PX_MASTER_UP, "verified");
    attach_held(p);
    publish(p, 0);
}

/* Our master refused a connection: hold new clients until it or a
 * successor answers ROLE master. */
static void master_suspect(sentinel_proxy_t *p, const char *why)
{
    if (p->state != PX_MASTER_UP || !p->have_master)
        return;
    snprintf(p->last_error, sizeof(p->last_error), "master %s:%d: %s", p->master.host,
             p->master.port, why);
    set_state(p, PX_MASTER_SUSPECT, p->last_error);
    set_candidate(p, p->master.host, p->master.port);
}

/* A master connection ended: check the master without holding anyone
 * (clients also end connections with QUIT, or Redis times them out). */
static void master_check(sentinel_proxy_t *p)
{
    /* Once per tick at most: a burst of closes needs one check. */
    if (p->state == PX_MASTER_UP && p->have_master && !p->have_cand &&
        p->now - p->last_check >= PX_TICK_MS) {
        p->last_check = p->now;
        set_candidate(p, p->master.host, p->master.port);
    }
}

/* ---- the ROLE probe ------------------------------------------------------ */

static void on_probe(px_loop *l, int fd, void *ud, int mask);

static void probe_sync_fd(sentinel_proxy_t *p)
{
    int fd = p->probe.fd, mask = fd >= 0 ? px_probe_events(&p->probe) : PX_NONE;

    if (p->probe_reg_fd == fd && p->probe_reg_mask == mask)
        return;
    if (p->probe_reg_fd >= 0)
        px_loop_del(p->loop, p->probe_reg_fd, PX_READABLE | PX_WRITABLE);
    p->probe_reg_fd = -1;
    p->probe_reg_mask = PX_NONE;
    if (fd >= 0 && mask != PX_NONE && px_loop_add(p->loop, fd, mask, on_probe, NULL) == 0) {
        p->probe_reg_fd = fd;
        p->probe_reg_mask = mask;
    }
}

static void probe_result(sentinel_proxy_t *p, px_probe_result r)
{
    sn_hostport cand = p->cand;
    int backoff;

    switch (r) {
    case PX_PROBE_PENDING:
        return;
    case PX_PROBE_MASTER:
        p->probe_failures = 0;
        master_verified(p, &cand);
        return;
    case PX_PROBE_NOT_MASTER:
    case PX_PROBE_FAILED:
        break;
    }
    if (r == PX_PROBE_FAILED)
        snprintf(p->last_error, sizeof(p->last_error), "%s", p->probe.err);
    else
        snprintf(p->last_error, sizeof(p->last_error), "%s:%d is not a master", cand.host,
                 cand.port);
    px_logf(&p->log, p->probe.auth_failed ? SENTINEL_PROXY_LOG_ERROR : SENTINEL_PROXY_LOG_DEBUG,
            "ROLE probe: %s", p->last_error);
    /* The master we forward to failed its check: hold new clients. */
    if (p->state == PX_MASTER_UP && p->have_master && same_hp(&p->master, cand.host, cand.port))
        set_state(p, PX_MASTER_SUSPECT, p->last_error);
    /* A replica answers "not master" until promoted: ask again every
     * probe interval. A failed connection is retried at once (Sentinel's
     * CLIENT KILL right at the promotion closes it), then with backoff, so
     * that a dead node is not hammered. */
    backoff = p->probe_ms;
    if (r == PX_PROBE_NOT_MASTER) {
        p->probe_failures = 0;
    } else if (p->probe_failures++ == 0) {
        backoff = 0;
    } else {
        for (int i = 1; i < p->probe_failures && backoff < PX_PROBE_BACKOFF_MAX_MS; i++)
            backoff *= 2;
        if (backoff > PX_PROBE_BACKOFF_MAX_MS)
            backoff = PX_PROBE_BACKOFF_MAX_MS > p->probe_ms ? PX_PROBE_BACKOFF_MAX_MS : p->probe_ms;
    }
    p->probe_next = p->now + backoff;
}

static void probe_run(sentinel_proxy_t *p)
{
    px_probe_result r;

    if (!p->have_cand) {
        /* Keep an idle probe connection for the next check; notice when
         * the node closes it. */
        if (p->probe.state == PX_PROBE_READY)
            px_probe_step(&p->probe, p->now);
        else if (p->probe.fd >= 0)
            px_probe_close(&p->probe);
        probe_sync_fd(p);
        return;
    }
    if ((p->probe.state == PX_PROBE_IDLE || p->probe.state == PX_PROBE_READY) &&
        p->now >= p->probe_next) {
        if (px_probe_start(&p->probe, &p->cand, &p->data_cred, p->connect_ms, p->command_ms,
                           p->now) == -1) {
            probe_result(p, PX_PROBE_FAILED);
            probe_sync_fd(p);
            return;
        }
    }
    r = px_probe_step(&p->probe, p->now);
    probe_sync_fd(p);
    probe_result(p, r);
    probe_sync_fd(p);
}

static void on_probe(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);

    (void)fd;
    (void)ud;
    (void)mask;
    p->probe_ready = 1;
}

static void probe_now(sentinel_proxy_t *p)
{
    p->probe_next = p->now;
    p->probe_ready = 1;
}

/* ---- sentinel events ----------------------------------------------------- */

static void on_event(const sentinel_event *ev, void *ud)
{
    sentinel_proxy_t *p = ud;

    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        p->ctr.failovers_started++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "failover of '%s' started (%s from %s:%d)",
                p->master_name, ev->detail ? ev->detail : "?",
                ev->source_host ? ev->source_host : "?", ev->source_port);
        /* Stop writing to the old master now: it may be demoted soon. */
        clear_candidate(p);
        set_state(p, PX_MASTER_PAUSED, "failover started");
        publish(p, 1);
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "replica %s:%d selected for promotion",
                ev->host, ev->port);
        if (p->state != PX_MASTER_PAUSED)
            set_state(p, PX_MASTER_PAUSED, "replica selected");
        set_candidate(p, ev->host, ev->port);
        break;
    case SENTINEL_EVENT_SWITCHED:
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "sentinels name %s:%d as master (%s)",
                ev->host, ev->port, ev->detail ? ev->detail : "?");
        if (p->have_master && same_hp(&p->master, ev->host, ev->port) &&
            p->state == PX_MASTER_UP)
            break;
        if (p->have_master && !same_hp(&p->master, ev->host, ev->port)) {
            set_state(p, PX_MASTER_PAUSED, "master changed");
            publish(p, 1);
        }
        set_candidate(p, ev->host, ev->port);
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        p->ctr.failovers_aborted++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "failover aborted (%s)",
                ev->detail ? ev->detail : "?");
        /* Carry on with the old master once it still answers as one. */
        if (p->state == PX_MASTER_PAUSED && p->have_master) {
            clear_candidate(p);
            set_candidate(p, p->master.host, p->master.port);
        }
        break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED:
        p->ctr.subscribe_denied++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "sentinel %s:%d denied SUBSCRIBE; following it by polling only", ev->host,
                ev->port);
        break;
    case SENTINEL_EVENT_SENTINEL_DOWN:
        p->ctr.sentinel_down_events++;
        if (p->links_up > 0)
            p->links_up--;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "lost sentinel %s:%d", ev->host, ev->port);
        break;
    case SENTINEL_EVENT_SENTINEL_UP:
        p->links_up++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "subscribed to sentinel %s:%d", ev->host,
                ev->port);
        break;
    }
}

static void on_watch_fd(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);

    (void)fd;
    (void)ud;
    (void)mask;
    p->watch_ready = 1;
}

/* The watcher's fds change as it connects and reconnects: re-register
 * them after every call into it. */
static void watch_sync_fds(sentinel_proxy_t *p)
{
    sentinel_watch_fd fds[PX_WATCH_FDS];
    int n = sentinel_watch_fds(p->watch, fds, PX_WATCH_FDS);

    if (n > PX_WATCH_FDS)
        n = PX_WATCH_FDS;
    for (int i = 0; i < p->nwatch_reg; i++)
        px_loop_del(p->loop, p->watch_reg[i], PX_READABLE | PX_WRITABLE);
    p->nwatch_reg = 0;
    for (int i = 0; i < n; i++) {
        int mask = ((fds[i].events & POLLIN) ? PX_READABLE : 0) |
                   ((fds[i].events & POLLOUT) ? PX_WRITABLE : 0);
        if (px_loop_add(p->loop, fds[i].fd, mask, on_watch_fd, NULL) == 0)
            p->watch_reg[p->nwatch_reg++] = fds[i].fd;
    }
}

static void watch_run(sentinel_proxy_t *p)
{
    sentinel_addr cur;

    p->watch_ready = 0;
    sentinel_watch_process(p->watch);
    watch_sync_fds(p);
    p->now = sn_now_ms();
    p->watch_due = p->now + sentinel_watch_timeout(p->watch);
    /* The polled answer is the backstop for every lost event. */
    if (sentinel_watch_current(p->watch, &cur) == 0) {
        int is_master = p->have_master && same_hp(&p->master, cur.host, cur.port);
        int is_cand = p->have_cand && same_hp(&p->cand, cur.host, cur.port);
        if (!is_master && !is_cand && !sentinel_watch_in_failover(p->watch)) {
            if (p->have_master) {
                set_state(p, PX_MASTER_PAUSED, "sentinels name another master");
                publish(p, 1);
            }
            set_candidate(p, cur.host, cur.port);
        }
    }
}

/* ------------------------------------------------------------------------
 * Timers: held clients, pauses, idle clients, graceful stop
 * ------------------------------------------------------------------------ */

/* Does a client other than c wait for replies on sh? */
static int sh_others_wait(const px_shup *sh, const px_conn *c)
{
    for (size_t i = 0; i < sh->q_len; i++) {
        const px_conn *o = sh->q[(sh->q_head + i) % sh->q_cap].c;
        if (o && o != c)
            return 1;
    }
    return 0;
}

static void tick(sentinel_proxy_t *p)
{
    p->tick_due = p->now + PX_TICK_MS;
    for (px_conn *c = p->held.head, *next; c; c = next) {
        next = c->next;
        if (p->now - c->since < p->pause_ms) {
            if (c->flags & PX_UP_EOF)
                continue; /* refused, taking its last bytes */
            break;        /* oldest first: the rest are younger */
        }
        if (c->flags & PX_UP_EOF)
            conn_drop(p, c, PX_DROP_NORMAL); /* refused and not reading */
        else
            conn_refuse_masterdown(p, c);
    }
    /* A pause that outlives pause-timeout: the clients stuck in it would
     * rather see an error than hang. */
    if (p->state == PX_MASTER_PAUSED && p->now - p->state_since >= p->pause_ms &&
        !p->paused_warned) {
        size_t n = 0;
        p->paused_warned = 1;
        shared_close_all(p, PX_DROP_SWITCH);
        while (p->conns.head) {
            conn_drop(p, p->conns.head, PX_DROP_SWITCH);
            n++;
        }
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "paused for %d ms without a verified master; dropped %zu clients",
                p->pause_ms, n);
    }
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        /* Ended and not taking its last replies: it goes. */
        if ((c->flags & PX_UP_EOF) && c->u2c && p->now - c->since >= p->pause_ms)
            conn_drop(p, c, PX_DROP_NORMAL);
        else if (p->idle_ms > 0 &&
                 (c->state == PX_CONN_OPEN ||
                  (c->state == PX_CONN_SHARED && !shared_pending(p, c))) &&
                 p->now - c->since >= p->idle_ms && !c->c2u && !c->u2c)
            conn_drop(p, c, PX_DROP_NORMAL);
    }
    for (px_shup *sh = p->shs; sh; sh = sh->next) {
        /* Commands that found no verified master to open their shared
         * connection to: after pause-timeout their clients get
         * -MASTERDOWN, as held clients do. */
        if (sh->state == PX_SH_IDLE && sh->q_len > 0 && p->now - sh->since >= p->pause_ms) {
            for (size_t i = 0; i < sh->q_len; i++) {
                px_conn *c = sh->q[(sh->q_head + i) % sh->q_cap].c;
                if (c)
                    conn_refuse_masterdown(p, c); /* forgets its entries */
            }
            shared_close(p, sh, PX_DROP_NORMAL);
        }
        if (sh->state == PX_SH_CONNECTING && p->now - sh->since >= p->connect_ms) {
            shared_fail(p, sh, "connect timed out");
            master_suspect(p, "connect timed out");
        }
        /* Slow readers have held up the other clients here for
         * pause-timeout (progress of the slow one does not count): the
         * one at the head goes, and the next staller right after it. */
        if (sh->stalled && sh->stalled_since && p->now - sh->stalled_since >= p->pause_ms) {
            if (!sh_others_wait(sh, sh->stalled)) {
                sh->stalled_since = p->now; /* it holds up nobody */
            } else {
                px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                        "client fd %d too slow to read its replies, others waited %d ms; "
                        "dropped", sh->stalled->cfd, p->pause_ms);
                conn_drop(p, sh->stalled, PX_DROP_NORMAL);
            }
        }
    }
    shared_reap(p, 0);
    if (p->accept_paused_until && p->now >= p->accept_paused_until) {
        p->accept_paused_until = 0;
        if (!p->stopping)
            listeners_enable(p);
    }
    if (p->admin)
        px_admin_tick(p->admin, p->now);
    px_pub_tick(p->pub, p->state == PX_MASTER_UP && p->have_master ? &p->master : NULL, p->now);
}

static void close_listeners(sentinel_proxy_t *p)
{
    if (p->tcp_fd >= 0) {
        px_loop_del(p->loop, p->tcp_fd, PX_READABLE);
        close(p->tcp_fd);
        p->tcp_fd = -1;
    }
    if (p->unix_fd >= 0) {
        px_loop_del(p->loop, p->unix_fd, PX_READABLE);
        close(p->unix_fd);
        p->unix_fd = -1;
        unlink(p->unix_path);
    }
}

static void begin_stop(sentinel_proxy_t *p)
{
    if (p->stopping)
        return;
    px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopping: %zu clients", p->conns.count);
    p->stopping = 1;
    p->stop_deadline = p->now + PX_DRAIN_MS;
    close_listeners(p);
    while (p->held.head)
        conn_drop(p, p->held.head, PX_DROP_NORMAL);
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (conn_finished(p, c))
            conn_drop(p, c, PX_DROP_NORMAL); /* multiplexed, nothing outstanding */
    }
    update_all(p); /* stop reading requests; replies still drain */
}

static void admin_snapshot(void *ud, px_snapshot *s);

static void on_wake(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    char buf[64];

    (void)ud;
    (void)mask;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    if (p->stats_requested) {
        char line[1024];
        p->stats_requested = 0;
        px_snapshot snap;
        admin_snapshot(p, &snap);
        px_stats_line(&snap, line, sizeof(line));
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "%s", line);
    }
    if (p->stop_requested)
        begin_stop(p);
}

/* ------------------------------------------------------------------------
 * The public API
 * ------------------------------------------------------------------------ */

static int raise_nofile(sentinel_proxy_t *p, size_t want, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)(2 * want + PX_FD_RESERVE);

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
        snprintf(err, errlen, "getrlimit: %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < need) {
        size_t fit = rl.rlim_cur > 2 * PX_FD_RESERVE ? (rl.rlim_cur - PX_FD_RESERVE) / 2 : 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "open file limit %llu allows only %zu clients (max-clients %zu)",
                (unsigned long long)rl.rlim_cur, fit, want);
        want = fit;
    }
    p->max_clients = want;
    return rl.rlim_cur > (rlim_t)1 << 24 ? 1 << 24 : (int)rl.rlim_cur;
}

static int copy_secret(char **dst, const char *src)
{
    *dst = NULL;
    if (src && (*dst = strdup(src)) == NULL)
        return -1;
    return 0;
}

sentinel_proxy_t *sentinel_proxy_new(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    sentinel_proxy_t *p;
    sentinel_addr addr;
    char dummy[8];
    int setsize, rc, fds[2];

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (sentinel_proxy_config_check(c, err, errlen) == -1)
        return NULL;
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->log = c->log;
    p->tcp_fd = p->unix_fd = p->wake_r = p->wake_w = -1;
    p->probe_reg_fd = -1;
    px_probe_init(&p->probe);
    p->multiplex = c->multiplex;
    snprintf(p->master_name, sizeof(p->master_name), "%s", c->master);
    p->connect_ms = c->connect_ms;
    p->command_ms = c->command_ms;
    p->probe_ms = c->probe_ms;
    p->pause_ms = c->pause_ms;
    p->idle_ms = c->idle_ms;
    p->bufsize = (size_t)c->buffer_size;
    p->watch_only = c->watch;
    snprintf(p->unix_path, sizeof(p->unix_path), "%s", c->unix_path);
    p->now = sn_now_ms();
    p->state = PX_MASTER_NONE;
    p->state_since = p->down_since = p->now;
    if (copy_secret(&p->data_cred.user, c->data_user) == -1 ||
        copy_secret(&p->data_cred.password, c->data_password) == -1 ||
        (p->scratch = malloc(p->bufsize)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    /* The library handle: sentinels, credentials, timeouts. */
    if ((p->sn = sentinel_new(c->master)) == NULL ||
        sentinel_add_sentinels(p->sn, c->sentinels) != 0 ||
        sentinel_set_sentinel_auth(p->sn, c->sentinel_user, c->sentinel_password) != 0 ||
        sentinel_set_data_auth(p->sn, c->data_user, c->data_password) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_CONNECT, c->connect_ms) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_COMMAND, c->command_ms) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_TOTAL, c->resolve_ms ? c->resolve_ms : 1) !=
            0) {
        snprintf(err, errlen, "%s", p->sn ? sentinel_errstr(p->sn) : "out of memory");
        goto fail;
    }

    if ((setsize = raise_nofile(p, p->watch_only ? 0 : (size_t)c->max_clients, err, errlen)) ==
        -1)
        goto fail;
    if ((p->loop = px_loop_new(setsize)) == NULL) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        goto fail;
    }
    px_loop_set_owner(p->loop, p);
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    p->wake_r = fds[0];
    p->wake_w = fds[1];
    px_loop_add(p->loop, p->wake_r, PX_READABLE, on_wake, NULL);

    if (!p->watch_only) {
        int backlog = c->max_clients < 511 ? 511 : c->max_clients;
        if (backlog > 65535)
            backlog = 65535;
        if (c->listen_port >= 0) {
            if ((p->tcp_fd = px_listen_tcp(c->listen_host, c->listen_port, backlog, err,
                                           errlen)) == -1)
                goto fail;
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            if (getsockname(p->tcp_fd, (struct sockaddr *)&ss, &sl) == 0)
                p->tcp_port = ntohs(ss.ss_family == AF_INET6
                                        ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                        : ((struct sockaddr_in *)&ss)->sin_port);
        }
        if (c->unix_path[0] &&
            (p->unix_fd = px_listen_unix(c->unix_path, c->unix_mode, backlog, err, errlen)) == -1)
            goto fail;
    }
    if (c->admin_port >= 0 &&
        (p->admin = px_admin_new(p->loop, c->admin_host, c->admin_port, admin_snapshot, p, err,
                                 errlen)) ==
            NULL)
        goto fail;
    if (c->shared_cache[0] && (p->pub = px_pub_open(c, p->sn, &p->log, err, errlen)) == NULL)
        goto fail;

    if ((p->watch = sentinel_watch_new(p->sn, on_event, p)) == NULL) {
        snprintf(err, errlen, "cannot create the sentinel watcher");
        goto fail;
    }
    sentinel_watch_set_poll_interval(p->watch, c->poll_ms);

    /* The first answer may block (bounded): nothing is listening yet. */
    if (c->resolve_ms > 0) {
        rc = sentinel_resolve(p->sn, SENTINEL_RESOLVE_NO_CACHE, &addr);
        p->now = sn_now_ms();
        if (rc == SENTINEL_OK) {
            sn_hostport hp;
            snprintf(hp.host, sizeof(hp.host), "%s", addr.host);
            hp.port = addr.port;
            master_verified(p, &hp);
        } else {
            snprintf(p->last_error, sizeof(p->last_error), "%s", sentinel_errstr(p->sn));
            px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR,
                    "cannot resolve master '%s' yet (%s): %s; holding clients until it can",
                    p->master_name, sentinel_code_name(rc), sentinel_errstr(p->sn));
        }
    }
    /* The watcher has its own copy of the configuration; the handle was
     * only needed for the first resolution. (Giving the freed memory back
     * to the system, malloc_trim(), is the program's business: it acts on
     * the whole process; tools/sentinel_proxy.c does it.) */
    sentinel_free(p->sn);
    p->sn = NULL;
    listeners_enable(p);
    p->watch_due = p->now;
    p->tick_due = p->now + PX_TICK_MS;
    if (p->admin)
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "admin endpoint on %s:%d", c->admin_host,
                px_admin_port(p->admin));
    if (p->tcp_fd >= 0) {
        int v6 = strchr(c->listen_host, ':') != NULL;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "listening on %s%s%s:%d", v6 ? "[" : "",
                c->listen_host, v6 ? "]" : "", p->tcp_port);
    }
    if (p->unix_fd >= 0)
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "listening on unix:%s", c->unix_path);
    if (p->watch_only)
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "ready: master '%s', watch mode",
                p->master_name);
    else
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "ready: master '%s', max %zu clients",
                p->master_name, p->max_clients);
    return p;
fail:
    sentinel_proxy_free(p);
    return NULL;
}

void sentinel_proxy_free(sentinel_proxy_t *p)
{
    if (p == NULL)
        return;
    if (p->loop) {
        shared_close_all(p, PX_DROP_NORMAL);
        while (p->conns.head)
            conn_drop(p, p->conns.head, PX_DROP_NORMAL);
        while (p->held.head)
            conn_drop(p, p->held.head, PX_DROP_NORMAL);
        close_listeners(p);
        for (int i = 0; i < p->nwatch_reg; i++)
            px_loop_del(p->loop, p->watch_reg[i], PX_READABLE | PX_WRITABLE);
    }
    shared_reap(p, 1);
    px_admin_free(p->admin);
    px_pub_free(p->pub);
    px_probe_close(&p->probe);
    sentinel_watch_free(p->watch);
    sentinel_free(p->sn);
    if (p->wake_r >= 0)
        close(p->wake_r);
    if (p->wake_w >= 0)
        close(p->wake_w);
    px_loop_free(p->loop);
    if (p->scratch)
        explicit_bzero(p->scratch, p->bufsize); /* the last read may hold an AUTH */
    free(p->scratch);
    free(p->data_cred.user);
    if (p->data_cred.password) {
        explicit_bzero(p->data_cred.password, strlen(p->data_cred.password));
        free(p->data_cred.password);
    }
    free(p);
}

int sentinel_proxy_fd(const sentinel_proxy_t *p)
{
    return p && p->loop ? px_loop_fd(p->loop) : -1;
}

int sentinel_proxy_timeout(sentinel_proxy_t *p)
{
    int64_t due, now;

    if (p == NULL)
        return -1;
    if (p->stopped || p->watch_ready || p->probe_ready)
        return 0;
    now = sn_now_ms();
    due = p->tick_due < p->watch_due ? p->tick_due : p->watch_due;
    if (p->have_cand) {
        int64_t pd = p->probe.state == PX_PROBE_IDLE || p->probe.state == PX_PROBE_READY
                         ? p->probe_next
                         : p->probe.deadline;
        if (pd < due)
            due = pd;
    }
    if (p->stopping && p->stop_deadline < due)
        due = p->stop_deadline;
    return due <= now ? 0 : (int)(due - now);
}

int sentinel_proxy_step(sentinel_proxy_t *p, int timeout_ms)
{
    int t;

    if (p == NULL || p->loop == NULL)
        return -1;
    if (p->stopped)
        return 1;
    t = sentinel_proxy_timeout(p);
    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    if (px_loop_wait(p->loop, t) == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "epoll_wait: %s", strerror(errno));
        return -1;
    }
    p->now = sn_now_ms();
    /* Everything the clients sent in this iteration: one write. */
    if (p->sh_kick)
        shared_deliver_all(p);
    shared_flush_all(p);
    if (p->watch_ready || p->now >= p->watch_due)
        watch_run(p);
    if (p->have_cand || p->probe.fd >= 0) {
        int due = p->probe_ready;
        if (p->have_cand) {
            if (p->probe.state == PX_PROBE_CONNECTING || p->probe.state == PX_PROBE_WAITING)
                due |= p->now >= p->probe.deadline;
            else
                due |= p->now >= p->probe_next;
        }
        if (due) {
            p->probe_ready = 0;
            probe_run(p);
        }
    }
    if (p->now >= p->tick_due)
        tick(p);
    if (p->stopping && (p->conns.count == 0 || p->now >= p->stop_deadline)) {
        shared_close_all(p, PX_DROP_NORMAL);
        while (p->conns.head)
            conn_drop(p, p->conns.head, PX_DROP_NORMAL);
        p->stopped = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopped");
        return 1;
    }
    return 0;
}

int sentinel_proxy_run(sentinel_proxy_t *p)
{
    int rc;

    while ((rc = sentinel_proxy_step(p, -1)) == 0)
        ;
    return rc == 1 ? 0 : -1;
}

void sentinel_proxy_stop(sentinel_proxy_t *p)
{
    if (p == NULL)
        return;
    p->stop_requested = 1;
    if (p->wake_w >= 0) {
        ssize_t n = write(p->wake_w, "s", 1);
        (void)n;
    }
}

void sentinel_proxy_request_stats(sentinel_proxy_t *p)
{
    if (p == NULL)
        return;
    p->stats_requested = 1;
    if (p->wake_w >= 0) {
        ssize_t n = write(p->wake_w, "i", 1);
        (void)n;
    }
}

int sentinel_proxy_port(const sentinel_proxy_t *p)
{
    return p && p->tcp_fd >= 0 ? p->tcp_port : -1;
}

int sentinel_proxy_admin_port(const sentinel_proxy_t *p)
{
    return p && p->admin ? px_admin_port(p->admin) : -1;
}

static void fill_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
{
    int64_t now = sn_now_ms();
    size_t size = st->size;

    memset(st, 0, sizeof(*st));
    st->size = size;
    st->connections_current = p->conns.count + p->held.count;
    st->connections_total = p->ctr.conns_total;
    st->connections_refused = p->ctr.conns_refused;
    st->connections_held = p->held.count;
    st->bytes_from_clients = p->ctr.bytes_in;
    st->bytes_to_clients = p->ctr.bytes_out;
    st->switches = p->ctr.switches;
    st->failovers_started = p->ctr.failovers_started;
    st->failovers_aborted = p->ctr.failovers_aborted;
    st->clients_dropped_on_switch = p->ctr.dropped_on_switch;
    st->buffer_bytes = p->ctr.buffer_bytes;
    st->ms_without_master = p->down_total_ms + (p->state != PX_MASTER_UP && p->down_since
                                                    ? now - p->down_since
                                                    : 0);
    st->master_up = p->state == PX_MASTER_UP;
    st->paused = p->state == PX_MASTER_PAUSED;
    if (p->have_master) {
        st->master_port = p->master.port;
        snprintf(st->master_host, sizeof(st->master_host), "%s", p->master.host);
    }
}

int sentinel_proxy_get_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
{
    sentinel_proxy_stats full;
    size_t n;

    /* As sentinel_get_stats(): the caller's size bounds the copy (it must
     * at least hold the size field) and tells it how much was filled. */
    if (p == NULL || st == NULL || st->size < sizeof(size_t))
        return -1;
    n = st->size < sizeof(full) ? st->size : sizeof(full);
    full.size = sizeof(full);
    fill_stats(p, &full);
    memcpy((char *)st + sizeof(size_t), (char *)&full + sizeof(size_t), n - sizeof(size_t));
    st->size = n;
    return 0;
}

/* For the admin endpoint and the stats line: a copy of the figures. */
static void admin_snapshot(void *ud, px_snapshot *s)
{
    const sentinel_proxy_t *p = ud;

    s->st.size = sizeof(s->st);
    fill_stats(p, &s->st);
    s->ctr = p->ctr;
    s->state = master_state_name(p->state);
    s->links_up = p->links_up;
}
