/*
 * The embeddable core (sentinel/proxy.h) driven from a host's own poll()
 * loop against a real topology: configure through the API, step with
 * sentinel_proxy_fd()/sentinel_proxy_timeout()/sentinel_proxy_step(), follow
 * a manual failover, read the stats, stop from another thread; and a proxy
 * with several routes (several masters in one process) the same way.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "sentinel/proxy.h"
#include "topology.h"

typedef struct client_job {
    sentinel_proxy_t *p;
    topo_t *topo;
    int port;
    int ok_before, ok_after, switched_port;
} client_job;

static int logged_lines;

static void on_log(sentinel_proxy_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    assert_non_null(msg);
    logged_lines++;
}

static redisReply *command(int port, const char *cmd)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r = NULL;

    if (c && !c->err) {
        redisSetTimeout(c, tv);
        r = redisCommand(c, cmd);
    }
    if (c)
        redisFree(c);
    return r;
}

static int port_through(int port)
{
    redisReply *r = command(port, "CONFIG GET port");
    int p = -1;

    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        p = atoi(r->element[1]->str);
    freeReplyObject(r);
    return p;
}

/* The host's loop: poll the proxy's fd, step it, until it stops. Bounded.
 * Returns the last sentinel_proxy_step() result (1: stopped). */
static int host_loop(sentinel_proxy_t *p)
{
    int rc = 0, stopped = 0;

    for (int steps = 0; rc == 0 && steps < 2000000; steps++) {
        struct pollfd pfd = {.fd = sentinel_proxy_fd(p), .events = POLLIN};
        poll(&pfd, 1, sentinel_proxy_timeout(p));
        rc = sentinel_proxy_step(p, 0, &stopped) == SENTINEL_OK ? stopped : -1;
    }
    return rc;
}

/* The client side runs in a thread; the proxy belongs to the main thread. */
static void *client_main(void *arg)
{
    client_job *j = arg;
    int old = topo_node_port(j->topo, 0), newp;

    redisReply *r = command(j->port, "SET embed:k v");
    j->ok_before = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (port_through(j->port) != old)
        j->ok_before = 0;
    if (topo_failover(j->topo) == 0 && (newp = topo_wait_switch(j->topo, old, 30000)) > 0) {
        /* Bounded: the proxy follows within a few seconds. */
        for (int i = 0; i < 100 && j->switched_port != newp; i++) {
            j->switched_port = port_through(j->port);
            if (j->switched_port != newp)
                usleep(100000);
        }
        r = command(j->port, "GET embed:k");
        j->ok_after = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "v") == 0 &&
                      j->switched_port == newp;
        freeReplyObject(r);
    }
    sentinel_proxy_stop(j->p); /* from another thread: allowed */
    return NULL;
}

static void test_embedded_proxy_follows_failover(void **state)
{
    char err[512];
    topo_t *t;
    sentinel_proxy_config_t *c;
    sentinel_proxy_t *p;
    sentinel_proxy_stats st;
    client_job job;
    pthread_t th;
    int rc;

    (void)state;
    t = topo_start(NULL, err, sizeof(err));
    if (t == NULL)
        fail_msg("topology: %s", err);
    c = sentinel_proxy_config_new();
    assert_non_null(c);
    assert_int_equal(sentinel_proxy_config_set(c, "sentinel", topo_sentinel_list(t)), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "master", topo_master_name(t)), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "listen", "127.0.0.1:0"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "log-level", "debug"), 0);
    sentinel_proxy_config_set_log(c, on_log, NULL);
    p = sentinel_proxy_new(c, NULL);
    if (p == NULL)
        fail_msg("sentinel_proxy_new: %s", sentinel_proxy_config_errstr(c));
    sentinel_proxy_config_free(c);
    assert_true(sentinel_proxy_port(p) > 0);
    assert_true(sentinel_proxy_fd(p) >= 0);

    memset(&job, 0, sizeof(job));
    job.p = p;
    job.topo = t;
    job.port = sentinel_proxy_port(p);
    assert_int_equal(pthread_create(&th, NULL, client_main, &job), 0);
    rc = host_loop(p);
    pthread_join(th, NULL);
    assert_int_equal(rc, 1); /* stopped */
    assert_true(job.ok_before);
    assert_true(job.ok_after);

    st.size = sizeof(st);
    assert_int_equal(sentinel_proxy_get_stats(p, &st), 0);
    assert_true(st.switches >= 1);
    assert_true(st.failovers_started >= 1);
    assert_true(st.connections_total >= 4);
    assert_int_equal(st.master_port, job.switched_port);
    /* An older, smaller stats struct gets only its fields. */
    {
        struct {
            size_t size;
            uint64_t connections_current;
        } small = {sizeof(small), 99};
        assert_int_equal(sentinel_proxy_get_stats(p, (sentinel_proxy_stats *)&small), 0);
        assert_int_equal(small.connections_current, 0);
    }
    assert_true(logged_lines > 0);
    sentinel_proxy_free(p);
    topo_stop(t);
}

/* An embedded proxy never changes process-wide limits (issue 10): the open
 * file limit is the host program's; the library says how many descriptors
 * it would like and fits max-clients under the limit it finds. */
static void test_library_leaves_the_fd_limit_alone(void **state)
{
    struct rlimit saved, rl;
    sentinel_proxy_config_t *c;
    sentinel_proxy_t *p;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_cur < 256)
        skip();
    rl = saved;
    rl.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    c = sentinel_proxy_config_new();
    assert_non_null(c);
    assert_int_equal(sentinel_proxy_config_set(c, "sentinel", "127.0.0.1:1"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "master", "m"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "listen", "127.0.0.1:0"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "max-clients", "4096"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "resolve-timeout", "0"), 0);
    sentinel_proxy_config_set_log(c, on_log, NULL);
    assert_int_equal(sentinel_proxy_config_fds_wanted(c), 2 * 4096 + 64);
    assert_int_equal(sentinel_proxy_config_fds_wanted(NULL), -1);
    p = sentinel_proxy_new(c, NULL);
    if (p == NULL)
        fail_msg("sentinel_proxy_new: %s", sentinel_proxy_config_errstr(c));
    sentinel_proxy_config_free(c);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 256); /* untouched */
    sentinel_proxy_free(p);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

/* Several masters in one process: a route to the topology's master and one
 * to a name no sentinel knows. */
typedef struct routes_job {
    sentinel_proxy_t *p;
    int known_port, ghost_port, master_port;
    int known_ok, ghost_refused;
} routes_job;

static void *routes_client_main(void *arg)
{
    routes_job *j = arg;

    for (int i = 0; i < 50 && !j->known_ok; i++) {
        redisReply *r = command(j->known_port, "CONFIG GET port");
        j->known_ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                      atoi(r->element[1]->str) == j->master_port;
        freeReplyObject(r);
        if (!j->known_ok)
            usleep(100000);
    }
    {
        redisReply *r = command(j->ghost_port, "PING");
        j->ghost_refused = r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "MASTERDOWN") &&
                           strstr(r->str, "ghost");
        freeReplyObject(r);
    }
    sentinel_proxy_stop(j->p); /* from another thread: allowed */
    return NULL;
}

static void test_two_routes_embedded(void **state)
{
    char err[512];
    topo_t *t;
    sentinel_proxy_config_t *c;
    sentinel_proxy_t *p;
    sentinel_proxy_stats st;
    pthread_t th;
    routes_job j;
    int rc;
    char route[300];

    (void)state;
    if ((t = topo_start(NULL, err, sizeof(err))) == NULL)
        fail_msg("topology: %s", err);
    c = sentinel_proxy_config_new();
    assert_non_null(c);
    assert_int_equal(sentinel_proxy_config_set(c, "sentinel", topo_sentinel_list(t)), 0);
    snprintf(route, sizeof(route), "127.0.0.1:0=%s", topo_master_name(t));
    assert_int_equal(sentinel_proxy_config_set(c, "route", route), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "route", "127.0.0.1:0=ghost"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "resolve-timeout", "500"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "pause-timeout", "500"), 0);
    sentinel_proxy_config_set_log(c, on_log, NULL);
    p = sentinel_proxy_new(c, NULL);
    if (p == NULL)
        fail_msg("sentinel_proxy_new: %s", sentinel_proxy_config_errstr(c));
    sentinel_proxy_config_free(c);

    memset(&j, 0, sizeof(j));
    j.p = p;
    j.known_port = sentinel_proxy_route_port(p, topo_master_name(t));
    j.ghost_port = sentinel_proxy_route_port(p, "ghost");
    j.master_port = topo_node_port(t, 0);
    assert_true(j.known_port > 0);
    assert_true(j.ghost_port > 0 && j.ghost_port != j.known_port);
    assert_int_equal(sentinel_proxy_route_port(p, "nobody"), -1);
    assert_int_equal(sentinel_proxy_port(p), j.known_port); /* the first route's */
    assert_true(sentinel_proxy_fd(p) >= 0);

    assert_int_equal(pthread_create(&th, NULL, routes_client_main, &j), 0);
    rc = host_loop(p);
    pthread_join(th, NULL);
    assert_int_equal(rc, 1); /* every route stopped */
    assert_true(j.known_ok);
    assert_true(j.ghost_refused);

    st.size = sizeof(st);
    assert_int_equal(sentinel_proxy_get_stats(p, &st), 0);
    assert_true(st.connections_total >= 2); /* both routes' clients */
    assert_true(st.connections_refused >= 1);
    assert_int_equal(st.master_up, 0); /* not every route has a master */
    assert_int_equal(st.master_port, j.master_port);
    sentinel_proxy_free(p);
    topo_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_leaves_the_fd_limit_alone),
        cmocka_unit_test(test_embedded_proxy_follows_failover),
        cmocka_unit_test(test_two_routes_embedded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
