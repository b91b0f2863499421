/*
 * The per-process registry: one libsentinel handle (plus, on demand, the
 * host's shared cache file and a watcher) per distinct master name,
 * sentinel list, credentials and TLS settings, in persistent memory so it survives the
 * request. Keyed by those settings so two clusters that both call their
 * master "mymaster" never share an answer; the passwords in the key are
 * keyed hashes, never the passwords themselves.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "php.h"
#if PHP_VERSION_ID >= 80200
#include "ext/random/php_random.h"
#else
#include "ext/standard/php_random.h"
#endif

#include "php_sentinel.h"
#include "sentinel_follow.h"
#include "sentinel_key.h"
#include "sentinel_registry.h"

const char *sn_php_mode_name(int mode)
{
    switch (mode) {
    case SN_PHP_MODE_WORKER: return "worker";
    case SN_PHP_MODE_HOST: return "host";
    }
    return "off";
}

int64_t sn_php_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------------ */

/* Sockets (watcher) and lock descriptions (shared cache) belong to the
 * process that opened them: after a fork the child drops its copies and
 * opens its own; the library handle itself holds no descriptors. */
static void entry_release_process_state(sn_php_entry *e)
{
    sn_php_follow_release(e);
    sentinel_shm_close(e->shm);
    e->shm = NULL;
    e->shm_retry_at_ms = 0;
}

static void entry_retire_stats(const sn_php_entry *e)
{
    sentinel_stats st;

    st.size = sizeof(st);
    if (sentinel_get_stats(e->s, &st) == 0) {
        SENTINEL_G(counters).retired_sentinel_queries += st.sentinel_queries;
        SENTINEL_G(counters).retired_sentinel_failures += st.sentinel_failures;
        SENTINEL_G(counters).retired_role_checks += st.role_checks;
    }
}

static void entry_free(sn_php_entry *e)
{
    if (e == NULL)
        return;
    entry_retire_stats(e);
    sn_php_follow_release(e);
    sentinel_shm_close(e->shm);
    sentinel_free(e->s);
    if (e->key)
        zend_string_release(e->key);
    pefree(e->master_name, 1);
    pefree(e->sentinel_list, 1);
    pefree(e, 1);
}

/* Bumped whenever an entry is freed: a hint (sn_php_registry_hint) taken
 * at an older value may point at freed memory. */
static uint64_t entries_freed;

static void entry_dtor(zval *zv)
{
    entries_freed++;
    entry_free(Z_PTR_P(zv));
}

/* TLS to the sentinels and the data nodes alike (redis-cli's --tls): the
 * options first, then on, so each role's context is built once; a CA,
 * certificate or key that cannot be loaded fails here (SENTINEL_ERR_TLS). */
static int entry_tls(sentinel_t *s, const sn_php_settings *cfg)
{
    static const int roles[] = {SENTINEL_TLS_SENTINELS, SENTINEL_TLS_DATA};

    if (!cfg->tls)
        return 0;
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (sentinel_set_tls_ca(s, roles[i], cfg->tls_cafile, cfg->tls_capath) != 0 ||
            sentinel_set_tls_cert(s, roles[i], cfg->tls_cert, cfg->tls_key) != 0 ||
            sentinel_set_tls_server_name(s, roles[i], cfg->tls_server_name) != 0 ||
            sentinel_set_tls_verify(s, roles[i], cfg->tls_verify) != 0 ||
            sentinel_set_tls_min_version(s, roles[i], cfg->tls_min_version) != 0 ||
            sentinel_set_tls(s, roles[i], 1) != 0)
            return -1;
    }
    return 0;
}

/* Builds the handle; on a refused setting, code/err say why. */
static sn_php_entry *entry_new(const sn_php_settings *cfg, zend_string *key, int *code,
                               char *err, size_t errlen)
{
    sn_php_entry *e = pecalloc(1, sizeof(*e), 1);

    e->heartbeat_age_ms = -1;
    e->ready_slot = -1;
    e->connect_ms = e->command_ms = e->total_ms = e->ttl_ms = -1;
    if ((e->s = sentinel_new(cfg->master, NULL)) == NULL) {
        *code = SENTINEL_ERR_INVALID_ARGUMENT;
        snprintf(err, errlen, "invalid master name '%s'", cfg->master);
        goto fail;
    }
    if (sentinel_add_sentinels(e->s, cfg->sentinels) != 0 ||
        sentinel_set_sentinel_auth(e->s, cfg->sentinel_user, cfg->sentinel_password) != 0 ||
        sentinel_set_data_auth(e->s, cfg->data_user, cfg->data_password) != 0 ||
        entry_tls(e->s, cfg) != 0) {
        *code = sentinel_errcode(e->s);
        snprintf(err, errlen, "%s", sentinel_errstr(e->s));
        goto fail;
    }
    e->key = zend_string_copy(key);
    e->master_name = pestrdup(cfg->master, 1);
    e->sentinel_list = pestrdup(cfg->sentinels, 1);
    return e;
fail:
    entry_free(e);
    return NULL;
}

/* Timeouts and TTL are per call, not part of the key: applying them costs
 * a few stores, and only when they changed. */
static int entry_apply(sn_php_entry *e, const sn_php_settings *cfg, int *code, char *err,
                       size_t errlen)
{
    int rc = 0;

    if (e->connect_ms != cfg->connect_ms)
        rc |= sentinel_set_timeout(e->s, SENTINEL_TIMEOUT_CONNECT, (int)cfg->connect_ms);
    if (e->command_ms != cfg->command_ms)
        rc |= sentinel_set_timeout(e->s, SENTINEL_TIMEOUT_COMMAND, (int)cfg->command_ms);
    if (e->total_ms != cfg->total_ms)
        rc |= sentinel_set_timeout(e->s, SENTINEL_TIMEOUT_TOTAL, (int)cfg->total_ms);
    if (e->ttl_ms != cfg->ttl_ms)
        rc |= sentinel_set_cache_ttl(e->s, (int)cfg->ttl_ms);
    if (rc != 0) {
        *code = sentinel_errcode(e->s);
        snprintf(err, errlen, "%s", sentinel_errstr(e->s));
        e->connect_ms = e->command_ms = e->total_ms = e->ttl_ms = -1;
        return -1;
    }
    e->connect_ms = cfg->connect_ms;
    e->command_ms = cfg->command_ms;
    e->total_ms = cfg->total_ms;
    e->ttl_ms = cfg->ttl_ms;
    return 0;
}

/* ------------------------------------------------------------------------
 * The registry
 * ------------------------------------------------------------------------ */

void sn_php_registry_init(void)
{
    zend_hash_init(&SENTINEL_G(registry), 8, NULL, entry_dtor, 1);
    SENTINEL_G(registry_ready) = true;
}

static void evict_least_recent(void)
{
    zend_string *victim = NULL, *key;
    sn_php_entry *e;
    uint64_t oldest = UINT64_MAX;

    ZEND_HASH_FOREACH_STR_KEY_PTR(&SENTINEL_G(registry), key, e) {
        if (e->last_used < oldest) {
            oldest = e->last_used;
            victim = key;
        }
    } ZEND_HASH_FOREACH_END();
    if (victim)
        zend_hash_del(&SENTINEL_G(registry), victim);
}

/*
 * The key: master, sentinels, users and TLS settings in plain text, the two
 * passwords as keyed hashes (sentinel_key.c) under this process's random
 * seed, so the registry, which lives as long as the worker, holds no
 * password (the library's handle keeps its own copy to authenticate).
 */
static unsigned char key_seed[SN_KEY_SEED_LEN];
static bool key_seeded;

static void seed_keys(void)
{
    if (php_random_bytes_silent(key_seed, sizeof(key_seed)) == FAILURE) {
        /* No entropy source: still a per-process key, only a guessable one
         * (the hashes then hide passwords as well as a fast hash does). */
        uint64_t mix[2] = {(uint64_t)sn_php_now_ms() ^ ((uint64_t)getpid() << 32),
                           (uint64_t)(uintptr_t)&key_seed};
        memcpy(key_seed, mix, sizeof(key_seed));
    }
    key_seeded = true;
}

static size_t registry_key(const sn_php_settings *cfg, char *out, size_t cap)
{
    const char *plain[] = {
        cfg->master, cfg->sentinels, cfg->sentinel_user, cfg->data_user,
        cfg->tls ? (cfg->tls_verify ? "tls" : "tls-noverify") : "plain",
        cfg->tls ? cfg->tls_cafile : NULL, cfg->tls ? cfg->tls_capath : NULL,
        cfg->tls ? cfg->tls_cert : NULL, cfg->tls ? cfg->tls_key : NULL,
        cfg->tls ? cfg->tls_server_name : NULL,
        cfg->tls && cfg->tls_min_version == SENTINEL_TLS_V1_3 ? "tls1.3" : NULL,
    };
    const char *secret[] = {cfg->sentinel_password, cfg->data_password};

    if (!key_seeded)
        seed_keys();
    return sn_key_build(out, cap, plain, sizeof(plain) / sizeof(plain[0]), secret,
                        sizeof(secret) / sizeof(secret[0]), key_seed);
}

/*
 * Forks seen by this process (pthread_atfork): an entry made before the
 * latest one holds its parent's sockets and locks. Compared at every call
 * instead of asking getpid(), a system call, each time.
 */
static unsigned fork_generation;
static bool atfork_set;

static void on_fork_child(void)
{
    fork_generation++;
}

static unsigned current_generation(void)
{
    if (!atfork_set) {
        /* Unregistered by the C library when the extension is unloaded. */
        if (pthread_atfork(NULL, NULL, on_fork_child) == 0)
            atfork_set = true;
        else
            return (unsigned)getpid(); /* no fork hook: the pid tells a child */
    }
    return fork_generation;
}

sn_php_entry *sn_php_registry_get(const sn_php_settings *cfg, int *code, char *err,
                                  size_t errlen)
{
    static uint64_t use_clock;
    char buf[512], *k = buf;
    size_t len;
    sn_php_entry *e;
    unsigned gen = current_generation();

    if (!SENTINEL_G(registry_ready))
        sn_php_registry_init();
    /* Remembered settings: the entry found for them last, while no entry
     * was freed (equal settings always build the same key). */
    if (cfg->hint != NULL && cfg->hint->e != NULL && cfg->hint->gen == entries_freed) {
        e = cfg->hint->e;
        goto found;
    }
    if ((len = registry_key(cfg, buf, sizeof(buf))) > sizeof(buf)) {
        k = emalloc(len);
        registry_key(cfg, k, len);
    }
    e = zend_hash_str_find_ptr(&SENTINEL_G(registry), k, len);
    if (e == NULL) {
        zend_string *key = zend_string_init(k, len, 1);

        e = entry_new(cfg, key, code, err, errlen);
        zend_string_release(key);
        if (e == NULL)
            goto out;
        e->fork_generation = gen;
        if (zend_hash_num_elements(&SENTINEL_G(registry)) >= SN_PHP_REGISTRY_MAX)
            evict_least_recent();
        zend_hash_add_ptr(&SENTINEL_G(registry), e->key, e);
    }
    if (cfg->hint != NULL) {
        cfg->hint->e = e;
        cfg->hint->gen = entries_freed;
    }
found:
    if (e->fork_generation != gen) {
        entry_release_process_state(e);
        e->fork_generation = gen;
    }
    e->last_used = ++use_clock;
    if (entry_apply(e, cfg, code, err, errlen) != 0)
        e = NULL;
out:
    if (k != buf)
        efree(k);
    return e;
}

void sn_php_registry_library_stats(zend_ulong *queries, zend_ulong *failures,
                                   zend_ulong *role_checks)
{
    sn_php_entry *e;

    *queries = SENTINEL_G(counters).retired_sentinel_queries;
    *failures = SENTINEL_G(counters).retired_sentinel_failures;
    *role_checks = SENTINEL_G(counters).retired_role_checks;
    if (!SENTINEL_G(registry_ready))
        return;
    ZEND_HASH_FOREACH_PTR(&SENTINEL_G(registry), e) {
        sentinel_stats st;
        st.size = sizeof(st);
        if (sentinel_get_stats(e->s, &st) == 0) {
            *queries += st.sentinel_queries;
            *failures += st.sentinel_failures;
            *role_checks += st.role_checks;
        }
        *role_checks += sn_php_follow_probes(e);
    } ZEND_HASH_FOREACH_END();
}
