/*
 * fo-tool: the small measuring steps of the failover benchmark's driver.
 *
 *   fo-tool now                        CLOCK_MONOTONIC microseconds
 *   fo-tool stamp FILE -- CMD [ARGS]   write `now` to FILE, then exec CMD
 *                                      (the fault's moment, taken as late
 *                                      as possible)
 *   fo-tool verify PORT LOG...         EXISTS every acknowledged key of each
 *                                      writer log on 127.0.0.1:PORT
 *                                      (pipelined); writes LOG.missing and
 *                                      prints "LOG acked=N missing=M"
 *   fo-tool sentinel-stats PORT,...    sum of total_connections_received and
 *                                      total_commands_processed over the
 *                                      sentinels that answer: "CONNS CMDS UP"
 *   fo-tool free-port                  a free loopback TCP port
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define VERIFY_BATCH 1000
#define TOOL_TIMEOUT_MS 1000

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static redisContext *connect_local(int port)
{
    struct timeval tv = {TOOL_TIMEOUT_MS / 1000, (TOOL_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c == NULL)
        return NULL;
    if (c->err) {
        fprintf(stderr, "fo-tool: 127.0.0.1:%d: %s\n", port, c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* ========================================================================
 * stamp
 * ======================================================================== */

static int cmd_stamp(int argc, char **argv)
{
    FILE *f;

    if (argc < 4 || strcmp(argv[1], "--") != 0)
        return 2;
    f = fopen(argv[0], "w");
    if (f == NULL) {
        fprintf(stderr, "fo-tool: %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    fprintf(f, "%lld\n", (long long)now_us());
    fclose(f);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "fo-tool: %s: %s\n", argv[2], strerror(errno));
    return 127;
}

/* ========================================================================
 * verify
 * ======================================================================== */

typedef struct seq_list {
    long long *v;
    size_t n, cap;
} seq_list;

static int seq_push(seq_list *l, long long seq)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        long long *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = seq;
    return 0;
}

/* The acknowledged sequence numbers of a writer log, and its key prefix. */
static int read_acks(const char *path, char *prefix, size_t plen, seq_list *acks)
{
    char line[1024];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "fo-tool: %s: %s\n", path, strerror(errno));
        return -1;
    }
    prefix[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        long long t, seq;
        int port;

        if (strncmp(line, "# prefix=", 9) == 0) {
            snprintf(prefix, plen, "%s", line + 9);
            prefix[strcspn(prefix, "\r\n")] = '\0';
        } else if (line[0] == 'A' && sscanf(line, "A %lld %d %lld", &t, &port, &seq) == 3) {
            if (seq_push(acks, seq) != 0) {
                fclose(f);
                return -1;
            }
        }
    }
    fclose(f);
    if (prefix[0] == '\0') {
        fprintf(stderr, "fo-tool: %s: no '# prefix=' header\n", path);
        return -1;
    }
    return 0;
}

static int verify_log(redisContext *c, int port, const char *path)
{
    char prefix[512], missing_path[4096];
    seq_list acks = {0};
    size_t i, j, missing = 0;
    FILE *m = NULL;
    int rc = -1;

    if (read_acks(path, prefix, sizeof(prefix), &acks) != 0)
        goto out;
    snprintf(missing_path, sizeof(missing_path), "%s.missing", path);
    m = fopen(missing_path, "w");
    if (m == NULL) {
        fprintf(stderr, "fo-tool: %s: %s\n", missing_path, strerror(errno));
        goto out;
    }
    fprintf(m, "# final_port=%d\n", port);
    for (i = 0; i < acks.n; i += VERIFY_BATCH) {
        size_t end = i + VERIFY_BATCH < acks.n ? i + VERIFY_BATCH : acks.n;

        for (j = i; j < end; j++)
            redisAppendCommand(c, "EXISTS %s:%lld", prefix, acks.v[j]);
        for (j = i; j < end; j++) {
            redisReply *r = NULL;

            if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL) {
                fprintf(stderr, "fo-tool: verify on port %d: %s\n", port, c->errstr);
                goto out;
            }
            if (r->type != REDIS_REPLY_INTEGER) {
                fprintf(stderr, "fo-tool: verify on port %d: %s\n", port,
                        r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
                freeReplyObject(r);
                goto out;
            }
            if (r->integer == 0) {
                fprintf(m, "M %lld\n", acks.v[j]);
                missing++;
            }
            freeReplyObject(r);
        }
    }
    printf("%s acked=%zu missing=%zu\n", path, acks.n, missing);
    rc = 0;
out:
    if (m)
        fclose(m);
    free(acks.v);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    redisContext *c;
    int port, i, rc = 0;

    if (argc < 2)
        return 2;
    port = atoi(argv[0]);
    c = connect_local(port);
    if (c == NULL)
        return 1;
    for (i = 1; i < argc; i++)
        if (verify_log(c, port, argv[i]) != 0)
            rc = 1;
    redisFree(c);
    return rc;
}

/* ========================================================================
 * sentinel-stats, free-port
 * ======================================================================== */

static long long info_field(const char *info, const char *field)
{
    size_t len = strlen(field);
    const char *p = info;

    while ((p = strstr(p, field)) != NULL) {
        if ((p == info || p[-1] == '\n') && p[len] == ':')
            return atoll(p + len + 1);
        p += len;
    }
    return -1;
}

static int cmd_sentinel_stats(int argc, char **argv)
{
    long long conns = 0, cmds = 0;
    char *copy, *tok, *save = NULL;
    int up = 0;

    if (argc != 1)
        return 2;
    copy = strdup(argv[0]);
    if (copy == NULL)
        return 1;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        redisContext *c = connect_local(atoi(colon ? colon + 1 : tok));
        redisReply *r;

        if (c == NULL)
            continue;
        r = redisCommand(c, "INFO stats");
        if (r && r->type == REDIS_REPLY_STRING) {
            long long a = info_field(r->str, "total_connections_received");
            long long b = info_field(r->str, "total_commands_processed");
            if (a >= 0 && b >= 0) {
                conns += a;
                cmds += b;
                up++;
            }
        }
        if (r)
            freeReplyObject(r);
        redisFree(c);
    }
    free(copy);
    printf("%lld %lld %d\n", conns, cmds, up);
    return 0;
}

static int cmd_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return 1;
    }
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;

    if (argc >= 2 && strcmp(argv[1], "now") == 0) {
        printf("%lld\n", (long long)now_us());
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "stamp") == 0)
        rc = cmd_stamp(argc - 2, argv + 2);
    else if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        rc = cmd_verify(argc - 2, argv + 2);
    else if (argc >= 2 && strcmp(argv[1], "sentinel-stats") == 0)
        rc = cmd_sentinel_stats(argc - 2, argv + 2);
    else if (argc >= 2 && strcmp(argv[1], "free-port") == 0)
        rc = cmd_free_port();
    if (rc == 2)
        fputs("usage: fo-tool now | stamp FILE -- CMD... | verify PORT LOG... |\n"
              "       sentinel-stats PORT,... | free-port\n",
              stderr);
    return rc;
}
