/* The PHP functions of namespace Sentinel (declared in sentinel.stub.php). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"

#include "php_sentinel.h"
#include "sentinel_exception.h"
#include "sentinel_follow.h"
#include "sentinel_shm.h"
#include "sentinel_resolve.h"

#define SN_PHP_ERR_MAX 1024

/* {{{ Sentinel\resolve(?string $master = null, ?array $options = null): array */
PHP_FUNCTION(Sentinel_resolve)
{
    zend_string *master = NULL;
    HashTable *options = NULL;
    sn_php_call call;
    sentinel_addr addr;
    const char *source = "sentinel";
    char err[SN_PHP_ERR_MAX] = "";
    uint64_t epoch = 0;
    int rc;

    ZEND_PARSE_PARAMETERS_START(0, 2)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(master)
        Z_PARAM_ARRAY_HT_OR_NULL(options)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;

    if (sn_php_call_init(&call, master, options, 2) == FAILURE) {
        sn_php_call_free(&call);
        RETURN_THROWS();
    }
    rc = sn_php_resolve(&call.cfg, &addr, &source, &epoch, err, sizeof(err));
    sn_php_call_free(&call);
    if (rc != SENTINEL_OK) {
        SENTINEL_G(counters).errors++;
        sn_php_throw(rc, err);
        RETURN_THROWS();
    }
    array_init_size(return_value, 5);
    add_assoc_string(return_value, "host", addr.host);
    add_assoc_long(return_value, "port", addr.port);
    add_assoc_long(return_value, "verified_at_ms", (zend_long)addr.verified_at_ms);
    add_assoc_string(return_value, "source", (char *)source);
    add_assoc_long(return_value, "epoch", (zend_long)epoch);
}
/* }}} */

/* {{{ Sentinel\epoch(?string $master = null, ?array $options = null): int */
PHP_FUNCTION(Sentinel_epoch)
{
    zend_string *master = NULL;
    HashTable *options = NULL;
    sn_php_call call;
    char err[SN_PHP_ERR_MAX] = "";
    uint64_t epoch = 0;
    int rc;

    ZEND_PARSE_PARAMETERS_START(0, 2)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(master)
        Z_PARAM_ARRAY_HT_OR_NULL(options)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;

    if (sn_php_call_init(&call, master, options, 2) == FAILURE) {
        sn_php_call_free(&call);
        RETURN_THROWS();
    }
    rc = sn_php_epoch_of(&call.cfg, &epoch, err, sizeof(err));
    sn_php_call_free(&call);
    if (rc != SENTINEL_OK) {
        sn_php_throw(rc, err);
        RETURN_THROWS();
    }
    RETURN_LONG((zend_long)epoch);
}
/* }}} */

static void invalidate(zend_string *master, const char *host, zend_long port, HashTable *options,
                       uint32_t options_arg, zval *return_value)
{
    sn_php_call call;
    char err[SN_PHP_ERR_MAX] = "";
    bool forgot = false;
    int rc;

    if (sn_php_call_init(&call, master, options, options_arg) == FAILURE) {
        sn_php_call_free(&call);
        return;
    }
    rc = sn_php_invalidate(&call.cfg, host, port, &forgot, err, sizeof(err));
    sn_php_call_free(&call);
    if (rc != SENTINEL_OK) {
        sn_php_throw(rc, err);
        return;
    }
    RETVAL_BOOL(forgot);
}

/* {{{ Sentinel\invalidate(?string $master = null, ?string $host = null, ?int $port = null,
 *                          ?array $options = null): bool */
PHP_FUNCTION(Sentinel_invalidate)
{
    zend_string *master = NULL, *host = NULL;
    zend_long port = 0;
    bool port_null = true;
    HashTable *options = NULL;

    ZEND_PARSE_PARAMETERS_START(0, 4)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(master)
        Z_PARAM_STR_OR_NULL(host)
        Z_PARAM_LONG_OR_NULL(port, port_null)
        Z_PARAM_ARRAY_HT_OR_NULL(options)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;

    if (host != NULL && (port_null || port < 1 || port > 65535)) {
        zend_argument_value_error(3, "must be a port from 1 to 65535 when $host is given");
        RETURN_THROWS();
    }
    invalidate(master, host ? ZSTR_VAL(host) : NULL, port, options, 4, return_value);
}
/* }}} */

/* {{{ Sentinel\report_error(string $host, int $port, string $error, ?string $master = null,
 *                            ?array $options = null): bool */
PHP_FUNCTION(Sentinel_report_error)
{
    zend_string *host, *error, *master = NULL;
    zend_long port;
    HashTable *options = NULL;

    ZEND_PARSE_PARAMETERS_START(3, 5)
        Z_PARAM_STR(host)
        Z_PARAM_LONG(port)
        Z_PARAM_STR(error)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(master)
        Z_PARAM_ARRAY_HT_OR_NULL(options)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;

    if (port < 1 || port > 65535) {
        zend_argument_value_error(2, "must be a port from 1 to 65535");
        RETURN_THROWS();
    }
    if (!sn_php_error_means_switch(ZSTR_VAL(error), ZSTR_LEN(error)))
        RETURN_FALSE;
    invalidate(master, ZSTR_VAL(host), port, options, 5, return_value);
}
/* }}} */

static void add_handle(zval *list, sn_php_entry *e)
{
    zval h;
    sentinel_stats st;
    sentinel_follow_stats fst;
    sentinel_addr cur;

    array_init(&h);
    add_assoc_string(&h, "master", e->master_name);
    add_assoc_string(&h, "sentinels", e->sentinel_list);
    if (e->shm != NULL)
        add_assoc_string(&h, "shared_cache", e->shm_path);
    else
        add_assoc_null(&h, "shared_cache");
    add_assoc_string(&h, "shared_cache_mode", e->shm_status[0] ? e->shm_status : "off");
    add_assoc_long(&h, "epoch", (zend_long)sn_php_epoch(e));
    add_assoc_string(&h, "follow_mode", (char *)sn_php_mode_name(e->mode));
    add_assoc_long(&h, "heartbeat_age_ms", (zend_long)e->heartbeat_age_ms);
    add_assoc_bool(&h, "watching", e->f != NULL);
    add_assoc_string(&h, "follow_state",
                     e->f ? (char *)sentinel_follow_state_name(sentinel_follow_get_state(e->f))
                          : "none");
    add_assoc_bool(&h, "in_failover", sn_php_follow_paused(e) || e->have_failed);
    fst.size = sizeof(fst);
    add_assoc_long(&h, "watch_events",
                   e->f && sentinel_follow_get_stats(e->f, &fst) == 0 ? (zend_long)fst.events : 0);
    if (e->f != NULL && sentinel_follow_master(e->f, &cur) == 0) {
        char buf[SENTINEL_HOST_MAX + 16];
        snprintf(buf, sizeof(buf), "%s:%d", cur.host, cur.port);
        add_assoc_string(&h, "watch_master", buf);
    } else {
        add_assoc_null(&h, "watch_master");
    }
    if (e->have_last) {
        char buf[SENTINEL_HOST_MAX + 16];
        snprintf(buf, sizeof(buf), "%s:%d", e->last.host, e->last.port);
        add_assoc_string(&h, "last", buf);
    } else {
        add_assoc_null(&h, "last");
    }
    /* Where the library's last answer for this handle came from. */
    add_assoc_string(&h, "last_source",
                     (char *)sentinel_source_name(sentinel_last_source(e->s)));
    st.size = sizeof(st);
    if (sentinel_get_stats(e->s, &st) == 0) {
        add_assoc_long(&h, "sentinel_queries", (zend_long)st.sentinel_queries);
        add_assoc_long(&h, "role_checks", (zend_long)st.role_checks);
    }
    add_next_index_zval(list, &h);
}

/* {{{ Sentinel\stats(): array */
PHP_FUNCTION(Sentinel_stats)
{
    const sn_php_counters *c = &SENTINEL_G(counters);
    zend_ulong queries, failures, role_checks;
    zend_long watchers = 0;
    zval handles;
    sn_php_entry *e, *recent = NULL;

    ZEND_PARSE_PARAMETERS_NONE();

    sn_php_registry_library_stats(&queries, &failures, &role_checks);
    array_init(&handles);
    if (SENTINEL_G(registry_ready)) {
        ZEND_HASH_FOREACH_PTR(&SENTINEL_G(registry), e) {
            add_handle(&handles, e);
            watchers += e->f != NULL;
            if (recent == NULL || e->last_used > recent->last_used)
                recent = e;
        } ZEND_HASH_FOREACH_END();
    }
    array_init(return_value);
    add_assoc_long(return_value, "resolutions", (zend_long)c->resolutions);
    add_assoc_long(return_value, "remembered_resolutions", (zend_long)c->remembered_resolutions);
    add_assoc_long(return_value, "remembered_key_hashes", (zend_long)c->remembered_key_hashes);
    add_assoc_long(return_value, "calls", (zend_long)c->calls);
    add_assoc_long(return_value, "cache_hits", (zend_long)c->cache_hits);
    add_assoc_long(return_value, "shared_hits", (zend_long)c->shared_hits);
    add_assoc_long(return_value, "sentinel_lookups", (zend_long)c->sentinel_lookups);
    add_assoc_long(return_value, "errors", (zend_long)c->errors);
    add_assoc_long(return_value, "invalidations", (zend_long)c->invalidations);
    add_assoc_long(return_value, "failover_events", (zend_long)c->failover_events);
    add_assoc_long(return_value, "failover_waits", (zend_long)c->failover_waits);
    add_assoc_long(return_value, "failover_fast_fails", (zend_long)c->failover_fast_fails);
    add_assoc_long(return_value, "role_checks", (zend_long)(c->role_checks + role_checks));
    add_assoc_long(return_value, "sentinel_queries", (zend_long)queries);
    add_assoc_long(return_value, "sentinel_failures", (zend_long)failures);
    add_assoc_long(return_value, "handles", (zend_long)zend_hash_num_elements(Z_ARRVAL(handles)));
    add_assoc_long(return_value, "watchers", watchers);
    /* How the handle used last follows failovers: "worker" (its own
     * follower), "host" (a host follower's heartbeat is fresh) or "off". */
    add_assoc_string(return_value, "follow_mode",
                     (char *)sn_php_mode_name(recent ? recent->mode : SN_PHP_MODE_OFF));
    add_assoc_string(return_value, "shared_cache_mode",
                     SENTINEL_G(shm_status)[0] ? SENTINEL_G(shm_status) : "off");
    add_assoc_zval(return_value, "masters", &handles);
}
/* }}} */
