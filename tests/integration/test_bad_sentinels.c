/*
 * Bad input from the network, over real sockets: a fake sentinel (a thread
 * in this test) that lies, sends garbage, truncates, sends a gigabyte bulk
 * header, or accepts and never answers. Each ends with its own error code
 * within the deadline; the lying one is caught by ROLE against a real
 * replica of a real topology.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "it_common.h"

typedef enum fake_mode { FAKE_LIE, FAKE_GARBAGE, FAKE_TRUNCATED, FAKE_HUGE, FAKE_SILENT } fake_mode;

typedef struct fake {
    int listen_fd;
    int port;
    fake_mode mode;
    int lie_port; /* FAKE_LIE: the address it names */
    atomic_int stop;
    pthread_t thread;
} fake;

static void fake_reply(fake *f, int fd, const char *req)
{
    char buf[256];
    int n;

    switch (f->mode) {
    case FAKE_LIE:
        if (strstr(req, "get-master-addr-by-name")) {
            n = snprintf(buf, sizeof(buf), "*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n",
                         snprintf(NULL, 0, "%d", f->lie_port), f->lie_port);
            (void)!write(fd, buf, (size_t)n);
        } else {
            (void)!write(fd, "*0\r\n", 4);
        }
        break;
    case FAKE_GARBAGE:
        (void)!write(fd, "hello, I am not redis\r\n", 23);
        break;
    case FAKE_TRUNCATED:
        (void)!write(fd, "*2\r\n$9\r\n127.0", 13);
        shutdown(fd, SHUT_WR);
        break;
    case FAKE_HUGE: {
        /* Announce 1 GiB, then stream at most 4 MiB of it. */
        static char zeros[65536];
        (void)!write(fd, "$1073741824\r\n", 13);
        for (int i = 0; i < 64 && !atomic_load(&f->stop); i++)
            if (write(fd, zeros, sizeof(zeros)) < 0)
                break;
        break;
    }
    case FAKE_SILENT:
        break;
    }
}

/* Serve connections until stopped; every wait is bounded. */
static void *fake_main(void *arg)
{
    fake *f = arg;
    int clients[64], nclients = 0;

    while (!atomic_load(&f->stop)) {
        struct pollfd p[65];
        int n = 0;

        p[n].fd = f->listen_fd;
        p[n++].events = POLLIN;
        for (int i = 0; i < nclients; i++) {
            p[n].fd = clients[i];
            p[n++].events = POLLIN;
        }
        if (poll(p, (nfds_t)n, 50) <= 0)
            continue;
        if ((p[0].revents & POLLIN) && nclients < 64) {
            int c = accept(f->listen_fd, NULL, NULL);
            if (c >= 0)
                clients[nclients++] = c;
        }
        for (int i = 1; i < n; i++) {
            char req[4096];
            ssize_t r;
            if (!(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            r = read(p[i].fd, req, sizeof(req) - 1);
            if (r <= 0) {
                close(p[i].fd);
                for (int j = 0; j < nclients; j++)
                    if (clients[j] == p[i].fd)
                        clients[j] = clients[--nclients];
                continue;
            }
            req[r] = '\0';
            fake_reply(f, p[i].fd, req);
        }
    }
    for (int i = 0; i < nclients; i++)
        close(clients[i]);
    return NULL;
}

static fake *fake_start(fake_mode mode, int lie_port)
{
    fake *f = calloc(1, sizeof(*f));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    assert_non_null(f);
    f->mode = mode;
    f->lie_port = lie_port;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->listen_fd >= 0);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->listen_fd, 16), 0);
    assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
    return f;
}

static void fake_stop(fake *f)
{
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    free(f);
}

static int resolve_via(fake *f, int total_ms, sentinel_t **out)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;
    int code;

    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", f->port), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, total_ms), 0);
    assert_int_equal(sentinel_set_retry(s, 3, 10, 50), 0);
    code = sentinel_resolve(s, 0, &a);
    if (out)
        *out = s;
    else
        sentinel_free(s);
    return code;
}

/* A sentinel that names a replica: ROLE says so, and we never use it. */
static void test_lying_sentinel_naming_a_replica_is_not_master(void **state)
{
    int replica = -1, master = topo_master_port(topo);
    fake *f;
    sentinel_t *s;

    (void)state;
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) != master)
            replica = topo_node_port(topo, i);
    f = fake_start(FAKE_LIE, replica);
    assert_int_equal(resolve_via(f, 3000, &s), SENTINEL_ERR_NOT_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "replica"));
    sentinel_free(s);
    fake_stop(f);
}

/* sentinel_connect_master() hands out only a connection that answered ROLE
 * master itself. A sentinel naming a replica, with the resolution's own ROLE
 * check on (the default) and off: either way no context is returned and the
 * error is NOT_MASTER. With verification off only the check on the returned
 * connection stands between the caller and the replica. */
static void connect_master_via_liar(int verify)
{
    int replica = -1, master = topo_master_port(topo);
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    redisContext *c;
    fake *f;

    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) != master)
            replica = topo_node_port(topo, i);
    assert_true(replica > 0);
    f = fake_start(FAKE_LIE, replica);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", f->port), 0);
    assert_int_equal(sentinel_set_verify(s, verify), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 2000), 0);
    assert_int_equal(sentinel_set_retry(s, 3, 10, 50), 0);
    c = sentinel_connect_master(s, NULL);
    if (c != NULL) {
        fail_msg("connect_master returned %s:%d (the replica is %d)", c->tcp.host, c->tcp.port,
                 replica);
    }
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NOT_MASTER);
    sentinel_free(s);
    fake_stop(f);
}

static void test_connect_master_refuses_announced_replica(void **state)
{
    (void)state;
    connect_master_via_liar(1);
}

static void test_connect_master_checks_role_on_its_connection(void **state)
{
    (void)state;
    connect_master_via_liar(0);
}

/* A lying sentinel first, an honest one second: with a quorum of 2 the lie
 * is not trusted (no two agree), with the default it is caught by ROLE. */
static void test_lying_sentinel_outvoted_by_quorum(void **state)
{
    int replica = -1, master = topo_master_port(topo);
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;
    fake *f;

    (void)state;
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) != master)
            replica = topo_node_port(topo, i);
    f = fake_start(FAKE_LIE, replica);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", f->port), 0);
    assert_int_equal(sentinel_add_sentinels(s, topo_sentinel_list(topo)), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);
    assert_int_equal(sentinel_set_quorum(s, 2), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, master);
    sentinel_free(s);
    fake_stop(f);
}

static void test_garbage_reply_is_protocol_error(void **state)
{
    fake *f = fake_start(FAKE_GARBAGE, 0);

    (void)state;
    assert_int_equal(resolve_via(f, 2000, NULL), SENTINEL_ERR_PROTOCOL);
    fake_stop(f);
}

static void test_truncated_reply_is_protocol_error(void **state)
{
    fake *f = fake_start(FAKE_TRUNCATED, 0);

    (void)state;
    assert_int_equal(resolve_via(f, 2000, NULL), SENTINEL_ERR_PROTOCOL);
    fake_stop(f);
}

/* A gigabyte bulk string is refused after SN_REPLY_MAX bytes, not buffered. */
static void test_gigabyte_bulk_is_protocol_error(void **state)
{
    fake *f = fake_start(FAKE_HUGE, 0);
    sentinel_t *s;

    (void)state;
    assert_int_equal(resolve_via(f, 5000, &s), SENTINEL_ERR_PROTOCOL);
    assert_non_null(strstr(sentinel_errstr(s), "larger than"));
    sentinel_free(s);
    fake_stop(f);
}

static void test_silent_sentinel_is_timeout(void **state)
{
    fake *f = fake_start(FAKE_SILENT, 0);

    (void)state;
    assert_int_equal(resolve_via(f, 700, NULL), SENTINEL_ERR_TIMEOUT);
    fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lying_sentinel_naming_a_replica_is_not_master),
        cmocka_unit_test(test_lying_sentinel_outvoted_by_quorum),
        cmocka_unit_test(test_connect_master_refuses_announced_replica),
        cmocka_unit_test(test_connect_master_checks_role_on_its_connection),
        cmocka_unit_test(test_garbage_reply_is_protocol_error),
        cmocka_unit_test(test_truncated_reply_is_protocol_error),
        cmocka_unit_test(test_gigabyte_bulk_is_protocol_error),
        cmocka_unit_test(test_silent_sentinel_is_timeout),
    };

    return cmocka_run_group_tests_name("integration: bad sentinels", tests, it_group_setup,
                                       it_group_teardown);
}
