/*
 * The host's shared cache as the extension uses it: opening the file the
 * INI settings name (falling back, with one log line, to the per-worker
 * cache), the "failover in progress" flag, the failover epoch every process
 * of the host agrees on, and the heartbeat of a host follower
 * (sentinel-proxy --watch) that lets workers rely on the file alone.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "php.h"

#include "php_sentinel.h"
#include "sentinel_shm.h"

#define SN_PHP_SHM_RETRY_MS 30000  /* try an unusable shared cache again after this */

int64_t sn_php_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sn_php_same_addr(const sentinel_addr *a, const char *host, int port)
{
    return host != NULL && a->port == port && strcmp(a->host, host) == 0;
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
        (s = sentinel_new(master, NULL)) == NULL) {
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

int64_t sn_php_heartbeat_probe(void)
{
    const char *master = SENTINEL_G(master_name), *list = SENTINEL_G(sentinels);
    char path[1024], status[640];
    sentinel_shm_t *shm = NULL;
    sentinel_t *s;
    int64_t age = -1;

    if (!SENTINEL_G(shared_cache) || master == NULL || *master == '\0' || list == NULL ||
        *list == '\0' || (s = sentinel_new(master, NULL)) == NULL)
        return -1;
    if (sentinel_add_sentinels(s, list) == 0)
        shm = open_shared(s, true, path, sizeof(path), status, sizeof(status));
    age = sentinel_shm_heartbeat_age_ms(shm);
    sentinel_shm_close(shm);
    sentinel_free(s);
    return age;
}

int sn_php_shared_failover(sn_php_entry *e, sentinel_addr *flagged)
{
    sentinel_shm_entry ent;

    if (e->shm == NULL || sentinel_shm_read(e->shm, &ent) != 0)
        return -1;
    if (!(ent.flags & SENTINEL_SHM_FAILOVER) || ent.expires_at_ms <= sn_php_wall_ms())
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
void sn_php_count_failover(sn_php_entry *e, const sentinel_addr *a)
{
    if (a == NULL) {
        e->epoch_local++;
        e->have_counted = false;
        return;
    }
    if (e->have_counted && sn_php_same_addr(&e->counted, a->host, a->port))
        return;
    /* Lock kept by a stuck writer: count at the next look (sn_php_epoch()
     * finds the flag again while the failover lasts). */
    if (e->shm != NULL &&
        sentinel_shm_note_failover(e->shm, a->host, a->port, SN_PHP_LOCK_MS, NULL, NULL) != 0)
        return;
    e->epoch_local++;
    e->counted = *a;
    e->have_counted = true;
}

uint64_t sn_php_epoch(sn_php_entry *e)
{
    sentinel_addr flagged;

    return sn_php_epoch_flagged(e, &flagged, NULL);
}

uint64_t sn_php_epoch_flagged(sn_php_entry *e, sentinel_addr *flagged, int *failover)
{
    int f;

    if (e->shm == NULL) {
        if (failover != NULL)
            *failover = -1;
        return e->epoch_local;
    }
    /* Flagged by a process whose library does not count (an older one), or
     * whose count we have not seen: count it ourselves (once per master). */
    f = sn_php_shared_failover(e, flagged);
    if (f == 1)
        sn_php_count_failover(e, flagged);
    if (failover != NULL)
        *failover = f;
    return sentinel_shm_epoch(e->shm);
}

/* ------------------------------------------------------------------------
 * The host follower's heartbeat
 * ------------------------------------------------------------------------ */

bool sn_php_host_follower_alive(sn_php_entry *e)
{
    int64_t age;

    if (e->shm == NULL)
        return false;
    age = sentinel_shm_heartbeat_age_ms(e->shm);
    e->heartbeat_age_ms = age;
    return age >= 0 && age <= SN_PHP_HEARTBEAT_FRESH_MS;
}

