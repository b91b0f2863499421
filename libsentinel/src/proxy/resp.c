/*
 * Just enough RESP for multiplexing (proxy.c): where a client's command
 * ends and what it is called, where a reply on a shared master connection
 * ends. Nothing is decoded beyond that, nothing is allocated.
 *
 * Both framers are strict: anything they do not recognise is an error, and
 * the proxy answers an error the safe way (a client whose bytes cannot be
 * framed gets a connection of its own, which forwards them untouched; a
 * shared connection whose replies cannot be framed is closed).
 */
#include <string.h>

#include "proxy/proxy_int.h"

/* ------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------ */

/* Redis' own limits (networking.c): 1024*1024 arguments, 512 MB per bulk
 * by default. Commands we frame are smaller than the client buffer anyway. */
#define PX_REQ_MAX_ARGS (1024 * 1024)
#define PX_REQ_MAX_BULK (512LL * 1024 * 1024)

/* "<digits>\r\n" at p (bounded by end): the value and the first byte after
 * the line; 0 complete, 1 incomplete, -1 malformed. */
static int req_number(const char *p, const char *end, long long max, long long *out,
                      const char **next)
{
    long long v = 0;
    const char *s = p;

    while (p < end && *p >= '0' && *p <= '9') {
        /* No leading zero: Redis' string2ll refuses "01" (protocol error,
         * and it closes the connection, shared or not). */
        if (p - s == 1 && *s == '0')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
        p++;
    }
    if (p == end)
        return 1;
    if (p == s || *p != '\r')
        return -1;
    if (p + 1 == end)
        return 1;
    if (p[1] != '\n')
        return -1;
    *out = v;
    *next = p + 2;
    return 0;
}

ssize_t px_req_scan(const char *buf, size_t len, const char **name, size_t *namelen)
{
    const char *p = buf, *end = buf + len, *next;
    long long argc, blen;
    int rc;

    if (len == 0)
        return 0;
    if (*p != '*')
        return -1; /* inline command or garbage */
    if ((rc = req_number(p + 1, end, PX_REQ_MAX_ARGS, &argc, &next)) != 0)
        return rc == 1 ? 0 : -1;
    if (argc < 1)
        return -1;
    p = next;
    for (long long i = 0; i < argc; i++) {
        if (p == end)
            return 0;
        if (*p != '$')
            return -1;
        if ((rc = req_number(p + 1, end, PX_REQ_MAX_BULK, &blen, &next)) != 0)
            return rc == 1 ? 0 : -1;
        p = next;
        if ((size_t)(end - p) < (size_t)blen + 2) {
            /* Incomplete, but a CRLF we can already see must be right. */
            if ((size_t)(end - p) >= (size_t)blen + 1 && p[blen] != '\r')
                return -1;
            return 0;
        }
        if (p[blen] != '\r' || p[blen + 1] != '\n')
            return -1;
        if (i == 0) {
            *name = p;
            *namelen = (size_t)blen;
        }
        p += blen + 2;
    }
    return p - buf;
}

int px_req_arg(const char *cmd, size_t len, size_t i, const char **arg, size_t *arglen)
{
    const char *p = cmd, *end = cmd + len, *next;
    long long argc, blen;

    if (len == 0 || *p != '*' || req_number(p + 1, end, PX_REQ_MAX_ARGS, &argc, &next) != 0 ||
        (long long)i >= argc)
        return -1;
    p = next;
    for (long long k = 0; k <= (long long)i; k++) {
        if (p >= end || *p != '$' || req_number(p + 1, end, PX_REQ_MAX_BULK, &blen, &next) != 0 ||
            end - next < blen + 2)
            return -1;
        p = next;
        if (k == (long long)i) {
            *arg = p;
            *arglen = (size_t)blen;
            return 0;
        }
        p += blen + 2;
    }
    return -1;
}

/*
 * Commands a client may send over a shared master connection: they leave
 * no state in the connection and never block it. Anything else (AUTH,
 * SELECT, HELLO, CLIENT, MULTI/EXEC/WATCH, (P|S)SUBSCRIBE, MONITOR,
 * blocking commands, XREAD (BLOCK), WAIT, READONLY, RESET, QUIT, unknown
 * commands...) gives the client a master connection of its own, as if
 * multiplexing were off. Upper case, sorted case-insensitively ("EVAL_RO"
 * before "EVALSHA"), for bsearch.
 */
static const char *const shareable[] = {
    "APPEND", "BITCOUNT", "BITFIELD", "BITFIELD_RO", "BITOP", "BITPOS", "COMMAND", "COPY", "DBSIZE",
    "DECR", "DECRBY", "DEL", "ECHO", "EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO", "EXISTS", "EXPIRE",
    "EXPIREAT", "EXPIRETIME", "FCALL", "FCALL_RO", "GEOADD", "GEODIST", "GEOHASH", "GEOPOS",
    "GEOSEARCH", "GEOSEARCHSTORE", "GET", "GETBIT", "GETDEL", "GETEX", "GETRANGE", "GETSET", "HDEL",
    "HEXISTS", "HGET", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HKEYS", "HLEN", "HMGET", "HMSET",
    "HRANDFIELD", "HSCAN", "HSET", "HSETNX", "HSTRLEN", "HVALS", "INCR", "INCRBY", "INCRBYFLOAT",
    "INFO", "LINDEX", "LINSERT", "LLEN", "LMOVE", "LMPOP", "LPOP", "LPOS", "LPUSH", "LPUSHX",
    "LRANGE", "LREM", "LSET", "LTRIM", "MGET", "MSET", "MSETNX", "PERSIST", "PEXPIRE", "PEXPIREAT",
    "PEXPIRETIME", "PFADD", "PFCOUNT", "PFMERGE", "PING", "PSETEX", "PTTL", "PUBLISH", "RENAME",
    "RENAMENX", "ROLE", "RPOP", "RPOPLPUSH", "RPUSH", "RPUSHX", "SADD", "SCAN", "SCARD", "SDIFF",
    "SDIFFSTORE", "SET", "SETBIT", "SETEX", "SETNX", "SETRANGE", "SINTER", "SINTERCARD",
    "SINTERSTORE", "SISMEMBER", "SMEMBERS", "SMISMEMBER", "SMOVE", "SORT", "SORT_RO", "SPOP",
    "SRANDMEMBER", "SREM", "SSCAN", "STRLEN", "SUNION", "SUNIONSTORE", "TIME", "TOUCH", "TTL",
    "TYPE", "UNLINK", "XADD", "XDEL", "XLEN", "XRANGE", "XREVRANGE", "XTRIM", "ZADD", "ZCARD",
    "ZCOUNT", "ZDIFF", "ZDIFFSTORE", "ZINCRBY", "ZINTER", "ZINTERCARD", "ZINTERSTORE", "ZLEXCOUNT",
    "ZMPOP", "ZMSCORE", "ZPOPMAX", "ZPOPMIN", "ZRANDMEMBER", "ZRANGE", "ZRANGEBYLEX",
    "ZRANGEBYSCORE", "ZRANGESTORE", "ZRANK", "ZREM", "ZREMRANGEBYLEX", "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE", "ZREVRANGE", "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCAN",
    "ZSCORE", "ZUNION", "ZUNIONSTORE",
};

/* The table's order: case-insensitive, '_' before every letter. */
static int rank(unsigned char ch)
{
    return ch == '_' ? 1 : ch;
}

int px_cmd_shareable(const char *name, size_t len)
{
    size_t lo = 0, hi = sizeof(shareable) / sizeof(shareable[0]);
    char up[17];

    /* Fold to upper case once; a byte that cannot be in a name ends it. */
    if (len == 0 || len > 16)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (unsigned char)(ch - 'a' + 'A');
        else if ((ch < 'A' || ch > 'Z') && ch != '_')
            return 0;
        up[i] = (char)ch;
    }
    up[len] = '\0';
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const unsigned char *a = (const unsigned char *)up;
        const unsigned char *b = (const unsigned char *)shareable[mid];
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b)
            return 1;
        if (rank(*a) < rank(*b))
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Replies (RESP2: + - : $ *)
 * ------------------------------------------------------------------------ */

enum { PX_R_TYPE = 0, PX_R_LINE, PX_R_LINE_LF, PX_R_NUM, PX_R_NUM_LF, PX_R_BULK };

void px_rep_init(px_rep *r)
{
    memset(r, 0, sizeof(*r));
}

int px_rep_at_start(const px_rep *r)
{
    return r->state == PX_R_TYPE && r->owed == 0;
}

/*
 * Framing needs no stack: only how many elements the reply still owes. A
 * reply starts owing one; an array header of n elements replaces the one
 * it stood for by its n; every other element pays one. Any nesting depth
 * (a Lua script can return tables nested arbitrarily deep) frames the same.
 */
#define PX_REP_OWED_MAX (1LL << 62)

/* One element ended. Returns 1 when that completed the whole reply. */
static int rep_element_done(px_rep *r)
{
    if (r->owed > 1) {
        r->owed--;
        return 0;
    }
    r->owed = 0;
    return 1;
}

ssize_t px_rep_feed(px_rep *r, const char *buf, size_t len, int *done)
{
    const char *p = buf, *end = buf + len;

    *done = 0;
    while (p < end) {
        switch (r->state) {
        case PX_R_TYPE:
            /* Fast path: a status, error, integer or bulk that is whole in
             * the buffer. Anything else, or anything odd, is left to the
             * state machine below, which starts over at the type byte. */
            if (*p == '$') {
                const char *q = p + 1;
                long long n = 0;
                int nd = 0;
                while (q < end && *q >= '0' && *q <= '9' && nd < 18) {
                    n = n * 10 + (*q++ - '0');
                    nd++;
                }
                if (nd > 0 && end - q >= 2 && q[0] == '\r' && q[1] == '\n' &&
                    end - (q + 2) >= n + 2) {
                    q += 2;
                    if (q[n] != '\r' || q[n + 1] != '\n')
                        return -1;
                    p = q + n + 2;
                    if (rep_element_done(r)) {
                        *done = 1;
                        return p - buf;
                    }
                    break;
                }
            } else if (*p == '+' || *p == '-' || *p == ':') {
                const char *cr = memchr(p + 1, '\r', (size_t)(end - p - 1));
                if (cr && end - cr >= 2) {
                    if (cr[1] != '\n')
                        return -1;
                    p = cr + 2;
                    if (rep_element_done(r)) {
                        *done = 1;
                        return p - buf;
                    }
                    break;
                }
            }
            r->num = 0;
            r->neg = 0;
            r->ndigits = 0;
            switch (*p) {
            case '+':
            case '-':
            case ':':
                r->state = PX_R_LINE;
                break;
            case '$':
            case '*':
                r->type = *p;
                r->state = PX_R_NUM;
                break;
            default:
                return -1;
            }
            p++;
            break;
        case PX_R_LINE: {
            /* Status, error or integer: skip to the CR. */
            const char *cr = memchr(p, '\r', (size_t)(end - p));
            if (cr == NULL) {
                p = end;
                break;
            }
            p = cr + 1;
            r->state = PX_R_LINE_LF;
            break;
        }
        case PX_R_LINE_LF:
            if (*p++ != '\n')
                return -1;
            r->state = PX_R_TYPE;
            if (rep_element_done(r)) {
                *done = 1;
                return p - buf;
            }
            break;
        case PX_R_NUM:
            if (*p == '-' && r->ndigits == 0 && !r->neg) {
                r->neg = 1;
            } else if (*p >= '0' && *p <= '9') {
                if (++r->ndigits > 18)
                    return -1;
                r->num = r->num * 10 + (*p - '0');
            } else if (*p == '\r' && r->ndigits > 0) {
                r->state = PX_R_NUM_LF;
            } else {
                return -1;
            }
            p++;
            break;
        case PX_R_NUM_LF:
            if (*p++ != '\n')
                return -1;
            if (r->neg) {
                /* Only -1 (null bulk, null array) exists. */
                if (r->num != 1)
                    return -1;
                r->state = PX_R_TYPE;
                if (rep_element_done(r)) {
                    *done = 1;
                    return p - buf;
                }
            } else if (r->type == '$') {
                r->left_bulk = r->num + 2; /* payload and CRLF */
                r->state = PX_R_BULK;
            } else if (r->num == 0) {
                r->state = PX_R_TYPE; /* empty array: an element of its own */
                if (rep_element_done(r)) {
                    *done = 1;
                    return p - buf;
                }
            } else {
                /* owed >= 1 stands for this array: it becomes its elements. */
                long long owed = r->owed > 0 ? r->owed : 1;
                if (r->num > PX_REP_OWED_MAX - owed)
                    return -1;
                r->owed = owed - 1 + r->num;
                r->state = PX_R_TYPE;
            }
            break;
        case PX_R_BULK: {
            size_t have = (size_t)(end - p);
            if ((long long)have < r->left_bulk) {
                /* The CR of the trailing CRLF may end this read (the LF is
                 * checked below, with the next one): check it now, so the
                 * framing does not depend on how the stream was cut. */
                if ((long long)have == r->left_bulk - 1 && p[have - 1] != '\r')
                    return -1;
                r->left_bulk -= (long long)have;
                p = end;
                break;
            }
            p += r->left_bulk;
            if (p[-1] != '\n' || (r->left_bulk >= 2 && p[-2] != '\r'))
                return -1;
            r->left_bulk = 0;
            r->state = PX_R_TYPE;
            if (rep_element_done(r)) {
                *done = 1;
                return p - buf;
            }
            break;
        }
        default:
            return -1;
        }
    }
    return p - buf;
}
