/*
 * Persistent copies of flat scalar arrays (see sentinel_keycopy.h).
 *
 * The copy is one persistent allocation (the items) plus one persistent
 * zend_string per string key and value: it never points into request
 * memory, so it outlives the request that made it, and it stays valid
 * across an opcache restart. The options it copies hold passwords: every
 * string is wiped (explicit_bzero, sn_key_wipe()) before it is freed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "php.h"

#include "sentinel_key.h"
#include "sentinel_keycopy.h"

/* More elements than this are hashed rather than copied. */
#define SN_KEY_COPY_MAX 64

typedef struct sn_key_item {
    zend_string *key; /* NULL: an integer key, in h */
    zend_ulong h;
    zval val;         /* a scalar; a string is a persistent copy */
} sn_key_item;

struct sn_key_copy {
    uint32_t n;
    sn_key_item items[];
};

static void wipe_str(zend_string *s)
{
    sn_key_wipe(ZSTR_VAL(s), ZSTR_LEN(s));
    zend_string_free(s);
}

sn_key_copy *sn_key_copy_new(HashTable *ht)
{
    uint32_t n = zend_hash_num_elements(ht), i = 0;
    sn_key_copy *c;
    zend_string *k;
    zend_ulong h;
    zval *v;

    if (n > SN_KEY_COPY_MAX)
        return NULL;
    c = pecalloc(1, sizeof(*c) + n * sizeof(c->items[0]), 1);
    ZEND_HASH_FOREACH_KEY_VAL(ht, h, k, v) {
        sn_key_item *it = &c->items[i];

        ZVAL_DEREF(v);
        switch (Z_TYPE_P(v)) {
        case IS_NULL:
        case IS_FALSE:
        case IS_TRUE:
        case IS_LONG:
        case IS_DOUBLE:
            ZVAL_COPY_VALUE(&it->val, v);
            break;
        case IS_STRING:
            ZVAL_STR(&it->val, zend_string_init(Z_STRVAL_P(v), Z_STRLEN_P(v), 1));
            break;
        default:
            c->n = i;
            sn_key_copy_free(c);
            return NULL;
        }
        it->h = h;
        it->key = k != NULL ? zend_string_init(ZSTR_VAL(k), ZSTR_LEN(k), 1) : NULL;
        i++;
    } ZEND_HASH_FOREACH_END();
    c->n = i;
    return c;
}

static inline uint64_t load64(const char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t load32(const char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Byte for byte, with no call: options' keys and values are short, and a
 * memcmp() call per string cost as much as the rest of the comparison.
 * Loads stay inside both strings (the last word overlaps the one before). */
static inline bool same_str(const zend_string *a, const zend_string *b)
{
    const char *p = ZSTR_VAL(a), *q = ZSTR_VAL(b);
    size_t len = ZSTR_LEN(a);

    if (len != ZSTR_LEN(b))
        return false;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (load64(p + i) != load64(q + i))
                return false;
        return load64(p + len - 8) == load64(q + len - 8);
    }
    if (len >= 4)
        return load32(p) == load32(q) && load32(p + len - 4) == load32(q + len - 4);
    for (size_t i = 0; i < len; i++)
        if (p[i] != q[i])
            return false;
    return true;
}

bool sn_key_copy_equals(const sn_key_copy *c, HashTable *ht)
{
    const sn_key_item *it = c->items;
    zend_string *k;
    zend_ulong h;
    zval *v;

    if (zend_hash_num_elements(ht) != c->n)
        return false;
    ZEND_HASH_FOREACH_KEY_VAL(ht, h, k, v) {
        if (k != NULL) {
            if (it->key == NULL || !same_str(k, it->key))
                return false;
        } else if (it->key != NULL || it->h != h)
            return false;
        ZVAL_DEREF(v);
        if (Z_TYPE_P(v) != Z_TYPE(it->val))
            return false;
        switch (Z_TYPE_P(v)) {
        case IS_STRING:
            if (!same_str(Z_STR_P(v), Z_STR(it->val)))
                return false;
            break;
        case IS_LONG:
            if (Z_LVAL_P(v) != Z_LVAL(it->val))
                return false;
            break;
        case IS_DOUBLE:
            /* Bit for bit, as the keyed hash sees it (-0.0 is not 0.0). */
            if (memcmp(&Z_DVAL_P(v), &Z_DVAL(it->val), sizeof(double)) != 0)
                return false;
            break;
        default: /* null, false, true: the type is the value */
            break;
        }
        it++;
    } ZEND_HASH_FOREACH_END();
    return true;
}

void sn_key_copy_free(sn_key_copy *c)
{
    if (c == NULL)
        return;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->items[i].key != NULL)
            wipe_str(c->items[i].key);
        if (Z_TYPE(c->items[i].val) == IS_STRING)
            wipe_str(Z_STR(c->items[i].val));
    }
    pefree(c, 1);
}
