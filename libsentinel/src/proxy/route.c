/*
 * Several masters in one process (issue 10): a router serves each master
 * on a listener of its own ("route LISTEN=NAME"), or, in watch mode, keeps
 * a shared-cache file per master.
 *
 * Each route is a whole proxy (proxy.c) for one master, with its own
 * epoll loop, clients, shared master connections and follower; the router
 * puts each route's loop fd into its own loop and steps a route when its
 * fd fires or its timers are due. So a failover of one master pauses,
 * switches and drops only that route's clients: the other routes' state is
 * not touched, and nothing in conn.c / mux.c knows there are several.
 *
 * The sentinel links are shared: the routes' followers are one follower
 * group (include/sentinel/follow.h), one subscription and one polling link
 * per sentinel for all masters, events and polled answers handed to the
 * follower of the master they name. The router owns the group and drives
 * its fds from its own loop; after each group step it asks every route's
 * follower for its timeout again (a polled answer may have given it a
 * candidate to probe now). Each route keeps its own ROLE probes.
 *
 * A route whose own loop fails (epoll_wait) closes alone: its clients,
 * listeners and follower go, the other routes keep serving.
 *
 * The router also holds the admin endpoint (every figure labelled by
 * master), the wake pipe (stop, stats) and nothing else. It resolves the
 * routes' masters at start together (one resolve-timeout for all).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "proxy/proxy_core.h"

static void on_route_fd(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *r = ud;

    (void)l;
    (void)fd;
    (void)mask;
    r->route_ready = 1;
}

static void on_group_socket(sentinel_follow_group_t *g, int fd, sentinel_follow_fd_op op,
                            int events, void *ud)
{
    (void)g;
    px_follow_fd_interest(ud, fd, op, events);
}

static int router_snapshot(void *ud, px_snapshot *s, int max)
{
    return px_router_snapshots(ud, s, max);
}

sentinel_follow_group_t *px_router_group(sentinel_proxy_t *router, const sentinel_t *sn)
{
    if (router->group == NULL && (router->group = sentinel_follow_group_new(sn, NULL)) != NULL)
        sentinel_follow_group_set_socket_cb(router->group, on_group_socket, router);
    return router->group;
}

/* The configuration of route i: the process's, with this route's listener
 * and master and none of the process-wide parts (admin, other routes). */
static void route_config(const sentinel_proxy_config_t *c, const px_route_conf *rc, int is_main,
                         sentinel_proxy_config_t *out)
{
    *out = *c; /* pointers are read only, during px_proxy_new_route() */
    out->nroutes = 0;
    out->nmasters = 0;
    out->too_many_masters = 0;
    out->admin_port = -1;
    snprintf(out->master, sizeof(out->master), "%s", rc->name);
    if (!c->watch) {
        snprintf(out->listen_host, sizeof(out->listen_host), "%s", rc->host);
        out->listen_port = rc->port;
        if (!is_main)
            out->unix_path[0] = '\0'; /* the unix socket is the main route's */
    }
}

sentinel_proxy_t *px_router_new(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    px_route_conf rc[PX_MAX_ROUTES + 1];
    sentinel_proxy_config_t *rcfg = NULL;
    sentinel_proxy_t *p;
    struct rlimit rl;
    int main_route, n;

    n = px_config_routes(c, rc, &main_route);
    if ((p = calloc(1, sizeof(*p))) == NULL || (rcfg = malloc(sizeof(*rcfg))) == NULL ||
        (p->routes = calloc((size_t)n, sizeof(*p->routes))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    p->log = c->log;
    p->tcp_fd = p->unix_fd = p->wake_r = p->wake_w = -1;
    p->now = sn_now_ms();
    snprintf(p->master_name, sizeof(p->master_name), "%d masters", n);
    /* The routes' loops, the shared sentinel links, the admin endpoint: the
     * links are opened later, so their fds may be as high as any client's. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        rl.rlim_cur = 1024;
    if (px_loop_with_wake(p, rl.rlim_cur > (rlim_t)1 << 24 ? 1 << 24 : (int)rl.rlim_cur, err,
                          errlen) == -1)
        goto fail;

    for (int i = 0; i < n; i++) {
        char msg[512];
        sentinel_proxy_t *r;

        route_config(c, &rc[i], i == main_route, rcfg);
        if ((r = px_proxy_new_route(rcfg, p, msg, sizeof(msg))) == NULL) {
            snprintf(err, errlen, "%s: %s", rc[i].name, msg);
            goto fail;
        }
        p->routes[p->nroutes++] = r;
        if (px_loop_add(p->loop, sentinel_proxy_fd(r), PX_READABLE, on_route_fd, r) == -1) {
            snprintf(err, errlen, "event loop: %s", strerror(errno));
            goto fail;
        }
        r->route_ready = 1; /* step it once: its first timers */
    }
    /* Every route's first answer at once: a master that cannot be resolved
     * costs resolve-timeout once, not once per route. */
    if (c->resolve_ms > 0)
        px_resolve_first(p->routes, p->nroutes, c->resolve_ms);
    if (c->admin_port >= 0 &&
        (p->admin = px_admin_new(p->loop, c->admin_host, c->admin_port,
                                 router_snapshot, p, err, errlen)) == NULL)
        goto fail;
    free(rcfg);
    p->follow_due = p->now; /* the group's first timers */
    p->tick_due = p->now + PX_TICK_MS;
    if (p->admin)
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "admin endpoint on %s:%d", c->admin_host,
                px_admin_port(p->admin));
    px_logf(&p->log, SENTINEL_PROXY_LOG_INFO,
            "ready: %d masters in one process, one subscription and one polling link per sentinel",
            n);
    return p;
fail:
    free(rcfg);
    sentinel_proxy_free(p);
    return NULL;
}

void px_router_free(sentinel_proxy_t *p)
{
    sentinel_watch_fd fds[2 * SN_MAX_SENTINELS];
    int n;

    for (int i = 0; i < p->nroutes; i++) {
        px_loop_del(p->loop, sentinel_proxy_fd(p->routes[i]), PX_READABLE);
        sentinel_proxy_free(p->routes[i]); /* its follower leaves the group */
    }
    free(p->routes);
    p->routes = NULL;
    p->nroutes = 0;
    n = sentinel_follow_group_fds(p->group, fds, 2 * SN_MAX_SENTINELS);
    for (int i = 0; i < n && i < 2 * SN_MAX_SENTINELS; i++)
        px_loop_del(p->loop, fds[i].fd, PX_READABLE | PX_WRITABLE);
    sentinel_follow_group_free(p->group);
    p->group = NULL;
}

int px_router_timeout(sentinel_proxy_t *p)
{
    int64_t now = sn_now_ms(), due = p->tick_due;
    int t;

    if (p->stopped || p->nfired > 0)
        return 0;
    if (p->follow_due < due)
        due = p->follow_due;
    t = due <= now ? 0 : (int)(due - now);
    for (int i = 0; i < p->nroutes && t > 0; i++) {
        sentinel_proxy_t *r = p->routes[i];
        int u;

        if (r->stopped)
            continue;
        if (r->route_ready)
            return 0;
        u = sentinel_proxy_timeout(r);
        if (u >= 0 && u < t)
            t = u;
    }
    return t;
}

/* The shared links: fired fds, then the group's timers. */
static void group_run(sentinel_proxy_t *p)
{
    px_fired fired[PX_FOLLOW_FDS];
    int n = px_fired_take(p, fired);

    for (int i = 0; i < n; i++)
        sentinel_follow_group_on_fd(p->group, fired[i].fd, fired[i].revents);
    if (sentinel_follow_group_timeout(p->group) == 0)
        sentinel_follow_group_on_timeout(p->group);
    p->now = sn_now_ms();
    p->follow_due = p->now + sentinel_follow_group_timeout(p->group);
    /* The step ran the routes' followers: their timers moved. */
    for (int i = 0; i < p->nroutes; i++)
        if (!p->routes[i]->stopped && p->routes[i]->follow)
            px_master_follow_due(p->routes[i]);
}

/* Route r's loop failed: it can serve nobody. Close it alone (clients,
 * shared master connections, listeners, follower); the others go on. */
static void route_close(sentinel_proxy_t *p, sentinel_proxy_t *r)
{
    px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "route %s: its event loop failed; route closed",
            r->master_name);
    px_loop_del(p->loop, sentinel_proxy_fd(r), PX_READABLE);
    px_mux_close_all(r, PX_DROP_NORMAL);
    while (r->conns.head)
        px_conn_drop(r, r->conns.head, PX_DROP_NORMAL);
    if (r->tcp_fd >= 0) {
        close(r->tcp_fd);
        r->tcp_fd = -1;
    }
    if (r->unix_fd >= 0) {
        close(r->unix_fd);
        r->unix_fd = -1;
    }
    px_master_follow_free(r); /* leaves the group: no callback into r */
    r->stopped = 1;
}

int px_router_step(sentinel_proxy_t *p, int timeout_ms)
{
    int live = 0, failed = 0;

    if (p->stopped)
        return 1;
    if (px_loop_turn(p, px_router_timeout(p), timeout_ms) == -1)
        return -1;
    /* Sentinel events first: a failover that starts pauses its route
     * before the route forwards what its clients sent meanwhile. */
    if (p->nfired > 0 || p->now >= p->follow_due)
        group_run(p);
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_t *r = p->routes[i];

        if (r->stopped)
            continue;
        if (r->route_ready || sentinel_proxy_timeout(r) == 0) {
            int rc;

            r->route_ready = 0;
            rc = px_proxy_step(r, 0);
            if (rc == -1) {
                route_close(p, r);
                failed = 1;
            }
            else if (rc == 0)
                live++;
            else /* stopped: whatever its loop still holds is not waited for */
                px_loop_del(p->loop, sentinel_proxy_fd(r), PX_READABLE);
        } else {
            live++;
        }
    }
    if (p->now >= p->tick_due) {
        p->tick_due = p->now + PX_TICK_MS;
        if (p->admin)
            px_admin_tick(p->admin, p->now);
    }
    if (live == 0 && failed)
        return -1; /* the last route failed: so did the process */
    if (live == 0) {
        p->stopped = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopped");
        return 1;
    }
    return 0;
}

/* The router's wake pipe (on_wake in proxy.c): stats lines, stop requests,
 * for every route. */
void px_router_wake(sentinel_proxy_t *p)
{
    if (p->stats_requested) {
        p->stats_requested = 0;
        for (int i = 0; i < p->nroutes; i++)
            sentinel_proxy_request_stats(p->routes[i]);
    }
    if (p->stop_requested && !p->stopping) {
        p->stopping = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopping %d masters", p->nroutes);
        for (int i = 0; i < p->nroutes; i++)
            sentinel_proxy_stop(p->routes[i]);
    }
}

int px_router_snapshots(const sentinel_proxy_t *p, px_snapshot *s, int max)
{
    int n = 0;

    for (int i = 0; i < p->nroutes && n < max; i++)
        px_snapshot_one(p->routes[i], &s[n++]);
    return n;
}

void px_router_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
{
    size_t size = st->size;

    memset(st, 0, sizeof(*st));
    st->size = size;
    st->master_up = p->nroutes > 0;
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_stats r;

        r.size = sizeof(r);
        px_fill_stats(p->routes[i], &r);
        st->connections_current += r.connections_current;
        st->connections_total += r.connections_total;
        st->connections_refused += r.connections_refused;
        st->connections_held += r.connections_held;
        st->bytes_from_clients += r.bytes_from_clients;
        st->bytes_to_clients += r.bytes_to_clients;
        st->switches += r.switches;
        st->failovers_started += r.failovers_started;
        st->failovers_aborted += r.failovers_aborted;
        st->clients_dropped_on_switch += r.clients_dropped_on_switch;
        st->buffer_bytes += r.buffer_bytes;
        st->ms_without_master += r.ms_without_master;
        st->master_up &= r.master_up;
        st->paused |= r.paused;
        if (i == 0) {
            st->master_port = r.master_port;
            snprintf(st->master_host, sizeof(st->master_host), "%s", r.master_host);
        }
    }
}

int sentinel_proxy_route_port(const sentinel_proxy_t *p, const char *master)
{
    if (p == NULL || master == NULL)
        return -1;
    if (p->routes == NULL)
        return strcmp(p->master_name, master) == 0 ? sentinel_proxy_port(p) : -1;
    for (int i = 0; i < p->nroutes; i++)
        if (strcmp(p->routes[i]->master_name, master) == 0)
            return sentinel_proxy_port(p->routes[i]);
    return -1;
}
