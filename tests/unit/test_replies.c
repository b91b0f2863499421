/*
 * Reply and event decoding (replies.c), fed raw RESP bytes through hiredis'
 * own reply reader so the parsers see exactly what a socket would give them.
 *
 * Past 800 lines: one test per reply shape and per lie a sentinel can tell
 * (events, addresses, ROLE, SENTINEL MASTER's name, refusals); they share
 * one feeding helper, and splitting by command would scatter the lies.
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
 * Helpers: raw bytes -> redisReply through redisReader
 * ------------------------------------------------------------------------ */

static redisReply *parse_bytes(const char *bytes, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;

    assert_non_null(rd);
    assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    redisReaderFree(rd);
    assert_non_null(reply);
    return reply;
}

/* For string literals, so embedded NUL bytes are kept. */
#define PARSE(lit) parse_bytes((lit), sizeof(lit) - 1)

/* get-master-addr-by-name reply with one host and one port (bulk strings). */
static redisReply *addr_reply(const char *host, size_t hostlen, const char *port)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "*2\r\n$%zu\r\n", hostlen);

    assert_true(n > 0 && (size_t)n + hostlen + 64 < sizeof(buf));
    memcpy(buf + n, host, hostlen);
    n += (int)hostlen;
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n$%zu\r\n%s\r\n", strlen(port), port);
    return parse_bytes(buf, (size_t)n);
}

/* Expect sn_parse_master_addr to fail with code on r (and free r). */
static void expect_addr_error(redisReply *r, int code)
{
    sn_hostport hp;
    sn_err e;

    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(r, &hp, &e), -1);
    assert_int_equal(e.code, code);
    assert_true(e.msg[0] != '\0');
    freeReplyObject(r);
}

static void expect_role_error(redisReply *r, int code)
{
    sn_role role = SN_ROLE_MASTER;
    sn_err e;

    sn_err_clear(&e);
    assert_int_equal(sn_parse_role(r, &role, &e), -1);
    assert_int_equal(e.code, code);
    assert_int_equal(role, SN_ROLE_UNKNOWN);
    freeReplyObject(r);
}

static void expect_role(redisReply *r, sn_role want)
{
    sn_role role = SN_ROLE_UNKNOWN;
    sn_err e;

    sn_err_clear(&e);
    assert_int_equal(sn_parse_role(r, &role, &e), 0);
    assert_int_equal(role, want);
    freeReplyObject(r);
}

/* ------------------------------------------------------------------------
 * get-master-addr-by-name
 * ------------------------------------------------------------------------ */

static void test_master_addr_good_reply(void **state)
{
    redisReply *r = PARSE("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n");
    sn_hostport hp;
    sn_err e;

    (void)state;
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(r, &hp, &e), 0);
    assert_string_equal(hp.host, "127.0.0.1");
    assert_int_equal(hp.port, 6379);
    freeReplyObject(r);
}

static void test_master_addr_accepts_ipv6_hostname_and_port_bounds(void **state)
{
    static const struct {
        const char *host, *port;
        int want_port;
    } ok[] = {
        {"::1", "6379", 6379},
        {"redis-1.example.internal", "1", 1},
        {"10.0.0.5", "65535", 65535},
    };
    char longest[SENTINEL_HOST_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        redisReply *r = addr_reply(ok[i].host, strlen(ok[i].host), ok[i].port);
        sn_hostport hp;
        sn_err e;

        sn_err_clear(&e);
        assert_int_equal(sn_parse_master_addr(r, &hp, &e), 0);
        assert_string_equal(hp.host, ok[i].host);
        assert_int_equal(hp.port, ok[i].want_port);
        freeReplyObject(r);
    }
    /* 255 characters is the longest host that fits. */
    memset(longest, 'h', sizeof(longest) - 1);
    {
        redisReply *r = addr_reply(longest, sizeof(longest) - 1, "6379");
        sn_hostport hp;
        sn_err e;

        sn_err_clear(&e);
        assert_int_equal(sn_parse_master_addr(r, &hp, &e), 0);
        assert_int_equal(strlen(hp.host), SENTINEL_HOST_MAX - 1);
        freeReplyObject(r);
    }
}

static void test_master_addr_null_bulk_is_unknown_name(void **state)
{
    redisReply *r = PARSE("$-1\r\n");
    sn_hostport hp;
    sn_err e;

    (void)state;
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(r, &hp, &e), 1);
    assert_int_equal(e.code, SENTINEL_OK);
    freeReplyObject(r);
}

static void test_master_addr_null_array_is_unknown_name(void **state)
{
    redisReply *r = PARSE("*-1\r\n");
    sn_hostport hp;
    sn_err e;

    (void)state;
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(r, &hp, &e), 1);
    assert_int_equal(e.code, SENTINEL_OK);
    freeReplyObject(r);
}

static void test_master_addr_wrong_reply_types(void **state)
{
    (void)state;
    expect_addr_error(PARSE(":6379\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("+OK\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("$9\r\n127.0.0.1\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*2\r\n:1\r\n:6379\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*2\r\n$9\r\n127.0.0.1\r\n:6379\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*2\r\n*1\r\n$1\r\na\r\n$4\r\n6379\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*2\r\n$-1\r\n$4\r\n6379\r\n"), SENTINEL_ERR_PROTOCOL);
}

static void test_master_addr_wrong_array_length(void **state)
{
    (void)state;
    expect_addr_error(PARSE("*0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*1\r\n$9\r\n127.0.0.1\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n$1\r\nx\r\n"),
                      SENTINEL_ERR_PROTOCOL);
}

static void test_master_addr_bad_ports(void **state)
{
    static const char *const bad[] = {"",      "abc", "0",     "65536", "-1",    "6379x",
                                      "123456", " 6379", "63 79", "+6379", "99999", "00000"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_addr_error(addr_reply("127.0.0.1", 9, bad[i]), SENTINEL_ERR_PROTOCOL);
}

static void test_master_addr_bad_hosts(void **state)
{
    char toolong[SENTINEL_HOST_MAX + 8];

    (void)state;
    expect_addr_error(addr_reply("", 0, "6379"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(addr_reply("a b", 3, "6379"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(addr_reply("a\tb", 3, "6379"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(addr_reply("a\nb", 3, "6379"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(addr_reply("127.0.0.1\0evil", 14, "6379"), SENTINEL_ERR_PROTOCOL);
    memset(toolong, 'h', sizeof(toolong));
    expect_addr_error(addr_reply(toolong, SENTINEL_HOST_MAX, "6379"), SENTINEL_ERR_PROTOCOL);
    expect_addr_error(addr_reply(toolong, sizeof(toolong), "6379"), SENTINEL_ERR_PROTOCOL);
}

static void test_master_addr_auth_errors_are_auth(void **state)
{
    (void)state;
    expect_addr_error(PARSE("-NOAUTH Authentication required.\r\n"), SENTINEL_ERR_AUTH);
    expect_addr_error(
        PARSE("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        SENTINEL_ERR_AUTH);
    expect_addr_error(PARSE("-NOPERM this user has no permissions to run the 'sentinel' "
                            "command or its subcommand\r\n"),
                      SENTINEL_ERR_AUTH);
}

static void test_master_addr_other_error_is_protocol(void **state)
{
    (void)state;
    expect_addr_error(PARSE("-ERR unknown command `SENTINEL`, with args beginning with: \r\n"),
                      SENTINEL_ERR_PROTOCOL);
    expect_addr_error(PARSE("-ERR Unknown sentinel subcommand 'get-master-addr-by-name'\r\n"),
                      SENTINEL_ERR_PROTOCOL);
}

static void test_master_addr_no_reply_is_protocol(void **state)
{
    sn_hostport hp;
    sn_err e;

    (void)state;
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(NULL, &hp, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
}

static void test_reply_is_auth_error(void **state)
{
    static const struct {
        const char *raw;
        int want;
    } cases[] = {
        {"-NOAUTH Authentication required.\r\n", 1},
        {"-WRONGPASS invalid username-password pair or user is disabled.\r\n", 1},
        {"-NOPERM this user has no permissions\r\n", 1},
        {"-ERR invalid password\r\n", 1},
        {"-ERR Client sent AUTH, but no password is set\r\n", 1},
        {"-ERR AUTH <password> called without any password configured for the default "
         "user. Are you sure your configuration is correct?\r\n",
         1},
        {"-ERR unknown command 'ROLE'\r\n", 0},
        {"-READONLY You can't write against a read only replica.\r\n", 0},
        {"-NOAUT\r\n", 0},
        {"+NOAUTH\r\n", 0},            /* a status, not an error */
        {"$6\r\nNOAUTH\r\n", 0},       /* a string, not an error */
        {"*1\r\n$6\r\nNOAUTH\r\n", 0}, /* an array */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redisReply *r = parse_bytes(cases[i].raw, strlen(cases[i].raw));
        assert_int_equal(sn_reply_is_auth_error(r), cases[i].want);
        freeReplyObject(r);
    }
    assert_int_equal(sn_reply_is_auth_error(NULL), 0);
}

/* ------------------------------------------------------------------------
 * ROLE
 * ------------------------------------------------------------------------ */

/* SENTINEL MASTER, the tag of a shared poll: it answers for the master
 * asked about only when its name field says so. */
static void test_master_named_accepts_its_own_name_only(void **state)
{
    static const char head[] = "*8\r\n$4\r\nname\r\n";
    static const char tail[] = "$2\r\nip\r\n$8\r\n10.0.0.1\r\n$4\r\nport\r\n$4\r\n6379\r\n"
                               "$5\r\nflags\r\n$6\r\nmaster\r\n";
    char buf[256];
    redisReply *r;
    sn_err e;

    (void)state;
    snprintf(buf, sizeof(buf), "%s$8\r\nmymaster\r\n%s", head, tail);
    r = parse_bytes(buf, strlen(buf));
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_named(r, "mymaster", &e), 0);
    assert_int_equal(e.code, SENTINEL_OK);
    /* Another master's reply (a stream out of step), or a name that only
     * starts the same, or differs in case (Sentinel's names are exact). */
    assert_int_equal(sn_parse_master_named(r, "cache", &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "names master 'mymaster'"));
    assert_int_equal(sn_parse_master_named(r, "mymaste", &e), -1);
    assert_int_equal(sn_parse_master_named(r, "mymaster2", &e), -1);
    assert_int_equal(sn_parse_master_named(r, "MyMaster", &e), -1);
    freeReplyObject(r);
}

static void test_master_named_other_shapes(void **state)
{
    static const char *const bad[] = {
        "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n", /* get-master-addr's: odd place */
        "*3\r\n$4\r\nname\r\n$8\r\nmymaster\r\n$2\r\nip\r\n", /* odd length */
        "*2\r\n$2\r\nip\r\n$8\r\n10.0.0.1\r\n", /* no name */
        "*2\r\n$4\r\nname\r\n:1\r\n",            /* a name that is no string */
        "*1\r\n*0\r\n", "*0\r\n", "$-1\r\n", "+OK\r\n", ":3\r\n",
    };
    redisReply *r;
    sn_err e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = parse_bytes(bad[i], strlen(bad[i]));
        assert_int_equal(sn_parse_master_named(r, "mymaster", &e), -1);
        assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
        freeReplyObject(r);
    }
    assert_int_equal(sn_parse_master_named(NULL, "mymaster", &e), -1);
    /* An error names nobody: an unknown master, or an ACL refusing it. */
    r = PARSE("-ERR No such master with that name\r\n");
    assert_int_equal(sn_parse_master_named(r, "mymaster", &e), 1);
    freeReplyObject(r);
}

/* Which command an ACL refusal names (Redis 7 quotes it): a refused
 * SENTINEL MASTER is told from a refused get-master-addr-by-name, and not
 * from SENTINEL MASTERS. */
static void test_reply_refuses_names_the_command(void **state)
{
    redisReply *r;

    (void)state;
    r = PARSE("-NOPERM this user has no permissions to run the 'sentinel|master' command\r\n");
    assert_int_equal(sn_reply_refuses(r, "sentinel|master"), 1);
    assert_int_equal(sn_reply_refuses(r, "sentinel|get-master-addr-by-name"), 0);
    freeReplyObject(r);
    r = PARSE("-NOPERM User u has no permissions to run the 'sentinel|masters' command\r\n");
    assert_int_equal(sn_reply_refuses(r, "sentinel|master"), 0);
    freeReplyObject(r);
    r = PARSE("+sentinel|master 'sentinel|master'\r\n"); /* not an error */
    assert_int_equal(sn_reply_refuses(r, "sentinel|master"), 0);
    freeReplyObject(r);
    assert_int_equal(sn_reply_refuses(NULL, "sentinel|master"), 0);
}

static void test_role_master_with_replicas(void **state)
{
    (void)state;
    expect_role(PARSE("*3\r\n$6\r\nmaster\r\n:3129659\r\n"
                      "*2\r\n"
                      "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n$7\r\n3129242\r\n"
                      "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6381\r\n$7\r\n3129543\r\n"),
                SN_ROLE_MASTER);
}

static void test_role_master_without_replicas(void **state)
{
    (void)state;
    expect_role(PARSE("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"), SN_ROLE_MASTER);
}

static void test_role_replica(void **state)
{
    (void)state;
    expect_role(PARSE("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
                      "$9\r\nconnected\r\n:3167038\r\n"),
                SN_ROLE_REPLICA);
    /* Later Redis versions may say "replica"; a replica mid-sync has offset -1. */
    expect_role(PARSE("*5\r\n$7\r\nreplica\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
                      "$4\r\nsync\r\n:-1\r\n"),
                SN_ROLE_REPLICA);
}

static void test_role_sentinel(void **state)
{
    (void)state;
    expect_role(PARSE("*2\r\n$8\r\nsentinel\r\n*2\r\n$8\r\nmymaster\r\n$5\r\nother\r\n"),
                SN_ROLE_SENTINEL);
}

static void test_role_unknown_role_string(void **state)
{
    (void)state;
    expect_role_error(PARSE("*3\r\n$6\r\nleader\r\n:0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*3\r\n$0\r\n\r\n:0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*3\r\n$7\r\nmasters\r\n:0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
}

static void test_role_master_wrong_element_types(void **state)
{
    (void)state;
    /* offset as a string */
    expect_role_error(PARSE("*3\r\n$6\r\nmaster\r\n$1\r\n0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
    /* replica list as an integer */
    expect_role_error(PARSE("*3\r\n$6\r\nmaster\r\n:0\r\n:0\r\n"), SENTINEL_ERR_PROTOCOL);
    /* replica list as nil */
    expect_role_error(PARSE("*3\r\n$6\r\nmaster\r\n:0\r\n$-1\r\n"), SENTINEL_ERR_PROTOCOL);
    /* role name as an integer */
    expect_role_error(PARSE("*3\r\n:1\r\n:0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
    /* role name as a nested array */
    expect_role_error(PARSE("*3\r\n*1\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"), SENTINEL_ERR_PROTOCOL);
    /* replica: master port as a string, master host as an integer */
    expect_role_error(PARSE("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n"
                            "$9\r\nconnected\r\n:1\r\n"),
                      SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*5\r\n$5\r\nslave\r\n:1\r\n:6379\r\n$9\r\nconnected\r\n:1\r\n"),
                      SENTINEL_ERR_PROTOCOL);
}

static void test_role_truncated_arrays(void **state)
{
    (void)state;
    expect_role_error(PARSE("*0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*1\r\n$6\r\nmaster\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*2\r\n$6\r\nmaster\r\n:0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*4\r\n$6\r\nmaster\r\n:0\r\n*0\r\n:0\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*1\r\n$5\r\nslave\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*4\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
                            "$9\r\nconnected\r\n"),
                      SENTINEL_ERR_PROTOCOL);
}

static void test_role_wrong_reply_types(void **state)
{
    (void)state;
    expect_role_error(PARSE("+master\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("$6\r\nmaster\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE(":1\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("$-1\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("*-1\r\n"), SENTINEL_ERR_PROTOCOL);
}

static void test_role_error_replies(void **state)
{
    sn_role role;
    sn_err e;

    (void)state;
    expect_role_error(PARSE("-NOAUTH Authentication required.\r\n"), SENTINEL_ERR_AUTH);
    expect_role_error(PARSE("-NOPERM this user has no permissions to run the 'role' "
                            "command\r\n"),
                      SENTINEL_ERR_AUTH);
    expect_role_error(PARSE("-ERR unknown command 'ROLE'\r\n"), SENTINEL_ERR_PROTOCOL);
    expect_role_error(PARSE("-LOADING Redis is loading the dataset in memory\r\n"),
                      SENTINEL_ERR_PROTOCOL);
    sn_err_clear(&e);
    assert_int_equal(sn_parse_role(NULL, &role, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
}

/* ------------------------------------------------------------------------
 * SENTINEL sentinels <name>
 * ------------------------------------------------------------------------ */

typedef struct collected {
    sn_hostport hp[16];
    int n;
} collected;

static void collect(const sn_hostport *hp, void *ud)
{
    collected *c = ud;

    assert_true(c->n < 16);
    c->hp[c->n++] = *hp;
}

static int parse_sentinels_raw(const char *raw, size_t len, collected *c, sn_err *e)
{
    redisReply *r = parse_bytes(raw, len);
    int rc;

    memset(c, 0, sizeof(*c));
    sn_err_clear(e);
    rc = sn_parse_sentinels(r, collect, c, e);
    freeReplyObject(r);
    return rc;
}
#define PARSE_SENTINELS(lit, c, e) parse_sentinels_raw((lit), sizeof(lit) - 1, (c), (e))

/* One entry as a real sentinel sends it (a flat field/value list). */
#define ENTRY(ip, iplen, port, portlen)                                                     \
    "*10\r\n"                                                                               \
    "$4\r\nname\r\n$40\r\n0f3a9a2c1f5e4b1a8d3c2b1a0f9e8d7c6b5a4f3e\r\n"                      \
    "$2\r\nip\r\n$" iplen "\r\n" ip "\r\n"                                                  \
    "$4\r\nport\r\n$" portlen "\r\n" port "\r\n"                                            \
    "$5\r\nrunid\r\n$40\r\n0f3a9a2c1f5e4b1a8d3c2b1a0f9e8d7c6b5a4f3e\r\n"                     \
    "$5\r\nflags\r\n$8\r\nsentinel\r\n"

static void test_sentinels_good_reply(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("*2\r\n" ENTRY("127.0.0.1", "9", "26380", "5")
                                         ENTRY("10.0.0.7", "8", "26381", "5"),
                                     &c, &e),
                     2);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.hp[0].host, "127.0.0.1");
    assert_int_equal(c.hp[0].port, 26380);
    assert_string_equal(c.hp[1].host, "10.0.0.7");
    assert_int_equal(c.hp[1].port, 26381);
}

static void test_sentinels_empty_list(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("*0\r\n", &c, &e), 0);
    assert_int_equal(c.n, 0);
}

static void test_sentinels_skips_entries_missing_ip_or_port(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("*3\r\n"
                                     /* no ip */
                                     "*4\r\n$4\r\nname\r\n$1\r\na\r\n$4\r\nport\r\n$5\r\n26380\r\n"
                                     /* no port */
                                     "*4\r\n$4\r\nname\r\n$1\r\nb\r\n$2\r\nip\r\n$3\r\n::1\r\n"
                                     /* good */
                                     ENTRY("127.0.0.1", "9", "26381", "5"),
                                     &c, &e),
                     1);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.hp[0].port, 26381);
}

static void test_sentinels_skips_bad_values(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("*4\r\n"
                                     ENTRY("127.0.0.1", "9", "0", "1")
                                     ENTRY("127.0.0.1", "9", "abc", "3")
                                     ENTRY("bad host", "8", "26380", "5")
                                     /* values as integers instead of strings */
                                     "*4\r\n$2\r\nip\r\n:1\r\n$4\r\nport\r\n:26380\r\n",
                                     &c, &e),
                     0);
    assert_int_equal(c.n, 0);
}

static void test_sentinels_skips_odd_length_and_non_array_entries(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("*5\r\n"
                                     /* odd length: ip, port and a dangling key */
                                     "*5\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n"
                                     "$5\r\n26380\r\n$5\r\nflags\r\n"
                                     "$9\r\n127.0.0.1\r\n"
                                     ":26379\r\n"
                                     "$-1\r\n"
                                     ENTRY("127.0.0.2", "9", "26382", "5"),
                                     &c, &e),
                     1);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.hp[0].host, "127.0.0.2");
    assert_int_equal(c.hp[0].port, 26382);
}

static void test_sentinels_wrong_reply_types(void **state)
{
    collected c;
    sn_err e;

    (void)state;
    assert_int_equal(PARSE_SENTINELS("$-1\r\n", &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_int_equal(PARSE_SENTINELS(":3\r\n", &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_int_equal(PARSE_SENTINELS("+OK\r\n", &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_int_equal(PARSE_SENTINELS("-ERR No such master with that name\r\n", &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
    assert_int_equal(PARSE_SENTINELS("-NOPERM no permissions\r\n", &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_AUTH);
    assert_int_equal(c.n, 0);
    assert_int_equal(sn_parse_sentinels(NULL, collect, &c, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_PROTOCOL);
}

/* ------------------------------------------------------------------------
 * Event messages
 * ------------------------------------------------------------------------ */

#define MASTER_MSG "master mymaster 127.0.0.1 6379"
#define SLAVE_MSG "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
#define SWITCH_MSG "mymaster 127.0.0.1 6379 127.0.0.1 6380"

/* Every channel watch.c subscribes to (its channels[]), with the payload
 * Redis' sentinel.c publishes on it: the failed-over master ("%@" of the
 * master) or the promoted replica ("%@" of ri->promoted_slave). */
static const struct {
    const char *ch;
    const char *payload;
    int type;
    int names_replica; /* the payload is the replica form */
} events[] = {
    {"+try-failover", MASTER_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 0},
    {"+elected-leader", MASTER_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 0},
    {"+failover-state-select-slave", MASTER_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 0},
    {"+selected-slave", SLAVE_MSG, SENTINEL_EVENT_REPLICA_SELECTED, 1},
    {"+failover-state-send-slaveof-noone", SLAVE_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 1},
    {"+failover-state-wait-promotion", SLAVE_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 1},
    {"+promoted-slave", SLAVE_MSG, SENTINEL_EVENT_REPLICA_SELECTED, 1},
    {"+failover-state-reconf-slaves", MASTER_MSG, SENTINEL_EVENT_FAILOVER_STARTED, 0},
    {"+switch-master", SWITCH_MSG, SENTINEL_EVENT_SWITCHED, 1},
    {"-failover-abort-not-elected", MASTER_MSG, SENTINEL_EVENT_FAILOVER_ABORTED, 0},
    {"-failover-abort-no-good-slave", MASTER_MSG, SENTINEL_EVENT_FAILOVER_ABORTED, 0},
    {"-failover-abort-slave-timeout", MASTER_MSG, SENTINEL_EVENT_FAILOVER_ABORTED, 0},
};
#define NEVENTS (sizeof(events) / sizeof(events[0]))

static int parse_event(const char *ch, const char *payload, const char *name, sn_event_msg *ev)
{
    return sn_parse_event(ch, strlen(ch), payload, strlen(payload), name, ev);
}

/* Replace the first "mymaster" in payload by name. */
static void rename_master(char *out, size_t cap, const char *payload, const char *name)
{
    const char *at = strstr(payload, "mymaster");

    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - payload), payload, name, at + strlen("mymaster"));
}

static void test_event_every_watched_channel_is_classified(void **state)
{
    (void)state;
    for (size_t i = 0; i < NEVENTS; i++) {
        sn_event_msg ev;

        memset(&ev, 0x5a, sizeof(ev));
        assert_int_equal(parse_event(events[i].ch, events[i].payload, "mymaster", &ev), 0);
        assert_int_equal(ev.type, events[i].type);
        /* The event names the master it is about... */
        assert_string_equal(ev.master.host, "127.0.0.1");
        assert_int_equal(ev.master.port, 6379);
        /* ...and the replica / new master when the payload has one. */
        if (events[i].names_replica) {
            assert_string_equal(ev.addr.host, "127.0.0.1");
            assert_int_equal(ev.addr.port, 6380);
        } else {
            assert_string_equal(ev.addr.host, "");
        }
    }
}

static void test_event_switch_master_names_old_and_new(void **state)
{
    sn_event_msg ev;

    (void)state;
    assert_int_equal(parse_event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 6380",
                                 "mymaster", &ev),
                     0);
    assert_int_equal(ev.type, SENTINEL_EVENT_SWITCHED);
    assert_string_equal(ev.master.host, "10.0.0.1");
    assert_int_equal(ev.master.port, 6379);
    assert_string_equal(ev.addr.host, "10.0.0.2");
    assert_int_equal(ev.addr.port, 6380);
}

static void test_event_about_another_master_is_ignored(void **state)
{
    static const char *const others[] = {"othermaster", "mymaster2", "mymaste", "MYMASTER"};

    (void)state;
    for (size_t o = 0; o < sizeof(others) / sizeof(others[0]); o++) {
        for (size_t i = 0; i < NEVENTS; i++) {
            char payload[256];
            sn_event_msg ev;

            rename_master(payload, sizeof(payload), events[i].payload, others[o]);
            assert_int_equal(parse_event(events[i].ch, payload, "mymaster", &ev), 1);
            assert_int_equal(ev.type, 0);
        }
    }
}

static void test_event_on_unwatched_channel_is_ignored(void **state)
{
    static const char *const chans[] = {"+sdown", "+odown", "+new-epoch", "+sentinel",
                                        "+slave", "+switch-masterx", "switch-master", ""};

    (void)state;
    for (size_t i = 0; i < sizeof(chans) / sizeof(chans[0]); i++) {
        sn_event_msg ev;

        assert_int_equal(parse_event(chans[i], MASTER_MSG, "mymaster", &ev), 1);
        assert_int_equal(ev.type, 0);
    }
}

static void test_event_malformed_instance_payloads(void **state)
{
    static const char *const bad[] = {
        "",
        "master mymaster 127.0.0.1",                    /* too few words */
        "master mymaster",                              /* too few words */
        "master mymaster 127.0.0.1 abc",                /* bad port */
        "master mymaster 127.0.0.1 0",                  /* bad port */
        "master mymaster 127.0.0.1 65536",              /* bad port */
        "master mymaster 127.0.0.1 6379 extra",         /* too many words */
        "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1",      /* short */
        "slave 127.0.0.1:6380 127.0.0.1 x @ mymaster 127.0.0.1 6379",    /* bad port */
        "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379x",/* bad port */
        "slave 127.0.0.1:6380 127.0.0.1 6380 # mymaster 127.0.0.1 6379", /* no @ */
        "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379 x y", /* 10 words */
        "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379 x y z", /* 11 words */
        "a b c d e f g h i j k l m n o p",              /* far too many words */
    };

    (void)state;
    for (size_t i = 0; i < NEVENTS; i++) {
        if (strcmp(events[i].ch, "+switch-master") == 0)
            continue;
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            sn_event_msg ev;
            int rc = parse_event(events[i].ch, bad[b], "mymaster", &ev);

            if (rc != -1)
                fail_msg("channel %s payload '%s': got %d, want -1", events[i].ch, bad[b], rc);
            assert_int_equal(ev.type, 0);
        }
    }
}

static void test_event_replica_selected_must_name_a_replica(void **state)
{
    sn_event_msg ev;

    (void)state;
    assert_int_equal(parse_event("+selected-slave", MASTER_MSG, "mymaster", &ev), -1);
    assert_int_equal(parse_event("+promoted-slave", MASTER_MSG, "mymaster", &ev), -1);
    assert_int_equal(ev.type, 0);
}

static void test_event_malformed_switch_master_payloads(void **state)
{
    static const char *const bad[] = {
        "",
        "mymaster",
        "mymaster 127.0.0.1 6379 127.0.0.1",               /* too few words */
        "mymaster 127.0.0.1 6379 127.0.0.1 6380 extra",    /* too many words */
        "mymaster 127.0.0.1 6379 127.0.0.1 abc",           /* bad new port */
        "mymaster 127.0.0.1 abc 127.0.0.1 6380",           /* bad old port */
        "mymaster 127.0.0.1 6379 127.0.0.1 70000",         /* out of range */
        "mymaster 127.0.0.1 6379 127.0.0.1 6380 a b c d e f", /* > 10 words */
    };

    (void)state;
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        sn_event_msg ev;

        assert_int_equal(parse_event("+switch-master", bad[b], "mymaster", &ev), -1);
        assert_int_equal(ev.type, 0);
    }
}

static void test_event_payload_with_embedded_nul_is_not_trusted(void **state)
{
    /* A NUL inside the host word: the host must not be cut at it. */
    static const char inside[] = "master mymaster 127\0.0.1 6379";
    static const char at_end[] = "master mymaster 127.0.0.1\0 6379";
    sn_event_msg ev;

    (void)state;
    assert_int_equal(sn_parse_event("+try-failover", 13, inside, sizeof(inside) - 1,
                                    "mymaster", &ev),
                     -1);
    assert_int_equal(sn_parse_event("+try-failover", 13, at_end, sizeof(at_end) - 1,
                                    "mymaster", &ev),
                     -1);
    assert_int_equal(ev.type, 0);
}

/* ------------------------------------------------------------------------
 * The reader in front of the parsers: partial and garbage input
 * ------------------------------------------------------------------------ */

static void test_truncated_resp_yields_no_reply_until_complete(void **state)
{
    static const char full[] = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n";
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    sn_hostport hp;
    sn_err e;

    (void)state;
    assert_non_null(rd);
    /* Every proper prefix leaves the reader waiting, never a half reply. */
    for (size_t cut = 1; cut < sizeof(full) - 1; cut++) {
        redisReader *part = redisReaderCreate();

        assert_int_equal(redisReaderFeed(part, full, cut), REDIS_OK);
        assert_int_equal(redisReaderGetReply(part, &reply), REDIS_OK);
        assert_null(reply);
        redisReaderFree(part);
    }
    /* Byte by byte, it completes exactly at the last byte. */
    for (size_t i = 0; i < sizeof(full) - 1; i++) {
        assert_int_equal(redisReaderFeed(rd, full + i, 1), REDIS_OK);
        assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
        if (i + 1 < sizeof(full) - 1)
            assert_null(reply);
    }
    assert_non_null(reply);
    sn_err_clear(&e);
    assert_int_equal(sn_parse_master_addr(reply, &hp, &e), 0);
    assert_string_equal(hp.host, "127.0.0.1");
    assert_int_equal(hp.port, 6379);
    freeReplyObject(reply);
    redisReaderFree(rd);
}

static void test_protocol_garbage_is_a_reader_error(void **state)
{
    static const char *const garbage[] = {
        "HTTP/1.1 400 Bad Request\r\n",
        "%2\r\n",
        "hello\r\n",
        "*2\r\n!9\r\n127.0.0.1\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        redisReader *rd = redisReaderCreate();
        void *reply = NULL;
        int rc;

        assert_non_null(rd);
        redisReaderFeed(rd, garbage[i], strlen(garbage[i]));
        rc = redisReaderGetReply(rd, &reply);
        if (rc != REDIS_ERR)
            fail_msg("'%s' was accepted by the reader", garbage[i]);
        assert_null(reply);
        assert_int_equal(rd->err, REDIS_ERR_PROTOCOL);
        redisReaderFree(rd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_addr_good_reply),
        cmocka_unit_test(test_master_addr_accepts_ipv6_hostname_and_port_bounds),
        cmocka_unit_test(test_master_addr_null_bulk_is_unknown_name),
        cmocka_unit_test(test_master_addr_null_array_is_unknown_name),
        cmocka_unit_test(test_master_addr_wrong_reply_types),
        cmocka_unit_test(test_master_addr_wrong_array_length),
        cmocka_unit_test(test_master_addr_bad_ports),
        cmocka_unit_test(test_master_addr_bad_hosts),
        cmocka_unit_test(test_master_addr_auth_errors_are_auth),
        cmocka_unit_test(test_master_addr_other_error_is_protocol),
        cmocka_unit_test(test_master_addr_no_reply_is_protocol),
        cmocka_unit_test(test_reply_is_auth_error),
        cmocka_unit_test(test_master_named_accepts_its_own_name_only),
        cmocka_unit_test(test_master_named_other_shapes),
        cmocka_unit_test(test_reply_refuses_names_the_command),
        cmocka_unit_test(test_role_master_with_replicas),
        cmocka_unit_test(test_role_master_without_replicas),
        cmocka_unit_test(test_role_replica),
        cmocka_unit_test(test_role_sentinel),
        cmocka_unit_test(test_role_unknown_role_string),
        cmocka_unit_test(test_role_master_wrong_element_types),
        cmocka_unit_test(test_role_truncated_arrays),
        cmocka_unit_test(test_role_wrong_reply_types),
        cmocka_unit_test(test_role_error_replies),
        cmocka_unit_test(test_sentinels_good_reply),
        cmocka_unit_test(test_sentinels_empty_list),
        cmocka_unit_test(test_sentinels_skips_entries_missing_ip_or_port),
        cmocka_unit_test(test_sentinels_skips_bad_values),
        cmocka_unit_test(test_sentinels_skips_odd_length_and_non_array_entries),
        cmocka_unit_test(test_sentinels_wrong_reply_types),
        cmocka_unit_test(test_event_every_watched_channel_is_classified),
        cmocka_unit_test(test_event_switch_master_names_old_and_new),
        cmocka_unit_test(test_event_about_another_master_is_ignored),
        cmocka_unit_test(test_event_on_unwatched_channel_is_ignored),
        cmocka_unit_test(test_event_malformed_instance_payloads),
        cmocka_unit_test(test_event_replica_selected_must_name_a_replica),
        cmocka_unit_test(test_event_malformed_switch_master_payloads),
        cmocka_unit_test(test_event_payload_with_embedded_nul_is_not_trusted),
        cmocka_unit_test(test_truncated_resp_yields_no_reply_until_complete),
        cmocka_unit_test(test_protocol_garbage_is_a_reader_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
