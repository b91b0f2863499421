/*
 * Failover awareness without a sentinel round trip per request
 * (sentinel_follow.c): libsentinel's follower per registry entry in worker
 * mode, or the host follower's heartbeat and flag in the shared cache in
 * host mode; writes stop at the first failover event in every worker of
 * the host until the replica Sentinel selected answers ROLE master.
 */
#ifndef SENTINEL_FOLLOW_H_PHP
#define SENTINEL_FOLLOW_H_PHP

#include "sentinel_registry.h"

/* Chooses e's mode for this call (host follower alive: "host"; else a
 * follower of this worker's own, or none) and drives the worker's follower
 * once without blocking when one of its sockets is ready or its timer due
 * (sentinel_ready.h). */
void sn_php_follow_step(sn_php_entry *e, const sn_php_settings *cfg);

/* sentinel_follow_run_once(e->f, timeout_ms), then hands its sockets and
 * timer to the readiness thread. */
void sn_php_follow_run(sn_php_entry *e, int timeout_ms);

/* This worker verified a as the master (a resolution): a follower still
 * resolving follows it at once (sentinel_follow_assume_master()). */
void sn_php_follow_verified(sn_php_entry *e, const sentinel_addr *a);

/* ROLE probes the worker's follower sent. */
zend_ulong sn_php_follow_probes(const sn_php_entry *e);

/* The worker's follower is paused or probing (a failover under way). */
bool sn_php_follow_paused(const sn_php_entry *e);

/* The host saw an error from the master: the follower asks it for ROLE. */
void sn_php_follow_recheck(sn_php_entry *e);

/* Closes the worker's follower and forgets the failover state (fork). */
void sn_php_follow_release(sn_php_entry *e);

/*
 * A failover of the master is under way (heard by the follower, or flagged
 * in the shared cache by another process). Waits up to cfg->failover_wait_ms
 * for the new master: resumes as soon as the follower verified it (ROLE
 * master) or another process published it. SENTINEL_OK with *out set;
 * -1 when the failover is over without a new master (aborted): resolve as
 * usual; SENTINEL_ERR_NOT_MASTER with err filled (failover_wait_ms = 0
 * fails at once).
 */
int sn_php_failover_wait(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                         char *err, size_t errlen);

/*
 * The worker's follower is asking its master (or what the sentinels name)
 * for ROLE again after report_error() (sentinel_follow_recheck()), and
 * has not reached another state since: wait for it,
 * driving it, up to cfg->total_ms, instead of a blocking resolution that
 * would not hear a failover start meanwhile (a frozen master held PHP a
 * second past the promotion that way). SENTINEL_OK with *out set; -2 when a
 * failover started (wait for it: sn_php_failover_wait()); -1 when the
 * follower is not resolving a master it followed (resolve as usual); an
 * error code with err filled when nothing answered in time.
 */
int sn_php_follow_wait_master(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                              char *err, size_t errlen);

/* A verified new master served without asking anyone, or 0; *fresh is
 * true for the first answer after the follower resumed on it. */
int sn_php_pinned(sn_php_entry *e, sentinel_addr *out, bool *fresh);

/* Forget e's in-process failover conclusions about host:port (NULL: any). */
void sn_php_failover_forget(sn_php_entry *e, const char *host, int port);

/* One line for phpinfo(): the mode of the handle used last, or whether a
 * host follower beats in the file the INI settings name. */
const char *sn_php_follow_mode_summary(void);

#endif
