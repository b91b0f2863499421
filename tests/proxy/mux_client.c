/*
 * mux-client: checks that sentinel-proxy's multiplexing hands every client
 * exactly its own replies, in order and whole, and that pinning keeps a
 * client's state. Built on hiredis (command formatting, reply parsing, the
 * setup and the final check); the clients are raw non-blocking sockets
 * driven by one poll() loop, so that no client waits on another (a client
 * that does not read stalls the shared master connection for everyone).
 *
 *   run   N clients each send R rounds of pipelines (1..12 commands; now
 *         and then the next round goes out before the replies of this one)
 *         whose replies follow from the client's own state: SET/GET of
 *         values 1..3000 bytes long with CR, LF, NUL and RESP characters
 *         inside (and the client, round and sequence number in front),
 *         INCR, ECHO, DEL, EXISTS, HSET/HGET, LPUSH/LTRIM/LRANGE, MGET,
 *         MSET, PING, EVAL (nested arrays with a null, a status and an
 *         error inside), ZADD/ZCARD, EXPIRE, and now and then GET of a
 *         200 KB value, which streams through the proxy's framer in many
 *         pieces. Every reply is compared, byte for byte, with the one
 *         expected. The clients:
 *           0     writes its pipelines 1..7 bytes at a time
 *           1     reads at most once a millisecond, and twice asks for
 *                 5 MB of replies in one pipeline: more than the kernel
 *                 buffers hold, so the shared connection stalls behind it
 *           2     sends a 40 KB SET (more than the proxy's buffer: pinned)
 *                 in the middle of a pipeline, then reads it back
 *           3     the same as its very first command
 *           4..10 send, in the middle of a pipeline (shared commands before
 *                 and after it), a command that changes its connection's
 *                 state: SELECT 1 (it moves to the shared connection for
 *                 db 1), AUTH (an error: the data nodes have no password;
 *                 it stays), or one that needs a connection of its own:
 *                 CLIENT SETNAME, MULTI/SET/INCR/EXEC, an inline ECHO, an
 *                 unknown command, BLPOP with a timeout
 *           11    sends SELECT 0 as its very first command (stays shared)
 *           12    writes 1..7 bytes at a time and sends MULTI/.../EXEC
 *           13,14 end their last pipeline with QUIT (14 sends SET and INCR
 *                 after it): +OK, then the end, and nothing after QUIT runs
 *           15..  plain shared clients
 *         Once pinned, a client asks CLIENT ID now and then (it must never
 *         change) and CLIENT GETNAME (the name must stay); after SELECT 1
 *         its keys live in db 1 (and the big value is not there). At the
 *         end every client's keys are read directly on the master
 *         (--master-port) and compared with what the client believes.
 *
 * Prints one "key=value" summary line: shared_commands is the number of
 * commands sent while the client was still multiplexed (what the proxy's
 * multiplexed_commands_total must grow by), pinned_expected the number of
 * clients that must have been pinned (pinned_clients_total). The commands
 * depend only on --seed. Exit 0 pass, 1 fail (a wrong, missing or extra
 * reply, an unexpected error, a closed connection, a timeout, a key that
 * differs on the master), 2 setup error.
 *
 * Options: --port P (proxy or master), --master-port M (default P),
 * --clients N (40), --rounds R (60), --seconds S (60: a client waiting
 * for a reply fails when none comes for S seconds; the whole run is bounded
 * by 10 x S, so a loaded machine slows the run without failing it, while
 * one client starved by the others still fails), --seed X (1), --prefix S (keys; default mux<pid>),
 * --big-command BYTES (40960), --big-reply BYTES (204800), --verbose.
 *
 * Past 800 lines: one tool, one model; the command generator, the
 * per-client expectation queue and the final check share the client struct
 * and are only meaningful together.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int opt_port = 6379;
static int opt_master_port;
static int opt_clients = 40;
static int opt_rounds = 60;
static double opt_seconds = 60;
static uint64_t opt_seed = 1;
static char opt_prefix[64];
static size_t opt_big_cmd = 40960;
static size_t opt_big_reply = 204800;
static int opt_verbose;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die_oom(void)
{
    fprintf(stderr, "mux-client: out of memory\n");
    exit(2);
}

/* ------------------------------------------------------------------------
 * Small tools: PRNG, byte buffers, RESP encoding
 * ------------------------------------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed * 1000003ULL + stream;
    r->s = splitmix(&x) | 1;
}

static uint64_t rng_next(rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* 0..n-1 */
static uint32_t rnd(rng *r, uint32_t n)
{
    return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_need(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < b->len + more)
        ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (np == NULL)
        die_oom();
    b->p = np;
    b->cap = ncap;
}

static void buf_add(buf *b, const void *data, size_t n)
{
    buf_need(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_need(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_set(buf *b, const void *data, size_t n)
{
    b->len = 0;
    buf_add(b, data, n);
}

static void buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void resp_bulk(buf *b, const char *s, size_t n)
{
    buf_printf(b, "$%zu\r\n", n);
    buf_add(b, s, n);
    buf_add(b, "\r\n", 2);
}

/* A reply as RESP2 again (a null array reads as a null bulk in hiredis:
 * both are written "$-1"). */
static void resp_of_reply(buf *b, const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
        resp_bulk(b, r->str, r->len);
        break;
    case REDIS_REPLY_NIL:
        buf_add(b, "$-1\r\n", 5);
        break;
    case REDIS_REPLY_INTEGER:
        buf_printf(b, ":%lld\r\n", r->integer);
        break;
    case REDIS_REPLY_STATUS:
        buf_add(b, "+", 1);
        buf_add(b, r->str, r->len);
        buf_add(b, "\r\n", 2);
        break;
    case REDIS_REPLY_ERROR:
        buf_add(b, "-", 1);
        buf_add(b, r->str, r->len);
        buf_add(b, "\r\n", 2);
        break;
    case REDIS_REPLY_ARRAY:
        buf_printf(b, "*%zu\r\n", r->elements);
        for (size_t i = 0; i < r->elements; i++)
            resp_of_reply(b, r->element[i]);
        break;
    default:
        buf_printf(b, "?type%d\r\n", r->type);
    }
}

/* Printable excerpt of bytes, for failure messages. */
static const char *excerpt(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    size_t i;

    for (i = 0; i < n && o + 24 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 32 && ch < 127 && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    if (i < n)
        snprintf(out + o, cap - o, "...(%zu bytes)", n);
    else
        out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------------
 * Clients and what they expect
 * ------------------------------------------------------------------------ */

enum { X_EXACT, X_BIG, X_ERRPFX, X_CLIENTID };

typedef struct expect {
    uint8_t kind;
    char *resp; /* X_EXACT: the reply; X_ERRPFX: the error's start; X_BIG: shared */
    size_t len;
    const char *cmd; /* for messages */
    int round;
} expect;

enum {
    CL_SHARED,   /* shared all its life */
    CL_FRAG,     /* writes 1..7 bytes at a time */
    CL_SLOW,     /* small receive buffer, reads little at a time */
    CL_BIG,      /* a command larger than the proxy buffer, mid-pipeline */
    CL_BIGFIRST, /* the same, first thing it sends */
    CL_PIN,      /* a pinning command mid-pipeline */
    CL_PINFIRST, /* SELECT 0 first thing */
    CL_FRAGPIN,  /* fragmented writes, and MULTI/EXEC mid-pipeline */
    CL_QUIT      /* shared, QUIT at the end of its last pipeline */
};

enum { PK_SELECT, PK_SETNAME, PK_MULTI, PK_INLINE, PK_UNKNOWN, PK_BLPOP, PK_AUTH, PK_NKINDS };
static const char *const pk_names[] = {"SELECT", "CLIENT SETNAME", "MULTI", "inline ECHO",
                                       "unknown command", "BLPOP", "AUTH"};

#define NSLOT 6
#define NFIELD 4
#define LMAX 40
#define NZ 16
#define MAX_VALUE 3000

static const char *const hfields[NFIELD] = {"f0", "f1\r\n", "f$2", "*3\r\n$1\r\n"};

typedef struct client {
    int id, cls, pin_kind, pin_round;
    int pinned;  /* the pinning command has been sent */
    rng g;       /* the commands: deterministic */
    rng io;      /* chunk sizes: independent of the commands */
    int fd;
    redisReader *rd;
    buf out;
    size_t out_pos;
    expect *q;
    size_t qhead, qlen, qcap;
    int round, overlap, done, failed;
    int64_t last_reply_ms; /* or when it began waiting */
    int quit_sent, eof_seen;
    long seq;
    /* what the client believes the master holds */
    int db;
    buf val[NSLOT];
    int has[NSLOT];
    long long ctr;
    buf hval[NFIELD];
    int hhas[NFIELD];
    buf list[LMAX];
    int llen;
    uint32_t zmask;
    int has_huge;
    long long client_id;
    int have_id;
    /* counts */
    long sent, shared, replies, mismatches, errors;
    size_t max_write, max_read;
    int64_t next_read; /* a slow reader reads once a millisecond at most */
    int64_t done_ms;
} client;

static buf big_resp;   /* "$<n>\r\n<value>\r\n" of the big key */
static buf huge_value; /* the value bigger than the proxy buffer */
static buf scratch;
static long total_mismatches, total_errors, reported;

static void key(client *cl, buf *k, const char *what, int n)
{
    k->len = 0;
    if (n >= 0)
        buf_printf(k, "%s:%d:%s%d", opt_prefix, cl->id, what, n);
    else
        buf_printf(k, "%s:%d:%s", opt_prefix, cl->id, what);
}

static void q_push(client *cl, int kind, char *resp, size_t len, const char *cmd)
{
    if (cl->qhead + cl->qlen == cl->qcap) {
        if (cl->qhead > 0) {
            memmove(cl->q, cl->q + cl->qhead, cl->qlen * sizeof(*cl->q));
            cl->qhead = 0;
        } else {
            size_t ncap = cl->qcap ? cl->qcap * 2 : 64;
            expect *nq = realloc(cl->q, ncap * sizeof(*nq));
            if (nq == NULL)
                die_oom();
            cl->q = nq;
            cl->qcap = ncap;
        }
    }
    cl->q[cl->qhead + cl->qlen++] = (expect){(uint8_t)kind, resp, len, cmd, cl->round};
}

/* Append one command (binary-safe arguments) and what it must answer. */
static void send_cmd(client *cl, int argc, const char **argv, const size_t *lens, int kind,
                     const buf *exp)
{
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
    char *copy = NULL;
    size_t len = 0;

    if (n < 0 || cmd == NULL)
        die_oom();
    buf_add(&cl->out, cmd, (size_t)n);
    free(cmd);
    if (kind == X_BIG) {
        copy = big_resp.p;
        len = big_resp.len;
    } else if (exp) {
        if ((copy = malloc(exp->len ? exp->len : 1)) == NULL)
            die_oom();
        memcpy(copy, exp->p, exp->len);
        len = exp->len;
    }
    q_push(cl, kind, copy, len, argv[0]);
    cl->sent++;
    if (!cl->pinned)
        cl->shared++;
}

/* A command of string arguments (none binary), expecting exp. */
static void send_simple(client *cl, int kind, const buf *exp, int argc, ...)
{
    const char *argv[16];
    size_t lens[16];
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++) {
        argv[i] = va_arg(ap, const char *);
        lens[i] = strlen(argv[i]);
    }
    va_end(ap);
    send_cmd(cl, argc, argv, lens, kind, exp);
}

/* A value: who wrote it and when, then random bytes, RESP characters and
 * CR LF among them. */
static void gen_value(client *cl, buf *v, size_t maxlen)
{
    static const char tricky[] = "\r\n$*:+-0123456789\r\n\0";
    size_t target = 1 + rnd(&cl->g, (uint32_t)maxlen);

    v->len = 0;
    buf_printf(v, "c%d.r%d.s%ld|", cl->id, cl->round, cl->seq++);
    while (v->len < target) {
        char ch;
        if (rnd(&cl->g, 3) == 0)
            ch = tricky[rnd(&cl->g, sizeof(tricky))];
        else
            ch = (char)rnd(&cl->g, 256);
        buf_add(v, &ch, 1);
    }
}

static void model_reset(client *cl)
{
    memset(cl->has, 0, sizeof(cl->has));
    memset(cl->hhas, 0, sizeof(cl->hhas));
    cl->ctr = 0;
    cl->llen = 0;
    cl->zmask = 0;
    cl->has_huge = 0;
}

static size_t value_max(const client *cl)
{
    /* Fragmented writers send small pipelines: every byte costs a write. */
    return cl->cls == CL_FRAG || cl->cls == CL_FRAGPIN ? 40 : MAX_VALUE;
}

static void exp_slot(buf *e, const client *cl, int s)
{
    if (cl->has[s])
        resp_bulk(e, cl->val[s].p, cl->val[s].len);
    else
        buf_add(e, "$-1\r\n", 5);
}

/* One random command whose reply the model predicts. */
static void gen_op(client *cl)
{
    buf k = {0}, k2 = {0}, v = {0}, e = {0}, n1 = {0};
    const char *argv[8];
    size_t lens[8];
    uint32_t op = rnd(&cl->g, 100);
    int s = (int)rnd(&cl->g, NSLOT), s2 = (int)rnd(&cl->g, NSLOT);
    int frag = cl->cls == CL_FRAG || cl->cls == CL_FRAGPIN;

    key(cl, &k, "k", s);
    if (op < 18) { /* SET */
        gen_value(cl, &v, value_max(cl));
        argv[0] = "SET", argv[1] = k.p, argv[2] = v.p;
        lens[0] = 3, lens[1] = k.len, lens[2] = v.len;
        buf_add(&e, "+OK\r\n", 5);
        send_cmd(cl, 3, argv, lens, X_EXACT, &e);
        buf_set(&cl->val[s], v.p, v.len);
        cl->has[s] = 1;
    } else if (op < 34) { /* GET */
        exp_slot(&e, cl, s);
        send_simple(cl, X_EXACT, &e, 2, "GET", k.p);
    } else if (op < 42) { /* INCR */
        key(cl, &k2, "ctr", -1);
        buf_printf(&e, ":%lld\r\n", ++cl->ctr);
        send_simple(cl, X_EXACT, &e, 2, "INCR", k2.p);
    } else if (op < 48) { /* ECHO */
        gen_value(cl, &v, frag ? 20 : 200);
        argv[0] = "ECHO", argv[1] = v.p;
        lens[0] = 4, lens[1] = v.len;
        resp_bulk(&e, v.p, v.len);
        send_cmd(cl, 2, argv, lens, X_EXACT, &e);
    } else if (op < 52) { /* DEL */
        buf_printf(&e, ":%d\r\n", cl->has[s]);
        send_simple(cl, X_EXACT, &e, 2, "DEL", k.p);
        cl->has[s] = 0;
    } else if (op < 56) { /* EXISTS, the same key twice counts twice */
        key(cl, &k2, "k", s2);
        buf_printf(&e, ":%d\r\n", cl->has[s] + cl->has[s2]);
        send_simple(cl, X_EXACT, &e, 3, "EXISTS", k.p, k2.p);
    } else if (op < 62) { /* HSET */
        int f = (int)rnd(&cl->g, NFIELD);
        key(cl, &k2, "h", -1);
        gen_value(cl, &v, frag ? 20 : 500);
        argv[0] = "HSET", argv[1] = k2.p, argv[2] = hfields[f], argv[3] = v.p;
        lens[0] = 4, lens[1] = k2.len, lens[2] = strlen(hfields[f]), lens[3] = v.len;
        buf_printf(&e, ":%d\r\n", !cl->hhas[f]);
        send_cmd(cl, 4, argv, lens, X_EXACT, &e);
        buf_set(&cl->hval[f], v.p, v.len);
        cl->hhas[f] = 1;
    } else if (op < 66) { /* HGET */
        int f = (int)rnd(&cl->g, NFIELD);
        key(cl, &k2, "h", -1);
        if (cl->hhas[f])
            resp_bulk(&e, cl->hval[f].p, cl->hval[f].len);
        else
            buf_add(&e, "$-1\r\n", 5);
        send_simple(cl, X_EXACT, &e, 3, "HGET", k2.p, hfields[f]);
    } else if (op < 72) { /* LPUSH, or LTRIM when long */
        key(cl, &k2, "l", -1);
        if (cl->llen >= 30) {
            buf_add(&e, "+OK\r\n", 5);
            send_simple(cl, X_EXACT, &e, 4, "LTRIM", k2.p, "0", "4");
            for (int i = 5; i < cl->llen; i++)
                cl->list[i].len = 0;
            cl->llen = 5;
        } else {
            gen_value(cl, &v, frag ? 10 : 60);
            argv[0] = "LPUSH", argv[1] = k2.p, argv[2] = v.p;
            lens[0] = 5, lens[1] = k2.len, lens[2] = v.len;
            buf_printf(&e, ":%d\r\n", cl->llen + 1);
            send_cmd(cl, 3, argv, lens, X_EXACT, &e);
            buf tmp = cl->list[LMAX - 1];
            memmove(&cl->list[1], &cl->list[0], (LMAX - 1) * sizeof(buf));
            cl->list[0] = tmp;
            buf_set(&cl->list[0], v.p, v.len);
            cl->llen++;
        }
    } else if (op < 76) { /* LRANGE */
        key(cl, &k2, "l", -1);
        buf_printf(&e, "*%d\r\n", cl->llen);
        for (int i = 0; i < cl->llen; i++)
            resp_bulk(&e, cl->list[i].p, cl->list[i].len);
        send_simple(cl, X_EXACT, &e, 4, "LRANGE", k2.p, "0", "-1");
    } else if (op < 80) { /* MGET */
        int s3 = (int)rnd(&cl->g, NSLOT);
        buf k3 = {0};
        key(cl, &k2, "k", s2);
        key(cl, &k3, "k", s3);
        buf_add(&e, "*3\r\n", 4);
        exp_slot(&e, cl, s);
        exp_slot(&e, cl, s2);
        exp_slot(&e, cl, s3);
        send_simple(cl, X_EXACT, &e, 4, "MGET", k.p, k2.p, k3.p);
        buf_free(&k3);
    } else if (op < 83) { /* PING [message] */
        if (rnd(&cl->g, 2)) {
            buf_add(&e, "+PONG\r\n", 7);
            send_simple(cl, X_EXACT, &e, 1, "PING");
        } else {
            gen_value(cl, &v, 30);
            argv[0] = "PING", argv[1] = v.p;
            lens[0] = 4, lens[1] = v.len;
            resp_bulk(&e, v.p, v.len);
            send_cmd(cl, 2, argv, lens, X_EXACT, &e);
        }
    } else if (op < 86) { /* MSET */
        buf v2 = {0};
        key(cl, &k2, "k", s2);
        gen_value(cl, &v, value_max(cl) / 2);
        gen_value(cl, &v2, value_max(cl) / 2);
        argv[0] = "MSET", argv[1] = k.p, argv[2] = v.p, argv[3] = k2.p, argv[4] = v2.p;
        lens[0] = 4, lens[1] = k.len, lens[2] = v.len, lens[3] = k2.len, lens[4] = v2.len;
        buf_add(&e, "+OK\r\n", 5);
        send_cmd(cl, 5, argv, lens, X_EXACT, &e);
        buf_set(&cl->val[s], v.p, v.len);
        buf_set(&cl->val[s2], v2.p, v2.len); /* the same key twice: the last wins */
        cl->has[s] = cl->has[s2] = 1;
        buf_free(&v2);
    } else if (op < 89) { /* EVAL */
        gen_value(cl, &v, frag ? 20 : 300);
        uint32_t kind = rnd(&cl->g, 3);
        if (kind == 2) {
            /* Nested arrays, a null, a status and an error inside one. */
            argv[0] = "EVAL";
            argv[1] = "return {1, false, {ARGV[1], {}}, redis.status_reply('ok'), "
                      "redis.error_reply('ERR inner'), {{{-7}}}}";
            argv[2] = "0", argv[3] = v.p;
            lens[0] = 4, lens[1] = strlen(argv[1]), lens[2] = 1, lens[3] = v.len;
            buf_printf(&e, "*6\r\n:1\r\n$-1\r\n*2\r\n");
            resp_bulk(&e, v.p, v.len);
            buf_printf(&e, "*0\r\n+ok\r\n-ERR inner\r\n*1\r\n*1\r\n*1\r\n:-7\r\n");
            send_cmd(cl, 4, argv, lens, X_EXACT, &e);
        } else if (kind == 1) {
            argv[0] = "EVAL", argv[1] = "return ARGV[1]", argv[2] = "0", argv[3] = v.p;
            lens[0] = 4, lens[1] = strlen(argv[1]), lens[2] = 1, lens[3] = v.len;
            resp_bulk(&e, v.p, v.len);
            send_cmd(cl, 4, argv, lens, X_EXACT, &e);
        } else {
            argv[0] = "EVAL", argv[1] = "return {KEYS[1], ARGV[1]}", argv[2] = "1";
            argv[3] = k.p, argv[4] = v.p;
            lens[0] = 4, lens[1] = strlen(argv[1]), lens[2] = 1, lens[3] = k.len;
            lens[4] = v.len;
            buf_add(&e, "*2\r\n", 4);
            resp_bulk(&e, k.p, k.len);
            resp_bulk(&e, v.p, v.len);
            send_cmd(cl, 5, argv, lens, X_EXACT, &e);
        }
    } else if (op < 92) { /* ZADD / ZCARD */
        int m = (int)rnd(&cl->g, NZ);
        key(cl, &k2, "z", -1);
        if (rnd(&cl->g, 2)) {
            char score[32], member[32];
            snprintf(score, sizeof(score), "%u", rnd(&cl->g, 1000));
            snprintf(member, sizeof(member), "m%d", m);
            buf_printf(&e, ":%d\r\n", !(cl->zmask & (1u << m)));
            send_simple(cl, X_EXACT, &e, 4, "ZADD", k2.p, score, member);
            cl->zmask |= 1u << m;
        } else {
            buf_printf(&e, ":%d\r\n", __builtin_popcount(cl->zmask));
            send_simple(cl, X_EXACT, &e, 2, "ZCARD", k2.p);
        }
    } else if (op < 94) { /* EXPIRE (far away: the key stays) */
        buf_printf(&e, ":%d\r\n", cl->has[s]);
        send_simple(cl, X_EXACT, &e, 3, "EXPIRE", k.p, "100000");
    } else if (op < 96) { /* the big value */
        if (frag) {
            buf_add(&e, "+PONG\r\n", 7);
            send_simple(cl, X_EXACT, &e, 1, "PING");
        } else {
            buf_printf(&n1, "%s:big", opt_prefix);
            if (cl->db == 0) {
                send_simple(cl, X_BIG, NULL, 2, "GET", n1.p);
            } else {
                /* After SELECT 1: not there, unless shared by mistake. */
                buf_add(&e, "$-1\r\n", 5);
                send_simple(cl, X_EXACT, &e, 2, "GET", n1.p);
            }
        }
    } else if (cl->pinned && rnd(&cl->g, 2)) {
        /* Once pinned: the same connection all along. */
        if (cl->cls == CL_PIN && cl->pin_kind == PK_SETNAME && rnd(&cl->g, 2)) {
            char name[32];
            int nl = snprintf(name, sizeof(name), "muxc%d", cl->id);
            resp_bulk(&e, name, (size_t)nl);
            send_simple(cl, X_EXACT, &e, 2, "CLIENT", "GETNAME");
        } else {
            send_simple(cl, X_CLIENTID, NULL, 2, "CLIENT", "ID");
        }
    } else {
        exp_slot(&e, cl, s);
        send_simple(cl, X_EXACT, &e, 2, "GET", k.p);
    }
    buf_free(&k);
    buf_free(&k2);
    buf_free(&v);
    buf_free(&e);
    buf_free(&n1);
}

/* The command that needs a connection of its own. */
static void gen_pin(client *cl, int kind)
{
    buf e = {0}, k = {0}, v = {0};
    const char *argv[4];
    size_t lens[4];

    /* From this command on, nothing is shared, except after SELECT and
     * AUTH, which move the client to another shared connection (or, when
     * refused, leave it where it is). */
    cl->pinned = kind != PK_SELECT && kind != PK_AUTH;
    switch (kind) {
    case PK_SELECT:
        buf_add(&e, "+OK\r\n", 5);
        send_simple(cl, X_EXACT, &e, 2, "SELECT", "1");
        cl->db = 1;
        model_reset(cl);
        break;
    case PK_SETNAME: {
        char name[32];
        snprintf(name, sizeof(name), "muxc%d", cl->id);
        buf_add(&e, "+OK\r\n", 5);
        send_simple(cl, X_EXACT, &e, 3, "CLIENT", "SETNAME", name);
        break;
    }
    case PK_MULTI: {
        int s = (int)rnd(&cl->g, NSLOT);
        buf_add(&e, "+OK\r\n", 5);
        send_simple(cl, X_EXACT, &e, 1, "MULTI");
        key(cl, &k, "k", s);
        gen_value(cl, &v, value_max(cl));
        argv[0] = "SET", argv[1] = k.p, argv[2] = v.p;
        lens[0] = 3, lens[1] = k.len, lens[2] = v.len;
        e.len = 0;
        buf_add(&e, "+QUEUED\r\n", 9);
        send_cmd(cl, 3, argv, lens, X_EXACT, &e);
        key(cl, &k, "ctr", -1);
        send_simple(cl, X_EXACT, &e, 2, "INCR", k.p);
        buf_set(&cl->val[s], v.p, v.len);
        cl->has[s] = 1;
        e.len = 0;
        buf_printf(&e, "*2\r\n+OK\r\n:%lld\r\n", ++cl->ctr);
        send_simple(cl, X_EXACT, &e, 1, "EXEC");
        break;
    }
    case PK_INLINE: {
        /* Not multibulk: cannot be framed. */
        char line[64], *copy;
        int n = snprintf(line, sizeof(line), "ECHO inline%d\r\n", cl->id);
        buf_add(&cl->out, line, (size_t)n);
        resp_bulk(&e, line + 5, (size_t)n - 7); /* the argument, without CRLF */
        if ((copy = malloc(e.len)) == NULL)
            die_oom();
        memcpy(copy, e.p, e.len);
        q_push(cl, X_EXACT, copy, e.len, "inline ECHO");
        cl->sent++;
        break;
    }
    case PK_UNKNOWN: {
        char *pfx = strdup("ERR unknown command");
        if (pfx == NULL)
            die_oom();
        send_simple(cl, X_ERRPFX, NULL, 3, "MUXNOSUCHCOMMAND", "a", "b");
        cl->q[cl->qhead + cl->qlen - 1].resp = pfx;
        cl->q[cl->qhead + cl->qlen - 1].len = strlen(pfx);
        break;
    }
    case PK_BLPOP:
        key(cl, &k, "nolist", -1);
        buf_add(&e, "$-1\r\n", 5);
        send_simple(cl, X_EXACT, &e, 3, "BLPOP", k.p, "0.01");
        break;
    case PK_AUTH: {
        /* No password on the data nodes: an error, but no harm. */
        char *pfx = strdup("ERR");
        if (pfx == NULL)
            die_oom();
        send_simple(cl, X_ERRPFX, NULL, 2, "AUTH", "mux-no-such-password");
        cl->q[cl->qhead + cl->qlen - 1].resp = pfx;
        cl->q[cl->qhead + cl->qlen - 1].len = strlen(pfx);
        break;
    }
    }
    buf_free(&e);
    buf_free(&k);
    buf_free(&v);
}

/* A command bigger than the proxy's buffer: it cannot be framed whole. */
static void gen_huge(client *cl)
{
    buf k = {0}, e = {0};
    const char *argv[3];
    size_t lens[3];

    /* Who and when, at the front of the shared bytes. */
    snprintf(huge_value.p, 32, "c%d.r%d.huge|", cl->id, cl->round);
    key(cl, &k, "huge", -1);
    argv[0] = "SET", argv[1] = k.p, argv[2] = huge_value.p;
    lens[0] = 3, lens[1] = k.len, lens[2] = huge_value.len;
    buf_add(&e, "+OK\r\n", 5);
    cl->pinned = 1; /* the proxy cannot frame it: from here on, not shared */
    send_cmd(cl, 3, argv, lens, X_EXACT, &e);
    cl->has_huge = 1;
    /* Read it back at once, on the client's own connection. */
    e.len = 0;
    resp_bulk(&e, huge_value.p, huge_value.len);
    send_simple(cl, X_EXACT, &e, 2, "GET", k.p);
    buf_free(&k);
    buf_free(&e);
}

/* QUIT: +OK once every reply is in, then the end; what follows it in the
 * pipeline must not run (it would show on the master). The proxy answers
 * QUIT itself: it is neither shared nor pinned. */
static void gen_quit(client *cl)
{
    buf k = {0};
    char *cmd = NULL, *ok = strdup("+OK\r\n");
    int n = redisFormatCommand(&cmd, "QUIT");

    if (n < 0 || ok == NULL)
        die_oom();
    buf_add(&cl->out, cmd, (size_t)n);
    free(cmd);
    q_push(cl, X_EXACT, ok, 5, "QUIT");
    cl->sent++;
    cl->quit_sent = 1;
    if (cl->id % 2 == 0) {
        key(cl, &k, "afterquit", -1);
        n = redisFormatCommand(&cmd, "SET %s x", k.p);
        buf_add(&cl->out, cmd, (size_t)n);
        free(cmd);
        key(cl, &k, "ctr", -1);
        n = redisFormatCommand(&cmd, "INCR %s", k.p);
        buf_add(&cl->out, cmd, (size_t)n);
        free(cmd);
    }
    buf_free(&k);
}

static void gen_round(client *cl)
{
    int frag = cl->cls == CL_FRAG || cl->cls == CL_FRAGPIN;
    int n = 1 + (int)rnd(&cl->g, frag ? 4 : 12);
    int pin_at = -1, pin_kind = -1, huge_at = -1;

    if (!cl->pinned && cl->round == cl->pin_round) {
        switch (cl->cls) {
        case CL_BIG:
        case CL_PIN:
        case CL_FRAGPIN:
            if (n < 3)
                n = 3;
            pin_at = 1 + (int)rnd(&cl->g, (uint32_t)(n - 2)); /* something before and after */
            break;
        default:
            pin_at = 0;
        }
        if (cl->cls == CL_BIG || cl->cls == CL_BIGFIRST)
            huge_at = pin_at, pin_at = -1;
        else
            pin_kind = cl->cls == CL_PINFIRST ? PK_SELECT : cl->pin_kind;
    }
    if (cl->cls == CL_SLOW && (cl->round == 2 || cl->round == 5)) {
        /* More than the kernel buffers between the proxy and this client
         * hold: the shared connection must stall until it reads. */
        buf k = {0};
        buf_printf(&k, "%s:big", opt_prefix);
        for (int i = 0; i < 25; i++) {
            send_simple(cl, X_BIG, NULL, 2, "GET", k.p);
            gen_op(cl);
        }
        buf_free(&k);
    }
    for (int i = 0; i < n; i++) {
        if (i == pin_at) {
            if (cl->cls == CL_PINFIRST) {
                buf e = {0};
                buf_add(&e, "+OK\r\n", 5);
                send_simple(cl, X_EXACT, &e, 2, "SELECT", "0"); /* stays shared */
                buf_free(&e);
            } else {
                gen_pin(cl, pin_kind);
            }
        } else if (i == huge_at) {
            gen_huge(cl);
        } else {
            gen_op(cl);
        }
    }
    if (cl->cls == CL_QUIT && cl->round == opt_rounds - 1)
        gen_quit(cl);
    /* Sometimes the next round goes out before this one is answered. */
    cl->overlap = rnd(&cl->g, 3) == 0;
    cl->round++;
}

/* ------------------------------------------------------------------------
 * I/O
 * ------------------------------------------------------------------------ */

static int tcp_connect(int port, int rcvbuf, int timeout_ms)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    struct pollfd pfd;
    int err = 0;
    socklen_t elen = sizeof(err);

    if (fd == -1)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void report(client *cl, const expect *x, const char *why, const char *got, size_t gotlen)
{
    char a[160], b[160];

    if (reported++ >= 20)
        return;
    fprintf(stderr, "client %d round %d %s: %s\n  expected: %s\n  got:      %s\n", cl->id,
            x ? x->round : -1, x ? x->cmd : "?", why,
            x && x->resp ? excerpt(x->resp, x->len, a, sizeof(a)) : "(nothing)",
            got ? excerpt(got, gotlen, b, sizeof(b)) : "(nothing)");
}

static void check_reply(client *cl, redisReply *r)
{
    expect *x;
    int ok = 0;

    scratch.len = 0;
    resp_of_reply(&scratch, r);
    cl->replies++;
    if (cl->qlen == 0) {
        cl->mismatches++;
        report(cl, NULL, "a reply nothing was waiting for", scratch.p, scratch.len);
        return;
    }
    x = &cl->q[cl->qhead];
    switch (x->kind) {
    case X_EXACT:
    case X_BIG:
        ok = scratch.len == x->len && memcmp(scratch.p, x->resp, x->len) == 0;
        break;
    case X_ERRPFX:
        ok = r->type == REDIS_REPLY_ERROR && r->len >= x->len &&
             memcmp(r->str, x->resp, x->len) == 0;
        break;
    case X_CLIENTID:
        ok = r->type == REDIS_REPLY_INTEGER;
        if (ok && cl->have_id)
            ok = r->integer == cl->client_id;
        else if (ok) {
            cl->client_id = r->integer;
            cl->have_id = 1;
        }
        break;
    }
    if (!ok) {
        cl->mismatches++;
        if (r->type == REDIS_REPLY_ERROR)
            cl->errors++;
        report(cl, x, x->kind == X_CLIENTID ? "CLIENT ID changed" : "wrong reply", scratch.p,
               scratch.len);
    }
    if (x->kind != X_BIG)
        free(x->resp);
    cl->qhead++;
    if (--cl->qlen == 0)
        cl->qhead = 0;
}

static void client_fail(client *cl, const char *why)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s with %zu replies outstanding", why, cl->qlen);
    report(cl, cl->qlen ? &cl->q[cl->qhead] : NULL, msg, NULL, 0);
    cl->failed = 1;
    cl->done = 1;
    cl->errors++;
    if (cl->fd >= 0)
        close(cl->fd);
    cl->fd = -1;
}

static void client_write(client *cl)
{
    size_t n = cl->out.len - cl->out_pos;
    ssize_t w;

    if (cl->max_write && n > cl->max_write)
        n = 1 + rnd(&cl->io, (uint32_t)cl->max_write);
    w = send(cl->fd, cl->out.p + cl->out_pos, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            client_fail(cl, strerror(errno));
        return;
    }
    cl->out_pos += (size_t)w;
    if (cl->out_pos == cl->out.len)
        cl->out_pos = cl->out.len = 0;
}

static void client_read(client *cl)
{
    char data[65536];
    size_t want = sizeof(data);
    ssize_t n;
    void *reply;

    if (cl->max_read) {
        want = 1 + rnd(&cl->io, (uint32_t)cl->max_read);
        cl->next_read = now_ms() + 1;
    }
    n = recv(cl->fd, data, want, 0);
    if ((n == 0 || (n < 0 && errno == ECONNRESET)) && cl->quit_sent && cl->qlen == 0) {
        cl->eof_seen = 1; /* after QUIT's +OK: the end, as it should be */
        close(cl->fd);
        cl->fd = -1;
        return;
    }
    if (n == 0) {
        client_fail(cl, "connection closed");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            client_fail(cl, strerror(errno));
        return;
    }
    if (redisReaderFeed(cl->rd, data, (size_t)n) != REDIS_OK) {
        client_fail(cl, "reader");
        return;
    }
    for (;;) {
        reply = NULL;
        if (redisReaderGetReply(cl->rd, &reply) != REDIS_OK) {
            client_fail(cl, cl->rd->errstr[0] ? cl->rd->errstr : "protocol error");
            return;
        }
        if (reply == NULL)
            break;
        check_reply(cl, reply);
        freeReplyObject(reply);
    }
}

/* ------------------------------------------------------------------------
 * Setup and the final check, directly on the master
 * ------------------------------------------------------------------------ */

static redisContext *direct(int port)
{
    struct timeval tv = {10, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c == NULL || c->err) {
        fprintf(stderr, "mux-client: cannot connect to port %d: %s\n", port,
                c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* Compare one reply read on the master with the model; 1 when equal. */
static int final_cmp(client *cl, redisReply *r, const buf *exp, const char *what)
{
    int ok;

    scratch.len = 0;
    if (r)
        resp_of_reply(&scratch, r);
    ok = r && scratch.len == exp->len && memcmp(scratch.p, exp->p, exp->len) == 0;
    if (!ok) {
        expect x = {X_EXACT, exp->p, exp->len, what, -1};
        report(cl, &x, "differs on the master", r ? scratch.p : NULL, scratch.len);
    }
    freeReplyObject(r);
    return ok;
}

static long final_check(client *cls, int n, long *checked)
{
    redisContext *m = direct(opt_master_port);
    long bad = 0;
    buf k = {0}, e = {0};

    if (m == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        client *cl = &cls[i];
        redisReply *r;
        r = redisCommand(m, "SELECT %d", cl->db);
        freeReplyObject(r);
        for (int s = 0; s < NSLOT; s++) {
            key(cl, &k, "k", s);
            e.len = 0;
            exp_slot(&e, cl, s);
            bad += !final_cmp(cl, redisCommand(m, "GET %b", k.p, k.len), &e, "final GET");
            ++*checked;
        }
        key(cl, &k, "ctr", -1);
        e.len = 0;
        if (cl->ctr) {
            char num[32];
            int nl = snprintf(num, sizeof(num), "%lld", cl->ctr);
            resp_bulk(&e, num, (size_t)nl);
        } else {
            buf_add(&e, "$-1\r\n", 5);
        }
        bad += !final_cmp(cl, redisCommand(m, "GET %b", k.p, k.len), &e, "final counter");
        key(cl, &k, "h", -1);
        for (int f = 0; f < NFIELD; f++) {
            e.len = 0;
            if (cl->hhas[f])
                resp_bulk(&e, cl->hval[f].p, cl->hval[f].len);
            else
                buf_add(&e, "$-1\r\n", 5);
            bad += !final_cmp(cl, redisCommand(m, "HGET %b %s", k.p, k.len, hfields[f]), &e,
                              "final HGET");
        }
        key(cl, &k, "l", -1);
        e.len = 0;
        buf_printf(&e, "*%d\r\n", cl->llen);
        for (int j = 0; j < cl->llen; j++)
            resp_bulk(&e, cl->list[j].p, cl->list[j].len);
        bad += !final_cmp(cl, redisCommand(m, "LRANGE %b 0 -1", k.p, k.len), &e, "final LRANGE");
        key(cl, &k, "z", -1);
        e.len = 0;
        buf_printf(&e, ":%d\r\n", __builtin_popcount(cl->zmask));
        bad += !final_cmp(cl, redisCommand(m, "ZCARD %b", k.p, k.len), &e, "final ZCARD");
        if (cl->cls == CL_QUIT) {
            key(cl, &k, "afterquit", -1);
            e.len = 0;
            buf_add(&e, ":0\r\n", 4);
            bad += !final_cmp(cl, redisCommand(m, "EXISTS %b", k.p, k.len), &e,
                              "final EXISTS (SET after QUIT)");
            ++*checked;
        }
        if (cl->has_huge) {
            key(cl, &k, "huge", -1);
            r = redisCommand(m, "STRLEN %b", k.p, k.len);
            e.len = 0;
            buf_printf(&e, ":%zu\r\n", huge_value.len);
            bad += !final_cmp(cl, r, &e, "final STRLEN huge");
        }
        *checked += 3 + NFIELD + (cl->has_huge ? 1 : 0);
        if (m->err) {
            fprintf(stderr, "mux-client: master connection: %s\n", m->errstr);
            bad = -1;
            break;
        }
    }
    if (bad >= 0) {
        /* The big value itself is intact. */
        buf nk = {0};
        redisReply *r;
        buf_printf(&nk, "%s:big", opt_prefix);
        r = redisCommand(m, "SELECT 0");
        freeReplyObject(r);
        r = redisCommand(m, "GET %b", nk.p, nk.len);
        scratch.len = 0;
        if (r)
            resp_of_reply(&scratch, r);
        if (r == NULL || scratch.len != big_resp.len || memcmp(scratch.p, big_resp.p, big_resp.len))
            bad++;
        freeReplyObject(r);
        buf_free(&nk);
        ++*checked;
    }
    redisFree(m);
    buf_free(&k);
    buf_free(&e);
    return bad;
}

static int setup_big(void)
{
    redisContext *m = direct(opt_master_port);
    buf k = {0}, v = {0};
    redisReply *r;
    rng g;
    int ok;

    if (m == NULL)
        return -1;
    rng_seed(&g, opt_seed, 999999);
    buf_need(&v, opt_big_reply);
    for (size_t i = 0; i < opt_big_reply; i++) {
        char ch = (char)rnd(&g, 256);
        if (i % 97 == 0)
            ch = '\r';
        else if (i % 97 == 1)
            ch = '\n';
        buf_add(&v, &ch, 1);
    }
    buf_printf(&k, "%s:big", opt_prefix);
    r = redisCommand(m, "SET %b %b", k.p, k.len, v.p, v.len);
    ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    redisFree(m);
    resp_bulk(&big_resp, v.p, v.len);
    buf_free(&k);
    buf_free(&v);
    if (!ok)
        fprintf(stderr, "mux-client: cannot SET the big value on port %d\n", opt_master_port);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * run
 * ------------------------------------------------------------------------ */

static void client_free(client *cl)
{
    for (size_t i = 0; i < cl->qlen; i++)
        if (cl->q[cl->qhead + i].kind != X_BIG)
            free(cl->q[cl->qhead + i].resp);
    free(cl->q);
    if (cl->rd)
        redisReaderFree(cl->rd);
    if (cl->fd >= 0)
        close(cl->fd);
    buf_free(&cl->out);
    for (int i = 0; i < NSLOT; i++)
        buf_free(&cl->val[i]);
    for (int i = 0; i < NFIELD; i++)
        buf_free(&cl->hval[i]);
    for (int i = 0; i < LMAX; i++)
        buf_free(&cl->list[i]);
}

static void assign(client *cl, int id, int rounds)
{
    static const int pin_kinds[] = {PK_SELECT, PK_SETNAME, PK_MULTI, PK_INLINE,
                                    PK_UNKNOWN, PK_BLPOP,   PK_AUTH};
    int half = rounds / 2 > 1 ? rounds / 2 : 1;

    memset(cl, 0, sizeof(*cl));
    cl->id = id;
    cl->fd = -1;
    rng_seed(&cl->g, opt_seed, (uint64_t)id);
    rng_seed(&cl->io, opt_seed, (uint64_t)id + 100000);
    cl->pin_round = -1;
    if (id == 0) {
        cl->cls = CL_FRAG;
    } else if (id == 1) {
        cl->cls = CL_SLOW;
    } else if (id == 2) {
        cl->cls = CL_BIG;
    } else if (id == 3) {
        cl->cls = CL_BIGFIRST;
    } else if (id >= 4 && id <= 10) {
        cl->cls = CL_PIN;
        cl->pin_kind = pin_kinds[id - 4];
    } else if (id == 11) {
        cl->cls = CL_PINFIRST;
    } else if (id == 12) {
        cl->cls = CL_FRAGPIN;
        cl->pin_kind = PK_MULTI;
    } else if (id == 13 || id == 14) {
        cl->cls = CL_QUIT;
    } else {
        cl->cls = CL_SHARED;
    }
    if (cl->cls == CL_BIG || cl->cls == CL_PIN || cl->cls == CL_FRAGPIN)
        cl->pin_round = rounds > 1 ? 1 + (int)rnd(&cl->g, (uint32_t)half) : 0;
    if (cl->pin_round >= rounds)
        cl->pin_round = rounds - 1;
    if (cl->cls == CL_BIGFIRST || cl->cls == CL_PINFIRST)
        cl->pin_round = 0;
    if (cl->cls == CL_FRAG || cl->cls == CL_FRAGPIN)
        cl->max_write = 7;
    if (cl->cls == CL_SLOW)
        cl->max_read = 32768;
}

static int cmd_run(void)
{
    client *cls = calloc((size_t)opt_clients, sizeof(*cls));
    struct pollfd *pfd = calloc((size_t)opt_clients, sizeof(*pfd));
    int *pidx = calloc((size_t)opt_clients, sizeof(*pidx));
    int64_t start = now_ms(), quiet_ms = (int64_t)(opt_seconds * 1000);
    int64_t deadline = start + 10 * quiet_ms;
    long commands = 0, shared = 0, replies = 0, lost = 0, checked = 0, final_bad;
    int pinned_expected = 0, timed_out = 0, failed = 0, rounds_done = opt_rounds;

    if (cls == NULL || pfd == NULL || pidx == NULL)
        return 2;
    if (setup_big() == -1)
        return 2;
    buf_need(&huge_value, opt_big_cmd);
    for (size_t i = 0; i < opt_big_cmd; i++)
        huge_value.p[i] = (char)("0123456789\r\n$*abcdef"[i % 21]);
    huge_value.len = opt_big_cmd;
    for (int i = 0; i < opt_clients; i++) {
        client *cl = &cls[i];
        assign(cl, i, opt_rounds);
        cl->last_reply_ms = start;
        if (cl->cls != CL_SHARED && cl->cls != CL_FRAG && cl->cls != CL_SLOW &&
            cl->cls != CL_QUIT && cl->cls != CL_PINFIRST &&
            !(cl->cls == CL_PIN && (cl->pin_kind == PK_SELECT || cl->pin_kind == PK_AUTH)))
            pinned_expected++;
        cl->fd = tcp_connect(opt_port, cl->cls == CL_SLOW ? 32768 : 0, 5000);
        cl->rd = redisReaderCreate();
        if (cl->fd == -1 || cl->rd == NULL) {
            fprintf(stderr, "mux-client: client %d cannot connect to port %d: %s\n", i,
                    opt_port, strerror(errno));
            return 2;
        }
    }
    for (;;) {
        int np = 0, active = 0, frag_pending = 0, timeout = 100;
        int64_t t = now_ms();

        if (t >= deadline) {
            timed_out = 1;
            break;
        }
        for (int i = 0; i < opt_clients; i++) {
            client *cl = &cls[i];
            if (cl->done)
                continue;
            /* The next pipeline once this one is written (and answered,
             * unless the round said otherwise). */
            while (cl->out.len == 0 && cl->round < opt_rounds &&
                   (cl->qlen == 0 || (cl->overlap && cl->qlen < 48)))
                gen_round(cl);
            if (cl->round >= opt_rounds && cl->out.len == 0 && cl->qlen == 0 &&
                (!cl->quit_sent || cl->eof_seen)) {
                cl->done = 1;
                cl->done_ms = t - start;
                continue;
            }
            if (cl->qlen == 0)
                cl->last_reply_ms = t; /* not waiting for anything */
            else if (t - cl->last_reply_ms >= quiet_ms)
                timed_out = 1;
            active++;
            pfd[np].fd = cl->fd;
            pfd[np].events = (short)(cl->out.len ? POLLOUT : 0);
            if (cl->qlen && t < cl->next_read)
                timeout = 1; /* a slow reader's turn comes soon */
            else if (cl->qlen || cl->quit_sent)
                pfd[np].events |= POLLIN; /* replies, or the end after QUIT */
            pfd[np].revents = 0;
            if (cl->max_write && cl->out.len)
                frag_pending = 1;
            pidx[np++] = i;
        }
        if (active == 0 || timed_out)
            break;
        if (poll(pfd, (nfds_t)np, frag_pending ? 0 : timeout) < 0 && errno != EINTR) {
            perror("poll");
            return 2;
        }
        for (int j = 0; j < np; j++) {
            client *cl = &cls[pidx[j]];
            if (cl->done)
                continue;
            if (pfd[j].revents & (POLLIN | POLLERR | POLLHUP)) {
                long before = cl->replies;

                client_read(cl);
                if (cl->replies != before)
                    cl->last_reply_ms = now_ms();
            }
            if (!cl->done && cl->out.len && (pfd[j].revents & (POLLOUT | POLLERR)))
                client_write(cl);
        }
        if (frag_pending)
            usleep(150); /* let the proxy read each fragment on its own */
    }
    for (int i = 0; i < opt_clients; i++) {
        client *cl = &cls[i];
        if (cl->round < rounds_done && !cl->done)
            rounds_done = cl->round;
        if (timed_out && !cl->done) {
            char why[64];
            if (cl->qlen && now_ms() - cl->last_reply_ms >= quiet_ms)
                snprintf(why, sizeof(why), "no reply for %.0f s in round %d", opt_seconds,
                         cl->round - 1);
            else
                snprintf(why, sizeof(why), "timed out in round %d", cl->round - 1);
            client_fail(cl, why);
        }
        commands += cl->sent;
        shared += cl->shared;
        replies += cl->replies;
        lost += (long)cl->qlen;
        total_mismatches += cl->mismatches;
        total_errors += cl->errors;
        failed += cl->failed;
        if (opt_verbose)
            fprintf(stderr,
                    "client %d class %d%s%s: rounds %d sent %ld shared %ld replies %ld "
                    "mismatches %ld pin_round %d done_ms %lld\n",
                    cl->id, cl->cls, cl->cls == CL_PIN ? " " : "",
                    cl->cls == CL_PIN ? pk_names[cl->pin_kind] : "", cl->round, cl->sent,
                    cl->shared, cl->replies, cl->mismatches, cl->pin_round, (long long)cl->done_ms);
        if (cl->fd >= 0)
            close(cl->fd);
        cl->fd = -1;
    }
    final_bad = final_check(cls, opt_clients, &checked);
    for (int i = 0; i < opt_clients; i++)
        client_free(&cls[i]);
    free(cls);
    free(pfd);
    free(pidx);
    buf_free(&big_resp);
    buf_free(&huge_value);
    buf_free(&scratch);
    printf("clients=%d rounds=%d commands=%ld shared_commands=%ld replies=%ld mismatches=%ld "
           "errors=%ld lost=%ld failed_clients=%d timed_out=%d final_checked=%ld "
           "final_mismatches=%ld pinned_expected=%d elapsed_ms=%lld\n",
           opt_clients, opt_rounds, commands, shared, replies, total_mismatches, total_errors,
           lost, failed, timed_out, checked, final_bad, pinned_expected,
           (long long)(now_ms() - start));
    if (final_bad < 0)
        return 2;
    return total_mismatches == 0 && total_errors == 0 && lost == 0 && !failed && !timed_out &&
                   final_bad == 0 && replies == commands
               ? 0
               : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"master-port", required_argument, NULL, 'm'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"rounds", required_argument, NULL, 'r'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"prefix", required_argument, NULL, 'x'},
                                         {"big-command", required_argument, NULL, 'B'},
                                         {"big-reply", required_argument, NULL, 'b'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    const char *mode;
    int ch;

    if (argc < 2) {
        fprintf(stderr, "usage: mux-client run [options]\n");
        return 2;
    }
    mode = argv[1];
    optind = 2;
    snprintf(opt_prefix, sizeof(opt_prefix), "mux%d", (int)getpid());
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': opt_port = atoi(optarg); break;
        case 'm': opt_master_port = atoi(optarg); break;
        case 'c': opt_clients = atoi(optarg); break;
        case 'r': opt_rounds = atoi(optarg); break;
        case 's': opt_seconds = atof(optarg); break;
        case 'S': opt_seed = strtoull(optarg, NULL, 10); break;
        case 'x': snprintf(opt_prefix, sizeof(opt_prefix), "%s", optarg); break;
        case 'B': opt_big_cmd = strtoul(optarg, NULL, 10); break;
        case 'b': opt_big_reply = strtoul(optarg, NULL, 10); break;
        case 'v': opt_verbose = 1; break;
        default: return 2;
        }
    }
    if (opt_master_port == 0)
        opt_master_port = opt_port;
    if (opt_clients <= 0 || opt_clients > 10000 || opt_rounds <= 0 || opt_seconds <= 0 ||
        opt_big_cmd < 64 || opt_big_reply < 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "run"))
        return cmd_run();
    fprintf(stderr, "mux-client: unknown mode %s\n", mode);
    return 2;
}
