/*
 * diff-fuzz, its own connections to the data nodes (the faults' CLIENT
 * KILL / PAUSE / EVAL / ACL, the slow readers' 100 KB values, the final
 * scan): plaintext, or over TLS when the topology is TLS-only (--tls,
 * diff_fuzz.sh --tls). Debian's hiredis 0.14 has no TLS, so the socket is
 * ours (OpenSSL over it when asked) and hiredis only formats commands and
 * parses replies. Blocking, with hiredis' timeouts of before: 1 s to
 * connect (and for the TLS handshake), 3 s per read or write.
 */
#define _GNU_SOURCE
#include "diff_fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifdef FZ_WITH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
static SSL_CTX *tls_ctx; /* set by fz_admin_tls(): every admin connection speaks TLS */
#endif

struct fz_conn {
    int fd;
    void *ssl; /* SSL *, or NULL: plaintext */
    redisReader *rd;
    char *out;
    size_t out_len;
};

int fz_admin_tls(const char *cacert, const char *cert, const char *key)
{
#ifdef FZ_WITH_TLS
    if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
        SSL_CTX_load_verify_locations(tls_ctx, cacert, NULL) != 1 ||
        (cert && SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1) ||
        (key && SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1)) {
        fprintf(stderr, "diff-fuzz: TLS setup (%s, %s, %s) failed: %s\n", cacert,
                cert ? cert : "-", key ? key : "-", ERR_error_string(ERR_get_error(), NULL));
        return -1;
    }
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
    return 0;
#else
    (void)cacert, (void)cert, (void)key;
    fprintf(stderr, "diff-fuzz: built without OpenSSL: no --tls\n");
    return -1;
#endif
}

static ssize_t io_write(fz_conn *a, const char *b, size_t n)
{
#ifdef FZ_WITH_TLS
    if (a->ssl) {
        int w = SSL_write(a->ssl, b, (int)n);
        return w > 0 ? w : -1;
    }
#endif
    return send(a->fd, b, n, MSG_NOSIGNAL);
}

static ssize_t io_read(fz_conn *a, char *b, size_t n)
{
#ifdef FZ_WITH_TLS
    if (a->ssl) {
        int r = SSL_read(a->ssl, b, (int)n);
        return r > 0 ? r : -1;
    }
#endif
    return recv(a->fd, b, n, 0);
}

void fz_admin_close(fz_conn *a)
{
    if (a == NULL)
        return;
#ifdef FZ_WITH_TLS
    if (a->ssl)
        SSL_free(a->ssl);
#endif
    if (a->fd >= 0)
        close(a->fd);
    if (a->rd)
        redisReaderFree(a->rd);
    free(a->out);
    free(a);
}

/* A connected socket to 127.0.0.1:port within 1 s, then blocking with 3 s
 * timeouts; -1 on failure. */
static int connect_within(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timeval tv = { 3, 0 };
    struct pollfd pfd;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0, one = 1;
    socklen_t len = sizeof(err);

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (errno != EINPROGRESS || poll(&pfd, 1, 1000) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    tv.tv_sec = 1; /* the handshake: as the connect */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

fz_conn *fz_admin(int port, int quiet)
{
    fz_conn *a = calloc(1, sizeof(*a));
    struct timeval tv = { 3, 0 };
    redisReply *r;

    if (a == NULL)
        abort();
    if ((a->fd = connect_within(port)) < 0 || (a->rd = redisReaderCreate()) == NULL) {
        if (!quiet)
            fprintf(stderr, "diff-fuzz: connect to %d: %s\n", port, strerror(errno));
        fz_admin_close(a);
        return NULL;
    }
#ifdef FZ_WITH_TLS
    if (tls_ctx) {
        if ((a->ssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(a->ssl, a->fd) != 1 ||
            SSL_connect(a->ssl) != 1) {
            if (!quiet)
                fprintf(stderr, "diff-fuzz: TLS handshake with %d: %s\n", port,
                        ERR_error_string(ERR_get_error(), NULL));
            ERR_clear_error();
            fz_admin_close(a);
            return NULL;
        }
    }
#endif
    setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (R.password) {
        r = fz_admin_cmd(a, "AUTH %s", R.password);
        freeReplyObject(r);
    }
    r = fz_admin_cmd(a, "CLIENT SETNAME diff-fuzz-admin");
    freeReplyObject(r);
    return a;
}

static void queue(fz_conn *a, char *cmd, int n)
{
    if (n < 0)
        abort();
    if ((a->out = realloc(a->out, a->out_len + (size_t)n)) == NULL)
        abort();
    memcpy(a->out + a->out_len, cmd, (size_t)n);
    a->out_len += (size_t)n;
    free(cmd);
}

static void vqueue(fz_conn *a, const char *fmt, va_list ap)
{
    char *cmd;
    int n = redisvFormatCommand(&cmd, fmt, ap);

    queue(a, cmd, n);
}

void fz_admin_append(fz_conn *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vqueue(a, fmt, ap);
    va_end(ap);
}

int fz_admin_flush(fz_conn *a)
{
    size_t off = 0;

    while (off < a->out_len) {
        ssize_t n = io_write(a, a->out + off, a->out_len - off);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    a->out_len = 0;
    return 0;
}

/* One read into the reply parser: 0, or -1 (closed, error, timeout). */
static int fill(fz_conn *a)
{
    char buf[16384];
    ssize_t n = io_read(a, buf, sizeof(buf));

    if (n <= 0 || redisReaderFeed(a->rd, buf, (size_t)n) != REDIS_OK)
        return -1;
    return 0;
}

static redisReply *next_reply(fz_conn *a)
{
    void *reply = NULL;

    if (fz_admin_flush(a) != 0)
        return NULL;
    for (;;) {
        if (redisReaderGetReply(a->rd, &reply) != REDIS_OK)
            return NULL;
        if (reply)
            return reply;
        if (fill(a) != 0)
            return NULL;
    }
}

redisReply *fz_admin_cmd(fz_conn *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vqueue(a, fmt, ap);
    va_end(ap);
    return next_reply(a);
}

redisReply *fz_admin_argv(fz_conn *a, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);

    queue(a, cmd, n);
    return next_reply(a);
}

int fz_admin_poll(fz_conn *a, redisReply **r)
{
    struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
    void *reply = NULL;

    *r = NULL;
    if (redisReaderGetReply(a->rd, &reply) != REDIS_OK)
        return -1;
    if (reply == NULL) {
        int pending = 0;
#ifdef FZ_WITH_TLS
        pending = a->ssl && SSL_pending(a->ssl) > 0;
#endif
        if (!pending && poll(&pfd, 1, 0) <= 0)
            return 0;
        if (fill(a) != 0 || redisReaderGetReply(a->rd, &reply) != REDIS_OK)
            return -1;
    }
    *r = reply;
    return reply ? 1 : 0;
}
