/*
 * Unit tests of the shared cache (libsentinel/src/shared_cache.c): the file
 * format and its checks, the sequence lock under concurrent processes,
 * writers and refreshers that die at the worst moment, and
 * sentinel_resolve_shared() over a scripted network (the transport seam,
 * mock_net.c).
 *
 * Over 800 lines: every test here shares the scripted network and the fork
 * helpers below; the opening rules for several Unix users and the epoch
 * are in test_shared_cache_users.c.
 *
 * Children created with fork() never use cmocka's asserts (they would unwind
 * into the child's copy of the runner): they report through their exit
 * status, and the parent asserts on it.
 *
 * Tests of sentinel_resolve_shared() waiting for another process script the
 * clock (sn_clock_set, sn_sleep_set): the other process acts when the
 * resolver first pauses to wait, so the test knows it waited, and nothing
 * sleeps for real.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "mock_net.h"
#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"
#include "scratch_dir.h"

/* ------------------------------------------------------------------------
 * Fixture: a private directory per test, the mock network installed
 * ------------------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = scratch_new("sn-shm-test");

    if (f == NULL)
        return -1;
    mock_net_reset();
    sn_transport_set(&mock_transport);
    *state = f;
    return 0;
}

/* ------------------------------------------------------------------------
 * The scripted clock: it moves only when the library pauses, by the pause.
 * The first pause runs the test's on_first_wait (the other process acts
 * then, while we are known to be waiting).
 * ------------------------------------------------------------------------ */

static int64_t fake_now;
static int pauses;
static void (*on_first_wait)(void);

static int64_t fake_clock(void)
{
    return fake_now;
}

static void fake_sleep(int64_t ms)
{
    if (pauses++ == 0 && on_first_wait != NULL)
        on_first_wait();
    fake_now += ms;
}

static void clock_install(void (*first_wait)(void))
{
    fake_now = 1000000;
    pauses = 0;
    on_first_wait = first_wait;
    sn_clock_set(fake_clock);
    sn_sleep_set(fake_sleep);
}

static int teardown(void **state)
{
    sn_transport_set(NULL);
    sn_clock_set(NULL);
    sn_sleep_set(NULL);
    on_first_wait = NULL;
    scratch_free(*state);
    return 0;
}

static sentinel_addr mkaddr(const char *host, int port, int64_t verified_at_ms)
{
    sentinel_addr a;

    memset(&a, 0, sizeof(a));
    snprintf(a.host, sizeof(a.host), "%s", host);
    a.port = port;
    a.verified_at_ms = verified_at_ms;
    return a;
}

static sentinel_shm_t *open_ok(const char *path)
{
    int code = -1;
    sentinel_shm_t *shm = sentinel_shm_open(path, &code);

    assert_non_null(shm);
    assert_int_equal(code, SENTINEL_OK);
    return shm;
}

/* A handle for "mymaster" whose one sentinel lives on the mock network. */
static sentinel_t *mock_handle(int total_ms)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), 0);
    if (total_ms > 0)
        assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, total_ms), 0);
    return s;
}

static sentinel_stats stats_of(const sentinel_t *s)
{
    sentinel_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    assert_int_equal(sentinel_get_stats(s, &st), 0);
    return st;
}

/* Exit status of a child, or 128 + signal. */
static int reap(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* The conditional updates as 1 changed, 0 not, -1 error. */
static int invalidated(sentinel_shm_t *shm, const char *host, int port, int lock_ms)
{
    int changed = -1;

    if (sentinel_shm_invalidate(shm, host, port, lock_ms, &changed) != SENTINEL_OK)
        return -1;
    return changed;
}

static int failover_set(sentinel_shm_t *shm, const char *host, int port, int on, int lock_ms)
{
    int changed = -1;

    if (sentinel_shm_set_failover(shm, host, port, on, lock_ms, &changed) != SENTINEL_OK)
        return -1;
    return changed;
}

/* The other process of a waiting test: its pid, the pipe it reads "go"
 * from, and its exit status once on_first_wait has reaped it. */
static pid_t other;
static int other_go = -1, other_status = -1;

/* In the child: wait (bounded) for the parent's go. */
static int child_await_go(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&p, 1, 30000) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

/* on_first_wait: the other process acts now; wait until it has. */
static void other_go_and_reap(void)
{
    other_status = write(other_go, "G", 1) == 1 ? reap(other) : -2;
}

/* on_first_wait: the other process dies now (SIGKILL). */
static void other_kill_and_reap(void)
{
    kill(other, SIGKILL);
    other_status = reap(other);
}

static uint64_t slot_seq(const sentinel_shm_t *shm)
{
    return atomic_load(&sn_shm_mapping(shm)->slot.seq);
}

static void write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

/* A host follower's last heartbeat, age_ms ago (wall clock, as it stamps). */
static void beat_ago(sentinel_shm_t *shm, int64_t age_ms)
{
    atomic_store(&sn_shm_mapping(shm)->heartbeat, sn_wall_ms() - age_ms);
}

/* ------------------------------------------------------------------------
 * The file: entries, conditional updates, format checks
 * ------------------------------------------------------------------------ */

static void test_write_read_round_trip(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1234);
    sentinel_shm_entry e;
    struct stat st;
    int64_t before, after;

    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, SN_SHM_SIZE);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(memcmp(sn_shm_mapping(shm), SN_SHM_MAGIC, 8), 0);

    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY); /* new file: empty */
    assert_int_equal(sentinel_shm_read(shm, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_read(NULL, &e), SENTINEL_ERR_INVALID_ARGUMENT);

    before = sn_wall_ms();
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    after = sn_wall_ms();
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.3");
    assert_int_equal(e.addr.port, 6379);
    assert_int_equal(e.addr.verified_at_ms, 1234);
    assert_true(e.expires_at_ms >= before + 60000 && e.expires_at_ms <= after + 60000);
    assert_int_equal(e.flags, 0);
    assert_int_equal(e.generation, 1);
    assert_int_equal(slot_seq(shm) & 1, 0);

    a = mkaddr("10.1.2.4", 6380, 99);
    assert_int_equal(sentinel_shm_write(shm, &a, 1000, SENTINEL_SHM_FAILOVER, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.4");
    assert_int_equal(e.addr.port, 6380);
    assert_int_equal(e.flags, SENTINEL_SHM_FAILOVER);
    assert_int_equal(e.generation, 2);

    /* Bad arguments change nothing. */
    a.port = 0;
    assert_int_equal(sentinel_shm_write(shm, &a, 1000, 0, 1000), SENTINEL_ERR_INVALID_ARGUMENT);
    a = mkaddr("10.1.2.5", 6379, 0);
    assert_int_equal(sentinel_shm_write(shm, &a, -1, 0, 1000), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_write(shm, NULL, 1000, 0, 1000), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.generation, 2);
    sentinel_shm_close(shm);

    /* The entry is in the file, not the handle. */
    shm = open_ok(f->path);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.4");
    sentinel_shm_close(shm);
}

static void test_invalidate_only_if_matches(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1);
    sentinel_shm_entry e;

    assert_int_equal(invalidated(shm, NULL, 0, 1000), 0); /* nothing there */
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);

    /* A late error about another master leaves the newer answer alone. */
    assert_int_equal(invalidated(shm, "10.9.9.9", 6379, 1000), 0);
    assert_int_equal(invalidated(shm, "10.1.2.3", 6380, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.3");
    assert_int_equal(e.generation, 1);

    assert_int_equal(invalidated(shm, "10.1.2.3", 6379, 1000), 1);
    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY);
    assert_int_equal(invalidated(shm, "10.1.2.3", 6379, 1000), 0); /* already */

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    assert_int_equal(invalidated(shm, NULL, 0, 1000), 1); /* whatever it names */
    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY);
    assert_int_equal(sentinel_shm_invalidate(NULL, NULL, 0, 1000, NULL),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    sentinel_shm_close(shm);
}

static void test_failover_flag_set_clear(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1);
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    assert_int_equal(failover_set(shm, "10.1.2.4", 6379, 1, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.flags & SENTINEL_SHM_FAILOVER, 0);

    assert_int_equal(failover_set(shm, "10.1.2.3", 6379, 1, 1000), 1);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.flags & SENTINEL_SHM_FAILOVER, SENTINEL_SHM_FAILOVER);
    assert_string_equal(e.addr.host, "10.1.2.3");
    assert_int_equal(e.generation, 2);
    assert_int_equal(failover_set(shm, "10.1.2.3", 6379, 1, 1000), 0);

    /* Clearing is as picky as setting. */
    assert_int_equal(failover_set(shm, "10.1.2.4", 6379, 0, 1000), 0);
    assert_int_equal(failover_set(shm, NULL, 0, 0, 1000), 1);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.flags & SENTINEL_SHM_FAILOVER, 0);
    assert_int_equal(e.generation, 3);
    assert_int_equal(failover_set(shm, "10.1.2.3", 6379, 0, 1000), 0);

    /* A new answer replaces a flagged entry and clears the flag. */
    assert_int_equal(failover_set(shm, "10.1.2.3", 6379, 1, 1000), 1);
    a = mkaddr("10.1.2.4", 6379, 2);
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.flags, 0);
    assert_string_equal(e.addr.host, "10.1.2.4");
    sentinel_shm_close(shm);
}

/* A host follower's heartbeat: absent in a new file, seen by every handle
 * once stamped, its age read from the wall clock, the entry untouched. */
static void test_heartbeat_stamp_and_age(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path), *other = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1);
    sentinel_shm_entry e;

    assert_true(sentinel_shm_heartbeat_age_ms(shm) == -1);
    assert_true(sentinel_shm_heartbeat_age_ms(NULL) == -1);
    assert_int_equal(sentinel_shm_heartbeat(NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    assert_int_equal(sentinel_shm_heartbeat(shm), 0);
    assert_true(sentinel_shm_heartbeat_age_ms(other) >= 0);
    /* An old beat (a publisher that died) reads as old. */
    atomic_store(&sn_shm_mapping(shm)->heartbeat, sn_wall_ms() - 10000);
    assert_true(sentinel_shm_heartbeat_age_ms(other) >= 10000);
    assert_int_equal(sentinel_shm_heartbeat(other), 0);
    assert_true(sentinel_shm_heartbeat_age_ms(shm) < 10000);
    /* The beat is no write: entry, generation and epoch stay. */
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.generation, 1);
    assert_true(sentinel_shm_epoch(shm) == 0);
    sentinel_shm_close(other);
    sentinel_shm_close(shm);
}

static void test_garbage_file_rejected(void **state)
{
    fixture *f = *state;
    unsigned char page[SN_SHM_SIZE], back[SN_SHM_SIZE];
    int code = -1, fd;
    sentinel_shm_t *shm;

    /* Right size, wrong content. */
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (unsigned char)(i * 131 + 7);
    write_file(f->path, page, sizeof(page));
    assert_null(sentinel_shm_open(f->path, &code));
    assert_int_equal(code, SENTINEL_ERR_PROTOCOL);
    fd = open(f->path, O_RDONLY);
    assert_int_equal(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
    close(fd);
    assert_memory_equal(page, back, sizeof(page)); /* and left alone */

    /* Wrong size. */
    write_file(f->path, "not a cache\n", 12);
    code = -1;
    assert_null(sentinel_shm_open(f->path, &code));
    assert_int_equal(code, SENTINEL_ERR_PROTOCOL);

    /* Good magic, other version. */
    unlink(f->path);
    sentinel_shm_close(open_ok(f->path));
    fd = open(f->path, O_RDONLY);
    assert_int_equal(read(fd, page, sizeof(page)), (ssize_t)sizeof(page));
    close(fd);
    page[offsetof(sn_shm_file, version)] = 99;
    write_file(f->path, page, sizeof(page));
    code = -1;
    assert_null(sentinel_shm_open(f->path, &code));
    assert_int_equal(code, SENTINEL_ERR_PROTOCOL);

    /* An all-zero page is a file whose creator died before the header:
     * adopted, not rejected. */
    memset(page, 0, sizeof(page));
    write_file(f->path, page, sizeof(page));
    shm = open_ok(f->path);
    sentinel_shm_close(shm);

    assert_null(sentinel_shm_open(NULL, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
}

static void test_planted_files_refused(void **state)
{
    fixture *f = *state;
    char link[160];
    int code = -1;

    sentinel_shm_close(open_ok(f->path));

    snprintf(link, sizeof(link), "%s/link.shm", f->dir);
    assert_int_equal(symlink(f->path, link), 0);
    assert_null(sentinel_shm_open(link, &code));
    assert_int_equal(code, SENTINEL_ERR_SYSTEM);
    assert_int_equal(errno, ELOOP);

    assert_int_equal(chmod(f->path, 0620), 0);
    code = -1;
    assert_null(sentinel_shm_open(f->path, &code));
    assert_int_equal(code, SENTINEL_ERR_SYSTEM);
    assert_int_equal(errno, EPERM);
    assert_int_equal(chmod(f->path, 0600), 0);

    if (geteuid() != 0) {
        /* Only root can give a file away; the ownership check needs it. */
        skip();
    }
    assert_int_equal(chown(f->path, 65534, 65534), 0);
    code = -1;
    assert_null(sentinel_shm_open(f->path, &code));
    assert_int_equal(code, SENTINEL_ERR_SYSTEM);
    assert_int_equal(errno, EPERM);
}

static void test_two_handles_see_each_others_writes(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *one = open_ok(f->path), *two = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), b = mkaddr("10.1.2.4", 6380, 2);
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(one, &a, 60000, 0, 1000), 0);
    assert_int_equal(sentinel_shm_read(two, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.3");
    assert_int_equal(sentinel_shm_write(two, &b, 60000, 0, 1000), 0);
    assert_int_equal(sentinel_shm_read(one, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.4");
    assert_int_equal(e.generation, 2);
    assert_int_equal(invalidated(one, "10.1.2.4", 6380, 1000), 1);
    assert_int_equal(sentinel_shm_read(two, &e), SENTINEL_NO_ENTRY);

    /* The writer lock excludes another open file, even in one process. */
    assert_int_equal(sn_shm_writer_lock(one, 0), 0);
    assert_int_equal(sentinel_shm_write(two, &a, 60000, 0, 20), SENTINEL_ERR_TIMEOUT);
    assert_int_equal(errno, EWOULDBLOCK);
    sn_shm_writer_unlock(one);
    assert_int_equal(sentinel_shm_write(two, &a, 60000, 0, 20), 0);
    sentinel_shm_close(one);
    sentinel_shm_close(two);
}

/* Four processes create the same new file at once; all must end up with a
 * valid cache and one shared slot. */
static void test_concurrent_creation(void **state)
{
    fixture *f = *state;
    int gate[2];
    pid_t kids[4];
    sentinel_shm_t *shm;
    sentinel_shm_entry e;

    assert_int_equal(pipe(gate), 0);
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            char c;
            sentinel_shm_t *mine;
            sentinel_addr a = mkaddr("10.0.0.1", 1001, 1);
            close(gate[1]);
            if (read(gate[0], &c, 1) != 0) /* EOF: everyone starts now */
                _exit(2);
            if ((mine = sentinel_shm_open(f->path, NULL)) == NULL)
                _exit(3);
            if (sentinel_shm_write(mine, &a, 60000, 0, 5000) != 0)
                _exit(4);
            sentinel_shm_close(mine);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int i = 0; i < 4; i++)
        assert_int_equal(reap(kids[i]), 0);
    shm = open_ok(f->path);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.0.0.1");
    assert_int_equal(e.generation, 4);
    sentinel_shm_close(shm);
}

static void set_seeds(sentinel_t *s, const char *list)
{
    assert_int_equal(sentinel_add_sentinels(s, list), 0);
}

static void test_default_path_stable_and_distinct(void **state)
{
    sentinel_t *a = sentinel_new("mymaster", NULL), *b = sentinel_new("mymaster", NULL);
    sentinel_t *c = sentinel_new("othermaster", NULL), *d = sentinel_new("mymaster", NULL);
    char pa[256], pb[256], pc[256], pd[256], small[20];
    const char *base;
    sn_err ignored;
    sn_hostport hp;

    (void)state;
    set_seeds(a, "10.0.0.1:26379,10.0.0.2:26379,[::1]:26380");
    set_seeds(b, "[::1]:26380 10.0.0.2:26379 10.0.0.1:26379");
    set_seeds(c, "10.0.0.1:26379,10.0.0.2:26379,[::1]:26380");
    set_seeds(d, "10.0.0.1:26379,10.0.0.2:26379");

    assert_int_equal(sentinel_shm_default_path(a, "/run/x", pa, sizeof(pa)), 0);
    assert_int_equal(sentinel_shm_default_path(b, "/run/x", pb, sizeof(pb)), 0);
    assert_int_equal(sentinel_shm_default_path(c, "/run/x", pc, sizeof(pc)), 0);
    assert_int_equal(sentinel_shm_default_path(d, "/run/x", pd, sizeof(pd)), 0);
    assert_string_equal(pa, pb);  /* same set, other order */
    assert_string_not_equal(pa, pc); /* other master name */
    assert_string_not_equal(pa, pd); /* other set */

    /* dir/libsentinel-<16 hex digits>.shm */
    assert_int_equal(strncmp(pa, "/run/x/libsentinel-", 19), 0);
    assert_int_equal(strlen(pa), 19 + 16 + 4);
    assert_int_equal(strspn(pa + 19, "0123456789abcdef"), 16);
    assert_string_equal(pa + 35, ".shm");

    /* Resolution reorders the list and may put a discovered sentinel ahead
     * of the seeds; the file must stay the same. */
    assert_int_equal(sn_config_add_sentinel(&a->cfg, "10.0.0.9", 26379, &ignored), 0);
    hp = a->cfg.sentinels[3];
    memmove(&a->cfg.sentinels[1], &a->cfg.sentinels[0], 3 * sizeof(hp));
    a->cfg.sentinels[0] = hp;
    assert_int_equal(sentinel_shm_default_path(a, "/run/x", pc, sizeof(pc)), 0);
    assert_string_equal(pa, pc);

    assert_int_equal(sentinel_shm_default_path(a, NULL, pc, sizeof(pc)), 0);
    base = access("/dev/shm", F_OK) == 0 ? "/dev/shm/libsentinel-" : "/tmp/libsentinel-";
    assert_int_equal(strncmp(pc, base, strlen(base)), 0);
    assert_int_equal(sentinel_shm_default_path(a, "/run/x", small, sizeof(small)),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_default_path(NULL, "/run/x", pa, sizeof(pa)),
                     SENTINEL_ERR_INVALID_ARGUMENT);

    sentinel_free(a);
    sentinel_free(b);
    sentinel_free(c);
    sentinel_free(d);
}

/* ------------------------------------------------------------------------
 * Concurrency and crashes
 * ------------------------------------------------------------------------ */

#define WRITES_PER_WRITER 20000
#define READS_PER_READER 100000

/* Entry N: host 10.0.0.N, port 1000 + N, verified_at_ms N. */
static sentinel_addr entry_n(int n)
{
    char host[32];

    snprintf(host, sizeof(host), "10.0.0.%d", n);
    return mkaddr(host, 1000 + n, n);
}

static void writer_child(sentinel_shm_t *inherited, const char *path, int w)
{
    sentinel_shm_t *shm = inherited ? inherited : sentinel_shm_open(path, NULL);

    if (shm == NULL)
        _exit(10);
    for (int i = 0; i < WRITES_PER_WRITER; i++) {
        sentinel_addr a = entry_n(w * 2 + (i % 2) + 1); /* writer 0: 1,2; writer 1: 3,4 */
        if (sentinel_shm_write(shm, &a, 60000, 0, 5000) != 0)
            _exit(11);
    }
    _exit(0);
}

static void reader_child(sentinel_shm_t *shm)
{
    uint64_t last_gen = 0;
    long ok = 0;

    for (int i = 0; i < READS_PER_READER; i++) {
        sentinel_shm_entry e;
        int n, rc = sentinel_shm_read(shm, &e);
        if (rc == SENTINEL_NO_ENTRY)
            continue; /* mid-update: allowed, garbage is not */
        if (rc != 0)
            _exit(20);
        if (sscanf(e.addr.host, "10.0.0.%d", &n) != 1 || n < 1 || n > 4)
            _exit(21);
        if (e.addr.port != 1000 + n || e.addr.verified_at_ms != n)
            _exit(22);
        if (e.generation < last_gen) /* never goes back */
            _exit(23);
        last_gen = e.generation;
        ok++;
    }
    _exit(ok > 0 ? 0 : 24);
}

static void test_concurrent_readers_and_writers(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_addr first = entry_n(1);
    sentinel_shm_entry e;
    pid_t kids[4];

    assert_int_equal(sentinel_shm_write(shm, &first, 60000, 0, 1000), 0);
    /* Writer 0 uses the handle it inherited (its lock must reopen the file),
     * writer 1 opens its own; readers use the inherited mapping. */
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            if (k < 2)
                writer_child(k == 0 ? shm : NULL, f->path, k);
            reader_child(shm);
        }
    }
    for (int k = 0; k < 4; k++)
        assert_int_equal(reap(kids[k]), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.generation, 1 + 2 * WRITES_PER_WRITER); /* no write lost */
    sentinel_shm_close(shm);
}

static void test_writer_killed_mid_update(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path), *other;
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), b = mkaddr("10.1.2.4", 6380, 2);
    sentinel_shm_entry e;
    pid_t pid;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The inherited handle, as a forked PHP worker would use it. */
        if (sn_shm_writer_lock(shm, 1000) != 0)
            _exit(2);
        sn_shm_test_write_half(shm, "10.6.6.6", 6666);
        raise(SIGKILL);
        _exit(3);
    }
    assert_int_equal(reap(pid), 128 + SIGKILL);

    /* Readers see "mid-update", never the half-written entry. */
    assert_int_equal(slot_seq(shm) & 1, 1);
    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY);
    assert_string_equal(e.addr.host, "");
    other = open_ok(f->path);
    assert_int_equal(sentinel_shm_read(other, &e), SENTINEL_NO_ENTRY);

    /* The kernel dropped the dead writer's lock: another open file gets it,
     * and its write repairs the slot. */
    assert_int_equal(sentinel_shm_write(other, &b, 60000, 0, 1000), 0);
    assert_int_equal(slot_seq(shm) & 1, 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.4");
    assert_int_equal(e.addr.port, 6380);
    assert_true(e.generation > 1);
    sentinel_shm_close(other);
    sentinel_shm_close(shm);
}

static void test_torn_entry_with_even_seq_detected(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1);
    sn_shm_slot *slot = &sn_shm_mapping(shm)->slot;
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    /* A stray write into the host, seq untouched (still even). */
    atomic_fetch_xor(&slot->words[0], 0x01);
    assert_int_equal(slot_seq(shm) & 1, 0);
    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY);
    /* A conditional update cannot trust it either: it repairs to empty. */
    assert_int_equal(invalidated(shm, "10.1.2.3", 6379, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), SENTINEL_NO_ENTRY);
    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_string_equal(e.addr.host, "10.1.2.3");
    sentinel_shm_close(shm);
}

/* ------------------------------------------------------------------------
 * sentinel_resolve_shared()
 * ------------------------------------------------------------------------ */

static void test_resolve_shared_fresh_entry_no_network(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(0);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 77), out;
    sentinel_stats st;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
        assert_string_equal(out.host, "10.1.2.3");
        assert_int_equal(out.port, 6379);
        assert_int_equal(out.verified_at_ms, 77);
    }
    st = stats_of(s);
    assert_int_equal(mock_opens, 0);
    assert_int_equal(st.sentinel_queries, 0);
    assert_int_equal(st.resolutions, 10);
    assert_int_equal(st.cache_hits, 10);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

static void test_resolve_shared_empty_refreshes_and_publishes(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path), *other = open_ok(f->path);
    sentinel_t *s = mock_handle(0), *t = mock_handle(300); /* t's refresh fails fast */
    sentinel_addr out;
    sentinel_shm_entry e;
    int opens;

    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_string_equal(out.host, "127.0.0.1");
    assert_int_equal(out.port, 6380);
    assert_true(out.verified_at_ms > 0);
    assert_true(mock_opens > 0);
    assert_true(stats_of(s).sentinel_queries > 0);
    assert_int_equal(stats_of(s).resolutions, 1);

    assert_int_equal(sentinel_shm_read(other, &e), 0);
    assert_string_equal(e.addr.host, "127.0.0.1");
    assert_int_equal(e.addr.port, 6380);
    assert_true(e.expires_at_ms > sn_wall_ms());

    /* Another handle (another process, in real life) is served from it. */
    opens = mock_opens;
    assert_int_equal(sentinel_resolve_shared(t, other, 0, &out), SENTINEL_OK);
    assert_int_equal(out.port, 6380);
    assert_int_equal(mock_opens, opens);
    assert_int_equal(stats_of(t).cache_hits, 1);
    assert_int_equal(stats_of(t).sentinel_queries, 0);

    /* A failed refresh reports the resolver's error. */
    assert_int_equal(invalidated(shm, NULL, 0, 1000), 1);
    mock_fail_open = 1;
    assert_int_equal(sentinel_resolve_shared(t, other, 0, &out),
                     SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(sentinel_errcode(t), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(stats_of(t).errors, 1);
    assert_int_equal(sentinel_resolve_shared(t, other, 0, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_resolve_shared(t, NULL, 0, &out), SENTINEL_ERR_INVALID_ARGUMENT);
    sentinel_free(s);
    sentinel_free(t);
    sentinel_shm_close(shm);
    sentinel_shm_close(other);
}

static void test_resolve_shared_expired_entry_refreshed(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(0);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(shm, &a, 0, 0, 1000), 0); /* expires at once */
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_true(e.expires_at_ms <= sn_wall_ms());
    assert_int_equal(e.generation, 1);

    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_string_equal(out.host, "127.0.0.1"); /* asked, not served the stale one */
    assert_int_equal(out.port, 6380);
    assert_true(mock_opens > 0);
    assert_int_equal(stats_of(s).cache_hits, 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.addr.port, 6380);
    assert_int_equal(e.generation, 2);
    assert_true(e.expires_at_ms > sn_wall_ms());
    sentinel_free(s);
    sentinel_shm_close(shm);
}

static void test_resolve_shared_failover_fail_fast(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(0);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, SENTINEL_SHM_FAILOVER, 1000), 0);
    assert_int_equal(sentinel_shm_heartbeat(shm), 0); /* its host follower is alive */
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, &out),
                     SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_NOT_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "failover of 10.1.2.3:6379 in progress"));
    assert_int_equal(mock_opens, 0);
    assert_int_equal(stats_of(s).errors, 1);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

static void test_resolve_shared_failover_times_out(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(100);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    int64_t start;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, SENTINEL_SHM_FAILOVER, 1000), 0);
    assert_int_equal(sentinel_shm_heartbeat(shm), 0); /* its host follower is alive */
    clock_install(NULL);
    start = sn_now_ms();
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_ERR_TIMEOUT);
    assert_non_null(strstr(sentinel_errstr(s), "10.1.2.3:6379"));
    assert_int_equal(mock_opens, 0); /* waiting is not asking */
    /* It waited for the whole 100 ms total, and not a millisecond longer. */
    assert_int_equal(sn_now_ms() - start, 100);
    assert_true(pauses > 1); /* polling, with backoff */
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* A watcher (here a child) publishes the new master while we wait. */
static void test_resolve_shared_failover_waits_for_new_master(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(10000);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    int go[2];

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, SENTINEL_SHM_FAILOVER, 1000), 0);
    beat_ago(shm, -60000); /* its host follower beats throughout, however slow the child */
    assert_int_equal(pipe(go), 0);
    other = fork();
    assert_true(other >= 0);
    if (other == 0) {
        sentinel_addr b = mkaddr("10.1.2.4", 6380, 2);
        close(go[1]);
        if (child_await_go(go[0]) != 0)
            _exit(2);
        _exit(sentinel_shm_write(shm, &b, 60000, 0, 1000) == 0 ? 0 : 1);
    }
    close(go[0]);
    other_go = go[1];
    clock_install(other_go_and_reap); /* publish once we wait */
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    close(go[1]);
    assert_int_equal(other_status, 0);
    assert_int_equal(pauses, 1); /* it waited, and saw the answer next */
    assert_string_equal(out.host, "10.1.2.4");
    assert_int_equal(out.port, 6380);
    assert_int_equal(mock_opens, 0);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* While another process holds the refresher role we wait for its answer and
 * never ask the network ourselves (the mock refuses every connection). The
 * child publishes, once we wait, before it lets go: asking would be a bug. */
static void test_resolve_shared_waits_for_other_refresher(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(10000);
    sentinel_addr out;
    int ready[2], go[2];
    char c;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    other = fork();
    assert_true(other >= 0);
    if (other == 0) {
        sentinel_shm_t *mine = sentinel_shm_open(f->path, NULL);
        sentinel_addr b = mkaddr("10.9.9.9", 7000, 5);
        close(go[1]);
        if (mine == NULL || sn_shm_refresh_trylock(mine) != 0)
            _exit(2);
        if (write(ready[1], "R", 1) != 1)
            _exit(3);
        if (child_await_go(go[0]) != 0) /* "asking the sentinels" */
            _exit(5);
        if (sentinel_shm_write(mine, &b, 60000, 0, 1000) != 0)
            _exit(4);
        sn_shm_refresh_unlock(mine);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(sn_shm_refresh_trylock(shm), 1); /* taken by the child */

    mock_fail_open = 1;
    other_go = go[1];
    clock_install(other_go_and_reap);
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    close(go[1]);
    assert_int_equal(other_status, 0);
    assert_int_equal(pauses, 1);
    assert_string_equal(out.host, "10.9.9.9");
    assert_int_equal(out.port, 7000);
    assert_int_equal(mock_opens, 0);
    assert_int_equal(stats_of(s).sentinel_queries, 0);
    assert_int_equal(stats_of(s).shared_waits, 1);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* A refresher SIGKILLed while holding its role does not wedge the others:
 * the kernel drops its lock and a waiting process takes over. */
static void test_resolve_shared_refresher_killed(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(10000);
    sentinel_addr out;
    sentinel_shm_entry e;
    int ready[2];
    char c;

    assert_int_equal(pipe(ready), 0);
    other = fork();
    assert_true(other >= 0);
    if (other == 0) {
        /* The inherited handle: taking the role must reopen the file so the
         * lock dies with this process. */
        if (sn_shm_refresh_trylock(shm) != 0)
            _exit(2);
        if (write(ready[1], "R", 1) != 1)
            _exit(3);
        alarm(30); /* never outlive a failed test by much */
        for (;;)
            pause();
    }
    close(ready[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(sn_shm_refresh_trylock(shm), 1);

    clock_install(other_kill_and_reap); /* it dies once we wait for it */
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_int_equal(other_status, 128 + SIGKILL);
    assert_int_equal(pauses, 1);
    assert_string_equal(out.host, "127.0.0.1");
    assert_int_equal(out.port, 6380);
    assert_true(mock_opens > 0); /* we took over and asked */
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.addr.port, 6380);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* A slot a writer died in is treated as stale and repaired by the refresh. */
static void test_resolve_shared_repairs_dead_writers_slot(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(0);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    sentinel_shm_entry e;
    pid_t pid;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sentinel_shm_t *mine = sentinel_shm_open(f->path, NULL);
        if (mine == NULL || sn_shm_writer_lock(mine, 1000) != 0)
            _exit(2);
        sn_shm_test_write_half(mine, "10.6.6.6", 6666);
        _exit(0); /* dies without finishing: as good as killed */
    }
    assert_int_equal(reap(pid), 0);
    assert_int_equal(slot_seq(shm) & 1, 1);
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_int_equal(out.port, 6380);
    assert_int_equal(slot_seq(shm) & 1, 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.addr.port, 6380);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* Once a host follower beat in the file, its entry (kept fresh for a long
 * TTL) is served only while it beats: after it died a failover may have
 * made the entry wrong. The reader resolves on its own and leaves the file
 * alone. Fails on the old code (the dead follower's entry was served). */
static void test_resolve_shared_dead_publishers_entry_not_served(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(0);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, 0, 1000), 0);
    beat_ago(shm, SENTINEL_SHM_HEARTBEAT_FRESH_MS - 1000); /* alive: served, no traffic */
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_int_equal(out.port, 6379);
    assert_int_equal(mock_opens, 0);

    beat_ago(shm, SENTINEL_SHM_HEARTBEAT_FRESH_MS + 1000); /* died a while ago */
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_string_equal(out.host, "127.0.0.1"); /* asked, not served the dead one's word */
    assert_int_equal(out.port, 6380);
    assert_true(mock_opens > 0);
    assert_true(stats_of(s).sentinel_queries > 0);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_int_equal(e.addr.port, 6379); /* the file is left as it was */
    assert_int_equal(e.generation, 1);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

/* A failover flag counts only under a fresh heartbeat: one whose setter
 * died (no heartbeat ever, or a stale one) would otherwise fail or stall
 * every call until the entry expires. Fails on the old code (NOT_MASTER). */
static void test_resolve_shared_flag_without_fresh_beat_ignored(void **state)
{
    fixture *f = *state;
    sentinel_shm_t *shm = open_ok(f->path);
    sentinel_t *s = mock_handle(10000);
    sentinel_addr a = mkaddr("10.1.2.3", 6379, 1), out;
    sentinel_shm_entry e;

    assert_int_equal(sentinel_shm_write(shm, &a, 60000, SENTINEL_SHM_FAILOVER, 1000), 0);
    assert_true(sentinel_shm_heartbeat_age_ms(shm) == -1); /* nobody ever beat */
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, &out),
                     SENTINEL_OK);
    assert_string_equal(out.host, "127.0.0.1");
    assert_int_equal(out.port, 6380);
    assert_true(mock_opens > 0);

    /* Served from the handle's own cache next time; without waiting. */
    mock_opens = 0;
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &out), SENTINEL_OK);
    assert_int_equal(out.port, 6380);
    assert_int_equal(mock_opens, 0);

    beat_ago(shm, SENTINEL_SHM_HEARTBEAT_FRESH_MS + 1000); /* a dead host follower's flag */
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, &out),
                     SENTINEL_OK);
    assert_int_equal(out.port, 6380);
    assert_int_equal(sentinel_shm_read(shm, &e), 0);
    assert_true(e.flags & SENTINEL_SHM_FAILOVER); /* left for whoever keeps it */

    beat_ago(shm, 0); /* a live one's flag holds */
    assert_int_equal(sentinel_resolve_shared(s, shm, SENTINEL_RESOLVE_FAIL_FAST, &out),
                     SENTINEL_ERR_NOT_MASTER);
    sentinel_free(s);
    sentinel_shm_close(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_only_if_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover_flag_set_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_stamp_and_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles_see_each_others_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_creation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_path_stable_and_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers_and_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_killed_mid_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_entry_with_even_seq_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_fresh_entry_no_network, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_empty_refreshes_and_publishes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_expired_entry_refreshed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_failover_fail_fast, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_failover_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_failover_waits_for_new_master,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_waits_for_other_refresher, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_refresher_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_dead_publishers_entry_not_served,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_flag_without_fresh_beat_ignored,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_shared_repairs_dead_writers_slot, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
