/*
 * Master resolution, following the Redis "sentinel clients" guidelines:
 *
 *   1. ask the sentinels in order, each with a short timeout; the first that
 *      answers moves to the head of the list; a null reply (unknown name)
 *      moves on to the next sentinel;
 *   2. verify the address with ROLE before trusting it;
 *   3. if it is not (yet) a master, back off (exponential, full jitter) and
 *      start again, within a bounded number of tries and a total deadline.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------
 * Asking the sentinels
 * ------------------------------------------------------------------------ */

/* Tally of why sentinels failed, to pick the one error the caller sees. */
typedef struct failures {
    int auth, tls, unknown, protocol, timeout, unresolved, unreachable;
    char detail[SN_ERRSTR_MAX];
    size_t len;
} failures;

static void note_failure(failures *f, const sn_hostport *hp, const sn_err *e)
{
    int n;

    switch (e->code) {
    case SENTINEL_ERR_AUTH: f->auth++; break;
    case SENTINEL_ERR_TLS: f->tls++; break;
    case SENTINEL_ERR_UNKNOWN_MASTER: f->unknown++; break;
    case SENTINEL_ERR_PROTOCOL: f->protocol++; break;
    case SENTINEL_ERR_TIMEOUT: f->timeout++; break;
    case SENTINEL_ERR_HOST_UNRESOLVED: f->unresolved++; break;
    default: f->unreachable++; break;
    }
    if (f->len >= sizeof(f->detail) - 1)
        return;
    n = snprintf(f->detail + f->len, sizeof(f->detail) - f->len, "%s%s:%d: %s",
                 f->len ? "; " : "", hp->host, hp->port, e->msg);
    if (n > 0)
        f->len += (size_t)n;
}

/* The most useful single error: a configuration problem first (credentials,
 * name), then what the network did. */
static int pick_failure(const failures *f, const char *name, sn_err *e)
{
    int code;

    if (f->auth)
        code = SENTINEL_ERR_AUTH;
    else if (f->tls)
        code = SENTINEL_ERR_TLS;
    else if (f->unknown)
        code = SENTINEL_ERR_UNKNOWN_MASTER;
    else if (f->protocol)
        code = SENTINEL_ERR_PROTOCOL;
    else if (f->timeout)
        code = SENTINEL_ERR_TIMEOUT;
    else if (f->unresolved && !f->unreachable)
        code = SENTINEL_ERR_HOST_UNRESOLVED;
    else
        code = SENTINEL_ERR_NO_SENTINEL_REACHABLE;
    return sn_err_set(e, code, "master '%s': %s", name, f->detail);
}

struct discover_ctx {
    sentinel_t *s;
};

static void add_discovered(const sn_hostport *hp, void *ud)
{
    struct discover_ctx *ctx = ud;
    sn_hostport mapped = *hp;
    sn_err ignored;

    sn_config_map(&ctx->s->cfg, &mapped);
    sn_config_add_sentinel(&ctx->s->cfg, mapped.host, mapped.port, &ignored);
}

/* Ask one sentinel. 0: address in *hp; 1: it does not know the name;
 * -1: failed, reason in e. Learns other sentinels on the same connection. */
static int query_sentinel(sentinel_t *s, const sn_hostport *sent, int64_t deadline,
                          int discover, sn_hostport *hp, sn_err *e)
{
    const sn_config *c = &s->cfg;
    const char *get[] = {"SENTINEL", "get-master-addr-by-name", c->master_name};
    const char *list[] = {"SENTINEL", "sentinels", c->master_name};
    sn_link l;
    redisReply *r;
    int rc = -1;

    if (sn_link_open_tls(&l, sent->host, sent->port, c->connect_ms, c->command_ms, deadline,
                         &c->tls[SENTINEL_TLS_SENTINELS], e) == -1)
        return -1;
    if (sn_link_auth(&l, &c->sentinel_cred, deadline, e) == -1)
        goto out;
    s->stats.sentinel_queries++;
    if ((r = sn_link_command(&l, deadline, e, 3, get)) == NULL)
        goto out;
    rc = sn_parse_master_addr(r, hp, e);
    freeReplyObject(r);
    if (rc == 1)
        sn_err_set(e, SENTINEL_ERR_UNKNOWN_MASTER, "does not know '%s'", c->master_name);
    if (rc != 0 || !discover)
        goto out;
    /* Discovery is best effort: the answer above stands even if this fails. */
    s->stats.sentinel_queries++;
    if ((r = sn_link_command(&l, deadline, e, 3, list)) != NULL) {
        struct discover_ctx ctx = {s};
        sn_parse_sentinels(r, add_discovered, &ctx, e);
        freeReplyObject(r);
    }
    sn_err_clear(e);
out:
    sn_link_close(&l);
    return rc;
}

/* The sentinel that answered goes to the head; the others keep their order. */
static void promote_sentinel(sn_config *c, size_t i)
{
    sn_hostport hp;

    if (i == 0)
        return;
    hp = c->sentinels[i];
    memmove(&c->sentinels[1], &c->sentinels[0], i * sizeof(hp));
    c->sentinels[0] = hp;
}

typedef struct vote {
    sn_hostport addr;
    int count;
    size_t first; /* index of the first sentinel that said so */
} vote;

/* Step 1 of the guidelines, with an optional quorum of k agreeing sentinels. */
static int ask_sentinels(sentinel_t *s, int64_t deadline, sn_hostport *out, sn_err *e)
{
    sn_config *c = &s->cfg;
    failures f;
    vote votes[SN_MAX_SENTINELS];
    size_t nvotes = 0, answered = 0;
    /* Discovery rides on the first answering sentinel, at most once per
     * interval: the list changes rarely, a cold resolution is frequent. */
    int discovered = !c->discovery || (s->discovered_at_ms != 0 &&
                                       sn_now_ms() - s->discovered_at_ms < SN_DISCOVERY_INTERVAL_MS);

    memset(&f, 0, sizeof(f));
    /* c->nsentinels may grow during the loop as sentinels are discovered. */
    for (size_t i = 0; i < c->nsentinels; i++) {
        sn_hostport sent = c->sentinels[i], hp;
        sn_err qe;
        int rc;

        if (sn_now_ms() >= deadline) {
            sn_err_set(&qe, SENTINEL_ERR_TIMEOUT, "total deadline passed before asking");
            note_failure(&f, &sent, &qe);
            break;
        }
        sn_err_clear(&qe);
        rc = query_sentinel(s, &sent, deadline, !discovered, &hp, &qe);
        if (rc != 0) {
            s->stats.sentinel_failures++;
            note_failure(&f, &sent, &qe);
            continue;
        }
        if (!discovered)
            s->discovered_at_ms = sn_now_ms();
        discovered = 1;
        answered++;
        sn_config_map(c, &hp);
        if (c->quorum <= 1) {
            promote_sentinel(c, i);
            *out = hp;
            return 0;
        }
        size_t v;
        for (v = 0; v < nvotes; v++)
            if (votes[v].addr.port == hp.port && strcmp(votes[v].addr.host, hp.host) == 0)
                break;
        if (v == nvotes) {
            votes[nvotes].addr = hp;
            votes[nvotes].count = 0;
            votes[nvotes].first = i;
            nvotes++;
        }
        if (++votes[v].count >= c->quorum) {
            promote_sentinel(c, votes[v].first);
            *out = hp;
            return 0;
        }
    }
    if (answered > 0 && c->quorum > 1)
        return sn_err_set(e, SENTINEL_ERR_NO_QUORUM,
                          "%zu sentinel(s) answered for '%s' but fewer than %d agree",
                          answered, c->master_name, c->quorum);
    return pick_failure(&f, c->master_name, e);
}

/* ------------------------------------------------------------------------
 * Verifying with ROLE
 * ------------------------------------------------------------------------ */

/* Connect to hp with the data node options, AUTH and ask ROLE: 0 with l
 * still open and *role set, or -1 with l closed and e set. */
static int role_on_link(sn_link *l, const sn_config *c, const sn_hostport *hp, int64_t deadline,
                        sn_role *role, sn_err *e)
{
    const char *argv[] = {"ROLE"};
    redisReply *r;
    int rc;

    if (sn_link_open_tls(l, hp->host, hp->port, c->connect_ms, c->command_ms, deadline,
                         &c->tls[SENTINEL_TLS_DATA], e) == -1) {
        if (e->code != SENTINEL_ERR_HOST_UNRESOLVED && e->code != SENTINEL_ERR_TIMEOUT &&
            e->code != SENTINEL_ERR_TLS)
            e->code = SENTINEL_ERR_MASTER_UNREACHABLE;
        return -1;
    }
    if (sn_link_auth(l, &c->data_cred, deadline, e) == -1 ||
        (r = sn_link_command(l, deadline, e, 1, argv)) == NULL) {
        sn_link_close(l);
        return -1;
    }
    rc = sn_parse_role(r, role, e);
    freeReplyObject(r);
    if (rc == -1)
        sn_link_close(l);
    return rc;
}

int sn_check_role(const sn_config *c, const sn_hostport *hp, int64_t deadline, sn_role *role,
                  sn_err *e)
{
    sn_link l;

    if (role_on_link(&l, c, hp, deadline, role, e) == -1)
        return -1;
    sn_link_close(&l);
    return 0;
}

/* Errors worth another round: the topology may be mid-failover. */
static int retryable(int code)
{
    return code == SENTINEL_ERR_NO_SENTINEL_REACHABLE || code == SENTINEL_ERR_TIMEOUT ||
           code == SENTINEL_ERR_NOT_MASTER || code == SENTINEL_ERR_MASTER_UNREACHABLE;
}

/* No sentinel answered: keep the last good answer if it still says master
 * (spiped's habit of keeping old addresses when a refresh fails). Only after
 * the sentinels failed, never instead of asking them. */
static int serve_last_known(sentinel_t *s, int64_t deadline, sentinel_addr *out)
{
    sn_hostport hp;
    sn_role role = SN_ROLE_UNKNOWN;
    sn_err e;

    if (s->last_good.port == 0 || !s->cfg.verify)
        return -1;
    snprintf(hp.host, sizeof(hp.host), "%s", s->last_good.host);
    hp.port = s->last_good.port;
    s->stats.role_checks++;
    if (sn_check_role(&s->cfg, &hp, deadline, &role, &e) == -1 || role != SN_ROLE_MASTER)
        return -1;
    *out = s->last_good;
    out->verified_at_ms = sn_wall_ms();
    s->stats.last_known_served++;
    s->served_last_known = 1;
    return 0;
}

/*
 * While no sentinel has answered at all (every one refuses, is unreachable
 * or hangs), retrying for the whole total deadline only makes the caller
 * wait -- a PHP request, a proxy client -- for an answer that is not coming:
 * such a call gets SN_QUIET_ROUNDS rounds, the second one cut SN_QUIET_MS
 * after the start, then its error: with the default timeouts and three
 * sentinels, under a second whether they refuse (a few ms) or hang (three
 * command timeouts, 750 ms, then what is left). The first round is not cut:
 * a sentinel late in a long list may still answer. Once any sentinel
 * answered, the usual tries and deadline apply (the topology may be
 * mid-failover).
 */
#define SN_QUIET_ROUNDS 2
#define SN_QUIET_MS 900

static int sentinels_silent(int code)
{
    return code == SENTINEL_ERR_NO_SENTINEL_REACHABLE || code == SENTINEL_ERR_TIMEOUT;
}

int sn_resolve_uncached(sentinel_t *s, sentinel_addr *out)
{
    const sn_config *c = &s->cfg;
    int64_t start = sn_now_ms(), deadline = start + c->total_ms;
    int64_t quiet_deadline = start + (c->total_ms < SN_QUIET_MS ? c->total_ms : SN_QUIET_MS);
    sn_err *e = &s->err;
    sn_err done; /* the failure of the last round that ran to its end */
    int attempt, heard = 0, have_done = 0;

    for (attempt = 0;; attempt++) {
        sn_hostport hp;
        sn_role role = SN_ROLE_UNKNOWN;
        int64_t pause, ask_deadline = heard || attempt == 0 ? deadline : quiet_deadline;
        int asked;

        sn_err_clear(e);
        asked = ask_sentinels(s, ask_deadline, &hp, e);
        if (asked == 0 || !sentinels_silent(e->code))
            heard = 1;
        if (asked == 0) {
            if (!c->verify) {
                snprintf(out->host, sizeof(out->host), "%s", hp.host);
                out->port = hp.port;
                out->verified_at_ms = 0;
                return SENTINEL_OK;
            }
            s->stats.role_checks++;
            if (sn_check_role(c, &hp, deadline, &role, e) == 0) {
                if (role == SN_ROLE_MASTER) {
                    snprintf(out->host, sizeof(out->host), "%s", hp.host);
                    out->port = hp.port;
                    out->verified_at_ms = sn_wall_ms();
                    return SENTINEL_OK;
                }
                sn_err_set(e, SENTINEL_ERR_NOT_MASTER, "sentinels name %s:%d but ROLE says %s",
                           hp.host, hp.port,
                           role == SN_ROLE_REPLICA ? "replica" : "sentinel");
            } else if (e->code != SENTINEL_ERR_AUTH) {
                /* A dead or hung master the sentinels have not replaced yet
                 * (retried), or a name that does not resolve (not). */
                char msg[SN_ERRSTR_MAX];
                int code = e->code;
                if (code != SENTINEL_ERR_PROTOCOL && code != SENTINEL_ERR_TIMEOUT &&
                    code != SENTINEL_ERR_HOST_UNRESOLVED && code != SENTINEL_ERR_TLS)
                    code = SENTINEL_ERR_MASTER_UNREACHABLE;
                snprintf(msg, sizeof(msg), "%s", e->msg);
                sn_err_set(e, code, "master %s:%d named by sentinels: %s", hp.host, hp.port, msg);
            }
        }
        if ((e->code == SENTINEL_ERR_NO_SENTINEL_REACHABLE || e->code == SENTINEL_ERR_TIMEOUT) &&
            serve_last_known(s, deadline, out) == 0)
            return SENTINEL_OK;
        if (e->code == SENTINEL_ERR_TIMEOUT && have_done && done.code != SENTINEL_ERR_TIMEOUT &&
            (sn_now_ms() >= deadline || (asked != 0 && sn_now_ms() >= ask_deadline))) {
            /* The deadline cut this round short: what it saw is no answer.
             * Report the last round that ran to its end (a replica, a
             * refusing sentinel), which says why we kept trying; the
             * checks below add that time ran out. */
            *e = done;
        } else {
            done = *e;
            have_done = 1;
        }
        if (!retryable(e->code) || attempt + 1 >= c->tries)
            return e->code;
        pause = sn_backoff_ms(&s->rng, attempt, c->backoff_base_ms, c->backoff_max_ms);
        if (!heard && (attempt + 1 >= SN_QUIET_ROUNDS || sn_now_ms() + pause >= quiet_deadline)) {
            size_t n = strlen(e->msg);
            snprintf(e->msg + n, sizeof(e->msg) - n,
                     " (no sentinel answered: gave up after %d rounds in %lld ms)", attempt + 1,
                     (long long)(sn_now_ms() - start));
            return e->code;
        }
        if (sn_now_ms() + pause >= deadline) {
            /* Keep the class of the last failure; say that time ran out. */
            size_t n = strlen(e->msg);
            snprintf(e->msg + n, sizeof(e->msg) - n, " (gave up after %d tries in %lld ms)",
                     attempt + 1, (long long)(sn_now_ms() - start));
            return e->code;
        }
        sn_sleep_ms(pause);
    }
}

/* ------------------------------------------------------------------------
 * The public calls
 * ------------------------------------------------------------------------ */

/* Handles share a resolution only if it would have been the same one: same
 * master and seeds (s->flight_key), and the same options that shape the
 * answer (verification, quorum, address map) and the same credentials, for
 * the sentinels as for the data nodes: a handle must never be handed an
 * answer its own credentials were not checked for, nor another handle's
 * AUTH error. The credentials enter the key only as a hash. */
static char *flight_key(const sentinel_t *s)
{
    const sn_config *c = &s->cfg;
    uint64_t h = 1469598103934665603ULL;
    size_t len = strlen(s->flight_key) + 64;
    char *k;

#define MIX(p, n)                                                   \
    for (size_t i_ = 0; i_ < (n); i_++)                             \
        h = (h ^ ((const unsigned char *)(p))[i_]) * 1099511628211ULL
    MIX(c->maps, c->nmaps * sizeof(c->maps[0]));
    /* A marker per field, so that ("ab", NULL) and ("a", "b") differ. */
    MIX("S", 1);
    if (c->sentinel_cred.user)
        MIX(c->sentinel_cred.user, strlen(c->sentinel_cred.user) + 1);
    MIX("s", 1);
    if (c->sentinel_cred.password)
        MIX(c->sentinel_cred.password, strlen(c->sentinel_cred.password) + 1);
    MIX("D", 1);
    if (c->data_cred.user)
        MIX(c->data_cred.user, strlen(c->data_cred.user) + 1);
    MIX("d", 1);
    if (c->data_cred.password)
        MIX(c->data_cred.password, strlen(c->data_cred.password) + 1);
#undef MIX
    h = sn_tls_key_mix(c, h);
    if ((k = malloc(len)) == NULL)
        return NULL;
    snprintf(k, len, "%s|v%d|q%d|%016llx", s->flight_key, c->verify, c->quorum,
             (unsigned long long)h);
    return k;
}

int sentinel_resolve(sentinel_t *s, int flags, sentinel_addr *out)
{
    char *key;
    sentinel_addr addr;
    sn_flight *f = NULL;
    int code;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    s->last_source = SENTINEL_SOURCE_NONE; /* until an answer is served */
    if (out == NULL) {
        sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "out is NULL");
        return SENTINEL_ERR_INVALID_ARGUMENT;
    }
    s->stats.resolutions++;
    if (s->cfg.nsentinels == 0) {
        s->stats.errors++;
        sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "no sentinels configured");
        return SENTINEL_ERR_INVALID_ARGUMENT;
    }
    if (!(flags & SENTINEL_RESOLVE_NO_CACHE) && sn_cache_get(&s->cache, out) == 0) {
        s->stats.cache_hits++;
        sn_err_clear(&s->err);
        s->last_source = SENTINEL_SOURCE_CACHE;
        return SENTINEL_OK;
    }
    if (s->flight_key != NULL && (key = flight_key(s)) != NULL) {
        f = sn_flight_get(key);
        free(key);
    }
    if (f != NULL &&
        !sn_flight_begin(f, sn_now_ms() + s->cfg.total_ms, &code, &addr, &s->err)) {
        s->stats.shared_waits++;
        s->last_source = SENTINEL_SOURCE_JOINED;
        goto done;
    }
    sn_err_clear(&s->err);
    code = sn_resolve_uncached(s, &addr);
    s->last_source = s->served_last_known ? SENTINEL_SOURCE_LAST_KNOWN : SENTINEL_SOURCE_SENTINEL;
    if (f != NULL)
        sn_flight_end(f, code, &addr, &s->err);
done:
    if (code != SENTINEL_OK) {
        s->stats.errors++;
        s->last_source = SENTINEL_SOURCE_NONE;
        return code;
    }
    if (s->served_last_known) {
        /* Ask the sentinels again soon: they may be back. */
        s->served_last_known = 0;
        sn_cache_put(&s->cache, &addr,
                     s->cfg.ttl_ms < SN_LAST_KNOWN_TTL_MS ? s->cfg.ttl_ms : SN_LAST_KNOWN_TTL_MS);
    } else {
        sn_cache_put(&s->cache, &addr, s->cfg.ttl_ms);
    }
    if (addr.verified_at_ms > 0)
        s->last_good = addr;
    *out = addr;
    return SENTINEL_OK;
}

void sentinel_invalidate(sentinel_t *s)
{
    if (s == NULL)
        return;
    sn_cache_clear(&s->cache);
    s->stats.invalidations++;
}

/* Replies that mean the address no longer takes writes. */
static int error_means_not_master(const char *reply)
{
    static const char *const prefixes[] = {"READONLY", "MASTERDOWN", "LOADING"};

    if (reply == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(reply, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

int sentinel_report_error(sentinel_t *s, int io_error, const char *error_reply)
{
    if (s == NULL)
        return 0;
    if (io_error != 0 || error_means_not_master(error_reply)) {
        sentinel_invalidate(s);
        return 1;
    }
    return 0;
}

int sentinel_check_role(sentinel_t *s, const char *host, int port)
{
    sn_hostport hp;
    sn_role role = SN_ROLE_UNKNOWN;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (host == NULL || strlen(host) >= sizeof(hp.host) || port < 1 || port > 65535) {
        sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "bad address for ROLE check");
        return SENTINEL_ERR_INVALID_ARGUMENT;
    }
    strcpy(hp.host, host);
    hp.port = port;
    sn_err_clear(&s->err);
    s->stats.role_checks++;
    if (sn_check_role(&s->cfg, &hp, sn_now_ms() + s->cfg.connect_ms + s->cfg.command_ms, &role,
                      &s->err) == -1)
        return s->err.code;
    if (role != SN_ROLE_MASTER) {
        sn_err_set(&s->err, SENTINEL_ERR_NOT_MASTER, "%s:%d answers ROLE as %s", host, port,
                   role == SN_ROLE_REPLICA ? "replica" : "sentinel");
        return SENTINEL_ERR_NOT_MASTER;
    }
    return SENTINEL_OK;
}

/* Give the caller the socket of a link that answered ROLE master: blocking,
 * with the command timeout on sends and receives. 0, or -1 with e set. */
static int hand_over(sn_link *l, int command_ms, int *fd, sn_err *e)
{
    struct timeval tv = {.tv_sec = command_ms / 1000, .tv_usec = (command_ms % 1000) * 1000};
    int h = l->h, flags;

    l->h = -1; /* the reader goes, the socket stays */
    sn_link_close(l);
    if ((flags = fcntl(h, F_GETFL)) == -1 || fcntl(h, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
        setsockopt(h, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
        setsockopt(h, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
        sn_err_set(e, SENTINEL_ERR_SYSTEM, "master socket: %s", strerror(errno));
        close(h);
        return -1;
    }
    *fd = h;
    return 0;
}

/* Resolve and connect to the master, AUTH and verify ROLE master on that
 * very link, resolving again with backoff within the total timeout while
 * the address is not a master. 0 with *l open (TLS per the handle's data
 * node options) and *addr the master; -1 with s->err set. Shared by
 * sentinel_connect_master_fd() and sentinel_connect_master_conn(). */
int sn_connect_verified(sentinel_t *s, sn_link *l, sentinel_addr *addr)
{
    int64_t deadline = sn_now_ms() + s->cfg.total_ms;

    for (int attempt = 0; attempt < s->cfg.tries; attempt++) {
        sentinel_addr a;
        sn_hostport hp;
        sn_role role = SN_ROLE_UNKNOWN;
        int code;

        if ((code = sentinel_resolve(s, attempt ? SENTINEL_RESOLVE_NO_CACHE : 0, &a)) !=
            SENTINEL_OK)
            return -1;
        snprintf(hp.host, sizeof(hp.host), "%s", a.host);
        hp.port = a.port;
        s->stats.role_checks++;
        if (role_on_link(l, &s->cfg, &hp,
                         sn_now_ms() + s->cfg.connect_ms + 2 * (int64_t)s->cfg.command_ms, &role,
                         &s->err) == 0) {
            if (role == SN_ROLE_MASTER) {
                sn_err_clear(&s->err);
                *addr = a;
                return 0;
            }
            sn_link_close(l);
            sn_err_set(&s->err, SENTINEL_ERR_NOT_MASTER, "%s:%d is no longer a master", a.host,
                       a.port);
        }
        if (s->err.code == SENTINEL_ERR_AUTH || s->err.code == SENTINEL_ERR_PROTOCOL)
            return -1;
        sentinel_invalidate(s);
        if (sn_now_ms() >= deadline)
            break;
        sn_sleep_ms(sn_backoff_ms(&s->rng, attempt, s->cfg.backoff_base_ms,
                                  s->cfg.backoff_max_ms));
    }
    return -1;
}

int sentinel_connect_master_fd(sentinel_t *s, int *fd, sentinel_addr *addr)
{
    sentinel_addr a;
    sn_link l;

    if (fd != NULL)
        *fd = -1;
    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (fd == NULL)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "fd is NULL");
    if (s->cfg.tls[SENTINEL_TLS_DATA].enabled)
        return sn_err_fail(&s->err, SENTINEL_ERR_TLS,
                           "a plaintext socket cannot carry TLS: use "
                           "sentinel_connect_master_conn()");
    if (sn_connect_verified(s, &l, &a) == -1)
        return s->err.code;
    if (hand_over(&l, s->cfg.command_ms, fd, &s->err) == -1)
        return s->err.code;
    if (addr != NULL)
        *addr = a;
    return SENTINEL_OK;
}
