/*
 * The libsentinel client ("ours/C"): the zero-loss write loop DESIGN.md's
 * feasibility note describes, built on the public API only.
 *
 *  - A watcher subscribes to every sentinel. The first failover event about
 *    the master we write to pauses writing (nothing more goes to it: every
 *    write the old master acknowledges after the promotion is lost).
 *  - The replica named by +selected-slave (or a switch) is probed with ROLE
 *    every 10 ms; writing resumes on it as soon as it answers "master",
 *    about a second before any sentinel serves the new address.
 *  - -failover-abort-* resumes on the old master.
 *  - A connection error or -READONLY goes to sentinel_report() and the next
 *    tick resolves again (sentinel_connect_master: resolve + ROLE on the very
 *    connection), with a short total deadline so the loop keeps reading
 *    events, and a backoff so an outage does not flood the sentinels.
 *  - The master whose failover started is fenced for a while: sentinels keep
 *    naming it for ~1 s after the promotion, and ROLE still says "master"
 *    until Sentinel demotes it, so a resolution then would lead straight
 *    back to it.
 *
 * One state per situation, one function per state (see oc_state_name()).
 */
#define _GNU_SOURCE
#include "writer.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sentinel/sentinel.h>

#define OC_PROBE_EVERY_US 10000      /* ROLE probes of the promotion candidate */
#define OC_PROBE_TIMEOUT_MS 100      /* one probe: connect + ROLE */
#define OC_PAUSE_MAX_US 15000000     /* give up waiting for the candidate: resolve */
#define OC_FENCE_US 60000000         /* how long a failed-over master is avoided */
#define OC_BACKOFF_MIN_US 10000      /* between failed resolutions ... */
#define OC_BACKOFF_MAX_US 200000     /* ... doubling up to this */
#define OC_RESOLVE_TOTAL_MS 500      /* one resolution, so events are read often */
#define OC_MAX_WATCH_FDS 32

typedef enum oc_state {
    OC_RESOLVING, /* no master: resolve through the sentinels (with backoff) */
    OC_WRITING,   /* connected to a master verified with ROLE */
    OC_PAUSED     /* a failover of our master is under way: wait for the candidate */
} oc_state;

typedef struct oc_addr {
    char host[SENTINEL_HOST_MAX];
    int port;
} oc_addr;

struct fo_client {
    sentinel_t *s;
    sentinel_watch_t *w;
    fo_log *log;
    oc_state state;

    redisContext *c; /* the master we write to; kept while paused, for an abort */
    oc_addr at;      /* its address */

    oc_addr candidate;
    int have_candidate;
    oc_addr fence; /* the master a failover started from */
    int64_t fence_until;

    int64_t paused_at, next_probe, next_resolve;
    int resolve_failures;
    struct timeval command_tv, probe_tv;

    uint64_t pauses, resumes, probes, aborts, resolve_errors;
};

static const char *oc_state_name(oc_state st)
{
    switch (st) {
    case OC_RESOLVING: return "resolving";
    case OC_WRITING: return "writing";
    case OC_PAUSED: return "paused";
    }
    return "?";
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static void addr_set(oc_addr *a, const char *host, int port)
{
    snprintf(a->host, sizeof(a->host), "%s", host ? host : "");
    a->port = port;
}

static int addr_is(const oc_addr *a, const char *host, int port)
{
    return a->port == port && host != NULL && strcmp(a->host, host) == 0;
}

static int fenced(const fo_client *c, const char *host, int port, int64_t now)
{
    return now < c->fence_until && addr_is(&c->fence, host, port);
}

static void set_state(fo_client *c, oc_state st, const char *why)
{
    if (c->state == st)
        return;
    fo_log_note(c->log, "state %s -> %s (%s)", oc_state_name(c->state), oc_state_name(st), why);
    c->state = st;
}

static void drop_master(fo_client *c)
{
    if (c->c)
        redisFree(c->c);
    c->c = NULL;
}

/* ========================================================================
 * Sentinel events
 * ======================================================================== */

static void pause_writes(fo_client *c, const char *why)
{
    sentinel_addr cur;
    int64_t now = fo_now_us();

    if (c->state == OC_PAUSED)
        return;
    /* What fails over is the master the sentinels named last. */
    if (sentinel_watch_current(c->w, &cur) == 0)
        addr_set(&c->fence, cur.host, cur.port);
    else
        c->fence = c->at;
    c->fence_until = now + OC_FENCE_US;
    c->paused_at = now;
    c->have_candidate = 0;
    c->pauses++;
    set_state(c, OC_PAUSED, why);
}

static void set_candidate(fo_client *c, const char *host, int port)
{
    addr_set(&c->candidate, host, port);
    c->have_candidate = 1;
    c->next_probe = 0; /* probe at the next tick */
}

static void on_event(const sentinel_event *ev, void *userdata)
{
    fo_client *c = userdata;

    fo_log_note(c->log, "event %d %s %s:%d from %s:%d", (int)ev->type,
                ev->detail ? ev->detail : "-", ev->host ? ev->host : "-", ev->port,
                ev->source_host ? ev->source_host : "-", ev->source_port);
    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        pause_writes(c, ev->detail ? ev->detail : "failover started");
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        pause_writes(c, "replica selected");
        set_candidate(c, ev->host, ev->port);
        break;
    case SENTINEL_EVENT_SWITCHED:
        /* Already resumed there: nothing to do. Otherwise verify it first. */
        if (c->state == OC_WRITING && addr_is(&c->at, ev->host, ev->port))
            break;
        pause_writes(c, "switched");
        set_candidate(c, ev->host, ev->port);
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        if (c->state != OC_PAUSED)
            break;
        c->aborts++;
        c->fence_until = 0;
        set_state(c, c->c ? OC_WRITING : OC_RESOLVING, "failover aborted");
        break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED:
    case SENTINEL_EVENT_SENTINEL_DOWN:
    case SENTINEL_EVENT_SENTINEL_UP:
        break;
    }
}

/* ========================================================================
 * States
 * ======================================================================== */

/* ROLE on the candidate; returns a connection to it when it is a master. */
static redisContext *probe_candidate(fo_client *c)
{
    redisContext *ctx;
    redisReply *r;
    int is_master;

    c->probes++;
    ctx = redisConnectWithTimeout(c->candidate.host, c->candidate.port, c->probe_tv);
    if (ctx == NULL)
        return NULL;
    if (ctx->err) {
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, c->probe_tv);
    r = redisCommand(ctx, "ROLE");
    is_master = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                r->element[0]->type == REDIS_REPLY_STRING &&
                strcmp(r->element[0]->str, "master") == 0;
    if (r)
        freeReplyObject(r);
    if (!is_master) {
        redisFree(ctx);
        return NULL;
    }
    return ctx;
}

static void step_paused(fo_client *c, int64_t now)
{
    redisContext *ctx;

    if (now - c->paused_at > OC_PAUSE_MAX_US) {
        drop_master(c);
        c->next_resolve = now;
        set_state(c, OC_RESOLVING, "no candidate answered master in time");
        return;
    }
    if (!c->have_candidate || now < c->next_probe)
        return;
    ctx = probe_candidate(c);
    if (ctx == NULL) {
        c->next_probe = fo_now_us() + OC_PROBE_EVERY_US;
        return;
    }
    drop_master(c);
    c->c = ctx;
    c->at = c->candidate;
    redisSetTimeout(c->c, c->command_tv);
    /* The cached answer still names the old master. */
    sentinel_invalidate(c->s);
    c->resumes++;
    fo_log_note(c->log, "resumed on %s:%d after %lld ms paused", c->at.host, c->at.port,
                (long long)((fo_now_us() - c->paused_at) / 1000));
    set_state(c, OC_WRITING, "candidate answered ROLE master");
}

static void step_resolving(fo_client *c, int64_t now, fo_outcome *out)
{
    redisContext *ctx;
    int64_t backoff;

    if (now < c->next_resolve)
        return;
    ctx = sentinel_connect_master(c->s);
    if (ctx != NULL && fenced(c, ctx->tcp.host, ctx->tcp.port, fo_now_us())) {
        /* Sentinels still name the master we left; wait for them. */
        redisFree(ctx);
        sentinel_invalidate(c->s);
        ctx = NULL;
        out->result = FO_IDLE;
    } else if (ctx == NULL) {
        c->resolve_errors++;
        fo_outcome_error(out, 0, 0, "resolve: %s: %s", sentinel_code_name(sentinel_errcode(c->s)),
                         sentinel_errstr(c->s));
    }
    if (ctx == NULL) {
        backoff = (int64_t)OC_BACKOFF_MIN_US << (c->resolve_failures < 8 ? c->resolve_failures : 8);
        if (backoff > OC_BACKOFF_MAX_US)
            backoff = OC_BACKOFF_MAX_US;
        c->resolve_failures++;
        c->next_resolve = fo_now_us() + backoff;
        return;
    }
    c->resolve_failures = 0;
    c->c = ctx;
    addr_set(&c->at, ctx->tcp.host, ctx->tcp.port);
    redisSetTimeout(c->c, c->command_tv);
    set_state(c, OC_WRITING, "resolved");
}

static void step_writing(fo_client *c, const char *key, fo_outcome *out)
{
    redisReply *r = redisCommand(c->c, "SET %s 1", key);

    if (r == NULL) {
        fo_outcome_error(out, 1, c->at.port, "SET: %s", c->c->errstr[0] ? c->c->errstr : "I/O error");
        sentinel_report(c->s, c->c, NULL);
        drop_master(c);
        c->next_resolve = 0;
        set_state(c, OC_RESOLVING, "connection error");
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fo_outcome_error(out, 1, c->at.port, "%s", r->str);
        if (sentinel_report(c->s, c->c, r)) {
            drop_master(c);
            c->next_resolve = 0;
            set_state(c, OC_RESOLVING, "error reply");
        }
    } else {
        out->result = FO_ACKED;
        out->sent = 1;
        out->port = c->at.port;
    }
    freeReplyObject(r);
}

/* ========================================================================
 * The client interface
 * ======================================================================== */

static fo_client *sentinel_client_create(const fo_options *opt, fo_log *log, char *err,
                                         size_t errlen)
{
    fo_client *c;

    if (opt->sentinels == NULL || opt->master == NULL) {
        snprintf(err, errlen, "--mode sentinel needs --sentinels and --master");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail_alloc;
    c->log = log;
    c->state = OC_RESOLVING;
    c->command_tv = ms_to_tv(opt->command_timeout_ms);
    c->probe_tv = ms_to_tv(OC_PROBE_TIMEOUT_MS);
    c->s = sentinel_new(opt->master);
    if (c->s == NULL)
        goto fail_alloc;
    if (sentinel_add_sentinels(c->s, opt->sentinels) != 0 ||
        sentinel_set_timeout(c->s, SENTINEL_TIMEOUT_CONNECT, opt->connect_timeout_ms) != 0 ||
        sentinel_set_timeout(c->s, SENTINEL_TIMEOUT_TOTAL, OC_RESOLVE_TOTAL_MS) != 0 ||
        /* One ROLE check per resolution: the loop retries, reading events in between. */
        sentinel_set_retry(c->s, 1, 10, 100) != 0) {
        snprintf(err, errlen, "sentinel options: %s", sentinel_errstr(c->s));
        goto fail;
    }
    c->w = sentinel_watch_new(c->s, on_event, c);
    if (c->w == NULL)
        goto fail_alloc;
    return c;

fail_alloc:
    snprintf(err, errlen, "out of memory");
fail:
    if (c) {
        sentinel_watch_free(c->w);
        sentinel_free(c->s);
        free(c);
    }
    return NULL;
}

static void sentinel_client_write(fo_client *c, const char *key, fo_outcome *out)
{
    int64_t now = fo_now_us();

    out->result = FO_IDLE;
    /* Read pending events first: a tick that runs late skips wait(). */
    sentinel_watch_process(c->w);
    if (c->state == OC_PAUSED)
        step_paused(c, now);
    if (c->state == OC_RESOLVING)
        step_resolving(c, now, out);
    if (c->state == OC_WRITING && out->result == FO_IDLE)
        step_writing(c, key, out);
}

static void sentinel_client_wait(fo_client *c, int64_t wait_us)
{
    sentinel_watch_fd wfds[OC_MAX_WATCH_FDS];
    struct pollfd pfds[OC_MAX_WATCH_FDS];
    struct timespec ts;
    int n, i, watch_ms;

    n = sentinel_watch_fds(c->w, wfds, OC_MAX_WATCH_FDS);
    if (n > OC_MAX_WATCH_FDS)
        n = OC_MAX_WATCH_FDS;
    for (i = 0; i < n; i++) {
        pfds[i].fd = wfds[i].fd;
        pfds[i].events = wfds[i].events;
        pfds[i].revents = 0;
    }
    watch_ms = sentinel_watch_timeout(c->w);
    if (watch_ms >= 0 && (int64_t)watch_ms * 1000 < wait_us)
        wait_us = (int64_t)watch_ms * 1000;
    ts.tv_sec = wait_us / 1000000;
    ts.tv_nsec = (wait_us % 1000000) * 1000;
    if (ppoll(pfds, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR)
        fo_sleep_us(wait_us);
    sentinel_watch_process(c->w);
}

static void sentinel_client_summary(fo_client *c, fo_log *log)
{
    sentinel_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (sentinel_get_stats(c->s, &st) == 0)
        fprintf(log->f, "# resolutions=%llu\n# sentinel_queries=%llu\n# role_checks=%llu\n",
                (unsigned long long)st.resolutions, (unsigned long long)st.sentinel_queries,
                (unsigned long long)st.role_checks);
    fprintf(log->f, "# pauses=%llu\n# resumes=%llu\n# probes=%llu\n# aborts=%llu\n"
                    "# resolve_errors=%llu\n",
            (unsigned long long)c->pauses, (unsigned long long)c->resumes,
            (unsigned long long)c->probes, (unsigned long long)c->aborts,
            (unsigned long long)c->resolve_errors);
}

static void sentinel_client_destroy(fo_client *c)
{
    if (c == NULL)
        return;
    drop_master(c);
    sentinel_watch_free(c->w);
    sentinel_free(c->s);
    free(c);
}

const fo_client_ops fo_sentinel_client = {
    .mode = "sentinel",
    .create = sentinel_client_create,
    .write = sentinel_client_write,
    .wait = sentinel_client_wait,
    .summary = sentinel_client_summary,
    .destroy = sentinel_client_destroy,
};
