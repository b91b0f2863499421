/*
 * sentinel-resolve: print the verified master of a Redis Sentinel setup, for
 * shell scripts and container init. A thin main over libsentinel.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sentinel/sentinel.h"
#include "tls_args.h"

/* Exit codes: 0 success, 2 usage, and 10 + the library's error code, so
 * every error class has its own fixed code (documented in --help). */
#define EXIT_USAGE 2
#define EXIT_BASE 10

enum format { FMT_PLAIN, FMT_JSON, FMT_ENV };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
"Usage: sentinel-resolve --sentinel HOST:PORT [--sentinel HOST:PORT ...] --master NAME [options]\n"
"\n"
"Ask Redis Sentinel for the current master of NAME, verify it with ROLE, and\n"
"print it as \"HOST PORT\" on one line.\n"
"\n"
"Sentinels and master:\n"
"  -s, --sentinel HOST:PORT   a sentinel (repeatable, or a comma-separated list;\n"
"                             IPv6 as [ADDR]:PORT); more are discovered\n"
"  -m, --master NAME          the master name sentinels monitor\n"
"\n"
"Credentials (passwords are best passed through the environment):\n"
"      --sentinel-user USER   ACL user for the sentinels\n"
"      --sentinel-password P  or env SENTINEL_PASSWORD\n"
"      --data-user USER       ACL user for the Redis nodes (ROLE check)\n"
"      --data-password P      or env REDIS_PASSWORD\n"
"\n"
"Behaviour:\n"
"      --connect-timeout MS   per-node connect timeout (default 250)\n"
"      --command-timeout MS   per-command timeout (default 250)\n"
"  -t, --timeout MS           total deadline (default 5000)\n"
"      --tries N              ROLE verification rounds (default 20)\n"
"      --quorum K             require K sentinels to agree (default 1)\n"
"      --map FROM=TO          rewrite an announced address (repeatable;\n"
"                             HOST[:PORT]=HOST[:PORT])\n"
"      --no-verify            trust the sentinels without ROLE\n"
"      --no-discovery         do not learn sentinels with SENTINEL sentinels\n"
"\n"
"TLS (as redis-cli names it; for the sentinels and the Redis nodes alike):\n"
"      --tls                  connect with TLS, verifying the server certificate\n"
"                             and its name (or IP address)\n"
"      --cacert FILE          CA certificates (PEM) to verify servers with\n"
"      --cacertdir DIR        a directory of hashed CA certificates\n"
"                             (default for both: the system's CA store)\n"
"      --cert FILE            client certificate (PEM), for mutual TLS\n"
"      --key FILE             the client certificate's key (PEM, unencrypted)\n"
"      --sni NAME             server name to send and verify instead of the\n"
"                             address connected to\n"
"      --insecure             do not verify certificates (encryption only)\n"
"      --tls-min-version V    1.2 (default) or 1.3\n"
"  The same with a --sentinel- prefix apply to the sentinels only, where their\n"
"  settings differ: --sentinel-tls, --sentinel-no-tls, --sentinel-cacert,\n"
"  --sentinel-cacertdir, --sentinel-cert, --sentinel-key, --sentinel-sni,\n"
"  --sentinel-insecure, --sentinel-tls-min-version.\n"
"  -w, --watch                keep running: print the master again on every\n"
"                             switch, and failover events as they arrive\n"
"      --duration S           with --watch, stop after S seconds\n"
"\n"
"Output:\n"
"  -f, --format FMT           plain (\"HOST PORT\"), json, or env\n"
"                             (SENTINEL_MASTER_HOST=... SENTINEL_MASTER_PORT=...)\n"
"  -h, --help                 this text\n"
"  -V, --version              print the version\n"
"\n"
"Exit status:\n"
"   0  the master was found and verified\n"
"   2  bad command line\n"
"  11  invalid argument          17  timed out\n"
"  12  out of memory             18  protocol error (garbage reply)\n"
"  13  no sentinel reachable     19  host name does not resolve\n"
"  14  unknown master name       20  master unreachable\n"
"  15  authentication failed     21  sentinels do not agree (quorum)\n"
"  16  address is not a master   22  system error\n"
"                                23  TLS failed (handshake, certificate, name)\n");
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_addr(enum format fmt, const char *name, const sentinel_addr *a)
{
    switch (fmt) {
    case FMT_PLAIN:
        printf("%s %d\n", a->host, a->port);
        break;
    case FMT_ENV:
        printf("SENTINEL_MASTER_HOST=%s\nSENTINEL_MASTER_PORT=%d\n", a->host, a->port);
        break;
    case FMT_JSON:
        printf("{\"master\":");
        json_string(stdout, name);
        printf(",\"host\":");
        json_string(stdout, a->host);
        printf(",\"port\":%d,\"verified_at_ms\":%lld}\n", a->port, (long long)a->verified_at_ms);
        break;
    }
    fflush(stdout);
}

/* An error in the chosen format (JSON on stdout too); the exit status. */
static int fail_detail(enum format fmt, const char *detail, int code)
{
    if (fmt == FMT_JSON) {
        printf("{\"error\":{\"code\":%d,\"name\":", code);
        json_string(stdout, sentinel_code_name(code));
        printf(",\"message\":");
        json_string(stdout, *detail ? detail : sentinel_strerror(code));
        printf("}}\n");
    }
    fprintf(stderr, "sentinel-resolve: %s: %s\n", sentinel_strerror(code),
            *detail ? detail : "");
    return EXIT_BASE + code;
}

static int fail(enum format fmt, const sentinel_t *s, int code)
{
    return fail_detail(fmt, s ? sentinel_errstr(s) : "", code);
}

static int parse_int(const char *arg, const char *opt, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || *end || end == arg || v < lo || v > hi) {
        fprintf(stderr, "sentinel-resolve: %s wants a number from %d to %d, got '%s'\n", opt,
                lo, hi, arg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The TLS flags as given (tls_args.c, shared with sentinel-proxy). File
 * scope: still reachable when an early exit skips freeing it. */
static sn_tls_args tls_args;

struct watch_ctx {
    const char *master;
    int switched;
    char host[SENTINEL_HOST_MAX]; /* the new master the switch named */
    int port;
};

static void on_event(const sentinel_event *ev, void *ud)
{
    struct watch_ctx *ctx = ud;
    const char *what = "event";


    switch (ev->type) {
    case SENTINEL_EVENT_FAILOVER_STARTED: what = "failover-started"; break;
    case SENTINEL_EVENT_REPLICA_SELECTED: what = "replica-selected"; break;
    case SENTINEL_EVENT_SWITCHED:
        what = "switched";
        ctx->switched = 1;
        ctx->port = 0;
        if (ev->host != NULL && strlen(ev->host) < sizeof(ctx->host)) {
            strcpy(ctx->host, ev->host);
            ctx->port = ev->port;
        }
        break;
    case SENTINEL_EVENT_FAILOVER_ABORTED: what = "failover-aborted"; break;
    case SENTINEL_EVENT_SUBSCRIBE_DENIED: what = "subscribe-denied"; break;
    case SENTINEL_EVENT_SENTINEL_DOWN: what = "sentinel-down"; break;
    case SENTINEL_EVENT_SENTINEL_UP: what = "sentinel-up"; break;
    }
    fprintf(stderr, "sentinel-resolve: %s %s%s%.0d (%s from %s:%d)\n", what,
            ev->host ? ev->host : "", ev->host ? " " : "", ev->host ? ev->port : 0,
            ev->detail ? ev->detail : "", ev->source_host ? ev->source_host : "-",
            ev->source_port);
}

static int watch_loop(sentinel_t *s, const char *master, enum format fmt, int duration_s)
{
    struct watch_ctx ctx = {master, 0, "", 0};
    int code;
    sentinel_watch_t *w = sentinel_watch_new(s, on_event, &ctx, &code);
    time_t end = duration_s ? time(NULL) + duration_s : 0;
    sentinel_addr a;

    if (w == NULL)
        return fail(fmt, s, code);
    while (!stop && (end == 0 || time(NULL) < end)) {
        sentinel_watch_run_once(w, 200);
        if (!ctx.switched)
            continue;
        ctx.switched = 0;
        /* The master the switch names, once it answers ROLE master: a
         * sentinel asked now may still name the old master (the others
         * learn of the switch a second later) and the old master says
         * master until Sentinel demotes it. Else ask the sentinels. */
        if (ctx.port != 0 && sentinel_check_role(s, ctx.host, ctx.port) == SENTINEL_OK) {
            snprintf(a.host, sizeof(a.host), "%s", ctx.host);
            a.port = ctx.port;
            a.verified_at_ms = (int64_t)time(NULL) * 1000;
            print_addr(fmt, ctx.master, &a);
        } else if ((code = sentinel_resolve(s, SENTINEL_RESOLVE_NO_CACHE, &a)) == SENTINEL_OK)
            print_addr(fmt, ctx.master, &a);
        else
            fail(fmt, s, code);
    }
    sentinel_watch_free(w);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"sentinel", required_argument, NULL, 's'},
        {"master", required_argument, NULL, 'm'},
        {"sentinel-user", required_argument, NULL, 1},
        {"sentinel-password", required_argument, NULL, 2},
        {"data-user", required_argument, NULL, 3},
        {"data-password", required_argument, NULL, 4},
        {"connect-timeout", required_argument, NULL, 5},
        {"command-timeout", required_argument, NULL, 6},
        {"timeout", required_argument, NULL, 't'},
        {"tries", required_argument, NULL, 7},
        {"quorum", required_argument, NULL, 8},
        {"map", required_argument, NULL, 9},
        {"no-verify", no_argument, NULL, 10},
        {"no-discovery", no_argument, NULL, 11},
        {"watch", no_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 12},
        {"tls", no_argument, NULL, 20},
        {"cacert", required_argument, NULL, 21},
        {"cacertdir", required_argument, NULL, 22},
        {"cert", required_argument, NULL, 23},
        {"key", required_argument, NULL, 24},
        {"sni", required_argument, NULL, 25},
        {"insecure", no_argument, NULL, 26},
        {"tls-min-version", required_argument, NULL, 27},
        {"sentinel-tls", no_argument, NULL, 30},
        {"sentinel-cacert", required_argument, NULL, 31},
        {"sentinel-cacertdir", required_argument, NULL, 32},
        {"sentinel-cert", required_argument, NULL, 33},
        {"sentinel-key", required_argument, NULL, 34},
        {"sentinel-sni", required_argument, NULL, 35},
        {"sentinel-insecure", no_argument, NULL, 36},
        {"sentinel-tls-min-version", required_argument, NULL, 37},
        {"sentinel-no-tls", no_argument, NULL, 38},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *sentinels[64], *maps[64], *master = NULL;
    const char *suser = NULL, *spass = getenv("SENTINEL_PASSWORD");
    const char *duser = NULL, *dpass = getenv("REDIS_PASSWORD");
    int nsent = 0, nmaps = 0, connect_ms = 0, command_ms = 0, total_ms = 0, tries = 0;
    int quorum = 0, verify = 1, discovery = 1, watch = 0, duration = 0, opt, code;
    enum format fmt = FMT_PLAIN;
    int longindex = 0, tls_rc;
    char msg[256];
    sentinel_t *s = NULL;
    sentinel_addr a;

    sn_tls_args_init(&tls_args);
    while ((opt = getopt_long(argc, argv, "s:m:t:wf:hV", longopts, &longindex)) != -1) {
        switch (opt) {
        case 's':
            if (nsent == 64)
                goto usage_error;
            sentinels[nsent++] = optarg;
            break;
        case 'm': master = optarg; break;
        case 1: suser = optarg; break;
        case 2: spass = optarg; break;
        case 3: duser = optarg; break;
        case 4: dpass = optarg; break;
        case 5:
            if (parse_int(optarg, "--connect-timeout", 1, 86400000, &connect_ms))
                return EXIT_USAGE;
            break;
        case 6:
            if (parse_int(optarg, "--command-timeout", 1, 86400000, &command_ms))
                return EXIT_USAGE;
            break;
        case 't':
            if (parse_int(optarg, "--timeout", 1, 86400000, &total_ms))
                return EXIT_USAGE;
            break;
        case 7:
            if (parse_int(optarg, "--tries", 1, 1000, &tries))
                return EXIT_USAGE;
            break;
        case 8:
            if (parse_int(optarg, "--quorum", 1, 64, &quorum))
                return EXIT_USAGE;
            break;
        case 9:
            if (nmaps == 64)
                goto usage_error;
            maps[nmaps++] = optarg;
            break;
        case 10: verify = 0; break;
        case 11: discovery = 0; break;
        case 'w': watch = 1; break;
        case 12:
            if (parse_int(optarg, "--duration", 1, 86400 * 365, &duration))
                return EXIT_USAGE;
            break;
        case 20: case 21: case 22: case 23: case 24: case 25: case 26: case 27:
        case 30: case 31: case 32: case 33: case 34: case 35: case 36: case 37: case 38:
            if (sn_tls_args_set(&tls_args, longopts[longindex].name, optarg ? optarg : "yes",
                                msg, sizeof(msg)) != 0) {
                fprintf(stderr, "sentinel-resolve: --%s\n", msg);
                return EXIT_USAGE;
            }
            break;
        case 'f':
            if (strcmp(optarg, "plain") == 0)
                fmt = FMT_PLAIN;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else if (strcmp(optarg, "env") == 0)
                fmt = FMT_ENV;
            else {
                fprintf(stderr, "sentinel-resolve: --format is plain, json or env\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("sentinel-resolve %s\n", sentinel_version()); return 0;
        default: goto usage_error;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sentinel-resolve: unexpected argument '%s'\n", argv[optind]);
        goto usage_error;
    }
    if (nsent == 0 || master == NULL) {
        fprintf(stderr, "sentinel-resolve: --sentinel and --master are required\n");
        goto usage_error;
    }
    if ((code = sentinel_validate_master_name(master, msg, sizeof(msg))) != SENTINEL_OK)
        return fail_detail(fmt, msg, code);
    if ((s = sentinel_new(master, &code)) == NULL)
        return fail_detail(fmt, "", code);
    for (int i = 0; i < nsent; i++)
        if (sentinel_add_sentinels(s, sentinels[i]) != SENTINEL_OK)
            goto lib_error;
    for (int i = 0; i < nmaps; i++)
        if (sentinel_add_address_maps(s, maps[i]) != SENTINEL_OK)
            goto lib_error;
    if ((spass && sentinel_set_sentinel_auth(s, suser, spass) != SENTINEL_OK) ||
        (dpass && sentinel_set_data_auth(s, duser, dpass) != SENTINEL_OK) ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_CONNECT, connect_ms) != SENTINEL_OK ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_COMMAND, command_ms) != SENTINEL_OK ||
        sentinel_set_timeout(s, SENTINEL_TIMEOUT_TOTAL, total_ms) != SENTINEL_OK ||
        sentinel_set_retry(s, tries, 0, 0) != SENTINEL_OK ||
        sentinel_set_quorum(s, quorum) != SENTINEL_OK ||
        sentinel_set_verify(s, verify) != SENTINEL_OK ||
        sentinel_set_discovery(s, discovery) != SENTINEL_OK)
        goto lib_error;
    tls_rc = sn_tls_args_apply(s, &tls_args);
    sn_tls_args_free(&tls_args); /* the handle copied what it needs */
    if (tls_rc == -1)
        goto lib_error;

    if ((code = sentinel_resolve(s, 0, &a)) != SENTINEL_OK) {
        code = fail(fmt, s, code);
        sentinel_free(s);
        return code;
    }
    print_addr(fmt, master, &a);
    if (watch) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        code = watch_loop(s, master, fmt, duration);
        sentinel_free(s);
        return code;
    }
    sentinel_free(s);
    return 0;

lib_error:
    code = fail(fmt, s, sentinel_errcode(s));
    sentinel_free(s);
    return code;
usage_error:
    usage(stderr);
    return EXIT_USAGE;
}
