/*
 * proxy-client: the client side of the proxy tests and benchmarks, built
 * on hiredis. Every loop is bounded by a count and a time.
 *
 *   writeloop  SET unique keys through PORT, reconnecting on errors, then
 *              check every acknowledged key on the final master (found by
 *              asking through the proxy which port answers, then read
 *              directly). Prints one "key=value" summary line; exit 1 when
 *              an acknowledged write is missing. --mux asks INFO instead
 *              of CONFIG, so that the loop stays multiplexed in the proxy.
 *              --fault-file F: F holds "START END PORT": START the sync
 *              point printed by `syncpoint` just before a kill or freeze
 *              of the master on PORT, END the wall-clock ms the fault
 *              command returned. A lost write that PORT acknowledged (or a
 *              node the loop could not learn: the master died between the
 *              SET and the question) from START to 5 ms after END is
 *              counted apart as lost_at_fault
 *              (Redis replicates asynchronously: a master stopped between
 *              answering a client and feeding its replicas takes that write
 *              with it; no proxy can prevent that, see DESIGN.md "What
 *              nothing lost means") and does not fail. Any other lost
 *              write fails, however close to the fault: the window is the
 *              replication lag measured in the run, not a fixed second.
 *              --tls-nodes: the nodes are TLS-only (port 0): learn a node
 *              by CONFIG GET tls-port and check the acknowledged keys
 *              through the proxy (which then forwards to the final master).
 *   syncpoint  straight to the master on --port (not through the proxy):
 *              note the wall-clock ms, SET a marker, WAIT until every
 *              connected replica has it. Prints "MS US REPLICAS LAG_MS":
 *              every write the master acknowledged before MS (wall clock,
 *              ms; US: the same moment on CLOCK_MONOTONIC in microseconds,
 *              as fo-tool now) is on every replica; LAG_MS: how long they
 *              took to confirm. Exit 1 when they do not within --seconds.
 *   now        "MS US": the wall clock in ms and CLOCK_MONOTONIC in us.
 *   slowreader pipeline GETs of a large value without reading, check the
 *              proxy's RSS stays bounded, then read and check every reply
 *   conns      open N connections, PING on each, PING again, close
 *   garbage    send malformed bytes on fresh connections
 *   midcmd     disconnect in the middle of commands and before replies
 *   ping       one PING (exit 0 on PONG; prints the reply or error)
 *   halfclose  AUTH/SELECT 4/SET in one write, shutdown, read to the end
 *
 * Common options: --port P (the proxy) or --unix PATH, --seconds S,
 * --count N, --pid PID (the proxy, for RSS), --password P (data AUTH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

static int opt_port = 6380;
static const char *opt_unix;
static const char *opt_password;
static const char *opt_prefix = "wl";
static long opt_count = 100000;
static double opt_seconds = 10;
static int opt_pid;
static long opt_rss_limit_kb = 65536;
static const char *opt_keys_out;
static int opt_mux; /* writeloop: learn the node with INFO (multiplexed), not CONFIG */
static const char *opt_fault_file; /* writeloop: "START END PORT" of a kill/freeze */
static int opt_tls_nodes; /* writeloop: TLS-only nodes (tests/tls/test_proxy_tls.sh) */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static redisContext *connect_proxy(int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c;

    if (opt_unix)
        c = redisConnectUnixWithTimeout(opt_unix, tv);
    else
        c = redisConnectWithTimeout("127.0.0.1", opt_port, tv);
    if (c == NULL)
        return NULL;
    if (c->err) {
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (opt_password) {
        redisReply *r = redisCommand(c, "AUTH %s", opt_password);
        int ok = r && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ------------------------------------------------------------------------
 * writeloop
 * ------------------------------------------------------------------------ */

#define MAX_NODES 16

static int cmd_writeloop(void)
{
    redisContext *c = NULL;
    int64_t start = now_ms(), last_ack = start, gap = 0;
    int64_t deadline = start + (int64_t)(opt_seconds * 1000);
    long seq, acked = 0, errors = 0, reconnects = 0, missing = 0, lost_demoted = 0;
    char *ackbits;
    int64_t *ack_wall = NULL, fault_start = 0, fault_end = 0;
    size_t ack_wall_cap = 0;
    long lost_at_fault = 0;
    int fault_port = 0;
    int ports[MAX_NODES] = {0}, nports = 0, final_port = -1;
    long per_port[MAX_NODES] = {0};
    FILE *kf = NULL;

    if ((ackbits = calloc((size_t)opt_count + 1, 1)) == NULL)
        return 2;
    if (opt_keys_out)
        kf = fopen(opt_keys_out, "w");
    for (seq = 0; seq < opt_count && now_ms() < deadline; seq++) {
        redisReply *r1 = NULL, *r2 = NULL;
        int ok;

        if (c == NULL) {
            if ((c = connect_proxy(1000)) == NULL) {
                errors++;
                usleep(10000);
                seq--;
                continue;
            }
            reconnects++;
        }
        /* One pipeline: the write and which node took it. */
        redisAppendCommand(c, "SET %s:%ld %ld", opt_prefix, seq, seq);
        if (opt_mux)
            redisAppendCommand(c, "INFO server");
        else
            redisAppendCommand(c, opt_tls_nodes ? "CONFIG GET tls-port" : "CONFIG GET port");
        ok = redisGetReply(c, (void **)&r1) == REDIS_OK &&
             redisGetReply(c, (void **)&r2) == REDIS_OK;
        if (ok && r1->type == REDIS_REPLY_STATUS && strcmp(r1->str, "OK") == 0) {
            int64_t t = now_ms();
            int port = 0;
            if (t - last_ack > gap)
                gap = t - last_ack;
            last_ack = t;
            acked++;
            if (kf)
                fprintf(kf, "%s:%ld\n", opt_prefix, seq);
            if (r2 && r2->type == REDIS_REPLY_ARRAY && r2->elements == 2)
                port = atoi(r2->element[1]->str);
            if (r2 && r2->type == REDIS_REPLY_STRING && strstr(r2->str, "tcp_port:"))
                port = atoi(strstr(r2->str, "tcp_port:") + 9);
            ackbits[seq] = MAX_NODES + 1; /* acked, node unknown */
            if ((size_t)seq >= ack_wall_cap) {
                size_t ncap = ack_wall_cap ? ack_wall_cap : 65536;
                int64_t *n;
                while (ncap <= (size_t)seq)
                    ncap *= 2;
                if ((n = realloc(ack_wall, ncap * sizeof(*n))) == NULL)
                    return 2;
                ack_wall = n;
                ack_wall_cap = ncap;
            }
            ack_wall[seq] = wall_ms();
            for (int i = 0; i < nports; i++)
                if (ports[i] == port) {
                    per_port[i]++;
                    ackbits[seq] = (char)(i + 1);
                    port = -1;
                    break;
                }
            if (port != -1 && nports < MAX_NODES) {
                ports[nports] = port;
                per_port[nports++] = 1;
                ackbits[seq] = (char)nports;
            }
        } else {
            /* An error reply (-READONLY from a demoted node, -MASTERDOWN)
             * means this connection goes to the wrong place: reconnect, as
             * a sentinel-aware client would. */
            errors++;
            redisFree(c);
            c = NULL;
        }
        freeReplyObject(r1);
        freeReplyObject(r2);
    }
    if (kf)
        fclose(kf);
    /* Which node is master now, as the proxy sees it (bounded retries). */
    for (int tries = 0; tries < 100 && final_port < 0; tries++) {
        redisReply *r;
        if (c == NULL && (c = connect_proxy(1000)) == NULL) {
            usleep(100000);
            continue;
        }
        r = redisCommand(c, opt_tls_nodes ? "CONFIG GET tls-port" : "CONFIG GET port");
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
            final_port = atoi(r->element[1]->str);
        freeReplyObject(r);
        if (final_port < 0) {
            redisFree(c);
            c = NULL;
            usleep(100000);
        }
    }
    if (c && !opt_tls_nodes)
        redisFree(c);
    if (opt_fault_file) {
        FILE *ff = fopen(opt_fault_file, "r");
        long long a = 0, b = 0;
        if (ff && fscanf(ff, "%lld %lld %d", &a, &b, &fault_port) == 3) {
            fault_start = a;
            fault_end = b;
        }
        if (ff)
            fclose(ff);
    }
    if (final_port > 0) {
        struct timeval tv = {5, 0};
        /* TLS-only nodes: through the proxy, on the connection that just
         * named the final master. */
        redisContext *m = opt_tls_nodes ? c : redisConnectWithTimeout("127.0.0.1", final_port, tv);
        if (m && !m->err && opt_password && !opt_tls_nodes) {
            redisReply *r = redisCommand(m, "AUTH %s", opt_password);
            freeReplyObject(r);
        }
        if (m == NULL || m->err) {
            missing = -1;
        } else {
            redisSetTimeout(m, tv);
            for (long i = 0; i < seq; i++) {
                redisReply *r;
                int node; /* who acknowledged it; 0 when the loop could not learn */
                if (!ackbits[i])
                    continue;
                node = ackbits[i] <= nports ? ports[ackbits[i] - 1] : 0;
                r = redisCommand(m, "EXISTS %s:%ld", opt_prefix, i);
                if (r == NULL) {
                    missing = -1;
                    break;
                }
                if ((r->type != REDIS_REPLY_INTEGER || r->integer != 1) && fault_start &&
                    (node == fault_port || node == 0) && ack_wall[i] >= fault_start &&
                    ack_wall[i] <= fault_end + 5) {
                    lost_at_fault++; /* see --fault-file */
                } else if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
                    missing++;
                    /* acknowledged by a node that is not the final master */
                    if (ackbits[i] <= nports && ports[ackbits[i] - 1] != final_port)
                        lost_demoted++;
                }
                freeReplyObject(r);
            }
        }
        if (m)
            redisFree(m);
    } else {
        missing = -1;
        if (c && opt_tls_nodes)
            redisFree(c);
    }
    printf("attempted=%ld acked=%ld errors=%ld reconnects=%ld longest_gap_ms=%lld "
           "final_master=%d lost=%ld lost_acked_by_demoted=%ld lost_at_fault=%ld "
           "fault_window_ms=%lld",
           seq, acked, errors, reconnects, (long long)gap, final_port, missing, lost_demoted,
           lost_at_fault, (long long)(fault_start ? fault_end + 5 - fault_start : 0));
    for (int i = 0; i < nports; i++)
        printf(" acked_by_%d=%ld", ports[i], per_port[i]);
    printf("\n");
    free(ackbits);
    free(ack_wall);
    if (missing < 0)
        return 2;
    return missing == 0 && acked > 0 ? 0 : 1;
}

/* ------------------------------------------------------------------------
 * slowreader: the proxy must not buffer a slow client's replies without
 * bound. 64 GETs of a 1 MiB value are 64 MiB of replies the client does
 * not read; the proxy's RSS must stay far below that.
 * ------------------------------------------------------------------------ */

static int cmd_slowreader(void)
{
    redisContext *c = connect_proxy(5000);
    size_t vlen = 1024 * 1024;
    char *val = malloc(vlen);
    long n = opt_count > 256 ? 256 : opt_count, rss_before, rss_during, bad = 0;
    redisReply *r;

    if (c == NULL || val == NULL) {
        printf("cannot connect\n");
        return 2;
    }
    memset(val, 'v', vlen);
    r = redisCommand(c, "SET slowreader:big %b", val, vlen);
    if (r == NULL || r->type != REDIS_REPLY_STATUS) {
        printf("SET failed\n");
        return 2;
    }
    freeReplyObject(r);
    rss_before = opt_pid ? rss_kb(opt_pid) : 0;
    for (long i = 0; i < n; i++)
        redisAppendCommand(c, "GET slowreader:big");
    /* Push the requests out without reading a byte of the replies. */
    for (int done = 0; !done;) {
        if (redisBufferWrite(c, &done) != REDIS_OK) {
            printf("write failed: %s\n", c->errstr);
            return 2;
        }
        if (!done)
            usleep(1000);
    }
    sleep(2);
    rss_during = opt_pid ? rss_kb(opt_pid) : 0;
    for (long i = 0; i < n; i++) {
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            printf("read failed: %s\n", c->errstr);
            return 2;
        }
        if (r->type != REDIS_REPLY_STRING || r->len != vlen || r->str[vlen - 1] != 'v')
            bad++;
        freeReplyObject(r);
    }
    redisFree(c);
    free(val);
    printf("replies=%ld bad=%ld rss_before_kb=%ld rss_while_unread_kb=%ld limit_kb=%ld\n", n, bad,
           rss_before, rss_during, opt_rss_limit_kb);
    if (bad)
        return 1;
    if (opt_pid && rss_during > opt_rss_limit_kb)
        return 1;
    return 0;
}

/* ------------------------------------------------------------------------
 * conns: many concurrent connections
 * ------------------------------------------------------------------------ */

static void raise_nofile(long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int cmd_conns(void)
{
    long n = opt_count, opened = 0, pongs = 0, pongs2 = 0;
    redisContext **cs = calloc((size_t)n, sizeof(*cs));
    int64_t deadline = now_ms() + (int64_t)(opt_seconds * 1000);

    raise_nofile(n + 64);
    if (cs == NULL)
        return 2;
    for (long i = 0; i < n && now_ms() < deadline; i++) {
        redisReply *r;
        if ((cs[i] = connect_proxy(5000)) == NULL)
            break;
        opened++;
        r = redisCommand(cs[i], "PING");
        if (r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
            pongs++;
        freeReplyObject(r);
    }
    if (opt_pid)
        printf("rss_with_%ld_conns_kb=%ld ", opened, rss_kb(opt_pid));
    /* Every connection still works while all are open. */
    for (long i = 0; i < opened; i++) {
        redisReply *r = redisCommand(cs[i], "PING");
        if (r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
            pongs2++;
        freeReplyObject(r);
    }
    for (long i = 0; i < opened; i++)
        redisFree(cs[i]);
    free(cs);
    printf("wanted=%ld opened=%ld pongs=%ld pongs_again=%ld\n", n, opened, pongs, pongs2);
    return opened == n && pongs == n && pongs2 == n ? 0 : 1;
}

/* Hold N idle connections open for --seconds (RSS measurement). */
static int cmd_idle(void)
{
    long n = opt_count, opened = 0;
    redisContext **cs = calloc((size_t)n, sizeof(*cs));
    int64_t deadline = now_ms() + (int64_t)(opt_seconds * 1000);

    raise_nofile(n + 64);
    if (cs == NULL)
        return 2;
    for (long i = 0; i < n; i++) {
        redisReply *r;
        if ((cs[i] = connect_proxy(5000)) == NULL)
            break;
        r = redisCommand(cs[i], "PING"); /* the upstream is really open */
        freeReplyObject(r);
        opened++;
    }
    printf("opened=%ld\n", opened);
    fflush(stdout);
    while (now_ms() < deadline)
        usleep(50000);
    for (long i = 0; i < opened; i++)
        redisFree(cs[i]);
    free(cs);
    return opened == n ? 0 : 1;
}

/* ------------------------------------------------------------------------
 * garbage and midcmd: raw sockets
 * ------------------------------------------------------------------------ */

static int raw_connect(void)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt_port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        if (fd != -1)
            close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int alive(void)
{
    redisContext *c = connect_proxy(2000);
    redisReply *r;
    int ok;

    if (c == NULL)
        return 0;
    r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

static int cmd_garbage(void)
{
#define JUNK(s) {s, sizeof(s) - 1}
    static const struct {
        const char *s;
        size_t n;
    } junk[] = {JUNK("*-5\r\n"),
                JUNK("$99999999999999999999\r\n"),
                JUNK("*2\r\n$3\r\nGET\r\n:x\r\n"),
                JUNK("\x00\x01\x02\xff\xfe"),
                JUNK("*1\r\n$4\r\nPING\r\n\r\n\r\n*a\r\n"),
                JUNK("GARBAGE COMMAND WITH SPACES\r\n"),
                JUNK("*3\r\n$3\r\nSET\r\n$-7\r\nk\r\n"),
                JUNK("\r\n\r\n\r\n\r\n")};
    long errors_seen = 0, closed = 0, rounds = opt_count > 1000 ? 1000 : opt_count;
    unsigned seed = 12345;
    char buf[4096];

    for (long i = 0; i < rounds; i++) {
        int fd = raw_connect();
        ssize_t n;
        if (fd == -1)
            return 1;
        if (i < (long)(sizeof(junk) / sizeof(junk[0]))) {
            n = send(fd, junk[i].s, junk[i].n, MSG_NOSIGNAL);
        } else {
            char rnd[512];
            for (size_t j = 0; j < sizeof(rnd); j++)
                rnd[j] = (char)(rand_r(&seed) & 0xff);
            n = send(fd, rnd, sizeof(rnd), MSG_NOSIGNAL);
        }
        (void)n;
        /* The end of input makes Redis answer what it can and close, and
         * exercises the proxy's half-close path. */
        shutdown(fd, SHUT_WR);
        n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0 && buf[0] == '-')
            errors_seen++;
        else if (n <= 0)
            closed++;
        close(fd);
    }
    printf("rounds=%ld error_replies=%ld closed=%ld alive=%d\n", rounds, errors_seen, closed,
           alive());
    return alive() ? 0 : 1;
}

static int cmd_midcmd(void)
{
    long rounds = opt_count > 2000 ? 2000 : opt_count;
    static const char part[] = "*3\r\n$3\r\nSET\r\n$7\r\nmidcmd:\r\n$100\r\nxxxx";
    static const char full[] = "*2\r\n$3\r\nGET\r\n$8\r\nmidcmd:x\r\n";

    for (long i = 0; i < rounds; i++) {
        int fd = raw_connect();
        ssize_t n;
        if (fd == -1)
            return 1;
        switch (i % 3) {
        case 0: /* half a command, then gone */
            n = send(fd, part, sizeof(part) - 1, MSG_NOSIGNAL);
            break;
        case 1: /* a whole command, gone before the reply */
            n = send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL);
            break;
        default: { /* a whole command and a reset */
            struct linger lg = {1, 0};
            n = send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL);
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            break;
        }
        }
        (void)n;
        close(fd);
    }
    printf("rounds=%ld alive=%d\n", rounds, alive());
    return alive() ? 0 : 1;
}

/* ------------------------------------------------------------------------
 * halfclose: COUNT clients each send [AUTH PASSWORD] SELECT 4 SET PREFIX:i v
 * in one write, shut their side down at once and read until the proxy
 * closes: what they sent must still run (checked by the caller on the
 * master) and every connection must end.
 * ------------------------------------------------------------------------ */

static int cmd_halfclose(void)
{
    long ended = 0;
    int64_t deadline = now_ms() + (int64_t)(opt_seconds * 1000);

    for (long i = 0; i < opt_count && now_ms() < deadline; i++) {
        const char *pw = opt_password;
        redisContext *c;
        char buf[4096];
        int done = 0;

        opt_password = NULL; /* our AUTH goes in the one write below */
        c = connect_proxy(2000);
        opt_password = pw;
        if (c == NULL)
            return 2;
        if (opt_password)
            redisAppendCommand(c, "AUTH %s", opt_password);
        redisAppendCommand(c, "SELECT 4");
        redisAppendCommand(c, "SET %s:%ld v", opt_prefix, i);
        /* A blocking context writes its whole output buffer at once. */
        if (redisBufferWrite(c, &done) != REDIS_OK || !done) {
            redisFree(c);
            return 2;
        }
        shutdown(c->fd, SHUT_WR);
        for (;;) { /* bounded by the 2 s receive timeout */
            ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
            if (n == 0) {
                ended++;
                break;
            }
            if (n < 0)
                break;
        }
        redisFree(c);
    }
    printf("clients=%ld ended_by_proxy=%ld\n", opt_count, ended);
    return ended == opt_count ? 0 : 1;
}

/* ------------------------------------------------------------------------
 * syncpoint
 * ------------------------------------------------------------------------ */

static long info_field(const char *info, const char *name)
{
    const char *p = strstr(info, name);

    return p ? atol(p + strlen(name)) : -1;
}

static int cmd_syncpoint(void)
{
    int64_t deadline = now_ms() + (int64_t)(opt_seconds * 1000);
    redisContext *c = connect_proxy(1000);
    int rc = 1;

    if (c == NULL) {
        fprintf(stderr, "syncpoint: cannot connect to 127.0.0.1:%d\n", opt_port);
        return 1;
    }
    for (int tries = 0; tries < 100 && now_ms() < deadline; tries++) {
        redisReply *info = redisCommand(c, "INFO replication"), *set = NULL, *wait = NULL;
        long replicas = -1;
        int64_t t = wall_ms(), us = mono_us();

        if (info && info->type == REDIS_REPLY_STRING)
            replicas = info_field(info->str, "connected_slaves:");
        freeReplyObject(info);
        if (replicas > 0) {
            set = redisCommand(c, "SET %s:syncpoint %lld", opt_prefix, (long long)t);
            if (set && set->type == REDIS_REPLY_STATUS)
                wait = redisCommand(c, "WAIT %ld 1000", replicas);
        }
        if (wait && wait->type == REDIS_REPLY_INTEGER && wait->integer >= replicas) {
            printf("%lld %lld %ld %lld\n", (long long)t, (long long)us, replicas,
                   (long long)(wall_ms() - t));
            rc = 0;
        }
        freeReplyObject(set);
        freeReplyObject(wait);
        if (rc == 0 || c->err)
            break;
        usleep(10000);
    }
    if (rc != 0)
        fprintf(stderr, "syncpoint: the replicas of 127.0.0.1:%d did not confirm\n", opt_port);
    redisFree(c);
    return rc;
}

static int cmd_ping(void)
{
    redisContext *c = connect_proxy((int)(opt_seconds * 1000));
    redisReply *r;
    int ok;

    if (c == NULL) {
        printf("connect failed\n");
        return 1;
    }
    r = redisCommand(c, "PING");
    if (r == NULL) {
        printf("error: %s\n", c->errstr);
        redisFree(c);
        return 1;
    }
    printf("%s\n", r->str ? r->str : "?");
    ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    redisFree(c);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},     {"unix", required_argument, NULL, 'u'},
        {"count", required_argument, NULL, 'n'},    {"seconds", required_argument, NULL, 's'},
        {"pid", required_argument, NULL, 'P'},      {"prefix", required_argument, NULL, 'x'},
        {"password", required_argument, NULL, 'a'}, {"rss-limit-kb", required_argument, NULL, 'r'},
        {"keys-out", required_argument, NULL, 'k'}, {"mux", no_argument, NULL, 'm'},
        {"fault-file", required_argument, NULL, 'f'}, {"tls-nodes", no_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    const char *mode;
    int ch;

    if (argc < 2) {
        fprintf(stderr, "usage: proxy-client MODE [options]\n");
        return 2;
    }
    mode = argv[1];
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': opt_port = atoi(optarg); break;
        case 'u': opt_unix = optarg; break;
        case 'n': opt_count = atol(optarg); break;
        case 's': opt_seconds = atof(optarg); break;
        case 'P': opt_pid = atoi(optarg); break;
        case 'x': opt_prefix = optarg; break;
        case 'a': opt_password = optarg; break;
        case 'r': opt_rss_limit_kb = atol(optarg); break;
        case 'k': opt_keys_out = optarg; break;
        case 'm': opt_mux = 1; break;
        case 'f': opt_fault_file = optarg; break;
        case 't': opt_tls_nodes = 1; break;
        default: return 2;
        }
    }
    if (opt_count <= 0 || opt_seconds <= 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "writeloop"))
        return cmd_writeloop();
    if (!strcmp(mode, "slowreader"))
        return cmd_slowreader();
    if (!strcmp(mode, "conns"))
        return cmd_conns();
    if (!strcmp(mode, "idle"))
        return cmd_idle();
    if (!strcmp(mode, "garbage"))
        return cmd_garbage();
    if (!strcmp(mode, "midcmd"))
        return cmd_midcmd();
    if (!strcmp(mode, "ping"))
        return cmd_ping();
    if (!strcmp(mode, "syncpoint"))
        return cmd_syncpoint();
    if (!strcmp(mode, "now")) {
        int64_t us = mono_us();
        printf("%lld %lld\n", (long long)wall_ms(), (long long)us);
        return 0;
    }
    if (!strcmp(mode, "halfclose"))
        return cmd_halfclose();
    fprintf(stderr, "proxy-client: unknown mode %s\n", mode);
    return 2;
}
