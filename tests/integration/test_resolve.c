/*
 * Resolution against a real topology: DESIGN.md library behaviours 1, 2, 7,
 * 8, 9 and 10, and the bad-input cases that need real processes (a sentinel
 * that accepts and never answers, all sentinels down).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "it_common.h"

static void assert_is_master(const sentinel_addr *a)
{
    char role[32];

    assert_int_equal(a->port, topo_master_port(topo));
    assert_string_equal(it_role(a->port, NULL, role, sizeof(role)), "master");
    assert_true(a->verified_at_ms > 0);
}

/* Behaviour 1: tried in list order; the one that answers moves to the head. */
static void test_sentinels_tried_in_order_answering_one_moves_to_head(void **state)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;
    char host[64];
    int port;

    (void)state;
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", it_dead_port()), 0);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", topo_sentinel_port(topo, 1)), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_is_master(&a);
    assert_int_equal(sentinel_get_sentinel(s, 0, host, sizeof(host), &port), 0);
    assert_int_equal(port, topo_sentinel_port(topo, 1));
    sentinel_free(s);
}

/* Behaviour 2: an unknown name is its own error, not "unreachable". */
static void test_unknown_master_name_is_distinct_error(void **state)
{
    sentinel_t *s = sentinel_new("no-such-master", NULL);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_add_sentinels(s, topo_sentinel_list(topo)), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_UNKNOWN_MASTER);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_UNKNOWN_MASTER);
    assert_non_null(strstr(sentinel_errstr(s), "no-such-master"));
    sentinel_free(s);
}

/* Behaviour 2: nothing listening anywhere is "no sentinel reachable". */
static void test_no_sentinel_reachable_is_distinct_error(void **state)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", it_dead_port()), 0);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", it_dead_port()), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 500), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    sentinel_free(s);
}

/* Bad input: a sentinel that accepts and never answers (SIGSTOP) is skipped
 * after the per-command timeout; alone, it ends in SENTINEL_ERR_TIMEOUT. */
static void test_silent_sentinel_is_skipped_then_times_out(void **state)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;
    int code;

    (void)state;
    assert_int_equal(kill(topo_sentinel_pid(topo, 0), SIGSTOP), 0);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", topo_sentinel_port(topo, 0)), 0);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", topo_sentinel_port(topo, 2)), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);
    code = sentinel_resolve(s, 0, &a);
    sentinel_free(s);

    s = sentinel_new(topo_master_name(topo), NULL);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", topo_sentinel_port(topo, 0)), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 600), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_TIMEOUT);
    kill(topo_sentinel_pid(topo, 0), SIGCONT);
    sentinel_free(s);
    assert_int_equal(code, SENTINEL_OK);
}

/* Behaviour 8: start from one seed, learn the others, survive its death. */
static void test_discovery_from_one_seed_survives_its_death(void **state)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", topo_sentinel_port(topo, 0)), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(sentinel_sentinel_count(s), (size_t)topo_sentinel_count(topo));
    assert_int_equal(topo_kill_sentinel(topo, 0), 0);
    sentinel_invalidate(s);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_is_master(&a);
    assert_int_equal(topo_restart_sentinel(topo, 0), 0);
    sentinel_free(s);
}

/* Behaviour 9: an address map (NAT/containers) and host names. */
static void test_address_map_and_hostnames(void **state)
{
    sentinel_t *s = sentinel_new(topo_master_name(topo), NULL);
    sentinel_addr a;
    char map[64];

    (void)state;
    assert_int_equal(sentinel_add_sentinel(s, "localhost", topo_sentinel_port(topo, 0)), 0);
    snprintf(map, sizeof(map), "127.0.0.1:%d=localhost", topo_master_port(topo));
    assert_int_equal(sentinel_add_address_maps(s, map), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_string_equal(a.host, "localhost");
    assert_is_master(&a);
    sentinel_free(s);

    s = sentinel_new(topo_master_name(topo), NULL);
    assert_int_equal(sentinel_add_sentinel(s, "no-such-host.invalid", 26379), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 500), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_HOST_UNRESOLVED);
    sentinel_free(s);
}

/* Behaviour 10: a quorum read needs k sentinels to agree. */
static void test_quorum_read(void **state)
{
    sentinel_t *s = it_handle(topo);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_set_quorum(s, topo_sentinel_count(topo)), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_is_master(&a);
    /* With one sentinel down, k = all can no longer be met. */
    assert_int_equal(topo_kill_sentinel(topo, 2), 0);
    assert_int_equal(sentinel_set_discovery(s, 0), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 1000), 0);
    assert_int_equal(sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a), SENTINEL_ERR_NO_QUORUM);
    assert_int_equal(topo_restart_sentinel(topo, 2), 0);
    sentinel_free(s);
}

/* Behaviour 7: N threads with N handles for one master share one resolution. */
#define NTHREADS 8
static pthread_barrier_t barrier;

static void *resolve_thread(void *arg)
{
    sentinel_t *s = arg;
    sentinel_addr a;

    pthread_barrier_wait(&barrier);
    return (void *)(intptr_t)sentinel_resolve(s, 0, &a);
}

static void test_one_resolution_in_flight_per_master(void **state)
{
    sentinel_t *s[NTHREADS];
    pthread_t th[NTHREADS];
    uint64_t queries = 0, waits = 0;

    (void)state;
    /* A silent sentinel first makes each resolution last one command
     * timeout, so the threads surely overlap. */
    assert_int_equal(kill(topo_sentinel_pid(topo, 0), SIGSTOP), 0);
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        s[i] = sentinel_new(topo_master_name(topo), NULL);
        assert_int_equal(sentinel_add_sentinel(s[i], "127.0.0.1", topo_sentinel_port(topo, 0)), 0);
        assert_int_equal(sentinel_add_sentinel(s[i], "127.0.0.1", topo_sentinel_port(topo, 1)), 0);
        assert_int_equal(sentinel_set_discovery(s[i], 0), 0);
        assert_int_equal(pthread_create(&th[i], NULL, resolve_thread, s[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        void *rc;
        sentinel_stats st = {.size = sizeof(st)};
        pthread_join(th[i], &rc);
        assert_int_equal((intptr_t)rc, SENTINEL_OK);
        sentinel_get_stats(s[i], &st);
        queries += st.sentinel_queries;
        waits += st.shared_waits;
        sentinel_free(s[i]);
    }
    pthread_barrier_destroy(&barrier);
    kill(topo_sentinel_pid(topo, 0), SIGCONT);
    /* Every handle either resolved or waited; the ones that waited sent
     * nothing. Each resolution costs 2 queries (the silent one, the good). */
    assert_true(waits > 0);
    assert_int_equal(queries, (NTHREADS - waits) * 2);
}

/* All sentinels down (DESIGN.md scenario no-sentinels): the cache serves
 * until its TTL; then the last verified master if ROLE still says master;
 * a handle with no history gets a clear error. */
static void test_all_sentinels_down_serves_cache_then_errors(void **state)
{
    sentinel_t *s = it_handle(topo);
    sentinel_addr a;

    (void)state;
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 800), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_equal(topo_kill_all_sentinels(topo), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_is_master(&a);
    /* Invalidated, it asks the sentinels, none answers: the last verified
     * master, ROLE-checked again, is still served. */
    sentinel_invalidate(s);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_is_master(&a);
    {
        sentinel_stats st = {.size = sizeof(st)};
        assert_int_equal(sentinel_get_stats(s, &st), 0);
        assert_int_equal(st.last_known_served, 1);
    }
    sentinel_free(s);
    /* A handle that never resolved has nothing to fall back on. */
    s = it_handle(topo);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 800), 0);
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    assert_int_equal(topo_restart_all_sentinels(topo), 0);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
    sentinel_free(s);
}

/* The convenience call hands out a verified, usable master connection. */
static void test_connect_master_returns_writable_context(void **state)
{
    sentinel_t *s = it_handle(topo);
    redisContext *c = sentinel_connect_master(s, NULL);
    redisReply *r;

    (void)state;
    assert_non_null(c);
    r = redisCommand(c, "SET it:connect 1");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_int_equal(sentinel_report(s, c, r), 0);
    freeReplyObject(r);
    redisFree(c);
    sentinel_free(s);
}

/* ROLE check of an arbitrary address, as used on +selected-slave. */
static void test_check_role_tells_master_from_replica(void **state)
{
    sentinel_t *s = it_handle(topo);
    int master = topo_master_port(topo);

    (void)state;
    assert_int_equal(sentinel_check_role(s, "127.0.0.1", master), SENTINEL_OK);
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) != master)
            assert_int_equal(sentinel_check_role(s, "127.0.0.1", topo_node_port(topo, i)),
                             SENTINEL_ERR_NOT_MASTER);
    assert_int_equal(sentinel_check_role(s, "127.0.0.1", it_dead_port()),
                     SENTINEL_ERR_MASTER_UNREACHABLE);
    sentinel_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentinels_tried_in_order_answering_one_moves_to_head),
        cmocka_unit_test(test_unknown_master_name_is_distinct_error),
        cmocka_unit_test(test_no_sentinel_reachable_is_distinct_error),
        cmocka_unit_test(test_silent_sentinel_is_skipped_then_times_out),
        cmocka_unit_test(test_discovery_from_one_seed_survives_its_death),
        cmocka_unit_test(test_address_map_and_hostnames),
        cmocka_unit_test(test_quorum_read),
        cmocka_unit_test(test_one_resolution_in_flight_per_master),
        cmocka_unit_test(test_connect_master_returns_writable_context),
        cmocka_unit_test(test_check_role_tells_master_from_replica),
        cmocka_unit_test(test_all_sentinels_down_serves_cache_then_errors),
    };

    return cmocka_run_group_tests_name("integration: resolve", tests, it_group_setup,
                                       it_group_teardown);
}
