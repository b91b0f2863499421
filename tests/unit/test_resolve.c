/*
 * The resolver (resolve.c, cache.c, link.c above the seam) against a scripted
 * fake network installed with sn_transport_set(). Each fake node is keyed by
 * host:port and has a behaviour: refuse, time out connecting, not resolve,
 * never answer, answer garbage / a truncated / an oversized reply, or answer
 * each command it parses from the RESP the library sends with canned bytes.
 * Nodes count what they were asked, under a mutex (the single-flight test
 * drives the fake from several threads).
 *
 * Time is scripted too (sn_clock_set, sn_sleep_set): the clock moves only
 * when the fake network makes the library wait (a connect or command
 * timeout runs out) or the library pauses between tries, and then by
 * exactly that much. Nothing sleeps for real, and a test asserts how long a
 * resolution took to the millisecond.
 *
 * Over 800 lines: every test shares the scripted fake network above; split
 * by behaviour (ordering, errors, single flight) when it next grows.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "sentinel/hiredis.h"

/* ------------------------------------------------------------------------
 * Canned replies
 * ------------------------------------------------------------------------ */

#define ROLE_MASTER "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
#define ROLE_REPLICA                                                                        \
    "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n"
#define ROLE_SENTINEL "*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n"
#define NULL_BULK "$-1\r\n"
#define TRUNCATED_REPLY "*2\r\n$9\r\n127.0"
#define GARBAGE_REPLY "HTTP/1.1 400 Bad Request\r\n\r\n"
#define OVERSIZED_HEADER "$2000000\r\n"
#define OVERSIZED_LEN 2000000

/* ------------------------------------------------------------------------
 * The fake network
 * ------------------------------------------------------------------------ */

typedef enum open_behaviour {
    OPEN_ACCEPT = 0,
    OPEN_REFUSE,      /* nothing listening */
    OPEN_TIMEOUT,     /* SYN into the void */
    OPEN_UNRESOLVED,  /* the host name does not resolve */
} open_behaviour;

typedef enum reply_behaviour {
    REPLY_SCRIPTED = 0, /* answer each command from the script below */
    REPLY_SILENT,       /* accept, read, never answer */
    REPLY_GARBAGE,      /* answer non-AUTH commands with non-RESP bytes */
    REPLY_TRUNCATED,    /* half a reply, then close */
    REPLY_OVERSIZED,    /* a 2 MB bulk string, streamed */
} reply_behaviour;

#define MAX_NODES 16
#define MAX_CONNS 64
#define MAX_ROLES 16

typedef struct fake_node {
    char host[SENTINEL_HOST_MAX];
    int port;
    open_behaviour open;
    reply_behaviour reply;
    /* Sentinel script: the name it knows and its answer for it. */
    char knows[64];
    char master_reply[256];
    char sentinels_reply[4096];
    /* Data-node script: ROLE answers in order, the last one repeats. */
    const char *roles[MAX_ROLES];
    int nroles;
    /* Expected AUTH; pass NULL means no AUTH required (and AUTH is an error). */
    const char *user, *pass;
    int hold;     /* replies wait until net_release() (single-flight tests) */

    /* What it saw. */
    int opens, cmd_auth, auth_failed, cmd_get, cmd_sentinels, cmd_role, cmd_other;
    char last_user[64], last_pass[64];
    size_t oversized_sent;
} fake_node;

typedef struct fake_conn {
    int used;
    fake_node *node;
    char in[4096];
    size_t inlen;
    char out[8192];
    size_t outlen, outpos;
    int authed;
    int close_after_out;
    size_t oversize_left;
} fake_conn;

static pthread_mutex_t net_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t net_released = PTHREAD_COND_INITIALIZER;
static int released; /* under net_mu: held replies may go */
static fake_node nodes[MAX_NODES];
static int nnodes;
static fake_conn conns[MAX_CONNS];
static int refused_unknown; /* opens of addresses with no node */

static void net_reset(void)
{
    pthread_mutex_lock(&net_mu);
    memset(nodes, 0, sizeof(nodes));
    nnodes = 0;
    memset(conns, 0, sizeof(conns));
    refused_unknown = 0;
    released = 0;
    pthread_mutex_unlock(&net_mu);
}

/* ------------------------------------------------------------------------
 * The scripted clock
 * ------------------------------------------------------------------------ */

static _Atomic int64_t fake_now;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_now);
}

/* The library pauses (a backoff between tries): time passes, instantly. */
static void fake_sleep(int64_t ms)
{
    atomic_fetch_add(&fake_now, ms);
}

/* The network never answers: the caller waits out its deadline, and the
 * clock jumps there. */
static void wait_out(int64_t deadline_ms)
{
    int64_t end = deadline_ms;
    int64_t now = atomic_load(&fake_now);

    while (end > now && !atomic_compare_exchange_weak(&fake_now, &now, end))
        ;
}

/* Held replies may go (see fake_node.hold). */
static void net_release(void)
{
    pthread_mutex_lock(&net_mu);
    released = 1;
    pthread_cond_broadcast(&net_released);
    pthread_mutex_unlock(&net_mu);
}

/* A node with `hold` set keeps its replies until the test releases them:
 * the way to make several threads overlap without sleeping. Bounded in
 * real time so a broken test cannot hang (the caller then fails). */
static int wait_released(void)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&net_mu);
    while (!released && rc == 0)
        rc = pthread_cond_timedwait(&net_released, &net_mu, &ts);
    pthread_mutex_unlock(&net_mu);
    return released ? 0 : -1;
}

static fake_node *node_add(const char *host, int port)
{
    fake_node *n;

    assert_true(nnodes < MAX_NODES);
    n = &nodes[nnodes++];
    memset(n, 0, sizeof(*n));
    snprintf(n->host, sizeof(n->host), "%s", host);
    n->port = port;
    return n;
}

static fake_node *node_find(const char *host, int port)
{
    for (int i = 0; i < nnodes; i++)
        if (nodes[i].port == port && strcmp(nodes[i].host, host) == 0)
            return &nodes[i];
    return NULL;
}

/* A sentinel that knows "mymaster" at host:port. */
static fake_node *sentinel_node(const char *host, int port, const char *mhost, int mport)
{
    fake_node *n = node_add(host, port);
    char portstr[16];

    snprintf(n->knows, sizeof(n->knows), "mymaster");
    snprintf(portstr, sizeof(portstr), "%d", mport);
    snprintf(n->master_reply, sizeof(n->master_reply), "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
             strlen(mhost), mhost, strlen(portstr), portstr);
    return n;
}

/* A sentinel that knows no master at all: get-master-addr says null. */
static fake_node *clueless_sentinel(const char *host, int port)
{
    return node_add(host, port);
}

static fake_node *data_node(const char *host, int port, const char *role)
{
    fake_node *n = node_add(host, port);

    n->roles[0] = role;
    n->nroles = 1;
    return n;
}

/* SENTINEL sentinels reply listing the given peers, fields as Redis sends them. */
static void set_peers(fake_node *n, int count, const char *const *hosts, const int *ports)
{
    size_t len = 0;
    char *b = n->sentinels_reply;
    size_t cap = sizeof(n->sentinels_reply);

    len += (size_t)snprintf(b + len, cap - len, "*%d\r\n", count);
    for (int i = 0; i < count; i++) {
        char portstr[16], name[64];

        snprintf(portstr, sizeof(portstr), "%d", ports[i]);
        snprintf(name, sizeof(name), "%040d", i);
        len += (size_t)snprintf(b + len, cap - len,
                                "*10\r\n$4\r\nname\r\n$%zu\r\n%s\r\n"
                                "$2\r\nip\r\n$%zu\r\n%s\r\n"
                                "$4\r\nport\r\n$%zu\r\n%s\r\n"
                                "$5\r\nrunid\r\n$%zu\r\n%s\r\n"
                                "$5\r\nflags\r\n$8\r\nsentinel\r\n",
                                strlen(name), name, strlen(hosts[i]), hosts[i], strlen(portstr),
                                portstr, strlen(name), name);
        assert_true(len < cap);
    }
}

static void out_append(fake_conn *c, const char *s, size_t n)
{
    assert_true(c->outlen + n <= sizeof(c->out));
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
}

static void out_str(fake_conn *c, const char *s)
{
    out_append(c, s, strlen(s));
}

/* One parsed command. */
typedef struct cmd {
    int argc;
    char argv[8][256];
} cmd;

/* Parse one RESP array of bulk strings from the front of c->in; 1 when a
 * whole command was taken, 0 when more bytes are needed. */
static int take_command(fake_conn *c, cmd *out)
{
    const char *p = c->in, *end = c->in + c->inlen, *nl;
    long argc;

    if (c->inlen == 0)
        return 0;
    assert_int_equal(p[0], '*');
    if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
        return 0;
    argc = strtol(p + 1, NULL, 10);
    assert_true(argc >= 1 && argc <= 8);
    p = nl + 1;
    for (long i = 0; i < argc; i++) {
        long len;

        if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return 0;
        assert_int_equal(p[0], '$');
        len = strtol(p + 1, NULL, 10);
        assert_true(len >= 0 && len < 256);
        p = nl + 1;
        if (end - p < len + 2)
            return 0;
        memcpy(out->argv[i], p, (size_t)len);
        out->argv[i][len] = '\0';
        p += len + 2;
    }
    out->argc = (int)argc;
    memmove(c->in, p, (size_t)(end - p));
    c->inlen = (size_t)(end - p);
    return 1;
}

static void answer(fake_conn *c, const cmd *k)
{
    fake_node *n = c->node;

    if (strcasecmp(k->argv[0], "AUTH") == 0) {
        const char *user = k->argc == 3 ? k->argv[1] : "";
        const char *pass = k->argv[k->argc - 1];
        int ok;

        n->cmd_auth++;
        snprintf(n->last_user, sizeof(n->last_user), "%s", user);
        snprintf(n->last_pass, sizeof(n->last_pass), "%s", pass);
        if (n->pass == NULL) {
            n->auth_failed++;
            out_str(c, "-ERR AUTH <password> called without any password configured for "
                       "the default user. Are you sure your configuration is correct?\r\n");
            return;
        }
        ok = strcmp(pass, n->pass) == 0 &&
             (n->user ? k->argc == 3 && strcmp(user, n->user) == 0 : k->argc == 2);
        if (!ok) {
            n->auth_failed++;
            out_str(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
            return;
        }
        c->authed = 1;
        out_str(c, "+OK\r\n");
        return;
    }

    if (strcasecmp(k->argv[0], "SENTINEL") == 0 && k->argc == 3 &&
        strcasecmp(k->argv[1], "get-master-addr-by-name") == 0)
        n->cmd_get++;
    else if (strcasecmp(k->argv[0], "SENTINEL") == 0 && k->argc == 3 &&
             strcasecmp(k->argv[1], "sentinels") == 0)
        n->cmd_sentinels++;
    else if (strcasecmp(k->argv[0], "ROLE") == 0 && k->argc == 1)
        n->cmd_role++;
    else
        n->cmd_other++;

    if (n->pass != NULL && !c->authed) {
        out_str(c, "-NOAUTH Authentication required.\r\n");
        return;
    }
    switch (n->reply) {
    case REPLY_SILENT:
        return;
    case REPLY_GARBAGE:
        out_str(c, GARBAGE_REPLY);
        return;
    case REPLY_TRUNCATED:
        out_str(c, TRUNCATED_REPLY);
        c->close_after_out = 1;
        return;
    case REPLY_OVERSIZED:
        out_str(c, OVERSIZED_HEADER);
        c->oversize_left = OVERSIZED_LEN + 2;
        return;
    case REPLY_SCRIPTED:
        break;
    }
    if (strcasecmp(k->argv[0], "SENTINEL") == 0 && strcasecmp(k->argv[1], "sentinels") == 0) {
        out_str(c, n->sentinels_reply[0] ? n->sentinels_reply : "*0\r\n");
    } else if (strcasecmp(k->argv[0], "SENTINEL") == 0) {
        if (n->knows[0] && strcmp(k->argv[2], n->knows) == 0)
            out_str(c, n->master_reply);
        else
            out_str(c, NULL_BULK);
    } else if (strcasecmp(k->argv[0], "ROLE") == 0) {
        if (n->nroles == 0)
            out_str(c, "-ERR unknown command 'ROLE'\r\n");
        else
            out_str(c, n->roles[n->cmd_role - 1 < n->nroles ? n->cmd_role - 1 : n->nroles - 1]);
    } else {
        out_str(c, "-ERR unknown command\r\n");
    }
}

static int fake_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    fake_node *n;
    int h = -1;

    pthread_mutex_lock(&net_mu);
    n = node_find(host, port);
    if (n == NULL) {
        refused_unknown++;
        pthread_mutex_unlock(&net_mu);
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: Connection refused");
    }
    n->opens++;
    switch (n->open) {
    case OPEN_REFUSE:
        pthread_mutex_unlock(&net_mu);
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: Connection refused");
    case OPEN_UNRESOLVED:
        pthread_mutex_unlock(&net_mu);
        return sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve '%s'", host);
    case OPEN_TIMEOUT:
        pthread_mutex_unlock(&net_mu);
        wait_out(deadline_ms);
        return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "connect timed out");
    case OPEN_ACCEPT:
        break;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (!conns[i].used) {
            memset(&conns[i], 0, sizeof(conns[i]));
            conns[i].used = 1;
            conns[i].node = n;
            h = i;
            break;
        }
    pthread_mutex_unlock(&net_mu);
    assert_true(h >= 0);
    return h;
}

static ssize_t fake_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    fake_conn *c;
    cmd k;

    (void)deadline_ms;
    (void)e;
    pthread_mutex_lock(&net_mu);
    c = &conns[h];
    assert_true(c->used);
    assert_true(c->inlen + len <= sizeof(c->in));
    memcpy(c->in + c->inlen, buf, len);
    c->inlen += len;
    while (take_command(c, &k))
        answer(c, &k);
    pthread_mutex_unlock(&net_mu);
    return (ssize_t)len;
}

static ssize_t fake_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    fake_conn *c;
    size_t n;
    int hold;

    pthread_mutex_lock(&net_mu);
    c = &conns[h];
    assert_true(c->used);
    hold = c->node->hold;
    pthread_mutex_unlock(&net_mu);

    if (hold && wait_released() != 0)
        return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "the test never released the reply");

    pthread_mutex_lock(&net_mu);
    if (c->outpos < c->outlen) {
        n = c->outlen - c->outpos < cap ? c->outlen - c->outpos : cap;
        memcpy(buf, c->out + c->outpos, n);
        c->outpos += n;
        if (c->outpos == c->outlen)
            c->outpos = c->outlen = 0;
        pthread_mutex_unlock(&net_mu);
        return (ssize_t)n;
    }
    if (c->oversize_left > 0) {
        n = c->oversize_left < cap ? c->oversize_left : cap;
        memset(buf, 'x', n);
        c->oversize_left -= n;
        c->node->oversized_sent += n;
        pthread_mutex_unlock(&net_mu);
        return (ssize_t)n;
    }
    if (c->close_after_out) {
        pthread_mutex_unlock(&net_mu);
        return 0;
    }
    pthread_mutex_unlock(&net_mu);
    /* Nothing to say, ever: the caller's deadline decides. */
    wait_out(deadline_ms);
    return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "no reply in time");
}

static void fake_close(int h)
{
    pthread_mutex_lock(&net_mu);
    assert_true(conns[h].used);
    conns[h].used = 0;
    pthread_mutex_unlock(&net_mu);
}

static const sn_transport fake_transport = {
    .open = fake_open,
    .send = fake_send,
    .recv = fake_recv,
    .close = fake_close,
};

/* Everything the network saw, to prove a cache hit asked nothing. */
static int network_activity(void)
{
    int total = refused_unknown;

    for (int i = 0; i < nnodes; i++)
        total += nodes[i].opens + nodes[i].cmd_auth + nodes[i].cmd_get +
                 nodes[i].cmd_sentinels + nodes[i].cmd_role + nodes[i].cmd_other;
    return total;
}

static int open_connections(void)
{
    int n = 0;

    for (int i = 0; i < MAX_CONNS; i++)
        n += conns[i].used;
    return n;
}

/* ------------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------------ */

static sentinel_t *new_handle(const char *sentinels)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinels(s, sentinels), 0);
    /* Small timeouts and fast retries keep failures quick. */
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_CONNECT, 50), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 50), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 1000), 0);
    assert_int_equal(sentinel_set_retry(s, 5, 1, 2), 0);
    return s;
}

static sentinel_stats stats_of(const sentinel_t *s)
{
    sentinel_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    assert_int_equal(sentinel_get_stats(s, &st), 0);
    return st;
}

static void expect_sentinel_at(const sentinel_t *s, size_t i, const char *host, int port)
{
    char h[SENTINEL_HOST_MAX];
    int p = 0;

    assert_int_equal(sentinel_get_sentinel(s, i, h, sizeof(h), &p), 0);
    assert_string_equal(h, host);
    assert_int_equal(p, port);
}

static int has_sentinel(const sentinel_t *s, const char *host, int port)
{
    for (size_t i = 0; i < sentinel_sentinel_count(s); i++) {
        char h[SENTINEL_HOST_MAX];
        int p = 0;

        if (sentinel_get_sentinel(s, i, h, sizeof(h), &p) == 0 && p == port &&
            strcmp(h, host) == 0)
            return 1;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    net_reset();
    sn_transport_set(&fake_transport);
    atomic_store(&fake_now, 1000000);
    sn_clock_set(fake_clock);
    sn_sleep_set(fake_sleep);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_transport_set(NULL);
    sn_clock_set(NULL);
    sn_sleep_set(NULL);
    /* Every link the library opened was closed again. */
    assert_int_equal(open_connections(), 0);
    return 0;
}

#define S1 "127.0.0.1:26379"
#define S2 "127.0.0.1:26380"
#define S3 "127.0.0.1:26381"
#define THREE S1 "," S2 "," S3

/* ------------------------------------------------------------------------
 * 1. Order, head promotion, per-sentinel timeouts
 * ------------------------------------------------------------------------ */

static void test_sentinels_tried_in_order_and_answering_one_moves_to_head(void **state)
{
    fake_node *s1, *s2, *s3, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->open = OPEN_REFUSE;
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    s3 = sentinel_node("127.0.0.1", 26381, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 6379);
    assert_true(a.verified_at_ms > 0);
    assert_int_equal(s1->opens, 1);
    assert_int_equal(s1->cmd_get, 0);
    assert_int_equal(s2->cmd_get, 1);
    assert_int_equal(s3->opens, 0); /* never asked: the second one answered */
    assert_int_equal(m->cmd_role, 1);
    /* The one that answered is now first; the others keep their order. */
    expect_sentinel_at(s, 0, "127.0.0.1", 26380);
    expect_sentinel_at(s, 1, "127.0.0.1", 26379);
    expect_sentinel_at(s, 2, "127.0.0.1", 26381);

    /* The next resolution asks the new head first and the dead one not at all. */
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(s1->opens, 1);
    assert_int_equal(s2->cmd_get, 2);
    assert_int_equal(s3->opens, 0);
    sentinel_free(s);
}

static void test_connect_timeout_moves_to_next_sentinel(void **state)
{
    fake_node *s1, *s2;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1 "," S2);
    int64_t t0;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->open = OPEN_TIMEOUT;
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 5000), 0);

    t0 = sn_now_ms();
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    /* The per-sentinel connect timeout (50 ms), not the 5 s total, bounded
     * the wait; the second sentinel and the master answered at once. */
    assert_int_equal(sn_now_ms() - t0, 50);
    assert_int_equal(s1->opens, 1);
    assert_int_equal(s2->cmd_get, 1);
    expect_sentinel_at(s, 0, "127.0.0.1", 26380);
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 2. Distinct errors
 * ------------------------------------------------------------------------ */

static void test_null_reply_moves_to_next_sentinel(void **state)
{
    fake_node *s1, *s2;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1 "," S2);

    (void)state;
    s1 = clueless_sentinel("127.0.0.1", 26379);
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(s1->cmd_get, 1);
    assert_int_equal(s2->cmd_get, 1);
    expect_sentinel_at(s, 0, "127.0.0.1", 26380);
    assert_int_equal(stats_of(s).sentinel_failures, 1);
    sentinel_free(s);
}

static void test_unknown_name_everywhere_is_unknown_master_error(void **state)
{
    fake_node *n[3];
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE);

    (void)state;
    n[0] = clueless_sentinel("127.0.0.1", 26379);
    n[1] = clueless_sentinel("127.0.0.1", 26380);
    /* One that knows another master only. */
    n[2] = sentinel_node("127.0.0.1", 26381, "127.0.0.1", 6379);
    snprintf(n[2]->knows, sizeof(n[2]->knows), "othermaster");

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_UNKNOWN_MASTER);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_UNKNOWN_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "mymaster"));
    /* A configuration error: each asked once, no retry rounds. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(n[i]->cmd_get, 1);
    assert_int_equal(stats_of(s).errors, 1);
    sentinel_free(s);
}

static void test_no_sentinel_reachable_error(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE); /* S2 and S3 have no node: refused */

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->open = OPEN_REFUSE;
    assert_int_equal(sentinel_set_retry(s, 20, 1, 2), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    /* Retried once (sentinels may be restarting), not for all 20 tries nor
     * the whole total deadline: while no sentinel ever answered, a call
     * gets two rounds (resolve.c, SN_QUIET_ROUNDS). */
    assert_int_equal(s1->opens, 2);
    assert_int_equal(refused_unknown, 4);
    assert_non_null(strstr(sentinel_errstr(s), "no sentinel answered"));
    sentinel_free(s);
}

static void test_silent_sentinel_times_out_within_deadline(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);
    int64_t t0, took;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_SILENT;
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 20), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 200), 0);
    assert_int_equal(sentinel_set_retry(s, 100, 1, 2), 0);

    t0 = sn_now_ms();
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_TIMEOUT);
    took = sn_now_ms() - t0;
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_TIMEOUT);
    assert_true(s1->cmd_get >= 2); /* it did retry */
    /* It returned within the 200 ms total deadline, not after the 100 tries
     * (each costs a 20 ms command timeout: 2 s). */
    if (took > 200)
        fail_msg("resolution took %lld ms with a 200 ms total timeout", (long long)took);
    sentinel_free(s);
}

static void test_silent_sentinel_skipped_after_command_timeout(void **state)
{
    fake_node *s1, *s2;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1 "," S2);
    int64_t t0, took;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_SILENT; /* frozen (SIGSTOP): accepts, never answers */
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 5000), 0);

    t0 = sn_now_ms();
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    took = sn_now_ms() - t0;
    assert_int_equal(s1->cmd_get, 1);
    assert_int_equal(s2->cmd_get, 1);
    expect_sentinel_at(s, 0, "127.0.0.1", 26380);
    /* The 50 ms command timeout, not the 5 s total, bounded the wait. */
    assert_int_equal(took, 50);
    sentinel_free(s);
}

static void test_garbage_reply_is_protocol_error(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_GARBAGE;

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_PROTOCOL);
    assert_int_equal(s1->cmd_get, 1); /* not retried */
    sentinel_free(s);
}

static void test_garbage_from_one_sentinel_falls_through_to_next(void **state)
{
    fake_node *s1, *s2;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1 "," S2);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_GARBAGE;
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 1);
    assert_int_equal(s2->cmd_get, 1);
    sentinel_free(s);
}

static void test_truncated_reply_is_protocol_error(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_TRUNCATED;

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(sentinel_errstr(s), "mid-reply"));
    sentinel_free(s);
}

static void test_oversized_reply_is_protocol_error(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->reply = REPLY_OVERSIZED;
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 5000), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 10000), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_PROTOCOL);
    /* It stopped reading past its limit instead of taking all 2 MB. */
    assert_true(s1->oversized_sent > 0);
    assert_true(s1->oversized_sent < OVERSIZED_LEN);
    sentinel_free(s);
}

static void test_wrong_password_is_auth_error(void **state)
{
    fake_node *s1, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->pass = "right";
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_sentinel_auth(s, NULL, "hunter2-secret"), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    assert_int_equal(s1->cmd_auth, 1);
    assert_int_equal(s1->auth_failed, 1);
    assert_int_equal(s1->cmd_get, 0); /* nothing asked after a refused AUTH */
    assert_int_equal(m->opens, 0);
    /* The message never echoes the password. */
    assert_null(strstr(sentinel_errstr(s), "hunter2"));
    sentinel_free(s);
}

static void test_missing_sentinel_password_is_auth_error(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->pass = "right";

    /* No AUTH configured: the sentinel answers -NOAUTH. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    assert_int_equal(s1->cmd_auth, 0);
    assert_int_equal(s1->cmd_get, 1);
    sentinel_free(s);
}

static void test_data_node_auth_failure_is_auth_error(void **state)
{
    fake_node *s1, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    m->user = "duser";
    m->pass = "dpass";
    assert_int_equal(sentinel_set_data_auth(s, "duser", "nope"), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    assert_int_equal(m->auth_failed, 1);
    assert_int_equal(m->cmd_role, 0);
    assert_int_equal(s1->cmd_get, 1); /* not retried: credentials will not heal */
    sentinel_free(s);
}

static void test_unresolvable_host_error(void **state)
{
    fake_node *bad;
    sentinel_addr a;
    sentinel_t *s = new_handle("no-such-sentinel.invalid:26379");

    (void)state;
    bad = node_add("no-such-sentinel.invalid", 26379);
    bad->open = OPEN_UNRESOLVED;

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_HOST_UNRESOLVED);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_HOST_UNRESOLVED);
    assert_non_null(strstr(sentinel_errstr(s), "no-such-sentinel.invalid"));
    sentinel_free(s);
}

static void test_unresolvable_and_refused_is_no_sentinel_reachable(void **state)
{
    fake_node *bad;
    sentinel_addr a;
    sentinel_t *s = new_handle("no-such-sentinel.invalid:26379," S2);

    (void)state;
    bad = node_add("no-such-sentinel.invalid", 26379);
    bad->open = OPEN_UNRESOLVED;
    assert_int_equal(sentinel_set_retry(s, 1, 1, 1), 0);

    /* One name does not resolve, but the other is down: a network problem. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 3. ROLE verification with retries
 * ------------------------------------------------------------------------ */

static void test_role_verification_retries_until_master(void **state)
{
    enum { N = 3 };
    fake_node *s1, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_REPLICA);
    for (int i = 0; i < N; i++)
        m->roles[i] = ROLE_REPLICA;
    m->roles[N] = ROLE_MASTER;
    m->nroles = N + 1;
    assert_int_equal(sentinel_set_retry(s, 10, 1, 2), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(stats_of(s).role_checks, N + 1);
    assert_int_equal(m->cmd_role, N + 1);
    /* Each round asks the sentinels again: they may be mid-failover. */
    assert_int_equal(s1->cmd_get, N + 1);
    sentinel_free(s);
}

static void test_role_never_master_gives_not_master_after_tries(void **state)
{
    enum { TRIES = 4 };
    fake_node *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_REPLICA);
    assert_int_equal(sentinel_set_retry(s, TRIES, 1, 2), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(stats_of(s).role_checks, TRIES);
    assert_int_equal(m->cmd_role, TRIES);
    sentinel_free(s);
}

static void test_role_sentinel_answer_is_not_master(void **state)
{
    fake_node *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    /* A misconfigured sentinel that names itself (or another sentinel). */
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 26390);
    m = data_node("127.0.0.1", 26390, ROLE_SENTINEL);
    assert_int_equal(sentinel_set_retry(s, 2, 1, 2), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(m->cmd_role, 2);
    sentinel_free(s);
}

static void test_role_not_checked_when_verify_off(void **state)
{
    fake_node *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_REPLICA);
    assert_int_equal(sentinel_set_verify(s, 0), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(a.verified_at_ms, 0); /* unverified */
    assert_int_equal(m->opens, 0);
    assert_int_equal(stats_of(s).role_checks, 0);
    sentinel_free(s);
}

static void test_dead_master_is_master_unreachable(void **state)
{
    fake_node *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    m->open = OPEN_REFUSE;
    assert_int_equal(sentinel_set_retry(s, 3, 1, 2), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_MASTER_UNREACHABLE);
    assert_int_equal(m->opens, 3); /* retried: sentinels may not have noticed yet */
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 4. Cache, invalidation, reports
 * ------------------------------------------------------------------------ */

static void test_cache_served_until_ttl_then_refreshed(void **state)
{
    fake_node *s1;
    sentinel_addr a, b;
    sentinel_t *s = new_handle(S1), *t;
    int before;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    /* Default TTL: the second call asks nobody. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    before = network_activity();
    assert_int_equal(sentinel_resolve(s, 0, &b), SENTINEL_OK);
    assert_int_equal(network_activity(), before);
    assert_string_equal(b.host, a.host);
    assert_int_equal(b.port, a.port);
    assert_int_equal(b.verified_at_ms, a.verified_at_ms);
    assert_int_equal(stats_of(s).cache_hits, 1);
    assert_int_equal(s1->cmd_get, 1);

    /* NO_CACHE asks even when fresh. */
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &b), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 2);

    /* A 100 ms TTL: served from the cache for 99 ms, asked again at 100. */
    t = new_handle(S1);
    assert_int_equal(sentinel_set_cache_ttl(t, 100), 0);
    assert_int_equal(sentinel_resolve(t, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 3);
    fake_sleep(99);
    assert_int_equal(sentinel_resolve(t, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 3);
    assert_int_equal(stats_of(t).cache_hits, 1);
    fake_sleep(1);
    assert_int_equal(sentinel_resolve(t, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 4);
    assert_int_equal(stats_of(t).cache_hits, 1);
    sentinel_free(t);
    sentinel_free(s);
}

static void test_cache_kept_when_refresh_fails(void **state)
{
    fake_node *s1;
    sentinel_addr a, b;
    sentinel_t *s = new_handle(S1);

    (void)state;
    fake_node *m;

    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_retry(s, 1, 1, 1), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    /* Sentinel and master both gone: no last-known fallback either. */
    s1->open = OPEN_REFUSE;
    m->open = OPEN_REFUSE;
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &b),
                     SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    /* The failed refresh did not throw away the last good answer. */
    memset(&b, 0, sizeof(b));
    assert_int_equal(sentinel_resolve(s, 0, &b), SENTINEL_OK);
    assert_string_equal(b.host, a.host);
    assert_int_equal(b.port, a.port);
    assert_int_equal(sentinel_errcode(s), SENTINEL_OK);
    sentinel_free(s);
}

/* No sentinel answers: the last verified master is ROLE-checked again and
 * served, cached only briefly; never when it no longer says master. */
static void test_last_known_master_served_when_no_sentinel_answers(void **state)
{
    fake_node *s1, *m;
    sentinel_addr a, b;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_retry(s, 1, 1, 1), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    s1->open = OPEN_REFUSE;
    sentinel_invalidate(s);
    assert_int_equal(sentinel_resolve(s, 0, &b), SENTINEL_OK);
    assert_int_equal(b.port, a.port);
    assert_int_equal(stats_of(s).last_known_served, 1);
    /* Demoted meanwhile: not served. */
    m->roles[0] = ROLE_REPLICA;
    m->nroles = 1;
    sentinel_invalidate(s);
    assert_int_equal(sentinel_resolve(s, 0, &b), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(stats_of(s).last_known_served, 1);
    sentinel_free(s);
}

static void test_invalidate_forces_resolution(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 1);
    sentinel_invalidate(s);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 2);
    assert_int_equal(stats_of(s).invalidations, 1);
    sentinel_invalidate(NULL);
    sentinel_free(s);
}

static void test_report_readonly_invalidates(void **state)
{
    static char readonly[] = "READONLY You can't write against a read only replica.";
    static char masterdown[] = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
                               "is set to 'no'.";
    static char other_err[] = "ERR wrong number of arguments for 'set' command";
    static char ok[] = "OK";
    redisReply r;
    redisContext ctx;
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);

    /* A normal reply, and an error that says nothing about the role: kept. */
    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_STATUS;
    r.str = ok;
    r.len = strlen(ok);
    assert_int_equal(sentinel_report(s, NULL, &r), 0);
    r.type = REDIS_REPLY_ERROR;
    r.str = other_err;
    r.len = strlen(other_err);
    assert_int_equal(sentinel_report(s, NULL, &r), 0);
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(sentinel_report(s, &ctx, NULL), 0);
    assert_int_equal(sentinel_report(s, NULL, NULL), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 1);

    /* -READONLY: the cached master was demoted. */
    r.type = REDIS_REPLY_ERROR;
    r.str = readonly;
    r.len = strlen(readonly);
    assert_int_equal(sentinel_report(s, NULL, &r), 1);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 2);

    /* -MASTERDOWN likewise. */
    r.str = masterdown;
    r.len = strlen(masterdown);
    assert_int_equal(sentinel_report(s, NULL, &r), 1);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 3);

    /* A connection error on the master's context. */
    ctx.err = REDIS_ERR_EOF;
    assert_int_equal(sentinel_report(s, &ctx, NULL), 1);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 4);

    assert_int_equal(stats_of(s).invalidations, 3);
    assert_int_equal(sentinel_report(NULL, &ctx, &r), 0);
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 8. Discovery
 * ------------------------------------------------------------------------ */

static void test_discovery_learns_sentinels(void **state)
{
    static const char *const hosts[] = {"127.0.0.1", "127.0.0.1"};
    static const int ports[] = {26380, 26381};
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1), *off = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    set_peers(s1, 2, hosts, ports);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_sentinel_count(s), 1);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_sentinels, 1);
    assert_int_equal(sentinel_sentinel_count(s), 3);
    expect_sentinel_at(s, 0, "127.0.0.1", 26379);
    assert_true(has_sentinel(s, "127.0.0.1", 26380));
    assert_true(has_sentinel(s, "127.0.0.1", 26381));

    /* Within the discovery interval the list is not asked for again. */
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_get, 2);
    assert_int_equal(s1->cmd_sentinels, 1);

    /* After it, it is; the same answer adds no duplicates. */
    s->discovered_at_ms -= SN_DISCOVERY_INTERVAL_MS + 1;
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_sentinels, 2);
    assert_int_equal(sentinel_sentinel_count(s), 3);

    /* With discovery off the list is left alone and not even asked for. */
    assert_int_equal(sentinel_set_discovery(off, 0), 0);
    assert_int_equal(sentinel_resolve(off, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_sentinels, 2);
    assert_int_equal(sentinel_sentinel_count(off), 1);
    sentinel_free(off);
    sentinel_free(s);
}

static void test_discovery_failure_does_not_fail_resolution(void **state)
{
    fake_node *s1;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    snprintf(s1->sentinels_reply, sizeof(s1->sentinels_reply),
             "-NOPERM this user has no permissions to run the 'sentinel' command\r\n");
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_sentinels, 1);
    assert_int_equal(sentinel_sentinel_count(s), 1);
    assert_int_equal(sentinel_errcode(s), SENTINEL_OK);
    sentinel_free(s);
}

static void test_discovered_sentinel_used_when_seed_dies(void **state)
{
    static const char *const hosts[] = {"127.0.0.1"};
    static const int ports[] = {26380};
    fake_node *seed, *peer;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    seed = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    set_peers(seed, 1, hosts, ports);
    peer = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(peer->cmd_get, 0);
    assert_int_equal(sentinel_sentinel_count(s), 2);

    seed->open = OPEN_REFUSE; /* the only configured sentinel dies */
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(peer->cmd_get, 1);
    expect_sentinel_at(s, 0, "127.0.0.1", 26380);
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 9. Credentials, address map
 * ------------------------------------------------------------------------ */

static void test_separate_sentinel_and_data_credentials(void **state)
{
    static const char *const hosts[] = {"127.0.0.1"};
    static const int ports[] = {26380};
    fake_node *s1, *s2, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->user = "suser";
    s1->pass = "spass";
    set_peers(s1, 1, hosts, ports);
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    s2->user = "suser";
    s2->pass = "spass";
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    m->user = "duser";
    m->pass = "dpass";
    assert_int_equal(sentinel_set_sentinel_auth(s, "suser", "spass"), 0);
    assert_int_equal(sentinel_set_data_auth(s, "duser", "dpass"), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_auth, 1);
    assert_int_equal(s1->auth_failed, 0);
    assert_string_equal(s1->last_user, "suser");
    assert_string_equal(s1->last_pass, "spass");
    assert_int_equal(m->cmd_auth, 1);
    assert_int_equal(m->auth_failed, 0);
    assert_string_equal(m->last_user, "duser");
    assert_string_equal(m->last_pass, "dpass");
    assert_int_equal(m->cmd_role, 1);

    /* The discovered sentinel gets the sentinel credentials too. */
    s1->open = OPEN_REFUSE;
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(s2->cmd_auth, 1);
    assert_int_equal(s2->auth_failed, 0);
    assert_string_equal(s2->last_user, "suser");
    assert_int_equal(m->cmd_auth, 2);
    assert_string_equal(m->last_user, "duser");
    sentinel_free(s);
}

static void test_password_only_auth_sends_no_user(void **state)
{
    fake_node *s1, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->pass = "spass";
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_sentinel_auth(s, NULL, "spass"), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(s1->cmd_auth, 1);
    assert_string_equal(s1->last_user, "");
    /* No data credentials configured: the data node gets no AUTH. */
    assert_int_equal(m->cmd_auth, 0);
    sentinel_free(s);
}

static void test_address_map_applied_to_master_and_discovered_sentinels(void **state)
{
    static const char *const hosts[] = {"10.0.0.9"};
    static const int ports[] = {26390};
    fake_node *s1, *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1);

    (void)state;
    /* The sentinel announces container-internal addresses. */
    s1 = sentinel_node("127.0.0.1", 26379, "10.0.0.5", 6379);
    set_peers(s1, 1, hosts, ports);
    m = data_node("127.0.0.1", 16379, ROLE_MASTER);
    assert_int_equal(sentinel_add_address_maps(s, "10.0.0.5:6379=127.0.0.1:16379,"
                                                  "10.0.0.9=127.0.0.1"),
                     0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 16379);
    assert_int_equal(m->cmd_role, 1); /* ROLE went to the mapped address */
    assert_int_equal(refused_unknown, 0); /* nothing tried 10.0.0.5 */
    assert_int_equal(sentinel_sentinel_count(s), 2);
    assert_true(has_sentinel(s, "127.0.0.1", 26390)); /* 10.0.0.9, port kept */
    assert_false(has_sentinel(s, "10.0.0.9", 26390));
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 10. Quorum
 * ------------------------------------------------------------------------ */

static void test_quorum_requires_k_agreeing_sentinels(void **state)
{
    fake_node *n1, *n2, *n3;
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE);

    (void)state;
    n1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    n2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6380); /* stale view */
    n3 = sentinel_node("127.0.0.1", 26381, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    data_node("127.0.0.1", 6380, ROLE_MASTER);
    assert_int_equal(sentinel_set_quorum(s, 2), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(n1->cmd_get, 1);
    assert_int_equal(n2->cmd_get, 1);
    assert_int_equal(n3->cmd_get, 1);

    /* Quorum 1 (the default) takes the first answer and stops there. */
    n1->cmd_get = n2->cmd_get = n3->cmd_get = 0;
    assert_int_equal(sentinel_set_quorum(s, 0), 0);
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(n1->cmd_get + n2->cmd_get + n3->cmd_get, 1);
    sentinel_free(s);
}

static void test_quorum_stops_once_reached(void **state)
{
    fake_node *n3;
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE);

    (void)state;
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    n3 = sentinel_node("127.0.0.1", 26381, "127.0.0.1", 6380);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_quorum(s, 2), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(n3->opens, 0);
    sentinel_free(s);
}

static void test_quorum_disagreement_is_no_quorum_error(void **state)
{
    fake_node *m;
    sentinel_addr a;
    sentinel_t *s = new_handle(THREE);

    (void)state;
    sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6380);
    sentinel_node("127.0.0.1", 26381, "127.0.0.1", 6381);
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);
    assert_int_equal(sentinel_set_quorum(s, 2), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NO_QUORUM);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NO_QUORUM);
    assert_int_equal(m->opens, 0); /* nothing verified or trusted */
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * 7. Single flight
 * ------------------------------------------------------------------------ */

typedef struct worker {
    pthread_barrier_t *go;
    const char *sentinel_password; /* NULL: none */
    int code;
    sentinel_addr addr;
    sentinel_stats stats;
    int source; /* sentinel_last_source() after the resolution */
} worker;

static void *resolve_thread(void *arg)
{
    worker *w = arg;
    sentinel_t *s = sentinel_new("mymaster", NULL);

    /* No cmocka asserts off the main thread: record, check after join. */
    w->code = -1;
    if (s == NULL || sentinel_add_sentinels(s, S1) != 0 ||
        (w->sentinel_password != NULL &&
         sentinel_set_sentinel_auth(s, NULL, w->sentinel_password) != 0) ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 3000) != 0 ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 1000) != 0) {
        pthread_barrier_wait(w->go);
        sentinel_free(s);
        return NULL;
    }
    pthread_barrier_wait(w->go);
    w->code = sentinel_resolve(s, 0, &w->addr);
    w->source = sentinel_last_source(s);
    w->stats.size = sizeof(w->stats);
    sentinel_get_stats(s, &w->stats);
    sentinel_free(s);
    return NULL;
}

/* Real monotonic ms: only to bound the wait below, never asserted on. */
static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the workers; once `waiting` of them wait for another's answer (or
 * after 5 s of real time, when single flight is broken), release the held
 * replies and join them. Returns how many were waiting at the release. */
static int run_workers(worker *w, int n, int waiting)
{
    pthread_t th[8];
    pthread_barrier_t go;
    int64_t give_up = real_ms() + 5000;
    int seen = 0;

    assert_true(n <= 8);
    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        w[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, resolve_thread, &w[i]), 0);
    }
    /* A readiness condition, polled: bounded in count and in time. */
    for (int i = 0; i < 5000 && (seen = sn_flight_waiters()) < waiting && real_ms() < give_up;
         i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    net_release();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    return seen;
}

static void test_single_flight_one_resolution_for_many_threads(void **state)
{
    enum { THREADS = 4 };
    worker w[THREADS];
    fake_node *s1, *m;
    uint64_t waits = 0, gets, roles;
    int waiting, joined = 0, asked = 0;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->hold = 1; /* the first asker's answer waits until all overlap */
    m = data_node("127.0.0.1", 6379, ROLE_MASTER);

    memset(w, 0, sizeof(w));
    waiting = run_workers(w, THREADS, THREADS - 1);

    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].code, SENTINEL_OK);
        assert_string_equal(w[i].addr.host, "127.0.0.1");
        assert_int_equal(w[i].addr.port, 6379);
        waits += w[i].stats.shared_waits;
        joined += w[i].source == SENTINEL_SOURCE_JOINED;
        asked += w[i].source == SENTINEL_SOURCE_SENTINEL;
    }
    /* Read under the lock, assert after it: a failed assertion must not
     * leave net_mu held (the next test would hang on it, not fail). */
    pthread_mutex_lock(&net_mu);
    gets = (uint64_t)s1->cmd_get;
    roles = (uint64_t)m->cmd_role;
    pthread_mutex_unlock(&net_mu);
    /* One asked (sentinel and ROLE once), the three others waited for it. */
    assert_int_equal(waiting, THREADS - 1);
    assert_int_equal(gets, 1);
    assert_int_equal(roles, 1);
    assert_int_equal(waits, THREADS - 1);
    /* And each says so (sentinel_last_source()). */
    assert_int_equal(asked, 1);
    assert_int_equal(joined, THREADS - 1);
}

/* Handles that differ only in their sentinel password never share a
 * resolution: each gets the answer (or the AUTH error) its own credentials
 * earn. With a shared flight, whichever group started first would hand its
 * result to the other. */
static void test_single_flight_not_shared_across_sentinel_credentials(void **state)
{
    enum { THREADS = 4 };
    worker w[THREADS];
    fake_node *s1;
    int refused;

    (void)state;
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s1->pass = "right";
    s1->hold = 1; /* both groups' first askers wait until all overlap */
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++)
        w[i].sentinel_password = (i % 2 == 0) ? "right" : "wrong";
    /* One waiter per password (two flights); with one shared flight three
     * would wait, which releases the replies too and fails below. */
    run_workers(w, THREADS, THREADS / 2);

    for (int i = 0; i < THREADS; i++) {
        if (i % 2 == 0) {
            assert_int_equal(w[i].code, SENTINEL_OK);
            assert_int_equal(w[i].addr.port, 6379);
        } else {
            assert_int_equal(w[i].code, SENTINEL_ERR_AUTH);
        }
    }
    /* The wrong password was tried and refused (the two wrong-password
     * handles may share one attempt: their credentials are the same). */
    pthread_mutex_lock(&net_mu);
    refused = s1->auth_failed;
    pthread_mutex_unlock(&net_mu);
    assert_true(refused >= 1);
}

static void test_single_flight_not_shared_across_sentinel_sets(void **state)
{
    fake_node *s1, *s2;
    sentinel_addr a;
    sentinel_t *x = new_handle(S1), *y = new_handle(S2);

    (void)state;
    /* Two clusters that both call their master "mymaster". */
    s1 = sentinel_node("127.0.0.1", 26379, "127.0.0.1", 6379);
    s2 = sentinel_node("127.0.0.1", 26380, "127.0.0.1", 7379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);
    data_node("127.0.0.1", 7379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(x, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6379);
    assert_int_equal(sentinel_resolve(y, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, 7379);
    assert_int_equal(s1->cmd_get, 1);
    assert_int_equal(s2->cmd_get, 1);
    sentinel_free(x);
    sentinel_free(y);
}

/* ------------------------------------------------------------------------
 * Arguments and statistics
 * ------------------------------------------------------------------------ */

static void test_resolve_bad_arguments(void **state)
{
    sentinel_addr a;
    sentinel_t *s = sentinel_new("mymaster", NULL);

    (void)state;
    assert_int_equal(sentinel_resolve(NULL, 0, &a), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_resolve(s, 0, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    /* No sentinels configured: a clear error, not a hang. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(network_activity(), 0);
    sentinel_free(s);
}

static void test_stats_count_queries_and_failures(void **state)
{
    sentinel_stats st;
    sentinel_addr a;
    sentinel_t *s = new_handle(S1 "," S2);

    (void)state;
    clueless_sentinel("127.0.0.1", 26379);
    sentinel_node("127.0.0.1", 26380, "127.0.0.1", 6379);
    data_node("127.0.0.1", 6379, ROLE_MASTER);

    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    st = stats_of(s);
    assert_int_equal(st.resolutions, 2);
    assert_int_equal(st.cache_hits, 1);
    /* get on S1 (null), get + SENTINEL sentinels on S2 */
    assert_int_equal(st.sentinel_queries, 3);
    assert_int_equal(st.sentinel_failures, 1);
    assert_int_equal(st.role_checks, 1);
    assert_int_equal(st.errors, 0);
    sentinel_free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sentinels_tried_in_order_and_answering_one_moves_to_head),
        T(test_connect_timeout_moves_to_next_sentinel),
        T(test_null_reply_moves_to_next_sentinel),
        T(test_unknown_name_everywhere_is_unknown_master_error),
        T(test_no_sentinel_reachable_error),
        T(test_silent_sentinel_times_out_within_deadline),
        T(test_silent_sentinel_skipped_after_command_timeout),
        T(test_garbage_reply_is_protocol_error),
        T(test_garbage_from_one_sentinel_falls_through_to_next),
        T(test_truncated_reply_is_protocol_error),
        T(test_oversized_reply_is_protocol_error),
        T(test_wrong_password_is_auth_error),
        T(test_missing_sentinel_password_is_auth_error),
        T(test_data_node_auth_failure_is_auth_error),
        T(test_unresolvable_host_error),
        T(test_unresolvable_and_refused_is_no_sentinel_reachable),
        T(test_role_verification_retries_until_master),
        T(test_role_never_master_gives_not_master_after_tries),
        T(test_role_sentinel_answer_is_not_master),
        T(test_role_not_checked_when_verify_off),
        T(test_dead_master_is_master_unreachable),
        T(test_cache_served_until_ttl_then_refreshed),
        T(test_cache_kept_when_refresh_fails),
        T(test_last_known_master_served_when_no_sentinel_answers),
        T(test_invalidate_forces_resolution),
        T(test_report_readonly_invalidates),
        T(test_discovery_learns_sentinels),
        T(test_discovery_failure_does_not_fail_resolution),
        T(test_discovered_sentinel_used_when_seed_dies),
        T(test_separate_sentinel_and_data_credentials),
        T(test_password_only_auth_sends_no_user),
        T(test_address_map_applied_to_master_and_discovered_sentinels),
        T(test_quorum_requires_k_agreeing_sentinels),
        T(test_quorum_stops_once_reached),
        T(test_quorum_disagreement_is_no_quorum_error),
        T(test_single_flight_one_resolution_for_many_threads),
        T(test_single_flight_not_shared_across_sentinel_sets),
        T(test_single_flight_not_shared_across_sentinel_credentials),
        T(test_resolve_bad_arguments),
        T(test_stats_count_queries_and_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
