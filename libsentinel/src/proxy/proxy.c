/*
 * sentinel-proxy: the public API, lifecycle and timers, and the design.
 *
 * Split by role (issue 10): client connections (accept, forwarding,
 * teardown) are in conn.c, the shared master connections (multiplexing)
 * in mux.c, the master state machine (libsentinel's failover follower
 * mapped onto the proxy's states, switching) in master.c, the core types they share in proxy_core.h;
 * below the core, sockets in net.c, metrics and the admin endpoint in
 * stats.c, the shared-cache publisher in cache_pub.c. Left here: timers,
 * the public API and the lifecycle.
 *
 * Design (measured figures: benchmarks/proxy/RESULTS-proxy.md)
 *
 * - One thread, one level-triggered epoll loop (loop.c) per master; with
 *   several masters, a thread per route (route.c says who touches what).
 *
 * - Multiplexing (default; mux.c). Stateless commands of
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
 * - The master is tracked by libsentinel's failover follower
 *   (sentinel_follow_t: events from every sentinel, polling as a backstop,
 *   a ROLE check of every candidate) whose fds live in this same loop; no
 *   client is connected to a master before it answered ROLE master.
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
 * master. The data credentials are used only by the follower's ROLE checks.
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

#include "proxy/proxy_core.h"

#define PX_DRAIN_MS 500          /* graceful stop: replies may drain this long */
#define PX_FD_RESERVE 64         /* fds for listeners, sentinels, probes, admin */

/* ------------------------------------------------------------------------
 * Timers: held clients, pauses, idle clients, graceful stop
 * ------------------------------------------------------------------------ */


static void tick(sentinel_proxy_t *p)
{
    int hs_ms = px_tls_listener(p->tls) ? px_tls_handshake_ms(p->tls) : p->pause_ms;
    int first_ms = hs_ms < p->pause_ms ? hs_ms : p->pause_ms;

    p->tick_due = p->now + PX_TICK_MS;
    for (px_conn *c = p->held.head, *next; c; c = next) {
        next = c->next;
        if (p->now - c->since < first_ms && !(c->flags & PX_UP_EOF))
            break; /* oldest first (by accept): the rest are younger */
        if (px_conn_handshake_expired(p, c) ||
            px_tls_handshake_want(p->tls, c->cfd) != PX_NONE)
            continue; /* closed, or still within tls-handshake-timeout */
        if (p->now - c->since < p->pause_ms)
            continue; /* a refused one taking its last bytes, or younger */
        if (c->flags & PX_UP_EOF)
            px_conn_drop(p, c, PX_DROP_NORMAL); /* refused and not reading */
        else
            px_conn_refuse_masterdown(p, c);
    }
    /* A pause that outlives pause-timeout: the clients stuck in it would
     * rather see an error than hang. */
    if (p->state == PX_MASTER_PAUSED && p->now - p->state_since >= p->pause_ms &&
        !p->paused_warned) {
        size_t n = 0;
        p->paused_warned = 1;
        px_mux_close_all(p, PX_DROP_SWITCH);
        while (p->conns.head) {
            px_conn_drop(p, p->conns.head, PX_DROP_SWITCH);
            n++;
        }
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "paused for %d ms without a verified master; dropped %zu clients",
                p->pause_ms, n);
    }
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (px_conn_check_deadline(p, c))
            continue;
        /* Ended and not taking its last replies: it goes. */
        if ((c->flags & PX_UP_EOF) && c->u2c && p->now - c->since >= p->pause_ms) {
            c->flags |= PX_CUT; /* its last replies never reached it */
            px_conn_drop(p, c, PX_DROP_NORMAL);
        } else if (p->idle_ms > 0 &&
                   (c->state == PX_CONN_OPEN ||
                    (c->state == PX_CONN_SHARED && !px_mux_pending(p, c))) &&
                   p->now - c->since >= p->idle_ms && !c->c2u && !c->u2c)
            px_conn_drop(p, c, PX_DROP_NORMAL);
    }
    for (px_shup *sh = p->shs; sh; sh = sh->next) {
        /* Commands that found no verified master to open their shared
         * connection to: after pause-timeout their clients get
         * -MASTERDOWN, as held clients do. */
        if (sh->state == PX_SH_IDLE && sh->q_len > 0 && p->now - sh->since >= p->pause_ms) {
            for (size_t i = 0; i < sh->q_len; i++) {
                px_conn *c = sh->q[(sh->q_head + i) % sh->q_cap].c;
                if (c)
                    px_conn_refuse_masterdown(p, c); /* forgets its entries */
            }
            px_mux_close(p, sh, PX_DROP_NORMAL);
        }
        if (sh->state == PX_SH_CONNECTING && px_connect_expired(p, sh->fd, sh->since)) {
            const char *why = px_tls_connect_timeout_why(p->tls, sh->fd);

            px_mux_fail(p, sh, why);
            px_master_suspect(p, why);
        }
        px_mux_check_stall(p, sh); /* slow readers that held up others too long go */
    }
    px_mux_reap(p, 0);
    if (p->accept_paused_until && p->now >= p->accept_paused_until) {
        p->accept_paused_until = 0;
        if (!p->stopping)
            px_listeners_enable(p);
    }
    if (p->admin)
        px_admin_tick(p->admin, p->now);
    px_pub_tick(p->pub, p->state == PX_MASTER_UP && p->have_master ? &p->master : NULL, p->now);
    if (p->follow && !p->threaded) /* a route on a thread: its router does it */
        px_master_note_error(p);
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
        px_conn_drop(p, p->held.head, PX_DROP_NORMAL);
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (px_conn_finished(p, c))
            px_conn_drop(p, c, PX_DROP_NORMAL); /* multiplexed, nothing outstanding */
    }
    px_update_all(p); /* stop reading requests; replies still drain */
}

static int admin_snapshot(void *ud, px_snapshot *s, int max);

static void on_wake(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    char buf[64];

    (void)ud;
    (void)mask;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    if (p->routes) {
        px_router_wake(p);
        return;
    }
    if (p->stats_requested) {
        char line[1024];
        p->stats_requested = 0;
        px_snapshot snap;
        px_snapshot_one(p, &snap);
        px_stats_line(&snap, line, sizeof(line));
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "%s", line);
    }
    if (p->stop_requested)
        begin_stop(p);
}

/* ------------------------------------------------------------------------
 * The public API
 * ------------------------------------------------------------------------ */

static size_t fds_wanted(const sentinel_proxy_config_t *c)
{
    return 2 * (c->watch ? 0 : (size_t)c->max_clients) + PX_FD_RESERVE;
}

/* Each route is a proxy of its own. */
static size_t fds_wanted_all(const sentinel_proxy_config_t *c)
{
    px_route_conf r[PX_MAX_ROUTES + 1];
    int main_route, n = px_config_route_check(c, NULL, 0) == 1 ? px_config_routes(c, r, &main_route)
                                                               : 1;

    return (size_t)(n > 0 ? n : 1) * fds_wanted(c);
}

int sentinel_proxy_config_fds_wanted(const sentinel_proxy_config_t *c)
{
    return c ? (int)fds_wanted_all(c) : -1;
}

/* The open file limit is the program's to raise (it acts on the whole
 * process: tools/sentinel_proxy.c does it, with
 * sentinel_proxy_config_fds_wanted()); here it only bounds max-clients and
 * the loop's table. The routes of a router share the limit: each gets its
 * share, so that clients of one master up to its max-clients cannot take
 * the fds another master's clients (or the shared sentinel links) need. */
static int fd_budget(sentinel_proxy_t *p, size_t want, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)(2 * want + PX_FD_RESERVE), share;
    int routes = p->router && p->router->routes_wanted > 1 ? p->router->routes_wanted : 1;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
        snprintf(err, errlen, "getrlimit: %s", strerror(errno));
        return -1;
    }
    share = rl.rlim_cur == RLIM_INFINITY ? rl.rlim_cur : rl.rlim_cur / (rlim_t)routes;
    if (share < need && want > 0) { /* watch mode serves no client */
        size_t fit = share > 2 * PX_FD_RESERVE ? (share - PX_FD_RESERVE) / 2 : 1;
        if (routes > 1)
            px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                    "open file limit %llu (shared by %d masters) allows only %zu clients "
                    "(max-clients %zu)",
                    (unsigned long long)rl.rlim_cur, routes, fit, want);
        else
            px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                    "open file limit %llu allows only %zu clients (max-clients %zu)",
                    (unsigned long long)rl.rlim_cur, fit, want);
        want = fit;
    }
    p->max_clients = want;
    return rl.rlim_cur > (rlim_t)1 << 24 ? 1 << 24 : (int)rl.rlim_cur;
}

/* The first resolution of n proxies' masters, together, bounded by
 * resolve_ms (blocking: the caller listens to nothing yet, or holds what it
 * accepts); those without a verified master then say why. */
void px_resolve_first(sentinel_proxy_t **ps, int n, int resolve_ms)
{
    int64_t deadline = sn_now_ms() + resolve_ms;
    int pending = 1;

    for (int64_t now = sn_now_ms(); pending && now < deadline; now = sn_now_ms()) {
        pending = 0;
        for (int i = 0; i < n; i++) {
            sentinel_proxy_t *p = ps[i];

            if (p->state == PX_MASTER_UP || p->follow == NULL || p->resolve_failed)
                continue;
            pending = 1;
            /* One master: wait for it alone; several: take turns. A route's
             * follower polls the sentinels through its router's group. */
            if ((p->router && p->router->group
                     ? sentinel_follow_group_run_once(p->router->group, 10)
                     : sentinel_follow_run_once(p->follow, n == 1 ? (int)(deadline - now) : 10)) !=
                SENTINEL_OK)
                p->resolve_failed = 1;
            now = sn_now_ms();
        }
    }
    for (int i = 0; i < n; i++) {
        sentinel_proxy_t *p = ps[i];
        int rc;

        p->now = sn_now_ms();
        if (p->follow == NULL)
            continue;
        px_master_follow_due(p);
        if (p->state == PX_MASTER_UP)
            continue;
        rc = sentinel_follow_errcode(p->follow);
        if (rc == SENTINEL_OK)
            rc = SENTINEL_ERR_TIMEOUT; /* no answer in resolve-timeout */
        snprintf(p->last_error, sizeof(p->last_error), "%s", sentinel_follow_errstr(p->follow));
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR,
                "cannot resolve master '%s' yet (%s): %s; holding clients until it can",
                p->master_name, sentinel_code_name(rc), p->last_error);
    }
}

/* p's loop (for fds below setsize) and its wake pipe (stop, stats). */
int px_loop_with_wake(sentinel_proxy_t *p, int setsize, char *err, size_t errlen)
{
    int fds[2];

    if ((p->loop = px_loop_new(setsize)) == NULL) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        return -1;
    }
    px_loop_set_owner(p->loop, p);
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    p->wake_r = fds[0];
    p->wake_w = fds[1];
    px_loop_add(p->loop, p->wake_r, PX_READABLE, on_wake, NULL);
    return 0;
}

/* One master's proxy; a route of router when set (its follower joins the
 * router's group). */
static sentinel_proxy_t *proxy_new(const sentinel_proxy_config_t *c, sentinel_proxy_t *router,
                                   char *err, size_t errlen)
{
    sentinel_proxy_t *p;
    int setsize;

    if (px_config_check(c, err, errlen) == -1)
        return NULL;
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->log = c->log;
    p->router = router;
    p->threaded = router && router->threaded; /* before its follower: whose loop */
    p->tcp_fd = p->unix_fd = p->wake_r = p->wake_w = -1;
    p->multiplex = c->multiplex;
    snprintf(p->master_name, sizeof(p->master_name), "%s", c->master);
    if (router)
        p->log.tag = p->master_name; /* one of several: its lines say whose */
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
    if ((p->scratch = malloc(p->bufsize)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    /* The library handle: sentinels, credentials, timeouts. */
    if ((p->sn = sentinel_new(c->master, NULL)) == NULL ||
        sentinel_add_sentinels(p->sn, c->sentinels) != 0 ||
        sentinel_set_sentinel_auth(p->sn, c->sentinel_user, c->sentinel_password) != 0 ||
        sentinel_set_data_auth(p->sn, c->data_user, c->data_password) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_CONNECT, c->connect_ms) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_COMMAND, c->command_ms) != 0 ||
        sentinel_set_timeout(p->sn, SENTINEL_TIMEOUT_TOTAL, c->resolve_ms ? c->resolve_ms : 1) !=
            0 ||
        sn_tls_args_apply(p->sn, &c->tls.args) != 0) {
        snprintf(err, errlen, "%s", p->sn ? sentinel_errstr(p->sn) : "out of memory");
        goto fail;
    }

    if ((setsize = fd_budget(p, (fds_wanted(c) - PX_FD_RESERVE) / 2, err, errlen)) ==
        -1)
        goto fail;
    if (px_loop_with_wake(p, setsize, err, errlen) == -1)
        goto fail;
    /* TLS to the master shares the data nodes' SSL_CTX with the follower. */
    err[0] = '\0';
    if ((p->tls = px_tls_new(p->loop, &p->sn->cfg.tls[SENTINEL_TLS_DATA], &c->tls, setsize,
                             p->bufsize, err, errlen)) == NULL &&
        err[0] != '\0')
        goto fail;

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

    if (px_master_follow_new(p, p->sn, c->poll_ms, c->probe_ms) == -1) {
        snprintf(err, errlen, "cannot create the failover follower");
        goto fail;
    }

    /* The first answer may block (bounded): nothing is listening yet. The
     * routes of a router are resolved together, by the router. */
    if (c->resolve_ms > 0 && router == NULL)
        px_resolve_first(&p, 1, c->resolve_ms);
    /* The follower has its own copy of the configuration; the handle was
     * only needed to make it. (Giving the freed memory back
     * to the system, malloc_trim(), is the program's business: it acts on
     * the whole process; tools/sentinel_proxy.c does it.) */
    sentinel_free(p->sn);
    p->sn = NULL;
    px_listeners_enable(p);
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

sentinel_proxy_t *px_proxy_new_route(const sentinel_proxy_config_t *c, sentinel_proxy_t *router,
                                     char *err, size_t errlen)
{
    return proxy_new(c, router, err, errlen);
}

sentinel_proxy_t *px_proxy_new(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    char dummy[8];
    int several;

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (px_config_check(c, err, errlen) == -1)
        return NULL;
    several = px_config_route_check(c, err, errlen);
    return several == 1 ? px_router_new(c, err, errlen) : proxy_new(c, NULL, err, errlen);
}

void sentinel_proxy_free(sentinel_proxy_t *p)
{
    if (p == NULL)
        return;
    if (p->routes)
        px_router_free(p); /* its routes and their group; then its own loop */
    if (p->loop) {
        px_mux_close_all(p, PX_DROP_NORMAL);
        while (p->conns.head)
            px_conn_drop(p, p->conns.head, PX_DROP_NORMAL);
        while (p->held.head)
            px_conn_drop(p, p->held.head, PX_DROP_NORMAL);
        close_listeners(p);
    }
    px_master_follow_free(p);
    px_mux_reap(p, 1);
    px_tls_free(p->tls);
    px_admin_free(p->admin);
    px_pub_free(p->pub);
    sentinel_free(p->sn);
    if (p->wake_r >= 0)
        close(p->wake_r);
    if (p->wake_w >= 0)
        close(p->wake_w);
    px_loop_free(p->loop);
    if (p->scratch)
        explicit_bzero(p->scratch, p->bufsize); /* the last read may hold an AUTH */
    free(p->scratch);
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
    if (p->routes)
        return px_router_timeout(p);
    if (p->stopped || p->nfired > 0 || px_loop_has_pending(p->loop))
        return 0;
    now = sn_now_ms();
    due = p->tick_due;
    if (p->follow && !p->threaded && p->follow_due < due)
        due = p->follow_due;
    if (p->stopping && p->stop_deadline < due)
        due = p->stop_deadline;
    return due <= now ? 0 : (int)(due - now);
}

/* Wait for p's loop at most due_ms (its timers) or timeout_ms when
 * shorter (-1: no limit), dispatch, and stamp p->now. 0, or -1. */
int px_loop_turn(sentinel_proxy_t *p, int due_ms, int timeout_ms)
{
    if (timeout_ms >= 0 && timeout_ms < due_ms)
        due_ms = timeout_ms;
    if (px_loop_wait(p->loop, due_ms) == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "epoll_wait: %s", strerror(errno));
        return -1;
    }
    p->now = sn_now_ms();
    return 0;
}

int px_proxy_step(sentinel_proxy_t *p, int timeout_ms)
{
    if (p == NULL || p->loop == NULL)
        return -1;
    if (p->routes)
        return px_router_step(p, timeout_ms);
    if (p->stopped)
        return 1;
    if (px_loop_turn(p, sentinel_proxy_timeout(p), timeout_ms) == -1)
        return -1;
    return px_proxy_after_wait(p);
}

/* A step after its loop's wait and dispatch (also a route's thread's,
 * route.c, under the route's lock). 0, or 1 once stopped. */
int px_proxy_after_wait(sentinel_proxy_t *p)
{
    /* Everything the clients sent in this iteration: one write. */
    if (p->sh_kick)
        px_mux_deliver_all(p);
    px_mux_flush_all(p);
    if (p->follow && !p->threaded && (p->nfired > 0 || p->now >= p->follow_due))
        px_master_follow_run(p); /* a route on a thread: its router runs it */
    if (p->now >= p->tick_due)
        tick(p);
    if (p->stopping && (p->conns.count == 0 || p->now >= p->stop_deadline)) {
        px_mux_close_all(p, PX_DROP_NORMAL);
        while (p->conns.head)
            px_conn_drop(p, p->conns.head, PX_DROP_NORMAL);
        p->stopped = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopped");
        return 1;
    }
    return 0;
}

int px_proxy_run(sentinel_proxy_t *p)
{
    int rc;

    while ((rc = px_proxy_step(p, -1)) == 0)
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
    if (p && p->routes)
        return sentinel_proxy_route_port(p, p->routes[0]->master_name); /* the first route's */
    return p && p->tcp_fd >= 0 ? p->tcp_port : -1;
}

const char *sentinel_proxy_shared_cache_path(const sentinel_proxy_t *p)
{
    if (p && p->routes)
        p = p->routes[0];
    return p && p->pub ? px_pub_path(p->pub) : NULL;
}

int sentinel_proxy_admin_port(const sentinel_proxy_t *p)
{
    return p && p->admin ? px_admin_port(p->admin) : -1;
}

void px_fill_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
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

int px_proxy_get_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
{
    sentinel_proxy_stats full;
    size_t n;

    /* As sentinel_get_stats(): the caller's size bounds the copy (it must
     * at least hold the size field) and tells it how much was filled. */
    if (p == NULL || st == NULL || st->size < sizeof(size_t))
        return -1;
    n = st->size < sizeof(full) ? st->size : sizeof(full);
    full.size = sizeof(full);
    if (p->routes)
        px_router_stats(p, &full); /* the sum of every route's */
    else
        px_fill_stats(p, &full);
    memcpy((char *)st + sizeof(size_t), (char *)&full + sizeof(size_t), n - sizeof(size_t));
    st->size = n;
    return 0;
}

/* For the admin endpoint and the stats line: a copy of the figures. */
void px_snapshot_one(const sentinel_proxy_t *p, px_snapshot *s)
{
    s->st.size = sizeof(s->st);
    px_fill_stats(p, &s->st);
    s->ctr = p->ctr;
    s->state = px_master_state_name(p->state);
    s->links_up = p->links_up;
    s->master = p->router ? p->master_name : NULL; /* labelled with several */
}

static int admin_snapshot(void *ud, px_snapshot *s, int max)
{
    const sentinel_proxy_t *p = ud;

    if (p->routes)
        return px_router_snapshots(p, s, max);
    if (max < 1)
        return 0;
    px_snapshot_one(p, s);
    return 1;
}
