/*
 * The exported validators (sentinel.h): each gives the verdict and the
 * reason the handle's own setter gives for the same text, because it runs
 * the same parser. Every case is checked both ways: the validator, then
 * sentinel_new() / sentinel_add_sentinels() / sentinel_add_address_maps()
 * on a fresh handle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sentinel/sentinel.h"

static const char *const sentinel_lists[] = {
    "127.0.0.1:26379",
    "127.0.0.1:26379, [::1]:26380 localhost:26381",
    "a:1,a:1,a:1",     /* duplicates count once */
    "",                /* empty */
    " , ",             /* empty */
    "localhost",       /* no port */
    "127.0.0.1:0",     /* port out of range */
    "127.0.0.1:65536",
    "[::1:26379",      /* unclosed bracket */
    "::1:26379",       /* IPv6 without brackets */
    "bad/host:26379",
    "tls://127.0.0.1:26379",     /* a scheme: the bindings' form, not the library's */
    "tlsv1.3://[::1]:26379",
};

static const char *const address_maps[] = {
    "",
    "10.0.0.1=127.0.0.1",
    "10.0.0.1:6379=127.0.0.1:7000, [fd00::1]=localhost",
    "10.0.0.1",        /* no '=' */
    "10.0.0.1=",       /* empty side */
    "10.0.0.1:99999=x",
    "a b=c",
};

static const char *const names[] = {
    "mymaster", "a", "", "two words", "tab\there", "del\x7f", "caf\xc3\xa9",
};

/* validate(text) gives the code and the reason that add(handle, text)
 * gives on a fresh handle. */
static void same_as_handle(const char *text, int (*validate)(const char *, char *, size_t),
                           int (*add)(sentinel_t *, const char *))
{
    char why[512] = "unset";
    sentinel_t *s = sentinel_new("mymaster", NULL);
    int want = add(s, text);

    assert_int_equal(validate(text, why, sizeof(why)), want);
    assert_string_equal(why, want == SENTINEL_OK ? "" : sentinel_errstr(s));
    sentinel_free(s);
}

static void test_sentinel_list_verdicts_match_the_handle(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sentinel_lists) / sizeof(sentinel_lists[0]); i++)
        same_as_handle(sentinel_lists[i], sentinel_validate_sentinels, sentinel_add_sentinels);
    /* The samples cover both verdicts. */
    assert_int_equal(sentinel_validate_sentinels(sentinel_lists[0], NULL, 0), SENTINEL_OK);
    assert_int_equal(sentinel_validate_sentinels("localhost", NULL, 0),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_validate_sentinels(NULL, NULL, 0), SENTINEL_ERR_INVALID_ARGUMENT);
}

/* A URL scheme is refused with a reason that names it, not taken for a
 * malformed IPv6 address. */
static void test_scheme_refused_as_a_scheme(void **state)
{
    char why[512];

    (void)state;
    assert_int_equal(sentinel_validate_sentinels("tls://127.0.0.1:26379", why, sizeof(why)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "no scheme here"));
    assert_int_equal(sentinel_validate_address("tlsv1.3://[::1]:6379", why, sizeof(why)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "no scheme here"));
}

static void test_too_many_sentinels_refused_like_the_handle(void **state)
{
    char list[65 * 20] = "";

    (void)state;
    for (int i = 0; i < 65; i++) /* one more than the 64 a handle holds */
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "10.0.0.%d:26379,", i);
    assert_int_equal(sentinel_validate_sentinels(list, NULL, 0), SENTINEL_ERR_INVALID_ARGUMENT);
    same_as_handle(list, sentinel_validate_sentinels, sentinel_add_sentinels);
}

static void test_address_verdicts_match_a_one_item_list(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sentinel_lists) / sizeof(sentinel_lists[0]); i++) {
        const char *a = sentinel_lists[i];
        char why[512], list_why[512];
        int want;

        if (*a == '\0' || strpbrk(a, ", ") != NULL)
            continue; /* a list, not one address */
        want = sentinel_validate_sentinels(a, list_why, sizeof(list_why));
        assert_int_equal(sentinel_validate_address(a, why, sizeof(why)), want);
        assert_string_equal(why, list_why);
    }
    assert_int_equal(sentinel_validate_address("[::1]:6379", NULL, 0), SENTINEL_OK);
    assert_int_equal(sentinel_validate_address("127.0.0.1:6379,127.0.0.1:6380", NULL, 0),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_validate_address(NULL, NULL, 0), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_address_map_verdicts_match_the_handle(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(address_maps) / sizeof(address_maps[0]); i++)
        same_as_handle(address_maps[i], sentinel_validate_address_maps,
                       sentinel_add_address_maps);
    assert_int_equal(sentinel_validate_address_maps("10.0.0.1", NULL, 0),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_validate_address_maps(NULL, NULL, 0),
                     SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_master_name_verdicts_match_sentinel_new(void **state)
{
    char long_name[202];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char why[512] = "unset";
        int code = -1;
        sentinel_t *s = sentinel_new(names[i], &code);

        assert_int_equal(sentinel_validate_master_name(names[i], why, sizeof(why)), code);
        assert_true((code == SENTINEL_OK) == (why[0] == '\0'));
        sentinel_free(s);
    }
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(sentinel_validate_master_name(long_name + 1, NULL, 0), SENTINEL_OK);
    assert_int_equal(sentinel_validate_master_name(long_name, NULL, 0),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_validate_master_name(NULL, NULL, 0), SENTINEL_ERR_INVALID_ARGUMENT);
}

/* The reason says what is wrong, and a short buffer is cut, not overrun. */
static void test_reason_names_the_fault_and_fits_the_buffer(void **state)
{
    char why[512], tiny[8];

    (void)state;
    assert_int_equal(sentinel_validate_master_name("two words", why, sizeof(why)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "without spaces"));
    assert_non_null(strstr(why, "offset 3"));
    assert_int_equal(sentinel_validate_sentinels("127.0.0.1:0", why, sizeof(why)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "bad port in '127.0.0.1:0'"));
    memset(tiny, 'x', sizeof(tiny));
    assert_int_equal(sentinel_validate_sentinels("localhost", tiny, sizeof(tiny)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_int_equal(sentinel_validate_sentinels("127.0.0.1:1", why, 0), SENTINEL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentinel_list_verdicts_match_the_handle),
        cmocka_unit_test(test_scheme_refused_as_a_scheme),
        cmocka_unit_test(test_too_many_sentinels_refused_like_the_handle),
        cmocka_unit_test(test_address_verdicts_match_a_one_item_list),
        cmocka_unit_test(test_address_map_verdicts_match_the_handle),
        cmocka_unit_test(test_master_name_verdicts_match_sentinel_new),
        cmocka_unit_test(test_reason_names_the_fault_and_fits_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
