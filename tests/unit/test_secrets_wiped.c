/*
 * No password goes back to the allocator unwiped (issue 13's secrets rule):
 * every block libsentinel frees is scanned for the password first. free()
 * and realloc() are wrapped at link time (-Wl,--wrap=free,--wrap=realloc,
 * tests/unit/CMakeLists.txt): __wrap_free looks for the marker in the whole
 * block (malloc_usable_size) before freeing it, and __wrap_realloc always
 * moves, freeing the old block through __wrap_free as a moving realloc()
 * would. The wrap covers the library's own calls (libsentinel.a is linked
 * into this binary), not hiredis' internal ones.
 *
 * The paths that carry a password: the handle's credentials, the blocking
 * link's formatted AUTH (resolution: sentinels and the ROLE check on the
 * master, over mock_net.c's script) and the non-blocking link's output
 * queue (the watcher, the follower, the shared polling links), grown while
 * an AUTH waits in it.
 */
#define _GNU_SOURCE /* memmem */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "mock_net.h"

/* Two passwords, long enough that a queued AUTH fills most of the
 * non-blocking queue's first allocation, so the next command grows it. */
#define MARK "canary-5f1c9e"
#define SENTINEL_PASSWORD MARK "-sentinel-" \
    "0123456789012345678901234567890123456789012345678901234567890123456789" \
    "0123456789012345678901234567890123456789012345678901234567890123456789"
#define DATA_PASSWORD MARK "-data"

void __real_free(void *p);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static int secrets_freed; /* blocks freed with MARK in them */

void __wrap_free(void *p)
{
    if (p != NULL && memmem(p, malloc_usable_size(p), MARK, strlen(MARK)) != NULL)
        secrets_freed++;
    __real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q;
    size_t old;

    if (p == NULL)
        return malloc(n);
    if ((q = malloc(n ? n : 1)) == NULL)
        return NULL;
    old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    __wrap_free(p);
    return q;
}

static int setup(void **state)
{
    (void)state;
    mock_net_reset();
    secrets_freed = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_transport_set(NULL);
    return 0;
}

/* The check itself can fail: a block freed with the marker is counted, one
 * wiped first is not, and a moving realloc() frees the old contents. */
static void test_scan_sees_a_secret_freed(void **state)
{
    /* Called through volatile pointers: the compiler may not drop a
     * malloc() whose block is only written and freed. */
    void (*volatile do_free)(void *) = free;
    void *(*volatile do_realloc)(void *, size_t) = realloc;
    char *p = malloc(64), *q;

    (void)state;
    assert_non_null(p);
    strcpy(p, "AUTH " MARK);
    do_free(p);
    assert_int_equal(secrets_freed, 1);
    p = malloc(64);
    assert_non_null(p);
    strcpy(p, "AUTH " MARK);
    q = do_realloc(p, 4096);
    assert_non_null(q);
    assert_int_equal(secrets_freed, 2);
    explicit_bzero(q, 4096);
    do_free(q);
    assert_int_equal(secrets_freed, 2);
}

/* A resolution that AUTHs to the sentinel and, for the ROLE check, to the
 * master, then the handle freed: no block held either password. */
static void test_resolution_with_passwords_frees_no_secret(void **state)
{
    sentinel_t *s;
    sentinel_addr a;

    (void)state;
    sn_transport_set(&mock_transport);
    s = sentinel_new("mymaster", NULL);
    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), SENTINEL_OK);
    assert_int_equal(sentinel_set_sentinel_auth(s, "app", SENTINEL_PASSWORD), SENTINEL_OK);
    assert_int_equal(sentinel_set_data_auth(s, NULL, DATA_PASSWORD), SENTINEL_OK);
    assert_int_equal(sentinel_set_verify(s, 1), SENTINEL_OK);
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_OK);
    assert_int_equal(a.port, 6380);
    assert_true(mock_opens >= 2); /* the sentinel and the master were asked */
    assert_true(mock_auths >= 2); /* with AUTH: the passwords went over the links */
    /* Changing the credentials frees the old ones. */
    assert_int_equal(sentinel_set_data_auth(s, NULL, DATA_PASSWORD "-2"), SENTINEL_OK);
    sentinel_free(s);
    assert_int_equal(secrets_freed, 0);
}

/* The non-blocking link: a connect still in progress, AUTH queued, then
 * enough commands that the queue grows (the old queue, AUTH in it, is
 * freed), then everything flushed and the link closed. */
static int nb_connected; /* 1: connected (flushes), 0: in progress */
static int nb_open(const char *host, int port, sn_err *e)
{
    (void)host;
    (void)port;
    (void)e;
    return 7;
}
static int nb_is_connected(int h, sn_err *e)
{
    (void)h;
    (void)e;
    return nb_connected;
}
static ssize_t nb_send(int h, const void *buf, size_t len, sn_err *e)
{
    (void)h;
    (void)buf;
    (void)e;
    return (ssize_t)len;
}
static ssize_t nb_recv(int h, void *buf, size_t cap, sn_err *e)
{
    (void)h;
    (void)buf;
    (void)cap;
    (void)e;
    return SN_WOULD_BLOCK;
}
static void nb_close(int h)
{
    (void)h;
}
static const sn_transport nb_transport = {
    .close = nb_close,
    .nb_open = nb_open,
    .nb_connected = nb_is_connected,
    .nb_send = nb_send,
    .nb_recv = nb_recv,
};

static void test_nonblocking_queue_frees_no_secret(void **state)
{
    const char *poll_argv[] = {"SENTINEL", "get-master-addr-by-name", "mymaster"};
    sn_cred cred = {.user = NULL, .password = (char *)SENTINEL_PASSWORD};
    sn_nblink l;
    sn_err e;

    (void)state;
    sn_transport_set(&nb_transport);
    for (int flush = 0; flush < 2; flush++) {
        nb_connected = 0;
        sn_nblink_init(&l);
        assert_int_equal(sn_nblink_open(&l, "10.0.0.1", 26379, &e), 0);
        assert_int_equal(sn_nblink_queue_auth(&l, &cred, &e), 1);
        for (int i = 0; i < 8; i++)
            assert_int_equal(sn_nblink_queue(&l, 3, poll_argv, &e), 0);
        assert_true(l.outcap > 256); /* the queue grew with AUTH in it */
        if (flush) {
            nb_connected = 1;
            assert_int_equal(sn_nblink_io(&l, &e), 0);
            assert_int_equal(l.outlen, 0);
        }
        sn_nblink_close(&l);
    }
    assert_int_equal(secrets_freed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_sees_a_secret_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_with_passwords_frees_no_secret, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nonblocking_queue_frees_no_secret, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
