/*
 * Failover awareness (DESIGN.md, "Sentinel's failover timeline"): in a manual
 * failover the old master keeps acknowledging writes for about a second
 * after the replica is promoted, and every one of them is lost. Polling or
 * a cache TTL learns of the switch too late, so each worker keeps a watcher
 * subscribed to every sentinel (poll interval long: it adds no sentinel
 * commands in steady state) and drains it before each resolution.
 *
 *   first failover event        -> stop handing out the master, here and in
 *                                  the shared cache (SENTINEL_SHM_FAILOVER)
 *   +selected-slave / switch    -> remember the candidate
 *   candidate answers ROLE master -> publish it, resume
 *   -failover-abort-*           -> carry on with the old master
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "php.h"

#include "php_sentinel.h"
#include "sentinel_failover.h"

#define SN_PHP_LOCK_MS 20          /* wait for the shared cache's writer lock */
#define SN_PHP_PROBE_EVERY_MS 20   /* between ROLE probes of one candidate */
#define SN_PHP_PROBE_MAX_MS 200    /* one ROLE probe, connect + reply */
#define SN_PHP_WAIT_STEP_MS 10     /* longest sleep of the waiting loop */
#define SN_PHP_WAIT_MAX_STEPS 100000
#define SN_PHP_WATCH_FDS 72        /* a link per sentinel (64 max) + the poller */
#define SN_PHP_SHM_RETRY_MS 30000  /* try an unusable shared cache again after this */

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool same_addr(const sentinel_addr *a, const char *host, int port)
{
    return host != NULL && a->port == port && strcmp(a->host, host) == 0;
}

static void set_addr(sentinel_addr *a, const char *host, int port)
{
    snprintf(a->host, sizeof(a->host), "%s", host ? host : "");
    a->port = port;
    a->verified_at_ms = 0;
}

/* ------------------------------------------------------------------------
 * The shared cache file
 * ------------------------------------------------------------------------ */

/* One line through the SAPI's log (error_log, FPM's log, stderr for the
 * CLI), once per reason per process: never an E_WARNING, which frameworks
 * turn into exceptions, for something the extension works around. */
static void log_shm_unavailable(const char *status)
{
    char line[640];

    if (strcmp(SENTINEL_G(shm_logged), status) == 0)
        return;
    snprintf(SENTINEL_G(shm_logged), sizeof(SENTINEL_G(shm_logged)), "%s", status);
    snprintf(line, sizeof(line), "sentinel: shared cache %s; using the per-worker cache",
             status);
    php_log_err(line);
}

static void say(char *status, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(status, len, fmt, ap);
    va_end(ap);
}

/*
 * Open the shared cache file of s as the INI settings say (probe: only look
 * at an existing one). The handle, or NULL; status gets "shared: <path>"
 * or "unavailable: <reason>" (with probe, also "not created yet: <path>").
 */
static sentinel_shm_t *open_shared(const sentinel_t *s, bool probe, char *path, size_t pathlen,
                                   char *status, size_t statuslen)
{
    const char *dir = SENTINEL_G(shared_cache_dir);
    sentinel_shm_options opt;
    sentinel_shm_t *shm;
    char why[384] = "";
    int code = SENTINEL_OK;

    memset(&opt, 0, sizeof(opt));
    opt.size = sizeof(opt);
    opt.mode = (int)SENTINEL_G(shared_cache_mode);
    opt.use_group = SENTINEL_G(shared_cache_use_group);
    opt.gid = (unsigned)SENTINEL_G(shared_cache_gid);
    opt.no_create = probe;
    if (opt.mode == 0660 && !opt.use_group) {
        say(status, statuslen,
            "unavailable: sentinel.shared_cache_mode=0660 needs sentinel.shared_cache_group");
        return NULL;
    }
    if (sentinel_shm_default_path(s, (dir && *dir) ? dir : NULL, path, pathlen) != 0) {
        snprintf(path, pathlen, "(path too long)");
        say(status, statuslen, "unavailable: the path under %s is too long", dir);
        return NULL;
    }
    if ((shm = sentinel_shm_open_ex(path, &opt, &code, why, sizeof(why))) == NULL) {
        if (probe && errno == ENOENT)
            say(status, statuslen, "not created yet: %s", path);
        else
            say(status, statuslen, "unavailable: %s: %s (%s)", path, why,
                sentinel_code_name(code));
        return NULL;
    }
    say(status, statuslen, "shared: %s", path);
    return shm;
}

sentinel_shm_t *sn_php_shared_cache(sn_php_entry *e)
{
    int64_t now;

    if (e->shm != NULL)
        return e->shm;
    now = sn_php_now_ms();
    if (e->shm_retry_at_ms != 0 && now < e->shm_retry_at_ms)
        return NULL;
    e->shm_retry_at_ms = now + SN_PHP_SHM_RETRY_MS;
    e->shm = open_shared(e->s, false, e->shm_path, sizeof(e->shm_path), e->shm_status,
                         sizeof(e->shm_status));
    snprintf(SENTINEL_G(shm_status), sizeof(SENTINEL_G(shm_status)), "%s", e->shm_status);
    if (e->shm == NULL)
        log_shm_unavailable(e->shm_status);
    return e->shm;
}

void sn_php_shared_cache_probe(char *status, size_t len)
{
    const char *master = SENTINEL_G(master_name), *list = SENTINEL_G(sentinels);
    sentinel_t *s;
    sentinel_shm_t *shm;
    char path[1024];

    if (!SENTINEL_G(shared_cache)) {
        say(status, len, "off (sentinel.shared_cache)");
        return;
    }
    if (master == NULL || *master == '\0' || list == NULL || *list == '\0' ||
        (s = sentinel_new(master)) == NULL) {
        say(status, len, "not used yet (no sentinel.master_name / sentinel.sentinels to check)");
        return;
    }
    if (sentinel_add_sentinels(s, list) == 0) {
        shm = open_shared(s, true, path, sizeof(path), status, len);
        sentinel_shm_close(shm);
    } else {
        say(status, len, "not used yet");
    }
    sentinel_free(s);
}

int sn_php_shared_failover(sn_php_entry *e, sentinel_addr *flagged)
{
    sentinel_shm_entry ent;

    if (e->shm == NULL || sentinel_shm_read(e->shm, &ent) != 0)
        return -1;
    if (!(ent.flags & SENTINEL_SHM_FAILOVER) || ent.expires_at_ms <= wall_ms())
        return 0;
    *flagged = ent.addr;
    return 1;
}

/* ------------------------------------------------------------------------
 * The failover epoch
 * ------------------------------------------------------------------------ */

/*
 * The first failover event about master a (heard by our watcher, or found
 * flagged in the shared cache): counted once, in the host's file when there
 * is one (so every process of the host agrees, whoever heard it first) and
 * in this process. a NULL: a failover of a master we cannot name (nothing
 * resolved yet); counted here only.
 */
static void count_failover(sn_php_entry *e, const sentinel_addr *a)
{
    if (a == NULL) {
        e->epoch_local++;
        e->have_counted = false;
        return;
    }
    if (e->have_counted && same_addr(&e->counted, a->host, a->port))
        return;
    /* Lock kept by a stuck writer: count at the next look (sn_php_epoch()
     * finds the flag again while the failover lasts). */
    if (e->shm != NULL &&
        sentinel_shm_note_failover(e->shm, a->host, a->port, SN_PHP_LOCK_MS, NULL) == -1)
        return;
    e->epoch_local++;
    e->counted = *a;
    e->have_counted = true;
}

/* An aborted failover: a new attempt on the same master counts again. */
static void forget_counted(sn_php_entry *e)
{
    e->have_counted = false;
}

uint64_t sn_php_epoch(sn_php_entry *e)
{
    sentinel_addr flagged;

    if (e->shm == NULL)
        return e->epoch_local;
    /* Flagged by a process whose library does not count (an older one), or
     * whose count we have not seen: count it ourselves (once per master). */
    if (sn_php_shared_failover(e, &flagged) == 1)
        count_failover(e, &flagged);
    return sentinel_shm_epoch(e->shm);
}

/* ------------------------------------------------------------------------
 * Watcher events
 * ------------------------------------------------------------------------ */

static void begin_failover(sn_php_entry *e)
{
    sentinel_addr cur;
    sentinel_shm_entry ent;

    if (e->in_failover)
        return;
    SENTINEL_G(counters).failover_events++;
    e->in_failover = true;
    e->have_candidate = false;
    e->have_pinned = false;
    e->next_probe_ms = 0;
    /* The master being failed over: what the watcher last saw, else what
     * this worker last handed out, else what the host's cache names. */
    e->have_failed = true;
    if (sentinel_watch_current(e->w, &cur) == 0)
        e->failed = cur;
    else if (e->have_last)
        e->failed = e->last;
    else if (e->shm != NULL && sentinel_shm_read(e->shm, &ent) == 0 && ent.expires_at_ms != 0)
        e->failed = ent.addr;
    else
        e->have_failed = false;
    count_failover(e, e->have_failed ? &e->failed : NULL);
    sentinel_invalidate(e->s);
    /* Tell every worker of the host, naming the address, so a late event
     * cannot flag a newer answer another worker already published. */
    if (e->shm != NULL && e->have_failed)
        sentinel_shm_set_failover(e->shm, e->failed.host, e->failed.port, 1, SN_PHP_LOCK_MS);
}

static void end_failover(sn_php_entry *e)
{
    e->in_failover = false;
    e->have_candidate = false;
}

static void on_switch(sn_php_entry *e, const char *host, int port)
{
    if (e->in_failover) {
        /* The new master still has to answer ROLE master before use. */
        set_addr(&e->candidate, host, port);
        e->have_candidate = true;
        e->next_probe_ms = 0;
        return;
    }
    /* A switch we did not see start (subscribed late, events lost): the
     * first we hear of this failover, so it counts; drop what we know about
     * the old master; the next resolution verifies. */
    if (e->have_last && !same_addr(&e->last, host, port))
        count_failover(e, &e->last);
    if (e->have_pinned && !same_addr(&e->pinned, host, port))
        e->have_pinned = false;
    sentinel_invalidate(e->s);
    if (e->shm != NULL && e->have_last && !same_addr(&e->last, host, port))
        sentinel_shm_invalidate(e->shm, e->last.host, e->last.port, SN_PHP_LOCK_MS);
}

static void on_event(const sentinel_event *ev, void *userdata)
{
    sn_php_entry *e = userdata;

    e->events++;
    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED:
        begin_failover(e);
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        begin_failover(e);
        if (ev->host != NULL) {
            set_addr(&e->candidate, ev->host, ev->port);
            e->have_candidate = true;
            e->next_probe_ms = 0;
        }
        break;
    case SENTINEL_EVENT_SWITCHED:
        if (ev->host != NULL)
            on_switch(e, ev->host, ev->port);
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        if (e->in_failover && e->shm != NULL && e->have_failed)
            sentinel_shm_set_failover(e->shm, e->failed.host, e->failed.port, 0,
                                      SN_PHP_LOCK_MS);
        if (e->in_failover)
            forget_counted(e);
        end_failover(e);
        break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED:
    case SENTINEL_EVENT_SENTINEL_DOWN:
    case SENTINEL_EVENT_SENTINEL_UP:
        break;
    }
}

void sn_php_watch_ensure(sn_php_entry *e, const sn_php_settings *cfg)
{
    if (!cfg->watch || e->w != NULL)
        return;
    e->w = sentinel_watch_new(e->s, on_event, e);
    if (e->w != NULL)
        sentinel_watch_set_poll_interval(e->w, (int)SENTINEL_G(watch_poll_ms));
}

/* One poll() with no timeout tells whether the watcher has anything to do;
 * in steady state it has not, and that single syscall is all a request pays
 * (sentinel_watch_process would try a read on every link). */
void sn_php_watch_drain(sn_php_entry *e)
{
    sentinel_watch_fd wfd[SN_PHP_WATCH_FDS];
    struct pollfd pfd[SN_PHP_WATCH_FDS];
    int n;

    if (e->w == NULL)
        return;
    n = sentinel_watch_fds(e->w, wfd, SN_PHP_WATCH_FDS);
    if (n > 0 && n <= SN_PHP_WATCH_FDS && sentinel_watch_timeout(e->w) > 0) {
        for (int i = 0; i < n; i++) {
            pfd[i].fd = wfd[i].fd;
            pfd[i].events = wfd[i].events;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)n, 0) == 0)
            return;
    }
    sentinel_watch_process(e->w);
}

/* ------------------------------------------------------------------------
 * Resuming
 * ------------------------------------------------------------------------ */

/* 1 when host:port answers ROLE master (AUTH with the data credentials
 * first), 0 otherwise. A direct probe: during the failover the sentinels
 * still name the old master, which still says "master" too. */
static int probe_master(const sn_php_settings *cfg, const sentinel_addr *a, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
    redisReply *r;
    int master = 0;

    SENTINEL_G(counters).role_checks++;
    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return 0;
    }
    redisSetTimeout(c, tv);
    if (cfg->data_password != NULL) {
        r = cfg->data_user ? redisCommand(c, "AUTH %s %s", cfg->data_user, cfg->data_password)
                           : redisCommand(c, "AUTH %s", cfg->data_password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r)
                freeReplyObject(r);
            redisFree(c);
            return 0;
        }
        freeReplyObject(r);
    }
    r = redisCommand(c, "ROLE");
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0)
        master = 1;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return master;
}

static void pin(sn_php_entry *e, const sn_php_settings *cfg, const sentinel_addr *a)
{
    e->pinned = *a;
    e->have_pinned = true;
    e->pinned_until_ms = sn_php_now_ms() + cfg->ttl_ms;
}

/* 1 with *out set when the failover is over for us; 0 to keep waiting. */
static int try_resume(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out)
{
    sentinel_shm_entry ent;
    int64_t now = sn_php_now_ms();

    /* Another worker verified and published the new master. */
    if (e->shm != NULL && sentinel_shm_read(e->shm, &ent) == 0 &&
        ent.expires_at_ms > wall_ms() && !(ent.flags & SENTINEL_SHM_FAILOVER) &&
        !(e->have_failed && same_addr(&e->failed, ent.addr.host, ent.addr.port))) {
        *out = ent.addr;
        pin(e, cfg, out);
        end_failover(e);
        return 1;
    }
    if (!e->have_candidate || now < e->next_probe_ms)
        return 0;
    {
        int t = (int)MIN(MIN(cfg->connect_ms, cfg->command_ms), SN_PHP_PROBE_MAX_MS);
        if (!probe_master(cfg, &e->candidate, t < 10 ? 10 : t)) {
            e->next_probe_ms = sn_php_now_ms() + SN_PHP_PROBE_EVERY_MS;
            return 0;
        }
    }
    *out = e->candidate;
    out->verified_at_ms = wall_ms();
    if (e->shm != NULL)
        sentinel_shm_write(e->shm, out, (int)cfg->ttl_ms, 0, SN_PHP_LOCK_MS);
    sentinel_invalidate(e->s);
    pin(e, cfg, out);
    end_failover(e);
    return 1;
}

/* Still a reason to hold writes back? */
static bool failover_pending(sn_php_entry *e)
{
    sentinel_addr flagged;

    if (e->in_failover)
        return true;
    return sn_php_shared_failover(e, &flagged) == 1;
}

static void wait_step(sn_php_entry *e, int ms)
{
    struct pollfd pfd[SN_PHP_WATCH_FDS];
    sentinel_watch_fd wfd[SN_PHP_WATCH_FDS];
    int n = 0;

    if (ms <= 0)
        return;
    if (e->w != NULL) {
        int t = sentinel_watch_timeout(e->w);
        n = sentinel_watch_fds(e->w, wfd, SN_PHP_WATCH_FDS);
        if (n > SN_PHP_WATCH_FDS)
            n = SN_PHP_WATCH_FDS;
        if (t >= 0 && t < ms)
            ms = t;
        for (int i = 0; i < n; i++) {
            pfd[i].fd = wfd[i].fd;
            pfd[i].events = wfd[i].events;
            pfd[i].revents = 0;
        }
    }
    if (n > 0)
        poll(pfd, (nfds_t)n, ms);
    else if (ms > 0)
        poll(NULL, 0, ms);
}

int sn_php_failover_wait(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                         char *err, size_t errlen)
{
    int64_t start = sn_php_now_ms(), deadline = start + cfg->failover_wait_ms;
    sentinel_addr flagged;

    if (!e->in_failover && sn_php_shared_failover(e, &flagged) == 1) {
        /* Flagged by another worker before our own watcher said anything. */
        e->failed = flagged;
        e->have_failed = true;
        count_failover(e, &flagged);
    }
    if (cfg->failover_wait_ms > 0)
        SENTINEL_G(counters).failover_waits++;
    for (int step = 0; step < SN_PHP_WAIT_MAX_STEPS; step++) {
        int64_t now;

        sn_php_watch_drain(e);
        if (!failover_pending(e))
            return -1; /* aborted or resolved elsewhere: resolve as usual */
        if (try_resume(e, cfg, out))
            return SENTINEL_OK;
        now = sn_php_now_ms();
        if (now >= deadline)
            break;
        wait_step(e, (int)MIN(deadline - now, SN_PHP_WAIT_STEP_MS));
    }
    SENTINEL_G(counters).failover_fast_fails++;
    if (e->have_failed)
        snprintf(err, errlen,
                 "failover of master %s:%d in progress; no new master verified within %ld ms",
                 e->failed.host, e->failed.port, (long)cfg->failover_wait_ms);
    else
        snprintf(err, errlen, "failover in progress; no new master verified within %ld ms",
                 (long)cfg->failover_wait_ms);
    return SENTINEL_ERR_NOT_MASTER;
}

int sn_php_pinned(sn_php_entry *e, sentinel_addr *out)
{
    if (!e->have_pinned)
        return 0;
    if (sn_php_now_ms() >= e->pinned_until_ms) {
        e->have_pinned = false;
        return 0;
    }
    *out = e->pinned;
    return 1;
}

void sn_php_failover_forget(sn_php_entry *e, const char *host, int port)
{
    if (e->have_pinned && (host == NULL || same_addr(&e->pinned, host, port)))
        e->have_pinned = false;
}
