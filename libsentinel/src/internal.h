/*
 * Internal declarations shared by the library's source files. Nothing here is
 * part of the public ABI; the unit tests use it through the static library.
 */
#ifndef SN_INTERNAL_H
#define SN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "sentinel/sentinel.h"

#define SN_MAX_SENTINELS 64
#define SN_MAX_MAPS 64
#define SN_ERRSTR_MAX 512
/* Largest reply read from a sentinel or a ROLE check: a sentinel that sends a
 * gigabyte bulk string is a protocol error, not an allocation. */
#define SN_REPLY_MAX (1024 * 1024)

#define SN_DEFAULT_CONNECT_MS 250
#define SN_DEFAULT_COMMAND_MS 250
#define SN_DEFAULT_TOTAL_MS 5000
#define SN_DEFAULT_TTL_MS 60000
#define SN_DEFAULT_TRIES 20
#define SN_DEFAULT_BACKOFF_BASE_MS 10
#define SN_DEFAULT_BACKOFF_MAX_MS 500

/* ---- errors.c ----------------------------------------------------------- */

typedef struct sn_err {
    int code;
    char msg[SN_ERRSTR_MAX];
} sn_err;

void sn_err_clear(sn_err *e);
/* Sets code and a formatted detail; returns -1 for `return sn_err_set(...)`. */
int sn_err_set(sn_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for public calls, which return the code: `return sn_err_fail(...)`. */
int sn_err_fail(sn_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The detail for an *_errstr(): "" when no error, else the message or,
 * without one, the code's. */
const char *sn_err_str(const sn_err *e);
/* A constructor's failure: *code = why (code may be NULL); returns NULL. */
void *sn_fail_new(int *code, int why);

/* ---- time.c ------------------------------------------------------------- */

int64_t sn_now_ms(void);          /* CLOCK_MONOTONIC, or the test clock */
/* The clock seam: unit tests install a scripted clock so that deadlines,
 * backoffs and poll intervals move only when the test says. NULL restores
 * CLOCK_MONOTONIC. Not for production use (no locking). */
void sn_clock_set(int64_t (*now_ms)(void));
int64_t sn_wall_ms(void);         /* CLOCK_REALTIME */
/* Sleeps on the real clock, or calls the test's sleep (which moves its
 * scripted clock) when one is installed: sn_sleep_set(NULL) restores. */
void sn_sleep_ms(int64_t ms);
void sn_sleep_set(void (*sleep_ms)(int64_t ms));
/* Exponential backoff with full jitter: uniform in [0, min(max, base*2^n)]. */
int64_t sn_backoff_ms(uint64_t *rng, int attempt, int base_ms, int max_ms);
uint64_t sn_rng_seed(const void *salt);

/* ---- options.c ---------------------------------------------------------- */

typedef struct sn_hostport {
    char host[SENTINEL_HOST_MAX];
    int port;
} sn_hostport;

typedef struct sn_map {
    sn_hostport from; /* port 0 = any */
    sn_hostport to;   /* port 0 = keep */
} sn_map;

typedef struct sn_cred {
    char *user;     /* NULL = password-only AUTH */
    char *password; /* NULL = no AUTH */
} sn_cred;

/* TLS options of one role (tls.c). Strings are owned; ctx is an SSL_CTX,
 * reference counted across copies, NULL while TLS is off. */
#define SN_TLS_ROLES 2 /* SENTINEL_TLS_SENTINELS, SENTINEL_TLS_DATA */
typedef struct sn_tls_ops sn_tls_ops;
typedef struct sn_tls_opts {
    int enabled;
    int insecure;    /* no certificate or host name verification */
    int min_version; /* SENTINEL_TLS_V1_x, 0 = TLS 1.2 */
    int role;        /* SENTINEL_TLS_SENTINELS or _DATA, set by the setters */
    char *ca_file, *ca_dir, *cert, *key, *sni;
    void *ctx;
    /* tls.c's functions, set by its setters: the core reaches TLS only
     * through them, so a static link that never sets a TLS option pulls in
     * neither tls.o nor OpenSSL (sentinel-proxy, which has TLS options,
     * links both). NULL: no option ever set. */
    const sn_tls_ops *ops;
} sn_tls_opts;

/* Everything the resolver and the watcher need to talk to sentinels. */
typedef struct sn_config {
    char *master_name;
    sn_hostport sentinels[SN_MAX_SENTINELS];
    size_t nsentinels;
    size_t nseeds; /* how many were configured (the rest were discovered) */
    sn_map maps[SN_MAX_MAPS];
    size_t nmaps;
    sn_cred sentinel_cred;
    sn_cred data_cred;
    int connect_ms, command_ms, total_ms;
    int ttl_ms;
    int tries, backoff_base_ms, backoff_max_ms;
    int verify, discovery, quorum;
    sn_tls_opts tls[SN_TLS_ROLES]; /* [SENTINEL_TLS_SENTINELS], [SENTINEL_TLS_DATA] */
} sn_config;

void sn_config_init(sn_config *c);
int sn_config_copy(sn_config *dst, const sn_config *src);
void sn_config_free(sn_config *c);
/* "host:port" or "[v6]:port" -> hp. */
int sn_parse_hostport(const char *s, size_t len, sn_hostport *hp, sn_err *e);
int sn_config_add_sentinel(sn_config *c, const char *host, int port, sn_err *e);
/* Apply the address map to hp in place. */
void sn_config_map(const sn_config *c, sn_hostport *hp);
int sn_valid_master_name(const char *name);
/* The same, saying why in e: 0, or -1 with SENTINEL_ERR_INVALID_ARGUMENT. */
int sn_check_master_name(const char *name, sn_err *e);
/* Split on commas and white space, calling fn for each item; returns the
 * number of items or -1 when fn failed. */
int sn_split_list(const char *list, int (*fn)(const char *item, size_t n, void *ud), void *ud);
/* "from[:port]=to[:port]" -> m. */
int sn_parse_map(const char *s, size_t n, sn_map *m, sn_err *e);

/* ---- link.c: one connection, with deadlines ---------------------------- */

typedef struct sn_tls_conn sn_tls_conn;

/*
 * The network seam. The default uses non-blocking sockets and poll(); unit
 * tests install their own to script what "the network" does.
 * open: returns a handle >= 0, or -1 with e set (SENTINEL_ERR_HOST_UNRESOLVED,
 *       SENTINEL_ERR_TIMEOUT, or SENTINEL_ERR_MASTER_UNREACHABLE meaning
 *       "connection refused/failed").
 * send/recv: bytes moved (recv 0 = peer closed), or -1 with e set.
 */
typedef struct sn_transport {
    int (*open)(const char *host, int port, int64_t deadline_ms, sn_err *e);
    ssize_t (*send)(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e);
    ssize_t (*recv)(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e);
    void (*close)(int h);
    /*
     * The non-blocking side, used by sn_nblink (the watcher, the follower).
     * A transport whose nb_open is NULL uses the socket defaults for all four
     * (a fake that scripts only the blocking side keeps working); one that
     * sets nb_open sets all four. Handles are what a host polls: with
     * sockets they are file descriptors; a fake may hand out any int >= 0.
     * nb_open:      start a connect; a handle >= 0, or -1 with e set.
     * nb_connected: 1 connected, 0 still in progress, -1 failed (e set).
     * nb_send:      bytes taken (0 = would block), or -1 with e set.
     * nb_recv:      bytes read, 0 = peer closed, SN_WOULD_BLOCK, or -1.
     */
    int (*nb_open)(const char *host, int port, sn_err *e);
    int (*nb_connected)(int h, sn_err *e);
    ssize_t (*nb_send)(int h, const void *buf, size_t len, sn_err *e);
    ssize_t (*nb_recv)(int h, void *buf, size_t cap, sn_err *e);
} sn_transport;

#define SN_WOULD_BLOCK (-2)

/* Replace the transport (tests); NULL restores the socket one. */
void sn_transport_set(const sn_transport *t);
const sn_transport *sn_transport_get(void);

/* Start a non-blocking TCP connect (TCP_NODELAY, CLOEXEC) to host:port;
 * the socket, or -1 with e set. */
int sn_connect_start(const char *host, int port, sn_err *e);

/* A hiredis reply reader that refuses, before allocating, any reply whose
 * arrays announce more elements than SN_REPLY_MAX bytes could carry (hiredis
 * 0.14 allocates an array's table from its header alone). Free it with
 * sn_reader_free(), never redisReaderFree(). */
redisReader *sn_reader_create(void);
/* Call after each complete reply: every reply has its own element budget. */
void sn_reader_reply_done(redisReader *r);
void sn_reader_free(redisReader *r);

typedef struct sn_link {
    int h; /* transport handle, -1 when closed */
    const sn_transport *t;
    redisReader *reader;
    int command_ms;
    sn_tls_conn *tls; /* NULL for plaintext */
    const sn_tls_ops *tls_ops;
    char host[SENTINEL_HOST_MAX]; /* the peer, for the probes: its numeric address
                                   * once connected (the name with a fake transport) */
    int port;
} sn_link;

/* tls_probe.c. Whether buf starts like a TLS record (handshake or alert,
 * version 3.x). */
int sn_tls_record_head(const void *buf, size_t n);
/* After a plaintext command was reset or closed before any reply byte: does
 * host:port answer a TLS ClientHello with a TLS record? One more connection
 * through t, within deadline_ms (and at most 1 s); 1 yes, 0 no or unknown. */
int sn_probe_tls(const sn_transport *t, const char *host, int port, int64_t deadline_ms);
/* Is this a plaintext port? Asked when a TLS handshake has had no byte back
 * for half its time: an inline PING on a new connection, until deadline_ms.
 * 1 a RESP reply (a plaintext Redis or Sentinel), 0 anything else (a reset,
 * a close, TLS bytes: a slow TLS server), -1 nothing until the deadline. */
int sn_probe_plaintext(const sn_transport *t, const char *host, int port, int64_t deadline_ms);
/* Whether c is the first byte of a RESP reply (+ - : $ *). */
int sn_resp_type_byte(unsigned char c);

int sn_link_open(sn_link *l, const char *host, int port, int connect_ms, int command_ms,
                 int64_t deadline_ms, sn_err *e);
/* The same, with TLS when tls is enabled (tls may be NULL): the handshake
 * completes within the connect timeout, like the TCP connect. A TLS
 * failure is SENTINEL_ERR_TLS. */
int sn_link_open_tls(sn_link *l, const char *host, int port, int connect_ms, int command_ms,
                     int64_t deadline_ms, const sn_tls_opts *tls, sn_err *e);
/* Fill argv with AUTH [user] password; returns argc, 0 without a password. */
int sn_auth_argv(const sn_cred *cred, const char *argv[3]);
/* Wipe (explicit_bzero) and free a NUL-terminated secret; NULL is fine. */
void sn_secret_free(char *secret);
/* AUTH [user] password when cred has a password; 0 or -1 (SENTINEL_ERR_AUTH). */
int sn_link_auth(sn_link *l, const sn_cred *cred, int64_t deadline_ms, sn_err *e);
/* e = SENTINEL_ERR_AUTH "AUTH refused: <the server's error reply>", with
 * no argument of the AUTH in it: a server that does not know AUTH (renamed
 * away, an old Sentinel) answers "unknown command 'AUTH', with args
 * beginning with: '<password>'". That tail is cut and cr's password, were
 * it anywhere else, is masked. Returns -1. */
int sn_err_auth_refused(sn_err *e, const char *reply, const sn_cred *cr);
/* Send one command, read one reply (bounded by SN_REPLY_MAX). The caller
 * frees the reply with freeReplyObject(). NULL with e set on failure. */
redisReply *sn_link_command(sn_link *l, int64_t deadline_ms, sn_err *e, int argc,
                            const char **argv);
void sn_link_close(sn_link *l);
/* Move bytes on an open link (through TLS when it has it) within
 * deadline_ms: bytes sent (> 0), or -1 with e set. */
ssize_t sn_link_send(sn_link *l, const void *buf, size_t len, int64_t deadline_ms, sn_err *e);
/* Bytes read (> 0), 0 when the peer closed, or -1 with e set. */
ssize_t sn_link_recv(sn_link *l, void *buf, size_t cap, int64_t deadline_ms, sn_err *e);

/* ---- link.c: the non-blocking link ------------------------------------ */

/*
 * One non-blocking connection through the transport seam: start a connect,
 * queue commands (AUTH first) while it completes, flush, read what is there
 * into a bounded reply reader, hand out complete replies. Deadlines belong
 * to the caller (it knows what it waits for); the link never blocks.
 */
typedef enum sn_nbstate { SN_NB_CLOSED = 0, SN_NB_CONNECTING, SN_NB_OPEN } sn_nbstate;

/* ---- name_lookup.c: a host name looked up off the event loop ---------- */

struct addrinfo;
typedef struct sn_lookup sn_lookup;
/* Start looking host:port up on a thread of its own; NULL with e set. */
sn_lookup *sn_lookup_start(const char *host, int port, sn_err *e);
/* A descriptor that turns readable (POLLIN) once the answer is there. */
int sn_lookup_fd(const sn_lookup *lk);
/* The name looked up (valid until sn_lookup_drop). */
const char *sn_lookup_host(const sn_lookup *lk);
/* 1 with *res set (the caller frees it with freeaddrinfo), 0 not done yet,
 * -1 with e set (the name does not resolve). */
int sn_lookup_result(sn_lookup *lk, struct addrinfo **res, sn_err *e);
/* The caller lets go (done, or gave up): never waits; what the lookup
 * still holds is freed when it ends. Accepts NULL. */
void sn_lookup_drop(sn_lookup *lk);

#define SN_NBLINK_OUT_MAX 65536

typedef struct sn_nblink {
    int h;            /* transport handle (a pollable fd with sockets), -1 closed */
    sn_nbstate state;
    const sn_transport *t;
    redisReader *reader;
    char *out;        /* queued bytes not yet sent */
    size_t outlen, outcap;
    uint64_t gen;     /* unique per open: a reused fd number is a new link */
    sn_tls_conn *tls; /* NULL for plaintext */
    const sn_tls_ops *tls_ops;
    int tcp_up;       /* TLS: connected, handshake under way */
    short tls_want;   /* TLS: what the handshake or a read/write waits for */
    /* Connecting to a host name: its lookup under way (h is the lookup's
     * descriptor until the connect starts, with a new gen then). */
    sn_lookup *lookup;
    int port;
    const sn_tls_opts *tls_opts; /* TLS to start once connected, or NULL */
} sn_nblink;

void sn_nblink_init(sn_nblink *l);
/* Start connecting; 0, or -1 with e set (the link stays closed). */
int sn_nblink_open(sn_nblink *l, const char *host, int port, sn_err *e);
/* The same, with TLS when tls is enabled (tls may be NULL). The link stays
 * SN_NB_CONNECTING until the handshake is done, so the caller's connect
 * deadline covers it. */
int sn_nblink_open_tls(sn_nblink *l, const char *host, int port, const sn_tls_opts *tls,
                       sn_err *e);
/* A TLS handshake timed out with not one byte back: the one text for it
 * (the follower, the watcher's polls, shared polls, sentinel-proxy). */
#define SN_TLS_HELLO_SILENT                                                    \
    "TLS handshake timed out (no answer to the TLS hello: a plaintext port, " \
    "or a frozen server)"
/* A connecting link's connect timeout said more precisely, or NULL: still
 * looking its host name up ("name lookup timed out"), or a TLS handshake
 * that has had no byte back (a plaintext port, or a frozen server). */
const char *sn_nblink_timeout_hint(const sn_nblink *l);
/* Queue one command (sent once connected); 0 or -1 (e set). */
int sn_nblink_queue(sn_nblink *l, int argc, const char **argv, sn_err *e);
/* Queue AUTH [user] password: 1 queued, 0 no password configured, -1. */
int sn_nblink_queue_auth(sn_nblink *l, const sn_cred *cred, sn_err *e);
/* Move bytes without blocking: finish the connect, flush, read what is
 * there (at most SN_REPLY_MAX buffered). 0, or -1 with e set: the link is
 * dead and the caller closes it. */
int sn_nblink_io(sn_nblink *l, sn_err *e);
/* The next complete reply: 1 with *r set (free it), 0 none yet, -1 with e
 * set on a protocol error. */
int sn_nblink_reply(sn_nblink *l, redisReply **r, sn_err *e);
/* POLLIN / POLLOUT wanted now; 0 when closed. */
short sn_nblink_events(const sn_nblink *l);
void sn_nblink_close(sn_nblink *l);

/* ---- tls.c: TLS options and connections ------------------------------- */

struct sn_tls_ops {
    void (*opts_free)(sn_tls_opts *o);
    /* dst is a bitwise copy of src: give it its own strings and a reference
     * to the context; 0, or -1 (out of memory) with dst owning nothing. */
    int (*opts_copy)(sn_tls_opts *dst, const sn_tls_opts *src);
    /* A TLS client over transport handle h (its nb_send / nb_recv carry the
     * bytes), verifying o->sni or else host; NULL with e set. */
    sn_tls_conn *(*conn_new)(const sn_tls_opts *o, const sn_transport *t, int h,
                             const char *host, sn_err *e);
    void (*conn_free)(sn_tls_conn *c);
    /* 1 done, 0 in progress (*want: POLLIN or POLLOUT), -1 failed (e set,
     * SENTINEL_ERR_TLS: verify failures name the X509 reason). */
    int (*handshake)(sn_tls_conn *c, short *want, sn_err *e);
    /* Bytes moved, 0 would block (*want set), -1 failed (e set). */
    ssize_t (*send)(sn_tls_conn *c, const void *buf, size_t len, short *want, sn_err *e);
    /* Bytes read, 0 peer closed, SN_WOULD_BLOCK (*want set), or -1 (e set). */
    ssize_t (*recv)(sn_tls_conn *c, void *buf, size_t cap, short *want, sn_err *e);
    /* Bytes decrypted and buffered inside the connection: a poll on the
     * socket does not wake for them (sentinel-proxy's loop asks). */
    size_t (*pending)(const sn_tls_conn *c);
    /* Read whole socket buffers, not a record header and then its body:
     * half the recv() calls; the caller must then ask pending() after a
     * read, as bytes of the next records may wait inside. */
    void (*read_ahead)(sn_tls_conn *c);
    /* The server side (sentinel-proxy's TLS listener): a context with a
     * certificate and key, verifying client certificates against ca_file
     * when it is not NULL (an SSL_CTX, freed with ctx_free); NULL with e set. */
    void *(*server_ctx_new)(const char *cert, const char *key, const char *ca_file, sn_err *e);
    void (*ctx_free)(void *ctx);
    /* A TLS server over transport handle h; NULL with e set. */
    sn_tls_conn *(*conn_accept)(void *ctx, const sn_transport *t, int h, sn_err *e);
    /* Send close_notify, best effort and without waiting for the peer's
     * (an orderly close: sentinel-proxy's QUIT and shutdown). Only on a
     * connection whose handshake is done and that has not failed. */
    void (*close_notify)(sn_tls_conn *c);
    /* Bytes the peer has sent so far, and the first of them in *first (a
     * plaintext port's answer starts with a RESP type byte). */
    size_t (*bytes_in)(const sn_tls_conn *c, unsigned char *first);
};

/* tls.c's functions, for code that sets up TLS without a handle's
 * options (sentinel-proxy's listener). Links tls.c and OpenSSL in. */
const sn_tls_ops *sn_tls_ops_get(void);

/* options.c: free / copy a role's options (through ops when set). */
void sn_tls_opts_free(sn_tls_opts *o);
int sn_tls_opts_copy(sn_tls_opts *dst, const sn_tls_opts *src);
/* options.c: mix both roles' TLS options into a resolution sharing key. */
uint64_t sn_tls_key_mix(const sn_config *c, uint64_t h);
/* 1 when o asks for TLS (and tls.c is linked in to provide it). */
static inline int sn_tls_on(const sn_tls_opts *o)
{
    return o != NULL && o->enabled && o->ops != NULL;
}

/* ---- replies.c: decode what sentinels and data nodes say ---------------- */

typedef enum sn_role { SN_ROLE_UNKNOWN = 0, SN_ROLE_MASTER, SN_ROLE_REPLICA, SN_ROLE_SENTINEL } sn_role;

/* 1 if r is an error reply about credentials (NOAUTH, WRONGPASS, NOPERM,
 * "invalid password", "Client sent AUTH"). */
int sn_reply_is_auth_error(const redisReply *r);
/* get-master-addr-by-name: 0 and hp filled; 1 for a null reply (unknown
 * name); -1 with e set for anything else. */
int sn_parse_master_addr(const redisReply *r, sn_hostport *hp, sn_err *e);
/* SENTINEL MASTER <name>, the tag of a shared poll (poll_share.c): 0 when
 * the field/value list names `name`; 1 for an error reply (an unknown
 * master, or the command refused by an ACL: it names nobody); -1 with e set
 * for anything else, another master's name included. */
int sn_parse_master_named(const redisReply *r, const char *name, sn_err *e);
/* 1 when r is an ACL refusal naming cmd ("sentinel|master": Redis 7 quotes
 * it in its -NOPERM text), else 0: which query an error answers, where the
 * replies' shapes alone cannot tell (a shared poll's refused tag). */
int sn_reply_refuses(const redisReply *r, const char *cmd);
/* ROLE: 0 and *role set, or -1 with e set. */
int sn_parse_role(const redisReply *r, sn_role *role, sn_err *e);
/* SENTINEL sentinels: calls add(hp) for each well-formed entry; returns the
 * number of entries or -1 with e set when the shape is wrong. */
int sn_parse_sentinels(const redisReply *r, void (*add)(const sn_hostport *hp, void *ud),
                       void *ud, sn_err *e);

/* One sentinel pub/sub message, classified for a master name. */
typedef struct sn_event_msg {
    int type;           /* sentinel_event_type, or 0 when not about our master */
    sn_hostport addr;   /* replica selected / new master */
    sn_hostport master; /* the master the event is about (for failover-state events) */
} sn_event_msg;

/* Classify a message on channel ch with payload p for master name. Returns 0
 * when it concerns the master (ev filled), 1 when it is to be ignored, -1 for
 * a malformed payload on a channel we care about. */
int sn_parse_event(const char *ch, size_t chlen, const char *p, size_t plen,
                   const char *master_name, sn_event_msg *ev);

/* ---- cache.c: in-process cache and single-flight ------------------------ */

typedef struct sn_cache {
    int valid;
    sentinel_addr addr;
    int64_t expires_ms; /* monotonic */
} sn_cache;

int sn_cache_get(const sn_cache *c, sentinel_addr *out);
void sn_cache_put(sn_cache *c, const sentinel_addr *a, int ttl_ms);
void sn_cache_clear(sn_cache *c);

/* One in-flight resolution per key (master name + configured sentinels) per
 * process. sn_flight_begin returns 1 when the caller must resolve (and then
 * call sn_flight_end with its result), or 0 when another caller's result,
 * finished while we waited, was copied into *code, *addr and *e. */
typedef struct sn_flight sn_flight;
sn_flight *sn_flight_get(const char *key);
int sn_flight_begin(sn_flight *f, int64_t deadline_ms, int *code, sentinel_addr *addr, sn_err *e);
void sn_flight_end(sn_flight *f, int code, const sentinel_addr *addr, const sn_err *e);
/* How many callers are waiting for another's answer now (for unit tests). */
int sn_flight_waiters(void);

/* ---- the handle ---------------------------------------------------------- */

struct sentinel {
    sn_config cfg;
    sn_cache cache;
    sentinel_addr last_good; /* last verified master; survives invalidation */
    int served_last_known;   /* the resolution just made served last_good */
    int last_source;         /* sentinel_source of the last answer (resolve.c) */
    sn_err err;
    sentinel_stats stats;
    uint64_t rng;
    char *flight_key;
    int64_t discovered_at_ms; /* last SENTINEL sentinels, monotonic; 0 never */
};

/* How long a last-known master, served while no sentinel answers, is cached. */
#define SN_LAST_KNOWN_TTL_MS 1000

/* How often a handle refreshes its sentinel list with SENTINEL sentinels. */
#define SN_DISCOVERY_INTERVAL_MS 60000

/* resolve.c: ask the sentinels once (no cache, no single-flight). */
int sn_resolve_uncached(sentinel_t *s, sentinel_addr *out);
/* resolve.c: resolve, connect, AUTH and verify ROLE master on that very
 * link (TLS per the data node options), within the total timeout: 0 with
 * *l open and *addr set, or -1 with s->err set. */
int sn_connect_verified(sentinel_t *s, sn_link *l, sentinel_addr *addr);
/* watch.c: the state name of sentinel i's subscription link (tests, logs). */
const char *sn_watch_link_state(const sentinel_watch_t *w, size_t i);

/* watch.c, for the follower (follow.c) */
/* The detail of a SENTINEL_EVENT_SWITCHED that comes from polling, not from
 * a sentinel's +switch-master. */
#define SN_WATCH_POLL_DETAIL "poll"
/* A descriptor the watcher wants polled, with the link's open generation. */
typedef struct sn_fdwant {
    int fd;
    short events;
    uint64_t gen;
} sn_fdwant;
/* Fill up to max; returns how many there are. */
int sn_watch_wants(const sentinel_watch_t *w, sn_fdwant *out, int max);
/* Step only the link whose handle is fd (its data arrived); 1 if the
 * watcher owns fd, 0 if not. */
int sn_watch_process_fd(sentinel_watch_t *w, int fd);
/* The caller verified master with ROLE and follows it now: failover events
 * are filtered against it (not against the polled address, which lags the
 * promotion by about a second) and the watcher's failover is over. */
void sn_watch_follow(sentinel_watch_t *w, const sn_hostport *master);
/* Why polling names no master: SENTINEL_OK (it does, or no answer yet),
 * SENTINEL_ERR_UNKNOWN_MASTER (the last answer was null) or
 * SENTINEL_ERR_NO_SENTINEL_REACHABLE (a whole round of sentinels failed). */
int sn_watch_poll_code(const sentinel_watch_t *w);
/* The last failed poll, "host:port: why" (the sentinel's error reply, the
 * connect's or the link's error; "" once a poll is answered), or with auth
 * the last refusal of the sentinel credentials as answered, with no
 * address: the same text from every sentinel that shares them, so a
 * message built on it does not change from one poll to the next. */
const char *sn_watch_poll_why(const sentinel_watch_t *w, int auth);

/* watch.c, for follower groups (follow_group.c): a hub holds the one
 * subscription per sentinel of a group and the polling links its members
 * share (poll_share.c: one per sentinel); a member polls for its own master
 * through them, on its own schedule kept by the hub, and takes its events
 * from the hub (every message goes to every member, each filters by its
 * master name). A member holds no link. A member's sentinels are added to
 * the hub's. Free the members before the hub. */
sentinel_watch_t *sn_watch_new_hub(const sentinel_t *s, int *code);
sentinel_watch_t *sn_watch_new_member(sentinel_watch_t *hub, const sentinel_t *s,
                                      sentinel_event_cb cb, void *userdata, int *code);
size_t sn_watch_members(const sentinel_watch_t *w);
/* Polling connections a hub holds now (its members' shared pollers). */
int sn_watch_poll_links(const sentinel_watch_t *w);

/* poll_share.c, for the hub (watch.c): one polling link per sentinel,
 * shared by the members; queries pipelined, replies handed back in order. */
typedef struct sn_pollshare sn_pollshare;
/* A reply to one of member's commands; -1: the member gives up the query
 * (its remaining replies on that link are dropped); -2 with e set: the
 * reply is not one to what member asked (another master's, or of another
 * shape): the stream is out of step, the link closes for every member. */
typedef int sn_pollshare_reply_cb(void *member, redisReply *r, const sn_hostport *from,
                                  sn_err *e, int64_t now);
/* The link member waited on failed (auth_refused: the sentinel refused the
 * sentinel credentials; why: what failed); told once per member per
 * failure. */
typedef void sn_pollshare_lost_cb(void *member, int auth_refused, const char *why, int64_t now);
sn_pollshare *sn_pollshare_new(const sn_config *cfg, sn_pollshare_reply_cb *on_reply,
                               sn_pollshare_lost_cb *on_lost);
void sn_pollshare_free(sn_pollshare *ps);
/* Queue member's ncmds commands on the link to sentinel (opened if needed).
 * 0, or -1: the link is in backoff or failed, or the commands do not fit
 * its output queue (the member is not told; the link stays up). */
int sn_pollshare_query(sn_pollshare *ps, const sn_hostport *sentinel, void *member, int ncmds,
                       const int *argc, const char *const *const *argv, int64_t now);
/* member leaves: replies still due to it are dropped. NULL ps ok. */
void sn_pollshare_forget(sn_pollshare *ps, const void *member);
void sn_pollshare_step(sn_pollshare *ps, int64_t now);
/* Step the link whose handle is fd: 1, or 0 when fd is not a link's. */
int sn_pollshare_step_fd(sn_pollshare *ps, int fd, int64_t now);
/* Append the links' descriptors at out[n..max); returns the new count. */
int sn_pollshare_wants(const sn_pollshare *ps, sn_fdwant *out, int max, int n);
/* The earliest deadline of a link (connect, a late reply), or due. */
int64_t sn_pollshare_due(const sn_pollshare *ps, int64_t due);
int sn_pollshare_open_links(const sn_pollshare *ps);

/* follow.c, for follow_group.c */
typedef void sn_fdreg_cb(void *self, int fd, int op, int events);
void sn_fdreg_sync(sn_fdwant *reg, int *nreg, const sn_fdwant *want, int n, sn_fdreg_cb *cb,
                   void *self, const int *stop);
typedef struct sentinel_follow sentinel_follow_t;
typedef struct sentinel_follow_group sentinel_follow_group_t;
sentinel_follow_t *sn_follow_create(const sentinel_t *s, sentinel_watch_t *hub,
                                    sentinel_follow_group_t *g, int *code);
int sn_follow_enter(sentinel_follow_t *f);
/* Timers and deferred work of f, then leave (f may be freed then). */
int sn_follow_leave(sentinel_follow_t *f);
int sn_follow_busy(const sentinel_follow_t *f);
/* follow_group.c: member f was freed. */
void sn_follow_group_left(sentinel_follow_group_t *g, sentinel_follow_t *f);
/* follow_group.c: tell the group's host about its links now (before host code). */
void sn_follow_group_sync(sentinel_follow_group_t *g);

/* ROLE check of one address with the data credentials. */
int sn_check_role(const sn_config *cfg, const sn_hostport *hp, int64_t deadline_ms,
                  sn_role *role, sn_err *e);

#endif /* SN_INTERNAL_H */
