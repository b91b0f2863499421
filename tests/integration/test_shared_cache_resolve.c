/*
 * The shared cache against a real topology: many processes resolving
 * through one file cause a handful of sentinel queries, not one per call
 * (DESIGN.md behaviour 7, "one per host"), and after a failover an
 * invalidation of the old master makes the next resolution find the new one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/wait.h>

#include "it_common.h"
#include "sentinel/shared_cache.h"

#define PROCS 4

#define CALLS_PER_PROC 200

static char tmpdir[64];

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sn-it-shm-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    topo = it_start(NULL);
    return topo ? 0 : -1;
}

static int group_teardown(void **state)
{
    char path[256];

    (void)state;
    topo_stop(topo);
    topo = NULL;
    /* A failed test may have left its file behind (each test removes its
     * own on success); the default-path file has a hashed name. */
    snprintf(path, sizeof(path), "%s/failover.shm", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "rm -f %s/libsentinel-*.shm", tmpdir);
    if (system(path) != 0)
        fprintf(stderr, "could not clean %s\n", tmpdir);
    rmdir(tmpdir);
    return 0;
}

/* Commands all sentinels processed so far: what the sentinels saw,
 * independent of the library's counters. (Redis 7.0 sentinels have no
 * INFO commandstats, so this includes their background PINGs to each
 * other; the test subtracts a window measured at rest.) -1 on error. */
/* Connections the sentinels accepted. The library opens one to each
 * sentinel it asks; the sentinels' links to each other and to the data
 * nodes are long-lived, so otherwise the count moves by the harness' own
 * INFO connections, which two readings back to back measure. */
static long long sentinel_connections_total(void)
{
    long long total = 0;

    for (int i = 0; i < topo_sentinel_count(topo); i++) {
        long long n;
        if (topo_sentinel_info_stat(topo, i, "total_connections_received", &n) != 0)
            return -1;
        total += n;
    }
    return total;
}

static int reap(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* What each child reports through the pipe. */
typedef struct child_report {
    int wrong;                 /* resolutions that failed or named another node */
    uint64_t resolutions;
    uint64_t cache_hits;
    uint64_t sentinel_queries;
} child_report;

/*
 * A child, playing a PHP-FPM worker: the cache file either inherited from
 * the parent (opened "in MINIT") or opened itself, and a NEW handle for
 * every call, as a request without persistent handles has. That is the
 * case the shared cache is for: each fresh handle has an empty in-process
 * cache, so without the file every call would ask the sentinels.
 */
static void resolver_child(sentinel_shm_t *inherited, const char *path, int gate, int out,
                           int master_port)
{
    sentinel_shm_t *shm = inherited ? inherited : sentinel_shm_open(path, NULL);
    child_report rep;
    char c;

    memset(&rep, 0, sizeof(rep));
    if (shm == NULL)
        _exit(2);
    if (read(gate, &c, 1) != 0) /* EOF: all start together */
        _exit(3);
    for (int i = 0; i < CALLS_PER_PROC; i++) {
        sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
        sentinel_stats st;
        sentinel_addr a;

        if (s == NULL || sentinel_add_sentinels(s, topo_sentinel_list(topo)) != 0)
            _exit(4);
        if (sentinel_resolve_shared(s, shm, 0, &a) != SENTINEL_OK || a.port != master_port)
            rep.wrong++;
        memset(&st, 0, sizeof(st));
        st.size = sizeof(st);
        if (sentinel_get_stats(s, &st) != 0)
            _exit(5);
        rep.resolutions += st.resolutions;
        rep.cache_hits += st.cache_hits;
        rep.sentinel_queries += st.sentinel_queries;
        sentinel_free(s);
    }
    if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
        _exit(5);
    _exit(0);
}

static void test_processes_share_one_resolution(void **state)
{
    sentinel_t *s = it_handle(topo);
    char path[256];
    sentinel_shm_t *shm;
    int gate[2], results[2], master_port = topo_master_port(topo);
    pid_t kids[PROCS];
    long long before, after, again, seen, own;
    uint64_t resolutions = 0, hits = 0, queries = 0;

    (void)state;
    assert_true(master_port > 0);
    assert_int_equal(sentinel_shm_default_path(s, tmpdir, path, sizeof(path)), 0);
    shm = sentinel_shm_open(path, NULL);
    assert_non_null(shm);
    before = sentinel_connections_total();
    assert_true(before >= 0);

    assert_int_equal(pipe(gate), 0);
    assert_int_equal(pipe(results), 0);
    for (int k = 0; k < PROCS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            close(gate[1]);
            close(results[0]);
            resolver_child(k % 2 ? NULL : shm, path, gate[0], results[1], master_port);
        }
    }
    close(gate[0]);
    close(gate[1]); /* go */
    close(results[1]);
    for (int k = 0; k < PROCS; k++) {
        child_report rep;
        assert_int_equal(read(results[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
        assert_int_equal(rep.wrong, 0);
        resolutions += rep.resolutions;
        hits += rep.cache_hits;
        queries += rep.sentinel_queries;
    }
    close(results[0]);
    for (int k = 0; k < PROCS; k++)
        assert_int_equal(reap(kids[k]), 0);
    after = sentinel_connections_total();
    assert_true(after >= 0);
    again = sentinel_connections_total();
    assert_true(again >= 0);
    own = again - after; /* one reading's own connections */
    seen = (after - before) - own;

    fprintf(stderr, "# %d processes x %d calls (a new handle each): %llu sentinel queries by "
                    "the library, %llu shared-cache hits; sentinels accepted %lld connections "
                    "from the library (%lld in all, %lld per reading of the counter)\n",
            PROCS, CALLS_PER_PROC, (unsigned long long)queries, (unsigned long long)hits, seen,
            after - before, own);
    assert_int_equal(resolutions, PROCS * CALLS_PER_PROC);
    assert_true(queries >= 1); /* the file started empty: someone asked */
    /* Without the file each call would cost 2 queries (1600 in all). */
    assert_true(queries <= 8);
    assert_true(hits >= PROCS * CALLS_PER_PROC - 4);
    /* The sentinels agree: at most a connection per query the library
     * counted (not one per call: 800), with room for a link between
     * sentinels that reconnects. */
    assert_true(seen >= 1);
    assert_true(seen <= (long long)queries + 4);

    sentinel_shm_close(shm);
    unlink(path);
    sentinel_free(s);
}

static void test_failover_then_invalidate_finds_new_master(void **state)
{
    sentinel_t *s = it_handle(topo);
    char path[256], role[32];
    sentinel_shm_t *shm;
    sentinel_addr a, b;
    sentinel_stats st;
    int old_port, new_port, ready[2], changed = -1;
    pid_t pid;

    (void)state;
    snprintf(path, sizeof(path), "%s/failover.shm", tmpdir);
    shm = sentinel_shm_open(path, NULL);
    assert_non_null(shm);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
    old_port = topo_master_port(topo);
    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &a), SENTINEL_OK);
    assert_int_equal(a.port, old_port);

    assert_int_equal(topo_failover(topo), 0);
    new_port = topo_wait_switch(topo, old_port, IT_SWITCH_WAIT_MS);
    assert_true(new_port > 0);
    assert_int_not_equal(new_port, old_port);

    /* A late error about a node the entry does not name erases nothing. */
    assert_int_equal(sentinel_shm_invalidate(shm, a.host, new_port, 1000, &changed), SENTINEL_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(sentinel_shm_invalidate(shm, a.host, old_port, 1000, &changed), SENTINEL_OK);
    assert_int_equal(changed, 1);

    assert_int_equal(sentinel_resolve_shared(s, shm, 0, &b), SENTINEL_OK);
    assert_int_equal(b.port, new_port);
    assert_string_equal(it_role(b.port, NULL, role, sizeof(role)), "master");

    /* Another process is now served the new master from the file. */
    assert_int_equal(pipe(ready), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sentinel_t *mine = sentinel_new(topo_master_name(topo), NULL);
        sentinel_shm_t *own = sentinel_shm_open(path, NULL);
        sentinel_addr c;
        int port = -1;
        close(ready[0]);
        if (mine && own && sentinel_add_sentinels(mine, topo_sentinel_list(topo)) == 0 &&
            sentinel_resolve_shared(mine, own, 0, &c) == SENTINEL_OK) {
            memset(&st, 0, sizeof(st));
            st.size = sizeof(st);
            sentinel_get_stats(mine, &st);
            port = st.sentinel_queries == 0 ? c.port : -2;
        }
        _exit(write(ready[1], &port, sizeof(port)) == (ssize_t)sizeof(port) ? 0 : 1);
    }
    close(ready[1]);
    {
        int port = 0;
        assert_int_equal(read(ready[0], &port, sizeof(port)), (ssize_t)sizeof(port));
        assert_int_equal(port, new_port);
    }
    close(ready[0]);
    assert_int_equal(reap(pid), 0);

    sentinel_shm_close(shm);
    unlink(path);
    sentinel_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processes_share_one_resolution),
        cmocka_unit_test(test_failover_then_invalidate_finds_new_master),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
