/*
 * The master state machine of sentinel-proxy: which master clients are
 * sent to, and when that changes. Fed by libsentinel's watcher (events
 * from every sentinel, polling as a backstop) and by the ROLE probe
 * (probe.c); only this file changes p->state. Part of the proxy's core
 * (proxy_core.h): a switch drops or carries over the client connections.
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
            "master %s -> %s (%s)", px_master_state_name(old), px_master_state_name(st), why);
    /* Pausing or resuming changes what every connection may read. */
    if (old == PX_MASTER_PAUSED || st == PX_MASTER_PAUSED)
        px_update_all(p);
}

static void set_candidate(sentinel_proxy_t *p, const char *host, int port)
{
    if (p->have_cand && px_same_hp(&p->cand, host, port))
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
void px_master_verified(sentinel_proxy_t *p, const sn_hostport *hp)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    size_t dropped = 0;

    clear_candidate(p);
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
 * successor answers ROLE master. */
void px_master_suspect(sentinel_proxy_t *p, const char *why)
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
void px_master_check(sentinel_proxy_t *p)
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
        px_master_verified(p, &cand);
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
    if (p->state == PX_MASTER_UP && p->have_master && px_same_hp(&p->master, cand.host, cand.port))
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

void px_master_probe_run(sentinel_proxy_t *p)
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

void px_master_on_event(const sentinel_event *ev, void *ud)
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
        if (p->have_master && px_same_hp(&p->master, ev->host, ev->port) &&
            p->state == PX_MASTER_UP)
            break;
        if (p->have_master && !px_same_hp(&p->master, ev->host, ev->port)) {
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

void px_master_watch_run(sentinel_proxy_t *p)
{
    sentinel_addr cur;

    p->watch_ready = 0;
    sentinel_watch_process(p->watch);
    watch_sync_fds(p);
    p->now = sn_now_ms();
    p->watch_due = p->now + sentinel_watch_timeout(p->watch);
    /* The polled answer is the backstop for every lost event. */
    if (sentinel_watch_current(p->watch, &cur) == 0) {
        int is_master = p->have_master && px_same_hp(&p->master, cur.host, cur.port);
        int is_cand = p->have_cand && px_same_hp(&p->cand, cur.host, cur.port);
        if (!is_master && !is_cand && !sentinel_watch_in_failover(p->watch)) {
            if (p->have_master) {
                set_state(p, PX_MASTER_PAUSED, "sentinels name another master");
                publish(p, 1);
            }
            set_candidate(p, cur.host, cur.port);
        }
    }
}
