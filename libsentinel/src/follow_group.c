/*
 * Follower groups (include/sentinel/follow.h): one subscription and one
 * polling link per sentinel for several followers. The links are a hub
 * watcher's (watch.c, poll_share.c) that fans every message out to its
 * members' watchers and pipelines their polls; this file owns
 * the hub, tells the host about its descriptors, and runs each step of the
 * hub inside every member's entry/exit so the members' callbacks follow
 * the follower's re-entrancy rules.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sentinel/follow.h"

#define GROUP_MAX_FDS (2 * SN_MAX_SENTINELS) /* subscriptions and polling links */

struct sentinel_follow_group {
    sentinel_watch_t *hub;
    sentinel_follow_t **members;
    size_t n, cap;
    sentinel_follow_group_socket_cb sock_cb;
    void *sock_ud;
    sn_fdwant reg[GROUP_MAX_FDS]; /* what the socket callback was told */
    int nreg;
    int depth;  /* inside a group call */
    int running; /* inside sentinel_follow_group_run_once(): the group stays */
    int freed;  /* sentinel_follow_group_free() was called */
    sn_err err; /* the last failed call, for sentinel_follow_group_errstr() */
};

sentinel_follow_group_t *sentinel_follow_group_new(const sentinel_t *s, int *code)
{
    sentinel_follow_group_t *g;

    if (s == NULL || s->cfg.nsentinels == 0)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if ((g = calloc(1, sizeof(*g))) == NULL)
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    if ((g->hub = sn_watch_new_hub(s, code)) == NULL) {
        free(g);
        return NULL;
    }
    return g;
}

static void group_destroy(sentinel_follow_group_t *g)
{
    sentinel_watch_free(g->hub);
    free(g->members);
    free(g);
}

void sentinel_follow_group_free(sentinel_follow_group_t *g)
{
    if (g == NULL)
        return;
    g->freed = 1;
    if (g->n == 0 && g->depth == 0 && g->running == 0)
        group_destroy(g);
}

/* Member f was destroyed (follow.c): forget it; the last one out of a freed
 * group closes it, unless a group call is still on the stack. */
void sn_follow_group_left(sentinel_follow_group_t *g, sentinel_follow_t *f)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->members[i] == f) {
            memmove(&g->members[i], &g->members[i + 1], (g->n - i - 1) * sizeof(*g->members));
            g->n--;
            break;
        }
    if (g->freed && g->n == 0 && g->depth == 0 && g->running == 0)
        group_destroy(g);
}

sentinel_follow_t *sentinel_follow_new_in_group(sentinel_follow_group_t *g, const sentinel_t *s,
                                               int *code)
{
    sentinel_follow_t *f;
    int why = SENTINEL_ERR_INVALID_ARGUMENT;

    if (g == NULL)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if (g->depth > 0 || g->freed) {
        sn_err_set(&g->err, SENTINEL_ERR_INVALID_ARGUMENT, "%s",
                   g->freed ? "the group was freed" : "called from a callback of the group");
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 4;
        sentinel_follow_t **m = realloc(g->members, cap * sizeof(*m));
        if (m == NULL) {
            sn_err_set(&g->err, SENTINEL_ERR_NO_MEMORY, "out of memory for a member");
            return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
        }
        g->members = m;
        g->cap = cap;
    }
    if ((f = sn_follow_create(s, g->hub, g, &why)) == NULL) {
        sn_err_set(&g->err, why, "%s",
                   why == SENTINEL_ERR_NO_MEMORY ? "out of memory for a follower"
                                                 : "the handle is NULL or has no sentinel");
        return sn_fail_new(code, why);
    }
    if (code != NULL)
        *code = SENTINEL_OK;
    g->members[g->n++] = f;
    return f;
}

void sentinel_follow_group_set_socket_cb(sentinel_follow_group_t *g,
                                         sentinel_follow_group_socket_cb cb, void *ud)
{
    if (g == NULL)
        return;
    g->sock_cb = cb;
    g->sock_ud = ud;
}

static void group_sock(void *self, int fd, int op, int events)
{
    sentinel_follow_group_t *g = self;

    g->sock_cb(g, fd, (sentinel_follow_fd_op)op, events, g->sock_ud);
}

/* Tell the host what changed on the shared links. Runs inside a group
 * call (depth > 0), so a sentinel_follow_group_free() from the socket
 * callback only marks the group, and stops the sync; never after the group
 * was freed (its host may have freed what the callback uses). */
static void group_sync(sentinel_follow_group_t *g)
{
    sn_fdwant want[GROUP_MAX_FDS];
    int n;

    if (g->sock_cb == NULL || g->freed)
        return;
    g->depth++;
    n = sn_watch_wants(g->hub, want, GROUP_MAX_FDS);
    sn_fdreg_sync(g->reg, &g->nreg, want, n > GROUP_MAX_FDS ? GROUP_MAX_FDS : n, group_sock, g,
                  &g->freed);
    g->depth--;
}

/* follow.c: before a member's callbacks run host code, so that no REMOVE
 * of a shared link arrives after the host could have reused its number. */
void sn_follow_group_sync(sentinel_follow_group_t *g)
{
    group_sync(g);
}

/* One step of the shared links, with every member inside a call. fd -1:
 * the timers. SENTINEL_OK, SENTINEL_ERR_INVALID_ARGUMENT (busy, or fd not
 * the group's) or SENTINEL_ERR_NO_MEMORY. */
static int group_step(sentinel_follow_group_t *g, int fd)
{
    sentinel_follow_t **in;
    size_t n = g->n, entered = 0;
    int rc = 0;

    if (g->depth > 0)
        return sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "called from a callback of the group");
    for (size_t i = 0; i < n; i++)
        if (sn_follow_busy(g->members[i]))
            return sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT,
                               "called from a callback of a member");
    if ((in = malloc((n ? n : 1) * sizeof(*in))) == NULL)
        return sn_err_fail(&g->err, SENTINEL_ERR_NO_MEMORY, "out of memory");
    /* Members leave in the order they entered; one freed in a callback
     * leaves g->members on its way out, so walk a copy. */
    for (size_t i = 0; i < n; i++)
        if (sn_follow_enter(g->members[i]) == 0)
            in[entered++] = g->members[i];
    g->depth++;
    if (fd < 0)
        sentinel_watch_process(g->hub);
    else if (!sn_watch_process_fd(g->hub, fd))
        rc = sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT, "fd %d is not the group's", fd);
    for (size_t i = 0; i < entered; i++)
        sn_follow_leave(in[i]);
    free(in);
    group_sync(g);
    g->depth--;
    if (g->freed && g->n == 0 && g->running == 0)
        group_destroy(g);
    return rc;
}

int sentinel_follow_group_on_fd(sentinel_follow_group_t *g, int fd, int revents)
{
    (void)revents; /* every link reads until it would block */
    if (g == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (fd < 0)
        return sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT, "fd %d is not the group's", fd);
    return group_step(g, fd);
}

int sentinel_follow_group_on_timeout(sentinel_follow_group_t *g)
{
    return g == NULL ? SENTINEL_ERR_INVALID_ARGUMENT : group_step(g, -1);
}

int sentinel_follow_group_timeout(sentinel_follow_group_t *g)
{
    return g ? sentinel_watch_timeout(g->hub) : 1000;
}

int sentinel_follow_group_fds(sentinel_follow_group_t *g, sentinel_watch_fd *fds, int max)
{
    return g ? sentinel_watch_fds(g->hub, fds, max) : 0;
}

int sentinel_follow_group_size(const sentinel_follow_group_t *g)
{
    return g ? (int)g->n : 0;
}

static int group_owns(const sentinel_follow_group_t *g, int fd)
{
    sn_fdwant want[GROUP_MAX_FDS];
    int n = sn_watch_wants(g->hub, want, GROUP_MAX_FDS);

    for (int i = 0; i < n && i < GROUP_MAX_FDS; i++)
        if (want[i].fd == fd)
            return 1;
    return 0;
}

/* The member that owns fd now, or NULL (a step may have freed the one that
 * owned it when it fired). */
static sentinel_follow_t *member_of(sentinel_follow_group_t *g, int fd)
{
    sentinel_watch_fd fds[SN_MAX_SENTINELS + 2];

    for (size_t i = 0; i < g->n; i++) {
        int k = sentinel_follow_fds(g->members[i], fds, SN_MAX_SENTINELS + 2);
        for (int j = 0; j < k && j < SN_MAX_SENTINELS + 2; j++)
            if (fds[j].fd == fd)
                return g->members[i];
    }
    return NULL;
}

int sentinel_follow_group_run_once(sentinel_follow_group_t *g, int timeout_ms)
{
    enum { MAXP = GROUP_MAX_FDS + 256 };
    struct pollfd pfd[MAXP];
    sentinel_watch_fd fds[MAXP];
    int n, t, rc;

    if (g == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (g->depth > 0 || g->running > 0)
        return sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "called from a callback of the group");
    for (size_t i = 0; i < g->n; i++)
        if (sn_follow_busy(g->members[i]))
            return sn_err_fail(&g->err, SENTINEL_ERR_INVALID_ARGUMENT,
                               "called from a callback of a member");
    g->running++;
    n = sentinel_follow_group_fds(g, fds, MAXP);
    t = sentinel_follow_group_timeout(g);
    for (size_t i = 0; i < g->n && n < MAXP; i++) {
        int u = sentinel_follow_timeout(g->members[i]);
        n += sentinel_follow_fds(g->members[i], fds + n, MAXP - n);
        if (u < t)
            t = u;
    }
    if (n > MAXP)
        n = MAXP; /* the rest wait for the next call */
    for (int i = 0; i < n; i++) {
        pfd[i].fd = fds[i].fd;
        pfd[i].events = fds[i].events;
        pfd[i].revents = 0;
    }
    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    rc = poll(pfd, (nfds_t)n, t);
    if (rc == -1 && errno != EINTR) {
        rc = sn_err_fail(&g->err, SENTINEL_ERR_SYSTEM, "poll: %s", strerror(errno));
        goto out;
    }
    for (int i = 0; i < n && rc > 0; i++) {
        sentinel_follow_t *f;

        if (pfd[i].revents == 0)
            continue;
        if (group_owns(g, pfd[i].fd))
            group_step(g, pfd[i].fd);
        else if ((f = member_of(g, pfd[i].fd)) != NULL)
            sentinel_follow_on_fd(f, pfd[i].fd, pfd[i].revents);
    }
    if (sentinel_follow_group_timeout(g) == 0)
        group_step(g, -1);
    for (size_t i = 0; i < g->n; i++)
        if (sentinel_follow_timeout(g->members[i]) == 0)
            sentinel_follow_on_timeout(g->members[i]);
    rc = SENTINEL_OK;
out:
    g->running--;
    if (g->freed && g->n == 0)
        group_destroy(g);
    return rc;
}

const char *sentinel_follow_group_errstr(const sentinel_follow_group_t *g)
{
    return g ? sn_err_str(&g->err) : "no group";
}
