/*
 * A host name looked up off the event loop, for the non-blocking link
 * (sn_nblink): a sentinel or a master named by host (a Kubernetes service
 * name) must not stall the loop that serves clients while the DNS server
 * is slow or dead.
 *
 * Why a thread of our own per lookup and not glibc's getaddrinfo_a():
 * getaddrinfo_a needs a completion notice anyway (SIGEV_THREAD starts a
 * thread per lookup too), gai_cancel() cannot stop a lookup that has
 * started, so the result must be freed later by whoever finishes last
 * either way, and it is glibc only. Here the caller and the thread share
 * one job with a reference count: the last of the two to let go frees
 * the answer and closes the eventfd, so a caller that gives up (connect
 * deadline, close) never waits and never leaks, and the thread never
 * writes to a closed or reused descriptor. The eventfd turns readable
 * when the answer is there: the host polls it as the link's handle until
 * the connect starts, so completion wakes the loop and no one spins.
 *
 * The lookup itself is the system's getaddrinfo(), with its own timeouts
 * (resolv.conf); the caller's connect deadline bounds how long the link
 * waits for it. SN_LOOKUPS_MAX bounds the threads stuck at once on a dead
 * DNS server (each caller retries with backoff, and holds one at most).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define SN_LOOKUPS_MAX 64

struct sn_lookup {
    int refs;               /* atomic: the caller and the thread */
    int done;               /* atomic: rc and res are set */
    int efd;                /* readable once done; closed by the last one out */
    int rc;                 /* getaddrinfo()'s code */
    struct addrinfo *res;   /* the answer, until the caller takes it */
    char port[8];
    char host[SENTINEL_HOST_MAX];
};

static int in_flight; /* atomic: threads not yet finished */

static void lookup_unref(sn_lookup *lk)
{
    if (__atomic_sub_fetch(&lk->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (lk->res != NULL)
        freeaddrinfo(lk->res);
    close(lk->efd);
    free(lk);
}

static void *lookup_thread(void *arg)
{
    sn_lookup *lk = arg;
    struct addrinfo hints;
    uint64_t one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    lk->rc = getaddrinfo(lk->host, lk->port, &hints, &lk->res);
    __atomic_store_n(&lk->done, 1, __ATOMIC_RELEASE);
    /* Wakes the loop; the caller may have let go already (the eventfd is
     * still ours until the last reference goes). */
    if (write(lk->efd, &one, sizeof(one)) < 0) {
        /* an eventfd counter cannot overflow at one write */
    }
    __atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
    lookup_unref(lk);
    return NULL;
}

sn_lookup *sn_lookup_start(const char *host, int port, sn_err *e)
{
    sn_lookup *lk;
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    int rc;

    if (strlen(host) >= sizeof(lk->host)) {
        sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %.40s...: name too long",
                   host);
        return NULL;
    }
    if (__atomic_add_fetch(&in_flight, 1, __ATOMIC_RELAXED) > SN_LOOKUPS_MAX) {
        __atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
        sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED,
                   "cannot resolve %s: %d name lookups stuck already (DNS server slow or dead)",
                   host, SN_LOOKUPS_MAX);
        return NULL;
    }
    if ((lk = calloc(1, sizeof(*lk))) == NULL) {
        sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
        goto fail_count;
    }
    if ((lk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
        sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %s: eventfd: %s", host,
                   strerror(errno));
        goto fail_free;
    }
    snprintf(lk->host, sizeof(lk->host), "%s", host);
    snprintf(lk->port, sizeof(lk->port), "%d", port);
    lk->refs = 2;
    /* The thread takes no signal meant for the host's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &attr, lookup_thread, lk);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %s: no lookup thread: %s",
                   host, strerror(rc));
        close(lk->efd);
        goto fail_free;
    }
    return lk;
fail_free:
    free(lk);
fail_count:
    __atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
    return NULL;
}

int sn_lookup_fd(const sn_lookup *lk)
{
    return lk->efd;
}

const char *sn_lookup_host(const sn_lookup *lk)
{
    return lk->host;
}

int sn_lookup_result(sn_lookup *lk, struct addrinfo **res, sn_err *e)
{
    *res = NULL;
    if (!__atomic_load_n(&lk->done, __ATOMIC_ACQUIRE))
        return 0;
    if (lk->rc != 0 || lk->res == NULL)
        return sn_err_set(e, SENTINEL_ERR_HOST_UNRESOLVED, "cannot resolve %s: %s", lk->host,
                          lk->rc ? gai_strerror(lk->rc) : "no address");
    *res = lk->res;
    lk->res = NULL;
    return 1;
}

void sn_lookup_drop(sn_lookup *lk)
{
    if (lk != NULL)
        lookup_unref(lk);
}
