/*
 * libsentinel shared cache: one resolved master per (sentinel set, master
 * name) in a small memory-mapped file, shared by every process of a host
 * (PHP-FPM workers, the proxy's watch mode, scripts).
 *
 * Readers are lock-free (a sequence lock) and never block; one writer at a
 * time holds an flock() on the file, which the kernel releases if the writer
 * dies, and a writer that died mid-update leaves an odd sequence number that
 * readers treat as "no entry" and the next writer repairs. The file stores
 * no pointers, only values, so it can be mapped at any address.
 *
 * Thread safety: a sentinel_shm_t may be shared by threads for reading;
 * writes from several threads of one process must be serialised by the
 * caller (flock is per open file description).
 *
 * fork(): a handle opened before fork() (e.g. in PHP's MINIT) works in the
 * children. A child's first lock reopens the file for itself, because locks
 * on the inherited open file description would not exclude the parent.
 *
 * Errors follow sentinel.h: the calls return a sentinel_code; the detail of
 * the last failed write-side call (write, invalidate, set_failover,
 * note_failover) is sentinel_shm_errstr(). A failed writer lock is
 * SENTINEL_ERR_TIMEOUT (another writer kept it for lock_ms) or
 * SENTINEL_ERR_SYSTEM; errno is left as the failing call set it.
 */
#ifndef SENTINEL_SHARED_CACHE_H
#define SENTINEL_SHARED_CACHE_H

#include "sentinel/sentinel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sentinel_shm sentinel_shm_t;

/* Entry flags. */
#define SENTINEL_SHM_FAILOVER 0x1 /* a failover of addr has started: do not write to it */

/* What sentinel_shm_read() copies out (not the layout in shared memory,
 * which is private and versioned by the file). Frozen: the caller allocates
 * it and it embeds the frozen sentinel_addr; no field is added within a
 * SOVERSION; tests/abi/check.sh fails if the layout changes. */
typedef struct sentinel_shm_entry {
    sentinel_addr addr;      /* the master (verified_at_ms as written) */
    int64_t expires_at_ms;   /* CLOCK_REALTIME ms; 0 = invalidated */
    uint32_t flags;          /* SENTINEL_SHM_* */
    uint64_t generation;     /* bumped by every write */
} sentinel_shm_entry;

/* The default file for s's master name and configured sentinels:
 * dir/libsentinel-<hash>.shm, dir NULL = "/dev/shm" (or "/tmp" when
 * /dev/shm is missing). SENTINEL_OK, SENTINEL_ERR_INVALID_ARGUMENT (NULL
 * arguments, out too small) or SENTINEL_ERR_NO_MEMORY. */
SENTINEL_EXPORT int sentinel_shm_default_path(const sentinel_t *s, const char *dir, char *out,
                                              size_t outlen);

/*
 * Sharing one cache file between Unix users (root running a CLI script,
 * www-data running PHP-FPM, a watcher daemon under its own account).
 * Zero-initialised means the defaults of sentinel_shm_open(): mode 0600, no
 * group. Set size = sizeof(sentinel_shm_options); fields may be appended.
 *
 *   mode       0600 (0 means this) or 0660; a file this call creates gets
 *              exactly this mode (fchmod, whatever the umask). An existing
 *              file may have group bits only when its group is `gid`.
 *   use_group  1: a file this call creates is given group gid (fchown), and
 *              an existing file of group gid is trusted whoever owns it --
 *              the group is the trust boundary: only its members (and root)
 *              can make a file of that group, outside a set-group-ID
 *              directory writable by others (do not use one).
 *
 * Whatever the options, the file is refused when it is a symbolic link
 * (ELOOP), not a regular file (EINVAL), owned by another user than us or
 * root (and not of the trusted group) (EPERM), or has any permission for
 * others, an execute, set-ID or sticky bit, or group bits without the
 * trusted group (EPERM). A new file appears under its name already
 * initialised with its group and mode (created under a temporary name and
 * linked into place), so no other process ever sees it half set up.
 */
typedef struct sentinel_shm_options {
    size_t size;
    int mode;
    int use_group;
    unsigned int gid;
    int no_create;    /* 1: open an existing file only (ENOENT otherwise), e.g.
                         to report on it without creating it as another user */
} sentinel_shm_options;

/* Open or create the cache file with opt (NULL: the defaults). As
 * sentinel_shm_open(), and on failure why (may be NULL) receives a one-line
 * reason naming the check that failed, e.g. "owned by uid 65534": a
 * constructor that fails has no object to keep a detail on, so this one
 * takes the caller's buffer. */
SENTINEL_EXPORT sentinel_shm_t *sentinel_shm_open_ex(const char *path,
                                                     const sentinel_shm_options *opt, int *code,
                                                     char *why, size_t whylen);

/* Open or create (mode 0600) the cache file: sentinel_shm_open_ex() with
 * the default options. Returns NULL and sets *code (SENTINEL_ERR_SYSTEM,
 * SENTINEL_ERR_PROTOCOL for a file that is not a libsentinel cache) on
 * failure; code may be NULL. errno says more: ELOOP for a symbolic link and
 * EPERM for a file owned by another user than us or root, or with any
 * group or other permission (refused: the cache usually lives in a
 * world-writable directory), EPROTO with SENTINEL_ERR_PROTOCOL. */
SENTINEL_EXPORT sentinel_shm_t *sentinel_shm_open(const char *path, int *code);
SENTINEL_EXPORT void sentinel_shm_close(sentinel_shm_t *shm);

/* Lock-free read. SENTINEL_OK: *out holds a consistent entry (check
 * expires_at_ms and flags yourself); SENTINEL_NO_ENTRY (not an error):
 * empty, invalidated or mid-update, *out zeroed;
 * SENTINEL_ERR_INVALID_ARGUMENT: shm or out NULL. Sets no error detail, so
 * threads may share a handle for reading. */
SENTINEL_EXPORT int sentinel_shm_read(const sentinel_shm_t *shm, sentinel_shm_entry *out);

/* Write an entry valid for ttl_ms, waiting up to lock_ms for the writer
 * lock; bumps the generation. A slot left half-written by a writer that
 * died is repaired by the next write. SENTINEL_OK,
 * SENTINEL_ERR_INVALID_ARGUMENT (a bad address or negative ttl_ms; errno
 * EINVAL), SENTINEL_ERR_TIMEOUT (the lock stayed taken; errno EWOULDBLOCK)
 * or SENTINEL_ERR_SYSTEM. */
SENTINEL_EXPORT int sentinel_shm_write(sentinel_shm_t *shm, const sentinel_addr *addr,
                                       int ttl_ms, uint32_t flags, int lock_ms);

/* Invalidate the entry if it still names host:port (host NULL: whatever it
 * names), so a late error about an old master cannot erase a newer answer.
 * SENTINEL_OK with *changed (may be NULL) 1 if it invalidated, 0 if the
 * entry named something else; or an error code as sentinel_shm_write(). */
SENTINEL_EXPORT int sentinel_shm_invalidate(sentinel_shm_t *shm, const char *host, int port,
                                            int lock_ms, int *changed);

/* Set or clear SENTINEL_SHM_FAILOVER on the entry if it names host:port
 * (host NULL: whatever it names). SENTINEL_OK with *changed (may be NULL)
 * 1 if the flag changed, 0 if not; or an error code as sentinel_shm_write().
 * Clearing it (an aborted failover) also forgets that host:port's failover
 * was counted in the epoch (sentinel_shm_note_failover), whatever the entry
 * names. */
SENTINEL_EXPORT int sentinel_shm_set_failover(sentinel_shm_t *shm, const char *host, int port,
                                              int on, int lock_ms, int *changed);

/*
 * The failover epoch of the file's master, shared by every process of the
 * host: how many failovers have been counted since the file was created. It
 * lives in the file's header (bytes that earlier versions kept zero, so an
 * older file starts at epoch 0) and is read lock-free.
 */
SENTINEL_EXPORT uint64_t sentinel_shm_epoch(const sentinel_shm_t *shm);

/*
 * Count the first failover event about master host:port: the epoch goes up
 * by one unless the failover counted last was host:port's too (every
 * process of the host that hears of the same failover calls this; it is
 * counted once). A failover always moves the master to another address, so
 * the next failover is of another master and counts again; an aborted one
 * is forgotten with sentinel_shm_set_failover(..., 0, ...), so a new attempt
 * on the same master counts. SENTINEL_OK with *counted (may be NULL) 1 if
 * this call counted it, 0 if it was counted already, and *epoch (may be
 * NULL) the epoch after; or an error code as sentinel_shm_write().
 */
SENTINEL_EXPORT int sentinel_shm_note_failover(sentinel_shm_t *shm, const char *host, int port,
                                               int lock_ms, int *counted, uint64_t *epoch);

/* The detail of the last failed write-side call on shm ("" if none). */
SENTINEL_EXPORT const char *sentinel_shm_errstr(const sentinel_shm_t *shm);

/*
 * A host follower (sentinel-proxy --watch, or any process that follows the
 * master for the whole host and keeps the entry, its failover flag and the
 * epoch current) stamps the file about once a second; readers that see a
 * fresh stamp rely on it and open no sentinel connection of their own (the
 * PHP extension's sentinel.watch). Lock-free, one atomic store of the wall
 * clock. SENTINEL_OK, or SENTINEL_ERR_INVALID_ARGUMENT (shm NULL).
 */
SENTINEL_EXPORT int sentinel_shm_heartbeat(sentinel_shm_t *shm);
/* A heartbeat at most this old means the host follower is alive and its
 * entry and failover flag are relied on (sentinel_resolve_shared(), the PHP
 * extension's sentinel.watch); it beats about once a second, so three
 * missed beats and readers resolve by themselves again. */
#define SENTINEL_SHM_HEARTBEAT_FRESH_MS 3000
/* Milliseconds since the last heartbeat (wall clock; 0 if it is in the
 * future), or -1 when no host follower ever stamped the file (or shm NULL). */
SENTINEL_EXPORT int64_t sentinel_shm_heartbeat_age_ms(const sentinel_shm_t *shm);

/*
 * Resolve through the shared cache: serve a fresh entry without any network
 * traffic; otherwise one process per host refreshes it (the others wait for
 * its answer, up to the total timeout) with sentinel_resolve(s,
 * SENTINEL_RESOLVE_NO_CACHE, ...). An entry flagged SENTINEL_SHM_FAILOVER
 * is not served: the caller gets SENTINEL_ERR_NOT_MASTER at once when
 * flags has SENTINEL_RESOLVE_FAIL_FAST, else the call waits (bounded by the
 * total timeout) for the watcher to publish the new master, then fails
 * with SENTINEL_ERR_TIMEOUT. The flag counts only until the entry expires,
 * and only while a host follower's heartbeat is fresh
 * (SENTINEL_SHM_HEARTBEAT_FRESH_MS): a flag nobody beats for is ignored.
 * Once a host follower has beaten in the file, its entry is served only
 * while the beat is fresh. Either way the call then resolves on its own
 * (sentinel_resolve() with flags' SENTINEL_RESOLVE_NO_CACHE, the handle's
 * cache otherwise) and leaves the file as it is. A file no host follower
 * ever beat in is kept by its readers, as above.
 * A process that dies while refreshing releases its role with its life;
 * the waiting processes take over.
 */
/* SENTINEL_RESOLVE_FAIL_FAST is defined in sentinel.h with the other flags. */
SENTINEL_EXPORT int sentinel_resolve_shared(sentinel_t *s, sentinel_shm_t *shm, int flags,
                                            sentinel_addr *out);

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_SHARED_CACHE_H */
