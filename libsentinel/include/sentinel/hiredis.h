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

#ifdef __cplusplus
}
#endif

#endif /* SENTINEL_HIREDIS_H */
