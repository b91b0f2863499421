/*
 * A small epoll event loop, after redis' ae.c: one handler per fd, an
 * fd-indexed table of interests, level-triggered epoll. Timers are the
 * caller's business (the proxy computes one timeout per iteration).
 *
 * The table is calloc'ed for the whole fd range: pages that no fd touches
 * are never faulted in, so an idle proxy does not pay for max-clients.
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
 * 2 stale: dropped from the list at the next pass). */
typedef struct px_file {
    int mask;
    int pending;
    px_file_proc *proc;
    void *ud;
} px_file;

struct px_loop {
    int epfd;
    int setsize;
    px_file *files;
    void *owner;
    int *pend;        /* fds with bytes buffered in user space (TLS) */
    int npend, pcap;
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
    if ((l->files = calloc((size_t)setsize, sizeof(*l->files))) == NULL)
        goto fail;
    if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
        goto fail;
    return l;
fail:
    free(l->files);
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

static uint32_t to_epoll(int mask)
{
    uint32_t ev = 0;

    if (mask & PX_READABLE)
        ev |= EPOLLIN;
    if (mask & PX_WRITABLE)
        ev |= EPOLLOUT;
    return ev;
}

int px_loop_add(px_loop *l, int fd, int mask, px_file_proc *proc, void *ud)
{
    struct epoll_event ee;
    px_file *f;
    int op;

    if (fd < 0 || fd >= l->setsize) {
        errno = ERANGE;
        return -1;
    }
    f = &l->files[fd];
    op = f->mask == PX_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    memset(&ee, 0, sizeof(ee));
    ee.events = to_epoll(f->mask | mask);
    ee.data.fd = fd;
    if ((f->mask | mask) != f->mask || op == EPOLL_CTL_ADD) {
        if (epoll_ctl(l->epfd, op, fd, &ee) == -1)
            return -1;
    }
    f->mask |= mask;
    f->proc = proc;
    f->ud = ud;
    return 0;
}

void px_loop_del(px_loop *l, int fd, int mask)
{
    struct epoll_event ee;
    px_file *f;
    int left;

    if (fd < 0 || fd >= l->setsize)
        return;
    f = &l->files[fd];
    if ((f->mask & mask) == 0)
        return;
    left = f->mask & ~mask;
    memset(&ee, 0, sizeof(ee));
    ee.events = to_epoll(left);
    ee.data.fd = fd;
    /* Errors are ignored: the fd may already be closed, which removed it. */
    epoll_ctl(l->epfd, left == PX_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fd, &ee);
    f->mask = left;
    /* A pending mark stays: a connection that stops reading for a while
     * (backpressure) still has those bytes when it reads again. */
    if (left == PX_NONE) {
        f->proc = NULL;
        f->ud = NULL;
    }
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
    if (f->pending == 0) {
        if (l->npend == l->pcap) {
            int cap = l->pcap ? 2 * l->pcap : 16;
            int *np = realloc(l->pend, (size_t)cap * sizeof(*np));
            if (np == NULL)
                return; /* the bytes wait for the peer's next record */
            l->pend = np;
            l->pcap = cap;
        }
        l->pend[l->npend++] = fd;
    }
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

int px_loop_wait(px_loop *l, int timeout_ms)
{
    int n = epoll_wait(l->epfd, l->fired, PX_LOOP_BATCH, px_loop_has_pending(l) ? 0 : timeout_ms);

    if (n == -1)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        int fd = l->fired[i].data.fd;
        uint32_t ev = l->fired[i].events;
        px_file *f = &l->files[fd];
        int mask = 0;

        if (ev & EPOLLIN)
            mask |= PX_READABLE;
        if (ev & EPOLLOUT)
            mask |= PX_WRITABLE;
        /* Let the handler's own read or write find the error. */
        if (ev & (EPOLLERR | EPOLLHUP))
            mask |= PX_READABLE | PX_WRITABLE;
        /* An earlier handler of this batch may have dropped or reused the
         * fd: dispatch only what is still wanted. */
        mask &= f->mask;
        if (mask && f->proc)
            f->proc(l, fd, f->ud, mask);
    }
    if (l->npend)
        pending_dispatch(l);
    return n;
}
