/*
 * sentinel-proxy's TLS I/O: TLS to the master (origination: plaintext
 * clients on loopback reach a TLS-only Redis) and from clients
 * (termination), with tls.c's connections over the proxy's non-blocking
 * sockets. Everything is kept by fd, so conn.c and mux.c call
 * px_io_recv() / px_io_send() where they called recv() / send(), and a
 * connection's structs do not grow.
 *
 * Non-blocking rules: a read or write that OpenSSL cannot finish is EAGAIN,
 * and the caller waits on the loop as for a socket; a handshake says what
 * it waits for (px_tls_handshake_want), and the connection stays in its
 * connecting state meanwhile, so the connect deadline covers it. A record
 * is decrypted whole: what a read did not take stays inside OpenSSL, where
 * epoll cannot see it, so it is handed to the loop as pending
 * (px_loop_set_pending) and dispatched as readable until drained. A write
 * OpenSSL started must be retried with at least as many bytes: writes are
 * capped at the proxy's buffer size, which is what callers keep.
 *
 * A read may need to write first (OpenSSL's WANT_WRITE: an answer to a
 * record the peer sent) and a write to read first (WANT_READ): the loop is
 * told which socket event serves each direction (px_loop_set_io_want), so
 * the connection's interests stay "read" / "write" and epoll waits for
 * what OpenSSL needs. An orderly close sends close_notify
 * (px_tls_close_notify), unless the connection failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/tls_io.h"

struct px_tls {
    const sn_tls_ops *ops;
    px_loop *loop;
    sn_tls_opts up;      /* the data nodes' options (TLS to the master) */
    int up_on;
    void *listen_ctx;    /* the listener's SSL_CTX, NULL: plaintext clients */
    int setsize;
    size_t write_cap;
    int handshake_ms;    /* a client's handshake, from accept */
    sn_tls_conn **conns; /* by fd */
    uint8_t *want;       /* by fd: what its handshake waits for, PX_NONE once done */
    uint8_t *flags;      /* by fd: TF_* */
};

#define TF_FAILED 1   /* a TLS error: no close_notify (OpenSSL forbids it) */
#define TF_NOTIFIED 2 /* close_notify sent */

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

px_tls *px_tls_new(px_loop *loop, const sn_tls_opts *up, const px_tls_config *tc, int setsize,
                   size_t bufsize, char *err, size_t errlen)
{
    px_tls *t;
    sn_err e = {0};
    int up_on = up != NULL && sn_tls_on(up), down_on = tc != NULL && tc->listen_cert != NULL;

    if (err && errlen)
        err[0] = '\0';
    if (!up_on && !down_on)
        return NULL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return fail(err, errlen, "out of memory"), NULL;
    t->ops = sn_tls_ops_get();
    t->loop = loop;
    t->setsize = setsize;
    t->write_cap = bufsize < 16384 ? bufsize : 16384;
    t->handshake_ms = tc && tc->handshake_ms > 0 ? tc->handshake_ms : 1000;
    if ((t->conns = calloc((size_t)setsize, sizeof(*t->conns))) == NULL ||
        (t->want = calloc((size_t)setsize, 1)) == NULL ||
        (t->flags = calloc((size_t)setsize, 1)) == NULL) {
        fail(err, errlen, "out of memory");
        goto fail;
    }
    if (up_on) {
        /* A reference to the context the options hold: one per proxy.
         * (The copy takes a bitwise copy and gives it its own strings.) */
        t->up = *up;
        if (sn_tls_opts_copy(&t->up, up) == -1) {
            memset(&t->up, 0, sizeof(t->up));
            fail(err, errlen, "out of memory");
            goto fail;
        }
        t->up_on = 1;
        if (t->up.ctx == NULL) {
            fail(err, errlen, "TLS to the master is on but could not be set up");
            goto fail;
        }
    }
    if (down_on &&
        (t->listen_ctx = t->ops->server_ctx_new(tc->listen_cert, tc->listen_key,
                                                 tc->listen_cacert, &e)) == NULL) {
        fail(err, errlen, e.msg);
        goto fail;
    }
    return t;
fail:
    px_tls_free(t);
    return NULL;
}

void px_tls_free(px_tls *t)
{
    if (t == NULL)
        return;
    for (int fd = 0; t->conns && fd < t->setsize; fd++)
        if (t->conns[fd])
            t->ops->conn_free(t->conns[fd]);
    if (t->up_on)
        sn_tls_opts_free(&t->up);
    if (t->listen_ctx)
        t->ops->ctx_free(t->listen_ctx);
    free(t->conns);
    free(t->want);
    free(t->flags);
    free(t);
}

int px_tls_upstream(const px_tls *t)
{
    return t != NULL && t->up_on;
}

int px_tls_listener(const px_tls *t)
{
    return t != NULL && t->listen_ctx != NULL;
}

int px_tls_handshake_ms(const px_tls *t)
{
    return t ? t->handshake_ms : 1000;
}

static sn_tls_conn *conn_of(const px_tls *t, int fd)
{
    return t != NULL && fd >= 0 && fd < t->setsize ? t->conns[fd] : NULL;
}

int px_tls_start(px_tls *t, int fd, const char *host, char *why, size_t whylen)
{
    sn_err e = {0};
    sn_tls_conn *c;

    if (fd < 0 || fd >= t->setsize)
        return fail(why, whylen, "descriptor out of range");
    px_tls_end(t, fd);
    c = host ? t->ops->conn_new(&t->up, sn_transport_get(), fd, host, &e)
             : t->ops->conn_accept(t->listen_ctx, sn_transport_get(), fd, &e);
    if (c == NULL) {
        fail(why, whylen, e.msg);
        return e.code == SENTINEL_ERR_NO_MEMORY ? PX_TLS_NO_MEMORY : -1;
    }
    t->ops->read_ahead(c); /* px_io_recv() asks pending() after every read */
    t->conns[fd] = c;
    t->want[fd] = host ? PX_WRITABLE : PX_READABLE; /* who speaks first */
    t->flags[fd] = 0;
    return 0;
}

static int to_mask(short want)
{
    return want & POLLOUT ? PX_WRITABLE : PX_READABLE;
}

int px_tls_handshake(px_tls *t, int fd, char *why, size_t whylen)
{
    sn_tls_conn *c = conn_of(t, fd);
    sn_err e = {0};
    short want = 0;
    int rc;

    if (c == NULL || t->want[fd] == PX_NONE)
        return 1;
    rc = t->ops->handshake(c, &want, &e);
    if (rc == 1) {
        t->want[fd] = PX_NONE;
        /* The peer may have sent data in the same flight. */
        if (t->ops->pending(c) > 0)
            px_loop_set_pending(t->loop, fd, 1);
        return 1;
    }
    if (rc == 0) {
        t->want[fd] = (uint8_t)to_mask(want);
        return 0;
    }
    t->flags[fd] |= TF_FAILED;
    return fail(why, whylen, e.msg);
}

int px_tls_handshake_want(const px_tls *t, int fd)
{
    return conn_of(t, fd) ? t->want[fd] : PX_NONE;
}

const char *px_tls_connect_timeout_why(const px_tls *t, int fd)
{
    sn_tls_conn *c = conn_of(t, fd);
    unsigned char first;

    if (c == NULL || t->want[fd] == PX_NONE)
        return "connect timed out";
    if (t->ops->bytes_in(c, &first) == 0)
        return SN_TLS_HELLO_SILENT;
    return "TLS handshake timed out";
}

void px_tls_close_notify(px_tls *t, int fd)
{
    sn_tls_conn *c = conn_of(t, fd);

    if (c == NULL || t->want[fd] != PX_NONE || (t->flags[fd] & (TF_FAILED | TF_NOTIFIED)))
        return;
    t->ops->close_notify(c);
    t->flags[fd] |= TF_NOTIFIED;
}

void px_tls_end(px_tls *t, int fd)
{
    sn_tls_conn *c = conn_of(t, fd);

    if (c == NULL)
        return;
    t->ops->conn_free(c);
    t->conns[fd] = NULL;
    t->want[fd] = PX_NONE;
    t->flags[fd] = 0;
    px_loop_set_pending(t->loop, fd, 0);
    px_loop_set_io_want(t->loop, fd, PX_READABLE, PX_READABLE);
    px_loop_set_io_want(t->loop, fd, PX_WRITABLE, PX_WRITABLE);
}

ssize_t px_io_recv(px_tls *t, int fd, void *buf, size_t len)
{
    sn_tls_conn *c = conn_of(t, fd);
    sn_err e = {0};
    short want = 0;
    ssize_t n;

    if (c == NULL)
        return recv(fd, buf, len, 0);
    n = t->ops->recv(c, buf, len, &want, &e);
    px_loop_set_pending(t->loop, fd, n > 0 && t->ops->pending(c) > 0);
    /* Reads wait for what OpenSSL wants: writable after a WANT_WRITE. */
    px_loop_set_io_want(t->loop, fd, PX_READABLE,
                        n == SN_WOULD_BLOCK && (want & POLLOUT) ? PX_WRITABLE : PX_READABLE);
    if (n >= 0)
        return n;
    if (n == SN_WOULD_BLOCK) {
        errno = EAGAIN;
        return -1;
    }
    t->flags[fd] |= TF_FAILED;
    errno = ECONNRESET;
    return -1;
}

ssize_t px_io_send(px_tls *t, int fd, const void *buf, size_t len)
{
    sn_tls_conn *c = conn_of(t, fd);
    sn_err e = {0};
    short want = 0;
    ssize_t n;

    if (c == NULL)
        return send(fd, buf, len, MSG_NOSIGNAL);
    if (len > t->write_cap)
        len = t->write_cap;
    n = t->ops->send(c, buf, len, &want, &e);
    /* Writes wait for what OpenSSL wants: readable after a WANT_READ. */
    px_loop_set_io_want(t->loop, fd, PX_WRITABLE,
                        n == 0 && (want & POLLIN) ? PX_READABLE : PX_WRITABLE);
    if (n > 0)
        return n;
    if (n == 0) {
        errno = EAGAIN;
        return -1;
    }
    t->flags[fd] |= TF_FAILED;
    errno = ECONNRESET;
    return -1;
}
