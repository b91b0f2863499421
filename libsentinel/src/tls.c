/*
 * TLS to sentinels and data nodes, with OpenSSL.
 *
 * Options are kept per role (sentinels, data nodes), because Redis lets the
 * two differ. Each role of a handle holds one SSL_CTX, built when an option
 * changes while TLS is on (so a bad CA file or key is reported by the setter
 * that named it) and shared, reference counted, by the copies a watcher or
 * follower makes of the handle's configuration.
 *
 * A connection's bytes go through a BIO of our own that calls the transport
 * seam's non-blocking send and receive (link.c): no SIGPIPE (send with
 * MSG_NOSIGNAL), and deadlines stay the link's business. This file never
 * blocks: the handshake, reads and writes return "would block" with the
 * poll events OpenSSL wants, and the caller waits within its deadline.
 *
 * Built without SENTINEL_HAVE_TLS (the PHP extension's bundled copy), the
 * setters exist but refuse to turn TLS on, with SENTINEL_ERR_TLS.
 *
 * Over 800 lines: the OpenSSL and the no-OpenSSL variants of every
 * connection call sit side by side behind one ops table; split the server
 * side (the proxy's listener) out when it next grows.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef SENTINEL_HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

/* ------------------------------------------------------------------------
 * Options: init, copy, free (also without OpenSSL)
 * ------------------------------------------------------------------------ */

static void opts_free_strings(sn_tls_opts *o)
{
    free(o->ca_file);
    free(o->ca_dir);
    free(o->cert);
    free(o->key);
    free(o->sni);
    o->ca_file = o->ca_dir = o->cert = o->key = o->sni = NULL;
}

static void opts_free(sn_tls_opts *o)
{
    opts_free_strings(o);
#ifdef SENTINEL_HAVE_TLS
    SSL_CTX_free(o->ctx);
#endif
    o->ctx = NULL;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    return (*dst = strdup(src)) == NULL ? -1 : 0;
}

/* dst holds a bitwise copy of src: give it its own strings and a reference
 * to the context. On failure dst owns nothing. */
static int opts_copy(sn_tls_opts *dst, const sn_tls_opts *src)
{
    /* Nothing of src's may be freed through dst on the way out. */
    dst->ca_file = dst->ca_dir = dst->cert = dst->key = dst->sni = NULL;
    dst->ctx = NULL;
    if (dup_opt(&dst->ca_file, src->ca_file) == -1 || dup_opt(&dst->ca_dir, src->ca_dir) == -1 ||
        dup_opt(&dst->cert, src->cert) == -1 || dup_opt(&dst->key, src->key) == -1 ||
        dup_opt(&dst->sni, src->sni) == -1) {
        opts_free_strings(dst);
        return -1;
    }
#ifdef SENTINEL_HAVE_TLS
    if (src->ctx != NULL && SSL_CTX_up_ref(src->ctx) == 1)
        dst->ctx = src->ctx;
    else if (src->ctx != NULL) {
        opts_free_strings(dst);
        return -1;
    }
#endif
    return 0;
}

/* ------------------------------------------------------------------------
 * The public setters
 * ------------------------------------------------------------------------ */

/* Defined at the end; every setter hands it to the options it touches. */
static const sn_tls_ops tls_ops;

static int check_role(sentinel_t *s, int role)
{
    if (role != SENTINEL_TLS_SENTINELS && role != SENTINEL_TLS_DATA)
        return sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                          "bad TLS role %d: SENTINEL_TLS_SENTINELS or SENTINEL_TLS_DATA", role);
    s->cfg.tls[role].ops = &tls_ops;
    s->cfg.tls[role].role = role;
    return 0;
}

static const char *role_name(int role)
{
    return role == SENTINEL_TLS_SENTINELS ? "sentinels" : "data nodes";
}

#ifdef SENTINEL_HAVE_TLS

/* What ssl_error_text() saw in the queue, besides its text. */
#define SSLE_MALLOC 1   /* a malloc failure */
#define SSLE_INTERNAL 2 /* an "internal error" */
#define SSLE_EMPTY 4    /* nothing queued */

static int ssl_error_kind(unsigned long err)
{
    int r = ERR_GET_REASON(err);

    return r == ERR_GET_REASON(ERR_R_MALLOC_FAILURE)     ? SSLE_MALLOC
           : r == ERR_GET_REASON(ERR_R_INTERNAL_ERROR) ? SSLE_INTERNAL
                                                         : 0;
}

/* The last queued OpenSSL error as text; clears the queue. Returns the
 * SSLE_* kinds of the errors it held (0 for none of them). */
static int ssl_error_text(char *buf, size_t len)
{
    unsigned long err = ERR_get_error();
    unsigned long next;
    int kinds;

    if (err == 0) {
        snprintf(buf, len, "no detail from OpenSSL");
        return SSLE_EMPTY;
    }
    kinds = ssl_error_kind(err);
    /* The most specific error is usually the last one queued. */
    while ((next = ERR_get_error()) != 0) {
        err = next;
        kinds |= ssl_error_kind(err);
    }
    ERR_error_string_n(err, buf, len);
    return kinds;
}

/* Build the context for o; NULL with e set. */
static SSL_CTX *build_ctx(const sn_tls_opts *o, int role, sn_err *e)
{
    SSL_CTX *ctx;
    char why[256];

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: cannot create context: %s", role_name(role),
                   why);
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* A peer that closes without close_notify is a closed connection. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    if (!SSL_CTX_set_min_proto_version(ctx, o->min_version ? o->min_version : TLS1_2_VERSION)) {
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: bad minimum version", role_name(role));
        goto fail;
    }
    if (o->ca_file || o->ca_dir) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_dir) != 1) {
            ssl_error_text(why, sizeof(why));
            sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: cannot load CA %s%s%s: %s",
                       role_name(role), o->ca_file ? o->ca_file : "",
                       o->ca_file && o->ca_dir ? " / " : "", o->ca_dir ? o->ca_dir : "", why);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: cannot load the system CAs: %s",
                   role_name(role), why);
        goto fail;
    }
    if (o->cert) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
            ssl_error_text(why, sizeof(why));
            sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: cannot load certificate %s: %s",
                       role_name(role), o->cert, why);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            ssl_error_text(why, sizeof(why));
            sn_err_set(e, SENTINEL_ERR_TLS, "TLS for %s: cannot use key %s: %s", role_name(role),
                       o->key, why);
            goto fail;
        }
    }
    SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

#endif

/* The five string options of o, for walking them. */
#define TLS_STRINGS(o) {&(o)->ca_file, &(o)->ca_dir, &(o)->cert, &(o)->key, &(o)->sni}

/* Free the strings of drop that keep does not share. */
static void free_changed(const sn_tls_opts *keep, sn_tls_opts *drop)
{
    char *const *k[] = TLS_STRINGS((sn_tls_opts *)keep);
    char **d[] = TLS_STRINGS(drop);

    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (*d[i] != *k[i])
            free(*d[i]);
}

/*
 * Make role's options those of want: a shallow copy of them with some
 * fields replaced (fresh strings, owned by want). While TLS is on, a context
 * is built from want first: if that fails, nothing changes (the previous
 * context, which matches the previous options, stays) and want's fresh
 * strings are freed. A changed option never silently keeps an old context.
 */
static int commit(sentinel_t *s, int role, sn_tls_opts *want)
{
    sn_tls_opts *o = &s->cfg.tls[role];
    void *ctx = NULL;

    if (want->enabled) {
#ifdef SENTINEL_HAVE_TLS
        ctx = build_ctx(want, role, &s->err);
#else
        sn_err_set(&s->err, SENTINEL_ERR_TLS,
                   "TLS for %s: this build of libsentinel has no TLS support", role_name(role));
#endif
        if (ctx == NULL) {
            free_changed(o, want);
            return -1;
        }
    }
    free_changed(want, o);
#ifdef SENTINEL_HAVE_TLS
    SSL_CTX_free(o->ctx);
#endif
    want->ctx = ctx;
    *o = *want;
    return 0;
}

/* A fresh copy of v into *slot (NULL for NULL or ""); 0 or -1 (e set). */
static int dup_str(sentinel_t *s, char **slot, const char *v, const char *what)
{
    *slot = NULL;
    if (v == NULL || v[0] == '\0')
        return 0;
    if (strlen(v) > 4096)
        return sn_err_set(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "TLS %s is too long", what);
    if ((*slot = strdup(v)) == NULL)
        return sn_err_set(&s->err, SENTINEL_ERR_NO_MEMORY, "out of memory");
    return 0;
}

/* commit() for the public setters, which return the code. */
static int commit_code(sentinel_t *s, int role, sn_tls_opts *want)
{
    return commit(s, role, want) == 0 ? SENTINEL_OK : s->err.code;
}

int sentinel_set_tls(sentinel_t *s, int role, int on)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    want = s->cfg.tls[role];
    want.enabled = on != 0;
    if (commit(s, role, &want) == 0)
        return SENTINEL_OK;
    /* Fail closed: TLS stays requested without a context, so connections
     * fail with SENTINEL_ERR_TLS rather than go out in plaintext. */
    {
        sn_tls_opts *o = &s->cfg.tls[role];
#ifdef SENTINEL_HAVE_TLS
        SSL_CTX_free(o->ctx);
#endif
        o->ctx = NULL;
        o->enabled = 1;
    }
    return s->err.code;
}

int sentinel_set_tls_ca(sentinel_t *s, int role, const char *ca_file, const char *ca_dir)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    want = s->cfg.tls[role];
    if (dup_str(s, &want.ca_file, ca_file, "CA file") == -1)
        return s->err.code;
    if (dup_str(s, &want.ca_dir, ca_dir, "CA directory") == -1) {
        free(want.ca_file);
        return s->err.code;
    }
    return commit_code(s, role, &want);
}

int sentinel_set_tls_cert(sentinel_t *s, int role, const char *cert_file, const char *key_file)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    if ((cert_file && *cert_file) != (key_file && *key_file))
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "TLS client certificate and key go together: give both or neither");
    want = s->cfg.tls[role];
    if (dup_str(s, &want.cert, cert_file, "certificate file") == -1)
        return s->err.code;
    if (dup_str(s, &want.key, key_file, "key file") == -1) {
        free(want.cert);
        return s->err.code;
    }
    return commit_code(s, role, &want);
}

int sentinel_set_tls_server_name(sentinel_t *s, int role, const char *name)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    if (name != NULL && (strlen(name) >= SENTINEL_HOST_MAX || strpbrk(name, " \t\r\n") != NULL))
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "bad TLS server name");
    want = s->cfg.tls[role];
    if (dup_str(s, &want.sni, name, "server name") == -1)
        return s->err.code;
    return commit_code(s, role, &want);
}

int sentinel_set_tls_verify(sentinel_t *s, int role, int on)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    want = s->cfg.tls[role];
    want.insecure = on == 0;
    return commit_code(s, role, &want);
}

int sentinel_set_tls_min_version(sentinel_t *s, int role, int version)
{
    sn_tls_opts want;

    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (check_role(s, role) == -1)
        return s->err.code;
    if (version != 0 && version != SENTINEL_TLS_V1_2 && version != SENTINEL_TLS_V1_3)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "bad TLS minimum version 0x%x: SENTINEL_TLS_V1_2 or SENTINEL_TLS_V1_3",
                           (unsigned)version);
    want = s->cfg.tls[role];
    want.min_version = version;
    return commit_code(s, role, &want);
}

int sentinel_tls_available(void)
{
#ifdef SENTINEL_HAVE_TLS
    return 1;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------
 * One connection
 * ------------------------------------------------------------------------ */

#ifdef SENTINEL_HAVE_TLS

/* What the BIO reads and writes through: the link's transport handle. */
typedef struct tls_io {
    const sn_transport *t;
    int h;
    sn_err err;  /* why the transport failed, if it did */
    int failed;
    size_t got;          /* bytes the peer sent */
    unsigned char first; /* the first of them */
} tls_io;

struct sn_tls_conn {
    SSL *ssl;
    BIO *bio;
    tls_io io;
    int handshake_done;
};

static void sn_tls_conn_free(sn_tls_conn *c);

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *buf, int len)
{
    tls_io *io = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    n = io->t->nb_send(io->h, buf, (size_t)len, &io->err);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        BIO_set_retry_write(b);
        return -1;
    }
    io->failed = 1;
    return -1;
}

static int bio_read(BIO *b, char *buf, int cap)
{
    tls_io *io = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    n = io->t->nb_recv(io->h, buf, (size_t)cap, &io->err);
    if (n > 0 && io->got == 0)
        io->first = (unsigned char)buf[0];
    if (n > 0)
        io->got += (size_t)n;
    if (n > 0 || n == 0)
        return (int)n;
    if (n == SN_WOULD_BLOCK) {
        BIO_set_retry_read(b);
        return -1;
    }
    io->failed = 1;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sentinel");

    if (m == NULL)
        return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    bio_method = m;
}

static int is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* A connection over transport handle h with ctx: 1 with *out set, 0 when
 * OpenSSL failed (*out set, the caller reports and frees), -1 out of
 * memory (e set). */
static int conn_alloc(void *ctx, const sn_transport *t, int h, sn_tls_conn **out, sn_err *e)
{
    sn_tls_conn *c;

    if ((*out = c = calloc(1, sizeof(*c))) == NULL)
        return sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory");
    c->io.t = t;
    c->io.h = h;
    ERR_clear_error();
    if ((c->ssl = SSL_new(ctx)) == NULL || (c->bio = BIO_new(bio_method)) == NULL)
        return 0;
    BIO_set_data(c->bio, &c->io);
    SSL_set_bio(c->ssl, c->bio, c->bio); /* the SSL owns the BIO now */
    return 1;
}

static sn_tls_conn *sn_tls_conn_new(const sn_tls_opts *o, const sn_transport *t, int h,
                                     const char *host, sn_err *e)
{
    sn_tls_conn *c;
    const char *name = o->sni ? o->sni : host;
    char why[256];
    int rc;

    pthread_once(&bio_once, bio_method_init);
    if (o->ctx == NULL || bio_method == NULL) {
        /* Turning TLS on failed (the setter said why): fail closed. */
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS is on but could not be set up (CA, certificate "
                                        "or key): see the error of the TLS setter");
        return NULL;
    }
    if ((rc = conn_alloc(o->ctx, t, h, &c, e)) == -1)
        return NULL;
    if (rc == 0)
        goto fail;
    SSL_set_connect_state(c->ssl);
    /* SNI carries names only, never an address (RFC 6066). */
    if (!is_ip_literal(name) && SSL_set_tlsext_host_name(c->ssl, name) != 1)
        goto fail;
    if (!o->insecure) {
        if (is_ip_literal(name)) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1)
                goto fail;
        } else if (SSL_set1_host(c->ssl, name) != 1) {
            goto fail;
        }
    }
    return c;
fail:
    /* Out of memory is no TLS error, and OpenSSL's text for it may itself
     * be cut short. With a valid context only memory can fail here (but a
     * server name too long for SNI, which OpenSSL names): SSL_new() or
     * BIO_new() giving NULL, a malloc failure in the queue, an "internal
     * error" (OpenSSL 3.0's word for a failed copy of the SNI name), or
     * nothing queued (SSL_set1_host() says nothing when its copy fails). */
    if (ssl_error_text(why, sizeof(why)) != 0 || rc == 0)
        sn_err_set(e, SENTINEL_ERR_NO_MEMORY, "out of memory (TLS setup for %s)", name);
    else
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS setup for %s: %s", name, why);
    sn_tls_conn_free(c);
    return NULL;
}

static void sn_tls_conn_free(sn_tls_conn *c)
{
    if (c == NULL)
        return;
    SSL_free(c->ssl); /* frees the BIO; the transport handle is the link's */
    free(c);
}

/* Turn an SSL_get_error() into our convention. Returns 0 (would block,
 * *want set) or -1 (e set). op names the operation for the message. */
static int ssl_failed(sn_tls_conn *c, int rc, const char *op, short *want, sn_err *e)
{
    int err = SSL_get_error(c->ssl, rc);
    long vr;
    char why[256];

    switch (err) {
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        return 0;
    case SSL_ERROR_SSL:
        vr = SSL_get_verify_result(c->ssl);
        if (!c->handshake_done && vr != X509_V_OK) {
            ERR_clear_error();
            /* "certificate has expired", "unable to get local issuer
             * certificate" (unknown CA), "hostname mismatch", ... */
            return sn_err_set(e, SENTINEL_ERR_TLS, "TLS %s: certificate verify failed: %s", op,
                              X509_verify_cert_error_string(vr));
        }
        ssl_error_text(why, sizeof(why));
        return sn_err_set(e, SENTINEL_ERR_TLS, "TLS %s failed: %s", op, why);
    case SSL_ERROR_ZERO_RETURN:
    case SSL_ERROR_SYSCALL:
    default:
        ERR_clear_error();
        if (c->io.failed)
            *e = c->io.err; /* the transport's own error */
        else
            sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connection closed by peer");
        if (!c->handshake_done) {
            /* A peer that drops the handshake is a TLS problem: most often
             * a plaintext port, or a server refusing our certificate. */
            char msg[SN_ERRSTR_MAX];
            snprintf(msg, sizeof(msg), "%s", e->msg);
            return sn_err_set(e, SENTINEL_ERR_TLS, "TLS handshake: %s (is it a TLS port?)", msg);
        }
        return -1;
    }
}

static int sn_tls_handshake(sn_tls_conn *c, short *want, sn_err *e)
{
    int rc;

    *want = 0;
    if (c->handshake_done)
        return 1;
    ERR_clear_error();
    rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        c->handshake_done = 1;
        return 1;
    }
    return ssl_failed(c, rc, "handshake", want, e);
}

static ssize_t sn_tls_send(sn_tls_conn *c, const void *buf, size_t len, short *want, sn_err *e)
{
    size_t done = 0;
    int rc;

    *want = 0;
    if (len == 0)
        return 0;
    ERR_clear_error();
    rc = SSL_write_ex(c->ssl, buf, len, &done);
    if (rc == 1)
        return (ssize_t)done;
    return ssl_failed(c, 0, "write", want, e);
}

static ssize_t sn_tls_recv(sn_tls_conn *c, void *buf, size_t cap, short *want, sn_err *e)
{
    size_t done = 0;
    int rc, err;

    *want = 0;
    ERR_clear_error();
    rc = SSL_read_ex(c->ssl, buf, cap, &done);
    if (rc == 1)
        return (ssize_t)done;
    err = SSL_get_error(c->ssl, 0);
    if (err == SSL_ERROR_ZERO_RETURN ||
        (err == SSL_ERROR_SYSCALL && !c->io.failed && ERR_peek_error() == 0)) {
        ERR_clear_error();
        return 0; /* closed */
    }
    if (ssl_failed(c, 0, "read", want, e) == 0)
        return SN_WOULD_BLOCK;
    return -1;
}

static size_t sn_tls_pending(const sn_tls_conn *c)
{
    /* Decrypted bytes, or (read-ahead) record bytes read from the socket. */
    int n = SSL_pending(c->ssl);

    return n > 0 ? (size_t)n : (size_t)SSL_has_pending(c->ssl);
}

static void sn_tls_read_ahead(sn_tls_conn *c)
{
    SSL_set_read_ahead(c->ssl, 1);
}

static size_t sn_tls_bytes_in(const sn_tls_conn *c, unsigned char *first)
{
    *first = c->io.first;
    return c->io.got;
}

/* ------------------------------------------------------------------------
 * The server side (sentinel-proxy's TLS listener)
 * ------------------------------------------------------------------------ */

static void *sn_tls_server_ctx_new(const char *cert, const char *key, const char *ca_file,
                                   sn_err *e)
{
    SSL_CTX *ctx;
    char why[256];

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS listener: cannot create context: %s", why);
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    /* No session tickets: a read never has to wait for a write, and no
     * ticket key lives in the process. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS listener: cannot load certificate %s: %s", cert,
                   why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS listener: cannot use key %s: %s", key, why);
        goto fail;
    }
    if (ca_file) {
        STACK_OF(X509_NAME) *names;
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 ||
            (names = SSL_load_client_CA_file(ca_file)) == NULL) {
            ssl_error_text(why, sizeof(why));
            sn_err_set(e, SENTINEL_ERR_TLS, "TLS listener: cannot load client CA %s: %s",
                       ca_file, why);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

static void sn_tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

static sn_tls_conn *sn_tls_conn_accept(void *ctx, const sn_transport *t, int h, sn_err *e)
{
    sn_tls_conn *c;
    char why[256];

    pthread_once(&bio_once, bio_method_init);
    if (ctx == NULL || bio_method == NULL) {
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS listener is not set up");
        return NULL;
    }
    switch (conn_alloc(ctx, t, h, &c, e)) {
    case -1:
        return NULL;
    case 0:
        ssl_error_text(why, sizeof(why));
        sn_err_set(e, SENTINEL_ERR_TLS, "TLS setup for a client: %s", why);
        sn_tls_conn_free(c);
        return NULL;
    }
    SSL_set_accept_state(c->ssl);
    return c;
}

static void sn_tls_close_notify(sn_tls_conn *c)
{
    /* One call: our alert goes out (or not, if the socket is full); the
     * peer's close_notify is not awaited. */
    ERR_clear_error();
    if (c->handshake_done && SSL_shutdown(c->ssl) < 0)
        ERR_clear_error();
}

#else /* !SENTINEL_HAVE_TLS: never reached, the options cannot turn TLS on */

static size_t sn_tls_pending(const sn_tls_conn *c)
{
    (void)c;
    return 0;
}

static void sn_tls_read_ahead(sn_tls_conn *c)
{
    (void)c;
}

static size_t sn_tls_bytes_in(const sn_tls_conn *c, unsigned char *first)
{
    (void)c;
    *first = 0;
    return 0;
}

static void *sn_tls_server_ctx_new(const char *cert, const char *key, const char *ca_file,
                                   sn_err *e)
{
    (void)cert, (void)key, (void)ca_file;
    sn_err_set(e, SENTINEL_ERR_TLS, "this build of libsentinel has no TLS support");
    return NULL;
}

static void sn_tls_ctx_free(void *ctx)
{
    (void)ctx;
}

static sn_tls_conn *sn_tls_conn_accept(void *ctx, const sn_transport *t, int h, sn_err *e)
{
    (void)ctx, (void)t, (void)h;
    sn_err_set(e, SENTINEL_ERR_TLS, "this build of libsentinel has no TLS support");
    return NULL;
}

static void sn_tls_close_notify(sn_tls_conn *c)
{
    (void)c;
}

static sn_tls_conn *sn_tls_conn_new(const sn_tls_opts *o, const sn_transport *t, int h,
                                     const char *host, sn_err *e)
{
    (void)o, (void)t, (void)h, (void)host;
    sn_err_set(e, SENTINEL_ERR_TLS, "this build of libsentinel has no TLS support");
    return NULL;
}

static void sn_tls_conn_free(sn_tls_conn *c)
{
    (void)c;
}

static int sn_tls_handshake(sn_tls_conn *c, short *want, sn_err *e)
{
    (void)c;
    *want = 0;
    return sn_err_set(e, SENTINEL_ERR_TLS, "no TLS support");
}

static ssize_t sn_tls_send(sn_tls_conn *c, const void *buf, size_t len, short *want, sn_err *e)
{
    (void)c, (void)buf, (void)len;
    *want = 0;
    return sn_err_set(e, SENTINEL_ERR_TLS, "no TLS support");
}

static ssize_t sn_tls_recv(sn_tls_conn *c, void *buf, size_t cap, short *want, sn_err *e)
{
    (void)c, (void)buf, (void)cap;
    *want = 0;
    return sn_err_set(e, SENTINEL_ERR_TLS, "no TLS support");
}

#endif

static const sn_tls_ops tls_ops = {
    .opts_free = opts_free,
    .opts_copy = opts_copy,
    .conn_new = sn_tls_conn_new,
    .conn_free = sn_tls_conn_free,
    .handshake = sn_tls_handshake,
    .send = sn_tls_send,
    .recv = sn_tls_recv,
    .pending = sn_tls_pending,
    .read_ahead = sn_tls_read_ahead,
    .server_ctx_new = sn_tls_server_ctx_new,
    .ctx_free = sn_tls_ctx_free,
    .conn_accept = sn_tls_conn_accept,
    .close_notify = sn_tls_close_notify,
    .bytes_in = sn_tls_bytes_in,
};

const sn_tls_ops *sn_tls_ops_get(void)
{
    return &tls_ops;
}
