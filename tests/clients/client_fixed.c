/*
 * The fixed-address client: what an application configured with one Redis
 * address does. It connects to host:port (the initial master for the naive
 * path, HAProxy's or sentinel-proxy's port for the proxy paths), writes, and
 * reconnects after a connection error. Error replies (-READONLY...) keep the
 * connection: reconnecting to the same address would not help.
 */
#define _GNU_SOURCE
#include "writer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

struct fo_client {
    char host[256];
    int port;
    int ack_port; /* reported with acks: port, or 0 behind a proxy */
    struct timeval connect_tv, command_tv;
    redisContext *c;
    uint64_t connects;
};

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static fo_client *fixed_create(const fo_options *opt, fo_log *log, char *err, size_t errlen)
{
    fo_client *c;

    (void)log;
    if (opt->port <= 0) {
        snprintf(err, errlen, "--mode fixed needs --port");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->host, sizeof(c->host), "%s", opt->host);
    c->port = opt->port;
    c->ack_port = opt->port_known ? opt->port : 0;
    c->connect_tv = ms_to_tv(opt->connect_timeout_ms);
    c->command_tv = ms_to_tv(opt->command_timeout_ms);
    return c;
}

static void fixed_drop(fo_client *c)
{
    if (c->c)
        redisFree(c->c);
    c->c = NULL;
}

static void fixed_write(fo_client *c, const char *key, fo_outcome *out)
{
    redisReply *r;

    if (c->c == NULL) {
        c->connects++;
        c->c = redisConnectWithTimeout(c->host, c->port, c->connect_tv);
        if (c->c == NULL || c->c->err) {
            fo_outcome_error(out, 0, c->ack_port, "connect %s:%d: %s", c->host, c->port,
                             c->c ? c->c->errstr : "out of memory");
            fixed_drop(c);
            return;
        }
        redisSetTimeout(c->c, c->command_tv);
    }
    r = redisCommand(c->c, "SET %s 1", key);
    if (r == NULL) {
        fo_outcome_error(out, 1, c->ack_port, "SET: %s", c->c->errstr[0] ? c->c->errstr : "I/O error");
        fixed_drop(c);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR)
        fo_outcome_error(out, 1, c->ack_port, "%s", r->str);
    else {
        out->result = FO_ACKED;
        out->sent = 1;
        out->port = c->ack_port;
    }
    freeReplyObject(r);
}

static void fixed_wait(fo_client *c, int64_t wait_us)
{
    (void)c;
    fo_sleep_us(wait_us);
}

static void fixed_summary(fo_client *c, fo_log *log)
{
    fprintf(log->f, "# connects=%llu\n", (unsigned long long)c->connects);
}

static void fixed_destroy(fo_client *c)
{
    if (c == NULL)
        return;
    fixed_drop(c);
    free(c);
}

const fo_client_ops fo_fixed_client = {
    .mode = "fixed",
    .create = fixed_create,
    .write = fixed_write,
    .wait = fixed_wait,
    .summary = fixed_summary,
    .destroy = fixed_destroy,
};
