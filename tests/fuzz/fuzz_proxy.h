/* What any configuration the proxy's parser leaves behind must look like,
 * whether it accepted the input or stopped half way. */
#ifndef SN_FUZZ_PROXY_H
#define SN_FUZZ_PROXY_H

#include <string.h>

#include "fuzz_net.h"
#include "proxy/proxy_int.h"

#define FUZZ_TERMINATED(a) FUZZ_CHECK(memchr((a), '\0', sizeof(a)) != NULL)

static inline int fuzz_proxy_item(const char *item, size_t n, void *ud)
{
    sn_hostport hp;

    return sn_parse_hostport(item, n, &hp, ud);
}

static inline void fuzz_proxy_check_secret(const char *s)
{
    if (s == NULL)
        return;
    FUZZ_CHECK(s[0] != '\0');
    for (const char *p = s; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= ' ' && *p != 0x7f);
}

static inline void fuzz_proxy_check_config(const sentinel_proxy_config_t *c)
{
    char err[512];
    sn_err e;
    int rc;

    FUZZ_TERMINATED(c->listen_host);
    FUZZ_TERMINATED(c->unix_path);
    FUZZ_TERMINATED(c->master);
    FUZZ_TERMINATED(c->admin_host);
    FUZZ_TERMINATED(c->shared_cache);
    FUZZ_CHECK(c->listen_port >= -1 && c->listen_port <= 65535);
    FUZZ_CHECK(c->admin_port >= -1 && c->admin_port <= 65535);
    FUZZ_CHECK(c->unix_mode >= 0 && c->unix_mode <= 0777);
    FUZZ_CHECK(c->master[0] == '\0' || sn_valid_master_name(c->master));
    FUZZ_CHECK(c->connect_ms >= 1 && c->command_ms >= 1 && c->resolve_ms >= 0);
    FUZZ_CHECK(c->poll_ms >= 10 && c->probe_ms >= 1 && c->pause_ms >= 1 && c->idle_ms >= 0);
    FUZZ_CHECK(c->max_clients >= 1 && c->buffer_size >= 1024);
    FUZZ_CHECK(c->log.level >= SENTINEL_PROXY_LOG_ERROR &&
               c->log.level <= SENTINEL_PROXY_LOG_DEBUG);
    fuzz_proxy_check_secret(c->sentinel_user);
    fuzz_proxy_check_secret(c->sentinel_password);
    fuzz_proxy_check_secret(c->data_user);
    fuzz_proxy_check_secret(c->data_password);
    if (c->sentinels != NULL) {
        /* Whatever the proxy stored, the library's list parser takes. */
        sn_err_clear(&e);
        FUZZ_CHECK(sn_split_list(c->sentinels, fuzz_proxy_item, &e) > 0);
    }
    /* Several masters (config_route.c): only valid routes are kept. */
    FUZZ_CHECK(c->nroutes >= 0 && c->nroutes <= PX_MAX_ROUTES);
    FUZZ_CHECK(c->nmasters >= 0 && c->nmasters <= PX_MAX_ROUTES);
    for (int i = 0; i < c->nroutes; i++) {
        FUZZ_TERMINATED(c->routes[i].host);
        FUZZ_TERMINATED(c->routes[i].name);
        FUZZ_CHECK(c->routes[i].port >= 0 && c->routes[i].port <= 65535);
        FUZZ_CHECK(sn_valid_master_name(c->routes[i].name));
        for (int j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(c->routes[i].name, c->routes[j].name) != 0);
            FUZZ_CHECK(c->routes[i].port == 0 || c->routes[i].port != c->routes[j].port ||
                       strcmp(c->routes[i].host, c->routes[j].host) != 0);
        }
    }
    for (int i = 0; i < c->nmasters; i++)
        FUZZ_CHECK(sn_valid_master_name(c->masters[i]));
    {
        px_route_conf r[PX_MAX_ROUTES + 1];
        int main_route, n = px_config_routes(c, r, &main_route);
        FUZZ_CHECK(n >= 0 && n <= PX_MAX_ROUTES + 1 && main_route >= -1 && main_route < n);
    }
    err[0] = '\0';
    rc = px_config_check(c, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || (rc == -1 && err[0] != '\0'));
}

#endif /* SN_FUZZ_PROXY_H */
