/*
 * A non-blocking link to a host name looks the name up off the caller's
 * thread (name_lookup.c): sn_nblink_open() returns while the lookup is
 * still under way, the link stays connecting (its timeout says "name
 * lookup timed out"), its handle turns readable when the answer is there
 * and the connect then starts on a new handle; a link closed mid-lookup
 * lets go at once and the lookup's leftovers are freed when it ends.
 *
 * getaddrinfo() is the seam (linked with --wrap=getaddrinfo): names under
 * ".gated.test" wait at a gate the test opens (bounded, 10 s, so the old
 * blocking code fails the case instead of hanging) and then resolve to
 * 127.0.0.1; "nx.gated.test" does not resolve. A listener on loopback is
 * the server.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_shut, entered, left;
static int numeric_out_of_memory; /* AI_NUMERICHOST lookups fail with EAI_MEMORY */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gated_name(const char *node)
{
    size_t n = node ? strlen(node) : 0;

    return n > 11 && strcmp(node + n - 11, ".gated.test") == 0;
}

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    struct timespec until;

    if (numeric_out_of_memory && hints && (hints->ai_flags & AI_NUMERICHOST))
        return EAI_MEMORY;
    if (!gated_name(node) || (hints && (hints->ai_flags & AI_NUMERICHOST)))
        return __real_getaddrinfo(node, service, hints, res);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    entered++;
    pthread_cond_broadcast(&cv);
    while (gate_shut && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    left++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (strcmp(node, "nx.gated.test") == 0)
        return EAI_NONAME;
    return __real_getaddrinfo("127.0.0.1", service, hints, res);
}

static void gate(int shut)
{
    pthread_mutex_lock(&mu);
    gate_shut = shut;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Wait (at most 10 s) until *counter reaches n; its value then. */
static int wait_count(const int *counter, int n)
{
    struct timespec until;
    int v;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (*counter < n && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    v = *counter;
    pthread_mutex_unlock(&mu);
    return v;
}

static int count(const int *counter)
{
    int v;

    pthread_mutex_lock(&mu);
    v = *counter;
    pthread_mutex_unlock(&mu);
    return v;
}

static int reset(void **state)
{
    (void)state;
    pthread_mutex_lock(&mu);
    gate_shut = entered = left = numeric_out_of_memory = 0;
    pthread_mutex_unlock(&mu);
    return 0;
}

static int listener(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The lookup runs while the caller goes on; the link is connecting, with
 * the lookup's descriptor as its handle; the answer starts the connect. */
static void test_host_name_is_looked_up_off_the_callers_thread(void **state)
{
    sn_nblink l;
    sn_err e;
    struct pollfd p;
    const char *hint;
    uint64_t gen;
    int port, lfd = listener(&port), cfd, lookup_fd;

    (void)state;
    gate(1);
    sn_nblink_init(&l);
    assert_int_equal(sn_nblink_open(&l, "db.gated.test", port, &e), 0);
    assert_int_equal(wait_count(&entered, 1), 1);
    /* Before the fix open() did the lookup itself: it returned after it. */
    assert_int_equal(count(&left), 0);
    assert_int_equal(l.state, SN_NB_CONNECTING);
    assert_int_equal(sn_nblink_events(&l), POLLIN);
    hint = sn_nblink_timeout_hint(&l);
    assert_non_null(hint);
    assert_non_null(strstr(hint, "name lookup timed out"));
    assert_int_equal(sn_nblink_io(&l, &e), 0);
    assert_int_equal(l.state, SN_NB_CONNECTING);
    p = (struct pollfd){.fd = l.h, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0); /* nothing to wake the loop yet */

    lookup_fd = l.h;
    gen = l.gen;
    gate(0);
    assert_int_equal(poll(&p, 1, 10000), 1); /* the answer wakes the loop */
    assert_int_equal(sn_nblink_io(&l, &e), 0);
    assert_true(l.h >= 0);
    assert_true(l.h != lookup_fd);
    assert_true(l.gen != gen); /* a host's fd registry sees a new handle */
    assert_null(sn_nblink_timeout_hint(&l));
    cfd = accept(lfd, NULL, NULL); /* blocking: the connect reached us */
    assert_true(cfd >= 0);
    for (int64_t end = mono_ms() + 10000; l.state != SN_NB_OPEN && mono_ms() < end;) {
        p = (struct pollfd){.fd = l.h, .events = sn_nblink_events(&l)};
        poll(&p, 1, 100);
        assert_int_equal(sn_nblink_io(&l, &e), 0);
    }
    assert_int_equal(l.state, SN_NB_OPEN);
    sn_nblink_close(&l);
    close(cfd);
    close(lfd);
}

/* The caller gives up mid-lookup (its connect deadline): close returns at
 * once, and the lookup's descriptor is closed once the lookup ends. */
static void test_link_closed_mid_lookup_lets_go_and_is_freed_later(void **state)
{
    sn_nblink l;
    sn_err e;
    int lookup_fd, closed = 0;

    (void)state;
    gate(1);
    sn_nblink_init(&l);
    assert_int_equal(sn_nblink_open(&l, "gone.gated.test", 6379, &e), 0);
    assert_int_equal(wait_count(&entered, 1), 1);
    lookup_fd = l.h;
    sn_nblink_close(&l);
    assert_int_equal(l.state, SN_NB_CLOSED);
    assert_int_equal(l.h, -1);
    assert_int_equal(count(&left), 0);
    assert_true(fcntl(lookup_fd, F_GETFD) != -1); /* the lookup still holds it */
    gate(0);
    assert_int_equal(wait_count(&left, 1), 1);
    for (int64_t end = mono_ms() + 10000; !closed && mono_ms() < end;) {
        closed = fcntl(lookup_fd, F_GETFD) == -1 && errno == EBADF;
        if (!closed)
            poll(NULL, 0, 10);
    }
    assert_true(closed);
}

/* A name that does not resolve: the link's io reports it once it is known. */
static void test_name_that_does_not_resolve_fails_the_link(void **state)
{
    sn_nblink l;
    sn_err e;
    struct pollfd p;

    (void)state;
    sn_nblink_init(&l);
    assert_int_equal(sn_nblink_open(&l, "nx.gated.test", 6379, &e), 0);
    p = (struct pollfd){.fd = l.h, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_int_equal(sn_nblink_io(&l, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_HOST_UNRESOLVED);
    assert_non_null(strstr(e.msg, "nx.gated.test"));
    sn_nblink_close(&l);
}

/* A literal address asks no resolver and starts no lookup. */
static void test_literal_address_connects_at_once(void **state)
{
    sn_nblink l;
    sn_err e;
    int port, lfd = listener(&port), cfd;

    (void)state;
    sn_nblink_init(&l);
    assert_int_equal(sn_nblink_open(&l, "127.0.0.1", port, &e), 0);
    assert_null(l.lookup);
    assert_int_equal(count(&entered), 0);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    sn_nblink_close(&l);
    close(cfd);
    close(lfd);
}

/* A literal address whose lookup fails for want of memory (the proxy's
 * out-of-memory fuzzing: every allocation fails while its sentinel links
 * reconnect) is that error at once, not a thread started to look it up
 * again (under ASan the new thread's own start failed and killed the
 * process). */
static void test_literal_address_out_of_memory_starts_no_lookup(void **state)
{
    sn_nblink l;
    sn_err e;

    (void)state;
    numeric_out_of_memory = 1;
    sn_nblink_init(&l);
    assert_int_equal(sn_nblink_open(&l, "127.0.0.1", 6379, &e), -1);
    assert_int_equal(e.code, SENTINEL_ERR_NO_MEMORY);
    assert_null(l.lookup);
    assert_int_equal(count(&entered), 0);
    sn_nblink_close(&l);
    numeric_out_of_memory = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_host_name_is_looked_up_off_the_callers_thread, reset),
        cmocka_unit_test_setup(test_link_closed_mid_lookup_lets_go_and_is_freed_later, reset),
        cmocka_unit_test_setup(test_name_that_does_not_resolve_fails_the_link, reset),
        cmocka_unit_test_setup(test_literal_address_connects_at_once, reset),
        cmocka_unit_test_setup(test_literal_address_out_of_memory_starts_no_lookup, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
