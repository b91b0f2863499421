/*
 * INI settings. Each is bound to a typed module global (APCu's habit) and
 * checked by its OnUpdate handler before it is stored: a bad value is
 * refused with a warning naming the setting and the reason, and the old
 * value (or, at startup, the default) stays in force. Lists and names are
 * checked with libsentinel's own parser, so what INI accepts the library
 * accepts too.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "php.h"
#include "php_ini.h"
#include "SAPI.h"
#include "ext/standard/info.h"
#if PHP_VERSION_ID >= 80200
#include "ext/random/php_random.h"
#else
#include "ext/standard/php_random.h"
#endif

#include "php_sentinel.h"
#include "sentinel_ini.h"
#include "sentinel_key.h"

#include "sentinel/sentinel.h"

/* ------------------------------------------------------------------------
 * Parsers shared with per-call options
 * ------------------------------------------------------------------------ */

bool sn_php_parse_ms(const char *s, size_t len, zend_long *out)
{
    zend_long v = 0;

    /* Digits only: no sign, no K/M/G quantities, no white space. */
    if (len == 0 || len > 8)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > SN_PHP_MS_MAX)
        return false;
    *out = v;
    return true;
}

bool sn_php_watch_enabled(zend_long setting)
{
    if (setting != SN_PHP_WATCH_AUTO)
        return setting == SN_PHP_WATCH_ON;
    /* Workers that serve many requests keep the subscription; a CLI
     * script would pay for connections it never uses. */
    return sapi_module.name == NULL || strcmp(sapi_module.name, "cli") != 0;
}

/* ------------------------------------------------------------------------
 * OnUpdate handlers
 * ------------------------------------------------------------------------ */

static void refuse(zend_ini_entry *entry, const zend_string *value, const char *why)
{
    php_error_docref(NULL, E_WARNING, "Invalid value '%s' for %s: %s; keeping %s",
                     value ? ZSTR_VAL(value) : "", ZSTR_VAL(entry->name), why,
                     entry->value ? "the previous value" : "the default");
}

/* The same for a credential, whose value is never repeated. */
static void refuse_secret(zend_ini_entry *entry, const char *why)
{
    php_error_docref(NULL, E_WARNING, "Invalid value for %s: %s; keeping %s",
                     ZSTR_VAL(entry->name), why,
                     entry->value ? "the previous value" : "the default");
}

/* Set by every accepted change of a sentinel.* setting (ini_set(), a
 * per-directory value, the restore at the end of a request): the
 * fingerprint of the values is computed again (sn_php_ini_fingerprint()). */
static bool ini_changed = true;

static zend_result changed(zend_result r)
{
    if (r == SUCCESS)
        ini_changed = true;
    return r;
}

static ZEND_INI_MH(OnUpdateMs)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    zend_long v;

    if (new_value == NULL || !sn_php_parse_ms(ZSTR_VAL(new_value), ZSTR_LEN(new_value), &v)) {
        refuse(entry, new_value, "expected milliseconds from 0 to 86400000");
        return FAILURE;
    }
    *(zend_long *)ZEND_INI_GET_ADDR() = v;
    return changed(SUCCESS);
}

static ZEND_INI_MH(OnUpdateSentinelList)
{
    char err[512];

    if (new_value != NULL && ZSTR_LEN(new_value) > 0 &&
        sentinel_validate_sentinels(ZSTR_VAL(new_value), err, sizeof(err)) != SENTINEL_OK) {
        refuse(entry, new_value, err);
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

static ZEND_INI_MH(OnUpdateMasterName)
{
    char err[512];

    if (new_value != NULL && ZSTR_LEN(new_value) > 0 &&
        sentinel_validate_master_name(ZSTR_VAL(new_value), err, sizeof(err)) != SENTINEL_OK) {
        refuse(entry, new_value, err);
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

/* Credentials go into AUTH commands: no line breaks, a sane length. */
static ZEND_INI_MH(OnUpdateCredential)
{
    if (new_value != NULL &&
        (ZSTR_LEN(new_value) > 1024 || strpbrk(ZSTR_VAL(new_value), "\r\n") != NULL)) {
        refuse_secret(entry, "expected at most 1024 characters without line breaks");
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

static ZEND_INI_MH(OnUpdateCacheDir)
{
    if (new_value != NULL && ZSTR_LEN(new_value) > 0 &&
        (ZSTR_VAL(new_value)[0] != '/' || ZSTR_LEN(new_value) > 1024 ||
         memchr(ZSTR_VAL(new_value), '\n', ZSTR_LEN(new_value)) != NULL)) {
        refuse(entry, new_value, "expected an absolute directory path");
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

bool sn_php_valid_tls_path(const char *v, size_t len)
{
    return len == 0 || (v[0] == '/' && len <= 4096 && memchr(v, '\0', len) == NULL &&
                        memchr(v, '\n', len) == NULL && memchr(v, '\r', len) == NULL);
}

bool sn_php_valid_tls_name(const char *v, size_t len)
{
    if (len > 255)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return false;
    return true;
}

/* A CA file or directory, client certificate or key: an absolute path
 * (whether it exists is the library's to say, when TLS is turned on). */
static ZEND_INI_MH(OnUpdateTlsPath)
{
    if (new_value != NULL && !sn_php_valid_tls_path(ZSTR_VAL(new_value), ZSTR_LEN(new_value))) {
        refuse(entry, new_value, "expected an absolute path without NUL or line breaks");
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

static ZEND_INI_MH(OnUpdateTlsName)
{
    if (new_value != NULL && !sn_php_valid_tls_name(ZSTR_VAL(new_value), ZSTR_LEN(new_value))) {
        refuse(entry, new_value, "expected a host name: at most 255 printable characters without spaces");
        return FAILURE;
    }
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

int sn_php_parse_tls_version(const char *v, size_t len)
{
    if (len == 3 && memcmp(v, "1.2", 3) == 0)
        return SENTINEL_TLS_V1_2;
    if (len == 3 && memcmp(v, "1.3", 3) == 0)
        return SENTINEL_TLS_V1_3;
    return 0;
}

static ZEND_INI_MH(OnUpdateTlsVersion)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    int v = new_value ? sn_php_parse_tls_version(ZSTR_VAL(new_value), ZSTR_LEN(new_value)) : 0;

    if (v == 0) {
        refuse(entry, new_value, "expected 1.2 or 1.3");
        return FAILURE;
    }
    *(zend_long *)ZEND_INI_GET_ADDR() = v;
    return changed(SUCCESS);
}

/* The words php.ini uses for booleans; anything else is refused (PHP's own
 * OnUpdateBool takes every other string as false, "maybe" included). */
static int parse_bool(const char *v)
{
    if (strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
        strcasecmp(v, "true") == 0)
        return 1;
    if (strcmp(v, "0") == 0 || strcmp(v, "") == 0 || strcasecmp(v, "off") == 0 ||
        strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "none") == 0)
        return 0;
    return -1;
}

static ZEND_INI_MH(OnUpdateStrictBool)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    int b = parse_bool(new_value ? ZSTR_VAL(new_value) : "");

    /* "1\0junk" is not "1". */
    if (new_value != NULL && strlen(ZSTR_VAL(new_value)) != ZSTR_LEN(new_value))
        b = -1;
    if (b < 0) {
        refuse(entry, new_value, "expected on or off (1/0, yes/no, true/false)");
        return FAILURE;
    }
    *(bool *)ZEND_INI_GET_ADDR() = b == 1;
    return changed(SUCCESS);
}

static ZEND_INI_MH(OnUpdateWatch)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    const char *v = new_value ? ZSTR_VAL(new_value) : "";
    int b = parse_bool(v);
    zend_long mode;

    if (new_value != NULL && strlen(v) != ZSTR_LEN(new_value)) { /* "on\0junk" is not "on" */
        refuse(entry, new_value, "expected auto, on or off");
        return FAILURE;
    }
    if (strcasecmp(v, "auto") == 0)
        mode = SN_PHP_WATCH_AUTO;
    else if (b >= 0)
        mode = b ? SN_PHP_WATCH_ON : SN_PHP_WATCH_OFF;
    else {
        refuse(entry, new_value, "expected auto, on or off");
        return FAILURE;
    }
    *(zend_long *)ZEND_INI_GET_ADDR() = mode;
    return changed(SUCCESS);
}

/* A group name or number that exists; "" = no group (files stay 0600). */
static ZEND_INI_MH(OnUpdateCacheGroup)
{
    const char *v = new_value ? ZSTR_VAL(new_value) : "";
    char buf[4096], *end;
    struct group grp, *found = NULL;
    zend_long gid = 0;

    if (new_value != NULL && strlen(v) != ZSTR_LEN(new_value)) {
        refuse(entry, new_value, "a group name has no NUL byte");
        return FAILURE;
    }
    if (*v != '\0') {
        unsigned long n = strtoul(v, &end, 10);
        if (*end == '\0' && v[0] >= '0' && v[0] <= '9' && n <= 0x7fffffffUL) {
            gid = (zend_long)n; /* a number need not be in /etc/group */
        } else if (getgrnam_r(v, &grp, buf, sizeof(buf), &found) != 0 || found == NULL) {
            refuse(entry, new_value, "no such group");
            return FAILURE;
        } else {
            gid = (zend_long)found->gr_gid;
        }
    }
    SENTINEL_G(shared_cache_use_group) = *v != '\0';
    SENTINEL_G(shared_cache_gid) = gid;
    return changed(OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage));
}

/* 0600 (this user only) or 0660 (with sentinel.shared_cache_group). */
static ZEND_INI_MH(OnUpdateCacheMode)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    const char *v = new_value ? ZSTR_VAL(new_value) : "";
    zend_long mode;

    if (strcmp(v, "0600") == 0 || strcmp(v, "600") == 0)
        mode = 0600;
    else if (strcmp(v, "0660") == 0 || strcmp(v, "660") == 0)
        mode = 0660;
    else {
        refuse(entry, new_value, "expected 0600 or 0660");
        return FAILURE;
    }
    *(zend_long *)ZEND_INI_GET_ADDR() = mode;
    return changed(SUCCESS);
}

static ZEND_INI_MH(OnUpdatePollMs)
{
    (void)mh_arg2;
    (void)mh_arg3;
    (void)stage;
    zend_long v;

    if (new_value == NULL || !sn_php_parse_ms(ZSTR_VAL(new_value), ZSTR_LEN(new_value), &v) ||
        v < 100 || v > 3600000) {
        refuse(entry, new_value, "expected milliseconds from 100 to 3600000");
        return FAILURE;
    }
    *(zend_long *)ZEND_INI_GET_ADDR() = v;
    return changed(SUCCESS);
}

/* ------------------------------------------------------------------------
 * Displayers: credentials are never printed
 * ------------------------------------------------------------------------ */

static ZEND_INI_DISP(display_secret)
{
    zend_string *value = (type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified)
                             ? ini_entry->orig_value
                             : ini_entry->value;

    PHPWRITE((value && ZSTR_LEN(value) > 0) ? "(set)" : "(not set)",
             (value && ZSTR_LEN(value) > 0) ? 5 : 9);
}

static ZEND_INI_DISP(display_watch)
{
    zend_string *value = (type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified)
                             ? ini_entry->orig_value
                             : ini_entry->value;
    const char *v = value ? ZSTR_VAL(value) : "";

    if (strcasecmp(v, "auto") == 0)
        php_printf("auto (%s for %s)", sn_php_watch_enabled(SN_PHP_WATCH_AUTO) ? "on" : "off",
                   sapi_module.name ? sapi_module.name : "?");
    else
        PHPWRITE(v, strlen(v));
}

/* ------------------------------------------------------------------------
 * The entries
 * ------------------------------------------------------------------------ */

/* clang-format off */
PHP_INI_BEGIN()
    STD_PHP_INI_ENTRY("sentinel.sentinels", "", PHP_INI_ALL, OnUpdateSentinelList,
                      sentinels, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.master_name", "", PHP_INI_ALL, OnUpdateMasterName,
                      master_name, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.connect_timeout_ms", "250", PHP_INI_ALL, OnUpdateMs,
                      connect_timeout_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.command_timeout_ms", "250", PHP_INI_ALL, OnUpdateMs,
                      command_timeout_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.timeout_ms", "5000", PHP_INI_ALL, OnUpdateMs,
                      timeout_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.cache_ttl_ms", "60000", PHP_INI_ALL, OnUpdateMs,
                      cache_ttl_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.failover_wait_ms", "1000", PHP_INI_ALL, OnUpdateMs,
                      failover_wait_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.sentinel_user", "", PHP_INI_ALL, OnUpdateCredential,
                      sentinel_user, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY_EX("sentinel.sentinel_password", "", PHP_INI_ALL, OnUpdateCredential,
                      sentinel_password, zend_sentinel_globals, sentinel_globals, display_secret)
    STD_PHP_INI_ENTRY("sentinel.data_user", "", PHP_INI_ALL, OnUpdateCredential,
                      data_user, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY_EX("sentinel.data_password", "", PHP_INI_ALL, OnUpdateCredential,
                      data_password, zend_sentinel_globals, sentinel_globals, display_secret)
    STD_PHP_INI_ENTRY("sentinel.shared_cache", "1", PHP_INI_ALL, OnUpdateStrictBool,
                      shared_cache, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.shared_cache_dir", "", PHP_INI_SYSTEM, OnUpdateCacheDir,
                      shared_cache_dir, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.shared_cache_group", "", PHP_INI_SYSTEM, OnUpdateCacheGroup,
                      shared_cache_group, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.shared_cache_mode", "0600", PHP_INI_SYSTEM, OnUpdateCacheMode,
                      shared_cache_mode, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY_EX("sentinel.watch", "on", PHP_INI_ALL, OnUpdateWatch,
                      watch, zend_sentinel_globals, sentinel_globals, display_watch)
    STD_PHP_INI_ENTRY("sentinel.watch_poll_ms", "60000", PHP_INI_SYSTEM, OnUpdatePollMs,
                      watch_poll_ms, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls", "0", PHP_INI_ALL, OnUpdateStrictBool,
                      tls, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_cafile", "", PHP_INI_ALL, OnUpdateTlsPath,
                      tls_cafile, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_capath", "", PHP_INI_ALL, OnUpdateTlsPath,
                      tls_capath, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_cert", "", PHP_INI_ALL, OnUpdateTlsPath,
                      tls_cert, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_key", "", PHP_INI_ALL, OnUpdateTlsPath,
                      tls_key, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_server_name", "", PHP_INI_ALL, OnUpdateTlsName,
                      tls_server_name, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_verify", "1", PHP_INI_ALL, OnUpdateStrictBool,
                      tls_verify, zend_sentinel_globals, sentinel_globals)
    STD_PHP_INI_ENTRY("sentinel.tls_min_version", "1.2", PHP_INI_ALL, OnUpdateTlsVersion,
                      tls_min_version, zend_sentinel_globals, sentinel_globals)
PHP_INI_END()
/* clang-format on */

/* The fingerprint of the values (sentinel_ini.h): a keyed hash, as the
 * values hold passwords; recomputed only after a change. */
uint64_t sn_php_ini_fingerprint(void)
{
    static unsigned char seed[SN_KEY_SEED_LEN];
    static bool seeded;
    static uint64_t fingerprint;
    unsigned char out[16];
    sn_sip128 h;

    if (!ini_changed)
        return fingerprint;
    if (!seeded) {
        if (php_random_bytes_silent(seed, sizeof(seed)) == FAILURE) {
            uint64_t mix[2] = {(uint64_t)getpid(), (uint64_t)(uintptr_t)&seed ^ (uint64_t)time(NULL)};
            memcpy(seed, mix, sizeof(seed));
        }
        seeded = true;
    }
    sn_sip128_init(&h, seed);
    for (const zend_ini_entry_def *d = ini_entries; d->name != NULL; d++) {
        zend_ini_entry *e = zend_hash_str_find_ptr(EG(ini_directives), d->name, d->name_length);
        /* Each value as a length (UINT32_MAX: none) and its bytes. */
        uint32_t len = e == NULL || e->value == NULL ? UINT32_MAX : (uint32_t)ZSTR_LEN(e->value);

        sn_sip128_update(&h, &len, sizeof(len));
        if (len != UINT32_MAX)
            sn_sip128_update(&h, ZSTR_VAL(e->value), len);
    }
    sn_sip128_final(&h, out);
    memcpy(&fingerprint, out, sizeof(fingerprint));
    sn_key_wipe(out, sizeof(out));
    ini_changed = false;
    return fingerprint;
}

void sn_php_ini_register(int module_number, int type)
{
    REGISTER_INI_ENTRIES();
}

void sn_php_ini_unregister(int module_number, int type)
{
    UNREGISTER_INI_ENTRIES();
}

void sn_php_ini_display(zend_module_entry *zend_module)
{
    DISPLAY_INI_ENTRIES();
}
