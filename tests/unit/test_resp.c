/*
 * The proxy's RESP framing for multiplexed clients (src/proxy/resp.c):
 * px_req_scan (where a client's command ends, what it is called),
 * px_cmd_shareable (which commands may share a master connection) and
 * px_rep_feed (where each reply on a shared connection ends, whatever the
 * reads cut the stream into).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_int.h"

/* For string literals, so embedded NUL bytes are kept. */
#define LIT(s) (s), (sizeof(s) - 1)

/* An exact-size heap copy: a read past len is a read past the allocation
 * (caught under ASan/valgrind), not into the rest of a literal. */
static char *dup_exact(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    if (len)
        memcpy(p, s, len);
    return p;
}

static ssize_t scan(const char *s, size_t len, const char **name, size_t *namelen)
{
    char *p = dup_exact(s, len);
    const char *n = NULL;
    size_t nl = (size_t)-1;
    ssize_t rc = px_req_scan(p, len, &n, &nl);

    if (rc > 0) {
        assert_non_null(n);
        assert_true(n >= p && n + nl <= p + rc);
        if (name)
            *name = s + (n - p); /* the same place in the caller's bytes */
        if (namelen)
            *namelen = nl;
    }
    free(p);
    return rc;
}

static ssize_t scan_rc(const char *s, size_t len)
{
    return scan(s, len, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * px_req_scan
 * ------------------------------------------------------------------------ */

static void test_req_single_command(void **state)
{
    static const char cmd[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    const char *name = NULL;
    size_t nl = 0;

    (void)state;
    assert_int_equal(scan(LIT(cmd), &name, &nl), (ssize_t)(sizeof(cmd) - 1));
    assert_ptr_equal(name, cmd + 8);
    assert_int_equal(nl, 3);
    assert_memory_equal(name, "SET", 3);

    assert_int_equal(scan(LIT("*1\r\n$4\r\nPING\r\n"), &name, &nl), 14);
    assert_int_equal(nl, 4);
    assert_memory_equal(name, "PING", 4);

    /* An empty name frames (the allowlist then says no). */
    assert_int_equal(scan(LIT("*1\r\n$0\r\n\r\n"), &name, &nl), 10);
    assert_int_equal(nl, 0);
}

static void test_req_pipelined(void **state)
{
    static const char stream[] = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
                                 "*1\r\n$4\r\nPING\r\n"
                                 "*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$0\r\n\r\n"
                                 "*2\r\n$4\r\nECHO\r\n$12\r\n\r\nhi\x00\xff\r\n*1\r\n\r\n"
                                 "*1\r\n$6\r\nDBSIZE\r\n";
    static const struct {
        size_t len;
        const char *name;
    } want[] = {
        {20, "GET"}, {14, "PING"}, {27, "HGET"}, {33, "ECHO"}, {16, "DBSIZE"},
    };
    size_t off = 0, len = sizeof(stream) - 1;

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *name = NULL;
        size_t nl = 0;
        ssize_t rc = scan(stream + off, len - off, &name, &nl);

        assert_int_equal(rc, (ssize_t)want[i].len);
        assert_int_equal(nl, strlen(want[i].name));
        assert_memory_equal(name, want[i].name, nl);
        off += (size_t)rc;
    }
    assert_int_equal(off, len);
    assert_int_equal(scan_rc(stream + off, 0), 0);
}

/* Every strict prefix of a valid command is incomplete, never malformed;
 * the command followed by more bytes frames the same. */
static void check_prefixes(const char *cmd, size_t len)
{
    char buf[256];

    assert_true(len + 8 <= sizeof(buf));
    assert_int_equal(scan_rc(cmd, len), (ssize_t)len);
    for (size_t i = 0; i < len; i++) {
        if (scan_rc(cmd, i) != 0)
            fail_msg("prefix of %zu bytes (of %zu) is not incomplete", i, len);
    }
    memcpy(buf, cmd, len);
    memcpy(buf + len, "*1\r\n$4\r\n", 8);
    assert_int_equal(scan_rc(buf, len + 8), (ssize_t)len);
    memcpy(buf + len, "garbage!", 8);
    assert_int_equal(scan_rc(buf, len + 8), (ssize_t)len);
}

static void test_req_every_prefix_is_incomplete(void **state)
{
    (void)state;
    check_prefixes(LIT("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"));
    check_prefixes(LIT("*1\r\n$4\r\nPING\r\n"));
    check_prefixes(LIT("*12\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
                       "$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n"
                       "$0\r\n\r\n"));
    check_prefixes(LIT("*2\r\n$3\r\nGET\r\n$10\r\n\r\n\r\n\r\n\r\n\r\n\r\n"));
    check_prefixes(LIT("*1\r\n$0\r\n\r\n"));
}

static void test_req_not_multibulk_or_malformed(void **state)
{
    (void)state;
    /* Inline commands and anything that does not start a multibulk. */
    assert_int_equal(scan_rc(LIT("PING\r\n")), -1);
    assert_int_equal(scan_rc(LIT("GET a\r\n")), -1);
    assert_int_equal(scan_rc(LIT("\r\n")), -1);
    assert_int_equal(scan_rc(LIT("$3\r\nGET\r\n")), -1);
    /* No arguments, null multibulk. */
    assert_int_equal(scan_rc(LIT("*0\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*-1\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*-1")), -1);
    /* Arguments must be bulk strings. */
    assert_int_equal(scan_rc(LIT("*1\r\n:5\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n+GET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*2\r\n$3\r\nGET\r\n*1\r\n")), -1);
    /* Length that does not match the payload, terminators not CRLF. */
    assert_int_equal(scan_rc(LIT("*1\r\n$3\r\nGETX\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3\r\nGET\n\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3\r\nGET\r\r")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3\r\nGETX")), -1); /* the CR is already wrong */
    assert_int_equal(scan_rc(LIT("*1\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\r$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3\n\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3\rxGET\r\n")), -1);
    /* Bad digits. */
    assert_int_equal(scan_rc(LIT("*\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*x\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1x\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*+1\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("* 1\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$-1\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$3x\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$\x00\r\nGET\r\n")), -1);
    /* Malformed as soon as it shows, even when more would be needed. */
    assert_int_equal(scan_rc(LIT("*2\r\n$3\r\nGET\r\nX")), -1);
    assert_int_equal(scan_rc(LIT("*2x")), -1);
}

static void test_req_binary_payload(void **state)
{
    static const char cmd[] = "*3\r\n$3\r\nSET\r\n$5\r\n\r\n*1\r\r\n$8\r\n\x00\xff\r\n$3\r\n\r\n";
    const char *name = NULL;
    size_t nl = 0;

    (void)state;
    assert_int_equal(scan(LIT(cmd), &name, &nl), (ssize_t)(sizeof(cmd) - 1));
    assert_int_equal(nl, 3);
    assert_memory_equal(name, "SET", 3);
    check_prefixes(LIT(cmd));

    /* The name itself may hold anything; it is framed, not judged. */
    assert_int_equal(scan(LIT("*1\r\n$4\r\n\r\n\x00\x01\r\n"), &name, &nl), 14);
    assert_int_equal(nl, 4);
    assert_memory_equal(name, "\r\n\x00\x01", 4);
}

static void test_req_huge_lengths(void **state)
{
    (void)state;
    /* Declared but not there yet: incomplete, nothing read past the end. */
    assert_int_equal(scan_rc(LIT("*1\r\n$536870912\r\nabc")), 0);
    assert_int_equal(scan_rc(LIT("*1\r\n$536870912\r\n")), 0);
    assert_int_equal(scan_rc(LIT("*2\r\n$3\r\nGET\r\n$100000\r\n0123456789")), 0);
    assert_int_equal(scan_rc(LIT("*1048576\r\n$3\r\nGET\r\n")), 0);
    assert_int_equal(scan_rc(LIT("*1048576\r\n")), 0);
    /* Beyond Redis' own limits: 512 MB per bulk, 1M arguments. */
    assert_int_equal(scan_rc(LIT("*1\r\n$536870913\r\nabc")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$536870913")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$9999999999\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1048577\r\n$3\r\nGET\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1048577")), -1);
    assert_int_equal(scan_rc(LIT("*99999999999999999999\r\n")), -1);
    /* 30 digits: no overflow, no endless number. */
    assert_int_equal(scan_rc(LIT("*123456789012345678901234567890\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*123456789012345678901234567890")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$123456789012345678901234567890\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*000000000000000000000000000000")), -1);
    assert_int_equal(scan_rc(LIT("*000000000000000000000000000000\r\n")), -1);
}

/* Redis (string2ll in processMultibulkBuffer) refuses a count or a length
 * with a leading zero ("Protocol error: invalid bulk length") and closes the
 * connection. A command the proxy frames goes as it is over a shared master
 * connection, so framing one of these would let one client close the
 * connection under everyone else's commands. */
static void test_req_leading_zeros_are_malformed(void **state)
{
    (void)state;
    assert_int_equal(scan_rc(LIT("*01\r\n$4\r\nPING\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$04\r\nPING\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*2\r\n$3\r\nGET\r\n$01\r\na\r\n")), -1);
    assert_int_equal(scan_rc(LIT("*1\r\n$0000000000000000000000004\r\nPING\r\n")), -1);
    /* Plain 0 stays a valid length. */
    assert_int_equal(scan_rc(LIT("*2\r\n$3\r\nGET\r\n$0\r\n\r\n")), 19);
}

/* ------------------------------------------------------------------------
 * px_cmd_shareable
 * ------------------------------------------------------------------------ */

/* A copy of resp.c's table, in the same order. */
static const char *const shareable_names[] = {
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
#define N_SHAREABLE (sizeof(shareable_names) / sizeof(shareable_names[0]))

static int shareable_str(const char *s)
{
    char *p = dup_exact(s, strlen(s));
    int rc = px_cmd_shareable(p, strlen(s));

    free(p);
    return rc;
}

static void test_shareable_every_entry_found(void **state)
{
    static const char *const must[] = {
        "GET", "SET", "HSET", "HGETALL", "EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO",
        "DEL", "EXPIRE", "MGET", "ZADD", "PING", "SORT_RO", "FCALL_RO",
    };

    (void)state;
    /* The copy is in the order bsearch with strncasecmp needs ('_' sorts
     * before letters there), so a lookup of each entry exercises every
     * branch of the search; an entry out of order would be missed. */
    for (size_t i = 1; i < N_SHAREABLE; i++) {
        if (strcasecmp(shareable_names[i - 1], shareable_names[i]) >= 0)
            fail_msg("copy not sorted at %s, %s", shareable_names[i - 1], shareable_names[i]);
    }
    for (size_t i = 0; i < N_SHAREABLE; i++) {
        if (!shareable_str(shareable_names[i]))
            fail_msg("%s not found", shareable_names[i]);
    }
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        size_t j = 0;
        while (j < N_SHAREABLE && strcmp(must[i], shareable_names[j]) != 0)
            j++;
        if (j == N_SHAREABLE)
            fail_msg("%s missing from the copy of the table", must[i]);
        assert_true(shareable_str(must[i]));
    }
}

static void test_shareable_case_insensitive(void **state)
{
    char lower[32], mixed[32];

    (void)state;
    for (size_t i = 0; i < N_SHAREABLE; i++) {
        size_t n = strlen(shareable_names[i]);
        assert_true(n < sizeof(lower));
        for (size_t j = 0; j <= n; j++) {
            char c = shareable_names[i][j];
            lower[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
            mixed[j] = (j % 2) ? lower[j] : c;
        }
        if (!shareable_str(lower))
            fail_msg("%s not found", lower);
        if (!shareable_str(mixed))
            fail_msg("%s not found", mixed);
    }
    assert_true(shareable_str("get"));
    assert_true(shareable_str("Get"));
    assert_true(shareable_str("eval_ro"));
    assert_true(shareable_str("zRemRangeByScore"));
}

static void test_shareable_rejects_stateful_and_blocking(void **state)
{
    static const char *const never[] = {
        "AUTH", "SELECT", "HELLO", "CLIENT", "MULTI", "EXEC", "DISCARD", "WATCH",
        "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "MONITOR",
        "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX",
        "BZMPOP", "XREAD", "XREADGROUP", "WAIT", "WAITAOF", "READONLY", "READWRITE",
        "RESET", "QUIT", "CONFIG", "SCRIPT", "FUNCTION", "SHUTDOWN", "FLUSHALL",
        "DEBUG", "SYNC", "PSYNC", "REPLICAOF", "SLAVEOF", "FAILOVER", "SWAPDB", "MOVE",
        "OBJECT", "KEYS",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        char lower[32];
        size_t n = strlen(never[i]);

        if (shareable_str(never[i]))
            fail_msg("%s must not be shareable", never[i]);
        for (size_t j = 0; j <= n; j++)
            lower[j] = (char)((never[i][j] >= 'A' && never[i][j] <= 'Z')
                                  ? never[i][j] - 'A' + 'a'
                                  : never[i][j]);
        if (shareable_str(lower))
            fail_msg("%s must not be shareable", lower);
    }
}

static void test_shareable_near_misses(void **state)
{
    (void)state;
    /* Prefixes and extensions of entries. */
    assert_false(shareable_str("GE"));
    assert_false(shareable_str("G"));
    assert_false(shareable_str("EVA"));
    assert_false(shareable_str("EVAL_"));
    assert_false(shareable_str("EVAL_R"));
    assert_false(shareable_str("EVALSHA_"));
    assert_false(shareable_str("GETS"));
    assert_false(shareable_str("SETX"));
    assert_false(shareable_str("GET_RO"));
    assert_false(shareable_str("APPENDX"));
    assert_false(shareable_str("ZUNIONSTOREX"));
    assert_false(shareable_str("A"));
    assert_false(shareable_str("ZZZ"));
    assert_false(shareable_str("_"));
    assert_false(shareable_str("GET "));
    assert_false(shareable_str(" GET"));
    /* Empty, too long (the longest entry has 16 characters). */
    assert_false(px_cmd_shareable("GET", 0));
    assert_false(shareable_str(""));
    assert_true(shareable_str("ZREMRANGEBYSCORE"));
    assert_true(shareable_str("zremrangebyscore"));
    assert_false(shareable_str("ZREMRANGEBYSCOREX"));
    assert_false(shareable_str("GEOSEARCHSTOREXYZ"));
    assert_false(shareable_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* The length counts, not a terminator. */
    assert_true(px_cmd_shareable("GETX", 3));
    assert_false(px_cmd_shareable("GETX", 4));
    assert_false(px_cmd_shareable("GET", 2));
    /* Embedded NUL bytes. */
    assert_false(px_cmd_shareable("GET\0", 4));
    assert_false(px_cmd_shareable("GE\0T", 4));
    assert_false(px_cmd_shareable("\0GET", 4));
    assert_false(px_cmd_shareable("SET\0X", 5));
    assert_false(px_cmd_shareable("\0", 1));
}

/* ------------------------------------------------------------------------
 * px_rep_feed
 * ------------------------------------------------------------------------ */

#define MAX_ENDS 64

typedef struct feed_result {
    size_t ends[MAX_ENDS]; /* stream offsets where a reply ended */
    size_t n;
    int error;             /* -1 seen */
    size_t err_lo, err_hi; /* the bytes fed in the call that said -1 */
    size_t consumed;       /* bytes accepted before an error (or all) */
} feed_result;

/* Feed buf[0..len) in chunks: sizes[i % nsizes] bytes each (0: everything
 * left), every chunk fed until it is used up, as the proxy would. */
static void feed_chunks(const char *buf, size_t len, const size_t *sizes, size_t nsizes,
                        feed_result *out)
{
    char *copy = dup_exact(buf, len);
    px_rep r;
    size_t off = 0, k = 0;

    memset(out, 0, sizeof(*out));
    px_rep_init(&r);
    while (off < len && !out->error) {
        size_t want = sizes[k++ % nsizes];
        size_t chunk = (want == 0 || want > len - off) ? len - off : want;
        size_t cend = off + chunk;

        while (off < cend) {
            int done = -1;
            ssize_t n = px_rep_feed(&r, copy + off, cend - off, &done);

            if (n < 0) {
                out->error = 1;
                out->err_lo = off;
                out->err_hi = cend;
                break;
            }
            assert_true(done == 0 || done == 1);
            assert_true((size_t)n <= cend - off);
            if (!done)
                assert_int_equal((size_t)n, cend - off); /* mid-reply: takes it all */
            else
                assert_true(n > 0);
            off += (size_t)n;
            if (done) {
                assert_true(out->n < MAX_ENDS);
                out->ends[out->n++] = off;
            }
        }
    }
    out->consumed = off;
    free(copy);
}

static void feed_whole(const char *buf, size_t len, feed_result *out)
{
    const size_t all = 0;

    feed_chunks(buf, len, &all, 1, out);
}

static void assert_same_framing(const feed_result *a, const feed_result *b, const char *what,
                                size_t arg)
{
    int same = a->n == b->n && a->error == b->error;

    for (size_t i = 0; same && i < a->n; i++)
        same = a->ends[i] == b->ends[i];
    if (!same)
        fail_msg("%s %zu: %zu replies%s vs %zu replies%s", what, arg, a->n,
                 a->error ? " then error" : "", b->n, b->error ? " then error" : "");
}

/* Whole, every split into two feeds, every fixed chunk size: same replies
 * ending at the same offsets (and the same error, if any). */
static void check_all_splits(const char *buf, size_t len, const size_t *want, size_t nwant,
                             int want_error)
{
    feed_result whole, other;

    feed_whole(buf, len, &whole);
    if (whole.n != nwant)
        fail_msg("whole feed: %zu replies, want %zu", whole.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_int_equal(whole.ends[i], want[i]);
    assert_int_equal(whole.error, want_error);
    if (!want_error)
        assert_int_equal(whole.consumed, len);

    for (size_t split = 1; split < len; split++) {
        size_t sizes[2] = {split, 0};
        feed_chunks(buf, len, sizes, 2, &other);
        assert_same_framing(&whole, &other, "split at", split);
    }
    for (size_t k = 1; k <= len; k++) {
        feed_chunks(buf, len, &k, 1, &other);
        assert_same_framing(&whole, &other, "chunks of", k);
    }
    {
        /* Uneven chunks: 1, 2, 3, 5, 7 bytes, over and over. */
        static const size_t odd[] = {1, 2, 3, 5, 7};
        feed_chunks(buf, len, odd, 5, &other);
        assert_same_framing(&whole, &other, "uneven chunks", 0);
    }
}

/* One reply, alone: it ends exactly at its last byte, in any chunking. */
static void check_one(const char *buf, size_t len)
{
    size_t want = len;

    check_all_splits(buf, len, &want, 1, 0);
}

/* The stream cannot be framed: -1, in any chunking, before any reply. */
static void check_error(const char *buf, size_t len)
{
    check_all_splits(buf, len, NULL, 0, 1);
}

static void test_rep_each_type(void **state)
{
    (void)state;
    check_one(LIT("+OK\r\n"));
    check_one(LIT("+\r\n"));
    check_one(LIT("-ERR unknown command 'x'\r\n"));
    check_one(LIT("-MOVED 1 127.0.0.1:6380\r\n"));
    check_one(LIT(":0\r\n"));
    check_one(LIT(":-12345\r\n"));
    check_one(LIT("$5\r\nhello\r\n"));
    check_one(LIT("$0\r\n\r\n"));
    check_one(LIT("$-1\r\n"));
    check_one(LIT("*-1\r\n"));
    check_one(LIT("*0\r\n"));
    check_one(LIT("*2\r\n$1\r\na\r\n:2\r\n"));
    check_one(LIT("*3\r\n+a\r\n-b\r\n:3\r\n"));
}

static void test_rep_bulk_payload_is_opaque(void **state)
{
    (void)state;
    /* CRLF, type bytes and NULs inside a bulk are payload. */
    check_one(LIT("$2\r\n\r\n\r\n"));
    check_one(LIT("$12\r\n*1\r\n$-1\r\n:\r\n\r\n"));
    check_one(LIT("$6\r\n\x00\xff\r\n-+\r\n"));
    check_one(LIT("*2\r\n$4\r\n\r\n\r\n\r\n$3\r\n*0\r\r\n"));
}

static void test_rep_nested(void **state)
{
    static const char nested[] = "*2\r\n*1\r\n:1\r\n$-1\r\n";
    static const char deep_mix[] = "*3\r\n*0\r\n*-1\r\n*2\r\n*2\r\n+a\r\n$-1\r\n*1\r\n$1\r\nz\r\n";

    (void)state;
    check_one(LIT(nested));
    check_one(LIT(deep_mix));
    check_one(LIT("*1\r\n*1\r\n*1\r\n*0\r\n"));
    check_one(LIT("*2\r\n*-1\r\n*0\r\n"));
}

static void test_rep_stream_every_split(void **state)
{
    static const char stream[] = "+OK\r\n"                               /* 5 */
                                 "$-1\r\n"                               /* 10 */
                                 ":42\r\n"                               /* 15 */
                                 "*2\r\n*1\r\n:1\r\n$-1\r\n"             /* 32 */
                                 "-ERR x\r\n"                            /* 40 */
                                 "$4\r\n\r\n\r\n\r\n"                    /* 50 */
                                 "*0\r\n"                                /* 54 */
                                 "*-1\r\n"                               /* 59 */
                                 "$0\r\n\r\n"                            /* 65 */
                                 "*3\r\n$3\r\nfoo\r\n+b\r\n*1\r\n:7\r\n" /* 90 */
                                 "+PONG\r\n";                            /* 97 */
    static const size_t want[] = {5, 10, 15, 32, 40, 50, 54, 59, 65, 90, 97};

    (void)state;
    assert_int_equal(sizeof(stream) - 1, 97);
    check_all_splits(LIT(stream), want, sizeof(want) / sizeof(want[0]), 0);
}

/* A reply ending exactly at a chunk's end, then the next one fed: the
 * framer is back at a type byte, nothing carried over. */
static void test_rep_reply_then_incomplete(void **state)
{
    static const char s[] = "*2\r\n:1\r\n$3\r\nab";
    feed_result res;
    px_rep r;
    int done = 1;

    (void)state;
    feed_whole(LIT(s), &res);
    assert_int_equal(res.n, 0);
    assert_int_equal(res.error, 0);
    assert_int_equal(res.consumed, sizeof(s) - 1);

    px_rep_init(&r);
    assert_int_equal(px_rep_feed(&r, LIT(s), &done), (ssize_t)(sizeof(s) - 1));
    assert_int_equal(done, 0);
    assert_int_equal(px_rep_feed(&r, LIT("c\r\n+OK\r\n"), &done), 3);
    assert_int_equal(done, 1);
    assert_int_equal(px_rep_feed(&r, LIT("+OK\r\n"), &done), 5);
    assert_int_equal(done, 1);
    assert_int_equal(px_rep_feed(&r, "", 0, &done), 0);
    assert_int_equal(done, 0);
}

static void test_rep_protocol_errors(void **state)
{
    (void)state;
    /* Unknown type bytes, RESP3 types. */
    check_error(LIT("%1\r\n:1\r\n:1\r\n"));
    check_error(LIT(">2\r\n+a\r\n+b\r\n"));
    check_error(LIT("_\r\n"));
    check_error(LIT("#t\r\n"));
    check_error(LIT(",1.5\r\n"));
    check_error(LIT("xyz\r\n"));
    check_error(LIT("\r\n"));
    check_error(LIT("*1\r\n_\r\n"));
    /* Lengths. */
    check_error(LIT("$-2\r\n"));
    check_error(LIT("$-0\r\n"));
    check_error(LIT("*-5\r\n"));
    check_error(LIT("$abc\r\n"));
    check_error(LIT("$\r\n"));
    check_error(LIT("$-\r\n"));
    check_error(LIT("$--1\r\n"));
    check_error(LIT("$1-\r\n"));
    check_error(LIT("*\r\n"));
    check_error(LIT("*1x\r\n"));
    check_error(LIT("$3\rX"));
    check_error(LIT("*1\rX"));
    check_error(LIT("$-1\rX"));
    /* Line types: a CR must be followed by LF. */
    check_error(LIT("+OK\rX\r\n"));
    check_error(LIT(":1\r\r\n"));
    /* Numbers of more than 18 digits. */
    check_error(LIT("$1234567890123456789\r\n"));
    check_error(LIT("*0000000000000000000\r\n"));
    check_error(LIT("$-1234567890123456789\r\n"));
}

/* The bulk's terminator must be CRLF, whether the CR and LF come in the
 * same read as the payload or not. */
static void test_rep_bulk_terminator(void **state)
{
    (void)state;
    check_error(LIT("$3\r\nabcXY"));
    check_error(LIT("$3\r\nabc\rX"));
    check_error(LIT("$3\r\nabcX\n"));
    check_error(LIT("$0\r\nX\n"));
    check_error(LIT("$0\r\n\n\n"));
    check_error(LIT("*2\r\n$1\r\na\r\n$1\r\nbXX"));
    check_error(LIT("*1\r\n$1\r\na\n\n"));
}

static void test_rep_eighteen_digits_fine(void **state)
{
    feed_result res;

    (void)state;
    /* 18 digits: a (huge) length, incomplete, not an error. */
    feed_whole(LIT("$999999999999999999\r\nabc"), &res);
    assert_int_equal(res.error, 0);
    assert_int_equal(res.n, 0);
    feed_whole(LIT("*999999999999999999\r\n:1\r\n"), &res);
    assert_int_equal(res.error, 0);
    assert_int_equal(res.n, 0);
    check_one(LIT("*000000000000000001\r\n:1\r\n"));
}

/* n levels of "*1\r\n" around ":1\r\n". */
static char *nest(size_t levels, size_t *len)
{
    char *p = malloc(levels * 4 + 5);

    assert_non_null(p);
    for (size_t i = 0; i < levels; i++)
        memcpy(p + i * 4, "*1\r\n", 4);
    memcpy(p + levels * 4, ":1\r\n", 4);
    *len = levels * 4 + 4;
    return p;
}

/* Framing needs no stack: any depth frames, as Redis sends it (a Lua
 * script can return tables nested deeper than any fixed limit). */
static void test_rep_deep_nesting(void **state)
{
    static const size_t depths[] = {1, 64, 65, 200};
    size_t len;
    char *p;

    (void)state;
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        p = nest(depths[d], &len);
        check_one(p, len);
        free(p);
    }
    /* 100,000 levels, whole and one byte at a time. */
    {
        px_rep r;
        int done = 0;
        ssize_t n;
        p = nest(100000, &len);
        px_rep_init(&r);
        n = px_rep_feed(&r, p, len, &done);
        assert_int_equal(n, (ssize_t)len);
        assert_true(done);
        px_rep_init(&r);
        for (size_t i = 0; i < len; i++) {
            n = px_rep_feed(&r, p + i, 1, &done);
            assert_int_equal(n, 1);
            assert_int_equal(done, i == len - 1);
        }
        free(p);
    }
    /* Two deep replies back to back, split at every point. */
    {
        size_t l1, want[2];
        char *a = nest(70, &l1);
        char *two = malloc(2 * l1);
        assert_non_null(two);
        memcpy(two, a, l1);
        memcpy(two + l1, a, l1);
        want[0] = l1;
        want[1] = 2 * l1;
        check_all_splits(two, 2 * l1, want, 2, 0);
        free(two);
        free(a);
    }
    /* Empty and null arrays inside deep ones pay one element each. */
    {
        size_t l;
        char *a = nest(100, &l);
        memcpy(a + l - 4, "*0\r\n", 4);
        check_one(a, l);
        free(a);
    }
    /* Element counts that add up past 2^62 are refused, not wrapped. */
    {
        const char *huge = "*999999999999999999\r\n*999999999999999999\r\n"
                           "*999999999999999999\r\n*999999999999999999\r\n"
                           "*999999999999999999\r\n*999999999999999999\r\n";
        check_error(huge, strlen(huge));
    }
}

/* After a reply, the framer starts afresh: the error in a later reply is
 * reported after the earlier replies were framed. */
static void test_rep_error_after_replies(void **state)
{
    static const char s[] = "+OK\r\n*1\r\n:1\r\n%2\r\n";
    static const size_t want[] = {5, 13};

    (void)state;
    check_all_splits(LIT(s), want, 2, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_single_command),
        cmocka_unit_test(test_req_pipelined),
        cmocka_unit_test(test_req_every_prefix_is_incomplete),
        cmocka_unit_test(test_req_not_multibulk_or_malformed),
        cmocka_unit_test(test_req_binary_payload),
        cmocka_unit_test(test_req_huge_lengths),
        cmocka_unit_test(test_req_leading_zeros_are_malformed),
        cmocka_unit_test(test_shareable_every_entry_found),
        cmocka_unit_test(test_shareable_case_insensitive),
        cmocka_unit_test(test_shareable_rejects_stateful_and_blocking),
        cmocka_unit_test(test_shareable_near_misses),
        cmocka_unit_test(test_rep_each_type),
        cmocka_unit_test(test_rep_bulk_payload_is_opaque),
        cmocka_unit_test(test_rep_nested),
        cmocka_unit_test(test_rep_stream_every_split),
        cmocka_unit_test(test_rep_reply_then_incomplete),
        cmocka_unit_test(test_rep_protocol_errors),
        cmocka_unit_test(test_rep_bulk_terminator),
        cmocka_unit_test(test_rep_eighteen_digits_fine),
        cmocka_unit_test(test_rep_deep_nesting),
        cmocka_unit_test(test_rep_error_after_replies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
