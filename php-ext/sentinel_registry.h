/*
 * The per-process registry of library handles. A PHP-FPM worker serves
 * thousands of requests; everything here outlives the request that created
 * it, so steady-state requests reuse a resolved, cached master instead of
 * asking a sentinel.
 */
#ifndef SENTINEL_REGISTRY_H
#define SENTINEL_REGISTRY_H

#include <stdint.h>
#include <sys/types.h>

#include "php.h"

#include "sentinel/sentinel.h"
#include "sentinel/follow.h"
#include "sentinel/shared_cache.h"

/* At most this many distinct configurations per process; the least
 * recently used one is freed to make room. */
#define SN_PHP_REGISTRY_MAX 32

/* Where a remembered setting's registry entry was found last
 * (sn_php_registry_get()): valid while no entry has been freed since. */
typedef struct sn_php_registry_hint {
    struct sn_php_entry *e;
    uint64_t gen;
} sn_php_registry_hint;

/* One resolution's settings: INI values overridden by per-call options.
 * Strings point into INI globals or the options array and live for the call;
 * NULL means "not set". */
typedef struct sn_php_settings {
    const char *master;
    const char *sentinels;
    zend_long connect_ms, command_ms, total_ms, ttl_ms, failover_wait_ms;
    const char *sentinel_user, *sentinel_password;
    const char *data_user, *data_password;
    bool shared_cache;
    bool watch;        /* follow failovers (sentinel.watch on or auto) */
    bool watch_forced; /* on: a follower of the worker's own even in the CLI */
    bool no_cache;
    /* TLS, to sentinels and data nodes alike; part of the registry key */
    bool tls;
    const char *tls_cafile, *tls_capath, *tls_cert, *tls_key, *tls_server_name;
    bool tls_verify;
    int tls_min_version; /* SENTINEL_TLS_V1_2 or SENTINEL_TLS_V1_3 */
    /* Remembered settings (sentinel_fast.c) keep their entry here, so a
     * steady-state call skips building and hashing the registry key; NULL
     * for per-call settings. Not a setting: settings_equal() ignores it. */
    sn_php_registry_hint *hint;
} sn_php_settings;

/* How an entry follows failovers (stats()' "follow_mode"). */
#define SN_PHP_MODE_OFF 0    /* "off": only the shared flag others set */
#define SN_PHP_MODE_WORKER 1 /* "worker": a follower of this process's own */
#define SN_PHP_MODE_HOST 2   /* "host": a host follower keeps the shared cache */
const char *sn_php_mode_name(int mode);

typedef struct sn_php_entry {
    zend_string *key;   /* persistent; master, sentinels, users, TLS, hashed passwords */
    char *master_name;  /* persistent copies, for stats() */
    char *sentinel_list;
    unsigned fork_generation; /* forks seen (sentinel_registry.c) when the sockets
                                 and locks below were made: another = a child's */
    uint64_t last_used;

    sentinel_t *s;
    zend_long connect_ms, command_ms, total_ms, ttl_ms; /* last applied */

    /* The host's shared cache (opened on first use; when unusable, tried
     * again after SN_PHP_SHM_RETRY_MS, the reason kept in shm_status). */
    sentinel_shm_t *shm;
    int64_t shm_retry_at_ms;  /* monotonic; 0 = never tried */
    char shm_path[1024];
    char shm_status[512];     /* "off", "shared" or "unavailable: <reason>" */

    /* The failover epoch when there is no shared cache (with one, the
     * file's epoch is used): failovers counted, and the master counted last
     * (so a failover heard twice counts once). */
    uint64_t epoch_local;
    bool have_counted;
    sentinel_addr counted;

    /* Following failovers (sentinel_follow.c): this worker's follower
     * (mode "worker"), or nothing of its own (mode "host" or "off"). */
    int mode;                 /* SN_PHP_MODE_* as chosen at the last call */
    int64_t heartbeat_age_ms; /* the host follower's, as last read; -1 none */
    sentinel_follow_t *f;
    int ready_slot;           /* its slot in the readiness thread; -1 none */
    int64_t ready_due_ms;     /* monotonic: the follower's timer is due */
    uint64_t f_epoch;         /* the follower's epoch as last mirrored */
    bool rechecking;          /* resolving again after report_error() */
    bool have_followed;
    sentinel_addr followed;   /* the master the follower followed last */
    bool have_failed;
    sentinel_addr failed;     /* the master being failed over */
    bool have_pinned;
    sentinel_addr pinned;     /* a verified new master, served until pinned_until */
    int64_t pinned_until_ms;  /* monotonic */
    bool fresh_resume;        /* pinned not served yet since the resume */
    bool have_last;
    sentinel_addr last;       /* the last address handed out */
} sn_php_entry;

/* Created on first use; destroyed with the process's globals (GSHUTDOWN). */
void sn_php_registry_init(void);

/* The entry for these settings (through cfg->hint when it is still
 * valid), created (and its sentinels parsed) if
 * needed, with this call's timeouts applied. NULL with a message in err
 * (code in *code) when the settings are refused by the library. */
sn_php_entry *sn_php_registry_get(const sn_php_settings *cfg, int *code, char *err,
                                  size_t errlen);

/* The library counters of every live handle, plus those already freed. */
void sn_php_registry_library_stats(zend_ulong *queries, zend_ulong *failures,
                                   zend_ulong *role_checks);

/* Monotonic milliseconds. */
int64_t sn_php_now_ms(void);

#endif
