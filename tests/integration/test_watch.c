/*
 * The event watcher against real sentinels (DESIGN.md behaviour 6 and
 * "Sentinel's failover timeline"): "failover started" arrives before the
 * replica is promoted; a switch is reported with the new master; the watcher
 * converges by polling when a subscribed sentinel dies or SUBSCRIBE is denied.
 */
#define _GNU_SOURCE
#include "it_common.h"
#include "internal.h"

#define MAX_SEEN 64

typedef struct seen {
    int types[MAX_SEEN];
    int ports[MAX_SEEN];
    int n;
    /* At "failover started": how many data nodes answered ROLE master. */
    int masters_at_start;
    int denied;
} seen;

static int count_masters(void)
{
    int n = 0;

    for (int i = 0; i < topo_node_count(topo); i++) {
        char role[32];
        if (topo_node_state(topo, i) == TOPO_ALIVE &&
            strcmp(it_role(topo_node_port(topo, i), topo_data_password(topo), role,
                           sizeof(role)),
                   "master") == 0)
            n++;
    }
    return n;
}

static void on_event(const sentinel_event *ev, void *ud)
{
    seen *sn = ud;

    if (getenv("IT_DEBUG"))
        fprintf(stderr, "event %d %s:%d (%s from %s:%d)\n", ev->type, ev->host ? ev->host : "-",
                ev->port, ev->detail ? ev->detail : "", ev->source_host ? ev->source_host : "-",
                ev->source_port);
    if (sn->n < MAX_SEEN) {
        sn->types[sn->n] = ev->type;
        sn->ports[sn->n] = ev->port;
        sn->n++;
    }
    /* Checked synchronously inside the callback: if a replica were already
     * promoted there would be two masters now. */
    if (ev->type == SENTINEL_EVENT_FAILOVER_STARTED && sn->masters_at_start < 0)
        sn->masters_at_start = count_masters();
    if (ev->type == SENTINEL_EVENT_SUBSCRIBE_DENIED)
        sn->denied++;
}

static int index_of(const seen *sn, int type)
{
    for (int i = 0; i < sn->n; i++)
        if (sn->types[i] == type)
            return i;
    return -1;
}

/* Run the watcher until pred holds, bounded in rounds (and so in time). */
static void pump_until(sentinel_watch_t *w, seen *sn, int type, int rounds)
{
    for (int i = 0; i < rounds && index_of(sn, type) < 0; i++)
        sentinel_watch_run_once(w, 50);
}

/* Pump until the watcher names port as the master; fails the test if it
 * never does within the bounded rounds. */
static void pump_until_current(sentinel_watch_t *w, int port, int rounds)
{
    sentinel_addr a;

    for (int i = 0; i < rounds; i++) {
        if (sentinel_watch_current(w, &a) == 0 && a.port == port)
            return;
        sentinel_watch_run_once(w, 50);
    }
    assert_int_equal(sentinel_watch_current(w, &a), 0);
    assert_int_equal(a.port, port);
}

static sentinel_watch_t *watcher(sentinel_t *s, seen *sn)
{
    sentinel_watch_t *w;

    memset(sn, 0, sizeof(*sn));
    sn->masters_at_start = -1;
    w = sentinel_watch_new(s, on_event, sn, NULL);
    assert_non_null(w);
    assert_int_equal(sentinel_watch_set_poll_interval(w, 200), 0);
    return w;
}

static int subscribed_count(const seen *sn)
{
    int n = 0;

    for (int i = 0; i < sn->n; i++)
        n += sn->types[i] == SENTINEL_EVENT_SENTINEL_UP;
    return n;
}

static void pump_until_subscribed(sentinel_watch_t *w, seen *sn, int want)
{
    for (int i = 0; i < 400 && subscribed_count(sn) < want; i++)
        sentinel_watch_run_once(w, 50);
}

static void test_failover_started_arrives_before_promotion(void **state)
{
    sentinel_t *s = it_handle(topo);
    seen sn;
    sentinel_watch_t *w = watcher(s, &sn);
    int old = topo_master_port(topo), new_port;
    int started, selected, switched;
    sentinel_addr cur;

    (void)state;
    pump_until_subscribed(w, &sn, topo_sentinel_count(topo));
    assert_int_equal(subscribed_count(&sn), topo_sentinel_count(topo));
    pump_until_current(w, old, 400);
    assert_int_equal(topo_failover(topo), 0);
    pump_until(w, &sn, SENTINEL_EVENT_SWITCHED, 600);

    started = index_of(&sn, SENTINEL_EVENT_FAILOVER_STARTED);
    selected = index_of(&sn, SENTINEL_EVENT_REPLICA_SELECTED);
    switched = index_of(&sn, SENTINEL_EVENT_SWITCHED);
    assert_true(started >= 0);
    assert_true(selected > started);
    assert_true(switched > selected);
    assert_int_equal(sn.masters_at_start, 1); /* nobody promoted yet */
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_int_equal(sn.ports[switched], new_port);
    assert_int_equal(sn.ports[selected], new_port);
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_int_equal(cur.port, new_port);
    assert_int_equal(sentinel_watch_in_failover(w), 0);
    sentinel_watch_free(w);
    sentinel_free(s);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
}

/* The subscribed sentinels die one by one, except one: the watcher reports
 * them down and still learns of the next switch. */
static void test_watcher_survives_subscribed_sentinel_death(void **state)
{
    sentinel_t *s = it_handle(topo);
    seen sn;
    sentinel_watch_t *w = watcher(s, &sn);
    int old = topo_master_port(topo), new_port;
    sentinel_addr cur;

    (void)state;
    pump_until_subscribed(w, &sn, topo_sentinel_count(topo));
    pump_until_current(w, old, 400);
    assert_int_equal(topo_kill_sentinel(topo, 0), 0);
    pump_until(w, &sn, SENTINEL_EVENT_SENTINEL_DOWN, 400);
    assert_true(index_of(&sn, SENTINEL_EVENT_SENTINEL_DOWN) >= 0);
    assert_int_equal(topo_failover(topo), 0);
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_int_not_equal(new_port, -1);
    pump_until_current(w, new_port, 600);
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_int_equal(cur.port, new_port);
    assert_int_equal(topo_restart_sentinel(topo, 0), 0);
    sentinel_watch_free(w);
    sentinel_free(s);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
}

/* Kill the master: the watcher reports the switch (events or polling). */
static void test_watcher_reports_switch_after_kill(void **state)
{
    sentinel_t *s = it_handle(topo);
    seen sn;
    sentinel_watch_t *w = watcher(s, &sn);
    int old = topo_master_port(topo), new_port, idx = -1;

    (void)state;
    pump_until_subscribed(w, &sn, topo_sentinel_count(topo));
    pump_until_current(w, old, 400);
    for (int i = 0; i < topo_node_count(topo); i++)
        if (topo_node_port(topo, i) == old)
            idx = i;
    assert_int_equal(topo_kill_node(topo, idx), 0);
    pump_until(w, &sn, SENTINEL_EVENT_SWITCHED, 800);
    new_port = topo_wait_switch(topo, old, IT_SWITCH_WAIT_MS);
    assert_true(index_of(&sn, SENTINEL_EVENT_SWITCHED) >= 0);
    assert_int_equal(sn.ports[index_of(&sn, SENTINEL_EVENT_SWITCHED)], new_port);
    assert_int_equal(topo_restart_node(topo, idx), 0);
    sentinel_watch_free(w);
    sentinel_free(s);
    assert_int_equal(topo_wait_synced(topo, IT_SYNC_WAIT_MS), 0);
}

/* SUBSCRIBE denied by a sentinel ACL: reported once per sentinel, and the
 * watcher converges on a switch by polling alone (its own topology). */
static void test_subscribe_denied_polling_converges(void **state)
{
    topo_options opt = {.sentinel_acl_no_subscribe = 1};
    topo_t *t = it_start(&opt);
    sentinel_t *s;
    seen sn;
    sentinel_watch_t *w;
    int old, new_port;
    sentinel_addr cur;

    (void)state;
    assert_non_null(t);
    s = sentinel_new(topo_master_name(t), NULL);
    assert_int_equal(sentinel_add_sentinels(s, topo_sentinel_list(t)), 0);
    assert_int_equal(sentinel_set_sentinel_auth(s, TOPO_LIMITED_USER, TOPO_LIMITED_PASSWORD), 0);
    w = watcher(s, &sn);
    old = topo_master_port(t);
    pump_until_current(w, old, 400);
    for (int i = 0; i < 600 && sn.denied < topo_sentinel_count(t); i++)
        sentinel_watch_run_once(w, 50);
    if (getenv("IT_DEBUG"))
        for (int i = 0; i < topo_sentinel_count(t); i++)
            fprintf(stderr, "link %d: %s\n", i, sn_watch_link_state(w, (size_t)i));
    assert_int_equal(sn.denied, topo_sentinel_count(t));
    assert_int_equal(subscribed_count(&sn), 0);
    assert_int_equal(topo_failover(t), 0);
    new_port = topo_wait_switch(t, old, IT_SWITCH_WAIT_MS);
    assert_int_not_equal(new_port, -1);
    pump_until_current(w, new_port, 600);
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_int_equal(cur.port, new_port);
    assert_true(index_of(&sn, SENTINEL_EVENT_SWITCHED) >= 0);
    sentinel_watch_free(w);
    sentinel_free(s);
    topo_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_started_arrives_before_promotion),
        cmocka_unit_test(test_watcher_survives_subscribed_sentinel_death),
        cmocka_unit_test(test_watcher_reports_switch_after_kill),
    };
    const struct CMUnitTest acl_tests[] = {
        cmocka_unit_test(test_subscribe_denied_polling_converges),
    };
    int failed = cmocka_run_group_tests_name("integration: watch", tests, it_group_setup,
                                             it_group_teardown);

    failed += cmocka_run_group_tests_name("integration: watch with ACL", acl_tests, NULL, NULL);
    return failed;
}
