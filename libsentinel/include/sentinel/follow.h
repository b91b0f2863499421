/*
 * libsentinel: the failover follower.
 *
 * A follower is what a writer needs to lose nothing in a failover: it holds
 * a watcher (one subscription per sentinel plus a poller, see sentinel.h),
 * stops writing at the first failover event about the master it follows,
 * probes the replica Sentinel announces with ROLE (AUTH with the data
 * credentials first), resumes on it as soon as it answers "master", carries
 * on with the old master after -failover-abort-*, and falls back to what the
 * sentinels answer to polling when events are missing.
 *
 * States (sentinel_follow_state):
 *
 *   RESOLVING --ROLE master--> FOLLOWING --first failover event--> PAUSED
 *       ^                        ^   |                               |
 *       |                        |   +--switch seen, no start------+ | candidate
 *       |                        |                                 v v
 *       +--paused too long-------|------------------------------ PROBING
 *                                +--candidate answers ROLE master---+
 *
 *   -failover-abort-* in PAUSED / PROBING: PROBING the old master.
 *   sentinel_follow_recheck() (the host saw an error): FOLLOWING -> RESOLVING,
 *   asking the same master again.
 *   sentinel_follow_verify() (the host's master connection ended): FOLLOWING
 *   stays while the master still answers ROLE master, else -> RESOLVING.
 *   PAUSED / PROBING longer than SENTINEL_FOLLOW_PAUSE_MAX_MS (no candidate
 *   answered master, no abort): RESOLVING, fence kept: polling decides.
 *
 * The epoch: a counter that moves exactly once per failover of the master
 * being followed, at its first event (+try-failover, +selected-slave, a
 * +switch-master or a polled answer naming another master, whichever comes
 * first), or, when no event was seen at all, when the follower adopts a
 * different master. Writers fence on it: remember the epoch when you open a
 * connection to the master, and before each write check that the state is
 * FOLLOWING and the epoch has not moved (sentinel_follow_writable()). A
 * write whose acknowledgement arrives after the epoch moved may have gone to
 * a master being demoted: re-apply it on the new master if it is idempotent.
 *
 * The fence: the master a failover started from is not followed again from
 * a polled answer for the fence time (default 60 s), because sentinels keep
 * naming it for about a second after the promotion and it keeps answering
 * ROLE master until Sentinel demotes it. A +switch-master event naming it,
 * or an abort, lifts the fence.
 *
 * Driving it. The follower never blocks: a host name is looked up on a
 * thread of the library's, and until its answer the fd handed out for that
 * connection is the lookup's (readable once it is done). Three ways:
 *
 *  1. Socket callback (epoll hosts, like curl_multi's CURLMOPT_SOCKETFUNCTION):
 *     sentinel_follow_set_socket_cb() is told each fd to add, modify or remove
 *     with the events wanted (POLLIN / POLLOUT values, which equal EPOLLIN /
 *     EPOLLOUT on Linux). When an fd fires, call
 *     sentinel_follow_on_fd(f, fd, revents); when sentinel_follow_timeout()
 *     ms have passed, call sentinel_follow_on_timeout(f). Ask for the timeout
 *     again after every call into the follower. Start with one
 *     sentinel_follow_on_timeout() (the first timeout is 0).
 *     A REMOVE may arrive after the library closed the fd (never after a
 *     host callback could have reused the number): ignore EBADF / ENOENT from
 *     EPOLL_CTL_DEL. A closed fd leaves an epoll set by itself.
 *     Register level-triggered (a link reads at most 1 MiB per call).
 *
 *       static void sock(sentinel_follow_t *f, int fd, sentinel_follow_fd_op op,
 *                        int events, void *ud)
 *       {
 *           struct epoll_event ev = {.events = events, .data.fd = fd};
 *           epoll_ctl(*(int *)ud, op == SENTINEL_FOLLOW_FD_ADD ? EPOLL_CTL_ADD :
 *                     op == SENTINEL_FOLLOW_FD_MODIFY ? EPOLL_CTL_MOD : EPOLL_CTL_DEL,
 *                     fd, &ev);
 *       }
 *       ...
 *       sentinel_follow_set_socket_cb(f, sock, &epfd);
 *       sentinel_follow_on_timeout(f);
 *       for (;;) {
 *           int n = epoll_wait(epfd, evs, 64, sentinel_follow_timeout(f));
 *           for (int i = 0; i < n; i++)      (your own fds are dispatched here too)
 *               sentinel_follow_on_fd(f, evs[i].data.fd, evs[i].events);
 *           if (sentinel_follow_timeout(f) == 0)
 *               sentinel_follow_on_timeout(f);
 *       }
 *
 *  2. Pull (poll() hosts, a PHP request): sentinel_follow_fds() lists the fds
 *     and events; poll them, then sentinel_follow_on_fd() for each that fired
 *     and sentinel_follow_on_timeout() when the timeout passed.
 *  3. Blocking: sentinel_follow_run_once(f, timeout_ms) does one poll() of
 *     its own and the work. run_once(f, 0) is a cheap non-blocking drain:
 *     one poll() syscall when nothing happened.
 *
 * Callbacks and re-entrancy. The state and socket callbacks (and the event
 * callback) run inside sentinel_follow_on_fd(), _on_timeout(), _run_once(),
 * _recheck() and _verify(). Inside a callback:
 *  - allowed: every getter (state, epoch, master, candidate, writable,
 *    errstr, stats, fds, timeout) and sentinel_follow_free();
 *  - deferred: sentinel_follow_recheck() and sentinel_follow_verify()
 *    return SENTINEL_OK and run when the
 *    current step is done, before the outermost call returns (its own
 *    transitions are reported then);
 *  - refused: on_fd, on_timeout, run_once and assume_master return
 *    SENTINEL_ERR_INVALID_ARGUMENT and do nothing (the follower is mid-step;
 *    sentinel_follow_errstr() says so);
 *  - sentinel_follow_free() inside a callback is deferred: no further
 *    callback of any kind is made, and the follower is freed when the
 *    outermost call returns (it returns SENTINEL_OK). Do not touch f after
 *    freeing it.
 * sentinel_follow_free() makes no callbacks; list the fds with
 * sentinel_follow_fds() first if your loop keeps per-fd records.
 *
 * Errors: the calls that can fail return a sentinel_code (SENTINEL_OK on
 * success), detail in sentinel_follow_errstr(); see sentinel.h.
 *
 * Thread safety: one follower must not be used from two threads at once.
 */
#ifndef SENTINEL_FOLLOW_H
#define SENTINEL_FOLLOW_H

#include <stdint.h>

#include "sentinel/sentinel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sentinel_follow sentinel_follow_t;

/* Values are fixed and never reused; new states go at the end. */
typedef enum sentinel_follow_state {
    SENTINEL_FOLLOW_RESOLVING = 1, /* no usable master: waiting for the sentinels to
                                      name one and for it to answer ROLE master */
    SENTINEL_FOLLOW_FOLLOWING = 2, /* the master answered ROLE master: write to it */
    SENTINEL_FOLLOW_PAUSED = 3,    /* a failover of the master started and no
                                      candidate is known yet: do not write */
    SENTINEL_FOLLOW_PROBING = 4    /* a failover is under way: asking the candidate
                                      (or, after an abort, the old master) for ROLE
                                      until it says master: do not write */
} sentinel_follow_state;

/* "resolving", "following", "paused", "probing"; never NULL. */
SENTINEL_EXPORT const char *sentinel_follow_state_name(int state);

/* One transition, valid during the callback only. Frozen, as sentinel_event
 * (no size field, embeds the frozen sentinel_addr): no field is added within
 * a SOVERSION; tests/abi/check.sh fails if the layout changes. */
typedef struct sentinel_follow_transition {
    sentinel_follow_state old_state;
    sentinel_follow_state new_state;
    uint64_t epoch;       /* after the transition */
    sentinel_addr master; /* FOLLOWING: the verified master (verified_at_ms set);
                             otherwise the master last followed (host "" if none),
                             i.e. the one being failed over */
    sentinel_addr candidate; /* PROBING: the address asked for ROLE; else host "" */
    const char *reason;   /* e.g. "+selected-slave", "candidate answered ROLE master" */
} sentinel_follow_transition;

typedef void (*sentinel_follow_state_cb)(sentinel_follow_t *f,
                                         const sentinel_follow_transition *t, void *userdata);

typedef enum sentinel_follow_fd_op {
    SENTINEL_FOLLOW_FD_ADD = 1,    /* start watching fd for events */
    SENTINEL_FOLLOW_FD_MODIFY = 2, /* fd stays, the events wanted change */
    SENTINEL_FOLLOW_FD_REMOVE = 3  /* stop watching fd (events is 0) */
} sentinel_follow_fd_op;

typedef void (*sentinel_follow_socket_cb)(sentinel_follow_t *f, int fd, sentinel_follow_fd_op op,
                                          int events, void *userdata);

/*
 * Create a follower for s's master name. Copies the sentinel list,
 * credentials (sentinel and data), timeouts (connect and command time bound
 * each ROLE probe) and address map of s; s may be freed afterwards. Does not
 * connect yet. NULL on failure with *code (may be NULL):
 * SENTINEL_ERR_INVALID_ARGUMENT (s NULL or without a sentinel) or
 * SENTINEL_ERR_NO_MEMORY.
 */
SENTINEL_EXPORT sentinel_follow_t *sentinel_follow_new(const sentinel_t *s, int *code);
/* Closes every connection; no callback is made. Accepts NULL. Inside a
 * callback: deferred, see the re-entrancy rules above. */
SENTINEL_EXPORT void sentinel_follow_free(sentinel_follow_t *f);

/* Callbacks (cb NULL: none). Set them before the first call that does work. */
SENTINEL_EXPORT void sentinel_follow_set_state_cb(sentinel_follow_t *f, sentinel_follow_state_cb cb,
                                                  void *userdata);
SENTINEL_EXPORT void sentinel_follow_set_socket_cb(sentinel_follow_t *f,
                                                   sentinel_follow_socket_cb cb, void *userdata);
/* Every event the watcher reports (for logs and counters; the follower has
 * acted on it already). */
SENTINEL_EXPORT void sentinel_follow_set_event_cb(sentinel_follow_t *f, sentinel_event_cb cb,
                                                  void *userdata);

typedef enum sentinel_follow_timing {
    SENTINEL_FOLLOW_POLL_MS = 1,      /* sentinel polling backstop, default 1000 */
    SENTINEL_FOLLOW_PROBE_EVERY_MS = 2, /* between ROLE probes of a replica, default 10 */
    SENTINEL_FOLLOW_PAUSE_MAX_MS = 3, /* PAUSED / PROBING longer than this: RESOLVING
                                         (trust the sentinels again), default 15000 */
    SENTINEL_FOLLOW_FENCE_MS = 4      /* see "The fence", default 60000 */
} sentinel_follow_timing;
/* 0 restores the default; SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT
 * for a bad value. */
SENTINEL_EXPORT int sentinel_follow_set_timing(sentinel_follow_t *f, sentinel_follow_timing which,
                                               int ms);

/* ---- driving ------------------------------------------------------------ */

/* fd fired with revents (POLLIN, POLLOUT, POLLERR, POLLHUP values): do the
 * work it allows. SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT inside a
 * callback or for an fd it does not own. */
SENTINEL_EXPORT int sentinel_follow_on_fd(sentinel_follow_t *f, int fd, int revents);
/* The timeout passed: timers, reconnects, polls, probe deadlines.
 * SENTINEL_OK or SENTINEL_ERR_INVALID_ARGUMENT (inside a callback). */
SENTINEL_EXPORT int sentinel_follow_on_timeout(sentinel_follow_t *f);
/* Milliseconds until sentinel_follow_on_timeout() is due (0: now). */
SENTINEL_EXPORT int sentinel_follow_timeout(sentinel_follow_t *f);
/* Fill up to max descriptors to poll (struct from sentinel.h); returns how
 * many there are (call again with a bigger array when it exceeds max). */
SENTINEL_EXPORT int sentinel_follow_fds(sentinel_follow_t *f, sentinel_watch_fd *fds, int max);
/* Blocking convenience: poll() the fds for up to timeout_ms (capped by the
 * follower's own timeout; 0 = do not wait, -1 = the follower's timeout),
 * then on_fd for each that fired and on_timeout when due. SENTINEL_OK,
 * SENTINEL_ERR_INVALID_ARGUMENT (inside a callback) or SENTINEL_ERR_SYSTEM
 * (poll() failed). */
SENTINEL_EXPORT int sentinel_follow_run_once(sentinel_follow_t *f, int timeout_ms);

/*
 * The host saw a connection error or -READONLY from the master it writes
 * to: ask the master for ROLE again now. FOLLOWING becomes RESOLVING until
 * the master (or whatever the sentinels name) answers ROLE master; a
 * failover event in the meantime pauses as usual. No-op in other states.
 * Inside a callback it is deferred to the end of the current step.
 * SENTINEL_OK (SENTINEL_ERR_INVALID_ARGUMENT for NULL).
 */
SENTINEL_EXPORT int sentinel_follow_recheck(sentinel_follow_t *f);

/*
 * The host's connection to the master ended in a way that may be harmless
 * (the master closes connections on QUIT and on its idle timeout, too):
 * ask the master for ROLE once more WITHOUT stopping writes. The follower
 * stays FOLLOWING while it answers ROLE master (no callback); when it does
 * not answer, refuses the data credentials or answers as a replica,
 * FOLLOWING -> RESOLVING ("master failed its check") exactly as after
 * sentinel_follow_recheck(). No-op outside FOLLOWING or while a check is
 * under way; inside a callback it is deferred to the end of the step.
 * SENTINEL_OK (SENTINEL_ERR_INVALID_ARGUMENT for NULL).
 */
SENTINEL_EXPORT int sentinel_follow_verify(sentinel_follow_t *f);

/*
 * The host verified addr as the master itself (e.g. sentinel_resolve()
 * checked ROLE): while RESOLVING, with no failover under way and addr not
 * fenced, follow it now instead of waiting for the first poll and probe,
 * so a failover that starts before them still pauses (a PHP worker
 * drives its follower only at requests). Like any adoption of another
 * master, it moves the epoch when a different master was followed before.
 * SENTINEL_OK with *adopted (may be NULL) 1 when adopted (FOLLOWING, the
 * state callback is told) or 0 when ignored (another state, a failover
 * under way, addr fenced); SENTINEL_ERR_INVALID_ARGUMENT for bad arguments
 * or inside a callback.
 */
SENTINEL_EXPORT int sentinel_follow_assume_master(sentinel_follow_t *f, const sentinel_addr *addr,
                                                  int *adopted);

/* ---- reading ------------------------------------------------------------ */

SENTINEL_EXPORT sentinel_follow_state sentinel_follow_get_state(const sentinel_follow_t *f);
SENTINEL_EXPORT uint64_t sentinel_follow_epoch(const sentinel_follow_t *f);
/* SENTINEL_OK and *out = the verified master while FOLLOWING,
 * SENTINEL_NO_ENTRY in the other states, SENTINEL_ERR_INVALID_ARGUMENT. */
SENTINEL_EXPORT int sentinel_follow_master(const sentinel_follow_t *f, sentinel_addr *out);
/* 1 when a write that was prepared under `epoch` may go out now: FOLLOWING
 * and the epoch has not moved. */
SENTINEL_EXPORT int sentinel_follow_writable(const sentinel_follow_t *f, uint64_t epoch);
/*
 * Why there is no usable master (SENTINEL_OK while FOLLOWING, or before the
 * first answer): SENTINEL_ERR_UNKNOWN_MASTER (sentinels answer, none knows
 * the name), SENTINEL_ERR_NO_SENTINEL_REACHABLE, SENTINEL_ERR_AUTH (the
 * candidate refused the data credentials, or a round of sentinels refused
 * the sentinel credentials), SENTINEL_ERR_NOT_MASTER (it
 * answers as a replica), SENTINEL_ERR_TIMEOUT, SENTINEL_ERR_MASTER_UNREACHABLE.
 * A writer that waits for FOLLOWING reports this after its own deadline.
 */
SENTINEL_EXPORT int sentinel_follow_errcode(const sentinel_follow_t *f);
/* The detail of the last problem, e.g. "10.0.0.2:6380: AUTH refused: ...",
 * or a re-entrancy refusal; "" if none. When polling names no master it
 * quotes the last poll's failure: "no sentinel answered (last poll:
 * 10.0.0.1:26379: connect: Connection refused)", or the sentinels' own
 * refusal of the sentinel credentials ("...: AUTH refused: WRONGPASS ..."). */
SENTINEL_EXPORT const char *sentinel_follow_errstr(const sentinel_follow_t *f);

/* Set size = sizeof(sentinel_follow_stats) before the call; fields may be
 * added at the end in later versions. SENTINEL_OK, or
 * SENTINEL_ERR_INVALID_ARGUMENT (NULL, size 0). */
typedef struct sentinel_follow_stats {
    size_t size;
    uint64_t failovers; /* times the epoch moved */
    uint64_t resumes;   /* PAUSED / PROBING -> FOLLOWING */
    uint64_t aborts;    /* -failover-abort-* (or a failover never seen to end) */
    uint64_t probes;    /* ROLE commands sent */
    uint64_t probe_failures; /* probes with no answer (refused, timeout, closed) */
    uint64_t not_master;     /* probes answered by a replica or sentinel */
    uint64_t events;    /* watcher events received */
    uint64_t ignored;   /* failover events ignored (fenced, stale, no master yet) */
} sentinel_follow_stats;
SENTINEL_EXPORT int sentinel_follow_get_stats(const sentinel_follow_t *f,
                                              sentinel_follow_stats *st);

/* ------------------------------------------------------------------------
 * Follower groups: several masters, one subscription and one polling link
 * per sentinel
 *
 * A follower holds one subscription per sentinel plus a polling link. A
 * process that follows several masters under the same sentinels (a proxy
 * or a host daemon for cache, page cache and sessions) would hold one of
 * each per master. A group holds one subscription per sentinel for all its
 * followers: every message a sentinel publishes is handed to each follower
 * of the group, which acts only on those that name its master (as a lone
 * follower does), so a failover of one master never touches another's
 * state, epoch or callbacks. The followers' polls (the backstop when
 * events are lost) go over the group's polling links, at most one per
 * sentinel: each follower still polls for its own master on its own
 * schedule, its queries pipelined with the others' on the link to the
 * sentinel it polls (SENTINEL MASTER <name>, whose reply names the master,
 * then get-master-addr-by-name: a reply that is not the follower's own, as
 * from a sentinel answering twice, closes the link for all; the sentinel
 * user needs +sentinel|master); when that link fails (the sentinel died, froze or
 * refused AUTH) every follower waiting on it moves on to its next
 * sentinel, as with a link of its own. The group's sentinel credentials,
 * timeouts and TLS settings apply to the shared links. Each follower keeps
 * its own ROLE probes (per-master work); link up/down events reach every
 * follower (one added later hears of the changes from then on). So 3
 * masters under 3 sentinels cost each sentinel 2 connections at most (a
 * subscription and a polling link), not 1 + 3.
 *
 *     sentinel_follow_group_t *g = sentinel_follow_group_new(s);
 *     sentinel_follow_t *cache = sentinel_follow_new_in_group(g, s_cache);
 *     sentinel_follow_t *sess = sentinel_follow_new_in_group(g, s_sessions);
 *
 * Driving: the group's descriptors (the subscriptions and polling links)
 * are the group's, not any follower's: register them with
 * sentinel_follow_group_set_socket_cb() (or list them with
 * sentinel_follow_group_fds()), call sentinel_follow_group_on_fd() when
 * one fires and sentinel_follow_group_on_timeout() when
 * sentinel_follow_group_timeout() passed; drive each follower for its own
 * descriptors (its ROLE probe) as usual, and ask every follower for its
 * timeout again after a group call (a polled answer may have given it a
 * candidate to probe now). sentinel_follow_run_once() on a member polls
 * only the member's own descriptors: its probe, not the sentinels (the
 * group asks them); sentinel_follow_group_run_once() drives the group and
 * every member at once.
 *
 * Callbacks: the followers' state and event callbacks run inside the
 * group's calls, with every member of the group inside a call: the
 * re-entrancy rules above apply to each member (its on_fd / on_timeout /
 * run_once are refused, recheck and verify deferred, free deferred), and
 * the group's own on_fd / on_timeout are refused (SENTINEL_ERR_INVALID_ARGUMENT) from any callback of
 * a member or of the group. sentinel_follow_group_free() never frees a
 * group with members: the group goes when its last follower is freed.
 * ------------------------------------------------------------------------ */
typedef struct sentinel_follow_group sentinel_follow_group_t;

typedef void (*sentinel_follow_group_socket_cb)(sentinel_follow_group_t *g, int fd,
                                                sentinel_follow_fd_op op, int events,
                                                void *userdata);

/* A group subscribing to s's sentinels with s's sentinel credentials,
 * timeouts, TLS settings and address map (s's master name is not used; s
 * may be freed afterwards). Sentinels of followers added later (and
 * sentinels they discover) join the group's. Does not connect yet. NULL
 * with *code (may be NULL) SENTINEL_ERR_INVALID_ARGUMENT when s has no
 * sentinel, SENTINEL_ERR_NO_MEMORY on OOM. */
SENTINEL_EXPORT sentinel_follow_group_t *sentinel_follow_group_new(const sentinel_t *s, int *code);
/* Closes the shared links once no follower is left in the group; until
 * then the group stays (its followers still hear events). NULL ok. */
SENTINEL_EXPORT void sentinel_follow_group_free(sentinel_follow_group_t *g);
/* A follower for s's master name (as sentinel_follow_new()) that takes its
 * events from the group's links. NULL with *code (may be NULL):
 * SENTINEL_ERR_NO_MEMORY, or SENTINEL_ERR_INVALID_ARGUMENT when s has no
 * sentinel or inside a callback of the group. */
SENTINEL_EXPORT sentinel_follow_t *sentinel_follow_new_in_group(sentinel_follow_group_t *g,
                                                                const sentinel_t *s, int *code);
SENTINEL_EXPORT void sentinel_follow_group_set_socket_cb(sentinel_follow_group_t *g,
                                                         sentinel_follow_group_socket_cb cb,
                                                         void *userdata);
/* As the follower's: SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT inside
 * a callback or for an fd not the group's (SENTINEL_ERR_NO_MEMORY on OOM). */
SENTINEL_EXPORT int sentinel_follow_group_on_fd(sentinel_follow_group_t *g, int fd, int revents);
SENTINEL_EXPORT int sentinel_follow_group_on_timeout(sentinel_follow_group_t *g);
SENTINEL_EXPORT int sentinel_follow_group_timeout(sentinel_follow_group_t *g);
SENTINEL_EXPORT int sentinel_follow_group_fds(sentinel_follow_group_t *g, sentinel_watch_fd *fds,
                                              int max);
/* Blocking convenience, as sentinel_follow_run_once() for the group and
 * all its followers: poll() the group's and the followers' descriptors for
 * up to timeout_ms (capped by the earliest of their timeouts; 0 = do not
 * wait, -1 = that timeout), then the work for each that fired and the
 * timers that are due. SENTINEL_OK, SENTINEL_ERR_INVALID_ARGUMENT (NULL,
 * or inside a callback of the group or of a member) or SENTINEL_ERR_SYSTEM
 * (poll() failed). */
SENTINEL_EXPORT int sentinel_follow_group_run_once(sentinel_follow_group_t *g, int timeout_ms);
/* Followers in the group now. */
SENTINEL_EXPORT int sentinel_follow_group_size(const sentinel_follow_group_t *g);
/* The detail of the group's last failed call ("" if none failed; a NULL
 * group keeps nothing): a refusal inside a callback, an fd not the
 * group's, a member that could not be made. Valid until the next call on g. */
SENTINEL_EXPORT const char *sentinel_follow_group_errstr(const sentinel_follow_group_t *g);

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_FOLLOW_H */
