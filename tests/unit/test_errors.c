/*
 * Error codes (errors.c): every code has a name and a message, driven by
 * SENTINEL_CODE_COUNT rather than a hard-coded last value, and the values
 * published so far never change meaning.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sentinel/sentinel.h>

/* What errors.c answers for a value that is no code: INT_MIN never will be. */
#define FALLBACK_NAME sentinel_code_name(INT_MIN)
#define FALLBACK_MSG sentinel_strerror(INT_MIN)

static int is_unknown(int code)
{
    return strcmp(sentinel_code_name(code), FALLBACK_NAME) == 0 ||
           strcmp(sentinel_strerror(code), FALLBACK_MSG) == 0;
}

/* The library and the header agree on the count. */
static void test_code_count_matches_header(void **state)
{
    (void)state;
    assert_int_equal(sentinel_code_count(), SENTINEL_CODE_COUNT);
    assert_true(SENTINEL_CODE_COUNT > SENTINEL_ERR_SYSTEM);
}

/* Every code below the count has its own SENTINEL_* name and its own
 * non-empty message, neither of them the "unknown" fallback. */
static void test_every_code_has_a_name_and_message(void **state)
{
    const char *names[SENTINEL_CODE_COUNT], *msgs[SENTINEL_CODE_COUNT];

    (void)state;
    for (int c = 0; c < SENTINEL_CODE_COUNT; c++) {
        names[c] = sentinel_code_name(c);
        msgs[c] = sentinel_strerror(c);
        assert_non_null(names[c]);
        assert_non_null(msgs[c]);
        if (is_unknown(c))
            fail_msg("code %d (below SENTINEL_CODE_COUNT %d) has no name or message: "
                     "add it to both switches in errors.c", c, SENTINEL_CODE_COUNT);
        assert_int_equal(strncmp(names[c], "SENTINEL_", 9), 0);
        assert_true(msgs[c][0] != '\0');
        for (int d = 0; d < c; d++) {
            assert_string_not_equal(names[c], names[d]);
            assert_string_not_equal(msgs[c], msgs[d]);
        }
    }
}

/* A code appended to the enum (with its name and message) without raising
 * SENTINEL_CODE_COUNT would be skipped by the test above: the value at the
 * count must be unknown. Negative values and far-off values are unknown too,
 * and the fallbacks are never NULL. */
static void test_no_named_code_past_the_count(void **state)
{
    static const int past[] = {SENTINEL_CODE_COUNT, SENTINEL_CODE_COUNT + 1, -1, 1000,
                               INT_MAX};

    (void)state;
    assert_non_null(strstr(FALLBACK_NAME, "UNKNOWN"));
    assert_non_null(strstr(FALLBACK_MSG, "unknown"));
    for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
        if (!is_unknown(past[i]))
            fail_msg("code %d is named \"%s\" but SENTINEL_CODE_COUNT is %d: raise the count",
                     past[i], sentinel_code_name(past[i]), SENTINEL_CODE_COUNT);
        assert_string_equal(sentinel_code_name(past[i]), FALLBACK_NAME);
        assert_string_equal(sentinel_strerror(past[i]), FALLBACK_MSG);
    }
}

/* Values are never reused: every code published so far keeps its value
 * and its name. Append a row for each new code; never edit a row. */
static void test_published_codes_keep_their_values(void **state)
{
    static const struct {
        int value;
        const char *name;
    } published[] = {
        {SENTINEL_OK, "SENTINEL_OK"},
        {SENTINEL_ERR_INVALID_ARGUMENT, "SENTINEL_ERR_INVALID_ARGUMENT"},
        {SENTINEL_ERR_NO_MEMORY, "SENTINEL_ERR_NO_MEMORY"},
        {SENTINEL_ERR_NO_SENTINEL_REACHABLE, "SENTINEL_ERR_NO_SENTINEL_REACHABLE"},
        {SENTINEL_ERR_UNKNOWN_MASTER, "SENTINEL_ERR_UNKNOWN_MASTER"},
        {SENTINEL_ERR_AUTH, "SENTINEL_ERR_AUTH"},
        {SENTINEL_ERR_NOT_MASTER, "SENTINEL_ERR_NOT_MASTER"},
        {SENTINEL_ERR_TIMEOUT, "SENTINEL_ERR_TIMEOUT"},
        {SENTINEL_ERR_PROTOCOL, "SENTINEL_ERR_PROTOCOL"},
        {SENTINEL_ERR_HOST_UNRESOLVED, "SENTINEL_ERR_HOST_UNRESOLVED"},
        {SENTINEL_ERR_MASTER_UNREACHABLE, "SENTINEL_ERR_MASTER_UNREACHABLE"},
        {SENTINEL_ERR_NO_QUORUM, "SENTINEL_ERR_NO_QUORUM"},
        {SENTINEL_ERR_SYSTEM, "SENTINEL_ERR_SYSTEM"},
        {SENTINEL_ERR_TLS, "SENTINEL_ERR_TLS"},
    };
    const size_t n = sizeof(published) / sizeof(published[0]);

    (void)state;
    assert_true(n <= (size_t)SENTINEL_CODE_COUNT);
    for (size_t i = 0; i < n; i++) {
        /* the rows are the values 0, 1, 2, ... in order: none skipped */
        assert_int_equal(published[i].value, (int)i);
        assert_string_equal(sentinel_code_name(published[i].value), published[i].name);
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(sentinel_version(), SENTINEL_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_count_matches_header),
        cmocka_unit_test(test_every_code_has_a_name_and_message),
        cmocka_unit_test(test_no_named_code_past_the_count),
        cmocka_unit_test(test_published_codes_keep_their_values),
        cmocka_unit_test(test_version),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
