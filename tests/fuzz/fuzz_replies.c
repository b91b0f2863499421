/*
 * Fuzz target: whatever one sentinel or data node sends on a link.
 *
 * The input is the raw byte stream of one connection. The target sends
 * commands through the real link (link.c: bounded reading with hiredis'
 * reader, behind the fake transport of fuzz_net.h) and hands every reply to
 * each decoder a reply can meet: get-master-addr-by-name, ROLE, SENTINEL
 * sentinels, the credential-error check, and sentinel_report() (a reply from
 * the master that the caller passes on). Input: RESP bytes, nothing else.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_net.h"
#include "sentinel/hiredis.h"

#define MAX_COMMANDS 64

static void check_err(const sn_err *e)
{
    /* Any defined code (a reply that starts like a TLS record is SENTINEL_ERR_TLS). */
    FUZZ_CHECK(e->code > SENTINEL_OK && e->code < SENTINEL_CODE_COUNT);
    FUZZ_CHECK(strnlen(e->msg, sizeof(e->msg)) < sizeof(e->msg));
    FUZZ_CHECK(e->msg[0] != '\0');
}

static void on_sentinel(const sn_hostport *hp, void *ud)
{
    fuzz_check_hostport(hp);
    ++*(int *)ud;
}

static void decode(const redisReply *r)
{
    sn_hostport hp;
    sn_role role = SN_ROLE_MASTER;
    sn_err e;
    int rc, seen = 0, auth;

    auth = sn_reply_is_auth_error(r);
    FUZZ_CHECK(auth == 0 || (auth == 1 && r->type == REDIS_REPLY_ERROR));

    sn_err_clear(&e);
    rc = sn_parse_master_addr(r, &hp, &e);
    FUZZ_CHECK(rc >= -1 && rc <= 1);
    if (rc == 0)
        fuzz_check_hostport(&hp);
    else if (rc == 1)
        FUZZ_CHECK(r->type == REDIS_REPLY_NIL);
    else {
        check_err(&e);
        FUZZ_CHECK(e.code == (auth ? SENTINEL_ERR_AUTH : SENTINEL_ERR_PROTOCOL));
    }

    sn_err_clear(&e);
    rc = sn_parse_role(r, &role, &e);
    if (rc == 0)
        FUZZ_CHECK(role == SN_ROLE_MASTER || role == SN_ROLE_REPLICA || role == SN_ROLE_SENTINEL);
    else {
        FUZZ_CHECK(rc == -1 && role == SN_ROLE_UNKNOWN);
        check_err(&e);
    }

    {
        static sentinel_t *s;
        int inv;
        if (s == NULL && (s = sentinel_new("mymaster", NULL)) == NULL)
            abort();
        inv = sentinel_report(s, NULL, r);
        FUZZ_CHECK(inv == (r->type == REDIS_REPLY_ERROR &&
                           (strncmp(r->str, "READONLY", 8) == 0 ||
                            strncmp(r->str, "MASTERDOWN", 10) == 0 ||
                            strncmp(r->str, "LOADING", 7) == 0)));
    }

    sn_err_clear(&e);
    rc = sn_parse_sentinels(r, on_sentinel, &seen, &e);
    if (rc >= 0)
        FUZZ_CHECK(rc == seen && r->type == REDIS_REPLY_ARRAY && (size_t)rc <= r->elements);
    else {
        FUZZ_CHECK(rc == -1 && seen == 0);
        check_err(&e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *argv[] = {"ROLE"};
    sn_link l;
    sn_err e;
    int replies = 0;

    /* The read size follows the input length, so both byte-at-a-time and
     * whole-buffer reads are explored without a header in the input. */
    fuzz_net_reset(size % 4 == 0 ? 0 : 1 + size % 13);
    fuzz_net_add(data, size);
    sn_err_clear(&e);
    FUZZ_CHECK(sn_link_open(&l, "127.0.0.1", 26379, 250, 250, sn_now_ms() + 5000, &e) == 0);
    for (int i = 0; i < MAX_COMMANDS; i++) {
        redisReply *r = sn_link_command(&l, sn_now_ms() + 5000, &e, 1, argv);
        if (r == NULL) {
            if (fuzz_verbose())
                fprintf(stderr, "replies: %d, then %s: %s\n", replies,
                        sentinel_code_name(e.code), e.msg);
            /* The link closes itself after a failed read. */
            check_err(&e);
            FUZZ_CHECK(l.h == -1);
            break;
        }
        replies++;
        decode(r);
        freeReplyObject(r);
    }
    sn_link_close(&l);
    fuzz_net_check_closed();
    FUZZ_CHECK(replies <= MAX_COMMANDS);
    return 0;
}
