/*
 * Options: sentinel lists, address maps, setters' validation, names,
 * credentials, statistics and error strings (options.c, handle.c, errors.c).
 *
 * Past 800 lines: one test per setter and validator of the public API;
 * the split by header (sentinel.h / TLS) is the next step if it grows.
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

static int setup_handle(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    if (s == NULL)
        return -1;
    *state = s;
    return 0;
}

static int teardown_handle(void **state)
{
    sentinel_free(*state);
    return 0;
}

static void expect_sentinel(const sentinel_t *s, size_t i, const char *host, int port)
{
    char h[SENTINEL_HOST_MAX];
    int p = -1;

    assert_int_equal(sentinel_get_sentinel(s, i, h, sizeof(h), &p), 0);
    assert_string_equal(h, host);
    assert_int_equal(p, port);
}

/* A refused call returns SENTINEL_ERR_INVALID_ARGUMENT, keeps it on the
 * handle and sets a detail. */
static void expect_invalid(sentinel_t *s, int rc)
{
    assert_int_equal(rc, SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_true(sentinel_errstr(s)[0] != '\0');
}

/* ------------------------------------------------------------------------
 * sentinel_add_sentinels
 * ------------------------------------------------------------------------ */

static void test_list_commas_and_spaces(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "127.0.0.1:26379, 127.0.0.2:26380 127.0.0.3:26381"
                                               "\t,\n10.1.2.3:1"),
                     0);
    assert_int_equal(sentinel_sentinel_count(s), 4);
    expect_sentinel(s, 0, "127.0.0.1", 26379);
    expect_sentinel(s, 1, "127.0.0.2", 26380);
    expect_sentinel(s, 2, "127.0.0.3", 26381);
    expect_sentinel(s, 3, "10.1.2.3", 1);
}

static void test_list_ipv6_literals(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "[::1]:26379,[fe80::1%eth0]:26380 "
                                               "[2001:db8::7]:65535"),
                     0);
    assert_int_equal(sentinel_sentinel_count(s), 3);
    expect_sentinel(s, 0, "::1", 26379);
    expect_sentinel(s, 1, "fe80::1%eth0", 26380);
    expect_sentinel(s, 2, "2001:db8::7", 65535);
}

static void test_list_hostnames(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "sentinel-1.redis.svc.cluster.local:26379,"
                                               "localhost:26380,sentinel_2:26381"),
                     0);
    assert_int_equal(sentinel_sentinel_count(s), 3);
    expect_sentinel(s, 0, "sentinel-1.redis.svc.cluster.local", 26379);
    expect_sentinel(s, 1, "localhost", 26380);
    expect_sentinel(s, 2, "sentinel_2", 26381);
}

static void test_list_empty_is_refused(void **state)
{
    sentinel_t *s = *state;

    expect_invalid(s, sentinel_add_sentinels(s, ""));
    expect_invalid(s, sentinel_add_sentinels(s, " , ,\t"));
    expect_invalid(s, sentinel_add_sentinels(s, NULL));
    assert_int_equal(sentinel_sentinel_count(s), 0);
    assert_int_equal(sentinel_add_sentinels(NULL, "127.0.0.1:26379"),
                     SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_list_entry_without_port_is_refused(void **state)
{
    static const char *const bad[] = {"host",  "host:", ":26379", "127.0.0.1",
                                      "[::1]", "[::1]:", "::1:26379", "[::1]26379",
                                      "[::1",  "[]:26379"};
    sentinel_t *s = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(s, sentinel_add_sentinels(s, bad[i]));
    assert_int_equal(sentinel_sentinel_count(s), 0);
}

static void test_list_bad_ports_are_refused(void **state)
{
    static const char *const bad[] = {"h:0",  "h:65536", "h:abc",    "h:-1",    "h:99999999",
                                      "h:+1", "h:1a",    "[::1]:0", "[::1]:65536", "h: 1"};
    sentinel_t *s = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(s, sentinel_add_sentinels(s, bad[i]));
    assert_int_equal(sentinel_sentinel_count(s), 0);
    assert_int_equal(sentinel_add_sentinels(s, "h:1,h:65535"), 0);
    assert_int_equal(sentinel_sentinel_count(s), 2);
}

static void test_list_bad_hosts_are_refused(void **state)
{
    char longhost[SENTINEL_HOST_MAX + 16];
    sentinel_t *s = *state;

    expect_invalid(s, sentinel_add_sentinels(s, "bad/host:26379"));
    expect_invalid(s, sentinel_add_sentinels(s, "bad@host:26379"));
    memset(longhost, 'h', SENTINEL_HOST_MAX);
    snprintf(longhost + SENTINEL_HOST_MAX, 16, ":26379");
    expect_invalid(s, sentinel_add_sentinels(s, longhost));
    assert_int_equal(sentinel_sentinel_count(s), 0);
}

static void test_list_trailing_and_leading_commas(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, ",,127.0.0.1:26379,127.0.0.1:26380,,, "), 0);
    assert_int_equal(sentinel_sentinel_count(s), 2);
    expect_sentinel(s, 0, "127.0.0.1", 26379);
    expect_sentinel(s, 1, "127.0.0.1", 26380);
}

static void test_list_is_all_or_nothing(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "10.0.0.1:26379"), 0);
    expect_invalid(s, sentinel_add_sentinels(s, "10.0.0.2:26379,10.0.0.3:26379,bogus"));
    expect_invalid(s, sentinel_add_sentinels(s, "10.0.0.2:26379,10.0.0.3:0"));
    assert_int_equal(sentinel_sentinel_count(s), 1);
    expect_sentinel(s, 0, "10.0.0.1", 26379);
}

static void build_list(char *buf, size_t cap, int first, int n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + len, cap - len, "%s10.0.%d.%d:26379", i ? "," : "",
                         (first + i) / 250, (first + i) % 250 + 1);
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
}

static void test_list_more_than_64_entries_is_refused(void **state)
{
    char buf[65 * 24];
    sentinel_t *s = *state;

    build_list(buf, sizeof(buf), 0, 65);
    expect_invalid(s, sentinel_add_sentinels(s, buf));
    assert_int_equal(sentinel_sentinel_count(s), 0);

    build_list(buf, sizeof(buf), 0, 64);
    assert_int_equal(sentinel_add_sentinels(s, buf), 0);
    assert_int_equal(sentinel_sentinel_count(s), SN_MAX_SENTINELS);

    /* Full: one more new sentinel is refused, by either call. */
    expect_invalid(s, sentinel_add_sentinels(s, "10.9.9.9:26379"));
    expect_invalid(s, sentinel_add_sentinel(s, "10.9.9.9", 26379));
    assert_int_equal(sentinel_sentinel_count(s), SN_MAX_SENTINELS);
}

static void test_list_across_calls_over_64_is_refused(void **state)
{
    char buf[64 * 24];
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "192.168.0.1:26379"), 0);
    build_list(buf, sizeof(buf), 0, 64);
    expect_invalid(s, sentinel_add_sentinels(s, buf));
    assert_int_equal(sentinel_sentinel_count(s), 1);
}

static void test_list_duplicates_ignored(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "10.0.0.1:26379,10.0.0.1:26379,10.0.0.1:26380"),
                     0);
    assert_int_equal(sentinel_sentinel_count(s), 2);
    assert_int_equal(sentinel_add_sentinels(s, "10.0.0.1:26380 10.0.0.1:26379"), 0);
    assert_int_equal(sentinel_add_sentinel(s, "10.0.0.1", 26379), 0);
    assert_int_equal(sentinel_sentinel_count(s), 2);
    expect_sentinel(s, 0, "10.0.0.1", 26379);
    expect_sentinel(s, 1, "10.0.0.1", 26380);
}

static void test_list_duplicates_ignored_when_full(void **state)
{
    char buf[64 * 24];
    sentinel_t *s = *state;

    build_list(buf, sizeof(buf), 0, 64);
    assert_int_equal(sentinel_add_sentinels(s, buf), 0);
    assert_int_equal(sentinel_sentinel_count(s), SN_MAX_SENTINELS);
    /* Re-adding known sentinels adds nothing, so it must not hit the limit. */
    assert_int_equal(sentinel_add_sentinel(s, "10.0.0.1", 26379), 0);
    assert_int_equal(sentinel_add_sentinels(s, "10.0.0.1:26379"), 0);
    assert_int_equal(sentinel_add_sentinels(s, buf), 0);
    assert_int_equal(sentinel_sentinel_count(s), SN_MAX_SENTINELS);
}

static void test_list_duplicates_within_one_list_do_not_count(void **state)
{
    char buf[80 * 24];
    size_t len;
    sentinel_t *s = *state;

    /* 64 distinct sentinels plus 16 repeats: 80 entries, 64 sentinels. */
    build_list(buf, sizeof(buf), 0, 64);
    len = strlen(buf);
    for (int i = 0; i < 16; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",10.0.0.1:26379");
    assert_int_equal(sentinel_add_sentinels(s, buf), 0);
    assert_int_equal(sentinel_sentinel_count(s), SN_MAX_SENTINELS);
}

static void test_add_sentinel_validates(void **state)
{
    sentinel_t *s = *state;

    expect_invalid(s, sentinel_add_sentinel(s, NULL, 26379));
    expect_invalid(s, sentinel_add_sentinel(s, "", 26379));
    expect_invalid(s, sentinel_add_sentinel(s, "has space", 26379));
    expect_invalid(s, sentinel_add_sentinel(s, "127.0.0.1", 0));
    expect_invalid(s, sentinel_add_sentinel(s, "127.0.0.1", 65536));
    expect_invalid(s, sentinel_add_sentinel(s, "127.0.0.1", -1));
    assert_int_equal(sentinel_sentinel_count(s), 0);
    assert_int_equal(sentinel_add_sentinel(s, "::1", 26379), 0);
    expect_sentinel(s, 0, "::1", 26379);
    assert_int_equal(sentinel_add_sentinel(NULL, "::1", 26379), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_get_sentinel_bounds(void **state)
{
    char small[4];
    int port = 0;
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_sentinels(s, "sentinel-a:26379"), 0);
    assert_int_equal(sentinel_get_sentinel(s, 1, small, sizeof(small), &port),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_get_sentinel(s, 0, NULL, 10, &port), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_get_sentinel(NULL, 0, small, sizeof(small), &port),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    /* A short buffer gets a truncated, terminated copy. */
    assert_int_equal(sentinel_get_sentinel(s, 0, small, sizeof(small), &port), 0);
    assert_string_equal(small, "sen");
    assert_int_equal(port, 26379);
    assert_int_equal(sentinel_sentinel_count(NULL), 0);
}

static void test_seeds_stay_ahead_of_discovered_sentinels(void **state)
{
    sentinel_t *s = *state;
    sn_err e;

    assert_int_equal(sentinel_add_sentinel(s, "10.0.0.1", 26379), 0);
    /* What discovery does: append to the configuration. */
    assert_int_equal(sn_config_add_sentinel(&s->cfg, "10.0.0.9", 26379, &e), 0);
    assert_int_equal(sentinel_add_sentinel(s, "10.0.0.2", 26379), 0);
    assert_int_equal(sentinel_sentinel_count(s), 3);
    expect_sentinel(s, 0, "10.0.0.1", 26379);
    expect_sentinel(s, 1, "10.0.0.2", 26379);
    expect_sentinel(s, 2, "10.0.0.9", 26379);
}

/* ------------------------------------------------------------------------
 * Address maps
 * ------------------------------------------------------------------------ */

static void test_map_host_and_port(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, "10.0.0.5:6379=127.0.0.1:16379"), 0);
    assert_int_equal(s->cfg.nmaps, 1);
    assert_string_equal(s->cfg.maps[0].from.host, "10.0.0.5");
    assert_int_equal(s->cfg.maps[0].from.port, 6379);
    assert_string_equal(s->cfg.maps[0].to.host, "127.0.0.1");
    assert_int_equal(s->cfg.maps[0].to.port, 16379);
}

static void test_map_host_only(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, "a=b, redis-0.internal=127.0.0.1"), 0);
    assert_int_equal(s->cfg.nmaps, 2);
    assert_string_equal(s->cfg.maps[0].from.host, "a");
    assert_int_equal(s->cfg.maps[0].from.port, 0);
    assert_string_equal(s->cfg.maps[0].to.host, "b");
    assert_int_equal(s->cfg.maps[0].to.port, 0);
    assert_string_equal(s->cfg.maps[1].from.host, "redis-0.internal");
    assert_string_equal(s->cfg.maps[1].to.host, "127.0.0.1");
}

static void test_map_ipv6(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, "[::1]=127.0.0.1,[fd00::5]:6379=[::1]:16379"),
                     0);
    assert_int_equal(s->cfg.nmaps, 2);
    assert_string_equal(s->cfg.maps[0].from.host, "::1");
    assert_int_equal(s->cfg.maps[0].from.port, 0);
    assert_string_equal(s->cfg.maps[0].to.host, "127.0.0.1");
    assert_int_equal(s->cfg.maps[0].to.port, 0);
    assert_string_equal(s->cfg.maps[1].from.host, "fd00::5");
    assert_int_equal(s->cfg.maps[1].from.port, 6379);
    assert_string_equal(s->cfg.maps[1].to.host, "::1");
    assert_int_equal(s->cfg.maps[1].to.port, 16379);
}

static void test_map_malformed_is_refused_all_or_nothing(void **state)
{
    static const char *const bad[] = {
        "10.0.0.5",          /* no '=' */
        "=127.0.0.1",        /* empty from */
        "10.0.0.5=",         /* empty to */
        "a=b=c",             /* two '=' */
        "a:0=b",             /* port 0 */
        "a:x=b",             /* bad port */
        "a=b:65536",         /* bad port */
        "a b",               /* split into two entries, neither has '=' */
        "[::1=b",            /* unclosed bracket */
        "a/b=c",             /* bad host */
        "a=b,c",             /* second entry bad */
    };
    sentinel_t *s = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sentinel_add_address_maps(s, bad[i]);
        if (rc == SENTINEL_OK)
            fail_msg("map '%s' was accepted", bad[i]);
        expect_invalid(s, rc);
    }
    expect_invalid(s, sentinel_add_address_maps(s, NULL));
    assert_int_equal(s->cfg.nmaps, 0);
}

static void test_map_more_than_64_is_refused(void **state)
{
    char buf[66 * 32];
    size_t len = 0;
    sentinel_t *s = *state;

    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s10.0.0.%d=127.0.0.1",
                                i ? "," : "", i + 1);
    expect_invalid(s, sentinel_add_address_maps(s, buf));
    assert_int_equal(s->cfg.nmaps, 0);
}

static void test_map_empty_list_adds_nothing(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, ""), 0);
    assert_int_equal(s->cfg.nmaps, 0);
}

static void test_add_address_map_single_entry(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_map(s, "10.0.0.5", 6379, "127.0.0.1", 16379), 0);
    assert_int_equal(sentinel_add_address_map(s, "fd00::5", 0, "::1", 0), 0);
    assert_int_equal(s->cfg.nmaps, 2);
    assert_string_equal(s->cfg.maps[0].from.host, "10.0.0.5");
    assert_int_equal(s->cfg.maps[0].from.port, 6379);
    assert_string_equal(s->cfg.maps[0].to.host, "127.0.0.1");
    assert_int_equal(s->cfg.maps[0].to.port, 16379);
    assert_string_equal(s->cfg.maps[1].from.host, "fd00::5");
    assert_int_equal(s->cfg.maps[1].from.port, 0);
    assert_string_equal(s->cfg.maps[1].to.host, "::1");
    assert_int_equal(s->cfg.maps[1].to.port, 0);
    expect_invalid(s, sentinel_add_address_map(s, NULL, 1, "b", 1));
    expect_invalid(s, sentinel_add_address_map(s, "a", -1, "b", 1));
    expect_invalid(s, sentinel_add_address_map(s, "a", 1, "b", 65536));
    expect_invalid(s, sentinel_add_address_map(s, "a b", 1, "b", 1));
    assert_int_equal(s->cfg.nmaps, 2);
}

static void map_one(const sentinel_t *s, const char *host, int port, const char *want_host,
                    int want_port)
{
    sn_hostport hp;

    snprintf(hp.host, sizeof(hp.host), "%s", host);
    hp.port = port;
    sn_config_map(&s->cfg, &hp);
    assert_string_equal(hp.host, want_host);
    assert_int_equal(hp.port, want_port);
}

static void test_config_map_port_specific_before_any_port(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, "10.0.0.5:6379=127.0.0.1:16379,"
                                                  "10.0.0.5=127.0.0.2"),
                     0);
    map_one(s, "10.0.0.5", 6379, "127.0.0.1", 16379); /* the port-specific entry */
    map_one(s, "10.0.0.5", 6380, "127.0.0.2", 6380);  /* any port, port kept */
    map_one(s, "10.0.0.6", 6379, "10.0.0.6", 6379);   /* no entry: unchanged */
    map_one(s, "10.0.0.50", 6379, "10.0.0.50", 6379); /* exact host match only */
}

static void test_config_map_first_match_wins_and_no_chaining(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_maps(s, "a=b:7000,a:6379=c:8000,b=z"), 0);
    /* The any-port entry is listed first, so it wins for 6379 too. */
    map_one(s, "a", 6379, "b", 7000);
    /* A mapped address is not mapped again. */
    map_one(s, "a", 1, "b", 7000);
    map_one(s, "b", 1, "z", 1);
}

static void test_config_map_to_port_zero_keeps_port(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_add_address_map(s, "10.0.0.5", 6379, "127.0.0.1", 0), 0);
    map_one(s, "10.0.0.5", 6379, "127.0.0.1", 6379);
    map_one(s, "10.0.0.5", 6380, "10.0.0.5", 6380);
}

/* ------------------------------------------------------------------------
 * Setters
 * ------------------------------------------------------------------------ */

static void test_timeouts_validated_and_zero_restores_default(void **state)
{
    static const struct {
        sentinel_timeout which;
        size_t off;
        int def;
    } kinds[] = {
        {SENTINEL_TIMEOUT_CONNECT, offsetof(sn_config, connect_ms), SN_DEFAULT_CONNECT_MS},
        {SENTINEL_TIMEOUT_COMMAND, offsetof(sn_config, command_ms), SN_DEFAULT_COMMAND_MS},
        {SENTINEL_TIMEOUT_TOTAL, offsetof(sn_config, total_ms), SN_DEFAULT_TOTAL_MS},
    };
    sentinel_t *s = *state;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int *field = (int *)((char *)&s->cfg + kinds[i].off);

        assert_int_equal(*field, kinds[i].def);
        assert_int_equal(sentinel_set_timeout(s, kinds[i].which, 1234), 0);
        assert_int_equal(*field, 1234);
        expect_invalid(s, sentinel_set_timeout(s, kinds[i].which, -1));
        expect_invalid(s, sentinel_set_timeout(s, kinds[i].which, -100000));
        expect_invalid(s, sentinel_set_timeout(s, kinds[i].which, 86400001));
        assert_int_equal(*field, 1234); /* a refused value changes nothing */
        assert_int_equal(sentinel_set_timeout(s, kinds[i].which, 0), 0);
        assert_int_equal(*field, kinds[i].def);
    }
    expect_invalid(s, sentinel_set_timeout(s, (sentinel_timeout)7, 100));
    assert_int_equal(sentinel_set_timeout(NULL, SENTINEL_TIMEOUT_TOTAL, 100),
                     SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_cache_ttl_validated(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(s->cfg.ttl_ms, SN_DEFAULT_TTL_MS);
    assert_int_equal(sentinel_set_cache_ttl(s, 1), 0);
    assert_int_equal(s->cfg.ttl_ms, 1);
    expect_invalid(s, sentinel_set_cache_ttl(s, -5));
    assert_int_equal(s->cfg.ttl_ms, 1);
    assert_int_equal(sentinel_set_cache_ttl(s, 0), 0);
    assert_int_equal(s->cfg.ttl_ms, SN_DEFAULT_TTL_MS);
    assert_int_equal(sentinel_set_cache_ttl(NULL, 10), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_retry_validated(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(sentinel_set_retry(s, 3, 5, 50), 0);
    assert_int_equal(s->cfg.tries, 3);
    assert_int_equal(s->cfg.backoff_base_ms, 5);
    assert_int_equal(s->cfg.backoff_max_ms, 50);
    expect_invalid(s, sentinel_set_retry(s, -1, 5, 50));
    expect_invalid(s, sentinel_set_retry(s, 1001, 5, 50));
    expect_invalid(s, sentinel_set_retry(s, 3, -5, 50));
    expect_invalid(s, sentinel_set_retry(s, 3, 5, -50));
    assert_int_equal(s->cfg.tries, 3);
    /* max below base is raised to base */
    assert_int_equal(sentinel_set_retry(s, 3, 100, 10), 0);
    assert_int_equal(s->cfg.backoff_max_ms, 100);
    assert_int_equal(sentinel_set_retry(s, 0, 0, 0), 0);
    assert_int_equal(s->cfg.tries, SN_DEFAULT_TRIES);
    assert_int_equal(s->cfg.backoff_base_ms, SN_DEFAULT_BACKOFF_BASE_MS);
    assert_int_equal(s->cfg.backoff_max_ms, SN_DEFAULT_BACKOFF_MAX_MS);
    assert_int_equal(sentinel_set_retry(NULL, 1, 1, 1), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_quorum_verify_discovery_setters(void **state)
{
    sentinel_t *s = *state;

    assert_int_equal(s->cfg.quorum, 1);
    assert_int_equal(sentinel_set_quorum(s, 3), 0);
    assert_int_equal(s->cfg.quorum, 3);
    expect_invalid(s, sentinel_set_quorum(s, -1));
    expect_invalid(s, sentinel_set_quorum(s, SN_MAX_SENTINELS + 1));
    assert_int_equal(s->cfg.quorum, 3);
    assert_int_equal(sentinel_set_quorum(s, 0), 0);
    assert_int_equal(s->cfg.quorum, 1);

    assert_int_equal(s->cfg.verify, 1);
    assert_int_equal(sentinel_set_verify(s, 0), 0);
    assert_int_equal(s->cfg.verify, 0);
    assert_int_equal(sentinel_set_verify(s, 42), 0);
    assert_int_equal(s->cfg.verify, 1);

    assert_int_equal(s->cfg.discovery, 1);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);
    assert_int_equal(s->cfg.discovery, 0);
    assert_int_equal(sentinel_set_discovery(s, -1), 0);
    assert_int_equal(s->cfg.discovery, 1);

    assert_int_equal(sentinel_set_quorum(NULL, 1), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_set_verify(NULL, 1), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_set_discovery(NULL, 1), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_a_good_call_after_an_error_keeps_working(void **state)
{
    sentinel_t *s = *state;

    expect_invalid(s, sentinel_set_cache_ttl(s, -1));
    assert_string_not_equal(sentinel_errstr(s), "");
    assert_int_equal(sentinel_add_sentinels(s, "127.0.0.1:26379"), 0);
    assert_int_equal(sentinel_sentinel_count(s), 1);
}

/* ------------------------------------------------------------------------
 * Names and credentials
 * ------------------------------------------------------------------------ */

static void test_new_refuses_bad_names(void **state)
{
    char longname[202];
    static const char *const bad[] = {"", "my master", " mymaster", "mymaster ", "a\tb",
                                      "a\nb", "a\rb", "a\x7f" "b"};

    (void)state;
    assert_null(sentinel_new(NULL, NULL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(sentinel_new(bad[i], NULL));
    memset(longname, 'm', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_null(sentinel_new(longname, NULL)); /* 201 characters */
    longname[200] = '\0';
    {
        sentinel_t *s = sentinel_new(longname, NULL); /* 200 characters */
        assert_non_null(s);
        sentinel_free(s);
    }
    sentinel_free(NULL);
}

static void test_new_copies_the_name_and_has_defaults(void **state)
{
    char name[] = "mymaster";
    sentinel_t *s;
    sentinel_stats st = {.size = sizeof(st)};

    (void)state;
    s = sentinel_new(name, NULL);
    assert_non_null(s);
    name[0] = 'X';
    assert_string_equal(s->cfg.master_name, "mymaster");
    assert_int_equal(sentinel_sentinel_count(s), 0);
    assert_int_equal(sentinel_errcode(s), SENTINEL_OK);
    assert_string_equal(sentinel_errstr(s), "");
    assert_int_equal(sentinel_get_stats(s, &st), 0);
    assert_int_equal(st.resolutions, 0);
    sentinel_free(s);
}

static void test_credentials_user_without_password_refused(void **state)
{
    sentinel_t *s = *state;

    expect_invalid(s, sentinel_set_sentinel_auth(s, "user", NULL));
    expect_invalid(s, sentinel_set_data_auth(s, "user", NULL));
    assert_null(s->cfg.sentinel_cred.user);
    assert_null(s->cfg.sentinel_cred.password);
    assert_null(s->cfg.data_cred.user);
    assert_int_equal(sentinel_set_sentinel_auth(NULL, NULL, "x"), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_set_data_auth(NULL, NULL, "x"), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_credentials_copied_and_separate(void **state)
{
    char user[] = "suser", pass[] = "spass";
    sentinel_t *s = *state;

    assert_int_equal(sentinel_set_sentinel_auth(s, user, pass), 0);
    assert_int_equal(sentinel_set_data_auth(s, NULL, "dpass"), 0);
    user[0] = pass[0] = 'X';
    assert_string_equal(s->cfg.sentinel_cred.user, "suser");
    assert_string_equal(s->cfg.sentinel_cred.password, "spass");
    assert_null(s->cfg.data_cred.user); /* password-only AUTH */
    assert_string_equal(s->cfg.data_cred.password, "dpass");

    /* An empty user means password-only; NULL password clears. */
    assert_int_equal(sentinel_set_data_auth(s, "", "dpass2"), 0);
    assert_null(s->cfg.data_cred.user);
    assert_string_equal(s->cfg.data_cred.password, "dpass2");
    assert_int_equal(sentinel_set_sentinel_auth(s, NULL, NULL), 0);
    assert_null(s->cfg.sentinel_cred.user);
    assert_null(s->cfg.sentinel_cred.password);
    assert_string_equal(s->cfg.data_cred.password, "dpass2");
}

/* ------------------------------------------------------------------------
 * Statistics and error strings
 * ------------------------------------------------------------------------ */

static void fill_stats(sentinel_t *s)
{
    s->stats.resolutions = 11;
    s->stats.cache_hits = 22;
    s->stats.sentinel_queries = 33;
    s->stats.sentinel_failures = 44;
    s->stats.role_checks = 55;
    s->stats.invalidations = 66;
    s->stats.errors = 77;
    s->stats.shared_waits = 88;
}

static void test_stats_full_size(void **state)
{
    sentinel_stats st;
    sentinel_t *s = *state;

    fill_stats(s);
    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    assert_int_equal(sentinel_get_stats(s, &st), 0);
    assert_int_equal(st.size, sizeof(st));
    assert_int_equal(st.resolutions, 11);
    assert_int_equal(st.cache_hits, 22);
    assert_int_equal(st.sentinel_queries, 33);
    assert_int_equal(st.sentinel_failures, 44);
    assert_int_equal(st.role_checks, 55);
    assert_int_equal(st.invalidations, 66);
    assert_int_equal(st.errors, 77);
    assert_int_equal(st.shared_waits, 88);
}

static void test_stats_smaller_size_from_older_caller(void **state)
{
    sentinel_stats st;
    sentinel_t *s = *state;

    /* A caller built against a version that had only the first two counters. */
    fill_stats(s);
    memset(&st, 0xee, sizeof(st));
    st.size = offsetof(sentinel_stats, sentinel_queries);
    assert_int_equal(sentinel_get_stats(s, &st), 0);
    assert_int_equal(st.size, offsetof(sentinel_stats, sentinel_queries));
    assert_int_equal(st.resolutions, 11);
    assert_int_equal(st.cache_hits, 22);
    /* Nothing past the caller's size was written. */
    assert_int_equal(st.sentinel_queries, 0xeeeeeeeeeeeeeeeeULL);
    assert_int_equal(st.shared_waits, 0xeeeeeeeeeeeeeeeeULL);
}

static void test_stats_larger_size_from_newer_caller(void **state)
{
    struct {
        sentinel_stats st;
        uint64_t future[4];
    } big;
    sentinel_t *s = *state;

    fill_stats(s);
    memset(&big, 0xee, sizeof(big));
    big.st.size = sizeof(big);
    assert_int_equal(sentinel_get_stats(s, &big.st), 0);
    assert_int_equal(big.st.size, sizeof(sentinel_stats)); /* what we filled */
    assert_int_equal(big.st.shared_waits, 88);
    assert_int_equal(big.future[0], 0xeeeeeeeeeeeeeeeeULL);
}

static void test_stats_bad_arguments(void **state)
{
    sentinel_stats st = {.size = 0};
    sentinel_t *s = *state;

    assert_int_equal(sentinel_get_stats(s, &st), SENTINEL_ERR_INVALID_ARGUMENT);
    st.size = sizeof(size_t) - 1;
    assert_int_equal(sentinel_get_stats(s, &st), SENTINEL_ERR_INVALID_ARGUMENT);
    st.size = sizeof(st);
    assert_int_equal(sentinel_get_stats(NULL, &st), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_get_stats(s, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_errstr_without_handle(void **state)
{
    (void)state;
    assert_int_equal(sentinel_errcode(NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(sentinel_errstr(NULL));
}

/* ------------------------------------------------------------------------
 * Lower-level parsing helpers
 * ------------------------------------------------------------------------ */

static int count_item(const char *item, size_t n, void *ud)
{
    (void)item;
    (void)n;
    ++*(int *)ud;
    return 0;
}

static int fail_on_second(const char *item, size_t n, void *ud)
{
    (void)item;
    (void)n;
    return ++*(int *)ud == 2 ? -1 : 0;
}

static void test_split_list(void **state)
{
    int calls = 0;

    (void)state;
    assert_int_equal(sn_split_list("a, b\tc\r\nd,,", count_item, &calls), 4);
    assert_int_equal(calls, 4);
    calls = 0;
    assert_int_equal(sn_split_list(" ,\t", count_item, &calls), 0);
    assert_int_equal(calls, 0);
    calls = 0;
    assert_int_equal(sn_split_list("a,b,c", fail_on_second, &calls), -1);
    assert_int_equal(calls, 2); /* stops at the failure */
}

static void test_parse_hostport(void **state)
{
    sn_hostport hp;
    sn_err e;

    (void)state;
    sn_err_clear(&e);
    /* Only len bytes are read: the rest of the buffer is not part of it. */
    assert_int_equal(sn_parse_hostport("10.0.0.1:26379,junk", 14, &hp, &e), 0);
    assert_string_equal(hp.host, "10.0.0.1");
    assert_int_equal(hp.port, 26379);
    assert_int_equal(sn_parse_hostport("[::1]:1", 7, &hp, &e), 0);
    assert_string_equal(hp.host, "::1");
    assert_int_equal(hp.port, 1);
    assert_int_equal(sn_parse_hostport("10.0.0.1:26379", 13, &hp, &e), 0);
    assert_int_equal(hp.port, 2637);
    assert_int_equal(sn_parse_hostport("", 0, &hp, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_INVALID_ARGUMENT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_handle, teardown_handle)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_list_commas_and_spaces),
        T(test_list_ipv6_literals),
        T(test_list_hostnames),
        T(test_list_empty_is_refused),
        T(test_list_entry_without_port_is_refused),
        T(test_list_bad_ports_are_refused),
        T(test_list_bad_hosts_are_refused),
        T(test_list_trailing_and_leading_commas),
        T(test_list_is_all_or_nothing),
        T(test_list_more_than_64_entries_is_refused),
        T(test_list_across_calls_over_64_is_refused),
        T(test_list_duplicates_ignored),
        T(test_list_duplicates_ignored_when_full),
        T(test_list_duplicates_within_one_list_do_not_count),
        T(test_add_sentinel_validates),
        T(test_get_sentinel_bounds),
        T(test_seeds_stay_ahead_of_discovered_sentinels),
        T(test_map_host_and_port),
        T(test_map_host_only),
        T(test_map_ipv6),
        T(test_map_malformed_is_refused_all_or_nothing),
        T(test_map_more_than_64_is_refused),
        T(test_map_empty_list_adds_nothing),
        T(test_add_address_map_single_entry),
        T(test_config_map_port_specific_before_any_port),
        T(test_config_map_first_match_wins_and_no_chaining),
        T(test_config_map_to_port_zero_keeps_port),
        T(test_timeouts_validated_and_zero_restores_default),
        T(test_cache_ttl_validated),
        T(test_retry_validated),
        T(test_quorum_verify_discovery_setters),
        T(test_a_good_call_after_an_error_keeps_working),
        cmocka_unit_test(test_new_refuses_bad_names),
        cmocka_unit_test(test_new_copies_the_name_and_has_defaults),
        T(test_credentials_user_without_password_refused),
        T(test_credentials_copied_and_separate),
        T(test_stats_full_size),
        T(test_stats_smaller_size_from_older_caller),
        T(test_stats_larger_size_from_newer_caller),
        T(test_stats_bad_arguments),
        cmocka_unit_test(test_errstr_without_handle),
        cmocka_unit_test(test_split_list),
        cmocka_unit_test(test_parse_hostport),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
