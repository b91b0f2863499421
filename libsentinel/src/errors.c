/* Error codes, their messages, and the per-handle detail buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* No default: -Wswitch (in -Wall) flags a code added without a message. */
const char *sentinel_strerror(int code)
{
    switch ((sentinel_code)code) {
    case SENTINEL_OK: return "success";
    case SENTINEL_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SENTINEL_ERR_NO_MEMORY: return "out of memory";
    case SENTINEL_ERR_NO_SENTINEL_REACHABLE: return "no sentinel reachable";
    case SENTINEL_ERR_UNKNOWN_MASTER: return "no sentinel knows this master name";
    case SENTINEL_ERR_AUTH: return "authentication failed";
    case SENTINEL_ERR_NOT_MASTER: return "address is not a master";
    case SENTINEL_ERR_TIMEOUT: return "timed out";
    case SENTINEL_ERR_PROTOCOL: return "protocol error";
    case SENTINEL_ERR_HOST_UNRESOLVED: return "host name does not resolve";
    case SENTINEL_ERR_MASTER_UNREACHABLE: return "master unreachable";
    case SENTINEL_ERR_NO_QUORUM: return "sentinels do not agree on the master";
    case SENTINEL_ERR_SYSTEM: return "system error";
    case SENTINEL_ERR_TLS: return "TLS failed";
    case SENTINEL_NO_ENTRY: return "no entry (not an error)";
    }
    return "unknown error code";
}

const char *sentinel_code_name(int code)
{
    switch ((sentinel_code)code) {
    case SENTINEL_OK: return "SENTINEL_OK";
    case SENTINEL_ERR_INVALID_ARGUMENT: return "SENTINEL_ERR_INVALID_ARGUMENT";
    case SENTINEL_ERR_NO_MEMORY: return "SENTINEL_ERR_NO_MEMORY";
    case SENTINEL_ERR_NO_SENTINEL_REACHABLE: return "SENTINEL_ERR_NO_SENTINEL_REACHABLE";
    case SENTINEL_ERR_UNKNOWN_MASTER: return "SENTINEL_ERR_UNKNOWN_MASTER";
    case SENTINEL_ERR_AUTH: return "SENTINEL_ERR_AUTH";
    case SENTINEL_ERR_NOT_MASTER: return "SENTINEL_ERR_NOT_MASTER";
    case SENTINEL_ERR_TIMEOUT: return "SENTINEL_ERR_TIMEOUT";
    case SENTINEL_ERR_PROTOCOL: return "SENTINEL_ERR_PROTOCOL";
    case SENTINEL_ERR_HOST_UNRESOLVED: return "SENTINEL_ERR_HOST_UNRESOLVED";
    case SENTINEL_ERR_MASTER_UNREACHABLE: return "SENTINEL_ERR_MASTER_UNREACHABLE";
    case SENTINEL_ERR_NO_QUORUM: return "SENTINEL_ERR_NO_QUORUM";
    case SENTINEL_ERR_SYSTEM: return "SENTINEL_ERR_SYSTEM";
    case SENTINEL_ERR_TLS: return "SENTINEL_ERR_TLS";
    case SENTINEL_NO_ENTRY: return "SENTINEL_NO_ENTRY";
    }
    return "SENTINEL_ERR_UNKNOWN";
}

int sentinel_code_count(void)
{
    return SENTINEL_CODE_COUNT;
}

const char *sentinel_version(void)
{
    return SENTINEL_VERSION_STRING;
}

void sn_err_clear(sn_err *e)
{
    e->code = SENTINEL_OK;
    e->msg[0] = '\0';
}

const char *sn_err_str(const sn_err *e)
{
    if (e->code == SENTINEL_OK)
        return "";
    return e->msg[0] ? e->msg : sentinel_strerror(e->code);
}

static void err_vset(sn_err *e, int code, const char *fmt, va_list ap)
{
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int sn_err_set(sn_err *e, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(e, code, fmt, ap);
    va_end(ap);
    return -1;
}

int sn_err_fail(sn_err *e, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}
