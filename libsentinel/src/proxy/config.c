/*
 * Proxy configuration: one table of keys shared by the config file
 * ("key value" per line), the command-line flags (--key value) and
 * embedders (sentinel_proxy_config_set). Validation is strict: a value that
 * is malformed, out of range or oversized is refused with a message naming
 * the key, never truncated or clamped.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_int.h"

#define PX_DEFAULT_LISTEN_HOST "127.0.0.1"
#define PX_DEFAULT_LISTEN_PORT 6380
#define PX_LINE_MAX 4096
#define PX_SECRET_MAX 512
#define PX_SENTINELS_MAX 8192 /* characters of the joined list */

#define fail px_fail /* config_route.c */

sentinel_proxy_config_t *sentinel_proxy_config_new(void)
{
    sentinel_proxy_config_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    snprintf(c->listen_host, sizeof(c->listen_host), "%s", PX_DEFAULT_LISTEN_HOST);
    c->listen_port = PX_DEFAULT_LISTEN_PORT;
    c->unix_mode = 0770;
    c->connect_ms = 250;
    c->command_ms = 250;
    c->resolve_ms = 5000;
    c->poll_ms = 1000;
    c->probe_ms = 20;
    c->pause_ms = 5000;
    c->idle_ms = 0;
    c->max_clients = 4096;
    c->buffer_size = 16384;
    c->admin_port = -1;
    c->log.level = SENTINEL_PROXY_LOG_INFO;
    c->shared_ttl_ms = 60000;
    c->shared_mode = 0600;
    c->multiplex = 1;
    c->route_threads = 1;
    sn_tls_args_init(&c->tls.args);
    return c;
}

static void free_secret(char **s)
{
    if (*s) {
        /* Passwords do not linger in freed memory. */
        volatile char *v = *s;
        while (*v)
            *v++ = '\0';
        free(*s);
    }
    *s = NULL;
}

void sentinel_proxy_config_free(sentinel_proxy_config_t *c)
{
    if (c == NULL)
        return;
    free(c->sentinels);
    free_secret(&c->sentinel_user);
    free_secret(&c->sentinel_password);
    free_secret(&c->data_user);
    free_secret(&c->data_password);
    free_secret(&c->env_sentinel_password);
    free_secret(&c->env_data_password);
    px_config_tls_free(&c->tls);
    free(c);
}

int sentinel_proxy_config_set_log(sentinel_proxy_config_t *c, sentinel_proxy_log_cb cb,
                                  void *userdata)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    c->log.cb = cb;
    c->log.ud = userdata;
    return SENTINEL_OK;
}

/* ------------------------------------------------------------------------
 * Value parsers
 * ------------------------------------------------------------------------ */

static int parse_int(const char *key, const char *v, long min, long max, int *out, char *err,
                     size_t errlen)
{
    char *end;
    long n;

    if (*v == '\0' || isspace((unsigned char)*v))
        return fail(err, errlen, "%s: expected a number, got '%s'", key, v);
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return fail(err, errlen, "%s: expected a number, got '%.64s'", key, v);
    if (n < min || n > max)
        return fail(err, errlen, "%s: %ld is out of range (%ld..%ld)", key, n, min, max);
    *out = (int)n;
    return 0;
}

static int parse_bool(const char *key, const char *v, int *out, char *err, size_t errlen)
{
    int on = sn_args_yes_no(v); /* tls_args.c: the same words as the TLS switches */

    if (on == -1)
        return fail(err, errlen, "%s: expected yes or no, got '%.64s'", key, v);
    *out = on;
    return 0;
}

int px_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err,
                    size_t errlen)
{
    sn_hostport hp;
    sn_err e;

    if (sn_parse_hostport(s, strlen(s), &hp, &e) == -1)
        return fail(err, errlen, "%s", e.msg);
    if (strlen(hp.host) >= hostlen)
        return fail(err, errlen, "host too long in '%.64s'", s);
    snprintf(host, hostlen, "%s", hp.host);
    *port = hp.port;
    return 0;
}

/* Listening addresses may use port 0 (any free port); sn_parse_hostport
 * insists on 1..65535, so accept ":0" here first. */
int px_parse_bind(const char *key, const char *v, char *host, size_t hostlen, int *port,
                  char *err, size_t errlen)
{
    size_t n = strlen(v);
    char tmp[SENTINEL_HOST_MAX + 16];

    if (n >= sizeof(tmp))
        return fail(err, errlen, "%s: address too long", key);
    if (n > 2 && strcmp(v + n - 2, ":0") == 0) {
        snprintf(tmp, sizeof(tmp), "%.*s:1", (int)(n - 2), v);
        if (px_parse_listen(tmp, host, hostlen, port, err, errlen) == -1)
            return -1;
        *port = 0;
        return 0;
    }
    if (px_parse_listen(v, host, hostlen, port, err, errlen) == -1) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", err ? err : "");
        return fail(err, errlen, "%s: %s", key, msg);
    }
    return 0;
}

static int check_item(const char *item, size_t n, void *ud)
{
    sn_hostport hp;
    sn_err *e = ud;

    return sn_parse_hostport(item, n, &hp, e);
}

static int set_secret(const char *key, const char *v, char **dst, char *err, size_t errlen)
{
    size_t n = strlen(v);
    char *copy;

    if (n > PX_SECRET_MAX)
        return fail(err, errlen, "%s: longer than %d characters", key, PX_SECRET_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
            return fail(err, errlen, "%s: control characters are not allowed", key);
    if ((copy = strdup(v)) == NULL)
        return fail(err, errlen, "%s: out of memory", key);
    free_secret(dst);
    *dst = n ? copy : (free(copy), NULL);
    return 0;
}

static int add_sentinels(sentinel_proxy_config_t *c, const char *v, char *err, size_t errlen)
{
    size_t have = c->sentinels ? strlen(c->sentinels) : 0, n = strlen(v);
    sn_err e;
    char *joined;
    int count;

    memset(&e, 0, sizeof(e));
    if ((count = sn_split_list(v, check_item, &e)) == -1)
        return fail(err, errlen, "sentinel: %s", e.msg);
    if (count == 0)
        return fail(err, errlen, "sentinel: expected HOST:PORT");
    if (have + n + 2 > PX_SENTINELS_MAX)
        return fail(err, errlen, "sentinel: too many sentinels");
    if ((joined = realloc(c->sentinels, have + n + 2)) == NULL)
        return fail(err, errlen, "sentinel: out of memory");
    if (have)
        joined[have++] = ',';
    memcpy(joined + have, v, n + 1);
    c->sentinels = joined;
    return 0;
}

/* shared-cache-group: a group name or number that exists; "" or none: no
 * group (files stay 0600). The group is the trust boundary between the Unix
 * users sharing the cache file (sentinel_shm_open_ex()). */
static int parse_group(const char *key, const char *v, sentinel_proxy_config_t *c, char *err,
                       size_t errlen)
{
    char buf[4096], *end;
    struct group grp, *found = NULL;
    unsigned long n;

    if (*v == '\0' || !strcasecmp(v, "none")) {
        c->shared_use_group = 0;
        c->shared_gid = 0;
        return 0;
    }
    errno = 0;
    n = strtoul(v, &end, 10);
    if (v[0] >= '0' && v[0] <= '9' && *end == '\0' && errno == 0 && n <= 0x7fffffffUL) {
        c->shared_gid = (unsigned int)n; /* a number need not be in /etc/group */
    } else {
        /* /etc/group itself, not getgrnam_r(): sentinel-proxy is a static
         * executable, where NSS lookups would need glibc's shared modules
         * (they crash); give the number for groups from other sources. */
        FILE *f = fopen("/etc/group", "re");

        while (f != NULL && fgetgrent_r(f, &grp, buf, sizeof(buf), &found) == 0 &&
               strcmp(found->gr_name, v) != 0)
            found = NULL;
        if (f != NULL)
            fclose(f);
        if (found == NULL)
            return fail(err, errlen, "%s: no such group '%.64s' in /etc/group (give its number)",
                        key, v);
        c->shared_gid = (unsigned int)found->gr_gid;
    }
    c->shared_use_group = 1;
    return 0;
}

/* ------------------------------------------------------------------------
 * The key table
 * ------------------------------------------------------------------------ */

int px_config_set(sentinel_proxy_config_t *c, const char *key, const char *v, char *err,
                  size_t errlen)
{
    if (c == NULL || key == NULL)
        return fail(err, errlen, "no configuration or key");
    if (v == NULL)
        return fail(err, errlen, "%s: missing value", key);
    if (strlen(v) >= PX_LINE_MAX)
        return fail(err, errlen, "%s: value too long", key);
    {
        int rc = px_config_route_set(c, key, v, err, errlen); /* several masters */
        if (rc != 1)
            return rc;
    }
    /* TLS keys: their own table (config_tls.c). */
    {
        int rc = px_config_tls_set(&c->tls, key, v, err, errlen);
        if (rc != 1)
            return rc;
    }

    if (!strcmp(key, "listen")) {
        if (!strcasecmp(v, "none") || *v == '\0') {
            c->listen_port = -1;
            return 0;
        }
        return px_parse_bind(key, v, c->listen_host, sizeof(c->listen_host), &c->listen_port, err,
                          errlen);
    }
    if (!strcmp(key, "unix")) {
        if (!strcasecmp(v, "none")) {
            c->unix_path[0] = '\0';
            return 0;
        }
        if (strlen(v) >= sizeof(c->unix_path))
            return fail(err, errlen, "unix: path longer than %zu characters",
                        sizeof(c->unix_path) - 1);
        if (*v != '/' && *v != '.')
            return fail(err, errlen, "unix: expected a path, got '%.64s'", v);
        snprintf(c->unix_path, sizeof(c->unix_path), "%s", v);
        return 0;
    }
    if (!strcmp(key, "unix-mode")) {
        char *end;
        long m;
        errno = 0;
        m = strtol(v, &end, 8);
        if (errno || *end || *v == '\0' || m < 0 || m > 0777)
            return fail(err, errlen, "unix-mode: expected an octal mode like 0770, got '%.16s'",
                        v);
        c->unix_mode = (int)m;
        return 0;
    }
    if (!strcmp(key, "sentinel"))
        return add_sentinels(c, v, err, errlen);
    if (!strcmp(key, "master")) {
        if (!sn_valid_master_name(v))
            return fail(err, errlen, "master: expected 1..200 printable characters, no spaces");
        snprintf(c->master, sizeof(c->master), "%s", v);
        return 0;
    }
    if (!strcmp(key, "sentinel-user"))
        return set_secret(key, v, &c->sentinel_user, err, errlen);
    if (!strcmp(key, "sentinel-password"))
        return set_secret(key, v, &c->sentinel_password, err, errlen);
    if (!strcmp(key, "data-user"))
        return set_secret(key, v, &c->data_user, err, errlen);
    if (!strcmp(key, "data-password"))
        return set_secret(key, v, &c->data_password, err, errlen);
    if (!strcmp(key, "connect-timeout"))
        return parse_int(key, v, 1, 60000, &c->connect_ms, err, errlen);
    if (!strcmp(key, "command-timeout"))
        return parse_int(key, v, 1, 60000, &c->command_ms, err, errlen);
    if (!strcmp(key, "resolve-timeout"))
        return parse_int(key, v, 0, 600000, &c->resolve_ms, err, errlen);
    if (!strcmp(key, "poll-interval"))
        return parse_int(key, v, 10, 3600000, &c->poll_ms, err, errlen);
    if (!strcmp(key, "probe-interval"))
        return parse_int(key, v, 1, 10000, &c->probe_ms, err, errlen);
    if (!strcmp(key, "pause-timeout"))
        return parse_int(key, v, 1, 600000, &c->pause_ms, err, errlen);
    if (!strcmp(key, "idle-timeout"))
        return parse_int(key, v, 0, 86400000, &c->idle_ms, err, errlen);
    if (!strcmp(key, "max-clients"))
        return parse_int(key, v, 1, 1000000, &c->max_clients, err, errlen);
    if (!strcmp(key, "buffer-size"))
        return parse_int(key, v, 1024, 16 * 1024 * 1024, &c->buffer_size, err, errlen);
    if (!strcmp(key, "admin")) {
        if (!strcasecmp(v, "none") || *v == '\0') {
            c->admin_port = -1;
            return 0;
        }
        return px_parse_bind(key, v, c->admin_host, sizeof(c->admin_host), &c->admin_port, err,
                          errlen);
    }
    if (!strcmp(key, "log-level")) {
        static const char *const names[] = {"error", "warning", "info", "debug"};
        for (int i = 0; i < 4; i++)
            if (!strcasecmp(v, names[i]) || (i == 1 && !strcasecmp(v, "warn"))) {
                c->log.level = (sentinel_proxy_log_level)i;
                return 0;
            }
        return fail(err, errlen, "log-level: expected error, warning, info or debug, got '%.32s'",
                    v);
    }
    if (!strcmp(key, "watch"))
        return parse_bool(key, v, &c->watch, err, errlen);
    if (!strcmp(key, "multiplex"))
        return parse_bool(key, v, &c->multiplex, err, errlen);
    if (!strcmp(key, "shared-cache")) {
        if (!strcasecmp(v, "none") || !strcasecmp(v, "off")) {
            c->shared_cache[0] = '\0';
            return 0;
        }
        if (strcmp(v, "auto") != 0 && *v != '/')
            return fail(err, errlen,
                        "shared-cache: expected auto, none, or an absolute directory or file path");
        if (strlen(v) >= sizeof(c->shared_cache))
            return fail(err, errlen, "shared-cache: path too long");
        snprintf(c->shared_cache, sizeof(c->shared_cache), "%s", v);
        return 0;
    }
    if (!strcmp(key, "shared-cache-ttl"))
        return parse_int(key, v, 100, 86400000, &c->shared_ttl_ms, err, errlen);
    if (!strcmp(key, "shared-cache-group"))
        return parse_group(key, v, c, err, errlen);
    if (!strcmp(key, "shared-cache-mode")) {
        if (!strcmp(v, "0600") || !strcmp(v, "600"))
            c->shared_mode = 0600;
        else if (!strcmp(v, "0660") || !strcmp(v, "660"))
            c->shared_mode = 0660;
        else
            return fail(err, errlen, "shared-cache-mode: expected 0600 or 0660, got '%.32s'", v);
        return 0;
    }
    return fail(err, errlen, "unknown option '%.64s'", key);
}

/* ------------------------------------------------------------------------
 * The config file
 * ------------------------------------------------------------------------ */

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int px_config_load(sentinel_proxy_config_t *c, const char *path, char *err, size_t errlen)
{
    /* The file may hold passwords: it is read through a stdio buffer of
     * our own (stdio's would go back to the allocator unwiped at fclose),
     * and that buffer and the line are wiped when done. */
    char iobuf[4096], line[PX_LINE_MAX + 2], msg[512];
    FILE *f;
    int lineno = 0, rc = -1;

    if (c == NULL || path == NULL)
        return fail(err, errlen, "no configuration or path");
    if ((f = fopen(path, "r")) == NULL)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *key, *val;
        size_t n = strlen(line);

        lineno++;
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            fail(err, errlen, "%s:%d: line longer than %d characters", path, lineno, PX_LINE_MAX);
            goto out;
        }
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        val = key + strcspn(key, " \t");
        if (*val)
            *val++ = '\0';
        val = trim(val);
        /* Allow "quoted values" so that a trailing space can be meant. */
        n = strlen(val);
        if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
            val[n - 1] = '\0';
            val++;
        }
        if (!strcmp(key, "config")) {
            fail(err, errlen, "%s:%d: config files do not nest", path, lineno);
            goto out;
        }
        if (px_config_set(c, key, val, msg, sizeof(msg)) == -1) {
            fail(err, errlen, "%s:%d: %s", path, lineno, msg);
            goto out;
        }
    }
    if (ferror(f)) {
        fail(err, errlen, "%s: read error", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    explicit_bzero(iobuf, sizeof(iobuf));
    explicit_bzero(line, sizeof(line));
    explicit_bzero(msg, sizeof(msg));
    return rc;
}

/* ------------------------------------------------------------------------
 * Flags
 * ------------------------------------------------------------------------ */

/* Split "--key=value" / "--key value"; returns the index of the next
 * argument or -1 with err set. */
static int flag_at(int argc, char **argv, int i, char *key, size_t keylen, const char **val,
                   char *err, size_t errlen)
{
    const char *a = argv[i] + 2, *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);

    if (n == 0 || n >= keylen)
        return fail(err, errlen, "bad option '%.64s'", argv[i]);
    memcpy(key, a, n);
    key[n] = '\0';
    if (eq) {
        *val = eq + 1;
        return i + 1;
    }
    if (!strcmp(key, "watch") || !strcmp(key, "help") || !strcmp(key, "version") ||
        px_config_tls_is_switch(key)) {
        *val = "yes";
        return i + 1;
    }
    if (i + 1 >= argc)
        return fail(err, errlen, "option --%s needs a value", key);
    *val = argv[i + 1];
    return i + 2;
}

int px_config_set_env(sentinel_proxy_config_t *c, const char *name, const char *value, char *err,
                      size_t errlen)
{
    char **dst;

    if (c == NULL || name == NULL)
        return fail(err, errlen, "no configuration");
    if (!strcmp(name, "SENTINEL_PASSWORD"))
        dst = &c->env_sentinel_password;
    else if (!strcmp(name, "REDIS_PASSWORD"))
        dst = &c->env_data_password;
    else
        return fail(err, errlen, "unknown environment variable '%.64s'", name);
    if (value == NULL || *value == '\0') {
        free_secret(dst);
        return 0;
    }
    return set_secret(name, value, dst, err, errlen);
}

int px_config_parse_args(sentinel_proxy_config_t *c, int argc, char **argv, char *err,
                         size_t errlen)
{
    char key[64], msg[512];
    const char *val;
    int i, next, have_sentinel_flag = 0, have_master_flag = 0;

    if (c == NULL)
        return fail(err, errlen, "no configuration");
    /* Pass 1: --help, --version, --config; check the shape of the rest. */
    for (i = 1; i < argc; i = next) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (!strcmp(argv[i], "-h"))
                return SENTINEL_PROXY_ARGS_HELP;
            if (!strcmp(argv[i], "-V"))
                return SENTINEL_PROXY_ARGS_VERSION;
            return fail(err, errlen, "unexpected argument '%.64s'", argv[i]);
        }
        if ((next = flag_at(argc, argv, i, key, sizeof(key), &val, err, errlen)) == -1)
            return -1;
        if (!strcmp(key, "help"))
            return SENTINEL_PROXY_ARGS_HELP;
        if (!strcmp(key, "version"))
            return SENTINEL_PROXY_ARGS_VERSION;
        if (!strcmp(key, "sentinel"))
            have_sentinel_flag = 1;
        if (!strcmp(key, "master"))
            have_master_flag = 1;
        if (!strcmp(key, "config") && px_config_load(c, val, err, errlen) == -1)
            return -1;
    }
    /* The environment (as the program handed it over: the library never
     * reads the process environment) beats the file; flags beat both. */
    if (c->env_sentinel_password &&
        set_secret("SENTINEL_PASSWORD", c->env_sentinel_password, &c->sentinel_password, err,
                   errlen) == -1)
        return -1;
    if (c->env_data_password &&
        set_secret("REDIS_PASSWORD", c->env_data_password, &c->data_password, err, errlen) == -1)
        return -1;
    /* Sentinels given as flags replace the file's list rather than add. */
    if (have_sentinel_flag) {
        free(c->sentinels);
        c->sentinels = NULL;
    }
    if (have_master_flag) /* and so do master names (watch mode follows each) */
        px_config_forget_masters(c);
    for (i = 1; i < argc; i = next) {
        next = flag_at(argc, argv, i, key, sizeof(key), &val, err, errlen);
        if (!strcmp(key, "config"))
            continue;
        if (px_config_set(c, key, val, msg, sizeof(msg)) == -1)
            return fail(err, errlen, "--%s", msg);
    }
    return 0;
}

int px_config_check(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    int several;

    if (c == NULL)
        return fail(err, errlen, "no configuration");
    if ((several = px_config_route_check(c, err, errlen)) == -1)
        return -1;
    if (c->master[0] == '\0' && !several)
        return fail(err, errlen, "master: a master name is required");
    if (c->sentinels == NULL)
        return fail(err, errlen, "sentinel: at least one sentinel is required");
    if (!c->watch && !several && c->listen_port < 0 && c->unix_path[0] == '\0')
        return fail(err, errlen, "listen: no TCP listener and no unix socket");
    if (c->watch && c->shared_cache[0] == '\0')
        return fail(err, errlen, "watch: watch mode needs shared-cache (auto or a path)");
    if (c->shared_mode == 0660 && !c->shared_use_group)
        return fail(err, errlen,
                    "shared-cache-mode: 0660 needs shared-cache-group (the group that may "
                    "read and write the file)");
    return px_config_tls_check(&c->tls, err, errlen);
}

const char *sentinel_proxy_usage(void)
{
    return "Usage: sentinel-proxy --sentinel HOST:PORT [--sentinel HOST:PORT ...] --master NAME\n"
           "                      [--listen HOST:PORT] [--unix PATH] [options]\n"
           "       sentinel-proxy --sentinel ... --route HOST:PORT=NAME [--route ...] [options]\n"
           "       sentinel-proxy --watch --shared-cache auto|PATH --sentinel ... --master NAME\n"
           "\n"
           "Forward Redis clients to the master that Redis Sentinel has elected, verified\n"
           "with ROLE. Client traffic is held from the moment a failover of the master is\n"
           "announced; every client still attached to the old master is disconnected on a\n"
           "switch, so no acknowledged write goes to a demoted master.\n"
           "\n"
           "Every option is also a config file key: \"key value\" per line, # comments.\n"
           "\n"
           "Listeners:\n"
           "  --listen HOST:PORT       TCP listener (default 127.0.0.1:6380; none = off)\n"
           "  --unix PATH              unix socket listener\n"
           "  --unix-mode MODE         its permissions (default 0770)\n"
           "  --admin HOST:PORT        Prometheus metrics (GET /metrics) and readiness\n"
           "                           (GET /ready) over HTTP (default off)\n"
           "Several masters in one process (e.g. cache, page cache, sessions):\n"
           "  --route HOST:PORT=NAME   a listener of its own for master NAME (repeatable,\n"
           "                           up to 16; config file: route HOST:PORT NAME); with\n"
           "                           --master, --listen/--unix serve that one too. One\n"
           "                           subscription per sentinel for all; a failover of\n"
           "                           one master pauses only its clients; other options\n"
           "                           apply to every route; metrics are labelled\n"
           "                           master=\"NAME\"\n"
           "  --route-threads yes|no   each master's clients on a thread of its own\n"
           "                           (default yes); sentinel links stay shared\n"
           "Sentinels:\n"
           "  --sentinel HOST:PORT     a sentinel (repeatable or comma-separated; IPv6 as\n"
           "                           [ADDR]:PORT); more are discovered\n"
           "  --master NAME            the master name the sentinels monitor; with --watch\n"
           "                           it may be repeated (up to 16): one process keeps\n"
           "                           a cache file per master (shared-cache auto or DIR),\n"
           "                           one subscription and one polling link per\n"
           "                           sentinel for all;\n"
           "                           without --watch the last one counts\n"
           "  --sentinel-user U        ACL user for the sentinels\n"
           "  --sentinel-password P    or env SENTINEL_PASSWORD\n"
           "  --data-user U            ACL user for the ROLE checks on Redis nodes\n"
           "  --data-password P        or env REDIS_PASSWORD (clients AUTH themselves)\n"
           "TLS to the master and the sentinels (as redis-cli names it; the master's\n"
           "connections, the ROLE checks and the sentinel links alike):\n"
           "  --tls                    connect with TLS, verifying the server certificate\n"
           "                           and its name (or IP address)\n"
           "  --cacert FILE            CA certificates (PEM) to verify servers with\n"
           "  --cacertdir DIR          a directory of hashed CA certificates\n"
           "  --cert FILE              client certificate (PEM), for mutual TLS\n"
           "  --key FILE               its key (PEM, unencrypted)\n"
           "  --sni NAME               server name to send and verify instead of the\n"
           "                           address connected to\n"
           "  --insecure               no certificate or name verification\n"
           "  --tls-min-version V      1.2 (default) or 1.3\n"
           "  The same with a --sentinel- prefix apply to the sentinels only, where their\n"
           "  settings differ: --sentinel-tls, --sentinel-no-tls, --sentinel-cacert,\n"
           "  --sentinel-cacertdir, --sentinel-cert, --sentinel-key, --sentinel-sni,\n"
           "  --sentinel-insecure, --sentinel-tls-min-version. In a config file the\n"
           "  switches take yes or no (\"tls yes\").\n"
           "TLS from clients (the TCP listener then speaks TLS only; the unix socket\n"
           "stays plaintext):\n"
           "  --tls-listen-cert FILE   the proxy's certificate (PEM chain)\n"
           "  --tls-listen-key FILE    its key (PEM, unencrypted)\n"
           "  --tls-listen-cacert FILE verify client certificates against these CAs and\n"
           "                           refuse clients without one (default: none asked)\n"
           "  --tls-handshake-timeout MS  close a client whose TLS handshake is not done\n"
           "                           this long after it connected (default 1000); its\n"
           "                           master connection opens only once it is done\n"
           "Timing (milliseconds):\n"
           "  --connect-timeout MS     connect to a node or sentinel, TLS handshake included\n"
           "                           (default 250)\n"
           "  --command-timeout MS     one ROLE or sentinel reply (default 250)\n"
           "  --resolve-timeout MS     first resolution at start (default 5000)\n"
           "  --poll-interval MS       sentinel polling backstop (default 1000)\n"
           "  --probe-interval MS      ROLE probes of a promotion candidate (default 20)\n"
           "  --pause-timeout MS       longest a client waits for a verified master before\n"
           "                           -MASTERDOWN (default 5000)\n"
           "  --idle-timeout MS        close idle clients (default 0 = never)\n"
           "Limits:\n"
           "  --max-clients N          concurrent clients (default 4096)\n"
           "  --buffer-size BYTES      per direction and connection, allocated only while\n"
           "                           data waits (default 16384)\n"
           "  --multiplex yes|no       stateless commands (GET, SET, HSET, EVAL, ...) of all\n"
           "                           clients share one master connection; a client that\n"
           "                           sends AUTH, SELECT, MULTI, SUBSCRIBE, a blocking or\n"
           "                           unknown command gets its own (default yes)\n"
           "Watch mode:\n"
           "  --watch                  no listener: keep the shared cache current\n"
           "  --shared-cache auto|DIR|FILE\n"
           "                           libsentinel's shared cache to keep current: the\n"
           "                           default file in /dev/shm or in DIR, or FILE\n"
           "  --shared-cache-ttl MS    lifetime of a written entry (default 60000)\n"
           "  --shared-cache-group G   the cache file's group (name or number): its\n"
           "                           members' processes (PHP-FPM, root's CLI with it)\n"
           "                           share the file; needs --shared-cache-mode 0660\n"
           "  --shared-cache-mode M    0600 (default, this user only) or 0660\n"
           "Other:\n"
           "  --config FILE            read options from FILE (flags win)\n"
           "  --log-level LEVEL        error, warning, info (default) or debug\n"
           "  --help, --version\n"
           "\n"
           "Signals: SIGTERM/SIGINT stop gracefully; SIGUSR1 logs a stats line.\n"
           "Exit status: 0 stopped by a signal, 1 runtime failure, 2 bad configuration.\n";
}
