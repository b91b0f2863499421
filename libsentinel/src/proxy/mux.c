/*
 * Multiplexing: the shared master connections of sentinel-proxy (the
 * design is in the banner comment below). Part of the proxy's core: it
 * sees the core types (proxy_core.h) and calls back into proxy.c for
 * client connections and the master state.
 *
 * Length: one role, 1188 lines: the queue, the framing of replies back
 * to their clients, the preamble, stalls and pinning are one state
 * machine over the same structures; splitting it further would spread
 * their invariants over files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_core.h"

/* ------------------------------------------------------------------------
 * Multiplexing: shared master connections
 *
 * Clients start multiplexed (multiplex on, the default): their commands are
 * framed (resp.c), appended whole to a shared master connection's output
 * and written once per loop iteration, so N clients' requests cost the
 * master and the proxy one write and one read instead of N. Replies come
 * back in order; a queue says whose they are.
 *
 * There is one shared connection per connection state a client can have
 * here: its AUTH and its database. A client starts on (no AUTH, db 0).
 * AUTH and SELECT move it: once it has no reply outstanding, its command
 * is sent on the connection for the new state (opened, if needed, with our
 * own copy of that AUTH and SELECT first, whose replies we swallow), and
 * the client moves there only if Redis answered its own command "+OK". So
 * Redis checks every client's AUTH itself, a wrong password or database
 * gets Redis' own error and changes nothing, and a connection only ever
 * carries clients that Redis accepted into exactly its state.
 *
 * A client that sends anything else that could leave state in a connection
 * or block it (HELLO, CLIENT, MULTI/EXEC/WATCH, (P|S)SUBSCRIBE, BLPOP,
 * CONFIG, unknown commands, inline or malformed bytes: see
 * px_cmd_shareable()) is pinned: once its shared replies are handed over it
 * gets a master connection of its own (replaying its AUTH and SELECT when
 * it had moved) and keeps it, exactly as with multiplex off.
 *
 * Memory stays bounded: a client's incomplete command waits in its c2u
 * (one buffer; a command larger than that pins the client), a shared
 * connection's output holds at most SH_OUT_BUFS buffers (beyond that its
 * clients are not read), its input one buffer; at most SH_MAX shared
 * connections exist (a client that would need another is pinned), and one
 * unused for SH_IDLE_MS is closed. A client too slow to take its replies
 * stalls its shared connection (it is not read, the master keeps the rest)
 * until the client reads again; once another client has waited behind
 * such stalls for pause-timeout, the staller goes, and so does each one
 * after it within a grace (px_mux_check_stall): clients that stop reading
 * together cost the others pause-timeout, not pause-timeout each.
 * ------------------------------------------------------------------------ */


static void on_shared(px_loop *l, int fd, void *ud, int mask);
static void shared_parse(sentinel_proxy_t *p, px_conn *c, const char *base, size_t have,
                         size_t *used);
static void shared_after_parse(sentinel_proxy_t *p, px_conn *c);

int px_mux_pending(const sentinel_proxy_t *p, const px_conn *c)
{
    (void)p;
    return c->inflight > 0;
}

static int shared_is_full(const sentinel_proxy_t *p, const px_shup *sh)
{
    return sh->out_len - sh->out_pos >= SH_OUT_BUFS * p->bufsize || sh->q_len >= SH_QUEUE_MAX;
}

/* A connection's clients are read again, or no longer, when its queue
 * crosses the limit. */
static void shared_check_full(sentinel_proxy_t *p, px_shup *sh)
{
    int full = shared_is_full(p, sh);

    if (full != sh->full) {
        sh->full = full;
        px_update_all(p);
    }
}

static void shared_sync(sentinel_proxy_t *p, px_shup *sh)
{
    int want = PX_NONE;

    if (sh->state == PX_SH_CONNECTING) {
        want = px_tls_handshake_want(p->tls, sh->fd);
        if (want == PX_NONE)
            want = PX_WRITABLE; /* the TCP connect */
    } else if (sh->state == PX_SH_OPEN) {
        if (sh->in_pos == sh->in_len)
            want |= PX_READABLE;
        if (sh->out_pos < sh->out_len && p->state != PX_MASTER_PAUSED &&
            (sh->preamble == 0 || sh->pre_left > 0))
            want |= PX_WRITABLE;
    }
    if (want == sh->reg_mask)
        return;
    if (sh->reg_mask & ~want)
        px_loop_del(p->loop, sh->fd, sh->reg_mask & ~want);
    if (want & ~sh->reg_mask)
        px_loop_add(p->loop, sh->fd, want & ~sh->reg_mask, on_shared, sh);
    sh->reg_mask = want;
}

static void sh_idle_check(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->users == 0 && sh->q_len == 0 && sh->idle_since == 0)
        sh->idle_since = p->now;
}

void px_mux_bind(sentinel_proxy_t *p, px_conn *c, px_shup *sh)
{
    if (c->sh == sh)
        return;
    if (c->sh) {
        c->sh->users--;
        sh_idle_check(p, c->sh);
    }
    c->sh = sh;
    if (sh) {
        sh->users++;
        sh->idle_since = 0;
    }
}

/* The shared connection for a state, made on first use (not connected
 * yet). NULL when SH_MAX exist or memory is short: the client is pinned. */
px_shup *px_mux_get(sentinel_proxy_t *p, const char *auth, size_t authlen, uint32_t db)
{
    px_shup *sh;
    size_t n = 0;

    for (sh = p->shs; sh; sh = sh->next, n++)
        if (sh->db == db && sh->authlen == authlen &&
            (authlen == 0 || memcmp(sh->auth, auth, authlen) == 0))
            return sh;
    if (n >= SH_MAX || (sh = calloc(1, sizeof(*sh))) == NULL)
        return NULL;
    if (authlen && (sh->auth = malloc(authlen)) == NULL) {
        free(sh);
        return NULL;
    }
    if (authlen)
        memcpy(sh->auth, auth, authlen);
    sh->authlen = (uint32_t)authlen;
    sh->db = db;
    sh->fd = -1;
    sh->idle_since = p->now;
    px_rep_init(&sh->rep);
    sh->next = p->shs;
    p->shs = sh;
    return sh;
}

/* Free a shared connection's output: it may hold AUTH commands. */
static void sh_out_free(px_shup *sh)
{
    if (sh->out)
        explicit_bzero(sh->out, sh->out_cap);
    free(sh->out);
    sh->out = NULL;
    sh->out_pos = sh->out_len = sh->out_cap = 0;
}

/* End the shared clients marked PX_UP_EOF that have nothing left to get
 * (on a switch: all of them at once). The client whose own read is
 * flushing its connection (p->mux_reading) is left to that read, which
 * ends it once it is done with it (shared_after_parse). */
static void end_marked(sentinel_proxy_t *p, px_drop_how how)
{
    for (px_conn *c = p->conns.head, *next; c; c = next) {
        next = c->next;
        if (c->state != PX_CONN_SHARED || !(c->flags & PX_UP_EOF))
            continue;
        if (c == p->mux_reading) {
            px_conn_update(p, c);
            continue;
        }
        if (how == PX_DROP_SWITCH || px_conn_finished(p, c))
            px_conn_drop(p, c, how);
        else
            px_conn_update(p, c);
    }
}

/* Close a shared connection. Clients with replies outstanding here can
 * never get them: they are marked PX_UP_EOF, which ends them (at once on
 * a switch, otherwise once they have what they already got) whatever
 * else they wait for; their count of outstanding replies drops by exactly
 * what was owed here, and every queue entry goes with the queue. Clients
 * with nothing outstanding carry on: their next command opens the
 * connection again, to whichever master is current then. */
void px_mux_close(sentinel_proxy_t *p, px_shup *sh, px_drop_how how)
{
    size_t marked = 0;

    if (sh->fd >= 0) {
        px_loop_del(p->loop, sh->fd, PX_READABLE | PX_WRITABLE);
        if (how != PX_DROP_SWITCH)
            px_tls_close_notify(p->tls, sh->fd); /* an orderly close says so */
        px_tls_end(p->tls, sh->fd);
        if (how == PX_DROP_SWITCH)
            px_close_abort(sh->fd);
        else
            close(sh->fd);
    }
    sh->fd = -1;
    sh->reg_mask = PX_NONE;
    sh->state = PX_SH_IDLE;
    for (size_t i = 0; i < sh->q_len; i++) {
        px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
        if (w->c) {
            w->c->inflight -= w->n < w->c->inflight ? w->n : w->c->inflight;
            w->c->flags |= PX_UP_EOF | PX_CUT;
            w->c = NULL;
            marked++;
        }
    }
    if (sh->framed_for) {
        px_conn *c = sh->framed_for;
        c->inflight -= sh->framed_n < c->inflight ? sh->framed_n : c->inflight;
        c->flags |= PX_UP_EOF | PX_CUT;
        marked++;
    }
    sh_out_free(sh);
    free(sh->in);
    free(sh->q);
    sh->in = NULL;
    sh->q = NULL;
    sh->in_pos = sh->in_len = sh->in_framed = 0;
    sh->q_head = sh->q_len = sh->q_cap = 0;
    sh->framed_for = sh->stalled = NULL;
    sh->stall_by = NULL;
    sh->stalled_since = 0;
    sh->framed_n = 0;
    sh->framed_bind = sh->bind_ok = 0;
    sh->preamble = 0;
    sh->pre_left = 0;
    sh->pre_failed = 0;
    px_rep_init(&sh->rep);
    sh_idle_check(p, sh);
    if (marked)
        end_marked(p, how);
    shared_check_full(p, sh);
}

void px_mux_close_all(sentinel_proxy_t *p, px_drop_how how)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        px_mux_close(p, sh, how);
}

void px_mux_fail(sentinel_proxy_t *p, px_shup *sh, const char *why)
{
    px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
            "shared master connection (db %u%s): %s (%zu replies pending)", (unsigned)sh->db,
            sh->authlen ? ", AUTH" : "", why, sh->q_len);
    p->ctr.upstream_errors++;
    px_mux_close(p, sh, PX_DROP_NORMAL);
}

/* Free the unused ones (and all of them when the proxy goes). */
void px_mux_reap(sentinel_proxy_t *p, int all)
{
    for (px_shup **pp = &p->shs, *sh; (sh = *pp) != NULL;) {
        if (all || (sh->users == 0 && sh->q_len == 0 && sh->idle_since &&
                    p->now - sh->idle_since >= SH_IDLE_MS)) {
            px_mux_close(p, sh, PX_DROP_NORMAL);
            *pp = sh->next;
            if (sh->auth) {
                explicit_bzero(sh->auth, sh->authlen); /* it holds a password */
                free(sh->auth);
            }
            free(sh);
            continue;
        }
        pp = &sh->next;
    }
}

static int shared_alloc(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->out)
        return 0;
    /* Room for the connection's own AUTH and SELECT in front, too. */
    sh->out_cap = (SH_OUT_BUFS + 1) * p->bufsize + SH_AUTH_MAX + 64;
    sh->q_cap = 64;
    sh->out = malloc(sh->out_cap);
    sh->in = malloc(p->bufsize);
    sh->q = malloc(sh->q_cap * sizeof(*sh->q));
    if (sh->out == NULL || sh->in == NULL || sh->q == NULL) {
        free(sh->out);
        free(sh->in);
        free(sh->q);
        sh->out = sh->in = NULL;
        sh->q = NULL;
        sh->out_cap = sh->q_cap = 0;
        return -1;
    }
    return 0;
}

/* "SELECT db" as a RESP command into buf; its length. */
static size_t fmt_select(char *buf, size_t cap, uint32_t db)
{
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", (unsigned)db);

    return (size_t)snprintf(buf, cap, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", nl, num);
}

static void shared_connect(sentinel_proxy_t *p, px_shup *sh)
{
    char pre[SH_AUTH_MAX + 64];
    size_t plen = 0, pending;
    int fd;

    /* The connection's state first: our copy of the AUTH its clients
     * sent, then SELECT. Their replies are swallowed (preamble). */
    sh->preamble = 0;
    if (sh->authlen) {
        memcpy(pre, sh->auth, sh->authlen);
        plen = sh->authlen;
        sh->preamble++;
    }
    if (sh->db) {
        plen += fmt_select(pre + plen, sizeof(pre) - plen, sh->db);
        sh->preamble++;
    }
    /* Into a fresh buffer: the queued bytes may fill the old one. */
    pending = sh->out_len - sh->out_pos;
    {
        size_t cap = plen + pending > sh->out_cap ? plen + pending : sh->out_cap;
        char *nout = malloc(cap);
        if (nout == NULL) {
            explicit_bzero(pre, plen);
            px_mux_fail(p, sh, "out of memory");
            return;
        }
        memcpy(nout, pre, plen);
        memcpy(nout + plen, sh->out + sh->out_pos, pending);
        explicit_bzero(pre, plen);
        sh_out_free(sh);
        sh->out = nout;
        sh->out_cap = cap;
        sh->out_len = plen + pending;
        sh->pre_left = plen; /* the rest waits for its "+" replies */
        sh->pre_failed = 0;
    }

    fd = socket(p->master_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        px_mux_fail(p, sh, strerror(errno));
        return;
    }
    px_set_nodelay(fd);
    sh->fd = fd;
    sh->since = sn_now_ms(); /* not p->now, from before this turn (px_connect_expired) */
    px_rep_init(&sh->rep);
    p->ctr.shared_connects++;
    if (connect(fd, (struct sockaddr *)&p->master_sa, p->master_salen) == 0) {
        /* With TLS the handshake comes first: on_shared starts it. */
        sh->state = px_tls_upstream(p->tls) ? PX_SH_CONNECTING : PX_SH_OPEN;
    } else if (errno == EINPROGRESS) {
        sh->state = PX_SH_CONNECTING;
    } else {
        char why[128];
        snprintf(why, sizeof(why), "%s", strerror(errno));
        px_mux_fail(p, sh, why);
        px_master_suspect(p, why);
        return;
    }
    shared_sync(p, sh);
}

/* Write the queued requests: once per loop iteration, so that every
 * client read in that iteration shares one write. */
static void shared_flush(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->out_pos == sh->out_len || p->state == PX_MASTER_PAUSED)
        return;
    if (sh->state == PX_SH_IDLE) {
        if (p->state == PX_MASTER_UP)
            shared_connect(p, sh);
        return;
    }
    if (sh->state != PX_SH_OPEN)
        return;
    while (sh->out_pos < sh->out_len) {
        size_t lim = sh->preamble ? sh->pre_left : sh->out_len - sh->out_pos;
        ssize_t n;
        if (lim == 0)
            break; /* our AUTH/SELECT first: nothing else runs before it is accepted */
        n = px_io_send(p->tls, sh->fd, sh->out + sh->out_pos, lim);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            px_mux_fail(p, sh, strerror(errno));
            px_master_check(p);
            return;
        }
        sh->out_pos += (size_t)n;
        if (sh->preamble)
            sh->pre_left -= (size_t)n;
    }
    if (sh->out_pos == sh->out_len)
        sh->out_pos = sh->out_len = 0;
    shared_sync(p, sh);
    shared_check_full(p, sh);
}

void px_mux_flush_all(sentinel_proxy_t *p)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        shared_flush(p, sh);
}

/* Queue one complete command of c on sh. bind: c moves to sh if Redis
 * answers it "+" (AUTH, SELECT). */
static int shared_queue(sentinel_proxy_t *p, px_shup *sh, px_conn *c, const char *cmd,
                        size_t len, int bind)
{
    px_wait *tail;

    if (shared_alloc(p, sh) == -1)
        return -1;
    if (sh->out_len + len > sh->out_cap) {
        memmove(sh->out, sh->out + sh->out_pos, sh->out_len - sh->out_pos);
        sh->out_len -= sh->out_pos;
        sh->out_pos = 0;
        if (sh->out_len + len > sh->out_cap) {
            /* Clients are not read past SH_OUT_BUFS, but AUTH/SELECT
             * queued here from other connections and commands re-parsed
             * after a wait are not held back: grow (each is bounded by
             * its client's one buffer). */
            size_t ncap = sh->out_cap * 2 > sh->out_len + len ? sh->out_cap * 2 : sh->out_len + len;
            char *no = malloc(ncap);
            if (no == NULL)
                return -1;
            memcpy(no, sh->out, sh->out_len);
            explicit_bzero(sh->out, sh->out_cap);
            free(sh->out);
            sh->out = no;
            sh->out_cap = ncap;
        }
    }
    tail = sh->q_len ? &sh->q[(sh->q_head + sh->q_len - 1) % sh->q_cap] : NULL;
    if (tail && tail->c == c && !tail->bind && !bind && tail->n < UINT32_MAX) {
        tail->n++;
    } else {
        if (sh->q_len == sh->q_cap) {
            size_t ncap = sh->q_cap * 2;
            px_wait *nq = malloc(ncap * sizeof(*nq));
            if (nq == NULL)
                return -1;
            for (size_t i = 0; i < sh->q_len; i++)
                nq[i] = sh->q[(sh->q_head + i) % sh->q_cap];
            free(sh->q);
            sh->q = nq;
            sh->q_cap = ncap;
            sh->q_head = 0;
        }
        sh->q[(sh->q_head + sh->q_len) % sh->q_cap] =
            (px_wait){.c = c, .n = 1, .bind = (uint8_t)bind, .at = p->now};
        sh->q_len++;
    }
    if (sh->state == PX_SH_IDLE && sh->q_len == 1 && sh->q[sh->q_head].n == 1)
        sh->since = p->now; /* the first command waiting for a connection */
    memcpy(sh->out + sh->out_len, cmd, len);
    sh->out_len += len;
    sh->idle_since = 0;
    c->inflight++;
    p->ctr.multiplexed++;
    return 0;
}

/* A client is going away: its queued replies are discarded on arrival.
 * Every queue is searched whatever its count says: no entry may outlive
 * its client. */
void px_mux_forget(sentinel_proxy_t *p, px_conn *c)
{
    for (px_shup *sh = p->shs; sh; sh = sh->next) {
        for (size_t i = 0; i < sh->q_len; i++) {
            px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
            if (w->c == c)
                w->c = NULL;
        }
        if (sh->framed_for == c)
            sh->framed_for = NULL;
        if (sh->stalled == c) {
            sh->stalled = NULL;
            p->sh_kick = 1; /* the others' replies may flow again */
        }
        if (sh->stall_by == c)
            sh->stall_by = NULL; /* the stall clock runs on for the next one */
    }
    c->inflight = 0;
}

/* A shared client's command needs a connection of its own: give it one
 * once every reply it is owed on the shared connection has been handed
 * over, so that replies stay in order. If it had moved (AUTH, SELECT),
 * the same AUTH and SELECT go first on its new connection; the client had
 * its "+OK" for them already, so their replies are checked to be "+OK"
 * and skipped (on_upstream), and anything else closes the client. */
void px_mux_pin(sentinel_proxy_t *p, px_conn *c)
{
    px_shup *sh = c->sh;

    if (px_mux_pending(p, c) || (c->flags & PX_UP_EOF))
        return; /* an ended client's pinned command never runs */
    if (sh && (sh->authlen || sh->db)) {
        /* Replay the state in front of what waits in c2u. */
        size_t pend = c->c2u ? c->c2u->len - c->c2u->pos : 0;
        char sel[64];
        size_t sl = sh->db ? fmt_select(sel, sizeof(sel), sh->db) : 0;
        size_t need = sh->authlen + sl + pend;
        px_buf *nb = malloc(sizeof(px_buf) + (need > p->bufsize ? need : p->bufsize));
        if (nb == NULL) {
            px_conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
        nb->pos = 0;
        nb->len = 0;
        if (sh->authlen)
            memcpy(nb->data, sh->auth, sh->authlen);
        nb->len += sh->authlen;
        memcpy(nb->data + nb->len, sel, sl);
        nb->len += (uint32_t)sl;
        if (pend)
            memcpy(nb->data + nb->len, c->c2u->data + c->c2u->pos, pend);
        nb->len += (uint32_t)pend;
        if (c->c2u)
            px_buf_release(p, &c->c2u);
        c->c2u = nb; /* holds the AUTH: px_buf_release() wipes it */
        p->ctr.buffer_bytes += p->bufsize;
        c->skip = (uint8_t)(5 * ((sh->authlen ? 1 : 0) + (sh->db ? 1 : 0))); /* "+OK\r\n" */
    }
    px_mux_bind(p, c, NULL);
    p->ctr.pinned++;
    if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
        px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d gets its own connection",
                c->cfd);
    if (p->state == PX_MASTER_UP && !p->stopping) {
        px_conn_connect(p, c);
        return;
    }
    /* No verified master right now: wait with the held clients. */
    px_list_remove(&p->conns, c);
    c->state = PX_CONN_HELD;
    c->since = p->now;
    px_list_push(&p->held, c);
    px_conn_update(p, c);
}

/* After replies were handed to c (or its parse was held up): answer its
 * QUIT, carry on parsing, pin it, or finish it. */
void px_mux_after(sentinel_proxy_t *p, px_conn *c)
{
    if (c->state != PX_CONN_SHARED || px_mux_pending(p, c))
        return;
    if (c->flags & PX_UP_EOF) {
        /* Its master connection ended with replies owed: what it waits
         * for (its own connection, QUIT's "+OK", a re-parse) never comes. */
        if (px_conn_finished(p, c))
            px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    if (c->mux == PX_MUX_WAITING) {
        /* AUTH/SELECT answered, or replies it had to wait for are in:
         * go on with what it sent after. */
        size_t used = 0;
        px_mux_set(p, c, PX_MUX_PARSING, "nothing outstanding");
        if (c->c2u) {
            shared_parse(p, c, c->c2u->data + c->c2u->pos, c->c2u->len - c->c2u->pos, &used);
            if (c->c2u && used == c->c2u->len - c->c2u->pos)
                px_buf_release(p, &c->c2u);
            else if (c->c2u)
                c->c2u->pos += (uint32_t)used;
        }
        shared_after_parse(p, c);
        return;
    }
    if (c->mux == PX_MUX_QUITTING) {
        /* QUIT is answered here: a connection of its own just to say
         * goodbye would cost the master a connect. The whole "+OK" or
         * nothing yet: a full buffer is flushed first (on_client). */
        if (c->u2c && p->bufsize - (c->u2c->len - c->u2c->pos) < 5)
            return;
        px_mux_set(p, c, PX_MUX_PARSING, "QUIT answered"); /* PX_CL_EOF: nothing more read */
        if (px_client_take(p, c, "+OK\r\n", 5) != 5) {
            px_conn_drop(p, c, PX_DROP_NORMAL);
            return;
        }
    }
    if (c->mux == PX_MUX_PINNING && !(c->flags & PX_CL_DEAD))
        px_mux_pin(p, c);
    else if (px_conn_finished(p, c))
        px_conn_drop(p, c, PX_DROP_NORMAL);
}

/* Give c as much of data as it takes now: a direct send, then its
 * buffer. Returns the bytes taken, or -1 when the client failed. */
ssize_t px_client_take(sentinel_proxy_t *p, px_conn *c, const char *data, size_t len)
{
    size_t off = 0, keep;

    if (c->flags & PX_CL_DEAD)
        return (ssize_t)len;
    if (c->u2c == NULL) {
        ssize_t w = px_io_send(p->tls, c->cfd, data, len);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -1;
            w = 0;
        }
        off = (size_t)w;
        if (off == len)
            return (ssize_t)len;
        keep = len - off < p->bufsize ? len - off : p->bufsize;
        if (px_buf_keep(p, &c->u2c, data + off, keep) == -1)
            return -1;
        off += keep;
    } else {
        px_buf *b = c->u2c;
        if (b->pos > 0) {
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        keep = p->bufsize - b->len < len ? p->bufsize - b->len : len;
        memcpy(b->data + b->len, data, keep);
        b->len += (uint32_t)keep;
        off = keep;
    }
    px_conn_update(p, c);
    return (ssize_t)off;
}

/* Which command of a shared connection's preamble the master refused
 * (px_shup.pre_failed). */
enum { PRE_AUTH = 1, PRE_SELECT = 2 };

/* Did c ask to move to sh with an AUTH (else a SELECT)? An AUTH keeps the
 * database, a SELECT the AUTH. */
static int asked_auth(const px_conn *c, const px_shup *sh)
{
    return !(c->sh && c->sh->authlen == sh->authlen &&
             (sh->authlen == 0 || memcmp(c->sh->auth, sh->auth, sh->authlen) == 0));
}

/*
 * The master refused the AUTH or SELECT that puts a (re)opened shared
 * connection in its state (a rotated password, an ACL change, -BUSY, a
 * node with fewer databases). A client whose own AUTH (SELECT) for this
 * state waits here, when it is the AUTH (SELECT) that was refused, gets
 * Redis' refusal as its answer (Redis refused the same command) and stays
 * where it is. One whose SELECT waits while it was the AUTH that was
 * refused (its password was rotated since it authenticated), or whose AUTH
 * waits while the SELECT was refused, would have had "+OK" from Redis on
 * its own connection: it cannot be answered truthfully and is ended. Every
 * other client here, queued or already in this state, cannot go on in it:
 * it is ended, never let run in another database or as another user. The
 * connection is closed.
 */
static void shared_refused(sentinel_proxy_t *p, px_shup *sh)
{
    static const char quoted[] = "with args beginning with";
    char err[sizeof(sh->pre_err) + 2];
    size_t elen = 0, nask = 0, loglen;
    px_conn **ask = sh->q_len ? malloc(sh->q_len * sizeof(*ask)) : NULL;

    while (elen < sh->pre_errlen && sh->pre_err[elen] != '\r' && sh->pre_err[elen] != '\n')
        elen++;
    if (elen == 0 || sh->pre_err[0] != '-')
        elen = (size_t)snprintf(err, sizeof(err), "-ERR sentinel-proxy: unexpected reply");
    else
        memcpy(err, sh->pre_err, elen);
    /* The log gets the reply cut where Redis starts quoting the command's
     * arguments ("-ERR unknown command 'AUTH', with args beginning with:
     * '<password>' ...", from a master that does not know AUTH): the rule of
     * sn_err_auth_refused(). The clients that asked (below) get Redis' reply
     * whole, as Redis would answer them on their own connection: they sent
     * that password themselves. */
    for (loglen = 0; loglen + sizeof(quoted) - 1 <= elen; loglen++)
        if (memcmp(err + loglen, quoted, sizeof(quoted) - 1) == 0)
            break;
    if (loglen + sizeof(quoted) - 1 > elen)
        loglen = elen;
    px_logf(&p->log, sh->users ? SENTINEL_PROXY_LOG_WARN : SENTINEL_PROXY_LOG_DEBUG,
            "shared master connection (db %u%s): the master refused its AUTH/SELECT (%.*s%s); "
            "%u clients in that state end",
            (unsigned)sh->db, sh->authlen ? ", AUTH" : "", (int)loglen, err,
            loglen < elen ? "(its arguments left out)" : "", (unsigned)sh->users);
    memcpy(err + elen, "\r\n", 2);
    elen += 2;
    for (size_t i = 0; i < sh->q_len; i++) {
        px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
        px_conn *c = w->c;
        if (c && w->bind && c->sh != sh && !(c->flags & PX_UP_EOF)) {
            c->inflight -= w->n < c->inflight ? w->n : c->inflight;
            w->c = NULL;
            if (ask && asked_auth(c, sh) == (sh->pre_failed == PRE_AUTH))
                ask[nask++] = c;
            else
                c->flags |= PX_UP_EOF | PX_CUT; /* not what it asked, or no memory: end it */
        }
    }
    for (px_conn *c = p->conns.head; c; c = c->next)
        if (c->state == PX_CONN_SHARED && c->sh == sh)
            c->flags |= PX_UP_EOF | PX_CUT;
    px_mux_close(p, sh, PX_DROP_NORMAL);
    end_marked(p, PX_DROP_NORMAL);
    /* Not marked, with nothing queued anywhere: none of them was dropped. */
    for (size_t i = 0; i < nask; i++) {
        px_conn *c = ask[i];
        if (px_client_take(p, c, err, elen) < 0)
            px_conn_drop(p, c, PX_DROP_NORMAL);
        else
            px_mux_after(p, c);
    }
    free(ask);
}

/* Hand the replies read from a shared connection to their clients. */
void px_mux_deliver(sentinel_proxy_t *p, px_shup *sh)
{
    if (sh->delivering)
        return;
    sh->delivering = 1;
    while (sh->in != NULL) {
        if (sh->in_framed > 0) {
            px_conn *c = sh->framed_for;
            size_t k = sh->in_framed;
            uint32_t nrep = sh->framed_n;
            int bind = sh->framed_bind;
            if (c) {
                ssize_t took = px_client_take(p, c, sh->in + sh->in_pos, k);
                if (took < 0) {
                    /* The client is gone. What it sent still runs, as in
                     * Redis (which reads a closed client's last commands
                     * before it sees the end); its replies are dropped. */
                    c->flags |= PX_CL_DEAD | PX_CL_EOF;
                    if (c->u2c)
                        px_buf_release(p, &c->u2c);
                    took = (ssize_t)k;
                }
                if ((size_t)took < k) {
                    /* Its buffer is full: wait for it (the clock runs on
                     * from an earlier stall: see px_shup). */
                    if (sh->stalled_since == 0)
                        sh->stalled_since = p->now;
                    if (sh->stall_by != c) {
                        sh->stall_by = c;
                        sh->stall_at = p->now;
                    }
                    sh->stalled = c;
                    sh->in_pos += (size_t)took;
                    sh->in_framed -= (size_t)took;
                    break;
                }
            }
            sh->in_pos += sh->in_framed;
            sh->in_framed = 0;
            sh->framed_for = NULL;
            sh->framed_n = 0;
            sh->framed_bind = 0;
            sh->stalled = NULL;
            if (c && c != sh->stall_by)
                sh->stall_by = NULL; /* another client has the head now; the
                                      * clock (stalled_since) runs on */
            if (c) {
                c->inflight -= nrep < c->inflight ? nrep : c->inflight;
                if (bind)
                    px_mux_bind(p, c, sh); /* Redis said +OK to its AUTH/SELECT here */
                px_mux_after(p, c);
            }
            continue;
        }
        if (sh->in_pos == sh->in_len) {
            sh->in_pos = sh->in_len = 0;
            break;
        }
        if (sh->preamble > 0) {
            /* Our own AUTH / SELECT: swallowed when "+". Anything else
             * means the connection is not in the state its clients were
             * accepted into: nothing of theirs was written yet (held
             * behind the preamble), and shared_refused() ends them. */
            int done, start = px_rep_at_start(&sh->rep);
            size_t from = sh->in_pos;
            ssize_t k = px_rep_feed(&sh->rep, sh->in + sh->in_pos, sh->in_len - sh->in_pos, &done);
            if (k < 0) {
                sh->delivering = 0;
                px_mux_fail(p, sh, "protocol error in a reply");
                return;
            }
            if (start && sh->in[from] != '+') {
                /* the AUTH goes first: with a SELECT behind it, 2 replies are
                 * still owed when it fails */
                sh->pre_failed = sh->authlen && sh->preamble == (sh->db ? 2u : 1u) ? PRE_AUTH
                                                                                  : PRE_SELECT;
                sh->pre_errlen = 0;
            }
            if (sh->pre_failed) {
                size_t room = sizeof(sh->pre_err) - sh->pre_errlen;
                size_t take = (size_t)k < room ? (size_t)k : room;
                memcpy(sh->pre_err + sh->pre_errlen, sh->in + from, take);
                sh->pre_errlen = (uint8_t)(sh->pre_errlen + take);
            }
            sh->in_pos += (size_t)k;
            if (!done)
                continue;
            sh->preamble--;
            if (sh->pre_failed) {
                sh->delivering = 0;
                shared_refused(p, sh);
                return;
            }
            if (sh->preamble == 0)
                shared_sync(p, sh); /* the clients' commands may go now */
            continue;
        }
        if (sh->q_len == 0) {
            sh->delivering = 0;
            px_mux_fail(p, sh, "reply without a request");
            return;
        }
        /* Frame as many of the head's replies as the bytes hold. */
        px_wait *w = &sh->q[sh->q_head];
        size_t pos = sh->in_pos;
        uint32_t nrep = 0;
        if (w->bind && px_rep_at_start(&sh->rep))
            sh->bind_ok = sh->in[pos] == '+';
        while (pos < sh->in_len && w->n > 0) {
            int done;
            ssize_t k = px_rep_feed(&sh->rep, sh->in + pos, sh->in_len - pos, &done);
            if (k < 0) {
                sh->delivering = 0;
                px_mux_fail(p, sh, "protocol error in a reply");
                return;
            }
            pos += (size_t)k;
            if (!done)
                break;
            w->n--;
            nrep++;
        }
        sh->framed_for = w->c;
        sh->in_framed = pos - sh->in_pos;
        sh->framed_n = nrep;
        sh->framed_bind = w->bind && w->n == 0 && sh->bind_ok;
        if (w->n == 0) {
            sh->q_head = (sh->q_head + 1) % sh->q_cap;
            sh->q_len--;
            sh_idle_check(p, sh);
        }
    }
    if (sh->q_len == 0 && sh->stalled == NULL) {
        sh->stalled_since = 0; /* nobody is owed anything here */
        sh->stall_by = NULL;
    }
    sh->delivering = 0;
    shared_sync(p, sh);
    shared_check_full(p, sh);
}

void px_mux_deliver_all(sentinel_proxy_t *p)
{
    p->sh_kick = 0;
    for (px_shup *sh = p->shs; sh; sh = sh->next)
        if (sh->in_pos < sh->in_len)
            px_mux_deliver(p, sh);
}

/* TCP is up: the TLS handshake (the connection stays CONNECTING during it,
 * so the connect deadline covers it), then the queued requests go. */
static void shared_connected(sentinel_proxy_t *p, px_shup *sh)
{
    char why[256], msg[320];
    int rc = 1;

    if (px_tls_upstream(p->tls)) {
        if (px_tls_handshake_want(p->tls, sh->fd) == PX_NONE &&
            (rc = px_tls_start(p->tls, sh->fd, p->master.host, why, sizeof(why))) < 0) {
            if (rc == PX_TLS_NO_MEMORY) { /* the proxy's failure, not the master's */
                px_mux_fail(p, sh, why);
                return;
            }
        } else {
            rc = px_tls_handshake(p->tls, sh->fd, why, sizeof(why));
        }
    }
    if (rc == -1) {
        snprintf(msg, sizeof(msg), "master %s:%d: %s", p->master.host, p->master.port, why);
        px_mux_fail(p, sh, msg);
        px_master_suspect(p, msg);
        return;
    }
    if (rc == 1) {
        sh->state = PX_SH_OPEN;
        shared_flush(p, sh);
    }
    shared_sync(p, sh);
}

static void on_shared(px_loop *l, int fd, void *ud, int mask)
{
    sentinel_proxy_t *p = px_loop_owner(l);
    px_shup *sh = ud;

    (void)fd;
    if (sh->state == PX_SH_CONNECTING) {
        if (px_tls_handshake_want(p->tls, sh->fd) == PX_NONE) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (!(mask & PX_WRITABLE))
                return;
            if (getsockopt(sh->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
                char why[128];
                snprintf(why, sizeof(why), "%s", strerror(err ? err : errno));
                px_mux_fail(p, sh, why);
                px_master_suspect(p, why);
                return;
            }
        }
        shared_connected(p, sh);
        return;
    }
    if (mask & PX_WRITABLE)
        shared_flush(p, sh);
    if ((mask & PX_READABLE) && sh->state == PX_SH_OPEN && sh->in_pos == sh->in_len) {
        ssize_t n = px_io_recv(p->tls, sh->fd, sh->in, p->bufsize);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            px_mux_fail(p, sh, n == 0 ? "closed by the master" : strerror(errno));
            px_master_check(p);
            return;
        }
        p->ctr.bytes_out += (uint64_t)n;
        sh->in_pos = 0;
        sh->in_len = (size_t)n;
        px_mux_deliver(p, sh);
    }
}

/* px_cmd_shareable() behind a small memo of names seen lately: clients
 * repeat a handful of commands, and the lookup showed in profiles. */
static int cmd_shareable(sentinel_proxy_t *p, const char *name, size_t len)
{
    size_t slot;

    if (len == 0 || len > sizeof(p->cmd_memo[0].name))
        return 0;
    slot = (len * 7 + (unsigned char)name[0] + (unsigned char)name[len - 1]) & 7;
    if (p->cmd_memo[slot].len == len && memcmp(p->cmd_memo[slot].name, name, len) == 0)
        return 1;
    if (!px_cmd_shareable(name, len))
        return 0;
    p->cmd_memo[slot].len = (uint8_t)len;
    memcpy(p->cmd_memo[slot].name, name, len);
    return 1;
}

/* AUTH or SELECT: the shared connection for the state it asks for, or NULL
 * (pin the client) for a shape we do not multiplex. */
static px_shup *state_target(sentinel_proxy_t *p, px_conn *c, const char *cmd, size_t len,
                             int is_auth)
{
    const char *arg;
    size_t arglen;
    unsigned long db = 0;

    if (is_auth) {
        if (len > SH_AUTH_MAX || px_req_arg(cmd, len, 1, &arg, &arglen) == -1)
            return NULL;
        return px_mux_get(p, cmd, len, c->sh->db);
    }
    /* SELECT <digits> and nothing more */
    if (px_req_arg(cmd, len, 2, &arg, &arglen) == 0 ||
        px_req_arg(cmd, len, 1, &arg, &arglen) == -1 || arglen == 0 || arglen > 7)
        return NULL;
    for (size_t i = 0; i < arglen; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            return NULL;
        db = db * 10 + (unsigned long)(arg[i] - '0');
    }
    if (db > SH_DB_MAX)
        return NULL;
    return px_mux_get(p, c->sh->auth, c->sh->authlen, (uint32_t)db);
}

/* Queue every complete shareable command at base[0..have) on c's shared
 * connection; stop at an incomplete one, at AUTH/SELECT (sent once
 * nothing is outstanding, then wait for its answer: PX_MUX_WAITING), at QUIT,
 * or at anything that pins the client. *used: bytes consumed. */
static void shared_parse(sentinel_proxy_t *p, px_conn *c, const char *base, size_t have,
                         size_t *used)
{
    size_t off = 0;

    while (off < have) {
        const char *name = NULL;
        size_t namelen = 0;
        ssize_t k = px_req_scan(base + off, have - off, &name, &namelen);
        if (k == 0)
            break;
        if (k > 0 && namelen == 4 && strncasecmp(name, "QUIT", 4) == 0) {
            c->flags |= PX_CL_EOF; /* whatever follows is not run */
            px_mux_set(p, c, PX_MUX_QUITTING, "QUIT");
            off = have;
            break;
        }
        if (k > 0 && ((namelen == 4 && strncasecmp(name, "AUTH", 4) == 0) ||
                      (namelen == 6 && strncasecmp(name, "SELECT", 6) == 0))) {
            px_shup *to;
            if (px_mux_pending(p, c)) {
                px_mux_set(p, c, PX_MUX_WAITING, "its earlier replies first");
                break;
            }
            if ((to = state_target(p, c, base + off, (size_t)k, namelen == 4)) == NULL) {
                px_mux_set(p, c, PX_MUX_PINNING, "AUTH/SELECT not shared");
                break;
            }
            if (shared_queue(p, to, c, base + off, (size_t)k, 1) == -1)
                goto oom;
            off += (size_t)k;
            px_mux_set(p, c, PX_MUX_WAITING, "for Redis' answer to its AUTH/SELECT");
            break;
        }
        if (k < 0 || !cmd_shareable(p, name, namelen)) {
            px_mux_set(p, c, PX_MUX_PINNING, "a command not shared");
            if (p->log.level >= SENTINEL_PROXY_LOG_DEBUG)
                px_logf(&p->log, SENTINEL_PROXY_LOG_DEBUG, "client fd %d sent %.*s: not shared",
                        c->cfd, k < 0 ? 18 : (int)(namelen > 32 ? 32 : namelen),
                        k < 0 ? "unframable request" : name);
            break;
        }
        if (shared_queue(p, c->sh, c, base + off, (size_t)k, 0) == -1)
            goto oom;
        off += (size_t)k;
    }
    *used = off;
    return;
oom:
    px_logf(&p->log, SENTINEL_PROXY_LOG_WARN, "shared queue: out of memory");
    c->flags |= PX_UP_EOF | PX_CUT; /* ends the client once its replies are in */
    *used = have;
}

/* What a parse decided: pin, answer QUIT, or keep reading. */
static void shared_after_parse(sentinel_proxy_t *p, px_conn *c)
{
    /* A command that does not fit in a buffer is streamed over the
     * client's own connection instead. */
    if (c->c2u && c->c2u->len - c->c2u->pos >= p->bufsize && c->mux != PX_MUX_WAITING)
        px_mux_set(p, c, PX_MUX_PINNING, "a command larger than a buffer");
    if (c->sh && shared_is_full(p, c->sh)) {
        /* The send can fail and close the connection, which ends its
         * clients (end_marked): c is kept for the rest of this function,
         * which ends it (PX_UP_EOF below) once it is done with it. */
        px_shup *sh = c->sh;
        px_conn *outer = p->mux_reading;
        p->mux_reading = c;
        shared_flush(p, sh);
        p->mux_reading = outer;
        shared_check_full(p, sh);
    }
    if (c->mux == PX_MUX_PINNING || c->mux == PX_MUX_QUITTING || (c->flags & PX_UP_EOF)) {
        px_conn_update(p, c);
        px_mux_after(p, c); /* acts now when nothing is outstanding */
        return;
    }
    if (px_conn_finished(p, c)) {
        px_conn_drop(p, c, PX_DROP_NORMAL); /* it had closed while waiting for AUTH/SELECT */
        return;
    }
    px_conn_update(p, c);
}

/* Read a multiplexed client's requests and parse them. */
void px_mux_client_read(sentinel_proxy_t *p, px_conn *c)
{
    char *base;
    size_t have, used = 0;
    ssize_t n;

    if ((c->sh && c->sh->full) || p->state == PX_MASTER_PAUSED || p->stopping ||
        c->mux != PX_MUX_PARSING) {
        px_conn_update(p, c); /* not now: stop asking */
        return;
    }
    if (c->c2u) {
        px_buf *b = c->c2u;
        if (b->pos > 0) {
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        n = px_io_recv(p->tls, c->cfd, b->data + b->len, p->bufsize - b->len);
        if (n > 0)
            b->len += (uint32_t)n;
        base = b->data;
        have = b->len;
    } else {
        n = px_io_recv(p->tls, c->cfd, p->scratch, p->bufsize);
        base = p->scratch;
        have = n > 0 ? (size_t)n : 0;
    }
    if (n == 0) {
        px_client_eof(p, c);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    p->ctr.bytes_in += (uint64_t)n;
    c->since = p->now;
    shared_parse(p, c, base, have, &used);
    /* Keep the rest: an incomplete command, or what waits. */
    if (c->c2u) {
        if (used == have)
            px_buf_release(p, &c->c2u);
        else
            c->c2u->pos = (uint32_t)used;
    } else if (used < have && px_buf_keep(p, &c->c2u, base + used, have - used) == -1) {
        px_conn_drop(p, c, PX_DROP_NORMAL);
        return;
    }
    shared_after_parse(p, c);
}

/* How long the client queued first on sh after c has waited behind slow
 * readers (px_shup), or -1 when no other client waits there. The queue is
 * in order, so the first such entry is the oldest. */
static int64_t others_waited(const sentinel_proxy_t *p, const px_shup *sh, const px_conn *c)
{
    for (size_t i = 0; i < sh->q_len; i++) {
        const px_wait *w = &sh->q[(sh->q_head + i) % sh->q_cap];
        if (w->c && w->c != c && !(w->c->flags & PX_CL_DEAD))
            return p->now - (w->at > sh->stalled_since ? w->at : sh->stalled_since);
    }
    return -1;
}

/*
 * The bound on a slow reader's harm (tick): once another client queued
 * here has waited pause-timeout behind slow readers (progress of the slow
 * one does not count), the staller at the head is dropped, and so is each
 * staller after it (clients that stopped reading together stall the
 * connection one after another) as soon as it has held the head for a
 * grace (a tenth of pause-timeout, at least a tick), which spares a reader
 * whose buffer is full only for a moment; once that client has waited
 * twice pause-timeout, at once. The clock never restarts while a client
 * that was held up still waits, so n non-readers cost it pause-timeout +
 * n graces at most, not n pause-timeouts.
 */
void px_mux_check_stall(sentinel_proxy_t *p, px_shup *sh)
{
    int64_t grace = p->pause_ms / 10 > PX_TICK_MS ? p->pause_ms / 10 : PX_TICK_MS;

    while (sh->stalled && sh->stalled_since) {
        px_conn *c = sh->stalled;
        int64_t waited = others_waited(p, sh, c);
        if (waited < p->pause_ms || (p->now - sh->stall_at < grace && waited < 2LL * p->pause_ms))
            return; /* nobody else waits, or not for long enough yet */
        px_logf(&p->log, SENTINEL_PROXY_LOG_WARN,
                "client fd %d too slow to read its replies, others waited %lld ms; dropped",
                c->cfd, (long long)waited);
        c->flags |= PX_CUT;
        px_conn_drop(p, c, PX_DROP_NORMAL); /* forgets it: no longer stalled */
        px_mux_deliver(p, sh); /* the others' replies flow: the next staller, if any */
    }
}
