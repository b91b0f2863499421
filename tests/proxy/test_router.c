/*
 * Several masters in one process, from inside the router (route.c), on the
 * scripted sentinels, data nodes and clock of tests/unit/fake_sentinels.c:
 * the routes' followers (one group) reach the fake sentinels through the
 * transport seam, the router's and routes' loops are real epoll sets, the
 * listeners real sockets. No sleeps: the clock moves when the test says.
 *
 *  - a route whose own event loop fails closes alone, the process and the
 *    other route go on (its epoll descriptor is replaced by /dev/null),
 *    with the routes on the router's thread and on threads of their own;
 *  - when the last route's loop fails, the process's loop fails with
 *    sentinel_proxy_errstr() naming that route and its real cause, not
 *    errno as it happens to be when the router notices ("Success"), nor
 *    errno as the host's log callback left it (syslog() without /dev/log);
 *  - a group step that gives a route's follower a timer (a polled answer
 *    names a new master, whose first probe is refused: retry soon) re-arms
 *    that route's timer, so the retries run then, not at the route's old
 *    due time (up to a poll interval later: a longer write pause).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_sentinels.h"
#include "proxy/proxy_core.h"

/* A host's log callback that changes errno, as syslog() does when it
 * cannot reach /dev/log. */
static void errno_clobbering_log(sentinel_proxy_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)msg;
    (void)ud;
    errno = ENOENT;
}

static sentinel_proxy_t *router_logging(const char *threads, sentinel_proxy_log_cb cb)
{
    char *argv[] = {"sentinel-proxy",
                    "--sentinel",
                    "10.0.1.1:26379,10.0.1.2:26379,10.0.1.3:26379",
                    "--route",
                    "127.0.0.1:0=mymaster",
                    "--route",
                    "127.0.0.1:0=cache",
                    "--resolve-timeout",
                    "0",
                    "--log-level",
                    "error",
                    "--route-threads",
                    (char *)threads,
                    NULL};
    sentinel_proxy_config_t *c = sentinel_proxy_config_new();
    sentinel_proxy_t *p;
    int code = 0;

    assert_non_null(c);
    assert_int_equal(sentinel_proxy_config_parse_args(c, 13, argv, NULL), 0);
    if (cb != NULL)
        assert_int_equal(sentinel_proxy_config_set_log(c, cb, NULL), SENTINEL_OK);
    p = sentinel_proxy_new(c, &code);
    sentinel_proxy_config_free(c);
    assert_non_null(p);
    assert_int_equal(p->nroutes, 2);
    return p;
}

static sentinel_proxy_t *router_with(const char *threads)
{
    return router_logging(threads, NULL);
}

/* Routes on the router's thread: the scripted clock and network are one
 * thread's. */
static sentinel_proxy_t *router(void)
{
    return router_with("no");
}

/* Steps of the router at the current (scripted) time until route r's
 * follower follows a master; its state after at most 10 steps. */
static sentinel_follow_state settle(sentinel_proxy_t *p, sentinel_proxy_t *r)
{
    for (int i = 0; i < 10 && sentinel_follow_get_state(r->follow) != SENTINEL_FOLLOW_FOLLOWING;
         i++)
        assert_int_equal(px_proxy_step(p, 0), 0);
    return sentinel_follow_get_state(r->follow);
}

static int setup(void **state)
{
    (void)state;
    fake_topology();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_net_remove();
    assert_int_equal(open_connections(), 0);
    return 0;
}

static void test_a_failed_route_closes_alone(void **state)
{
    sentinel_proxy_t *p = router();
    sentinel_proxy_t *bad = p->routes[0], *good = p->routes[1];
    int devnull = open("/dev/null", O_RDONLY);
    int port = sentinel_proxy_port(good);

    (void)state;
    assert_true(devnull >= 0);
    assert_true(port > 0);
    assert_int_equal(px_proxy_step(p, 0), 0); /* both routes run */
    assert_true(dup2(devnull, sentinel_proxy_fd(bad)) >= 0);
    close(devnull);
    bad->route_ready = 1;
    assert_int_equal(px_proxy_step(p, 0), 0); /* the process goes on */
    assert_true(bad->stopped);
    assert_int_equal(bad->tcp_fd, -1); /* its listener is closed */
    assert_null(bad->follow);          /* and its follower left the group */
    assert_int_equal(sentinel_follow_group_size(p->group), 1);
    assert_false(good->stopped);
    assert_int_equal(sentinel_proxy_port(good), port);
    for (int i = 0; i < 5; i++)
        assert_int_equal(px_proxy_step(p, 0), 0);
    assert_false(good->stopped);
    sentinel_proxy_free(p);
}

/* The same with route threads: the failed route's thread leaves its loop,
 * the router joins it and closes that route alone. (The route threads only
 * read the scripted clock; the followers, which use the scripted network,
 * run on the router's thread.) */
static void test_a_failed_route_thread_closes_alone(void **state)
{
    sentinel_proxy_t *p = router_with("yes");
    sentinel_proxy_t *bad = p->routes[0], *good = p->routes[1];
    int devnull = open("/dev/null", O_RDONLY);
    int port = sentinel_proxy_port(good);

    (void)state;
    assert_true(p->threaded && bad->thread_started && good->thread_started);
    assert_true(devnull >= 0);
    assert_true(port > 0);
    /* Its next epoll_wait fails (within a tick: its timers are due then). */
    assert_true(dup2(devnull, sentinel_proxy_fd(bad)) >= 0);
    close(devnull);
    for (int i = 0; i < 100 && !bad->thread_joined; i++)
        assert_int_equal(px_proxy_step(p, 100), 0); /* the process goes on */
    assert_true(bad->thread_joined);
    assert_int_equal(bad->thread_rc, -1);
    assert_true(bad->stopped);
    assert_int_equal(bad->tcp_fd, -1); /* its listener is closed */
    assert_null(bad->follow);          /* and its follower left the group */
    assert_int_equal(sentinel_follow_group_size(p->group), 1);
    assert_false(atomic_load(&good->thread_done));
    assert_int_equal(sentinel_proxy_port(good), port);
    for (int i = 0; i < 5; i++)
        assert_int_equal(px_proxy_step(p, 0), 0);
    assert_false(atomic_load(&good->thread_done));
    sentinel_proxy_free(p); /* joins the good route's thread */
}

/* Both routes' loops fail, one after the other: the router's step fails
 * with the last route's own error, in either mode, whatever the host's
 * log callback (cb, NULL: stderr) did to errno when the failure was logged. */
static void last_route_fails(const char *threads, sentinel_proxy_log_cb cb)
{
    sentinel_proxy_t *p = router_logging(threads, cb);
    char want[128];
    int rc = SENTINEL_OK, stopped = 0;

    for (int k = 0; k < 2; k++) {
        int devnull = open("/dev/null", O_RDONLY);

        assert_true(devnull >= 0);
        assert_true(dup2(devnull, sentinel_proxy_fd(p->routes[k])) >= 0);
        close(devnull);
        p->routes[k]->route_ready = 1;
        /* Routes on threads: the router notices within a few steps. */
        for (int i = 0; i < 100 && rc == SENTINEL_OK && !p->routes[k]->stopped; i++)
            rc = sentinel_proxy_step(p, 100, &stopped);
        assert_true(p->routes[k]->stopped);
        if (k == 0)
            assert_int_equal(rc, SENTINEL_OK); /* the other route goes on */
    }
    assert_int_equal(rc, SENTINEL_ERR_SYSTEM);
    /* epoll_wait on /dev/null: EINVAL. */
    snprintf(want, sizeof(want), "route cache: event loop: epoll_wait: %s", strerror(EINVAL));
    assert_string_equal(sentinel_proxy_errstr(p), want);
    assert_null(strstr(sentinel_proxy_errstr(p), "Success"));
    sentinel_proxy_free(p);
}

static void test_last_failed_route_is_the_errstr(void **state)
{
    (void)state;
    last_route_fails("no", NULL);
}

static void test_last_failed_route_thread_is_the_errstr(void **state)
{
    (void)state;
    last_route_fails("yes", NULL);
}

static void test_last_failed_route_errstr_survives_the_log_callback(void **state)
{
    (void)state;
    last_route_fails("no", errno_clobbering_log);
    last_route_fails("yes", errno_clobbering_log);
}

static void test_group_step_rearms_the_route_timers(void **state)
{
    sentinel_proxy_t *p = router();
    sentinel_proxy_t *r = p->routes[0]; /* mymaster */
    int64_t t0 = fake_now;
    sentinel_addr a;

    (void)state;
    assert_int_equal(settle(p, r), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(r->follow, &a), 0);
    assert_string_equal(a.host, "10.0.0.1");
    /* The route's follower runs on its own half-way to the next poll (its
     * timer was due: a probe, a verify): the route's next due time is then
     * a poll interval later, after the group's next poll. */
    fake_now = t0 + 500;
    r->follow_due = fake_now;
    assert_int_equal(px_proxy_step(p, 0), 0);
    assert_true(r->follow_due > t0 + 1000);
    /* The sentinels name another master, which refuses connections for
     * now: the group's next poll hears of it and the follower's first
     * probe fails at once, inside the group's step; its retry is the
     * route's timer, due long before the route's old due time. */
    strcpy(M1->role, "slave");
    strcpy(R1->role, "master");
    R1->refuse = 1;
    sentinels_name("10.0.0.2", 6380);
    fake_now = t0 + 1000;
    assert_int_equal(px_proxy_step(p, 0), 0);
    assert_int_equal(sentinel_follow_get_state(r->follow), SENTINEL_FOLLOW_PROBING);
    assert_true(R1->opens == 0);
    assert_true(r->follow_due <= fake_now + sentinel_follow_timeout(r->follow));
    /* R1 accepts again: the route's retries reach it before its old due
     * time (scripted time: each step jumps to the router's next timer). */
    R1->refuse = 0;
    for (int i = 0; i < 100 && sentinel_follow_get_state(r->follow) != SENTINEL_FOLLOW_FOLLOWING;
         i++) {
        fake_now += sentinel_proxy_timeout(p);
        assert_int_equal(px_proxy_step(p, 0), 0);
    }
    assert_int_equal(sentinel_follow_master(r->follow, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(fake_now < t0 + 1500);
    sentinel_proxy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_failed_route_closes_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_route_thread_closes_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_last_failed_route_is_the_errstr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_failed_route_thread_is_the_errstr, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_last_failed_route_errstr_survives_the_log_callback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_step_rearms_the_route_timers, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
