/*
 * Shared polling links (issues 10 and 11): one polling connection per
 * sentinel for every member of a follower group, instead of one poller per
 * member. A member's poll (SENTINEL MASTER, SENTINEL get-master-addr-by-name,
 * sometimes SENTINEL sentinels; watch.c's poll_send()) is queued on the
 * link to the sentinel it polls; queries of several members are pipelined
 * on that link and the replies, which a sentinel sends in order, are handed
 * back in the order the queries were queued.
 *
 * Order alone cannot tell whose a reply is: a sentinel (or a proxy in
 * between) that answers one query twice would shift every later reply by
 * one, and hand master B master A's address. So each member's poll starts
 * with SENTINEL MASTER <name>, whose reply names the master, and the member
 * checks that name and the shape of every reply (member_poll_reply() in
 * watch.c); a reply that is not to what its member asked closes the link for
 * every member, as a reply nobody asked for does. The address still comes
 * from get-master-addr-by-name, which names a promoted replica before the
 * master's own fields do (DESIGN.md, "Sentinel's failover timeline").
 *
 * A link is opened when a query needs it and stays open while it works.
 * When it fails (error, EOF, a reply or connect deadline passed, AUTH
 * refused) it closes for every member that waits on it, and each of them
 * is told once (lost callback), as its own poller would have failed: the
 * member moves on to its next sentinel (watch.c's poll_failed()).
 *
 * The watcher (watch.c) owns the members' poll schedule; this file knows
 * members only as opaque pointers with two callbacks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PS_RECONNECT_MIN_MS 100
#define PS_RECONNECT_MAX_MS 2000

typedef struct ps_wait {
    void *member; /* NULL: its member gave up or left; the reply is dropped */
    int64_t due;  /* the reply is late after this */
} ps_wait;

typedef struct ps_link {
    sn_hostport addr;
    sn_nblink nb;
    int connecting;   /* connect (and TLS handshake) under way */
    int64_t deadline; /* connecting: give up then */
    int auth_pending; /* AUTH queued: the first reply is its answer */
    int64_t retry_at; /* closed after a failure: not before then */
    int failures;     /* consecutive, for the reconnect backoff */
    ps_wait *wait;    /* replies still expected, oldest first */
    size_t nwait, cap;
} ps_link;

struct sn_pollshare {
    const sn_config *cfg; /* the hub's: credentials, timeouts, TLS */
    sn_pollshare_reply_cb *on_reply;
    sn_pollshare_lost_cb *on_lost;
    uint64_t rng;
    ps_link links[SN_MAX_SENTINELS];
    size_t nlinks;
};

sn_pollshare *sn_pollshare_new(const sn_config *cfg, sn_pollshare_reply_cb *on_reply,
                               sn_pollshare_lost_cb *on_lost)
{
    sn_pollshare *ps = calloc(1, sizeof(*ps));

    if (ps == NULL)
        return NULL;
    ps->cfg = cfg;
    ps->on_reply = on_reply;
    ps->on_lost = on_lost;
    ps->rng = sn_rng_seed(ps);
    return ps;
}

void sn_pollshare_free(sn_pollshare *ps)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < ps->nlinks; i++) {
        sn_nblink_close(&ps->links[i].nb);
        free(ps->links[i].wait);
    }
    free(ps);
}

static ps_link *find_link(sn_pollshare *ps, const sn_hostport *hp)
{
    for (size_t i = 0; i < ps->nlinks; i++)
        if (ps->links[i].addr.port == hp->port && strcmp(ps->links[i].addr.host, hp->host) == 0)
            return &ps->links[i];
    if (ps->nlinks == SN_MAX_SENTINELS)
        return NULL;
    memset(&ps->links[ps->nlinks], 0, sizeof(ps_link));
    ps->links[ps->nlinks].addr = *hp;
    sn_nblink_init(&ps->links[ps->nlinks].nb);
    return &ps->links[ps->nlinks++];
}

/* The one teardown path of a link: every member waiting on it (and also,
 * when not NULL) is told once, after the link is reset (a member's lost
 * callback may queue elsewhere). */
static void link_drop(sn_pollshare *ps, ps_link *l, int auth_refused, const char *why, void *also,
                      int64_t now)
{
    size_t nwait = l->nwait;
    ps_wait *wait = l->wait;
    int64_t pause = PS_RECONNECT_MIN_MS;

    sn_nblink_close(&l->nb);
    l->connecting = 0;
    l->auth_pending = 0;
    l->failures++;
    for (int i = 1; i < l->failures && pause < PS_RECONNECT_MAX_MS; i++)
        pause *= 2;
    if (pause > PS_RECONNECT_MAX_MS)
        pause = PS_RECONNECT_MAX_MS;
    /* Jitter so that many hosts do not reconnect in step. */
    l->retry_at = now + pause / 2 + sn_backoff_ms(&ps->rng, 0, (int)(pause / 2), (int)(pause / 2));
    l->wait = NULL;
    l->nwait = l->cap = 0;
    for (size_t i = 0; also != NULL && i < nwait; i++)
        if (wait[i].member == also)
            also = NULL; /* told below */
    if (also != NULL)
        ps->on_lost(also, auth_refused, why, now);
    for (size_t i = 0; i < nwait; i++) {
        size_t k;

        if (wait[i].member == NULL)
            continue;
        for (k = 0; k < i && wait[k].member != wait[i].member; k++)
            ;
        if (k == i) /* once per member */
            ps->on_lost(wait[i].member, auth_refused, why, now);
    }
    free(wait);
}

/* Open l now; 0, or -1 (l stays closed, in backoff). */
static int link_open(sn_pollshare *ps, ps_link *l, int64_t now)
{
    sn_err e;
    int rc;

    if (sn_nblink_open_tls(&l->nb, l->addr.host, l->addr.port,
                           &ps->cfg->tls[SENTINEL_TLS_SENTINELS], &e) == -1) {
        link_drop(ps, l, 0, e.msg, NULL, now);
        return -1;
    }
    l->connecting = 1;
    l->deadline = now + ps->cfg->connect_ms;
    if ((rc = sn_nblink_queue_auth(&l->nb, &ps->cfg->sentinel_cred, &e)) == -1) {
        link_drop(ps, l, 0, e.msg, NULL, now);
        return -1;
    }
    l->auth_pending = rc == 1;
    return 0;
}

int sn_pollshare_query(sn_pollshare *ps, const sn_hostport *sentinel, void *member, int ncmds,
                       const int *argc, const char *const *const *argv, int64_t now)
{
    ps_link *l = find_link(ps, sentinel);
    int64_t due;
    sn_err e;

    if (l == NULL)
        return -1;
    if (l->nb.state == SN_NB_CLOSED) {
        /* In backoff after a failure: the member tries its next sentinel,
         * as its own poller would have. */
        if (now < l->retry_at || link_open(ps, l, now) == -1)
            return -1;
    }
    if (l->nwait + (size_t)ncmds > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        ps_wait *w;

        while (cap < l->nwait + (size_t)ncmds)
            cap *= 2;
        if ((w = realloc(l->wait, cap * sizeof(*w))) == NULL)
            return -1;
        l->wait = w;
        l->cap = cap;
    }
    due = now + ps->cfg->command_ms;
    if (l->connecting || l->auth_pending)
        due += ps->cfg->connect_ms + ps->cfg->command_ms;
    for (int i = 0; i < ncmds; i++) {
        if (sn_nblink_queue(&l->nb, argc[i], (const char **)argv[i], &e) == -1) {
            /* The caller fails this query. A command is queued whole or
             * not at all, and the ones queued before keep their places
             * (their replies are dropped): the stream stays in step, so
             * the others keep the link (a full output queue while it
             * connects must not fail every member waiting on it). */
            sn_pollshare_forget(ps, member);
            return -1;
        }
        l->wait[l->nwait].member = member;
        l->wait[l->nwait++].due = due;
    }
    return 0;
}

void sn_pollshare_forget(sn_pollshare *ps, const void *member)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < ps->nlinks; i++)
        for (size_t k = 0; k < ps->links[i].nwait; k++)
            if (ps->links[i].wait[k].member == member)
                ps->links[i].wait[k].member = NULL;
}

/* One reply on l: the AUTH answer, or the oldest query's. 0; -1: drop l
 * (e says why; *culprit: a member whose reply was not its own, told too);
 * -2: drop l, the AUTH was refused. */
static int link_reply(sn_pollshare *ps, ps_link *l, redisReply *r, sn_err *e, void **culprit,
                      int64_t now)
{
    void *m;

    if (l->auth_pending) {
        l->auth_pending = 0;
        if (r->type != REDIS_REPLY_ERROR)
            return 0;
        sn_err_auth_refused(e, r->str, &ps->cfg->sentinel_cred);
        return -2;
    }
    if (l->nwait == 0) /* nobody asked: the stream is out of step */
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                          "a reply nobody asked for (replies out of step)");
    m = l->wait[0].member;
    memmove(&l->wait[0], &l->wait[1], (l->nwait - 1) * sizeof(*l->wait));
    l->nwait--;
    l->failures = 0;
    if (m == NULL)
        return 0;
    switch (ps->on_reply(m, r, &l->addr, e, now)) {
    case -1:
        sn_pollshare_forget(ps, m); /* it gave up this query: drop its other replies */
        return 0;
    case -2:
        /* Not its reply: every later one would be a stranger's too. It is
         * told with the others (it may have no reply left to wait for). */
        *culprit = m;
        return -1;
    }
    return 0;
}

/* Hand out every reply read: bytes already buffered wake nobody again. Each
 * one answers the AUTH or a query, or drops the link (nobody asked): no more
 * than nwait + 2 are handled before the link is dropped. 0, or -1: l was
 * dropped. */
static int link_hand_out(sn_pollshare *ps, ps_link *l, int64_t now)
{
    size_t most = l->nwait + 2;
    redisReply *r;
    void *culprit = NULL;
    sn_err e;

    for (size_t i = 0; i < most; i++) {
        int rc = sn_nblink_reply(&l->nb, &r, &e);

        if (rc == -1) {
            link_drop(ps, l, 0, e.msg, NULL, now);
            return -1;
        }
        if (rc == 0)
            break;
        rc = link_reply(ps, l, r, &e, &culprit, now);
        freeReplyObject(r);
        if (rc < 0) {
            link_drop(ps, l, rc == -2, e.msg, culprit, now);
            return -1;
        }
        if (l->nb.state == SN_NB_CLOSED)
            return -1;
    }
    return 0;
}

static void link_step(sn_pollshare *ps, ps_link *l, int64_t now)
{
    sn_err e;

    if (l->nb.state == SN_NB_CLOSED)
        return;
    if (sn_nblink_io(&l->nb, &e) == -1) {
        int idle;

        /* The connect may have completed in this very call, with the
         * replies and the close behind it (a sentinel that answers at
         * once and hangs up): the link is open, its queries were sent. */
        if (l->connecting && l->nb.state == SN_NB_OPEN)
            l->connecting = 0;
        /* Complete replies read before the close (or error) are answers:
         * hand them out first, then fail the queries still waiting. */
        if (!l->connecting && link_hand_out(ps, l, now) == -1)
            return;
        /* Closed while idle, all it was asked answered (the sentinel or a
         * middlebox ended an idle connection): not a failure, so no
         * backoff; the next query reopens it at once. */
        idle = l->nwait == 0 && !l->connecting && !l->auth_pending;
        link_drop(ps, l, 0, e.msg, NULL, now);
        if (idle) {
            l->failures = 0;
            l->retry_at = now;
        }
        return;
    }
    if (l->connecting) {
        if (l->nb.state == SN_NB_CONNECTING) {
            if (now >= l->deadline) {
                const char *silent = sn_nblink_timeout_hint(&l->nb);
                link_drop(ps, l, 0, silent ? silent : "connect timed out", NULL, now);
            }
            return;
        }
        l->connecting = 0;
    }
    if (link_hand_out(ps, l, now) == -1)
        return;
    for (size_t k = 0; k < l->nwait; k++)
        if (now >= l->wait[k].due) {
            /* a frozen sentinel: every query on it is late */
            link_drop(ps, l, 0, "no reply in time", NULL, now);
            return;
        }
}

void sn_pollshare_step(sn_pollshare *ps, int64_t now)
{
    for (size_t i = 0; i < ps->nlinks; i++)
        link_step(ps, &ps->links[i], now);
}

int sn_pollshare_step_fd(sn_pollshare *ps, int fd, int64_t now)
{
    for (size_t i = 0; i < ps->nlinks; i++)
        if (ps->links[i].nb.state != SN_NB_CLOSED && ps->links[i].nb.h == fd) {
            link_step(ps, &ps->links[i], now);
            return 1;
        }
    return 0;
}

int sn_pollshare_wants(const sn_pollshare *ps, sn_fdwant *out, int max, int n)
{
    for (size_t i = 0; i < ps->nlinks; i++) {
        const sn_nblink *nb = &ps->links[i].nb;

        if (nb->state == SN_NB_CLOSED)
            continue;
        if (n < max) {
            out[n].fd = nb->h;
            out[n].events = sn_nblink_events(nb);
            out[n].gen = nb->gen;
        }
        n++;
    }
    return n;
}

int64_t sn_pollshare_due(const sn_pollshare *ps, int64_t due)
{
    for (size_t i = 0; i < ps->nlinks; i++) {
        const ps_link *l = &ps->links[i];

        if (l->nb.state == SN_NB_CLOSED)
            continue;
        if (l->connecting && l->deadline < due)
            due = l->deadline;
        for (size_t k = 0; k < l->nwait; k++)
            if (l->wait[k].due < due)
                due = l->wait[k].due;
    }
    return due;
}

int sn_pollshare_open_links(const sn_pollshare *ps)
{
    int n = 0;

    for (size_t i = 0; ps != NULL && i < ps->nlinks; i++)
        n += ps->links[i].nb.state != SN_NB_CLOSED;
    return n;
}
