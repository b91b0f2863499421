/*
 * fo-writer: the bounded write loop every path of the failover benchmark runs
 * (one SET of a unique key per tick), and the clients it can drive.
 *
 * The loop (writer.c) owns pacing, bounds and the ack log; a client only
 * knows how to send one SET, or why it cannot right now, and how to wait
 * for the next tick while doing its background work (the libsentinel client
 * reads sentinel events there).
 */
#ifndef FO_WRITER_H
#define FO_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------
 * The ack log: one line per event, CLOCK_MONOTONIC microseconds, so the
 * driver can put every writer, the observer and the faults on one axis.
 *
 *   # key=value             header (path, mode, prefix)
 *   S <t>                   loop started
 *   A <t> <port> <seq>      SET <prefix>:<seq> acknowledged by node <port>
 *                           (0: not known, behind a proxy)
 *   E <t> <port> <seq> msg  an error the client saw (seq -1: no SET sent)
 *   N <t> text              a client state change (paused, resumed...)
 *   X <t> attempts acks errors   loop ended
 * ------------------------------------------------------------------------ */
typedef struct fo_log {
    FILE *f;
    int64_t last_flush_us;
    uint64_t acks, errors;
} fo_log;

int64_t fo_now_us(void);
int fo_log_open(fo_log *log, const char *path);
void fo_log_close(fo_log *log);
void fo_log_ack(fo_log *log, int port, int64_t seq);
void fo_log_error(fo_log *log, int port, int64_t seq, const char *msg);
void fo_log_note(fo_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flushes at most every 100 ms, so `wc -l` shows progress. */
void fo_log_tick(fo_log *log);

/* ------------------------------------------------------------------------
 * Options shared by every client
 * ------------------------------------------------------------------------ */
typedef struct fo_options {
    const char *mode;        /* "fixed" or "sentinel" */
    const char *host;        /* fixed: the address to write to */
    int port;
    int port_known;          /* fixed: 1 = acks come from host:port itself */
    const char *sentinels;   /* sentinel: "host:port,..." */
    const char *master;      /* sentinel: the master name */
    int connect_timeout_ms;  /* every connection (default 250) */
    int command_timeout_ms;  /* every reply (default 500) */
} fo_options;

/* ------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------ */
typedef enum fo_result {
    FO_ACKED,  /* the SET was acknowledged */
    FO_FAILED, /* an error; sent says whether a SET went out */
    FO_IDLE    /* nothing sent this tick (paused, backing off) */
} fo_result;

typedef struct fo_outcome {
    fo_result result;
    int sent;        /* a SET went out (its sequence number is used up) */
    int port;        /* the node written to, 0 if unknown */
    char error[200];
} fo_outcome;

typedef struct fo_client fo_client;

typedef struct fo_client_ops {
    const char *mode;
    /* NULL with a message in err on failure. */
    fo_client *(*create)(const fo_options *opt, fo_log *log, char *err, size_t errlen);
    /* Sends SET key once if it can. Blocks at most for the timeouts. */
    void (*write)(fo_client *c, const char *key, fo_outcome *out);
    /* Waits up to wait_us for the next tick, doing background work. */
    void (*wait)(fo_client *c, int64_t wait_us);
    /* Prints counters as "# key=value" lines at the end of the log. */
    void (*summary)(fo_client *c, fo_log *log);
    void (*destroy)(fo_client *c);
} fo_client_ops;

extern const fo_client_ops fo_fixed_client;    /* client_fixed.c */
extern const fo_client_ops fo_sentinel_client; /* client_sentinel.c */

/* Helpers for clients */
void fo_outcome_error(fo_outcome *out, int sent, int port, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fo_sleep_us(int64_t us);

#endif
