/*
 * Regression tests for what the fuzz targets in tests/fuzz/ found. Each test
 * names the target and the input that found the bug, and feeds the same
 * bytes through the same seam (a fake transport installed with
 * sn_transport_set) in the ordinary build.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------
 * A one-connection fake network: recv() hands out `script` and then, if
 * `filler` is set, repeats it for ever (a peer that never stops sending).
 * ------------------------------------------------------------------------ */

static struct {
    const char *script;
    size_t len, pos;
    const char *filler; /* NULL: the peer closes after the script */
    size_t filler_pos;
    size_t received;    /* bytes the library read */
    int opens, closes;
} net;

static int fake_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    (void)host;
    (void)port;
    (void)deadline_ms;
    if (net.opens > 0) /* one connection only */
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: refused (fake)");
    net.opens++;
    return 7;
}

static ssize_t fake_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    (void)buf;
    (void)deadline_ms;
    (void)e;
    assert_int_equal(h, 7);
    return (ssize_t)len;
}

static ssize_t fake_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    char *out = buf;
    size_t n = 0;

    (void)deadline_ms;
    (void)e;
    assert_int_equal(h, 7);
    while (n < cap && net.pos < net.len)
        out[n++] = net.script[net.pos++];
    if (net.pos == net.len && net.filler != NULL) {
        size_t flen = strlen(net.filler);
        while (n < cap) {
            out[n++] = net.filler[net.filler_pos++];
            net.filler_pos %= flen;
        }
    }
    net.received += n;
    return (ssize_t)n;
}

static void fake_close(int h)
{
    assert_int_equal(h, 7);
    net.closes++;
}

static const sn_transport fake_transport = {
    .open = fake_open, .send = fake_send, .recv = fake_recv, .close = fake_close};

static void net_script(const char *bytes, size_t len, const char *filler)
{
    memset(&net, 0, sizeof(net));
    net.script = bytes;
    net.len = len;
    net.filler = filler;
    sn_transport_set(&fake_transport);
}

static int teardown(void **state)
{
    (void)state;
    sn_transport_set(NULL);
    return 0;
}

/* One command on a fresh link; the reply (or NULL with e set). */
static redisReply *command_once(sn_err *e)
{
    const char *argv[] = {"ROLE"};
    sn_link l;
    redisReply *r;

    sn_err_clear(e);
    assert_int_equal(sn_link_open(&l, "127.0.0.1", 6379, 250, 1000, sn_now_ms() + 5000, e), 0);
    r = sn_link_command(&l, sn_now_ms() + 5000, e, 1, argv);
    sn_link_close(&l);
    assert_int_equal(net.closes, 1);
    return r;
}

/* A reply of `n` copies of `elem` under an array header. */
static char *array_of(long n, const char *elem, size_t *len)
{
    size_t elen = strlen(elem);
    char *b = malloc(32 + (size_t)n * elen);
    int h;

    assert_non_null(b);
    h = sprintf(b, "*%ld\r\n", n);
    for (long i = 0; i < n; i++)
        memcpy(b + h + (size_t)i * elen, elem, elen);
    *len = (size_t)h + (size_t)n * elen;
    return b;
}

/* ------------------------------------------------------------------------
 * fuzz_replies, oom-28de5c8f: "*177777777\r\n+\x03*\r\n*1\r\n+\r\n".
 * hiredis 0.14 allocates an array's element table when it reads the header,
 * so 12 bytes from a sentinel made us calloc 1.4 GB (8 bytes x 177777777).
 * link.c now refuses an array header that could not fit in SN_REPLY_MAX.
 * ------------------------------------------------------------------------ */

static const char found_by_fuzz_replies[] = "*177777777\r\n+\x03*\r\n*1\r\n+\r\n";

static void test_huge_array_header_is_refused_before_allocating(void **state)
{
    sn_err e;

    (void)state;
    net_script(found_by_fuzz_replies, sizeof(found_by_fuzz_replies) - 1, NULL);
    assert_null(command_once(&e));
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "array of 177777777 elements"));
}

/* Refused at the header: a peer that keeps sending elements is not read up
 * to SN_REPLY_MAX first (which is what happened before, after the calloc). */
static void test_huge_array_refused_at_header_not_after_a_megabyte(void **state)
{
    static const char header[] = "*268435456\r\n";
    sn_err e;

    (void)state;
    net_script(header, sizeof(header) - 1, ":1\r\n");
    assert_null(command_once(&e));
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "array of 268435456 elements"));
    assert_true(net.received <= 16384); /* one read, not SN_REPLY_MAX */
}

/* Nested headers count together: no single one is too big, their sum is. */
static void test_nested_array_headers_share_one_budget(void **state)
{
    char script[64];
    sn_err e;
    int n;

    (void)state;
    n = snprintf(script, sizeof(script), "*2\r\n*%d\r\n", SN_REPLY_MAX / 3);
    net_script(script, (size_t)n, "+\r\n");
    assert_null(command_once(&e));
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "elements"));
}

/* The bound is no limit on real replies: an array of the smallest elements
 * that nearly fills SN_REPLY_MAX still parses... */
static void test_array_just_under_the_bound_still_parses(void **state)
{
    long n = SN_REPLY_MAX / 3 - 8;
    size_t len;
    char *b = array_of(n, "+\r\n", &len);
    redisReply *r;
    sn_err e;

    (void)state;
    net_script(b, len, NULL);
    r = command_once(&e);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, (size_t)n);
    freeReplyObject(r);
    free(b);
}

/* ...and one more element is refused. */
static void test_one_element_past_the_bound_is_refused(void **state)
{
    char script[32];
    sn_err e;
    int n;

    (void)state;
    n = snprintf(script, sizeof(script), "*%d\r\n", SN_REPLY_MAX / 3 + 1);
    net_script(script, (size_t)n, "+\r\n");
    assert_null(command_once(&e));
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_true(net.received <= 16384);
}

/* The budget is per reply: two replies in a row on one link, each within the
 * bound but together past it, both parse. */
static void test_element_budget_resets_for_each_reply(void **state)
{
    const char *argv[] = {"ROLE"};
    long n = SN_REPLY_MAX / 5;
    size_t len;
    char *one = array_of(n, "+\r\n", &len);
    char *two = malloc(2 * len);
    sn_link l;
    sn_err e;

    (void)state;
    assert_non_null(two);
    memcpy(two, one, len);
    memcpy(two + len, one, len);
    net_script(two, 2 * len, NULL);
    sn_err_clear(&e);
    assert_int_equal(sn_link_open(&l, "127.0.0.1", 6379, 250, 1000, sn_now_ms() + 5000, &e), 0);
    for (int i = 0; i < 2; i++) {
        redisReply *r = sn_link_command(&l, sn_now_ms() + 5000, &e, 1, argv);
        assert_non_null(r);
        assert_int_equal(r->elements, (size_t)n);
        freeReplyObject(r);
    }
    sn_link_close(&l);
    free(two);
    free(one);
}

/* End to end: a sentinel that answers get-master-addr-by-name with the huge
 * header fails the resolution as a protocol error, quickly. */
static void test_resolve_against_huge_array_is_protocol_error(void **state)
{
    static const char header[] = "*268435456\r\n";
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_addr a;

    (void)state;
    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), 0);
    assert_int_equal(sentinel_set_retry(s, 1, 0, 0), 0);
    net_script(header, sizeof(header) - 1, "+\r\n");
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(sentinel_errstr(s), "array of 268435456 elements"));
    /* Refused at the header, after one read (16 KB today), not after
     * reading the peer's endless elements. No clock involved. */
    assert_true(net.received <= 65536);
    assert_int_equal(net.opens, 1);
    assert_int_equal(net.closes, 1);
    sentinel_free(s);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_huge_array_header_is_refused_before_allocating),
        T(test_huge_array_refused_at_header_not_after_a_megabyte),
        T(test_nested_array_headers_share_one_budget),
        T(test_array_just_under_the_bound_still_parses),
        T(test_one_element_past_the_bound_is_refused),
        T(test_element_budget_resets_for_each_reply),
        T(test_resolve_against_huge_array_is_protocol_error),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
