/*
 * One connection to a sentinel or a data node: connect within a deadline,
 * AUTH, send a command and read its reply through hiredis' reply reader.
 *
 * We do our own socket I/O instead of using a redisContext so that every step
 * obeys the caller's deadline (hiredis 0.14 has only a connect timeout and a
 * socket timeout per call) and so that a reply is bounded in size (hiredis
 * 0.14's reader would buffer a gigabyte bulk string).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------
 * The default transport: non-blocking sockets and poll()
 * ------------------------------------------------------------------------ */

static int remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - sn_now_ms();

    if (left <= 0)
        return 0;
    return left > 86400000 ? 86400000 : (int)left;
}

/* Wait for fd to become ready for `events`; 0 ready, -1 timeout or error. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int left = remaining_ms(deadline_ms);
        int rc;

        if (left == 0)
            return -1;
        rc = poll(&p, 1, left);
        if (rc > 0)
            return 0;
        if (rc == 0)
            return -1;
        if (errno != EINTR)
            return -1;
    }
}

static int connect_one(const struct addrinfo *ai, int64_t deadline_ms, int *err_out)
{
    int fd, soerr = 0, one = 1;
    socklen_t len = sizeof(soerr);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1) {
        *err_out = errno;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        *err_out = errno;
        goto fail;
    }
    if (wait_fd(fd, POLLOUT, deadline_ms) == -1) {
        *err_out = ETIMEDOUT;
        goto fail;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 || soerr != 0) {
        *err_out = soerr ? soerr : errno;
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

static int sock_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[8];
    int rc, fd = -1, last_err = ECONNREFUSED;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    /* Literal addresses never touch the resolver. Host names use the
     * system resolver, which has its own timeouts (resolv.conf). */
    hints.ai_flags |= AI_NUMERICHOST;
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc == EAI_NONAME) {
        hints.ai_flags &= ~AI_NUMERICHOST;
        rc = getaddrinfo(host, portstr, &hints, &res);
    }
    if (rc != 0)
        return sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve '%s': %s", host,
                          gai_strerror(rc));
    for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
        fd = connect_one(ai, deadline_ms, &last_err);
    freeaddrinfo(res);
    if (fd != -1)
        return fd;
    if (last_err == ETIMEDOUT)
        return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "connect timed out");
    return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: %s", strerror(last_err));
}

static ssize_t sock_send(int fd, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    for (;;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "send: %s", strerror(errno));
        if (wait_fd(fd, POLLOUT, deadline_ms) == -1)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "send timed out");
    }
}

static ssize_t sock_recv(int fd, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "recv: %s", strerror(errno));
        if (wait_fd(fd, POLLIN, deadline_ms) == -1)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "no reply in time");
    }
}

static void sock_close(int fd)
{
    close(fd);
}

static const sn_transport socket_transport = {
    .open = sock_open,
    .send = sock_send,
    .recv = sock_recv,
    .close = sock_close,
};

static const sn_transport *current_transport = &socket_transport;

void sn_transport_set(const sn_transport *t)
{
    current_transport = t ? t : &socket_transport;
}

const sn_transport *sn_transport_get(void)
{
    return current_transport;
}

/* Start a non-blocking connect to the first address of host:port (the
 * watcher and the proxy's probes finish it in their own event loops).
 * Returns the socket, or -1 with e set. */
int sn_connect_start(const char *host, int port, sn_err *e)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int fd, one = 1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0 || res == NULL)
        return sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %s: %s", host,
                          rc ? gai_strerror(rc) : "no address");
    fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                res->ai_protocol);
    if (fd != -1) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    if (fd == -1)
        sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect %s:%d: %s", host, port,
                   strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* ------------------------------------------------------------------------
 * The link
 * ------------------------------------------------------------------------ */

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/*
 * hiredis 0.14's reader allocates an array's element table as soon as it has
 * read the header: "*268435456\r\n", 12 bytes, asks for 2 GiB before a single
 * element arrives, so bounding the bytes read is not enough. Every element
 * takes at least 3 bytes on the wire ("+\r\n"), so a reply that fits in
 * SN_REPLY_MAX holds at most SN_REPLY_MAX / 3 elements, nested arrays
 * included: refuse any header that would go past that, before the allocation.
 * The reader's object functions are hiredis' own but for createArray.
 */
#define SN_REPLY_MAX_ELEMENTS (SN_REPLY_MAX / 3)

typedef struct bounded_reader {
    redisReplyObjectFunctions fn;
    void *(*create_array)(const redisReadTask *task, int elements); /* hiredis' */
    long promised;  /* elements announced so far by the reply being read */
    long refused;   /* the header that went past the bound, 0 if none */
} bounded_reader;

static void *bounded_create_array(const redisReadTask *task, int elements)
{
    bounded_reader *br = task->privdata;

    if (elements > 0 && (long)elements > SN_REPLY_MAX_ELEMENTS - br->promised) {
        br->refused = elements;
        return NULL; /* the reader fails the reply ("Out of memory") */
    }
    br->promised += elements > 0 ? elements : 0;
    return br->create_array(task, elements);
}

redisReader *sn_reader_create(void)
{
    redisReader *r = redisReaderCreate();
    bounded_reader *br = calloc(1, sizeof(*br));

    if (r == NULL || br == NULL) {
        if (r)
            redisReaderFree(r);
        free(br);
        return NULL;
    }
    br->fn = *r->fn;
    br->create_array = br->fn.createArray;
    br->fn.createArray = bounded_create_array;
    r->fn = &br->fn;
    r->privdata = br;
    return r;
}

void sn_reader_reply_done(redisReader *r)
{
    ((bounded_reader *)r->privdata)->promised = 0;
}

void sn_reader_free(redisReader *r)
{
    bounded_reader *br = r->privdata;

    redisReaderFree(r); /* still calls br->fn.freeObject */
    free(br);
}

int sn_link_open(sn_link *l, const char *host, int port, int connect_ms, int command_ms,
                 int64_t deadline_ms, sn_err *e)
{
    l->t = current_transport;
    l->command_ms = command_ms;
    l->reader = NULL;
    l->h = l->t->open(host, port, min64(deadline_ms, sn_now_ms() + connect_ms), e);
    if (l->h < 0)
        return -1;
    if ((l->reader = sn_reader_create()) == NULL) {
        l->t->close(l->h);
        l->h = -1;
        return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    }
    return 0;
}

void sn_link_close(sn_link *l)
{
    if (l->h >= 0)
        l->t->close(l->h);
    l->h = -1;
    if (l->reader)
        sn_reader_free(l->reader);
    l->reader = NULL;
}

static int send_all(sn_link *l, const char *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    while (len > 0) {
        ssize_t n = l->t->send(l->h, buf, len, deadline_ms, e);
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static redisReply *read_reply(sn_link *l, int64_t deadline_ms, sn_err *e)
{
    char buf[16384];
    size_t total = 0;
    void *reply = NULL;
    bounded_reader *br = l->reader->privdata;

    for (;;) {
        ssize_t n;

        if (redisReaderGetReply(l->reader, &reply) != REDIS_OK) {
            if (br->refused)
                sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                           "reply announces an array of %ld elements, more than %d bytes can hold",
                           br->refused, SN_REPLY_MAX);
            else
                sn_err_set(e, SENTINEL_ERR_PROTOCOL, "bad reply: %s", l->reader->errstr);
            return NULL;
        }
        if (reply != NULL) {
            sn_reader_reply_done(l->reader); /* the next reply has its own budget */
            return reply;
        }
        if (total > SN_REPLY_MAX) {
            sn_err_set(e, SENTINEL_ERR_PROTOCOL, "reply larger than %d bytes", SN_REPLY_MAX);
            return NULL;
        }
        n = l->t->recv(l->h, buf, sizeof(buf), deadline_ms, e);
        if (n < 0)
            return NULL;
        if (n == 0) {
            if (total > 0)
                sn_err_set(e, SENTINEL_ERR_PROTOCOL, "connection closed mid-reply");
            else
                sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connection closed by peer");
            return NULL;
        }
        total += (size_t)n;
        if (redisReaderFeed(l->reader, buf, (size_t)n) != REDIS_OK) {
            sn_err_set(e, SENTINEL_ERR_PROTOCOL, "bad reply: %s", l->reader->errstr);
            return NULL;
        }
    }
}

redisReply *sn_link_command(sn_link *l, int64_t deadline_ms, sn_err *e, int argc,
                            const char **argv)
{
    char *cmd = NULL;
    int len;
    redisReply *r;
    int64_t dl = min64(deadline_ms, sn_now_ms() + l->command_ms);

    if (l->h < 0) {
        sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "link is closed");
        return NULL;
    }
    if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0) {
        sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory formatting command");
        return NULL;
    }
    if (send_all(l, cmd, (size_t)len, dl, e) == -1) {
        free(cmd);
        return NULL;
    }
    free(cmd);
    if ((r = read_reply(l, dl, e)) == NULL)
        sn_link_close(l); /* a half-read stream cannot be reused */
    return r;
}

int sn_auth_argv(const sn_cred *cred, const char *argv[3])
{
    int argc = 0;

    if (cred->password == NULL)
        return 0;
    argv[argc++] = "AUTH";
    if (cred->user)
        argv[argc++] = cred->user;
    argv[argc++] = cred->password;
    return argc;
}

int sn_link_auth(sn_link *l, const sn_cred *cred, int64_t deadline_ms, sn_err *e)
{
    const char *argv[3];
    int argc = sn_auth_argv(cred, argv);
    redisReply *r;
    int rc = 0;

    if (argc == 0)
        return 0;
    if ((r = sn_link_command(l, deadline_ms, e, argc, argv)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ERROR) {
        /* Never echo the password: the server's message does not contain it. */
        rc = sn_err_set(e, SENTINEL_ERR_AUTH, "AUTH refused: %.200s", r->str);
    } else if (r->type != REDIS_REPLY_STATUS) {
        rc = sn_err_set(e, SENTINEL_ERR_PROTOCOL, "unexpected reply type %d to AUTH", r->type);
    }
    freeReplyObject(r);
    return rc;
}
