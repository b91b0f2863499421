/*
 * Internal declarations of the proxy module (src/proxy/). Not public ABI.
 */
#ifndef SN_PROXY_INT_H
#define SN_PROXY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "internal.h"
#include "sentinel/proxy.h"
#include "tls_args.h"

/* ---- loop.c: a small epoll event loop, after redis' ae.c ---------------- */

#define PX_NONE 0
#define PX_READABLE 1
#define PX_WRITABLE 2

typedef struct px_loop px_loop;
/* mask: PX_READABLE / PX_WRITABLE that fired (errors and hangups are
 * reported as both, so the handler's read or write sees them). */
typedef void px_file_proc(px_loop *l, int fd, void *ud, int mask);

/* setsize: the largest fd + 1 the loop can hold. */
px_loop *px_loop_new(int setsize);
void px_loop_free(px_loop *l);
int px_loop_setsize(const px_loop *l);
/* Add mask to fd's interest (one handler per fd). 0, or -1 (errno). */
int px_loop_add(px_loop *l, int fd, int mask, px_file_proc *proc, void *ud);
/* Remove mask from fd's interest; removing all of it forgets the fd. */
void px_loop_del(px_loop *l, int fd, int mask);
int px_loop_mask(const px_loop *l, int fd);
/* Wait up to timeout_ms (-1 forever) and dispatch; returns events handled
 * or -1 on an epoll failure other than EINTR. */
int px_loop_wait(px_loop *l, int timeout_ms);
/* px_loop_wait() in two halves (route threads wait unlocked). */
int px_loop_poll(px_loop *l, int timeout_ms);
void px_loop_dispatch(px_loop *l, int n);
int px_loop_fd(const px_loop *l);
/* fd has bytes buffered in user space (TLS) that epoll cannot see: while
 * on, and fd wants PX_READABLE, px_loop_wait() does not sleep and
 * dispatches it as readable. It stays on while fd wants nothing (a
 * connection under backpressure); the owner turns it off (a read that
 * drained it, or the fd's end: px_tls_end). */
void px_loop_set_pending(px_loop *l, int fd, int on);
/* Which socket event serves fd's direction dir (PX_READABLE: reads,
 * PX_WRITABLE: writes): on = dir as usual, or the other one (TLS: a read
 * that must write first, a write that must read first). The handler is
 * still called with dir. Kept until changed (px_tls_end resets it). */
void px_loop_set_io_want(px_loop *l, int fd, int dir, int on);
/* 1 when a pending fd wants to be read (a host loop must not sleep). */
int px_loop_has_pending(const px_loop *l);
/* One pointer the handlers can reach through the loop (the proxy). */
void px_loop_set_owner(px_loop *l, void *owner);
void *px_loop_owner(const px_loop *l);

/* ---- resp.c: framing for multiplexed clients --------------------------- */

/* One complete multibulk command at buf[0..len): its length (the name, the
 * first argument, in *name / *namelen), 0 when more bytes are needed, -1
 * when the bytes are not a multibulk command we frame (inline commands,
 * malformed input): such a client gets a master connection of its own. */
ssize_t px_req_scan(const char *buf, size_t len, const char **name, size_t *namelen);
/* 1 when a command may run over a shared master connection (stateless and
 * never blocking: GET, SET, HSET, EVAL, ...), 0 otherwise. Case-insensitive. */
int px_cmd_shareable(const char *name, size_t len);

/* Incremental RESP2 reply framer: where each reply ends in a byte stream. */
typedef struct px_rep {
    uint8_t state, type, neg, ndigits;
    long long num, left_bulk;
    long long owed; /* elements the reply still owes; 0 between replies */
} px_rep;

void px_rep_init(px_rep *r);
/* 1 when the framer is between replies (the next byte starts one). */
int px_rep_at_start(const px_rep *r);
/* Argument i (0: the name) of a command px_req_scan() framed: 0, or -1
 * when it has fewer arguments. */
int px_req_arg(const char *cmd, size_t len, size_t i, const char **arg, size_t *arglen);
/* Consume bytes of buf[0..len) up to the end of the current reply: returns
 * how many were consumed, with *done = 1 when a reply ended at that point
 * (the caller feeds the rest again for the next reply), or -1 on a protocol
 * error (the stream cannot be framed any more). */
ssize_t px_rep_feed(px_rep *r, const char *buf, size_t len, int *done);

/* ---- log.c --------------------------------------------------------------- */

typedef struct px_log {
    sentinel_proxy_log_level level;
    sentinel_proxy_log_cb cb; /* NULL: stderr */
    void *ud;
    const char *tag; /* "[tag] " before each message (a route's master), or NULL */
} px_log;

void px_logf(const px_log *lg, sentinel_proxy_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *px_log_level_name(sentinel_proxy_log_level level);

/* ---- config.c ------------------------------------------------------------ */

/* TLS settings (config_tls.c): to the master and sentinels, as
 * sentinel-resolve takes them, and the client listener's. */
typedef struct px_tls_config {
    sn_tls_args args; /* tls, cacert, ..., sentinel-tls, sentinel-cacert, ... */
    char *listen_cert, *listen_key, *listen_cacert; /* tls-listen-cert, -key, -cacert */
    int handshake_ms; /* tls-handshake-timeout: a client's, from accept (0: 1000) */
} px_tls_config;

/* 0 set, 1 not a TLS key, -1 bad value (err set). */
int px_config_tls_set(px_tls_config *t, const char *key, const char *value, char *err,
                      size_t errlen);
/* A switch (--tls): no value on the command line. */
int px_config_tls_is_switch(const char *key);
void px_config_tls_free(px_tls_config *t);
/* Certificate and key go together; the client CA needs them. 0 or -1. */
int px_config_tls_check(const px_tls_config *t, char *err, size_t errlen);

#define PX_MAX_SENTINELS 64
#define PX_PATH_MAX 108 /* sun_path */
#define PX_MAX_ROUTES 16 /* masters in one process */

/* One master served by the process: a listener (port -1: none, watch
 * mode) for a master name. */
typedef struct px_route_conf {
    char host[SENTINEL_HOST_MAX];
    int port;
    char name[256];
} px_route_conf;

struct sentinel_proxy_config {
    char listen_host[SENTINEL_HOST_MAX];
    int listen_port;      /* -1: no TCP listener */
    char unix_path[PX_PATH_MAX];
    int unix_mode;        /* permissions of the unix socket */
    char *sentinels;      /* "h:p,h:p" as given (validated on set) */
    int sentinels_from_flags;
    char master[256];
    char *sentinel_user, *sentinel_password;
    char *data_user, *data_password;
    /* Passwords the program read from its environment
     * (sentinel_proxy_config_set_env): between the file and the flags. */
    char *env_sentinel_password, *env_data_password;
    int connect_ms, command_ms, resolve_ms;
    int poll_ms, probe_ms, pause_ms, idle_ms;
    int max_clients;
    int buffer_size;
    char admin_host[SENTINEL_HOST_MAX];
    int admin_port;       /* -1: no admin endpoint */
    px_log log;
    int watch;            /* watch mode: no listeners, keep the shared cache */
    int multiplex;        /* stateless commands share master connections */
    int route_threads;    /* several masters: each route on a thread of its own */
    char shared_cache[4096]; /* "" off, "auto" default path, or a path */
    int shared_ttl_ms;
    int shared_mode;         /* 0600 or 0660 (with a group) */
    int shared_use_group;    /* shared-cache-group given: files get shared_gid */
    unsigned int shared_gid;

    /* Several masters (config_route.c). routes: "route LISTEN=NAME", each a
     * listener of its own besides listen/unix for master. masters: every
     * distinct master name given, in order (watch mode follows them all;
     * otherwise the last one, master, counts). */
    px_route_conf routes[PX_MAX_ROUTES];
    int nroutes;
    char masters[PX_MAX_ROUTES][256];
    int nmasters, too_many_masters;

    char errstr[512];     /* sentinel_proxy_config_errstr() (api.c) */
    px_tls_config tls;    /* config_tls.c */
};

/* The implementations behind proxy.h's wrappers (api.c): 0 or -1 with a
 * message in err, as before the public API returned codes. */
int px_config_set(sentinel_proxy_config_t *c, const char *key, const char *v, char *err,
                  size_t errlen);
int px_config_load(sentinel_proxy_config_t *c, const char *path, char *err, size_t errlen);
int px_config_set_env(sentinel_proxy_config_t *c, const char *name, const char *value, char *err,
                      size_t errlen);
/* 0, SENTINEL_PROXY_ARGS_HELP, SENTINEL_PROXY_ARGS_VERSION or -1. */
int px_config_parse_args(sentinel_proxy_config_t *c, int argc, char **argv, char *err,
                         size_t errlen);
int px_config_check(const sentinel_proxy_config_t *c, char *err, size_t errlen);

/* config_route.c: the route keys, for config.c. */
/* Format a message into err (may be NULL); returns -1. */
int px_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 1: key is not a route key (for "master": noted, and config.c sets it
 * too), 0 applied, -1 refused (err set). */
int px_config_route_set(sentinel_proxy_config_t *c, const char *key, const char *v, char *err,
                        size_t errlen);
/* Master names given as flags replace those of the config file. */
void px_config_forget_masters(sentinel_proxy_config_t *c);
/* 1 when the configuration serves several masters (routes, or watch mode
 * with several master names) and was checked here, 0 when it is the one
 * master of listen/unix/master (config.c checks it), -1 refused. */
int px_config_route_check(const sentinel_proxy_config_t *c, char *err, size_t errlen);
/* The masters the process serves: the listen/unix/master route (when
 * master is set and, outside watch mode, it has a listener) first, then
 * the route lines; in watch mode every master name. Fills up to
 * PX_MAX_ROUTES + 1; returns how many. main_route: set to the index of the
 * listen/unix/master route, or -1. */
int px_config_routes(const sentinel_proxy_config_t *c, px_route_conf *out, int *main_route);

/* A listening address for key: "host:port" with port 0..65535 (0: any). */
int px_parse_bind(const char *key, const char *v, char *host, size_t hostlen, int *port,
                  char *err, size_t errlen);
/* "host:port" / "[v6]:port" with a numeric port 0..65535. */
int px_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err, size_t errlen);

/* ---- stats.c: counters, Prometheus text, the admin endpoint ------------- */

typedef struct px_counters {
    uint64_t conns_total, conns_refused;
    uint64_t bytes_in, bytes_out;
    uint64_t switches, failovers_started, failovers_aborted;
    uint64_t dropped_on_switch;
    uint64_t subscribe_denied, sentinel_down_events;
    uint64_t upstream_errors;
    uint64_t buffer_bytes;
    uint64_t multiplexed, pinned, shared_connects;
} px_counters;

/* What the metrics show: a copy the proxy makes when asked, one per master. */
typedef struct px_snapshot {
    sentinel_proxy_stats st;
    px_counters ctr;
    const char *state;  /* the master state's name */
    int links_up;       /* sentinels subscribed to */
    const char *master; /* several masters: this one's name, the master="..."
                         * label; NULL for a classic one-master proxy */
} px_snapshot;
/* Fill up to max snapshots (one per master served); returns how many. */
typedef int px_snapshot_fn(void *ud, px_snapshot *s, int max);
#define PX_SNAPSHOTS_MAX (PX_MAX_ROUTES + 1)

/* Render Prometheus text exposition of n masters into buf (each figure
 * labelled master="NAME" when the snapshot names one); returns the length. */
size_t px_stats_render(const px_snapshot *s, int n, char *buf, size_t cap);
/* One INFO-like line for the log. */
void px_stats_line(const px_snapshot *s, char *buf, size_t cap);

/* The admin endpoint on host:port; snap(ud, ...) is asked for the figures
 * of each request. NULL on failure (err set). */
typedef struct px_admin px_admin;
px_admin *px_admin_new(px_loop *loop, const char *host, int port, px_snapshot_fn *snap, void *ud,
                       char *err, size_t errlen);
void px_admin_free(px_admin *a);
int px_admin_port(const px_admin *a);
/* Drop admin requests that outlived their deadline or sent nothing;
 * accept again after a lack of fds. */
void px_admin_tick(px_admin *a, int64_t now);

/* ---- cache_pub.c: keep libsentinel's shared cache current ---------------- */

typedef struct px_pub px_pub;
/* Open the cache file the configuration names; NULL on failure (err set).
 * lg must outlive the publisher. */
px_pub *px_pub_open(const sentinel_proxy_config_t *c, const sentinel_t *sn, const px_log *lg,
                    char *err, size_t errlen);
void px_pub_free(px_pub *pb);
/* master: a verified master (failover 0), or the one a failover is about to
 * leave (failover 1: flagged, so readers stop writing there). NULL, or pb
 * NULL: nothing to do. */
void px_pub_publish(px_pub *pb, const sn_hostport *master, int failover);
/* Rewrite the entry before it expires; master: the verified master while
 * the proxy forwards to it, else NULL. */
void px_pub_tick(px_pub *pb, const sn_hostport *master, int64_t now);
/* The cache file's path. */
const char *px_pub_path(const px_pub *pb);

/* ---- net.c: sockets ------------------------------------------------------- */

/* A listening socket (non-blocking, close-on-exec): the fd, or -1 (err set). */
int px_listen_tcp(const char *host, int port, int backlog, char *err, size_t errlen);
/* The same on a unix socket at path with these permissions; a socket left
 * there by a previous run is replaced, any other file is not. */
int px_listen_unix(const char *path, int mode, int backlog, char *err, size_t errlen);
/* The first address of host:port (numeric port). 0, or -1. */
int px_resolve(const sn_hostport *hp, struct sockaddr_storage *sa, socklen_t *len);
void px_set_nodelay(int fd);
/* a is host:port? */
int px_same_hp(const sn_hostport *a, const char *host, int port);
/* Close so that the peer gets a RST and our unsent bytes are discarded. */
void px_close_abort(int fd);

#endif /* SN_PROXY_INT_H */
