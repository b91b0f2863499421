/*
 * The proxy's TLS configuration keys, kept apart from config.c's table:
 * TLS to the master and the sentinels as sentinel-resolve takes it
 * (tls_args.c: tls, cacert, cacertdir, cert, key, sni, insecure,
 * tls-min-version, and sentinel-tls, sentinel-cacert, ... for the
 * sentinels where they differ), and the client listener's certificate
 * (tls-listen-cert, tls-listen-key, tls-listen-cacert), and how long a
 * client may take for its handshake (tls-handshake-timeout).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

int px_config_tls_set(px_tls_config *t, const char *key, const char *value, char *err,
                      size_t errlen)
{
    if (!strcmp(key, "tls-listen-cert"))
        return sn_args_path(key, value, &t->listen_cert, err, errlen);
    if (!strcmp(key, "tls-listen-key"))
        return sn_args_path(key, value, &t->listen_key, err, errlen);
    if (!strcmp(key, "tls-listen-cacert"))
        return sn_args_path(key, value, &t->listen_cacert, err, errlen);
    if (!strcmp(key, "tls-handshake-timeout")) {
        char *end;
        long n;
        errno = 0;
        n = isdigit((unsigned char)*value) ? strtol(value, &end, 10) : -1;
        if (n < 1 || n > 600000 || errno != 0 || *end != '\0') {
            snprintf(err, errlen, "%s: expected milliseconds 1..600000, got '%.64s'", key, value);
            return -1;
        }
        t->handshake_ms = (int)n;
        return 0;
    }
    return sn_tls_args_set(&t->args, key, value, err, errlen);
}

int px_config_tls_is_switch(const char *key)
{
    return sn_tls_args_is_switch(key);
}

void px_config_tls_free(px_tls_config *t)
{
    sn_tls_args_free(&t->args);
    free(t->listen_cert);
    free(t->listen_key);
    free(t->listen_cacert);
    t->listen_cert = t->listen_key = t->listen_cacert = NULL;
}

int px_config_tls_check(const px_tls_config *t, char *err, size_t errlen)
{
    if ((t->listen_cert == NULL) != (t->listen_key == NULL)) {
        snprintf(err, errlen, "tls-listen-cert and tls-listen-key go together: give both");
        return -1;
    }
    if (t->listen_cacert && t->listen_cert == NULL) {
        snprintf(err, errlen, "tls-listen-cacert needs tls-listen-cert and tls-listen-key");
        return -1;
    }
    return 0;
}

int sentinel_proxy_config_tls(const sentinel_proxy_config_t *c)
{
    if (c == NULL)
        return -1;
    return sn_tls_args_data_on(&c->tls.args) || sn_tls_args_sentinels_on(&c->tls.args) ||
           c->tls.listen_cert != NULL;
}
