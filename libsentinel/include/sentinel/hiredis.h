/*
 * libsentinel: hiredis conveniences, header-only.
 *
 * libsentinel's ABI uses no hiredis type: hiredis changes its SONAME with
 * each minor release and changed redisContext's layout in 1.0, so a
 * library that read c->err would be tied to one hiredis build. These
 * static inline wrappers, like hiredis' own adapters, are compiled into
 * the caller against the hiredis it includes, and call only libsentinel's
 * plain-value API (sentinel.h). Include <hiredis/hiredis.h> (any version
 * with redisConnectFd()) and link hiredis yourself.
 *
 *     int code;
 *     redisContext *c = sentinel_connect_master(s, &code);
 *     if (c == NULL)
 *         fprintf(stderr, "%s\n", sentinel_errstr(s));
 *     redisReply *r = redisCommand(c, "SET k v");
 *     sentinel_report(s, c, r);    // an I/O error or -READONLY invalidates
 *
 * With TLS on for data nodes, a redisContext cannot carry it (hiredis 0.14
 * has no TLS): use sentinel_connect_master_conn() and
 * sentinel_conn_command_argv() below, which works over plaintext too.
 */
#ifndef SENTINEL_HIREDIS_H
#define SENTINEL_HIREDIS_H

#include <unistd.h>

#include <hiredis/hiredis.h>

#include "sentinel/sentinel.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Resolve, connect to the master, AUTH with the data credentials and
 * verify ROLE on that very connection (sentinel_connect_master_fd()), then
 * hand the socket to hiredis. Returns a blocking context the caller owns
 * (redisFree()), with the handle's command timeout on its socket; or NULL
 * with *code (may be NULL) set, and the detail in sentinel_errstr(s) unless
 * the code is SENTINEL_ERR_NO_MEMORY from hiredis itself.
 */
static inline redisContext *sentinel_connect_master(sentinel_t *s, int *code)
{
    redisContext *c;
    int fd, rc;

    if ((rc = sentinel_connect_master_fd(s, &fd, NULL)) != SENTINEL_OK) {
        if (code != NULL)
            *code = rc;
        return NULL;
    }
    if ((c = redisConnectFd(fd)) == NULL || c->err) {
        if (c != NULL)
            redisFree(c); /* closes fd */
        else
            close(fd);
        if (code != NULL)
            *code = c != NULL ? SENTINEL_ERR_SYSTEM : SENTINEL_ERR_NO_MEMORY;
        return NULL;
    }
    if (code != NULL)
        *code = SENTINEL_OK;
    return c;
}

/*
 * Tell the handle how a command to the master went: invalidates the cache
 * when c has an I/O error or r is a -READONLY / -MASTERDOWN / -LOADING
 * error (sentinel_report_error()). Returns 1 if it invalidated, 0
 * otherwise. c and r may be NULL.
 */
static inline int sentinel_report(sentinel_t *s, const redisContext *c, const redisReply *r)
{
    return sentinel_report_error(s, c != NULL && c->err != 0,
                                 (r != NULL && r->type == REDIS_REPLY_ERROR) ? r->str : NULL);
}

/*
 * Send one command on a verified connection (sentinel_connect_master_conn(),
 * TLS or not) and read its reply with a hiredis reader over
 * sentinel_conn_read(). argvlen may be NULL (strlen of each argument).
 * SENTINEL_OK with *reply set (the caller frees it with freeReplyObject();
 * an error reply such as -READONLY is a reply: pass it to sentinel_report()),
 * or a sentinel code with *reply NULL: a write or read failure (detail in
 * sentinel_conn_errstr(c); report it with sentinel_report_error(s, 1, NULL)),
 * SENTINEL_ERR_PROTOCOL for bytes that are no RESP reply, or
 * SENTINEL_ERR_NO_MEMORY. One command, one reply: bytes the server sent
 * after the reply (it sends none unless commands were pipelined with
 * sentinel_conn_write()) are dropped with the reader.
 *
 *     const char *argv[] = {"SET", "k", "v"};
 *     redisReply *r;
 *     if (sentinel_conn_command_argv(c, 3, argv, NULL, &r) == SENTINEL_OK)
 *         freeReplyObject(r);
 */
static inline int sentinel_conn_command_argv(sentinel_conn_t *c, int argc, const char **argv,
                                             const size_t *argvlen, redisReply **reply)
{
    redisReader *rd;
    char *cmd = NULL, buf[16384];
    void *r = NULL;
    int len, rc;

    if (reply == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    *reply = NULL;
    if (c == NULL || argc < 1 || argv == NULL)
        return SENTINEL_ERR_INVALID_ARGUMENT;
    if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
        return SENTINEL_ERR_NO_MEMORY;
    rc = sentinel_conn_write(c, cmd, (size_t)len);
    redisFreeCommand(cmd);
    if (rc != SENTINEL_OK)
        return rc;
    if ((rd = redisReaderCreate()) == NULL)
        return SENTINEL_ERR_NO_MEMORY;
    /* Each round reads at least one byte or fails within the timeout. */
    for (;;) {
        size_t n;

        if (redisReaderGetReply(rd, &r) != REDIS_OK) {
            rc = SENTINEL_ERR_PROTOCOL;
            break;
        }
        if (r != NULL)
            break;
        if ((rc = sentinel_conn_read(c, buf, sizeof(buf), &n)) != SENTINEL_OK)
            break;
        if (redisReaderFeed(rd, buf, n) != REDIS_OK) {
            rc = SENTINEL_ERR_PROTOCOL;
            break;
        }
    }
    redisReaderFree(rd);
    if (r != NULL) {
        *reply = (redisReply *)r;
        return SENTINEL_OK;
    }
    return rc;
}

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_HIREDIS_H */
