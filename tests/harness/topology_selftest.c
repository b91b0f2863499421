/*
 * The harness itself: a started topology really fails over on kill, freeze
 * and SENTINEL FAILOVER, credentials and the no-subscribe ACL really apply,
 * and topo_stop() leaves no process and no directory behind.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "topology.h"

#define SWITCH_TIMEOUT_MS 30000
#define SYNC_TIMEOUT_MS 30000

struct fixture {
    topo_t *t;
    int pids[4 * (TOPO_MAX_NODES + TOPO_MAX_SENTINELS)];
    int npids;
    char dir[PATH_MAX];
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0, sizeof f);
    *state = &f;
    return 0;
}

/* Stops whatever a failed test left running. */
static int teardown(void **state)
{
    struct fixture *f = *state;

    topo_stop(f->t);
    f->t = NULL;
    return 0;
}

static void start(struct fixture *f, const topo_options *opt)
{
    char err[1024];
    long long t0 = now_ms();

    f->t = topo_start(opt, err, sizeof err);
    if (f->t == NULL)
        fail_msg("topo_start: %s", err);
    snprintf(f->dir, sizeof f->dir, "%s", topo_dir(f->t));
    print_message("topo_start: %lld ms (%s)\n", now_ms() - t0, f->dir);
}

static void note_pid(struct fixture *f, int pid)
{
    int i;

    if (pid <= 0)
        return;
    for (i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return;
    assert_true(f->npids < (int)(sizeof f->pids / sizeof f->pids[0]));
    f->pids[f->npids++] = pid;
}

static void note_pids(struct fixture *f)
{
    int i;

    for (i = 0; i < topo_node_count(f->t); i++)
        note_pid(f, topo_node_pid(f->t, i));
    for (i = 0; i < topo_sentinel_count(f->t); i++)
        note_pid(f, topo_sentinel_pid(f->t, i));
}

/* topo_stop() must leave no process (not even a zombie) and no directory. */
static void stop_and_check_gone(struct fixture *f)
{
    struct stat sb;
    int i;

    note_pids(f);
    assert_true(f->npids >= 2);
    topo_stop(f->t);
    f->t = NULL;
    for (i = 0; i < f->npids; i++) {
        errno = 0;
        assert_int_equal(kill(f->pids[i], 0), -1);
        assert_int_equal(errno, ESRCH);
    }
    if (getenv("SENTINEL_TOPOLOGY_KEEP") == NULL)
        assert_int_equal(stat(f->dir, &sb), -1);
}

/* "master" or "slave" from ROLE; the caller's buffer. */
static const char *node_role(topo_t *t, int i, char *buf, size_t len)
{
    redisContext *c = topo_node_connect(t, i);
    redisReply *r;

    buf[0] = '\0';
    if (c == NULL)
        return buf;
    r = redisCommand(c, "ROLE");
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0)
        snprintf(buf, len, "%s", r->element[0]->str);
    freeReplyObject(r);
    redisFree(c);
    return buf;
}

static void assert_synced(topo_t *t)
{
    long long t0 = now_ms();

    if (topo_wait_synced(t, SYNC_TIMEOUT_MS) != 0)
        fail_msg("%s", topo_errstr(t));
    print_message("in sync after %lld ms\n", now_ms() - t0);
}

/* Waits for the switch away from old_port; returns the new master index. */
static int await_switch(topo_t *t, int old_port, const char *fault, long long since)
{
    int port = topo_wait_switch(t, old_port, SWITCH_TIMEOUT_MS), m;

    if (port < 0)
        fail_msg("%s: %s", fault, topo_errstr(t));
    print_message("%s: switch seen by all sentinels after %lld ms\n", fault, now_ms() - since);
    assert_int_not_equal(port, old_port);
    m = topo_master_index(t);
    assert_true(m >= 0);
    assert_int_equal(topo_node_port(t, m), port);
    return m;
}

static void test_start_describes_topology(void **state)
{
    struct fixture *f = *state;
    char role[16], expect[64];
    int i;

    start(f, NULL);
    assert_string_equal(topo_master_name(f->t), "mymaster");
    assert_int_equal(topo_node_count(f->t), 3);
    assert_int_equal(topo_sentinel_count(f->t), 3);
    assert_int_equal(topo_master_index(f->t), 0);
    for (i = 0; i < 3; i++) {
        assert_int_equal(topo_sentinel_master_port(f->t, i), topo_node_port(f->t, 0));
        assert_true(topo_node_port(f->t, i) > 0);
    }
    assert_string_equal(node_role(f->t, 1, role, sizeof role), "slave");
    snprintf(expect, sizeof expect, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d",
             topo_sentinel_port(f->t, 0), topo_sentinel_port(f->t, 1),
             topo_sentinel_port(f->t, 2));
    assert_string_equal(topo_sentinel_list(f->t), expect);
    stop_and_check_gone(f);
}

/* A node runs without persistence: nothing of its data reaches the disk,
 * not even through a replica's sync (by default a replica stores the
 * master's RDB as dump.rdb before loading it; a node that was once a
 * replica then loads that file when it is restarted as a master,
 * resurrecting data from before a FLUSHALL: the proxy fuzzer saw it). */
static void test_replicas_keep_no_dump_on_disk(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    int i;

    start(f, NULL);
    assert_synced(f->t);
    for (i = 0; i < topo_node_count(f->t); i++) {
        snprintf(path, sizeof path, "%s/node-%d/dump.rdb", topo_dir(f->t), i);
        if (access(path, F_OK) == 0)
            fail_msg("%s exists: a restart of node %d would load old data", path, i);
    }
    stop_and_check_gone(f);
}

static void test_kill_master_promotes_replica(void **state)
{
    struct fixture *f = *state;
    char role[16];
    long long t0;
    int m;

    start(f, NULL);
    note_pids(f);
    t0 = now_ms();
    assert_int_equal(topo_kill_node(f->t, 0), 0);
    assert_int_equal(topo_node_state(f->t, 0), TOPO_DEAD);
    assert_int_equal(topo_node_pid(f->t, 0), -1);
    m = await_switch(f->t, topo_node_port(f->t, 0), "kill", t0);
    assert_int_not_equal(m, 0);

    /* The old master comes back empty, as a replica of the new one. */
    assert_int_equal(topo_restart_node(f->t, 0), 0);
    assert_synced(f->t);
    assert_string_equal(node_role(f->t, 0, role, sizeof role), "slave");
    assert_int_equal(topo_master_index(f->t), m);
    stop_and_check_gone(f);
}

static void test_freeze_master_then_thaw(void **state)
{
    struct fixture *f = *state;
    char role[16];
    long long t0;
    int m;

    start(f, NULL);
    note_pids(f);
    t0 = now_ms();
    assert_int_equal(topo_freeze_node(f->t, 0), 0);
    assert_int_equal(topo_node_state(f->t, 0), TOPO_FROZEN);
    m = await_switch(f->t, topo_node_port(f->t, 0), "freeze", t0);
    assert_int_not_equal(m, 0);

    /* Thawed, the old master is demoted by the sentinels. */
    assert_int_equal(topo_thaw_node(f->t, 0), 0);
    assert_int_equal(topo_node_state(f->t, 0), TOPO_ALIVE);
    assert_synced(f->t);
    assert_string_equal(node_role(f->t, 0, role, sizeof role), "slave");

    /* A frozen process is still stopped by topo_stop(). */
    assert_int_equal(topo_freeze_node(f->t, 1), 0);
    stop_and_check_gone(f);
}

/* SENTINEL DEBUG's INFO-PERIOD on sentinel i, or -1. */
static long long sentinel_info_period(topo_t *t, int i)
{
    redisContext *c = topo_sentinel_connect(t, i);
    redisReply *r = c ? redisCommand(c, "SENTINEL DEBUG") : NULL;
    long long period = -1;
    size_t k;

    for (k = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2)
        if (strcmp(r->element[k]->str, "INFO-PERIOD") == 0)
            period = atoll(r->element[k + 1]->str);
    freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return period;
}

static void test_manual_failover_and_sentinel_restart(void **state)
{
    struct fixture *f = *state;
    topo_options opt = { 0 };
    long long before, after, t0;
    char role[16];
    int m;

    opt.sentinel_info_period_ms = 1000;
    start(f, &opt);
    assert_int_equal(sentinel_info_period(f->t, 0), 1000);
    note_pids(f);
    assert_int_equal(topo_sentinel_info_stat(f->t, 0, "total_commands_processed", &before), 0);
    t0 = now_ms();
    assert_int_equal(topo_failover(f->t), 0);
    m = await_switch(f->t, topo_node_port(f->t, 0), "manual", t0);
    assert_int_not_equal(m, 0);
    assert_int_equal(topo_sentinel_info_stat(f->t, 0, "total_commands_processed", &after), 0);
    assert_true(after > before);
    assert_int_equal(topo_sentinel_info_stat(f->t, 0, "no_such_field", &after), -1);
    /* Sentinel would demote the old master at its next INFO poll. */
    assert_int_equal(topo_demote_old_masters(f->t), 0);
    assert_synced(f->t);
    assert_string_equal(node_role(f->t, 0, role, sizeof role), "slave");

    /* A restarted sentinel comes back with its rewritten config: it knows
     * the new master. */
    assert_int_equal(topo_kill_sentinel(f->t, 1), 0);
    assert_int_equal(topo_sentinel_master_port(f->t, 1), -1);
    assert_int_equal(topo_restart_sentinel(f->t, 1), 0);
    assert_int_equal(topo_sentinel_master_port(f->t, 1), topo_node_port(f->t, m));
    assert_int_equal(sentinel_info_period(f->t, 1), 1000);
    note_pids(f);
    assert_int_equal(topo_kill_all_sentinels(f->t), 0);
    assert_int_equal(topo_master_index(f->t), m); /* ROLE alone, now */
    assert_int_equal(topo_restart_all_sentinels(f->t), 0);
    assert_int_equal(topo_master_index(f->t), m);
    stop_and_check_gone(f);
}

/* Expects an error reply containing want. */
static void assert_command_error(redisContext *c, const char *want, const char *cmd)
{
    redisReply *r = redisCommand(c, cmd);

    assert_non_null(r);
    if (r->type != REDIS_REPLY_ERROR || strstr(r->str, want) == NULL)
        fail_msg("%s: expected %s, got type %d %s", cmd, want, r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

static void assert_command_ok(redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand(c, cmd);

    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", cmd, r->str);
    freeReplyObject(r);
}

static redisContext *connect_port(int port)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisSetTimeout(c, tv);
    return c;
}

static void test_credentials_and_acl(void **state)
{
    struct fixture *f = *state;
    topo_options opt = { 0 };
    redisContext *c;

    opt.replicas = 1;
    opt.sentinels = 1;
    opt.master_name = "creds";
    opt.sentinel_password = "spass";
    opt.data_password = "dpass";
    opt.sentinel_acl_no_subscribe = 1;
    opt.data_acl_user = "app";
    opt.data_acl_password = "apppass";
    start(f, &opt);
    assert_int_equal(topo_node_count(f->t), 2);
    assert_int_equal(topo_master_index(f->t), 0);

    c = connect_port(topo_sentinel_port(f->t, 0));
    assert_command_error(c, "NOAUTH", "SENTINEL get-master-addr-by-name creds");
    assert_command_ok(c, "AUTH " TOPO_LIMITED_USER " " TOPO_LIMITED_PASSWORD);
    assert_command_ok(c, "SENTINEL get-master-addr-by-name creds");
    assert_command_ok(c, "SENTINEL sentinels creds");
    assert_command_ok(c, "SENTINEL replicas creds");
    assert_command_ok(c, "PING");
    assert_command_ok(c, "CLIENT SETNAME probe");
    assert_command_error(c, "NOPERM", "PSUBSCRIBE *");
    assert_command_error(c, "NOPERM", "SUBSCRIBE +switch-master");
    assert_command_error(c, "NOPERM", "SENTINEL FAILOVER creds");
    assert_command_ok(c, "AUTH spass");
    assert_command_ok(c, "SENTINEL get-master-addr-by-name creds");
    redisFree(c);

    c = connect_port(topo_node_port(f->t, 0));
    assert_command_error(c, "NOAUTH", "SET k v");
    assert_command_ok(c, "AUTH app apppass");
    assert_command_ok(c, "SET k v");
    assert_command_ok(c, "AUTH dpass");
    assert_command_ok(c, "GET k");
    redisFree(c);
    stop_and_check_gone(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_describes_topology, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replicas_keep_no_dump_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_master_promotes_replica, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeze_master_then_thaw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_failover_and_sentinel_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_and_acl, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
