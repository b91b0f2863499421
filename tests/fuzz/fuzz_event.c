/*
 * Fuzz target: sentinel pub/sub event messages (sn_parse_event, which
 * watch.c calls for every "message" push on a subscription link).
 *
 * Input: "<channel>\n<payload>" (no newline: all channel, empty payload).
 * Channel and payload are copied into buffers of exactly their length, not
 * NUL-terminated, as hiredis hands them over with a length.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

static const char *const masters[] = {"mymaster", "m"};

static void check_event(int rc, const sn_event_msg *ev)
{
    FUZZ_CHECK(rc >= -1 && rc <= 1);
    if (rc != 0) {
        FUZZ_CHECK(ev->type == 0);
        return;
    }
    switch (ev->type) {
    case SENTINEL_EVENT_SWITCHED:
        fuzz_check_hostport(&ev->master); /* old address */
        fuzz_check_hostport(&ev->addr);   /* new address */
        break;
    case SENTINEL_EVENT_REPLICA_SELECTED:
        fuzz_check_hostport(&ev->addr);
        fuzz_check_hostport(&ev->master);
        break;
    case SENTINEL_EVENT_FAILOVER_STARTED:
    case SENTINEL_EVENT_FAILOVER_ABORTED:
        fuzz_check_hostport(&ev->master);
        break;
    default:
        FUZZ_CHECK(!"sn_parse_event returned an unexpected event type");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t chlen = nl ? (size_t)(nl - data) : size;
    size_t plen = nl ? size - chlen - 1 : 0;
    char *ch = malloc(chlen ? chlen : 1);
    char *p = malloc(plen ? plen : 1);

    if (ch == NULL || p == NULL)
        abort();
    memcpy(ch, data, chlen);
    if (plen)
        memcpy(p, nl + 1, plen);
    for (size_t i = 0; i < sizeof(masters) / sizeof(masters[0]); i++) {
        sn_event_msg ev;
        int rc;

        memset(&ev, 0xAA, sizeof(ev)); /* no stale fields may leak through */
        rc = sn_parse_event(ch, chlen, p, plen, masters[i], &ev);
        check_event(rc, &ev);
    }
    free(ch);
    free(p);
    return 0;
}
