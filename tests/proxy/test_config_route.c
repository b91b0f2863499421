/*
 * Unit tests of the configuration of several masters in one process
 * (src/proxy/config_route.c): "route LISTEN=NAME" from flags and files,
 * the classic listen/master pair as one more route, watch mode's repeated
 * master names, and every refusal with a message that says why. No network.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/proxy_int.h"

static char err[512];

static sentinel_proxy_config_t *with_sentinel(void)
{
    sentinel_proxy_config_t *c = sentinel_proxy_config_new();

    assert_non_null(c);
    assert_int_equal(px_config_set(c, "sentinel", "127.0.0.1:26379", err,
                                               sizeof(err)),
                     0);
    return c;
}

static int set(sentinel_proxy_config_t *c, const char *k, const char *v)
{
    err[0] = '\0';
    return px_config_set(c, k, v, err, sizeof(err));
}

static void expect_refused(sentinel_proxy_config_t *c, const char *k, const char *v,
                           const char *says)
{
    assert_int_equal(set(c, k, v), -1);
    if (strstr(err, says) == NULL)
        fail_msg("%s %s: '%s' does not say '%s'", k, v, err, says);
}

static void test_route_values(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();
    px_route_conf r[PX_MAX_ROUTES + 1];
    int main_route;

    (void)state;
    assert_int_equal(set(c, "route", "127.0.0.1:6381=sessions"), 0);
    assert_int_equal(set(c, "route", "[::1]:6382=page=cache"), 0); /* the first '=' splits */
    assert_int_equal(set(c, "route", "127.0.0.1:6383  cache"), 0); /* the file's form */
    assert_int_equal(c->nroutes, 3);
    assert_string_equal(c->routes[0].host, "127.0.0.1");
    assert_int_equal(c->routes[0].port, 6381);
    assert_string_equal(c->routes[0].name, "sessions");
    assert_string_equal(c->routes[1].host, "::1");
    assert_string_equal(c->routes[1].name, "page=cache");
    assert_string_equal(c->routes[2].name, "cache");
    /* Routes only: no master needed, and the default listener is not one. */
    assert_int_equal(px_config_check(c, err, sizeof(err)), 0);
    assert_int_equal(px_config_routes(c, r, &main_route), 3);
    assert_int_equal(main_route, -1);
    /* With --master, the listen/master pair is one more route, first. */
    assert_int_equal(set(c, "master", "main"), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), 0);
    assert_int_equal(px_config_routes(c, r, &main_route), 4);
    assert_int_equal(main_route, 0);
    assert_string_equal(r[0].name, "main");
    assert_int_equal(r[0].port, 6380);
    /* Each route is a proxy of its own: the fd budget grows with them. */
    assert_true(sentinel_proxy_config_fds_wanted(c) >= 4 * 2 * c->max_clients);
    sentinel_proxy_config_free(c);
}

/* route-threads: on by default, yes/no as the other switches, refused
 * otherwise. */
static void test_route_threads(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();

    (void)state;
    assert_int_equal(c->route_threads, 1);
    assert_int_equal(set(c, "route-threads", "no"), 0);
    assert_int_equal(c->route_threads, 0);
    assert_int_equal(set(c, "route-threads", "yes"), 0);
    assert_int_equal(c->route_threads, 1);
    expect_refused(c, "route-threads", "sometimes", "route-threads: expected yes or no");
    assert_int_equal(c->route_threads, 1);
    sentinel_proxy_config_free(c);
}

static void test_route_refusals(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();

    (void)state;
    expect_refused(c, "route", "127.0.0.1:6381", "expected LISTEN=NAME");
    expect_refused(c, "route", "=cache", "expected LISTEN=NAME");
    expect_refused(c, "route", "127.0.0.1:6381=", "master name");
    expect_refused(c, "route", "127.0.0.1:6381=has\x01ctl", "master name");
    expect_refused(c, "route", "nonsense=cache", "route:");
    expect_refused(c, "route", "127.0.0.1:70000=cache", "route:");
    assert_int_equal(set(c, "route", "127.0.0.1:6381=cache"), 0);
    expect_refused(c, "route", "127.0.0.1:6381=sessions", "already the listener of master 'cache'");
    expect_refused(c, "route", "127.0.0.1:6390=cache", "'cache' already has a route");
    /* Port 0 is a fresh port each time: not a clash. */
    assert_int_equal(set(c, "route", "127.0.0.1:0=a"), 0);
    assert_int_equal(set(c, "route", "127.0.0.1:0=b"), 0);
    for (int i = c->nroutes; i < PX_MAX_ROUTES; i++) {
        char v[64];
        snprintf(v, sizeof(v), "127.0.0.1:0=m%d", i);
        assert_int_equal(set(c, "route", v), 0);
    }
    expect_refused(c, "route", "127.0.0.1:0=onetoomany", "at most 16");
    sentinel_proxy_config_free(c);
}

static void test_route_clashes_with_master(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();

    (void)state;
    assert_int_equal(set(c, "master", "cache"), 0);
    assert_int_equal(set(c, "route", "127.0.0.1:6381=cache"), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "also --master"));
    sentinel_proxy_config_free(c);

    c = with_sentinel();
    assert_int_equal(set(c, "master", "cache"), 0);
    assert_int_equal(set(c, "route", "127.0.0.1:6380=sessions"), 0); /* the default listen */
    assert_int_equal(px_config_check(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already --listen"));
    sentinel_proxy_config_free(c);

    c = with_sentinel(); /* --unix belongs to --master */
    assert_int_equal(set(c, "unix", "/tmp/x.sock"), 0);
    assert_int_equal(set(c, "route", "127.0.0.1:6381=sessions"), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "give --master too"));
    sentinel_proxy_config_free(c);

    c = with_sentinel(); /* one cache file cannot hold several masters */
    assert_int_equal(set(c, "route", "127.0.0.1:6381=sessions"), 0);
    assert_int_equal(set(c, "route", "127.0.0.1:6382=cache"), 0);
    assert_int_equal(set(c, "shared-cache", "/nonexistent/one.shm"), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "several masters"));
    sentinel_proxy_config_free(c);
}

static void test_watch_masters(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();
    char *argv[] = {"sentinel-proxy", "--watch", "--shared-cache", "auto", "--master", "a",
                    "--master", "b", "--master", "a", NULL};
    px_route_conf r[PX_MAX_ROUTES + 1];
    int main_route;

    (void)state;
    assert_int_equal(set(c, "master", "fromfile"), 0);
    assert_int_equal(px_config_parse_args(c, 10, argv, err, sizeof(err)), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), 0);
    /* The flags' names replace the file's; repeats collapse. */
    assert_int_equal(px_config_routes(c, r, &main_route), 2);
    assert_string_equal(r[0].name, "a");
    assert_string_equal(r[1].name, "b");
    assert_int_equal(r[0].port, -1);
    assert_int_equal(px_config_route_check(c, err, sizeof(err)), 1);
    /* Routes need listeners. */
    assert_int_equal(set(c, "route", "127.0.0.1:6381=x"), 0);
    assert_int_equal(px_config_check(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "watch mode has no listeners"));
    sentinel_proxy_config_free(c);

    /* Without --watch the last master counts, as for any flag. */
    c = with_sentinel();
    assert_int_equal(set(c, "master", "a"), 0);
    assert_int_equal(set(c, "master", "b"), 0);
    assert_int_equal(px_config_route_check(c, err, sizeof(err)), 0);
    assert_string_equal(c->master, "b");
    sentinel_proxy_config_free(c);
}

static void test_route_file(void **state)
{
    sentinel_proxy_config_t *c = with_sentinel();
    char path[] = "/tmp/route-conf.XXXXXX";
    int fd = mkstemp(path);
    const char *text = "# two masters\nroute 127.0.0.1:6381 sessions\nroute 127.0.0.1:6382=cache\n"
                       "route 127.0.0.1:6381 again\n";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    assert_int_equal(px_config_load(c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":4: route: 127.0.0.1:6381 is already the listener"));
    assert_int_equal(c->nroutes, 2);
    unlink(path);
    sentinel_proxy_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_values),     cmocka_unit_test(test_route_refusals),
        cmocka_unit_test(test_route_clashes_with_master), cmocka_unit_test(test_watch_masters),
        cmocka_unit_test(test_route_file),        cmocka_unit_test(test_route_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
