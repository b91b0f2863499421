/*
 * The failover follower (include/sentinel/follow.h), written once for every
 * writer: the proxy, the PHP extension, the benchmarks.
 *
 * A watcher (watch.c) reports sentinel events and polled answers; this file
 * turns them into the follower's states and its epoch, probes candidates
 * with ROLE over a non-blocking link (link.c, through the transport seam),
 * and tells the host which descriptors to watch. Time comes from sn_now_ms()
 * (the clock seam), so unit tests script a failover to the millisecond.
 *
 * Past 800 lines (997): the state machine, its probe and the host
 * interface (fd registry, entry points, re-entrancy) share one private
 * struct; the host interface is the part to move out next. Follower
 * groups (shared links) are in follow_group.c, through sn_follow_enter()
 * / sn_follow_leave().
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sentinel/follow.h"

#define FOLLOW_DEFAULT_POLL_MS 1000
#define FOLLOW_DEFAULT_PROBE_EVERY_MS 10
#define FOLLOW_DEFAULT_PAUSE_MAX_MS 15000
#define FOLLOW_DEFAULT_FENCE_MS 60000
/* A probe that cannot connect is retried at once (Sentinel's CLIENT KILL at
 * the promotion closes our link), then with doubling pauses up to this. */
#define FOLLOW_PROBE_BACKOFF_MAX_MS 500
#define FOLLOW_MAX_FDS (SN_MAX_SENTINELS + 2)

struct sentinel_follow {
    sn_config cfg;
    sentinel_watch_t *w;
    sentinel_follow_group_t *group; /* its shared links, or NULL (follow_group.c) */

    sentinel_follow_state state;
    uint64_t epoch;
    int counted;          /* the epoch already moved for the failover under way */
    int have_master;      /* the master last verified (followed, or failed over) */
    sn_hostport master;
    int64_t verified_at;  /* wall ms */
    int have_cand;        /* the address to probe */
    sn_hostport cand;
    int verifying;        /* FOLLOWING: the candidate is the master, asked again
                             (sentinel_follow_verify()); no pause while it answers */
    int have_fence;       /* a master a failover started from */
    sn_hostport fence;
    int64_t fence_until;
    int64_t paused_since;

    /* The ROLE probe. */
    sn_nblink probe;
    sn_hostport probe_addr;
    int probe_busy;         /* ROLE sent, reply pending */
    int probe_auth_pending; /* AUTH sent, reply pending */
    int64_t probe_deadline;
    int64_t next_probe;
    int probe_failures;

    int poll_ms, probe_every_ms, pause_max_ms, fence_ms;

    sentinel_follow_state_cb state_cb;
    void *state_ud;
    sentinel_follow_socket_cb sock_cb;
    void *sock_ud;
    sentinel_event_cb event_cb;
    void *event_ud;

    sn_fdwant reg[FOLLOW_MAX_FDS]; /* what the socket callback was told */
    int nreg;

    int depth; /* > 0 inside an entry point: callbacks may be running */
    int recheck_pending; /* sentinel_follow_recheck() from inside a callback */
    int verify_pending;  /* sentinel_follow_verify() from inside a callback */
    int freed; /* sentinel_follow_free() was called inside a callback */
    int errcode; /* why there is no usable master; SENTINEL_OK while following */
    char err[SN_ERRSTR_MAX];
    sentinel_follow_stats st;
};

const char *sentinel_follow_state_name(int state)
{
    switch ((sentinel_follow_state)state) {
    case SENTINEL_FOLLOW_RESOLVING: return "resolving";
    case SENTINEL_FOLLOW_FOLLOWING: return "following";
    case SENTINEL_FOLLOW_PAUSED: return "paused";
    case SENTINEL_FOLLOW_PROBING: return "probing";
    }
    return "unknown";
}

static int same_hp(const sn_hostport *a, const sn_hostport *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static void hp_set(sn_hostport *hp, const char *host, int port)
{
    snprintf(hp->host, sizeof(hp->host), "%s", host ? host : "");
    hp->port = port;
}

static void to_addr(sentinel_addr *a, int have, const sn_hostport *hp, int64_t verified)
{
    memset(a, 0, sizeof(*a));
    if (!have)
        return;
    snprintf(a->host, sizeof(a->host), "%s", hp->host);
    a->port = hp->port;
    a->verified_at_ms = verified;
}

static int in_failover(const sentinel_follow_t *f)
{
    return f->state == SENTINEL_FOLLOW_PAUSED || f->state == SENTINEL_FOLLOW_PROBING;
}

/* ------------------------------------------------------------------------
 * Telling the host: descriptors and transitions
 * ------------------------------------------------------------------------ */

static int collect_fds(const sentinel_follow_t *f, sn_fdwant *want, int max)
{
    int n = sn_watch_wants(f->w, want, max);

    if (n > max)
        n = max;
    if (f->probe.state != SN_NB_CLOSED && n < max) {
        want[n].fd = f->probe.h;
        want[n].events = sn_nblink_events(&f->probe);
        want[n].gen = f->probe.gen;
        n++;
    }
    return n;
}

/* Diff what a host watches (reg) against what is wanted: removals first,
 * so a reused fd number gets REMOVE then ADD. *stop set by a callback (the
 * owner was freed) ends it at once. Shared by followers and groups. */
void sn_fdreg_sync(sn_fdwant *reg, int *nreg, const sn_fdwant *want, int n, sn_fdreg_cb *cb,
                   void *self, const int *stop)
{
    int i, j;

    for (i = 0; i < *nreg; i++) {
        for (j = 0; j < n; j++)
            if (want[j].fd == reg[i].fd && want[j].gen == reg[i].gen)
                break;
        if (j == n) {
            cb(self, reg[i].fd, SENTINEL_FOLLOW_FD_REMOVE, 0);
            if (*stop)
                return;
        }
    }
    for (j = 0; j < n; j++) {
        for (i = 0; i < *nreg; i++)
            if (want[j].fd == reg[i].fd && want[j].gen == reg[i].gen)
                break;
        if (i == *nreg)
            cb(self, want[j].fd, SENTINEL_FOLLOW_FD_ADD, want[j].events);
        else if (reg[i].events != want[j].events)
            cb(self, want[j].fd, SENTINEL_FOLLOW_FD_MODIFY, want[j].events);
        if (*stop)
            return;
    }
    for (j = 0; j < n; j++)
        reg[j] = want[j];
    *nreg = n;
}

static void follow_sock(void *self, int fd, int op, int events)
{
    sentinel_follow_t *f = self;

    f->sock_cb(f, fd, (sentinel_follow_fd_op)op, events, f->sock_ud);
}

/* Runs before every transition callback and at the end of every entry
 * point, so no host code runs between a close and its REMOVE. */
static void sync_fds(sentinel_follow_t *f)
{
    sn_fdwant want[FOLLOW_MAX_FDS];

    if (f->freed)
        return;
    if (f->group != NULL)
        sn_follow_group_sync(f->group); /* the shared links it hears through */
    if (f->sock_cb == NULL || f->freed)
        return;
    sn_fdreg_sync(f->reg, &f->nreg, want, collect_fds(f, want, FOLLOW_MAX_FDS), follow_sock, f,
                  &f->freed);
}

static void set_state(sentinel_follow_t *f, sentinel_follow_state st, const char *reason)
{
    sentinel_follow_transition t;
    sentinel_follow_state old = f->state;

    if (old == st)
        return;
    f->state = st;
    if (f->freed || f->state_cb == NULL)
        return;
    sync_fds(f);
    if (f->freed)
        return;
    memset(&t, 0, sizeof(t));
    t.old_state = old;
    t.new_state = st;
    t.epoch = f->epoch;
    to_addr(&t.master, f->have_master, &f->master,
            st == SENTINEL_FOLLOW_FOLLOWING ? f->verified_at : 0);
    to_addr(&t.candidate, st == SENTINEL_FOLLOW_PROBING && f->have_cand, &f->cand, 0);
    t.reason = reason;
    f->state_cb(f, &t, f->state_ud);
}

/* ------------------------------------------------------------------------
 * The ROLE probe
 * ------------------------------------------------------------------------ */

static void probe_close(sentinel_follow_t *f)
{
    sn_nblink_close(&f->probe);
    f->probe_busy = 0;
    f->probe_auth_pending = 0;
}

static void set_candidate(sentinel_follow_t *f, const sn_hostport *hp, int64_t now)
{
    if (f->have_cand && same_hp(&f->cand, hp))
        return;
    f->verifying = 0;
    f->cand = *hp;
    f->have_cand = 1;
    f->probe_failures = 0;
    f->next_probe = now;
    if (f->probe.state != SN_NB_CLOSED && !same_hp(&f->probe_addr, hp))
        probe_close(f);
}

static void clear_candidate(sentinel_follow_t *f)
{
    f->have_cand = 0;
    f->verifying = 0;
    f->probe_failures = 0;
    probe_close(f);
}

/* The master we follow did not pass sentinel_follow_verify()'s check:
 * stop writing until it (or whatever the sentinels name) answers master.
 * The candidate stays: it is asked again. */
static void verify_failed(sentinel_follow_t *f)
{
    if (!f->verifying || f->state != SENTINEL_FOLLOW_FOLLOWING)
        return;
    f->verifying = 0;
    set_state(f, SENTINEL_FOLLOW_RESOLVING, "master failed its check");
}

static void probe_failed(sentinel_follow_t *f, int code, const char *why, int64_t now)
{
    int64_t pause = f->probe_every_ms;

    probe_close(f);
    f->st.probe_failures++;
    f->errcode = code;
    snprintf(f->err, sizeof(f->err), "%s:%d: %s", f->cand.host, f->cand.port, why);
    verify_failed(f);
    if (f->probe_failures++ == 0) {
        pause = 0;
    } else {
        for (int i = 1; i < f->probe_failures && pause < FOLLOW_PROBE_BACKOFF_MAX_MS; i++)
            pause *= 2;
        if (pause > FOLLOW_PROBE_BACKOFF_MAX_MS)
            pause = FOLLOW_PROBE_BACKOFF_MAX_MS;
    }
    f->next_probe = now + pause;
}

static void probe_start(sentinel_follow_t *f, int64_t now)
{
    const char *role[] = {"ROLE"};
    sn_err e;

    f->probe_deadline = now + f->cfg.command_ms;
    if (f->probe.state == SN_NB_CLOSED) {
        int rc;

        if (sn_nblink_open_tls(&f->probe, f->cand.host, f->cand.port,
                               &f->cfg.tls[SENTINEL_TLS_DATA], &e) == -1) {
            probe_failed(f, e.code, e.msg, now);
            return;
        }
        f->probe_addr = f->cand;
        f->probe_deadline = now + f->cfg.connect_ms + f->cfg.command_ms;
        if ((rc = sn_nblink_queue_auth(&f->probe, &f->cfg.data_cred, &e)) == -1) {
            probe_failed(f, e.code, e.msg, now);
            return;
        }
        f->probe_auth_pending = rc;
    }
    if (sn_nblink_queue(&f->probe, 1, role, &e) == -1) {
        probe_failed(f, e.code, e.msg, now);
        return;
    }
    f->probe_busy = 1;
    f->st.probes++;
}

static void adopt_candidate(sentinel_follow_t *f, const char *reason, int64_t now);

/* One reply on the probe link; -1 when the link is finished with. */
static int probe_reply(sentinel_follow_t *f, redisReply *r, int64_t now)
{
    sn_role role = SN_ROLE_UNKNOWN;
    sn_err e;

    if (f->probe_auth_pending) {
        f->probe_auth_pending = 0;
        if (r->type == REDIS_REPLY_ERROR) {
            sn_err_auth_refused(&e, r->str, &f->cfg.data_cred);
            probe_failed(f, SENTINEL_ERR_AUTH, e.msg, now);
            return -1;
        }
        return 0;
    }
    if (!f->probe_busy) {
        probe_failed(f, SENTINEL_ERR_PROTOCOL, "unexpected reply", now);
        return -1;
    }
    f->probe_busy = 0;
    if (sn_parse_role(r, &role, &e) == 0 && role == SN_ROLE_MASTER) {
        adopt_candidate(f, "candidate answered ROLE master", now);
        return -1;
    }
    /* A replica says "slave" until it is promoted: ask again soon. */
    f->st.not_master++;
    f->probe_failures = 0;
    f->errcode = SENTINEL_ERR_NOT_MASTER;
    snprintf(f->err, sizeof(f->err), "%s:%d is not a master", f->cand.host, f->cand.port);
    f->next_probe = now + f->probe_every_ms;
    verify_failed(f);
    return 0;
}

static void probe_io(sentinel_follow_t *f, int64_t now)
{
    redisReply *r;
    sn_err e;

    if (f->probe.state == SN_NB_CLOSED)
        return;
    if (sn_nblink_io(&f->probe, &e) == -1) {
        if (f->probe_busy || f->probe_auth_pending)
            probe_failed(f, e.code, e.msg, now);
        else
            probe_close(f); /* an idle link the node closed */
        return;
    }
    for (int i = 0; i < 8 && f->probe.state != SN_NB_CLOSED; i++) {
        int rc = sn_nblink_reply(&f->probe, &r, &e);

        if (rc == -1) {
            probe_failed(f, e.code, e.msg, now);
            return;
        }
        if (rc == 0)
            return;
        rc = probe_reply(f, r, now);
        freeReplyObject(r);
        if (rc == -1)
            return;
    }
}

static void probe_step(sentinel_follow_t *f, int64_t now)
{
    if (!f->have_cand) {
        if (f->probe.state != SN_NB_CLOSED)
            probe_close(f);
        return;
    }
    if ((f->probe_busy || f->probe_auth_pending) && now >= f->probe_deadline) {
        /* Its answer may be waiting on the socket while the host handed us
         * another descriptor first (a loaded machine, a long batch): read
         * what is there (non-blocking) before calling it late. */
        probe_io(f, now);
        if (f->freed || !f->have_cand)
            return;
        if (f->probe_busy || f->probe_auth_pending) {
            const char *silent = sn_nblink_timeout_hint(&f->probe);
            probe_failed(f, SENTINEL_ERR_TIMEOUT, silent ? silent : "no ROLE reply in time", now);
            return;
        }
    }
    if (!f->probe_busy && now >= f->next_probe) {
        probe_start(f, now);
        probe_io(f, now);
    }
}

/* ------------------------------------------------------------------------
 * Transitions
 * ------------------------------------------------------------------------ */

static int fenced(const sentinel_follow_t *f, const sn_hostport *hp, int64_t now)
{
    return f->have_fence && now < f->fence_until && same_hp(&f->fence, hp);
}

/* The first event of a failover of our master: stop writing, move the
 * epoch, fence the old master. 1 when a failover is under way after it. */
static int begin_failover(sentinel_follow_t *f, const char *reason, int64_t now)
{
    if (!f->have_master) {
        f->st.ignored++; /* nothing was written anywhere yet */
        return 0;
    }
    if (f->counted) {
        if (f->state == SENTINEL_FOLLOW_FOLLOWING)
            return 0; /* cannot happen: counted is cleared on FOLLOWING */
        return 1;
    }
    f->epoch++;
    f->counted = 1;
    f->st.failovers++;
    f->fence = f->master;
    f->have_fence = 1;
    f->fence_until = now + f->fence_ms;
    f->paused_since = now;
    clear_candidate(f);
    set_state(f, SENTINEL_FOLLOW_PAUSED, reason);
    return 1;
}

static void probe_candidate(sentinel_follow_t *f, const sn_hostport *hp, const char *reason,
                            int64_t now)
{
    set_candidate(f, hp, now);
    if (f->state == SENTINEL_FOLLOW_PAUSED)
        set_state(f, SENTINEL_FOLLOW_PROBING, reason);
}

static void adopt_candidate(sentinel_follow_t *f, const char *reason, int64_t now)
{
    sentinel_follow_state old = f->state;
    int changed = !f->have_master || !same_hp(&f->master, &f->cand);

    (void)now;
    /* A master change nobody announced (events lost, polling only) is a
     * failover too: the writers' fence must move. */
    if (changed && f->have_master && !f->counted) {
        f->epoch++;
        f->st.failovers++;
    }
    f->master = f->cand;
    f->have_master = 1;
    f->verified_at = sn_wall_ms();
    f->counted = 0;
    f->have_cand = 0;
    f->verifying = 0;
    f->probe_failures = 0;
    f->errcode = SENTINEL_OK;
    f->err[0] = '\0';
    probe_close(f);
    sn_watch_follow(f->w, &f->master);
    if (old == SENTINEL_FOLLOW_PAUSED || old == SENTINEL_FOLLOW_PROBING)
        f->st.resumes++;
    set_state(f, SENTINEL_FOLLOW_FOLLOWING, reason);
}

static void on_switch(sentinel_follow_t *f, const sentinel_event *ev, int64_t now)
{
    sn_hostport hp;
    int from_poll = ev->detail && strcmp(ev->detail, SN_WATCH_POLL_DETAIL) == 0;

    hp_set(&hp, ev->host, ev->port);
    if (fenced(f, &hp, now)) {
        if (from_poll) {
            f->st.ignored++; /* sentinels still name the master we left */
            return;
        }
        f->have_fence = 0; /* a real +switch-master back to it */
    }
    if (f->have_master && same_hp(&f->master, &hp) && !in_failover(f)) {
        if (f->state == SENTINEL_FOLLOW_RESOLVING)
            set_candidate(f, &hp, now);
        return;
    }
    if (f->have_master && !same_hp(&f->master, &hp) && !in_failover(f) &&
        !begin_failover(f, ev->detail ? ev->detail : "switch", now))
        return;
    probe_candidate(f, &hp, ev->detail ? ev->detail : "switch", now);
}

static void on_event(const sentinel_event *ev, void *ud)
{
    sentinel_follow_t *f = ud;
    int64_t now = sn_now_ms();
    const char *why = ev->detail ? ev->detail : "event";
    sn_hostport hp;

    f->st.events++;
    if (f->event_cb && !f->freed) {
        sync_fds(f); /* a link the event is about may have closed */
        if (!f->freed)
            f->event_cb(ev, f->event_ud);
    }
    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        begin_failover(f, why, now);
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        if (ev->host == NULL)
            break;
        hp_set(&hp, ev->host, ev->port);
        if (begin_failover(f, why, now) || !f->have_master)
            probe_candidate(f, &hp, why, now);
        break;
    case SENTINEL_EVENT_SWITCHED:
        if (ev->host != NULL)
            on_switch(f, ev, now);
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        if (!in_failover(f) && !(f->state == SENTINEL_FOLLOW_RESOLVING && f->counted))
            break;
        if (ev->source_host == NULL) {
            /* The watcher gave up on a failover it never saw end: no
             * sentinel said "abort", so the fence stays and polling leads. */
            f->st.ignored++;
            if (in_failover(f))
                set_state(f, SENTINEL_FOLLOW_RESOLVING, why);
            break;
        }
        /* Carry on with the old master once it answers ROLE master. */
        f->st.aborts++;
        f->have_fence = 0;
        clear_candidate(f);
        set_candidate(f, &f->master, now);
        if (f->state == SENTINEL_FOLLOW_PAUSED)
            set_state(f, SENTINEL_FOLLOW_PROBING, why);
        break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED:
    case SENTINEL_EVENT_SENTINEL_DOWN:
    case SENTINEL_EVENT_SENTINEL_UP:
        break;
    }
}

/* Timers and the RESOLVING target, after every piece of work. */
static void follow_step(sentinel_follow_t *f, int64_t now)
{
    sentinel_addr cur;

    if (f->freed)
        return;
    if (in_failover(f) && now - f->paused_since >= f->pause_max_ms)
        set_state(f, SENTINEL_FOLLOW_RESOLVING, "no candidate answered ROLE master in time");
    if (f->state == SENTINEL_FOLLOW_RESOLVING && !f->have_cand &&
        sentinel_watch_current(f->w, &cur) == SENTINEL_OK && !sentinel_watch_in_failover(f->w)) {
        sn_hostport hp;

        hp_set(&hp, cur.host, cur.port);
        if (!fenced(f, &hp, now))
            set_candidate(f, &hp, now);
    }
    if (f->state == SENTINEL_FOLLOW_RESOLVING && !f->have_cand) {
        int code = sn_watch_poll_code(f->w);

        /* What the polls answered: the last failure, or for AUTH the
         * sentinels' refusal (no address: a host that logs each new text,
         * as the proxy does, logs it once, not once per sentinel). */
        const char *why = sn_watch_poll_why(f->w, code == SENTINEL_ERR_AUTH);

        if (code == SENTINEL_ERR_UNKNOWN_MASTER)
            snprintf(f->err, sizeof(f->err), "no sentinel knows master '%s'",
                     f->cfg.master_name);
        else if (code == SENTINEL_ERR_NO_SENTINEL_REACHABLE)
            snprintf(f->err, sizeof(f->err), "no sentinel answered (last poll: %.200s)",
                     why[0] ? why : "none yet");
        else if (code == SENTINEL_ERR_AUTH)
            snprintf(f->err, sizeof(f->err),
                     "the sentinels refused AUTH (check the sentinel credentials): %.200s",
                     why[0] ? why : "AUTH refused");
        if (code != SENTINEL_OK)
            f->errcode = code;
    }
    probe_step(f, now);
}

/* ------------------------------------------------------------------------
 * The public API
 * ------------------------------------------------------------------------ */

/* A follower with its own links (hub NULL), or a member of hub's group. */
sentinel_follow_t *sn_follow_create(const sentinel_t *s, sentinel_watch_t *hub,
                                    sentinel_follow_group_t *g, int *code)
{
    sentinel_follow_t *f;

    if (s == NULL || s->cfg.nsentinels == 0)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    if (sn_config_copy(&f->cfg, &s->cfg) == -1) {
        free(f);
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    }
    f->group = g;
    if ((f->w = hub ? sn_watch_new_member(hub, s, on_event, f, code)
                    : sentinel_watch_new(s, on_event, f, code)) == NULL) {
        sn_config_free(&f->cfg);
        free(f);
        return NULL;
    }
    sn_nblink_init(&f->probe);
    f->state = SENTINEL_FOLLOW_RESOLVING;
    f->poll_ms = FOLLOW_DEFAULT_POLL_MS;
    f->probe_every_ms = FOLLOW_DEFAULT_PROBE_EVERY_MS;
    f->pause_max_ms = FOLLOW_DEFAULT_PAUSE_MAX_MS;
    f->fence_ms = FOLLOW_DEFAULT_FENCE_MS;
    f->st.size = sizeof(f->st);
    if (code != NULL)
        *code = SENTINEL_OK;
    return f;
}

sentinel_follow_t *sentinel_follow_new(const sentinel_t *s, int *code)
{
    return sn_follow_create(s, NULL, NULL, code);
}

static void follow_destroy(sentinel_follow_t *f)
{
    sentinel_follow_group_t *g = f->group;

    probe_close(f);
    sentinel_watch_free(f->w); /* leaves the hub's members first */
    sn_config_free(&f->cfg);
    if (g)
        sn_follow_group_left(g, f); /* may free the group */
    free(f);
}

void sentinel_follow_free(sentinel_follow_t *f)
{
    if (f == NULL)
        return;
    if (f->depth > 0) {
        f->freed = 1; /* freed by the outermost call on its way out */
        return;
    }
    follow_destroy(f);
}

void sentinel_follow_set_state_cb(sentinel_follow_t *f, sentinel_follow_state_cb cb, void *ud)
{
    if (f == NULL)
        return;
    f->state_cb = cb;
    f->state_ud = ud;
}

void sentinel_follow_set_socket_cb(sentinel_follow_t *f, sentinel_follow_socket_cb cb, void *ud)
{
    if (f == NULL)
        return;
    f->sock_cb = cb;
    f->sock_ud = ud;
    f->nreg = 0; /* a new callback has been told nothing yet */
}

void sentinel_follow_set_event_cb(sentinel_follow_t *f, sentinel_event_cb cb, void *ud)
{
    if (f == NULL)
        return;
    f->event_cb = cb;
    f->event_ud = ud;
}

int sentinel_follow_set_timing(sentinel_follow_t *f, sentinel_follow_timing which, int ms)
{
    if (f == NULL || ms < 0 || ms > 3600000)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    switch (which) {
    case SENTINEL_FOLLOW_POLL_MS:
        f->poll_ms = ms ? ms : FOLLOW_DEFAULT_POLL_MS;
        return sentinel_watch_set_poll_interval(f->w, f->poll_ms);
    case SENTINEL_FOLLOW_PROBE_EVERY_MS:
        f->probe_every_ms = ms ? ms : FOLLOW_DEFAULT_PROBE_EVERY_MS;
        return SENTINEL_OK;
    case SENTINEL_FOLLOW_PAUSE_MAX_MS:
        f->pause_max_ms = ms ? ms : FOLLOW_DEFAULT_PAUSE_MAX_MS;
        return SENTINEL_OK;
    case SENTINEL_FOLLOW_FENCE_MS:
        f->fence_ms = ms ? ms : FOLLOW_DEFAULT_FENCE_MS;
        return SENTINEL_OK;
    }
    return SENTINEL_ERR_INVALID_ARGUMENT;
}

/* Every entry point that does work runs between enter() and leave(), which
 * return the call's code. */
static int enter(sentinel_follow_t *f)
{
    if (f == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (f->depth > 0 || f->freed) {
        snprintf(f->err, sizeof(f->err), "called from inside a follower callback");
        return SENTINEL_ERR_INVALID_ARGUMENT;
    }
    f->depth++;
    return SENTINEL_OK;
}

static void do_recheck(sentinel_follow_t *f);
static void do_verify(sentinel_follow_t *f);

static int leave(sentinel_follow_t *f, int rc)
{
    /* A recheck asked for inside a callback runs once the step is done. */
    if (f->recheck_pending && !f->freed) {
        f->recheck_pending = 0;
        f->verify_pending = 0;
        do_recheck(f);
    }
    if (f->verify_pending && !f->freed) {
        f->verify_pending = 0;
        do_verify(f);
    }
    sync_fds(f);
    f->depth--;
    if (f->freed) {
        follow_destroy(f);
        return SENTINEL_OK;
    }
    return rc;
}

/* The work for one descriptor; SENTINEL_ERR_INVALID_ARGUMENT when it is
 * not ours. */
static int do_fd(sentinel_follow_t *f, int fd)
{
    int64_t now = sn_now_ms();
    int rc = SENTINEL_OK;

    if (f->probe.state != SN_NB_CLOSED && f->probe.h == fd)
        probe_io(f, now);
    else if (!sn_watch_process_fd(f->w, fd))
        rc = SENTINEL_ERR_INVALID_ARGUMENT;
    follow_step(f, sn_now_ms());
    return rc;
}

/* For follow_group.c: a group step runs inside every member's
 * enter()/leave(), so each member's callbacks obey the rules above. */
int sn_follow_enter(sentinel_follow_t *f)
{
    return enter(f);
}

int sn_follow_leave(sentinel_follow_t *f)
{
    follow_step(f, sn_now_ms());
    return leave(f, 0);
}

int sn_follow_busy(const sentinel_follow_t *f)
{
    return f->depth > 0;
}

static void do_timeout(sentinel_follow_t *f)
{
    sentinel_watch_process(f->w);
    if (!f->freed)
        probe_io(f, sn_now_ms());
    follow_step(f, sn_now_ms());
}

int sentinel_follow_on_fd(sentinel_follow_t *f, int fd, int revents)
{
    int rc;

    (void)revents; /* a hint only: every link reads until it would block */
    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    return leave(f, do_fd(f, fd));
}

int sentinel_follow_on_timeout(sentinel_follow_t *f)
{
    int rc;

    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    do_timeout(f);
    return leave(f, SENTINEL_OK);
}

int sentinel_follow_timeout(sentinel_follow_t *f)
{
    int64_t now, due;
    int t;

    if (f == NULL)
        return 1000;
    now = sn_now_ms();
    t = sentinel_watch_timeout(f->w);
    due = now + t;
    if (f->have_cand) {
        int64_t p = (f->probe_busy || f->probe_auth_pending) ? f->probe_deadline : f->next_probe;
        if (p < due)
            due = p;
    }
    if (in_failover(f) && f->paused_since + f->pause_max_ms < due)
        due = f->paused_since + f->pause_max_ms;
    if (due <= now)
        return 0;
    return due - now > 60000 ? 60000 : (int)(due - now);
}

int sentinel_follow_fds(sentinel_follow_t *f, sentinel_watch_fd *fds, int max)
{
    sn_fdwant want[FOLLOW_MAX_FDS];
    int n;

    if (f == NULL)
        return 0;
    n = collect_fds(f, want, FOLLOW_MAX_FDS);
    for (int i = 0; i < n && i < max; i++) {
        fds[i].fd = want[i].fd;
        fds[i].events = want[i].events;
    }
    return n;
}

int sentinel_follow_run_once(sentinel_follow_t *f, int timeout_ms)
{
    sn_fdwant want[FOLLOW_MAX_FDS];
    struct pollfd pfd[FOLLOW_MAX_FDS];
    int n, t, rc;

    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    n = collect_fds(f, want, FOLLOW_MAX_FDS);
    for (int i = 0; i < n; i++) {
        pfd[i].fd = want[i].fd;
        pfd[i].events = want[i].events;
        pfd[i].revents = 0;
    }
    t = sentinel_follow_timeout(f);
    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    rc = poll(pfd, (nfds_t)n, t);
    if (rc == -1 && errno != EINTR) {
        snprintf(f->err, sizeof(f->err), "poll: %s", strerror(errno));
        return leave(f, SENTINEL_ERR_SYSTEM);
    }
    for (int i = 0; i < n && rc > 0 && !f->freed; i++)
        if (pfd[i].revents != 0)
            do_fd(f, pfd[i].fd);
    if (!f->freed && sentinel_follow_timeout(f) == 0)
        do_timeout(f);
    return leave(f, SENTINEL_OK);
}

static void do_recheck(sentinel_follow_t *f)
{
    int64_t now = sn_now_ms();

    if (f->state != SENTINEL_FOLLOW_FOLLOWING)
        return;
    set_candidate(f, &f->master, now);
    f->verifying = 0;
    set_state(f, SENTINEL_FOLLOW_RESOLVING, "master reported failing");
    follow_step(f, now);
}

static void do_verify(sentinel_follow_t *f)
{
    int64_t now = sn_now_ms();

    if (f->state != SENTINEL_FOLLOW_FOLLOWING || f->have_cand)
        return; /* not following, or a check is under way */
    set_candidate(f, &f->master, now);
    f->verifying = 1;
    follow_step(f, now);
}

int sentinel_follow_verify(sentinel_follow_t *f)
{
    int rc;

    if (f != NULL && f->depth > 0 && !f->freed) {
        f->verify_pending = 1; /* inside a callback: after the step */
        return SENTINEL_OK;
    }
    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    do_verify(f);
    return leave(f, SENTINEL_OK);
}

int sentinel_follow_recheck(sentinel_follow_t *f)
{
    int rc;

    if (f != NULL && f->depth > 0 && !f->freed) {
        f->recheck_pending = 1; /* inside a callback: after the step */
        return SENTINEL_OK;
    }
    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    do_recheck(f);
    return leave(f, SENTINEL_OK);
}

int sentinel_follow_assume_master(sentinel_follow_t *f, const sentinel_addr *addr, int *adopted)
{
    sn_hostport hp;
    int64_t now;
    int rc;

    if (adopted != NULL)
        *adopted = 0;
    if (addr == NULL || addr->host[0] == '\0' || addr->port <= 0 || addr->port > 65535)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if ((rc = enter(f)) != SENTINEL_OK)
        return rc;
    now = sn_now_ms();
    hp_set(&hp, addr->host, addr->port);
    if (f->state != SENTINEL_FOLLOW_RESOLVING || f->counted || fenced(f, &hp, now))
        return leave(f, SENTINEL_OK);
    f->cand = hp;
    f->have_cand = 1;
    adopt_candidate(f, "master verified by the host", now);
    if (adopted != NULL)
        *adopted = 1;
    return leave(f, SENTINEL_OK);
}

sentinel_follow_state sentinel_follow_get_state(const sentinel_follow_t *f)
{
    return f ? f->state : SENTINEL_FOLLOW_RESOLVING;
}

uint64_t sentinel_follow_epoch(const sentinel_follow_t *f)
{
    return f ? f->epoch : 0;
}

int sentinel_follow_master(const sentinel_follow_t *f, sentinel_addr *out)
{
    if (f == NULL || out == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (f->state != SENTINEL_FOLLOW_FOLLOWING)
        return SENTINEL_NO_ENTRY;
    to_addr(out, 1, &f->master, f->verified_at);
    return SENTINEL_OK;
}

int sentinel_follow_writable(const sentinel_follow_t *f, uint64_t epoch)
{
    return f != NULL && f->state == SENTINEL_FOLLOW_FOLLOWING && f->epoch == epoch;
}

int sentinel_follow_errcode(const sentinel_follow_t *f)
{
    if (f == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return f->state == SENTINEL_FOLLOW_FOLLOWING ? SENTINEL_OK : f->errcode;
}

const char *sentinel_follow_errstr(const sentinel_follow_t *f)
{
    return f ? f->err : "";
}

int sentinel_follow_get_stats(const sentinel_follow_t *f, sentinel_follow_stats *st)
{
    size_t size;

    if (f == NULL || st == NULL || st->size == 0)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    size = st->size < sizeof(f->st) ? st->size : sizeof(f->st);
    memcpy(st, &f->st, size);
    st->size = size;
    return SENTINEL_OK;
}
