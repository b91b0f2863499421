/*
 * bench_tls_resolve: a cold resolution over TLS, beside the least a client
 * can do to get the same answer, measured in one interleaved run.
 *
 *   library   sentinel_resolve(SENTINEL_RESOLVE_NO_CACHE) on one handle (its
 *             SSL_CTX made once): TLS connect + handshake to a sentinel,
 *             SENTINEL get-master-addr-by-name, TLS connect + handshake to the
 *             master, ROLE (discovery off, so the same commands as the peer)
 *   peer      the same with raw OpenSSL (an `openssl s_client`-style client:
 *             blocking socket, SSL_connect, one command, the reply read,
 *             close), one SSL_CTX made once
 *   library, new handle / peer, new SSL_CTX: the same with the handle or
 *             the SSL_CTX (CA, client certificate and key loaded) made for
 *             every resolution, as a process that resolves once does
 *
 * Both verify the server certificate against the CA and the address
 * (127.0.0.1, an IP SAN) and present the client certificate (mutual TLS),
 * with TLS 1.2 as the minimum. The modes run in turn inside every round;
 * each round's mean per resolution is kept and the median over the rounds
 * reported, as a ratio against the peer with the same SSL_CTX policy, with
 * the load average before and after (this machine is small and shared).
 *
 * Usage: bench_tls_resolve SENTINEL_PORT MASTER_NAME MASTER_PORT CA CERT KEY
 *                          [--rounds N] [--calls N] [--markdown]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sentinel/sentinel.h"

typedef struct bench {
    int sentinel_port, master_port;
    const char *name, *ca, *cert, *key;
} bench;

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

static void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");

    buf[0] = '\0';
    if (f != NULL) {
        if (fgets(buf, (int)n, f) == NULL)
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, " ")] = '\0'; /* the 1-minute figure */
}

/* ---- the peer: raw OpenSSL ------------------------------------------------ */

static SSL_CTX *peer_ctx(const bench *b)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_load_verify_locations(ctx, b->ca, NULL) ||
        !SSL_CTX_use_certificate_chain_file(ctx, b->cert) ||
        !SSL_CTX_use_PrivateKey_file(ctx, b->key, SSL_FILETYPE_PEM)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* Bytes of one complete RESP value at p (n bytes), 0 if incomplete, -1 if bad. */
static long resp_complete(const char *p, long n)
{
    const char *eol = memchr(p, '\r', (size_t)n);
    long head, len, used, i;

    if (n < 1 || eol == NULL || eol + 1 >= p + n)
        return 0;
    head = (long)(eol - p) + 2;
    len = strtol(p + 1, NULL, 10);
    switch (p[0]) {
    case '+': case '-': case ':':
        return head;
    case '$':
        return len < 0 ? head : (head + len + 2 <= n ? head + len + 2 : 0);
    case '*':
        used = head;
        for (i = 0; i < len; i++) {
            long one = resp_complete(p + used, n - used);

            if (one <= 0)
                return one;
            used += one;
        }
        return used;
    default:
        return -1;
    }
}

/* Connect + handshake to 127.0.0.1:port, send cmd (RESP), read one reply
 * into buf. Returns the reply's length, or -1. */
static long peer_command(SSL_CTX *ctx, int port, const char *cmd, char *buf, long size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    long got = 0, done = -1;
    SSL *ssl = NULL;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
        !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") ||
        SSL_connect(ssl) != 1 || SSL_write(ssl, cmd, (int)strlen(cmd)) <= 0)
        goto out;
    while (got < size) {
        int r = SSL_read(ssl, buf + got, (int)(size - got));

        if (r <= 0)
            goto out;
        got += r;
        done = resp_complete(buf, got);
        if (done != 0)
            break;
    }
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    return done > 0 ? done : -1;
}

/* One resolution the peer's way; 0 if it named the master and ROLE said master. */
static int peer_resolve(SSL_CTX *ctx, const bench *b)
{
    char cmd[256], buf[4096];
    long n;
    int port;

    snprintf(cmd, sizeof(cmd), "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$%zu\r\n%s\r\n",
             strlen(b->name), b->name);
    n = peer_command(ctx, b->sentinel_port, cmd, buf, (long)sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* *2\r\n$9\r\n127.0.0.1\r\n$5\r\nPORT\r\n */
    if (sscanf(buf, "*2\r\n$%*d\r\n%*[^\r]\r\n$%*d\r\n%d", &port) != 1 || port != b->master_port)
        return -1;
    n = peer_command(ctx, port, "*1\r\n$4\r\nROLE\r\n", buf, (long)sizeof(buf) - 1);
    return n > 0 && strncmp(buf, "*3\r\n$6\r\nmaster\r\n", 16) == 0 ? 0 : -1;
}

/* ---- the library ------------------------------------------------------------ */

static sentinel_t *lib_handle(const bench *b)
{
    static const int roles[] = {SENTINEL_TLS_SENTINELS, SENTINEL_TLS_DATA};
    sentinel_t *s = sentinel_new(b->name, NULL);
    size_t i;

    if (s == NULL || sentinel_add_sentinel(s, "127.0.0.1", b->sentinel_port) != SENTINEL_OK ||
        sentinel_set_discovery(s, 0) != SENTINEL_OK || sentinel_set_verify(s, 1) != SENTINEL_OK)
        goto fail;
    for (i = 0; i < 2; i++)
        if (sentinel_set_tls_ca(s, roles[i], b->ca, NULL) != SENTINEL_OK ||
            sentinel_set_tls_cert(s, roles[i], b->cert, b->key) != SENTINEL_OK ||
            sentinel_set_tls(s, roles[i], 1) != SENTINEL_OK)
            goto fail;
    return s;
fail:
    sentinel_free(s);
    return NULL;
}

static int lib_resolve(sentinel_t *s, const bench *b)
{
    sentinel_addr a;

    if (sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a) != SENTINEL_OK)
        return -1;
    return a.port == b->master_port ? 0 : -1;
}

/* ---- the modes ---------------------------------------------------------------- */

enum { LIB, PEER, LIB_NEW, PEER_NEW, MODES };
static const char *const mode_names[MODES] = {
    "library, one handle (`sentinel_resolve`, no cache)",
    "peer: raw OpenSSL, one SSL_CTX",
    "library, a new handle per resolution",
    "peer: raw OpenSSL, a new SSL_CTX per resolution",
};

/* ns per resolution over calls, or a negative value on a failure. */
static double run_mode(int mode, const bench *b, sentinel_t *s, SSL_CTX *ctx, int calls)
{
    double t0 = now_ns();
    int i, rc = 0;

    for (i = 0; i < calls && rc == 0; i++) {
        switch (mode) {
        case LIB:
            rc = lib_resolve(s, b);
            break;
        case PEER:
            rc = peer_resolve(ctx, b);
            break;
        case LIB_NEW: {
            sentinel_t *fresh = lib_handle(b);

            rc = fresh == NULL ? -1 : lib_resolve(fresh, b);
            sentinel_free(fresh);
            break;
        }
        case PEER_NEW: {
            SSL_CTX *fresh = peer_ctx(b);

            rc = fresh == NULL ? -1 : peer_resolve(fresh, b);
            SSL_CTX_free(fresh);
            break;
        }
        }
    }
    return rc == 0 ? (now_ns() - t0) / calls : -1;
}

int main(int argc, char **argv)
{
    bench b;
    int rounds = 15, calls = 40, markdown = 0, r, m, i;
    double *per[MODES], med[MODES];
    char load_before[32], load_after[32];
    sentinel_stats st = {.size = sizeof(st)};
    sentinel_t *s;
    SSL_CTX *ctx;

    if (argc < 7) {
        fprintf(stderr, "usage: %s SENTINEL_PORT MASTER_NAME MASTER_PORT CA CERT KEY "
                        "[--rounds N] [--calls N] [--markdown]\n", argv[0]);
        return 2;
    }
    b = (bench){atoi(argv[1]), atoi(argv[3]), argv[2], argv[4], argv[5], argv[6]};
    for (i = 7; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = 1;
    }
    if (rounds < 1 || rounds > 1000 || calls < 1 || calls > 100000) {
        fprintf(stderr, "--rounds 1..1000, --calls 1..100000\n");
        return 2;
    }
    s = lib_handle(&b);
    ctx = peer_ctx(&b);
    if (s == NULL || ctx == NULL) {
        fprintf(stderr, "cannot set up TLS (CA, certificate, key)\n");
        return 1;
    }
    /* Warm-up, and a check that both paths name the master. */
    if (lib_resolve(s, &b) != 0 || peer_resolve(ctx, &b) != 0) {
        fprintf(stderr, "warm-up failed: library %s / peer\n", sentinel_errstr(s));
        return 1;
    }
    for (m = 0; m < MODES; m++)
        per[m] = calloc((size_t)rounds, sizeof(double));
    loadavg(load_before, sizeof(load_before));
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < MODES; i++) {
            m = (r + i) % MODES; /* rotate the order: no mode always runs first */
            per[m][r] = run_mode(m, &b, s, ctx, calls);
            if (per[m][r] < 0) {
                fprintf(stderr, "%s failed in round %d%s%s\n", mode_names[m], r,
                        m == LIB ? ": " : "", m == LIB ? sentinel_errstr(s) : "");
                return 1;
            }
        }
    }
    loadavg(load_after, sizeof(load_after));
    for (m = 0; m < MODES; m++)
        med[m] = median(per[m], rounds);
    sentinel_get_stats(s, &st);
    if (markdown) {
        printf("| path | per cold resolution (median of %d rounds x %d) | vs the peer with the same SSL_CTX policy |\n",
               rounds, calls);
        printf("|---|---|---|\n");
        for (m = 0; m < MODES; m++)
            printf("| %s | %.0f us | %.2fx |\n", mode_names[m], med[m] / 1e3,
                   med[m] / med[m == LIB || m == PEER ? PEER : PEER_NEW]);
        printf("\nLoad average (1 min) before / after: %s / %s. Library commands per resolution "
               "(one handle): %.2f sentinel queries, %.2f ROLE checks.\n",
               load_before, load_after,
               (double)st.sentinel_queries / (double)st.resolutions,
               (double)st.role_checks / (double)st.resolutions);
    } else {
        for (m = 0; m < MODES; m++)
            printf("%-55s %8.0f us  %.2fx\n", mode_names[m], med[m] / 1e3,
                   med[m] / med[m == LIB || m == PEER ? PEER : PEER_NEW]);
        printf("loadavg %s -> %s; sentinel queries %.2f, ROLE %.2f per resolution\n", load_before,
               load_after, (double)st.sentinel_queries / (double)st.resolutions,
               (double)st.role_checks / (double)st.resolutions);
    }
    for (m = 0; m < MODES; m++)
        free(per[m]);
    SSL_CTX_free(ctx);
    sentinel_free(s);
    return 0;
}
