/*
 * proxy.h's fallible calls under the library's error convention (see
 * sentinel.h): they return a sentinel_code and keep the detail on the
 * object, read with sentinel_proxy_config_errstr() / sentinel_proxy_errstr().
 * The work is done by the px_* functions in config.c and proxy.c, which
 * keep their 0 / -1 plus message shape; this file only translates.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy_core.h"

/* A config call's result: the code, the message kept on c. Configuration
 * errors are refused values (SENTINEL_ERR_INVALID_ARGUMENT). */
static int config_code(sentinel_proxy_config_t *c, int rc)
{
    if (rc != -1) {
        c->errstr[0] = '\0';
        return SENTINEL_OK;
    }
    return SENTINEL_ERR_INVALID_ARGUMENT;
}

int sentinel_proxy_config_set(sentinel_proxy_config_t *c, const char *key, const char *value)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return config_code(c, px_config_set(c, key, value, c->errstr, sizeof(c->errstr)));
}

int sentinel_proxy_config_load(sentinel_proxy_config_t *c, const char *path)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return config_code(c, px_config_load(c, path, c->errstr, sizeof(c->errstr)));
}

int sentinel_proxy_config_set_env(sentinel_proxy_config_t *c, const char *name, const char *value)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return config_code(c, px_config_set_env(c, name, value, c->errstr, sizeof(c->errstr)));
}

int sentinel_proxy_config_parse_args(sentinel_proxy_config_t *c, int argc, char **argv,
                                     int *asked)
{
    int rc;

    if (asked != NULL)
        *asked = 0;
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    rc = px_config_parse_args(c, argc, argv, c->errstr, sizeof(c->errstr));
    if (rc > 0 && asked != NULL)
        *asked = rc; /* SENTINEL_PROXY_ARGS_HELP or _VERSION: not an error */
    return config_code(c, rc);
}

int sentinel_proxy_config_check(sentinel_proxy_config_t *c)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return config_code(c, px_config_check(c, c->errstr, sizeof(c->errstr)));
}

const char *sentinel_proxy_config_errstr(const sentinel_proxy_config_t *c)
{
    return c ? c->errstr : "no configuration";
}

sentinel_proxy_t *sentinel_proxy_new(sentinel_proxy_config_t *c, int *code)
{
    sentinel_proxy_t *p;

    if (sentinel_proxy_config_check(c) != SENTINEL_OK)
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    errno = 0;
    if ((p = px_proxy_new(c, c->errstr, sizeof(c->errstr))) == NULL)
        /* Binding, the event loop, the open file limit, memory. */
        return sn_fail_new(code, errno == ENOMEM ? SENTINEL_ERR_NO_MEMORY : SENTINEL_ERR_SYSTEM);
    if (code != NULL)
        *code = SENTINEL_OK;
    return p;
}

/* A loop failure: SENTINEL_ERR_SYSTEM, errno's message kept on p. A
 * router (several masters) has written its own: its loop's, or the last
 * route's whose loop failed (route.c), which errno no longer holds. */
static int loop_failed(sentinel_proxy_t *p)
{
    if (p->routes == NULL)
        snprintf(p->errstr, sizeof(p->errstr), "event loop: %s", strerror(errno));
    return SENTINEL_ERR_SYSTEM;
}

int sentinel_proxy_step(sentinel_proxy_t *p, int timeout_ms, int *stopped)
{
    int rc;

    if (stopped != NULL)
        *stopped = 0;
    if (p == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if ((rc = px_proxy_step(p, timeout_ms)) == -1)
        return loop_failed(p);
    if (rc == 1 && stopped != NULL)
        *stopped = 1;
    return SENTINEL_OK;
}

int sentinel_proxy_run(sentinel_proxy_t *p)
{
    if (p == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    return px_proxy_run(p) == -1 ? loop_failed(p) : SENTINEL_OK;
}

const char *sentinel_proxy_errstr(const sentinel_proxy_t *p)
{
    return p ? p->errstr : "no proxy";
}

int sentinel_proxy_get_stats(const sentinel_proxy_t *p, sentinel_proxy_stats *st)
{
    return px_proxy_get_stats(p, st) == -1 ? SENTINEL_ERR_INVALID_ARGUMENT : SENTINEL_OK;
}
