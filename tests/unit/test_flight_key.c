/*
 * The single-flight key without memory (handle.c, extend_flight_key): a
 * handle whose key cannot grow to name a newly added sentinel stops
 * sharing resolutions altogether (no key), rather than keep the shorter
 * key of fewer sentinels, which handles of another sentinel set would
 * share. realloc() is wrapped at link time (-Wl,--wrap=realloc,
 * tests/unit/CMakeLists.txt) so the test can make the next one fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"
#include "mock_net.h"

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static int fail_next_realloc;

void *__wrap_realloc(void *p, size_t n)
{
    if (fail_next_realloc) {
        fail_next_realloc = 0;
        return NULL;
    }
    return __real_realloc(p, n);
}

static int setup(void **state)
{
    (void)state;
    mock_net_reset();
    sn_transport_set(&mock_transport);
    fail_next_realloc = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_transport_set(NULL);
    return 0;
}

/* Control: with memory, the key names the master and every sentinel. */
static void test_key_names_every_sentinel(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    (void)state;
    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), SENTINEL_OK);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.2", 26380), SENTINEL_OK);
    assert_non_null(s->flight_key);
    assert_string_equal(s->flight_key, "mymaster|127.0.0.1:26379|127.0.0.2:26380");
    sentinel_free(s);
}

/* Out of memory while naming the second sentinel: no key at all, and none
 * made again by a later sentinel; the handle still resolves, on its own. */
static void test_key_lost_to_oom_means_no_sharing(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_addr a;

    (void)state;
    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), SENTINEL_OK);
    fail_next_realloc = 1;
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.2", 26380), SENTINEL_OK);
    assert_int_equal(fail_next_realloc, 0); /* the key's realloc() was the one refused */
    assert_int_equal(sentinel_sentinel_count(s), 2);
    assert_null(s->flight_key);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.3", 26381), SENTINEL_OK);
    assert_null(s->flight_key);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6380);
    sentinel_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_names_every_sentinel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_lost_to_oom_means_no_sharing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
