/*
 * Proxy logging: one line per message,
 *   2026-11-27T10:00:00.123Z sentinel-proxy[pid]: level: message
 * on stderr, or to the embedder's callback. Callers never pass passwords.
 * Several masters run on threads of their own (route.c): the embedder's
 * callback is called by one thread at a time (cb_mu); stderr lines are
 * whole fprintf()s, which stdio locks.
 * errno is kept: callers log a failure, then report errno (the route
 * errstr, route.c); a callback (syslog() without /dev/log) or a failed
 * write to stderr must not change it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

const char *px_log_level_name(sentinel_proxy_log_level level)
{
    switch (level) {
    case SENTINEL_PROXY_LOG_ERROR: return "error";
    case SENTINEL_PROXY_LOG_WARN: return "warning";
    case SENTINEL_PROXY_LOG_INFO: return "info";
    case SENTINEL_PROXY_LOG_DEBUG: return "debug";
    }
    return "?";
}

void px_logf(const px_log *lg, sentinel_proxy_log_level level, const char *fmt, ...)
{
    char msg[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n = 0, saved = errno;

    if (level > lg->level)
        return;
    if (lg->tag) /* one process, several masters: whose line */
        n = snprintf(msg, sizeof(msg), "[%.200s] ", lg->tag);
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (lg->cb) {
        static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;

        pthread_mutex_lock(&cb_mu);
        lg->cb(level, msg, lg->ud);
        pthread_mutex_unlock(&cb_mu);
        errno = saved;
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line so that lines from several processes interleave
     * whole on a shared stderr. */
    fprintf(stderr, "%s.%03ldZ sentinel-proxy[%ld]: %s: %s\n", stamp, ts.tv_nsec / 1000000L,
            (long)getpid(), px_log_level_name(level), msg);
    errno = saved;
}
