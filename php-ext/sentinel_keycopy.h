/*
 * A persistent copy of a flat PHP array of scalars, to tell whether a new
 * array has the same content without hashing it (issue 14: Magento hands
 * the cache backend a fresh options array on every request, with the same
 * keys and values). Exact: the same count, the same keys in the same order,
 * the same value types and bytes; no collision is possible.
 */
#ifndef SENTINEL_KEYCOPY_H
#define SENTINEL_KEYCOPY_H

#include "php.h"

typedef struct sn_key_copy sn_key_copy;

/* A persistent copy of ht, which owns none of ht's memory; NULL when ht
 * holds anything but strings, integers, floats, booleans and null (a
 * nested array, an object), or is too big to be worth it. */
sn_key_copy *sn_key_copy_new(HashTable *ht);

/* Whether ht holds exactly what c was copied from: the same number of
 * elements, in the same order the same keys (string or integer), and values
 * of the same type with equal content (strings byte for byte, floats bit for
 * bit: "0" and 0 differ, as 1.0 and 1 do). */
bool sn_key_copy_equals(const sn_key_copy *c, HashTable *ht);

/* Wipes every string of c (passwords are among them) and frees it. NULL is
 * allowed. */
void sn_key_copy_free(sn_key_copy *c);

#endif
