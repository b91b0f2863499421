/*
 * The TLS setters and the follower (non-blocking links: watcher, poller,
 * ROLE probes) over TLS, driven by test_tls.sh against its TLS topology.
 *
 *   tls_follow setters SENTINELS CA_FILE
 *       the setters' errors, and that a failed setter never leaves a
 *       plaintext or half-changed TLS setup: exit 0 when all hold
 *   tls_follow discover SEED CA CERT KEY MASTER_PORT
 *       resolve over mutual TLS from one seed sentinel: MASTER_PORT, and
 *       SENTINEL sentinels (over TLS) taught the handle the other sentinel
 *   tls_follow follow SENTINELS CA CERT KEY MASTER_PORT SECONDS
 *       follow the master over mutual TLS; print "FOLLOWING PORT" once it
 *       follows MASTER_PORT, then "SWITCHED PORT EPOCH-MOVED" when it
 *       follows another master; exit 0 after the switch, 1 if none came
 *       within SECONDS (every loop is bounded in time).
 *   tls_follow silent SENTINELS CA CERT KEY MASTER SECONDS
 *       plaintext sentinels, TLS to the data nodes, which are plaintext:
 *       the follower's ROLE probe times out in the handshake; exit 0 once
 *       sentinel_follow_errstr() says the TLS hello had no answer (a
 *       plaintext port, or a frozen server), 1 if not within SECONDS.
 *   tls_follow silent-sentinels SENTINELS CA CERT KEY MASTER SECONDS
 *       the same with TLS to the sentinels, which are plaintext: the
 *       watcher's own poll times out in the handshake, and the errstr
 *       quoting it must carry the same hint.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sentinel/follow.h"
#include "sentinel/sentinel.h"
#include "tls_check.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setters(const char *sentinels, const char *ca)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_addr a;
    int rc, fd;

    CHECK(sentinel_tls_available() == 1, "built with TLS");
    CHECK(strcmp(sentinel_code_name(SENTINEL_ERR_TLS), "SENTINEL_ERR_TLS") == 0, "code name");
    CHECK(strstr(sentinel_strerror(SENTINEL_ERR_TLS), "TLS") != NULL, "strerror");
    rc = sentinel_set_tls(s, 7, 1);
    CHECK(rc == SENTINEL_ERR_INVALID_ARGUMENT &&
              sentinel_errcode(s) == SENTINEL_ERR_INVALID_ARGUMENT,
          "bad role refused");
    rc = sentinel_set_tls_cert(s, SENTINEL_TLS_DATA, ca, NULL);
    CHECK(rc == SENTINEL_ERR_INVALID_ARGUMENT &&
              sentinel_errcode(s) == SENTINEL_ERR_INVALID_ARGUMENT,
          "certificate without key refused");
    rc = sentinel_set_tls_min_version(s, SENTINEL_TLS_DATA, 0x0301);
    CHECK(rc == SENTINEL_ERR_INVALID_ARGUMENT &&
              sentinel_errcode(s) == SENTINEL_ERR_INVALID_ARGUMENT,
          "TLS 1.0 refused");
    /* While TLS is off a bad path is only stored; turning TLS on loads it. */
    CHECK(sentinel_set_tls_ca(s, SENTINEL_TLS_SENTINELS, "/nonexistent/ca.pem", NULL) == 0,
          "stored while off");
    rc = sentinel_set_tls(s, SENTINEL_TLS_SENTINELS, 1);
    CHECK(rc == SENTINEL_ERR_TLS && sentinel_errcode(s) == SENTINEL_ERR_TLS &&
              strstr(sentinel_errstr(s), "cannot load CA") != NULL,
          "missing CA file: %s", sentinel_errstr(s));
    /* A failed enable fails closed: TLS stays on, the TLS sentinels get no
     * plaintext (which they would reset: NO_SENTINEL_REACHABLE). */
    CHECK(sentinel_add_sentinels(s, sentinels) == 0, "sentinels");
    rc = sentinel_resolve(s, 0, &a);
    CHECK(rc == SENTINEL_ERR_TLS && strstr(sentinel_errstr(s), "could not be set up") != NULL,
          "failed enable fails closed: %s (%s)", sentinel_code_name(rc), sentinel_errstr(s));
    /* A good CA then sets it up. */
    CHECK(sentinel_set_tls_ca(s, SENTINEL_TLS_SENTINELS, ca, NULL) == 0, "good CA: %s",
          sentinel_errstr(s));
    CHECK(sentinel_set_tls(s, SENTINEL_TLS_SENTINELS, 1) == 0, "on: %s", sentinel_errstr(s));
    /* While on, a bad CA fails its own setter and changes nothing: the
     * sentinels still answer over TLS (the data nodes are not asked). */
    rc = sentinel_set_tls_ca(s, SENTINEL_TLS_SENTINELS, "/nonexistent/ca.pem", NULL);
    CHECK(rc == SENTINEL_ERR_TLS && sentinel_errcode(s) == SENTINEL_ERR_TLS,
          "bad CA while on");
    CHECK(sentinel_set_verify(s, 0) == 0, "no ROLE check");
    rc = sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a);
    CHECK(rc == SENTINEL_OK, "previous CA still in use: %s (%s)", sentinel_code_name(rc),
          sentinel_errstr(s));
    CHECK(sentinel_set_verify(s, 1) == 0, "ROLE check again");
    CHECK(sentinel_set_tls_server_name(s, SENTINEL_TLS_DATA, "two words") ==
              SENTINEL_ERR_INVALID_ARGUMENT,
          "server name with a space refused");
    /* A plaintext socket cannot carry TLS: connect_master_fd says so. */
    CHECK(sentinel_set_tls_ca(s, SENTINEL_TLS_DATA, ca, NULL) == 0, "data CA");
    CHECK(sentinel_set_tls(s, SENTINEL_TLS_DATA, 1) == 0, "data on");
    CHECK(sentinel_connect_master_fd(s, &fd, NULL) == SENTINEL_ERR_TLS && fd == -1 &&
              sentinel_errcode(s) == SENTINEL_ERR_TLS,
          "connect_master_fd refuses TLS");
    sentinel_free(s);
    printf("setters: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

static int tls_both(sentinel_t *s, char **argv)
{
    for (int r = SENTINEL_TLS_SENTINELS; r <= SENTINEL_TLS_DATA; r++)
        if (sentinel_set_tls_ca(s, r, argv[1], NULL) != SENTINEL_OK ||
            sentinel_set_tls_cert(s, r, argv[2], argv[3]) != SENTINEL_OK ||
            sentinel_set_tls(s, r, 1) != SENTINEL_OK) {
            printf("FAIL setup: %s\n", sentinel_errstr(s));
            return -1;
        }
    return 0;
}

static int discover(char **argv)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_addr a;
    int rc;

    if (tls_both(s, argv) == -1 || sentinel_add_sentinels(s, argv[0]) != SENTINEL_OK)
        return 1;
    CHECK(sentinel_sentinel_count(s) == 1, "one seed");
    rc = sentinel_resolve(s, 0, &a);
    CHECK(rc == SENTINEL_OK && a.port == atoi(argv[4]), "resolve: %s (%s), port %d",
          sentinel_code_name(rc), sentinel_errstr(s), a.port);
    CHECK(sentinel_sentinel_count(s) == 2, "discovered over TLS: %zu sentinels",
          sentinel_sentinel_count(s));
    sentinel_free(s);
    printf("discover: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

static int follow(char **argv)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_follow_t *f;
    int want_port = atoi(argv[4]);
    int64_t end = now_ms() + 1000LL * atoi(argv[5]);
    uint64_t epoch = 0;
    int following = 0, rc = 1;

    if (tls_both(s, argv) == -1)
        return 1;
    if (sentinel_add_sentinels(s, argv[0]) != SENTINEL_OK ||
        (f = sentinel_follow_new(s, NULL)) == NULL) {
        printf("FAIL follower: %s\n", sentinel_errstr(s));
        return 1;
    }
    sentinel_free(s); /* the follower keeps its own copy and the contexts */
    while (now_ms() < end) {
        sentinel_addr a;

        sentinel_follow_run_once(f, 100);
        if (sentinel_follow_get_state(f) != SENTINEL_FOLLOW_FOLLOWING ||
            sentinel_follow_master(f, &a) != 0)
            continue;
        if (!following) {
            if (a.port != want_port) {
                printf("FAIL follows %d, want %d\n", a.port, want_port);
                break;
            }
            following = 1;
            epoch = sentinel_follow_epoch(f);
            printf("FOLLOWING %d\n", a.port);
            fflush(stdout);
        } else if (a.port != want_port) {
            printf("SWITCHED %d %s\n", a.port,
                   sentinel_follow_epoch(f) != epoch ? "epoch-moved" : "epoch-same");
            rc = 0;
            break;
        }
    }
    if (rc != 0)
        printf("FAIL no switch in time (state %s: %s)\n",
               sentinel_follow_state_name(sentinel_follow_get_state(f)),
               sentinel_follow_errstr(f));
    fflush(stdout);
    sentinel_follow_free(f);
    return rc;
}

static int silent(char **argv, int role)
{
    sentinel_t *s = sentinel_new(argv[4], NULL);
    sentinel_follow_t *f;
    int64_t end = now_ms() + 1000LL * atoi(argv[5]);
    const char *hint = "no answer to the TLS hello: a plaintext port, or a frozen server";
    int ok;

    if (sentinel_set_tls_ca(s, role, argv[1], NULL) != SENTINEL_OK ||
        sentinel_set_tls_cert(s, role, argv[2], argv[3]) != SENTINEL_OK ||
        sentinel_set_tls(s, role, 1) != SENTINEL_OK ||
        sentinel_add_sentinels(s, argv[0]) != SENTINEL_OK ||
        (f = sentinel_follow_new(s, NULL)) == NULL) {
        printf("FAIL follower: %s\n", sentinel_errstr(s));
        return 1;
    }
    sentinel_free(s);
    while (now_ms() < end && strstr(sentinel_follow_errstr(f), hint) == NULL)
        sentinel_follow_run_once(f, 100);
    ok = strstr(sentinel_follow_errstr(f), hint) != NULL;
    printf("%s %s: %s\n", ok ? "SILENT" : "FAIL",
           sentinel_follow_state_name(sentinel_follow_get_state(f)), sentinel_follow_errstr(f));
    fflush(stdout);
    sentinel_follow_free(f);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "setters") == 0)
        return setters(argv[2], argv[3]);
    if (argc == 7 && strcmp(argv[1], "discover") == 0)
        return discover(argv + 2);
    if (argc == 8 && strcmp(argv[1], "follow") == 0)
        return follow(argv + 2);
    if (argc == 8 && strcmp(argv[1], "silent") == 0)
        return silent(argv + 2, SENTINEL_TLS_DATA);
    if (argc == 8 && strcmp(argv[1], "silent-sentinels") == 0)
        return silent(argv + 2, SENTINEL_TLS_SENTINELS);
    fprintf(stderr, "usage: tls_follow setters SENTINELS CA | discover SEED CA CERT KEY PORT |\n"
                    "       follow SENTINELS CA CERT KEY PORT SECONDS |\n"
                    "       silent[-sentinels] SENTINELS CA CERT KEY MASTER SECONDS\n");
    return 2;
}
