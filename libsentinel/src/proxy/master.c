/*
 * The master state machine of sentinel-proxy: which master clients are
 * sent to, and when that changes. Driven by libsentinel's failover
 * follower (sentinel_follow_t, include/sentinel/follow.h: the watcher, the
 * ROLE check of every candidate, pause / resume / abort, the epoch), whose
 * descriptors live in the proxy's loop; only this file changes p->state.
 * Part of the proxy's core (proxy_core.h): a switch drops or carries over
 * the client connections.
 *
 *   follower                     proxy
 *   FOLLOWING (verified master)  UP: connect held clients; a different
 *                                master than before is a switch (clients
 *                                attached to the old one are dropped, the
 *                                shared master connections closed)
 *   PAUSED / PROBING             PAUSED: no client byte is written
 *   RESOLVING after FOLLOWING    SUSPECT: new clients are held
 *   RESOLVING after a failover   PAUSED stays (the old master is fenced)
 *   RESOLVING, never followed    NONE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy_core.h"

const char *px_master_state_name(px_master_state st)
{
    switch (st) {
    case PX_MASTER_NONE: return "none";
    case PX_MASTER_UP: return "up";
    case PX_MASTER_SUSPECT: return "suspect";
    case PX_MASTER_PAUSED: return "paused";
    }
    return "?";
}

/* ------------------------------------------------------------------------
 * The master: state, switching, verification
 * ------------------------------------------------------------------------ */

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
            "master %s -> %s (%s)", px_master_state_name(old), px_master_state_name(st), why);
    /* Pausing or resuming changes what every connection may read. */
    if (old == PX_MASTER_PAUSED || st == PX_MASTER_PAUSED)
        px_update_all(p);
}

/* ROLE said master: make it the master and move traffic there. */
void px_master_verified(sentinel_proxy_t *p, const sn_hostport *hp)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    size_t dropped = 0;

    if (p->have_master && px_same_hp(&p->master, hp->host, hp->port)) {
        set_state(p, PX_MASTER_UP, "verified");
        px_attach_held(p);
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
    px_mux_close_all(p, PX_DROP_SWITCH);
    dropped -= p->conns.count;
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (c->state != PX_CONN_SHARED) {
            px_conn_drop(p, c, PX_DROP_SWITCH);
            dropped++;
        } else if (c->mux == PX_MUX_PINNING && !(c->flags & PX_UP_EOF)) {
            px_mux_pin(p, c); /* its own connection goes to the new master */
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
    px_attach_held(p);
    publish(p, 0);
}

/* Our master refused a connection: hold new clients until it or a
 * successor answers ROLE master (the follower asks it again). */
void px_master_suspect(sentinel_proxy_t *p, const char *why)
{
    if (p->state != PX_MASTER_UP || !p->have_master)
        return;
    snprintf(p->last_error, sizeof(p->last_error), "master %s:%d: %s", p->master.host,
             p->master.port, why);
    set_state(p, PX_MASTER_SUSPECT, p->last_error);
    if (p->follow && p->threaded) {
        px_route_ask(p, PX_ASK_RECHECK); /* its router calls the follower */
    } else if (p->follow) {
        sentinel_follow_recheck(p->follow); /* deferred inside its callbacks */
        px_master_follow_due(p);
    }
}

/* A master connection ended: check the master without holding anyone
 * (clients also end connections with QUIT, or Redis times them out); the
 * follower stops writes only if the master fails the check. */
void px_master_check(sentinel_proxy_t *p)
{
    /* Once per tick at most: a burst of closes needs one check. */
    if (p->state == PX_MASTER_UP && p->have_master && p->follow &&
        p->now - p->last_check >= PX_TICK_MS) {
        p->last_check = p->now;
        if (p->threaded) {
            px_route_ask(p, PX_ASK_VERIFY);
            return;
        }
        sentinel_follow_verify(p->follow);
        px_master_follow_due(p);
    }
}

/* ---- the follower's transitions --------------------------------------------- */

static void follow_state(sentinel_follow_t *f, const sentinel_follow_transition *t, void *ud)
{
    sentinel_proxy_t *p = ud;

    (void)f;
    p->now = sn_now_ms();
    px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "follower %s -> %s, epoch %llu (%s)",
            sentinel_follow_state_name(t->old_state), sentinel_follow_state_name(t->new_state),
            (unsigned long long)t->epoch, t->reason ? t->reason : "?");
    switch (t->new_state) {
    case SENTINEL_FOLLOW_FOLLOWING: {
        sn_hostport hp;

        snprintf(hp.host, sizeof(hp.host), "%s", t->master.host);
        hp.port = t->master.port;
        /* An aborted failover verifies the same master again: its
         * connections carry on, as they never wrote while paused. */
        px_master_verified(p, &hp);
        break;
    }
    case SENTINEL_FOLLOW_PAUSED:
    case SENTINEL_FOLLOW_PROBING:
        if (t->new_state == SENTINEL_FOLLOW_PROBING)
            px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "asking %s:%d for ROLE (%s)",
                    t->candidate.host, t->candidate.port, t->reason ? t->reason : "?");
        if (p->state != PX_MASTER_PAUSED) {
            /* Stop writing to the old master now: it may be demoted soon. */
            set_state(p, PX_MASTER_PAUSED, t->reason ? t->reason : "failover");
            publish(p, 1);
        }
        break;
    case SENTINEL_FOLLOW_RESOLVING:
        /* After a failover the old master stays fenced: the pause goes on
         * until a verified master (pause-timeout ends the clients' wait). */
        if (p->state == PX_MASTER_UP) {
            snprintf(p->last_error, sizeof(p->last_error), "master %s:%d: %s", p->master.host,
                     p->master.port, sentinel_follow_errstr(f)[0] ? sentinel_follow_errstr(f)
                                                                 : (t->reason ? t->reason : "?"));
            set_state(p, PX_MASTER_SUSPECT, p->last_error);
        }
        break;
    }
}

/* Every event the watcher reported (the follower has acted on it): logs
 * and counters. */
static void follow_event(const sentinel_event *ev, void *ud)
{
    sentinel_proxy_t *p = ud;

    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        p->ctr.failovers_started++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "failover of '%s' started (%s from %s:%d)",
                p->master_name, ev->detail ? ev->detail : "?",
                ev->source_host ? ev->source_host : "?", ev->source_port);
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "replica %s:%d selected for promotion",
                ev->host ? ev->host : "?", ev->port);
        break;
    case SENTINEL_EVENT_SWITCHED:
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "sentinels name %s:%d as master (%s)",
                ev->host ? ev->host : "?", ev->port, ev->detail ? ev->detail : "?");
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        p->ctr.failovers_aborted++;
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "failover aborted (%s)",
                ev->detail ? ev->detail : "?");
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

/* A route on a thread of its own: its follower runs on the router's
 * thread, which holds no route's lock while the group works (route.c), so
 * each callback takes its route's. */
static void on_follow_state(sentinel_follow_t *f, const sentinel_follow_transition *t, void *ud)
{
    px_route_lock(ud);
    follow_state(f, t, ud);
    px_route_unlock(ud);
}

static void on_follow_event(const sentinel_event *ev, void *ud)
{
    px_route_lock(ud);
    follow_event(ev, ud);
    px_route_unlock(ud);
}

/* ---- the follower's descriptors in the proxy's loop ---------------------------- */

/* Fired descriptors are collected here and handed to the follower after
 * the loop's batch (px_master_follow_run): its transitions open and close
 * client connections, which must not happen in the middle of a batch. */
static void on_follow_fd(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    int i;

    for (i = 0; i < p->nfired; i++)
        if (p->fired[i].fd == fd)
            break;
    if (i == p->nfired) {
        if (p->nfired == PX_FIRED_MAX)
            return; /* cannot happen: they register at most that many */
        p->fired[p->nfired].fd = fd;
        p->fired[p->nfired].route = ud;
        p->fired[p->nfired++].revents = 0;
    }
    p->fired[i].revents |= ((mask & PX_READABLE) ? POLLIN : 0) |
                           ((mask & PX_WRITABLE) ? POLLOUT : 0);
}

/* A follower's (or a follower group's) descriptor in p's loop: its fired
 * events are collected in p->fired, with the route whose follower owns it. */
void px_follow_fd_interest(sentinel_proxy_t *p, int fd, sentinel_follow_fd_op op, int events,
                           sentinel_proxy_t *route)
{
    int want = ((events & POLLIN) ? PX_READABLE : 0) | ((events & POLLOUT) ? PX_WRITABLE : 0);
    int have = px_loop_mask(p->loop, fd);

    if (op == SENTINEL_FOLLOW_FD_REMOVE)
        want = PX_NONE;
    if (have & ~want)
        px_loop_del(p->loop, fd, have & ~want);
    if (want != PX_NONE && px_loop_add(p->loop, fd, want, on_follow_fd, route) == -1)
        px_logf(&p->log, SENTINEL_PROXY_LOG_ERROR, "cannot watch sentinel fd %d: %s", fd,
                strerror(errno));
}

static void on_follow_socket(sentinel_follow_t *f, int fd, sentinel_follow_fd_op op, int events,
                             void *ud)
{
    sentinel_proxy_t *p = ud;

    (void)f;
    /* A route on a thread of its own: its follower runs on the router's. */
    if (p->threaded)
        px_follow_fd_interest(p->router, fd, op, events, p);
    else
        px_follow_fd_interest(p, fd, op, events, NULL);
}

px_loop *px_follow_loop(sentinel_proxy_t *p)
{
    return p->threaded ? p->router->loop : p->loop;
}

/* When the follower wants its timeout call next. */
void px_master_follow_due(sentinel_proxy_t *p)
{
    p->follow_due = sn_now_ms() + sentinel_follow_timeout(p->follow);
}

/* The follower's work after a loop iteration: the descriptors that fired,
 * then its timers. */
/* The descriptors that fired since the last call (their records are
 * reset): how many, copied to out. */
int px_fired_take(sentinel_proxy_t *p, px_fired *out)
{
    int n = p->nfired;

    memcpy(out, p->fired, (size_t)n * sizeof(out[0]));
    p->nfired = 0;
    return n;
}

void px_master_follow_run(sentinel_proxy_t *p)
{
    px_fired fired[PX_FIRED_MAX];
    int n = px_fired_take(p, fired);

    for (int i = 0; i < n; i++)
        sentinel_follow_on_fd(p->follow, fired[i].fd, fired[i].revents);
    if (sentinel_follow_timeout(p->follow) == 0)
        sentinel_follow_on_timeout(p->follow);
    p->now = sn_now_ms();
    px_master_follow_due(p);
}

/* Why there is no verified master, for -MASTERDOWN and the log: the
 * follower's last problem (a refused AUTH is an operator's error). */
void px_master_note_error(sentinel_proxy_t *p)
{
    const char *e = sentinel_follow_errstr(p->follow);

    if (p->state == PX_MASTER_UP || e[0] == '\0' || strcmp(e, p->last_error) == 0)
        return;
    snprintf(p->last_error, sizeof(p->last_error), "%s", e);
    px_logf(&p->log,
            sentinel_follow_errcode(p->follow) == SENTINEL_ERR_AUTH ? SENTINEL_PROXY_LOG_ERROR
                                                                    : SENTINEL_PROXY_LOG_DEBUG,
            "no verified master: %s", p->last_error);
}

/* Closes nothing: the follower's descriptors leave the loop first. */
void px_master_follow_free(sentinel_proxy_t *p)
{
    sentinel_watch_fd fds[PX_FOLLOW_FDS];
    int n;

    if (p->follow == NULL)
        return;
    n = sentinel_follow_fds(p->follow, fds, PX_FOLLOW_FDS);
    for (int i = 0; i < n && i < PX_FOLLOW_FDS; i++)
        if (px_follow_loop(p))
            px_loop_del(px_follow_loop(p), fds[i].fd, PX_READABLE | PX_WRITABLE);
    sentinel_follow_free(p->follow);
    p->follow = NULL;
}

/* The follower for sn's master, driven from the proxy's loop; for a route
 * in its router's group (several masters: one subscription and one
 * polling link per sentinel for all of them). 0 or -1. */
int px_master_follow_new(sentinel_proxy_t *p, const sentinel_t *sn, int poll_ms, int probe_ms)
{
    if (p->router) {
        sentinel_follow_group_t *g = px_router_group(p->router, sn);
        p->follow = g ? sentinel_follow_new_in_group(g, sn, NULL) : NULL;
    } else {
        p->follow = sentinel_follow_new(sn, NULL);
    }
    if (p->follow == NULL)
        return -1;
    sentinel_follow_set_state_cb(p->follow, on_follow_state, p);
    sentinel_follow_set_event_cb(p->follow, on_follow_event, p);
    sentinel_follow_set_socket_cb(p->follow, on_follow_socket, p);
    sentinel_follow_set_timing(p->follow, SENTINEL_FOLLOW_POLL_MS, poll_ms);
    sentinel_follow_set_timing(p->follow, SENTINEL_FOLLOW_PROBE_EVERY_MS, probe_ms);
    p->follow_due = sn_now_ms();
    return 0;
}
