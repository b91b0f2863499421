/*
 * The per-process registry: one libsentinel handle (plus, on demand, the
 * host's shared cache file and a watcher) per distinct master name,
 * sentinel list, credentials and TLS settings, in persistent memory so it survives the
 * request. Keyed by those settings so two clusters that both call their
 * master "mymaster" never share an answer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <time.h>
#include <unistd.h>

#include "php.h"
#include "zend_smart_str.h"

#include "php_sentinel.h"
#include "sentinel_follow.h"
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
    e->pid = getpid();
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

static void entry_dtor(zval *zv)
{
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

    e->pid = getpid();
    e->heartbeat_age_ms = -1;
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
    e->key = zend_string_dup(key, 1);
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

static void append(smart_str *k, const char *s)
{
    if (s)
        smart_str_appends(k, s);
    smart_str_appendc(k, '\0');
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

sn_php_entry *sn_php_registry_get(const sn_php_settings *cfg, int *code, char *err,
                                  size_t errlen)
{
    static uint64_t use_clock;
    smart_str k = {0};
    sn_php_entry *e;

    if (!SENTINEL_G(registry_ready))
        sn_php_registry_init();
    append(&k, cfg->master);
    append(&k, cfg->sentinels);
    append(&k, cfg->sentinel_user);
    append(&k, cfg->sentinel_password);
    append(&k, cfg->data_user);
    append(&k, cfg->data_password);
    append(&k, cfg->tls ? (cfg->tls_verify ? "tls" : "tls-noverify") : "plain");
    if (cfg->tls) {
        append(&k, cfg->tls_cafile);
        append(&k, cfg->tls_capath);
        append(&k, cfg->tls_cert);
        append(&k, cfg->tls_key);
        append(&k, cfg->tls_server_name);
    }
    smart_str_0(&k);

    e = zend_hash_find_ptr(&SENTINEL_G(registry), k.s);
    if (e == NULL) {
        if ((e = entry_new(cfg, k.s, code, err, errlen)) == NULL)
            goto out;
        if (zend_hash_num_elements(&SENTINEL_G(registry)) >= SN_PHP_REGISTRY_MAX)
            evict_least_recent();
        zend_hash_add_ptr(&SENTINEL_G(registry), e->key, e);
    } else if (e->pid != getpid()) {
        entry_release_process_state(e);
    }
    e->last_used = ++use_clock;
    if (entry_apply(e, cfg, code, err, errlen) != 0)
        e = NULL;
out:
    smart_str_free(&k);
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
