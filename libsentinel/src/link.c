/*
 * One connection to a sentinel or a data node: connect within a deadline,
 * AUTH, send a command and read its reply through hiredis' reply reader.
 *
 * We do our own socket I/O instead of using a redisContext so that every step
 * obeys the caller's deadline (hiredis 0.14 has only a connect timeout and a
 * socket timeout per call) and so that a reply is bounded in size (hiredis
 * 0.14's reader would buffer a gigabyte bulk string).
 *
 * TLS (tls.c) sits between a link and its transport: the handshake runs
 * once the TCP connect is done, within the same connect deadline, and the
 * link's bytes go through OpenSSL, whose own reads and writes go through
 * the transport's non-blocking side.
 *
 * Past 800 lines: the blocking link and the non-blocking one (sn_nblink)
 * share the command formatting, the AUTH preamble, the wipe of every
 * formatted command and the bounded reader; split, each half would need
 * those as a third file's internal API for no gain in reading.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
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

static int sock_nb_connected(int fd, sn_err *e);
static ssize_t sock_nb_send(int fd, const void *buf, size_t len, sn_err *e);
static ssize_t sock_nb_recv(int fd, void *buf, size_t cap, sn_err *e);

/* The blocking side is the non-blocking one plus a wait for readiness. */
static ssize_t sock_send(int fd, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    for (;;) {
        ssize_t n = sock_nb_send(fd, buf, len, e);
        if (n != 0 || len == 0)
            return n;
        if (wait_fd(fd, POLLOUT, deadline_ms) == -1)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "send timed out");
    }
}

static ssize_t sock_recv(int fd, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    for (;;) {
        ssize_t n = sock_nb_recv(fd, buf, cap, e);
        if (n != SN_WOULD_BLOCK)
            return n;
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
    .nb_open = sn_connect_start,
    .nb_connected = sock_nb_connected,
    .nb_send = sock_nb_send,
    .nb_recv = sock_nb_recv,
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

/* getaddrinfo() of host:port; numeric_only asks a literal address (no
 * resolver: EAI_NONAME for a host name). */
static int lookup(const char *host, int port, int numeric_only, struct addrinfo **res)
{
    struct addrinfo hints;
    char portstr[8];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (numeric_only ? AI_NUMERICHOST : 0);
    snprintf(portstr, sizeof(portstr), "%d", port);
    *res = NULL;
    return getaddrinfo(host, portstr, &hints, res);
}

/* Start a non-blocking connect to the first address of res; the socket,
 * or -1 with e set. */
static int connect_first(const struct addrinfo *res, const char *host, int port, sn_err *e)
{
    int fd, one = 1;

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
    return fd;
}

/* Start a non-blocking connect to the first address of host:port (the
 * watcher and the proxy's probes finish it in their own event loops).
 * Returns the socket, or -1 with e set. A host name is looked up here,
 * blocking: sn_nblink looks names up off the loop (sn_lookup) and comes
 * here with literal addresses only. */
int sn_connect_start(const char *host, int port, sn_err *e)
{
    struct addrinfo *res;
    int fd, rc;

    if ((rc = lookup(host, port, 1, &res)) == EAI_NONAME)
        rc = lookup(host, port, 0, &res);
    if (rc != 0 || res == NULL)
        return sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %s: %s", host,
                          rc ? gai_strerror(rc) : "no address");
    fd = connect_first(res, host, port, e);
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

/* The side of the seam a TLS connection's BIO moves bytes through: a fake
 * that scripts only the blocking side leaves the socket defaults. */
static const sn_transport *nb_side(const sn_transport *t)
{
    return t->nb_open ? t : &socket_transport;
}

/* The handshake reached a plaintext Redis or Sentinel: say so, and which
 * role's TLS to turn off. */
static int plaintext_port(const sn_tls_opts *tls, const char *how, sn_err *e)
{
    return sn_err_set(e, SENTINEL_ERR_TLS,
                      "a plaintext port: it %s; turn TLS off for the %s",
                      how, tls->role == SENTINEL_TLS_DATA ? "data nodes" : "sentinels");
}

/*
 * TLS handshake on an open blocking link, within deadline_ms. A plaintext
 * Redis sends nothing back (it waits for the ClientHello's line end), nor
 * does a frozen server: when half the time has gone by without one byte,
 * ask the port with a plaintext PING (sn_probe_plaintext) until the same
 * deadline. A RESP answer is the TLS error; a reset or close (a slow TLS
 * server) resumes the handshake; silence is the timeout it would have been.
 */
static int link_handshake(sn_link *l, const char *host, const sn_tls_opts *tls,
                          int64_t deadline_ms, sn_err *e)
{
    int64_t half = sn_now_ms() + (deadline_ms - sn_now_ms()) / 2;
    int probed = 0;

    l->tls_ops = tls->ops;
    if ((l->tls = l->tls_ops->conn_new(tls, nb_side(l->t), l->h, host, e)) == NULL)
        return -1;
    for (;;) {
        short want;
        unsigned char first;
        int rc = l->tls_ops->handshake(l->tls, &want, e);

        if (rc == 1)
            return 0;
        if (rc == -1) {
            /* A server that answers the hello itself with a RESP error
             * (one that reads it as an inline command up to a newline),
             * which OpenSSL cannot read as a record. */
            if (l->tls_ops->bytes_in(l->tls, &first) > 0 && sn_resp_type_byte(first))
                return plaintext_port(tls, "answered the TLS hello with a plaintext reply", e);
            return -1;
        }
        if (wait_fd(l->h, want, probed ? deadline_ms : half) == 0)
            continue;
        if (probed || sn_now_ms() >= deadline_ms)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "TLS handshake timed out");
        probed = 1;
        if (l->tls_ops->bytes_in(l->tls, &first) == 0 &&
            sn_probe_plaintext(l->t, l->host, l->port, deadline_ms) == 1)
            return plaintext_port(tls, "answered a plaintext PING and not the TLS hello", e);
        /* Otherwise back to the handshake with the time left, if any. */
    }
}

/* The non-blocking links (the follower, the watcher's shared polls) only
 * time out: their message says when the name lookup was still under way,
 * or when the handshake had no byte back. */
const char *sn_nblink_timeout_hint(const sn_nblink *l)
{
    unsigned char first;

    if (l->lookup != NULL && l->state == SN_NB_CONNECTING)
        return "name lookup timed out (DNS server slow or dead)";
    if (l->tls == NULL || l->state != SN_NB_CONNECTING || !l->tcp_up ||
        l->tls_ops->bytes_in(l->tls, &first) > 0)
        return NULL;
    return SN_TLS_HELLO_SILENT;
}

/* The probes (sn_probe_plaintext, sn_probe_tls) ask the address this link
 * is connected to, not the name again: a second look-up has no deadline,
 * and with round-robin DNS could reach another server than the one that
 * failed. Taken at connect time (a reset socket has no peer any more). A
 * handle that is no socket (a test's fake transport) keeps the name. */
static void link_peer(sn_link *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char num[SENTINEL_HOST_MAX];

    if (getpeername(l->h, (struct sockaddr *)&ss, &len) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
        getnameinfo((struct sockaddr *)&ss, len, num, sizeof(num), NULL, 0, NI_NUMERICHOST) == 0)
        snprintf(l->host, sizeof(l->host), "%s", num);
}

int sn_link_open_tls(sn_link *l, const char *host, int port, int connect_ms, int command_ms,
                     int64_t deadline_ms, const sn_tls_opts *tls, sn_err *e)
{
    int64_t connect_deadline = min64(deadline_ms, sn_now_ms() + connect_ms);

    l->t = current_transport;
    l->command_ms = command_ms;
    l->reader = NULL;
    l->tls = NULL;
    l->tls_ops = NULL;
    snprintf(l->host, sizeof(l->host), "%s", host);
    l->port = port;
    l->h = l->t->open(host, port, connect_deadline, e);
    if (l->h < 0)
        return -1;
    link_peer(l);
    if (sn_tls_on(tls) && link_handshake(l, host, tls, connect_deadline, e) == -1) {
        sn_link_close(l);
        return -1;
    }
    if ((l->reader = sn_reader_create()) == NULL) {
        sn_link_close(l);
        return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    }
    return 0;
}

int sn_link_open(sn_link *l, const char *host, int port, int connect_ms, int command_ms,
                 int64_t deadline_ms, sn_err *e)
{
    return sn_link_open_tls(l, host, port, connect_ms, command_ms, deadline_ms, NULL, e);
}

void sn_link_close(sn_link *l)
{
    if (l->tls != NULL)
        l->tls_ops->conn_free(l->tls);
    l->tls = NULL;
    if (l->h >= 0)
        l->t->close(l->h);
    l->h = -1;
    if (l->reader)
        sn_reader_free(l->reader);
    l->reader = NULL;
}

/* One send or receive on a blocking link, through TLS when it has it. */
static ssize_t link_send(sn_link *l, const char *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    if (l->tls == NULL)
        return l->t->send(l->h, buf, len, deadline_ms, e);
    for (;;) {
        short want;
        ssize_t n = l->tls_ops->send(l->tls, buf, len, &want, e);

        if (n != 0)
            return n;
        if (wait_fd(l->h, want, deadline_ms) == -1)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "send timed out");
    }
}

static ssize_t link_recv(sn_link *l, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    if (l->tls == NULL)
        return l->t->recv(l->h, buf, cap, deadline_ms, e);
    for (;;) {
        short want;
        ssize_t n = l->tls_ops->recv(l->tls, buf, cap, &want, e);

        if (n != SN_WOULD_BLOCK)
            return n;
        if (wait_fd(l->h, want, deadline_ms) == -1)
            return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "no reply in time");
    }
}

ssize_t sn_link_send(sn_link *l, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    return link_send(l, buf, len, deadline_ms, e);
}

ssize_t sn_link_recv(sn_link *l, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    return link_recv(l, buf, cap, deadline_ms, e);
}

static int send_all(sn_link *l, const char *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    while (len > 0) {
        ssize_t n = link_send(l, buf, len, deadline_ms, e);
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A plaintext command reset or closed before any reply byte: a TLS port
 * does that, and so does a dying server. Ask the port (sn_probe_tls): a TLS
 * port is SENTINEL_ERR_TLS; otherwise keep the retryable code, with a hint. */
static void tls_port_or_hint(sn_link *l, int64_t deadline_ms, sn_err *e)
{
    size_t len = strlen(e->msg);

    if (sn_probe_tls(l->t, l->host, l->port, deadline_ms)) {
        sn_err_set(e, SENTINEL_ERR_TLS,
                   "a TLS port: it reset the plaintext command and answered a TLS hello; "
                   "turn TLS on");
        return;
    }
    snprintf(e->msg + len, sizeof(e->msg) - len, " (before any reply: a TLS port? turn TLS on)");
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
        n = link_recv(l, buf, sizeof(buf), deadline_ms, e);
        if (n == 0)
            sn_err_set(e, total > 0 ? SENTINEL_ERR_PROTOCOL : SENTINEL_ERR_MASTER_UNREACHABLE,
                       total > 0 ? "connection closed mid-reply" : "connection closed by peer");
        if (n <= 0) {
            if (total == 0 && l->tls == NULL && e->code == SENTINEL_ERR_MASTER_UNREACHABLE)
                tls_port_or_hint(l, deadline_ms, e);
            return NULL;
        }
        if (total == 0 && l->tls == NULL && sn_tls_record_head(buf, (size_t)n)) {
            sn_err_set(e, SENTINEL_ERR_TLS, "the server answered with TLS: turn TLS on");
            return NULL;
        }
        total += (size_t)n;
        if (redisReaderFeed(l->reader, buf, (size_t)n) != REDIS_OK) {
            sn_err_set(e, SENTINEL_ERR_PROTOCOL, "bad reply: %s", l->reader->errstr);
            return NULL;
        }
    }
}

/* A formatted command may be an AUTH: wipe it before it goes back to the
 * allocator, so no password lingers in freed heap. */
static void cmd_free(char *cmd, int len)
{
    explicit_bzero(cmd, (size_t)len);
    free(cmd);
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
        cmd_free(cmd, len);
        return NULL;
    }
    cmd_free(cmd, len);
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
        /* Never echo the password, which the server's message may quote. */
        rc = sn_err_auth_refused(e, r->str, cred);
    } else if (r->type != REDIS_REPLY_STATUS) {
        rc = sn_err_set(e, SENTINEL_ERR_PROTOCOL, "unexpected reply type %d to AUTH", r->type);
    }
    freeReplyObject(r);
    return rc;
}

int sn_err_auth_refused(sn_err *e, const char *reply, const sn_cred *cr)
{
    static const char quoted[] = "with args beginning with";
    char text[256];
    const char *cut = strstr(reply, quoted);
    size_t n = cut != NULL ? (size_t)(cut - reply) : strlen(reply);

    if (n > 200)
        n = 200;
    memcpy(text, reply, n);
    text[n] = '\0';
    if (cr != NULL && cr->password != NULL && cr->password[0] != '\0')
        for (char *p = text; (p = strstr(p, cr->password)) != NULL;)
            for (const char *q = cr->password; *q; q++)
                *p++ = '*';
    sn_err_set(e, SENTINEL_ERR_AUTH, "AUTH refused: %s%s", text,
               cut != NULL ? "(its arguments left out)" : "");
    explicit_bzero(text, sizeof(text));
    return -1;
}

/* ------------------------------------------------------------------------
 * The non-blocking link: the socket defaults of the seam's nb_* members
 * ------------------------------------------------------------------------ */

static int sock_nb_connected(int fd, sn_err *e)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);

    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: %s",
                          strerror(err ? err : errno));
    return 1;
}

static ssize_t sock_nb_send(int fd, const void *buf, size_t len, sn_err *e)
{
    for (;;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "send: %s", strerror(errno));
    }
}

static ssize_t sock_nb_recv(int fd, void *buf, size_t cap, sn_err *e)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SN_WOULD_BLOCK;
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "recv: %s", strerror(errno));
    }
}

/* A unique number per open, so that a registry of descriptors can tell a
 * reused fd number from the link it had before. */
static uint64_t next_gen(void)
{
    static uint64_t gen;

    return __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
}

void sn_nblink_init(sn_nblink *l)
{
    memset(l, 0, sizeof(*l));
    l->h = -1;
}

/* The link's TLS connection on its socket h, when TLS is on; 0 or -1. */
static int nblink_tls_new(sn_nblink *l, const sn_tls_opts *tls, const char *host, sn_err *e)
{
    if (!sn_tls_on(tls))
        return 0;
    l->tls_ops = tls->ops;
    l->tls = l->tls_ops->conn_new(tls, l->t, l->h, host, e);
    return l->tls == NULL ? -1 : 0;
}

/*
 * A host name on the socket transport: look it up on a thread
 * (name_lookup.c) so the host's loop keeps serving while the DNS server is
 * slow or dead. The link is SN_NB_CONNECTING meanwhile, so the caller's
 * connect deadline covers the lookup; its handle is the lookup's
 * descriptor, readable once the answer is there (nblink_lookup_done swaps
 * in the socket). 1 started, 0 a literal address (connect at once), -1.
 */
static int nblink_lookup_start(sn_nblink *l, const char *host, int port,
                               const sn_tls_opts *tls, sn_err *e)
{
    struct addrinfo *res;
    int rc;

    if (l->t != &socket_transport)
        return 0;
    if ((rc = lookup(host, port, 1, &res)) == 0) {
        freeaddrinfo(res);
        return 0;
    }
    /* Only a name (EAI_NONAME) goes to the resolver: a literal address that
     * failed otherwise (EAI_MEMORY when out of memory) would start a
     * thread to fail again, in the state where a thread is least likely to
     * start. */
    if (rc != EAI_NONAME)
        return sn_err_set(e, rc == EAI_MEMORY ? SENTINEL_ERR_NO_MEMORY : SENTINEL_ERR_HOST_UNRESOLVED,
                          "cannot resolve %s: %s", host, gai_strerror(rc));
    if ((l->lookup = sn_lookup_start(host, port, e)) == NULL)
        return -1;
    l->h = sn_lookup_fd(l->lookup);
    l->port = port;
    l->tls_opts = sn_tls_on(tls) ? tls : NULL;
    return 1;
}

/* The lookup's answer: start the connect (a new handle, so a new gen).
 * 1 connecting, 0 still looking up, -1 with e set. */
static int nblink_lookup_done(sn_nblink *l, sn_err *e)
{
    struct addrinfo *res;
    const char *host = sn_lookup_host(l->lookup);
    int rc = sn_lookup_result(l->lookup, &res, e), fd;

    if (rc <= 0)
        return rc;
    fd = connect_first(res, host, l->port, e);
    freeaddrinfo(res);
    if (fd == -1)
        return -1;
    l->h = fd;
    l->gen = next_gen();
    rc = nblink_tls_new(l, l->tls_opts, host, e);
    sn_lookup_drop(l->lookup);
    l->lookup = NULL;
    return rc == -1 ? -1 : 1;
}

int sn_nblink_open_tls(sn_nblink *l, const char *host, int port, const sn_tls_opts *tls,
                       sn_err *e)
{
    /* A fake that scripts only the blocking side leaves this side real. */
    const sn_transport *t = nb_side(current_transport);
    int rc;

    sn_nblink_close(l);
    l->t = t;
    if ((rc = nblink_lookup_start(l, host, port, tls, e)) == -1)
        return -1;
    if (rc == 0) {
        int h = t->nb_open(host, port, e);

        if (h < 0)
            return -1;
        l->h = h;
        if (nblink_tls_new(l, tls, host, e) == -1) {
            sn_nblink_close(l);
            return -1;
        }
    }
    if ((l->reader = sn_reader_create()) == NULL) {
        sn_nblink_close(l);
        return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    }
    l->state = SN_NB_CONNECTING;
    l->gen = next_gen();
    return 0;
}

int sn_nblink_open(sn_nblink *l, const char *host, int port, sn_err *e)
{
    return sn_nblink_open_tls(l, host, port, NULL, e);
}

int sn_nblink_queue(sn_nblink *l, int argc, const char **argv, sn_err *e)
{
    char *cmd;
    int len;

    if (l->state == SN_NB_CLOSED)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "link is closed");
    if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0)
        return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory formatting command");
    if (l->outlen + (size_t)len > SN_NBLINK_OUT_MAX) {
        cmd_free(cmd, len);
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "output queue full (peer not reading)");
    }
    if (l->outlen + (size_t)len > l->outcap) {
        size_t cap = l->outcap ? l->outcap : 256;
        char *out;

        while (cap < l->outlen + (size_t)len)
            cap *= 2;
        /* Not realloc(): the old queue may hold a queued AUTH, and a moving
         * realloc() would free it unwiped. */
        if ((out = malloc(cap)) == NULL) {
            cmd_free(cmd, len);
            return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
        }
        if (l->out != NULL) {
            memcpy(out, l->out, l->outlen);
            explicit_bzero(l->out, l->outcap);
            free(l->out);
        }
        l->out = out;
        l->outcap = cap;
    }
    memcpy(l->out + l->outlen, cmd, (size_t)len);
    l->outlen += (size_t)len;
    cmd_free(cmd, len);
    return 0;
}

int sn_nblink_queue_auth(sn_nblink *l, const sn_cred *cred, sn_err *e)
{
    const char *argv[3];
    int argc = sn_auth_argv(cred, argv);

    if (argc == 0)
        return 0;
    return sn_nblink_queue(l, argc, argv, e) == -1 ? -1 : 1;
}

static int nblink_flush(sn_nblink *l, sn_err *e)
{
    size_t done = 0;

    if (l->outlen == 0)
        return 0;
    while (done < l->outlen) {
        ssize_t n = l->tls ? l->tls_ops->send(l->tls, l->out + done, l->outlen - done,
                                              &l->tls_want, e)
                           : l->t->nb_send(l->h, l->out + done, l->outlen - done, e);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    memmove(l->out, l->out + done, l->outlen - done);
    l->outlen -= done;
    /* Secrets (AUTH) do not linger in freed queue space. */
    explicit_bzero(l->out + l->outlen, done);
    return 0;
}

static int nblink_fill(sn_nblink *l, sn_err *e)
{
    char buf[16384];

    for (int i = 0; i < 64; i++) {
        ssize_t n = l->tls ? l->tls_ops->recv(l->tls, buf, sizeof(buf), &l->tls_want, e)
                           : l->t->nb_recv(l->h, buf, sizeof(buf), e);
        if (n == SN_WOULD_BLOCK)
            return 0;
        if (n < 0)
            return -1;
        if (n == 0)
            return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connection closed by peer");
        if (l->tls == NULL && l->reader->len == 0 && sn_tls_record_head(buf, (size_t)n))
            return sn_err_set(e, SENTINEL_ERR_TLS, "the server answered with TLS: turn TLS on");
        if (redisReaderFeed(l->reader, buf, (size_t)n) != REDIS_OK)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "bad reply: %s", l->reader->errstr);
        /* Bound what a peer can make us buffer. */
        if (l->reader->len - l->reader->pos > SN_REPLY_MAX)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "reply larger than %d bytes",
                              SN_REPLY_MAX);
    }
    return 0;
}

int sn_nblink_io(sn_nblink *l, sn_err *e)
{
    if (l->state == SN_NB_CLOSED)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "link is closed");
    if (l->state == SN_NB_CONNECTING) {
        int rc = l->lookup != NULL ? nblink_lookup_done(l, e) : 1;

        if (rc <= 0)
            return rc;
        rc = l->tcp_up ? 1 : l->t->nb_connected(l->h, e);
        if (rc <= 0)
            return rc;
        l->tcp_up = 1;
        /* With TLS the link is connecting until the handshake is done. */
        if (l->tls != NULL && (rc = l->tls_ops->handshake(l->tls, &l->tls_want, e)) <= 0)
            return rc;
        l->tls_want = 0;
        l->state = SN_NB_OPEN;
    }
    if (nblink_flush(l, e) == -1)
        return -1;
    return nblink_fill(l, e);
}

int sn_nblink_reply(sn_nblink *l, redisReply **r, sn_err *e)
{
    void *reply = NULL;
    bounded_reader *br;

    *r = NULL;
    if (l->reader == NULL)
        return 0;
    br = l->reader->privdata;
    if (redisReaderGetReply(l->reader, &reply) != REDIS_OK) {
        if (br->refused)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                              "reply announces an array of %ld elements, more than %d bytes can hold",
                              br->refused, SN_REPLY_MAX);
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "bad reply: %s", l->reader->errstr);
    }
    if (reply == NULL)
        return 0;
    sn_reader_reply_done(l->reader);
    *r = reply;
    return 1;
}

short sn_nblink_events(const sn_nblink *l)
{
    if (l->state == SN_NB_CLOSED)
        return 0;
    if (l->lookup != NULL)
        return POLLIN; /* the lookup's descriptor; it is always writable */
    /* TLS: what OpenSSL waits for (a handshake, or a write that must read
     * first), else the same as plaintext. */
    if (l->tls != NULL && l->tls_want != 0)
        return l->tls_want | (l->outlen > 0 && l->state == SN_NB_OPEN ? POLLOUT : 0) | POLLIN;
    if (l->state == SN_NB_CONNECTING || l->outlen > 0)
        return POLLIN | POLLOUT;
    return POLLIN;
}

void sn_nblink_close(sn_nblink *l)
{
    if (l->tls != NULL)
        l->tls_ops->conn_free(l->tls);
    l->tls = NULL;
    l->tcp_up = 0;
    l->tls_want = 0;
    if (l->lookup != NULL)
        sn_lookup_drop(l->lookup); /* its descriptor goes with it */
    else if (l->h >= 0)
        l->t->close(l->h);
    l->lookup = NULL;
    l->tls_opts = NULL;
    l->h = -1;
    l->state = SN_NB_CLOSED;
    if (l->reader)
        sn_reader_free(l->reader);
    l->reader = NULL;
    if (l->out)
        explicit_bzero(l->out, l->outcap);
    free(l->out);
    l->out = NULL;
    l->outlen = l->outcap = 0;
}
