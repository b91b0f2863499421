/*
 * Failover against a real topology: kill, freeze (SIGSTOP) and a manual
 * SENTINEL FAILOVER. After each, the resolver returns the new master, and
 * never the demoted one once Sentinel has switched (DESIGN.md behaviours 3-5
 * and the scenarios kill / freeze / manual).
 */
#define _GNU_SOURCE
#include "it_common.h"

/* Bring the topology back to 1 master + 2 synced replicas between tests. */
static int test_setup(void **state)
{
    (void)state;
    topo_thaw_all(topo);
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_state(topo, i) == TOPO_DEAD && topo_restart_node(topo, i) != 0)
            return -1;
    return topo_wait_synced(topo, IT_SYNC_WAIT_MS);
}

static int node_index(int port)
{
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) == port)
            return i;
    return -1;
}

/* After Sentinel has switched, every resolution names the new master, and
 * that node answers ROLE master. */
static void assert_follows(sentinel_t *s, int old_port, int new_port)
{
    char role[32];

    assert_int_not_equal(new_port, -1);
    assert_int_not_equal(new_port, old_port);
    for (int i = 0; i < 20; i++) {
        sentinel_addr a;
        assert_int_equal(sentinel_resolve(s, i % 2 ? SENTINEL_RESOLVE_NO_CACHE : 0, &a),
                         SENTINEL_OK);
        assert_int_equal(a.port, new_port);
    }
    assert_string_equal(it_role(new_port, NULL, role, sizeof(role)), "master");
}

/* Resolve once through the cache, then fault: a connection error reported
 * by the caller invalidates, and the next resolve finds the new master. */
static void test_failover_kill_master(void **state)
{
    sentinel_t *s = it_handle(topo);
    sentinel_addr a;
    int old, new_port;
    redisContext *c;

    (void)state;
    c = sentinel_connect_master(s, NULL);
    assert_non_null(c);
    old = topo_master_port(topo);
    assert_int_equal(topo_kill_node(topo, node_index(old)), 0);
    /* The caller sees the connection die and reports it (behaviour 4). */
    freeReplyObject(redisCommand(c, "SET it:kill 1"));
    assert_int_equal(sentinel_report(s, c, NULL), 1);
    redisFree(c);
    /* Resolution retries with backoff until Sentinel promotes a replica. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_not_equal(a.port, old);
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_follows(s, old, new_port);
    sentinel_free(s);
}

/* A frozen master keeps its TCP port open and answers nothing: resolution
 * must not wait for TCP timeouts (behaviour 5). */
static void test_failover_freeze_master(void **state)
{
    sentinel_t *s = it_handle(topo);
    sentinel_addr a;
    int old, new_port;

    (void)state;
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    old = a.port;
    assert_int_equal(topo_freeze_node(topo, node_index(old)), 0);
    sentinel_invalidate(s);
    /* ROLE to the frozen node times out per command; the resolver keeps
     * going until the sentinels name a replica that answers as master. */
    assert_int_equal(sentinel_resolve(s, 0, &a), SENTINEL_OK);
    assert_int_not_equal(a.port, old);
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_follows(s, old, new_port);
    /* Thawed, the old master is demoted by Sentinel; never served again. */
    assert_int_equal(topo_thaw_node(topo, node_index(old)), 0);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
    assert_follows(s, old, new_port);
    sentinel_free(s);
}

/* Manual failover: the old master is demoted; a write to it gets -READONLY
 * or a connection error, which invalidates the cache (behaviour 4). */
static void test_failover_manual(void **state)
{
    sentinel_t *s = it_handle(topo);
    redisContext *c;
    redisReply *r = NULL;
    int old, new_port;

    (void)state;
    c = sentinel_connect_master(s, NULL);
    assert_non_null(c);
    old = topo_master_port(topo);
    assert_int_equal(topo_failover(topo), 0);
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_int_not_equal(new_port, -1);
    /* Sentinel demotes the old master after the switch (it may take one
     * INFO period, up to 10 s); wait for that, bounded. */
    {
        char role[32] = "";
        for (int i = 0; i < 1500 && strcmp(role, "slave") != 0; i++) {
            it_role(old, NULL, role, sizeof(role));
            if (strcmp(role, "slave") != 0)
                usleep(20000);
        }
        assert_string_equal(role, "slave");
    }
    /* Redis either answers -READONLY or, having dropped its clients on the
     * role change, fails the connection: both must invalidate. */
    r = redisCommand(c, "SET it:manual 1");
    if (r != NULL) {
        assert_int_equal(r->type, REDIS_REPLY_ERROR);
        assert_memory_equal(r->str, "READONLY", 8);
    } else {
        assert_int_not_equal(c->err, 0);
    }
    assert_int_equal(sentinel_report(s, c, r), 1);
    freeReplyObject(r);
    redisFree(c);
    assert_follows(s, old, new_port);
    sentinel_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_failover_kill_master, test_setup),
        cmocka_unit_test_setup(test_failover_freeze_master, test_setup),
        cmocka_unit_test_setup(test_failover_manual, test_setup),
    };

    return cmocka_run_group_tests_name("integration: failover", tests, it_group_setup,
                                       it_group_teardown);
}
