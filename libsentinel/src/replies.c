/*
 * Decoding what sentinels and data nodes reply: get-master-addr-by-name,
 * SENTINEL MASTER (the name a shared poll is checked by), ROLE, SENTINEL
 * sentinels and pub/sub event messages. Every function checks
 * the full shape; anything unexpected is SENTINEL_ERR_PROTOCOL, never a crash.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int is_str(const redisReply *r)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

static int str_eq(const redisReply *r, const char *s)
{
    return is_str(r) && r->len == strlen(s) && strncasecmp(r->str, s, r->len) == 0;
}

/* Parse a decimal port from a string reply. */
static int port_from(const char *s, size_t len, int *port)
{
    long v = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

static int host_from(const char *s, size_t len, sn_hostport *hp)
{
    if (len == 0 || len >= sizeof(hp->host) || memchr(s, '\0', len) != NULL)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ')
            return -1;
    memcpy(hp->host, s, len);
    hp->host[len] = '\0';
    return 0;
}

int sn_reply_is_auth_error(const redisReply *r)
{
    static const char *const prefixes[] = {"NOAUTH", "WRONGPASS", "NOPERM", "ERR invalid password",
                                           "ERR Client sent AUTH", "ERR AUTH"};

    if (r == NULL || r->type != REDIS_REPLY_ERROR)
        return 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (r->len >= strlen(prefixes[i]) && strncmp(r->str, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int error_reply(const redisReply *r, const char *what, sn_err *e)
{
    if (sn_reply_is_auth_error(r))
        return sn_err_set(e, SENTINEL_ERR_AUTH, "%s: %.200s", what, r->str);
    return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "%s: error reply: %.200s", what, r->str);
}

int sn_parse_master_addr(const redisReply *r, sn_hostport *hp, sn_err *e)
{
    if (r == NULL)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "get-master-addr-by-name: no reply");
    if (r->type == REDIS_REPLY_NIL)
        return 1;
    if (r->type == REDIS_REPLY_ERROR)
        return error_reply(r, "get-master-addr-by-name", e);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_str(r->element[0]) ||
        !is_str(r->element[1]))
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                          "get-master-addr-by-name: expected [host, port], got type %d", r->type);
    if (host_from(r->element[0]->str, r->element[0]->len, hp) == -1)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "get-master-addr-by-name: bad host");
    if (port_from(r->element[1]->str, r->element[1]->len, &hp->port) == -1)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "get-master-addr-by-name: bad port");
    return 0;
}

int sn_parse_master_named(const redisReply *r, const char *name, sn_err *e)
{
    if (r == NULL)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "SENTINEL MASTER: no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return 1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                          "SENTINEL MASTER %.64s: expected a field/value list, got type %d", name,
                          r->type);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *v = r->element[i + 1];

        if (!str_eq(r->element[i], "name"))
            continue;
        if (!is_str(v) || v->len != strlen(name) || memcmp(v->str, name, v->len) != 0)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL,
                              "SENTINEL MASTER %.64s: the reply names master '%.*s' (replies "
                              "out of step)",
                              name, is_str(v) ? (int)(v->len > 64 ? 64 : v->len) : 0,
                              is_str(v) ? v->str : "");
        return 0;
    }
    return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "SENTINEL MASTER %.64s: the reply has no name",
                      name);
}

int sn_reply_refuses(const redisReply *r, const char *cmd)
{
    char quoted[64];

    if (r == NULL || r->type != REDIS_REPLY_ERROR || r->str == NULL)
        return 0;
    snprintf(quoted, sizeof(quoted), "'%s'", cmd);
    return strstr(r->str, quoted) != NULL;
}

int sn_parse_role(const redisReply *r, sn_role *role, sn_err *e)
{
    const redisReply *kind;

    *role = SN_ROLE_UNKNOWN;
    if (r == NULL)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "ROLE: no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return error_reply(r, "ROLE", e);
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !is_str(r->element[0]))
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "ROLE: expected an array, got type %d",
                          r->type);
    kind = r->element[0];
    if (str_eq(kind, "master")) {
        /* ["master", offset, [[ip, port, offset], ...]] */
        if (r->elements != 3 || r->element[1]->type != REDIS_REPLY_INTEGER ||
            r->element[2]->type != REDIS_REPLY_ARRAY)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "ROLE: malformed master reply");
        *role = SN_ROLE_MASTER;
    } else if (str_eq(kind, "slave") || str_eq(kind, "replica")) {
        /* ["slave", master_ip, master_port, state, offset] */
        if (r->elements != 5 || !is_str(r->element[1]) ||
            r->element[2]->type != REDIS_REPLY_INTEGER)
            return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "ROLE: malformed replica reply");
        *role = SN_ROLE_REPLICA;
    } else if (str_eq(kind, "sentinel")) {
        *role = SN_ROLE_SENTINEL;
    } else {
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "ROLE: unknown role '%.*s'",
                          (int)(kind->len > 32 ? 32 : kind->len), kind->str);
    }
    return 0;
}

int sn_parse_sentinels(const redisReply *r, void (*add)(const sn_hostport *hp, void *ud),
                       void *ud, sn_err *e)
{
    int count = 0;

    if (r == NULL)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "SENTINEL sentinels: no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return error_reply(r, "SENTINEL sentinels", e);
    if (r->type != REDIS_REPLY_ARRAY)
        return sn_err_set(e, SENTINEL_ERR_PROTOCOL, "SENTINEL sentinels: expected an array");
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *m = r->element[i];
        sn_hostport hp;
        int have_ip = 0, have_port = 0;

        /* Each entry is a flat field/value list; skip any we cannot read. */
        if (m->type != REDIS_REPLY_ARRAY || m->elements % 2 != 0)
            continue;
        for (size_t j = 0; j + 1 < m->elements; j += 2) {
            const redisReply *k = m->element[j], *v = m->element[j + 1];
            if (!is_str(v))
                continue;
            if (str_eq(k, "ip"))
                have_ip = host_from(v->str, v->len, &hp) == 0;
            else if (str_eq(k, "port"))
                have_port = port_from(v->str, v->len, &hp.port) == 0;
        }
        if (have_ip && have_port) {
            add(&hp, ud);
            count++;
        }
    }
    return count;
}

/* ------------------------------------------------------------------------
 * Event messages
 *
 * Sentinel describes an instance as "<type> <name> <ip> <port>", followed
 * for replicas and sentinels by " @ <master-name> <master-ip> <master-port>";
 * +switch-master is "<name> <old-ip> <old-port> <new-ip> <new-port>".
 * ------------------------------------------------------------------------ */

#define SN_EVENT_MAX_WORDS 10

typedef struct words {
    const char *w[SN_EVENT_MAX_WORDS];
    size_t len[SN_EVENT_MAX_WORDS];
    int n;
} words;

static int split_words(const char *p, size_t plen, words *out)
{
    size_t i = 0;

    out->n = 0;
    while (i < plen) {
        size_t start;
        while (i < plen && p[i] == ' ')
            i++;
        if (i == plen)
            break;
        if (out->n == SN_EVENT_MAX_WORDS)
            return -1;
        start = i;
        while (i < plen && p[i] != ' ')
            i++;
        out->w[out->n] = p + start;
        out->len[out->n] = i - start;
        out->n++;
    }
    return 0;
}

static int word_eq(const words *ws, int i, const char *s)
{
    return i < ws->n && ws->len[i] == strlen(s) && memcmp(ws->w[i], s, ws->len[i]) == 0;
}

static int word_hostport(const words *ws, int i, sn_hostport *hp)
{
    if (i + 1 >= ws->n)
        return -1;
    if (host_from(ws->w[i], ws->len[i], hp) == -1)
        return -1;
    return port_from(ws->w[i + 1], ws->len[i + 1], &hp->port);
}

/* For instance-described events: fill ev->master (and ev->addr for a replica)
 * when the event is about master_name. 0 ours, 1 not ours, -1 malformed. */
static int instance_event(const words *ws, const char *master_name, sn_event_msg *ev)
{
    if (ws->n == 4 && word_eq(ws, 0, "master")) {
        if (!word_eq(ws, 1, master_name))
            return 1;
        return word_hostport(ws, 2, &ev->master) == -1 ? -1 : 0;
    }
    if (ws->n == 8 && word_eq(ws, 4, "@")) {
        if (!word_eq(ws, 5, master_name))
            return 1;
        if (word_hostport(ws, 2, &ev->addr) == -1 || word_hostport(ws, 6, &ev->master) == -1)
            return -1;
        return 0;
    }
    return -1;
}

static int chan_eq(const char *ch, size_t chlen, const char *s)
{
    return chlen == strlen(s) && memcmp(ch, s, chlen) == 0;
}

static int chan_prefix(const char *ch, size_t chlen, const char *s)
{
    return chlen >= strlen(s) && memcmp(ch, s, strlen(s)) == 0;
}

int sn_parse_event(const char *ch, size_t chlen, const char *p, size_t plen,
                   const char *master_name, sn_event_msg *ev)
{
    words ws;
    int rc, too_many;

    memset(ev, 0, sizeof(*ev));
    /* Too many words is malformed, but only on a channel we care about. */
    too_many = split_words(p, plen, &ws) == -1;

    if (chan_eq(ch, chlen, "+switch-master")) {
        if (too_many || ws.n != 5)
            return -1;
        if (!word_eq(&ws, 0, master_name))
            return 1;
        if (word_hostport(&ws, 1, &ev->master) == -1 || word_hostport(&ws, 3, &ev->addr) == -1)
            return -1;
        ev->type = SENTINEL_EVENT_SWITCHED;
        return 0;
    }
    if (chan_prefix(ch, chlen, "-failover-abort-"))
        ev->type = SENTINEL_EVENT_FAILOVER_ABORTED;
    else if (chan_eq(ch, chlen, "+selected-slave") || chan_eq(ch, chlen, "+promoted-slave"))
        ev->type = SENTINEL_EVENT_REPLICA_SELECTED;
    else if (chan_eq(ch, chlen, "+try-failover") || chan_eq(ch, chlen, "+elected-leader") ||
             chan_prefix(ch, chlen, "+failover-state-"))
        ev->type = SENTINEL_EVENT_FAILOVER_STARTED;
    else
        return 1;

    rc = too_many ? -1 : instance_event(&ws, master_name, ev);
    if (rc == 0 && ev->type == SENTINEL_EVENT_REPLICA_SELECTED && ev->addr.host[0] == '\0')
        rc = -1; /* must name a replica */
    if (rc != 0)
        ev->type = 0;
    return rc;
}
