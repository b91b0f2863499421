/*
 * The cache publisher (watch mode, and --shared-cache): keep libsentinel's memory-mapped cache
 * current from the proxy's own master tracking, so PHP-FPM workers on the
 * host (sentinel_resolve_shared()) learn of a failover within milliseconds
 * without asking a sentinel.
 *
 * What is written, and when:
 *   - a verified master (at start, after a switch, after an aborted
 *     failover): the address with a fresh TTL, flags cleared; rewritten
 *     every TTL/3 while it stays verified, so the entry never expires under
 *     a live watcher;
 *   - a failover of that master starts, or the sentinels name another one:
 *     SENTINEL_SHM_FAILOVER on the old address, so readers stop writing
 *     there at the same moment the proxy pauses, and the failover counted
 *     in the file's epoch (once per failover, whoever hears it first);
 *   - a heartbeat about once a second (sentinel_shm_heartbeat) while the
 *     publisher runs: readers that see it fresh (PHP's sentinel.watch)
 *     rely on this file and open no sentinel connection of their own.
 * The watcher is the same state machine as the proxy (events, polling,
 * ROLE probes); watch mode only has no listener. The publisher knows
 * nothing of the proxy: it is handed the master to publish.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proxy/proxy_int.h"
#include "sentinel/shared_cache.h"

#define PX_SHM_LOCK_MS 20
#define PX_SHM_HEARTBEAT_MS 1000

struct px_pub {
    const px_log *log;
    sentinel_shm_t *shm;
    int ttl_ms;
    int64_t refresh_at; /* monotonic ms; 0 = nothing written yet */
    int64_t beat_at;    /* monotonic ms of the next heartbeat */
    char path[4096];
};

px_pub *px_pub_open(const sentinel_proxy_config_t *c, const sentinel_t *sn, const px_log *lg,
                    char *err, size_t errlen)
{
    px_pub *sh = calloc(1, sizeof(*sh));
    struct stat st;
    int code = 0;

    if (sh == NULL) {
        snprintf(err, errlen, "shared-cache: out of memory");
        return NULL;
    }
    sh->log = lg;
    sh->ttl_ms = c->shared_ttl_ms;
    /* "auto" and a directory mean the library's default file name, the one
     * readers (the PHP extension's shared_cache_dir) compute themselves. */
    if (strcmp(c->shared_cache, "auto") == 0 ||
        (stat(c->shared_cache, &st) == 0 && S_ISDIR(st.st_mode))) {
        const char *dir = strcmp(c->shared_cache, "auto") == 0 ? NULL : c->shared_cache;
        if (sentinel_shm_default_path(sn, dir, sh->path, sizeof(sh->path)) != SENTINEL_OK) {
            snprintf(err, errlen, "shared-cache: cannot build the default path");
            goto fail;
        }
    } else {
        snprintf(sh->path, sizeof(sh->path), "%s", c->shared_cache);
    }
    sentinel_shm_options opt = {.size = sizeof(opt),
                                .mode = c->shared_mode,
                                .use_group = c->shared_use_group,
                                .gid = c->shared_gid};
    char why[256] = "";

    if ((sh->shm = sentinel_shm_open_ex(sh->path, &opt, &code, why, sizeof(why))) == NULL) {
        snprintf(err, errlen, "shared-cache: cannot open %s: %s%s%s", sh->path,
                 sentinel_strerror(code), why[0] ? ": " : "", why);
        goto fail;
    }
    px_logf(sh->log, SENTINEL_PROXY_LOG_INFO, "keeping shared cache %s current", sh->path);
    return sh;
fail:
    free(sh);
    return NULL;
}

void px_pub_free(px_pub *sh)
{
    if (sh == NULL)
        return;
    sentinel_shm_close(sh->shm);
    free(sh);
}

void px_pub_publish(px_pub *sh, const sn_hostport *master, int failover)
{
    sn_hostport hp;
    sentinel_addr a;

    if (sh == NULL || master == NULL)
        return;
    hp = *master;
    if (failover) {
        /* Readers must stop writing to the old master now. */
        if (sentinel_shm_set_failover(sh->shm, hp.host, hp.port, 1, PX_SHM_LOCK_MS, NULL) !=
            SENTINEL_OK)
            px_logf(sh->log, SENTINEL_PROXY_LOG_WARN, "shared cache: cannot flag failover");
        sentinel_shm_note_failover(sh->shm, hp.host, hp.port, PX_SHM_LOCK_MS, NULL, NULL);
        return;
    }
    memset(&a, 0, sizeof(a));
    snprintf(a.host, sizeof(a.host), "%s", hp.host);
    a.port = hp.port;
    a.verified_at_ms = sn_wall_ms();
    if (sentinel_shm_write(sh->shm, &a, sh->ttl_ms, 0, PX_SHM_LOCK_MS) != SENTINEL_OK) {
        px_logf(sh->log, SENTINEL_PROXY_LOG_WARN, "shared cache: cannot write %s:%d",
                hp.host, hp.port);
        sh->refresh_at = sn_now_ms() + 100; /* try again soon */
        return;
    }
    sh->refresh_at = sn_now_ms() + sh->ttl_ms / 3;
}

void px_pub_tick(px_pub *sh, const sn_hostport *master, int64_t now)
{
    if (sh && now >= sh->beat_at) {
        sentinel_shm_heartbeat(sh->shm);
        sh->beat_at = now + PX_SHM_HEARTBEAT_MS;
    }
    if (sh && master && sh->refresh_at && now >= sh->refresh_at)
        px_pub_publish(sh, master, 0);
}

const char *px_pub_path(const px_pub *sh)
{
    return sh->path;
}
