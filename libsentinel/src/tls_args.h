/*
 * TLS settings as programs take them: flags and config keys named as
 * redis-cli names them (tls, cacert, cacertdir, cert, key, sni, insecure,
 * tls-min-version), applying to the sentinels and the data nodes alike,
 * and the same with a "sentinel-" prefix (plus sentinel-no-tls) for the
 * sentinels only, where their settings differ. Shared by sentinel-resolve
 * (compiled into it: only the public API is used) and sentinel-proxy's
 * configuration (src/proxy/config_tls.c), so both spell and check them
 * the same way.
 */
#ifndef SN_TLS_ARGS_H
#define SN_TLS_ARGS_H

#include <stddef.h>

#include "sentinel/sentinel.h"

/* One role's settings; -1 / NULL: not given. Strings are owned. */
typedef struct sn_tls_args_role {
    int on, insecure, min_version;
    char *cacert, *cacertdir, *cert, *key, *sni;
} sn_tls_args_role;

typedef struct sn_tls_args {
    sn_tls_args_role all;       /* the plain keys: data nodes, and sentinels by default */
    sn_tls_args_role sentinels; /* the sentinel- keys: override for the sentinels */
} sn_tls_args;

void sn_tls_args_init(sn_tls_args *a);
void sn_tls_args_free(sn_tls_args *a);
/* Set key (without leading dashes) to value ("yes"/"no" and the like for
 * the switches). 0 set, 1 not a TLS key, -1 bad value (err says why,
 * naming the key). */
int sn_tls_args_set(sn_tls_args *a, const char *key, const char *value, char *err,
                    size_t errlen);
/* 1 when key is a switch (tls, insecure, sentinel-tls, sentinel-insecure,
 * sentinel-no-tls): on a command line it takes no value. */
int sn_tls_args_is_switch(const char *key);
/* 1 when TLS ends up on for the data nodes / the sentinels. */
int sn_tls_args_data_on(const sn_tls_args *a);
int sn_tls_args_sentinels_on(const sn_tls_args *a);
/* yes/on/true/1: 1, no/off/false/0: 0, anything else -1. */
int sn_args_yes_no(const char *v);
/* A copy of the file name v into *slot (the old one freed): 0, or -1 (err
 * set, naming key) for "", a line break or more than 4096 characters. */
int sn_args_path(const char *key, const char *v, char **slot, char *err, size_t errlen);
/* Apply to s, both roles; a role whose TLS stays off gets no option, so a
 * plaintext run never loads a certificate. 0, or -1 (sentinel_errstr(s)). */
int sn_tls_args_apply(sentinel_t *s, const sn_tls_args *a);

#endif /* SN_TLS_ARGS_H */
