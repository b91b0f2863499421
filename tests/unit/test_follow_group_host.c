/*
 * A follower group as its host sees it, on real loopback sockets (a
 * listening socket stands for a sentinel; no Redis process): the group's
 * socket callback is the host's, and the host may free the group there or
 * open sockets of its own from a member's callbacks.
 *
 *  - freed from its own socket callback: the group must not touch itself
 *    afterwards (use-after-free under ASan before the fix);
 *  - a shared link that closed is REMOVEd before any member callback runs
 *    host code, so a host that opens a socket there (and gets the same
 *    number) never has its own socket removed by a late REMOVE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentinel/follow.h"
#include "sentinel/sentinel.h"

#define MAX_REG 16

static struct {
    int reg[MAX_REG]; /* fds the host has registered (ADD minus REMOVE) */
    int nreg;
    int frees_on_add;   /* test 1: free the group at the first ADD */
    int freed;
    int up_events, down_events;
    int closed_but_registered; /* seen from a member callback */
    int host_fd;                /* opened from the SENTINEL_DOWN callback */
} H;

static void host_sock(sentinel_follow_group_t *g, int fd, sentinel_follow_fd_op op, int events,
                      void *ud)
{
    (void)events;
    (void)ud;
    if (op == SENTINEL_FOLLOW_FD_ADD && H.nreg < MAX_REG)
        H.reg[H.nreg++] = fd;
    if (op == SENTINEL_FOLLOW_FD_REMOVE)
        for (int i = 0; i < H.nreg; i++)
            if (H.reg[i] == fd) {
                H.reg[i] = H.reg[--H.nreg];
                break;
            }
    if (op == SENTINEL_FOLLOW_FD_ADD && H.frees_on_add && !H.freed) {
        H.freed = 1;
        sentinel_follow_group_free(g); /* no member: the group goes now */
    }
}

static void host_event(const sentinel_event *ev, void *ud)
{
    (void)ud;
    H.up_events += ev->type == SENTINEL_EVENT_SENTINEL_UP;
    if (ev->type != SENTINEL_EVENT_SENTINEL_DOWN)
        return;
    H.down_events++;
    for (int i = 0; i < H.nreg; i++)
        if (fcntl(H.reg[i], F_GETFD) == -1)
            H.closed_but_registered++;
    if (H.host_fd == -1)
        H.host_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* host code */
}

/* A listening loopback socket; its "host:port" in list. */
static int fake_sentinel(char *list, size_t len)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(ls >= 0);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    snprintf(list, len, "127.0.0.1:%d", ntohs(a.sin_port));
    return ls;
}

static sentinel_t *handle(const char *list)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinels(s, list), SENTINEL_OK);
    assert_int_equal(sentinel_set_discovery(s, 0), SENTINEL_OK);
    return s;
}

static void test_group_freed_from_its_socket_callback(void **state)
{
    char list[64];
    int ls = fake_sentinel(list, sizeof(list));
    sentinel_t *s = handle(list);
    sentinel_follow_group_t *g;

    (void)state;
    memset(&H, 0, sizeof(H));
    H.host_fd = -1;
    H.frees_on_add = 1;
    g = sentinel_follow_group_new(s, NULL);
    assert_non_null(g);
    sentinel_follow_group_set_socket_cb(g, host_sock, NULL);
    /* Connects the shared link: ADD, and the host frees the group there. */
    assert_int_equal(sentinel_follow_group_on_timeout(g), SENTINEL_OK);
    assert_int_equal(H.freed, 1);
    sentinel_free(s);
    close(ls);
}

/* Step the group on its registered fds until done() or 100 rounds. */
static void step_until(sentinel_follow_group_t *g, int (*done)(void *), void *arg)
{
    for (int round = 0; round < 100 && !done(arg); round++) {
        struct pollfd p[MAX_REG];
        int n = H.nreg;

        for (int i = 0; i < n; i++) {
            p[i].fd = H.reg[i];
            p[i].events = POLLIN | POLLOUT;
            p[i].revents = 0;
        }
        poll(p, (nfds_t)n, 50);
        for (int i = 0; i < n; i++)
            if (p[i].revents)
                sentinel_follow_group_on_fd(g, p[i].fd, p[i].revents);
        if (sentinel_follow_group_timeout(g) == 0)
            sentinel_follow_group_on_timeout(g);
    }
}

static int got_bytes(void *arg)
{
    int c = *(int *)arg;
    char buf[4096];
    ssize_t n = recv(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);

    return n > 0;
}

static int came_up(void *arg)
{
    (void)arg;
    return H.up_events > 0;
}

static int went_down(void *arg)
{
    (void)arg;
    return H.down_events > 0;
}

static void test_closed_shared_link_removed_before_member_callbacks(void **state)
{
    char list[64], buf[4096];
    int ls = fake_sentinel(list, sizeof(list)), c;
    sentinel_t *s = handle(list);
    sentinel_follow_group_t *g;
    sentinel_follow_t *m;
    struct pollfd p;

    (void)state;
    memset(&H, 0, sizeof(H));
    H.host_fd = -1;
    g = sentinel_follow_group_new(s, NULL);
    assert_non_null(g);
    sentinel_follow_group_set_socket_cb(g, host_sock, NULL);
    m = sentinel_follow_new_in_group(g, s, NULL);
    assert_non_null(m);
    sentinel_follow_set_event_cb(m, host_event, NULL);
    assert_int_equal(sentinel_follow_group_on_timeout(g), SENTINEL_OK);
    p.fd = ls;
    p.events = POLLIN;
    assert_int_equal(poll(&p, 1, 5000), 1);
    c = accept(ls, NULL, NULL);
    assert_true(c >= 0);
    step_until(g, got_bytes, &c); /* the link's AUTH/SUBSCRIBE arrive */
    assert_true(recv(c, buf, sizeof(buf), MSG_DONTWAIT) > 0);
    for (int i = 0; i < 16; i++) /* whatever it asked: answered */
        assert_int_equal(write(c, "+OK\r\n", 5), 5);
    step_until(g, came_up, NULL);
    assert_true(H.up_events > 0);
    close(c); /* the sentinel goes away: the shared link closes */
    step_until(g, went_down, NULL);
    assert_true(H.down_events > 0);
    /* When the member's callback ran host code, no closed fd was still
     * registered with the host: its REMOVE had come first. */
    assert_int_equal(H.closed_but_registered, 0);
    for (int i = 0; i < H.nreg; i++)
        assert_true(H.reg[i] != H.host_fd);
    if (H.host_fd >= 0)
        close(H.host_fd);
    sentinel_follow_free(m);
    sentinel_follow_group_free(g);
    sentinel_free(s);
    close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_freed_from_its_socket_callback),
        cmocka_unit_test(test_closed_shared_link_removed_before_member_callbacks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
