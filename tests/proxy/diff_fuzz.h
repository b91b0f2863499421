/*
 * diff-fuzz: a differential, stateful fuzzer for sentinel-proxy's
 * multiplexing (issue 10). Shared declarations of its three parts:
 *
 *   diff_fuzz.c         options, the poll loop, client sockets, liveness,
 *                       the final checks
 *   diff_fuzz_model.c   what each client sends, and the per-client model of
 *                       what Redis itself would answer it
 *   diff_fuzz_faults.c  faults on the topology (restart, freeze, failover,
 *                       CLIENT KILL, -BUSY, CLIENT PAUSE, ACL change) and
 *                       in the proxy (out of memory, through oom_shim)
 *   diff_fuzz_admin.c   its own connections to the data nodes, plaintext
 *                       or TLS
 */
#ifndef DIFF_FUZZ_H
#define DIFF_FUZZ_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define FZ_NDB 4        /* databases the clients use */
#define FZ_NKEYS 4      /* string keys per client and database */
#define FZ_BIGKEY FZ_NKEYS /* and one 100 KB value, for the clients that read slowly */
#define FZ_BIG (100 * 1024)
#define FZ_MAXPEND 512  /* requests a client may have in flight */
#define FZ_LOGN 48      /* op log lines kept per client */
#define FZ_LOGW 160
#define FZ_ZOMBIES 6    /* ranges of writes that may still land later */

typedef struct fz_rng {
    uint64_t s;
} fz_rng;

uint64_t fz_next(fz_rng *r);
uint32_t fz_rnd(fz_rng *r, uint32_t n); /* 0..n-1 */
void fz_seed(fz_rng *r, uint64_t seed, uint64_t stream);
int64_t fz_now(void);

/* ---- the model of one client's keys -------------------------------------- */

/* A string key. Values name their key and carry the client's write
 * sequence number; "strong" keys hold exactly val (0 = none), weak ones
 * any value this client wrote since floor (or none when nil_ok). Writes
 * that never got a reply may still land later (zombies): SETs at any time,
 * a DEL until zdel_until. */
typedef struct fz_key {
    uint64_t val, floor, maxw;
    uint8_t weak, nil_ok;
    uint64_t zlo[FZ_ZOMBIES], zhi[FZ_ZOMBIES];
    uint8_t nz;
    int64_t zdel_until;
} fz_key;

typedef struct fz_ctr {      /* INCR counter: its value is in [lo, hi] */
    int64_t lo, hi, zombies; /* zombies: INCRs that may still land */
} fz_ctr;

enum fz_op {
    OP_GET, OP_SET, OP_DEL, OP_INCR, OP_ECHO, OP_PING, OP_SELECT, OP_AUTH, OP_MULTI,
    OP_EXEC, OP_QUIT
};

enum fz_ident { ID_NONE, ID_DEFAULT, ID_ACL }; /* who a connection is */
enum fz_auth { AU_DEFAULT, AU_ACL, AU_WRONG, AU_LONG, AU_LONGACL };
/* An ACL user diff-fuzz creates on every node, whose AUTH command is about
 * the longest the proxy gives a shared connection (SH_AUTH_MAX). */
#define FZ_LONG_USER "fzlong"
#define FZ_LONG_PWLEN 985

typedef struct fz_req {
    uint8_t op, in_tx, after_quit, arg; /* arg: SELECT db, fz_auth */
    int8_t key;       /* key index, or -1 */
    uint8_t db;       /* database the key lives in (named in the key) */
    uint64_t seq;     /* SET: the value's sequence; ECHO: token */
    uint32_t vlen;
    int64_t sent;     /* when its wait for a reply starts (moved on by blind time) */
    int64_t sent_at;  /* when it was sent (judges the fault windows) */
} fz_req;

typedef enum fz_cstate { CS_DOWN, CS_CONNECTING, CS_OPEN } fz_cstate;
typedef enum fz_role { RO_NORMAL, RO_SLOW, RO_NONREAD } fz_role;

typedef struct fz_client {
    int id, fd;
    fz_cstate state;
    fz_role role;
    int64_t role_until;   /* slow/non-reading phase ends */
    int64_t next_at;      /* think time: the next round starts */
    int64_t last_read;    /* slow reader: last read */
    fz_rng rng;
    redisReader *rd;
    char *out;            /* bytes to send */
    size_t out_len, out_pos, out_cap;
    fz_req pend[FZ_MAXPEND];
    size_t ph, pn;        /* ring of requests awaiting replies */
    /* the connection's state, as Redis would have it */
    int ident, db, in_multi, tx_broken, tx_dirty;
    int long_auth;        /* authenticated as FZ_LONG_USER */
    int quit_sent, quit_done, halfclosed, hc_done, abandon, had_role;
    int64_t eof_wait_since; /* after QUIT's +OK or a half-close: the end is due */
    fz_req tx[8];         /* queued in MULTI, +QUEUED: EXEC's elements */
    size_t ntx;
    int conn_no, poisoned;
    /* the client's data, across connections */
    fz_key keys[FZ_NDB][FZ_NKEYS + 1];
    fz_ctr ctr[FZ_NDB];
    uint64_t seq;
    uint64_t replies, conns, accepted_errs;
    char log[FZ_LOGN][FZ_LOGW];
    unsigned logn;
} fz_client;

/* ---- global settings and run state -------------------------------------- */

typedef struct fz_run {
    uint64_t seed;
    int port, master_port, clients, bufsize, pause_ms, margin_ms;
    double seconds;
    const char *password, *acl_user, *acl_password, *ctl, *faults;
    const char *oom_file;     /* oom_shim's control file (the proxy's), or NULL */
    int tls;                  /* the proxy speaks TLS to the master (--tls) */
    int64_t start, end;
    /* fault windows (diff_fuzz_faults.c keeps them) */
    int fault_active;         /* a fault is in progress */
    int delaying;             /* the master may not answer now (freeze, pause, busy) */
    int busy, loading_ok, lossy, acl_changed;
    int64_t last_fault_end, last_delay_end, lossy_until, busy_until, acl_until;
    int auth_storm;           /* clients start rounds with a long AUTH, 1 wrong, 3 right;
                                 2 AUTH/SELECT */
    int64_t storm_until;
    int master_away;          /* the master may take no connection now (restart, kill,
                                 freeze, failover), and until master_away_until */
    int64_t master_away_until;
    int oom;                  /* the proxy's allocations may fail now */
    int64_t oom_until;
    int dribble;              /* clients send their pipelines a few bytes at a time */
    const char *fault_name;
    /* totals */
    uint64_t requests, replies, errors_accepted, closes_accepted, faults_done;
    uint64_t conns;
    uint64_t oom_failed;      /* allocations the shim failed in the proxy */
    int failed, nfail, keep_going;
    int64_t blind_ms;         /* time the fuzzer could not watch (a blocking fault
                               * step, its own process not scheduled) */
} fz_run;

extern fz_run R;

/* diff_fuzz.c */
void fz_fail(fz_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fz_log(fz_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fz_send(fz_client *c, int argc, const char **argv, const size_t *lens);
int fz_in_window(void);
extern fz_client *fz_clients;

/* diff_fuzz_model.c */
void model_conn_reset(fz_client *c);
void model_conn_lost(fz_client *c);
void model_round(fz_client *c);
void model_reply(fz_client *c, const redisReply *r);
void model_lossy_all(void);
void model_forget(fz_client *c);
int model_big_value(fz_client *c);
const char *fz_op_name(int op);

/* diff_fuzz_faults.c */
void faults_init(void);
const char *fz_long_password(void);
void faults_step(void);
void faults_stop(void);
int faults_end_scan(void);
int fz_master_port(void);

/* diff_fuzz_admin.c: a connection of diff-fuzz's own to a data node (AUTH
 * and CLIENT SETNAME diff-fuzz-admin done), blocking with timeouts; over
 * TLS once fz_admin_tls() succeeded. Replies are hiredis' (freeReplyObject);
 * NULL when the connection failed. */
typedef struct fz_conn fz_conn;
int fz_admin_tls(const char *cacert, const char *cert, const char *key);
fz_conn *fz_admin(int port, int quiet);
void fz_admin_close(fz_conn *a);
redisReply *fz_admin_cmd(fz_conn *a, const char *fmt, ...);
redisReply *fz_admin_argv(fz_conn *a, int argc, const char **argv, const size_t *lens);
void fz_admin_append(fz_conn *a, const char *fmt, ...); /* sent by the next flush */
int fz_admin_flush(fz_conn *a);
int fz_admin_poll(fz_conn *a, redisReply **r); /* 1 a reply, 0 none yet, -1 failed */

#endif
