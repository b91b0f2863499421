/*
 * The failover follower (follow.c, with watch.c and the non-blocking link
 * under it) against a scripted network and a scripted clock: the fake
 * transport's non-blocking side (sn_transport nb_*) plays three sentinels
 * and the data nodes, sn_clock_set() installs a clock that moves only when
 * a test advances it. No real sockets, no sleeps, no timing assertions:
 * "15 s later" is a number the test adds.
 *
 * The network and clock are in fake_sentinels.c (shared with test_watch.c).
 *
 * Past 800 lines (905): one test per follower behaviour the header
 * promises, on one scripted network; split by state if it grows.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_sentinels.h"
#include "internal.h"
#include "sentinel/follow.h"

/* ------------------------------------------------------------------------
 * Driving the follower: what a host loop does, with the scripted clock
 * ------------------------------------------------------------------------ */

/* Deliver every fake handle that has something to say (the host's poller). */
static void pump(sentinel_follow_t *f)
{
    for (int round = 0; round < 50; round++) {
        int any = 0;
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].used && (conns[i].outlen > 0 || conns[i].closed)) {
                sentinel_watch_fd fds[80];
                int n = sentinel_follow_fds(f, fds, 80), mine = 0;
                for (int j = 0; j < n && j < 80; j++)
                    mine |= fds[j].fd == HANDLE_BASE + i;
                if (!mine)
                    continue;
                assert_int_equal(sentinel_follow_on_fd(f, HANDLE_BASE + i, POLLIN), 0);
                any = 1;
            }
        if (!any)
            return;
    }
}

/* Run the host loop for ms of scripted time: fds, then timers, in order. */
static void run_for(sentinel_follow_t *f, int64_t ms)
{
    int64_t end = fake_now + ms;

    for (int i = 0; i < 100000; i++) {
        int t;

        pump(f);
        t = sentinel_follow_timeout(f);
        assert_true(t >= 0);
        if (t == 0) {
            assert_int_equal(sentinel_follow_on_timeout(f), 0);
            continue;
        }
        if (fake_now >= end)
            return;
        fake_now += t < end - fake_now ? t : end - fake_now;
        assert_int_equal(sentinel_follow_on_timeout(f), 0);
    }
    fail_msg("the follower never went quiet");
}

/* ------------------------------------------------------------------------
 * What the host hears
 * ------------------------------------------------------------------------ */

#define MAX_TRANS 64

typedef struct seen {
    int n;
    sentinel_follow_transition t[MAX_TRANS];
    char master[MAX_TRANS][64];
    /* Socket callback bookkeeping: what the host would have in epoll. */
    int reg[256];
    int adds, removes, bad_ops;
    /* Re-entrancy probes. */
    int reenter_rc[4];
    int refusal_said; /* errstr named the refusal */
    int free_in_cb;       /* free the follower at this transition number (1-based) */
    sentinel_follow_t *f;
    int calls_after_free;
    int freed;
} seen;

static void on_state(sentinel_follow_t *f, const sentinel_follow_transition *t, void *ud)
{
    seen *s = ud;

    if (s->freed)
        s->calls_after_free++;
    assert_true(s->n < MAX_TRANS);
    s->t[s->n] = *t;
    snprintf(s->master[s->n], sizeof(s->master[0]), "%s:%d", t->master.host, t->master.port);
    s->t[s->n].reason = NULL;
    s->n++;
    /* Getters are allowed here and agree with the transition. */
    assert_int_equal(sentinel_follow_get_state(f), t->new_state);
    assert_true(sentinel_follow_epoch(f) == t->epoch);
    if (s->n == s->free_in_cb) {
        s->freed = 1;
        sentinel_follow_free(f);
    }
}

static void on_socket(sentinel_follow_t *f, int fd, sentinel_follow_fd_op op, int events, void *ud)
{
    seen *s = ud;

    (void)f;
    if (s->freed)
        s->calls_after_free++;
    assert_true(fd >= 0 && fd < 256);
    switch (op) {
    case SENTINEL_FOLLOW_FD_ADD:
        s->bad_ops += s->reg[fd] != 0;
        s->reg[fd] = events;
        s->adds++;
        break;
    case SENTINEL_FOLLOW_FD_MODIFY:
        s->bad_ops += s->reg[fd] == 0;
        s->reg[fd] = events;
        break;
    case SENTINEL_FOLLOW_FD_REMOVE:
        s->bad_ops += s->reg[fd] == 0;
        s->reg[fd] = 0;
        s->removes++;
        break;
    }
    assert_true(op == SENTINEL_FOLLOW_FD_REMOVE || (events & POLLIN));
}

/* The host's registry equals what the follower says it wants. */
static void expect_registry_matches(sentinel_follow_t *f, const seen *s)
{
    sentinel_watch_fd fds[80];
    int n = sentinel_follow_fds(f, fds, 80), registered = 0;

    assert_int_equal(s->bad_ops, 0);
    for (int i = 0; i < 256; i++)
        registered += s->reg[i] != 0;
    assert_int_equal(registered, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(s->reg[fds[i].fd], fds[i].events);
}

/* ------------------------------------------------------------------------
 * Fixture: three sentinels naming M1 (10.0.0.1:6379), replicas R1, R2
 * ------------------------------------------------------------------------ */



static int setup(void **state)
{
    (void)state;
    fake_topology();
    return 0;
}

static int teardown(void **state)
{
    sentinel_follow_free(*state);
    *state = NULL;
    fake_net_remove();
    /* Every connection the follower opened was closed again. */
    assert_int_equal(open_connections(), 0);
    return 0;
}

static sentinel_follow_t *new_follower(seen *s)
{
    sentinel_t *h = sentinel_new("mymaster", NULL);
    sentinel_follow_t *f;

    assert_non_null(h);
    assert_int_equal(sentinel_add_sentinels(h, "10.0.1.1:26379,10.0.1.2:26379,10.0.1.3:26379"),
                     0);
    f = sentinel_follow_new(h, NULL);
    sentinel_free(h);
    assert_non_null(f);
    memset(s, 0, sizeof(*s));
    s->f = f;
    sentinel_follow_set_state_cb(f, on_state, s);
    sentinel_follow_set_socket_cb(f, on_socket, s);
    return f;
}

/* A follower on M1, subscribed everywhere. */
static sentinel_follow_t *following_m1(seen *s)
{
    sentinel_follow_t *f = new_follower(s);
    sentinel_addr a;

    run_for(f, 50);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.1");
    assert_int_equal(a.port, 6379);
    assert_true(sentinel_follow_epoch(f) == 0);
    return f;
}

/* The fixture most tests start from: a follower on M1. */
static seen SEEN;

static int setup_on_m1(void **state)
{
    setup(state);
    *state = following_m1(&SEEN);
    return 0;
}

static uint64_t stat_failovers(sentinel_follow_t *f)
{
    sentinel_follow_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    assert_int_equal(sentinel_follow_get_stats(f, &st), 0);
    return st.failovers;
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void test_follows_the_named_master(void **state)
{
    sentinel_follow_t *f = *state;
    assert_int_equal(SEEN.n, 1);
    assert_int_equal(SEEN.t[0].old_state, SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(SEEN.t[0].new_state, SENTINEL_FOLLOW_FOLLOWING);
    assert_string_equal(SEEN.master[0], "10.0.0.1:6379");
    assert_int_equal(M1->role_cmds, 1);
    assert_true(sentinel_follow_writable(f, 0));
    /* Three subscriptions and the poller, registered through the callback. */
    expect_registry_matches(f, &SEEN);
    assert_true(SEEN.adds >= 4);
    /* Steady state: a PING per subscription and one poll per second. */
    {
        int before = S1->cmds + S2->cmds + S3->cmds;
        run_for(f, 10000);
        assert_true(S1->cmds + S2->cmds + S3->cmds - before <= 10 * 4 + 4);
        assert_int_equal(M1->role_cmds, 1);
    }
}

static void test_event_about_another_master_is_ignored(void **state)
{
    sentinel_follow_t *f = *state;
    /* Another master name, and our name at an address we do not follow. */
    publish(S1, "+try-failover", "master othermaster 10.0.0.1 6379");
    publish(S2, "+try-failover", "master mymaster 10.0.0.9 7000");
    publish(S2, "+selected-slave", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.9 7000");
    run_for(f, 100);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_true(sentinel_follow_epoch(f) == 0);
    assert_int_equal(SEEN.n, 1);
    assert_int_equal(R1->opens, 0);
}

/* Manual failover as Sentinel runs it: the leader's progress events, a
 * replica that says "slave" until promoted, +switch-master from all three a
 * second later, polls that still name the old master in between. */
static void test_failover_pauses_probes_resumes_once(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;

    publish(S2, "+try-failover", TRY_M1);
    publish(S2, "+elected-leader", TRY_M1);
    publish(S2, "+failover-state-select-slave", TRY_M1);
    pump(f);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    assert_true(sentinel_follow_epoch(f) == 1);
    assert_false(sentinel_follow_writable(f, 0));
    assert_false(sentinel_follow_writable(f, 1));
    publish(S2, "+selected-slave", SELECT_R1);
    publish(S2, "+failover-state-send-slaveof-noone", SELECT_R1);
    run_for(f, 100); /* R1 still a replica: probed, not followed */
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PROBING);
    assert_true(R1->role_cmds >= 2);
    strcpy(R1->role, "master"); /* promoted */
    run_for(f, 20);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(sentinel_follow_writable(f, 1));
    /* The old master still says master and the sentinels still name it for
     * a while: polls must not lead back there. */
    run_for(f, 3000);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    publish(S1, "+switch-master", SWITCH_M1_R1);
    publish(S2, "+switch-master", SWITCH_M1_R1);
    publish(S3, "+switch-master", SWITCH_M1_R1);
    sentinels_name("10.0.0.2", 6380);
    run_for(f, 3000);
    /* A lagging sentinel's poll answer names the old master again: fenced. */
    sentinels_name("10.0.0.1", 6379);
    run_for(f, 3000);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(sentinel_follow_epoch(f) == 1);
    assert_true(stat_failovers(f) == 1);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(SEEN.n, 4);
    assert_int_equal(SEEN.t[1].new_state, SENTINEL_FOLLOW_PAUSED);
    assert_string_equal(SEEN.master[1], "10.0.0.1:6379"); /* the one being failed over */
    assert_int_equal(SEEN.t[2].new_state, SENTINEL_FOLLOW_PROBING);
    assert_string_equal(SEEN.t[2].candidate.host, "10.0.0.2");
    assert_int_equal(SEEN.t[3].new_state, SENTINEL_FOLLOW_FOLLOWING);
    assert_string_equal(SEEN.master[3], "10.0.0.2:6380");
    expect_registry_matches(f, &SEEN);
}

static void resumed_on_r1(sentinel_follow_t *f)
{
    publish(S2, "+try-failover", TRY_M1);
    publish(S2, "+selected-slave", SELECT_R1);
    strcpy(R1->role, "master");
    strcpy(M1->role, "master"); /* not demoted yet */
    run_for(f, 20);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_true(sentinel_follow_epoch(f) == 1);
}

static void test_stale_failover_is_dropped(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;

    resumed_on_r1(f);
    /* A slow sentinel still talks about the failover of M1 we are done with. */
    publish(S3, "+failover-state-reconf-slaves", TRY_M1);
    publish(S3, "+promoted-slave", SELECT_R1);
    publish(S1, "+try-failover", TRY_M1);
    run_for(f, 200);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(sentinel_follow_epoch(f) == 1);
}

static void test_abort_resumes_on_old_master(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;
    int probes_before;

    probes_before = M1->role_cmds;
    publish(S1, "+try-failover", TRY_M1);
    pump(f);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    publish(S1, "-failover-abort-no-good-slave", TRY_M1);
    run_for(f, 20);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.1");
    /* Verified again before use, and the fence moved once. */
    assert_true(M1->role_cmds > probes_before);
    assert_true(sentinel_follow_epoch(f) == 1);
    assert_int_equal(SEEN.t[SEEN.n - 2].new_state, SENTINEL_FOLLOW_PROBING);
    assert_string_equal(SEEN.t[SEEN.n - 2].candidate.host, "10.0.0.1");
}

static void test_candidate_never_answers_master(void **state)
{
    sentinel_follow_t *f = *state;
    int m1_roles;

    publish(S2, "+try-failover", TRY_M1);
    publish(S2, "+selected-slave", SELECT_R1);
    m1_roles = M1->role_cmds;
    run_for(f, 10000);
    /* Asked again and again, about every 10 ms, never followed. */
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PROBING);
    assert_true(R1->role_cmds >= 500 && R1->role_cmds <= 1001);
    /* Past the pause limit: back to the sentinels, who still name M1, the
     * master a failover started from: fenced, never asked, never followed. */
    run_for(f, 6000);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(M1->role_cmds, m1_roles);
    assert_int_equal(sentinel_follow_master(f, (sentinel_addr[1]){{{0}, 0, 0}}), SENTINEL_NO_ENTRY);
    assert_true(sentinel_follow_epoch(f) == 1);
    /* The watcher forgets a failover it never saw end after 30 s; the fence
     * (60 s) still keeps M1 out. */
    run_for(f, 20000);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(M1->role_cmds, m1_roles);
}

static void test_silent_candidate_times_out_and_backs_off(void **state)
{
    sentinel_follow_t *f = *state;
    int adds = SEEN.adds, removes = SEEN.removes;

    R1->silent = 1;
    publish(S2, "+selected-slave", SELECT_R1);
    run_for(f, 5000);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PROBING);
    /* 250+250 ms per silent try, then up to 500 ms backoff: a handful of
     * connections in 5 s, not one per 10 ms. */
    assert_true(R1->opens >= 3 && R1->opens <= 12);
    assert_non_null(strstr(sentinel_follow_errstr(f), "no ROLE reply in time"));
    /* Each new probe connection was announced, even when it got the number
     * of the one just closed (an epoll host must re-add it). */
    assert_int_equal(SEEN.adds - adds, R1->opens);
    assert_true(SEEN.removes - removes >= R1->opens - 1);
    expect_registry_matches(f, &SEEN);
}

/* The ROLE answer is on the probe's socket when its deadline passes, and
 * the host hands the follower a sentinel's descriptor first (a loaded
 * machine, a long batch): the answer is read, not called late. */
static void test_probe_answer_waiting_at_its_deadline_is_read(void **state)
{
    sentinel_follow_t *f = *state;
    conn *c;

    R1->silent = 1; /* reads the ROLE, answers below */
    strcpy(R1->role, "master");
    publish(S2, "+selected-slave", SELECT_R1);
    run_for(f, 5);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PROBING);
    assert_int_equal(R1->opens, 1);
    assert_true(R1->cmds >= 1);
    c = &conns[handle_of(R1) - HANDLE_BASE];
    memcpy(c->out + c->outlen, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", 24);
    c->outlen += 24;
    fake_now += 1000; /* past connect + command timeout (250 + 250 ms) */
    assert_int_equal(sentinel_follow_on_fd(f, handle_of(S2), POLLIN), 0);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
}

/* Sentinel's CLIENT KILL at the promotion closes our probe mid-ROLE: it is
 * reopened at once, and the host is told, even though the new connection
 * got the very same descriptor number. */
static void test_probe_closed_by_peer_is_reopened_and_announced(void **state)
{
    sentinel_follow_t *f = *state;
    int h, adds, removes;

    R1->silent = 1;
    publish(S2, "+selected-slave", SELECT_R1);
    run_for(f, 5);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PROBING);
    assert_int_equal(R1->opens, 1);
    h = handle_of(R1);
    adds = SEEN.adds;
    removes = SEEN.removes;
    conns[h - HANDLE_BASE].closed = 1;
    pump(f);
    assert_int_equal(R1->opens, 2);
    assert_int_equal(handle_of(R1), h); /* the same number again */
    assert_int_equal(SEEN.removes - removes, 1);
    assert_int_equal(SEEN.adds - adds, 1);
    expect_registry_matches(f, &SEEN);
    R1->silent = 0;
    strcpy(R1->role, "master");
    run_for(f, 600); /* the silent ROLE times out, the next one answers */
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
}

static void test_sentinel_dies_mid_failover(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;

    publish(S1, "+try-failover", TRY_M1);
    pump(f);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    node_kill(S1); /* the leader dies before naming a replica */
    run_for(f, 500);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    /* Another sentinel finishes the job. */
    strcpy(R1->role, "master");
    publish(S3, "+switch-master", SWITCH_M1_R1);
    run_for(f, 50);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(sentinel_follow_epoch(f) == 1);
    expect_registry_matches(f, &SEEN);
}

static void test_two_failovers_back_to_back(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;

    resumed_on_r1(f);
    /* R1 fails over to R2 before any sentinel said +switch-master for the
     * first one (their polls still name M1). */
    publish(S3, "+try-failover", "master mymaster " R1_ADDR);
    pump(f);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    assert_true(sentinel_follow_epoch(f) == 2);
    publish(S3, "+selected-slave", "slave 10.0.0.3:6381 " R2_ADDR " @ mymaster " R1_ADDR);
    strcpy(R2->role, "master");
    run_for(f, 50);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.3");
    assert_true(sentinel_follow_epoch(f) == 2);
    assert_true(stat_failovers(f) == 2);
}

/* Events denied or lost: the polled answer alone moves the master, and the
 * epoch with it. */
static void test_switch_seen_only_by_polling(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr a;

    strcpy(R1->role, "master");
    sentinels_name("10.0.0.2", 6380);
    run_for(f, 2500);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_true(sentinel_follow_epoch(f) == 1);
}

static void test_probe_authenticates_with_data_credentials(void **state)
{
    seen s;
    sentinel_t *h = sentinel_new("mymaster", NULL);
    sentinel_follow_t *f;

    (void)state;
    M1->password = "right";
    assert_int_equal(sentinel_add_sentinels(h, "10.0.1.1:26379"), 0);
    assert_int_equal(sentinel_set_data_auth(h, NULL, "wrong"), 0);
    f = sentinel_follow_new(h, NULL);
    sentinel_free(h);
    memset(&s, 0, sizeof(s));
    sentinel_follow_set_state_cb(f, on_state, &s);
    run_for(f, 200);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_true(M1->auth_failed >= 1);
    assert_int_equal(M1->role_cmds, 0);
    assert_non_null(strstr(sentinel_follow_errstr(f), "AUTH refused"));
    sentinel_follow_free(f);
}

/* A follower of master name on sentinels, with a sentinel password. */
static sentinel_follow_t *follower_of(const char *name, const char *sentinels,
                                      const char *sentinel_password)
{
    sentinel_t *h = sentinel_new(name, NULL);
    sentinel_follow_t *f;

    assert_int_equal(sentinel_add_sentinels(h, sentinels), 0);
    assert_int_equal(sentinel_set_sentinel_auth(h, NULL, sentinel_password), 0);
    f = sentinel_follow_new(h, NULL);
    sentinel_free(h);
    assert_non_null(f);
    return f;
}

static void test_unknown_name_and_no_sentinel_are_reported(void **state)
{
    sentinel_follow_t *f = follower_of("othermaster", "10.0.1.1:26379,10.0.1.2:26379", NULL);

    (void)state;
    run_for(f, 100);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_UNKNOWN_MASTER);
    assert_non_null(strstr(sentinel_follow_errstr(f), "othermaster"));
    node_kill(S1);
    node_kill(S2);
    run_for(f, 3000);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_NO_SENTINEL_REACHABLE);
    sentinel_follow_free(f);
}

/* Sentinels that refuse the sentinel credentials: said as an AUTH problem
 * (an operator's error to fix), not as "no sentinel answered". */
static void test_sentinels_refusing_auth_are_reported(void **state)
{
    sentinel_follow_t *f;

    (void)state;
    S1->password = S2->password = S3->password = "right";
    f = follower_of("mymaster", "10.0.1.1:26379,10.0.1.2:26379,10.0.1.3:26379", "wrong");
    run_for(f, 1000);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_AUTH);
    assert_non_null(strstr(sentinel_follow_errstr(f), "AUTH"));
    assert_int_equal(M1->role_cmds, 0);
    sentinel_follow_free(f);
}

/* A sentinel or data node that does not know AUTH (renamed away, as Redis
 * 7 answers it) quotes the AUTH's arguments in its error: the follower's
 * errstr says it was refused, never with the password. */
static void test_an_auth_refusal_quoting_the_password_is_not_repeated(void **state)
{
    sentinel_t *h = sentinel_new("mymaster", NULL);
    sentinel_follow_t *f;
    const char *e;

    (void)state;
    S1->auth_unknown = S2->auth_unknown = S3->auth_unknown = 1;
    f = follower_of("mymaster", "10.0.1.1:26379,10.0.1.2:26379,10.0.1.3:26379", "sentinel-pw-77");
    run_for(f, 1000);
    e = sentinel_follow_errstr(f);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_AUTH);
    assert_non_null(strstr(e, "unknown command 'AUTH'"));
    assert_null(strstr(e, "sentinel-pw"));
    sentinel_follow_free(f);
    /* The data node's: the follower's ROLE probe. */
    S1->auth_unknown = S2->auth_unknown = S3->auth_unknown = 0;
    M1->auth_unknown = 1;
    assert_int_equal(sentinel_add_sentinels(h, "10.0.1.1:26379"), 0);
    assert_int_equal(sentinel_set_data_auth(h, "app", "data-pw-88"), 0);
    f = sentinel_follow_new(h, NULL);
    sentinel_free(h);
    assert_non_null(f);
    run_for(f, 200);
    e = sentinel_follow_errstr(f);
    assert_true(M1->auth_failed >= 1);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_AUTH);
    assert_non_null(strstr(e, "unknown command 'AUTH'"));
    assert_null(strstr(e, "data-pw"));
    sentinel_follow_free(f);
}

/* ---- re-entrancy --------------------------------------------------------- */

static void on_state_reenter(sentinel_follow_t *f, const sentinel_follow_transition *t, void *ud)
{
    seen *s = ud;
    sentinel_watch_fd fds[80];

    (void)t;
    s->reenter_rc[0] = sentinel_follow_on_timeout(f);
    s->reenter_rc[1] = sentinel_follow_on_fd(f, HANDLE_BASE, POLLIN);
    s->reenter_rc[2] = sentinel_follow_run_once(f, 0);
    s->refusal_said = strstr(sentinel_follow_errstr(f), "inside a follower callback") != NULL;
    /* Deferred, not refused: once, at the first FOLLOWING. */
    if (s->n == 0)
        s->reenter_rc[3] = sentinel_follow_recheck(f);
    /* Reading is fine. */
    assert_true(sentinel_follow_fds(f, fds, 80) >= 1);
    (void)sentinel_follow_timeout(f);
    s->n++;
}

/* A host that verified the master itself (a PHP worker's first resolve())
 * makes the follower follow it at once: a failover that starts before the
 * first poll and probe still pauses. Refused when it would undo a pause. */
/* sentinel_follow_assume_master() as 1 adopted, 0 ignored, -1 error. */
static int assumed(sentinel_follow_t *f, const sentinel_addr *a)
{
    int adopted = -1;

    if (sentinel_follow_assume_master(f, a, &adopted) != SENTINEL_OK)
        return -1;
    return adopted;
}

static void test_assume_master_follows_at_once(void **state)
{
    seen s;
    sentinel_follow_t *f = new_follower(&s);
    sentinel_addr a, m1 = {"10.0.0.1", 6379, 0}, r1 = {"10.0.0.2", 6380, 0};

    *state = f;
    assert_int_equal(sentinel_follow_assume_master(f, NULL, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(assumed(f, &m1), 1);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(M1->role_cmds, 0); /* no network step was needed */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.master[0], "10.0.0.1:6379");
    assert_true(sentinel_follow_epoch(f) == 0);
    assert_int_equal(sentinel_follow_master(f, &a), 0);
    assert_string_equal(a.host, "10.0.0.1");
    run_for(f, 50); /* subscribed; the poll names M1 too: nothing moves */
    assert_int_equal(s.n, 1);
    publish(S2, "+try-failover", TRY_M1);
    pump(f);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    assert_true(sentinel_follow_epoch(f) == 1);
    /* Mid-failover the host's word does not resume anything. */
    assert_int_equal(assumed(f, &r1), 0);
    assert_int_equal(assumed(f, &m1), 0);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    expect_registry_matches(f, &s);
}

/* The master stopped answering (RESOLVING, no failover event) and the host
 * verified another node as master: following it is a failover, so the
 * epoch moves and a writer of the old epoch may not write. */
static void test_host_verified_new_master_moves_the_epoch(void **state)
{
    sentinel_follow_t *f = *state;
    sentinel_addr r1 = {"10.0.0.2", 6380, 0};

    node_kill(M1);
    assert_int_equal(sentinel_follow_verify(f), 0);
    run_for(f, 50);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_true(sentinel_follow_epoch(f) == 0);
    strcpy(R1->role, "master");
    assert_int_equal(assumed(f, &r1), 1);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_true(sentinel_follow_epoch(f) == 1);
    assert_false(sentinel_follow_writable(f, 0));
    assert_true(sentinel_follow_writable(f, 1));
}

static void test_callbacks_may_not_reenter(void **state)
{
    seen s;
    sentinel_follow_t *f = new_follower(&s);

    (void)state;
    sentinel_follow_set_state_cb(f, on_state_reenter, &s);
    run_for(f, 50);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s.reenter_rc[i], SENTINEL_ERR_INVALID_ARGUMENT);
    /* The deferred recheck ran after the step: FOLLOWING -> RESOLVING ->
     * FOLLOWING again, M1 asked for ROLE twice. */
    assert_int_equal(s.reenter_rc[3], 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(M1->role_cmds, 2);
    assert_true(s.refusal_said);
    /* Outside a callback the same calls work. */
    assert_int_equal(sentinel_follow_on_timeout(f), 0);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    sentinel_follow_free(f);
}

static void test_free_inside_state_callback_is_deferred(void **state)
{
    seen s;
    sentinel_follow_t *f = new_follower(&s);

    (void)state;
    run_for(f, 50);
    s.free_in_cb = 2; /* free at the PAUSED transition */
    publish(S1, "+try-failover", TRY_M1);
    publish(S1, "+selected-slave", SELECT_R1); /* same read: would move it on */
    strcpy(R1->role, "master");
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && conns[i].n == S1 && conns[i].subscribed) {
            /* The call returns normally; the follower is gone after it. */
            assert_int_equal(sentinel_follow_on_fd(f, HANDLE_BASE + i, POLLIN), 0);
            break;
        }
    assert_true(s.freed);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.calls_after_free, 0);
    assert_int_equal(R1->opens, 0);
    /* teardown checks every fake connection was closed */
}

static void on_socket_free(sentinel_follow_t *f, int fd, sentinel_follow_fd_op op, int events,
                           void *ud)
{
    seen *s = ud;

    (void)fd;
    (void)op;
    (void)events;
    if (s->freed) {
        s->calls_after_free++;
        return;
    }
    s->adds++;
    s->freed = 1;
    sentinel_follow_free(f);
}

static void test_free_inside_socket_callback_is_deferred(void **state)
{
    seen s;
    sentinel_follow_t *f = new_follower(&s);

    (void)state;
    sentinel_follow_set_socket_cb(f, on_socket_free, &s);
    assert_int_equal(sentinel_follow_on_timeout(f), 0);
    assert_true(s.freed);
    assert_int_equal(s.adds, 1);
    assert_int_equal(s.calls_after_free, 0);
    assert_int_equal(s.n, 0);
}

/* sentinel_follow_verify(): the host's master connection ended (QUIT, an
 * idle timeout, or a dead master). While the master still answers ROLE
 * master nothing changes and writes never stop; a master that refuses
 * connections, or answers as a replica, stops writes (RESOLVING) until it
 * answers master again, without moving the epoch. */
static void test_verify_keeps_writing_while_the_master_answers(void **state)
{
    sentinel_follow_t *f = *state;
    int n = SEEN.n, roles = M1->role_cmds;

    assert_int_equal(sentinel_follow_verify(f), 0);
    run_for(f, 50);
    assert_int_equal(M1->role_cmds, roles + 1); /* asked once more */
    assert_int_equal(SEEN.n, n);                /* no transition */
    assert_true(sentinel_follow_writable(f, 0));

    /* The master dies: the check fails, writes stop, the fence stays. */
    node_kill(M1);
    assert_int_equal(sentinel_follow_verify(f), 0);
    run_for(f, 50);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(SEEN.t[SEEN.n - 1].old_state, SENTINEL_FOLLOW_FOLLOWING);
    assert_int_equal(SEEN.t[SEEN.n - 1].new_state, SENTINEL_FOLLOW_RESOLVING);
    assert_false(sentinel_follow_writable(f, 0));
    /* Back (a restart inside down-after): followed again, same epoch. */
    M1->refuse = 0;
    run_for(f, 1000);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_FOLLOWING);
    assert_true(sentinel_follow_writable(f, 0));

    /* A master that answers as a replica fails the check too. */
    snprintf(M1->role, sizeof(M1->role), "slave");
    n = SEEN.n;
    assert_int_equal(sentinel_follow_verify(f), 0);
    run_for(f, 50);
    assert_int_equal(SEEN.n, n + 1);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_RESOLVING);
    assert_int_equal(sentinel_follow_errcode(f), SENTINEL_ERR_NOT_MASTER);
    assert_true(sentinel_follow_epoch(f) == 0);
    expect_registry_matches(f, &SEEN);
}

/* Outside FOLLOWING verify does nothing: a failover's pause is not lifted
 * or shortened by it. */
static void test_verify_outside_following_is_a_noop(void **state)
{
    sentinel_follow_t *f = *state;
    int n;

    publish(S2, "+try-failover", TRY_M1);
    run_for(f, 20);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    n = SEEN.n;
    assert_int_equal(sentinel_follow_verify(f), 0);
    run_for(f, 20);
    assert_int_equal(sentinel_follow_get_state(f), SENTINEL_FOLLOW_PAUSED);
    assert_int_equal(SEEN.n, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follows_the_named_master, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_event_about_another_master_is_ignored, setup_on_m1,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failover_pauses_probes_resumes_once, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_stale_failover_is_dropped, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_abort_resumes_on_old_master, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_candidate_never_answers_master, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_silent_candidate_times_out_and_backs_off, setup_on_m1,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_probe_answer_waiting_at_its_deadline_is_read,
                                        setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_probe_closed_by_peer_is_reopened_and_announced,
                                        setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_sentinel_dies_mid_failover, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_two_failovers_back_to_back, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_switch_seen_only_by_polling, setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_verify_keeps_writing_while_the_master_answers,
                                        setup_on_m1, teardown),
        cmocka_unit_test_setup_teardown(test_verify_outside_following_is_a_noop, setup_on_m1,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_probe_authenticates_with_data_credentials, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_name_and_no_sentinel_are_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_auth_refusal_quoting_the_password_is_not_repeated,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sentinels_refusing_auth_are_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_assume_master_follows_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_verified_new_master_moves_the_epoch, setup_on_m1,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_may_not_reenter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_state_callback_is_deferred, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_socket_callback_is_deferred, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
