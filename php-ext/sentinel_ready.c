/*
 * The readiness thread (see sentinel_ready.h).
 *
 *   slots      one per follower: its descriptors (set by the request
 *              thread after each run of the follower) and an atomic flag
 *   the thread polls the descriptors of every slot whose flag is down, plus
 *              the read end of a pipe; a ready descriptor raises its slot's
 *              flag and leaves the poll set until the slot is armed again
 *              (so it never spins on data nobody reads yet); a byte on the
 *              pipe makes it rebuild the set (a slot armed, detached, stop)
 *
 * No wakeup is lost: a caller lowers the flag before running the follower
 * and arms after, which wakes the thread to rebuild its set; data that came
 * in between is still unread then, so the new poll() returns at once.
 * Signals are blocked in the thread: FPM's and pcntl's go to the request
 * thread as before. After fork() the child has no thread: the state is reset
 * (pthread_atfork) and the child's followers, opened anew, start one.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "sentinel_ready.h"

#define SN_READY_SLOTS 64   /* followers per process (the registry keeps 32) */
#define SN_READY_FDS 16     /* descriptors per follower: its sentinel links and a probe */
#define SN_READY_STACK (64 * 1024)

typedef struct ready_slot {
    bool used;
    const void *owner; /* the follower's entry: a stale detach frees nothing else */
    int nfds;
    struct pollfd fds[SN_READY_FDS];
    atomic_int flag;
} ready_slot;

static struct {
    pthread_mutex_t mu;
    pthread_t thread;
    bool running;
    bool stop;
    bool atfork_set;
    int wake[2]; /* the pipe; -1 when closed */
    ready_slot slot[SN_READY_SLOTS];
} R = {PTHREAD_MUTEX_INITIALIZER, 0, false, false, false, {-1, -1}, {{0}}};

static void wake_thread(void)
{
    char b = 1;
    ssize_t rc;

    do {
        rc = write(R.wake[1], &b, 1);
    } while (rc == -1 && errno == EINTR);
    /* EAGAIN: the pipe is full, so the thread will wake anyway. */
}

static void *ready_main(void *arg)
{
    struct pollfd pfd[1 + SN_READY_SLOTS * SN_READY_FDS];
    int owner[1 + SN_READY_SLOTS * SN_READY_FDS];

    (void)arg;
    for (;;) {
        int n = 0;

        pthread_mutex_lock(&R.mu);
        if (R.stop) {
            pthread_mutex_unlock(&R.mu);
            break;
        }
        pfd[n].fd = R.wake[0];
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        owner[n++] = -1;
        for (int s = 0; s < SN_READY_SLOTS; s++) {
            ready_slot *sl = &R.slot[s];
            if (!sl->used || atomic_load_explicit(&sl->flag, memory_order_relaxed))
                continue;
            for (int i = 0; i < sl->nfds; i++) {
                pfd[n] = sl->fds[i];
                pfd[n].revents = 0;
                owner[n++] = s;
            }
        }
        pthread_mutex_unlock(&R.mu);
        if (poll(pfd, (nfds_t)n, -1) == -1)
            continue; /* EINTR (signals are blocked here, but still) */
        if (pfd[0].revents != 0) {
            char buf[64];
            while (read(R.wake[0], buf, sizeof(buf)) > 0) {
            }
        }
        for (int i = 1; i < n; i++)
            if (pfd[i].revents != 0)
                atomic_store_explicit(&R.slot[owner[i]].flag, 1, memory_order_release);
    }
    return NULL;
}

/* In the child after fork(): no thread, and the pipe is the parent's. */
static void on_fork_child(void)
{
    pthread_mutex_init(&R.mu, NULL);
    if (R.wake[0] != -1) {
        close(R.wake[0]);
        close(R.wake[1]);
    }
    R.wake[0] = R.wake[1] = -1;
    R.running = R.stop = false;
    for (int s = 0; s < SN_READY_SLOTS; s++)
        R.slot[s].used = false;
}

/* With R.mu held. */
static bool start_thread(void)
{
    pthread_attr_t attr;
    sigset_t all, old;
    int rc;

    if (R.running)
        return true;
    if (!R.atfork_set) {
        /* Unregistered by the C library when the extension is unloaded. */
        if (pthread_atfork(NULL, NULL, on_fork_child) != 0)
            return false;
        R.atfork_set = true;
    }
    if (pipe2(R.wake, O_NONBLOCK | O_CLOEXEC) == -1) {
        R.wake[0] = R.wake[1] = -1;
        return false;
    }
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SN_READY_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    R.stop = false;
    rc = pthread_create(&R.thread, &attr, ready_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        goto fail;
    R.running = true;
    return true;
fail:
    close(R.wake[0]);
    close(R.wake[1]);
    R.wake[0] = R.wake[1] = -1;
    return false;
}

int sn_php_ready_attach(const void *owner)
{
    int slot = -1;

    pthread_mutex_lock(&R.mu);
    if (start_thread()) {
        for (int s = 0; s < SN_READY_SLOTS; s++) {
            if (!R.slot[s].used) {
                R.slot[s].used = true;
                R.slot[s].owner = owner;
                R.slot[s].nfds = 0;
                /* Up: the first call runs the follower and arms the slot. */
                atomic_store_explicit(&R.slot[s].flag, 1, memory_order_relaxed);
                slot = s;
                break;
            }
        }
    }
    pthread_mutex_unlock(&R.mu);
    return slot;
}

void sn_php_ready_detach(int slot, const void *owner)
{
    if (slot < 0 || slot >= SN_READY_SLOTS)
        return;
    pthread_mutex_lock(&R.mu);
    if (!R.slot[slot].used || R.slot[slot].owner != owner) {
        /* Already freed (a parent's slot, reset in this child after fork). */
        pthread_mutex_unlock(&R.mu);
        return;
    }
    R.slot[slot].used = false;
    R.slot[slot].nfds = 0;
    /* Its descriptors are about to close: out of the poll set first. */
    if (R.running)
        wake_thread();
    pthread_mutex_unlock(&R.mu);
}

bool sn_php_ready_take(int slot)
{
    atomic_int *flag = &R.slot[slot].flag;

    if (!atomic_load_explicit(flag, memory_order_relaxed))
        return false; /* the common case: one plain load */
    return atomic_exchange_explicit(flag, 0, memory_order_acquire) != 0;
}

bool sn_php_ready_arm(int slot, const sentinel_watch_fd *fds, int n)
{
    ready_slot *sl = &R.slot[slot];

    if (n > SN_READY_FDS)
        return false;
    pthread_mutex_lock(&R.mu);
    sl->nfds = n;
    for (int i = 0; i < n; i++) {
        sl->fds[i].fd = fds[i].fd;
        sl->fds[i].events = fds[i].events;
        sl->fds[i].revents = 0;
    }
    if (R.running)
        wake_thread();
    pthread_mutex_unlock(&R.mu);
    return true;
}

void sn_php_ready_shutdown(void)
{
    pthread_mutex_lock(&R.mu);
    if (!R.running) {
        pthread_mutex_unlock(&R.mu);
        return;
    }
    R.stop = true;
    wake_thread();
    pthread_mutex_unlock(&R.mu);
    pthread_join(R.thread, NULL);
    pthread_mutex_lock(&R.mu);
    R.running = false;
    close(R.wake[0]);
    close(R.wake[1]);
    R.wake[0] = R.wake[1] = -1;
    pthread_mutex_unlock(&R.mu);
}
