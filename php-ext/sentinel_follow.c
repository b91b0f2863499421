/*
 * Failover awareness (DESIGN.md, "Sentinel's failover timeline"): in a
 * manual failover the old master keeps acknowledging writes for about a
 * second after the replica is promoted, and every one of them is lost.
 * libsentinel's follower (sentinel/follow.h) stops writing at the first
 * failover event, probes the announced replica with ROLE and resumes on it;
 * this file connects it to the worker and the host:
 *
 *   mode "host"    a host follower (sentinel-proxy --watch) beats in the
 *                  shared cache: rely on its flag and answers, open no
 *                  sentinel connection (a worker follower is closed)
 *   mode "worker"  otherwise: one follower per registry entry, driven with
 *                  sentinel_follow_run_once(f, 0) at each call that finds
 *                  one of its sockets ready (sentinel_ready.c: no system
 *                  call in steady state) or its timer due, its transitions mirrored into
 *                  the shared cache (flag, epoch, verified new master) so
 *                  every process of the host sees them
 *   mode "off"     sentinel.watch=off (or auto in the CLI with no host
 *                  follower): only the shared flag others set is honoured
 *
 * During a failover resolve() waits (failover_wait_ms) for the new master:
 * driving its follower, or reading the shared cache in host mode.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <time.h>

#include "php.h"

#include "php_sentinel.h"
#include "sentinel_follow.h"
#include "sentinel_ini.h"
#include "sentinel_ready.h"
#include "sentinel_shm.h"

#define SN_PHP_WAIT_STEP_MS 10 /* longest wait of one step of the waiting loop */
#define SN_PHP_WAIT_HOST_STEP_MS 2 /* host mode: between reads of the shared cache */
#define SN_PHP_WAIT_MAX_STEPS 100000

static bool in_failover(const sn_php_entry *e)
{
    sentinel_follow_state st;

    if (e->f == NULL)
        return false;
    st = sentinel_follow_get_state(e->f);
    return st == SENTINEL_FOLLOW_PAUSED || st == SENTINEL_FOLLOW_PROBING;
}

static void pin(sn_php_entry *e, const sentinel_addr *a)
{
    e->pinned = *a;
    e->have_pinned = true;
    e->pinned_until_ms = sn_php_now_ms() + (e->ttl_ms > 0 ? e->ttl_ms : SN_PHP_DEFAULT_TTL_MS);
}

/* ------------------------------------------------------------------------
 * The follower's transitions, mirrored into the worker and the host
 * ------------------------------------------------------------------------ */

/* The first event of a failover of `failed` (NULL: no master known yet). */
static void begin_failover(sn_php_entry *e, const sentinel_addr *failed)
{
    SENTINEL_G(counters).failover_events++;
    e->have_failed = failed != NULL;
    if (failed != NULL)
        e->failed = *failed;
    e->have_pinned = false;
    e->fresh_resume = false;
    sn_php_count_failover(e, failed);
    sentinel_invalidate(e->s);
    /* Tell every worker of the host, naming the address, so a late event
     * cannot flag a newer answer another worker already published. */
    if (e->shm != NULL && failed != NULL)
        sentinel_shm_set_failover(e->shm, failed->host, failed->port, 1, SN_PHP_LOCK_MS, NULL);
}

/* FOLLOWING after a failover: a verified new master, or (abort) the old. */
static void end_failover(sn_php_entry *e, const sentinel_addr *master)
{
    if (sn_php_same_addr(&e->failed, master->host, master->port)) {
        /* Aborted: carry on; a new attempt on it counts again. */
        if (e->shm != NULL)
            sentinel_shm_set_failover(e->shm, master->host, master->port, 0, SN_PHP_LOCK_MS, NULL);
        e->have_counted = false;
    } else {
        if (e->shm != NULL)
            sentinel_shm_write(e->shm, master, (int)(e->ttl_ms > 0 ? e->ttl_ms : SN_PHP_DEFAULT_TTL_MS),
                               0, SN_PHP_LOCK_MS);
        sentinel_invalidate(e->s);
        pin(e, master);
        e->fresh_resume = true;
    }
    e->have_failed = false;
}

static void on_transition(sentinel_follow_t *f, const sentinel_follow_transition *t, void *ud)
{
    sn_php_entry *e = ud;

    (void)f;
    if (t->new_state != SENTINEL_FOLLOW_RESOLVING)
        e->rechecking = false;
    if (t->epoch != e->f_epoch) {
        /* Paused: t->master is the one failed over. Straight to FOLLOWING
         * (a switch seen only by polling): the one followed before. */
        const sentinel_addr *failed = NULL;

        e->f_epoch = t->epoch;
        if (t->new_state != SENTINEL_FOLLOW_FOLLOWING && t->master.host[0] != '\0')
            failed = &t->master;
        else if (e->have_followed)
            failed = &e->followed;
        begin_failover(e, failed);
    }
    if (t->new_state == SENTINEL_FOLLOW_FOLLOWING) {
        if (e->have_failed)
            end_failover(e, &t->master);
        e->followed = t->master;
        e->have_followed = true;
    }
}

/* ------------------------------------------------------------------------
 * The mode, and driving the worker's follower
 * ------------------------------------------------------------------------ */

static void follower_close(sn_php_entry *e)
{
    if (e->f != NULL)
        sn_php_ready_detach(e->ready_slot, e);
    e->ready_slot = -1;
    e->rechecking = false;
    SENTINEL_G(counters).role_checks += sn_php_follow_probes(e);
    sentinel_follow_free(e->f);
    e->f = NULL;
    e->f_epoch = 0;
    e->have_followed = false;
}

static void follower_open(sn_php_entry *e)
{
    if ((e->f = sentinel_follow_new(e->s, NULL)) == NULL)
        return;
    e->f_epoch = 0;
    e->have_followed = false;
    e->ready_slot = sn_php_ready_attach(e);
    e->ready_due_ms = 0;
    sentinel_follow_set_timing(e->f, SENTINEL_FOLLOW_POLL_MS, (int)SENTINEL_G(watch_poll_ms));
    sentinel_follow_set_state_cb(e->f, on_transition, e);
    /* A master this worker already verified: follow it from the start. */
    if (e->have_last && e->last.verified_at_ms != 0)
        sentinel_follow_assume_master(e->f, &e->last, NULL);
}

void sn_php_follow_step(sn_php_entry *e, const sn_php_settings *cfg)
{
    bool worker;

    if (!cfg->watch) {
        e->mode = SN_PHP_MODE_OFF;
        return;
    }
    if (sn_php_host_follower_alive(e)) {
        /* Not mid-failover: this follower's pause still protects us. */
        if (e->f != NULL && !in_failover(e))
            follower_close(e);
        if (e->f == NULL) {
            e->mode = SN_PHP_MODE_HOST;
            return;
        }
    }
    worker = cfg->watch_forced || sn_php_watch_enabled(SN_PHP_WATCH_AUTO);
    if (e->f == NULL && !worker) {
        e->mode = SN_PHP_MODE_OFF;
        return;
    }
    if (e->f == NULL)
        follower_open(e);
    if (e->f == NULL) {
        e->mode = SN_PHP_MODE_OFF;
        return;
    }
    e->mode = SN_PHP_MODE_WORKER;
    /* What poll() would find: a socket ready (the readiness thread raised
     * the flag) or the follower's timer due. Else nothing to do. */
    if (e->ready_slot >= 0 && !sn_php_ready_take(e->ready_slot) &&
        sn_php_now_ms() < e->ready_due_ms)
        return;
    sn_php_follow_run(e, 0);
}

/* Hand the readiness thread the follower's sockets and timer as they are
 * now (after any call that may have opened or closed one: the thread's
 * poll() must not keep a closed socket alive). */
static void ready_rearm(sn_php_entry *e)
{
    sentinel_watch_fd fds[16];
    int n;

    if (e->f == NULL || e->ready_slot < 0)
        return;
    /* The sockets and the timer as they are now, for the next call. */
    n = sentinel_follow_fds(e->f, fds, (int)(sizeof(fds) / sizeof(fds[0])));
    e->ready_due_ms = sn_php_now_ms() + sentinel_follow_timeout(e->f);
    if (n > (int)(sizeof(fds) / sizeof(fds[0])) || !sn_php_ready_arm(e->ready_slot, fds, n)) {
        /* Too many to watch: poll at every call, as without the thread. */
        sn_php_ready_detach(e->ready_slot, e);
        e->ready_slot = -1;
    }
}

void sn_php_follow_run(sn_php_entry *e, int timeout_ms)
{
    sentinel_follow_run_once(e->f, timeout_ms);
    ready_rearm(e);
}

void sn_php_follow_verified(sn_php_entry *e, const sentinel_addr *a)
{
    if (e->f != NULL && a->verified_at_ms != 0 &&
        sentinel_follow_get_state(e->f) == SENTINEL_FOLLOW_RESOLVING) {
        sentinel_follow_assume_master(e->f, a, NULL);
        ready_rearm(e); /* its sockets and timers changed */
    }
}

zend_ulong sn_php_follow_probes(const sn_php_entry *e)
{
    sentinel_follow_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (e->f == NULL || sentinel_follow_get_stats(e->f, &st) != 0)
        return 0;
    return (zend_ulong)st.probes;
}

bool sn_php_follow_paused(const sn_php_entry *e)
{
    return in_failover(e);
}

void sn_php_follow_release(sn_php_entry *e)
{
    follower_close(e);
    e->have_failed = e->have_pinned = e->fresh_resume = false;
    e->mode = SN_PHP_MODE_OFF;
}

/* ------------------------------------------------------------------------
 * Waiting for the new master
 * ------------------------------------------------------------------------ */

/* Another process (a worker, the host follower) verified and published the
 * new master: 1 with *out set. */
static int published_elsewhere(sn_php_entry *e, sentinel_addr *out)
{
    sentinel_shm_entry ent;

    if (e->shm == NULL || sentinel_shm_read(e->shm, &ent) != 0 ||
        ent.expires_at_ms <= sn_php_wall_ms() || (ent.flags & SENTINEL_SHM_FAILOVER) ||
        (e->have_failed && sn_php_same_addr(&e->failed, ent.addr.host, ent.addr.port)))
        return 0;
    *out = ent.addr;
    return 1;
}

/*
 * The failover we wait for was flagged in the host's cache, but our own
 * follower is FOLLOWING a master it verified (ROLE) that is not the flagged
 * one: the flag is stale (its process exited or was killed between flagging
 * and publishing the new master, and the entry keeps it until it expires,
 * cache_ttl_ms) or nobody published yet. Nothing else would clear it: a
 * follower already FOLLOWING makes no transition. Resume as our follower
 * does (publish, pin) instead of failing every call until the entry expires.
 */
static bool stale_flag(sn_php_entry *e)
{
    sentinel_addr m;

    if (e->f == NULL || !e->have_failed ||
        sentinel_follow_get_state(e->f) != SENTINEL_FOLLOW_FOLLOWING ||
        sentinel_follow_master(e->f, &m) != 0 || m.host[0] == '\0' ||
        sn_php_same_addr(&e->failed, m.host, m.port))
        return false;
    end_failover(e, &m);
    return true;
}

/*
 * With no follower of our own (sentinel.watch=off, or host mode whose host
 * follower stopped beating), the host's flag is all we would wait on; it is
 * trusted only while a host follower beats (SN_PHP_HEARTBEAT_FRESH_MS), as
 * sentinel_resolve_shared() does: a flag nobody beats for may have outlived
 * the process that set it (one that exited mid-failover) and would fail
 * every call until the entry expires. Then resolve as usual.
 */
static bool untrusted_flag(sn_php_entry *e)
{
    return e->f == NULL && !sn_php_host_follower_alive(e);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

int sn_php_failover_wait(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                         char *err, size_t errlen)
{
    int64_t deadline = sn_php_now_ms() + cfg->failover_wait_ms;
    sentinel_addr flagged;

    if (untrusted_flag(e))
        return -1;
    if (!in_failover(e) && sn_php_shared_failover(e, &flagged) == 1) {
        /* Flagged by another process before our own follower said anything. */
        e->failed = flagged;
        e->have_failed = true;
        sn_php_count_failover(e, &flagged);
    }
    if (cfg->failover_wait_ms > 0)
        SENTINEL_G(counters).failover_waits++;
    for (int step = 0; step < SN_PHP_WAIT_MAX_STEPS; step++) {
        int64_t now;

        if (e->f != NULL && sentinel_follow_get_state(e->f) == SENTINEL_FOLLOW_FOLLOWING &&
            !e->have_failed) {
            /* Our follower resumed: on the new master (pinned), or aborted. */
            if (!e->have_pinned)
                return -1;
            *out = e->pinned;
            e->fresh_resume = false;
            return SENTINEL_OK;
        }
        if (stale_flag(e))
            continue; /* next step returns the master our follower verified */
        if (published_elsewhere(e, out)) {
            /* Host mode reads the file again next time: no pin to go stale. */
            if (e->f != NULL)
                pin(e, out);
            e->have_failed = false;
            return SENTINEL_OK;
        }
        if (!in_failover(e) && (sn_php_shared_failover(e, &flagged) != 1 || untrusted_flag(e)))
            return -1; /* aborted, or over with no answer: resolve as usual */
        now = sn_php_now_ms();
        if (now >= deadline)
            break;
        if (e->f != NULL)
            sn_php_follow_run(e, (int)MIN(deadline - now, SN_PHP_WAIT_STEP_MS));
        else
            sleep_ms((int)MIN(deadline - now, SN_PHP_WAIT_HOST_STEP_MS));
    }
    SENTINEL_G(counters).failover_fast_fails++;
    if (e->have_failed && !in_failover(e) && e->shm != NULL)
        /* Waiting on the host's flag alone: say where it is and what our
         * follower (if any) follows, so a stale flag is recognisable. */
        snprintf(err, errlen,
                 "failover of master %s:%d in progress (flagged in the host's shared cache %s; "
                 "this process's follower: %s); no new master verified within %ld ms",
                 e->failed.host, e->failed.port, e->shm_path,
                 e->f ? sentinel_follow_state_name(sentinel_follow_get_state(e->f)) : "none",
                 (long)cfg->failover_wait_ms);
    else if (e->have_failed)
        snprintf(err, errlen,
                 "failover of master %s:%d in progress; no new master verified within %ld ms",
                 e->failed.host, e->failed.port, (long)cfg->failover_wait_ms);
    else
        snprintf(err, errlen, "failover in progress; no new master verified within %ld ms",
                 (long)cfg->failover_wait_ms);
    return SENTINEL_ERR_NOT_MASTER;
}

int sn_php_follow_wait_master(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                              char *err, size_t errlen)
{
    int64_t deadline = sn_php_now_ms() + cfg->total_ms;

    if (e->f == NULL || !e->rechecking ||
        sentinel_follow_get_state(e->f) != SENTINEL_FOLLOW_RESOLVING)
        return -1;
    for (int step = 0; step < SN_PHP_WAIT_MAX_STEPS; step++) {
        int64_t now;

        switch (sentinel_follow_get_state(e->f)) {
        case SENTINEL_FOLLOW_FOLLOWING:
            if (sentinel_follow_master(e->f, out) == 0)
                return SENTINEL_OK;
            break;
        case SENTINEL_FOLLOW_PAUSED:
        case SENTINEL_FOLLOW_PROBING:
            return -2;
        case SENTINEL_FOLLOW_RESOLVING:
            break;
        }
        now = sn_php_now_ms();
        if (now >= deadline)
            break;
        sn_php_follow_run(e, (int)MIN(deadline - now, SN_PHP_WAIT_STEP_MS));
    }
    snprintf(err, errlen, "master %s:%d not verified again within %ld ms: %s", e->followed.host,
             e->followed.port, (long)cfg->total_ms,
             *sentinel_follow_errstr(e->f) ? sentinel_follow_errstr(e->f) : "no answer");
    return sentinel_follow_errcode(e->f) != SENTINEL_OK ? sentinel_follow_errcode(e->f)
                                                         : SENTINEL_ERR_TIMEOUT;
}

int sn_php_pinned(sn_php_entry *e, sentinel_addr *out, bool *fresh)
{
    if (!e->have_pinned)
        return 0;
    if (sn_php_now_ms() >= e->pinned_until_ms) {
        e->have_pinned = false;
        return 0;
    }
    *out = e->pinned;
    *fresh = e->fresh_resume;
    e->fresh_resume = false;
    return 1;
}

void sn_php_failover_forget(sn_php_entry *e, const char *host, int port)
{
    if (e->have_pinned && (host == NULL || sn_php_same_addr(&e->pinned, host, port)))
        e->have_pinned = false;
}

void sn_php_follow_recheck(sn_php_entry *e)
{
    if (e->f == NULL || sentinel_follow_get_state(e->f) != SENTINEL_FOLLOW_FOLLOWING)
        return;
    sentinel_follow_recheck(e->f);
    ready_rearm(e); /* its sockets and timers changed */
    /* Set after the call: its own transition to RESOLVING runs inside it. */
    e->rechecking = sentinel_follow_get_state(e->f) == SENTINEL_FOLLOW_RESOLVING;
}

const char *sn_php_follow_mode_summary(void)
{
    static char buf[160];
    sn_php_entry *e, *recent = NULL;
    int64_t age;

    if (SENTINEL_G(registry_ready)) {
        ZEND_HASH_FOREACH_PTR(&SENTINEL_G(registry), e) {
            if (recent == NULL || e->last_used > recent->last_used)
                recent = e;
        } ZEND_HASH_FOREACH_END();
    }
    if (recent != NULL) {
        age = recent->heartbeat_age_ms;
    } else {
        age = sn_php_heartbeat_probe();
    }
    if (recent != NULL && recent->mode == SN_PHP_MODE_WORKER)
        snprintf(buf, sizeof(buf), "worker (a follower of this process's own)");
    else if (recent != NULL && recent->mode == SN_PHP_MODE_HOST)
        snprintf(buf, sizeof(buf), "host (host follower heartbeat %ld ms ago)", (long)age);
    else if (recent != NULL)
        snprintf(buf, sizeof(buf), "off");
    else if (age >= 0 && age <= SN_PHP_HEARTBEAT_FRESH_MS)
        snprintf(buf, sizeof(buf), "not used yet; host follower alive (heartbeat %ld ms ago)",
                 (long)age);
    else
        snprintf(buf, sizeof(buf), "not used yet; no host follower heartbeat");
    return buf;
}
