/*
 * A small epoll event loop, after redis' ae.c: one handler per fd, an
 * fd-indexed table of interests, level-triggered epoll. Timers are the
 * caller's business (the proxy computes one timeout per iteration).
 *
 * The table is calloc'ed for the whole fd range: pages that no fd touches
 * are never faulted in, so an idle proxy does not pay for max-clients.
 *
 * Interests are logical: PX_READABLE means "the handler wants to read".
 * Over TLS a read may need the socket writable (OpenSSL's WANT_WRITE: a
 * record to answer first) and a write may need it readable (WANT_READ):
 * px_loop_set_io_want() says which socket event serves each direction, the
 * loop asks epoll for that, and maps what fired back to the direction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

#define PX_LOOP_BATCH 256

/* px_file.pending: the fd is on the pending list (1 with bytes pending,
 * 2 stale: dropped from the list at the next pass). rd_on / wr_on: the
 * socket event that serves a read / a write (0: the usual one); ev: the
 * epoll events registered. */
typedef struct px_file {
    int mask;
    int pending;
    uint8_t rd_on, wr_on;
    uint32_t ev;
    px_file_proc *proc;
    void *ud;
} px_file;

struct px_loop {
    int epfd;
    int setsize;
    px_file *files;
    void *owner;
    int *pend;        /* fds with bytes buffered in user space (TLS): at most one
                       * entry per fd, so setsize entries never run out */
    int npend;
    struct epoll_event fired[PX_LOOP_BATCH];
};

px_loop *px_loop_new(int setsize)
{
    px_loop *l;

    if (setsize <= 0)
        return NULL;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return NULL;
    l->setsize = setsize;
    /* calloc'ed, as the table: untouched pages cost nothing. */
    if ((l->files = calloc((size_t)setsize, sizeof(*l->files))) == NULL ||
        (l->pend = calloc((size_t)setsize, sizeof(*l->pend))) == NULL)
        goto fail;
    if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
        goto fail;
    return l;
fail:
    free(l->files);
    free(l->pend);
    free(l);
    return NULL;
}

void px_loop_free(px_loop *l)
{
    if (l == NULL)
        return;
    close(l->epfd);
    free(l->files);
    free(l->pend);
    free(l);
}

int px_loop_setsize(const px_loop *l)
{
    return l->setsize;
}

void px_loop_set_owner(px_loop *l, void *owner)
{
    l->owner = owner;
}

void *px_loop_owner(const px_loop *l)
{
    return l->owner;
}

int px_loop_fd(const px_loop *l)
{
    return l->epfd;
}

/* The epoll events serving f's logical interest mask. */
static uint32_t to_epoll(const px_file *f, int mask)
{
    int on = 0;

    if (mask & PX_READABLE)
        on |= f->rd_on ? f->rd_on : PX_READABLE;
    if (mask & PX_WRITABLE)
        on |= f->wr_on ? f->wr_on : PX_WRITABLE;
    return (on & PX_READABLE ? EPOLLIN : 0) | (on & PX_WRITABLE ? EPOLLOUT : 0);
}

/* Register f's interest mask with epoll, when the events it needs changed. */
static int apply(px_loop *l, int fd, px_file *f, int mask)
{
    struct epoll_event ee;
    uint32_t ev = mask == PX_NONE ? 0 : to_epoll(f, mask);
    int op;

    if (f->mask == PX_NONE && mask == PX_NONE)
        return 0;
    op = f->mask == PX_NONE ? EPOLL_CTL_ADD : mask == PX_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (op == EPOLL_CTL_MOD && ev == f->ev)
        return 0;
    memset(&ee, 0, sizeof(ee));
    ee.events = ev;
    ee.data.fd = fd;
    /* A failed DEL is ignored: the fd may already be closed, which removed it. */
    if (epoll_ctl(l->epfd, op, fd, &ee) == -1 && op != EPOLL_CTL_DEL)
        return -1;
    f->ev = ev;
    return 0;
}

int px_loop_add(px_loop *l, int fd, int mask, px_file_proc *proc, void *ud)
{
    px_file *f;

    if (fd < 0 || fd >= l->setsize) {
        errno = ERANGE;
        return -1;
    }
    f = &l->files[fd];
    if (apply(l, fd, f, f->mask | mask) == -1)
        return -1;
    f->mask |= mask;
    f->proc = proc;
    f->ud = ud;
    return 0;
}

void px_loop_del(px_loop *l, int fd, int mask)
{
    px_file *f;
    int left;

    if (fd < 0 || fd >= l->setsize)
        return;
    f = &l->files[fd];
    if ((f->mask & mask) == 0)
        return;
    left = f->mask & ~mask;
    apply(l, fd, f, left); /* a failed MOD leaves more interest than asked: harmless */
    f->mask = left;
    /* A pending mark stays: a connection that stops reading for a while
     * (backpressure) still has those bytes when it reads again. */
    if (left == PX_NONE) {
        f->proc = NULL;
        f->ud = NULL;
    }
}

void px_loop_set_io_want(px_loop *l, int fd, int dir, int on)
{
    px_file *f;
    uint8_t v = on == dir ? 0 : (uint8_t)on;

    if (fd < 0 || fd >= l->setsize || (dir != PX_READABLE && dir != PX_WRITABLE))
        return;
    f = &l->files[fd];
    if ((dir == PX_READABLE ? f->rd_on : f->wr_on) == v)
        return;
    if (dir == PX_READABLE)
        f->rd_on = v;
    else
        f->wr_on = v;
    if (f->mask != PX_NONE)
        apply(l, fd, f, f->mask); /* on failure the old events stay: retried next change */
}

/* The logical directions that events ev of f serve. */
static int from_epoll(const px_file *f, uint32_t ev)
{
    int on = (ev & EPOLLIN ? PX_READABLE : 0) | (ev & EPOLLOUT ? PX_WRITABLE : 0), mask = 0;

    /* Let the handler's own read or write find the error. */
    if (ev & (EPOLLERR | EPOLLHUP))
        return PX_READABLE | PX_WRITABLE;
    if (on & (f->rd_on ? f->rd_on : PX_READABLE))
        mask |= PX_READABLE;
    if (on & (f->wr_on ? f->wr_on : PX_WRITABLE))
        mask |= PX_WRITABLE;
    return mask;
}

void px_loop_set_pending(px_loop *l, int fd, int on)
{
    px_file *f;

    if (fd < 0 || fd >= l->setsize)
        return;
    f = &l->files[fd];
    if (!on) {
        if (f->pending == 1)
            f->pending = 2;
        return;
    }
    if (f->pending == 0)
        l->pend[l->npend++] = fd; /* fits: one entry per fd (f->pending != 0 while listed) */
    f->pending = 1;
}

/* A pending fd that wants to be read: do not sleep. */
int px_loop_has_pending(const px_loop *l)
{
    for (int i = 0; i < l->npend; i++) {
        const px_file *f = &l->files[l->pend[i]];
        if (f->pending == 1 && (f->mask & PX_READABLE))
            return 1;
    }
    return 0;
}

/* Dispatch the pending fds as readable, then drop the stale entries. The
 * handlers may add fds (appended: dispatched next time). */
static void pending_dispatch(px_loop *l)
{
    int n = l->npend, keep = 0;

    for (int i = 0; i < n; i++) {
        int fd = l->pend[i];
        px_file *f = &l->files[fd];
        if (f->pending == 1 && (f->mask & PX_READABLE) && f->proc)
            f->proc(l, fd, f->ud, PX_READABLE);
    }
    for (int i = 0; i < l->npend; i++) {
        px_file *f = &l->files[l->pend[i]];
        if (f->pending == 1)
            l->pend[keep++] = l->pend[i];
        else
            f->pending = 0;
    }
    l->npend = keep;
}

int px_loop_mask(const px_loop *l, int fd)
{
    if (fd < 0 || fd >= l->setsize)
        return PX_NONE;
    return l->files[fd].mask;
}

/* The wait alone, for a loop whose dispatch runs under a lock the wait
 * must not hold (route.c: a route's thread): the caller has checked
 * px_loop_has_pending(). Fired events or -1; EINTR is 0. */
int px_loop_poll(px_loop *l, int timeout_ms)
{
    int n = epoll_wait(l->epfd, l->fired, PX_LOOP_BATCH, timeout_ms);

    if (n == -1)
        return errno == EINTR ? 0 : -1;
    return n;
}

/* Dispatch what px_loop_poll() returned, then the pending fds. */
void px_loop_dispatch(px_loop *l, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = l->fired[i].data.fd;
        uint32_t ev = l->fired[i].events;
        px_file *f = &l->files[fd];
        int mask = from_epoll(f, ev);

        /* An earlier handler of this batch (or, for a route, its router's
         * thread between the wait and the dispatch) may have dropped or
         * reused the fd: dispatch only what is still wanted. */
        mask &= f->mask;
        if (mask && f->proc)
            f->proc(l, fd, f->ud, mask);
    }
    if (l->npend)
        pending_dispatch(l);
}

int px_loop_wait(px_loop *l, int timeout_ms)
{
    int n = px_loop_poll(l, px_loop_has_pending(l) ? 0 : timeout_ms);

    if (n == -1)
        return -1;
    px_loop_dispatch(l, n);
    return n;
}
