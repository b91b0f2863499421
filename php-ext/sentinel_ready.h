/*
 * Readiness of the workers' follower sockets without a system call per
 * request. A worker drives its follower at every call (sentinel_follow.c);
 * asking the kernel each time whether a socket has data, one poll(), was the
 * largest single cost of a resolution in steady state. Instead one thread
 * per process sleeps in poll() on every follower's sockets and raises the
 * follower's flag the moment one becomes ready (data, a connect finished, a
 * hang-up); a call runs the follower when its flag is up or its timer is
 * due, exactly when the poll() would have found work. The thread touches
 * nothing but its descriptor table and the flags: no PHP, no library state.
 */
#ifndef SENTINEL_READY_H
#define SENTINEL_READY_H

#include <stdbool.h>
#include <stdint.h>

#include "sentinel/sentinel.h"

/* A slot for one follower, or -1 (no thread could be started, or every
 * slot is taken): then the caller polls at every call, as before. */
int sn_php_ready_attach(const void *owner);
/* Frees slot if owner still holds it (a parent's slots are gone after fork). */
void sn_php_ready_detach(int slot, const void *owner);

/* Whether a socket of slot's follower became ready since the last arm; the
 * flag is lowered (run the follower, then arm again). */
bool sn_php_ready_take(int slot);

/* After the follower ran: watch these descriptors (sentinel_follow_fds())
 * until one is ready. false when there are too many to watch: the caller
 * runs the follower at every call then. */
bool sn_php_ready_arm(int slot, const sentinel_watch_fd *fds, int n);

/* Stop and join the thread (MSHUTDOWN, before the extension is unloaded). */
void sn_php_ready_shutdown(void);

#endif
