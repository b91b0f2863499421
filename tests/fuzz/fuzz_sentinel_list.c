/*
 * Fuzz target: a sentinel list as people write it in configuration,
 * "host:port, host:port [v6]:port" (sentinel_add_sentinels, sn_split_list,
 * sn_parse_hostport).
 *
 * Input: the list (cut at the first NUL, as a C string would be). Beyond
 * "no crash": the call is all or nothing, adding the same list again changes
 * nothing, and every stored sentinel reads back and re-adds as a duplicate.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *list = malloc(size + 1);
    sentinel_t *s;
    size_t count;
    int rc;

    if (list == NULL)
        abort();
    memcpy(list, data, size);
    list[size] = '\0';
    if ((s = sentinel_new("mymaster", NULL)) == NULL)
        abort();

    rc = sentinel_add_sentinels(s, list);
    count = sentinel_sentinel_count(s);
    if (rc == 0) {
        FUZZ_CHECK(count >= 1 && count <= SN_MAX_SENTINELS);
        FUZZ_CHECK(sentinel_errcode(s) == SENTINEL_OK);
    } else {
        FUZZ_CHECK(rc == SENTINEL_ERR_INVALID_ARGUMENT && count == 0);
        FUZZ_CHECK(sentinel_errcode(s) == SENTINEL_ERR_INVALID_ARGUMENT);
        FUZZ_CHECK(sentinel_errstr(s)[0] != '\0');
    }

    /* Idempotent: the same list again adds nothing (and fails the same way). */
    FUZZ_CHECK(sentinel_add_sentinels(s, list) == rc);
    FUZZ_CHECK(sentinel_sentinel_count(s) == count);

    for (size_t i = 0; i < count; i++) {
        char host[SENTINEL_HOST_MAX];
        int port = 0;

        FUZZ_CHECK(sentinel_get_sentinel(s, i, host, sizeof(host), &port) == 0);
        fuzz_check_host(host, sizeof(host));
        FUZZ_CHECK(port >= 1 && port <= 65535);
        FUZZ_CHECK(sentinel_add_sentinel(s, host, port) == 0);
        FUZZ_CHECK(sentinel_sentinel_count(s) == count);
    }
    FUZZ_CHECK(sentinel_get_sentinel(s, count, (char[8]){0}, 8, NULL) ==
               SENTINEL_ERR_INVALID_ARGUMENT);

    sentinel_free(s);
    free(list);
    return 0;
}
