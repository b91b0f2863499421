/*
 * Remembered settings (see sentinel_fast.h).
 *
 * Sentinel\resolve() parses its options array on every call and builds the
 * handle's registry key from it; a PHP-FPM worker whose every request builds
 * the same cache backend pays that, and the PHP glue pays for turning its
 * configuration into those options. Here the settings are parsed once per
 * process into persistent copies; a request names them by the id remember()
 * returned or by the caller's own key string, and the answer comes from
 * sn_php_resolve() unchanged: the same failover checks (a failover in
 * progress waits or fails fast), the same caches, counters and errors.
 *
 * INI settings are read when the settings are remembered, not per call;
 * when the sentinel.* INI values differ afterwards from the ones they were
 * read under (sn_php_ini_fingerprint(): ini_set(), a per-directory value),
 * resolve_remembered() forgets the settings and answers false, so the
 * caller remembers them again with the INI values of now; values set again
 * at every request (.user.ini) keep them.
 * A caller's key (the PHP glue's is its options array, passwords included)
 * is kept in the key table only as a 128-bit keyed hash (SipHash-2-4-128
 * under a random seed of the process, sentinel_key.c). The last few flat
 * array keys found are also kept as persistent copies (memos below,
 * sentinel_keycopy.c), so Magento's per-request options array is compared,
 * not hashed: those copies hold the options' passwords while they are kept.
 * Remembered passwords and the copies are wiped before they are freed.
 * Process state, as the registry: one PHP-FPM worker, NTS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
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
#include "sentinel_exception.h"
#include "sentinel_fast.h"
#include "sentinel_ini.h"
#include "sentinel_key.h"
#include "sentinel_keycopy.h"
#include "sentinel_resolve.h"

typedef struct sn_fast_slot {
    bool used;
    uint64_t last_used;
    uint64_t gen;        /* when it was filled: part of its id (slot_id) */
    uint64_t ini_gen;    /* sn_php_ini_fingerprint() its INI values were read at */
    sn_php_settings cfg; /* its strings are persistent copies; cfg.hint = &hint */
    sn_php_registry_hint hint;
} sn_fast_slot;

/* Keys kept at most; one more drops them all (callers remember again). */
#define SN_FAST_KEYS_MAX (4 * SN_PHP_FAST_MAX)

static sn_fast_slot slots[SN_PHP_FAST_MAX];
/* Keyed hash of a caller's key (key_digest) -> slot index + 1. Several keys may name one slot (two cache
 * backends whose options differ only where the sentinels do not care). */
static HashTable by_key;
static bool by_key_ready;
/* Array keys found in by_key lately, as persistent copies (sentinel_keycopy.c):
 * an array equal to one of them names its slot with no hash (Magento builds
 * the same options anew per request). Forgotten with the slot, or whenever
 * a key may name another slot (remember() with a key, by_key cleaned). */
#define SN_FAST_MEMO_MAX 4
typedef struct key_memo {
    sn_key_copy *key; /* NULL: unused */
    size_t slot;
    uint64_t gen;     /* the slot's gen when the key named it */
} key_memo;
static key_memo memos[SN_FAST_MEMO_MAX];
static size_t memo_next;
static uint64_t use_clock;
static uint64_t fill_clock;
/* The answer's keys, interned at startup: no hashing per call. */
static zend_string *str_host, *str_port, *str_epoch, *str_source, *str_tls, *str_id, *str_at;
/* The answer's sources (sn_php_resolve()), interned: no copy per call. */
static const char *const source_names[] = {"sentinel", "shared", "cache", "failover"};
static zend_string *source_strs[sizeof(source_names) / sizeof(source_names[0])];
/* The Cm_Cache backend_options cache_options_remembered() reads or drops. */
static zend_string *str_server, *str_sentinel_master, *str_load_from_slaves;

/* The string fields of sn_php_settings. */
static const size_t string_fields[] = {
    offsetof(sn_php_settings, master),          offsetof(sn_php_settings, sentinels),
    offsetof(sn_php_settings, sentinel_user),   offsetof(sn_php_settings, sentinel_password),
    offsetof(sn_php_settings, data_user),       offsetof(sn_php_settings, data_password),
    offsetof(sn_php_settings, tls_cafile),      offsetof(sn_php_settings, tls_capath),
    offsetof(sn_php_settings, tls_cert),        offsetof(sn_php_settings, tls_key),
    offsetof(sn_php_settings, tls_server_name),
};
#define N_STRING_FIELDS (sizeof(string_fields) / sizeof(string_fields[0]))

static const char **field(sn_php_settings *c, size_t i)
{
    return (const char **)((char *)c + string_fields[i]);
}

static void settings_free(sn_php_settings *c)
{
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char **f = field(c, i);
        if (*f != NULL) {
            if (string_fields[i] == offsetof(sn_php_settings, sentinel_password) ||
                string_fields[i] == offsetof(sn_php_settings, data_password))
                sn_key_wipe((char *)*f, strlen(*f));
            pefree((char *)*f, 1);
        }
        *f = NULL;
    }
}

/* The caller's key as 16 bytes: SipHash-2-4-128 under a per-process
 * random seed. The table never holds the key itself.
 *
 * A key is a string, or an array hashed as it is walked (the PHP glue
 * passes its backend options: no serialize() per request). What is hashed
 * is an unambiguous encoding: a type tag before every value, a length
 * before every string (8 bits under an upper-case tag below 256 bytes, else
 * 32 bits) and array, so two different keys never feed the same bytes. Integers, floats, booleans, null, strings and arrays up to
 * SN_FAST_KEY_DEPTH deep; anything else (an object, a resource) cannot
 * name settings. */
#define SN_FAST_DIGEST_LEN 16
#define SN_FAST_KEY_DEPTH 8
static unsigned char digest_seed[SN_KEY_SEED_LEN];
static bool digest_seeded;

typedef struct key_enc {
    sn_sip128 h;
    size_t n;
    unsigned char buf[256]; /* fed to the hash when full */
} key_enc;

static void enc_flush_put(key_enc *e, const void *p, size_t len)
{
    sn_sip128_update(&e->h, e->buf, e->n);
    e->n = 0;
    if (len >= sizeof(e->buf))
        sn_sip128_update(&e->h, p, len);
    else {
        memcpy(e->buf, p, len);
        e->n = len;
    }
}

/* Inlined: most pieces are a few bytes and go into the buffer. */
static inline void enc_put(key_enc *e, const void *p, size_t len)
{
    if (len <= sizeof(e->buf) - e->n) {
        memcpy(e->buf + e->n, p, len);
        e->n += len;
    } else
        enc_flush_put(e, p, len);
}

/* A tag and 8 bytes (an integer, a float). */
static inline void enc_tagged(key_enc *e, char tag, const void *p)
{
    unsigned char b[9];

    b[0] = (unsigned char)tag;
    memcpy(b + 1, p, 8);
    enc_put(e, b, sizeof(b));
}

/* Up to 16 bytes into the buffer with fixed-size copies (inlined, unlike
 * memcpy() of a variable length): most keys and values are that short. */
static inline void enc_put_short(key_enc *e, const char *s, size_t len)
{
    unsigned char *d = e->buf + e->n;

    if (len >= 8) {
        memcpy(d, s, 8);
        memcpy(d + len - 8, s + len - 8, 8);
    } else if (len >= 4) {
        memcpy(d, s, 4);
        memcpy(d + len - 4, s + len - 4, 4);
    } else {
        for (size_t i = 0; i < len; i++)
            d[i] = (unsigned char)s[i];
    }
    e->n += len;
}

/* A tag, the length, the bytes: a string shorter than 256 bytes has the
 * tag in upper case and an 8-bit length, a longer one a 32-bit length. */
static inline bool enc_str(key_enc *e, char tag, const char *s, size_t len)
{
    unsigned char b[5];
    uint32_t l = (uint32_t)len;

    if (len < 256) {
        b[0] = (unsigned char)(tag - 'a' + 'A');
        b[1] = (unsigned char)len;
        enc_put(e, b, 2);
    } else {
        if (len > UINT32_MAX)
            return false;
        b[0] = (unsigned char)tag;
        memcpy(b + 1, &l, 4);
        enc_put(e, b, sizeof(b));
    }
    if (len <= 16 && len <= sizeof(e->buf) - e->n)
        enc_put_short(e, s, len);
    else
        enc_put(e, s, len);
    return true;
}

static bool enc_value(key_enc *e, zval *v, int depth)
{
    ZVAL_DEREF(v);
    switch (Z_TYPE_P(v)) {
    case IS_NULL:
        enc_put(e, "N", 1);
        return true;
    case IS_FALSE:
        enc_put(e, "F", 1);
        return true;
    case IS_TRUE:
        enc_put(e, "T", 1);
        return true;
    case IS_LONG: {
        int64_t l = Z_LVAL_P(v);

        enc_tagged(e, 'i', &l);
        return true;
    }
    case IS_DOUBLE: {
        double d = Z_DVAL_P(v);

        enc_tagged(e, 'd', &d);
        return true;
    }
    case IS_STRING:
        return enc_str(e, 's', Z_STRVAL_P(v), Z_STRLEN_P(v));
    case IS_ARRAY: {
        uint64_t count = zend_hash_num_elements(Z_ARRVAL_P(v));
        zend_string *k;
        zend_ulong h;
        zval *item;

        if (depth >= SN_FAST_KEY_DEPTH)
            return false;
        enc_tagged(e, 'a', &count);
        ZEND_HASH_FOREACH_KEY_VAL(Z_ARRVAL_P(v), h, k, item) {
            if (k != NULL) {
                if (!enc_str(e, 's', ZSTR_VAL(k), ZSTR_LEN(k)))
                    return false;
            } else {
                int64_t l = (int64_t)h;

                enc_tagged(e, 'i', &l);
            }
            ZVAL_DEREF(item);
            if (Z_TYPE_P(item) == IS_STRING) {
                /* Most values: no call. */
                if (!enc_str(e, 's', Z_STRVAL_P(item), Z_STRLEN_P(item)))
                    return false;
            } else if (!enc_value(e, item, depth + 1))
                return false;
        } ZEND_HASH_FOREACH_END();
        return true;
    }
    default:
        return false;
    }
}

/* false when key cannot name settings (see above). */
static bool key_digest(zval *key, char out[SN_FAST_DIGEST_LEN])
{
    key_enc e;
    bool ok;

    if (!digest_seeded) {
        if (php_random_bytes_silent(digest_seed, sizeof(digest_seed)) == FAILURE) {
            /* No entropy source: still a per-process seed, a guessable one. */
            uint64_t mix[2] = {(uint64_t)getpid() ^ ((uint64_t)(uintptr_t)&digest_seed << 20),
                               (uint64_t)(uintptr_t)key ^ (uint64_t)time(NULL)};
            memcpy(digest_seed, mix, sizeof(digest_seed));
        }
        digest_seeded = true;
    }
    sn_sip128_init(&e.h, digest_seed);
    e.n = 0;
    ok = enc_value(&e, key, 0);
    sn_sip128_update(&e.h, e.buf, e.n);
    sn_sip128_final(&e.h, (unsigned char *)out);
    /* The buffer held the key's bytes (passwords among them): all of it,
     * not only its last fill (earlier fills left bytes past e.n). */
    sn_key_wipe(e.buf, sizeof(e.buf));
    return ok;
}

/* A persistent copy of src (strings duplicated). */
static void settings_copy(sn_php_settings *dst, const sn_php_settings *src)
{
    *dst = *src;
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char **f = field(dst, i);
        if (*f != NULL)
            *f = pestrdup(*f, 1);
    }
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool settings_equal(sn_php_settings *a, sn_php_settings *b)
{
    for (size_t i = 0; i < N_STRING_FIELDS; i++)
        if (!same_str(*field(a, i), *field(b, i)))
            return false;
    return a->connect_ms == b->connect_ms && a->command_ms == b->command_ms &&
           a->total_ms == b->total_ms && a->ttl_ms == b->ttl_ms &&
           a->failover_wait_ms == b->failover_wait_ms && a->shared_cache == b->shared_cache &&
           a->watch == b->watch && a->watch_forced == b->watch_forced &&
           a->no_cache == b->no_cache && a->tls == b->tls && a->tls_verify == b->tls_verify &&
           a->tls_min_version == b->tls_min_version;
}

/* The id remember() answers for slot i: its index and when it was filled,
 * so an id of settings forgotten answers false, not for the settings that
 * took their slot. */
#define SN_FAST_ID_BITS 8
_Static_assert(SN_PHP_FAST_MAX < (1 << SN_FAST_ID_BITS), "slot index fits an id");

static zend_long slot_id(size_t i)
{
    return (zend_long)((slots[i].gen << SN_FAST_ID_BITS) | (i + 1));
}

/* Forgets the memos of slot i (every memo: SN_PHP_FAST_MAX). Their copies
 * are wiped (sn_key_copy_free()). */
static void memo_forget(size_t i)
{
    for (size_t m = 0; m < SN_FAST_MEMO_MAX; m++)
        if (memos[m].key != NULL && (i == SN_PHP_FAST_MAX || memos[m].slot == i)) {
            sn_key_copy_free(memos[m].key);
            memos[m].key = NULL;
        }
}

/* The slot index + 1 an array equal to a memo names; 0 when none does. */
static zend_long memo_find(HashTable *ht)
{
    for (size_t m = 0; m < SN_FAST_MEMO_MAX; m++) {
        key_memo *k = &memos[m];

        if (k->key != NULL && sn_key_copy_equals(k->key, ht)) {
            if (slots[k->slot].used && slots[k->slot].gen == k->gen)
                return (zend_long)k->slot + 1;
            sn_key_copy_free(k->key); /* its slot was refilled */
            k->key = NULL;
            return 0;
        }
    }
    return 0;
}

/* Remembers that ht names slot i (replacing the oldest memo). */
static void memo_add(HashTable *ht, size_t i)
{
    sn_key_copy *c = sn_key_copy_new(ht);

    if (c == NULL)
        return; /* not a flat array of scalars: hashed every time */
    sn_key_copy_free(memos[memo_next].key);
    memos[memo_next] = (key_memo){c, i, slots[i].gen};
    memo_next = (memo_next + 1) % SN_FAST_MEMO_MAX;
}

static int drop_key_of_slot(zval *v, void *arg)
{
    return Z_LVAL_P(v) == *(zend_long *)arg ? ZEND_HASH_APPLY_REMOVE : ZEND_HASH_APPLY_KEEP;
}

/* Forgets slot i and every key naming it. */
static void slot_clear(size_t i)
{
    zend_long id = (zend_long)i + 1;

    if (by_key_ready)
        zend_hash_apply_with_argument(&by_key, drop_key_of_slot, &id);
    memo_forget(i);
    settings_free(&slots[i].cfg);
    memset(&slots[i], 0, sizeof(slots[i]));
}

void sn_php_fast_startup(void)
{
    str_host = zend_new_interned_string(zend_string_init("host", 4, 1));
    str_port = zend_new_interned_string(zend_string_init("port", 4, 1));
    str_epoch = zend_new_interned_string(zend_string_init("epoch", 5, 1));
    str_source = zend_new_interned_string(zend_string_init("source", 6, 1));
    str_tls = zend_new_interned_string(zend_string_init("tls", 3, 1));
    for (size_t i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++)
        source_strs[i] = zend_new_interned_string(
            zend_string_init(source_names[i], strlen(source_names[i]), 1));
    str_id = zend_new_interned_string(zend_string_init("id", 2, 1));
    str_at = zend_new_interned_string(zend_string_init("at", 2, 1));
    str_server = zend_new_interned_string(zend_string_init("server", 6, 1));
    str_sentinel_master = zend_new_interned_string(zend_string_init("sentinel_master", 15, 1));
    str_load_from_slaves = zend_new_interned_string(zend_string_init("load_from_slaves", 16, 1));
}

void sn_php_fast_shutdown(void)
{
    for (size_t i = 0; i < SN_PHP_FAST_MAX; i++)
        if (slots[i].used)
            slot_clear(i);
    memo_forget(SN_PHP_FAST_MAX);
    if (by_key_ready) {
        zend_hash_destroy(&by_key);
        by_key_ready = false;
    }
}

/* The slot for cfg (an equal one, else a free or the least recently used
 * one, refilled), named by key too when given. Returns its index. */
static size_t remember(sn_php_settings *cfg, zval *key)
{
    size_t i, pick = 0;

    if (!by_key_ready) {
        zend_hash_init(&by_key, 8, NULL, NULL, 1);
        by_key_ready = true;
    }
    for (i = 0; i < SN_PHP_FAST_MAX; i++)
        if (slots[i].used && settings_equal(&slots[i].cfg, cfg))
            break;
    if (i == SN_PHP_FAST_MAX) {
        for (i = 0; i < SN_PHP_FAST_MAX; i++) {
            if (!slots[i].used)
                break;
            if (slots[i].last_used < slots[pick].last_used)
                pick = i;
        }
        if (i == SN_PHP_FAST_MAX) {
            i = pick;
            slot_clear(i);
        }
        settings_copy(&slots[i].cfg, cfg);
        slots[i].cfg.hint = &slots[i].hint;
        slots[i].used = true;
        slots[i].gen = ++fill_clock;
    }
    slots[i].last_used = ++use_clock;
    slots[i].ini_gen = sn_php_ini_fingerprint();
    if (key != NULL) {
        /* A key names one slot (the latest settings remembered under it). */
        char d[SN_FAST_DIGEST_LEN];
        zval v;

        /* The key may have named another slot: its memo goes. */
        memo_forget(SN_PHP_FAST_MAX);
        if (!key_digest(key, d))
            return i; /* named by its id only */
        if (zend_hash_num_elements(&by_key) >= SN_FAST_KEYS_MAX &&
            !zend_hash_str_exists(&by_key, d, sizeof(d)))
            zend_hash_clean(&by_key);
        ZVAL_LONG(&v, (zend_long)i + 1);
        zend_hash_str_update(&by_key, d, sizeof(d), &v);
    }
    return i;
}

/* {{{ Sentinel\remember(array $settings, array|string|null $key = null): int */
PHP_FUNCTION(Sentinel_remember)
{
    HashTable *settings;
    zval *key = NULL;
    sn_php_call call;

    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ARRAY_HT(settings)
        Z_PARAM_OPTIONAL
        Z_PARAM_ZVAL(key)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;
    if (key != NULL && Z_TYPE_P(key) == IS_NULL)
        key = NULL;
    if (key != NULL && Z_TYPE_P(key) != IS_STRING && Z_TYPE_P(key) != IS_ARRAY) {
        zend_argument_type_error(2, "must be of type array|string|null, %s given", zend_zval_type_name(key));
        RETURN_THROWS();
    }
    if (key != NULL && Z_TYPE_P(key) == IS_STRING && Z_STRLEN_P(key) == 0) {
        zend_argument_value_error(2, "must not be empty");
        RETURN_THROWS();
    }
    /* Refused exactly as resolve() refuses them ("master" is an option). */
    if (sn_php_call_init(&call, NULL, settings, 1) == FAILURE) {
        sn_php_call_free(&call);
        RETURN_THROWS();
    }
    RETVAL_LONG(slot_id(remember(&call.cfg, key)));
    sn_php_call_free(&call);
}
/* }}} */

/* The slot remember() kept for key (an id, a string or an array); NULL when
 * there is none (unknown, forgotten, or read under other sentinel.* INI
 * values: then forgotten now, and the caller remembers again with the INI
 * of now).
 * *thrown when the argument's type is refused (an exception is pending). */
static sn_fast_slot *lookup(zval *key, bool *thrown)
{
    zend_long i;

    *thrown = false;
    if (Z_TYPE_P(key) == IS_LONG) {
        zend_long id = Z_LVAL_P(key);

        i = id & ((1 << SN_FAST_ID_BITS) - 1);
        if (i >= 1 && i <= SN_PHP_FAST_MAX && id != slot_id((size_t)i - 1))
            return NULL;
    } else if (Z_TYPE_P(key) == IS_STRING || Z_TYPE_P(key) == IS_ARRAY) {
        char d[SN_FAST_DIGEST_LEN];
        zval *found = NULL;

        /* An array equal to one found before: compared, not hashed. */
        if (Z_TYPE_P(key) == IS_ARRAY && (i = memo_find(Z_ARRVAL_P(key))) != 0)
            goto have_slot;
        SENTINEL_G(counters).remembered_key_hashes++;
        if (by_key_ready && key_digest(key, d))
            found = zend_hash_str_find(&by_key, d, sizeof(d));
        if (found == NULL)
            return NULL;
        i = Z_LVAL_P(found); /* a slot's index + 1: its keys go with it */
        if (Z_TYPE_P(key) == IS_ARRAY && i >= 1 && i <= SN_PHP_FAST_MAX && slots[i - 1].used)
            memo_add(Z_ARRVAL_P(key), (size_t)i - 1);
    } else {
        zend_argument_type_error(1, "must be of type array|string|int, %s given", zend_zval_type_name(key));
        *thrown = true;
        return NULL;
    }
have_slot:
    if (i < 1 || i > SN_PHP_FAST_MAX || !slots[i - 1].used)
        return NULL;
    if (slots[i - 1].ini_gen != sn_php_ini_fingerprint()) {
        slot_clear((size_t)i - 1);
        return NULL;
    }
    return &slots[i - 1];
}

/* The slot named by the function's one argument; NULL with return_value
 * false (none) or an exception thrown (a refused argument). */
static sn_fast_slot *slot_arg(zend_execute_data *execute_data, zval *return_value)
{
    zval *key;
    sn_fast_slot *s;
    bool thrown;

    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(key)
    ZEND_PARSE_PARAMETERS_END_EX(return NULL);

    SENTINEL_G(counters).calls++;
    s = lookup(key, &thrown);
    if (s == NULL && !thrown)
        RETVAL_FALSE;
    return s;
}

/* {{{ Sentinel\epoch_remembered(array|int|string $id): int|false */
PHP_FUNCTION(Sentinel_epoch_remembered)
{
    char err[1024] = "";
    uint64_t epoch = 0;
    sn_fast_slot *s;
    int rc;

    if ((s = slot_arg(execute_data, return_value)) == NULL)
        return; /* false, or an exception thrown */
    s->last_used = ++use_clock;
    rc = sn_php_epoch_of(&s->cfg, &epoch, err, sizeof(err));
    if (rc != SENTINEL_OK) {
        sn_php_throw(rc, err);
        RETURN_THROWS();
    }
    RETURN_LONG((zend_long)epoch);
}
/* }}} */

/* sn_php_resolve() for slot s: SENTINEL_OK with *addr, *source, *epoch, or
 * an exception thrown. */
static int slot_resolve(sn_fast_slot *s, sentinel_addr *addr, const char **source,
                        uint64_t *epoch)
{
    char err[1024];
    int rc;

    err[0] = '\0';
    s->last_used = ++use_clock;
    SENTINEL_G(counters).remembered_resolutions++;
    *source = "sentinel";
    *epoch = 0;
    rc = sn_php_resolve(&s->cfg, addr, source, epoch, err, sizeof(err));
    if (rc != SENTINEL_OK) {
        SENTINEL_G(counters).errors++;
        sn_php_throw(rc, err);
    }
    return rc;
}

/* resolve_remembered()'s answer in *out: host (a reference to the caller's
 * string), port, epoch, source, tls. */
static HashTable *answer_init(zval *out, uint32_t size, const sn_fast_slot *s, zend_string *host,
                              const sentinel_addr *addr, const char *source, uint64_t epoch)
{
    HashTable *ht;
    zval v;
    size_t i;

    array_init_size(out, size);
    ht = Z_ARRVAL_P(out);
    ZVAL_STR_COPY(&v, host);
    zend_hash_add_new(ht, str_host, &v);
    ZVAL_LONG(&v, addr->port);
    zend_hash_add_new(ht, str_port, &v);
    ZVAL_LONG(&v, (zend_long)epoch);
    zend_hash_add_new(ht, str_epoch, &v);
    for (i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++)
        if (strcmp(source, source_names[i]) == 0)
            break;
    if (i < sizeof(source_names) / sizeof(source_names[0]))
        ZVAL_INTERNED_STR(&v, source_strs[i]);
    else
        ZVAL_STRING(&v, source);
    zend_hash_add_new(ht, str_source, &v);
    /* Whether the data nodes speak TLS (the remembered settings' tls). */
    ZVAL_BOOL(&v, s->cfg.tls);
    zend_hash_add_new(ht, str_tls, &v);
    return ht;
}

/* {{{ Sentinel\resolve_remembered(array|int|string $id): array|false */
PHP_FUNCTION(Sentinel_resolve_remembered)
{
    sentinel_addr addr;
    const char *source;
    uint64_t epoch;
    sn_fast_slot *s;
    zend_string *host;

    if ((s = slot_arg(execute_data, return_value)) == NULL)
        return; /* false, or an exception thrown */
    if (slot_resolve(s, &addr, &source, &epoch) != SENTINEL_OK)
        RETURN_THROWS();
    host = zend_string_init(addr.host, strlen(addr.host), 0);
    answer_init(return_value, 5, s, host, &addr, source, epoch);
    zend_string_release(host);
}
/* }}} */

/* Whether option k of ht is set and not empty (PHP's !empty()). */
static bool option_set(HashTable *ht, zend_string *k)
{
    zval *v = zend_hash_find_known_hash(ht, k);

    return v != NULL && zend_is_true(v);
}

/* What parent_options() does with a Cm_Cache option. */
enum { OPT_COPY, OPT_DROP, OPT_SERVER, OPT_PORT };

static int option_kind(const zend_string *k)
{
    const char *p = ZSTR_VAL(k);
    size_t n = ZSTR_LEN(k);

/* The length first: most options are none of these, and fail there. */
#define OPT_IS(lit) (n == sizeof(lit) - 1 && memcmp(p, lit, sizeof(lit) - 1) == 0)
    if (OPT_IS("server"))
        return OPT_SERVER;
    if (OPT_IS("port"))
        return OPT_PORT;
    if (OPT_IS("sentinel_master") || OPT_IS("sentinel_master_verify") || OPT_IS("sentinel") ||
        OPT_IS("load_from_slaves") || OPT_IS("load_from_slave") || OPT_IS("slave_select_callable"))
        return OPT_DROP;
    return OPT_COPY;
#undef OPT_IS
}

/* The options the backend's parent takes, in one pass over ht: the
 * sentinel keys (option_kind(): those SentinelBackendTrait unsets) dropped, server and port set to the
 * master's (where they were, else port last), everything else as given
 * (references followed: the copy holds values). */
static HashTable *parent_options(HashTable *ht, zend_string *host, zend_long port)
{
    HashTable *out = zend_new_array(zend_hash_num_elements(ht) + 1);
    bool have_port = false;
    zend_string *k;
    zend_ulong h;
    zval *v, nv;

    zend_hash_real_init_mixed(out);
    ZEND_HASH_FOREACH_KEY_VAL(ht, h, k, v) {
        ZVAL_DEREF(v);
        if (k == NULL) {
            Z_TRY_ADDREF_P(v);
            zend_hash_index_add_new(out, h, v);
            continue;
        }
        switch (option_kind(k)) {
        case OPT_DROP:
            continue;
        case OPT_SERVER:
            ZVAL_STR_COPY(&nv, host);
            break;
        case OPT_PORT:
            ZVAL_LONG(&nv, port);
            have_port = true;
            break;
        default:
            ZVAL_COPY(&nv, v);
            break;
        }
        _zend_hash_append(out, k, &nv);
    } ZEND_HASH_FOREACH_END();
    if (!have_port) {
        ZVAL_LONG(&nv, port);
        _zend_hash_append(out, str_port, &nv);
    }
    return out;
}

/* microtime(true): the clock the PHP glue compares "at" with. */
static double wall_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

/* {{{ Sentinel\cache_options_remembered(array $options, &$master = null): array|false
 *
 * The PHP glue's cache backend, built on every PHP-FPM request, did this in
 * PHP around resolve_remembered() (SentinelBackendTrait's constructor: the
 * options copied without the sentinel keys, the master's address set, the
 * answer stamped): here it costs no PHP opcodes. */
PHP_FUNCTION(Sentinel_cache_options_remembered)
{
    zval *options, *master = NULL, answer, v;
    HashTable *ht, *direct;
    sentinel_addr addr;
    const char *source;
    uint64_t epoch;
    sn_fast_slot *s;
    zend_string *host;
    bool thrown;

    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ARRAY(options)
        Z_PARAM_OPTIONAL
        Z_PARAM_ZVAL(master)
    ZEND_PARSE_PARAMETERS_END();

    SENTINEL_G(counters).calls++;
    ht = Z_ARRVAL_P(options);
    /* As SentinelSettings::cacheOptionsUseSentinel(); replicas are the
     * glue's (ReplicaPicker), and so is a TLS data host's scheme. */
    if (!option_set(ht, str_sentinel_master) || !option_set(ht, str_server) ||
        option_set(ht, str_load_from_slaves))
        RETURN_FALSE;
    if ((s = lookup(options, &thrown)) == NULL || s->cfg.tls)
        RETURN_FALSE; /* an array key never throws */
    if (slot_resolve(s, &addr, &source, &epoch) != SENTINEL_OK)
        RETURN_THROWS();
    host = zend_string_init(addr.host, strlen(addr.host), 0);
    if (master != NULL) {
        HashTable *a = answer_init(&answer, 8, s, host, &addr, source, epoch);

        ZVAL_LONG(&v, slot_id((size_t)(s - slots)));
        zend_hash_add_new(a, str_id, &v);
        ZVAL_DOUBLE(&v, wall_seconds());
        zend_hash_add_new(a, str_at, &v);
        ZEND_TRY_ASSIGN_REF_VALUE(master, &answer);
    }
    direct = parent_options(ht, host, addr.port);
    zend_string_release(host);
    RETURN_ARR(direct);
}
/* }}} */
