/*
 * Opening the shared cache file safely. It usually lives in a directory
 * every local user can write to (/dev/shm), under a name anyone can compute,
 * and it may be shared between Unix users (root running a CLI script,
 * www-data running PHP-FPM, a watcher daemon): so what we open is checked
 * after open() with fstat() -- a regular file, owned by us, root or the
 * trusted group, with no permission for others -- and a file we create
 * appears under its name only once its group, mode and header are set
 * (built under a temporary name, then link()ed into place).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

#define SHM_OPEN_LOCK_MS 2000 /* wait for a concurrent creator of an old-style file */
#define SHM_CREATE_TRIES 4    /* create-or-open rounds against concurrent creators */

static uint64_t magic_word(void)
{
    uint64_t m;

    memcpy(&m, SN_SHM_MAGIC, sizeof(m));
    return m;
}

static int header_valid(const sn_shm_file *f)
{
    if (atomic_load_explicit(&f->magic, memory_order_acquire) != magic_word())
        return 0;
    return f->version == SN_SHM_VERSION && f->size == SN_SHM_SIZE;
}

static int page_all_zero(const void *page)
{
    const unsigned char *p = page;

    for (size_t i = 0; i < SN_SHM_SIZE; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static sn_shm_file *map_file(int fd)
{
    void *m = mmap(NULL, SN_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    return m == MAP_FAILED ? NULL : m;
}

/* A zeroed page becomes an empty cache: magic last (release), so whoever
 * sees it sees version and size too. The slot and the epoch stay zero. */
static void init_header(sn_shm_file *f)
{
    f->version = SN_SHM_VERSION;
    f->size = SN_SHM_SIZE;
    atomic_store_explicit(&f->magic, magic_word(), memory_order_release);
}

static void say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static int group_trusted(const sentinel_shm_options *o, const struct stat *st)
{
    return o->use_group && st->st_gid == (gid_t)o->gid;
}

/* 0600, or 0660 for a group: without a trusted group, group bits would make
 * the file one that check_file() refuses. */
static int opt_bad(const sentinel_shm_options *o)
{
    return o->mode != 0600 && !(o->mode == 0660 && o->use_group);
}

/* The checks of the header comment in shared_cache.h. 0, or -1 with errno
 * and why filled. */
static int check_file(const struct stat *st, const sentinel_shm_options *o, char *why,
                      size_t whylen)
{
    mode_t perm = st->st_mode & 07777;
    mode_t never = S_IRWXO | S_IXUSR | S_IXGRP | S_ISUID | S_ISGID | S_ISVTX;

    if (!S_ISREG(st->st_mode)) {
        say(why, whylen, "not a regular file");
        errno = EINVAL;
        return -1;
    }
    if (st->st_uid != geteuid() && st->st_uid != 0 && !group_trusted(o, st)) {
        say(why, whylen, "owned by uid %lu, neither us (uid %lu) nor root%s",
            (unsigned long)st->st_uid, (unsigned long)geteuid(),
            o->use_group ? ", and not of the shared group" : "");
        errno = EPERM;
        return -1;
    }
    if ((perm & never) != 0 || ((perm & S_IRWXG) != 0 && !group_trusted(o, st))) {
        say(why, whylen, "mode %04o is too open (expected 0600%s)", (unsigned)perm,
            o->use_group ? ", or 0660 with the shared group" : "");
        errno = EPERM;
        return -1;
    }
    return 0;
}

/*
 * A file of size 0 (created by an older version, whose creator may have
 * died before writing the header) or all zero: initialise it under the
 * writer lock, so concurrent openers agree on one header; or find it was
 * initialised meanwhile; or reject it. Returns 0, or a sentinel_code.
 */
static int init_locked(sentinel_shm_t *shm)
{
    struct stat st;

    if (fstat(shm->fd, &st) == -1)
        return SENTINEL_ERR_SYSTEM;
    if (st.st_size == 0) {
        if (ftruncate(shm->fd, SN_SHM_SIZE) == -1)
            return SENTINEL_ERR_SYSTEM;
    } else if (st.st_size != (off_t)SN_SHM_SIZE) {
        return SENTINEL_ERR_PROTOCOL;
    }
    if (shm->map == NULL && (shm->map = map_file(shm->fd)) == NULL)
        return SENTINEL_ERR_SYSTEM;
    if (header_valid(shm->map))
        return 0;
    if (!page_all_zero(shm->map))
        return SENTINEL_ERR_PROTOCOL;
    init_header(shm->map);
    return 0;
}

/*
 * Build a complete cache file under a temporary name in path's directory
 * (group, mode, size, header) and link it to path. Returns the descriptor
 * of the linked file; -1 with errno EEXIST when another process linked
 * first (open theirs), or another errno with why filled.
 */
static int create_file(const char *path, const sentinel_shm_options *o, char *why,
                       size_t whylen)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 8);
    sn_shm_file *map = NULL;
    int fd = -1, saved;

    if (tmp == NULL)
        return -1;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
        say(why, whylen, "cannot create a file next to it: %s", strerror(errno));
        goto fail_keep_name;
    }
    if (o->use_group && fchown(fd, (uid_t)-1, (gid_t)o->gid) == -1) {
        say(why, whylen, "cannot give it group %u: %s", o->gid, strerror(errno));
        goto fail;
    }
    if (fchmod(fd, (mode_t)o->mode) == -1 || ftruncate(fd, SN_SHM_SIZE) == -1 ||
        (map = map_file(fd)) == NULL) {
        say(why, whylen, "cannot set it up: %s", strerror(errno));
        goto fail;
    }
    init_header(map);
    munmap(map, SN_SHM_SIZE);
    if (link(tmp, path) == -1) {
        /* A file system without hard links: an atomic rename that never
         * replaces a file another process put there first does as well. */
        if (errno != EEXIST &&
            renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
            free(tmp);
            return fd;
        }
        if (errno != EEXIST)
            say(why, whylen, "cannot link it into place: %s", strerror(errno));
        goto fail;
    }
    unlink(tmp);
    free(tmp);
    return fd;
fail:
    saved = errno;
    unlink(tmp);
    close(fd);
    errno = saved;
fail_keep_name:
    saved = errno;
    free(tmp);
    errno = saved;
    return -1;
}

/* Open path, creating it if missing. The descriptor, or -1 with errno. */
static int open_or_create(const char *path, const sentinel_shm_options *o, char *why,
                          size_t whylen)
{
    for (int i = 0; i < SHM_CREATE_TRIES; i++) {
        /* O_NONBLOCK: a planted FIFO must not hang us; it is refused later. */
        int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

        if (fd != -1 || errno != ENOENT || o->no_create) {
            if (fd == -1)
                say(why, whylen, "%s", errno == ELOOP ? "a symbolic link" : strerror(errno));
            return fd;
        }
        fd = create_file(path, o, why, whylen);
        if (fd != -1 || errno != EEXIST)
            return fd;
        /* Another process linked its file first: open that one. */
    }
    say(why, whylen, "created and removed by others %d times in a row", SHM_CREATE_TRIES);
    errno = EAGAIN;
    return -1;
}

sentinel_shm_t *sentinel_shm_open_ex(const char *path, const sentinel_shm_options *opt,
                                     int *code, char *why, size_t whylen)
{
    sentinel_shm_options o = {sizeof(o), 0600, 0, 0, 0};
    sentinel_shm_t *shm;
    struct stat st;
    int rc = SENTINEL_ERR_SYSTEM, saved;

    say(why, whylen, "%s", "");
    if (opt != NULL) {
        size_t n = opt->size < sizeof(o) ? opt->size : sizeof(o);
        memcpy(&o, opt, n);
        if (o.mode == 0)
            o.mode = 0600;
    }
    if (path == NULL || path[0] == '\0' || opt_bad(&o)) {
        say(why, whylen, "%s", path == NULL || path[0] == '\0' ? "no path" : "bad mode");
        if (code)
            *code = SENTINEL_ERR_INVALID_ARGUMENT;
        errno = EINVAL;
        return NULL;
    }
    if ((shm = calloc(1, sizeof(*shm))) == NULL) {
        rc = SENTINEL_ERR_NO_MEMORY;
        goto fail;
    }
    shm->fd = -1;
    if ((shm->path = strdup(path)) == NULL) {
        rc = SENTINEL_ERR_NO_MEMORY;
        goto fail;
    }
    if ((shm->fd = open_or_create(path, &o, why, whylen)) == -1)
        goto fail;
    if (fstat(shm->fd, &st) == -1 || check_file(&st, &o, why, whylen) == -1)
        goto fail;
    shm->pid = getpid();
    shm->dev = st.st_dev;
    shm->ino = st.st_ino;
    if (st.st_size != 0 && st.st_size != (off_t)SN_SHM_SIZE) {
        say(why, whylen, "size %lld is not a libsentinel cache's", (long long)st.st_size);
        rc = SENTINEL_ERR_PROTOCOL;
        goto fail;
    }
    /* Fast path, no lock: an initialised file. */
    if (st.st_size == (off_t)SN_SHM_SIZE) {
        if ((shm->map = map_file(shm->fd)) == NULL)
            goto fail;
        if (header_valid(shm->map))
            goto done;
    }
    if (sn_shm_flock_wait(shm->fd, SHM_OPEN_LOCK_MS) == -1)
        goto fail;
    rc = init_locked(shm);
    saved = errno;
    flock(shm->fd, LOCK_UN);
    errno = saved;
    if (rc != 0) {
        if (rc == SENTINEL_ERR_PROTOCOL)
            say(why, whylen, "not a libsentinel cache (or another format version)");
        goto fail;
    }
done:
    if (code)
        *code = SENTINEL_OK;
    return shm;
fail:
    saved = errno;
    if (rc == SENTINEL_ERR_PROTOCOL)
        saved = EPROTO;
    if (why != NULL && whylen > 0 && why[0] == '\0')
        say(why, whylen, "%s", strerror(saved));
    sentinel_shm_close(shm);
    if (code)
        *code = rc;
    errno = saved;
    return NULL;
}

sentinel_shm_t *sentinel_shm_open(const char *path, int *code)
{
    return sentinel_shm_open_ex(path, NULL, code, NULL, 0);
}

void sentinel_shm_close(sentinel_shm_t *shm)
{
    if (shm == NULL)
        return;
    if (shm->map != NULL)
        munmap(shm->map, SN_SHM_SIZE);
    if (shm->fd >= 0)
        close(shm->fd); /* releases our locks with the description */
    free(shm->path);
    free(shm);
}
