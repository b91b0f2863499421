/*
 * sentinel: PHP bindings for libsentinel (follow a Redis master through
 * Redis Sentinel, cache the answer per worker and per host, and stop writing
 * to a master as soon as a failover of it starts).
 *
 * Layout of the extension, one concern per file:
 *   sentinel.c            module lifecycle, phpinfo()
 *   sentinel_ini.c        INI entries and their validators
 *   sentinel_registry.c   per-process registry of library handles (survives requests)
 *   sentinel_key.c        registry keys: plain settings, passwords as keyed hashes (plain C)
 *   sentinel_shm.c        the host's shared cache: file, failover flag, epoch, heartbeat
 *   sentinel_follow.c     libsentinel's follower per worker, or the host follower's
 *                         heartbeat; waiting for the new master during a failover
 *   sentinel_ready.c      one thread per process watching the followers' sockets, so a
 *                         call in steady state makes no system call
 *   sentinel_resolve.c    one resolution: INI + per-call options -> handle -> address
 *   sentinel_functions.c  the PHP functions and Sentinel\Exception
 */
#ifndef PHP_SENTINEL_H
#define PHP_SENTINEL_H

#include "php.h"

#define PHP_SENTINEL_VERSION "0.1.0"
#define PHP_SENTINEL_EXTNAME "sentinel"

extern zend_module_entry sentinel_module_entry;
#define phpext_sentinel_ptr &sentinel_module_entry

/* sentinel.watch: follow failovers -- through a host follower when its
 * heartbeat in the shared cache is fresh, else with a follower of the
 * worker's own; "auto" starts no follower of its own in the CLI, where a
 * subscription would outlive nothing. */
#define SN_PHP_WATCH_OFF 0
#define SN_PHP_WATCH_ON 1
#define SN_PHP_WATCH_AUTO 2

/* Process-wide counters, shown by phpinfo() and Sentinel\stats(). */
typedef struct sn_php_counters {
    zend_ulong resolutions;      /* Sentinel\resolve() calls */
    zend_ulong remembered_resolutions; /* of them, through Sentinel\resolve_remembered() */
    zend_ulong remembered_key_hashes; /* array or string keys hashed to find remembered settings */
    zend_ulong calls;            /* calls of the Sentinel\ functions, stats() aside */
    zend_ulong cache_hits;       /* answered from this worker's memory */
    zend_ulong shared_hits;      /* answered from the host's shared cache */
    zend_ulong sentinel_lookups; /* answered by asking sentinels */
    zend_ulong errors;           /* resolutions that threw */
    zend_ulong invalidations;    /* invalidate() / report_error() that forgot an answer */
    zend_ulong failover_events;  /* failovers heard from this worker's follower */
    zend_ulong failover_waits;   /* resolutions that waited for a new master */
    zend_ulong failover_fast_fails; /* ... that failed fast (failover_wait_ms = 0 or timeout) */
    zend_ulong role_checks;      /* ROLE probes by followers already closed */
    /* library counters of handles already freed (evicted, forked away) */
    zend_ulong retired_sentinel_queries;
    zend_ulong retired_sentinel_failures;
    zend_ulong retired_role_checks;
} sn_php_counters;

ZEND_BEGIN_MODULE_GLOBALS(sentinel)
    /* INI, validated when set (sentinel_ini.c) */
    char *sentinels;
    char *master_name;
    zend_long connect_timeout_ms;
    zend_long command_timeout_ms;
    zend_long timeout_ms;
    zend_long cache_ttl_ms;
    zend_long failover_wait_ms;
    char *sentinel_user;
    char *sentinel_password;
    char *data_user;
    char *data_password;
    bool shared_cache;
    char *shared_cache_dir;
    char *shared_cache_group;
    bool shared_cache_use_group; /* set with shared_cache_gid by the group's validator */
    zend_long shared_cache_gid;
    zend_long shared_cache_mode; /* 0600 or 0660 */
    zend_long watch;
    zend_long watch_poll_ms;
    /* TLS to sentinels and data nodes alike (redis-cli --tls) */
    bool tls;
    char *tls_cafile;
    char *tls_capath;
    char *tls_cert;
    char *tls_key;
    char *tls_server_name;
    bool tls_verify;
    zend_long tls_min_version; /* SENTINEL_TLS_V1_2 or SENTINEL_TLS_V1_3 */
    /* process state, kept across requests */
    HashTable registry; /* key -> sn_php_entry * (sentinel_registry.c) */
    bool registry_ready;
    sn_php_counters counters;
    /* The shared cache's state as this process last found it, for phpinfo()
     * and stats(): "off", "shared" or "unavailable: <reason>". */
    char shm_status[512];
    char shm_logged[512]; /* the last reason logged, so each is logged once */
ZEND_END_MODULE_GLOBALS(sentinel)

ZEND_EXTERN_MODULE_GLOBALS(sentinel)
#define SENTINEL_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(sentinel, v)

#if defined(ZTS) && defined(COMPILE_DL_SENTINEL)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif /* PHP_SENTINEL_H */
