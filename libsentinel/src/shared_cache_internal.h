/*
 * The shared cache's file layout and the hooks its unit tests use to play a
 * writer or a refresher that dies at the worst moment. Private: nothing here
 * is part of the public ABI.
 */
#ifndef SN_SHARED_CACHE_INTERNAL_H
#define SN_SHARED_CACHE_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentinel/shared_cache.h"
#include "internal.h"

#define SN_SHM_MAGIC "LSNTSHM1" /* 8 bytes, no NUL in the file */
#define SN_SHM_VERSION 1u
#define SN_SHM_SIZE 4096u       /* the whole file: one page */

/*
 * One entry as it sits in the file: values only, no pointers. checksum is
 * FNV-1a 64 over every byte before it, so garbage or a torn copy is caught
 * even when the sequence number looks stable. The size is a multiple of 8
 * so the slot can be copied as 64-bit words.
 */
typedef struct sn_shm_payload {
    char host[SENTINEL_HOST_MAX]; /* NUL-terminated */
    int32_t port;
    uint32_t flags;               /* SENTINEL_SHM_* */
    int64_t verified_at_ms;
    int64_t expires_at_ms;        /* CLOCK_REALTIME; 0 = invalidated */
    uint64_t generation;          /* 0 = never written */
    uint64_t checksum;
} sn_shm_payload;

#define SN_SHM_WORDS (sizeof(sn_shm_payload) / sizeof(uint64_t))

/*
 * The slot: a sequence lock over the payload. seq is even when the payload
 * is stable and odd while a writer is in the middle of an update (or died
 * there). The payload is read and written as relaxed atomic 64-bit words, so
 * a reader racing a writer is not a C11 data race; the fences around the
 * copy make a torn copy show up as a changed seq.
 */
typedef struct sn_shm_slot {
    _Atomic uint64_t seq;
    _Atomic uint64_t words[SN_SHM_WORDS]; /* an sn_shm_payload, word by word */
} sn_shm_slot;

/*
 * The file. magic is stored last when a file is initialised (with release
 * ordering), so a process that sees the magic also sees version and size.
 */
/*
 * The failover epoch (sentinel_shm_note_failover) sits in bytes version 1
 * files created before it existed kept zero: an old file reads as epoch 0
 * with nothing counted, and older library versions sharing the file ignore
 * it, so the format version stays 1. Both words change under the writer
 * lock only; epoch is read lock-free. The heartbeat word came later the
 * same way (zero in older files: no host follower).
 */
typedef struct sn_shm_file {
    _Atomic uint64_t magic; /* the bytes of SN_SHM_MAGIC */
    uint32_t version;
    uint32_t size;          /* SN_SHM_SIZE */
    _Atomic uint64_t epoch;     /* failovers counted */
    _Atomic uint64_t epoch_of;  /* fingerprint of the master counted last; 0 none */
    _Atomic int64_t heartbeat;  /* CLOCK_REALTIME ms of a host follower's last beat
                                   (sentinel_shm_heartbeat); 0 never; lock-free */
    unsigned char reserved[24];
    sn_shm_slot slot;       /* at offset 64, its own cache line */
} sn_shm_file;

_Static_assert(sizeof(sn_shm_payload) % 8 == 0, "payload must be whole words");
_Static_assert(sizeof(sn_shm_file) <= SN_SHM_SIZE, "layout must fit the file");
_Static_assert(offsetof(sn_shm_file, slot) == 64, "the slot stays where version 1 put it");

/* An open cache (shared_cache_open.c opens and closes it, shared_cache.c
 * reads, writes and locks it). */
struct sentinel_shm {
    sn_shm_file *map;
    int fd;
    pid_t pid;        /* the process that opened fd */
    dev_t dev;        /* the inode mapped, to reopen the same one after fork */
    ino_t ino;
    int refreshing;   /* this handle holds the refresher lock */
    char *path;
    sn_err err;       /* the last failed write-side call (sentinel_shm_errstr) */
};

/* flock(LOCK_EX) on fd, retried until lock_ms passed. 0, or -1 with errno
 * (EWOULDBLOCK when another open file kept it). */
int sn_shm_flock_wait(int fd, int lock_ms);

/* The mapping of an open cache (tests poke it to fake corruption). */
sn_shm_file *sn_shm_mapping(const sentinel_shm_t *shm);

/* The writer lock (flock LOCK_EX on the file), waiting up to lock_ms.
 * 0 or -1 (errno EWOULDBLOCK when another process kept it). */
int sn_shm_writer_lock(sentinel_shm_t *shm, int lock_ms);
void sn_shm_writer_unlock(sentinel_shm_t *shm);

/* The refresher role (an OFD lock on one byte, see shared_cache.c); never
 * waits. 0 taken, 1 another open file holds it, -1 error. */
int sn_shm_refresh_trylock(sentinel_shm_t *shm);
void sn_shm_refresh_unlock(sentinel_shm_t *shm);

/* Test hook: with the writer lock held, start an update of the entry to
 * host:port and stop half-way (seq left odd, host written, the rest not),
 * as a writer killed mid-update leaves it. */
void sn_shm_test_write_half(sentinel_shm_t *shm, const char *host, int port);

#endif /* SN_SHARED_CACHE_INTERNAL_H */
