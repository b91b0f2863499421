/*
 * Fuzz target: one "host:port" / "[v6]:port" address (sn_parse_hostport)
 * and one address map entry "from[:port]=to[:port]" (sn_parse_map), each
 * read from a buffer of exactly the input's length with no terminating NUL,
 * the way sn_split_list hands items over.
 *
 * Beyond "no crash", a parsed address must print back to a string that
 * parses to the same address.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

static void check_map_side(const sn_hostport *hp)
{
    fuzz_check_host(hp->host, sizeof(hp->host));
    FUZZ_CHECK(hp->port >= 0 && hp->port <= 65535);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    sn_hostport hp;
    sn_map m;
    sn_err e;

    if (s == NULL)
        abort();
    memcpy(s, data, size);

    sn_err_clear(&e);
    if (sn_parse_hostport(s, size, &hp, &e) == 0) {
        char again[SENTINEL_HOST_MAX + 16];
        sn_hostport hp2;
        int n;

        fuzz_check_hostport(&hp);
        n = snprintf(again, sizeof(again), strchr(hp.host, ':') ? "[%s]:%d" : "%s:%d", hp.host,
                     hp.port);
        FUZZ_CHECK(n > 0 && (size_t)n < sizeof(again));
        FUZZ_CHECK(sn_parse_hostport(again, (size_t)n, &hp2, &e) == 0);
        FUZZ_CHECK(hp2.port == hp.port && strcmp(hp2.host, hp.host) == 0);
    } else {
        FUZZ_CHECK(e.code == SENTINEL_ERR_INVALID_ARGUMENT && e.msg[0] != '\0');
    }

    sn_err_clear(&e);
    if (sn_parse_map(s, size, &m, &e) == 0) {
        check_map_side(&m.from);
        check_map_side(&m.to);
    } else {
        FUZZ_CHECK(e.code == SENTINEL_ERR_INVALID_ARGUMENT && e.msg[0] != '\0');
    }
    free(s);
    return 0;
}
