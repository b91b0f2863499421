/*
 * sentinel_connect_master_conn() over the TLS topology of topology.sh,
 * driven by test_tls_conn.sh.
 *
 *   tls_conn ok SENTINELS CA CERT KEY MASTER_PORT
 *       connect over mutual TLS, SET and GET through
 *       sentinel_conn_command_argv(), the connection's facts (TLS, fd,
 *       address, pending, timeout) and its errors: exit 0 when all hold
 *   tls_conn fail SENTINELS CA CERT KEY WANT_CODE PATTERN [OPTION VALUE]...
 *       the sentinels over mutual TLS, the data nodes as the options say
 *       (data-ca FILE, data-sni NAME, data-plain 1; else like the
 *       sentinels): exit 0 when connecting fails with the code named
 *       WANT_CODE (e.g. SENTINEL_ERR_TLS) and errstr contains PATTERN
 *   tls_conn liar SENTINEL CA CERT KEY
 *       SENTINEL (plaintext, a fake that names a replica) lies: the data
 *       nodes over mutual TLS answer ROLE slave: SENTINEL_ERR_NOT_MASTER,
 *       from the ROLE check on the connection itself (resolution's is off)
 *   tls_conn close SENTINEL CA CERT KEY
 *       SENTINEL (a fake) names a fake TLS node: connect, PING, free (the
 *       script checks the node saw close_notify)
 *
 * The script bounds every run with `timeout` (a hang fails); the total
 * timeout is set so the deadline is what ends a failing call.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentinel/hiredis.h"
#include "tls_check.h"

static int tls_role(sentinel_t *s, int role, const char *ca, const char *cert, const char *key)
{
    if (sentinel_set_tls_ca(s, role, ca, NULL) != SENTINEL_OK ||
        sentinel_set_tls_cert(s, role, cert, key) != SENTINEL_OK ||
        sentinel_set_tls(s, role, 1) != SENTINEL_OK) {
        printf("FAIL setup: %s\n", sentinel_errstr(s));
        return -1;
    }
    return 0;
}

static sentinel_t *handle(const char *sentinels)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    if (s == NULL || sentinel_add_sentinels(s, sentinels) != SENTINEL_OK ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 3000) != SENTINEL_OK) {
        printf("FAIL handle\n");
        sentinel_free(s);
        return NULL;
    }
    return s;
}

static redisReply *command(sentinel_conn_t *c, int argc, const char **argv)
{
    redisReply *r = NULL;
    int rc = sentinel_conn_command_argv(c, argc, argv, NULL, &r);

    CHECK(rc == SENTINEL_OK && r != NULL, "%s: %s (%s)", argv[0], sentinel_code_name(rc),
          sentinel_conn_errstr(c));
    return r;
}

static int ok(char **argv)
{
    const char *set[] = {"SET", "tls_conn:key", "over TLS"};
    const char *get[] = {"GET", "tls_conn:key"};
    const char *role[] = {"ROLE"};
    sentinel_t *s = handle(argv[0]);
    sentinel_conn_t *c = NULL;
    sentinel_addr a;
    redisReply *r;
    size_t n = 7;
    char buf[64];
    int rc;

    if (s == NULL || tls_role(s, SENTINEL_TLS_SENTINELS, argv[1], argv[2], argv[3]) == -1 ||
        tls_role(s, SENTINEL_TLS_DATA, argv[1], argv[2], argv[3]) == -1)
        return 1;
    /* The plain-socket path still refuses TLS; the connection takes it. */
    CHECK(sentinel_connect_master_conn(s, NULL, NULL) == SENTINEL_ERR_INVALID_ARGUMENT,
          "out NULL refused");
    rc = sentinel_connect_master_conn(s, &c, &a);
    CHECK(rc == SENTINEL_OK && c != NULL, "connect: %s (%s)", sentinel_code_name(rc),
          sentinel_errstr(s));
    if (c == NULL)
        return 1;
    CHECK(a.port == atoi(argv[4]) && strcmp(a.host, "127.0.0.1") == 0 && a.verified_at_ms > 0,
          "the verified master: %s:%d", a.host, a.port);
    CHECK(sentinel_conn_is_tls(c) == 1, "is TLS");
    CHECK(sentinel_conn_fd(c) >= 0, "fd");
    CHECK(sentinel_conn_pending(c) == 0, "nothing pending after the ROLE check");
    CHECK(sentinel_conn_errstr(c)[0] == '\0', "no error yet");
    /* The handle is not needed by the connection. */
    sentinel_free(s);

    if ((r = command(c, 3, set)) != NULL) {
        CHECK(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0, "SET answered OK");
        freeReplyObject(r);
    }
    if ((r = command(c, 2, get)) != NULL) {
        CHECK(r->type == REDIS_REPLY_STRING && strcmp(r->str, "over TLS") == 0,
              "GET returns what SET wrote");
        freeReplyObject(r);
    }
    if ((r = command(c, 1, role)) != NULL) {
        CHECK(r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                  strcmp(r->element[0]->str, "master") == 0,
              "ROLE master on the connection handed out");
        freeReplyObject(r);
    }

    /* A reply read in small pieces: the rest of its TLS record waits inside
     * OpenSSL, and sentinel_conn_pending() says how much. */
    {
        static char big[2048];
        const char *bigset[] = {"SET", "tls_conn:big", big};
        char piece[16];
        size_t have = 0, want = 0;
        int saw_pending = 0;

        memset(big, 'x', sizeof(big) - 1);
        if ((r = command(c, 3, bigset)) != NULL)
            freeReplyObject(r);
        const char *get_big = "*2\r\n$3\r\nGET\r\n$12\r\ntls_conn:big\r\n";

        CHECK(sentinel_conn_write(c, get_big, strlen(get_big)) == SENTINEL_OK, "raw GET");
        want = strlen("$2047\r\n") + 2047 + 2;
        /* Bounded: each read takes at least one byte or fails. Records of
         * more than 16 bytes leave bytes behind after a read. */
        for (int i = 0; i < 1000 && have < want; i++) {
            rc = sentinel_conn_read(c, piece, sizeof(piece), &n);
            if (rc != SENTINEL_OK)
                break;
            have += n;
            saw_pending |= sentinel_conn_pending(c) > 0;
        }
        CHECK(rc == SENTINEL_OK, "pieces: %s", sentinel_conn_errstr(c));
        CHECK(saw_pending, "the rest of a record was pending in OpenSSL");
        CHECK(have == want && sentinel_conn_pending(c) == 0, "whole reply read: %zu of %zu", have,
              want);
    }

    /* Timeouts: a read with nothing to read times out, within it. */
    CHECK(sentinel_conn_set_timeout(c, -1) == SENTINEL_ERR_INVALID_ARGUMENT &&
              sentinel_conn_errstr(c)[0] != '\0',
          "negative timeout refused");
    CHECK(sentinel_conn_set_timeout(c, 200) == SENTINEL_OK, "timeout 200 ms");
    rc = sentinel_conn_read(c, buf, sizeof(buf), &n);
    CHECK(rc == SENTINEL_ERR_TIMEOUT && n == 0, "a silent master: %s (%s)",
          sentinel_code_name(rc), sentinel_conn_errstr(c));
    /* After a failure the stream is unusable, and says so. */
    rc = sentinel_conn_write(c, "PING\r\n", 6);
    CHECK(rc == SENTINEL_ERR_MASTER_UNREACHABLE, "unusable after a failure: %s",
          sentinel_code_name(rc));
    sentinel_conn_free(c);
    sentinel_conn_free(NULL);
    CHECK(sentinel_conn_fd(NULL) == -1 && sentinel_conn_is_tls(NULL) == 0 &&
              sentinel_conn_pending(NULL) == 0,
          "NULL connection");

    /* Raw bytes, and the master closing the connection (QUIT). */
    s = handle(argv[0]);
    if (s == NULL || tls_role(s, SENTINEL_TLS_SENTINELS, argv[1], argv[2], argv[3]) == -1 ||
        tls_role(s, SENTINEL_TLS_DATA, argv[1], argv[2], argv[3]) == -1)
        return 1;
    rc = sentinel_connect_master_conn(s, &c, NULL);
    CHECK(rc == SENTINEL_OK, "connect again: %s", sentinel_errstr(s));
    sentinel_free(s);
    if (c == NULL)
        return 1;
    CHECK(sentinel_conn_write(c, "PING\r\nQUIT\r\n", 12) == SENTINEL_OK, "raw write");
    {
        char got[64];
        size_t have = 0;
        /* Bounded: each read takes at least one byte or fails. */
        for (int i = 0; i < 32 && have < sizeof(got) - 1; i++) {
            rc = sentinel_conn_read(c, got + have, sizeof(got) - 1 - have, &n);
            if (rc != SENTINEL_OK)
                break;
            have += n;
        }
        got[have] = '\0';
        CHECK(strcmp(got, "+PONG\r\n+OK\r\n") == 0, "raw replies: '%s'", got);
        CHECK(rc == SENTINEL_ERR_MASTER_UNREACHABLE, "closed by the master: %s (%s)",
              sentinel_code_name(rc), sentinel_conn_errstr(c));
    }
    sentinel_conn_free(c);
    printf("ok: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

static int fail(int argc, char **argv)
{
    sentinel_t *s = handle(argv[0]);
    sentinel_conn_t *c = (sentinel_conn_t *)&failures; /* must come back NULL */
    const char *data_ca = argv[1], *sni = NULL;
    int plain = 0, rc;

    if (s == NULL)
        return 1;
    for (int i = 6; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "data-ca") == 0)
            data_ca = argv[i + 1];
        else if (strcmp(argv[i], "data-sni") == 0)
            sni = argv[i + 1];
        else if (strcmp(argv[i], "data-plain") == 0)
            plain = 1;
    }
    if (tls_role(s, SENTINEL_TLS_SENTINELS, argv[1], argv[2], argv[3]) == -1)
        return 1;
    if (!plain && tls_role(s, SENTINEL_TLS_DATA, data_ca, argv[2], argv[3]) == -1)
        return 1;
    if (sni != NULL && sentinel_set_tls_server_name(s, SENTINEL_TLS_DATA, sni) != SENTINEL_OK)
        return 1;
    rc = sentinel_connect_master_conn(s, &c, NULL);
    CHECK(strcmp(sentinel_code_name(rc), argv[4]) == 0 && c == NULL,
          "%s, want %s (%s)", sentinel_code_name(rc), argv[4], sentinel_errstr(s));
    CHECK(sentinel_errcode(s) == rc && strstr(sentinel_errstr(s), argv[5]) != NULL,
          "errstr '%s' lacks '%s'", sentinel_errstr(s), argv[5]);
    printf("%s: %s\n", sentinel_code_name(rc), sentinel_errstr(s));
    sentinel_conn_free(c == (sentinel_conn_t *)&failures ? NULL : c);
    sentinel_free(s);
    return failures ? 1 : 0;
}

static int liar(char **argv)
{
    sentinel_t *s = handle(argv[0]);
    sentinel_conn_t *c = NULL;
    int rc;

    /* Resolution's own ROLE check off: the one that refuses the replica
     * is the check on the connection the call would hand out. */
    if (s == NULL || tls_role(s, SENTINEL_TLS_DATA, argv[1], argv[2], argv[3]) == -1 ||
        sentinel_set_retry(s, 3, 10, 50) != SENTINEL_OK || sentinel_set_discovery(s, 0) != 0 ||
        sentinel_set_verify(s, 0) != SENTINEL_OK)
        return 1;
    rc = sentinel_connect_master_conn(s, &c, NULL);
    CHECK(rc == SENTINEL_ERR_NOT_MASTER && c == NULL, "%s (%s)", sentinel_code_name(rc),
          sentinel_errstr(s));
    printf("%s: %s\n", sentinel_code_name(rc), sentinel_errstr(s));
    sentinel_conn_free(c);
    sentinel_free(s);
    return failures ? 1 : 0;
}

static int close_cleanly(char **argv)
{
    const char *ping[] = {"PING"};
    sentinel_t *s = handle(argv[0]);
    sentinel_conn_t *c = NULL;
    redisReply *r;
    int rc;

    if (s == NULL || tls_role(s, SENTINEL_TLS_DATA, argv[1], argv[2], argv[3]) == -1 ||
        sentinel_set_discovery(s, 0) != SENTINEL_OK)
        return 1;
    rc = sentinel_connect_master_conn(s, &c, NULL);
    CHECK(rc == SENTINEL_OK && sentinel_conn_is_tls(c), "connect: %s (%s)",
          sentinel_code_name(rc), sentinel_errstr(s));
    if (c != NULL && (r = command(c, 1, ping)) != NULL) {
        CHECK(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0, "PONG");
        freeReplyObject(r);
    }
    sentinel_conn_free(c);
    sentinel_free(s);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && strcmp(argv[1], "ok") == 0)
        return ok(argv + 2);
    if (argc >= 8 && strcmp(argv[1], "fail") == 0)
        return fail(argc - 2, argv + 2);
    if (argc >= 6 && strcmp(argv[1], "liar") == 0)
        return liar(argv + 2);
    if (argc >= 6 && strcmp(argv[1], "close") == 0)
        return close_cleanly(argv + 2);
    fprintf(stderr, "usage: see the comment at the top of tls_conn.c\n");
    return 2;
}
