/*
 * The host's shared cache as the extension uses it (sentinel_shm.c): the
 * file, its "failover in progress" flag, the host-wide failover epoch and
 * the heartbeat of a host follower.
 */
#ifndef SENTINEL_SHM_H
#define SENTINEL_SHM_H

#include "sentinel_registry.h"

#define SN_PHP_LOCK_MS 20 /* wait for the shared cache's writer lock */

/* A host follower whose last heartbeat is at most this old is relied on:
 * the worker opens no sentinel connection of its own (it beats every
 * second; three missed beats and workers follow by themselves again). The
 * library's threshold, so C readers (sentinel_resolve_shared) agree. */
#define SN_PHP_HEARTBEAT_FRESH_MS SENTINEL_SHM_HEARTBEAT_FRESH_MS

/* The shared cache file of e, opened on first use; NULL when unusable:
 * then the reason is in e->shm_status, logged once through the SAPI log
 * (never a PHP warning), and opening is tried again after a while. */
sentinel_shm_t *sn_php_shared_cache(sn_php_entry *e);

/* For phpinfo() before this process used the shared cache: whether the
 * file the INI settings name is usable, without creating it. */
void sn_php_shared_cache_probe(char *status, size_t len);

/* 1 if the shared entry is flagged "failover in progress" (its address in
 * *flagged), 0 if not, -1 when it cannot be read. */
int sn_php_shared_failover(sn_php_entry *e, sentinel_addr *flagged);

/* Count the first failover event about master a (NULL: a master we cannot
 * name): once per failover, in the host's file when there is one (so every
 * process of the host agrees, whoever heard it first) and in this process. */
void sn_php_count_failover(sn_php_entry *e, const sentinel_addr *a);

/* The failover epoch of e's master as this process knows it: the shared
 * cache's when e has one (after counting a failover flagged there), else
 * this process's own count. Memory reads only, plus one lock when a flagged
 * failover is counted for the first time. */
uint64_t sn_php_epoch(sn_php_entry *e);
/* sn_php_epoch() that also says, from the same read of the shared entry,
 * what sn_php_shared_failover() would (in *failover, when not NULL; -1
 * without a shared cache): one read per call on the resolve path. */
uint64_t sn_php_epoch_flagged(sn_php_entry *e, sentinel_addr *flagged, int *failover);

/* A host follower keeps e's shared cache current (fresh heartbeat); sets
 * e->heartbeat_age_ms (-1: none ever). */
bool sn_php_host_follower_alive(sn_php_entry *e);

/* For phpinfo() before any call: the heartbeat age of the file the INI
 * settings name (sentinel_shm_heartbeat_age_ms()), -1 none or no file. */
int64_t sn_php_heartbeat_probe(void);

/* Wall clock ms (what the shared cache's expiry times use). */
int64_t sn_php_wall_ms(void);

bool sn_php_same_addr(const sentinel_addr *a, const char *host, int port);

#endif
