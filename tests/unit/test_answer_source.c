/*
 * sentinel_last_source(): where the answer of the last resolution came
 * from, for each source the library has (the handle's cache, the host's
 * shared cache, the sentinels, the last known master, and no answer), and
 * in particular behind a host follower whose heartbeat went stale, where
 * sentinel_resolve_shared() answers from the handle's own cache: the PHP
 * extension used to infer "shared" there from its statistics. Single
 * flight (SENTINEL_SOURCE_JOINED) needs threads and held replies:
 * tests/unit/test_resolve.c checks it with its single-flight test.
 *
 * The network is mock_net.c's script: one sentinel (port 26379) naming one
 * master (port 6380) that answers ROLE master; mock_refused_port refuses
 * the sentinel's connections. It counts connections so a test can tell a
 * cached answer from an asked one independently of the source it checks.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "mock_net.h"
#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"
#include "scratch_dir.h"

#define SENTINEL_PORT 26379
#define MASTER_PORT 6380

static int setup(void **state)
{
    fixture *f = scratch_new("sn-source-test");

    if (f == NULL)
        return -1;
    mock_net_reset();
    sn_transport_set(&mock_transport);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    sn_transport_set(NULL);
    scratch_free(*state);
    return 0;
}

static sentinel_t *handle(void)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", SENTINEL_PORT), SENTINEL_OK);
    assert_int_equal(sentinel_set_retry(s, 1, 1, 1), SENTINEL_OK);
    return s;
}

/* Resolve and return the source; asserts the resolution worked. */
static int resolved_from(sentinel_t *s, int flags)
{
    sentinel_addr a;

    assert_int_equal(sentinel_resolve(s, flags, &a), SENTINEL_OK);
    assert_int_equal(a.port, MASTER_PORT);
    return sentinel_last_source(s);
}

static int shared_from(sentinel_t *s, sentinel_shm_t *shm, sentinel_addr *a)
{
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, a),
                     SENTINEL_OK);
    return sentinel_last_source(s);
}

/* A host follower's last beat, age_ms ago. */
static void beat_ago(sentinel_shm_t *shm, int64_t age_ms)
{
    atomic_store(&sn_shm_mapping(shm)->heartbeat, sn_wall_ms() - age_ms);
}

/* ------------------------------------------------------------------------ */

static void test_every_source_has_a_name(void **state)
{
    static const char *const names[SENTINEL_SOURCE_COUNT] = {
        "none", "cache", "shared_cache", "sentinel", "joined", "last_known"};

    (void)state;
    for (int i = 0; i < SENTINEL_SOURCE_COUNT; i++)
        assert_string_equal(sentinel_source_name(i), names[i]);
    assert_string_equal(sentinel_source_name(-1), "unknown");
    assert_string_equal(sentinel_source_name(SENTINEL_SOURCE_COUNT), "unknown");
    assert_int_equal(sentinel_last_source(NULL), SENTINEL_SOURCE_NONE);
}

static void test_sentinels_then_own_cache(void **state)
{
    sentinel_t *s = handle();

    (void)state;
    assert_int_equal(sentinel_last_source(s), SENTINEL_SOURCE_NONE); /* nothing asked yet */
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(mock_opens, 2); /* the sentinel, then ROLE on the master */
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_CACHE);
    assert_int_equal(mock_opens, 2);
    assert_int_equal(resolved_from(s, SENTINEL_RESOLVE_NO_CACHE), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(mock_opens, 4);
    sentinel_free(s);
}

static void test_failed_resolution_has_no_source(void **state)
{
    sentinel_t *s = handle();
    sentinel_addr a;

    (void)state;
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL);
    mock_refused_port = SENTINEL_PORT;
    /* Without verification there is no last known master to fall back on. */
    assert_int_equal(sentinel_set_verify(s, 0), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a),
                     SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(sentinel_last_source(s), SENTINEL_SOURCE_NONE);
    assert_int_equal(sentinel_resolve(s, 0, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_last_source(s), SENTINEL_SOURCE_NONE);
    sentinel_free(s);
}

static void test_last_known_master_when_sentinels_are_silent(void **state)
{
    sentinel_t *s = handle();

    (void)state;
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL);
    mock_refused_port = SENTINEL_PORT;
    assert_int_equal(resolved_from(s, SENTINEL_RESOLVE_NO_CACHE), SENTINEL_SOURCE_LAST_KNOWN);
    sentinel_free(s);
}

static void test_shared_cache_entry(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = sentinel_shm_open(f->path, NULL);
    sentinel_t *s = handle(), *t = handle();
    sentinel_addr a;

    assert_non_null(shm);
    /* Empty file: s asks the sentinels and publishes; t reads the file. */
    assert_int_equal(shared_from(s, shm, &a), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(mock_opens, 2);
    assert_int_equal(shared_from(t, shm, &a), SENTINEL_SOURCE_SHARED_CACHE);
    assert_int_equal(a.port, MASTER_PORT);
    assert_int_equal(mock_opens, 2);
    /* A host follower that beats: its entry is served the same way. */
    beat_ago(shm, 0);
    assert_int_equal(shared_from(t, shm, &a), SENTINEL_SOURCE_SHARED_CACHE);
    sentinel_free(s);
    sentinel_free(t);
    sentinel_shm_close(shm);
}

/* The PHP extension's bug: a host follower that stopped beating makes
 * sentinel_resolve_shared() answer on its own, from the handle's cache
 * while it is fresh; no sentinel was asked, and no file was read either. */
static void test_stale_host_follower_answers_from_own_cache(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = sentinel_shm_open(f->path, NULL);
    sentinel_t *s = handle();
    sentinel_addr a;

    assert_non_null(shm);
    beat_ago(shm, 0);
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL); /* the handle's cache */
    beat_ago(shm, SENTINEL_SHM_HEARTBEAT_FRESH_MS + 1000);
    assert_int_equal(shared_from(s, shm, &a), SENTINEL_SOURCE_CACHE);
    assert_int_equal(mock_opens, 2); /* only the first resolution's */
    /* Its cache forgotten, the same call asks the sentinels. */
    sentinel_invalidate(s);
    assert_int_equal(shared_from(s, shm, &a), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(mock_opens, 4);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

static void test_flagged_failover_fail_fast_has_no_source(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = sentinel_shm_open(f->path, NULL);
    sentinel_t *s = handle();
    sentinel_addr a;

    assert_non_null(shm);
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL);
    memset(&a, 0, sizeof(a));
    snprintf(a.host, sizeof(a.host), "127.0.0.1");
    a.port = MASTER_PORT;
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, SENTINEL_SHM_FAILOVER, 1000), 0);
    beat_ago(shm, 0);
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, &a),
                     SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(sentinel_last_source(s), SENTINEL_SOURCE_NONE);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_source_has_a_name),
        T(test_sentinels_then_own_cache),
        T(test_failed_resolution_has_no_source),
        T(test_last_known_master_when_sentinels_are_silent),
        T(test_shared_cache_entry),
        T(test_stale_host_follower_answers_from_own_cache),
        T(test_flagged_failover_fail_fast_has_no_source),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
