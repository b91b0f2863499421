/*
 * Failover awareness without a sentinel round trip per request: a
 * persistent per-worker watcher, drained without blocking before each
 * resolution, marks the master "do not write" from the first failover event
 * (in this worker and, through the shared cache, in every worker of the
 * host) until the replica that sentinel selected answers ROLE master.
 */
#ifndef SENTINEL_FAILOVER_H
#define SENTINEL_FAILOVER_H

#include "sentinel_registry.h"

/* Starts e's watcher if cfg wants one and it is not running yet. */
void sn_php_watch_ensure(sn_php_entry *e, const sn_php_settings *cfg);

/* Processes whatever the sentinels sent since the last call; never blocks. */
void sn_php_watch_drain(sn_php_entry *e);

/* The shared cache file of e, opened on first use; NULL when unusable:
 * then the reason is in e->shm_status, logged once through the SAPI log
 * (never a PHP warning), and opening is tried again after a while. */
sentinel_shm_t *sn_php_shared_cache(sn_php_entry *e);

/* For phpinfo() before this process used the shared cache: whether the
 * file the INI settings name is usable, without creating it. */
void sn_php_shared_cache_probe(char *status, size_t len);

/* The failover epoch of e's master as this process knows it: the shared
 * cache's when e has one (after counting a failover flagged there), else
 * this process's own count. Memory reads only, plus one lock when a flagged
 * failover is counted for the first time. */
uint64_t sn_php_epoch(sn_php_entry *e);

/* 1 if the shared entry is flagged "failover in progress" (its address in
 * *flagged), 0 if not, -1 when it cannot be read. */
int sn_php_shared_failover(sn_php_entry *e, sentinel_addr *flagged);

/*
 * A failover of the master is under way (heard by the watcher, or flagged in
 * the shared cache by another worker). Waits up to cfg->failover_wait_ms for
 * the new master: resumes as soon as the selected replica answers ROLE master
 * (publishing it to the shared cache) or another worker publishes it.
 * Returns SENTINEL_OK with *out set, or SENTINEL_ERR_NOT_MASTER with err
 * filled (failover_wait_ms = 0 fails at once).
 */
int sn_php_failover_wait(sn_php_entry *e, const sn_php_settings *cfg, sentinel_addr *out,
                         char *err, size_t errlen);

/* A verified new master served without asking anyone, or 0. */
int sn_php_pinned(sn_php_entry *e, sentinel_addr *out);

/* Forget e's in-process failover conclusions about host:port (NULL: any). */
void sn_php_failover_forget(sn_php_entry *e, const char *host, int port);

#endif
