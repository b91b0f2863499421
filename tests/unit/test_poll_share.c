/*
 * Shared polling links (poll_share.c) driven directly, on the scripted
 * network and clock of fake_sentinels.c: one link per sentinel carries the
 * pipelined queries of many members, and every reply reaches the member
 * that asked, in order, or the link closes for all of them. The sentinel
 * here may lie: it answers with nobody asking, answers with errors, refuses
 * AUTH, or sends more replies than one wake-up reads.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_sentinels.h"
#include "internal.h"

#define NM 600    /* members on one link: more than one read's worth of replies */
#define NBIG 1200 /* their queries overflow the link's output queue (64 KiB) */

typedef struct member {
    int replies, errors, lost, auth_refused;
    int not_mine;  /* its next reply is "not one to what I asked" (-2) */
    char why[128]; /* what its last lost callback said */
} member;

static member M[NBIG];
static sn_config cfg;
static sn_pollshare *ps;

static int on_reply(void *m, redisReply *r, const sn_hostport *from, sn_err *e, int64_t now)
{
    member *mb = m;

    (void)from;
    (void)now;
    if (mb->not_mine) {
        mb->not_mine = 0;
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "not my master's reply") - 1;
    }
    mb->replies++;
    mb->errors += r->type == REDIS_REPLY_ERROR;
    return 0;
}

static void on_lost(void *m, int auth_refused, const char *why, int64_t now)
{
    member *mb = m;

    (void)now;
    mb->lost++;
    mb->auth_refused += auth_refused;
    snprintf(mb->why, sizeof(mb->why), "%s", why ? why : "");
}

static int query(member *m)
{
    static const char *get[] = {"SENTINEL", "get-master-addr-by-name", "mymaster"};
    const int argc[] = {3};
    const char *const *const argv[] = {get};
    sn_hostport s1;

    memset(&s1, 0, sizeof(s1));
    strcpy(s1.host, "10.0.1.1");
    s1.port = 26379;
    return sn_pollshare_query(ps, &s1, m, 1, argc, argv, fake_now);
}

/* The polling link to S1 (the fake's connection slot), or -1. */
static int link_slot(void)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && conns[i].n == S1 && !conns[i].closed)
            return i;
    return -1;
}

/* S1 sends raw RESP on the link, as a lying sentinel would. */
static void sentinel_sends(const char *resp)
{
    int i = link_slot();

    assert_true(i >= 0);
    assert_true(conns[i].outlen + strlen(resp) <= sizeof(conns[i].out));
    memcpy(conns[i].out + conns[i].outlen, resp, strlen(resp));
    conns[i].outlen += strlen(resp);
}

static int setup(void **state)
{
    (void)state;
    memset(M, 0, sizeof(M));
    fake_topology();
    sn_config_init(&cfg);
    assert_non_null(ps = sn_pollshare_new(&cfg, on_reply, on_lost));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_pollshare_free(ps);
    ps = NULL;
    sn_config_free(&cfg);
    fake_net_remove();
    assert_int_equal(open_connections(), 0);
    return 0;
}

/* The host wakes the link once when its socket is readable; replies that
 * one wake-up read into the link's buffer wake nobody again. Every one of
 * them must be handed out in that step: left in the buffer (main capped a
 * step at 256 replies) they wait for the reply deadline, and past 512 the
 * link is dropped as "frozen" for every member although the sentinel
 * answered every query at once. */
static void test_one_wakeup_hands_out_every_buffered_reply(void **state)
{
    int answered = 0, lost = 0;

    (void)state;
    for (int i = 0; i < NM; i++)
        assert_int_equal(query(&M[i]), 0);
    /* One step: connect, send the 600 queries, read the 600 answers (the
     * fake sentinel answers as it reads), hand them out. */
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(conns[link_slot()].outlen, 0); /* the socket is drained */
    for (int i = 0; i < NM; i++) {
        answered += M[i].replies;
        lost += M[i].lost;
    }
    assert_int_equal(answered, NM);
    assert_int_equal(lost, 0);
    /* Nothing is late: the link stays up, no member is told it failed. */
    fake_now += cfg.command_ms + 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 1);
    for (int i = 0; i < NM; i++)
        assert_int_equal(M[i].lost, 0);
}

/* More queries than the link's output queue holds while it connects (a big
 * group's first polls): the query that does not fit fails alone (its member
 * moves on to its next sentinel); the queries queued before it keep the
 * link and are answered. main dropped the link for every member waiting on
 * it, and refused the rest during the backoff: a big group never got an
 * answer from its first sentinel. */
static void test_a_query_that_does_not_fit_fails_alone(void **state)
{
    int queued = 0, refused = 0, answered = 0, lost = 0;

    (void)state;
    for (int i = 0; i < NBIG; i++) {
        if (query(&M[i]) == 0)
            queued++;
        else
            refused++;
    }
    assert_true(refused > 0); /* the queue filled up */
    assert_true(queued > NM);
    sn_pollshare_step(ps, fake_now);
    for (int i = 0; i < NBIG; i++) {
        answered += M[i].replies;
        lost += M[i].lost;
    }
    assert_int_equal(lost, 0);
    assert_int_equal(answered, queued);
    assert_int_equal(sn_pollshare_open_links(ps), 1);
    /* The link takes queries again once it drained. */
    assert_int_equal(query(&M[NBIG - 1]), 0);
}

/* A sentinel (or a middlebox) closes the link while it is idle, every query
 * answered: that is no failure of the sentinel. The next member's poll
 * reopens the link at once; main put the link in reconnect backoff and
 * refused that poll (its member counted a failed sentinel and moved on). */
static void test_an_idle_close_is_not_a_failure(void **state)
{
    (void)state;
    assert_int_equal(query(&M[0]), 0);
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].replies, 1);
    conns[link_slot()].closed = 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_int_equal(M[0].lost, 0);
    assert_int_equal(query(&M[1]), 0);
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[1].replies, 1);
    /* A link that fails with queries on it does back off. */
    S1->silent = 1;
    assert_int_equal(query(&M[2]), 0);
    sn_pollshare_step(ps, fake_now);
    conns[link_slot()].closed = 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[2].lost, 1);
    assert_int_equal(query(&M[3]), -1);
}

/* A reply nobody asked for (a sentinel that answers twice): the stream is
 * out of step, the link closes; no member is handed a stranger's answer. */
static void test_a_reply_nobody_asked_for_closes_the_link(void **state)
{
    (void)state;
    assert_int_equal(query(&M[0]), 0);
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].replies, 1);
    sentinel_sends("*2\r\n$8\r\n10.0.0.9\r\n$4\r\n6379\r\n");
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_int_equal(M[0].replies, 1);
    assert_int_equal(M[0].lost, 0); /* it was waiting for nothing */
}

/* Replies that arrive together with the sentinel's close (one read gets
 * both) are answers: each is handed to its member before the members still
 * waiting are told the link failed. main dropped them and told all three
 * "lost". */
static void test_replies_read_with_the_close_are_handed_out(void **state)
{
    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    assert_int_equal(query(&M[1]), 0);
    assert_int_equal(query(&M[2]), 0);
    sn_pollshare_step(ps, fake_now);
    sentinel_sends("*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n"
                   "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n");
    conns[link_slot()].closed = 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_int_equal(M[0].replies, 1);
    assert_int_equal(M[1].replies, 1);
    assert_int_equal(M[0].lost + M[1].lost, 0);
    assert_int_equal(M[2].replies, 0);
    assert_int_equal(M[2].lost, 1);
    assert_non_null(strstr(M[2].why, "closed"));
}

/* The same when every query was answered before the close: nobody is told
 * the link failed, and it reopens at once (an idle close). */
static void test_all_answered_then_closed_is_an_idle_close(void **state)
{
    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    sn_pollshare_step(ps, fake_now);
    sentinel_sends("*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n");
    conns[link_slot()].closed = 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].replies, 1);
    assert_int_equal(M[0].lost, 0);
    S1->silent = 0;
    assert_int_equal(query(&M[1]), 0);
}

/* A member says a reply is not its own (watch.c: another master's name, or
 * a reply of another shape): every later reply on the link would be a
 * stranger's too, so the link closes for every member, that one included,
 * each told once with the reason. */
static void test_a_reply_that_is_not_its_members_closes_the_link(void **state)
{
    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0); /* M[0] has no other reply to wait for */
    assert_int_equal(query(&M[1]), 0);
    assert_int_equal(query(&M[2]), 0);
    assert_int_equal(query(&M[1]), 0);
    sn_pollshare_step(ps, fake_now);
    M[0].not_mine = 1;
    sentinel_sends("*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n"
                   "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n");
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(M[i].replies, 0);
        assert_int_equal(M[i].lost, 1);
        assert_string_equal(M[i].why, "not my master's reply");
    }
}

/* An error reply (-BUSY) answers its own query only: the next member on
 * the link gets its own answer. */
static void test_an_error_reply_goes_to_the_member_that_asked(void **state)
{
    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    assert_int_equal(query(&M[1]), 0);
    sn_pollshare_step(ps, fake_now);
    sentinel_sends("-BUSY Redis is busy running a script\r\n"
                   "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n");
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].replies, 1);
    assert_int_equal(M[0].errors, 1);
    assert_int_equal(M[1].replies, 1);
    assert_int_equal(M[1].errors, 0);
    assert_int_equal(sn_pollshare_open_links(ps), 1);
}

/* A partial reply, then the sentinel closes: every waiting member is told
 * once that the link failed. */
static void test_a_partial_reply_then_close_fails_every_waiter_once(void **state)
{
    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    assert_int_equal(query(&M[1]), 0);
    assert_int_equal(query(&M[0]), 0); /* M[0] waits twice: told once */
    sn_pollshare_step(ps, fake_now);
    sentinel_sends("*2\r\n$8\r\n10.0");
    conns[link_slot()].closed = 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_int_equal(M[0].lost, 1);
    assert_int_equal(M[1].lost, 1);
    assert_int_equal(M[0].replies + M[1].replies, 0);
}

/* A sentinel that accepts and never answers: the queries are late after
 * the command timeout (plus the connect and AUTH allowance), the link
 * closes, every member is told. The link's deadline is what the host is
 * told to wake for. */
static void test_a_silent_sentinel_is_dropped_at_the_deadline(void **state)
{
    int64_t due;

    (void)state;
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    sn_pollshare_step(ps, fake_now);
    due = sn_pollshare_due(ps, INT64_MAX);
    assert_true(due > fake_now && due < INT64_MAX);
    fake_now = due - 1;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].lost, 0);
    fake_now = due;
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(M[0].lost, 1);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_true(sn_pollshare_due(ps, INT64_MAX) == INT64_MAX);
}

/* AUTH refused: every member waiting on the link hears it was refused. */
static void test_auth_refused_is_told_to_every_waiter(void **state)
{
    (void)state;
    sn_config_free(&cfg);
    sn_pollshare_free(ps);
    sn_config_init(&cfg);
    assert_non_null(cfg.sentinel_cred.password = strdup("wrong"));
    assert_non_null(ps = sn_pollshare_new(&cfg, on_reply, on_lost));
    S1->silent = 1;
    assert_int_equal(query(&M[0]), 0);
    assert_int_equal(query(&M[1]), 0);
    sn_pollshare_step(ps, fake_now);
    sentinel_sends("-WRONGPASS invalid username-password pair\r\n"
                   "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n");
    sn_pollshare_step(ps, fake_now);
    assert_int_equal(sn_pollshare_open_links(ps), 0);
    assert_int_equal(M[0].auth_refused, 1);
    assert_int_equal(M[1].auth_refused, 1);
    assert_int_equal(M[0].replies + M[1].replies, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_wakeup_hands_out_every_buffered_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_query_that_does_not_fit_fails_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_idle_close_is_not_a_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reply_nobody_asked_for_closes_the_link, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_error_reply_goes_to_the_member_that_asked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replies_read_with_the_close_are_handed_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_all_answered_then_closed_is_an_idle_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_reply_that_is_not_its_members_closes_the_link,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_partial_reply_then_close_fails_every_waiter_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_silent_sentinel_is_dropped_at_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_refused_is_told_to_every_waiter, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
