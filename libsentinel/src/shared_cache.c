/*
 * The shared cache: one resolved master per (sentinel set, master name) in a
 * one-page memory-mapped file, so every process of a host serves the same
 * answer and only one of them asks the sentinels when it goes stale.
 *
 * Layout (shared_cache_internal.h): a header { magic "LSNTSHM1", version,
 * size, failover epoch } and one slot { seq, payload + checksum }. The file
 * holds values only, so it can be mapped at any address. Opening it safely
 * (ownership, mode, sharing between Unix users) is shared_cache_open.c.
 *
 * Three kinds of access, and what protects each:
 *
 *   reading     lock-free, a sequence lock: seq even = stable, odd = being
 *               written. A reader copies the payload between two loads of
 *               seq and retries a bounded number of times, then reports
 *               "mid-update" instead of spinning. The checksum catches a
 *               copy that is garbage even though seq looked stable.
 *
 *   writing     flock(LOCK_EX) on the file, held for the few microseconds
 *               of one update. A writer that finds seq odd knows the previous
 *               writer died inside its update (the kernel dropped its flock)
 *               and repairs the slot by completing a fresh write.
 *
 *   refreshing  an OFD lock (F_OFD_SETLK) on one byte, held by the process
 *               that asks the sentinels while the entry is stale. It is a
 *               separate lock because a resolution can take seconds: holding
 *               the writer flock that long would stop a watcher from
 *               publishing a failover (or an invalidation) meanwhile. Others
 *               that find it taken poll the entry instead of querying, so a
 *               stale entry costs one resolution per host, not one per
 *               process. flock and OFD locks do not interact on local file
 *               systems (tmpfs, ext4...), and both belong to the open file
 *               description, so the kernel releases them when their holder
 *               dies: a dead refresher or writer never wedges the others.
 *
 * Both locks belong to an open file description, which fork() shares: a
 * child locking its parent's descriptor would not exclude the parent, and its
 * lock would outlive it. So a handle used in a process other than the one
 * that opened it first reopens the file (the same inode) for itself.
 *
 * A little over 800 lines: the slot's sequence lock, the writes, the
 * conditional updates and sentinel_resolve_shared() all use the static slot
 * and lock helpers here; opening the file is shared_cache_open.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"

/* A process-shared atomic must not be implemented with a lock inside the
 * process: it has to be a plain CPU instruction on the shared page. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

#define SHM_READ_TRIES 100      /* seqlock retries before "mid-update" */
#define SHM_REFRESH_BYTE 0      /* the byte the refresher role locks */
#define SHM_POLL_MAX_MS 10      /* longest sleep between polls of the entry */

/* ------------------------------------------------------------------------
 * The slot: checksum, sequence-locked copy in and out
 * ------------------------------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

static uint64_t payload_checksum(const sn_shm_payload *p)
{
    return fnv1a(FNV_OFFSET, p, offsetof(sn_shm_payload, checksum));
}

/* A payload that passed the checksum may still be nonsense if a bug or a
 * stray write produced it; an entry we would hand out must look sane. */
static int payload_sane(const sn_shm_payload *p)
{
    static const sn_shm_payload never_written; /* a new file's slot: all zero */

    if (memcmp(p, &never_written, sizeof(*p)) == 0)
        return 1;
    if (payload_checksum(p) != p->checksum)
        return 0;
    if (p->generation == 0 || p->expires_at_ms == 0)
        return 1; /* never written, or emptied: no address to check */
    return memchr(p->host, '\0', sizeof(p->host)) != NULL && p->host[0] != '\0' &&
           p->port >= 1 && p->port <= 65535;
}

/*
 * The last payload this thread found sane. Sanity depends on the bytes
 * alone, so a byte-identical copy is sane without the byte-by-byte FNV
 * checksum (about a microsecond, paid several times per resolution through
 * the shared cache in steady state): memcmp costs a few dozen nanoseconds.
 * Garbage, torn or changed bytes differ from it and get the full check.
 */
static _Thread_local sn_shm_payload last_sane;
static _Thread_local int have_last_sane;

static int payload_sane_memo(const sn_shm_payload *p)
{
    if (have_last_sane && memcmp(p, &last_sane, sizeof(*p)) == 0)
        return 1;
    if (!payload_sane(p))
        return 0;
    last_sane = *p;
    have_last_sane = 1;
    return 1;
}

static void words_to_payload(const uint64_t *w, sn_shm_payload *p)
{
    memcpy(p, w, sizeof(*p));
}

/* Copy the payload without looking at seq (the writer, under its lock). */
static void slot_peek(const sn_shm_slot *slot, sn_shm_payload *p)
{
    uint64_t w[SN_SHM_WORDS];

    for (size_t i = 0; i < SN_SHM_WORDS; i++)
        w[i] = atomic_load_explicit(&slot->words[i], memory_order_relaxed);
    words_to_payload(w, p);
}

/*
 * Lock-free read. 0: *p is a consistent copy with a good checksum;
 * 1: a writer is mid-update (or died there), or the slot is garbage.
 */
static int slot_load(const sn_shm_slot *slot, sn_shm_payload *p)
{
    for (int attempt = 0; attempt < SHM_READ_TRIES; attempt++) {
        uint64_t w[SN_SHM_WORDS], s1, s2;

        s1 = atomic_load_explicit(&slot->seq, memory_order_acquire);
        if ((s1 & 1) == 0) {
            for (size_t i = 0; i < SN_SHM_WORDS; i++)
                w[i] = atomic_load_explicit(&slot->words[i], memory_order_relaxed);
            /* Orders the copy before the second load of seq: a word written
             * by a newer update implies we see that update's odd seq. */
            atomic_thread_fence(memory_order_acquire);
            s2 = atomic_load_explicit(&slot->seq, memory_order_relaxed);
            if (s1 == s2) {
                words_to_payload(w, p);
                return payload_sane_memo(p) ? 0 : 1;
            }
        }
        sched_yield();
    }
    return 1;
}

/* Read with the writer lock held: no update can be in progress, so an odd
 * seq means the last writer died half-way. 0 consistent, 1 torn/garbage. */
static int slot_load_locked(const sn_shm_slot *slot, sn_shm_payload *p)
{
    uint64_t s = atomic_load_explicit(&slot->seq, memory_order_acquire);

    slot_peek(slot, p);
    return ((s & 1) == 0 && payload_sane(p)) ? 0 : 1;
}

/*
 * Publish p (writer lock held). seq goes odd, the words change, seq goes
 * even. If seq is already odd a writer died inside its update: we complete
 * a fresh one over its half, which is the repair.
 */
static void slot_store(sn_shm_slot *slot, sn_shm_payload *p)
{
    uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    uint64_t w[SN_SHM_WORDS];

    if ((s & 1) == 0)
        atomic_store_explicit(&slot->seq, ++s, memory_order_relaxed);
    /* Orders the odd seq before every word below (pairs with the reader's
     * acquire fence). */
    atomic_thread_fence(memory_order_release);
    p->checksum = payload_checksum(p);
    memcpy(w, p, sizeof(w));
    for (size_t i = 0; i < SN_SHM_WORDS; i++)
        atomic_store_explicit(&slot->words[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&slot->seq, s + 1, memory_order_release);
}

/* The next generation after whatever the slot holds, torn or not. */
static uint64_t next_generation(const sn_shm_slot *slot)
{
    sn_shm_payload cur;
    uint64_t g;

    slot_peek(slot, &cur);
    g = cur.generation + 1;
    return g ? g : 1;
}

static int payload_names(const sn_shm_payload *p, const char *host, int port)
{
    return host == NULL || (p->port == port && strcmp(p->host, host) == 0);
}

static void payload_to_entry(const sn_shm_payload *p, sentinel_shm_entry *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->addr.host, sizeof(e->addr.host), "%s", p->host);
    e->addr.port = p->port;
    e->addr.verified_at_ms = p->verified_at_ms;
    e->expires_at_ms = p->expires_at_ms;
    e->flags = p->flags;
    e->generation = p->generation;
}

/* ------------------------------------------------------------------------
 * Locks
 * ------------------------------------------------------------------------ */

/* Make fd this process's own open file description (see the top comment). */
static int own_descriptor(sentinel_shm_t *shm)
{
    struct stat st;
    int fd;

    if (shm->pid == getpid())
        return 0;
    fd = open(shm->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return -1;
    if (fstat(fd, &st) == -1 || st.st_dev != shm->dev || st.st_ino != shm->ino) {
        close(fd);
        errno = ESTALE; /* the path now names another file than we mapped */
        return -1;
    }
    /* Closing our copy of the parent's descriptor releases nothing the
     * parent holds: its description stays open in the parent. */
    close(shm->fd);
    shm->fd = fd;
    shm->pid = getpid();
    shm->refreshing = 0;
    return 0;
}

int sn_shm_flock_wait(int fd, int lock_ms)
{
    int64_t deadline = sn_now_ms() + (lock_ms > 0 ? lock_ms : 0);

    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return -1;
        if (sn_now_ms() >= deadline) {
            errno = EWOULDBLOCK;
            return -1;
        }
        sn_sleep_ms(1);
    }
}

int sn_shm_writer_lock(sentinel_shm_t *shm, int lock_ms)
{
    if (own_descriptor(shm) == -1)
        return -1;
    return sn_shm_flock_wait(shm->fd, lock_ms);
}

void sn_shm_writer_unlock(sentinel_shm_t *shm)
{
    flock(shm->fd, LOCK_UN);
}

static int refresh_lock_op(int fd, short type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl)); /* l_pid must be 0 for OFD locks */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = SHM_REFRESH_BYTE;
    fl.l_len = 1;
    return fcntl(fd, F_OFD_SETLK, &fl);
}

int sn_shm_refresh_trylock(sentinel_shm_t *shm)
{
    if (own_descriptor(shm) == -1)
        return -1;
    while (refresh_lock_op(shm->fd, F_WRLCK) == -1) {
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EACCES) ? 1 : -1;
    }
    shm->refreshing = 1;
    return 0;
}

void sn_shm_refresh_unlock(sentinel_shm_t *shm)
{
    if (!shm->refreshing)
        return;
    refresh_lock_op(shm->fd, F_UNLCK);
    shm->refreshing = 0;
}

sn_shm_file *sn_shm_mapping(const sentinel_shm_t *shm)
{
    return shm->map;
}

void sn_shm_test_write_half(sentinel_shm_t *shm, const char *host, int port)
{
    sn_shm_slot *slot = &shm->map->slot;
    uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    sn_shm_payload p;
    uint64_t w[SN_SHM_WORDS];

    if ((s & 1) == 0)
        atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memset(&p, 0, sizeof(p));
    snprintf(p.host, sizeof(p.host), "%s", host);
    p.port = port;
    memcpy(w, &p, sizeof(w));
    /* The host words only: the port, times and checksum keep the old
     * entry's values, as if the writer was killed right here. */
    for (size_t i = 0; i < sizeof(p.host) / sizeof(uint64_t); i++)
        atomic_store_explicit(&slot->words[i], w[i], memory_order_relaxed);
}

/* ------------------------------------------------------------------------
 * Reading and writing entries
 * ------------------------------------------------------------------------ */

int sentinel_shm_read(const sentinel_shm_t *shm, sentinel_shm_entry *out)
{
    sn_shm_payload p;

    if (shm == NULL || out == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (slot_load(&shm->map->slot, &p) != 0 || p.generation == 0 || p.expires_at_ms == 0)
        return SENTINEL_NO_ENTRY;
    payload_to_entry(&p, out);
    return SENTINEL_OK;
}

/* The writer lock for a public call: SENTINEL_OK, or the code with the
 * detail kept on the handle (errno is left as the lock set it). */
static int writer_lock_code(sentinel_shm_t *shm, int lock_ms)
{
    int saved;

    if (sn_shm_writer_lock(shm, lock_ms) == 0)
        return SENTINEL_OK;
    saved = errno;
    if (saved == EWOULDBLOCK)
        sn_err_set(&shm->err, SENTINEL_ERR_TIMEOUT,
                   "the writer lock stayed taken for %d ms", lock_ms);
    else
        sn_err_set(&shm->err, SENTINEL_ERR_SYSTEM, "writer lock: %s", strerror(saved));
    errno = saved;
    return shm->err.code;
}

/* A bad argument to a write-side call (errno EINVAL as before). */
static int bad_argument(sentinel_shm_t *shm, const char *what)
{
    errno = EINVAL;
    if (shm == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return sn_err_fail(&shm->err, SENTINEL_ERR_INVALID_ARGUMENT, "%s", what);
}

const char *sentinel_shm_errstr(const sentinel_shm_t *shm)
{
    return shm ? sn_err_str(&shm->err) : "no shared cache";
}

static int valid_addr(const sentinel_addr *a)
{
    return a != NULL && memchr(a->host, '\0', sizeof(a->host)) != NULL && a->host[0] != '\0' &&
           a->port >= 1 && a->port <= 65535;
}

/* Fill a payload for addr (host zero-padded, so equal entries checksum
 * equally). */
static void payload_for(sn_shm_payload *p, const sentinel_addr *a, int64_t expires_at_ms,
                        uint32_t flags, uint64_t generation)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->host, sizeof(p->host), "%s", a->host);
    p->port = a->port;
    p->verified_at_ms = a->verified_at_ms;
    p->expires_at_ms = expires_at_ms;
    p->flags = flags;
    p->generation = generation;
}

/* Write with the writer lock held. */
static void store_locked(sentinel_shm_t *shm, const sentinel_addr *a, int ttl_ms, uint32_t flags)
{
    sn_shm_slot *slot = &shm->map->slot;
    sn_shm_payload p;

    payload_for(&p, a, sn_wall_ms() + ttl_ms, flags, next_generation(slot));
    slot_store(slot, &p);
}

int sentinel_shm_write(sentinel_shm_t *shm, const sentinel_addr *addr, int ttl_ms,
                       uint32_t flags, int lock_ms)
{
    int rc;

    if (shm == NULL || !valid_addr(addr) || ttl_ms < 0)
        return bad_argument(shm, ttl_ms < 0 ? "negative TTL" : "bad address");
    if ((rc = writer_lock_code(shm, lock_ms)) != SENTINEL_OK)
        return rc;
    store_locked(shm, addr, ttl_ms, flags);
    sn_shm_writer_unlock(shm);
    return SENTINEL_OK;
}

/* ------------------------------------------------------------------------
 * The failover epoch (in the header, see shared_cache_internal.h)
 * ------------------------------------------------------------------------ */

/* Which master a counted failover was about; never 0 (0 = none). */
static uint64_t master_fingerprint(const char *host, int port)
{
    uint64_t h = fnv1a(FNV_OFFSET, host, strlen(host) + 1);

    h = fnv1a(h, &port, sizeof(port));
    return h ? h : 1;
}

/* An aborted failover of host:port (NULL: any) no longer counts as the
 * last one, so the next attempt on that master is counted. Lock held. */
static void forget_counted_locked(sentinel_shm_t *shm, const char *host, int port)
{
    _Atomic uint64_t *of = &shm->map->epoch_of;

    if (host == NULL || atomic_load_explicit(of, memory_order_relaxed) ==
                            master_fingerprint(host, port))
        atomic_store_explicit(of, 0, memory_order_relaxed);
}

uint64_t sentinel_shm_epoch(const sentinel_shm_t *shm)
{
    if (shm == NULL)
        return 0;
    return atomic_load_explicit(&shm->map->epoch, memory_order_acquire);
}

/* ------------------------------------------------------------------------
 * The host follower's heartbeat (in the header)
 * ------------------------------------------------------------------------ */

int sentinel_shm_heartbeat(sentinel_shm_t *shm)
{
    int64_t now = sn_wall_ms();

    if (shm == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&shm->map->heartbeat, now > 0 ? now : 1, memory_order_release);
    return SENTINEL_OK;
}

int64_t sentinel_shm_heartbeat_age_ms(const sentinel_shm_t *shm)
{
    int64_t beat, now;

    if (shm == NULL)
        return -1;
    beat = atomic_load_explicit(&shm->map->heartbeat, memory_order_acquire);
    if (beat <= 0)
        return -1;
    now = sn_wall_ms();
    return now > beat ? now - beat : 0;
}

int sentinel_shm_note_failover(sentinel_shm_t *shm, const char *host, int port, int lock_ms,
                               int *counted, uint64_t *epoch)
{
    uint64_t fp;
    int rc;

    if (counted != NULL)
        *counted = 0;
    if (shm == NULL || host == NULL || host[0] == '\0' || port < 1 || port > 65535)
        return bad_argument(shm, "bad master address");
    fp = master_fingerprint(host, port);
    if ((rc = writer_lock_code(shm, lock_ms)) != SENTINEL_OK)
        return rc;
    if (atomic_load_explicit(&shm->map->epoch_of, memory_order_relaxed) != fp) {
        atomic_store_explicit(&shm->map->epoch_of, fp, memory_order_relaxed);
        atomic_fetch_add_explicit(&shm->map->epoch, 1, memory_order_release);
        if (counted != NULL)
            *counted = 1;
    }
    if (epoch != NULL)
        *epoch = atomic_load_explicit(&shm->map->epoch, memory_order_relaxed);
    sn_shm_writer_unlock(shm);
    return SENTINEL_OK;
}

/*
 * The conditional updates behind invalidate and set_failover: under the
 * writer lock, change the entry only if it names host:port. A slot left torn
 * by a dead writer names nothing we can trust; it is repaired to an empty
 * entry (so readers stop retrying on it) and counts as a change only when
 * the caller asked about whatever the entry names (host NULL).
 */
enum cond_op { COND_INVALIDATE, COND_FAILOVER_ON, COND_FAILOVER_OFF };

static int update_if_names(sentinel_shm_t *shm, const char *host, int port, enum cond_op op,
                           int lock_ms, int *changed_out)
{
    sn_shm_slot *slot = &shm->map->slot;
    sn_shm_payload cur;
    int changed = 0, rc;

    if ((rc = writer_lock_code(shm, lock_ms)) != SENTINEL_OK)
        return rc;
    if (op == COND_FAILOVER_OFF)
        forget_counted_locked(shm, host, port);
    if (slot_load_locked(slot, &cur) != 0) {
        sn_shm_payload empty;
        payload_for(&empty, &(sentinel_addr){.host = "", .port = 0}, 0, 0,
                    next_generation(slot));
        slot_store(slot, &empty);
        changed = host == NULL && op == COND_INVALIDATE;
        goto out;
    }
    if (cur.generation == 0 || cur.expires_at_ms == 0 || !payload_names(&cur, host, port))
        goto out;
    switch (op) {
    case COND_INVALIDATE:
        cur.expires_at_ms = 0;
        cur.flags = 0;
        break;
    case COND_FAILOVER_ON:
        if (cur.flags & SENTINEL_SHM_FAILOVER)
            goto out;
        cur.flags |= SENTINEL_SHM_FAILOVER;
        break;
    case COND_FAILOVER_OFF:
        if (!(cur.flags & SENTINEL_SHM_FAILOVER))
            goto out;
        cur.flags &= ~(uint32_t)SENTINEL_SHM_FAILOVER;
        break;
    }
    cur.generation = next_generation(slot);
    slot_store(slot, &cur);
    changed = 1;
out:
    sn_shm_writer_unlock(shm);
    if (changed_out != NULL)
        *changed_out = changed;
    return SENTINEL_OK;
}

int sentinel_shm_invalidate(sentinel_shm_t *shm, const char *host, int port, int lock_ms,
                            int *changed)
{
    if (changed != NULL)
        *changed = 0;
    if (shm == NULL)
        return bad_argument(shm, "shm is NULL");
    return update_if_names(shm, host, port, COND_INVALIDATE, lock_ms, changed);
}

int sentinel_shm_set_failover(sentinel_shm_t *shm, const char *host, int port, int on,
                              int lock_ms, int *changed)
{
    if (changed != NULL)
        *changed = 0;
    if (shm == NULL)
        return bad_argument(shm, "shm is NULL");
    return update_if_names(shm, host, port, on ? COND_FAILOVER_ON : COND_FAILOVER_OFF, lock_ms,
                           changed);
}

/* ------------------------------------------------------------------------
 * The default path
 * ------------------------------------------------------------------------ */

#define SEED_STR_MAX (SENTINEL_HOST_MAX + 8)

static int cmp_seed(const void *a, const void *b)
{
    return strcmp(a, b);
}

/*
 * The configured sentinels as "host:port" strings. The single-flight key
 * ("name|host:port|host:port...", built as seeds are added) is the preferred
 * source: cfg.sentinels[0..nseeds) stops being exactly the seeds once a
 * discovered sentinel answers and is promoted to the head of the list. The
 * list is the fallback when the key does not have that shape.
 */
static size_t collect_seeds(const sentinel_t *s, char (*items)[SEED_STR_MAX])
{
    const char *name = s->cfg.master_name, *k = s->flight_key;
    size_t nl = strlen(name), n = 0;

    if (k != NULL && strncmp(k, name, nl) == 0 && (k[nl] == '\0' || k[nl] == '|')) {
        const char *p = k + nl;
        while (*p == '|' && n < SN_MAX_SENTINELS) {
            const char *end = strchr(p + 1, '|');
            size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);
            if (len >= SEED_STR_MAX)
                break;
            memcpy(items[n], p + 1, len);
            items[n++][len] = '\0';
            p += 1 + len;
        }
        if (*p == '\0' && n == s->cfg.nseeds)
            return n;
    }
    for (n = 0; n < s->cfg.nseeds && n < SN_MAX_SENTINELS; n++)
        snprintf(items[n], SEED_STR_MAX, "%s:%d", s->cfg.sentinels[n].host,
                 s->cfg.sentinels[n].port);
    return n;
}

int sentinel_shm_default_path(const sentinel_t *s, const char *dir, char *out, size_t outlen)
{
    char(*seeds)[SEED_STR_MAX]; /* 17 KB: not on the stack */
    struct stat st;
    uint64_t h;
    size_t n;
    int len;

    if (s == NULL || out == NULL || outlen == 0)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (dir == NULL)
        dir = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "/tmp";
    if ((seeds = malloc(SN_MAX_SENTINELS * sizeof(*seeds))) == NULL)
        return SENTINEL_ERR_NO_MEMORY;
    n = collect_seeds(s, seeds);
    /* Order-independent: the same set in another order is the same file. */
    qsort(seeds, n, sizeof(seeds[0]), cmp_seed);
    h = fnv1a(FNV_OFFSET, s->cfg.master_name, strlen(s->cfg.master_name) + 1);
    for (size_t i = 0; i < n; i++)
        h = fnv1a(h, seeds[i], strlen(seeds[i]) + 1);
    free(seeds);
    len = snprintf(out, outlen, "%s/libsentinel-%016llx.shm", dir, (unsigned long long)h);
    return (len < 0 || (size_t)len >= outlen) ? SENTINEL_ERR_INVALID_ARGUMENT : SENTINEL_OK;
}

/* ------------------------------------------------------------------------
 * Resolving through the shared cache
 * ------------------------------------------------------------------------ */

typedef enum entry_state {
    ENTRY_STALE,    /* missing, invalidated, expired, torn: needs a refresh */
    ENTRY_FRESH,    /* serve it */
    ENTRY_FAILOVER  /* fresh, but its master is being failed over */
} entry_state;

/* A FAILOVER flag counts only while the entry is fresh: a watcher that died
 * after flagging must not keep every client waiting past the TTL. */
static entry_state classify(int loaded, const sn_shm_payload *p, int64_t now_wall)
{
    if (loaded != 0 || p->generation == 0 || p->expires_at_ms == 0 ||
        p->expires_at_ms <= now_wall)
        return ENTRY_STALE;
    return (p->flags & SENTINEL_SHM_FAILOVER) ? ENTRY_FAILOVER : ENTRY_FRESH;
}

static int64_t remaining_ms(int64_t deadline)
{
    int64_t left = deadline - sn_now_ms();

    return left > 0 ? left : 0;
}

/* How long to wait for the writer lock when publishing: writers hold it for
 * microseconds, so a short wait is plenty even past our deadline. */
static int publish_lock_ms(int64_t deadline)
{
    int64_t left = remaining_ms(deadline);

    return left < 20 ? 20 : left > 1000 ? 1000 : (int)left;
}

/* sentinel_resolve(s, flags) within what is left of our own deadline. */
static int resolve_bounded(sentinel_t *s, int64_t deadline, int flags, sentinel_addr *addr)
{
    int saved = s->cfg.total_ms, code;
    int64_t left = remaining_ms(deadline);

    if (left < saved)
        s->cfg.total_ms = left > 0 ? (int)left : 1;
    code = sentinel_resolve(s, flags, addr);
    s->cfg.total_ms = saved;
    return code;
}

#define REFRESH_AGAIN (-1) /* the entry changed under us: look again */

/*
 * We hold the refresher role. Look again under the writer lock (someone may
 * have just refreshed; and there a torn slot can only be a dead writer's),
 * ask the sentinels, and publish the answer unless a fresh entry was
 * published meanwhile: a watcher that saw a switch while we were resolving
 * knows better than an answer that started before it.
 * Returns a sentinel_code or REFRESH_AGAIN; *resolved = 1 once it called
 * sentinel_resolve() (which counts the call in the stats).
 */
static int refresh_entry(sentinel_t *s, sentinel_shm_t *shm, int64_t deadline,
                         sentinel_addr *out, int *resolved)
{
    sn_shm_slot *slot = &shm->map->slot;
    sn_shm_payload p;
    sentinel_addr addr;
    uint64_t seen;
    int loaded, code;

    if (sn_shm_writer_lock(shm, publish_lock_ms(deadline)) == 0) {
        loaded = slot_load_locked(slot, &p);
        sn_shm_writer_unlock(shm);
    } else {
        loaded = slot_load(slot, &p);
    }
    if (classify(loaded, &p, sn_wall_ms()) != ENTRY_STALE)
        return REFRESH_AGAIN;
    seen = loaded == 0 ? p.generation : 0;

    code = resolve_bounded(s, deadline, SENTINEL_RESOLVE_NO_CACHE, &addr);
    *resolved = 1;
    if (code != SENTINEL_OK)
        return code;

    if (sn_shm_writer_lock(shm, publish_lock_ms(deadline)) == 0) {
        loaded = slot_load_locked(slot, &p);
        if (loaded == 0 && p.generation != seen &&
            classify(loaded, &p, sn_wall_ms()) != ENTRY_STALE) {
            sn_shm_writer_unlock(shm);
            return REFRESH_AGAIN;
        }
        store_locked(shm, &addr, s->cfg.ttl_ms, 0);
        sn_shm_writer_unlock(shm);
    }
    /* Could not publish (lock kept by a stuck writer)? The answer is still
     * good for us. */
    *out = addr;
    return SENTINEL_OK;
}

static int shared_error(sentinel_t *s, int counted, int code)
{
    s->last_source = SENTINEL_SOURCE_NONE;
    if (!counted) {
        s->stats.resolutions++;
        s->stats.errors++;
    }
    return code;
}

int sentinel_resolve_shared(sentinel_t *s, sentinel_shm_t *shm, int flags, sentinel_addr *out)
{
    int64_t start, deadline;
    int64_t pause = 1;
    int waited = 0, counted = 0; /* counted: sentinel_resolve() did the stats */

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    s->last_source = SENTINEL_SOURCE_NONE; /* sentinel_resolve() or the file sets it */
    if (shm == NULL || out == NULL) {
        sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "%s is NULL", shm ? "out" : "shm");
        return shared_error(s, 0, SENTINEL_ERR_INVALID_ARGUMENT);
    }
    start = sn_now_ms();
    deadline = start + s->cfg.total_ms;
    for (;;) {
        sn_shm_payload p;
        int loaded = slot_load(&shm->map->slot, &p), lr, code;

        entry_state st = classify(loaded, &p, sn_wall_ms());
        int64_t beat = sentinel_shm_heartbeat_age_ms(shm); /* -1: no host follower ever */

        /* A host follower whose beat is stale (dead, hung) may have left an
         * entry a failover has made wrong, and a flag nobody beats for may
         * outlive its setter: resolve on our own and leave the file alone. */
        if (beat > SENTINEL_SHM_HEARTBEAT_FRESH_MS || (st == ENTRY_FAILOVER && beat < 0))
            return resolve_bounded(s, deadline, flags & SENTINEL_RESOLVE_NO_CACHE, out);
        switch (st) {
        case ENTRY_FRESH:
            snprintf(out->host, sizeof(out->host), "%s", p.host);
            out->port = p.port;
            out->verified_at_ms = p.verified_at_ms;
            if (!counted) {
                s->stats.resolutions++;
                s->stats.cache_hits++;
            }
            if (waited)
                s->stats.shared_waits++;
            sn_err_clear(&s->err);
            s->last_source = SENTINEL_SOURCE_SHARED_CACHE;
            return SENTINEL_OK;

        case ENTRY_FAILOVER:
            if (flags & SENTINEL_RESOLVE_FAIL_FAST) {
                sn_err_set(&s->err, SENTINEL_ERR_NOT_MASTER, "failover of %s:%d in progress",
                           p.host, p.port);
                return shared_error(s, counted, SENTINEL_ERR_NOT_MASTER);
            }
            /* Wait for the watcher to clear the flag or name the new master. */
            if (remaining_ms(deadline) == 0) {
                sn_err_set(&s->err, SENTINEL_ERR_TIMEOUT,
                           "failover of %s:%d still in progress after %lld ms", p.host, p.port,
                           (long long)(sn_now_ms() - start));
                return shared_error(s, counted, SENTINEL_ERR_TIMEOUT);
            }
            break;

        case ENTRY_STALE:
            lr = sn_shm_refresh_trylock(shm);
            if (lr == 0) {
                code = refresh_entry(s, shm, deadline, out, &counted);
                sn_shm_refresh_unlock(shm);
                if (code == REFRESH_AGAIN)
                    continue; /* serve (or wait on) what was published */
                return code; /* sentinel_resolve() set s->err and the stats */
            }
            if (lr == -1) {
                /* Cannot coordinate (the file was replaced after a fork?):
                 * resolve on our own rather than fail. */
                code = resolve_bounded(s, deadline, SENTINEL_RESOLVE_NO_CACHE, out);
                if (code == SENTINEL_OK)
                    sentinel_shm_write(shm, out, s->cfg.ttl_ms, 0, publish_lock_ms(deadline));
                return code;
            }
            /* Another process is refreshing: wait for its answer. If it dies
             * the kernel drops its lock and we take over. */
            if (remaining_ms(deadline) == 0) {
                sn_err_set(&s->err, SENTINEL_ERR_TIMEOUT,
                           "no fresh answer from the process refreshing the shared cache "
                           "within %lld ms",
                           (long long)(sn_now_ms() - start));
                return shared_error(s, counted, SENTINEL_ERR_TIMEOUT);
            }
            waited = 1;
            break;
        }
        sn_sleep_ms(pause < remaining_ms(deadline) ? pause : remaining_ms(deadline));
        if (pause < SHM_POLL_MAX_MS)
            pause *= 2;
    }
}
