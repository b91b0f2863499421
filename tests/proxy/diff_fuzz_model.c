/*
 * diff-fuzz, the model: what each client sends (a round: a pipeline of
 * GET/SET/DEL/INCR/ECHO/PING on its own keys, ended now and then by
 * SELECT, AUTH right or wrong, QUIT, a half-close or an abrupt close; or
 * MULTI ... EXEC), and, reply by reply, what Redis itself would have
 * answered that client. Replies are checked in order against the state the
 * client's connection would have on Redis (its identity, its database, the
 * open transaction) and against the client's own keys, whose names carry
 * the client and the database and whose values carry the key name and the
 * client's write sequence number: a reply naming another client's value,
 * a value from the wrong database, or a reply out of order cannot pass.
 *
 * Faults make some answers uncertain, and only those are loosened: an
 * error the fault explains (-BUSY during a busy script, -MASTERDOWN and
 * -LOADING during an outage), a write whose reply never came (it may
 * still land: a "zombie"), and data a failover or restart may lose (keys
 * become weak until written again).
 */
#define _GNU_SOURCE
#include "diff_fuzz.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *fz_op_name(int op)
{
    static const char *names[] = { "GET", "SET", "DEL", "INCR", "ECHO", "PING", "SELECT",
                                   "AUTH", "MULTI", "EXEC", "QUIT" };
    return op >= 0 && op <= OP_QUIT ? names[op] : "?";
}

static void key_name(char *b, size_t n, const fz_client *c, int db, int k)
{
    if (k < 0)
        snprintf(b, n, "fz:%d:%d:ctr", c->id, db);
    else
        snprintf(b, n, "fz:%d:%d:%d", c->id, db, k);
}

static int64_t answered_sent; /* when the request model_reply() checks was sent */

/* Writes may be lost (a restart): now, or when the request being checked
 * was sent (a client that did not read for a while reads old replies). */
static int lossy_now(void)
{
    return R.lossy || fz_now() < R.lossy_until || answered_sent < R.lossy_until;
}

/* ---- sending ------------------------------------------------------------ */

static fz_req *push(fz_client *c, int op, int key, int db)
{
    fz_req *q;

    if (c->pn >= FZ_MAXPEND)
        return NULL;
    q = &c->pend[(c->ph + c->pn) % FZ_MAXPEND];
    memset(q, 0, sizeof(*q));
    q->op = (uint8_t)op;
    q->key = (int8_t)key;
    q->db = (uint8_t)db;
    q->in_tx = (uint8_t)c->in_multi;
    q->after_quit = (uint8_t)c->quit_sent;
    q->sent = q->sent_at = fz_now();
    c->pn++;
    R.requests++;
    return q;
}

static void send_get(fz_client *c, int k)
{
    char key[48];
    const char *argv[2] = { "GET", key };
    size_t lens[2] = { 3, 0 };

    key_name(key, sizeof(key), c, c->db, k);
    lens[1] = strlen(key);
    if (push(c, OP_GET, k, c->db) == NULL)
        return;
    fz_send(c, 2, argv, lens);
    fz_log(c, "> GET %s", key);
}

/* A value: its key, its sequence number, its length, then filler. */
static char *make_value(const char *key, uint64_t seq, uint32_t vlen)
{
    char *val = malloc(vlen);
    int h;

    if (val == NULL)
        abort();
    h = snprintf(val, vlen, "%s|%" PRIu64 "|%u|", key, seq, (unsigned)vlen);
    for (uint32_t i = (uint32_t)h; i < vlen; i++)
        val[i] = (char)('a' + (seq + i) % 26);
    return val;
}

static void send_set(fz_client *c, int k, uint32_t vlen)
{
    char key[48], *val;
    const char *argv[3] = { "SET", key, NULL };
    size_t lens[3] = { 3, 0, 0 };
    fz_req *q;

    key_name(key, sizeof(key), c, c->db, k);
    lens[1] = strlen(key);
    if ((q = push(c, OP_SET, k, c->db)) == NULL)
        return;
    q->seq = ++c->seq;
    if (vlen < 64)
        vlen = 64;
    q->vlen = vlen;
    val = make_value(key, q->seq, vlen);
    argv[2] = val;
    lens[2] = vlen;
    fz_send(c, 3, argv, lens);
    free(val);
    if (c->keys[c->db][k].maxw < q->seq)
        c->keys[c->db][k].maxw = q->seq;
    fz_log(c, "> SET %s #%" PRIu64 " (%u bytes)", key, q->seq, (unsigned)vlen);
}

static void send_simple(fz_client *c, int op, int key)
{
    char name[48], tok[48];
    const char *argv[2];
    size_t lens[2];
    int argc = 1;
    fz_req *q = push(c, op, key, c->db);

    if (q == NULL)
        return;
    argv[0] = fz_op_name(op);
    if (op == OP_DEL || op == OP_INCR) {
        key_name(name, sizeof(name), c, c->db, op == OP_INCR ? -1 : key);
        argv[1] = name;
        argc = 2;
    } else if (op == OP_ECHO) {
        q->seq = ++c->seq;
        snprintf(tok, sizeof(tok), "e:%d:%" PRIu64, c->id, q->seq);
        argv[1] = tok;
        argc = 2;
    }
    lens[0] = strlen(argv[0]);
    if (argc == 2)
        lens[1] = strlen(argv[1]);
    fz_send(c, argc, argv, lens);
    if (op == OP_MULTI)
        c->in_multi = 1;
    if (op == OP_EXEC)
        c->in_multi = 0;
    if (op == OP_QUIT)
        c->quit_sent = 1;
    fz_log(c, "> %s%s%s", argv[0], argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
}

static void send_select(fz_client *c, int db)
{
    char num[16];
    const char *argv[2] = { "SELECT", num };
    size_t lens[2] = { 6, 0 };
    fz_req *q = push(c, OP_SELECT, -1, c->db);

    if (q == NULL)
        return;
    q->arg = (uint8_t)db;
    lens[1] = (size_t)snprintf(num, sizeof(num), "%d", db);
    fz_send(c, 2, argv, lens);
    fz_log(c, "> SELECT %d", db);
}

static void send_auth(fz_client *c, int how)
{
    static char longpw[1001];
    const char *argv[3] = { "AUTH", NULL, NULL };
    size_t lens[3] = { 4, 0, 0 };
    int argc = 2;
    fz_req *q;

    if (how == AU_ACL && R.acl_user == NULL)
        how = AU_DEFAULT;
    if (how == AU_DEFAULT && R.password == NULL)
        how = AU_WRONG;
    if ((q = push(c, OP_AUTH, -1, c->db)) == NULL)
        return;
    q->arg = (uint8_t)how;
    switch (how) {
    case AU_DEFAULT:
        argv[1] = R.password;
        break;
    case AU_ACL:
        argv[1] = R.acl_user;
        argv[2] = R.acl_password;
        argc = 3;
        break;
    case AU_WRONG:
        argv[1] = "not-the-password";
        break;
    case AU_LONG:
        /* One AUTH string shared by every client, about SH_AUTH_MAX long:
         * the proxy opens a shared connection for it with the AUTH as its
         * preamble. */
        if (longpw[0] == '\0')
            memset(longpw, 'p', sizeof(longpw) - 1);
        argv[1] = longpw;
        break;
    case AU_LONGACL: /* the same, right: clients stay on that connection */
        argv[1] = FZ_LONG_USER;
        argv[2] = fz_long_password();
        argc = 3;
        break;
    }
    for (int i = 1; i < argc; i++)
        lens[i] = strlen(argv[i]);
    fz_send(c, argc, argv, lens);
    fz_log(c, "> AUTH %s", how == AU_DEFAULT ? "<default>" : how == AU_ACL ? "<acl user>"
                           : how == AU_WRONG ? "<wrong>" : how == AU_LONG ? "<1000 x p>"
                           : FZ_LONG_USER " <985 x q>");
}

/* One random data command on the client's own keys. */
static void send_data(fz_client *c)
{
    uint32_t r = fz_rnd(&c->rng, 100);
    int k = (int)fz_rnd(&c->rng, FZ_NKEYS);
    uint32_t b = (uint32_t)R.bufsize;

    if (r < 30)
        send_get(c, k);
    else if (r < 52)
        send_set(c, k, 64 + fz_rnd(&c->rng, 300));
    else if (r < 56) /* around the proxy's buffer size: some pin the client */
        send_set(c, k, b - 128 + fz_rnd(&c->rng, 256));
    else if (r < 57)
        send_set(c, k, 3 * b + fz_rnd(&c->rng, b));
    else if (r < 67)
        send_simple(c, OP_INCR, -1);
    else if (r < 72)
        send_simple(c, OP_DEL, k);
    else if (r < 92)
        send_simple(c, OP_ECHO, -1);
    else
        send_simple(c, OP_PING, -1);
}

static int auth_kind(fz_client *c)
{
    uint32_t r = fz_rnd(&c->rng, 100);

    if (R.password == NULL && r < 55) /* no requirepass: no default password to send */
        r += 30;
    return r < 45 ? AU_DEFAULT : r < 70 ? AU_ACL : r < 85 ? AU_LONGACL : r < 95 ? AU_WRONG
                                                                                : AU_LONG;
}

/* Start a round: the client is open, has nothing outstanding and its
 * think time is over. */
void model_round(fz_client *c)
{
    uint32_t r = fz_rnd(&c->rng, 1000);
    uint32_t n = 1 + fz_rnd(&c->rng, 8);

    if (c->role != RO_NORMAL && c->ident == ID_NONE) {
        send_auth(c, AU_DEFAULT); /* then stays in (default, db 0), the busiest group */
        return;
    }
    if (c->role == RO_SLOW || c->role == RO_NONREAD) {
        /* Many GETs of its 100 KB value (written directly on the master:
         * a SET that big would pin it): far more reply bytes than the
         * client takes, or than the sockets hold. */
        int db = c->db;
        c->db = 0;
        for (int i = 0; i < 100; i++)
            send_get(c, FZ_BIGKEY);
        c->db = db;
        return;
    }
    if (R.auth_storm && fz_now() < R.storm_until && fz_rnd(&c->rng, 10) < 8) {
        if (R.auth_storm == 1)
            send_auth(c, AU_LONG);
        else if (R.auth_storm == 3 && !c->long_auth)
            send_auth(c, AU_LONGACL); /* the others already there go on sending */
        else if (R.auth_storm == 3)
            goto plain;
        else if (fz_rnd(&c->rng, 2) && R.password)
            send_auth(c, c->ident == ID_ACL ? AU_ACL : AU_DEFAULT);
        else
            send_select(c, R.password ? (int)fz_rnd(&c->rng, 2) : 0);
        return;
    }
    if (c->ident == ID_NONE && R.password && r < 900) {
        send_auth(c, auth_kind(c));
        if (fz_rnd(&c->rng, 3) == 0)
            send_select(c, (int)fz_rnd(&c->rng, FZ_NDB)); /* as Magento connects */
        return;
    }
plain:
    if (r < 60) { /* MULTI ... EXEC: pins the client */
        send_simple(c, OP_MULTI, -1);
        for (uint32_t i = 0; i < 1 + n % 3; i++)
            send_data(c);
        send_simple(c, OP_EXEC, -1);
        return;
    }
    /* oom fault: a long pipeline of small commands (sent in pieces): many
     * entries on the shared queue, which grows */
    for (uint32_t i = 0, m = R.dribble ? 48 + fz_rnd(&c->rng, 160) : 0; i < m; i++) {
        uint32_t x = fz_rnd(&c->rng, 3);
        if (x == 0)
            send_get(c, (int)fz_rnd(&c->rng, FZ_NKEYS));
        else
            send_simple(c, x == 1 ? OP_INCR : OP_PING, -1);
    }
    for (uint32_t i = 0; i < n; i++)
        send_data(c);
    if (r < 150)
        send_select(c, fz_rnd(&c->rng, 20) == 0 ? 99 : (int)fz_rnd(&c->rng, FZ_NDB));
    else if (r < 200)
        send_auth(c, auth_kind(c));
    else if (r < 225) {
        send_simple(c, OP_QUIT, -1);
        if (fz_rnd(&c->rng, 2)) /* must not run */
            send_data(c);
    } else if (r < 240)
        c->halfclosed = 1; /* shutdown once written */
    else if (r < 250)
        c->abandon = 1;    /* close without reading the replies */
}

/* ---- checking ----------------------------------------------------------- */

static int is_err(const redisReply *r, const char *prefix)
{
    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, prefix, strlen(prefix)) == 0;
}

static int is_status(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STATUS && strcmp(r->str, s) == 0;
}

/* An error a fault explains; the command did not run. Judged by when the
 * request was sent as well as now: a client that did not read for a while
 * reads an error of a fault that ended long ago. */
static int fault_error(const redisReply *r)
{
    int64_t now = fz_now();

    if (r->type != REDIS_REPLY_ERROR)
        return 0;
    if (is_err(r, "BUSY"))
        return R.busy || now < R.busy_until || answered_sent < R.busy_until;
    /* the proxy out of memory (oom fault) may say so before it closes;
     * over TLS an allocation failing in OpenSSL fails the setup or the
     * handshake of a master connection, which the proxy reports as the
     * master's error ("-ERR sentinel-proxy: master H:P: TLS ...") */
    if ((is_err(r, "OOM") || strstr(r->str, "out of memory") != NULL ||
         (R.tls && is_err(r, "ERR sentinel-proxy: master ") && strstr(r->str, ": TLS ") != NULL)) &&
        (R.oom || now < R.oom_until || answered_sent < R.oom_until))
        return 1;
    if (is_err(r, "LOADING") || is_err(r, "MASTERDOWN") || is_err(r, "READONLY"))
        return fz_in_window() ||
               (R.last_fault_end && answered_sent < R.last_fault_end + R.pause_ms + 2000);
    /* --tls: a master that is frozen accepts TCP connections but never
     * finishes a TLS handshake (the proxy bounds it by connect-timeout), and
     * one killed mid-handshake resets it; a client whose own master
     * connection is being opened then gets the proxy's documented
     * "-ERR sentinel-proxy: master H:P: TLS handshake ..." (man page, TLS),
     * where a plaintext connection would have waited for the thaw or been
     * held as refused. Accepted while the master is away and for
     * pause-timeout + 2 s after (a handshake begun then ends later). */
    if (R.tls && is_err(r, "ERR sentinel-proxy: master ") &&
        strstr(r->str, ": TLS handshake") != NULL)
        return R.master_away || now < R.master_away_until || answered_sent < R.master_away_until;
    return 0;
}

static void zombie_add(fz_key *k, uint64_t seq)
{
    if (k->nz > 0 && k->zhi[k->nz - 1] + 1 >= seq) {
        k->zhi[k->nz - 1] = seq;
        return;
    }
    if (k->nz == FZ_ZOMBIES) { /* merge the oldest two */
        k->zhi[0] = k->zhi[1];
        memmove(&k->zlo[1], &k->zlo[2], (FZ_ZOMBIES - 2) * sizeof(k->zlo[0]));
        memmove(&k->zhi[1], &k->zhi[2], (FZ_ZOMBIES - 2) * sizeof(k->zhi[0]));
        k->nz--;
    }
    k->zlo[k->nz] = k->zhi[k->nz] = seq;
    k->nz++;
}

static int zombie_has(const fz_key *k, uint64_t seq)
{
    for (int i = 0; i < k->nz; i++)
        if (seq >= k->zlo[i] && seq <= k->zhi[i])
            return 1;
    return 0;
}

static void key_known(fz_key *k, uint64_t val)
{
    if (lossy_now()) {
        k->weak = 1;
        k->nil_ok = 1;
        k->floor = 0;
        return;
    }
    k->val = val;
    k->weak = 0;
    k->nil_ok = 0;
}

/* A GET's value: ours, for this key, whole, and one the model allows. */
static const char *check_value(fz_client *c, const fz_req *q, const redisReply *r)
{
    fz_key *k = &c->keys[q->db][q->key];
    char key[48], head[96];
    uint64_t seq;
    unsigned len;
    int h;

    if (r->type == REDIS_REPLY_NIL) {
        if ((!k->weak && k->val == 0) || (k->weak && k->nil_ok) || answered_sent < k->zdel_until) {
            key_known(k, 0);
            return NULL;
        }
        return "nil, but the key holds a value";
    }
    if (r->type != REDIS_REPLY_STRING)
        return "not a bulk string";
    key_name(key, sizeof(key), c, q->db, q->key);
    if (r->len < strlen(key) + 1 || memcmp(r->str, key, strlen(key)) != 0 ||
        r->str[strlen(key)] != '|')
        return "a value of another key (another client's or database's)";
    if (sscanf(r->str + strlen(key), "|%" SCNu64 "|%u|", &seq, &len) != 2 || len != r->len)
        return "a damaged value";
    h = snprintf(head, sizeof(head), "%s|%" PRIu64 "|%u|", key, seq, len);
    for (size_t i = (size_t)h; i < r->len; i++)
        if (r->str[i] != (char)('a' + (seq + i) % 26))
            return "a damaged value";
    if (zombie_has(k, seq) || (!k->weak && seq == k->val) ||
        (k->weak && seq >= k->floor && seq <= k->maxw)) {
        key_known(k, seq);
        return NULL;
    }
    return "an older or newer value than the key holds";
}

static const char *apply(fz_client *c, const fz_req *q, const redisReply *r)
{
    fz_key *k = q->key >= 0 ? &c->keys[q->db][q->key] : NULL;
    fz_ctr *ct = &c->ctr[q->db];
    char tok[48];

    switch (q->op) {
    case OP_GET:
        return check_value(c, q, r);
    case OP_SET:
        if (!is_status(r, "OK"))
            return "SET not +OK";
        key_known(k, q->seq);
        return NULL;
    case OP_DEL:
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer > 1)
            return "DEL not :0 or :1";
        if (!k->weak && !k->nz && r->integer != (k->val != 0))
            return "DEL disagrees with the key's existence";
        key_known(k, 0);
        return NULL;
    case OP_INCR: {
        int64_t lo = lossy_now() ? 0 : ct->lo;
        if (r->type != REDIS_REPLY_INTEGER)
            return "INCR not an integer";
        if (r->integer < lo + 1 || r->integer > ct->hi + 1 + ct->zombies)
            return "INCR out of the counter's range";
        ct->lo = lossy_now() ? 0 : r->integer;
        ct->hi = r->integer;
        return NULL;
    }
    case OP_ECHO:
        snprintf(tok, sizeof(tok), "e:%d:%" PRIu64, c->id, q->seq);
        if (r->type != REDIS_REPLY_STRING || strcmp(r->str, tok) != 0)
            return "ECHO returned another token (a reply out of order or another client's)";
        return NULL;
    case OP_PING:
        return is_status(r, "PONG") ? NULL : "PING not +PONG";
    default:
        return "unexpected op";
    }
}

static void tx_push(fz_client *c, const fz_req *q);

static const char *check(fz_client *c, const fz_req *q, const redisReply *r)
{
    const char *why;

    if (q->after_quit)
        return "a reply to a command sent after QUIT";
    if (c->ident == ID_NONE && R.password && q->op != OP_AUTH && q->op != OP_QUIT) {
        if (is_err(r, "NOAUTH") || fault_error(r))
            return NULL;
        return "want -NOAUTH (the client has not authenticated)";
    }
    if (is_err(r, "NOAUTH"))
        return "-NOAUTH, but the client authenticated";
    switch (q->op) {
    case OP_SELECT:
        if (fault_error(r))
            return NULL;
        if (q->arg >= 16)
            return is_err(r, "ERR") ? NULL : "SELECT 99 not an error";
        if (!is_status(r, "OK"))
            return "SELECT not +OK";
        c->db = q->arg;
        return NULL;
    case OP_AUTH:
        if (fault_error(r))
            return NULL;
        if (q->arg == AU_WRONG || q->arg == AU_LONG) /* -ERR without requirepass */
            return is_err(r, "WRONGPASS") || (!R.password && is_err(r, "ERR"))
                       ? NULL : "a wrong AUTH not -WRONGPASS";
        if (q->arg == AU_ACL && is_err(r, "WRONGPASS") &&
            (R.acl_changed || fz_now() < R.acl_until || answered_sent < R.acl_until))
            return NULL; /* its password is being rotated */
        if (q->arg == AU_LONGACL && is_err(r, "WRONGPASS") && fz_in_window())
            return NULL; /* a restarted node knows only its configured users */
        if (!is_status(r, "OK"))
            return "AUTH not +OK";
        c->ident = q->arg == AU_DEFAULT ? ID_DEFAULT : ID_ACL;
        c->long_auth = q->arg == AU_LONGACL;
        return NULL;
    case OP_MULTI:
        if (fault_error(r)) {
            c->tx_broken = 1;
            return NULL;
        }
        c->tx_broken = 0;
        c->tx_dirty = 0;
        c->ntx = 0;
        return is_status(r, "OK") ? NULL : "MULTI not +OK";
    case OP_EXEC:
        if (c->tx_broken) {
            c->tx_broken = 0;
            return r->type == REDIS_REPLY_ERROR ? NULL : "EXEC without MULTI not an error";
        }
        if (fault_error(r)) {
            c->abandon = 1; /* Redis may still be in MULTI: start afresh */
            return NULL;
        }
        if (c->tx_dirty)
            return is_err(r, "EXECABORT") ? NULL : "EXEC after a refused command not -EXECABORT";
        if (r->type != REDIS_REPLY_ARRAY || r->elements != c->ntx)
            return "EXEC not an array of the queued commands' replies";
        for (size_t i = 0; i < r->elements; i++)
            if ((why = apply(c, &c->tx[i], r->element[i])) != NULL)
                return why;
        c->ntx = 0;
        return NULL;
    case OP_QUIT:
        return is_status(r, "OK") ? NULL : "QUIT not +OK";
    }
    if (q->in_tx && !c->tx_broken) {
        if (fault_error(r)) {
            c->tx_dirty = 1;
            return NULL;
        }
        if (!is_status(r, "QUEUED"))
            return "a command in MULTI not +QUEUED";
        tx_push(c, q);
        return NULL;
    }
    if (fault_error(r))
        return NULL; /* did not run */
    return apply(c, q, r);
}

static void tx_push(fz_client *c, const fz_req *q)
{
    if (c->ntx < sizeof(c->tx) / sizeof(c->tx[0]))
        c->tx[c->ntx++] = *q;
}

static void reply_text(const redisReply *r, char *b, size_t n)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
        snprintf(b, n, "\"%.60s\"%s (%zu bytes)", r->str, r->len > 60 ? "..." : "", r->len);
        break;
    case REDIS_REPLY_STATUS:
        snprintf(b, n, "+%.80s", r->str);
        break;
    case REDIS_REPLY_ERROR:
        snprintf(b, n, "-%.100s", r->str);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(b, n, ":%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        snprintf(b, n, "(nil)");
        break;
    case REDIS_REPLY_ARRAY:
        snprintf(b, n, "array of %zu", r->elements);
        break;
    default:
        snprintf(b, n, "type %d", r->type);
    }
}

void model_reply(fz_client *c, const redisReply *r)
{
    char text[160];
    const char *why;
    fz_req q;

    reply_text(r, text, sizeof(text));
    if (c->pn == 0) {
        fz_log(c, "< %s", text);
        fz_fail(c, "a reply with no request outstanding: %s", text);
        return;
    }
    q = c->pend[c->ph];
    c->ph = (c->ph + 1) % FZ_MAXPEND;
    c->pn--;
    c->replies++;
    R.replies++;
    fz_log(c, "< %s (%s)", text, fz_op_name(q.op));
    answered_sent = q.sent_at;
    if (fault_error(r) && !(c->ident == ID_NONE && is_err(r, "NOAUTH"))) {
        R.errors_accepted++;
        c->accepted_errs++;
    }
    if ((why = check(c, &q, r)) != NULL)
        fz_fail(c, "reply to %s: %s; got %s", fz_op_name(q.op), why, text);
    if (q.op == OP_QUIT)
        c->quit_done = 1;
}

/* ---- connections and faults -------------------------------------------- */

void model_conn_reset(fz_client *c)
{
    c->ph = c->pn = 0;
    c->ident = R.password ? ID_NONE : ID_DEFAULT;
    c->db = 0;
    c->in_multi = c->tx_broken = c->tx_dirty = 0;
    c->ntx = 0;
    c->quit_sent = c->quit_done = c->halfclosed = c->abandon = 0;
    c->long_auth = 0;
}

/* The connection ended with requests outstanding: a write may or may not
 * have run (and, queued in the proxy, may still run later), except after
 * QUIT: nothing after it runs. */
/* A DEL whose connection ended unanswered may still run after a later
 * SET of the client was acknowledged on a new connection, just as a zombie
 * SET may land late: the proxy read the ended client's bytes (or flushed
 * the shared connection that carries them) after the new connection's.
 * Redis direct has no order across connections either, but runs such a
 * DEL within a loop turn; through the proxy it must run within the bound
 * every request has (pause-timeout + margin) or never. (Found with --tls,
 * seed 1: a GET read nil 0.3-0.5 s after such a DEL, behind the SET that
 * the client's next connection had written and seen acknowledged; that
 * DEL is the only write that can make the key nil.) */
static void zombie_del(fz_key *k)
{
    k->zdel_until = fz_now() + R.pause_ms + R.margin_ms;
}

void model_conn_lost(fz_client *c)
{
    for (size_t i = 0; i < c->pn; i++) {
        const fz_req *q = &c->pend[(c->ph + i) % FZ_MAXPEND];
        if (q->after_quit)
            continue;
        if (q->op == OP_SET)
            zombie_add(&c->keys[q->db][q->key], q->seq);
        else if (q->op == OP_DEL) {
            fz_key *k = &c->keys[q->db][q->key];
            if (!k->weak)
                k->floor = k->val;
            k->weak = 1;
            k->nil_ok = 1;
            zombie_del(k);
        } else if (q->op == OP_INCR)
            c->ctr[q->db].zombies++;
    }
    /* queued in a transaction: EXEC may have run */
    for (size_t i = 0; i < c->ntx; i++) {
        const fz_req *q = &c->tx[i];
        if (q->op == OP_SET)
            zombie_add(&c->keys[q->db][q->key], q->seq);
        else if (q->op == OP_INCR)
            c->ctr[q->db].zombies++;
        else if (q->op == OP_DEL) {
            c->keys[q->db][q->key].weak = c->keys[q->db][q->key].nil_ok = 1;
            zombie_del(&c->keys[q->db][q->key]);
        }
    }
    model_conn_reset(c);
}

/* The client's 100 KB value in db 0, written directly on the master. */
int model_big_value(fz_client *c)
{
    char key[48], *val;
    int port = fz_master_port();
    fz_conn *ctx = port > 0 ? fz_admin(port, 0) : NULL;
    redisReply *r;
    uint64_t seq = ++c->seq;
    int ok;

    if (ctx == NULL)
        return -1;
    key_name(key, sizeof(key), c, 0, FZ_BIGKEY);
    val = make_value(key, seq, FZ_BIG);
    r = fz_admin_cmd(ctx, "SET %s %b", key, val, (size_t)FZ_BIG);
    ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    fz_admin_close(ctx);
    free(val);
    if (!ok)
        return -1;
    c->keys[0][FZ_BIGKEY].maxw = seq;
    key_known(&c->keys[0][FZ_BIGKEY], seq);
    return 0;
}

/* Its keys may hold anything it wrote, or nothing. */
static void keys_weak(fz_client *c, int64_t ctr_zombies)
{
    for (int d = 0; d < FZ_NDB; d++) {
        for (int k = 0; k <= FZ_NKEYS; k++) {
            c->keys[d][k].weak = 1;
            c->keys[d][k].nil_ok = 1;
            c->keys[d][k].floor = 0;
        }
        c->ctr[d].lo = 0;
        c->ctr[d].zombies += ctr_zombies;
    }
}

/* A failover or a restart may lose any write acknowledged so far. */
void model_lossy_all(void)
{
    for (int i = 0; i < R.clients; i++)
        keys_weak(&fz_clients[i], 0);
}

/* After a reported failure (--keep-going): the client's data is unknown. */
void model_forget(fz_client *c)
{
    keys_weak(c, 1000000);
    for (int d = 0; d < FZ_NDB; d++)
        for (int k = 0; k <= FZ_NKEYS; k++)
            c->keys[d][k].maxw = c->seq;
}
