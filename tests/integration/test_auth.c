/*
 * Credentials (DESIGN.md behaviour 9): sentinels and data nodes have
 * separate passwords; each wrong one is SENTINEL_ERR_AUTH with a message
 * that never contains the password.
 */
#define _GNU_SOURCE
#include "it_common.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separate_sentinel_and_data_credentials),
        cmocka_unit_test(test_wrong_sentinel_password_is_auth_error),
        cmocka_unit_test(test_missing_sentinel_password_is_auth_error),
        cmocka_unit_test(test_wrong_data_password_is_auth_error),
        cmocka_unit_test(test_credentials_are_not_swapped),
    };

    return cmocka_run_group_tests_name("integration: credentials", tests, group_setup,
                                       it_group_teardown);
}
