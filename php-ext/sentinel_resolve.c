/*
 * One resolution. Settings come from INI, overridden by the per-call options
 * array; the answer comes, cheapest first, from:
 *
 *   1. a failover in progress (follower / shared flag): wait for the new master
 *   2. a new master verified during a failover ("pinned")
 *   3. libsentinel: the host's shared cache, then the handle's own cache,
 *      then the sentinels (one refresher per host, one per process)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <strings.h>

#include "php.h"
#include "zend_exceptions.h"

#include "php_sentinel.h"
#include "sentinel_exception.h"
#include "sentinel_follow.h"
#include "sentinel_ini.h"
#include "sentinel_resolve.h"
#include "sentinel_shm.h"

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

static const char *ini_str(const char *s)
{
    return (s != NULL && *s != '\0') ? s : NULL;
}

static void settings_from_ini(sn_php_settings *c)
{
    memset(c, 0, sizeof(*c));
    c->master = ini_str(SENTINEL_G(master_name));
    c->sentinels = ini_str(SENTINEL_G(sentinels));
    c->connect_ms = SENTINEL_G(connect_timeout_ms);
    c->command_ms = SENTINEL_G(command_timeout_ms);
    c->total_ms = SENTINEL_G(timeout_ms);
    c->ttl_ms = SENTINEL_G(cache_ttl_ms);
    c->failover_wait_ms = SENTINEL_G(failover_wait_ms);
    c->sentinel_user = ini_str(SENTINEL_G(sentinel_user));
    c->sentinel_password = ini_str(SENTINEL_G(sentinel_password));
    c->data_user = ini_str(SENTINEL_G(data_user));
    c->data_password = ini_str(SENTINEL_G(data_password));
    c->shared_cache = SENTINEL_G(shared_cache);
    c->watch = SENTINEL_G(watch) != SN_PHP_WATCH_OFF;
    c->watch_forced = SENTINEL_G(watch) == SN_PHP_WATCH_ON;
    c->no_cache = false;
    c->tls = SENTINEL_G(tls);
    c->tls_cafile = ini_str(SENTINEL_G(tls_cafile));
    c->tls_capath = ini_str(SENTINEL_G(tls_capath));
    c->tls_cert = ini_str(SENTINEL_G(tls_cert));
    c->tls_key = ini_str(SENTINEL_G(tls_key));
    c->tls_server_name = ini_str(SENTINEL_G(tls_server_name));
    c->tls_verify = SENTINEL_G(tls_verify);
    c->tls_min_version = (int)SENTINEL_G(tls_min_version);
}

static zend_result opt_ms(zval *v, zend_string *key, uint32_t arg_num, zend_long *out)
{
    if (Z_TYPE_P(v) != IS_LONG) {
        zend_argument_type_error(arg_num, "option \"%s\" must be of type int, %s given",
                                 ZSTR_VAL(key), zend_zval_type_name(v));
        return FAILURE;
    }
    if (Z_LVAL_P(v) < 0 || Z_LVAL_P(v) > SN_PHP_MS_MAX) {
        zend_argument_value_error(arg_num, "option \"%s\" must be between 0 and %d",
                                  ZSTR_VAL(key), SN_PHP_MS_MAX);
        return FAILURE;
    }
    *out = Z_LVAL_P(v);
    return SUCCESS;
}

/* ?string options: null or "" means "not set". */
static zend_result opt_str(zval *v, zend_string *key, uint32_t arg_num, const char **out)
{
    if (Z_TYPE_P(v) == IS_NULL) {
        *out = NULL;
        return SUCCESS;
    }
    if (Z_TYPE_P(v) != IS_STRING) {
        zend_argument_type_error(arg_num, "option \"%s\" must be of type ?string, %s given",
                                 ZSTR_VAL(key), zend_zval_type_name(v));
        return FAILURE;
    }
    if (memchr(Z_STRVAL_P(v), '\0', Z_STRLEN_P(v)) != NULL) {
        zend_argument_value_error(arg_num, "option \"%s\" must not contain NUL bytes",
                                  ZSTR_VAL(key));
        return FAILURE;
    }
    *out = Z_STRLEN_P(v) ? Z_STRVAL_P(v) : NULL;
    return SUCCESS;
}

static zend_result opt_bool(zval *v, zend_string *key, uint32_t arg_num, bool *out)
{
    if (Z_TYPE_P(v) != IS_TRUE && Z_TYPE_P(v) != IS_FALSE) {
        zend_argument_type_error(arg_num, "option \"%s\" must be of type bool, %s given",
                                 ZSTR_VAL(key), zend_zval_type_name(v));
        return FAILURE;
    }
    *out = Z_TYPE_P(v) == IS_TRUE;
    return SUCCESS;
}

/* The TLS file options: as their INI settings, an absolute path or null/"". */
static zend_result opt_tls_path(zval *v, zend_string *key, uint32_t arg_num, const char **out)
{
    if (opt_str(v, key, arg_num, out) == FAILURE)
        return FAILURE;
    if (*out != NULL && !sn_php_valid_tls_path(*out, strlen(*out))) {
        zend_argument_value_error(arg_num,
                                  "option \"%s\" must be an absolute path without line breaks",
                                  ZSTR_VAL(key));
        return FAILURE;
    }
    return SUCCESS;
}

/* "sentinels": a "host:port,host:port" string or a list of "host:port". */
static zend_result opt_sentinels(sn_php_call *call, zval *v, zend_string *key, uint32_t arg_num)
{
    zval *item;

    if (Z_TYPE_P(v) == IS_STRING)
        return opt_str(v, key, arg_num, &call->cfg.sentinels);
    if (Z_TYPE_P(v) != IS_ARRAY) {
        zend_argument_type_error(arg_num, "option \"sentinels\" must be of type string|array, %s given",
                                 zend_zval_type_name(v));
        return FAILURE;
    }
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), item) {
        ZVAL_DEREF(item);
        if (Z_TYPE_P(item) != IS_STRING || Z_STRLEN_P(item) == 0 ||
            memchr(Z_STRVAL_P(item), '\0', Z_STRLEN_P(item)) != NULL) {
            zend_argument_value_error(arg_num,
                                      "option \"sentinels\" must list non-empty \"host:port\" strings");
            return FAILURE;
        }
        if (call->sentinels_buf.s != NULL)
            smart_str_appendc(&call->sentinels_buf, ',');
        smart_str_append(&call->sentinels_buf, Z_STR_P(item));
    } ZEND_HASH_FOREACH_END();
    smart_str_0(&call->sentinels_buf);
    call->cfg.sentinels = call->sentinels_buf.s ? ZSTR_VAL(call->sentinels_buf.s) : NULL;
    return SUCCESS;
}

/* tls, tls_cafile, tls_capath, tls_cert, tls_key, tls_server_name,
 * tls_verify, tls_min_version: the INI settings of the same names, for
 * this call. */
static zend_result apply_tls_option(sn_php_settings *c, zend_string *key, zval *v,
                                    uint32_t arg_num)
{
    const char *k = ZSTR_VAL(key);

    if (strcmp(k, "tls") == 0)
        return opt_bool(v, key, arg_num, &c->tls);
    if (strcmp(k, "tls_verify") == 0)
        return opt_bool(v, key, arg_num, &c->tls_verify);
    if (strcmp(k, "tls_min_version") == 0) {
        if (Z_TYPE_P(v) != IS_STRING) {
            zend_argument_type_error(arg_num, "option \"%s\" must be of type string, %s given",
                                     k, zend_zval_type_name(v));
            return FAILURE;
        }
        if ((c->tls_min_version = sn_php_parse_tls_version(Z_STRVAL_P(v), Z_STRLEN_P(v))) == 0) {
            zend_argument_value_error(arg_num, "option \"%s\" must be \"1.2\" or \"1.3\"", k);
            return FAILURE;
        }
        return SUCCESS;
    }
    if (strcmp(k, "tls_cafile") == 0)
        return opt_tls_path(v, key, arg_num, &c->tls_cafile);
    if (strcmp(k, "tls_capath") == 0)
        return opt_tls_path(v, key, arg_num, &c->tls_capath);
    if (strcmp(k, "tls_cert") == 0)
        return opt_tls_path(v, key, arg_num, &c->tls_cert);
    if (strcmp(k, "tls_key") == 0)
        return opt_tls_path(v, key, arg_num, &c->tls_key);
    if (strcmp(k, "tls_server_name") == 0) {
        if (opt_str(v, key, arg_num, &c->tls_server_name) == FAILURE)
            return FAILURE;
        if (c->tls_server_name != NULL &&
            !sn_php_valid_tls_name(c->tls_server_name, strlen(c->tls_server_name))) {
            zend_argument_value_error(arg_num, "option \"%s\" must be a host name", k);
            return FAILURE;
        }
        return SUCCESS;
    }
    zend_argument_value_error(arg_num, "contains unknown option \"%s\"", k);
    return FAILURE;
}

static zend_result apply_option(sn_php_call *call, zend_string *key, zval *v, uint32_t arg_num)
{
    sn_php_settings *c = &call->cfg;
    const char *k = ZSTR_VAL(key);

    ZVAL_DEREF(v);
    if (strcmp(k, "sentinels") == 0)
        return opt_sentinels(call, v, key, arg_num);
    if (strcmp(k, "master") == 0)
        return opt_str(v, key, arg_num, &c->master);
    if (strcmp(k, "connect_timeout_ms") == 0)
        return opt_ms(v, key, arg_num, &c->connect_ms);
    if (strcmp(k, "command_timeout_ms") == 0)
        return opt_ms(v, key, arg_num, &c->command_ms);
    if (strcmp(k, "timeout_ms") == 0)
        return opt_ms(v, key, arg_num, &c->total_ms);
    if (strcmp(k, "cache_ttl_ms") == 0)
        return opt_ms(v, key, arg_num, &c->ttl_ms);
    if (strcmp(k, "failover_wait_ms") == 0)
        return opt_ms(v, key, arg_num, &c->failover_wait_ms);
    if (strcmp(k, "sentinel_user") == 0)
        return opt_str(v, key, arg_num, &c->sentinel_user);
    if (strcmp(k, "sentinel_password") == 0)
        return opt_str(v, key, arg_num, &c->sentinel_password);
    if (strcmp(k, "data_user") == 0)
        return opt_str(v, key, arg_num, &c->data_user);
    if (strcmp(k, "data_password") == 0)
        return opt_str(v, key, arg_num, &c->data_password);
    if (strcmp(k, "shared_cache") == 0)
        return opt_bool(v, key, arg_num, &c->shared_cache);
    if (strcmp(k, "watch") == 0) {
        zend_result r = opt_bool(v, key, arg_num, &c->watch);
        c->watch_forced = c->watch;
        return r;
    }
    if (strcmp(k, "no_cache") == 0)
        return opt_bool(v, key, arg_num, &c->no_cache);
    if (strncmp(k, "tls", 3) == 0)
        return apply_tls_option(c, key, v, arg_num);
    zend_argument_value_error(arg_num, "contains unknown option \"%s\"", k);
    return FAILURE;
}

zend_result sn_php_call_init(sn_php_call *call, zend_string *master, HashTable *options,
                             uint32_t arg_num)
{
    zend_string *key;
    zval *v;

    memset(call, 0, sizeof(*call));
    settings_from_ini(&call->cfg);
    if (options != NULL) {
        ZEND_HASH_FOREACH_STR_KEY_VAL(options, key, v) {
            if (key == NULL) {
                zend_argument_value_error(arg_num, "must be an array with string keys");
                return FAILURE;
            }
            if (apply_option(call, key, v, arg_num) == FAILURE)
                return FAILURE;
        } ZEND_HASH_FOREACH_END();
    }
    if (master != NULL && ZSTR_LEN(master) > 0)
        call->cfg.master = ZSTR_VAL(master);
    if (call->cfg.master == NULL) {
        sn_php_throw(SENTINEL_ERR_INVALID_ARGUMENT,
                     "no master name: pass one or set sentinel.master_name");
        return FAILURE;
    }
    if (call->cfg.sentinels == NULL) {
        sn_php_throw(SENTINEL_ERR_INVALID_ARGUMENT,
                     "no sentinels: pass the \"sentinels\" option or set sentinel.sentinels");
        return FAILURE;
    }
    /* 0 = the library's default, here too (README, "What 0 means"). */
    if (call->cfg.connect_ms == 0)
        call->cfg.connect_ms = SN_PHP_DEFAULT_CONNECT_MS;
    if (call->cfg.command_ms == 0)
        call->cfg.command_ms = SN_PHP_DEFAULT_COMMAND_MS;
    if (call->cfg.total_ms == 0)
        call->cfg.total_ms = SN_PHP_DEFAULT_TOTAL_MS;
    if (call->cfg.ttl_ms == 0)
        call->cfg.ttl_ms = SN_PHP_DEFAULT_TTL_MS;
    return SUCCESS;
}

void sn_php_call_free(sn_php_call *call)
{
    smart_str_free(&call->sentinels_buf);
}

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

/* Ask libsentinel (shared cache, own cache, sentinels). */
static int library_resolve(sn_php_entry *e, const sn_php_settings *cfg, sentinel_shm_t *shm,
                           sentinel_addr *out, const char **source, char *err, size_t errlen)
{
    int flags = cfg->no_cache ? SENTINEL_RESOLVE_NO_CACHE : 0;
    int rc;

    if (shm != NULL && !cfg->no_cache) {
        rc = sentinel_resolve_shared(e->s, shm, flags | SENTINEL_RESOLVE_FAIL_FAST, out);
    } else {
        rc = sentinel_resolve(e->s, flags, out);
        /* A forced refresh is news for every worker of the host. */
        if (rc == SENTINEL_OK && shm != NULL)
            sentinel_shm_write(shm, out, (int)cfg->ttl_ms, 0, 50);
    }
    if (rc != SENTINEL_OK) {
        snprintf(err, errlen, "%s", sentinel_errstr(e->s));
        return rc;
    }
    /* The library says where the answer came from: behind a stale host
     * follower the shared path answers from the handle's own cache. */
    switch ((sentinel_source)sentinel_last_source(e->s)) {
    case SENTINEL_SOURCE_SHARED_CACHE:
        *source = "shared";
        SENTINEL_G(counters).shared_hits++;
        break;
    case SENTINEL_SOURCE_CACHE:
        *source = "cache";
        SENTINEL_G(counters).cache_hits++;
        break;
    case SENTINEL_SOURCE_NONE:
    case SENTINEL_SOURCE_SENTINEL:
    case SENTINEL_SOURCE_JOINED:
    case SENTINEL_SOURCE_LAST_KNOWN:
        *source = "sentinel";
        SENTINEL_G(counters).sentinel_lookups++;
        break;
    }
    return SENTINEL_OK;
}

/* The handle for cfg with its shared cache opened and its follower driven,
 * as every call that reports state needs it; NULL with code/err set. */
static sn_php_entry *entry_ready(const sn_php_settings *cfg, sentinel_shm_t **shm, int *code,
                                 char *err, size_t errlen)
{
    sn_php_entry *e = sn_php_registry_get(cfg, code, err, errlen);

    *shm = NULL;
    if (e == NULL)
        return NULL;
    if (cfg->shared_cache)
        *shm = sn_php_shared_cache(e);
    else if (e->shm == NULL)
        snprintf(e->shm_status, sizeof(e->shm_status), "off");
    sn_php_follow_step(e, cfg);
    return e;
}

int sn_php_epoch_of(const sn_php_settings *cfg, uint64_t *epoch, char *err, size_t errlen)
{
    sentinel_shm_t *shm;
    sn_php_entry *e;
    int code = SENTINEL_OK;

    if ((e = entry_ready(cfg, &shm, &code, err, errlen)) == NULL)
        return code;
    *epoch = sn_php_epoch(e);
    return SENTINEL_OK;
}

int sn_php_resolve(const sn_php_settings *cfg, sentinel_addr *out, const char **source,
                   uint64_t *epoch, char *err, size_t errlen)
{
    sentinel_shm_t *shm = NULL;
    sentinel_addr flagged;
    sn_php_entry *e;
    int code = SENTINEL_OK, rc, flag;
    bool fresh = false;

    SENTINEL_G(counters).resolutions++;
    if ((e = entry_ready(cfg, &shm, &code, err, errlen)) == NULL)
        return code;
    /* Read before the answer is chosen: a failover that starts meanwhile
     * moves the epoch past this one, so the caller's next check notices.
     * The same read of the shared entry says whether one is flagged. */
    *epoch = sn_php_epoch_flagged(e, &flagged, &flag);

    /* Our follower heard a failover start, or another process flagged one
     * in the host's cache (then even a pinned answer may be the old master). */
    if (sn_php_follow_paused(e) || (shm != NULL && flag == 1)) {
        rc = sn_php_failover_wait(e, cfg, out, err, errlen);
        if (rc == SENTINEL_OK) {
            *source = "failover";
            *epoch = sn_php_epoch(e); /* the new master's */
            goto done;
        }
        if (rc != -1)
            return rc;
    }
    if (cfg->no_cache)
        sn_php_failover_forget(e, NULL, 0);
    else if (sn_php_pinned(e, out, &fresh)) {
        /* The first answer since our follower resumed on it between calls
         * is still the failover's answer. */
        *source = fresh ? "failover" : "cache";
        if (!fresh)
            SENTINEL_G(counters).cache_hits++;
        goto done;
    }

    /* After an error report our follower asks ROLE again: wait for it (it
     * hears a failover start meanwhile) rather than block in a resolution. */
    if (!cfg->no_cache) {
        rc = sn_php_follow_wait_master(e, cfg, out, err, errlen);
        if (rc == -2) {
            rc = sn_php_failover_wait(e, cfg, out, err, errlen);
            if (rc == SENTINEL_OK) {
                *source = "failover";
                *epoch = sn_php_epoch(e);
                goto done;
            }
        }
        if (rc == SENTINEL_OK) {
            *source = "sentinel";
            SENTINEL_G(counters).sentinel_lookups++;
            goto done;
        }
        if (rc != -1)
            return rc;
    }

    rc = library_resolve(e, cfg, shm, out, source, err, errlen);
    if (rc == SENTINEL_ERR_NOT_MASTER && shm != NULL && sn_php_shared_failover(e, &flagged) == 1) {
        /* Another process heard a failover start: hold writes back too. */
        rc = sn_php_failover_wait(e, cfg, out, err, errlen);
        if (rc == SENTINEL_OK) {
            *source = "failover";
            *epoch = sn_php_epoch(e);
        } else if (rc == -1)
            rc = library_resolve(e, cfg, shm, out, source, err, errlen);
    }
    if (rc != SENTINEL_OK)
        return rc;
    sn_php_follow_verified(e, out);
done:
    e->last = *out;
    e->have_last = true;
    return SENTINEL_OK;
}

int sn_php_invalidate(const sn_php_settings *cfg, const char *host, zend_long port,
                      bool *forgot, char *err, size_t errlen)
{
    sn_php_entry *e;
    int code = SENTINEL_OK;

    *forgot = false;
    if ((e = sn_php_registry_get(cfg, &code, err, errlen)) == NULL)
        return code;
    /* A late error about an old master must not erase a newer answer. */
    if (host == NULL || !e->have_last || sn_php_same_addr(&e->last, host, (int)port)) {
        sentinel_invalidate(e->s);
        sn_php_failover_forget(e, host, (int)port);
        sn_php_follow_recheck(e);
        *forgot = true;
    }
    if (cfg->shared_cache) {
        sentinel_shm_t *shm = sn_php_shared_cache(e);
        int changed = 0;
        if (shm != NULL && sentinel_shm_invalidate(shm, host, (int)port, 50, &changed) == 0 &&
            changed)
            *forgot = true;
    }
    if (*forgot)
        SENTINEL_G(counters).invalidations++;
    return SENTINEL_OK;
}

/* ------------------------------------------------------------------------
 * Classifying client errors
 * ------------------------------------------------------------------------ */

bool sn_php_error_means_switch(const char *msg, size_t len)
{
    /* Reply prefixes: the node is a replica now, or cannot serve. */
    static const char *const prefixes[] = {"READONLY", "MASTERDOWN", "LOADING"};
    /* What phpredis, Credis and PHP streams say when the link broke. */
    static const char *const phrases[] = {
        "connection", "went away", "read error", "socket error", "timed out",
        "broken pipe", "reset by peer", "error while reading", "no route to host",
        "failed to connect", "unable to connect", "server closed",
    };
    char lower[256];
    size_t n;

    while (len > 0 && (*msg == ' ' || *msg == '-')) {
        msg++;
        len--;
    }
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        if (len >= pl && strncmp(msg, prefixes[i], pl) == 0)
            return true;
    }
    /* "ERR ... READONLY"? Some clients wrap the reply; look inside too. */
    n = len < sizeof(lower) - 1 ? len : sizeof(lower) - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)((msg[i] >= 'A' && msg[i] <= 'Z') ? msg[i] + 32 : msg[i]);
    lower[n] = '\0';
    if (strstr(lower, "readonly") != NULL && strstr(lower, "replica") != NULL)
        return true;
    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strstr(lower, phrases[i]) != NULL)
            return true;
    return false;
}
