/* The scripted network and clock (see fake_sentinels.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_sentinels.h"

/* ------------------------------------------------------------------------
 * The scripted clock
 * ------------------------------------------------------------------------ */

int64_t fake_now;

int64_t fake_clock(void)
{
    return fake_now;
}

/* ------------------------------------------------------------------------
 * The scripted network
 * ------------------------------------------------------------------------ */

node nodes[MAX_NODES];
int nnodes;
conn conns[MAX_CONNS];

node *node_add(const char *host, int port, int is_sentinel)
{
    node *n;

    assert_true(nnodes < MAX_NODES);
    n = &nodes[nnodes++];
    memset(n, 0, sizeof(*n));
    snprintf(n->host, sizeof(n->host), "%s", host);
    n->port = port;
    n->is_sentinel = is_sentinel;
    return n;
}

node *node_find(const char *host, int port)
{
    for (int i = 0; i < nnodes; i++)
        if (nodes[i].port == port && strcmp(nodes[i].host, host) == 0)
            return &nodes[i];
    return NULL;
}

static conn *conn_of(int h)
{
    assert_true(h >= HANDLE_BASE && h < HANDLE_BASE + MAX_CONNS);
    assert_true(conns[h - HANDLE_BASE].used);
    return &conns[h - HANDLE_BASE];
}

static void out_add(conn *c, const char *s)
{
    size_t n = strlen(s);

    assert_true(c->outlen + n <= sizeof(c->out));
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
}

static void out_bulk(conn *c, const char *s)
{
    char hdr[32];

    snprintf(hdr, sizeof(hdr), "$%zu\r\n", strlen(s));
    out_add(c, hdr);
    out_add(c, s);
    out_add(c, "\r\n");
}

static void answer(conn *c, redisReply *cmd)
{
    node *n = c->n;
    const char *name;
    char port[16];

    assert_int_equal(cmd->type, REDIS_REPLY_ARRAY);
    assert_true(cmd->elements >= 1);
    name = cmd->element[0]->str;
    n->cmds++;
    if (n->silent)
        return;
    if (strcasecmp(name, "AUTH") == 0) {
        const char *pass = cmd->element[cmd->elements - 1]->str;
        n->auth_cmds++;
        if (n->auth_unknown) {
            char err[512];
            int len = snprintf(err, sizeof(err), "-ERR unknown command 'AUTH', with args beginning with: ");

            for (size_t i = 1; i < cmd->elements; i++)
                len += snprintf(err + len, sizeof(err) - (size_t)len, "'%s' ", cmd->element[i]->str);
            snprintf(err + len, sizeof(err) - (size_t)len, "\r\n");
            n->auth_failed++;
            out_add(c, err);
            return;
        }
        if (n->password && strcmp(pass, n->password) != 0) {
            n->auth_failed++;
            out_add(c, "-WRONGPASS invalid username-password pair\r\n");
        } else {
            c->authed = 1;
            out_add(c, "+OK\r\n");
            c->closed = n->close_after_auth;
        }
        return;
    }
    if (!n->is_sentinel) {
        if (n->password && !c->authed) {
            out_add(c, "-NOAUTH Authentication required.\r\n");
        } else if (strcasecmp(name, "ROLE") == 0) {
            n->role_cmds++;
            if (strcmp(n->role, "master") == 0)
                out_add(c, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
            else
                out_add(c, "*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.1\r\n:6379\r\n"
                           "$9\r\nconnected\r\n:0\r\n");
        } else {
            out_add(c, "-ERR unknown command\r\n");
        }
        return;
    }
    if (strcasecmp(name, "SUBSCRIBE") == 0 && n->deny_subscribe) {
        out_add(c, "-NOPERM this user has no permissions to access one of the channels\r\n");
    } else if (strcasecmp(name, "SUBSCRIBE") == 0) {
        for (size_t i = 1; i < cmd->elements; i++) {
            char hdr[32];
            out_add(c, "*3\r\n$9\r\nsubscribe\r\n");
            out_bulk(c, cmd->element[i]->str);
            snprintf(hdr, sizeof(hdr), ":%zu\r\n", i);
            out_add(c, hdr);
        }
        c->subscribed = 1;
    } else if (strcasecmp(name, "PING") == 0) {
        out_add(c, c->subscribed ? "*2\r\n$4\r\npong\r\n$0\r\n\r\n" : "+PONG\r\n");
    } else if (strcasecmp(name, "SENTINEL") == 0 && n->dup_query > 0 && --n->dup_query == 0) {
        size_t from = c->outlen, len;

        answer(c, cmd); /* once more below */
        n->cmds--;
        len = c->outlen - from;
        for (int k = 0; k < (n->dup_extra > 0 ? n->dup_extra : 1); k++) {
            assert_true(c->outlen + len <= sizeof(c->out));
            memcpy(c->out + c->outlen, c->out + from, len);
            c->outlen += len;
        }
    } else if (strcasecmp(name, "SENTINEL") == 0 && cmd->elements == 3 &&
               (strcasecmp(cmd->element[1]->str, "get-master-addr-by-name") == 0 ||
                strcasecmp(cmd->element[1]->str, "MASTER") == 0)) {
        int second = n->name2 && strcmp(cmd->element[2]->str, n->name2) == 0;
        int addr = strcasecmp(cmd->element[1]->str, "MASTER") != 0;

        if (!addr && n->deny_master_cmd) {
            out_add(c, "-NOPERM this user has no permissions to run the 'sentinel|master' "
                       "command\r\n");
            return;
        }
        if (strcmp(cmd->element[2]->str, "mymaster") != 0 && !second) {
            out_add(c, addr ? "$-1\r\n" : "-ERR No such master with that name\r\n");
            return;
        }
        if (!addr) { /* the fields a client reads, as Redis 7.0 starts them */
            out_add(c, "*8\r\n$4\r\nname\r\n");
            out_bulk(c, cmd->element[2]->str);
            out_add(c, "$2\r\nip\r\n");
        }
        out_add(c, addr ? "*2\r\n" : "");
        out_bulk(c, second ? n->master2_host : n->master_host);
        snprintf(port, sizeof(port), "%d", second ? n->master2_port : n->master_port);
        out_add(c, addr ? "" : "$4\r\nport\r\n");
        out_bulk(c, port);
        out_add(c, addr ? "" : "$5\r\nflags\r\n$6\r\nmaster\r\n");
    } else if (strcasecmp(name, "SENTINEL") == 0) {
        out_add(c, n->sentinels_reply ? n->sentinels_reply : "*0\r\n");
    } else {
        out_add(c, "-ERR unknown command\r\n");
    }
}

static int fake_nb_open(const char *host, int port, sn_err *e)
{
    node *n = node_find(host, port);

    if (n == NULL || n->refuse)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: Connection refused");
    n->opens++;
    for (int i = 0; i < MAX_CONNS; i++)
        if (!conns[i].used) {
            memset(&conns[i], 0, sizeof(conns[i]));
            conns[i].used = 1;
            conns[i].n = n;
            conns[i].in = redisReaderCreate();
            return HANDLE_BASE + i;
        }
    fail_msg("too many fake connections");
    return -1;
}

static int fake_nb_connected(int h, sn_err *e)
{
    (void)e;
    (void)conn_of(h);
    return 1;
}

static ssize_t fake_nb_send(int h, const void *buf, size_t len, sn_err *e)
{
    conn *c = conn_of(h);
    void *cmd;

    if (c->closed)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "send: Broken pipe");
    assert_int_equal(redisReaderFeed(c->in, buf, len), REDIS_OK);
    while (redisReaderGetReply(c->in, &cmd) == REDIS_OK && cmd != NULL) {
        redisReply *r = cmd;

        if (c->n->close_after_query && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
            strcasecmp(r->element[0]->str, "SENTINEL") == 0)
            c->closed = 1; /* after the replies to this whole write */
        answer(c, cmd);
        freeReplyObject(cmd);
    }
    return (ssize_t)len;
}

static ssize_t fake_nb_recv(int h, void *buf, size_t cap, sn_err *e)
{
    conn *c = conn_of(h);
    size_t n;

    (void)e;
    if (c->outlen == 0)
        return c->closed ? 0 : SN_WOULD_BLOCK;
    n = c->outlen < cap ? c->outlen : cap;
    memcpy(buf, c->out, n);
    memmove(c->out, c->out + n, c->outlen - n);
    c->outlen -= n;
    return (ssize_t)n;
}

static void fake_close(int h)
{
    conn *c = conn_of(h);

    redisReaderFree(c->in);
    c->used = 0;
}

const sn_transport fake_transport = {
    .close = fake_close,
    .nb_open = fake_nb_open,
    .nb_connected = fake_nb_connected,
    .nb_send = fake_nb_send,
    .nb_recv = fake_nb_recv,
};

int open_connections(void)
{
    int n = 0;

    for (int i = 0; i < MAX_CONNS; i++)
        n += conns[i].used;
    return n;
}

/* A sentinel publishes an event to every subscriber. */
void publish(node *s, const char *channel, const char *payload)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        conn *c = &conns[i];
        if (!c->used || c->n != s || !c->subscribed || c->closed)
            continue;
        out_add(c, "*3\r\n$7\r\nmessage\r\n");
        out_bulk(c, channel);
        out_bulk(c, payload);
    }
}

/* A node dies: its connections close, new ones are refused. */
void node_kill(node *n)
{
    n->refuse = 1;
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && conns[i].n == n) {
            conns[i].closed = 1;
            conns[i].outlen = 0;
        }
}


int handle_of(const node *n)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && conns[i].n == n && !conns[i].closed)
            return HANDLE_BASE + i;
    return -1;
}

void fake_net_install(void)
{
    memset(nodes, 0, sizeof(nodes));
    nnodes = 0;
    memset(conns, 0, sizeof(conns));
    fake_now = 1000000;
    sn_clock_set(fake_clock);
    sn_transport_set(&fake_transport);
}

void fake_net_remove(void)
{
    sn_transport_set(NULL);
    sn_clock_set(NULL);
}

node *S1, *S2, *S3, *M1, *R1, *R2;

void sentinels_name(const char *host, int port)
{
    node *s[] = {S1, S2, S3};

    for (int i = 0; i < 3; i++) {
        snprintf(s[i]->master_host, sizeof(s[i]->master_host), "%s", host);
        s[i]->master_port = port;
    }
}

void fake_topology(void)
{
    fake_net_install();
    S1 = node_add("10.0.1.1", 26379, 1);
    S2 = node_add("10.0.1.2", 26379, 1);
    S3 = node_add("10.0.1.3", 26379, 1);
    M1 = node_add("10.0.0.1", 6379, 0);
    R1 = node_add("10.0.0.2", 6380, 0);
    R2 = node_add("10.0.0.3", 6381, 0);
    strcpy(M1->role, "master");
    strcpy(R1->role, "slave");
    strcpy(R2->role, "slave");
    sentinels_name("10.0.0.1", 6379);
}
