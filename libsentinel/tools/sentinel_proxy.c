/*
 * sentinel-proxy: forward Redis clients to the master Redis Sentinel has
 * elected. A thin main over libsentinel's proxy module (sentinel/proxy.h).
 *
 * With --watch, --master may be repeated: one process then keeps the
 * shared cache current for each master (one publisher per master, each in
 * its own cache file, stepped from one poll loop here).
 *
 * Exit status: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad
 * configuration or command line.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sentinel/proxy.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG 2

#define MAX_MASTERS 16

static sentinel_proxy_t *volatile proxies[MAX_MASTERS];
static volatile sig_atomic_t nproxies;   /* running, in proxies[] */
static volatile sig_atomic_t stop_early; /* SIGTERM while still starting */

static void on_stop(int sig)
{
    (void)sig;
    stop_early = 1;
    for (int i = 0; i < nproxies; i++)
        sentinel_proxy_stop(proxies[i]);
}

static void on_stats(int sig)
{
    (void)sig;
    for (int i = 0; i < nproxies; i++)
        sentinel_proxy_request_stats(proxies[i]);
}

/* What the command line says about several masters (the library's parser
 * keeps the last --master; the rest of the flags it parses itself). */
struct cmdline {
    const char *masters[MAX_MASTERS];
    int nmasters, too_many, watch, admin;
    const char *shared_cache;
};

/* Flags that take no value: --watch and the TLS switches (--tls, ...). */
static int is_switch(const char *a, size_t n)
{
    static const char *const names[] = {"watch", "tls", "insecure", "sentinel-tls",
                                        "sentinel-insecure", "sentinel-no-tls"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && !strncmp(a, names[i], n))
            return 1;
    return 0;
}

static void scan_args(int argc, char **argv, struct cmdline *cl)
{
    memset(cl, 0, sizeof(*cl));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        size_t n;

        if (strncmp(a, "--", 2) != 0)
            continue;
        a += 2;
        n = strcspn(a, "=");
        if (a[n] == '=')
            v = a + n + 1;
        else if (!is_switch(a, n) && i + 1 < argc)
            v = argv[++i];
        if (n == 6 && !strncmp(a, "master", 6) && v) {
            int seen = 0;

            for (int j = 0; j < cl->nmasters; j++)
                seen |= !strcmp(cl->masters[j], v);
            if (seen)
                continue;
            if (cl->nmasters < MAX_MASTERS)
                cl->masters[cl->nmasters++] = v;
            else
                cl->too_many = 1;
        } else if (n == 5 && !strncmp(a, "watch", 5)) {
            cl->watch = v == NULL || !strcmp(v, "yes") || !strcmp(v, "on") ||
                        !strcmp(v, "true") || !strcmp(v, "1");
        } else if (n == 12 && !strncmp(a, "shared-cache", 12)) {
            cl->shared_cache = v;
        } else if (n == 5 && !strncmp(a, "admin", 5)) {
            cl->admin = 1;
        }
    }
}

/* Several masters: only in watch mode, each in a cache file of its own
 * (auto or a directory: the file name comes from the master), so that no
 * worker ever reads one master's address for another. NULL or why not. */
static const char *several_masters_refused(const struct cmdline *cl)
{
    struct stat st;

    if (cl->too_many)
        return "at most 16 --master";
    if (cl->admin)
        return "several --master: --admin would be one port for several publishers";
    if (cl->shared_cache == NULL)
        return "several --master need --shared-cache auto or a directory on the command line";
    if (strcmp(cl->shared_cache, "auto") != 0 &&
        (stat(cl->shared_cache, &st) == -1 || !S_ISDIR(st.st_mode)))
        return "several --master need --shared-cache auto or an existing directory "
               "(one file for several masters would mix their addresses)";
    return NULL;
}

/* Step every publisher from one poll loop until all have stopped. */
static int run_all(sentinel_proxy_t **ps, int n)
{
    struct pollfd pfd[MAX_MASTERS];
    int live = n, failed = 0, done[MAX_MASTERS] = {0};

    while (live > 0) {
        int timeout = 1000;

        for (int i = 0; i < n; i++) {
            int t = done[i] ? 1000 : sentinel_proxy_timeout(ps[i]);

            pfd[i].fd = done[i] ? -1 : sentinel_proxy_fd(ps[i]);
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            if (t >= 0 && t < timeout)
                timeout = t;
        }
        poll(pfd, (nfds_t)n, timeout); /* EINTR: a signal; step below */
        for (int i = 0; i < n; i++) {
            int rc;

            if (done[i])
                continue;
            rc = sentinel_proxy_step(ps[i], 0);
            if (rc != 0) {
                done[i] = 1;
                live--;
                if (rc == -1)
                    failed = 1;
                for (int j = 0; j < n; j++) /* one ends: all end */
                    sentinel_proxy_stop(ps[j]);
            }
        }
    }
    return failed ? -1 : 0;
}

/* Process-wide, so the program's business, not the library's: room for
 * max-clients (two descriptors each). The library lowers max-clients to
 * what the limit allows, with a warning. */
static void raise_nofile(int want)
{
    struct rlimit rl;
    rlim_t need = want > 0 ? (rlim_t)want : 0;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void handle(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv)
{
    sentinel_proxy_config_t *c;
    sentinel_proxy_t *ps[MAX_MASTERS] = {NULL};
    struct cmdline cl;
    const char *why;
    char err[1024];
    int rc, n;

    if ((c = sentinel_proxy_config_new()) == NULL) {
        fprintf(stderr, "sentinel-proxy: out of memory\n");
        return EXIT_RUNTIME;
    }
    /* The environment is the program's: the library never reads it. */
    if (sentinel_proxy_config_set_env(c, "SENTINEL_PASSWORD", getenv("SENTINEL_PASSWORD"), err,
                                      sizeof(err)) == -1 ||
        sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", getenv("REDIS_PASSWORD"), err,
                                      sizeof(err)) == -1)
        rc = -1;
    else
        rc = sentinel_proxy_config_parse_args(c, argc, argv, err, sizeof(err));
    if (rc == SENTINEL_PROXY_ARGS_HELP) {
        fputs(sentinel_proxy_usage(), stdout);
        sentinel_proxy_config_free(c);
        return 0;
    }
    if (rc == SENTINEL_PROXY_ARGS_VERSION) {
        printf("sentinel-proxy %s (libsentinel %s)\n", SENTINEL_VERSION_STRING,
               sentinel_version());
        sentinel_proxy_config_free(c);
        return 0;
    }
    if (rc == -1 || sentinel_proxy_config_check(c, err, sizeof(err)) == -1) {
        fprintf(stderr, "sentinel-proxy: %s\ntry 'sentinel-proxy --help'\n", err);
        sentinel_proxy_config_free(c);
        return EXIT_CONFIG;
    }
    scan_args(argc, argv, &cl);
    /* Without --watch a later --master overrides an earlier one, as every
     * flag does (a listener serves one master). */
    n = cl.watch && (cl.nmasters > 1 || cl.too_many) ? cl.nmasters : 1;
    if (n > 1 && (why = several_masters_refused(&cl)) != NULL) {
        fprintf(stderr, "sentinel-proxy: %s\ntry 'sentinel-proxy --help'\n", why);
        sentinel_proxy_config_free(c);
        return EXIT_CONFIG;
    }

    signal(SIGPIPE, SIG_IGN);
    raise_nofile(sentinel_proxy_config_fds_wanted(c));
    /* Before the (bounded, blocking) first resolution, so that a stop
     * request during start-up is not lost. */
    handle(SIGTERM, on_stop);
    handle(SIGINT, on_stop);
    handle(SIGUSR1, on_stats);
    for (int i = 0; i < n && !stop_early; i++) {
        if (n > 1 && sentinel_proxy_config_set(c, "master", cl.masters[i], err, sizeof(err)) == -1)
            ps[i] = NULL;
        else
            ps[i] = sentinel_proxy_new(c, err, sizeof(err));
        if (ps[i] == NULL) {
            fprintf(stderr, "sentinel-proxy: %s%s%s\n", n > 1 ? cl.masters[i] : "",
                    n > 1 ? ": " : "", err);
            sentinel_proxy_config_free(c);
            while (i-- > 0)
                sentinel_proxy_free(ps[i]);
            return EXIT_RUNTIME;
        }
        proxies[i] = ps[i];
        nproxies = i + 1;
    }
    sentinel_proxy_config_free(c);
    /* An idle proxy should be small (benchmarks/proxy/RESULTS-proxy.md):
     * what the start-up (the first resolution) allocated goes back. */
    malloc_trim(0);
    if (stop_early)
        for (int i = 0; i < nproxies; i++)
            sentinel_proxy_stop(ps[i]);

    rc = n == 1 ? sentinel_proxy_run(ps[0]) : run_all(ps, nproxies);
    n = nproxies;
    nproxies = 0;
    for (int i = 0; i < n; i++)
        sentinel_proxy_free(ps[i]);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}
