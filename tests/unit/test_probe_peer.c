/*
 * The probes of tls_probe.c ask the address the link is connected to, not
 * its host name again: a second look-up (no deadline, and with round-robin
 * DNS maybe another server) is not made. A real loopback socket, a
 * listener in this process, the socket transport with its open() recorded.
 *
 * A name that resolves to two addresses (the case the fix is for) needs
 * DNS or /etc/hosts this test cannot set up: it checks instead that the
 * probe is handed the numeric peer of the link, where main handed it the
 * name ("localhost").
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static sn_transport rec; /* the socket transport, open() recorded */
static sn_transport real;
static char opened[4][SENTINEL_HOST_MAX];
static int nopened;

static int rec_open_real(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    if (nopened < 4)
        snprintf(opened[nopened++], sizeof(opened[0]), "%s", host);
    return real.open(host, port, deadline_ms, e);
}

/* A plaintext command closed before any reply byte: the link asks the
 * port whether it is a TLS port (sn_probe_tls), on the link's address. */
static void test_the_tls_probe_asks_the_links_numeric_peer(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    const char *ping[] = {"PING"};
    int lfd, cfd;
    sn_link l;
    sn_err e;
    redisReply *r;

    (void)state;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);

    real = *sn_transport_get();
    rec = real;
    rec.open = rec_open_real;
    sn_transport_set(&rec);
    sn_err_clear(&e);
    assert_int_equal(sn_link_open(&l, "localhost", ntohs(sa.sin_port), 1000, 300,
                                  sn_now_ms() + 2000, &e),
                     0);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    close(cfd); /* closed before any reply byte */
    r = sn_link_command(&l, sn_now_ms() + 300, &e, 1, ping);
    assert_null(r);
    sn_link_close(&l);
    sn_transport_set(NULL);
    close(lfd);

    assert_int_equal(nopened, 2); /* the link's, the probe's */
    assert_string_equal(opened[0], "localhost");
    assert_string_equal(opened[1], "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_tls_probe_asks_the_links_numeric_peer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
