/*
 * Credentials (DESIGN.md behaviour 9): sentinels and data nodes have
 * separate passwords; each wrong one is SENTINEL_ERR_AUTH with a message
 * that never contains the password. A follower (alone, or in a group on
 * shared links) that cannot poll says why in sentinel_follow_errstr(): the
 * sentinels' own refusal, or the connect's error, not a generic text.
 */
#define _GNU_SOURCE
#include "it_common.h"
#include "sentinel/follow.h"

#define SENTINEL_PASS "sentinel-secret-1"
#define DATA_PASS "data-secret-2"

static int group_setup(void **state)
{
    topo_options opt = {.sentinel_password = SENTINEL_PASS, .data_password = DATA_PASS};

    (void)state;
    topo = it_start(&opt);
    return topo ? 0 : -1;
}

static sentinel_t *handle(const char *spass, const char *dpass)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);

    assert_int_equal(sentinel_add_sentinels(s, topo_sentinel_list(topo)), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 2000), 0);
    if (spass)
        assert_int_equal(sentinel_set_sentinel_auth(s, NULL, spass), 0);
    if (dpass)
        assert_int_equal(sentinel_set_data_auth(s, NULL, dpass), 0);
    return s;
}

static void test_separate_sentinel_and_data_credentials(void **state)
{
    sentinel_t *s = handle(SENTINEL_PASS, DATA_PASS);
    sentinel_addr a;
    redisContext *c;
    redisReply *r;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, topo_master_port(topo));
    c = sentinel_connect_master(s, NULL);
    assert_non_null(c);
    r = redisCommand(c, "SET it:auth 1");
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
    sentinel_free(s);
}

static void test_wrong_sentinel_password_is_auth_error(void **state)
{
    sentinel_t *s = handle("wrong-sentinel-pass", DATA_PASS);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    assert_null(strstr(sentinel_errstr(s), "wrong-sentinel-pass"));
    sentinel_free(s);
}

static void test_missing_sentinel_password_is_auth_error(void **state)
{
    sentinel_t *s = handle(NULL, DATA_PASS);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    sentinel_free(s);
}

static void test_wrong_data_password_is_auth_error(void **state)
{
    sentinel_t *s = handle(SENTINEL_PASS, "wrong-data-pass");
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    assert_null(strstr(sentinel_errstr(s), "wrong-data-pass"));
    assert_null(sentinel_connect_master(s, NULL));
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_AUTH);
    sentinel_free(s);
}

/* Sentinel and data passwords are not interchangeable. */
static void test_credentials_are_not_swapped(void **state)
{
    sentinel_t *s = handle(DATA_PASS, SENTINEL_PASS);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_AUTH);
    sentinel_free(s);
}

/* Runs f (or g, its group) until f's error code is code: at most 100
 * turns of at most 100 ms each. */
static void follow_until(sentinel_follow_t *f, sentinel_follow_group_t *g, int code)
{
    for (int i = 0; i < 100 && sentinel_follow_errcode(f) != code; i++) {
        if (g)
            sentinel_follow_group_run_once(g, 100);
        else
            sentinel_follow_run_once(f, 100);
    }
}

/* The sentinels refuse the follower's AUTH: its errstr quotes what they
 * answered (WRONGPASS), never the password. */
static void follower_quotes_auth_refusal(int in_group)
{
    sentinel_t *s = handle("wrong-sentinel-pass", DATA_PASS);
    sentinel_follow_group_t *g = NULL;
    sentinel_follow_t *f;
    const char *e;
    char first[512];

    if (in_group) {
        g = sentinel_follow_group_new(s, NULL);
        assert_non_null(g);
        f = sentinel_follow_new_in_group(g, s, NULL);
    } else {
        f = sentinel_follow_new(s, NULL);
    }
    assert_non_null(f);
    follow_until(f, g, SENTINEL_ERR_AUTH);
    e = sentinel_follow_errstr(f);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_AUTH);
    assert_non_null(strstr(e, "refused AUTH"));
    assert_non_null(strstr(e, "WRONGPASS"));
    assert_null(strstr(e, "wrong-sentinel-pass"));
    /* The same text from poll to poll, whichever sentinel refused last
     * (a host that logs each new text logs it once). */
    snprintf(first, sizeof(first), "%s", e);
    for (int i = 0; i < 30; i++) {
        if (g)
            sentinel_follow_group_run_once(g, 100);
        else
            sentinel_follow_run_once(f, 100);
        assert_string_equal(sentinel_follow_errstr(f), first);
    }
    sentinel_follow_free(f);
    sentinel_follow_group_free(g);
    sentinel_free(s);
}

static void test_follower_quotes_the_sentinels_auth_refusal(void **state)
{
    (void)state;
    follower_quotes_auth_refusal(0);
}

static void test_follower_in_group_quotes_the_sentinels_auth_refusal(void **state)
{
    (void)state;
    follower_quotes_auth_refusal(1);
}

/* Every sentinel refuses the connection (a port bound, not listening): the
 * follower's errstr says so, with the address. */
static void test_follower_quotes_refused_connections(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_follow_t *f;
    char list[64];
    const char *e;

    (void)state;
    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(list, sizeof(list), "127.0.0.1:%d", ntohs(sa.sin_port));
    assert_int_equal(sentinel_add_sentinels(s, list), 0);
    f = sentinel_follow_new(s, NULL);
    assert_non_null(f);
    follow_until(f, NULL, SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    e = sentinel_follow_errstr(f);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_non_null(strstr(e, list));
    assert_non_null(strstr(e, "refused"));
    sentinel_follow_free(f);
    sentinel_free(s);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separate_sentinel_and_data_credentials),
        cmocka_unit_test(test_wrong_sentinel_password_is_auth_error),
        cmocka_unit_test(test_missing_sentinel_password_is_auth_error),
        cmocka_unit_test(test_wrong_data_password_is_auth_error),
        cmocka_unit_test(test_credentials_are_not_swapped),
        cmocka_unit_test(test_follower_quotes_the_sentinels_auth_refusal),
        cmocka_unit_test(test_follower_in_group_quotes_the_sentinels_auth_refusal),
        cmocka_unit_test(test_follower_quotes_refused_connections),
    };

    return cmocka_run_group_tests_name("integration: credentials", tests, group_setup,
                                       it_group_teardown);
}
