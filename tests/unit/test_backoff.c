/*
 * Backoff (time.c): exponential with full jitter, uniform in
 * [0, min(max, base * 2^attempt)], never overflowing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "internal.h"

#define SAMPLES 4000

static int64_t expected_cap(int attempt, int base, int max)
{
    int64_t cap = base;

    for (int i = 0; i < attempt && cap < max; i++)
        cap *= 2;
    return cap < max ? cap : max;
}

static void test_backoff_stays_within_bounds(void **state)
{
    static const struct {
        int base, max;
    } cfgs[] = {{10, 500}, {1, 2}, {7, 1000}, {100, 100}, {1, 86400000}, {250, 5000}};
    uint64_t rng = sn_rng_seed(state);

    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        for (int attempt = 0; attempt < 40; attempt++) {
            int64_t cap = expected_cap(attempt, cfgs[c].base, cfgs[c].max);

            for (int i = 0; i < SAMPLES / 10; i++) {
                int64_t b = sn_backoff_ms(&rng, attempt, cfgs[c].base, cfgs[c].max);
                if (b < 0 || b > cap)
                    fail_msg("attempt %d base %d max %d: %lld outside [0, %lld]", attempt,
                             cfgs[c].base, cfgs[c].max, (long long)b, (long long)cap);
            }
        }
    }
}

static void test_backoff_is_jittered_not_constant(void **state)
{
    static char seen[501];
    uint64_t rng = sn_rng_seed(state);
    int distinct = 0;
    int64_t lo = INT64_MAX, hi = -1;

    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < SAMPLES; i++) {
        int64_t b = sn_backoff_ms(&rng, 10, 10, 500);

        assert_in_range(b, 0, 500);
        if (!seen[b]++)
            distinct++;
        if (b < lo)
            lo = b;
        if (b > hi)
            hi = b;
    }
    /* Full jitter: spread over the whole range, not a handful of values. */
    assert_true(distinct > 200);
    assert_true(lo < 50);
    assert_true(hi > 450);
}

static void test_backoff_bound_grows_exponentially(void **state)
{
    uint64_t rng = sn_rng_seed(state);

    /* With base 10: attempt 0 stays within 10, attempt 3 reaches past 40
     * (and up to 80), attempt 20 reaches near the 500 cap. */
    for (int attempt = 0; attempt <= 20; attempt++) {
        int64_t cap = expected_cap(attempt, 10, 500), hi = 0;

        for (int i = 0; i < SAMPLES; i++) {
            int64_t b = sn_backoff_ms(&rng, attempt, 10, 500);
            if (b > hi)
                hi = b;
        }
        assert_true(hi <= cap);
        assert_true(hi >= cap * 9 / 10);
    }
}

static void test_backoff_huge_attempts_are_capped(void **state)
{
    static const int attempts[] = {31, 32, 63, 64, 65, 1000, 100000, INT_MAX};
    uint64_t rng = sn_rng_seed(state);

    for (size_t a = 0; a < sizeof(attempts) / sizeof(attempts[0]); a++) {
        int64_t hi = 0;

        for (int i = 0; i < 200; i++) {
            int64_t b = sn_backoff_ms(&rng, attempts[a], 10, 500);
            assert_in_range(b, 0, 500);
            if (b > hi)
                hi = b;
            b = sn_backoff_ms(&rng, attempts[a], 1, INT_MAX);
            assert_true(b >= 0 && b <= INT_MAX);
            b = sn_backoff_ms(&rng, attempts[a], INT_MAX, INT_MAX);
            assert_true(b >= 0 && b <= INT_MAX);
        }
        assert_true(hi > 250); /* capped at max, not wrapped to something small */
    }
}

static void test_backoff_degenerate_inputs(void **state)
{
    uint64_t rng = sn_rng_seed(state);

    for (int i = 0; i < 100; i++) {
        /* A zero or negative bound means no pause. */
        assert_int_equal(sn_backoff_ms(&rng, 5, 0, 0), 0);
        assert_int_equal(sn_backoff_ms(&rng, 5, 0, 500), 0);
        assert_int_equal(sn_backoff_ms(&rng, 5, -10, -1), 0);
        /* A negative attempt is treated as the first. */
        assert_in_range(sn_backoff_ms(&rng, -3, 10, 500), 0, 10);
    }
}

static void test_backoff_same_seed_same_sequence(void **state)
{
    uint64_t a = 12345, b = 12345, c = 54321;
    int differs = 0;

    (void)state;
    for (int i = 0; i < 100; i++) {
        int64_t x = sn_backoff_ms(&a, 8, 10, 5000);
        assert_int_equal(x, sn_backoff_ms(&b, 8, 10, 5000));
        differs |= x != sn_backoff_ms(&c, 8, 10, 5000);
    }
    assert_true(differs);
    /* Seeds differ per handle (salted by address) and are never zero. */
    assert_true(sn_rng_seed(&a) != sn_rng_seed(&b));
    assert_true(sn_rng_seed(NULL) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_stays_within_bounds),
        cmocka_unit_test(test_backoff_is_jittered_not_constant),
        cmocka_unit_test(test_backoff_bound_grows_exponentially),
        cmocka_unit_test(test_backoff_huge_attempts_are_capped),
        cmocka_unit_test(test_backoff_degenerate_inputs),
        cmocka_unit_test(test_backoff_same_seed_same_sequence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
