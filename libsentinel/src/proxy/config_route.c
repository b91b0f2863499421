/*
 * Proxy configuration for several masters in one process (issue 10): the
 * "route" key and the list of master names, kept apart from config.c's key
 * table.
 *
 *   route LISTEN=NAME     (flag: --route 127.0.0.1:6381=sessions; in a
 *   route LISTEN NAME      config file either form) a listener of its own
 *                          for master NAME, repeatable
 *
 * The classic listen/unix/master triple stays one more route when master
 * is set. In watch mode there are no listeners: master repeated names
 * every master to follow (flags replace the file's names, as sentinels do).
 * Options other than the listener (sentinels, credentials, timeouts,
 * max-clients per route, ...) are the process's, shared by every route.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proxy/proxy_int.h"

int px_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Two listeners would bind the same address (port 0: a fresh port each). */
static int same_listener(const px_route_conf *a, const char *host, int port)
{
    return port > 0 && a->port == port && strcmp(a->host, host) == 0;
}

static int add_route(sentinel_proxy_config_t *c, const char *v, char *err, size_t errlen)
{
    char listen[SENTINEL_HOST_MAX + 16], msg[256];
    const char *name;
    size_t n = strcspn(v, "= \t");
    px_route_conf r;

    if (v[n] == '\0' || n == 0)
        return px_fail(err, errlen,
                          "route: expected LISTEN=NAME (e.g. 127.0.0.1:6381=sessions), got '%.64s'",
                          v);
    name = v + n + 1;
    while (isspace((unsigned char)*name))
        name++;
    if (n >= sizeof(listen))
        return px_fail(err, errlen, "route: address too long in '%.64s'", v);
    memcpy(listen, v, n);
    listen[n] = '\0';
    if (px_parse_bind("listen", listen, r.host, sizeof(r.host), &r.port, msg, sizeof(msg)) == -1)
        return px_fail(err, errlen, "route: %s", msg);
    if (!sn_valid_master_name(name))
        return px_fail(err, errlen,
                          "route: master name '%.64s': expected 1..200 printable characters, "
                          "no spaces",
                          name);
    snprintf(r.name, sizeof(r.name), "%s", name);
    for (int i = 0; i < c->nroutes; i++) {
        if (strcmp(c->routes[i].name, r.name) == 0)
            return px_fail(err, errlen, "route: master '%.64s' already has a route (%s:%d)",
                              r.name, c->routes[i].host, c->routes[i].port);
        if (same_listener(&c->routes[i], r.host, r.port))
            return px_fail(err, errlen,
                              "route: %s:%d is already the listener of master '%.64s'", r.host,
                              r.port, c->routes[i].name);
    }
    if (c->nroutes == PX_MAX_ROUTES)
        return px_fail(err, errlen, "route: at most %d routes", PX_MAX_ROUTES);
    c->routes[c->nroutes++] = r;
    return 0;
}

/* Every distinct master name, for watch mode. */
static void note_master(sentinel_proxy_config_t *c, const char *v)
{
    if (!sn_valid_master_name(v))
        return; /* config.c refuses it */
    for (int i = 0; i < c->nmasters; i++)
        if (strcmp(c->masters[i], v) == 0)
            return;
    if (c->nmasters == PX_MAX_ROUTES) {
        c->too_many_masters = 1;
        return;
    }
    snprintf(c->masters[c->nmasters++], sizeof(c->masters[0]), "%s", v);
}

int px_config_route_set(sentinel_proxy_config_t *c, const char *key, const char *v, char *err,
                        size_t errlen)
{
    if (!strcmp(key, "route"))
        return add_route(c, v, err, errlen);
    if (!strcmp(key, "route-threads")) {
        int on = sn_args_yes_no(v);

        if (on == -1)
            return px_fail(err, errlen, "route-threads: expected yes or no, got '%.64s'", v);
        c->route_threads = on;
        return 0;
    }
    if (!strcmp(key, "master"))
        note_master(c, v);
    return 1;
}

void px_config_forget_masters(sentinel_proxy_config_t *c)
{
    c->nmasters = 0;
    c->too_many_masters = 0;
}

int px_config_routes(const sentinel_proxy_config_t *c, px_route_conf *out, int *main_route)
{
    int n = 0;

    *main_route = -1;
    if (c->watch) {
        for (int i = 0; i < c->nmasters; i++) {
            out[n].host[0] = '\0';
            out[n].port = -1;
            snprintf(out[n].name, sizeof(out[n].name), "%s", c->masters[i]);
            if (strcmp(c->masters[i], c->master) == 0)
                *main_route = n;
            n++;
        }
        if (n == 0 && c->master[0]) { /* an embedder that set c->master only */
            out[0].host[0] = '\0';
            out[0].port = -1;
            snprintf(out[0].name, sizeof(out[0].name), "%s", c->master);
            *main_route = n++;
        }
        return n;
    }
    if (c->master[0] && (c->listen_port >= 0 || c->unix_path[0])) {
        snprintf(out[n].host, sizeof(out[n].host), "%s", c->listen_host);
        out[n].port = c->listen_port;
        snprintf(out[n].name, sizeof(out[n].name), "%s", c->master);
        *main_route = n++;
    }
    for (int i = 0; i < c->nroutes; i++)
        out[n++] = c->routes[i];
    return n;
}

/* One cache file per master: several masters need auto or a directory. */
static int check_cache_per_master(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    struct stat st;

    if (c->shared_cache[0] == '\0' || strcmp(c->shared_cache, "auto") == 0)
        return 0;
    if (stat(c->shared_cache, &st) == -1 || !S_ISDIR(st.st_mode))
        return px_fail(err, errlen,
                          "shared-cache: several masters (--master, --route) need auto or an "
                          "existing directory (one file for several masters would mix their "
                          "addresses)");
    return 0;
}

int px_config_route_check(const sentinel_proxy_config_t *c, char *err, size_t errlen)
{
    px_route_conf all[PX_MAX_ROUTES + 1];
    int main_route, n;

    if (c->watch) {
        if (c->nroutes > 0)
            return px_fail(err, errlen,
                              "route: watch mode has no listeners; give --master once per master");
        if (c->too_many_masters)
            return px_fail(err, errlen, "master: at most %d --master", PX_MAX_ROUTES);
        if (c->nmasters <= 1)
            return 0;
        if (c->shared_cache[0] == '\0')
            return px_fail(err, errlen,
                              "several --master need --shared-cache auto or a directory");
        return check_cache_per_master(c, err, errlen) == -1 ? -1 : 1;
    }
    if (c->nroutes == 0)
        return 0;
    if (c->unix_path[0] && c->master[0] == '\0')
        return px_fail(err, errlen,
                          "unix: the unix socket serves --master; give --master too");
    if (c->master[0] && c->listen_port < 0 && c->unix_path[0] == '\0')
        return px_fail(err, errlen,
                          "master: '%.64s' has no listener (--listen or --unix); or give it as "
                          "a route",
                          c->master);
    for (int i = 0; c->master[0] && i < c->nroutes; i++) {
        if (strcmp(c->routes[i].name, c->master) == 0)
            return px_fail(err, errlen,
                              "route: master '%.64s' is also --master (on %s:%d); give it once",
                              c->master, c->listen_host, c->listen_port);
        if (c->listen_port >= 0 && same_listener(&c->routes[i], c->listen_host, c->listen_port))
            return px_fail(err, errlen,
                              "route: %s:%d is already --listen (of master '%.64s')",
                              c->listen_host, c->listen_port, c->master);
    }
    n = px_config_routes(c, all, &main_route);
    if (n > 1 && check_cache_per_master(c, err, errlen) == -1)
        return -1;
    return 1;
}
