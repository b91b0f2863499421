/*
 * Fuzz target: an address map as people write it in configuration,
 * "from[:port]=to[:port],..." (sentinel_add_address_maps, sn_split_list,
 * sn_parse_map), and applying it (sn_config_map).
 *
 * Input: the map list (cut at the first NUL). Beyond "no crash": the call is
 * all or nothing; every parsed entry re-adds through the one-entry call
 * sentinel_add_address_map() to the very same entry; mapping the entry's own
 * "from" address yields its "to" address.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

static void check_side(const sn_hostport *hp)
{
    fuzz_check_host(hp->host, sizeof(hp->host));
    FUZZ_CHECK(hp->port >= 0 && hp->port <= 65535);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *list = malloc(size + 1);
    sentinel_t *s, *one;
    int rc;

    if (list == NULL)
        abort();
    memcpy(list, data, size);
    list[size] = '\0';
    if ((s = sentinel_new("mymaster", NULL)) == NULL ||
        (one = sentinel_new("mymaster", NULL)) == NULL)
        abort();

    rc = sentinel_add_address_maps(s, list);
    if (rc == 0) {
        FUZZ_CHECK(s->cfg.nmaps <= SN_MAX_MAPS);
    } else {
        FUZZ_CHECK(rc == sentinel_errcode(s) && s->cfg.nmaps == 0);
        FUZZ_CHECK(sentinel_errcode(s) != SENTINEL_OK && sentinel_errstr(s)[0] != '\0');
    }

    for (size_t i = 0; i < s->cfg.nmaps; i++) {
        const sn_map *m = &s->cfg.maps[i];
        sn_hostport hp;

        check_side(&m->from);
        check_side(&m->to);

        FUZZ_CHECK(sentinel_add_address_map(one, m->from.host, m->from.port, m->to.host,
                                            m->to.port) == 0);
        FUZZ_CHECK(one->cfg.nmaps == i + 1);
        FUZZ_CHECK(strcmp(one->cfg.maps[i].from.host, m->from.host) == 0);
        FUZZ_CHECK(one->cfg.maps[i].from.port == m->from.port);
        FUZZ_CHECK(strcmp(one->cfg.maps[i].to.host, m->to.host) == 0);
        FUZZ_CHECK(one->cfg.maps[i].to.port == m->to.port);

        /* The first entry matching an address wins, so only check entries
         * no earlier one shadows. */
        hp = m->from;
        if (hp.port == 0)
            hp.port = 6379;
        {
            int shadowed = 0;
            for (size_t j = 0; j < i && !shadowed; j++)
                shadowed = strcmp(s->cfg.maps[j].from.host, hp.host) == 0 &&
                           (s->cfg.maps[j].from.port == 0 ||
                            s->cfg.maps[j].from.port == hp.port);
            sn_config_map(&s->cfg, &hp);
            fuzz_check_hostport(&hp);
            if (!shadowed) {
                FUZZ_CHECK(strcmp(hp.host, m->to.host) == 0);
                int want = m->to.port ? m->to.port : m->from.port ? m->from.port : 6379;
                FUZZ_CHECK(hp.port == want);
            }
        }
    }

    sentinel_free(one);
    sentinel_free(s);
    free(list);
    return 0;
}
