/*
 * sentinel-proxy's TLS I/O (src/proxy/tls_io.c) and its event loop
 * (src/proxy/loop.c), with OpenSSL's answers scripted through link-time
 * seams (-Wl,--wrap=SSL_read_ex,SSL_write_ex,SSL_get_error,...): a read
 * that OpenSSL says must write first (WANT_WRITE) waits for the socket to
 * be writable and is dispatched as a read; a write that must read first
 * (WANT_READ) waits for readable, without spinning on writable; a pending
 * mark survives an allocation failure; close_notify is sent once, and
 * never on a failed connection or before the handshake; a connection's
 * setup that runs out of memory (OpenSSL's allocator made to fail) is an
 * out-of-memory error with a whole text, not a TLS error of the master.
 *
 * The sockets are a real socketpair and the loop a real epoll: only
 * OpenSSL's record layer is scripted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "proxy/tls_io.h"

/* ---- the seams ------------------------------------------------------------ */

static struct {
    int read_rc, write_rc; /* what SSL_read_ex / SSL_write_ex return */
    size_t read_n;         /* bytes a successful read gives */
    int error;             /* what SSL_get_error says */
    int shutdowns;         /* SSL_shutdown calls */
    int fail_realloc;      /* realloc() returns NULL */
} seam;

int __wrap_SSL_do_handshake(SSL *s);
int __wrap_SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes);
int __wrap_SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written);
int __wrap_SSL_get_error(const SSL *s, int ret);
int __wrap_SSL_shutdown(SSL *s);
void *__wrap_realloc(void *p, size_t n);
void *__real_realloc(void *p, size_t n);

int __wrap_SSL_do_handshake(SSL *s)
{
    (void)s;
    return 1;
}

int __wrap_SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes)
{
    (void)s;
    *readbytes = 0;
    if (seam.read_rc == 1) {
        *readbytes = seam.read_n < num ? seam.read_n : num;
        memset(buf, 'x', *readbytes);
    }
    return seam.read_rc;
}

int __wrap_SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written)
{
    (void)s, (void)buf;
    *written = seam.write_rc == 1 ? num : 0;
    return seam.write_rc;
}

int __wrap_SSL_get_error(const SSL *s, int ret)
{
    (void)s, (void)ret;
    return seam.error;
}

int __wrap_SSL_shutdown(SSL *s)
{
    (void)s;
    seam.shutdowns++;
    return 0;
}

void *__wrap_realloc(void *p, size_t n)
{
    return seam.fail_realloc ? NULL : __real_realloc(p, n);
}

/* OpenSSL's own allocations (CRYPTO_set_mem_functions, set in main()
 * before OpenSSL allocates anything): from the fail_from-th one on, every
 * one fails, as when memory runs out; 0 = none fails. */
static struct {
    long count, fail_from;
} ossl;

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    if (ossl.fail_from && ++ossl.count >= ossl.fail_from)
        return NULL;
    return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    if (ossl.fail_from && ++ossl.count >= ossl.fail_from)
        return NULL;
    return __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

/* ---- fixture: a loop, TLS to a "master", a socketpair ---------------------- */

#define SETSIZE 1024

typedef struct fx {
    px_loop *loop;
    px_tls *tls;
    sn_tls_opts up;
    int sv[2]; /* sv[0]: the proxy's end (TLS), sv[1]: the peer's */
    int calls, last_mask;
} fx;

static void on_event(px_loop *l, int fd, void *ud, int mask)
{
    fx *f = ud;

    (void)l, (void)fd;
    f->calls++;
    f->last_mask = mask;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[256];

    memset(&seam, 0, sizeof(seam));
    assert_non_null(f);
    assert_non_null(f->loop = px_loop_new(SETSIZE));
    px_loop_set_owner(f->loop, f);
    f->up.enabled = 1;
    f->up.insecure = 1; /* no verification to set up: the handshake is scripted */
    f->up.ops = sn_tls_ops_get();
    assert_non_null(f->up.ctx = SSL_CTX_new(TLS_client_method()));
    f->tls = px_tls_new(f->loop, &f->up, NULL, SETSIZE, 16384, err, sizeof(err));
    assert_non_null(f->tls);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->sv), 0);
    assert_int_equal(px_tls_start(f->tls, f->sv[0], "localhost", err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;

    px_loop_del(f->loop, f->sv[0], PX_READABLE | PX_WRITABLE);
    px_tls_end(f->tls, f->sv[0]);
    close(f->sv[0]);
    close(f->sv[1]);
    px_tls_free(f->tls);
    SSL_CTX_free(f->up.ctx);
    px_loop_free(f->loop);
    free(f);
    return 0;
}

static void handshake(fx *f)
{
    char why[128];

    assert_int_equal(px_tls_handshake(f->tls, f->sv[0], why, sizeof(why)), 1);
    assert_int_equal(px_tls_handshake_want(f->tls, f->sv[0]), PX_NONE);
}

/* ---- a read that must write first ----------------------------------------- */

static void test_read_want_write_waits_for_writable(void **state)
{
    fx *f = *state;
    char buf[64];

    handshake(f);
    assert_int_equal(px_loop_add(f->loop, f->sv[0], PX_READABLE, on_event, f), 0);
    /* Nothing to read: an ordinary read waits for readable. */
    assert_int_equal(px_loop_wait(f->loop, 0), 0);
    assert_int_equal(f->calls, 0);

    seam.read_rc = 0;
    seam.error = SSL_ERROR_WANT_WRITE;
    assert_int_equal(px_io_recv(f->tls, f->sv[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    /* The socket is writable and not readable: the read must be retried
     * now (it stalled when the loop went on waiting for readable). */
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_mask, PX_READABLE); /* mapped back: the handler reads */
    assert_int_equal(px_loop_mask(f->loop, f->sv[0]), PX_READABLE);

    /* The read goes through: back to waiting for readable. */
    seam.read_rc = 1;
    seam.read_n = 3;
    assert_int_equal(px_io_recv(f->tls, f->sv[0], buf, sizeof(buf)), 3);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 1);
    assert_int_equal(write(f->sv[1], "r", 1), 1);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->last_mask, PX_READABLE);
}

/* A connection that also wants to write gets both directions from the one
 * writable event. */
static void test_read_want_write_with_write_interest(void **state)
{
    fx *f = *state;
    char buf[64];

    handshake(f);
    assert_int_equal(px_loop_add(f->loop, f->sv[0], PX_READABLE | PX_WRITABLE, on_event, f), 0);
    seam.read_rc = 0;
    seam.error = SSL_ERROR_WANT_WRITE;
    assert_int_equal(px_io_recv(f->tls, f->sv[0], buf, sizeof(buf)), -1);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_mask, PX_READABLE | PX_WRITABLE);
}

/* ---- a write that must read first ----------------------------------------- */

static void test_write_want_read_waits_for_readable(void **state)
{
    fx *f = *state;

    handshake(f);
    assert_int_equal(px_loop_add(f->loop, f->sv[0], PX_WRITABLE, on_event, f), 0);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 1); /* writable: an ordinary write goes ahead */

    seam.write_rc = 0;
    seam.error = SSL_ERROR_WANT_READ;
    assert_int_equal(px_io_send(f->tls, f->sv[0], "PING\r\n", 6), -1);
    assert_int_equal(errno, EAGAIN);
    /* Writable but not readable: retrying the write now only spins. */
    px_loop_wait(f->loop, 0);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 1);
    /* The peer's record arrives: the write is retried. */
    assert_int_equal(write(f->sv[1], "r", 1), 1);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->last_mask, PX_WRITABLE);

    /* The write goes through: back to waiting for writable. */
    seam.write_rc = 1;
    assert_int_equal(px_io_send(f->tls, f->sv[0], "PING\r\n", 6), 6);
    char c;
    assert_int_equal(read(f->sv[0], &c, 1), 1); /* no longer readable */
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 3);
    assert_int_equal(f->last_mask, PX_WRITABLE);
}

/* The fd's end forgets what OpenSSL wanted: a plaintext connection that
 * gets the same number waits for the usual events. */
static void test_end_resets_io_want(void **state)
{
    fx *f = *state;
    char buf[8];

    handshake(f);
    seam.read_rc = 0;
    seam.error = SSL_ERROR_WANT_WRITE;
    assert_int_equal(px_io_recv(f->tls, f->sv[0], buf, sizeof(buf)), -1);
    px_tls_end(f->tls, f->sv[0]);
    assert_int_equal(px_loop_add(f->loop, f->sv[0], PX_READABLE, on_event, f), 0);
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 0); /* writable is not readable any more */
}

/* ---- pending marks ----------------------------------------------------------- */

/* A pending mark (bytes OpenSSL holds) must not depend on an allocation:
 * lost, the bytes wait for a record that may never come. */
static void test_pending_mark_survives_oom(void **state)
{
    fx *f = *state;
    int pairs[20][2];

    for (int i = 0; i < 20; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[i]), 0);
        assert_int_equal(px_loop_add(f->loop, pairs[i][0], PX_READABLE, on_event, f), 0);
    }
    seam.fail_realloc = 1;
    for (int i = 0; i < 20; i++)
        px_loop_set_pending(f->loop, pairs[i][0], 1);
    seam.fail_realloc = 0;
    assert_true(px_loop_has_pending(f->loop));
    px_loop_wait(f->loop, 0);
    assert_int_equal(f->calls, 20);
    for (int i = 0; i < 20; i++) {
        px_loop_set_pending(f->loop, pairs[i][0], 0);
        px_loop_del(f->loop, pairs[i][0], PX_READABLE);
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
    px_loop_wait(f->loop, 0); /* drops the stale entries */
    assert_false(px_loop_has_pending(f->loop));
}

/* ---- close_notify -------------------------------------------------------------- */

static void test_close_notify_once_after_handshake(void **state)
{
    fx *f = *state;

    px_tls_close_notify(f->tls, f->sv[0]); /* handshake not done: nothing */
    assert_int_equal(seam.shutdowns, 0);
    handshake(f);
    px_tls_close_notify(f->tls, f->sv[0]);
    assert_int_equal(seam.shutdowns, 1);
    px_tls_close_notify(f->tls, f->sv[0]);
    assert_int_equal(seam.shutdowns, 1);
    px_tls_close_notify(f->tls, -1); /* no TLS there: nothing */
    px_tls_close_notify(NULL, f->sv[0]);
    assert_int_equal(seam.shutdowns, 1);
}

static void test_no_close_notify_after_failure(void **state)
{
    fx *f = *state;
    char buf[8];

    handshake(f);
    seam.read_rc = 0;
    seam.error = SSL_ERROR_SSL;
    assert_int_equal(px_io_recv(f->tls, f->sv[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    px_tls_close_notify(f->tls, f->sv[0]);
    assert_int_equal(seam.shutdowns, 0);
}

/* ---- a connection's setup out of memory ------------------------------------ */

/* Memory runs out at each of OpenSSL's allocations in turn while TLS to the
 * master is set up on fd: each time the setup is either done or fails as
 * out of memory, with the whole text (the caller then blames no master),
 * never as a TLS error with OpenSSL's (cut) text. */
static void setup_out_of_memory(px_tls *t, int fd, const char *host)
{
    char why[256], want[128]; /* why: as conn.c's and mux.c's */
    int rc, failed = 0;

    snprintf(want, sizeof(want), "out of memory (TLS setup for %s)", host);
    for (long at = 1; at <= 500; at++) {
        why[0] = '\0';
        ossl.count = 0;
        ossl.fail_from = at;
        rc = px_tls_start(t, fd, host, why, sizeof(why));
        ossl.fail_from = 0;
        if (rc == 0 && ossl.count < at)
            break; /* no allocation failed: every one has been tried */
        if (rc == 0)
            continue;
        failed++;
        if (rc != PX_TLS_NO_MEMORY)
            print_message("%s, allocation %ld failed: %d %s\n", host, at, rc, why);
        assert_int_equal(rc, PX_TLS_NO_MEMORY);
        assert_string_equal(why, want);
        assert_int_equal(px_tls_handshake_want(t, fd), PX_NONE);
    }
    assert_true(failed > 0);
    assert_int_equal(px_tls_start(t, fd, host, why, sizeof(why)), 0);
    px_tls_end(t, fd);
}

/* Without verification (SNI only), then verifying a name and an address;
 * and a failure that is not memory. */
static void test_setup_out_of_memory(void **state)
{
    fx *f = *state;
    sn_tls_opts up = f->up;
    px_tls *t;
    char err[256];

    setup_out_of_memory(f->tls, f->sv[1], "localhost");
    up.insecure = 0;
    assert_non_null(t = px_tls_new(f->loop, &up, NULL, SETSIZE, 16384, err, sizeof(err)));
    setup_out_of_memory(t, f->sv[1], "localhost");
    setup_out_of_memory(t, f->sv[1], "127.0.0.1");
    /* A setup failure that is not memory stays a TLS error: a name too
     * long for SNI (255 bytes at most). */
    {
        char name[300], why[256];
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        assert_int_equal(px_tls_start(t, f->sv[1], name, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "TLS setup for aaa"));
    }
    px_tls_free(t);
}

/* ---- the handshake deadline's key ----------------------------------------- */

static void test_handshake_timeout_key(void **state)
{
    static const char *const bad[] = {"0", "-5", "abc", "12x", "", " 5", "600001"};
    px_tls_config tc = {0};
    char err[256];

    (void)state;
    assert_int_equal(px_config_tls_set(&tc, "tls-handshake-timeout", "250", err, sizeof(err)), 0);
    assert_int_equal(tc.handshake_ms, 250);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(px_config_tls_set(&tc, "tls-handshake-timeout", bad[i], err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "tls-handshake-timeout"));
    }
    assert_int_equal(tc.handshake_ms, 250);
    px_config_tls_free(&tc);
}

/* The TLS state carries the deadline: the configured one, else 1000 ms. */
static void test_handshake_timeout_default(void **state)
{
    fx *f = *state;
    px_tls_config tc = {0};
    px_tls *t;
    char err[256];

    assert_int_equal(px_tls_handshake_ms(f->tls), 1000);
    tc.handshake_ms = 300;
    assert_non_null(t = px_tls_new(f->loop, &f->up, &tc, SETSIZE, 16384, err, sizeof(err)));
    assert_int_equal(px_tls_handshake_ms(t), 300);
    px_tls_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_want_write_waits_for_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_want_write_with_write_interest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_write_want_read_waits_for_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_resets_io_want, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_mark_survives_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_notify_once_after_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_close_notify_after_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_out_of_memory, setup, teardown),
        cmocka_unit_test(test_handshake_timeout_key),
        cmocka_unit_test_setup_teardown(test_handshake_timeout_default, setup, teardown),
    };

    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
