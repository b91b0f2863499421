/*
 * bench_resolve: what a resolution costs, beside a plain hiredis connect to
 * the master measured in the same run.
 *
 *   cached   sentinel_resolve() served from the in-process cache (ns/call)
 *   cold     sentinel_resolve(SENTINEL_RESOLVE_NO_CACHE): ask a sentinel,
 *            learn the others, verify with ROLE (us/call, commands counted)
 *   connect  redisConnectWithTimeout() + redisFree() to the master (the peer)
 *   connect+ROLE  the same plus one ROLE round trip
 *
 * The phases are interleaved over several rounds and the median of the
 * rounds is reported, as ratios against the connect peer: this machine is
 * small and noisy, absolute numbers mean little.
 *
 * Usage: bench_resolve [--rounds N] [--cached N] [--cold N] [--markdown]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "sentinel/sentinel.h"
#include "topology.h"

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Each returns ns per operation, or a negative value on failure. */
static double bench_cached(sentinel_t *s, int n)
{
    sentinel_addr a;
    double t0;

    if (sentinel_resolve(s, 0, &a) != SENTINEL_OK)
        return -1;
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        if (sentinel_resolve(s, 0, &a) != SENTINEL_OK)
            return -1;
    return (now_ns() - t0) / n;
}

static double bench_cold(sentinel_t *s, int n)
{
    sentinel_addr a;
    double t0 = now_ns();

    for (int i = 0; i < n; i++)
        if (sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a) != SENTINEL_OK)
            return -1;
    return (now_ns() - t0) / n;
}

static double bench_connect(int port, int n, int role)
{
    struct timeval tv = {1, 0};
    double t0 = now_ns();

    for (int i = 0; i < n; i++) {
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c == NULL || c->err) {
            redisFree(c);
            return -1;
        }
        if (role) {
            redisReply *r = redisCommand(c, "ROLE");
            if (r == NULL) {
                redisFree(c);
                return -1;
            }
            freeReplyObject(r);
        }
        redisFree(c);
    }
    return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    int rounds = 7, ncached = 1000000, ncold = 300, markdown = 0, port;
    double *cached, *cold, *conn, *connrole;
    sentinel_stats st = {.size = sizeof(st)};
    sentinel_t *s;
    topo_t *t;
    char err[512];
    struct utsname un;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cached") == 0 && i + 1 < argc)
            ncached = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cold") == 0 && i + 1 < argc)
            ncold = atoi(argv[++i]);
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = 1;
        else {
            fprintf(stderr, "usage: bench_resolve [--rounds N] [--cached N] [--cold N] "
                            "[--markdown]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 100 || ncached < 1 || ncold < 1) {
        fprintf(stderr, "bench_resolve: rounds 1-100, counts >= 1\n");
        return 2;
    }
    fprintf(stderr, "bench_resolve: starting topology...\n");
    if ((t = topo_start(NULL, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench_resolve: %s\n", err);
        return 1;
    }
    port = topo_master_port(t);
    s = sentinel_new(topo_master_name(t), NULL);
    sentinel_add_sentinels(s, topo_sentinel_list(t));
    cached = calloc((size_t)rounds, sizeof(double));
    cold = calloc((size_t)rounds, sizeof(double));
    conn = calloc((size_t)rounds, sizeof(double));
    connrole = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        fprintf(stderr, "\rbench_resolve: round %d/%d", r + 1, rounds);
        conn[r] = bench_connect(port, ncold, 0);
        cold[r] = bench_cold(s, ncold);
        connrole[r] = bench_connect(port, ncold, 1);
        cached[r] = bench_cached(s, ncached);
        if (conn[r] < 0 || cold[r] < 0 || connrole[r] < 0 || cached[r] < 0) {
            fprintf(stderr, "\nbench_resolve: a phase failed: %s\n", sentinel_errstr(s));
            topo_stop(t);
            return 1;
        }
    }
    fprintf(stderr, "\n");
    sentinel_get_stats(s, &st);
    {
        double mc = median(cached, rounds), mcold = median(cold, rounds);
        double mconn = median(conn, rounds), mrole = median(connrole, rounds);
        double colds = (double)rounds * ncold + rounds; /* + one warm-up per round */
        double q = (double)st.sentinel_queries / colds, rc = (double)st.role_checks / colds;

        uname(&un);
        if (markdown) {
            printf("| operation | median per call | vs hiredis connect |\n");
            printf("|---|---|---|\n");
            printf("| cached `sentinel_resolve()` | %.1f ns | %.5fx |\n", mc, mc / mconn);
            printf("| cold `sentinel_resolve()` (NO_CACHE) | %.1f us | %.2fx |\n", mcold / 1e3,
                   mcold / mconn);
            printf("| hiredis connect + close (peer) | %.1f us | 1.00x |\n", mconn / 1e3);
            printf("| hiredis connect + ROLE + close | %.1f us | %.2fx |\n", mrole / 1e3,
                   mrole / mconn);
            printf("\nCold resolution: %.2f sentinel commands + %.2f ROLE per call, "
                   "each on its own TCP connection.\n", q, rc);
            printf("Rounds: %d (interleaved), cached calls/round: %d, cold calls/round: %d; "
                   "%s %s, %s.\n", rounds, ncached, ncold, un.sysname, un.release, un.machine);
        } else {
            printf("cached_ns=%.1f cold_us=%.1f connect_us=%.1f connect_role_us=%.1f "
                   "cached_vs_connect=%.5f cold_vs_connect=%.2f sentinel_cmds_per_cold=%.2f "
                   "role_per_cold=%.2f\n",
                   mc, mcold / 1e3, mconn / 1e3, mrole / 1e3, mc / mconn, mcold / mconn, q, rc);
        }
    }
    sentinel_free(s);
    free(cached);
    free(cold);
    free(conn);
    free(connrole);
    topo_stop(t);
    return 0;
}
