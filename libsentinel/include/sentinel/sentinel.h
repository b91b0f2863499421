/*
 * libsentinel: follow a Redis master through Redis Sentinel.
 *
 * The library resolves a master name through a list of sentinels the way the
 * Redis "sentinel clients" guidelines describe, verifies the answer with ROLE,
 * caches it, and watches sentinel events so callers learn of a failover as it
 * starts rather than a second after the promotion.
 *
 * Ownership: the library copies every string it is given. Every object it
 * hands out has exactly one matching *_free() that accepts NULL.
 *
 * Thread safety: a sentinel_t or sentinel_watch_t must not be used from two
 * threads at once; give each thread its own handle, or serialise calls.
 * Handles for the same master name in one process share one in-flight
 * resolution (see sentinel_resolve()), so N threads with N handles cause one
 * round of sentinel queries, not N. sentinel_strerror() and
 * sentinel_version() may be called from any thread at any time.
 *
 * Errors, one convention (curl's): every call that can fail returns a
 * sentinel_code, SENTINEL_OK (0) on success; the detail of the last failure
 * is read with the object's *_errstr() (sentinel_errstr(),
 * sentinel_follow_errstr(), sentinel_shm_errstr(), ...). A constructor
 * returns the object or NULL and says why through an `int *code` out
 * parameter (may be NULL). Getters that cannot fail return their value.
 * A state that is not an error but leaves nothing to copy out ("no entry
 * yet") is SENTINEL_NO_ENTRY. docs/API.md lists the calls and what they
 * were before this convention.
 *
 * The core API uses no hiredis type: the hiredis conveniences (connect a
 * redisContext to the verified master, report a redisReply) are static
 * inline wrappers in sentinel/hiredis.h, compiled into the caller against
 * its own hiredis.
 */
#ifndef SENTINEL_SENTINEL_H
#define SENTINEL_SENTINEL_H

#include <stddef.h>
#include <stdint.h>

#define SENTINEL_VERSION_MAJOR 0
#define SENTINEL_VERSION_MINOR 1
#define SENTINEL_VERSION_PATCH 0
#define SENTINEL_VERSION_STRING "0.1.0"

#if defined(SENTINEL_STATIC)
#define SENTINEL_EXPORT
#elif defined(__GNUC__)
#define SENTINEL_EXPORT __attribute__((visibility("default")))
#else
#define SENTINEL_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Error codes. Values are fixed and never reused; new codes go at the end.
 * ------------------------------------------------------------------------ */
typedef enum sentinel_code {
    SENTINEL_OK = 0,
    SENTINEL_ERR_INVALID_ARGUMENT = 1,   /* bad option, list or name */
    SENTINEL_ERR_NO_MEMORY = 2,
    SENTINEL_ERR_NO_SENTINEL_REACHABLE = 3, /* every sentinel failed to answer */
    SENTINEL_ERR_UNKNOWN_MASTER = 4,     /* sentinels answered, none knows the name */
    SENTINEL_ERR_AUTH = 5,               /* a sentinel or the master refused credentials */
    SENTINEL_ERR_NOT_MASTER = 6,         /* the address never answered ROLE master */
    SENTINEL_ERR_TIMEOUT = 7,            /* the total deadline passed */
    SENTINEL_ERR_PROTOCOL = 8,           /* garbage, truncated, oversized or wrong-shape reply */
    SENTINEL_ERR_HOST_UNRESOLVED = 9,    /* a host name does not resolve */
    SENTINEL_ERR_MASTER_UNREACHABLE = 10, /* the master address refused or dropped us */
    SENTINEL_ERR_NO_QUORUM = 11,         /* fewer than the required sentinels agreed */
    SENTINEL_ERR_SYSTEM = 12,            /* an OS call failed (see the detail message) */
    SENTINEL_ERR_TLS = 13,               /* TLS setup, handshake or certificate verification
                                            failed, or TLS and plaintext ends meet */
    SENTINEL_NO_ENTRY = 14               /* not an error: nothing to copy out (shared cache
                                            empty, no master known yet) */
} sentinel_code;

/* How many codes this header defines: every value in [0, SENTINEL_CODE_COUNT)
 * is a code with a name and a message. A new code is appended to the enum
 * with the next value and this count goes up by one in the same change
 * (tests/unit/test_errors.c fails if a named code lies past the count). */
#define SENTINEL_CODE_COUNT 15
/* The count the library was built with; a program built against an older
 * header learns of codes it does not know: it may see any value below this. */
SENTINEL_EXPORT int sentinel_code_count(void);

/* A static English message for a code; never NULL. */
SENTINEL_EXPORT const char *sentinel_strerror(int code);
/* The code's symbolic name, e.g. "SENTINEL_ERR_TIMEOUT"; never NULL. */
SENTINEL_EXPORT const char *sentinel_code_name(int code);
SENTINEL_EXPORT const char *sentinel_version(void);

/* ------------------------------------------------------------------------
 * The handle and its options. A new handle has working defaults; setters
 * return SENTINEL_OK or the error code (also kept on the handle:
 * sentinel_errcode(), sentinel_errstr()); a NULL handle is
 * SENTINEL_ERR_INVALID_ARGUMENT. A value of 0 for any numeric option
 * restores its default.
 * ------------------------------------------------------------------------ */
typedef struct sentinel sentinel_t;

/* Create a handle for one master name. Returns NULL on failure with *code
 * (code may be NULL) set to SENTINEL_ERR_INVALID_ARGUMENT (NULL, empty or
 * malformed name) or SENTINEL_ERR_NO_MEMORY; SENTINEL_OK on success. */
SENTINEL_EXPORT sentinel_t *sentinel_new(const char *master_name, int *code);
SENTINEL_EXPORT void sentinel_free(sentinel_t *s);

/* Append one sentinel. host may be an IPv4/IPv6 literal or a host name. */
SENTINEL_EXPORT int sentinel_add_sentinel(sentinel_t *s, const char *host, int port);
/* Append a list "host:port,host:port" (also space separated; IPv6 as
 * "[::1]:26379"). All or nothing: on error nothing is added. */
SENTINEL_EXPORT int sentinel_add_sentinels(sentinel_t *s, const char *list);
SENTINEL_EXPORT size_t sentinel_sentinel_count(const sentinel_t *s);
/* Copy sentinel i (in current preference order) into host/port.
 * SENTINEL_ERR_INVALID_ARGUMENT when i is out of range or host is NULL
 * (the const handle keeps no error). */
SENTINEL_EXPORT int sentinel_get_sentinel(const sentinel_t *s, size_t i,
                                          char *host, size_t hostlen, int *port);

/* Credentials. user may be NULL (password-only AUTH); password NULL clears. */
SENTINEL_EXPORT int sentinel_set_sentinel_auth(sentinel_t *s, const char *user,
                                               const char *password);
SENTINEL_EXPORT int sentinel_set_data_auth(sentinel_t *s, const char *user,
                                           const char *password);

typedef enum sentinel_timeout {
    SENTINEL_TIMEOUT_CONNECT = 0, /* per node connect, default 250 ms */
    SENTINEL_TIMEOUT_COMMAND = 1, /* per command reply, default 250 ms */
    SENTINEL_TIMEOUT_TOTAL = 2    /* one whole resolution, default 5000 ms */
} sentinel_timeout;
SENTINEL_EXPORT int sentinel_set_timeout(sentinel_t *s, sentinel_timeout which, int ms);

/* Verified answers are served from the cache for ttl_ms (default 60000). */
SENTINEL_EXPORT int sentinel_set_cache_ttl(sentinel_t *s, int ttl_ms);
/* ROLE verification tries (default 20) and backoff bounds (default 10..500 ms;
 * exponential with full jitter). */
SENTINEL_EXPORT int sentinel_set_retry(sentinel_t *s, int max_tries, int base_ms, int max_ms);
/* Verify a learned address with ROLE before use (default on). */
SENTINEL_EXPORT int sentinel_set_verify(sentinel_t *s, int on);
/* Learn more sentinels with SENTINEL sentinels <name> (default on). */
SENTINEL_EXPORT int sentinel_set_discovery(sentinel_t *s, int on);
/* Require k sentinels to report the same address (default 1). */
SENTINEL_EXPORT int sentinel_set_quorum(sentinel_t *s, int k);
/* Rewrite an address announced by sentinels (NAT, containers). port 0 in
 * from matches any port; to_port 0 keeps the announced port. */
SENTINEL_EXPORT int sentinel_add_address_map(sentinel_t *s, const char *from_host, int from_port,
                                             const char *to_host, int to_port);
/* Parse "from[:port]=to[:port],..." and add each entry; all or nothing. */
SENTINEL_EXPORT int sentinel_add_address_maps(sentinel_t *s, const char *list);

/* Validators: the parsers the setters above use, without a handle, for a
 * program that checks its configuration before it builds anything (an INI
 * handler, a command line). Each returns SENTINEL_OK when the handle would
 * accept the value, else its code (SENTINEL_ERR_INVALID_ARGUMENT, or
 * SENTINEL_ERR_NO_MEMORY) with the reason, the text sentinel_errstr() would
 * give, copied into why (may be NULL; truncated to whylen, "" on success).
 * Thread safe; nothing to free. */
/* A name sentinel_new() accepts: 1 to 200 bytes, no spaces or controls. */
SENTINEL_EXPORT int sentinel_validate_master_name(const char *name, char *why, size_t whylen);
/* A list sentinel_add_sentinels() accepts: "host:port,host:port", at
 * least one, at most 64 distinct. */
SENTINEL_EXPORT int sentinel_validate_sentinels(const char *list, char *why, size_t whylen);
/* One "host:port" or "[v6]:port" as an item of that list. */
SENTINEL_EXPORT int sentinel_validate_address(const char *address, char *why, size_t whylen);
/* A list sentinel_add_address_maps() accepts ("" is an empty map). */
SENTINEL_EXPORT int sentinel_validate_address_maps(const char *list, char *why, size_t whylen);

/* ------------------------------------------------------------------------
 * TLS (OpenSSL), separately for the sentinels and for the data nodes (ROLE
 * checks of masters and replicas), as Redis lets the two differ. Off by
 * default; once on, the server certificate is verified against the CAs
 * (the system's unless a CA file or directory is given) and the server
 * name (SNI) or else the address connected to, unless verification is
 * turned off. The handshake counts as part of the connect and obeys the
 * connect timeout. Failures are SENTINEL_ERR_TLS, sentinel_errstr() says
 * what failed ("certificate verify failed: certificate has expired",
 * "... hostname mismatch", "handshake failed: ...").
 *
 * Each role of a handle holds one OpenSSL context, rebuilt by the setter
 * that changes an option while TLS is on: a CA file, certificate or key
 * that cannot be loaded fails that setter (SENTINEL_ERR_TLS). Watchers and
 * followers share the context of the handle they were made from.
 * sentinel_connect_master_fd() hands out a plaintext socket (hiredis 0.14
 * has no TLS): with TLS on for data nodes it fails with SENTINEL_ERR_TLS;
 * sentinel_connect_master_conn() (below) connects over TLS.
 * A library built without TLS (sentinel_tls_available() == 0) refuses to
 * turn it on, with SENTINEL_ERR_TLS.
 * ------------------------------------------------------------------------ */
typedef enum sentinel_tls_role {
    SENTINEL_TLS_SENTINELS = 0, /* connections to sentinels */
    SENTINEL_TLS_DATA = 1       /* ROLE checks of masters and replicas */
} sentinel_tls_role;

#define SENTINEL_TLS_V1_2 0x0303 /* the default minimum */
#define SENTINEL_TLS_V1_3 0x0304

/* 1 if this build of the library has TLS support. */
SENTINEL_EXPORT int sentinel_tls_available(void);
/* Turn TLS on (1) or off (0) for role (a sentinel_tls_role). If turning it
 * on fails (a CA, certificate or key that cannot be loaded), TLS stays on
 * without a usable context: connections fail with SENTINEL_ERR_TLS, never
 * go out in plaintext, until a setter fixes the option. Any other setter
 * that fails changes nothing. */
SENTINEL_EXPORT int sentinel_set_tls(sentinel_t *s, int role, int on);
/* CA certificates: a PEM file and/or an OpenSSL hashed directory; both NULL
 * means the system's default store. */
SENTINEL_EXPORT int sentinel_set_tls_ca(sentinel_t *s, int role, const char *ca_file,
                                        const char *ca_dir);
/* Client certificate (PEM chain) and its unencrypted PEM key, for mutual
 * TLS; both or neither (NULL clears). */
SENTINEL_EXPORT int sentinel_set_tls_cert(sentinel_t *s, int role, const char *cert_file,
                                          const char *key_file);
/* The name sent as SNI and verified in the certificate instead of the
 * address connected to (NULL clears). */
SENTINEL_EXPORT int sentinel_set_tls_server_name(sentinel_t *s, int role, const char *name);
/* Verify the server's certificate and name (default 1). 0 is insecure:
 * traffic is encrypted but anyone can pose as the server. */
SENTINEL_EXPORT int sentinel_set_tls_verify(sentinel_t *s, int role, int on);
/* Minimum protocol version: SENTINEL_TLS_V1_2 (default, also 0) or
 * SENTINEL_TLS_V1_3. */
SENTINEL_EXPORT int sentinel_set_tls_min_version(sentinel_t *s, int role, int version);

/* ------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------ */

#define SENTINEL_HOST_MAX 256

/*
 * Frozen: this layout does not change within a SOVERSION. The caller
 * allocates it (sentinel_resolve(), sentinel_watch_current(),
 * sentinel_follow_master()) and it is embedded in sentinel_shm_entry and
 * sentinel_follow_transition, so a size field would oblige every caller to
 * set it: a change of those calls' contract, not an addition. Facts about
 * an address that come later get their own functions. tests/abi/check.sh
 * fails if the layout changes.
 */
typedef struct sentinel_addr {
    char host[SENTINEL_HOST_MAX];
    int port;
    int64_t verified_at_ms; /* CLOCK_REALTIME ms when ROLE said master; 0 if unverified */
} sentinel_addr;

/* Flags for sentinel_resolve(). */
#define SENTINEL_RESOLVE_NO_CACHE 0x1 /* ask the sentinels even if the cache is fresh */
#define SENTINEL_RESOLVE_FAIL_FAST 0x2 /* sentinel_resolve_shared(): no waiting out a failover */

/*
 * Resolve the master. Serves the cache while fresh; otherwise asks sentinels
 * in order (the first that answers moves to the head), skips those that do
 * not know the name, verifies the address with ROLE and retries with backoff
 * while it is not (yet) a master, all within the total timeout.
 * Returns SENTINEL_OK and fills *out, or an error code (also kept on the
 * handle: sentinel_errcode(), sentinel_errstr()). On error the cache keeps
 * its last good answer until its TTL passes.
 *
 * When no sentinel answers at all (all down or unreachable) and the handle
 * has verified a master before, that address is ROLE-checked again and, if
 * it still says master, served and cached for at most 1 s, so callers keep
 * working through a sentinel outage and sentinels are asked again soon
 * (stats: last_known_served). A handle that never resolved gets the error.
 */
SENTINEL_EXPORT int sentinel_resolve(sentinel_t *s, int flags, sentinel_addr *out);

/* Forget the cached answer (call on a connection error or -READONLY). */
SENTINEL_EXPORT void sentinel_invalidate(sentinel_t *s);

/*
 * Tell the handle how a command to the master went, in plain values:
 * io_error non-zero when the connection failed (hiredis: c->err), and the
 * text of an error reply without its '-' (NULL if the reply was no error).
 * Invalidates the cache on an I/O error or a -READONLY / -MASTERDOWN /
 * -LOADING reply. Not fallible: returns 1 if it invalidated, 0 otherwise
 * (also for a NULL handle). sentinel/hiredis.h has sentinel_report() taking
 * a redisContext and a redisReply.
 */
SENTINEL_EXPORT int sentinel_report_error(sentinel_t *s, int io_error, const char *error_reply);

/*
 * Resolve, connect to the master, AUTH with the data credentials and verify
 * ROLE on that very connection, retrying (resolving again) with backoff
 * within the total timeout while the address is not a master. On
 * SENTINEL_OK *fd is a connected blocking TCP socket the caller owns
 * (close() it), close-on-exec, with the command timeout as its send and
 * receive timeouts (SO_SNDTIMEO, SO_RCVTIMEO), and *addr (may be NULL) the
 * master it reaches; nothing unread is left on it. Otherwise *fd is -1 and
 * the code is kept on the handle. Plaintext only: with TLS on for data
 * nodes it fails with SENTINEL_ERR_TLS (use sentinel_connect_master_conn()).
 * sentinel/hiredis.h wraps it in a redisContext.
 */
SENTINEL_EXPORT int sentinel_connect_master_fd(sentinel_t *s, int *fd, sentinel_addr *addr);

/*
 * Ask host:port for its ROLE with the handle's data credentials and timeouts
 * (no sentinel involved): SENTINEL_OK if it is a master, SENTINEL_ERR_NOT_MASTER
 * if it answers as a replica or sentinel, or the error that prevented an
 * answer. Used to verify a replica announced by +selected-slave. Does not
 * touch the cache.
 */
SENTINEL_EXPORT int sentinel_check_role(sentinel_t *s, const char *host, int port);

/* Where the answer of the handle's last resolution came from
 * (sentinel_resolve(), sentinel_resolve_shared(), and the resolution inside
 * sentinel_connect_master_fd()), so a caller need not diff statistics.
 * Values are fixed; new ones are appended. */
typedef enum sentinel_source {
    SENTINEL_SOURCE_NONE = 0,         /* no answer: none asked yet, or the last call failed */
    SENTINEL_SOURCE_CACHE = 1,        /* the handle's own cache (in process) */
    SENTINEL_SOURCE_SHARED_CACHE = 2, /* the host's shared cache (sentinel_resolve_shared()) */
    SENTINEL_SOURCE_SENTINEL = 3,     /* this call asked the sentinels (and verified) */
    SENTINEL_SOURCE_JOINED = 4,       /* another handle's resolution in flight (single-flight) */
    SENTINEL_SOURCE_LAST_KNOWN = 5    /* no sentinel answered: the last verified master,
                                         ROLE-checked again (stats: last_known_served) */
} sentinel_source;
#define SENTINEL_SOURCE_COUNT 6
/* A sentinel_source; SENTINEL_SOURCE_NONE for a NULL handle. */
SENTINEL_EXPORT int sentinel_last_source(const sentinel_t *s);
/* "none", "cache", "shared_cache", "sentinel", "joined", "last_known";
 * "unknown" for any other value. Never NULL. */
SENTINEL_EXPORT const char *sentinel_source_name(int source);

/* The code of the handle's last failure (SENTINEL_OK when the last
 * resolution succeeded) and its detail ("" if none). */
SENTINEL_EXPORT int sentinel_errcode(const sentinel_t *s);
SENTINEL_EXPORT const char *sentinel_errstr(const sentinel_t *s);

/* Counters since the handle was created. Set size = sizeof(sentinel_stats)
 * before the call; fields may be added at the end in later versions.
 * SENTINEL_ERR_INVALID_ARGUMENT for NULL or a size below sizeof(size_t). */
typedef struct sentinel_stats {
    size_t size;
    uint64_t resolutions;        /* calls to sentinel_resolve() */
    uint64_t cache_hits;         /* served without asking a sentinel */
    uint64_t sentinel_queries;   /* commands sent to sentinels */
    uint64_t sentinel_failures;  /* sentinels that failed to answer */
    uint64_t role_checks;        /* ROLE commands sent to data nodes */
    uint64_t invalidations;
    uint64_t errors;             /* resolutions that ended in an error */
    uint64_t shared_waits;       /* resolutions that waited on another's */
    uint64_t last_known_served;  /* no sentinel answered: the last verified
                                    master, ROLE-checked again, was served */
} sentinel_stats;
SENTINEL_EXPORT int sentinel_get_stats(const sentinel_t *s, sentinel_stats *st);

/* ------------------------------------------------------------------------
 * Sentinel events
 *
 * A watcher holds one non-blocking pub/sub connection to every known
 * sentinel, plus one polling connection (SENTINEL get-master-addr-by-name)
 * that runs every poll interval and after every reconnect, so it converges
 * even when SUBSCRIBE is denied or a subscribed sentinel dies. It never
 * blocks: the caller polls its file descriptors and calls
 * sentinel_watch_process() when one is ready or the timeout passes.
 * ------------------------------------------------------------------------ */

typedef enum sentinel_event_type {
    SENTINEL_EVENT_FAILOVER_STARTED = 1, /* stop writing to the current master */
    SENTINEL_EVENT_REPLICA_SELECTED = 2, /* host/port: the replica being promoted */
    SENTINEL_EVENT_SWITCHED = 3,         /* host/port: the new master */
    SENTINEL_EVENT_FAILOVER_ABORTED = 4, /* carry on with the current master */
    SENTINEL_EVENT_SUBSCRIBE_DENIED = 5, /* a sentinel refused SUBSCRIBE; polling only */
    SENTINEL_EVENT_SENTINEL_DOWN = 6,    /* lost a sentinel connection (host/port: it) */
    SENTINEL_EVENT_SENTINEL_UP = 7       /* (re)subscribed to a sentinel (host/port: it) */
} sentinel_event_type;

/*
 * Frozen: filled by the library and passed to the callback, which must not
 * keep or copy it. Without a size field a program built against a newer
 * header could not tell which fields an older library filled, so no field
 * is added within a SOVERSION; new kinds of news are new event types (and
 * their detail string). tests/abi/check.sh fails if the layout changes.
 */
typedef struct sentinel_event {
    sentinel_event_type type;
    const char *master_name;  /* valid during the callback only */
    const char *host;         /* may be NULL for started/aborted */
    int port;
    const char *detail;       /* the raw sentinel channel, e.g. "+selected-slave" */
    const char *source_host;  /* the sentinel it came from */
    int source_port;
} sentinel_event;

typedef void (*sentinel_event_cb)(const sentinel_event *ev, void *userdata);

typedef struct sentinel_watch sentinel_watch_t;

/* The watcher copies the sentinel list, credentials, timeouts, address map
 * and TLS options (sharing the TLS contexts) of s; s may be freed
 * afterwards. Does not connect yet. NULL on failure with *code (may be
 * NULL): SENTINEL_ERR_INVALID_ARGUMENT (s NULL or without a sentinel) or
 * SENTINEL_ERR_NO_MEMORY. */
SENTINEL_EXPORT sentinel_watch_t *sentinel_watch_new(const sentinel_t *s,
                                                     sentinel_event_cb cb, void *userdata,
                                                     int *code);
SENTINEL_EXPORT void sentinel_watch_free(sentinel_watch_t *w);
/* Polling interval of the backstop (default 1000 ms; 0 to 3600000, else
 * SENTINEL_ERR_INVALID_ARGUMENT). While no subscription is up (SUBSCRIBE
 * denied, sentinels unreachable) it polls at least once a second whatever
 * this says. The watcher's calls fail only for bad arguments
 * (SENTINEL_ERR_INVALID_ARGUMENT) or a failed poll() (SENTINEL_ERR_SYSTEM);
 * sentinel_watch_errstr() says why. */
SENTINEL_EXPORT int sentinel_watch_set_poll_interval(sentinel_watch_t *w, int ms);

/* Mirror of struct pollfd's fields; events use POLLIN/POLLOUT values.
 * Frozen: callers pass arrays of it (sentinel_watch_fds(),
 * sentinel_follow_fds()), so its size is their stride; a field added would
 * break every caller. tests/abi/check.sh fails if the layout changes. */
typedef struct sentinel_watch_fd {
    int fd;
    short events;
} sentinel_watch_fd;

/* Fill up to max descriptors to wait on; returns how many there are (may
 * exceed max: call again with a bigger array). */
SENTINEL_EXPORT int sentinel_watch_fds(sentinel_watch_t *w, sentinel_watch_fd *fds, int max);
/* Milliseconds until sentinel_watch_process() must run even if no fd is ready. */
SENTINEL_EXPORT int sentinel_watch_timeout(sentinel_watch_t *w);
/* Do all pending work without blocking: connect, read, dispatch events,
 * reconnect, poll. SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT (w NULL):
 * a lost sentinel is news (an event), not an error. */
SENTINEL_EXPORT int sentinel_watch_process(sentinel_watch_t *w);
/* Convenience: wait up to timeout_ms for fds and process once. SENTINEL_OK,
 * SENTINEL_ERR_INVALID_ARGUMENT or SENTINEL_ERR_SYSTEM (poll() failed). */
SENTINEL_EXPORT int sentinel_watch_run_once(sentinel_watch_t *w, int timeout_ms);
/* The master as last seen by the watcher (events or polling): SENTINEL_OK
 * and *out, SENTINEL_NO_ENTRY while none is known yet, or
 * SENTINEL_ERR_INVALID_ARGUMENT. */
SENTINEL_EXPORT int sentinel_watch_current(const sentinel_watch_t *w, sentinel_addr *out);
/* 1 while a failover of the master is in progress (started, not yet
 * switched or aborted). */
SENTINEL_EXPORT int sentinel_watch_in_failover(const sentinel_watch_t *w);
/* The detail of the watcher's last failed call ("" if none failed; a
 * failure of a NULL watcher or of a const getter is not kept), e.g.
 * "poll: Interrupted system call". Valid until the next call on w. */
SENTINEL_EXPORT const char *sentinel_watch_errstr(const sentinel_watch_t *w);

/* ------------------------------------------------------------------------
 * A verified connection to the master, plaintext or TLS
 *
 * sentinel_connect_master_fd() hands out a plain socket; with TLS on for
 * data nodes the connection must stay in the library, which holds the
 * OpenSSL state: a sentinel_conn_t moves bytes to and from the master
 * through TLS (or not, as the handle's data node options say). The
 * caller speaks RESP over it itself, or through sentinel/hiredis.h's
 * sentinel_conn_command_argv().
 * ------------------------------------------------------------------------ */
typedef struct sentinel_conn sentinel_conn_t;

/*
 * Resolve, connect to the master (TLS per the data node options, with the
 * handle's one context; the handshake within the connect timeout), AUTH
 * with the data credentials and verify ROLE master on that very
 * connection, resolving again with backoff within the total timeout while
 * the address is not a master: the same path as
 * sentinel_connect_master_fd(). On SENTINEL_OK *out is a connection the
 * caller owns (sentinel_conn_free()), nothing unread on it, and *addr (may
 * be NULL) the master it reaches. Otherwise *out is NULL and the code and
 * detail are kept on the handle (sentinel_errstr(): a TLS failure is
 * SENTINEL_ERR_TLS, a replica that answers is SENTINEL_ERR_NOT_MASTER).
 * The connection does not refer to the handle: s may be freed first.
 */
SENTINEL_EXPORT int sentinel_connect_master_conn(sentinel_t *s, sentinel_conn_t **out,
                                                 sentinel_addr *addr);
/* Send all len bytes within the connection's timeout: SENTINEL_OK, or
 * SENTINEL_ERR_TIMEOUT, SENTINEL_ERR_MASTER_UNREACHABLE (connection lost),
 * SENTINEL_ERR_TLS, SENTINEL_ERR_INVALID_ARGUMENT; detail in
 * sentinel_conn_errstr(). After a failure the connection is unusable
 * (free it; report it with sentinel_report_error(s, 1, NULL)). */
SENTINEL_EXPORT int sentinel_conn_write(sentinel_conn_t *c, const void *buf, size_t len);
/* Read what is there, at least one byte, waiting at most the connection's
 * timeout: SENTINEL_OK with *nread (1..cap) bytes in buf, or an error as
 * for sentinel_conn_write() (*nread 0); the master closing the connection
 * is SENTINEL_ERR_MASTER_UNREACHABLE. */
SENTINEL_EXPORT int sentinel_conn_read(sentinel_conn_t *c, void *buf, size_t cap,
                                       size_t *nread);
/* The timeout of each later read and write, in ms (1 to 86400000; 0
 * restores the handle's command timeout, the initial value). */
SENTINEL_EXPORT int sentinel_conn_set_timeout(sentinel_conn_t *c, int ms);
/* The socket, for poll(); non-blocking, owned by the connection (do not
 * read, write or close it). -1 for NULL. */
SENTINEL_EXPORT int sentinel_conn_fd(const sentinel_conn_t *c);
/* Bytes OpenSSL already holds for the next sentinel_conn_read(): poll()
 * on the socket does not wake for them. 0 for plaintext and NULL. */
SENTINEL_EXPORT size_t sentinel_conn_pending(const sentinel_conn_t *c);
/* 1 if the connection is TLS, 0 if plaintext (or NULL). */
SENTINEL_EXPORT int sentinel_conn_is_tls(const sentinel_conn_t *c);
/* The detail of the connection's last failure ("" if none); never NULL. */
SENTINEL_EXPORT const char *sentinel_conn_errstr(const sentinel_conn_t *c);
/* Close (sending TLS close_notify, without waiting for the master's) and
 * free. NULL is fine. */
SENTINEL_EXPORT void sentinel_conn_free(sentinel_conn_t *c);

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_SENTINEL_H */
