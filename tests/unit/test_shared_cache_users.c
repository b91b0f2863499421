/*
 * Unit tests of the shared cache's opening rules for several Unix users
 * (libsentinel/src/shared_cache_open.c: mode, group, ownership checks,
 * a new file appearing fully set up) and of the failover epoch kept in the
 * file's header (sentinel_shm_note_failover / sentinel_shm_epoch).
 * test_shared_cache.c covers the format, the locks and resolution.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"
#include "scratch_dir.h"

#define NOBODY 65534

static int setup(void **state)
{
    return (*state = scratch_new("sn-shm-users")) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    scratch_free(*state);
    return 0;
}

static sentinel_shm_options group_opts(gid_t gid)
{
    sentinel_shm_options o;

    memset(&o, 0, sizeof(o));
    o.size = sizeof(o);
    o.mode = 0660;
    o.use_group = 1;
    o.gid = (unsigned)gid;
    return o;
}

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

/* A new file gets exactly the mode and group asked for, whatever the
 * umask, and no temporary file is left next to it. */
static void test_new_file_mode_and_group(void **state)
{
    fixture *f = *state;
    sentinel_shm_options o = group_opts(getegid());
    mode_t old = umask(077);
    char why[256];
    struct stat st;
    int code = -1;
    sentinel_shm_t *shm = sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why));

    umask(old);
    assert_non_null(shm);
    assert_int_equal(code, SENTINEL_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    assert_int_equal(st.st_gid, getegid());
    assert_int_equal(st.st_size, SN_SHM_SIZE);
    assert_int_equal(entries_in(f->dir), 1);
    sentinel_shm_close(shm);

    /* no_create: an existing file is opened, a missing one is not made. */
    o.no_create = 1;
    shm = sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why));
    assert_non_null(shm);
    sentinel_shm_close(shm);
    unlink(f->path);
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, ENOENT);
    assert_int_equal(entries_in(f->dir), 0);

    /* The default stays 0600. */
    unlink(f->path);
    shm = sentinel_shm_open(f->path, &code);
    assert_non_null(shm);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    sentinel_shm_close(shm);
}

/* Group bits are accepted only with the group configured; bits for others
 * never. The reason names the check. */
static void test_modes_checked(void **state)
{
    fixture *f = *state;
    sentinel_shm_options o = group_opts(getegid());
    char why[256];
    int code = -1;
    sentinel_shm_t *shm = sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why));

    assert_non_null(shm);
    sentinel_shm_close(shm);
    /* 0660 without the group setting: too open for this caller. */
    assert_null(sentinel_shm_open_ex(f->path, NULL, &code, why, sizeof(why)));
    assert_int_equal(code, SENTINEL_ERR_SYSTEM);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(why, "mode 0660 is too open"));

    assert_int_equal(chmod(f->path, 0664), 0);
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(why, "0664"));
    assert_int_equal(chmod(f->path, 0700), 0);
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, EPERM);

    /* Another group than the configured one: group bits refused. */
    assert_int_equal(chmod(f->path, 0660), 0);
    o.gid = getegid() + 1;
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, EPERM);

    /* Modes other than 0600 / 0660-with-a-group are bad arguments. */
    o = group_opts(getegid());
    o.mode = 0644;
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    o.mode = 0660;
    o.use_group = 0;
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
}

/* Ownership (root only: only root can give a file away). A file owned by
 * another non-root user is refused -- unless it is of the trusted group. */
static void test_owner_checked(void **state)
{
    fixture *f = *state;
    sentinel_shm_options o = group_opts(NOBODY);
    char why[256];
    int code = -1;
    sentinel_shm_t *shm;

    if (geteuid() != 0)
        skip();
    sentinel_shm_close(sentinel_shm_open(f->path, &code));
    assert_int_equal(chown(f->path, NOBODY, NOBODY), 0);
    assert_null(sentinel_shm_open_ex(f->path, NULL, &code, why, sizeof(why)));
    assert_int_equal(code, SENTINEL_ERR_SYSTEM);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(why, "owned by uid 65534"));

    /* Of the trusted group, 0660: shared. */
    assert_int_equal(chmod(f->path, 0660), 0);
    shm = sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why));
    assert_non_null(shm);
    sentinel_shm_close(shm);

    /* A group we do not trust: refused. */
    o.gid = NOBODY - 1;
    assert_null(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, EPERM);

    /* A file we create for a group is given to it. */
    unlink(f->path);
    o = group_opts(NOBODY);
    shm = sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why));
    assert_non_null(shm);
    {
        struct stat st;
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_gid, NOBODY);
        assert_int_equal(st.st_mode & 07777, 0660);
    }
    sentinel_shm_close(shm);
}

/* Symbolic links and non-regular files, with the group setting too. */
static void test_planted_with_group(void **state)
{
    fixture *f = *state;
    sentinel_shm_options o = group_opts(getegid());
    char link[160], why[256];
    int code = -1;

    sentinel_shm_close(sentinel_shm_open_ex(f->path, &o, &code, why, sizeof(why)));
    snprintf(link, sizeof(link), "%s/link.shm", f->dir);
    assert_int_equal(symlink(f->path, link), 0);
    assert_null(sentinel_shm_open_ex(link, &o, &code, why, sizeof(why)));
    assert_int_equal(errno, ELOOP);
    assert_non_null(strstr(why, "symbolic link"));
    unlink(link);
    assert_int_equal(mkfifo(link, 0600), 0);
    assert_null(sentinel_shm_open_ex(link, &o, &code, why, sizeof(why)));
    assert_non_null(strstr(why, "not a regular file"));
}

/* The epoch counts each failover once, however many processes report it;
 * a failover of the next master counts again; an aborted one is forgotten
 * so a new attempt counts. Every handle of the file sees the same epoch. */
/* sentinel_shm_note_failover() as 1 counted, 0 already counted, -1 error. */
static int counted(sentinel_shm_t *shm, const char *host, int port, int lock_ms, uint64_t *epoch)
{
    int n = -1;

    if (sentinel_shm_note_failover(shm, host, port, lock_ms, &n, epoch) != SENTINEL_OK)
        return -1;
    return n;
}

static void test_epoch_counts_once_per_failover(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *a = sentinel_shm_open(f->path, NULL), *b = sentinel_shm_open(f->path, NULL);
    sentinel_addr m = {"10.0.0.1", 6379, 1};
    uint64_t ep = 99;

    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(sentinel_shm_epoch(a), 0);
    assert_int_equal(counted(a, "10.0.0.1", 6379, 100, &ep), 1);
    assert_int_equal(ep, 1);
    assert_int_equal(counted(b, "10.0.0.1", 6379, 100, &ep), 0);
    assert_int_equal(ep, 1);
    assert_int_equal(sentinel_shm_epoch(b), 1);

    /* The next failover is of the new master. */
    assert_int_equal(counted(b, "10.0.0.2", 6379, 100, NULL), 1);
    assert_int_equal(counted(a, "10.0.0.2", 6379, 100, NULL), 0);
    assert_int_equal(sentinel_shm_epoch(a), 2);

    /* Aborted: forgotten (whatever the entry names), the retry counts. */
    assert_int_equal(sentinel_shm_write(a, &m, 60000, 0, 100), 0);
    assert_int_equal(sentinel_shm_set_failover(a, "10.0.0.2", 6379, 0, 100, NULL), SENTINEL_OK);
    assert_int_equal(counted(b, "10.0.0.2", 6379, 100, &ep), 1);
    assert_int_equal(ep, 3);

    /* Bad arguments change nothing. */
    assert_int_equal(counted(a, NULL, 6379, 100, NULL), -1);
    assert_int_equal(counted(a, "10.0.0.3", 0, 100, NULL), -1);
    assert_int_equal(sentinel_shm_epoch(NULL), 0);
    assert_int_equal(sentinel_shm_epoch(a), 3);

    /* It survives reopening: it is in the file. */
    sentinel_shm_close(a);
    sentinel_shm_close(b);
    a = sentinel_shm_open(f->path, NULL);
    assert_int_equal(sentinel_shm_epoch(a), 3);
    sentinel_shm_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file_mode_and_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_with_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_counts_once_per_failover, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
