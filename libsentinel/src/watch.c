/*
 * The event watcher: one non-blocking pub/sub link to every known sentinel,
 * plus one polling link that asks SENTINEL get-master-addr-by-name every poll
 * interval and right after any subscription is (re)established.
 *
 * Why both: Sentinel's failover progress events arrive long before the
 * promoted address is served by get-master-addr-by-name (DESIGN.md, "Sentinel's
 * failover timeline"), and only the leader publishes the early ones, so we
 * subscribe everywhere. But pub/sub can be denied by an ACL, messages are lost
 * while a link is down, and a frozen sentinel just goes quiet; polling is the
 * backstop that always converges.
 *
 * Everything here is non-blocking, name lookups of host names included:
 * the links look them up on a thread (name_lookup.c) within their connect
 * deadline.
 *
 * Over 800 lines (1142): the watcher is one role (subscriptions, the polling
 * backstop, event classification, and the hub that shares a group's
 * subscriptions among its members and schedules their polls; the shared
 * polling links themselves are in poll_share.c); splitting it further would
 * expose its per-sentinel state across files. Next step: move the poller to
 * follow.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define WATCH_DEFAULT_POLL_MS 1000
#define WATCH_UNSUBSCRIBED_POLL_MS 1000
#define WATCH_RECONNECT_MIN_MS 100
#define WATCH_RECONNECT_MAX_MS 2000
/* A failover we heard start but never heard end is forgotten after this long
 * if polling keeps naming the same master (a lost -failover-abort-*). */
#define WATCH_STALE_FAILOVER_MS 30000

/* The channels that matter to a client; see sentinel.c's sentinelEvent(). */
static const char *const channels[] = {
    "+try-failover",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+switch-master",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
};
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))

typedef enum wl_state {
    WL_DOWN,       /* not connected; reconnect at retry_at */
    WL_CONNECTING, /* non-blocking connect in progress */
    WL_HANDSHAKE,  /* AUTH / SUBSCRIBE sent, confirmations pending */
    WL_READY,      /* subscribed (sub link) or idle (poll link) */
    WL_WAITING,    /* poll link: a poll's replies are pending */
    WL_DENIED      /* sub link: SUBSCRIBE refused; polling covers it */
} wl_state;

static const char *wl_state_name(wl_state st)
{
    switch (st) {
    case WL_DOWN: return "down";
    case WL_CONNECTING: return "connecting";
    case WL_HANDSHAKE: return "handshake";
    case WL_READY: return "ready";
    case WL_WAITING: return "waiting";
    case WL_DENIED: return "denied";
    }
    return "?";
}

typedef struct wlink {
    sn_hostport addr;
    sn_nblink nb;        /* the connection (link.c, through the transport seam) */
    wl_state state;
    int expect;          /* replies still expected in HANDSHAKE / WAITING */
    int64_t deadline;    /* connect / handshake / reply deadline */
    int64_t retry_at;    /* WL_DOWN: when to reconnect */
    int failures;        /* consecutive, for reconnect backoff */
    int64_t last_ping;   /* sub link keepalive */
    int ping_pending;
    sn_err err;          /* its last connect / I/O / stream error */
} wlink;

struct sentinel_watch {
    sn_config cfg;
    sentinel_event_cb cb;
    void *ud;
    int poll_ms;
    uint64_t rng;

    wlink subs[SN_MAX_SENTINELS];
    size_t nsubs;
    wlink poller;
    size_t poll_idx;     /* which sentinel the poller talks to */
    int64_t next_poll;
    int discovered;
    int want_list;       /* the pending poll also asked SENTINEL sentinels */

    int have_current;
    sentinel_addr current;
    int in_failover;
    int64_t failover_since;
    sn_hostport selected; /* last replica announced, to report it once */
    int poll_code;       /* SENTINEL_OK, or why the last poll named nobody */
    int poll_failures;   /* consecutive failed polls (any sentinel) */
    int poll_auth_refused; /* one of them refused our AUTH */
    char poll_why[SN_ERRSTR_MAX]; /* the last failed poll: "host:port: why" */
    char auth_why[SN_ERRSTR_MAX]; /* the last AUTH refusal, as answered */
    int have_followed;   /* a follower verified this master: filter on it */
    sn_hostport followed;

    /* Shared links (a follower group, follow_group.c). A hub owns the
     * subscriptions of a group and never polls; every message and link
     * event it gets is handed to each member, which filters it by its own
     * master name. A member has no subscription and no polling link of its
     * own (nsubs 0): its polls for its own name are queued on the hub's
     * link to the sentinel it polls, one per sentinel for all members, and
     * the hub schedules them. */
    int is_hub;
    sn_pollshare *polls;        /* hub: one polling link per sentinel for
                                   its members (poll_share.c) */
    sentinel_watch_t *hub;      /* member: its hub */
    sentinel_watch_t **members; /* hub: its members */
    size_t nmembers, members_cap;

    sn_err err; /* the last failed call, for sentinel_watch_errstr() */
};

/* ------------------------------------------------------------------------
 * Links: connect, write, teardown
 * ------------------------------------------------------------------------ */

static void wlink_init(wlink *l, const sn_hostport *hp)
{
    memset(l, 0, sizeof(*l));
    l->addr = *hp;
    sn_nblink_init(&l->nb);
    l->state = WL_DOWN;
}

/* The one teardown path of a link: every error ends here. */
static void wlink_drop(sentinel_watch_t *w, wlink *l, int64_t now)
{
    int64_t pause;

    sn_nblink_close(&l->nb);
    l->expect = 0;
    l->ping_pending = 0;
    l->failures++;
    pause = WATCH_RECONNECT_MIN_MS;
    for (int i = 1; i < l->failures && pause < WATCH_RECONNECT_MAX_MS; i++)
        pause *= 2;
    if (pause > WATCH_RECONNECT_MAX_MS)
        pause = WATCH_RECONNECT_MAX_MS;
    /* Jitter so that many watchers do not reconnect in step. */
    l->retry_at = now + pause / 2 + sn_backoff_ms(&w->rng, 0, (int)(pause / 2), (int)(pause / 2));
    if (l->state != WL_DENIED)
        l->state = WL_DOWN;
}

static int wlink_connect(wlink *l, const sn_config *cfg, int64_t now)
{
    int connect_ms = cfg->connect_ms;

    if (sn_nblink_open_tls(&l->nb, l->addr.host, l->addr.port,
                           &cfg->tls[SENTINEL_TLS_SENTINELS], &l->err) == -1)
        return -1;
    l->state = WL_CONNECTING;
    l->deadline = now + connect_ms;
    return 0;
}

/* Queue one command. */
static int wlink_queue(wlink *l, int argc, const char **argv)
{
    return sn_nblink_queue(&l->nb, argc, argv, &l->err);
}

static int wlink_queue_auth(wlink *l, const sn_cred *cr)
{
    int rc = sn_nblink_queue_auth(&l->nb, cr, &l->err);

    if (rc == 1)
        l->expect++;
    return rc == -1 ? -1 : 0;
}

/* Flush and read what is there; -1 when the link is dead. */
static int wlink_io(wlink *l)
{
    return sn_nblink_io(&l->nb, &l->err);
}

/* The next reply: 1 with *r, 0 none, -1 broken stream. */
static int wlink_reply(wlink *l, redisReply **r)
{
    return sn_nblink_reply(&l->nb, r, &l->err);
}

/* ------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------ */

static void emit(sentinel_watch_t *w, sentinel_event_type type, const sn_hostport *hp,
                 const char *detail, const sn_hostport *source)
{
    sentinel_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.master_name = w->cfg.master_name;
    ev.host = hp ? hp->host : NULL;
    ev.port = hp ? hp->port : 0;
    ev.detail = detail;
    ev.source_host = source ? source->host : NULL;
    ev.source_port = source ? source->port : 0;
    if (w->is_hub) {
        /* A shared link came up or went: every member may have missed
         * events and polls at once; each hears it as its own. */
        for (size_t i = 0; i < w->nmembers; i++) {
            if (type == SENTINEL_EVENT_SENTINEL_UP || type == SENTINEL_EVENT_SENTINEL_DOWN)
                w->members[i]->next_poll = sn_now_ms();
            emit(w->members[i], type, hp, detail, source);
        }
        return;
    }
    if (w->cb)
        w->cb(&ev, w->ud);
}

static int same_addr(const sn_hostport *a, const char *host, int port)
{
    return a->port == port && strcmp(a->host, host) == 0;
}

static void start_failover(sentinel_watch_t *w, const char *detail, const sn_hostport *src,
                           int64_t now)
{
    if (w->in_failover)
        return;
    w->in_failover = 1;
    w->failover_since = now;
    w->selected.host[0] = '\0';
    emit(w, SENTINEL_EVENT_FAILOVER_STARTED, NULL, detail, src);
}

/* A new master address, from an event or a poll. */
static void switch_master(sentinel_watch_t *w, const sn_hostport *hp, const char *detail,
                          const sn_hostport *src)
{
    int changed = !w->have_current || !same_addr(hp, w->current.host, w->current.port);
    int was_known = w->have_current;

    /* A poll naming the same master says nothing about a failover under
     * way: the promoted address is served only at the very end. */
    if (!changed)
        return;
    w->in_failover = 0;
    snprintf(w->current.host, sizeof(w->current.host), "%s", hp->host);
    w->current.port = hp->port;
    w->current.verified_at_ms = 0; /* the watcher reports; callers verify */
    w->have_current = 1;
    if (was_known)
        emit(w, SENTINEL_EVENT_SWITCHED, hp, detail, src);
}

static void handle_event(sentinel_watch_t *w, wlink *l, const char *ch, size_t chlen,
                         const char *p, size_t plen, int64_t now)
{
    sn_event_msg m;
    char detail[64];

    if (w->is_hub) { /* each member takes what names its master */
        for (size_t i = 0; i < w->nmembers; i++)
            handle_event(w->members[i], l, ch, chlen, p, plen, now);
        return;
    }
    if (sn_parse_event(ch, chlen, p, plen, w->cfg.master_name, &m) != 0)
        return;
    snprintf(detail, sizeof(detail), "%.*s", (int)chlen, ch);
    sn_config_map(&w->cfg, &m.addr);
    sn_config_map(&w->cfg, &m.master);
    /* A sentinel that missed the last switch may still try to fail over the
     * master we already left: progress events about any master but the
     * current one would only pause writers for nothing. */
    if (m.type != SENTINEL_EVENT_SWITCHED) {
        if (w->have_followed && !same_addr(&m.master, w->followed.host, w->followed.port))
            return;
        if (!w->have_followed && w->have_current &&
            !same_addr(&m.master, w->current.host, w->current.port))
            return;
    }
    switch ((sentinel_event_type)m.type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        start_failover(w, detail, &l->addr, now);
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        start_failover(w, detail, &l->addr, now);
        if (same_addr(&w->selected, m.addr.host, m.addr.port))
            break;
        w->selected = m.addr;
        emit(w, SENTINEL_EVENT_REPLICA_SELECTED, &m.addr, detail, &l->addr);
        break;
    case SENTINEL_EVENT_SWITCHED:
        switch_master(w, &m.addr, detail, &l->addr);
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        if (w->in_failover) {
            w->in_failover = 0;
            emit(w, SENTINEL_EVENT_FAILOVER_ABORTED, NULL, detail, &l->addr);
        }
        break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED:
    case SENTINEL_EVENT_SENTINEL_DOWN:
    case SENTINEL_EVENT_SENTINEL_UP:
        break;
    }
}

/* ------------------------------------------------------------------------
 * Subscription links
 * ------------------------------------------------------------------------ */

static void sub_start(sentinel_watch_t *w, wlink *l, int64_t now)
{
    const char *argv[1 + NCHANNELS];

    if (wlink_connect(l, &w->cfg, now) == -1) {
        wlink_drop(w, l, now);
        return;
    }
    argv[0] = "SUBSCRIBE";
    for (size_t i = 0; i < NCHANNELS; i++)
        argv[1 + i] = channels[i];
    if (wlink_queue_auth(l, &w->cfg.sentinel_cred) == -1 ||
        wlink_queue(l, 1 + (int)NCHANNELS, argv) == -1) {
        wlink_drop(w, l, now);
        return;
    }
    l->expect += (int)NCHANNELS;
}

static void sub_lost(sentinel_watch_t *w, wlink *l, int64_t now)
{
    int was_up = l->state == WL_READY;

    wlink_drop(w, l, now);
    if (was_up) {
        emit(w, SENTINEL_EVENT_SENTINEL_DOWN, &l->addr, "link lost", &l->addr);
        w->next_poll = now; /* events may be missed until it is back */
    }
}

static int is_push(const redisReply *r, const char *kind)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
           r->element[0]->type == REDIS_REPLY_STRING &&
           strcasecmp(r->element[0]->str, kind) == 0;
}

/* One reply on a subscription link. Returns -1 to drop the link. */
static int sub_reply(sentinel_watch_t *w, wlink *l, redisReply *r, int64_t now)
{
    if (r->type == REDIS_REPLY_ERROR) {
        if (l->state == WL_HANDSHAKE && strncmp(r->str, "NOPERM", 6) == 0) {
            /* ACL says no pub/sub here: never retry, polling covers it. */
            l->state = WL_DENIED;
            emit(w, SENTINEL_EVENT_SUBSCRIBE_DENIED, &l->addr, "SUBSCRIBE denied by ACL",
                 &l->addr);
        }
        return -1;
    }
    if (l->state == WL_HANDSHAKE) {
        if (r->type == REDIS_REPLY_STATUS || is_push(r, "subscribe"))
            l->expect--;
        else
            return -1;
        if (l->expect == 0) {
            l->state = WL_READY;
            l->failures = 0;
            l->last_ping = now;
            emit(w, SENTINEL_EVENT_SENTINEL_UP, &l->addr, "subscribed", &l->addr);
            w->next_poll = now; /* catch up on anything missed while down */
        }
        return 0;
    }
    if (is_push(r, "message") && r->elements == 3 && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[2]->type == REDIS_REPLY_STRING) {
        handle_event(w, l, r->element[1]->str, r->element[1]->len, r->element[2]->str,
                     r->element[2]->len, now);
        return 0;
    }
    if (is_push(r, "pong")) {
        l->ping_pending = 0;
        return 0;
    }
    return 0; /* unknown pushes are ignored, not fatal */
}

static void sub_step(sentinel_watch_t *w, wlink *l, int64_t now)
{
    redisReply *reply;

    switch (l->state) {
    case WL_DENIED:
    case WL_WAITING:
        return;
    case WL_DOWN:
        if (now >= l->retry_at)
            sub_start(w, l, now);
        if (l->state != WL_CONNECTING)
            return;
        break;
    case WL_CONNECTING:
    case WL_HANDSHAKE:
    case WL_READY:
        break;
    }
    if (wlink_io(l) == -1) {
        sub_lost(w, l, now);
        return;
    }
    if (l->state == WL_CONNECTING) {
        if (l->nb.state == SN_NB_CONNECTING) {
            if (now >= l->deadline)
                sub_lost(w, l, now);
            return;
        }
        l->state = WL_HANDSHAKE;
        l->deadline = now + w->cfg.command_ms + w->cfg.connect_ms;
    }
    for (int i = 0; i < 1024; i++) {
        int rc = wlink_reply(l, &reply);

        if (rc == -1) {
            sub_lost(w, l, now);
            return;
        }
        if (rc == 0)
            break;
        if (sub_reply(w, l, reply, now) == -1) {
            freeReplyObject(reply);
            sub_lost(w, l, now);
            return;
        }
        freeReplyObject(reply);
        if (l->nb.state == SN_NB_CLOSED)
            return;
    }
    if (l->state == WL_HANDSHAKE && now >= l->deadline) {
        sub_lost(w, l, now);
        return;
    }
    /* A frozen sentinel keeps its TCP connection open and says nothing:
     * ping it, and give up on it when the pong is late. */
    if (l->state == WL_READY) {
        if (l->ping_pending && now - l->last_ping > w->poll_ms + w->cfg.command_ms) {
            sub_lost(w, l, now);
            return;
        }
        if (!l->ping_pending && now - l->last_ping >= w->poll_ms) {
            const char *ping[] = {"PING"};
            if (wlink_queue(l, 1, ping) == -1 || wlink_io(l) == -1) {
                sub_lost(w, l, now);
                return;
            }
            l->ping_pending = 1;
            l->last_ping = now;
        }
    }
}

/* ------------------------------------------------------------------------
 * The polling link
 * ------------------------------------------------------------------------ */

struct watch_discover {
    sentinel_watch_t *w;
};

/* A sentinel w polls from now on; its subscription is w's, or its hub's. */
static void add_sentinel(sentinel_watch_t *w, const sn_hostport *hp)
{
    sn_err ignored;
    size_t before = w->cfg.nsentinels;

    if (sn_config_add_sentinel(&w->cfg, hp->host, hp->port, &ignored) == 0 &&
        w->cfg.nsentinels > before) {
        if (w->hub)
            add_sentinel(w->hub, hp);
        else if (w->nsubs < SN_MAX_SENTINELS)
            wlink_init(&w->subs[w->nsubs++], hp);
    }
}

static void watch_add_sentinel(const sn_hostport *hp, void *ud)
{
    sentinel_watch_t *w = ((struct watch_discover *)ud)->w;
    sn_hostport mapped = *hp;

    sn_config_map(&w->cfg, &mapped);
    add_sentinel(w, &mapped);
}

/* A poll of the sentinel at w->poller.addr failed; why (NULL: unknown) is
 * kept for the follower's errstr (sn_watch_poll_why()). */
static void poll_failed(sentinel_watch_t *w, int64_t now, const char *why)
{
    if (why != NULL) /* NULL: the failure already said why */
        snprintf(w->poll_why, sizeof(w->poll_why), "%s:%d: %s", w->poller.addr.host,
                 w->poller.addr.port, why[0] ? why : "failed");
    /* A whole round of sentinels without an answer. */
    if (++w->poll_failures >= (int)w->cfg.nsentinels)
        w->poll_code = w->poll_auth_refused ? SENTINEL_ERR_AUTH
                                            : SENTINEL_ERR_NO_SENTINEL_REACHABLE;
    wlink_drop(w, &w->poller, now);
    /* Try the next sentinel at once; back off only after a full round. */
    w->poll_idx = (w->poll_idx + 1) % w->cfg.nsentinels;
    w->poller.addr = w->cfg.sentinels[w->poll_idx];
    if (w->poll_idx != 0)
        w->poller.retry_at = now;
    w->next_poll = now;
}

/* With no subscription up (denied by ACL, or all sentinels unreachable for
 * pub/sub) polling is all there is: never poll slower than once a second
 * then, whatever a caller that relies on events configured. */
static int poll_interval(const sentinel_watch_t *w)
{
    const sentinel_watch_t *sw = w->hub ? w->hub : w; /* whose subscriptions */

    for (size_t i = 0; i < sw->nsubs; i++)
        if (sw->subs[i].state == WL_READY)
            return w->poll_ms;
    return w->poll_ms < WATCH_UNSUBSCRIBED_POLL_MS ? w->poll_ms : WATCH_UNSUBSCRIBED_POLL_MS;
}

/* A poll: get-master-addr-by-name, then SENTINEL sentinels until the
 * sentinels are discovered. On a hub's shared link, where other masters'
 * replies come before and after, SENTINEL MASTER first: its reply names the
 * master, so a reply that is not this member's is seen (poll_share.c). A
 * lone poller asks about one master only: order is enough there.
 * 0; -1: it could not be queued, and poll_failed() has counted it (the
 * caller must not count it again). */
static int poll_send(sentinel_watch_t *w, int64_t now)
{
    const char *tag[] = {"SENTINEL", "MASTER", w->cfg.master_name};
    const char *get[] = {"SENTINEL", "get-master-addr-by-name", w->cfg.master_name};
    const char *list[] = {"SENTINEL", "sentinels", w->cfg.master_name};
    wlink *l = &w->poller;

    w->want_list = !w->discovered && w->cfg.discovery;
    l->expect = (w->hub ? 1 : 0) + 1 + w->want_list;
    if (w->hub) { /* on the hub's shared link to l->addr */
        const int argc[] = {3, 3, 3};
        const char *const *const argv[] = {tag, get, list};
        if (sn_pollshare_query(w->hub->polls, &l->addr, w, l->expect, argc, argv, now) == -1) {
            poll_failed(w, now, "cannot queue the poll on the shared link");
            return -1;
        }
    } else if (wlink_queue(l, 3, get) == -1 ||
               (w->want_list && wlink_queue(l, 3, list) == -1)) {
        poll_failed(w, now, sn_err_str(&l->err));
        return -1;
    }
    l->state = WL_WAITING;
    l->deadline = now + w->cfg.command_ms;
    w->next_poll = now + poll_interval(w);
    return 0;
}

/* One reply to w's poll (its own link's, or its share of a hub's link).
 * 0; -1: this poll failed (an error reply, say); -2 with e set: the reply is
 * not one to what w asked (nothing asked, another master's, another
 * command's shape): the stream is out of step. */
static int poll_reply(sentinel_watch_t *w, redisReply *r, sn_err *e)
{
    wlink *l = &w->poller;
    int tagged = w->hub != NULL;
    int pos = (tagged ? 1 : 0) + 1 + w->want_list - l->expect; /* which reply of the poll */
    sn_hostport hp;

    if (l->state == WL_HANDSHAKE) { /* the AUTH reply */
        if (r->type == REDIS_REPLY_ERROR) {
            w->poll_auth_refused = 1; /* a round of these is SENTINEL_ERR_AUTH */
            sn_err_auth_refused(e, r->str, &w->cfg.sentinel_cred);
            snprintf(w->auth_why, sizeof(w->auth_why), "%s", e->msg);
            return -1;
        }
        l->state = WL_READY;
        return 0;
    }
    if (l->state != WL_WAITING || l->expect <= 0)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                          "a reply nobody asked for (replies out of step)");
    /* Replies arrive in order: SENTINEL MASTER (shared links), then
     * get-master-addr, then sentinels. */
    if (tagged && pos == 0) {
        /* An error names nobody (an unknown master; an ACL without
         * sentinel|master): the replies' order is checked still, by the
         * shape of the next one. */
        if (sn_parse_master_named(r, w->cfg.master_name, e) == -1)
            return -2;
        if (sn_reply_refuses(r, "sentinel|get-master-addr-by-name") ||
            sn_reply_refuses(r, "sentinel|sentinels")) {
            sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                       "SENTINEL MASTER: another query's refusal (replies out of step)");
            return -2;
        }
    } else if (pos == (tagged ? 1 : 0)) {
        int rc = sn_parse_master_addr(r, &hp, e);
        /* Errors look alike: a refused (or unknown-master) SENTINEL MASTER
         * where the address is due is the tag's answer arriving late (a
         * reply sent more than once), and the next address would be
         * another member's: out of step, not a failed poll. */
        if (tagged && r->type == REDIS_REPLY_ERROR &&
            (sn_reply_refuses(r, "sentinel|master") ||
             strstr(r->str, "No such master") != NULL)) {
            sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                       "get-master-addr-by-name: SENTINEL MASTER's error (replies out of step)");
            return -2;
        }
        if (rc == -1)
            return r->type == REDIS_REPLY_ERROR ? -1 : -2;
        w->poll_why[0] = '\0';
        w->poll_failures = 0;
        w->poll_auth_refused = 0;
        w->poll_code = rc == 1 ? SENTINEL_ERR_UNKNOWN_MASTER : SENTINEL_OK;
        if (rc == 0) {
            sn_config_map(&w->cfg, &hp);
            switch_master(w, &hp, SN_WATCH_POLL_DETAIL, &l->addr);
        }
    } else {
        struct watch_discover ctx = {w};
        /* A list of field/value lists (or an error): an address where it
         * is due would be another query's reply. */
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
            if (r->element[i]->type != REDIS_REPLY_ARRAY) {
                sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                           "SENTINEL sentinels: not a list of sentinels (replies out of step)");
                return -2;
            }
        if (sn_parse_sentinels(r, watch_add_sentinel, &ctx, e) == -1 &&
            r->type != REDIS_REPLY_ERROR)
            return -2;
        w->discovered = 1;
    }
    if (--l->expect == 0) {
        w->want_list = 0;
        l->state = WL_READY;
        l->failures = 0;
    }
    return 0;
}

static void poll_step(sentinel_watch_t *w, int64_t now)
{
    wlink *l = &w->poller;
    redisReply *reply;
    int closed, handshake;
    sn_err e;

    switch (l->state) {
    case WL_DENIED:
        return;
    case WL_DOWN:
        if (now < l->retry_at || now < w->next_poll)
            return;
        if (wlink_connect(l, &w->cfg, now) == -1) {
            poll_failed(w, now, sn_err_str(&l->err));
            return;
        }
        /* a fake (or loopback) connect may be done already */
        __attribute__((fallthrough));
    case WL_CONNECTING:
        if (wlink_io(l) == -1) {
            poll_failed(w, now, sn_err_str(&l->err));
            return;
        }
        if (l->nb.state == SN_NB_CONNECTING) {
            if (now >= l->deadline) {
                const char *hint = sn_nblink_timeout_hint(&l->nb);

                poll_failed(w, now, hint ? hint : "connect timed out");
            }
            return;
        }
        l->state = WL_READY;
        if (w->cfg.sentinel_cred.password) {
            if (wlink_queue_auth(l, &w->cfg.sentinel_cred) == -1) {
                poll_failed(w, now, sn_err_str(&l->err));
                return;
            }
            l->expect = 0;
            l->state = WL_HANDSHAKE;
            l->deadline = now + w->cfg.command_ms;
        }
        break;
    case WL_HANDSHAKE:
    case WL_READY:
    case WL_WAITING:
        break;
    }
    /* A poll that cannot be queued is counted (and the next sentinel
     * chosen) by poll_send() itself: once. */
    if (l->state == WL_READY && now >= w->next_poll && poll_send(w, now) == -1)
        return;
    /* Complete replies read before a close (or an error) in the same read
     * are answers: they are taken first, then the link fails. */
    handshake = l->state == WL_HANDSHAKE;
    closed = wlink_io(l) == -1;
    for (int i = 0; i < 16; i++) {
        int rc = wlink_reply(l, &reply);

        if (rc == -1) {
            poll_failed(w, now, sn_err_str(&l->err));
            return;
        }
        if (rc == 0)
            break;
        sn_err_clear(&e);
        rc = poll_reply(w, reply, &e);
        freeReplyObject(reply);
        if (rc < 0) {
            poll_failed(w, now, sn_err_str(&e));
            return;
        }
    }
    if (closed && l->state == WL_READY && !handshake) {
        /* Every question answered, then closed: not the sentinel's failure
         * (an idle close); the next poll reconnects to it. Not when only
         * the AUTH was answered: no poll was, and a sentinel that closes
         * after each AUTH would be reconnected to at once, forever. */
        wlink_drop(w, l, now);
        l->failures = 0;
        l->retry_at = now;
        return;
    }
    if (closed) {
        poll_failed(w, now, sn_err_str(&l->err));
        return;
    }
    if ((l->state == WL_WAITING || l->state == WL_HANDSHAKE) && now >= l->deadline) {
        poll_failed(w, now, "no reply in time");
        return;
    }
    if (l->state == WL_READY && now >= w->next_poll) {
        if (poll_send(w, now) == -1)
            return; /* counted by poll_send() */
        if (wlink_io(l) == -1)
            poll_failed(w, now, sn_err_str(&l->err));
    }
}

/* A hub's members poll through its shared links (poll_share.c): the hub
 * sends each member's poll when it is due, the replies come back here. */
static int member_poll_reply(void *member, redisReply *r, const sn_hostport *from, sn_err *e,
                             int64_t now)
{
    sentinel_watch_t *w = member;
    int rc;

    (void)from;
    if (w->poller.state != WL_WAITING)
        return -1; /* a late reply to a poll it gave up */
    rc = poll_reply(w, r, e);
    if (rc == -1)
        poll_failed(w, now, sn_err_str(e));
    return rc; /* -2: the hub's link closes; w is told with the others */
}

static void member_poll_lost(void *member, int auth_refused, const char *why, int64_t now)
{
    sentinel_watch_t *w = member;

    if (auth_refused) {
        w->poll_auth_refused = 1;
        snprintf(w->auth_why, sizeof(w->auth_why), "%s", why ? why : "AUTH refused");
    }
    sn_err_set(&w->err, auth_refused ? SENTINEL_ERR_AUTH : SENTINEL_ERR_NO_SENTINEL_REACHABLE,
               "polling %s:%d: %s", w->poller.addr.host, w->poller.addr.port,
               why ? why : "link lost");
    poll_failed(w, now, why ? why : "link lost");
}

static void hub_poll_members(sentinel_watch_t *hub, int64_t now)
{
    for (size_t i = 0; i < hub->nmembers; i++) {
        sentinel_watch_t *w = hub->members[i];

        if (w->poller.state != WL_WAITING && now >= w->poller.retry_at && now >= w->next_poll)
            poll_send(w, now);
    }
}

/* ------------------------------------------------------------------------
 * The public API
 * ------------------------------------------------------------------------ */

sentinel_watch_t *sentinel_watch_new(const sentinel_t *s, sentinel_event_cb cb, void *userdata,
                                     int *code)
{
    sentinel_watch_t *w;

    if (s == NULL || s->cfg.nsentinels == 0)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    if (sn_config_copy(&w->cfg, &s->cfg) == -1) {
        free(w);
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    }
    if (code != NULL)
        *code = SENTINEL_OK;
    w->cb = cb;
    w->ud = userdata;
    w->poll_ms = WATCH_DEFAULT_POLL_MS;
    w->rng = sn_rng_seed(w);
    for (size_t i = 0; i < w->cfg.nsentinels; i++)
        wlink_init(&w->subs[i], &w->cfg.sentinels[i]);
    w->nsubs = w->cfg.nsentinels;
    wlink_init(&w->poller, &w->cfg.sentinels[0]);
    w->next_poll = 0;
    return w;
}

void sentinel_watch_free(sentinel_watch_t *w)
{
    if (w == NULL)
        return;
    if (w->hub) { /* leave the hub's list */
        sentinel_watch_t *h = w->hub;
        for (size_t i = 0; i < h->nmembers; i++)
            if (h->members[i] == w) {
                h->members[i] = h->members[--h->nmembers];
                break;
            }
    }
    if (w->hub) /* replies still due to it are dropped */
        sn_pollshare_forget(w->hub->polls, w);
    for (size_t i = 0; i < w->nmembers; i++)
        w->members[i]->hub = NULL; /* the group frees its hub last; defensive */
    free(w->members);
    sn_pollshare_free(w->polls);
    for (size_t i = 0; i < w->nsubs; i++)
        sn_nblink_close(&w->subs[i].nb);
    sn_nblink_close(&w->poller.nb);
    sn_config_free(&w->cfg);
    free(w);
}

int sentinel_watch_set_poll_interval(sentinel_watch_t *w, int ms)
{
    if (w == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (ms < 0 || ms > 3600000)
        return sn_err_fail(&w->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "poll interval must be 0 (default) to 3600000 ms, got %d", ms);
    w->poll_ms = ms ? ms : WATCH_DEFAULT_POLL_MS;
    return SENTINEL_OK;
}

static int add_want(const wlink *l, sn_fdwant *out, int max, int n)
{
    if (l->nb.state == SN_NB_CLOSED)
        return n;
    if (n < max) {
        out[n].fd = l->nb.h;
        out[n].events = sn_nblink_events(&l->nb);
        out[n].gen = l->nb.gen;
    }
    return n + 1;
}

int sn_watch_wants(const sentinel_watch_t *w, sn_fdwant *out, int max)
{
    int n = 0;

    if (w == NULL)
        return 0;
    for (size_t i = 0; i < w->nsubs; i++)
        n = add_want(&w->subs[i], out, max, n);
    if (w->is_hub)
        return sn_pollshare_wants(w->polls, out, max, n);
    return w->hub ? n : add_want(&w->poller, out, max, n);
}

int sentinel_watch_fds(sentinel_watch_t *w, sentinel_watch_fd *fds, int max)
{
    sn_fdwant want[2 * SN_MAX_SENTINELS + 1];
    int n = sn_watch_wants(w, want, 2 * SN_MAX_SENTINELS + 1);

    for (int i = 0; i < n && i < max; i++) {
        fds[i].fd = want[i].fd;
        fds[i].events = want[i].events;
    }
    return n;
}

static int64_t min_due(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int sentinel_watch_timeout(sentinel_watch_t *w)
{
    int64_t now, due;

    if (w == NULL)
        return 1000;
    now = sn_now_ms();
    due = now + w->poll_ms;
    for (size_t i = 0; i < w->nsubs; i++) {
        const wlink *l = &w->subs[i];
        if (l->state == WL_DOWN)
            due = min_due(due, l->retry_at);
        else if (l->state == WL_CONNECTING || l->state == WL_HANDSHAKE)
            due = min_due(due, l->deadline);
        else if (l->state == WL_READY)
            /* An unanswered PING is given up on strictly after its grace
             * (sub_step): waking before that would spin. */
            due = min_due(due, l->last_ping + w->poll_ms +
                                   (l->ping_pending ? w->cfg.command_ms + 1 : 0));
    }
    /* A hub sends its members' polls when due; its links' deadlines. */
    if (w->is_hub) {
        for (size_t i = 0; i < w->nmembers; i++) {
            const sentinel_watch_t *m = w->members[i];
            if (m->poller.state != WL_WAITING)
                due = min_due(due, m->poller.retry_at > m->next_poll ? m->poller.retry_at
                                                                     : m->next_poll);
        }
        due = sn_pollshare_due(w->polls, due);
    }
    /* A poll that is due only matters once the poller can send it: while it
     * connects or waits for a reply, its fd wakes us, or its deadline. A
     * hub's member polls through the hub. */
    switch (w->is_hub || w->hub ? WL_DENIED : w->poller.state) {
    case WL_DOWN:
        due = min_due(due, w->poller.retry_at > w->next_poll ? w->poller.retry_at : w->next_poll);
        break;
    case WL_READY:
        due = min_due(due, w->next_poll);
        break;
    case WL_CONNECTING:
    case WL_HANDSHAKE:
    case WL_WAITING:
        due = min_due(due, w->poller.deadline);
        break;
    case WL_DENIED:
        break;
    }
    if (due <= now)
        return 0;
    return due - now > 60000 ? 60000 : (int)(due - now);
}

static void watch_expire_failover(sentinel_watch_t *w, int64_t now)
{
    if (w->in_failover && now - w->failover_since > WATCH_STALE_FAILOVER_MS) {
        w->in_failover = 0;
        emit(w, SENTINEL_EVENT_FAILOVER_ABORTED, NULL, "no end seen", NULL);
    }
}

int sentinel_watch_process(sentinel_watch_t *w)
{
    int64_t now;

    if (w == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    now = sn_now_ms();
    for (size_t i = 0; i < w->nsubs; i++)
        sub_step(w, &w->subs[i], now);
    if (w->is_hub) {
        hub_poll_members(w, now);
        sn_pollshare_step(w->polls, now);
    } else if (w->hub == NULL) {
        poll_step(w, now);
    }
    watch_expire_failover(w, now);
    return SENTINEL_OK;
}

int sn_watch_process_fd(sentinel_watch_t *w, int fd)
{
    int64_t now = sn_now_ms();

    if (fd < 0)
        return 0;
    for (size_t i = 0; i < w->nsubs; i++)
        if (w->subs[i].nb.state != SN_NB_CLOSED && w->subs[i].nb.h == fd) {
            sub_step(w, &w->subs[i], now);
            return 1;
        }
    if (w->is_hub)
        return sn_pollshare_step_fd(w->polls, fd, now);
    if (w->hub == NULL && w->poller.nb.state != SN_NB_CLOSED && w->poller.nb.h == fd) {
        poll_step(w, now);
        return 1;
    }
    return 0;
}

int sn_watch_poll_code(const sentinel_watch_t *w)
{
    return w->poll_code;
}

const char *sn_watch_poll_why(const sentinel_watch_t *w, int auth)
{
    return auth ? w->auth_why : w->poll_why;
}

void sn_watch_follow(sentinel_watch_t *w, const sn_hostport *master)
{
    w->followed = *master;
    w->have_followed = 1;
    w->in_failover = 0;
    w->selected.host[0] = '\0';
    w->selected.port = 0;
}

int sentinel_watch_run_once(sentinel_watch_t *w, int timeout_ms)
{
    struct pollfd pfds[SN_MAX_SENTINELS + 1];
    sentinel_watch_fd fds[SN_MAX_SENTINELS + 1];
    int n, t;

    if (w == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    n = sentinel_watch_fds(w, fds, SN_MAX_SENTINELS + 1);
    if (n > SN_MAX_SENTINELS + 1)
        n = SN_MAX_SENTINELS + 1;
    for (int i = 0; i < n; i++) {
        pfds[i].fd = fds[i].fd;
        pfds[i].events = fds[i].events;
        pfds[i].revents = 0;
    }
    t = sentinel_watch_timeout(w);
    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    if (poll(pfds, (nfds_t)n, t) == -1 && errno != EINTR)
        return sn_err_fail(&w->err, SENTINEL_ERR_SYSTEM, "poll: %s", strerror(errno));
    return sentinel_watch_process(w);
}

int sentinel_watch_current(const sentinel_watch_t *w, sentinel_addr *out)
{
    if (w == NULL || out == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (!w->have_current)
        return SENTINEL_NO_ENTRY;
    *out = w->current;
    return SENTINEL_OK;
}

int sentinel_watch_in_failover(const sentinel_watch_t *w)
{
    return w ? w->in_failover : 0;
}

/* For logs and tests: the state of sentinel i's subscription link. */
const char *sn_watch_link_state(const sentinel_watch_t *w, size_t i)
{
    if (w == NULL || i >= w->nsubs)
        return "none";
    return wl_state_name(w->subs[i].state);
}

/* ------------------------------------------------------------------------
 * Shared links: hubs and members (for follow_group.c)
 * ------------------------------------------------------------------------ */

sentinel_watch_t *sn_watch_new_hub(const sentinel_t *s, int *code)
{
    sentinel_watch_t *w = sentinel_watch_new(s, NULL, NULL, code);

    if (w == NULL)
        return NULL;
    w->is_hub = 1;
    if ((w->polls = sn_pollshare_new(&w->cfg, member_poll_reply, member_poll_lost)) == NULL) {
        sentinel_watch_free(w);
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    }
    return w;
}

sentinel_watch_t *sn_watch_new_member(sentinel_watch_t *hub, const sentinel_t *s,
                                      sentinel_event_cb cb, void *userdata, int *code)
{
    sentinel_watch_t *w;

    if (hub == NULL || !hub->is_hub)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if (hub->nmembers == hub->members_cap) {
        size_t cap = hub->members_cap ? 2 * hub->members_cap : 4;
        sentinel_watch_t **m = realloc(hub->members, cap * sizeof(*m));
        if (m == NULL)
            return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
        hub->members = m;
        hub->members_cap = cap;
    }
    if ((w = sentinel_watch_new(s, cb, userdata, code)) == NULL)
        return NULL;
    w->nsubs = 0; /* its subscriptions are the hub's */
    w->hub = hub;
    for (size_t i = 0; i < w->cfg.nsentinels; i++)
        add_sentinel(hub, &w->cfg.sentinels[i]);
    hub->members[hub->nmembers++] = w;
    return w;
}

size_t sn_watch_members(const sentinel_watch_t *w)
{
    return w ? w->nmembers : 0;
}

int sn_watch_poll_links(const sentinel_watch_t *w)
{
    return w ? sn_pollshare_open_links(w->polls) : 0;
}

const char *sentinel_watch_errstr(const sentinel_watch_t *w)
{
    return w ? sn_err_str(&w->err) : "no watcher";
}
