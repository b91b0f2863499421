/*
 * fo-observe: the failover timeline as the topology lived it, on the same
 * CLOCK_MONOTONIC axis as the writers' ack logs.
 *
 *   fo-observe --nodes P,P,P --sentinels P,P,P --out FILE
 *              [--interval-ms 5] [--max-seconds 300] [--stop-file F]
 *
 * It asks every data node ROLE every interval (non-blocking, so a frozen
 * node does not slow the others down) and logs each change, and it
 * PSUBSCRIBEs to every sentinel and logs every event:
 *
 *   R <t> <port> master|slave|sentinel|down|unresponsive (stamped when the
 *                                unanswered ROLE was sent)
 *   V <t> <sentinel port> <channel> <payload>
 *
 * The report takes the promotion moment (the first node other than the old
 * master answering "master") and Sentinel's first +switch-master from here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define OB_MAX_LINKS 32
#define OB_RETRY_US 5000 /* Sentinel CLIENT KILLs normal clients on promotion: be back fast */
#define OB_UNRESPONSIVE_US 200000
#define OB_GIVE_UP_US 10000000

typedef enum ob_state {
    OB_DOWN,       /* reconnect at retry_at */
    OB_CONNECTING, /* non-blocking connect in progress */
    OB_READY,      /* node: idle until the next ROLE; sentinel: subscribed */
    OB_WAITING     /* node: a ROLE reply is pending */
} ob_state;

typedef struct ob_link {
    int port;
    int is_sentinel;
    redisContext *c;
    ob_state state;
    int64_t retry_at, sent_at, next_role;
    char logged[16]; /* the last role/status logged for a node */
} ob_link;

static FILE *out;
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Logs a change of a node's role or status, stamped at t. */
static void log_role_at(ob_link *l, const char *role, int64_t t)
{
    if (strcmp(l->logged, role) == 0)
        return;
    snprintf(l->logged, sizeof(l->logged), "%s", role);
    fprintf(out, "R %lld %d %s\n", (long long)t, l->port, role);
    fflush(out);
}

static void log_role(ob_link *l, const char *role)
{
    log_role_at(l, role, now_us());
}

/* The one teardown path of a link. */
static void link_drop(ob_link *l, int64_t now)
{
    if (l->c)
        redisFree(l->c);
    l->c = NULL;
    l->state = OB_DOWN;
    l->retry_at = now + OB_RETRY_US;
    if (!l->is_sentinel)
        log_role(l, "down");
}

static void link_connect(ob_link *l, int64_t now)
{
    l->c = redisConnectNonBlock("127.0.0.1", l->port);
    if (l->c == NULL || l->c->err) {
        link_drop(l, now);
        return;
    }
    l->state = OB_CONNECTING;
    l->sent_at = now;
}

static int link_flush(ob_link *l)
{
    int done = 0;

    return redisBufferWrite(l->c, &done) == REDIS_OK ? 0 : -1;
}

static void link_connected(ob_link *l, int64_t now)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(l->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        link_drop(l, now);
        return;
    }
    l->state = OB_READY;
    l->next_role = now;
    if (l->is_sentinel) {
        redisAppendCommand(l->c, "PSUBSCRIBE *");
        if (link_flush(l) != 0)
            link_drop(l, now);
    }
}

static void node_reply(ob_link *l, redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        log_role(l, r->element[0]->str);
    else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0)
        log_role(l, "loading");
    l->state = OB_READY;
}

static void sentinel_reply(ob_link *l, redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
        r->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[0]->str, "pmessage") == 0 && r->element[2]->type == REDIS_REPLY_STRING &&
        r->element[3]->type == REDIS_REPLY_STRING) {
        fprintf(out, "V %lld %d %s %s\n", (long long)now_us(), l->port, r->element[2]->str,
                r->element[3]->str);
        fflush(out);
    }
}

static void link_read(ob_link *l, int64_t now)
{
    void *reply;
    int i;

    if (redisBufferRead(l->c) != REDIS_OK) {
        link_drop(l, now);
        return;
    }
    for (i = 0; i < 1024; i++) {
        if (redisGetReplyFromReader(l->c, &reply) != REDIS_OK) {
            link_drop(l, now);
            return;
        }
        if (reply == NULL)
            return;
        if (l->is_sentinel)
            sentinel_reply(l, reply);
        else
            node_reply(l, reply);
        freeReplyObject(reply);
    }
}

/* Time-driven work: reconnects, ROLE requests, timeouts. */
static void link_timers(ob_link *l, int64_t now, int64_t interval_us)
{
    switch (l->state) {
    case OB_DOWN:
        if (now >= l->retry_at)
            link_connect(l, now);
        return;
    case OB_CONNECTING:
        if (now - l->sent_at > OB_UNRESPONSIVE_US)
            link_drop(l, now); /* a frozen listener; try again */
        return;
    case OB_READY:
        if (l->is_sentinel || now < l->next_role)
            return;
        redisAppendCommand(l->c, "ROLE");
        if (link_flush(l) != 0) {
            link_drop(l, now);
            return;
        }
        l->state = OB_WAITING;
        l->sent_at = now;
        l->next_role = now + interval_us;
        return;
    case OB_WAITING:
        if (now - l->sent_at > OB_GIVE_UP_US)
            link_drop(l, now);
        else if (now - l->sent_at > OB_UNRESPONSIVE_US)
            /* Stamped when the unanswered ROLE went out: the node stopped
             * answering no later than that. */
            log_role_at(l, "unresponsive", l->sent_at);
        return;
    }
}

static int parse_ports(const char *list, ob_link *links, int n, int is_sentinel)
{
    char *copy = strdup(list), *tok, *save = NULL;

    if (copy == NULL)
        return -1;
    for (tok = strtok_r(copy, ",", &save); tok && n < OB_MAX_LINKS;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        int port = atoi(colon ? colon + 1 : tok);

        if (port <= 0 || port > 65535) {
            free(copy);
            return -1;
        }
        memset(&links[n], 0, sizeof(links[n]));
        links[n].port = port;
        links[n].is_sentinel = is_sentinel;
        links[n].state = OB_DOWN;
        n++;
    }
    free(copy);
    return n;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'},   {"sentinels", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},     {"interval-ms", required_argument, NULL, 'i'},
        {"max-seconds", required_argument, NULL, 'm'},
        {"stop-file", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    const char *nodes = NULL, *sentinels = "", *out_path = NULL, *stop_file = NULL;
    int64_t interval_us = 5000, max_seconds = 300, start, next_stop_check = 0;
    ob_link links[OB_MAX_LINKS];
    struct pollfd pfds[OB_MAX_LINKS];
    int nlinks, opt, i;
    pid_t parent = getppid();

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'n': nodes = optarg; break;
        case 's': sentinels = optarg; break;
        case 'o': out_path = optarg; break;
        case 'i': interval_us = atoll(optarg) * 1000; break;
        case 'm': max_seconds = atoll(optarg); break;
        case 'f': stop_file = optarg; break;
        default: goto usage;
        }
    }
    if (nodes == NULL || out_path == NULL || interval_us <= 0 || max_seconds <= 0)
        goto usage;
    nlinks = parse_ports(nodes, links, 0, 0);
    if (nlinks < 0 || (nlinks = parse_ports(sentinels, links, nlinks, 1)) < 0)
        goto usage;
    out = fopen(out_path, "w");
    if (out == NULL) {
        fprintf(stderr, "fo-observe: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        return 1;
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGPIPE, SIG_IGN);

    start = now_us();
    fprintf(out, "O %lld start\n", (long long)start);
    while (!stop_signal) {
        int64_t now = now_us(), wake = now + interval_us;
        int nfds = 0;

        if (now - start > max_seconds * 1000000)
            break;
        if (stop_file && now >= next_stop_check) {
            next_stop_check = now + 20000;
            if (access(stop_file, F_OK) == 0)
                break;
        }
        for (i = 0; i < nlinks; i++) {
            link_timers(&links[i], now, interval_us);
            if (links[i].state == OB_READY && !links[i].is_sentinel && links[i].next_role < wake)
                wake = links[i].next_role;
        }
        for (i = 0; i < nlinks; i++) {
            pfds[i].fd = -1;
            pfds[i].events = 0;
            pfds[i].revents = 0;
            if (links[i].c == NULL || links[i].state == OB_DOWN)
                continue;
            pfds[i].fd = links[i].c->fd;
            pfds[i].events = links[i].state == OB_CONNECTING ? POLLOUT : POLLIN;
            nfds++;
        }
        (void)nfds;
        poll(pfds, (nfds_t)nlinks, (int)((wake - now + 999) / 1000));
        now = now_us();
        for (i = 0; i < nlinks; i++) {
            if (pfds[i].fd < 0 || pfds[i].revents == 0)
                continue;
            if (links[i].state == OB_CONNECTING)
                link_connected(&links[i], now);
            else
                link_read(&links[i], now);
        }
    }
    fprintf(out, "O %lld stop\n", (long long)now_us());
    for (i = 0; i < nlinks; i++)
        if (links[i].c)
            redisFree(links[i].c);
    fclose(out);
    return 0;

usage:
    fputs("usage: fo-observe --nodes P,P --sentinels P,P --out FILE [--interval-ms 5]\n"
          "                  [--max-seconds 300] [--stop-file F]\n",
          stderr);
    return 2;
}
