/*
 * The event watcher (watch.c, on the non-blocking link) through its public
 * API, against the scripted sentinels and clock of fake_sentinels.c: event
 * reporting and de-duplication, an aborted failover, SUBSCRIBE denied by an
 * ACL, a frozen sentinel, discovery, a sentinel that sends garbage. No
 * sockets, no sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fake_sentinels.h"
#include "internal.h"

#define MAX_EVENTS 64

typedef struct heard {
    int n;
    sentinel_event_type type[MAX_EVENTS];
    char addr[MAX_EVENTS][64];
    char detail[MAX_EVENTS][48];
} heard;

static heard H;

/* The allocation seam (-Wl,--wrap=malloc, tests/unit/CMakeLists.txt): the
 * library's next malloc() of fail_malloc_size bytes fails, once. */
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static size_t fail_malloc_size;

void *__wrap_malloc(size_t n)
{
    if (fail_malloc_size != 0 && n == fail_malloc_size) {
        fail_malloc_size = 0;
        return NULL;
    }
    return __real_malloc(n);
}

static void on_event(const sentinel_event *ev, void *ud)
{
    heard *h = ud;

    assert_true(h->n < MAX_EVENTS);
    h->type[h->n] = ev->type;
    snprintf(h->addr[h->n], sizeof(h->addr[0]), "%s:%d", ev->host ? ev->host : "-", ev->port);
    snprintf(h->detail[h->n], sizeof(h->detail[0]), "%s", ev->detail ? ev->detail : "-");
    h->n++;
}

static int count(sentinel_event_type type)
{
    int n = 0;

    for (int i = 0; i < H.n; i++)
        n += H.type[i] == type;
    return n;
}

static sentinel_watch_t *new_watch(const char *sentinels)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_watch_t *w;

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinels(s, sentinels), 0);
    w = sentinel_watch_new(s, on_event, &H, NULL);
    sentinel_free(s);
    assert_non_null(w);
    return w;
}

/* The host loop: process whenever a fake connection has something to say
 * or the watcher's timeout passed, on the scripted clock. */
static void run_for(sentinel_watch_t *w, int64_t ms)
{
    int64_t end = fake_now + ms;

    for (int i = 0; i < 100000; i++) {
        int busy = 0, t;

        for (int j = 0; j < MAX_CONNS; j++)
            busy |= conns[j].used && (conns[j].outlen > 0 || conns[j].closed);
        t = sentinel_watch_timeout(w);
        if (busy || t == 0) {
            assert_int_equal(sentinel_watch_process(w), 0);
            if (busy && t > 0 && i > 0 && fake_now >= end)
                return; /* a link that keeps talking must not hold the test */
            continue;
        }
        if (fake_now >= end)
            return;
        fake_now += t < end - fake_now ? t : end - fake_now;
        assert_int_equal(sentinel_watch_process(w), 0);
    }
    fail_msg("the watcher never went quiet");
}

static int setup(void **state)
{
    (void)state;
    memset(&H, 0, sizeof(H));
    fake_topology();
    return 0;
}

static int teardown(void **state)
{
    sentinel_watch_free(*state);
    *state = NULL;
    fake_net_remove();
    assert_int_equal(open_connections(), 0);
    return 0;
}

static int subscribed_links(const sentinel_watch_t *w, size_t n)
{
    int up = 0;

    for (size_t i = 0; i < n; i++)
        up += strcmp(sn_watch_link_state(w, i), "ready") == 0;
    return up;
}

/* A watcher on the three sentinels, subscribed to all of them; *state owns
 * it from the start, so teardown frees it even if subscribing fails. */
static sentinel_watch_t *watch_all_three(void **state)
{
    sentinel_watch_t *w = *state = new_watch("10.0.1.1:26379,10.0.1.2:26379,10.0.1.3:26379");

    run_for(w, 50);
    assert_int_equal(subscribed_links(w, 3), 3);
    return w;
}

static void test_events_are_reported_once(void **state)
{
    sentinel_watch_t *w = watch_all_three(state);
    sentinel_addr cur;

    assert_int_equal(count(SENTINEL_EVENT_SENTINEL_UP), 3);
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_string_equal(cur.host, "10.0.0.1");
    /* The leader's progress, and the same from another sentinel. */
    publish(S2, "+try-failover", TRY_M1);
    publish(S2, "+elected-leader", TRY_M1);
    publish(S3, "+try-failover", TRY_M1);
    publish(S2, "+selected-slave", SELECT_R1);
    publish(S2, "+promoted-slave", SELECT_R1);
    run_for(w, 10);
    assert_int_equal(count(SENTINEL_EVENT_FAILOVER_STARTED), 1);
    assert_int_equal(count(SENTINEL_EVENT_REPLICA_SELECTED), 1);
    assert_true(sentinel_watch_in_failover(w));
    publish(S1, "+switch-master", SWITCH_M1_R1);
    publish(S2, "+switch-master", SWITCH_M1_R1);
    run_for(w, 10);
    assert_int_equal(count(SENTINEL_EVENT_SWITCHED), 1);
    assert_false(sentinel_watch_in_failover(w));
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_string_equal(cur.host, "10.0.0.2");
}

/* -failover-abort-*: reported once, whichever sentinels say it; the
 * failover is over and the master is still the one it started from. */
static void test_failover_abort_is_reported_once_and_ends_the_failover(void **state)
{
    sentinel_watch_t *w = watch_all_three(state);
    sentinel_addr cur;

    publish(S2, "+try-failover", TRY_M1);
    run_for(w, 10);
    assert_int_equal(count(SENTINEL_EVENT_FAILOVER_STARTED), 1);
    assert_true(sentinel_watch_in_failover(w));
    publish(S2, "-failover-abort-no-good-slave", TRY_M1);
    publish(S3, "-failover-abort-no-good-slave", TRY_M1);
    run_for(w, 10);
    assert_int_equal(count(SENTINEL_EVENT_FAILOVER_ABORTED), 1);
    assert_int_equal(count(SENTINEL_EVENT_FAILOVER_STARTED), 1);
    assert_false(sentinel_watch_in_failover(w));
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_string_equal(cur.host, "10.0.0.1");
}

/* An ACL that forbids SUBSCRIBE: reported once per sentinel, never retried,
 * and polling at least once a second still sees the switch. */
static void test_subscribe_denied_falls_back_to_polling(void **state)
{
    sentinel_watch_t *w;
    sentinel_addr cur;
    int opens;

    S1->deny_subscribe = S2->deny_subscribe = 1;
    w = *state = new_watch("10.0.1.1:26379,10.0.1.2:26379");
    assert_int_equal(sentinel_watch_set_poll_interval(w, 60000), 0);
    run_for(w, 50);
    assert_int_equal(count(SENTINEL_EVENT_SUBSCRIBE_DENIED), 2);
    assert_string_equal(sn_watch_link_state(w, 0), "denied");
    assert_string_equal(sn_watch_link_state(w, 1), "denied");
    opens = S1->opens + S2->opens;
    strcpy(R1->role, "master");
    sentinels_name("10.0.0.2", 6380);
    run_for(w, 1100);
    assert_int_equal(count(SENTINEL_EVENT_SWITCHED), 1);
    assert_string_equal(H.detail[H.n - 1], SN_WATCH_POLL_DETAIL);
    assert_int_equal(sentinel_watch_current(w, &cur), 0);
    assert_string_equal(cur.host, "10.0.0.2");
    run_for(w, 10000);
    /* No new subscription attempts: only the poller's connection, kept. */
    assert_true(S1->opens + S2->opens <= opens + 1);
    assert_int_equal(count(SENTINEL_EVENT_SUBSCRIBE_DENIED), 2);
}

/* A frozen sentinel keeps its TCP connection and says nothing: the PING it
 * does not answer gives it away, and the watcher polls another sentinel. */
static void test_frozen_sentinel_is_dropped(void **state)
{
    sentinel_watch_t *w = *state = new_watch("10.0.1.1:26379,10.0.1.2:26379");

    run_for(w, 50);
    assert_int_equal(subscribed_links(w, 2), 2);
    S1->silent = 1;
    run_for(w, 2000 + 250 + 100); /* a ping interval, then its deadline */
    assert_int_equal(count(SENTINEL_EVENT_SENTINEL_DOWN), 1);
    assert_string_equal(H.addr[H.n - 1], "10.0.1.1:26379");
    assert_int_equal(subscribed_links(w, 2), 1);
    /* Reconnects to it are bounded by the backoff, not one per tick. */
    run_for(w, 10000);
    assert_true(S1->opens <= 2 + 10);
    assert_int_equal(count(SENTINEL_EVENT_SENTINEL_UP), 2);
}

static void test_discovered_sentinels_are_subscribed(void **state)
{
    sentinel_watch_t *w;

    S1->sentinels_reply = "*2\r\n"
                          "*4\r\n$2\r\nip\r\n$8\r\n10.0.1.2\r\n$4\r\nport\r\n$5\r\n26379\r\n"
                          "*4\r\n$2\r\nip\r\n$8\r\n10.0.1.3\r\n$4\r\nport\r\n$5\r\n26379\r\n";
    w = *state = new_watch("10.0.1.1:26379");
    run_for(w, 50);
    run_for(w, 500);
    assert_true(S2->opens >= 1 && S3->opens >= 1);
    assert_int_equal(count(SENTINEL_EVENT_SENTINEL_UP), 3);
}

static void test_garbage_from_a_sentinel_drops_its_link(void **state)
{
    sentinel_watch_t *w = *state = new_watch("10.0.1.1:26379,10.0.1.2:26379");
    int h;

    run_for(w, 50);
    for (h = 0; h < MAX_CONNS; h++)
        if (conns[h].used && conns[h].n == S1 && conns[h].subscribed)
            break;
    assert_true(h < MAX_CONNS);
    memcpy(conns[h].out, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
    conns[h].outlen = 28;
    run_for(w, 5);
    assert_int_equal(count(SENTINEL_EVENT_SENTINEL_DOWN), 1);
    assert_string_equal(H.addr[H.n - 1], "10.0.1.1:26379");
    run_for(w, 3000); /* and it comes back */
    assert_int_equal(subscribed_links(w, 2), 2);
}

/* The lone poller's connection to n (not its subscription), or -1. */
static int poller_slot(const node *n)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && conns[i].n == n && !conns[i].subscribed && !conns[i].closed)
            return i;
    return -1;
}

static void poller_receives(const node *n, const char *resp)
{
    int i = poller_slot(n);

    assert_true(i >= 0);
    memcpy(conns[i].out + conns[i].outlen, resp, strlen(resp));
    conns[i].outlen += strlen(resp);
}

/* A poll's answer and the sentinel's close come in one read: the answer is
 * taken (here: the master moved), then the link fails. main dropped the
 * answer with the link. */
static void test_a_poll_answer_read_with_the_close_is_taken(void **state)
{
    sentinel_watch_t *w = *state = new_watch("10.0.1.1:26379");

    run_for(w, 50);
    S1->silent = 1;
    run_for(w, 1000); /* the next poll is on the wire, unanswered */
    poller_receives(S1, "*2\r\n$8\r\n10.0.0.2\r\n$4\r\n6380\r\n");
    conns[poller_slot(S1)].closed = 1;
    assert_int_equal(sentinel_watch_process(w), 0);
    assert_int_equal(count(SENTINEL_EVENT_SWITCHED), 1);
    assert_string_equal(H.addr[H.n - 1], "10.0.0.2:6380");
}

/* A reply the lone poller did not ask for (a sentinel answering twice) is
 * not taken as an answer: the link is dropped. main took it (here: a master
 * change nobody polled for). */
static void test_a_reply_the_poller_did_not_ask_for_drops_it(void **state)
{
    sentinel_watch_t *w = *state = new_watch("10.0.1.1:26379");
    int opens;

    run_for(w, 50);
    opens = S1->opens;
    poller_receives(S1, "*2\r\n$8\r\n10.0.0.2\r\n$4\r\n6380\r\n");
    assert_int_equal(sentinel_watch_process(w), 0);
    assert_int_equal(count(SENTINEL_EVENT_SWITCHED), 0);
    assert_int_equal(poller_slot(S1), -1);
    run_for(w, 2000); /* it polls again, on a new link */
    assert_true(S1->opens > opens);
    assert_int_equal(count(SENTINEL_EVENT_SWITCHED), 0);
}

/* A sentinel that answers AUTH and then closes, every time: no poll is ever
 * answered, so the poller fails and backs off, it does not reconnect at once
 * forever (main took AUTH-answered-then-closed for an idle close: the test
 * loop never went quiet, hundreds of thousands of connections in no time). */
static void test_a_close_right_after_auth_is_a_poll_failure(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_watch_t *w;

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinels(s, "10.0.1.1:26379"), 0);
    assert_int_equal(sentinel_set_sentinel_auth(s, NULL, "pw"), 0);
    w = *state = sentinel_watch_new(s, on_event, &H, NULL);
    sentinel_free(s);
    assert_non_null(w);
    S1->close_after_auth = 1;
    run_for(w, 2000);
    /* Backed off between attempts: a handful of connections in 2 s (poller
     * and subscription), not one per loop turn. */
    assert_true(S1->opens < 40);
}

/* A poll that cannot be queued (no memory for the link's output queue) is
 * one failed poll: the next goes to the next sentinel, and one failure of
 * two sentinels is not a whole round. main counted it twice (poll_send()
 * and its caller): S2 was skipped (back to S1, after a back-off) and the
 * watcher said no sentinel was reachable. */
static void test_a_poll_that_cannot_be_queued_fails_once(void **state)
{
    sentinel_watch_t *w;
    int i;

    S1->close_after_query = 1; /* every poll of S1 on a new link */
    w = *state = new_watch("10.0.1.1:26379,10.0.1.2:26379");
    run_for(w, 50);
    assert_int_equal(subscribed_links(w, 2), 2);
    assert_int_equal(poller_slot(S2), -1);
    assert_int_equal(sn_watch_poll_code(w), SENTINEL_OK);
    /* The next poll's link to S1 gets no output queue (its first 256 bytes). */
    fail_malloc_size = 256;
    for (i = 0; i < 100 && fail_malloc_size != 0; i++) {
        int t = sentinel_watch_timeout(w);

        fake_now += t > 0 ? t : 0;
        assert_int_equal(sentinel_watch_process(w), 0);
    }
    assert_int_equal(fail_malloc_size, 0); /* the failure was injected */
    assert_non_null(strstr(sn_watch_poll_why(w, 0), "10.0.1.1:26379"));
    assert_int_equal(sn_watch_poll_code(w), SENTINEL_OK); /* 1 failure of 2 */
    run_for(w, 50);
    assert_true(poller_slot(S2) >= 0); /* the next sentinel, at once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_are_reported_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover_abort_is_reported_once_and_ends_the_failover,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_denied_falls_back_to_polling, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frozen_sentinel_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovered_sentinels_are_subscribed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_from_a_sentinel_drops_its_link, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_poll_answer_read_with_the_close_is_taken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_reply_the_poller_did_not_ask_for_drops_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_close_right_after_auth_is_a_poll_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_poll_that_cannot_be_queued_fails_once, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
