/*
 * The libsentinel client ("ours/C"): the zero-loss write loop DESIGN.md's
 * feasibility note describes, on the library's failover follower
 * (sentinel/follow.h), so that this benchmark measures the code users run.
 *
 *  - The follower subscribes to every sentinel, pauses at the first failover
 *    event about the master, probes the announced replica with ROLE every
 *    10 ms and resumes on it as soon as it answers "master"; after
 *    -failover-abort-* it resumes on the old master; the master a failover
 *    started from is fenced from polled answers for a while.
 *  - This file only writes: one connection to the master the follower
 *    verified, opened under the follower's epoch. Before each SET it checks
 *    that the follower is FOLLOWING and the epoch has not moved
 *    (sentinel_follow_writable); when it moved, the connection is dropped
 *    unused: nothing more goes to the old master.
 *  - A connection error or -READONLY asks the follower to check the master
 *    again (sentinel_follow_recheck).
 *
 * The follower is driven through its pull interface: its fds are polled
 * (with microsecond precision) in wait(), and each write() drains it first.
 */
#define _GNU_SOURCE
#include "writer.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sentinel/follow.h>
#include <sentinel/sentinel.h>

#define OC_PROBE_EVERY_MS 10    /* ROLE probes of the promotion candidate */
#define OC_MAX_FDS 80           /* a link per sentinel, the poller, the probe */
#define OC_RESOLVE_REPORT_US 500000 /* resolving this long: say why, this often */

struct fo_client {
    sentinel_follow_t *f;
    fo_log *log;

    redisContext *c;  /* the master we write to */
    sentinel_addr at; /* its address */
    uint64_t epoch;   /* the follower's epoch when c was opened */
    struct timeval connect_tv, command_tv;

    int64_t paused_at;
    int64_t resolving_since, reported_at;
    uint64_t connects, rechecks, connect_errors;
};

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static void drop_master(fo_client *c)
{
    if (c->c)
        redisFree(c->c);
    c->c = NULL;
}

/* ========================================================================
 * What the follower tells us
 * ======================================================================== */

static void on_state(sentinel_follow_t *f, const sentinel_follow_transition *t, void *userdata)
{
    fo_client *c = userdata;
    int64_t now = fo_now_us();

    (void)f;
    fo_log_note(c->log, "state %s -> %s epoch %llu master %s:%d candidate %s:%d (%s)",
                sentinel_follow_state_name(t->old_state), sentinel_follow_state_name(t->new_state),
                (unsigned long long)t->epoch, t->master.host, t->master.port,
                t->candidate.host[0] ? t->candidate.host : "-", t->candidate.port,
                t->reason ? t->reason : "-");
    if (t->new_state == SENTINEL_FOLLOW_PAUSED || t->new_state == SENTINEL_FOLLOW_PROBING) {
        if (t->old_state == SENTINEL_FOLLOW_FOLLOWING || t->old_state == SENTINEL_FOLLOW_RESOLVING)
            c->paused_at = now;
    }
    c->resolving_since = t->new_state == SENTINEL_FOLLOW_RESOLVING ? now : 0;
    if (t->new_state == SENTINEL_FOLLOW_FOLLOWING && c->paused_at != 0) {
        fo_log_note(c->log, "resumed on %s:%d after %lld ms paused", t->master.host,
                    t->master.port, (long long)((now - c->paused_at) / 1000));
        c->paused_at = 0;
    }
}

static void on_event(const sentinel_event *ev, void *userdata)
{
    fo_client *c = userdata;

    fo_log_note(c->log, "event %d %s %s:%d from %s:%d", (int)ev->type,
                ev->detail ? ev->detail : "-", ev->host ? ev->host : "-", ev->port,
                ev->source_host ? ev->source_host : "-", ev->source_port);
}

/* ========================================================================
 * Writing
 * ======================================================================== */

/* A connection to the verified master, opened under the current epoch. */
static int ensure_master(fo_client *c, fo_outcome *out)
{
    sentinel_addr m;
    uint64_t epoch = sentinel_follow_epoch(c->f);

    if (c->c != NULL && c->epoch == epoch)
        return 0;
    drop_master(c); /* the epoch moved: never write there again */
    if (sentinel_follow_master(c->f, &m) != 0)
        return -1;
    c->connects++;
    c->c = redisConnectWithTimeout(m.host, m.port, c->connect_tv);
    if (c->c == NULL || c->c->err) {
        c->connect_errors++;
        fo_outcome_error(out, 0, m.port, "connect %s:%d: %s", m.host, m.port,
                         c->c ? c->c->errstr : "out of memory");
        drop_master(c);
        c->rechecks++;
        sentinel_follow_recheck(c->f);
        return -1;
    }
    redisSetTimeout(c->c, c->command_tv);
    c->at = m;
    c->epoch = epoch;
    return 0;
}

static void write_once(fo_client *c, const char *key, fo_outcome *out)
{
    redisReply *r = redisCommand(c->c, "SET %s 1", key);

    if (r == NULL) {
        fo_outcome_error(out, 1, c->at.port, "SET: %s", c->c->errstr[0] ? c->c->errstr : "I/O error");
        drop_master(c);
        c->rechecks++;
        sentinel_follow_recheck(c->f);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fo_outcome_error(out, 1, c->at.port, "%s", r->str);
        if (strncmp(r->str, "READONLY", 8) == 0 || strncmp(r->str, "MASTERDOWN", 10) == 0) {
            drop_master(c);
            c->rechecks++;
            sentinel_follow_recheck(c->f);
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
    sentinel_t *s = NULL;

    if (opt->sentinels == NULL || opt->master == NULL) {
        snprintf(err, errlen, "--mode sentinel needs --sentinels and --master");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail_alloc;
    c->log = log;
    c->connect_tv = ms_to_tv(opt->connect_timeout_ms);
    c->command_tv = ms_to_tv(opt->command_timeout_ms);
    s = sentinel_new(opt->master, NULL);
    if (s == NULL)
        goto fail_alloc;
    /* The follower's probes and sentinel queries use the handle's connect
     * and command timeouts: the library's defaults (250 ms each), which the
     * PHP extension uses too, so both paths follow with the same timeouts. */
    if (sentinel_add_sentinels(s, opt->sentinels) != 0) {
        snprintf(err, errlen, "sentinel options: %s", sentinel_errstr(s));
        goto fail;
    }
    c->f = sentinel_follow_new(s, NULL);
    if (c->f == NULL)
        goto fail_alloc;
    sentinel_free(s);
    s = NULL;
    sentinel_follow_set_state_cb(c->f, on_state, c);
    sentinel_follow_set_event_cb(c->f, on_event, c);
    sentinel_follow_set_timing(c->f, SENTINEL_FOLLOW_PROBE_EVERY_MS, OC_PROBE_EVERY_MS);
    return c;

fail_alloc:
    snprintf(err, errlen, "out of memory");
fail:
    sentinel_free(s);
    if (c) {
        sentinel_follow_free(c->f);
        free(c);
    }
    return NULL;
}

static void sentinel_client_write(fo_client *c, const char *key, fo_outcome *out)
{
    out->result = FO_IDLE;
    /* Read pending events first: a tick that runs late skips wait(). */
    sentinel_follow_run_once(c->f, 0);
    if (sentinel_follow_get_state(c->f) != SENTINEL_FOLLOW_FOLLOWING) {
        int64_t now = fo_now_us();
        int code = sentinel_follow_errcode(c->f);

        if (c->c != NULL && !sentinel_follow_writable(c->f, c->epoch))
            drop_master(c);
        /* Paused or probing is a failover going as planned; resolving
         * without success for a while is an error the caller sees. */
        if (sentinel_follow_get_state(c->f) == SENTINEL_FOLLOW_RESOLVING && code != SENTINEL_OK &&
            c->resolving_since == 0)
            c->resolving_since = now; /* never verified anything yet */
        /* A wrong name or wrong credentials will not fix themselves: say so
         * at once; anything else may be an outage being recovered from. */
        if (c->resolving_since != 0 && code != SENTINEL_OK &&
            (code == SENTINEL_ERR_UNKNOWN_MASTER || code == SENTINEL_ERR_AUTH ||
             now - c->resolving_since >= OC_RESOLVE_REPORT_US) &&
            (c->reported_at == 0 || now - c->reported_at >= OC_RESOLVE_REPORT_US)) {
            c->reported_at = now;
            fo_outcome_error(out, 0, 0, "follow: %s: %s", sentinel_code_name(code),
                             sentinel_follow_errstr(c->f));
        }
        return; /* nothing goes out */
    }
    if (ensure_master(c, out) != 0)
        return;
    /* The fence: the epoch this connection was opened under still holds. */
    if (!sentinel_follow_writable(c->f, c->epoch))
        return;
    write_once(c, key, out);
}

static void sentinel_client_wait(fo_client *c, int64_t wait_us)
{
    sentinel_watch_fd fds[OC_MAX_FDS];
    struct pollfd pfds[OC_MAX_FDS];
    struct timespec ts;
    int n, rc, t;

    n = sentinel_follow_fds(c->f, fds, OC_MAX_FDS);
    if (n > OC_MAX_FDS)
        n = OC_MAX_FDS;
    for (int i = 0; i < n; i++) {
        pfds[i].fd = fds[i].fd;
        pfds[i].events = fds[i].events;
        pfds[i].revents = 0;
    }
    t = sentinel_follow_timeout(c->f);
    if ((int64_t)t * 1000 < wait_us)
        wait_us = (int64_t)t * 1000;
    ts.tv_sec = wait_us / 1000000;
    ts.tv_nsec = (wait_us % 1000000) * 1000;
    rc = ppoll(pfds, (nfds_t)n, &ts, NULL);
    if (rc < 0 && errno != EINTR)
        fo_sleep_us(wait_us);
    for (int i = 0; i < n && rc > 0; i++)
        if (pfds[i].revents != 0)
            sentinel_follow_on_fd(c->f, pfds[i].fd, pfds[i].revents);
    if (sentinel_follow_timeout(c->f) == 0)
        sentinel_follow_on_timeout(c->f);
}

static void sentinel_client_summary(fo_client *c, fo_log *log)
{
    sentinel_follow_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (sentinel_follow_get_stats(c->f, &st) == 0)
        fprintf(log->f,
                "# pauses=%llu\n# resumes=%llu\n# probes=%llu\n# probe_failures=%llu\n"
                "# aborts=%llu\n# events=%llu\n# ignored=%llu\n",
                (unsigned long long)st.failovers, (unsigned long long)st.resumes,
                (unsigned long long)st.probes, (unsigned long long)st.probe_failures,
                (unsigned long long)st.aborts, (unsigned long long)st.events,
                (unsigned long long)st.ignored);
    fprintf(log->f, "# connects=%llu\n# rechecks=%llu\n# connect_errors=%llu\n",
            (unsigned long long)c->connects, (unsigned long long)c->rechecks,
            (unsigned long long)c->connect_errors);
}

static void sentinel_client_destroy(fo_client *c)
{
    if (c == NULL)
        return;
    drop_master(c);
    sentinel_follow_free(c->f);
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
