/*
 * fo-writer: the write loop of the failover benchmark (see writer.h).
 *
 *   fo-writer --mode fixed --host H --port P [--port-unknown] ...
 *   fo-writer --mode sentinel --sentinels H:P,... --master NAME ...
 *
 * Common options: --log FILE --prefix KEYPREFIX --path NAME
 *   --interval-us N (default 1000)   one tick per interval, no catching up
 *   --max-count N   --max-seconds N  hard bounds on the loop
 *   --stop-file F                    the loop ends when F exists
 *   --connect-timeout-ms N (250)  --command-timeout-ms N (500)
 *
 * Every bound is checked on every tick; SIGTERM/SIGINT end the loop too, and
 * the writer dies with its parent (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include "writer.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define FO_STOP_CHECK_US 20000
#define FO_FLUSH_US 100000

/* ========================================================================
 * Time and the ack log
 * ======================================================================== */

int64_t fo_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void fo_sleep_us(int64_t us)
{
    struct timespec ts;

    if (us <= 0)
        return;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int fo_log_open(fo_log *log, const char *path)
{
    memset(log, 0, sizeof(*log));
    log->f = fopen(path, "w");
    if (log->f == NULL)
        return -1;
    setvbuf(log->f, NULL, _IOFBF, 1 << 16);
    log->last_flush_us = fo_now_us();
    return 0;
}

void fo_log_close(fo_log *log)
{
    if (log->f)
        fclose(log->f);
    log->f = NULL;
}

void fo_log_tick(fo_log *log)
{
    int64_t now = fo_now_us();

    if (now - log->last_flush_us >= FO_FLUSH_US) {
        fflush(log->f);
        log->last_flush_us = now;
    }
}

void fo_log_ack(fo_log *log, int port, int64_t seq)
{
    log->acks++;
    fprintf(log->f, "A %lld %d %lld\n", (long long)fo_now_us(), port, (long long)seq);
}

/* One line per message: newlines would break the log format. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

void fo_log_error(fo_log *log, int port, int64_t seq, const char *msg)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s", msg);
    one_line(buf);
    log->errors++;
    fprintf(log->f, "E %lld %d %lld %s\n", (long long)fo_now_us(), port, (long long)seq, buf);
}

void fo_log_note(fo_log *log, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    one_line(buf);
    fprintf(log->f, "N %lld %s\n", (long long)fo_now_us(), buf);
}

void fo_outcome_error(fo_outcome *out, int sent, int port, const char *fmt, ...)
{
    va_list ap;

    out->result = FO_FAILED;
    out->sent = sent;
    out->port = port;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
}

/* ========================================================================
 * Options
 * ======================================================================== */

typedef struct loop_options {
    fo_options client;
    const char *log_path, *prefix, *path_name, *stop_file;
    int64_t interval_us, max_count, max_seconds;
} loop_options;

static const char usage_text[] =
    "usage: fo-writer --mode fixed --host H --port P [--port-unknown] [options]\n"
    "       fo-writer --mode sentinel --sentinels H:P,... --master NAME [options]\n"
    "options: --log FILE --prefix KEYPREFIX --path NAME --interval-us N (1000)\n"
    "         --max-count N (1000000) --max-seconds N (120) --stop-file F\n"
    "         --connect-timeout-ms N (250) --command-timeout-ms N (500)\n";

enum { O_MODE = 1, O_HOST, O_PORT, O_PORT_UNKNOWN, O_SENTINELS, O_MASTER, O_LOG, O_PREFIX,
       O_PATH, O_INTERVAL, O_MAX_COUNT, O_MAX_SECONDS, O_STOP_FILE, O_CONNECT_TIMEOUT,
       O_COMMAND_TIMEOUT };

static const struct option long_options[] = {
    {"mode", required_argument, NULL, O_MODE},
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"port-unknown", no_argument, NULL, O_PORT_UNKNOWN},
    {"sentinels", required_argument, NULL, O_SENTINELS},
    {"master", required_argument, NULL, O_MASTER},
    {"log", required_argument, NULL, O_LOG},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"path", required_argument, NULL, O_PATH},
    {"interval-us", required_argument, NULL, O_INTERVAL},
    {"max-count", required_argument, NULL, O_MAX_COUNT},
    {"max-seconds", required_argument, NULL, O_MAX_SECONDS},
    {"stop-file", required_argument, NULL, O_STOP_FILE},
    {"connect-timeout-ms", required_argument, NULL, O_CONNECT_TIMEOUT},
    {"command-timeout-ms", required_argument, NULL, O_COMMAND_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_num(const char *s, long long min, long long max, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, loop_options *o)
{
    int64_t v;
    int opt;

    memset(o, 0, sizeof(*o));
    o->client.host = "127.0.0.1";
    o->client.port_known = 1;
    o->client.connect_timeout_ms = 250;
    o->client.command_timeout_ms = 500;
    o->prefix = "fo";
    o->path_name = "writer";
    o->interval_us = 1000;
    o->max_count = 1000000;
    o->max_seconds = 120;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
        case O_MODE: o->client.mode = optarg; break;
        case O_HOST: o->client.host = optarg; break;
        case O_PORT:
            if (parse_num(optarg, 1, 65535, &v) != 0)
                return -1;
            o->client.port = (int)v;
            break;
        case O_PORT_UNKNOWN: o->client.port_known = 0; break;
        case O_SENTINELS: o->client.sentinels = optarg; break;
        case O_MASTER: o->client.master = optarg; break;
        case O_LOG: o->log_path = optarg; break;
        case O_PREFIX: o->prefix = optarg; break;
        case O_PATH: o->path_name = optarg; break;
        case O_STOP_FILE: o->stop_file = optarg; break;
        case O_INTERVAL:
            if (parse_num(optarg, 1, 10000000, &o->interval_us) != 0)
                return -1;
            break;
        case O_MAX_COUNT:
            if (parse_num(optarg, 1, 100000000, &o->max_count) != 0)
                return -1;
            break;
        case O_MAX_SECONDS:
            if (parse_num(optarg, 1, 3600, &o->max_seconds) != 0)
                return -1;
            break;
        case O_CONNECT_TIMEOUT:
            if (parse_num(optarg, 1, 60000, &v) != 0)
                return -1;
            o->client.connect_timeout_ms = (int)v;
            break;
        case O_COMMAND_TIMEOUT:
            if (parse_num(optarg, 1, 60000, &v) != 0)
                return -1;
            o->client.command_timeout_ms = (int)v;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc || o->client.mode == NULL || o->log_path == NULL)
        return -1;
    return 0;
}

/* ========================================================================
 * The loop
 * ======================================================================== */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

static int stop_requested(const loop_options *o, int64_t now, int64_t *next_check)
{
    if (stop_signal)
        return 1;
    if (o->stop_file == NULL || now < *next_check)
        return 0;
    *next_check = now + FO_STOP_CHECK_US;
    return access(o->stop_file, F_OK) == 0;
}

static void run_loop(const loop_options *o, const fo_client_ops *ops, fo_client *c, fo_log *log)
{
    int64_t start = fo_now_us(), deadline = start + o->max_seconds * 1000000;
    int64_t next = start, next_check = 0, seq = 0, attempts = 0;
    char key[256];

    fprintf(log->f, "S %lld\n", (long long)start);
    for (;;) {
        int64_t now = fo_now_us();
        fo_outcome out;

        if (now >= deadline || seq >= o->max_count || stop_requested(o, now, &next_check))
            break;
        if (next > now) {
            ops->wait(c, next - now);
            continue;
        }
        /* One tick per interval; a tick that ran late is not made up for. */
        next += o->interval_us;
        if (next < now)
            next = now + o->interval_us;
        snprintf(key, sizeof(key), "%s:%lld", o->prefix, (long long)seq);
        memset(&out, 0, sizeof(out));
        ops->write(c, key, &out);
        if (out.sent) {
            seq++;
            attempts++;
        }
        if (out.result == FO_ACKED)
            fo_log_ack(log, out.port, seq - 1);
        else if (out.result == FO_FAILED)
            fo_log_error(log, out.port, out.sent ? seq - 1 : -1, out.error);
        fo_log_tick(log);
    }
    fprintf(log->f, "X %lld %lld %llu %llu\n", (long long)fo_now_us(), (long long)attempts,
            (unsigned long long)log->acks, (unsigned long long)log->errors);
}

int main(int argc, char **argv)
{
    const fo_client_ops *ops;
    struct sigaction sa;
    loop_options o;
    fo_client *c;
    char err[256];
    fo_log log;
    pid_t parent = getppid();

    if (parse_options(argc, argv, &o) != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (strcmp(o.client.mode, "fixed") == 0)
        ops = &fo_fixed_client;
    else if (strcmp(o.client.mode, "sentinel") == 0)
        ops = &fo_sentinel_client;
    else {
        fputs(usage_text, stderr);
        return 2;
    }
    /* Die with the driver, whatever happens to it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (fo_log_open(&log, o.log_path) != 0) {
        fprintf(stderr, "fo-writer: %s: %s\n", o.log_path, strerror(errno));
        return 1;
    }
    fprintf(log.f, "# path=%s\n# mode=%s\n# prefix=%s\n# interval_us=%lld\n", o.path_name,
            o.client.mode, o.prefix, (long long)o.interval_us);
    c = ops->create(&o.client, &log, err, sizeof(err));
    if (c == NULL) {
        fo_log_error(&log, 0, -1, err);
        fprintf(stderr, "fo-writer: %s\n", err);
        fo_log_close(&log);
        return 1;
    }
    run_loop(&o, ops, c, &log);
    if (ops->summary)
        ops->summary(c, &log);
    ops->destroy(c);
    fo_log_close(&log);
    return 0;
}
