/*
 * The in-process cache of a handle, and the process-wide single-flight table
 * that keeps N handles for one master from querying sentinels N times at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int sn_cache_get(const sn_cache *c, sentinel_addr *out)
{
    if (!c->valid || sn_now_ms() >= c->expires_ms)
        return -1;
    *out = c->addr;
    return 0;
}

void sn_cache_put(sn_cache *c, const sentinel_addr *a, int ttl_ms)
{
    c->addr = *a;
    c->expires_ms = sn_now_ms() + ttl_ms;
    c->valid = 1;
}

void sn_cache_clear(sn_cache *c)
{
    c->valid = 0;
}

/* ------------------------------------------------------------------------
 * Single flight
 *
 * Flights live for the life of the process (one per distinct master name and
 * sentinel set, so a handful) and are freed by a destructor at exit.
 * ------------------------------------------------------------------------ */

struct sn_flight {
    struct sn_flight *next;
    char *key;
    pthread_mutex_t mu;
    pthread_cond_t done;
    int busy;
    uint64_t generation; /* bumped when a result is published */
    int code;
    sentinel_addr addr;
    sn_err err;
};

static pthread_mutex_t flights_mu = PTHREAD_MUTEX_INITIALIZER;
static sn_flight *flights;
static _Atomic int flight_waiters; /* callers waiting for another's answer */

int sn_flight_waiters(void)
{
    return flight_waiters;
}

/* The deadline is on sn_now_ms()'s clock, which a unit test may script; the
 * condition variable waits on CLOCK_MONOTONIC: wait for what is left. */
static int wait_done(sn_flight *f, int64_t deadline_ms)
{
    int64_t left = deadline_ms - sn_now_ms();
    struct timespec ts;

    if (left <= 0)
        return ETIMEDOUT;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return pthread_cond_timedwait(&f->done, &f->mu, &ts);
}

sn_flight *sn_flight_get(const char *key)
{
    sn_flight *f;
    pthread_condattr_t ca;

    pthread_mutex_lock(&flights_mu);
    for (f = flights; f != NULL; f = f->next)
        if (strcmp(f->key, key) == 0)
            goto out;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        goto out;
    if ((f->key = strdup(key)) == NULL) {
        free(f);
        f = NULL;
        goto out;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->done, &ca);
    pthread_condattr_destroy(&ca);
    f->next = flights;
    flights = f;
out:
    pthread_mutex_unlock(&flights_mu);
    return f;
}

int sn_flight_begin(sn_flight *f, int64_t deadline_ms, int *code, sentinel_addr *addr, sn_err *e)
{
    uint64_t seen;

    pthread_mutex_lock(&f->mu);
    if (!f->busy) {
        f->busy = 1;
        pthread_mutex_unlock(&f->mu);
        return 1;
    }
    /* Someone is resolving: wait for their answer rather than ask again. */
    seen = f->generation;
    flight_waiters++;
    while (f->busy && f->generation == seen)
        if (wait_done(f, deadline_ms) == ETIMEDOUT)
            break;
    flight_waiters--;
    if (f->generation == seen) {
        /* Deadline passed with the other resolution still running. */
        pthread_mutex_unlock(&f->mu);
        sn_err_set(e, SENTINEL_ERR_TIMEOUT, "timed out waiting for a resolution in progress");
        *code = SENTINEL_ERR_TIMEOUT;
        return 0;
    }
    *code = f->code;
    *addr = f->addr;
    *e = f->err;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

void sn_flight_end(sn_flight *f, int code, const sentinel_addr *addr, const sn_err *e)
{
    pthread_mutex_lock(&f->mu);
    f->busy = 0;
    f->generation++;
    f->code = code;
    if (addr)
        f->addr = *addr;
    f->err = *e;
    pthread_cond_broadcast(&f->done);
    pthread_mutex_unlock(&f->mu);
}

__attribute__((destructor)) static void flights_free(void)
{
    sn_flight *f, *next;

    pthread_mutex_lock(&flights_mu);
    for (f = flights; f != NULL; f = next) {
        next = f->next;
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->done);
        free(f->key);
        free(f);
    }
    flights = NULL;
    pthread_mutex_unlock(&flights_mu);
}
