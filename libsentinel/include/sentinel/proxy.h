/*
 * libsentinel proxy: a small epoll TCP proxy that always forwards to the
 * verified Redis master, as an embeddable module.
 *
 * Clients connect to the proxy (TCP and/or a unix socket); each gets its own
 * connection to the current master and bytes are forwarded both ways. The
 * proxy follows the master with a sentinel watcher (events from every
 * sentinel, polling as a backstop), verifies every new master with ROLE
 * before sending it traffic, holds client traffic from the moment a failover
 * of the master is announced, and drops every client connection still
 * attached to the old master when it switches. See src/proxy/proxy.c.
 *
 * Use:
 *
 *     int code;
 *     sentinel_proxy_config_t *c = sentinel_proxy_config_new();
 *     sentinel_proxy_config_set(c, "sentinel", "127.0.0.1:26379");
 *     sentinel_proxy_config_set(c, "master", "mymaster");
 *     sentinel_proxy_t *p = sentinel_proxy_new(c, &code);
 *     if (p == NULL)
 *         fprintf(stderr, "%s\n", sentinel_proxy_config_errstr(c));
 *     sentinel_proxy_config_free(c);      // the proxy copied what it needs
 *     sentinel_proxy_run(p);              // until sentinel_proxy_stop()
 *     sentinel_proxy_free(p);
 *
 * or, from a host's own event loop, wait for POLLIN on sentinel_proxy_fd()
 * for at most sentinel_proxy_timeout() ms and then call
 * sentinel_proxy_step(p, 0, &stopped).
 *
 * Errors follow sentinel.h: the calls that can fail return a sentinel_code
 * (SENTINEL_OK is 0); the message is sentinel_proxy_config_errstr() for the
 * configuration calls and sentinel_proxy_new(), sentinel_proxy_errstr() for
 * a running proxy. A refused configuration value is
 * SENTINEL_ERR_INVALID_ARGUMENT.
 *
 * Ownership: every string is copied. Thread safety: one thread drives a
 * proxy; only sentinel_proxy_stop() and sentinel_proxy_request_stats() may
 * be called from another thread or from a signal handler. Several masters
 * with "route-threads yes" (the default) also run one thread per route,
 * started by sentinel_proxy_new() with every signal blocked and joined by
 * sentinel_proxy_free(); the driving thread keeps the sentinel links and
 * the admin endpoint.
 */
#ifndef SENTINEL_PROXY_H
#define SENTINEL_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/sentinel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Configuration: one key/value table shared by the config file, the
 * command-line flags (--KEY VALUE) and embedders. Keys (see
 * sentinel_proxy_usage() for the full list): listen, unix, unix-mode, sentinel,
 * master, sentinel-user, sentinel-password, data-user, data-password,
 * connect-timeout, command-timeout, resolve-timeout, poll-interval,
 * probe-interval, pause-timeout, idle-timeout, max-clients, buffer-size,
 * admin, log-level, watch, shared-cache, shared-cache-ttl, shared-cache-group,
 * shared-cache-mode, route, route-threads; TLS: tls,
 * cacert, cacertdir, cert, key, sni, insecure, tls-min-version (and
 * sentinel-tls, sentinel-no-tls, sentinel-cacert, ... for the sentinels
 * only), tls-listen-cert, tls-listen-key, tls-listen-cacert,
 * tls-handshake-timeout.
 *
 * Several masters: "route HOST:PORT=NAME" (repeatable) gives master NAME a
 * listener of its own, and watch mode follows every "master" given; one
 * sentinel_proxy_t then serves them all, each master as by a proxy of its
 * own, with one subscription per sentinel for all (a follower group,
 * sentinel/follow.h). sentinel_proxy_port() and _shared_cache_path() then
 * answer for the first route, sentinel_proxy_get_stats() sums the routes
 * (master_up: every one is up; master_host/port: the first route's).
 * "route-threads yes|no" (default yes): each route's clients on a thread of
 * its own, so loaded masters use several CPUs as separate processes would;
 * with no, the driving thread serves every route.
 * ------------------------------------------------------------------------ */
typedef struct sentinel_proxy_config sentinel_proxy_config_t;

SENTINEL_EXPORT sentinel_proxy_config_t *sentinel_proxy_config_new(void);
SENTINEL_EXPORT void sentinel_proxy_config_free(sentinel_proxy_config_t *c);

/* Set one key. Repeatable keys ("sentinel") append. A value that is
 * malformed or out of range is refused: SENTINEL_ERR_INVALID_ARGUMENT, and
 * sentinel_proxy_config_errstr() names the key. */
SENTINEL_EXPORT int sentinel_proxy_config_set(sentinel_proxy_config_t *c, const char *key,
                                              const char *value);

/* Read "key value" lines ('#' starts a comment line, blank lines are
 * ignored). All or nothing is not promised: on error the config is left
 * partly applied and should be freed. SENTINEL_OK, or
 * SENTINEL_ERR_INVALID_ARGUMENT (also for a file that cannot be read) with
 * the message "file:line: message". */
SENTINEL_EXPORT int sentinel_proxy_config_load(sentinel_proxy_config_t *c, const char *path);

/* The message of the last configuration call that failed (and of a failed
 * sentinel_proxy_new()); "" after one that succeeded. Never NULL. */
SENTINEL_EXPORT const char *sentinel_proxy_config_errstr(const sentinel_proxy_config_t *c);

/* What sentinel_proxy_config_parse_args() found asked for in *asked. */
#define SENTINEL_PROXY_ARGS_HELP 1
#define SENTINEL_PROXY_ARGS_VERSION 2

/* Parse command-line flags (argv[0] is skipped): --KEY VALUE or
 * --KEY=VALUE for every key, --config FILE (loaded first, flags win),
 * --watch, --help, --version. Passwords handed over with
 * sentinel_proxy_config_set_env() are applied between the file and the
 * flags (a flag wins over the environment, the environment over the file).
 * The library never reads the process environment itself.
 * SENTINEL_OK with *asked (may be NULL) 0, or SENTINEL_PROXY_ARGS_HELP /
 * SENTINEL_PROXY_ARGS_VERSION for --help / --version (not errors: the rest
 * is not applied); or SENTINEL_ERR_INVALID_ARGUMENT. */
SENTINEL_EXPORT int sentinel_proxy_config_parse_args(sentinel_proxy_config_t *c, int argc,
                                                     char **argv, int *asked);

/* A password the program read from its environment, by variable name:
 * "SENTINEL_PASSWORD" (sentinel-password) or "REDIS_PASSWORD"
 * (data-password), as sentinel-proxy and sentinel-resolve do; value NULL
 * or "" forgets it. Call before sentinel_proxy_config_parse_args().
 * SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT (unknown name, or a value
 * refused as for the flag). */
SENTINEL_EXPORT int sentinel_proxy_config_set_env(sentinel_proxy_config_t *c, const char *name,
                                                  const char *value);

/* Check the whole configuration (a master name, at least one sentinel, a
 * listener unless watch mode). SENTINEL_OK or SENTINEL_ERR_INVALID_ARGUMENT;
 * the message is kept on c, hence not const. */
SENTINEL_EXPORT int sentinel_proxy_config_check(sentinel_proxy_config_t *c);

/* The --help text (static, never NULL). */
SENTINEL_EXPORT const char *sentinel_proxy_usage(void);

/* File descriptors the proxy would use at most (two per client plus a
 * reserve), or -1 for NULL. The library never changes process-wide limits:
 * a program raises RLIMIT_NOFILE to this before sentinel_proxy_new() (the
 * sentinel-proxy tool does); below it, max-clients is lowered to what fits
 * and a warning is logged. */
SENTINEL_EXPORT int sentinel_proxy_config_fds_wanted(const sentinel_proxy_config_t *c);

/* Whether the configuration asks for TLS anywhere: to the master, to the
 * sentinels (tls, sentinel-tls) or from clients (tls-listen-cert): 1 or 0,
 * -1 for NULL. The sentinel-proxy tool, built without OpenSSL, re-execs
 * sentinel-proxy-tls when it is 1. */
SENTINEL_EXPORT int sentinel_proxy_config_tls(const sentinel_proxy_config_t *c);

/* Logging. The default writes
 *   2026-11-27T10:00:00.123Z sentinel-proxy[pid]: level: message
 * to stderr. A callback replaces it; it runs on the proxy's thread (with
 * route threads, on a route's thread too: one call at a time). It must not
 * call the proxy's functions. */
typedef enum sentinel_proxy_log_level {
    SENTINEL_PROXY_LOG_ERROR = 0,
    SENTINEL_PROXY_LOG_WARN = 1,
    SENTINEL_PROXY_LOG_INFO = 2,
    SENTINEL_PROXY_LOG_DEBUG = 3
} sentinel_proxy_log_level;
typedef void (*sentinel_proxy_log_cb)(sentinel_proxy_log_level level, const char *msg,
                                      void *userdata);
/* SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT for c NULL. */
SENTINEL_EXPORT int sentinel_proxy_config_set_log(sentinel_proxy_config_t *c,
                                                  sentinel_proxy_log_cb cb, void *userdata);

/* ------------------------------------------------------------------------
 * The proxy
 * ------------------------------------------------------------------------ */
typedef struct sentinel_proxy sentinel_proxy_t;

/* Validate c, bind the listeners (and the admin endpoint), raise the open
 * file limit for max-clients, and try to resolve the master once (blocking,
 * bounded by resolve-timeout). A master that cannot be resolved yet is not
 * an error: clients are held, then refused with -MASTERDOWN, until the
 * watcher finds one. NULL on failure with *code (may be NULL):
 * SENTINEL_ERR_INVALID_ARGUMENT (the configuration), SENTINEL_ERR_SYSTEM
 * (a listener, the event loop) or SENTINEL_ERR_NO_MEMORY; the message is
 * sentinel_proxy_config_errstr(c), which is why c is not const. */
SENTINEL_EXPORT sentinel_proxy_t *sentinel_proxy_new(sentinel_proxy_config_t *c, int *code);
/* Closes every connection and listener (removes the unix socket). NULL ok. */
SENTINEL_EXPORT void sentinel_proxy_free(sentinel_proxy_t *p);

/* Run the proxy's own loop until sentinel_proxy_stop(). SENTINEL_OK, or
 * SENTINEL_ERR_SYSTEM when the loop itself failed (sentinel_proxy_errstr()). */
SENTINEL_EXPORT int sentinel_proxy_run(sentinel_proxy_t *p);

/* Stepping from a host loop: the fd becomes readable (POLLIN) when there is
 * work; call sentinel_proxy_step() then, or after sentinel_proxy_timeout()
 * ms. step waits at most timeout_ms (0: never blocks) and returns
 * SENTINEL_OK with *stopped (may be NULL) 1 once the proxy has stopped, or
 * SENTINEL_ERR_SYSTEM on a loop failure (sentinel_proxy_errstr()). */
SENTINEL_EXPORT int sentinel_proxy_fd(const sentinel_proxy_t *p);
SENTINEL_EXPORT int sentinel_proxy_timeout(sentinel_proxy_t *p);
SENTINEL_EXPORT int sentinel_proxy_step(sentinel_proxy_t *p, int timeout_ms, int *stopped);
/* The message of the last loop failure ("" if none). Never NULL. */
SENTINEL_EXPORT const char *sentinel_proxy_errstr(const sentinel_proxy_t *p);

/* Ask the proxy to stop gracefully (stop accepting, stop reading requests,
 * let in-flight replies drain briefly, close). Async-signal-safe. */
SENTINEL_EXPORT void sentinel_proxy_stop(sentinel_proxy_t *p);
/* Ask the proxy to log one INFO-like stats line. Async-signal-safe. */
SENTINEL_EXPORT void sentinel_proxy_request_stats(sentinel_proxy_t *p);

/* The bound TCP port (useful with "listen 127.0.0.1:0"), or -1. */
SENTINEL_EXPORT int sentinel_proxy_port(const sentinel_proxy_t *p);
/* The bound TCP port of the route serving master (several masters, or the
 * one master of a classic proxy), or -1 when none serves it. */
SENTINEL_EXPORT int sentinel_proxy_route_port(const sentinel_proxy_t *p, const char *master);
SENTINEL_EXPORT int sentinel_proxy_admin_port(const sentinel_proxy_t *p);
/* The shared-cache file the proxy keeps current (watch mode, or a proxy
 * with shared-cache set), or NULL. Valid while the proxy lives. */
SENTINEL_EXPORT const char *sentinel_proxy_shared_cache_path(const sentinel_proxy_t *p);

/* Counters. Set size = sizeof(sentinel_proxy_stats) before the call;
 * fields may be added at the end in later versions. SENTINEL_OK, or
 * SENTINEL_ERR_INVALID_ARGUMENT (NULL, size below sizeof(size_t)). */
typedef struct sentinel_proxy_stats {
    size_t size;
    uint64_t connections_current; /* client connections open now */
    uint64_t connections_total;   /* accepted since start */
    uint64_t connections_refused; /* over max-clients, or no master in time */
    uint64_t connections_held;    /* waiting for a verified master now */
    uint64_t bytes_from_clients;
    uint64_t bytes_to_clients;
    uint64_t switches;            /* verified master changes */
    uint64_t failovers_started;   /* pauses because a failover began */
    uint64_t failovers_aborted;
    uint64_t clients_dropped_on_switch;
    uint64_t buffer_bytes;        /* per-connection buffer memory now */
    int64_t ms_without_master;    /* total time without a verified master */
    int master_up;                /* 1 while forwarding to a verified master */
    int paused;                   /* 1 while client traffic is held */
    int master_port;              /* 0 if none */
    char master_host[SENTINEL_HOST_MAX];
} sentinel_proxy_stats;
SENTINEL_EXPORT int sentinel_proxy_get_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_PROXY_H */
