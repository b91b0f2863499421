/* The sentinel extension: module lifecycle and phpinfo(). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "php_ini.h"
#include "ext/standard/info.h"
#include "ext/spl/spl_exceptions.h"

#include "sentinel/sentinel.h"

#include "php_sentinel.h"
#include "sentinel_exception.h"
#include "sentinel_fast.h"
#include "sentinel_follow.h"
#include "sentinel_shm.h"
#include "sentinel_ini.h"
#include "sentinel_ready.h"
#include "sentinel_registry.h"

#include "sentinel_arginfo.h"

ZEND_DECLARE_MODULE_GLOBALS(sentinel)

static PHP_GINIT_FUNCTION(sentinel)
{
#if defined(COMPILE_DL_SENTINEL) && defined(ZTS)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    memset(sentinel_globals, 0, sizeof(*sentinel_globals));
}

/* The registry holds sockets and mappings for the life of the process (an
 * FPM worker); it goes away with the process's globals. */
static PHP_GSHUTDOWN_FUNCTION(sentinel)
{
    if (sentinel_globals->registry_ready) {
        zend_hash_destroy(&sentinel_globals->registry);
        sentinel_globals->registry_ready = false;
    }
    sn_php_fast_shutdown();
}

static PHP_MINIT_FUNCTION(sentinel)
{
    sn_php_ini_register(module_number, type);
    sn_php_fast_startup();
    sn_php_exception_set_ce(register_class_Sentinel_Exception(spl_ce_RuntimeException));
    return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(sentinel)
{
    sn_php_ready_shutdown(); /* its code goes away with the extension */
    sn_php_ini_unregister(module_number, type);
    return SUCCESS;
}

static void info_counter(const char *name, zend_ulong v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), ZEND_ULONG_FMT, v);
    php_info_print_table_row(2, name, buf);
}

static PHP_MINFO_FUNCTION(sentinel)
{
    const sn_php_counters *c = &SENTINEL_G(counters);
    zend_ulong queries, failures, role_checks;

    sn_php_registry_library_stats(&queries, &failures, &role_checks);
    php_info_print_table_start();
    php_info_print_table_header(2, "sentinel support", "enabled");
    php_info_print_table_row(2, "Extension version", PHP_SENTINEL_VERSION);
    php_info_print_table_row(2, "libsentinel version", sentinel_version());
    php_info_print_table_row(2, "libsentinel build",
#ifdef SENTINEL_BUNDLED
                             "bundled"
#else
                             "system"
#endif
    );
    php_info_print_table_row(2, "TLS", sentinel_tls_available() ? "available" : "not built");
    if (SENTINEL_G(shm_status)[0] != '\0') {
        php_info_print_table_row(2, "Shared cache", SENTINEL_G(shm_status));
    } else {
        char status[640];
        sn_php_shared_cache_probe(status, sizeof(status));
        php_info_print_table_row(2, "Shared cache", status);
    }
    php_info_print_table_row(2, "Failover following", sn_php_follow_mode_summary());
    php_info_print_table_end();

    php_info_print_table_start();
    php_info_print_table_header(2, "Counters (this process)", "Value");
    info_counter("Resolutions", c->resolutions);
    info_counter("Cache hits (worker)", c->cache_hits);
    info_counter("Shared cache hits", c->shared_hits);
    info_counter("Sentinel lookups", c->sentinel_lookups);
    info_counter("Sentinel queries", queries);
    info_counter("Sentinel failures", failures);
    info_counter("ROLE checks", role_checks + c->role_checks);
    info_counter("Invalidations", c->invalidations);
    info_counter("Failover events", c->failover_events);
    info_counter("Failover waits", c->failover_waits);
    info_counter("Failover fast fails", c->failover_fast_fails);
    info_counter("Errors", c->errors);
    info_counter("Handles", SENTINEL_G(registry_ready)
                                ? zend_hash_num_elements(&SENTINEL_G(registry))
                                : 0);
    php_info_print_table_end();

    sn_php_ini_display(zend_module);
}

zend_module_entry sentinel_module_entry = {
    STANDARD_MODULE_HEADER,
    PHP_SENTINEL_EXTNAME,
    ext_functions,
    PHP_MINIT(sentinel),
    PHP_MSHUTDOWN(sentinel),
    NULL,
    NULL,
    PHP_MINFO(sentinel),
    PHP_SENTINEL_VERSION,
    PHP_MODULE_GLOBALS(sentinel),
    PHP_GINIT(sentinel),
    PHP_GSHUTDOWN(sentinel),
    NULL,
    STANDARD_MODULE_PROPERTIES_EX
};

#ifdef COMPILE_DL_SENTINEL
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(sentinel)
#endif
