/*
 * The proxy's core types, shared by proxy.c (client connections, the
 * master state machine, the public API) and mux.c (the shared master
 * connections of multiplexing). Not public ABI; the modules below the
 * core (loop, net, resp, stats, cache_pub) do not include it.
 */
#ifndef SN_PROXY_CORE_H
#define SN_PROXY_CORE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "proxy/proxy_int.h"
#include "proxy/tls_io.h"
#include "sentinel/follow.h"

#define PX_FOLLOW_FDS (2 * SN_MAX_SENTINELS + 2) /* a follower's (or group's) fds: links, pollers, probe */
#define PX_TICK_MS 100                       /* timers; at most one master check per tick */
/* A router's fired follower fds: the group's, and one probe per route's
 * follower when the routes run on threads of their own (route.c). */
#define PX_FIRED_MAX (PX_FOLLOW_FDS + 2 * PX_MAX_ROUTES)

typedef enum px_master_state {
    PX_MASTER_NONE,    /* no verified master: hold new clients, probe the named one */
    PX_MASTER_UP,      /* forwarding to a verified master */
    PX_MASTER_SUSPECT, /* the master refused or dropped us: hold new clients, probe it */
    PX_MASTER_PAUSED   /* a failover is under way: hold all client traffic */
} px_master_state;

typedef enum px_conn_state {
    PX_CONN_HELD,       /* accepted, waiting for a verified master */
    PX_CONN_CONNECTING, /* upstream connect in progress */
    PX_CONN_OPEN,       /* forwarding over its own master connection */
    PX_CONN_SHARED      /* multiplexed over the shared master connection */
} px_conn_state;

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
#define PX_CUT 0x40 /* ended on an error (replies it was owed lost, refused, out of memory,
                     * too slow, its master connection failed): closed without TLS
                     * close_notify, which would tell it its replies are complete */

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
    int64_t at;   /* queued at (the first of the n): how long c waits */
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
    /* The stall bound (px_mux_check_stall): a client queued here waits
     * behind slow readers from max(its entry's at, stalled_since), where
     * stalled_since is the first stall since the queue was last empty: it
     * runs across successive stalls (one client taking a long pipeline
     * slowly, several non-readers in a row, with others' replies handed
     * over in between). Once a waiting client has waited pause-timeout,
     * the staller at the head goes, and every staller after it once it
     * has held the head for a grace (2 x pause-timeout: at once). */
    int64_t stalled_since; /* 0: not stalled */
    const px_conn *stall_by; /* the client holding the head (compared only) */
    int64_t stall_at;      /* since when stall_by holds it */
} px_shup;

/* A follower's descriptor that fired in a loop iteration; route: the
 * route whose follower owns it, when the router's loop holds it for a
 * route on a thread of its own (NULL: the loop owner's follower, or the
 * group's). */
typedef struct px_fired {
    int fd, revents;
    struct sentinel_proxy *route;
} px_fired;

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
    px_conn *mux_reading; /* the shared client whose read is flushing: ends after it */
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

    int64_t last_check;      /* last health check of the master */

    /* the failover follower (master.c): watcher, ROLE checks, epoch */
    sentinel_t *sn;          /* during sentinel_proxy_new() only */
    sentinel_follow_t *follow;
    px_fired fired[PX_FIRED_MAX]; /* its fds that fired in this loop iteration */
    int nfired;
    int64_t follow_due;      /* its timeout */
    int links_up;
    char last_error[256];

    int64_t tick_due;
    px_counters ctr;

    /* watch mode / the shared cache (cache_pub.c) */
    int watch_only;
    px_pub *pub;

    /* Several masters (route.c). A router serves no client itself: it
     * drives one proxy per route (each a whole proxy with its own loop,
     * whose fd sits in the router's loop) and owns the follower group
     * their followers join, whose fds it collects in fired[]. */
    sentinel_proxy_t **routes; /* a router: its routes */
    int nroutes;
    int routes_wanted; /* a router: how many routes it makes (they share the
                        * process's open file limit: fd_budget) */
    sentinel_follow_group_t *group; /* a router: its routes' follower group */
    sentinel_proxy_t *router;  /* a route: its router */
    int route_ready;  /* a route: its loop fd fired in the router's loop */
    int resolve_failed; /* the first resolution cannot go on (px_resolve_first) */
    /* Route threads (route.c's header says who may touch what). */
    int threaded;     /* a router: its routes run on threads; a route: on its own */
    pthread_t thread; /* a route: its thread, once started */
    int thread_started, thread_joined;
    pthread_mutex_t mu; /* a route: held while its thread (or the router) touches it */
    int mu_init;
    _Atomic int thread_done; /* a route: its thread has left its loop */
    _Atomic int thread_quit; /* a route: leave the loop now (sentinel_proxy_free) */
    int thread_rc;    /* a route: its loop's result (0 stopped, -1 failed) */
    int follow_ask;   /* a route: calls into its follower for the router (PX_ASK_*) */

    char errstr[256]; /* sentinel_proxy_errstr() (api.c) */
    px_tls *tls; /* TLS to the master and/or from clients (tls_io.c); NULL: none */
};

/* The implementations behind proxy.h's wrappers (api.c). NULL or -1 with
 * err set / errno. step: 0, 1 once stopped, -1. */
sentinel_proxy_t *px_proxy_new(const sentinel_proxy_config_t *c, char *err, size_t errlen);
int px_proxy_step(sentinel_proxy_t *p, int timeout_ms);
/* What a step does after its loop's wait and dispatch: 0, 1 once stopped. */
int px_proxy_after_wait(sentinel_proxy_t *p);
int px_proxy_run(sentinel_proxy_t *p);
int px_proxy_get_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st);

typedef enum px_drop_how {
    PX_DROP_NORMAL, /* EOF, errors */
    PX_DROP_SWITCH  /* attached to a master we left: abort the upstream */
} px_drop_how;

#define SH_OUT_BUFS 4      /* queued requests before a connection's clients wait */
#define SH_QUEUE_MAX 65536 /* queue entries before a connection's clients wait */
#define SH_MAX 64          /* shared connections: distinct (AUTH, database) */
#define SH_IDLE_MS 30000   /* an unused shared connection is closed after this */
#define SH_AUTH_MAX 1024   /* longest AUTH command that gets a shared connection */
#define SH_DB_MAX 1000000  /* highest database number that does */

/* ---- conn.c, for mux.c, master.c and proxy.c ---------------------------------------------------- */

void px_list_push(px_list *l, px_conn *c);
void px_list_remove(px_list *l, px_conn *c);
/* Apply the epoll interest a connection's state calls for. */
void px_conn_update(sentinel_proxy_t *p, px_conn *c);
/* The one teardown path of a connection. */
void px_conn_drop(sentinel_proxy_t *p, px_conn *c, px_drop_how how);
/* Start a client's own master connection. */
void px_conn_connect(sentinel_proxy_t *p, px_conn *c);
/* Both directions finished? */
int px_conn_finished(const sentinel_proxy_t *p, const px_conn *c);
/* Tick: a master connection (TCP connect and TLS handshake) that outlived
 * its deadline goes. 1 when c was dropped. */
int px_conn_check_deadline(sentinel_proxy_t *p, px_conn *c);
int px_connect_expired(sentinel_proxy_t *p, int fd, int64_t since);
/* A held client still in its TLS handshake after tls-handshake-timeout
 * from accept: closed, returns 1. */
int px_conn_handshake_expired(sentinel_proxy_t *p, px_conn *c);
void px_client_eof(sentinel_proxy_t *p, px_conn *c);
void px_update_all(sentinel_proxy_t *p);
int px_buf_keep(sentinel_proxy_t *p, px_buf **b, const char *data, size_t len);
void px_buf_release(sentinel_proxy_t *p, px_buf **b);
void px_master_suspect(sentinel_proxy_t *p, const char *why);
void px_master_check(sentinel_proxy_t *p);
/* The one place a multiplexed client's life moves on. */
void px_mux_set(sentinel_proxy_t *p, px_conn *c, px_mux_state st, const char *why);

const char *px_master_state_name(px_master_state st);
/* Held clients get an upstream once there is a verified master. */
void px_attach_held(sentinel_proxy_t *p);

/* -MASTERDOWN behind the client's buffered replies, then the end. */
void px_conn_refuse_masterdown(sentinel_proxy_t *p, px_conn *c);
void px_listeners_enable(sentinel_proxy_t *p);

/* ---- master.c, for conn.c and proxy.c ------------------------------------------------- */

/* ROLE said master: make it the master and move traffic there. */
void px_master_verified(sentinel_proxy_t *p, const sn_hostport *hp);
/* The follower for sn's master, its fds in p->loop. 0, or -1 (OOM). */
int px_master_follow_new(sentinel_proxy_t *p, const sentinel_t *sn, int poll_ms, int probe_ms);
void px_master_follow_free(sentinel_proxy_t *p);
/* Hand the follower its fired fds and due timers (after a loop iteration). */
void px_master_follow_run(sentinel_proxy_t *p);
/* Recompute p->follow_due after any call into the follower. */
void px_master_follow_due(sentinel_proxy_t *p);
/* Keep p->last_error at the follower's last problem while not UP. */
void px_master_note_error(sentinel_proxy_t *p);
/* A follower's (or follower group's) fd in p's loop, fired ones in p->fired. */
int px_fired_take(sentinel_proxy_t *p, px_fired *out);
/* route: the route whose follower owns fd (NULL: p's own, or p's group). */
void px_follow_fd_interest(sentinel_proxy_t *p, int fd, sentinel_follow_fd_op op, int events,
                           sentinel_proxy_t *route);
/* A route on a thread of its own asks its router to call its follower. */
#define PX_ASK_RECHECK 0x1 /* sentinel_follow_recheck() */
#define PX_ASK_VERIFY 0x2  /* sentinel_follow_verify() */
void px_route_ask(sentinel_proxy_t *r, int what);
/* Route r's lock (route.c), a no-op for a route without a thread. */
void px_route_lock(const sentinel_proxy_t *r);
void px_route_unlock(const sentinel_proxy_t *r);
/* The loop whose fds a proxy's follower uses: its own, or its router's
 * when it is a route on a thread of its own. */
px_loop *px_follow_loop(sentinel_proxy_t *p);

/* ---- proxy.c and route.c: several masters ------------------------------- */

/* p's loop (fds below setsize) and its wake pipe. 0, or -1 (err set). */
int px_loop_with_wake(sentinel_proxy_t *p, int setsize, char *err, size_t errlen);
/* Wait for p's loop at most due_ms or timeout_ms (-1: none), dispatch,
 * stamp p->now. 0, or -1. */
int px_loop_turn(sentinel_proxy_t *p, int due_ms, int timeout_ms);
/* The first resolution of n proxies' masters, together, within resolve_ms
 * (blocking); those left without a verified master log why. */
void px_resolve_first(sentinel_proxy_t **ps, int n, int resolve_ms);
/* The router's wake-up (stop, stats): for every route. */
void px_router_wake(sentinel_proxy_t *p);
/* One route of router: a proxy for c (one master). */
sentinel_proxy_t *px_proxy_new_route(const sentinel_proxy_config_t *c, sentinel_proxy_t *router,
                                     char *err, size_t errlen);
/* The router's follower group, made from the first route's handle sn (so
 * it has the sentinel settings a route's own follower would have). NULL on
 * OOM. */
sentinel_follow_group_t *px_router_group(sentinel_proxy_t *router, const sentinel_t *sn);
/* A router for c's routes (px_config_route_check() said several). */
sentinel_proxy_t *px_router_new(const sentinel_proxy_config_t *c, char *err, size_t errlen);
void px_router_free(sentinel_proxy_t *p);
int px_router_timeout(sentinel_proxy_t *p);
int px_router_step(sentinel_proxy_t *p, int timeout_ms);
/* Snapshots of every route (the admin endpoint). */
int px_router_snapshots(const sentinel_proxy_t *p, px_snapshot *s, int max);
/* The sum of every route's figures (sentinel_proxy_get_stats()). */
void px_router_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st);
/* The figures of one proxy (not a router). */
void px_fill_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st);
void px_snapshot_one(const sentinel_proxy_t *p, px_snapshot *s);

/* ---- mux.c, for proxy.c ---------------------------------------------------- */

int px_mux_pending(const sentinel_proxy_t *p, const px_conn *c);
/* A client is going away: none of its queue entries survives it. */
void px_mux_forget(sentinel_proxy_t *p, px_conn *c);
/* The shared connection for a state (NULL: pin the client). */
px_shup *px_mux_get(sentinel_proxy_t *p, const char *auth, size_t authlen, uint32_t db);
void px_mux_bind(sentinel_proxy_t *p, px_conn *c, px_shup *sh);
/* Give c as much of data as it takes now; bytes taken or -1. */
ssize_t px_client_take(sentinel_proxy_t *p, px_conn *c, const char *data, size_t len);
void px_mux_close(sentinel_proxy_t *p, px_shup *sh, px_drop_how how);
void px_mux_close_all(sentinel_proxy_t *p, px_drop_how how);
void px_mux_fail(sentinel_proxy_t *p, px_shup *sh, const char *why);
void px_mux_reap(sentinel_proxy_t *p, int all);
void px_mux_flush_all(sentinel_proxy_t *p);
void px_mux_deliver(sentinel_proxy_t *p, px_shup *sh);
void px_mux_deliver_all(sentinel_proxy_t *p);
void px_mux_pin(sentinel_proxy_t *p, px_conn *c);
void px_mux_after(sentinel_proxy_t *p, px_conn *c);
void px_mux_client_read(sentinel_proxy_t *p, px_conn *c);
/* Tick: drop the slow readers that held up the others here too long. */
void px_mux_check_stall(sentinel_proxy_t *p, px_shup *sh);

#endif /* SN_PROXY_CORE_H */
