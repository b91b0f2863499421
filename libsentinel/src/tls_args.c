/*
 * TLS settings as programs take them (see tls_args.h). Only the public API
 * is used: sentinel-resolve compiles this file in, the library links it for
 * sentinel-proxy's configuration.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls_args.h"

#define TLS_ARG_MAX 4096 /* longest path or name taken */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void role_init(sn_tls_args_role *r)
{
    memset(r, 0, sizeof(*r));
    r->on = r->insecure = r->min_version = -1;
}

void sn_tls_args_init(sn_tls_args *a)
{
    role_init(&a->all);
    role_init(&a->sentinels);
}

static void role_free(sn_tls_args_role *r)
{
    free(r->cacert);
    free(r->cacertdir);
    free(r->cert);
    free(r->key);
    free(r->sni);
    role_init(r);
}

void sn_tls_args_free(sn_tls_args *a)
{
    role_free(&a->all);
    role_free(&a->sentinels);
}

int sn_args_yes_no(const char *v)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcasecmp(v, "true") ||
        !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcasecmp(v, "false") ||
        !strcmp(v, "0"))
        return 0;
    return -1;
}

static int parse_switch(const char *key, const char *v, int *out, char *err, size_t errlen)
{
    int on = sn_args_yes_no(v);

    if (on == -1)
        return fail(err, errlen, "%s: expected yes or no, got '%.64s'", key, v);
    *out = on;
    return 0;
}

int sn_args_path(const char *key, const char *v, char **slot, char *err, size_t errlen)
{
    char *copy;

    if (*v == '\0')
        return fail(err, errlen, "%s: expected a file name, got nothing", key);
    if (strlen(v) > TLS_ARG_MAX)
        return fail(err, errlen, "%s: longer than %d characters", key, TLS_ARG_MAX);
    if (strpbrk(v, "\r\n") != NULL)
        return fail(err, errlen, "%s: a line break in the value", key);
    if ((copy = strdup(v)) == NULL)
        return fail(err, errlen, "%s: out of memory", key);
    free(*slot);
    *slot = copy;
    return 0;
}

int sn_tls_args_set(sn_tls_args *a, const char *key, const char *value, char *err,
                    size_t errlen)
{
    sn_tls_args_role *r = &a->all;
    const char *k = key;

    if (!strcmp(key, "sentinel-no-tls")) {
        int no = 0;
        if (parse_switch(key, value, &no, err, errlen) == -1)
            return -1;
        a->sentinels.on = !no;
        return 0;
    }
    if (!strncmp(key, "sentinel-", 9)) {
        r = &a->sentinels;
        k = key + 9;
    }
    if (!strcmp(k, "tls"))
        return parse_switch(key, value, &r->on, err, errlen);
    if (!strcmp(k, "insecure"))
        return parse_switch(key, value, &r->insecure, err, errlen);
    if (!strcmp(k, "cacert"))
        return sn_args_path(key, value, &r->cacert, err, errlen);
    if (!strcmp(k, "cacertdir"))
        return sn_args_path(key, value, &r->cacertdir, err, errlen);
    if (!strcmp(k, "cert"))
        return sn_args_path(key, value, &r->cert, err, errlen);
    if (!strcmp(k, "key"))
        return sn_args_path(key, value, &r->key, err, errlen);
    if (!strcmp(k, "sni")) {
        if (*value == '\0' || strlen(value) >= SENTINEL_HOST_MAX ||
            strpbrk(value, " \t\r\n") != NULL)
            return fail(err, errlen, "%s: expected a host name, got '%.64s'", key, value);
        return sn_args_path(key, value, &r->sni, err, errlen);
    }
    if (!strcmp(k, "tls-min-version")) {
        if (!strcmp(value, "1.2"))
            r->min_version = SENTINEL_TLS_V1_2;
        else if (!strcmp(value, "1.3"))
            r->min_version = SENTINEL_TLS_V1_3;
        else
            return fail(err, errlen, "%s: expected 1.2 or 1.3, got '%.16s'", key, value);
        return 0;
    }
    return 1;
}

int sn_tls_args_is_switch(const char *key)
{
    if (!strncmp(key, "sentinel-", 9))
        key += 9;
    return !strcmp(key, "tls") || !strcmp(key, "insecure") || !strcmp(key, "no-tls");
}

int sn_tls_args_data_on(const sn_tls_args *a)
{
    return a->all.on == 1;
}

int sn_tls_args_sentinels_on(const sn_tls_args *a)
{
    return a->sentinels.on >= 0 ? a->sentinels.on : a->all.on == 1;
}

/* A role's setting: its own if given, else the plain one. */
#define PICK(f) (own->f ? own->f : all->f)
#define PICK_INT(f) (own->f >= 0 ? own->f : all->f >= 0 ? all->f : 0)

/* Setters succeed with 0 (SENTINEL_OK); anything else is a failure. */
static int apply_role(sentinel_t *s, int role, int on, const sn_tls_args_role *own,
                      const sn_tls_args_role *all)
{
    if (!on)
        return 0;
    if (sentinel_set_tls_ca(s, role, PICK(cacert), PICK(cacertdir)) != 0 ||
        sentinel_set_tls_cert(s, role, PICK(cert), PICK(key)) != 0 ||
        sentinel_set_tls_server_name(s, role, PICK(sni)) != 0 ||
        sentinel_set_tls_verify(s, role, !PICK_INT(insecure)) != 0 ||
        sentinel_set_tls_min_version(s, role, PICK_INT(min_version)) != 0)
        return -1;
    return sentinel_set_tls(s, role, 1) != 0 ? -1 : 0;
}

#undef PICK
#undef PICK_INT

int sn_tls_args_apply(sentinel_t *s, const sn_tls_args *a)
{
    if (apply_role(s, SENTINEL_TLS_DATA, sn_tls_args_data_on(a), &a->all, &a->all) != 0)
        return -1;
    return apply_role(s, SENTINEL_TLS_SENTINELS, sn_tls_args_sentinels_on(a), &a->sentinels,
                      &a->all);
}
