/* Clocks (with the test clock seam), sleeping and backoff. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test seam: a scripted clock and what "sleeping" does to it. Hidden
 * symbols, reached only through libsentinel.a (the unit tests). */
static int64_t (*test_clock)(void);
static void (*test_sleep)(int64_t ms);

void sn_clock_set(int64_t (*now_ms)(void))
{
    test_clock = now_ms;
}

void sn_sleep_set(void (*sleep_ms)(int64_t ms))
{
    test_sleep = sleep_ms;
}

int64_t sn_now_ms(void)
{
    if (test_clock)
        return test_clock();
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t sn_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void sn_sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    if (test_sleep) {
        test_sleep(ms);
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* xorshift64*: good enough for jitter, and per-handle so no locking. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t sn_rng_seed(const void *salt)
{
    uint64_t seed = (uint64_t)clock_ms(CLOCK_MONOTONIC) * 6364136223846793005ULL;

    seed ^= (uint64_t)getpid() << 32;
    seed ^= (uint64_t)(uintptr_t)salt;
    return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

int64_t sn_backoff_ms(uint64_t *rng, int attempt, int base_ms, int max_ms)
{
    int64_t cap = base_ms;

    for (int i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    if (cap <= 0)
        return 0;
    return (int64_t)(rng_next(rng) % (uint64_t)(cap + 1));
}
