/*
 * sentinel-proxy's client connections: accepting, forwarding over a
 * client's own master connection, buffers and backpressure, and the one
 * teardown path; a multiplexed client's life (px_mux_set) is here too,
 * its shared master connections in mux.c. Part of the proxy's core
 * (proxy_core.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_core.h"

#define PX_ACCEPT_BATCH 64 /* accepts per listener wakeup */

static const char *conn_state_name(px_conn_state st)
{
    switch (st) {
    case PX_CONN_HELD: return "held";
    case PX_CONN_CONNECTING: return "connecting";
    case PX_CONN_OPEN: return "open";
    case PX_CONN_SHARED: return "shared";
    }
    return "?";
}

static const char *mux_state_name(px_mux_state st)
{
    switch (st) {
    case PX_MUX_PARSING: return "parsing";
    case PX_MUX_WAITING: return "waiting";
    case PX_MUX_PINNING: return "pinning";
    case PX_MUX_QUITTING: return "quitting";
    }
    return "?";
}

/* The one place a multiplexed client's life moves on. */
void px_mux_set(sentinel_proxy_t *p, px_conn *c, px_mux_state st, const char *why)
{
    if (c->mux == st)
        return;
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d: %s -> %s (%s)", c->cfd,
                mux_state_name((px_mux_state)c->mux), mux_state_name(st), why);
    c->mux = (uint8_t)st;
}

/* ------------------------------------------------------------------------
 * Lists
 * ------------------------------------------------------------------------ */

void px_list_push(px_list *l, px_conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->count++;
}

void px_list_remove(px_list *l, px_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->count--;
}

/* ------------------------------------------------------------------------
 * Connections: events, teardown
 * ------------------------------------------------------------------------ */

static void on_client(px_loop *l, int fd, void *ud, int mask);
static void on_upstream(px_loop *l, int fd, void *ud, int mask);

/* Apply the interest a connection's state calls for; epoll_ctl runs only
 * when something changed, so the forwarding fast path makes none. */
void px_conn_update(sentinel_proxy_t *p, px_conn *c)
{
    int want_c = PX_NONE, want_u = PX_NONE, have;
    int forwarding = p->state != PX_MASTER_PAUSED && !p->stopping;

    if (c->state == PX_CONN_OPEN) {
        if (forwarding && c->c2u == NULL && !(c->flags & PX_CL_EOF))
            want_c |= PX_READABLE;
        if (c->u2c == NULL && !(c->flags & PX_UP_EOF))
            want_u |= PX_READABLE;
        if (c->c2u && forwarding)
            want_u |= PX_WRITABLE;
    } else if (c->state == PX_CONN_CONNECTING) {
        want_u |= PX_WRITABLE;
    } else if (c->state == PX_CONN_SHARED) {
        /* Read while nothing holds this client back: a pause, the shared
         * queue being full, an end, or a command that waits for a
         * connection of its own. */
        if (forwarding && !(c->sh && c->sh->full) && c->mux == PX_MUX_PARSING &&
            !(c->flags & (PX_CL_EOF | PX_UP_EOF)))
            want_c |= PX_READABLE;
    }
    if (c->u2c)
        want_c |= PX_WRITABLE;
    /* A TLS handshake under way waits for what it waits for, nothing else. */
    if (p->tls) {
        int hs = px_tls_handshake_want(p->tls, c->cfd);
        if (hs != PX_NONE)
            want_c = hs;
        if (c->state == PX_CONN_CONNECTING && c->ufd >= 0 &&
            (hs = px_tls_handshake_want(p->tls, c->ufd)) != PX_NONE)
            want_u = hs;
    }

    have = px_loop_mask(p->loop, c->cfd);
    if (have & ~want_c)
        px_loop_del(p->loop, c->cfd, have & ~want_c);
    if (want_c & ~have)
        px_loop_add(p->loop, c->cfd, want_c, on_client, c);
    if (c->ufd >= 0) {
        have = px_loop_mask(p->loop, c->ufd);
        if (have & ~want_u)
            px_loop_del(p->loop, c->ufd, have & ~want_u);
        if (want_u & ~have)
            px_loop_add(p->loop, c->ufd, want_u, on_upstream, c);
    }
}


/* The one teardown path of a connection: every error ends here. */
void px_conn_drop(sentinel_proxy_t *p, px_conn *c, px_drop_how how)
{
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG,
                "client fd %d dropped (%s%s, %s, flags 0x%x)", c->cfd,
                conn_state_name((px_conn_state)c->state),
                how == PX_DROP_SWITCH ? ", master left" : "",
                mux_state_name((px_mux_state)c->mux), (unsigned)c->flags);
    if (c->state == PX_CONN_SHARED)
        px_mux_forget(p, c);
    px_mux_bind(p, c, NULL);
    px_loop_del(p->loop, c->cfd, PX_READABLE | PX_WRITABLE);
    /* An orderly close says so over TLS (close_notify), both ways; a
     * client cut off by a switch or an error (PX_CUT) is not told its
     * replies are complete. */
    if (how != PX_DROP_SWITCH && !(c->flags & PX_CUT))
        px_tls_close_notify(p->tls, c->cfd);
    px_tls_end(p->tls, c->cfd);
    close(c->cfd);
    if (c->ufd >= 0) {
        px_loop_del(p->loop, c->ufd, PX_READABLE | PX_WRITABLE);
        if (how != PX_DROP_SWITCH)
            px_tls_close_notify(p->tls, c->ufd);
        px_tls_end(p->tls, c->ufd);
        if (how == PX_DROP_SWITCH)
            px_close_abort(c->ufd);
        else
            close(c->ufd);
    }
    if (c->c2u)
        px_buf_release(p, &c->c2u);
    if (c->u2c)
        px_buf_release(p, &c->u2c);
    px_list_remove(c->state == PX_CONN_HELD ? &p->held : &p->conns, c);
    free(c);
}

/* Best effort: a short error line for a client we refuse, as Redis itself
 * answers a client over maxclients. */
static void refuse(int fd, const char *line)
{
    ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
}


/* -MASTERDOWN, then the end. The line goes behind the replies the client
 * still has buffered, never into the middle of one: the client is marked
 * ended (PX_UP_EOF, nothing more read or run) and closed once its buffer
 * drains, or after pause-timeout if it does not read (tick). */
void px_conn_refuse_masterdown(sentinel_proxy_t *p, px_conn *c)
{
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "-MASTERDOWN sentinel-proxy: no verified master for '%s' after %d ms%s%s\r\n",
                     p->master_name, p->pause_ms, p->last_error[0] ? ": " : "", p->last_error);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1 : (size_t)n;

    p->ctr.conns_refused++;
    if (len >= 2)
        memcpy(line + len - 2, "\r\n", 2); /* whole even when the error was cut */
    if (c->state == PX_CONN_SHARED)
        px_mux_forget(p, c); /* its queued commands never ran */
    c->flags |= PX_UP_EOF | PX_CL_EOF; /* what it waited for never comes */
    if (c->c2u)
        px_buf_release(p, &c->c2u);
    c->since = p->now;
    if (c->u2c && p->bufsize - (c->u2c->len - c->u2c->pos) < len)
        len = 0; /* no room for the whole line: just the end, after the replies */
    if ((len && px_client_take(p, c, line, len) < 0) || c->u2c == NULL) {
        px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    px_conn_update(p, c);
}

/* A held client starts forwarding: multiplexed, or over a master
 * connection of its own. */
static void conn_attach(sentinel_proxy_t *p, px_conn *c)
{
    px_list_remove(&p->held, c);
    px_list_push(&p->conns, c);
    c->since = p->now;
    if (p->multiplex && c->mux != PX_MUX_PINNING) {
        px_shup *sh = c->sh ? c->sh : px_mux_get(p, NULL, 0, 0);
        if (sh) {
            px_mux_bind(p, c, sh);
            c->state = PX_CONN_SHARED;
            px_conn_update(p, c);
            return;
        }
        px_mux_set(p, c, PX_MUX_PINNING, "no shared connection left");
    }
    px_conn_connect(p, c);
}

/* Start a client's own master connection (its requests wait in c2u). */
void px_conn_connect(sentinel_proxy_t *p, px_conn *c)
{
    int fd;

    /* The connect deadline counts from now, not from p->now: that was
     * taken before this turn's wait and dispatch (px_connect_expired). */
    c->since = sn_now_ms();
    fd = socket(p->master_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "upstream socket: %s", strerror(errno));
        c->state = PX_CONN_CONNECTING; /* so that the drop finds the right list */
        px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    px_set_nodelay(fd);
    c->ufd = fd;
    if (connect(fd, (struct sockaddr *)&p->master_sa, p->master_salen) == 0) {
        /* With TLS the handshake comes first: on_upstream starts it. */
        c->state = px_tls_upstream(p->tls) ? PX_CONN_CONNECTING : PX_CONN_OPEN;
    } else if (errno == EINPROGRESS) {
        c->state = PX_CONN_CONNECTING;
    } else {
        c->state = PX_CONN_CONNECTING;
        p->ctr.upstream_errors++;
        px_conn_drop(p, c, PX_DROP_NORMAL);
        px_master_suspect(p, strerror(errno));
        return;
    }
    px_conn_update(p, c);
}

/* Held clients get an upstream once there is a verified master. */
void px_attach_held(sentinel_proxy_t *p)
{
    for (px_conn *c = p->held.head, *next; c && p->state == PX_MASTER_UP && !p->stopping;
         c = next) {
        next = c->next;
        /* Refused: only its last bytes go out. In its TLS handshake: no
         * master connection before the handshake is done. */
        if (!(c->flags & PX_UP_EOF) && px_tls_handshake_want(p->tls, c->cfd) == PX_NONE)
            conn_attach(p, c);
    }
}

void px_update_all(sentinel_proxy_t *p)
{
    for (px_conn *c = p->conns.head; c; c = c->next)
        px_conn_update(p, c);
}

/* ------------------------------------------------------------------------
 * Forwarding
 * ------------------------------------------------------------------------ */

/* Keep what the destination did not take. */
int px_buf_keep(sentinel_proxy_t *p, px_buf **b, const char *data, size_t len)
{
    if ((*b = malloc(sizeof(px_buf) + p->bufsize)) == NULL)
        return -1;
    memcpy((*b)->data, data, len);
    (*b)->pos = 0;
    (*b)->len = (uint32_t)len;
    p->ctr.buffer_bytes += p->bufsize;
    return 0;
}

/* Free a buffer. A client's requests may hold its AUTH: wiped first. */
void px_buf_release(sentinel_proxy_t *p, px_buf **b)
{
    explicit_bzero((*b)->data, (*b)->len);
    free(*b);
    *b = NULL;
    p->ctr.buffer_bytes -= p->bufsize;
}

/* Write pending bytes; 1 when drained, 0 when some remain, -1 on error. */
static int buf_flush(sentinel_proxy_t *p, px_buf **b, int fd)
{
    while ((*b)->pos < (*b)->len) {
        ssize_t n = px_io_send(p->tls, fd, (*b)->data + (*b)->pos, (*b)->len - (*b)->pos);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        (*b)->pos += (uint32_t)n;
    }
    px_buf_release(p, b);
    return 1;
}

/*
 * Move bytes from one socket to the other: read once into the scratch
 * buffer, write straight through, keep only the remainder. Returns 1 when
 * bytes moved, 0 on EAGAIN, -2 on EOF from src, -1 on an error of src, -3
 * on an error of dst (or out of memory): the caller blames the right side.
 */
static int forward(sentinel_proxy_t *p, int src, int dst, px_buf **pending, uint64_t *counter)
{
    ssize_t n, w;

    n = px_io_recv(p->tls, src, p->scratch, p->bufsize);
    if (n == 0)
        return -2;
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    *counter += (uint64_t)n;
    w = px_io_send(p->tls, dst, p->scratch, (size_t)n);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -3;
        w = 0;
    }
    if (w < n && px_buf_keep(p, pending, p->scratch + w, (size_t)(n - w)) == -1)
        return -3;
    return 1;
}


/* Both directions finished? Then the connection is done. */
int px_conn_finished(const sentinel_proxy_t *p, const px_conn *c)
{
    if (c->state == PX_CONN_SHARED) {
        /* Every reply handed over, and the client, the master or the
         * proxy is done with it (a client waiting to be pinned is not,
         * unless it is gone: what needs its own connection cannot run). */
        int waits = c->flags & PX_UP_EOF    ? 0 /* replies were lost: nothing more runs */
                    : c->flags & PX_CL_DEAD ? c->mux == PX_MUX_WAITING
                                            : c->mux != PX_MUX_PARSING;
        if (c->u2c || px_mux_pending(p, c) || waits)
            return 0;
        return (c->flags & (PX_CL_EOF | PX_UP_EOF)) || p->stopping;
    }
    if ((c->flags & PX_UP_EOF) && c->u2c == NULL)
        return 1; /* the master is gone and the client has every reply */
    if ((c->flags & PX_CL_EOF) && (c->flags & PX_UP_EOF))
        return c->u2c == NULL;
    return 0;
}

void px_client_eof(sentinel_proxy_t *p, px_conn *c)
{
    c->flags |= PX_CL_EOF;
    if (c->state == PX_CONN_SHARED) {
        /* An incomplete command is dropped, as Redis would; commands that
         * wait for the client's own connection still go there. */
        if (c->c2u && c->mux != PX_MUX_PINNING && c->mux != PX_MUX_WAITING)
            px_buf_release(p, &c->c2u);
        if (px_conn_finished(p, c))
            px_conn_drop(p, c, PX_DROP_NORMAL);
        else
            px_conn_update(p, c);
        return;
    }
    /* Let the master see the end once it has every request; it then
     * answers what it has and closes, which ends the connection. */
    if (c->c2u == NULL && c->state == PX_CONN_OPEN) {
        px_tls_close_notify(p->tls, c->ufd);
        shutdown(c->ufd, SHUT_WR);
    }
    if (c->state != PX_CONN_OPEN)
        px_conn_drop(p, c, PX_DROP_NORMAL);
    else
        px_conn_update(p, c);
}

/* ------------------------------------------------------------------------
 * TLS handshakes (tls_io.c): a client's with us, ours with the master. A
 * master connection stays CONNECTING until its handshake is done, so the
 * connect deadline covers both.
 * ------------------------------------------------------------------------ */

/* A client's handshake failing is the client's business: logged, never
 * counted against the master nor a reason to check it. Done, the client
 * gets its master connection (none before: a flood of TCP connects opens
 * none). */
static void client_handshake(sentinel_proxy_t *p, px_conn *c)
{
    char why[256];
    int rc = px_tls_handshake(p->tls, c->cfd, why, sizeof(why));

    if (rc == -1) {
        px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "client fd %d: TLS handshake failed: %s",
                c->cfd, why);
        px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    if (rc == 1 && c->state == PX_CONN_HELD && !(c->flags & PX_UP_EOF) &&
        p->state == PX_MASTER_UP && !p->stopping) {
        conn_attach(p, c);
        return;
    }
    px_conn_update(p, c);
}

/* A held client whose TLS handshake outlived tls-handshake-timeout
 * (counted from accept) is closed: 1 when it was. */
int px_conn_handshake_expired(sentinel_proxy_t *p, px_conn *c)
{
    int ms = px_tls_handshake_ms(p->tls);

    if (px_tls_handshake_want(p->tls, c->cfd) == PX_NONE || p->now - c->since < ms)
        return 0;
    px_logf(&p->log, SENTINEL_PROXY_LOG_INFO, "client fd %d: no TLS handshake in %d ms; closed",
            c->cfd, ms);
    px_conn_drop(p, c, PX_DROP_NORMAL);
    return 1;
}

/* The master connection failed (TLS, or its deadline): the client gets the
 * reason as an error, best effort, and goes; the master is probed, unless
 * the failure is the proxy's own (masters 0: out of memory). */
static void upstream_failed(sentinel_proxy_t *p, px_conn *c, const char *why, int masters)
{
    char line[512], who[SENTINEL_HOST_MAX + 24] = "";
    int n;
    size_t len;

    if (masters)
        snprintf(who, sizeof(who), "master %s:%d: ", p->master.host, p->master.port);
    n = snprintf(line, sizeof(line), "-ERR sentinel-proxy: %s%s\r\n", who, why);
    len = n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1 : (size_t)n;
    px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "client fd %d: %s%s", c->cfd, who, why);
    if (len >= 2)
        memcpy(line + len - 2, "\r\n", 2);
    if (c->u2c == NULL && px_tls_handshake_want(p->tls, c->cfd) == PX_NONE) {
        ssize_t w = px_io_send(p->tls, c->cfd, line, len);
        (void)w;
    }
    p->ctr.upstream_errors++;
    px_conn_drop(p, c, PX_DROP_NORMAL);
    if (masters)
        px_master_suspect(p, why);
}

static void upstream_handshake(sentinel_proxy_t *p, px_conn *c)
{
    char why[256];
    int rc = px_tls_handshake(p->tls, c->ufd, why, sizeof(why));

    if (rc == -1) {
        upstream_failed(p, c, why, 1);
        return;
    }
    if (rc == 1)
        c->state = PX_CONN_OPEN;
    px_conn_update(p, c);
}

/* Has the connect started at `since` on fd (a client's own master
 * connection or a shared one) run out of connect-timeout? Not while its
 * socket says the TCP connect is done (connected, or failed): the loop
 * has not looked at it yet (a loaded machine, a long dispatch, a wait that
 * ended late), and its handler, which the next turn runs, tells which.
 * The same during the TLS handshake that follows: not while the socket is
 * ready for the direction the handshake waits for (the server's answer is
 * there; the next turn's handler moves it on). That holds only up to twice
 * the timeout, so a server that trickles its answer a byte at a time cannot
 * keep the connection forever. */
int px_connect_expired(sentinel_proxy_t *p, int fd, int64_t since)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int want;

    if (p->now - since < p->connect_ms)
        return 0;
    if (fd < 0)
        return 1;
    want = px_tls_handshake_want(p->tls, fd);
    if (want != PX_NONE) {
        if (p->now - since >= 2 * (int64_t)p->connect_ms)
            return 1;
        pfd.events = (short)(((want & PX_READABLE) ? POLLIN : 0) |
                             ((want & PX_WRITABLE) ? POLLOUT : 0));
    }
    return poll(&pfd, 1, 0) != 1;
}

int px_conn_check_deadline(sentinel_proxy_t *p, px_conn *c)
{
    if (c->state == PX_CONN_CONNECTING && px_connect_expired(p, c->ufd, c->since)) {
        upstream_failed(p, c, px_tls_connect_timeout_why(p->tls, c->ufd), 1);
        return 1;
    }
    return 0;
}

/*
 * A write to c's own master connection failed (the master closed after a
 * QUIT with more of the client's bytes behind it, a reset) or the rest
 * could not be kept: nothing more is sent or read from the client, but
 * what the master answered before is still read and handed over; the
 * master's end (EOF, or the reset after those replies) then ends the
 * client. (Dropping the client at once lost those replies: diff-fuzz
 * seed 3004692177, a pinned client's "GET, DEL, QUIT, SET <7 KB>".)
 */
static void upstream_takes_no_more(sentinel_proxy_t *p, px_conn *c)
{
    c->flags |= PX_CL_EOF;
    if (c->c2u)
        px_buf_release(p, &c->c2u);
    shutdown(c->ufd, SHUT_WR); /* a master still there answers and closes */
    px_conn_update(p, c);
}

static void on_client(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_conn *c = ud;
    int rc;

    (void)fd;
    if (px_tls_handshake_want(p->tls, c->cfd) != PX_NONE) {
        client_handshake(p, c);
        return;
    }
    if ((mask & PX_WRITABLE) && c->u2c) {
        /* Replies the client was too slow for. */
        rc = buf_flush(p, &c->u2c, c->cfd);
        if (rc == -1) {
            px_conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (c->flags & PX_UP_EOF)
            c->since = p->now; /* taking its last replies */
        for (px_shup *sh = p->shs; sh; sh = sh->next)
            if (sh->stalled == c) {
                /* It reads again: hand it the rest, then the others theirs.
                 * The stall clock keeps running (px_shup). */
                px_mux_deliver(p, sh);
                return; /* c may be gone; delivery updated it */
            }
        if (c->mux == PX_MUX_QUITTING) {
            px_mux_after(p, c); /* room for its "+OK" now? */
            return;
        }
        if (rc == 1) {
            if (px_conn_finished(p, c)) {
                px_conn_drop(p, c, PX_DROP_NORMAL);
                return;
            }
            px_conn_update(p, c);
        }
    }
    if ((mask & PX_READABLE) && c->state == PX_CONN_SHARED) {
        px_mux_client_read(p, c);
        return;
    }
    if ((mask & PX_READABLE) && c->state == PX_CONN_OPEN && c->c2u == NULL &&
        !(c->flags & PX_CL_EOF)) {
        c->since = p->now;
        rc = forward(p, c->cfd, c->ufd, &c->c2u, &p->ctr.bytes_in);
        if (rc == -2) {
            px_client_eof(p, c);
            return;
        }
        if (rc == -1) {
            px_conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (rc == -3) {
            upstream_takes_no_more(p, c);
            return;
        }
        if (c->c2u)
            px_conn_update(p, c);
    }
}

static void upstream_connected(sentinel_proxy_t *p, px_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
        p->ctr.upstream_errors++;
        px_conn_drop(p, c, PX_DROP_NORMAL);
        px_master_suspect(p, strerror(err ? err : errno));
        return;
    }
    if (px_tls_upstream(p->tls)) {
        char why[256];
        int rc = px_tls_start(p->tls, c->ufd, p->master.host, why, sizeof(why));
        if (rc < 0) {
            upstream_failed(p, c, why, rc != PX_TLS_NO_MEMORY);
            return;
        }
        upstream_handshake(p, c);
        return;
    }
    c->state = PX_CONN_OPEN;
    px_conn_update(p, c);
}

static void on_upstream(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_conn *c = ud;
    int rc;

    (void)fd;
    if (c->state == PX_CONN_CONNECTING) {
        if (px_tls_handshake_want(p->tls, c->ufd) != PX_NONE)
            upstream_handshake(p, c);
        else if (mask & PX_WRITABLE)
            upstream_connected(p, c);
        return;
    }
    if ((mask & PX_WRITABLE) && c->c2u && p->state != PX_MASTER_PAUSED) {
        rc = buf_flush(p, &c->c2u, c->ufd);
        if (rc == -1) {
            p->ctr.upstream_errors++;
            upstream_takes_no_more(p, c); /* its replies are read below */
        }
        if (rc == 1) {
            if (c->flags & PX_CL_EOF) {
                px_tls_close_notify(p->tls, c->ufd);
                shutdown(c->ufd, SHUT_WR);
            }
            px_conn_update(p, c);
        }
    }
    if ((mask & PX_READABLE) && c->skip && !(c->flags & PX_UP_EOF)) {
        /* Replies to the AUTH/SELECT replayed for a pinned client, which
         * had its "+OK" already: each must be "+OK" again, or the client's
         * new connection is not in the state it believes: close it. */
        char tmp[16];
        ssize_t n = px_io_recv(p->tls, c->ufd, tmp, c->skip);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        for (ssize_t i = 0; i < n; i++, c->skip--)
            if (tmp[i] != "+OK\r\n"[(5 - c->skip % 5) % 5])
                n = 0;
        if (n <= 0) {
            px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                    "client fd %d: the master refused its AUTH/SELECT on its own connection",
                    c->cfd);
            p->ctr.upstream_errors++;
            c->flags |= PX_CUT;
            px_conn_drop(p, c, PX_DROP_NORMAL);
        }
        return;
    }
    if ((mask & PX_READABLE) && c->u2c == NULL && !(c->flags & PX_UP_EOF)) {
        rc = forward(p, c->ufd, c->cfd, &c->u2c, &p->ctr.bytes_out);
        if (rc == -3) {
            /* The client failed (a TLS error, a reset): not the master. */
            px_conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        if (rc == -2 || rc == -1) {
            /* The master closed (QUIT, timeout, kill) or failed: hand the
             * client what it already has, then close it. */
            c->flags |= PX_UP_EOF;
            if (rc == -1) {
                c->flags |= PX_CUT;
                p->ctr.upstream_errors++;
            }
            if (!(c->flags & PX_CL_EOF))
                px_master_check(p);
            if (px_conn_finished(p, c)) {
                px_conn_drop(p, c, PX_DROP_NORMAL);
                return;
            }
            px_conn_update(p, c);
            return;
        }
        if (c->u2c)
            px_conn_update(p, c);
    }
}

/* ------------------------------------------------------------------------
 * Accepting clients
 * ------------------------------------------------------------------------ */

static void accept_one(sentinel_proxy_t *p, int fd, int tcp)
{
    px_conn *c;

    if (p->conns.count + p->held.count >= p->max_clients || p->stopping) {
        if (!tcp || !px_tls_listener(p->tls)) /* a TLS client would not read plaintext */
            refuse(fd, "-ERR max number of clients reached\r\n");
        close(fd);
        p->ctr.conns_refused++;
        return;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        close(fd);
        p->ctr.conns_refused++;
        return;
    }
    if (tcp)
        px_set_nodelay(fd);
    c->cfd = fd;
    c->ufd = -1;
    if (tcp && px_tls_listener(p->tls)) {
        char why[256];
        if (px_tls_start(p->tls, fd, NULL, why, sizeof(why)) < 0) {
            px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "client TLS: %s", why);
            close(fd);
            free(c);
            p->ctr.conns_refused++;
            return;
        }
    }
    c->state = PX_CONN_HELD;
    c->since = p->now;
    p->ctr.conns_total++;
    px_list_push(&p->held, c);
    if (px_tls_handshake_want(p->tls, fd) != PX_NONE)
        px_conn_update(p, c); /* held while its TLS handshake goes on (client_handshake) */
    else if (p->state == PX_MASTER_UP)
        conn_attach(p, c);
    /* else held: no upstream, nothing read, until a master is verified */
}

static void on_listener(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    int tcp = ud != NULL;

    (void)mask;
    for (int i = 0; i < PX_ACCEPT_BATCH; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of fds: stop accepting for a tick rather than spin. */
                px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "accept: %s; pausing accepts",
                        strerror(errno));
                if (p->tcp_fd >= 0)
                    px_loop_del(p->loop, p->tcp_fd, PX_READABLE);
                if (p->unix_fd >= 0)
                    px_loop_del(p->loop, p->unix_fd, PX_READABLE);
                p->accept_paused_until = p->now + PX_TICK_MS;
            }
            return;
        }
        accept_one(p, cfd, tcp);
    }
}

void px_listeners_enable(sentinel_proxy_t *p)
{
    static int tcp_tag;

    if (p->tcp_fd >= 0)
        px_loop_add(p->loop, p->tcp_fd, PX_READABLE, on_listener, &tcp_tag);
    if (p->unix_fd >= 0)
        px_loop_add(p->loop, p->unix_fd, PX_READABLE, on_listener, NULL);
}
