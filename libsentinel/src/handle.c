/* The public handle: creation, options, errors and statistics. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Constructors report why they failed through an optional out parameter. */
void *sn_fail_new(int *code, int why)
{
    if (code != NULL)
        *code = why;
    return NULL;
}

sentinel_t *sentinel_new(const char *master_name, int *code)
{
    sentinel_t *s;

    if (!sn_valid_master_name(master_name))
        return sn_fail_new(code, SENTINEL_ERR_INVALID_ARGUMENT);
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    sn_config_init(&s->cfg);
    s->cfg.master_name = strdup(master_name);
    s->flight_key = strdup(master_name);
    if (s->cfg.master_name == NULL || s->flight_key == NULL) {
        sentinel_free(s);
        return sn_fail_new(code, SENTINEL_ERR_NO_MEMORY);
    }
    s->rng = sn_rng_seed(s);
    s->stats.size = sizeof(s->stats);
    if (code != NULL)
        *code = SENTINEL_OK;
    return s;
}

void sentinel_free(sentinel_t *s)
{
    if (s == NULL)
        return;
    sn_config_free(&s->cfg);
    free(s->flight_key);
    free(s);
}

static int bad_handle(void)
{
    return SENTINEL_ERR_INVALID_ARGUMENT;
}

/* The single-flight key names the master and the configured sentinels, so
 * two clusters that both call their master "mymaster" never share. Without
 * memory for the longer key the handle stops sharing altogether (a NULL
 * key): a shorter key would join resolutions of other sentinel sets. */
static void extend_flight_key(sentinel_t *s, const sn_hostport *hp)
{
    size_t len;
    char *k;

    if (s->flight_key == NULL)
        return;
    len = strlen(s->flight_key) + strlen(hp->host) + 9;
    if ((k = realloc(s->flight_key, len)) == NULL) {
        free(s->flight_key);
        s->flight_key = NULL;
        return;
    }
    snprintf(k + strlen(k), len - strlen(k), "|%s:%d", hp->host, hp->port);
    s->flight_key = k;
}

int sentinel_add_sentinel(sentinel_t *s, const char *host, int port)
{
    size_t before;

    if (s == NULL)
        return bad_handle();
    before = s->cfg.nsentinels;
    if (sn_config_add_sentinel(&s->cfg, host, port, &s->err) == -1)
        return s->err.code;
    if (s->cfg.nsentinels != before) {
        /* Keep configured seeds ahead of discovered sentinels. */
        sn_hostport hp = s->cfg.sentinels[before];
        memmove(&s->cfg.sentinels[s->cfg.nseeds + 1], &s->cfg.sentinels[s->cfg.nseeds],
                (before - s->cfg.nseeds) * sizeof(hp));
        s->cfg.sentinels[s->cfg.nseeds++] = hp;
        extend_flight_key(s, &hp);
    }
    return SENTINEL_OK;
}

struct list_ctx {
    sn_hostport items[SN_MAX_SENTINELS];
    size_t n;
    sn_err *e;
};

static int same_hostport(const sn_hostport *a, const sn_hostport *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Duplicates are ignored, so they do not count against the limit. */
static int collect_hostport(const char *item, size_t n, void *ud)
{
    struct list_ctx *ctx = ud;
    sn_hostport hp;

    if (sn_parse_hostport(item, n, &hp, ctx->e) == -1)
        return -1;
    for (size_t i = 0; i < ctx->n; i++)
        if (same_hostport(&ctx->items[i], &hp))
            return 0;
    if (ctx->n == SN_MAX_SENTINELS)
        return sn_err_set(ctx->e, SENTINEL_ERR_INVALID_ARGUMENT, "more than %d sentinels",
                          SN_MAX_SENTINELS);
    ctx->items[ctx->n++] = hp;
    return 0;
}

/* The list syntax of sentinel_add_sentinels(), shared with
 * sentinel_validate_sentinels(): ctx gets the distinct items. */
static int parse_sentinel_list(const char *list, struct list_ctx *ctx, sn_err *e)
{
    int n;

    if (list == NULL)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "sentinel list is NULL");
    ctx->n = 0;
    ctx->e = e;
    if ((n = sn_split_list(list, collect_hostport, ctx)) == -1)
        return -1;
    if (n == 0)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "sentinel list is empty");
    return 0;
}

int sentinel_add_sentinels(sentinel_t *s, const char *list)
{
    struct list_ctx ctx;
    size_t fresh = 0;

    if (s == NULL)
        return bad_handle();
    if (parse_sentinel_list(list, &ctx, &s->err) == -1)
        return s->err.code;
    for (size_t i = 0; i < ctx.n; i++) {
        size_t j = 0;
        while (j < s->cfg.nsentinels && !same_hostport(&s->cfg.sentinels[j], &ctx.items[i]))
            j++;
        fresh += j == s->cfg.nsentinels;
    }
    if (s->cfg.nsentinels + fresh > SN_MAX_SENTINELS)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "more than %d sentinels",
                          SN_MAX_SENTINELS);
    for (size_t i = 0; i < ctx.n; i++)
        if (sentinel_add_sentinel(s, ctx.items[i].host, ctx.items[i].port) != SENTINEL_OK)
            return s->err.code;
    return SENTINEL_OK;
}

size_t sentinel_sentinel_count(const sentinel_t *s)
{
    return s ? s->cfg.nsentinels : 0;
}

int sentinel_get_sentinel(const sentinel_t *s, size_t i, char *host, size_t hostlen, int *port)
{
    if (s == NULL || i >= s->cfg.nsentinels || host == NULL || hostlen == 0)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    snprintf(host, hostlen, "%s", s->cfg.sentinels[i].host);
    if (port)
        *port = s->cfg.sentinels[i].port;
    return SENTINEL_OK;
}

static int set_cred(sentinel_t *s, sn_cred *cr, const char *user, const char *password)
{
    char *u = NULL, *p = NULL;

    if (s == NULL)
        return bad_handle();
    if (user != NULL && password == NULL)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "a user needs a password");
    if ((user && (u = strdup(user)) == NULL) || (password && (p = strdup(password)) == NULL)) {
        free(u);
        return sn_err_fail(&s->err, SENTINEL_ERR_NO_MEMORY, "out of memory copying credentials");
    }
    free(cr->user);
    sn_secret_free(cr->password);
    cr->user = (u && *u) ? u : (free(u), NULL);
    cr->password = p;
    return SENTINEL_OK;
}

int sentinel_set_sentinel_auth(sentinel_t *s, const char *user, const char *password)
{
    return set_cred(s, s ? &s->cfg.sentinel_cred : NULL, user, password);
}

int sentinel_set_data_auth(sentinel_t *s, const char *user, const char *password)
{
    return set_cred(s, s ? &s->cfg.data_cred : NULL, user, password);
}

/* Shared by all millisecond options: 0 means default, negatives and values
 * over a day are refused rather than silently clamped. */
static int set_ms(sentinel_t *s, int *field, int ms, int def, const char *what)
{
    if (s == NULL)
        return bad_handle();
    if (ms < 0 || ms > 86400000)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                          "%s must be 0 (default) to 86400000 ms, got %d", what, ms);
    *field = ms ? ms : def;
    return SENTINEL_OK;
}

int sentinel_set_timeout(sentinel_t *s, sentinel_timeout which, int ms)
{
    if (s == NULL)
        return bad_handle();
    switch (which) {
    case SENTINEL_TIMEOUT_CONNECT:
        return set_ms(s, &s->cfg.connect_ms, ms, SN_DEFAULT_CONNECT_MS, "connect timeout");
    case SENTINEL_TIMEOUT_COMMAND:
        return set_ms(s, &s->cfg.command_ms, ms, SN_DEFAULT_COMMAND_MS, "command timeout");
    case SENTINEL_TIMEOUT_TOTAL:
        return set_ms(s, &s->cfg.total_ms, ms, SN_DEFAULT_TOTAL_MS, "total timeout");
    }
    return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "unknown timeout kind %d",
                      (int)which);
}

int sentinel_set_cache_ttl(sentinel_t *s, int ttl_ms)
{
    return set_ms(s, s ? &s->cfg.ttl_ms : NULL, ttl_ms, SN_DEFAULT_TTL_MS, "cache TTL");
}

int sentinel_set_retry(sentinel_t *s, int max_tries, int base_ms, int max_ms)
{
    if (s == NULL)
        return bad_handle();
    if (max_tries < 0 || max_tries > 1000)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                          "tries must be 0 (default) to 1000, got %d", max_tries);
    if (set_ms(s, &s->cfg.backoff_base_ms, base_ms, SN_DEFAULT_BACKOFF_BASE_MS, "backoff base") ||
        set_ms(s, &s->cfg.backoff_max_ms, max_ms, SN_DEFAULT_BACKOFF_MAX_MS, "backoff max"))
        return s->err.code;
    if (s->cfg.backoff_max_ms < s->cfg.backoff_base_ms)
        s->cfg.backoff_max_ms = s->cfg.backoff_base_ms;
    s->cfg.tries = max_tries ? max_tries : SN_DEFAULT_TRIES;
    return SENTINEL_OK;
}

int sentinel_set_verify(sentinel_t *s, int on)
{
    if (s == NULL)
        return bad_handle();
    s->cfg.verify = on != 0;
    return SENTINEL_OK;
}

int sentinel_set_discovery(sentinel_t *s, int on)
{
    if (s == NULL)
        return bad_handle();
    s->cfg.discovery = on != 0;
    return SENTINEL_OK;
}

int sentinel_set_quorum(sentinel_t *s, int k)
{
    if (s == NULL)
        return bad_handle();
    if (k < 0 || k > SN_MAX_SENTINELS)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                          "quorum must be 0 (default 1) to %d, got %d", SN_MAX_SENTINELS, k);
    s->cfg.quorum = k ? k : 1;
    return SENTINEL_OK;
}

int sentinel_add_address_map(sentinel_t *s, const char *from_host, int from_port,
                             const char *to_host, int to_port)
{
    char buf[2 * SENTINEL_HOST_MAX + 16];
    int n;

    if (s == NULL)
        return bad_handle();
    if (from_host == NULL || to_host == NULL || from_port < 0 || from_port > 65535 ||
        to_port < 0 || to_port > 65535)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "bad address map entry");
    n = snprintf(buf, sizeof(buf), "[%s]%s%.0d=[%s]%s%.0d", from_host, from_port ? ":" : "",
                 from_port, to_host, to_port ? ":" : "", to_port);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "address map host too long");
    return sentinel_add_address_maps(s, buf);
}

struct map_ctx {
    sn_map items[SN_MAX_MAPS];
    size_t n;
    sn_err *e;
};

static int collect_map(const char *item, size_t n, void *ud)
{
    struct map_ctx *ctx = ud;

    if (ctx->n == SN_MAX_MAPS)
        return sn_err_set(ctx->e, SENTINEL_ERR_INVALID_ARGUMENT, "more than %d address maps",
                          SN_MAX_MAPS);
    return sn_parse_map(item, n, &ctx->items[ctx->n++], ctx->e);
}

/* The list syntax of sentinel_add_address_maps(), shared with
 * sentinel_validate_address_maps(): ctx gets the entries. */
static int parse_map_list(const char *list, struct map_ctx *ctx, sn_err *e)
{
    if (list == NULL)
        return sn_err_set(e, SENTINEL_ERR_INVALID_ARGUMENT, "address map is NULL");
    ctx->e = e;
    return sn_split_list(list, collect_map, ctx) == -1 ? -1 : 0;
}

int sentinel_add_address_maps(sentinel_t *s, const char *list)
{
    struct map_ctx *ctx;
    int rc;

    if (s == NULL)
        return bad_handle();
    if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
        return sn_err_fail(&s->err, SENTINEL_ERR_NO_MEMORY, "out of memory");
    if (parse_map_list(list, ctx, &s->err) == -1) {
        rc = s->err.code;
        goto out;
    }
    if (s->cfg.nmaps + ctx->n > SN_MAX_MAPS) {
        rc = sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "more than %d address maps",
                         SN_MAX_MAPS);
        goto out;
    }
    memcpy(&s->cfg.maps[s->cfg.nmaps], ctx->items, ctx->n * sizeof(sn_map));
    s->cfg.nmaps += ctx->n;
    rc = SENTINEL_OK;
out:
    free(ctx);
    return rc;
}

int sentinel_errcode(const sentinel_t *s)
{
    return s ? s->err.code : SENTINEL_ERR_INVALID_ARGUMENT;
}

const char *sentinel_errstr(const sentinel_t *s)
{
    return s ? sn_err_str(&s->err) : "no handle";
}

int sentinel_get_stats(const sentinel_t *s, sentinel_stats *st)
{
    size_t n;

    if (s == NULL || st == NULL || st->size < sizeof(size_t))
        return SENTINEL_ERR_INVALID_ARGUMENT;
    n = st->size < sizeof(*st) ? st->size : sizeof(*st);
    memcpy((char *)st + sizeof(size_t), (const char *)&s->stats + sizeof(size_t),
           n - sizeof(size_t));
    st->size = n;
    return SENTINEL_OK;
}

/* ------------------------------------------------------------------------
 * Validators: the handle's own parsers, without a handle
 * ------------------------------------------------------------------------ */

/* The verdict of a parser: SENTINEL_OK, or its code with the detail copied
 * into why (may be NULL). */
static int verdict(int failed, const sn_err *e, char *why, size_t whylen)
{
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", failed ? sn_err_str(e) : "");
    return failed ? e->code : SENTINEL_OK;
}

int sentinel_validate_master_name(const char *name, char *why, size_t whylen)
{
    sn_err e;

    sn_err_clear(&e);
    return verdict(sn_check_master_name(name, &e) == -1, &e, why, whylen);
}

int sentinel_validate_sentinels(const char *list, char *why, size_t whylen)
{
    struct list_ctx *ctx;
    sn_err e;
    int failed;

    sn_err_clear(&e);
    if ((ctx = malloc(sizeof(*ctx))) == NULL)
        failed = sn_err_set(&e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    else
        failed = parse_sentinel_list(list, ctx, &e) == -1;
    free(ctx);
    return verdict(failed, &e, why, whylen);
}

int sentinel_validate_address(const char *address, char *why, size_t whylen)
{
    sn_hostport hp;
    sn_err e;
    int failed;

    sn_err_clear(&e);
    if (address == NULL)
        failed = sn_err_set(&e, SENTINEL_ERR_INVALID_ARGUMENT, "address is NULL");
    else
        failed = sn_parse_hostport(address, strlen(address), &hp, &e) == -1;
    return verdict(failed, &e, why, whylen);
}

int sentinel_validate_address_maps(const char *list, char *why, size_t whylen)
{
    struct map_ctx *ctx;
    sn_err e;
    int failed;

    sn_err_clear(&e);
    if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
        failed = sn_err_set(&e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    else
        failed = parse_map_list(list, ctx, &e) == -1;
    free(ctx);
    return verdict(failed, &e, why, whylen);
}

/* ------------------------------------------------------------------------
 * Where the last answer came from (set by resolve.c and shared_cache.c)
 * ------------------------------------------------------------------------ */

int sentinel_last_source(const sentinel_t *s)
{
    return s ? s->last_source : SENTINEL_SOURCE_NONE;
}

/* A switch with no default: -Wswitch flags a source without a name. */
static const char *source_name(sentinel_source src)
{
    switch (src) {
    case SENTINEL_SOURCE_NONE:
        return "none";
    case SENTINEL_SOURCE_CACHE:
        return "cache";
    case SENTINEL_SOURCE_SHARED_CACHE:
        return "shared_cache";
    case SENTINEL_SOURCE_SENTINEL:
        return "sentinel";
    case SENTINEL_SOURCE_JOINED:
        return "joined";
    case SENTINEL_SOURCE_LAST_KNOWN:
        return "last_known";
    }
    return "unknown";
}

const char *sentinel_source_name(int source)
{
    if (source < 0 || source >= SENTINEL_SOURCE_COUNT)
        return "unknown";
    return source_name((sentinel_source)source);
}
