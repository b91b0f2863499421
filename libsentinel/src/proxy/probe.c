/*
 * A non-blocking ROLE probe of one data node, run from the proxy's loop.
 *
 * The connection is kept between rounds: during a failover the proxy asks
 * the promotion candidate every probe interval (20 ms by default) until it
 * says "master", and reconnecting each time would only add latency.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

const char *px_probe_state_name(px_probe_state st)
{
    switch (st) {
    case PX_PROBE_IDLE: return "idle";
    case PX_PROBE_CONNECTING: return "connecting";
    case PX_PROBE_WAITING: return "waiting";
    case PX_PROBE_READY: return "ready";
    }
    return "?";
}

void px_probe_init(px_probe *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->fd = -1;
    pr->state = PX_PROBE_IDLE;
}

void px_probe_close(px_probe *pr)
{
    if (pr->fd >= 0)
        close(pr->fd);
    if (pr->reader)
        sn_reader_free(pr->reader);
    pr->fd = -1;
    pr->reader = NULL;
    pr->expect = 0;
    pr->state = PX_PROBE_IDLE;
}

static int probe_connect(px_probe *pr, int64_t now, int connect_ms)
{
    sn_err e;
    int fd = sn_connect_start(pr->addr.host, pr->addr.port, &e);

    if (fd == -1) {
        snprintf(pr->err, sizeof(pr->err), "%s", e.msg);
        return -1;
    }
    /* Bounded like every reader of ours: a node's reply cannot make us
     * allocate what it never sent. */
    if ((pr->reader = sn_reader_create()) == NULL) {
        close(fd);
        snprintf(pr->err, sizeof(pr->err), "out of memory");
        return -1;
    }
    pr->fd = fd;
    pr->state = PX_PROBE_CONNECTING;
    pr->deadline = now + connect_ms;
    return 0;
}

/* The commands of one round; small enough for one send() on a fresh
 * socket, so a partial write means something is badly wrong. */
static int probe_send(px_probe *pr, const sn_cred *cred)
{
    char *cmd = NULL, buf[2048];
    size_t len = 0;
    int n;

    pr->expect = 0;
    if (cred->password) {
        const char *argv[3];
        int argc = 0;
        argv[argc++] = "AUTH";
        if (cred->user)
            argv[argc++] = cred->user;
        argv[argc++] = cred->password;
        if ((n = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0 ||
            (size_t)n > sizeof(buf) - 16) {
            free(cmd);
            return -1;
        }
        memcpy(buf, cmd, (size_t)n);
        len = (size_t)n;
        free(cmd);
        pr->expect++;
    }
    memcpy(buf + len, "*1\r\n$4\r\nROLE\r\n", 14);
    len += 14;
    pr->expect++;
    if (send(pr->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
        snprintf(pr->err, sizeof(pr->err), "send to %s:%d: %s", pr->addr.host, pr->addr.port,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int px_probe_start(px_probe *pr, const sn_hostport *addr, const sn_cred *cred, int connect_ms,
                   int command_ms, int64_t now)
{
    static const sn_cred none = {NULL, NULL};

    if (pr->fd >= 0 && (pr->addr.port != addr->port || strcmp(pr->addr.host, addr->host) != 0))
        px_probe_close(pr);
    pr->addr = *addr;
    pr->err[0] = '\0';
    if (pr->state == PX_PROBE_CONNECTING || pr->state == PX_PROBE_WAITING)
        return 0; /* a round is already under way */
    if (pr->fd < 0) {
        if (probe_connect(pr, now, connect_ms + command_ms) == -1)
            return -1;
        pr->cred = cred; /* AUTH once, when the connection is up */
        return 0;
    }
    /* An open, authenticated connection: just ask again. */
    if (probe_send(pr, &none) == -1) {
        px_probe_close(pr);
        return -1;
    }
    pr->state = PX_PROBE_WAITING;
    pr->deadline = now + command_ms;
    return 0;
}

int px_probe_events(const px_probe *pr)
{
    switch (pr->state) {
    case PX_PROBE_CONNECTING: return PX_WRITABLE;
    case PX_PROBE_WAITING: return PX_READABLE;
    case PX_PROBE_READY: return PX_READABLE; /* to notice a close */
    case PX_PROBE_IDLE: return PX_NONE;
    }
    return PX_NONE;
}

static px_probe_result probe_failed(px_probe *pr, const char *why)
{
    if (why)
        snprintf(pr->err, sizeof(pr->err), "%s:%d: %s", pr->addr.host, pr->addr.port, why);
    px_probe_close(pr);
    return PX_PROBE_FAILED;
}

px_probe_result px_probe_step(px_probe *pr, int64_t now)
{
    char buf[4096];
    void *reply;

    switch (pr->state) {
    case PX_PROBE_IDLE:
        return PX_PROBE_PENDING;
    case PX_PROBE_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof(err);
        static const sn_cred none = {NULL, NULL};
        struct pollfd p = {.fd = pr->fd, .events = POLLOUT};
        if (poll(&p, 1, 0) <= 0) {
            if (now >= pr->deadline)
                return probe_failed(pr, "connect timed out");
            return PX_PROBE_PENDING;
        }
        if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0)
            return probe_failed(pr, strerror(err ? err : errno));
        if (probe_send(pr, pr->cred ? pr->cred : &none) == -1)
            return probe_failed(pr, NULL);
        pr->state = PX_PROBE_WAITING;
        return PX_PROBE_PENDING;
    }
    case PX_PROBE_WAITING:
    case PX_PROBE_READY:
        break;
    }
    for (;;) {
        ssize_t n = recv(pr->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            if (redisReaderFeed(pr->reader, buf, (size_t)n) != REDIS_OK ||
                pr->reader->len - pr->reader->pos > SN_REPLY_MAX)
                return probe_failed(pr, "protocol error");
            continue;
        }
        if (n == 0)
            return probe_failed(pr, "connection closed");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        return probe_failed(pr, strerror(errno));
    }
    if (pr->state == PX_PROBE_READY)
        return PX_PROBE_PENDING; /* unsolicited bytes: ignore */
    while (pr->expect > 0) {
        redisReply *r;
        sn_role role = SN_ROLE_UNKNOWN;
        sn_err e;

        if (redisReaderGetReply(pr->reader, &reply) != REDIS_OK)
            return probe_failed(pr, "protocol error");
        if (reply == NULL)
            break;
        sn_reader_reply_done(pr->reader);
        r = reply;
        pr->expect--;
        if (pr->expect > 0) { /* the AUTH reply */
            int bad = r->type == REDIS_REPLY_ERROR;
            freeReplyObject(r);
            if (bad) {
                pr->auth_failed = 1;
                return probe_failed(pr, "AUTH refused (check data-user / data-password)");
            }
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR && sn_reply_is_auth_error(r)) {
            freeReplyObject(r);
            pr->auth_failed = 1;
            return probe_failed(pr, "ROLE needs AUTH (set data-password)");
        }
        if (sn_parse_role(r, &role, &e) == -1) {
            freeReplyObject(r);
            return probe_failed(pr, "unexpected ROLE reply");
        }
        freeReplyObject(r);
        pr->state = PX_PROBE_READY;
        pr->cred = NULL;
        return role == SN_ROLE_MASTER ? PX_PROBE_MASTER : PX_PROBE_NOT_MASTER;
    }
    if (now >= pr->deadline)
        return probe_failed(pr, "ROLE timed out");
    return PX_PROBE_PENDING;
}
