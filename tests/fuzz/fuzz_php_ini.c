/*
 * Fuzz target: the PHP extension's INI values (php-ext/sentinel_ini.c), set
 * the way ini_set() sets them, in a PHP started in-process through the embed
 * SAPI (libphp8.2-embed) with the extension compiled in statically.
 *
 * Input: records of [setting byte][length byte][value], applied in order
 * (a length past the end takes the rest). The setting byte picks one of the
 * sentinel.* entries modulo their number. Values are raw bytes, NUL included.
 *
 * Beyond "no crash", after each zend_alter_ini_entry_chars():
 *  - refused: the entry's string and the typed global are what they were;
 *  - accepted: the entry holds exactly the bytes given, and the global holds
 *    a value the extension can use: milliseconds within 0..86400000 (poll
 *    100..3600000) equal to the digits given; watch 0, 1 or 2 matching the
 *    word; a master name sn_valid_master_name() accepts; a sentinel list
 *    sentinel_add_sentinels() accepts on a scratch handle; an absolute cache
 *    directory without a newline; a cache group that is a number or a group
 *    getgrnam_r() knows, with the gid beside it; a cache mode of 0600 or
 *    0660; a boolean (sentinel.shared_cache, sentinel.tls, sentinel.tls_verify)
 *    only from php.ini's words, 1 or 0 as the word says; TLS file settings
 *    absolute, without NUL or line breaks, at most 4096 bytes; a TLS server
 *    name of at most 255 printable characters without spaces; strings
 *    pointing at the entry's value;
 *  - PHP_INI_SYSTEM entries are refused to PHP_INI_USER (ini_set()).
 * At the end of each input every entry is restored (zend_restore_ini_entry,
 * as ini_restore() and request shutdown do) and must be back at its default,
 * globals included.
 */
#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sapi/embed/php_embed.h>
#include "php.h"
#include "php_ini.h"
#include "zend_ini.h"

#include "php_sentinel.h"
#include "sentinel_ini.h"

#include "sentinel/sentinel.h"

/* libsentinel/src/internal.h, not included: it is not meant to meet PHP's headers. */
int sn_valid_master_name(const char *name);

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

enum kind {
    K_LIST, K_MASTER, K_MS, K_STRING, K_BOOL, K_DIR, K_WATCH, K_POLL, K_GROUP, K_MODE,
    K_TLS_PATH, K_TLS_NAME
};

struct setting {
    const char *name;
    enum kind kind;
    size_t offset; /* of the typed global in zend_sentinel_globals */
    bool system;   /* PHP_INI_SYSTEM only */
};

#define G(f) offsetof(zend_sentinel_globals, f)
/* PHP's internal function table (zend_register_functions, during
 * php_embed_init) is held through pointers LSan does not follow; it is
 * allocated once, before any input, and never by the INI handlers. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:zend_register_functions\n";
}

static const struct setting settings[] = {
    {"sentinel.sentinels", K_LIST, G(sentinels), false},
    {"sentinel.master_name", K_MASTER, G(master_name), false},
    {"sentinel.connect_timeout_ms", K_MS, G(connect_timeout_ms), false},
    {"sentinel.command_timeout_ms", K_MS, G(command_timeout_ms), false},
    {"sentinel.timeout_ms", K_MS, G(timeout_ms), false},
    {"sentinel.cache_ttl_ms", K_MS, G(cache_ttl_ms), false},
    {"sentinel.failover_wait_ms", K_MS, G(failover_wait_ms), false},
    {"sentinel.sentinel_user", K_STRING, G(sentinel_user), false},
    {"sentinel.sentinel_password", K_STRING, G(sentinel_password), false},
    {"sentinel.data_user", K_STRING, G(data_user), false},
    {"sentinel.data_password", K_STRING, G(data_password), false},
    {"sentinel.shared_cache", K_BOOL, G(shared_cache), false},
    {"sentinel.shared_cache_dir", K_DIR, G(shared_cache_dir), true},
    {"sentinel.shared_cache_group", K_GROUP, G(shared_cache_group), true},
    {"sentinel.shared_cache_mode", K_MODE, G(shared_cache_mode), true},
    {"sentinel.watch", K_WATCH, G(watch), false},
    {"sentinel.watch_poll_ms", K_POLL, G(watch_poll_ms), true},
    {"sentinel.tls", K_BOOL, G(tls), false},
    {"sentinel.tls_cafile", K_TLS_PATH, G(tls_cafile), false},
    {"sentinel.tls_capath", K_TLS_PATH, G(tls_capath), false},
    {"sentinel.tls_cert", K_TLS_PATH, G(tls_cert), false},
    {"sentinel.tls_key", K_TLS_PATH, G(tls_key), false},
    {"sentinel.tls_server_name", K_TLS_NAME, G(tls_server_name), false},
    {"sentinel.tls_verify", K_BOOL, G(tls_verify), false},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* A snapshot of one entry: its string and its global. */
struct snap {
    char *value; /* copy of the entry's bytes, or NULL */
    size_t len;
    zend_long l;     /* K_MS, K_WATCH, K_POLL, K_MODE; K_GROUP: the gid */
    bool b;          /* K_BOOL; K_GROUP: whether a group is used */
    const char *ptr; /* string globals */
};

static struct snap defaults[NSETTINGS];

static char *global_addr(const struct setting *st)
{
    return (char *)&sentinel_globals + st->offset;
}

static zend_ini_entry *entry_of(const struct setting *st)
{
    zend_ini_entry *e = zend_hash_str_find_ptr(EG(ini_directives), st->name, strlen(st->name));

    FUZZ_CHECK(e != NULL);
    return e;
}

static void take(const struct setting *st, struct snap *s)
{
    zend_ini_entry *e = entry_of(st);
    char *g = global_addr(st);

    free(s->value);
    memset(s, 0, sizeof(*s));
    if (e->value != NULL) {
        s->len = ZSTR_LEN(e->value);
        s->value = malloc(s->len + 1);
        FUZZ_CHECK(s->value != NULL);
        memcpy(s->value, ZSTR_VAL(e->value), s->len + 1);
    }
    switch (st->kind) {
    case K_MS:
    case K_WATCH:
    case K_POLL:
    case K_MODE:
        memcpy(&s->l, g, sizeof(s->l));
        break;
    case K_GROUP:
        memcpy(&s->ptr, g, sizeof(s->ptr));
        s->l = SENTINEL_G(shared_cache_gid);
        s->b = SENTINEL_G(shared_cache_use_group);
        break;
    case K_BOOL:
        memcpy(&s->b, g, sizeof(s->b));
        break;
    default:
        memcpy(&s->ptr, g, sizeof(s->ptr));
        break;
    }
}

static bool same(const struct setting *st, const struct snap *a)
{
    struct snap b = {0};
    bool eq;

    take(st, &b);
    eq = (a->value == NULL) == (b.value == NULL) && a->len == b.len &&
         (a->value == NULL || memcmp(a->value, b.value, a->len) == 0);
    switch (st->kind) {
    case K_MS:
    case K_WATCH:
    case K_POLL:
    case K_MODE:
        eq = eq && a->l == b.l;
        break;
    case K_GROUP:
        eq = eq && a->ptr == b.ptr && a->l == b.l && a->b == b.b;
        break;
    case K_BOOL:
        eq = eq && a->b == b.b;
        break;
    default:
        /* The string global follows the entry's value, so compare contents. */
        eq = eq && (a->ptr == NULL) == (b.ptr == NULL) &&
             (a->ptr == NULL || strcmp(a->ptr, b.ptr) == 0 || a->ptr == b.ptr);
        break;
    }
    free(b.value);
    return eq;
}

static bool is_digits(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* What the extension will use after an accepted value. */
static void check_accepted(const struct setting *st, const char *v, size_t n)
{
    zend_ini_entry *e = entry_of(st);
    char *g = global_addr(st);
    zend_long l;
    char *str;

    FUZZ_CHECK(e->value != NULL && ZSTR_LEN(e->value) == n && memcmp(ZSTR_VAL(e->value), v, n) == 0);
    switch (st->kind) {
    case K_MS:
    case K_POLL:
        memcpy(&l, g, sizeof(l));
        FUZZ_CHECK(is_digits(v, n) && n <= 8);
        FUZZ_CHECK(l == strtol(ZSTR_VAL(e->value), NULL, 10));
        if (st->kind == K_MS)
            FUZZ_CHECK(l >= 0 && l <= SN_PHP_MS_MAX);
        else
            FUZZ_CHECK(l >= 100 && l <= 3600000);
        break;
    case K_WATCH: {
        const char *c = ZSTR_VAL(e->value);

        memcpy(&l, g, sizeof(l));
        if (strcasecmp(c, "auto") == 0)
            FUZZ_CHECK(l == SN_PHP_WATCH_AUTO);
        else if (!strcmp(c, "1") || !strcasecmp(c, "on") || !strcasecmp(c, "yes") ||
                 !strcasecmp(c, "true"))
            FUZZ_CHECK(l == SN_PHP_WATCH_ON);
        else if (!strcmp(c, "0") || !strcmp(c, "") || !strcasecmp(c, "off") ||
                 !strcasecmp(c, "no") || !strcasecmp(c, "false") || !strcasecmp(c, "none"))
            FUZZ_CHECK(l == SN_PHP_WATCH_OFF);
        else
            FUZZ_CHECK(!"watch accepted a word it does not know");
        break;
    }
    case K_MODE: {
        const char *c = ZSTR_VAL(e->value);

        memcpy(&l, g, sizeof(l));
        if (!strcmp(c, "0600") || !strcmp(c, "600"))
            FUZZ_CHECK(l == 0600);
        else if (!strcmp(c, "0660") || !strcmp(c, "660"))
            FUZZ_CHECK(l == 0660);
        else
            FUZZ_CHECK(!"shared_cache_mode accepted a mode other than 0600 or 0660");
        break;
    }
    case K_GROUP: {
        char buf[4096];
        struct group grp, *found = NULL;

        memcpy(&str, g, sizeof(str));
        FUZZ_CHECK(str == ZSTR_VAL(e->value));
        FUZZ_CHECK(SENTINEL_G(shared_cache_use_group) == (str[0] != '\0'));
        if (str[0] == '\0')
            break;
        if (is_digits(str, strlen(str))) {
            FUZZ_CHECK(SENTINEL_G(shared_cache_gid) == strtol(str, NULL, 10));
        } else {
            FUZZ_CHECK(strlen(str) == n); /* no NUL inside a name getgrnam_r knew */
            FUZZ_CHECK(getgrnam_r(str, &grp, buf, sizeof(buf), &found) == 0 && found != NULL);
            FUZZ_CHECK(SENTINEL_G(shared_cache_gid) == (zend_long)found->gr_gid);
        }
        break;
    }
    case K_BOOL: {
        unsigned char raw;
        const char *c = ZSTR_VAL(e->value);

        memcpy(&raw, g, 1);
        FUZZ_CHECK(raw == 0 || raw == 1);
        /* Only php.ini's boolean words, and the global says which. */
        FUZZ_CHECK(strlen(c) == n);
        if (!strcmp(c, "1") || !strcasecmp(c, "on") || !strcasecmp(c, "yes") ||
            !strcasecmp(c, "true"))
            FUZZ_CHECK(raw == 1);
        else if (!strcmp(c, "0") || !strcmp(c, "") || !strcasecmp(c, "off") ||
                 !strcasecmp(c, "no") || !strcasecmp(c, "false") || !strcasecmp(c, "none"))
            FUZZ_CHECK(raw == 0);
        else
            FUZZ_CHECK(!"a boolean setting accepted a word it does not know");
        break;
    }
    case K_TLS_PATH:
    case K_TLS_NAME:
        memcpy(&str, g, sizeof(str));
        FUZZ_CHECK(str == ZSTR_VAL(e->value));
        /* No NUL inside: the library gets the whole value. */
        FUZZ_CHECK(strlen(str) == n);
        if (n == 0)
            break;
        if (st->kind == K_TLS_PATH) {
            FUZZ_CHECK(str[0] == '/' && n <= 4096 && strpbrk(str, "\r\n") == NULL);
        } else {
            FUZZ_CHECK(n <= 255);
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK((unsigned char)str[i] > ' ' && (unsigned char)str[i] < 0x7f);
        }
        break;
    case K_LIST:
    case K_MASTER:
    case K_STRING:
    case K_DIR:
        memcpy(&str, g, sizeof(str));
        /* OnUpdateString stores the entry's own buffer. */
        FUZZ_CHECK(str == ZSTR_VAL(e->value));
        if (st->kind == K_LIST && str[0] != '\0') {
            sentinel_t *s = sentinel_new("scratch", NULL);

            FUZZ_CHECK(s != NULL);
            FUZZ_CHECK(sentinel_add_sentinels(s, str) == 0);
            FUZZ_CHECK(sentinel_sentinel_count(s) >= 1);
            sentinel_free(s);
        } else if (st->kind == K_MASTER && str[0] != '\0') {
            FUZZ_CHECK(sn_valid_master_name(str));
        } else if (st->kind == K_DIR && str[0] != '\0') {
            FUZZ_CHECK(str[0] == '/' && strlen(str) <= 1024 && strchr(str, '\n') == NULL);
        }
        break;
    }
}

static zend_result alter(const char *setting, const char *v, size_t n, int modify_type)
{
    zend_string *name = zend_string_init(setting, strlen(setting), 0);
    zend_result rc = zend_alter_ini_entry_chars(name, v, n, modify_type, PHP_INI_STAGE_RUNTIME);

    zend_string_release(name);
    return rc;
}

static void apply(const struct setting *st, const char *v, size_t n)
{
    struct snap before = {0};
    zend_result rc;

    take(st, &before);
    if (st->system) {
        /* ini_set() cannot touch a PHP_INI_SYSTEM entry. */
        rc = alter(st->name, v, n, PHP_INI_USER);
        FUZZ_CHECK(rc == FAILURE);
        FUZZ_CHECK(same(st, &before));
    }
    rc = alter(st->name, v, n, st->system ? PHP_INI_SYSTEM : PHP_INI_USER);
    if (rc == SUCCESS)
        check_accepted(st, v, n);
    else
        FUZZ_CHECK(same(st, &before));
    free(before.value);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char *php_argv[] = {"fuzz_php_ini", NULL};

    (void)argc;
    (void)argv;
    /* Nothing from /etc/php: no php.ini, no conf.d extensions. */
    setenv("PHP_INI_SCAN_DIR", "", 1);
    /* emalloc() through malloc(): ASan sees every zend_string the handlers
     * read, and LSan can follow pointers held in request memory. */
    setenv("USE_ZEND_ALLOC", "0", 1);
    php_embed_module.php_ini_ignore = 1;
    if (php_embed_init(1, php_argv) != SUCCESS) {
        fprintf(stderr, "fuzz_php_ini: php_embed_init failed\n");
        abort();
    }
    if (zend_startup_module(&sentinel_module_entry) != SUCCESS) {
        fprintf(stderr, "fuzz_php_ini: cannot start the sentinel extension\n");
        abort();
    }
    /* Refused values warn; keep the output quiet. */
    FUZZ_CHECK(alter("display_errors", "0", 1, PHP_INI_SYSTEM) == SUCCESS);
    FUZZ_CHECK(alter("log_errors", "0", 1, PHP_INI_SYSTEM) == SUCCESS);
    for (size_t i = 0; i < NSETTINGS; i++)
        take(&settings[i], &defaults[i]);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;

    while (pos < size) {
        const struct setting *st = &settings[data[pos] % NSETTINGS];
        size_t n = pos + 1 < size ? data[pos + 1] : 0;
        char *v;

        pos += pos + 1 < size ? 2 : 1;
        if (n > size - pos)
            n = size - pos;
        /* A copy of exactly n bytes, so ASan sees any read past the value. */
        v = malloc(n ? n : 1);
        FUZZ_CHECK(v != NULL);
        memcpy(v, data + pos, n);
        pos += n;
        apply(st, v, n);
        free(v);
    }
    for (size_t i = 0; i < NSETTINGS; i++) {
        zend_string *name = zend_string_init(settings[i].name, strlen(settings[i].name), 0);

        /* ini_restore() for the rest; PHP_INI_SYSTEM entries only come back
         * the way request shutdown brings them back. */
        zend_restore_ini_entry(name, settings[i].system ? PHP_INI_STAGE_DEACTIVATE
                                                        : PHP_INI_STAGE_RUNTIME);
        zend_string_release(name);
        if (!same(&settings[i], &defaults[i]))
            fprintf(stderr, "fuzz_php_ini: %s not restored\n", settings[i].name);
        FUZZ_CHECK(same(&settings[i], &defaults[i]));
    }
    return 0;
}
