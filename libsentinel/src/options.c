/* The configuration: parsing and validating sentinel lists, address maps and
 * credentials, with defaults filled in one place. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sn_config_init(sn_config *c)
{
    memset(c, 0, sizeof(*c));
    c->connect_ms = SN_DEFAULT_CONNECT_MS;
    c->command_ms = SN_DEFAULT_COMMAND_MS;
    c->total_ms = SN_DEFAULT_TOTAL_MS;
    c->ttl_ms = SN_DEFAULT_TTL_MS;
    c->tries = SN_DEFAULT_TRIES;
    c->backoff_base_ms = SN_DEFAULT_BACKOFF_BASE_MS;
    c->backoff_max_ms = SN_DEFAULT_BACKOFF_MAX_MS;
    c->verify = 1;
    c->discovery = 1;
    c->quorum = 1;
}

void sn_secret_free(char *secret)
{
    if (secret != NULL) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
}

static void cred_free(sn_cred *cr)
{
    free(cr->user);
    sn_secret_free(cr->password);
    cr->user = cr->password = NULL;
}

static int cred_copy(sn_cred *dst, const sn_cred *src)
{
    dst->user = src->user ? strdup(src->user) : NULL;
    dst->password = src->password ? strdup(src->password) : NULL;
    if ((src->user && !dst->user) || (src->password && !dst->password)) {
        cred_free(dst);
        return -1;
    }
    return 0;
}

int sn_config_copy(sn_config *dst, const sn_config *src)
{
    *dst = *src;
    dst->master_name = NULL;
    dst->sentinel_cred.user = dst->sentinel_cred.password = NULL;
    dst->data_cred.user = dst->data_cred.password = NULL;
    for (int r = 0; r < SN_TLS_ROLES; r++)
        if (sn_tls_opts_copy(&dst->tls[r], &src->tls[r]) == -1) {
            while (r-- > 0)
                sn_tls_opts_free(&dst->tls[r]);
            for (r = 0; r < SN_TLS_ROLES; r++)
                memset(&dst->tls[r], 0, sizeof(dst->tls[r]));
            goto fail;
        }
    if ((dst->master_name = strdup(src->master_name)) == NULL)
        goto fail;
    if (cred_copy(&dst->sentinel_cred, &src->sentinel_cred) == -1)
        goto fail;
    if (cred_copy(&dst->data_cred, &src->data_cred) == -1)
        goto fail;
    return 0;
fail:
    sn_config_free(dst);
    return -1;
}

void sn_config_free(sn_config *c)
{
    free(c->master_name);
    c->master_name = NULL;
    cred_free(&c->sentinel_cred);
    cred_free(&c->data_cred);
    for (int r = 0; r < SN_TLS_ROLES; r++)
        sn_tls_opts_free(&c->tls[r]);
}

/* ---- TLS options: tls.c owns them when linked in (o->ops) ---------------- */

void sn_tls_opts_free(sn_tls_opts *o)
{
    if (o->ops != NULL)
        o->ops->opts_free(o);
    memset(o, 0, sizeof(*o));
}

int sn_tls_opts_copy(sn_tls_opts *dst, const sn_tls_opts *src)
{
    if (src->ops != NULL)
        return src->ops->opts_copy(dst, src);
    memset(dst, 0, sizeof(*dst)); /* never set: nothing to share */
    return 0;
}

/* A TLS handle must never be handed a plaintext or unverified answer. */
uint64_t sn_tls_key_mix(const sn_config *c, uint64_t h)
{
    for (int r = 0; r < SN_TLS_ROLES; r++) {
        const sn_tls_opts *o = &c->tls[r];
        const char *strs[] = {o->ca_file, o->ca_dir, o->cert, o->key, o->sni};
        int nums[] = {o->enabled, o->insecure, o->min_version};

        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
            for (size_t b = 0; b < sizeof(int); b++)
                h = (h ^ ((const unsigned char *)&nums[i])[b]) * 1099511628211ULL;
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
            h = (h ^ (unsigned char)('A' + i)) * 1099511628211ULL;
            for (const char *p = strs[i]; p && *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        }
    }
    return h;
}

/* Master names travel inside sentinel messages split on spaces. */
#define SN_MASTER_NAME_RULE "a master name is 1 to 200 printable characters without spaces"

int sn_check_master_name(const char *name, sn_err *e)
{
    size_t n;

    if (name == NULL)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "master name is NULL");
    n = strlen(name);
    if (n == 0 || n > 200)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                          SN_MASTER_NAME_RULE " (got %zu bytes)", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch == 0x7f)
            return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                              SN_MASTER_NAME_RULE " (byte 0x%02x at offset %zu)", ch, i);
    }
    return 0;
}

int sn_valid_master_name(const char *name)
{
    sn_err e;

    return sn_check_master_name(name, &e) == 0;
}

static int valid_host(const char *h, size_t n)
{
    if (n == 0 || n >= SENTINEL_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' && ch != '_' && ch != '%')
            return 0;
    }
    return 1;
}

static int parse_port(const char *s, size_t n, int *port)
{
    long v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

int sn_parse_hostport(const char *s, size_t len, sn_hostport *hp, sn_err *e)
{
    const char *host, *colon;
    size_t hostlen;

    /* "tls://h:p", "tlsv1.3://...": the PHP bindings take a scheme (as
     * Credis does), the library does not; say so rather than "IPv6". */
    for (size_t i = 0; i + 2 < len; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                              "bad address '%.*s': no scheme here, TLS is a setting of its own "
                              "(--tls, sentinel.tls, sentinel_set_tls())", (int)len, s);
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL || close + 1 >= s + len || close[1] != ':')
            return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                              "bad address '%.*s': expected [IPv6]:PORT", (int)len, s);
        host = s + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = NULL;
        for (size_t i = len; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        if (colon == NULL)
            return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                              "bad address '%.*s': expected HOST:PORT", (int)len, s);
        host = s;
        hostlen = (size_t)(colon - s);
        if (memchr(host, ':', hostlen) != NULL)
            return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                              "bad address '%.*s': write IPv6 as [ADDR]:PORT", (int)len, s);
    }
    if (!valid_host(host, hostlen))
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "bad host in '%.*s'", (int)len, s);
    if (parse_port(colon + 1, (size_t)(s + len - colon - 1), &hp->port) == -1)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                          "bad port in '%.*s': expected 1-65535", (int)len, s);
    memcpy(hp->host, host, hostlen);
    hp->host[hostlen] = '\0';
    return 0;
}

int sn_config_add_sentinel(sn_config *c, const char *host, int port, sn_err *e)
{
    if (host == NULL || !valid_host(host, strlen(host)))
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "bad sentinel host '%s'",
                          host ? host : "(null)");
    if (port < 1 || port > 65535)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "bad sentinel port %d", port);
    for (size_t i = 0; i < c->nsentinels; i++)
        if (c->sentinels[i].port == port && strcmp(c->sentinels[i].host, host) == 0)
            return 0; /* already known */
    if (c->nsentinels == SN_MAX_SENTINELS)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "more than %d sentinels",
                          SN_MAX_SENTINELS);
    strcpy(c->sentinels[c->nsentinels].host, host);
    c->sentinels[c->nsentinels].port = port;
    c->nsentinels++;
    return 0;
}

void sn_config_map(const sn_config *c, sn_hostport *hp)
{
    for (size_t i = 0; i < c->nmaps; i++) {
        const sn_map *m = &c->maps[i];
        if (strcmp(m->from.host, hp->host) != 0)
            continue;
        if (m->from.port != 0 && m->from.port != hp->port)
            continue;
        strcpy(hp->host, m->to.host);
        if (m->to.port != 0)
            hp->port = m->to.port;
        return;
    }
}

/* Split a list on commas and white space; call fn on each item. */
int sn_split_list(const char *list, int (*fn)(const char *item, size_t n, void *ud), void *ud)
{
    const char *p = list;
    int count = 0;

    while (*p) {
        size_t n;
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        n = strcspn(p, ", \t\r\n");
        if (fn(p, n, ud) == -1)
            return -1;
        count++;
        p += n;
    }
    return count;
}

/* "host[:port]" where a missing port means 0 (any / keep). */
static int parse_map_side(const char *s, size_t n, sn_hostport *hp, sn_err *e)
{
    int has_port = 0;

    if (n > 0 && s[0] == '[')
        has_port = memchr(s, ']', n) != NULL && s[n - 1] != ']';
    else {
        const char *c1 = memchr(s, ':', n);
        has_port = c1 != NULL && memchr(c1 + 1, ':', (size_t)(s + n - c1 - 1)) == NULL;
    }
    if (has_port)
        return sn_parse_hostport(s, n, hp, e);
    if (n > 1 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (!valid_host(s, n))
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "bad host '%.*s' in address map",
                          (int)n, s);
    memcpy(hp->host, s, n);
    hp->host[n] = '\0';
    hp->port = 0;
    return 0;
}

int sn_parse_map(const char *s, size_t n, sn_map *m, sn_err *e)
{
    const char *eq = memchr(s, '=', n);

    if (eq == NULL)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT,
                          "bad address map entry '%.*s': expected FROM=TO", (int)n, s);
    if (parse_map_side(s, (size_t)(eq - s), &m->from, e) == -1)
        return -1;
    return parse_map_side(eq + 1, (size_t)(s + n - eq - 1), &m->to, e);
}
