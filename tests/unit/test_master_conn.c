/*
 * The verified master connection (master_conn.c over resolve.c's
 * sn_connect_verified()) and the resolver's error across rounds, against a
 * small scripted network (sn_transport_set) and clock (sn_clock_set,
 * sn_sleep_set): one sentinel, one data node, plaintext. Time moves only
 * when the library waits (a reply that never comes: the clock jumps to the
 * deadline) or backs off. TLS over a real topology: tests/tls/test_tls_conn.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sentinel/hiredis.h"

#define ROLE_MASTER "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
#define ROLE_REPLICA "*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.9\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n"
#define MASTER_ADDR "*2\r\n$8\r\n10.0.0.2\r\n$4\r\n6379\r\n"

/* ------------------------------------------------------------------------
 * The scripted network: a sentinel at 10.0.0.1:26379 naming 10.0.0.2:6379
 * ------------------------------------------------------------------------ */

static struct {
    const char *role;  /* what the data node answers to ROLE */
    int sentinel_answers; /* get-master-addr answers before it falls silent; -1 always */
    int gets, roles, opens;
} net;

typedef struct fconn {
    int used, data, closed;
    char out[4096];
    size_t outlen, outpos;
} fconn;

static fconn conns[16];
static int64_t now;

static int64_t fake_clock(void)
{
    return now;
}

static void fake_sleep(int64_t ms)
{
    now += ms;
}

static int fake_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    (void)deadline_ms;
    net.opens++;
    for (int h = 0; h < 16; h++)
        if (!conns[h].used) {
            memset(&conns[h], 0, sizeof(conns[h]));
            conns[h].used = 1;
            conns[h].data = port == 6379 && strcmp(host, "10.0.0.2") == 0;
            if (!conns[h].data && (port != 26379 || strcmp(host, "10.0.0.1") != 0)) {
                conns[h].used = 0;
                return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connection refused");
            }
            return h;
        }
    return sn_err_set(e, SENTINEL_ERR_SYSTEM, "fake: no free connection");
}

static void say(fconn *c, const char *s)
{
    size_t n = strlen(s);

    assert_true(c->outlen + n <= sizeof(c->out));
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
}

/* Commands are recognised by a word in their RESP bytes: each send of the
 * library carries one whole command. */
static ssize_t fake_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    fconn *c = &conns[h];
    char cmd[512];

    (void)deadline_ms, (void)e;
    snprintf(cmd, sizeof(cmd), "%.*s", (int)len, (const char *)buf);
    if (strstr(cmd, "get-master-addr-by-name")) {
        net.gets++;
        if (net.sentinel_answers != 0) {
            if (net.sentinel_answers > 0)
                net.sentinel_answers--;
            say(c, MASTER_ADDR);
        }
    } else if (strstr(cmd, "sentinels")) {
        say(c, "*0\r\n");
    } else if (strstr(cmd, "ROLE")) {
        net.roles++;
        say(c, net.role);
    } else if (strstr(cmd, "PING")) {
        say(c, "+PONG\r\n");
    } else if (strstr(cmd, "QUIT")) {
        say(c, "+OK\r\n");
        c->closed = 1;
    }
    return (ssize_t)len;
}

static ssize_t fake_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    fconn *c = &conns[h];
    size_t n;

    if (c->outpos < c->outlen) {
        n = c->outlen - c->outpos < cap ? c->outlen - c->outpos : cap;
        memcpy(buf, c->out + c->outpos, n);
        c->outpos += n;
        return (ssize_t)n;
    }
    if (c->closed)
        return 0;
    if (deadline_ms > now)
        now = deadline_ms; /* nothing comes: the caller waits out its deadline */
    return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "no reply in time");
}

static void fake_close(int h)
{
    assert_true(conns[h].used);
    conns[h].used = 0;
}

static const sn_transport fake = {
    .open = fake_open, .send = fake_send, .recv = fake_recv, .close = fake_close,
};

static int open_conns(void)
{
    int n = 0;

    for (int h = 0; h < 16; h++)
        n += conns[h].used;
    return n;
}

static int setup(void **state)
{
    (void)state;
    memset(&net, 0, sizeof(net));
    memset(conns, 0, sizeof(conns));
    net.role = ROLE_MASTER;
    net.sentinel_answers = -1;
    now = 1000000;
    sn_transport_set(&fake);
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
    return 0;
}

static sentinel_t *handle(void)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "10.0.0.1", 26379), SENTINEL_OK);
    return s;
}

/* ------------------------------------------------------------------------
 * The connection
 * ------------------------------------------------------------------------ */

static void test_conn_verified_and_moves_bytes(void **state)
{
    sentinel_t *s = handle();
    sentinel_conn_t *c = NULL;
    sentinel_addr a;
    const char *ping[] = {"PING"};
    redisReply *r = NULL;
    char buf[32];
    size_t n = 5;

    (void)state;
    assert_int_equal(sentinel_connect_master_conn(s, &c, &a), SENTINEL_OK);
    assert_non_null(c);
    assert_string_equal(a.host, "10.0.0.2");
    assert_int_equal(a.port, 6379);
    /* ROLE by the resolution, then again on the connection handed out */
    assert_int_equal(net.roles, 2);
    assert_int_equal(open_conns(), 1);
    assert_int_equal(sentinel_conn_is_tls(c), 0);
    assert_int_equal(sentinel_conn_pending(c), 0);
    assert_true(conns[sentinel_conn_fd(c)].data);
    sentinel_free(s); /* the connection does not need the handle */

    assert_int_equal(sentinel_conn_command_argv(c, 1, ping, NULL, &r), SENTINEL_OK);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_string_equal(r->str, "PONG");
    freeReplyObject(r);

    /* Nothing to read: a timeout at the connection's timeout, exactly. */
    assert_int_equal(sentinel_conn_set_timeout(c, 86400001), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_conn_set_timeout(c, 40), SENTINEL_OK);
    int64_t t0 = now;
    assert_int_equal(sentinel_conn_read(c, buf, sizeof(buf), &n), SENTINEL_ERR_TIMEOUT);
    assert_int_equal(n, 0);
    assert_int_equal(now - t0, 40);
    assert_non_null(strstr(sentinel_conn_errstr(c), "no reply"));
    /* A half-read stream is not reused. */
    assert_int_equal(sentinel_conn_write(c, "PING\r\n", 6), SENTINEL_ERR_MASTER_UNREACHABLE);
    sentinel_conn_free(c);
    assert_int_equal(open_conns(), 0);
}

static void test_conn_master_closing_is_unreachable(void **state)
{
    sentinel_t *s = handle();
    sentinel_conn_t *c = NULL;
    char buf[32];
    size_t n = 0;

    (void)state;
    assert_int_equal(sentinel_connect_master_conn(s, &c, NULL), SENTINEL_OK);
    assert_int_equal(sentinel_conn_write(c, "*1\r\n$4\r\nQUIT\r\n", 14), SENTINEL_OK);
    assert_int_equal(sentinel_conn_read(c, buf, sizeof(buf), &n), SENTINEL_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "+OK\r\n", 5);
    assert_int_equal(sentinel_conn_read(c, buf, sizeof(buf), &n), SENTINEL_ERR_MASTER_UNREACHABLE);
    assert_int_equal(n, 0);
    assert_non_null(strstr(sentinel_conn_errstr(c), "closed"));
    sentinel_conn_free(c);
    sentinel_free(s);
}

static void test_conn_replica_is_not_master(void **state)
{
    sentinel_t *s = handle();
    sentinel_conn_t *c = (sentinel_conn_t *)s; /* must come back NULL */

    (void)state;
    net.role = ROLE_REPLICA;
    assert_int_equal(sentinel_set_retry(s, 3, 10, 10), SENTINEL_OK);
    assert_int_equal(sentinel_connect_master_conn(s, &c, NULL), SENTINEL_ERR_NOT_MASTER);
    assert_null(c);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NOT_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "replica"));
    assert_int_equal(open_conns(), 0);
    sentinel_free(s);
}

/* The cached answer said master; the node has been demoted since: the ROLE
 * check on the connection itself refuses to hand it out. */
static void test_conn_checks_role_on_its_own_connection(void **state)
{
    sentinel_t *s = handle();
    sentinel_conn_t *c = NULL;
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    net.role = ROLE_REPLICA;
    assert_int_equal(sentinel_set_retry(s, 1, 10, 10), SENTINEL_OK);
    assert_int_equal(sentinel_connect_master_conn(s, &c, NULL), SENTINEL_ERR_NOT_MASTER);
    assert_null(c);
    assert_int_equal(net.gets, 1); /* the cache answered: only the connection asked ROLE */
    assert_int_equal(open_conns(), 0);
    sentinel_free(s);
}

static void test_conn_bad_arguments(void **state)
{
    sentinel_t *s = handle();
    sentinel_conn_t *c = NULL;
    size_t n = 3;
    char buf[4];

    (void)state;
    assert_int_equal(sentinel_connect_master_conn(NULL, &c, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_connect_master_conn(s, NULL, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(net.opens, 0);
    assert_int_equal(sentinel_conn_write(NULL, "x", 1), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_conn_read(NULL, buf, sizeof(buf), &n), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(n, 0);
    assert_int_equal(sentinel_conn_set_timeout(NULL, 10), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_conn_fd(NULL), -1);
    assert_string_equal(sentinel_conn_errstr(NULL), "");
    sentinel_conn_free(NULL);
    assert_int_equal(sentinel_connect_master_conn(s, &c, NULL), SENTINEL_OK);
    assert_int_equal(sentinel_conn_read(c, buf, 0, &n), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_conn_write(c, NULL, 1), SENTINEL_ERR_INVALID_ARGUMENT);
    sentinel_conn_free(c);
    sentinel_free(s);
}

/* ------------------------------------------------------------------------
 * The error across rounds
 * ------------------------------------------------------------------------ */

/* Round 1 ran to its end: the sentinel named a replica. Round 2 was cut by
 * the total deadline (the sentinel fell silent): the caller learns why the
 * resolver kept trying (a replica), not that the last round had no time. */
static void test_cut_round_keeps_last_completed_failure(void **state)
{
    sentinel_t *s = handle();
    sentinel_addr a;

    (void)state;
    net.role = ROLE_REPLICA;
    net.sentinel_answers = 1;
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 250), SENTINEL_OK);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 200), SENTINEL_OK);
    assert_int_equal(sentinel_set_retry(s, 20, 10, 10), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(net.gets, 2);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NOT_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "ROLE says replica"));
    assert_non_null(strstr(sentinel_errstr(s), "gave up after 2 tries"));
    sentinel_free(s);
}

/* A round that ran to its end with another failure is the one reported. */
static void test_completed_round_reports_its_own_failure(void **state)
{
    sentinel_t *s = handle();
    sentinel_addr a;

    (void)state;
    net.role = ROLE_REPLICA;
    net.sentinel_answers = 1;
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, 50), SENTINEL_OK);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 1000), SENTINEL_OK);
    assert_int_equal(sentinel_set_retry(s, 2, 10, 10), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_TIMEOUT);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_TIMEOUT);
    assert_null(strstr(sentinel_errstr(s), "replica"));
    assert_non_null(strstr(sentinel_errstr(s), "no reply in time"));
    sentinel_free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_conn_verified_and_moves_bytes),
        T(test_conn_master_closing_is_unreachable),
        T(test_conn_replica_is_not_master),
        T(test_conn_checks_role_on_its_own_connection),
        T(test_conn_bad_arguments),
        T(test_cut_round_keeps_last_completed_failure),
        T(test_completed_round_reports_its_own_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
