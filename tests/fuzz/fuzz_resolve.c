/*
 * Fuzz target: a whole resolution, sentinel_resolve() with ROLE verification
 * on, against sentinels and a master whose every byte comes from the input.
 *
 * Input: one flags byte, one read-size byte, then the byte streams of the
 * connections in the order the library opens them, separated by "\n--\n".
 * With no credentials, discovery on and one sentinel that is:
 *   sentinel: get-master-addr reply, SENTINEL sentinels reply
 *   --
 *   master:   ROLE reply
 * (each stream starts with the AUTH reply when that side has credentials;
 * a sentinel that fails moves on to the next one, discovered ones included).
 * Connections beyond the last stream are refused.
 *
 * Flags: 0x01 sentinel ACL user + password, 0x02 data password, 0x04
 * discovery, 0x18 quorum - 1, 0x20 a second configured sentinel, 0x40 an
 * address map, 0x80 two tries instead of one.
 *
 * Beyond "no crash": the result and the handle's error agree; a success is
 * a sane, verified address served again from the cache without a
 * connection; every connection is closed; no error message shows a password
 * unless the peer itself sent it.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

#define SENTINEL_PW "sentinel-pw-0f3c9e"
#define DATA_PW "data-pw-7a51b2"

static int mentions(const uint8_t *data, size_t size, const char *s)
{
    return memmem(data, size, s, strlen(s)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sentinel_addr out, again;
    sentinel_stats st = {.size = sizeof(st)};
    sentinel_t *s;
    unsigned flags;
    int rc, opened;
    const char *msg;

    if (size < 2)
        return 0;
    flags = data[0];
    fuzz_net_reset(data[1]);
    fuzz_net_split(data + 2, size - 2, "\n--\n");

    if ((s = sentinel_new("mymaster", NULL)) == NULL)
        abort();
    FUZZ_CHECK(sentinel_add_sentinel(s, "127.0.0.1", 26379) == 0);
    if (flags & 0x20)
        FUZZ_CHECK(sentinel_add_sentinels(s, "[::1]:26380") == 0);
    if (flags & 0x01)
        FUZZ_CHECK(sentinel_set_sentinel_auth(s, "sentinel-user", SENTINEL_PW) == 0);
    if (flags & 0x02)
        FUZZ_CHECK(sentinel_set_data_auth(s, NULL, DATA_PW) == 0);
    FUZZ_CHECK(sentinel_set_discovery(s, (flags & 0x04) != 0) == 0);
    FUZZ_CHECK(sentinel_set_quorum(s, 1 + (int)((flags >> 3) & 3)) == 0);
    if (flags & 0x40)
        FUZZ_CHECK(sentinel_add_address_maps(s, "10.0.0.1=127.0.0.1,10.0.0.2:6379=[::1]:7000") ==
                   0);
    /* One or two tries, with at most 1 ms of backoff between them. */
    FUZZ_CHECK(sentinel_set_retry(s, flags & 0x80 ? 2 : 1, 1, 1) == 0);
    FUZZ_CHECK(sentinel_set_verify(s, 1) == 0);

    rc = sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &out);
    fuzz_net_check_closed();
    if (fuzz_verbose())
        fprintf(stderr, "resolve: %s %s:%d (%s) after %d connection(s)\n",
                sentinel_code_name(rc), rc ? "-" : out.host, rc ? 0 : out.port,
                sentinel_errstr(s), fuzz_net.next);
    FUZZ_CHECK(rc == sentinel_errcode(s));
    msg = sentinel_errstr(s);
    FUZZ_CHECK(msg != NULL && strnlen(msg, SN_ERRSTR_MAX) < SN_ERRSTR_MAX);
    FUZZ_CHECK(strstr(msg, SENTINEL_PW) == NULL || mentions(data, size, SENTINEL_PW));
    FUZZ_CHECK(strstr(msg, DATA_PW) == NULL || mentions(data, size, DATA_PW));
    FUZZ_CHECK(sentinel_get_stats(s, &st) == 0);
    FUZZ_CHECK(st.resolutions == 1 && st.cache_hits == 0);
    FUZZ_CHECK(st.role_checks <= 2);

    if (rc == SENTINEL_OK) {
        fuzz_check_host(out.host, sizeof(out.host));
        FUZZ_CHECK(out.port >= 1 && out.port <= 65535);
        FUZZ_CHECK(out.verified_at_ms > 0);
        FUZZ_CHECK(st.errors == 0 && st.role_checks >= 1);
        /* Served from the cache: no connection at all. */
        opened = fuzz_net.next;
        FUZZ_CHECK(sentinel_resolve(s, 0, &again) == SENTINEL_OK);
        FUZZ_CHECK(fuzz_net.next == opened);
        FUZZ_CHECK(strcmp(again.host, out.host) == 0 && again.port == out.port);
    } else {
        /* What a network can cause; never a caller or system error. */
        FUZZ_CHECK(rc > SENTINEL_OK && rc < SENTINEL_CODE_COUNT);
        FUZZ_CHECK(rc != SENTINEL_ERR_INVALID_ARGUMENT && rc != SENTINEL_ERR_NO_MEMORY &&
                   rc != SENTINEL_ERR_SYSTEM && rc != SENTINEL_ERR_HOST_UNRESOLVED &&
                   rc != SENTINEL_NO_ENTRY);
        FUZZ_CHECK(msg[0] != '\0');
        FUZZ_CHECK(st.errors == 1);
    }
    FUZZ_CHECK(sentinel_sentinel_count(s) <= SN_MAX_SENTINELS);

    sentinel_free(s);
    sn_transport_set(NULL);
    return 0;
}
