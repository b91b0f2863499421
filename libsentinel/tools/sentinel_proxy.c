/*
 * sentinel-proxy: forward Redis clients to the master Redis Sentinel has
 * elected. A thin main over libsentinel's proxy module (sentinel/proxy.h).
 *
 * Several masters in one process (--route LISTEN=NAME, or --watch with
 * --master repeated) are the library's: one proxy handle serves them all,
 * sharing one subscription per sentinel.
 *
 * Built without OpenSSL (SENTINEL_PROXY_TLS_EXEC names the sibling), a
 * configuration that asks for TLS re-execs sentinel-proxy-tls from the same
 * directory with the same arguments and environment: the plaintext proxy
 * then maps no libssl/libcrypto pages (its idle RSS budget is 2 MiB).
 *
 * Exit status: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad
 * configuration or command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sentinel/proxy.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG 2

static sentinel_proxy_t *volatile proxy;
static volatile sig_atomic_t stop_early; /* SIGTERM while still starting */

static void on_stop(int sig)
{
    (void)sig;
    stop_early = 1;
    sentinel_proxy_stop(proxy);
}

static void on_stats(int sig)
{
    (void)sig;
    sentinel_proxy_request_stats(proxy);
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

#ifdef SENTINEL_PROXY_TLS_EXEC
/* Replace this process with the TLS build, found next to this executable
 * (/proc/self/exe), else on PATH. Returns only on failure. */
static void exec_tls(char **argv)
{
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    char *slash;

    if (n > 0 && (size_t)n < sizeof(path) - sizeof(SENTINEL_PROXY_TLS_EXEC) - 1) {
        path[n] = '\0';
        if ((slash = strrchr(path, '/')) != NULL) {
            strcpy(slash + 1, SENTINEL_PROXY_TLS_EXEC);
            execv(path, argv);
            fprintf(stderr, "sentinel-proxy: TLS asked for, but cannot run %s: %s\n", path,
                    strerror(errno));
            return;
        }
    }
    execvp(SENTINEL_PROXY_TLS_EXEC, argv);
    fprintf(stderr, "sentinel-proxy: TLS asked for, but cannot run %s: %s\n",
            SENTINEL_PROXY_TLS_EXEC, strerror(errno));
}
#endif

/* Much of a fresh proxy's VmRSS is clean pages of its own executable that
 * the start-up ran through once (configuration, the first resolution; with
 * TLS, OpenSSL's initialisation and handshakes: ~3.5 MiB of text), mapped
 * in 64 KiB batches by the kernel's fault-around. They stay in the page
 * cache: MADV_DONTNEED only unmaps them from this process, and what runs
 * later is mapped again on first use (a new TLS handshake maps most of
 * OpenSSL's back: benchmarks/tls/RESULTS-proxy.md). Only mappings of files
 * that are not writable and hold no private (copied-on-write) page, such as
 * relocated RELRO: the rest are the file's bytes, so dropping them changes
 * nothing but the count. */
static void drop_startup_pages(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4352], perms[8], path[4096];
    unsigned long start = 0, end = 0;
    int candidate = 0;

    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long a, b, kb;

        path[0] = '\0';
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &a, &b, perms, path) >= 3 &&
            strchr(line, '-') == line + strspn(line, "0123456789abcdef")) {
            start = a, end = b;
            candidate = path[0] == '/' && strchr(perms, 'w') == NULL;
        } else if (candidate && sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
            if (kb == 0)
                madvise((void *)start, end - start, MADV_DONTNEED);
            candidate = 0;
        }
    }
    fclose(f);
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
    sentinel_proxy_t *p;
    int rc, asked = 0;

    if ((c = sentinel_proxy_config_new()) == NULL) {
        fprintf(stderr, "sentinel-proxy: out of memory\n");
        return EXIT_RUNTIME;
    }
    /* The environment is the program's: the library never reads it. */
    if (sentinel_proxy_config_set_env(c, "SENTINEL_PASSWORD", getenv("SENTINEL_PASSWORD")) !=
            SENTINEL_OK ||
        sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", getenv("REDIS_PASSWORD")) !=
            SENTINEL_OK)
        rc = -1;
    else
        rc = sentinel_proxy_config_parse_args(c, argc, argv, &asked) == SENTINEL_OK ? asked : -1;
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
    if (rc == -1 || sentinel_proxy_config_check(c) != SENTINEL_OK) {
        fprintf(stderr, "sentinel-proxy: %s\ntry 'sentinel-proxy --help'\n",
                sentinel_proxy_config_errstr(c));
        sentinel_proxy_config_free(c);
        return EXIT_CONFIG;
    }

#ifdef SENTINEL_PROXY_TLS_EXEC
    if (sentinel_proxy_config_tls(c) == 1) {
        sentinel_proxy_config_free(c);
        exec_tls(argv);
        return EXIT_RUNTIME;
    }
#endif
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(sentinel_proxy_config_fds_wanted(c));
    /* Before the (bounded, blocking) first resolution, so that a stop
     * request during start-up is not lost. */
    handle(SIGTERM, on_stop);
    handle(SIGINT, on_stop);
    handle(SIGUSR1, on_stats);
    p = sentinel_proxy_new(c, NULL);
    if (p == NULL) {
        fprintf(stderr, "sentinel-proxy: %s\n", sentinel_proxy_config_errstr(c));
        sentinel_proxy_config_free(c);
        return EXIT_RUNTIME;
    }
    sentinel_proxy_config_free(c);
    proxy = p;
    /* An idle proxy should be small (benchmarks/proxy/RESULTS-proxy.md):
     * what the start-up (the first resolution) allocated goes back, and
     * the code it ran is unmapped. */
    malloc_trim(0);
    drop_startup_pages();
    if (stop_early)
        sentinel_proxy_stop(p);
    rc = sentinel_proxy_run(p);
    proxy = NULL;
    sentinel_proxy_free(p);
    return rc == SENTINEL_OK ? 0 : EXIT_RUNTIME;
}
