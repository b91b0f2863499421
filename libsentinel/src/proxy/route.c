/*
 * Several masters in one process (issue 10): a router serves each master
 * on a listener of its own ("route LISTEN=NAME"), or, in watch mode, keeps
 * a shared-cache file per master.
 *
 * Each route is a whole proxy (proxy.c) for one master, with its own
 * epoll loop, clients, shared master connections and follower. So a
 * failover of one master pauses, switches and drops only that route's
 * clients: the other routes' state is not touched, and nothing in conn.c /
 * mux.c knows there are several.
 *
 * The sentinel links are shared: the routes' followers are one follower
 * group (include/sentinel/follow.h), one subscription and one polling link
 * per sentinel for all masters, events and polled answers handed to the
 * follower of the master they name. Each route keeps its own ROLE probes.
 * The router also holds the admin endpoint (every figure labelled by
 * master), the wake pipe (stop, stats) and nothing else. It resolves the
 * routes' masters at start together (one resolve-timeout for all).
 *
 * Threads (route-threads yes, the default). Each route's loop runs on a
 * thread of its own, so three loaded masters get up to three CPUs, as
 * three one-master processes do. The rules:
 *
 * - A route's lock (r->mu) guards all of the route's state. Its thread
 *   holds it while it works: it drops it only around epoll_wait (so the
 *   router never waits for a route's sleep), and takes it back before it
 *   dispatches what fired. Everything else that touches a route takes it.
 * - The router's thread owns the follower library: the group and every
 *   route's follower (sentinel_follow_t), whose state is shared through
 *   the group's hub, so no follower call runs on a route's thread. A
 *   route's follower's fds (its ROLE probe) sit in the router's loop,
 *   tagged with their route (px_fired.route); its timer (follow_due) is
 *   written and read by the router only. A route that needs its follower
 *   (a refused connect: recheck; a closed master connection: verify) sets
 *   follow_ask under its lock and wakes the router (px_route_ask).
 * - The router holds one route's lock at a time, never two, and none
 *   while the group and the followers work: TLS handshakes, parsing must
 *   not stop every route (test_proxy_dns.sh threads; a sentinel's name
 *   looked up again on a reconnect no longer blocks the router either: the
 *   links look names up on a thread, name_lookup.c). It takes route r's lock
 *   around each follower callback for r (master.c: they switch, pause and
 *   resume r, and publish its shared cache), around reading r for the
 *   admin endpoint, r's follow_ask, r's follower's error, and r's stop and
 *   stats requests. Then it wakes each route (its wake pipe) so the route
 *   runs a turn: writes queued by a callback go out, timers are
 *   recomputed. Route threads never take the router's locks or another
 *   route's, and nobody holds two route locks, so no order can invert.
 * - Between a route's epoll_wait and its dispatch the router may have
 *   closed and reused one of the route's fds: the loop dispatches only the
 *   interest still registered (loop.c), as for an fd closed earlier in the
 *   same batch; the handlers read and write non-blocking sockets, so a
 *   stale readiness costs one EAGAIN.
 * - The public getters that read a route from the embedder's thread
 *   (sentinel_proxy_get_stats(), _port(), _route_port()) take its lock
 *   (recursive: a log callback inside a step may call them; it must not
 *   call them for a router from a route's thread). stop and request_stats
 *   only set a flag and write to a pipe, as before: a signal handler may
 *   call them. Route threads block every signal: the thread that created
 *   the proxy takes them.
 * - A route whose loop fails, or that stopped, leaves its thread; the
 *   router joins it at its next step, and closes a failed route alone
 *   (clients, listeners, follower) while the others go on.
 *   sentinel_proxy_free() tells every route thread to quit and joins it
 *   before anything is freed: no thread outlives the proxy.
 * - Process-wide state the routes share: none in the proxy's files (no
 *   static buffers; each route has its own sentinel_t, freed once its
 *   follower is made, its own TLS objects and shared-cache publisher). The
 *   log callback is serialised (log.c); stderr lines are single fprintf()s.
 *   strerror() is thread-safe in glibc >= 2.32 (a per-thread buffer for
 *   unknown codes; Debian 12 has 2.36). getenv() is called only by the
 *   program before the proxy starts; nothing calls rand(). The fuzzer's
 *   OOM shim (tests/proxy/oom_shim.c) is not thread-safe, and is used only
 *   with one-master proxies.
 *
 * route-threads no: the router steps every route's loop from its own, one
 * thread for all (the embedder's): it puts each route's loop fd into its
 * loop, steps a route when its fd fires or its timers are due, and after
 * each group step asks every route's follower for its timeout again (a
 * polled answer may have given it a candidate to probe now).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

/* ---- route threads: locks, wakes, the thread's loop ---------------------- */

/* Route r's lock, when it has one (a route on a thread of its own); the
 * router holds one route's at a time, never two. */
void px_route_lock(const sentinel_proxy_t *r)
{
    if (r->mu_init)
        pthread_mutex_lock((pthread_mutex_t *)&r->mu);
}

void px_route_unlock(const sentinel_proxy_t *r)
{
    if (r->mu_init)
        pthread_mutex_unlock((pthread_mutex_t *)&r->mu);
}

static void wake(const sentinel_proxy_t *p, char why)
{
    if (p->wake_w >= 0) {
        ssize_t n = write(p->wake_w, &why, 1); /* full pipe: a wake is pending */
        (void)n;
    }
}

/* Route r's thread (holding r's lock) wants its follower called: the
 * router does it (followers_run), and takes r's lock to read the ask. */
void px_route_ask(sentinel_proxy_t *r, int what)
{
    r->follow_ask |= what;
    wake(r->router, 'a');
}

/* Route r's loop failed with errno e: its text, which the router copies
 * to its own sentinel_proxy_errstr() (route_close) when it notices, by
 * when errno is no longer e's. */
static void route_failed(sentinel_proxy_t *r, int e)
{
    snprintf(r->errstr, sizeof(r->errstr), "event loop: epoll_wait: %s", strerror(e));
}

/* A route's thread: its loop, waited on without the lock, everything else
 * with it. Signals stay blocked here (the router's thread takes them). */
static void *route_main(void *arg)
{
    sentinel_proxy_t *r = arg;
    int rc = 0;

    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->thread_quit)) {
        int n, t = sentinel_proxy_timeout(r), e;

        pthread_mutex_unlock(&r->mu);
        n = px_loop_poll(r->loop, t);
        e = errno;
        pthread_mutex_lock(&r->mu);
        if (n == -1) {
            px_logf(&r->log, SENTINEL_PROXY_LOG_ERROR, "epoll_wait: %s", strerror(e));
            route_failed(r, e);
            rc = -1;
            break;
        }
        if (atomic_load(&r->thread_quit))
            break;
        px_loop_dispatch(r->loop, n);
        r->now = sn_now_ms();
        if (px_proxy_after_wait(r) != 0)
            break; /* stopped */
    }
    r->thread_rc = rc;
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->thread_done, 1);
    wake(r->router, 'd');
    return NULL;
}

/* Every route's thread, each route with its lock; the threads block every
 * signal. 0, or -1 (err set; those started are joined by px_router_free). */
static int threads_start(sentinel_proxy_t *p, char *err, size_t errlen)
{
    sigset_t all, old;
    int rc = 0;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < p->nroutes && rc == 0; i++) {
        sentinel_proxy_t *r = p->routes[i];

        if ((rc = pthread_create(&r->thread, NULL, route_main, r)) != 0)
            snprintf(err, errlen, "route %s: thread: %s", r->master_name, strerror(rc));
        else
            r->thread_started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

static void threads_stop(sentinel_proxy_t *p)
{
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_t *r = p->routes[i];

        if (r->thread_started && !r->thread_joined) {
            atomic_store(&r->thread_quit, 1);
            wake(r, 'q');
            pthread_join(r->thread, NULL);
            r->thread_joined = 1;
        }
    }
}

static void on_group_socket(sentinel_follow_group_t *g, int fd, sentinel_follow_fd_op op,
                            int events, void *ud)
{
    (void)g;
    px_follow_fd_interest(ud, fd, op, events, NULL);
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
    p->threaded = c->route_threads;
    p->routes_wanted = n;
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
        if (p->threaded) {
            pthread_mutexattr_t a;

            /* Recursive: the public getters lock a route, also from a
             * step that holds it (the log callback). */
            pthread_mutexattr_init(&a);
            pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
            if (pthread_mutex_init(&r->mu, &a) != 0) {
                pthread_mutexattr_destroy(&a);
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            pthread_mutexattr_destroy(&a);
            r->mu_init = 1;
            continue; /* its thread waits on its loop */
        }
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
    rcfg = NULL;
    if (p->threaded && threads_start(p, err, errlen) == -1)
        goto fail;
    p->follow_due = p->now; /* the group's first timers */
    p->tick_due = p->now + PX_TICK_MS;
    if (p->admin)
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "admin endpoint on %s:%d", c->admin_host,
                px_admin_port(p->admin));
    px_logf(&p->log, SENTINEL_PROXY_LOG_INFO,
            "ready: %d masters in one process%s, one subscription and one polling link per "
            "sentinel",
            n, p->threaded ? " (a thread each)" : "");
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

    threads_stop(p); /* no route thread outlives this */
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_t *r = p->routes[i];

        px_loop_del(p->loop, sentinel_proxy_fd(r), PX_READABLE);
        if (r->mu_init) /* its thread is joined: nobody holds it */
            pthread_mutex_destroy(&r->mu);
        r->mu_init = 0;
        sentinel_proxy_free(r); /* its follower leaves the group */
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
    for (int i = 0; i < p->nroutes && t > 0 && p->threaded; i++) {
        sentinel_proxy_t *r = p->routes[i];

        /* Its follower's timer is the router's (only it writes follow_due);
         * a thread that ended is joined at once. */
        if (r->thread_started && !r->thread_joined && atomic_load(&r->thread_done))
            return 0;
        if (r->follow && r->follow_due - now < t)
            t = r->follow_due <= now ? 0 : (int)(r->follow_due - now);
    }
    for (int i = 0; i < p->nroutes && t > 0 && !p->threaded; i++) {
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
    px_fired fired[PX_FIRED_MAX];
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
    /* The process's error, should this be the last route: the route's own
     * (route_failed), not errno as it is now. */
    snprintf(p->errstr, sizeof(p->errstr), "route %s: %s", r->master_name,
             r->errstr[0] ? r->errstr : "event loop failed");
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

/* Routes on threads: the router calls their followers with no route's
 * lock held (each callback takes its route's, master.c). The group's fired fds and
 * timers, each route's probe fd and timers, and what the routes asked for
 * (px_route_ask). 1 when any follower ran. */
static int followers_run(sentinel_proxy_t *p)
{
    px_fired fired[PX_FIRED_MAX];
    int n = px_fired_take(p, fired), ran = n > 0;

    for (int i = 0; i < n; i++) {
        sentinel_proxy_t *r = fired[i].route;

        if (r == NULL)
            sentinel_follow_group_on_fd(p->group, fired[i].fd, fired[i].revents);
        else if (r->follow)
            sentinel_follow_on_fd(r->follow, fired[i].fd, fired[i].revents);
    }
    if (p->group && sentinel_follow_group_timeout(p->group) == 0) {
        sentinel_follow_group_on_timeout(p->group);
        ran = 1;
    }
    p->now = sn_now_ms();
    p->follow_due = p->now + (p->group ? sentinel_follow_group_timeout(p->group) : 1000);
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_t *r = p->routes[i];
        int ask;

        px_route_lock(r); /* follow_ask: written by its thread */
        ask = r->follow_ask;
        r->follow_ask = 0;
        px_route_unlock(r);
        if (r->follow == NULL)
            continue;
        if (ask & PX_ASK_RECHECK) /* a recheck covers a verify */
            sentinel_follow_recheck(r->follow);
        else if (ask & PX_ASK_VERIFY)
            sentinel_follow_verify(r->follow);
        if (sentinel_follow_timeout(r->follow) == 0) {
            sentinel_follow_on_timeout(r->follow);
            ask = 1;
        }
        ran |= ask != 0;
        px_master_follow_due(r);
    }
    return ran;
}

static int router_step_threaded(sentinel_proxy_t *p, int timeout_ms)
{
    int live = 0, failed = 0, ran, n, t = px_router_timeout(p);

    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    if ((n = px_loop_poll(p->loop, t)) == -1) {
        route_failed(p, errno); /* the router's own loop */
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "epoll_wait: %s", strerror(errno));
        return -1;
    }
    /* No route's lock held here: the group's work (a sentinel's name
     * looked up on a reconnect, TLS handshakes) must not stop every route.
     * Each follower callback takes its route's lock (master.c), the admin
     * endpoint and the wake pipe's handler each route's in turn. */
    px_loop_dispatch(p->loop, n); /* wake pipe, admin, followers' fds */
    p->now = sn_now_ms();
    ran = followers_run(p);
    if (p->now >= p->tick_due) {
        p->tick_due = p->now + PX_TICK_MS;
        if (p->admin)
            px_admin_tick(p->admin, p->now);
        for (int i = 0; i < p->nroutes; i++)
            if (p->routes[i]->follow) {
                px_route_lock(p->routes[i]);
                px_master_note_error(p->routes[i]);
                px_route_unlock(p->routes[i]);
            }
    }
    for (int i = 0; i < p->nroutes; i++) {
        sentinel_proxy_t *r = p->routes[i];

        if (r->thread_joined)
            continue;
        if (!atomic_load(&r->thread_done)) {
            live++;
            if (ran) /* its timers and queued writes: a turn of its loop */
                wake(r, 'f');
            continue;
        }
        pthread_join(r->thread, NULL);
        r->thread_joined = 1;
        if (r->thread_rc == -1) {
            route_close(p, r);
            failed = 1;
        }
    }
    if (live == 0) {
        p->stopped = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopped");
        return failed ? -1 : 1;
    }
    return 0;
}

int px_router_step(sentinel_proxy_t *p, int timeout_ms)
{
    int live = 0, failed = 0;

    if (p->stopped)
        return 1;
    if (p->threaded)
        return router_step_threaded(p, timeout_ms);
    if (px_loop_turn(p, px_router_timeout(p), timeout_ms) == -1) {
        route_failed(p, errno); /* the router's own loop (logged) */
        return -1;
    }
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
                route_failed(r, errno); /* px_loop_turn's (logged) */
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
        for (int i = 0; i < p->nroutes; i++) {
            px_route_lock(p->routes[i]);
            sentinel_proxy_request_stats(p->routes[i]);
            px_route_unlock(p->routes[i]);
        }
    }
    if (p->stop_requested && !p->stopping) {
        p->stopping = 1;
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "stopping %d masters", p->nroutes);
        for (int i = 0; i < p->nroutes; i++) {
            px_route_lock(p->routes[i]);
            sentinel_proxy_stop(p->routes[i]);
            px_route_unlock(p->routes[i]);
        }
    }
}

int px_router_snapshots(const sentinel_proxy_t *p, px_snapshot *s, int max)
{
    int n = 0;

    for (int i = 0; i < p->nroutes && n < max; i++) {
        px_route_lock(p->routes[i]); /* its thread may be running */
        px_snapshot_one(p->routes[i], &s[n++]);
        px_route_unlock(p->routes[i]);
    }
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
        px_route_lock(p->routes[i]); /* its thread may be running */
        px_fill_stats(p->routes[i], &r);
        px_route_unlock(p->routes[i]);
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
        if (strcmp(p->routes[i]->master_name, master) == 0) {
            int port;

            px_route_lock(p->routes[i]); /* its thread closes the listener on a stop */
            port = sentinel_proxy_port(p->routes[i]);
            px_route_unlock(p->routes[i]);
            return port;
        }
    return -1;
}
