/*
 * Shared bits of the integration tests: cmocka includes, starting a topology
 * for a test group, a configured handle, and ROLE / port helpers.
 */
#ifndef SN_IT_COMMON_H
#define SN_IT_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "sentinel/hiredis.h"
#include "sentinel/sentinel.h"
#include "topology.h"

/* Failovers with down-after 1000 ms finish in a few seconds; these bounds
 * only stop a broken run from hanging, they assert nothing about speed. */
#define IT_SWITCH_WAIT_MS 30000
#define IT_SYNC_WAIT_MS 30000

static inline topo_t *it_start(const topo_options *opt)
{
    char err[512];
    topo_t *t = topo_start(opt, err, sizeof(err));

    if (t == NULL)
        fprintf(stderr, "topology did not start: %s\n", err);
    return t;
}

/* The topology of the test binary's group(s). Groups that need options
 * start it themselves; all of them stop it with it_group_teardown(). */
static topo_t *topo;

static inline int it_group_setup(void **state)
{
    (void)state;
    topo = it_start(NULL);
    return topo ? 0 : -1;
}

static inline int it_group_teardown(void **state)
{
    (void)state;
    topo_stop(topo);
    topo = NULL;
    return 0;
}

/* A handle on all the topology's sentinels with test-friendly bounds. */
static inline sentinel_t *it_handle(topo_t *t)
{
    sentinel_t *s = sentinel_new(topo_master_name(t), NULL);

    assert_non_null(s);
    assert_int_equal(sentinel_add_sentinels(s, topo_sentinel_list(t)), 0);
    assert_int_equal(sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, 15000), 0);
    assert_int_equal(sentinel_set_retry(s, 200, 20, 250), 0);
    if (topo_sentinel_password(t))
        assert_int_equal(sentinel_set_sentinel_auth(s, NULL, topo_sentinel_password(t)), 0);
    if (topo_data_password(t))
        assert_int_equal(sentinel_set_data_auth(s, NULL, topo_data_password(t)), 0);
    return s;
}

/* ROLE of the node on port: "master", "slave", or "" when unreachable. */
static inline const char *it_role(int port, const char *password, char *buf, size_t len)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r;

    buf[0] = '\0';
    if (c == NULL || c->err)
        goto out;
    redisSetTimeout(c, tv);
    if (password) {
        r = redisCommand(c, "AUTH %s", password);
        freeReplyObject(r);
    }
    r = redisCommand(c, "ROLE");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        snprintf(buf, len, "%s", r->element[0]->str);
    freeReplyObject(r);
out:
    redisFree(c);
    return buf;
}

/* A loopback port with nothing listening (bound, then closed). */
static inline int it_dead_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

#endif
