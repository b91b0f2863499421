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
 * The network is a script: one sentinel (port 26379) naming one master
 * (port 6380) that answers ROLE master; `sentinel_down` refuses the
 * sentinel's connections. It counts connections so a test can tell a
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
#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"
#include "scratch_dir.h"

#define SENTINEL_PORT 26379
#define MASTER_PORT 6380

static struct script_conn {
    int used;
    char reply[256];
    size_t len, off;
} script[4];
static int connects;      /* connections opened, sentinels and master */
static int sentinel_down; /* the sentinel refuses connections */

static int script_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    (void)host;
    (void)deadline_ms;
    if (port == SENTINEL_PORT && sentinel_down)
        return sn_err_set(e, SENTINEL_ERR_NO_SENTINEL_REACHABLE, "script: refused");
    connects++;
    for (int h = 0; h < 4; h++)
        if (!script[h].used) {
            memset(&script[h], 0, sizeof(script[h]));
            script[h].used = 1;
            return h;
        }
    return sn_err_set(e, SENTINEL_ERR_SYSTEM, "script: out of handles");
}

/* One command in, its scripted answer queued. */
static ssize_t script_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    struct script_conn *c = &script[h];
    const char *answer = "-ERR not scripted\r\n";

    (void)deadline_ms;
    (void)e;
    if (memmem(buf, len, "get-master-addr-by-name", 23) != NULL)
        answer = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n";
    else if (memmem(buf, len, "sentinels", 9) != NULL)
        answer = "*0\r\n";
    else if (memmem(buf, len, "ROLE", 4) != NULL)
        answer = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
    c->len += (size_t)snprintf(c->reply + c->len, sizeof(c->reply) - c->len, "%s", answer);
    return (ssize_t)len;
}

static ssize_t script_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    struct script_conn *c = &script[h];
    size_t n = c->len - c->off < cap ? c->len - c->off : cap;

    (void)deadline_ms;
    if (n == 0)
        return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "script: nothing to read");
    memcpy(buf, c->reply + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

static void script_close(int h)
{
    script[h].used = 0;
}

static const sn_transport script_transport = {
    .open = script_open,
    .send = script_send,
    .recv = script_recv,
    .close = script_close,
};

static int setup(void **state)
{
    fixture *f = scratch_new("sn-source-test");

    if (f == NULL)
        return -1;
    memset(script, 0, sizeof(script));
    connects = 0;
    sentinel_down = 0;
    sn_transport_set(&script_transport);
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
    assert_int_equal(connects, 2); /* the sentinel, then ROLE on the master */
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_CACHE);
    assert_int_equal(connects, 2);
    assert_int_equal(resolved_from(s, SENTINEL_RESOLVE_NO_CACHE), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(connects, 4);
    sentinel_free(s);
}

static void test_failed_resolution_has_no_source(void **state)
{
    sentinel_t *s = handle();
    sentinel_addr a;

    (void)state;
    assert_int_equal(resolved_from(s, 0), SENTINEL_SOURCE_SENTINEL);
    sentinel_down = 1;
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
    sentinel_down = 1;
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
    assert_int_equal(connects, 2);
    assert_int_equal(shared_from(t, shm, &a), SENTINEL_SOURCE_SHARED_CACHE);
    assert_int_equal(a.port, MASTER_PORT);
    assert_int_equal(connects, 2);
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
    assert_int_equal(connects, 2); /* only the first resolution's */
    /* Its cache forgotten, the same call asks the sentinels. */
    sentinel_invalidate(s);
    assert_int_equal(shared_from(s, shm, &a), SENTINEL_SOURCE_SENTINEL);
    assert_int_equal(connects, 4);
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
