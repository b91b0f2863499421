/*
 * A verified connection to the master that stays in the library: the one
 * way a C caller reaches a TLS master (a plain socket cannot carry the
 * OpenSSL state, hiredis 0.14 has no TLS). It is the link that answered
 * ROLE master (resolve.c's sn_connect_verified(), shared with
 * sentinel_connect_master_fd()), handed out as bytes in and out with a
 * timeout, through TLS when the handle's data node options say so.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct sentinel_conn {
    sn_link link;    /* open, TLS or not; its reply reader is freed */
    int command_ms;  /* the handle's command timeout, what 0 restores */
    int timeout_ms;  /* each read and write */
    int broken;      /* a read or write failed: the stream is unusable */
    sn_err err;
};

int sentinel_connect_master_conn(sentinel_t *s, sentinel_conn_t **out, sentinel_addr *addr)
{
    sentinel_conn_t *c;
    sentinel_addr a;

    if (out != NULL)
        *out = NULL;
    if (s == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (out == NULL)
        return sn_err_fail(&s->err, SENTINEL_ERR_INVALID_ARGUMENT, "out is NULL");
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return sn_err_fail(&s->err, SENTINEL_ERR_NO_MEMORY, "out of memory");
    if (sn_connect_verified(s, &c->link, &a) == -1) {
        free(c);
        return s->err.code;
    }
    /* Replies from here on are the caller's to parse. */
    sn_reader_free(c->link.reader);
    c->link.reader = NULL;
    c->command_ms = c->timeout_ms = s->cfg.command_ms;
    if (addr != NULL)
        *addr = a;
    *out = c;
    return SENTINEL_OK;
}

static int conn_usable(sentinel_conn_t *c, const void *buf)
{
    if (buf == NULL)
        return sn_err_fail(&c->err, SENTINEL_ERR_INVALID_ARGUMENT, "buffer is NULL");
    if (c->broken || c->link.h < 0)
        return sn_err_fail(&c->err, SENTINEL_ERR_MASTER_UNREACHABLE,
                           "connection unusable after an earlier failure");
    return SENTINEL_OK;
}

int sentinel_conn_write(sentinel_conn_t *c, const void *buf, size_t len)
{
    const char *p = buf;
    int64_t deadline;
    int code;

    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if ((code = conn_usable(c, buf)) != SENTINEL_OK)
        return code;
    sn_err_clear(&c->err);
    deadline = sn_now_ms() + c->timeout_ms;
    while (len > 0) {
        ssize_t n = sn_link_send(&c->link, p, len, deadline, &c->err);

        if (n < 0) {
            c->broken = 1;
            return c->err.code;
        }
        p += n;
        len -= (size_t)n;
    }
    return SENTINEL_OK;
}

int sentinel_conn_read(sentinel_conn_t *c, void *buf, size_t cap, size_t *nread)
{
    ssize_t n;
    int code;

    if (nread != NULL)
        *nread = 0;
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (nread == NULL || cap == 0)
        return sn_err_fail(&c->err, SENTINEL_ERR_INVALID_ARGUMENT, "nread NULL or cap 0");
    if ((code = conn_usable(c, buf)) != SENTINEL_OK)
        return code;
    sn_err_clear(&c->err);
    n = sn_link_recv(&c->link, buf, cap, sn_now_ms() + c->timeout_ms, &c->err);
    if (n == 0)
        sn_err_set(&c->err, SENTINEL_ERR_MASTER_UNREACHABLE, "connection closed by the master");
    if (n <= 0) {
        c->broken = 1;
        return c->err.code;
    }
    *nread = (size_t)n;
    return SENTINEL_OK;
}

int sentinel_conn_set_timeout(sentinel_conn_t *c, int ms)
{
    if (c == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if (ms < 0 || ms > 86400000)
        return sn_err_fail(&c->err, SENTINEL_ERR_INVALID_ARGUMENT,
                           "timeout %d ms out of range (0 to 86400000)", ms);
    c->timeout_ms = ms == 0 ? c->command_ms : ms;
    sn_err_clear(&c->err);
    return SENTINEL_OK;
}

int sentinel_conn_fd(const sentinel_conn_t *c)
{
    return c != NULL ? c->link.h : -1;
}

size_t sentinel_conn_pending(const sentinel_conn_t *c)
{
    if (c == NULL || c->link.tls == NULL)
        return 0;
    return c->link.tls_ops->pending(c->link.tls);
}

int sentinel_conn_is_tls(const sentinel_conn_t *c)
{
    return c != NULL && c->link.tls != NULL;
}

const char *sentinel_conn_errstr(const sentinel_conn_t *c)
{
    return c != NULL ? sn_err_str(&c->err) : "";
}

void sentinel_conn_free(sentinel_conn_t *c)
{
    if (c == NULL)
        return;
    if (c->link.tls != NULL && !c->broken)
        c->link.tls_ops->close_notify(c->link.tls);
    sn_link_close(&c->link);
    free(c);
}
